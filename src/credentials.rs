//! Credentials: the principals and secrets that CRAM-MD5 (and HTTP Basic,
//! and SCRAM) check against.
//!
//! ```text
//!  file ──load (O_NOFOLLOW, fstat: regular, owner-only, ≤ 256 MiB)──► bytes (wiped)
//!       ──parse (strict | lenient, text | JSON)──► CredentialsFile (+ warnings)
//!       ──into_store──► CredentialStore ──► cram_md5_key / scram_sha256 / verify_password
//!  CredentialsHandle::reload: the same, then an atomic swap (old store on error)
//! ```
//!
//! A [`CredentialStore`] is built once from a list of [`Credential`]s and never
//! changes; rotation builds a new store and swaps it in whole
//! ([`CredentialsHandle`]). The file formats are those Mesos reads (see
//! [`parse`] for strict and lenient mode) and the secret syntax, including
//! the `{CRAM-MD5}` and `{SCRAM-SHA-256}` stored forms, is described in
//! [`format`](self#stored-forms).
//!
//! # Stored forms
//!
//! A secret, in the text format (after the single space) and in the JSON
//! `"secret"` string alike, is one of:
//!
//! | form | syntax |
//! |---|---|
//! | plaintext | the password itself, e.g. `kitesurf` |
//! | plaintext starting with `{` | `{PLAIN}` then the password, e.g. `{PLAIN}{x}y` |
//! | CRAM-MD5 state | `{CRAM-MD5}` then 64 hex digits |
//! | SCRAM-SHA-256 | `{SCRAM-SHA-256}<iterations>:<salt>$<StoredKey>:<ServerKey>` |
//!
//! `{CRAM-MD5}` follows Dovecot's scheme: the HMAC-MD5 inner chaining state
//! (MD5 after compressing key ⊕ ipad), then the outer one (key ⊕ opad), each
//! four 32-bit words in little-endian byte order, in hex. `{SCRAM-SHA-256}`
//! holds the RFC 5802/7677 server keys: salt and keys in standard base64
//! with padding; the password is taken as raw bytes (no SASLprep). Any other
//! `{NAME}` prefix is an error in strict mode.
//!
//! ```
//! use mesos_auth::credentials::{self, Format, Options, Problem};
//!
//! let src = br#"{"credentials": [{"principal": "sherman", "secret": "kitesurf-at-dawn"}]}"#;
//! let store = credentials::parse(src, &Options::new())?.into_store()?;
//! assert!(store.verify_password("sherman", b"kitesurf-at-dawn"));
//! assert!(store.cram_md5_key("sherman").known());
//! assert!(!store.cram_md5_key("nobody").known()); // answered with a dummy key
//!
//! // Strict mode reports every problem with its place and principal.
//! let bad = b"alice s3cret-one\nalice s3cret-two\n";
//! let err = credentials::parse(bad, &Options::new().format(Format::Text)).unwrap_err();
//! let first = err.parse_errors().and_then(|e| e.iter().next()).ok_or("no error")?;
//! assert_eq!(first.location().line, 2);
//! assert!(matches!(first.problem(), Problem::DuplicatePrincipal { .. }));
//! assert!(!err.to_string().contains("s3cret"));
//!
//! // The text format is read only when asked for: Mesos ≥ 1.11 refuses it.
//! let err = credentials::parse(bad, &Options::new()).unwrap_err();
//! let first = err.parse_errors().and_then(|e| e.iter().next()).ok_or("no error")?;
//! assert_eq!(first.problem(), &Problem::TextFormat);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```text
//! # text format (Mesos 1.0–1.10; read with Format::Text only):
//! # principal, one space, secret (no comments: these lines are errors)
//! alice correct-horse-battery-staple
//! bob {CRAM-MD5}<64 hex digits>
//! ```

mod error;
mod file;
mod findings;
mod format;
mod parse;
mod reload;
mod store;

pub use error::{CredentialsError, Diagnostic, ParseErrors, Problem};
pub use file::{load, load_store, read_private_file};
pub use findings::{Finding, FindingKind, MIN_SECRET_LEN, findings};
pub use format::{
    CRAM_MD5_PREFIX, MAX_SCRAM_ITERATIONS, MIN_SCRAM_ITERATIONS, PLAIN_PREFIX, SCRAM_SALT_LEN,
    SCRAM_SHA256_PREFIX, Scheme, ScramSha256Keys, to_json, to_text,
};
pub use parse::{
    CredentialsFile, DEFAULT_MAX_FILE_SIZE, FileEntry, Format, Options, Reader, parse,
};
pub(crate) use parse::{fast_path_agrees, parse_full_reader};
pub use reload::{CredentialsHandle, ReloadEvent, ReloadReport, diff};
pub(crate) use store::same_secret;
pub use store::{CramMd5Lookup, Credential, CredentialStore, ScramLookup, StoredSecret};

#[cfg(test)]
mod test;
