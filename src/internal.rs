//! Hooks for fuzz targets and benchmarks. Not part of the public API: no
//! semver promise, may change in any release.

use std::sync::Arc;
use std::time::Instant;

use crate::credentials::CredentialStore;

/// Parses `src` with the crate's strict JSON reader. For the fuzzers: it must
/// never panic. The error is the reader's message.
///
/// # Errors
///
/// The reader's message when `src` is refused.
pub fn json_parse(src: &[u8]) -> Result<(), String> {
    crate::json::from_utf8(src)
        .and_then(|s| crate::json::parse(s, crate::json::Options::default()))
        .map(drop)
        .map_err(|e| e.to_string())
}

use crate::sasl::{
    Authenticatee, Authenticator, AuthenticatorConfig, NonceSource, SaslError, Status,
};

/// The CRAM-MD5 response `principal SP hex(HMAC-MD5(secret, challenge))`.
pub fn cram_md5_response(principal: &str, secret: &[u8], challenge: &[u8]) -> Vec<u8> {
    crate::sasl::cram_md5::response(principal, secret, challenge)
}

/// The server's check of `response` against `challenge`, without a session
/// around it: `true` only for a known principal with the right digest. The
/// very function a server session calls to decide (what it does after the
/// decision, building the result and the audit event, is left out). For
/// benches and the constant-time test.
pub fn cram_md5_verify(store: &CredentialStore, challenge: &[u8], response: &[u8]) -> bool {
    crate::sasl::cram_md5::split(response)
        .is_some_and(|parsed| crate::sasl::cram_md5::check(store, challenge, &parsed).accepted())
}

/// The challenge an authenticator with `host` would draw from `nonce`.
pub fn sasl_challenge(nonce: [u8; 16], host: &str) -> Vec<u8> {
    crate::sasl::nonce::challenge(nonce, host)
}

/// An authenticatee and an authenticator joined in memory, the one driver
/// shared by tests, benches, fuzzers and examples (quinn-proto's `Pair`).
#[derive(Debug)]
pub struct Pair {
    /// The server side.
    pub server: Authenticator,
    /// The client side.
    pub client: Authenticatee,
}

impl Pair {
    /// A fresh pair at `now`.
    pub fn new(
        store: Arc<CredentialStore>,
        config: AuthenticatorConfig,
        nonces: &mut (impl NonceSource + ?Sized),
        client: Authenticatee,
        now: Instant,
    ) -> Self {
        Self {
            server: Authenticator::new(store, config, nonces, now),
            client,
        }
    }

    /// Moves messages both ways until neither side has anything to send.
    /// Returns how many messages moved; stops early at the first error
    /// (which both sides keep).
    ///
    /// # Errors
    ///
    /// The first error either side returned.
    pub fn drive(&mut self, now: Instant) -> Result<usize, SaslError> {
        let mut moved = 0;
        loop {
            let before = moved;
            while let Some(m) = self.server.poll_output() {
                moved += 1;
                self.client.handle_message(m)?;
            }
            while let Some(m) = self.client.poll_output() {
                moved += 1;
                self.server.handle_message(now, m)?;
            }
            if moved == before {
                return Ok(moved);
            }
        }
    }

    /// Both sides' status.
    pub fn status(&self) -> (Status, Status) {
        (self.server.status(), self.client.status())
    }
}

/// The HMAC-MD5 inner and outer chaining states of `secret`, the stored form
/// of [`StoredSecret::CramMd5State`](crate::credentials::StoredSecret).
pub fn cram_md5_states(secret: &[u8]) -> ([u32; 4], [u32; 4]) {
    crate::hmac_md5::HmacMd5Key::from_secret(secret).states()
}

/// HMAC-MD5 of `message` from the key's inner and outer chaining states
/// (as [`cram_md5_states`] gives them), for the benchmark.
pub fn hmac_md5_from_states(inner: [u32; 4], outer: [u32; 4], message: &[u8]) -> [u8; 16] {
    crate::hmac_md5::HmacMd5Key::from_states(inner, outer).mac(message)
}

