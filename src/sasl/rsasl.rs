//! CRAM-MD5 and SCRAM-SHA-256 for [rsasl](https://docs.rs/rsasl) 2 (feature
//! `rsasl`), for Rust programs that already speak SASL through rsasl.
//!
//! - [`CRAM_MD5`] is an rsasl mechanism, client and server side. It is not a
//!   second implementation: the server runs this crate's [`Authenticator`]
//!   against a [`CredentialStore`] and the client runs its [`Authenticatee`],
//!   so the rules are the same (challenge from the OS CSPRNG, response split
//!   at the last space, exactly 32 lowercase hex digits, at most 1,024 bytes,
//!   constant-time check, dummy key for unknown principals, one uniform
//!   failure).
//! - [`ServerCallback`] is an rsasl callback that serves CRAM-MD5 and rsasl's
//!   own SCRAM-SHA-256 server from the same store: `{SCRAM-SHA-256}`
//!   credentials give salt, iteration count, `StoredKey` and `ServerKey`;
//!   plaintext ones can have keys derived per attempt (see
//!   [`PlaintextScram`] for the cost). Outcomes go to an [`AuditSink`] as
//!   [`AuthEvent`]s.
//! - [`client_config`] makes a client configuration from a principal and a
//!   secret, preferring SCRAM-SHA-256 over CRAM-MD5 when the server offers
//!   both and refusing everything else (no downgrade to `PLAIN`).
//!
//! ```text
//!  rsasl SASLClient ──client_config(principal, secret)──┐
//!     SCRAM-SHA-256 (rsasl) | CRAM-MD5 (Authenticatee)  │ bytes, any transport
//!  rsasl SASLServer ──ServerCallback::new(store).config()┘
//!     SCRAM-SHA-256 (rsasl, keys from the store) | CRAM-MD5 (Authenticator)
//!     session.validation() == Some(principal)  ◄── only after a verified proof
//! ```
//!
//! A server session is created with [`PrincipalValidation`]; after
//! `step` returns `Finished`, [`validation`](::rsasl::prelude::Session::validation)
//! holds the authenticated [`Principal`] (the stored one) and `None` on any
//! failure. What the peer sees when credentials are wrong:
//!
//! - CRAM-MD5: `step` returns an error whose mechanism error is
//!   [`AuthenticationFailed`], the same for an unknown principal, a wrong or
//!   a malformed digest; tell the peer "failed" in your protocol's way.
//! - SCRAM-SHA-256: `step` returns `Finished(MessageSent::Yes)` with the
//!   server-final message `e=invalid-proof`, which must be sent; the
//!   validation stays `None`. Unknown principals get keys made up by
//!   [`CredentialStore::scram_sha256`] (a salt that stays the same for that
//!   name, the store's usual iteration count), so they also end in
//!   `e=invalid-proof`: rsasl's own fallback for a callback without keys
//!   (a fresh random salt each time, 16384 iterations, `e=unknown-user`)
//!   would reveal who exists, and this callback never lets it happen.
//!
//! Passwords are used as raw bytes on both sides (no SASLprep, as in the
//! credential store); rsasl's SCRAM client does the same.
//!
//! # Limits
//!
//! - No channel binding: `SCRAM-SHA-256-PLUS` is not offered.
//! - rsasl's SCRAM server compares the hash of the client's key with
//!   `StoredKey` using `==`. That is a SHA-256 output of attacker input, which
//!   the attacker cannot steer, so early exit there reveals nothing useful;
//!   the CRAM-MD5 check is constant time as everywhere in this crate.
//! - rsasl 2.3.1's SCRAM code panics on malformed input and on a step after
//!   an error; [`SCRAM_SHA256`] filters both out (see there), so use it and
//!   not `rsasl::mechanisms::scram::SCRAM_SHA256` directly.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use mesos_auth::credentials::{Credential, CredentialStore};
//! use mesos_auth::sasl::rsasl::{PrincipalValidation, ServerCallback, client_config};
//! use mesos_auth::{Principal, Secret};
//! use rsasl::prelude::{Mechname, SASLClient, SASLServer, State};
//!
//! let store = Arc::new(CredentialStore::from_credentials([Credential::plain(
//!     Principal::new("framework-1")?,
//!     Secret::new(b"kitesurf-at-dawn"),
//! )])?);
//! let server = SASLServer::<PrincipalValidation>::new(ServerCallback::new(store).config()?);
//! let client = SASLClient::new(client_config(
//!     Principal::new("framework-1")?,
//!     Secret::new(b"kitesurf-at-dawn"),
//! )?);
//!
//! // The server offers CRAM-MD5 (as a Mesos master does); the client picks it.
//! let offered = [Mechname::parse(b"CRAM-MD5")?];
//! let mut client = client.start_suggested(&offered)?;
//! let mut server = server.start_suggested(client.get_mechname())?;
//!
//! // CRAM-MD5 is server-first: the challenge, then the response.
//! let mut challenge = Vec::new();
//! assert!(server.are_we_first());
//! server.step(None, &mut challenge)?;
//! let mut response = Vec::new();
//! client.step(Some(&challenge), &mut response)?;
//! let state = server.step(Some(&response), &mut Vec::new())?;
//! assert!(state.is_finished());
//! let who = server.validation().ok_or("not authenticated")?;
//! assert_eq!(who.as_str(), "framework-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Using your own callback
//!
//! The server side of [`CRAM_MD5`] asks the callback for [`StoreProperty`]
//! (required), [`CramMd5ConfigProperty`] (optional) and reports through the
//! [`AuditProperty`] action (optional); on success it calls `validate` with
//! [`AuthId`](::rsasl::property::AuthId) set to the stored principal. A
//! callback of your own can answer these, or delegate to a
//! [`ServerCallback`] it holds. Put the mechanism into a registry with
//! `Registry::with_mechanisms(&[CRAM_MD5, ...])`, or use
//! [`MECHANISMS`].
//!
//! [`Authenticator`]: super::Authenticator
//! [`Authenticatee`]: super::Authenticatee
//! [`AuthEvent`]: super::AuthEvent
//! [`AuditSink`]: crate::AuditSink

