//! # mesos-auth
//!
//! Authentication and authorization for Apache Mesos clusters, hardened,
//! fast and callable from Rust and (through the `ffi/` crate) C and C++.
//!
//! ```text
//!   credentials file ──parse──► CredentialStore ──┐
//!                                                  ├─► sasl (CRAM-MD5) ──► Principal ─┐
//!   client certificate (rustls-verified) ──► tls::Mapper ─────────────────► Principal ─┤
//!                                                                                      ▼
//!   ACL JSON ──parse──► AclSource ──compile──► CompiledAcls ──authorize(Request)──► Decision
//!                                                                                      │
//!                                            every outcome ──► AuditEvent ──► AuditSink
//! ```
//!
//! Each component follows the same path: parse (strict, every error with a
//! line and column), compile once into an immutable `Send + Sync` object,
//! then answer cheaply; reloading swaps a whole new object in atomically.
//!
//! The crate does no network I/O: the SASL state machines take messages and
//! return messages, and the host keeps its own sockets and clock.
//!
//! Components:
//! - [`credentials`]: Mesos credential files, secrets that wipe themselves.
//! - [`sasl`]: CRAM-MD5 authenticator and authenticatee (RFC 2195).
//! - [`tls`]: verified client certificates mapped to principals.
//! - [`acl`]: Mesos ACLs compiled for constant-time decisions.
//! - [`audit`]: typed audit events.
//! - [`reload`]: atomic swap of a whole compiled object.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod acl;
pub mod audit;
pub mod credentials;
pub mod reload;
pub mod sasl;
pub mod tls;

#[doc(hidden)]
pub mod internal;

mod hmac_md5;
mod json;
mod principal;
mod secret;
mod span;

pub use audit::{AuditEvent, AuditSink};
pub use principal::{MAX_PRINCIPAL_LEN, Principal, PrincipalError};
pub use reload::{Reloadable, Snapshot};
pub use secret::{MAX_SECRET_LEN, Secret};
pub use span::{Location, Span};
