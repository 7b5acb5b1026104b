//! The per-mechanism seam of the session state machines.
//!
//! [`Authenticator`](super::Authenticator) and
//! [`Authenticatee`](super::Authenticatee) own the Mesos message flow
//! (mechanism list, start, steps, outcome, timeouts, sticky errors, audit);
//! a mechanism only turns the peer's data into its next answer. A step
//! machine such as `step(&mut self, input) -> Continue(token) | Done{..}`
//! plugs in with an adapter that maps `Continue` to
//! [`ServerStep::Challenge`] and `Done` to [`ServerStep::Success`].

use std::time::SystemTime;

use super::cram_md5::DigestVerified;
use super::error::SaslError;
use super::event::FailureReason;
use crate::Principal;

/// CRAM-MD5 (RFC 2195), the mechanism Mesos ships.
pub const CRAM_MD5: &str = "CRAM-MD5";

/// OAUTHBEARER (RFC 7628): a bearer token (here a JWT) in a GS2-style
/// message.
pub const OAUTHBEARER: &str = "OAUTHBEARER";

/// GSSAPI (RFC 4752): Kerberos V5 through the system's GSS library
/// (feature `gssapi`).
pub const GSSAPI: &str = "GSSAPI";

/// Proof that a mechanism checked the peer's credentials. Only the checks
/// themselves build one; [`ServerStep::Success`] needs it, so a mechanism
/// cannot report success without having run its check.
#[derive(Debug)]
pub(crate) struct Verified(());

impl Verified {
    /// From CRAM-MD5's constant-time digest check.
    pub(crate) fn digest(_proof: DigestVerified) -> Self {
        Self(())
    }

    /// From a bearer token the validator accepted.
    pub(crate) fn token(_proof: &crate::bearer::Validated) -> Self {
        Self(())
    }

    /// From a GSS context the server established and whose security-layer
    /// exchange completed (only [`GssapiServer`](super::gssapi::GssapiServer)
    /// hands one out).
    #[cfg(feature = "gssapi")]
    pub(crate) fn kerberos(_proof: super::gssapi::Established) -> Self {
        Self(())
    }
}

/// What the session knows when it hands data to a mechanism.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepCtx {
    /// Wall-clock time of this message (token lifetimes are wall-clock).
    pub(crate) wall: SystemTime,
}

/// A server mechanism's answer to one client message.
#[derive(Debug)]
pub(crate) enum ServerStep {
    /// Send this challenge and wait for the next step.
    Challenge(super::message::StepData),
    /// Authenticated as `principal`.
    Success {
        principal: Principal,
        proof: Verified,
        /// The identity the peer claimed, for the audit record.
        claimed: Option<crate::Name>,
    },
    /// Refused: the peer gets the uniform `Failed`, the reason stays local.
    Failure {
        reason: FailureReason,
        claimed: Option<crate::Name>,
        /// Finer detail for the audit record (a token rejection's tag).
        detail: Option<String>,
    },
}

/// The server side of one mechanism, for one session.
///
/// `Err` is a protocol violation: the session answers with an
/// `AuthenticationErrorMessage` and ends in `Error`. A refusal of the
/// credentials is [`ServerStep::Failure`], not an error.
pub(crate) trait ServerMechanism {
    /// The IANA name, as in the mechanism list.
    fn name(&self) -> &'static str;

    /// The `Start` message's data (the initial response, possibly empty).
    fn start(&mut self, data: &[u8], ctx: StepCtx) -> Result<ServerStep, SaslError>;

    /// A `Step` message's data (the response to the last challenge).
    fn step(&mut self, data: &[u8], ctx: StepCtx) -> Result<ServerStep, SaslError>;
}

/// The client side of one mechanism, for one exchange.
pub(crate) trait ClientMechanism {
    /// The IANA name sent in `Start`.
    fn name(&self) -> &'static str;

    /// The `Start` message's data. `principal` is the session's (the
    /// mechanisms keep no copy: the session's state is moved on every
    /// message, and a copy made it larger than the compiler copies inline).
    fn start(&mut self, principal: &Principal) -> Result<Vec<u8>, SaslError>;

    /// The response to a server challenge.
    fn step(&mut self, principal: &Principal, challenge: &[u8]) -> Result<Vec<u8>, SaslError>;

    /// Whether a `Completed` from the server is plausible now; `false`
    /// before the client has proved anything (threats.md SC-1).
    fn may_complete(&self) -> bool;

    /// Detail for the audit record when the server refused (what the server
    /// said, for example OAUTHBEARER's `status`).
    fn failure_detail(&self) -> Option<String> {
        None
    }
}