/// Sets a function told of every anonymous map of compiled-ACL table
/// slots made (+bytes) and dropped (-bytes), once per process (`false` if
/// one was set): the memory tests add maps to their counting allocator's
/// figures, which cannot see them.
pub fn set_acl_map_observer(f: fn(isize)) -> bool {
    crate::acl::index::set_map_observer(f)
}

/// The compiled policy's (principal, object) pair table, for the
/// benchmark against `hashbrown::HashTable`: both take a precomputed hash.
/// Its slots carry 16 bytes besides the value, as the policy's do (a copy
/// of the rule).
#[derive(Debug)]
pub struct AclPairTable(crate::acl::index::PairTable);

impl AclPairTable {
    /// A table holding `(hash, key, value)` (the first value of a key wins).
    pub fn from_pairs(pairs: &[(u64, u64, u32)]) -> Self {
        let mut t = crate::acl::index::PairTable::new();
        for &(h, k, v) in pairs {
            t.insert_first(h, k, v, [v; 4]);
        }
        Self(t)
    }

    /// The value of `key`, whose hash is `hash`.
    pub fn get(&self, hash: u64, key: u64) -> Option<u32> {
        self.0.get(hash, key)
    }
}

/// The crate's SipHash-1-3-128 (the credential index's tag), for the
/// benchmark against `siphasher`.
pub fn siphash13_128(key: &[u64; 2], data: &[u8]) -> [u64; 2] {
    crate::siphash::siphash13_128(key, data)
}

/// HMAC-MD5 of `challenge` under `principal`'s CRAM-MD5 key (the dummy key
/// for unknown principals) and whether the principal is known: what a
/// CRAM-MD5 server computes, for tests and benchmarks outside the crate.
pub fn credentials_cram_md5(
    store: &CredentialStore,
    principal: &str,
    challenge: &[u8],
) -> ([u8; 16], bool) {
    let key = store.cram_md5_key(principal);
    (key.mac(challenge), key.known())
}

/// Parses `src` as a credentials file (text or JSON, strict or lenient) and
/// builds the store, returning whether it was accepted. For the fuzzers: it
/// must never panic.
pub fn credentials_accepts(src: &[u8], json: bool, lenient: bool) -> bool {
    use crate::credentials::{Format, Options, parse};
    let format = if json { Format::Json } else { Format::Text };
    let options = Options::new().format(format).lenient(lenient);
    parse(src, &options).and_then(|f| f.into_store()).is_ok()
}

/// Parses `src` as a credentials file with the format detected
/// ([`Format::Auto`](crate::credentials::Format::Auto)), strict or lenient,
/// and builds the store, returning whether it was accepted. For the
/// fuzzers: strict must never accept what lenient refuses.
pub fn credentials_accepts_detected(src: &[u8], lenient: bool) -> bool {
    use crate::credentials::{Options, parse};
    let options = Options::new().lenient(lenient);
    parse(src, &options).and_then(|f| f.into_store()).is_ok()
}

/// Whether the credential reader's JSON fast path and its full JSON reader
/// agree on `src` (same errors, or same entries and warnings), strict or
/// lenient. For the `credentials_parse` fuzzer.
pub fn credentials_fast_path_agrees(src: &[u8], lenient: bool) -> bool {
    use crate::credentials::{Format, Options};
    let options = Options::new().format(Format::Json).lenient(lenient);
    crate::credentials::fast_path_agrees(src, &options)
}

/// Parses `src` with the credential reader's full JSON reader, never its
/// fast path, and builds the store: what a file in another shape costs. For
/// the credentials bench.
///
/// # Errors
///
/// As [`crate::credentials::parse`] and `into_store`.
pub fn credentials_load_full_reader(
    src: &[u8],
    options: &crate::credentials::Options,
) -> Result<CredentialStore, crate::credentials::CredentialsError> {
    crate::credentials::parse_full_reader(src, options).and_then(|f| f.into_store())
}

