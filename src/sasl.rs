//! SASL as Mesos speaks it: an [`Authenticator`] (the master's side) and an
//! [`Authenticatee`] (the framework's or agent's side), for CRAM-MD5
//! (RFC 2195), OAUTHBEARER (RFC 7628, bearer tokens checked by a
//! [`bearer::Validator`](crate::bearer::Validator)) and, with feature
//! `gssapi`, GSSAPI (Kerberos V5, RFC 4752). The master sends the
//! mechanisms its [`AuthenticatorConfig`] enables, strongest first; the
//! client starts the one it is configured for, and refuses to fall back to
//! another (a GSSAPI or OAUTHBEARER client is never talked down to
//! CRAM-MD5).
//!
//! Both are sans-I/O state machines: the host decodes a Mesos message, hands
//! it in with a `handle_*` call together with the current time, and drains
//! what to send with [`Authenticator::poll_output`] /
//! [`Authenticatee::poll_output`] and what to log with `poll_event`. Nothing
//! here reads a clock, a socket or the system RNG behind the caller's back:
//! challenges come from an injected [`NonceSource`].
//!
//! ```text
//!  authenticatee                          authenticator
//!      │ ◄──────── Mechanisms["CRAM-MD5"] ─────┤  (on creation)
//!      ├─────────── Start{"CRAM-MD5", ""} ───► │
//!      │ ◄──────── Step(challenge) ─────────── ┤
//!      ├─────────── Step("name hexdigest") ──► │  constant-time check
//!      │ ◄──────── Completed | Failed | Error ─┤
//! ```
//!
//! The peer sees one uniform `Failed` for an unknown principal, a wrong or
//! malformed digest; why it failed goes only to the local [`AuthEvent`].
//! Repeated failures can be slowed down with a [`Throttle`] on the server;
//! clients space their retries with [`RetryBackoff`] (Mesos's randomized,
//! doubling, capped window).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use mesos_auth::credentials::{Credential, CredentialStore};
//! use mesos_auth::sasl::{Authenticatee, Authenticator, AuthenticatorConfig, OsNonceSource, Status};
//! use mesos_auth::{Principal, Secret};
//!
//! let store = Arc::new(CredentialStore::from_credentials([Credential::plain(
//!     Principal::new("tim")?,
//!     Secret::new(b"tanstaaftanstaaf"),
//! )])?);
//! let now = Instant::now();
//! let mut server = Authenticator::new(store, AuthenticatorConfig::default(), &mut OsNonceSource::new()?, now);
//! let mut client = Authenticatee::new(Principal::new("tim")?, &Secret::new(b"tanstaaftanstaaf"))?;
//! // Shuttle messages until both sides are quiet.
//! loop {
//!     let mut moved = false;
//!     while let Some(m) = server.poll_output() {
//!         client.handle_message(m)?;
//!         moved = true;
//!     }
//!     while let Some(m) = client.poll_output() {
//!         server.handle_message(now, m)?;
//!         moved = true;
//!     }
//!     if !moved {
//!         break;
//!     }
//! }
//! assert!(matches!(server.status(), Status::Completed(p) if p.as_str() == "tim"));
//! assert!(matches!(client.status(), Status::Completed(_)));
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod authenticatee;
mod authenticator;
mod backoff;
pub(crate) mod cram_md5;
mod error;
mod event;
#[cfg(feature = "gssapi")]
pub mod gssapi;
pub(crate) mod mechanism;
mod message;
pub(crate) mod nonce;
pub(crate) mod oauthbearer;
#[cfg(feature = "rsasl")]
pub mod rsasl;
mod throttle;
mod token_source;

pub use authenticatee::Authenticatee;
pub use authenticator::{Authenticator, AuthenticatorConfig};
pub use backoff::RetryBackoff;
pub use error::{ApiMisuse, PeerMisbehaved, SaslError};
pub use event::{AuthEvent, AuthResult, FailureReason, Side};
pub use mechanism::{CRAM_MD5, GSSAPI, OAUTHBEARER};
pub use message::{
    ClientMessage, MAX_MESSAGE_LEN, MECHANISM, MechanismList, ServerMessage, StepData,
};
pub use nonce::{NonceError, NonceSource, OsNonceSource, default_nonce_source};
pub use throttle::{Throttle, ThrottleConfig, Verdict};
pub use token_source::{MAX_TOKEN_SOURCE_BYTES, TokenSource, TokenSourceError};

/// Where an exchange stands, for either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Still exchanging messages.
    Pending,
    /// Authenticated. On the server, the principal the store holds; on the
    /// client, the principal we authenticated as.
    Completed(crate::Principal),
    /// The credentials were refused (Mesos `AuthenticationFailedMessage`).
    /// Final: Mesos clients do not retry this.
    Failed,
    /// The exchange broke off: protocol violation, timeout, discard, or an
    /// error reported by the server. Mesos clients retry with backoff.
    Error(SaslError),
}

impl Status {
    /// Whether the exchange is over.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Pending)
    }
}

#[cfg(test)]
mod test;