mod callback;
mod cram_md5;
mod scram;

use ::rsasl::mechanism::{MechanismError, MechanismErrorKind};
use ::rsasl::property::SizedProperty;
use ::rsasl::validate::Validation;

pub use callback::{PlaintextScram, ServerCallback, client_config};
pub use cram_md5::CRAM_MD5;
pub use scram::SCRAM_SHA256;

use super::{AuthEvent, AuthenticatorConfig, SaslError};
use crate::Principal;
use crate::credentials::CredentialStore;

/// The mechanisms [`ServerCallback::config`] serves and [`client_config`]
/// picks from, strongest first: [`SCRAM_SHA256`] (rsasl's, with audit
/// events on the server side) and [`CRAM_MD5`].
pub static MECHANISMS: &[::rsasl::registry::Mechanism] = &[SCRAM_SHA256, CRAM_MD5];

/// The outcome a server session is validated with: the authenticated
/// principal, as the credential store holds it.
///
/// Create server sessions as `SASLServer::<PrincipalValidation>::new(config)`;
/// `session.validation()` is `Some(principal)` only after a verified proof.
#[derive(Debug)]
#[non_exhaustive]
pub struct PrincipalValidation;

impl Validation for PrincipalValidation {
    type Value = Principal;
}

/// Callback property: the credential store the CRAM-MD5 server checks
/// against. Required on the server side.
#[derive(Debug)]
#[non_exhaustive]
pub struct StoreProperty;

impl SizedProperty<'_> for StoreProperty {
    type Value = std::sync::Arc<CredentialStore>;
    const DESCRIPTION: &'static str = "the mesos-auth credential store";
}

/// Callback property: settings of the CRAM-MD5 [`Authenticator`]
/// (challenge host, timeout between challenge and response, peer name for
/// audit events). Optional; the defaults apply without it.
///
/// [`Authenticator`]: super::Authenticator
#[derive(Debug)]
#[non_exhaustive]
pub struct CramMd5ConfigProperty;

impl SizedProperty<'_> for CramMd5ConfigProperty {
    type Value = AuthenticatorConfig;
    const DESCRIPTION: &'static str = "mesos-auth CRAM-MD5 authenticator settings";
}

/// Callback action: an audit record of a finished exchange, handed to the
/// callback with `request.get_action::<AuditProperty>()`. Optional: a
/// callback that ignores it loses the record, nothing else.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuditProperty;

impl SizedProperty<'_> for AuditProperty {
    type Value = AuthEvent;
    const DESCRIPTION: &'static str = "a mesos-auth audit event";
}

/// The one error a CRAM-MD5 server session ends with when the credentials
/// are refused, whatever the reason (unknown principal, wrong or malformed
/// digest). The reason is only in the audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("authentication failed")]
pub struct AuthenticationFailed;

impl MechanismError for AuthenticationFailed {
    fn kind(&self) -> MechanismErrorKind {
        MechanismErrorKind::Outcome
    }
}

impl MechanismError for SaslError {
    fn kind(&self) -> MechanismErrorKind {
        MechanismErrorKind::Protocol
    }
}

#[cfg(test)]
mod test;
