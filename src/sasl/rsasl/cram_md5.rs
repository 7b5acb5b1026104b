//! CRAM-MD5 as an rsasl mechanism, driving the crate's own state machines.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use crate::sasl::nonce::SystemNonces;
use ::rsasl::mechanism::{Authentication, MechanismData, State};
use ::rsasl::mechanism::{EmptyProvider, ThisProvider};
use ::rsasl::mechname::Mechname;
use ::rsasl::prelude::{MessageSent, SASLConfig, SASLError, SessionError};
use ::rsasl::property::{AuthId, Password};
use ::rsasl::registry::{Matches, Mechanism, Named, Side};

use super::{AuditProperty, AuthenticationFailed, CramMd5ConfigProperty, StoreProperty};
use crate::sasl::{Authenticatee, Authenticator, ClientMessage, MECHANISM, ServerMessage, Status};
use crate::{Principal, Secret};

/// CRAM-MD5 (RFC 2195) for rsasl, client and server side.
///
/// Server-first: the server's first `step(None, ..)` writes the challenge,
/// the client answers it with one `step(Some(challenge), ..)` and is
/// finished; the server's second step checks the response. The client asks
/// its callback for [`AuthId`] (a valid [`Principal`]) and [`Password`]
/// (non-empty); the server asks for [`StoreProperty`] and, optionally,
/// [`CramMd5ConfigProperty`], and reports through [`AuditProperty`].
///
/// Its priority is below SCRAM's, so a client offered both picks SCRAM.
pub static CRAM_MD5: Mechanism = Mechanism::build(
    Mechname::const_new_unchecked(MECHANISM.as_bytes()),
    100,
    Some(start_client),
    Some(start_server),
    Side::Server,
    |_channel_binding| Some(Matches::<Select>::name()),
    |_channel_binding| true,
);

struct Select;

impl Named for Select {
    fn mech() -> &'static Mechanism {
        &CRAM_MD5
    }
}

fn start_client() -> Result<Box<dyn Authentication>, SASLError> {
    Ok(Box::new(Client { done: false }))
}

fn start_server(_config: &SASLConfig) -> Result<Box<dyn Authentication>, SASLError> {
    Ok(Box::new(Server {
        state: ServerState::Start,
    }))
}

/// The client: one step, answering the challenge.
struct Client {
    done: bool,
}

impl Authentication for Client {
    fn step(
        &mut self,
        session: &mut MechanismData,
        input: Option<&[u8]>,
        writer: &mut dyn Write,
    ) -> Result<State, SessionError> {
        if self.done {
            return Err(SessionError::MechanismDone);
        }
        // Nothing yet: the server goes first. The state stays as it is.
        let Some(challenge) = input else {
            return Err(SessionError::InputDataRequired);
        };
        self.done = true;
        let principal = session.need_with::<AuthId, _, _>(&EmptyProvider, |name| {
            Principal::new(name).map_err(|e| SessionError::Boxed(Box::new(e)))
        })?;
        let secret =
            session.need_with::<Password, _, _>(&EmptyProvider, |pw| Ok(Secret::new(pw)))?;
        // The authenticatee keeps only the HMAC key schedule; `secret` is
        // wiped when it drops at the end of this call.
        let mut client = Authenticatee::new(principal, &secret)?;
        // rsasl already chose the mechanism; replay the Mesos prelude so the
        // state machine checks the challenge exactly as it does for Mesos.
        client.handle_message(ServerMessage::Mechanisms([MECHANISM].into()))?;
        let _start = client.poll_output();
        client.handle_message(ServerMessage::Step(challenge.into()))?;
        match client.poll_output() {
            Some(ClientMessage::Step(response)) => {
                writer.write_all(&response)?;
                Ok(State::Finished(MessageSent::Yes))
            }
            // The state machine always answers an accepted challenge.
            _ => Err(SessionError::MechanismDone),
        }
    }
}

enum ServerState {
    Start,
    AwaitingResponse(Box<Authenticator>),
    Done,
}

/// The server: challenge, then the check.
struct Server {
    state: ServerState,
}

impl Authentication for Server {
    fn step(
        &mut self,
        session: &mut MechanismData,
        input: Option<&[u8]>,
        writer: &mut dyn Write,
    ) -> Result<State, SessionError> {
        match std::mem::replace(&mut self.state, ServerState::Done) {
            ServerState::Start => {
                let store = session
                    .need_with::<StoreProperty, _, _>(&EmptyProvider, |s| Ok(Arc::clone(s)))?;
                let config = session
                    .maybe_need_with::<CramMd5ConfigProperty, _, _>(&EmptyProvider, |c| {
                        Ok(c.clone())
                    })?
                    .unwrap_or_default();
                let now = Instant::now();
                // A fresh 128-bit challenge from the OS CSPRNG per session.
                let mut server = Authenticator::new(store, config, &mut SystemNonces, now);
                // Client-sent initial data is refused by the state machine.
                let started = server.handle_start(now, MECHANISM, input.unwrap_or_default());
                report(session, &mut server);
                started?;
                while let Some(out) = server.poll_output() {
                    if let ServerMessage::Step(challenge) = out {
                        writer.write_all(&challenge)?;
                    }
                }
                self.state = ServerState::AwaitingResponse(Box::new(server));
                Ok(State::Running)
            }
            ServerState::AwaitingResponse(mut server) => {
                let Some(response) = input else {
                    self.state = ServerState::AwaitingResponse(server);
                    return Err(SessionError::InputDataRequired);
                };
                let checked = server.handle_step(Instant::now(), response);
                report(session, &mut server);
                checked?;
                match server.status() {
                    Status::Completed(principal) => {
                        let provider = ThisProvider::<AuthId>::with(principal.as_str());
                        session.validate(&provider)?;
                        Ok(State::Finished(MessageSent::No))
                    }
                    Status::Error(e) => Err(e.into()),
                    Status::Failed | Status::Pending => Err(AuthenticationFailed.into()),
                }
            }
            ServerState::Done => Err(SessionError::MechanismDone),
        }
    }
}

/// Hands the authenticator's audit records to the callback.
fn report(session: &MechanismData, server: &mut Authenticator) {
    while let Some(event) = server.poll_event() {
        send_event(session, &event);
    }
}

/// Hands one audit record to the callback. A callback that does not take
/// it loses the record; the exchange goes on.
pub(super) fn send_event(session: &MechanismData, event: &crate::sasl::AuthEvent) {
    let _ignored = session.action::<AuditProperty>(&EmptyProvider, event);
}
