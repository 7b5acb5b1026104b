//! # mesos-auth
//!
//! Authentication and authorization for Apache Mesos clusters, hardened,
//! fast and callable from Rust and (through the `ffi/` crate) C and C++.
//!
//! ```text
//!  credentials file ──credentials::load/parse──► CredentialStore ─────┐ (Reloadable)
//!                                                                     ▼
//!  scheduler ◄── Mechanisms / Step / Completed|Failed ── sasl::Authenticator ──┐
//!            ─── Start / Step("name digest") ─────────►   (sans-I/O)           │
//!                                                                              │ Principal
//!  TLS handshake (rustls verifies the chain) ──► tls::VerifiedLeaf             │
//!            tls-rules.json ──Mapper::from_json──► tls::Mapper ──map───────────┤ Principal
//!                                                       (no certificate → CRAM-MD5)
//!                                                                              ▼
//!  ACL JSON ──acl::parse──► AclSource ──Compiler::compile──► CompiledAcls ──authorize(Request)
//!                                                                              │
//!                                                               Decision (Allow|Deny + the ACL)
//!
//!  every outcome (exchange, mapping, decision, reload) ──► audit::Event ──► AuditSink (JSON lines)
//!  failed exchanges ──► sasl::Throttle ──► Verdict for the next attempt
//! ```
//!
//! Each component follows the same path: parse (strict, every error with a
//! line and column), compile once into an immutable `Send + Sync` object,
//! then answer cheaply; reloading swaps a whole new object in atomically
//! ([`Reloadable`]).
//!
//! The crate does no network I/O: the SASL state machines take messages and
//! return messages, the TLS mapper reads a connection rustls has already
//! verified, and the host keeps its own sockets and clock. The end-to-end
//! demo (`cargo run --release --example demo`, source in `examples/demo/`)
//! wires all of it into a small master-side endpoint on loopback.
//!
//! Components:
//! - [`credentials`]: Mesos credential files, secrets that wipe themselves.
//! - [`sasl`]: CRAM-MD5 authenticator and authenticatee (RFC 2195), failure
//!   throttling.
//! - [`tls`]: verified client certificates mapped to principals.
//! - [`acl`]: Mesos ACLs compiled for constant-time decisions.
//! - [`audit`]: typed audit events.
//! - [`reload`]: atomic swap of a whole compiled object.
//!
//! The design notes live in the repository's `docs/` folder: the threat
//! catalogue and limits (`docs/threats.md`), the certificate-to-principal
//! mapping (`docs/tls-identity.md`) and the Mesos ACL behaviour reproduced
//! here (`docs/mesos-reference.md`). The rustdoc cites them by file and
//! section, as in "threats.md AC-4" or "tls-identity.md §4".
//!
//! # Example: from a password to a decision
//!
//! A scheduler authenticates with CRAM-MD5; the principal the master
//! established is then authorized against the ACLs, and both outcomes are
//! audited.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use mesos_auth::acl::{self, Action, Compiler, Object, Request};
//! use mesos_auth::audit::{AuditSink, MemorySink};
//! use mesos_auth::credentials::{self, Options};
//! use mesos_auth::sasl::{Authenticatee, Authenticator, AuthenticatorConfig, OsNonceSource, Status};
//! use mesos_auth::{Principal, Secret};
//!
//! let file = br#"{"credentials": [{"principal": "spark", "secret": "q7Vn-2xLw-Rb8k"}]}"#;
//! let store = Arc::new(credentials::parse(file, &Options::new())?.into_store()?);
//! let policy = Compiler::new().compile(&acl::parse(r#"{
//!   "permissive": false,
//!   "run_tasks": [{"principals": {"values": ["spark"]}, "users": {"values": ["svc-data"]}}]
//! }"#)?)?;
//! let audit = MemorySink::new();
//!
//! // The exchange: the master speaks first (the mechanism list).
//! let now = Instant::now();
//! let mut nonces = OsNonceSource::new()?;
//! let mut master = Authenticator::new(store, AuthenticatorConfig::new(), &mut nonces, now);
//! let mut scheduler = Authenticatee::new(Principal::new("spark")?, &Secret::new(b"q7Vn-2xLw-Rb8k"))?;
//! while !scheduler.status().is_terminal() {
//!     while let Some(m) = master.poll_output() {
//!         scheduler.handle_message(m)?;
//!     }
//!     while let Some(m) = scheduler.poll_output() {
//!         master.handle_message(now, m)?;
//!     }
//! }
//! while let Some(event) = master.poll_event() {
//!     audit.record(&event);
//! }
//! let Status::Completed(principal) = master.status() else {
//!     return Err("not authenticated".into());
//! };
//!
//! // The decision names the ACL that made it.
//! let ask = |user| Request::new(Action::RunTasks, Some(principal.as_str()), Object::One(user));
//! for (user, allowed) in [("svc-data", true), ("root", false)] {
//!     let request = ask(user);
//!     let decision = policy.authorize(&request);
//!     assert_eq!(decision.is_allowed(), allowed);
//!     audit.record(&acl::DecisionEvent::new(&request, &decision));
//! }
//! assert_eq!(policy.authorize(&ask("svc-data")).rule().map(|r| r.index), Some(0));
//! assert_eq!(policy.authorize(&ask("root")).to_string(), "deny: no ACL matched, permissive = false");
//!
//! // Three audit events, none holding the password.
//! let lines: Vec<String> = audit
//!     .take()
//!     .iter()
//!     .map(|e| mesos_auth::audit::to_json_line(e, std::time::SystemTime::now()))
//!     .collect();
//! assert_eq!(lines.len(), 3);
//! assert!(lines[0].contains(r#""result":"completed""#));
//! assert!(lines.iter().all(|l| !l.contains("q7Vn")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod acl;
pub mod audit;
pub mod bearer;
pub mod credentials;
pub mod http;
pub mod ratelimit;
pub mod reload;
pub mod sasl;
pub mod tls;
#[cfg(feature = "zk")]
pub mod zk;

#[doc(hidden)]
pub mod internal;

mod file;
mod hmac_md5;
mod json;
mod principal;
mod secret;
mod siphash;
mod span;
mod strtable;

pub use audit::{AuditEvent, AuditSink};
pub use principal::{MAX_PRINCIPAL_LEN, Name, Principal, PrincipalError};
pub use reload::{Reloadable, Snapshot};
pub use secret::{MAX_SECRET_LEN, Secret};
pub use span::{Location, Span};

/// The README's Rust snippets, compiled and run as doctests
/// (`cargo test --doc`), so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