/// Parses ACL text with the full reader (a JSON tree, then every check),
/// skipping the fast path: what the text cost before it, and what any text
/// with a problem still costs. For the load bench.
///
/// # Errors
///
/// As [`crate::acl::parse_with`].
pub fn acl_parse_full_reader(
    src: &str,
    options: crate::acl::Options,
) -> Result<crate::acl::AclSource, crate::acl::AclError> {
    crate::acl::parse_full(src, options)
}

/// Parses and compiles a TLS rule file. For the `tls_rules` fuzzer: it
/// must never panic; `None` when the bytes are not UTF-8, else the number of
/// rules or the errors (whose spans the fuzzer checks lie inside the text).
pub fn tls_rules_compile(src: &[u8]) -> Option<Result<usize, crate::tls::TlsMapError>> {
    let text = std::str::from_utf8(src).ok()?;
    Some(crate::tls::Mapper::from_json(text).map(|m| m.len()))
}

/// Maps arbitrary bytes as if they were a verified leaf, with `rules`.
/// For the `tls_mapper` fuzzer: never panics; a success is a valid principal.
pub fn tls_map_der(mapper: &crate::tls::Mapper, der: &[u8]) -> Option<crate::Principal> {
    let leaf = crate::tls::VerifiedLeaf::from_der_verified_elsewhere(
        rustls_pki_types::CertificateDer::from(der.to_vec()),
    );
    mapper.map(&leaf).ok()
}
/// Parses `src` strictly (format detected); if accepted, writes the
/// credentials as JSON and reads them back, asserting nothing was lost. For
/// the fuzzers: panics only on a real round-trip bug.
pub fn credentials_round_trip(src: &[u8]) {
    use crate::credentials::{Options, parse, to_json};
    let Ok(file) = parse(src, &Options::new()) else {
        return;
    };
    let Ok(json) = to_json(file.credentials()) else {
        return;
    };
    let back = parse(json.as_bytes(), &Options::new());
    let same = back.as_ref().is_ok_and(|b| {
        b.entries().len() == file.entries().len()
            && b.credentials().zip(file.credentials()).all(|(x, y)| {
                x.principal() == y.principal()
                    && crate::credentials::same_secret(x.secret(), y.secret())
            })
    });
    #[expect(
        clippy::panic,
        reason = "fuzz oracle: a lost credential is the bug being hunted"
    )]
    if !same {
        panic!("credentials changed in a JSON round trip");
    }
}

/// Parses `der` as a leaf certificate twice: with the crate's own DER
/// reader (the mapping path) and with the x509-parser path it replaced.
/// Returns whether each accepted it (ours, x509-parser's); an error when
/// both accepted and the facts differ. For the `tls_facts_diff` fuzz target
/// and the differential tests.
///
/// # Errors
///
/// A description of the difference when both accepted different facts.
pub fn tls_facts_diff(der: &[u8]) -> Result<(bool, bool), String> {
    let digest = [0u8; 32];
    let ours = crate::tls::LeafFacts::parse_with_digest(der, digest);
    let reference = crate::tls::LeafFacts::parse_reference(der, digest);
    match (&ours, &reference) {
        (Ok(a), Ok(b)) if a != b => Err(format!("ours {a:?}, x509-parser {b:?}")),
        _ => Ok((ours.is_ok(), reference.is_ok())),
    }
}

/// The GSSAPI binding the `gssapi` feature uses, for the benchmark's raw
/// `gss_init_sec_context`/`gss_accept_sec_context` baseline.
#[cfg(feature = "gssapi")]
pub use libgssapi;

/// Whether `token` is framed as a Kerberos V5 initial context token (the
/// GSSAPI server's first check), for the benchmark.
#[cfg(feature = "gssapi")]
pub fn gssapi_krb5_framing(token: &[u8]) -> bool {
    crate::sasl::gssapi::is_krb5_initial_token(token)
}

