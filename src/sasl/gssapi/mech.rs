//! GSSAPI as a mechanism of the session seam: adapters from
//! [`GssapiServer`] / [`GssapiClient`] to
//! [`ServerMechanism`] / [`ClientMechanism`].
//!
//! ```text
//!  authenticatee                               authenticator
//!      │ ◄─── Mechanisms["GSSAPI", ...] ────────────┤
//!      ├──── Start{"GSSAPI", AP-REQ} ─────────────► │ GSS context created here
//!      │ ◄─── Step(AP-REP) ──────────────────────── ┤
//!      ├──── Step("") ────────────────────────────► │
//!      │ ◄─── Step(wrap(offer)) ─────────────────── ┤
//!      ├──── Step(wrap(choice + authzid)) ────────► │ name mapped, authzid checked
//!      │ ◄─── Completed | Failed ────────────────── ┤
//! ```

use std::sync::Mutex;

use super::{
    GssStep, GssapiClient, GssapiClientConfig, GssapiError, GssapiServer, GssapiServerConfig,
};
use crate::Principal;
use crate::sasl::error::{ApiMisuse, PeerMisbehaved, SaslError};
use crate::sasl::event::FailureReason;
use crate::sasl::mechanism::{
    ClientMechanism, GSSAPI, ServerMechanism, ServerStep, StepCtx, Verified,
};

/// What a server-side GSSAPI error means to the session.
fn server_outcome(e: GssapiError) -> Result<ServerStep, SaslError> {
    match e {
        // A refusal: the peer gets the uniform `Failed`, the reason stays in
        // the audit event.
        GssapiError::Refused { reason, detail } => Ok(ServerStep::Failure {
            reason: FailureReason::KerberosRefused,
            claimed: None,
            detail: Some(format!("{reason}: {detail}")),
        }),
        // Our own keys are missing: local, but to the peer the same `Failed`
        // (it learns nothing about the server's keytab).
        GssapiError::Setup { reason, detail } => Ok(ServerStep::Failure {
            reason: FailureReason::KerberosUnavailable,
            claimed: None,
            detail: Some(format!("{reason}: {detail}")),
        }),
        GssapiError::Protocol(what) => Err(PeerMisbehaved::MalformedGssapi(what).into()),
        GssapiError::Misuse(_) => Err(PeerMisbehaved::UnexpectedStep.into()),
    }
}

/// GSSAPI as a server mechanism. The GSS context is only created when the
/// client starts GSSAPI, so a session that ends up in another mechanism
/// never touches the keytab.
#[derive(Debug)]
pub(crate) struct Server {
    config: GssapiServerConfig,
    // GSS contexts are `Send` but not `Sync`; sessions must be both. Only
    // ever reached through `&mut self` with `Mutex::get_mut`: never locked.
    inner: Option<Mutex<GssapiServer>>,
}

impl Server {
    pub(crate) fn new(config: GssapiServerConfig) -> Self {
        Self {
            config,
            inner: None,
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<ServerStep, SaslError> {
        let Some(Ok(inner)) = self.inner.as_mut().map(Mutex::get_mut) else {
            return Err(PeerMisbehaved::UnexpectedStep.into());
        };
        match inner.step(data) {
            Ok(GssStep::Continue(token)) => Ok(ServerStep::Challenge(token.into())),
            Ok(GssStep::Done { principal, .. }) => match inner.established() {
                Some(proof) => Ok(ServerStep::Success {
                    // The mapped name (the authzid, if sent, was checked
                    // equal to it).
                    claimed: Some(principal.name()),
                    principal,
                    proof: Verified::kerberos(proof),
                }),
                // Cannot happen (Done is the established state); fail closed.
                None => Err(ApiMisuse::Finished.into()),
            },
            Err(e) => server_outcome(e),
        }
    }
}

impl ServerMechanism for Server {
    fn name(&self) -> &'static str {
        GSSAPI
    }

    fn start(&mut self, data: &[u8], _ctx: StepCtx) -> Result<ServerStep, SaslError> {
        if self.inner.is_some() {
            return Err(PeerMisbehaved::UnexpectedStart.into());
        }
        match GssapiServer::new(self.config.clone()) {
            Ok(inner) => self.inner = Some(Mutex::new(inner)),
            Err(e) => return server_outcome(e),
        }
        if data.is_empty() {
            // No initial token in `Start`: an empty challenge asks for it
            // (RFC 4422 §5, a client-first mechanism).
            return Ok(ServerStep::Challenge(Vec::new().into()));
        }
        self.feed(data)
    }

    fn step(&mut self, data: &[u8], _ctx: StepCtx) -> Result<ServerStep, SaslError> {
        self.feed(data)
    }
}

/// GSSAPI as a client mechanism.
#[derive(Debug)]
pub(crate) struct Client {
    // As the server's: `Sync` without ever locking.
    inner: Mutex<GssapiClient>,
    // The initial token went out with `Start`.
    sent: bool,
    // The wrapped layer choice went out: only now may the server complete.
    done: bool,
}

impl Client {
    /// Sets up the client (the named credentials, if any, are acquired
    /// here, so a missing ticket is the caller's error before anything is
    /// sent).
    pub(crate) fn new(config: GssapiClientConfig) -> Result<Self, SaslError> {
        let inner = GssapiClient::new(config).map_err(client_error)?;
        Ok(Self {
            inner: Mutex::new(inner),
            sent: false,
            done: false,
        })
    }
}

impl Client {
    fn inner(&mut self) -> Result<&mut GssapiClient, SaslError> {
        // Never locked, so never poisoned; fail closed all the same.
        self.inner.get_mut().map_err(|_| ApiMisuse::Finished.into())
    }
}

fn client_error(e: GssapiError) -> SaslError {
    match e {
        GssapiError::Protocol(what) => PeerMisbehaved::MalformedGssapi(what).into(),
        GssapiError::Misuse(_) => ApiMisuse::Finished.into(),
        e @ (GssapiError::Refused { .. } | GssapiError::Setup { .. }) => {
            SaslError::Kerberos(e.to_string())
        }
    }
}

impl ClientMechanism for Client {
    fn name(&self) -> &'static str {
        GSSAPI
    }

    fn start(&mut self, _principal: &Principal) -> Result<Vec<u8>, SaslError> {
        if self.sent {
            return Err(ApiMisuse::Finished.into());
        }
        match self.inner()?.step(&[]).map_err(client_error)? {
            GssStep::Continue(token) => {
                self.sent = true;
                Ok(token)
            }
            // The client always has a token to send first.
            GssStep::Done { .. } => Err(ApiMisuse::Finished.into()),
        }
    }

    fn step(&mut self, _principal: &Principal, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !self.sent || self.done {
            return Err(PeerMisbehaved::UnexpectedStep.into());
        }
        if challenge.is_empty() {
            // The server asks for the initial token again: it had it.
            return Err(PeerMisbehaved::EmptyChallenge.into());
        }
        match self.inner()?.step(challenge).map_err(client_error)? {
            GssStep::Continue(token) => Ok(token),
            GssStep::Done { output, .. } => {
                self.done = true;
                Ok(output.unwrap_or_default())
            }
        }
    }

    fn may_complete(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod test;
