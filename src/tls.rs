//! Verified TLS client certificates mapped to Mesos principals
//! (shared design: tls-identity.md).
//!
//! ```text
//!   rustls handshake (WebPkiClientVerifier: chain, dates, clientAuth EKU)
//!        │ peer_certificates()[0]
//!        ▼
//!   VerifiedLeaf ──parse once──► LeafFacts (RFC 4514 DN, SANs, SPIFFE ID)
//!                                    │
//!   rule file ──parse_rules──► RuleSet ──Mapper::compile──► Mapper ──decide──► Principal | Rejection
//! ```
//!
//! Rules are tried top to bottom; the first rule that produces a result
//! wins, and no rule means rejection: there is never an implicit fallback to
//! the CN. Anything in the certificate that does not parse cleanly (a SAN
//! entry, a CN with a control character, two CNs where a rule reads the CN)
//! is a rejection too.
//!
//! ```
//! use mesos_auth::tls::Mapper;
//!
//! let mapper = Mapper::from_json(r#"[
//!     {"source": "spiffe", "match": "spiffe://prod\\.example\\.org/mesos/([a-z0-9-]+)", "principal": "${1}"},
//!     "RULE:^CN=([^,]+),OU=agents,O=Acme$/agent:$1/L"
//! ]"#)?;
//! assert_eq!(mapper.len(), 2);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Writing `dn` patterns: values are RFC 4514-escaped, so a CN of
//! `evil,OU=admins` appears as `CN=evil\,OU=admins`. Match one value with
//! `(?:[^,+\\]|\\.)+` (in JSON: `(?:[^,+\\\\]|\\\\.)+`), not `[^,]+`,
//! or read the attribute itself with a `subject.<ATTR>` source. As a
//! backstop, a capture that starts or ends inside an escape is refused
//! (threats.md TM-6).
//!
//! Case is ASCII only (threats.md TM-9): `ignore_case` folds ASCII letters
//! alone, so U+212A KELVIN SIGN does not match `k` nor `ſ` match `s`; inline
//! `(?i)`, which would fold by Unicode rules, is refused; and `case`
//! (`lower`, `upper`, Kafka's `/L`, `/U`) refuses a principal with a
//! non-ASCII character rather than merge it with an ASCII one. Besides each
//! pattern's own size limit, a rule set's compiled patterns together may
//! take at most [`TOTAL_PATTERN_SIZE_LIMIT`] bytes.
//!
//! The canonical DN (tls-identity.md §4) equals
//! `openssl x509 -noout -subject -nameopt RFC2253` for typical certificates,
//! except that: the AVAs of a multi-valued RDN stay in DER order (OpenSSL
//! reverses them); non-ASCII text is written raw (OpenSSL: `\C3\BC`);
//! `#hex` is lowercase; types outside the fixed keyword table are dotted
//! OIDs with `#hex` values (OpenSSL knows e.g. `title`); streetAddress is
//! `STREET` (OpenSSL: `street`). The tests check each of these.
//!
//! A server builds its `ServerConfig` with [`server_config`], and after each
//! handshake calls [`Mapper::map_connection`]. When CRAM-MD5 also
//! authenticated the peer, [`combine_principals`] insists both agree.

mod cache;
mod config;
mod der;
mod dn;
mod early;
mod error;
mod event;
mod facts;
mod mapper;
mod pattern;
mod rules;
mod verified;

#[cfg(test)]
mod test;

pub use cache::CachedMapper;
pub use config::{
    ClientAuth, certificates_from_pem, client_verifier, private_key_from_pem, read_pem_file,
    server_config, server_config_with_verifier,
};
pub use early::EarlyRejectVerifier;
pub use error::{
    PrincipalMismatch, RejectReason, Rejection, RuleProblem, RuleRef, RulesError, TlsMapError,
};
pub use event::MappingEvent;
pub use facts::LeafFacts;
pub use mapper::{MAX_RULE_FILE_LEN, Mapped, Mapper, TlsIdentity, combine_principals};
pub use pattern::TOTAL_PATTERN_SIZE_LIMIT;
pub use rules::{MAX_PATTERN_LEN, MAX_RULES, MAX_TEMPLATE_LEN, RuleSet, parse_rules};
pub use verified::VerifiedLeaf;

/// A mapper that can be swapped whole while connections use it.
pub type ReloadableMapper = crate::Reloadable<Mapper>;