/// Runs `f` with a function applying `validator`'s claim checks and
/// principal mapping to `claims_json`, which is parsed once, before `f`:
/// what a validation costs after its signature and its parsing (the bench's
/// measure of "claim checks and mapping"). `None` if the claims do not parse.
pub fn bearer_claim_checks<R>(
    validator: &crate::bearer::Validator,
    claims_json: &[u8],
    kid: Option<&str>,
    alg: crate::bearer::Alg,
    f: impl FnOnce(&dyn Fn(std::time::SystemTime) -> bool) -> R,
) -> Option<R> {
    let claims = validator.parse_claims(claims_json).ok()?;
    let kid: Option<Arc<str>> = kid.map(Into::into);
    Some(f(&|now| {
        validator
            .check_claims(&claims, now, kid.as_ref(), alg)
            .is_ok()
    }))
}

/// Parses `claims_json` as a validator reads a token's claims (the step
/// between the base64 decoding and the claim checks). For the bench.
pub fn bearer_parse_claims(validator: &crate::bearer::Validator, claims_json: &[u8]) -> bool {
    validator.parse_claims(claims_json).is_ok()
}

pub use crate::bearer::reference::{ReadClaims, ReadHeader, ReadValue};

/// A token's JOSE header (decoded JSON) read by the validator's reader,
/// normalized for comparison; the error is the rejection's problem text.
///
/// # Errors
///
/// The problem text of a header the validator refuses as malformed.
pub fn bearer_read_header(header_json: &[u8]) -> Result<ReadHeader, String> {
    crate::bearer::reference::header(header_json)
}

/// The same header through the serde_json reference reader (the reader
/// the validator used before, kept as the test and fuzz oracle).
///
/// # Errors
///
/// As [`bearer_read_header`].
pub fn bearer_reference_header(header_json: &[u8]) -> Result<ReadHeader, String> {
    crate::bearer::reference::reference_header(header_json)
}

/// A token's claims (decoded JSON) read by `validator`'s reader,
/// normalized for comparison.
///
/// # Errors
///
/// The problem text of claims the validator refuses as malformed.
pub fn bearer_read_claims(
    validator: &crate::bearer::Validator,
    claims_json: &[u8],
) -> Result<ReadClaims, String> {
    crate::bearer::reference::claims(claims_json, validator.rule_claims())
}

/// The same claims through the serde_json reference reader.
///
/// # Errors
///
/// As [`bearer_read_claims`].
pub fn bearer_reference_claims(
    validator: &crate::bearer::Validator,
    claims_json: &[u8],
) -> Result<ReadClaims, String> {
    crate::bearer::reference::reference_claims(claims_json, validator.rule_claims())
}

/// Whether `json` is a document on which the two readers' problem texts
/// must agree too (serde_json's `Value` takes it, nested at most 32 deep);
/// on other input only acceptance is compared.
pub fn bearer_strict_json(json: &[u8]) -> bool {
    crate::bearer::reference::strict_json(json)
}

/// Reads `header_json` as a validator reads a token's JOSE header (the
/// step after its base64 decoding). For the bench.
pub fn bearer_parse_header(header_json: &[u8]) -> bool {
    crate::bearer::token::read_header(header_json).is_ok()
}

/// The validator's HMAC check alone: `tag` against `input` with the key
/// `kid` of `jwks` as prepared at load. `false` for a public key. For the
/// bench.
pub fn bearer_hmac_verify(
    jwks: &crate::bearer::Jwks,
    kid: Option<&str>,
    alg: crate::bearer::Alg,
    input: &[u8],
    tag: &[u8],
) -> bool {
    jwks.find(kid)
        .ok()
        .is_some_and(|k| k.verify_hmac(alg, input, tag))
}

/// The validator's strict base64url decoder: `text` into the front of
/// `out`, the decoded length, or `None`. For the bench.
pub fn bearer_base64url_decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    crate::bearer::token::decode_base64url(text, out)
}
