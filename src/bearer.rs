//! Bearer tokens: JWTs (RFC 7519) signed as JWS compact (RFC 7515) checked
//! against a key set (JWKS, RFC 7517) and mapped to a principal. The HTTP
//! Bearer authenticator (RFC 6750) reuses this validator.
//!
//! ```text
//!   JWKS bytes (file, or fetched by the host) ──Jwks::from_json──► Jwks ─┐
//!   config JSON ──ValidatorConfig::from_json──► ValidatorConfig ─────────┤
//!                                                     Validator::new ◄───┘ (Reloadable)
//!   token, now ──validate──► Validated { principal, claim, kid, alg, exp }
//!                          | Rejection { code (RFC 6750, for the peer), reason (audit) }
//! ```
//!
//! The crate does no I/O here either: the host reads or fetches the JWKS
//! and hands over the bytes; a key rotation is a new [`Validator`] built
//! with [`Validator::with_jwks`] and swapped into a
//! [`Reloadable`](crate::Reloadable), so requests in flight finish with the
//! old keys.
//!
//! What is checked, in order: the size (8 KiB by default), three base64url
//! parts, the header (`alg` in the allowed list: RS256, ES256 and EdDSA by
//! default; `none` never; no `crit`), the key (by `kid`, required when the
//! set holds more than one key; its kind, and its `alg` if pinned, must fit
//! the header's `alg`, which stops RS256→HS256 confusion twice over: HMAC
//! needs a separate shared-secret key set), the signature, and then, on
//! signed claims only, `exp` and `nbf` (both required, a bounded leeway),
//! `iss` and `aud` (both required), and the principal rules. Repeated
//! header members or claims that the checks read are refused.
//!
//! `alg: none` cannot be configured at all: an unsigned token proves
//! nothing a master could act on, and an option to allow it is one
//! misconfiguration away from accepting anyone. HMAC (HS256/384/512) can,
//! but only with a separate shared-secret key set
//! ([`Jwks::shared_secrets_from_json`]) and the algorithms listed
//! explicitly.
//!
//! ```
//! use mesos_auth::bearer::{Jwks, PrincipalRule, Validator, ValidatorConfig};
//!
//! let jwks = Jwks::from_json(br#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
//!     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
//! let config = ValidatorConfig::new()
//!     .issuer("https://idp.example.org")
//!     .audience("mesos-master")
//!     .rule(PrincipalRule::claim("client_id").strip_prefix("svc-"));
//! let validator = Validator::new(&config, jwks)?;
//! let refused = validator.validate("not.a.token", std::time::SystemTime::now());
//! assert_eq!(refused.map_err(|r| r.code().as_str()).err(), Some("invalid_token"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Crypto backend: `jsonwebtoken` 9.3 over `ring` 0.17, used only for its
//! key types and `crypto::verify`; the token structure and every claim are
//! read by this module (for precise reasons and strict duplicates), so the
//! crate's own claim validation is not in the path. Against the
//! alternatives: jsonwebtoken 10+ needs aws-lc-rs (a C build through cmake,
//! minutes on a 2-core machine) or RustCrypto's `rsa`/`p256`/`ed25519-dalek`
//! (more crates, and `rsa` carries an open timing advisory, harmless for
//! public-key verification but flagged by audits); ring is already built for
//! rustls in this workspace, so this choice adds one small crate. The
//! measured cost is in benches/README.md ("Bearer tokens").
//!
//! HMAC (HS256/384/512) is the exception: its keys are prepared once when
//! the set is read (RustCrypto `hmac`/`sha2`, already dependencies) and
//! the tag is compared in constant time, where the backend's call built a
//! key and re-encoded the tag per token. The header and claims are read by
//! a strict reader of this module's own (no serde, no allocation for a
//! usual token); the serde_json reader it replaced stays as the test and
//! fuzz oracle.

mod alg;
mod config;
mod error;
mod event;
mod hs;
mod jwks;
mod read;
pub(crate) mod reference;
mod rules;
pub(crate) mod token;
mod validator;

#[cfg(test)]
mod test;

pub use alg::Alg;
pub use config::{
    DEFAULT_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_BYTES, MAX_LEEWAY, MAX_TOKEN_BYTES,
    ValidatorConfig,
};
pub use error::{BearerError, ErrorCode, Part, Reason, Rejection};
pub use event::ValidationEvent;
pub use jwks::{Jwks, MAX_KEYS, MAX_KID_LEN, MAX_RSA_BITS, MIN_RSA_BITS, MIN_SECRET_LEN};
pub use rules::{MAX_RULES, PrincipalRule};
pub use validator::{Validated, Validator};
