//! The client side (Mesos `CRAMMD5Authenticatee`).

use std::collections::VecDeque;

use super::Status;
use super::cram_md5;
use super::error::{ApiMisuse, PeerMisbehaved, SaslError};
use super::event::{AuthEvent, AuthResult, FailureReason, Side};
use super::message::{ClientMessage, MAX_MESSAGE_LEN, MECHANISM, ServerMessage};
use crate::hmac_md5::HmacMd5Key;
use crate::{Principal, Secret};

/// Longest error text kept from a server's `AuthenticationErrorMessage`.
const MAX_SERVER_ERROR_LEN: usize = 256;

/// Waiting for the server's mechanism list.
#[derive(Debug)]
struct AwaitingMechanisms {
    key: HmacMd5Key,
}

/// Sent `Start`; waiting for the challenge.
#[derive(Debug)]
struct AwaitingChallenge {
    key: HmacMd5Key,
}

/// Sent the response; waiting for the verdict. The key is gone (wiped on
/// drop, threats.md SC-6).
#[derive(Debug)]
struct AwaitingOutcome;

#[derive(Debug)]
enum State {
    AwaitingMechanisms(AwaitingMechanisms),
    AwaitingChallenge(AwaitingChallenge),
    AwaitingOutcome(AwaitingOutcome),
    Completed,
    Failed,
    Error(SaslError),
}

impl AwaitingMechanisms {
    fn handle(
        self,
        mechanisms: &[String],
    ) -> Result<(AwaitingChallenge, ClientMessage), SaslError> {
        // Only CRAM-MD5, whatever else is offered: no downgrade (SC-2).
        if !mechanisms.iter().any(|m| m == MECHANISM) {
            return Err(PeerMisbehaved::NoCramMd5.into());
        }
        Ok((
            AwaitingChallenge { key: self.key },
            ClientMessage::Start {
                mechanism: MECHANISM.to_owned(),
                data: Vec::new(),
            },
        ))
    }
}

impl AwaitingChallenge {
    fn handle(
        self,
        principal: &Principal,
        challenge: &[u8],
    ) -> Result<(AwaitingOutcome, ClientMessage), SaslError> {
        if challenge.is_empty() {
            return Err(PeerMisbehaved::EmptyChallenge.into());
        }
        if challenge.len() > MAX_MESSAGE_LEN {
            return Err(PeerMisbehaved::TooLong {
                len: challenge.len(),
                max: MAX_MESSAGE_LEN,
            }
            .into());
        }
        let response = cram_md5::response_with(&self.key, principal.as_str(), challenge);
        // `self.key` is dropped (and wiped) here.
        Ok((AwaitingOutcome, ClientMessage::Step(response)))
    }
}

/// One client-side CRAM-MD5 exchange.
///
/// The host sends `AuthenticateMessage{pid}` itself, then feeds every
/// server message to [`handle_message`](Self::handle_message) and sends what
/// [`poll_output`](Self::poll_output) yields.
///
/// ```
/// use mesos_auth::sasl::{Authenticatee, ClientMessage, ServerMessage, Status};
/// use mesos_auth::{Principal, Secret};
///
/// // RFC 2195's example exchange.
/// let mut client = Authenticatee::new(Principal::new("tim")?, &Secret::new(b"tanstaaftanstaaf"))?;
/// client.handle_message(ServerMessage::Mechanisms(vec!["CRAM-MD5".into()]))?;
/// assert!(matches!(client.poll_output(), Some(ClientMessage::Start { .. })));
/// client.handle_message(ServerMessage::Step(b"<1896.697170952@postoffice.reston.mci.net>".to_vec()))?;
/// let Some(ClientMessage::Step(response)) = client.poll_output() else {
///     return Err("no response".into());
/// };
/// assert_eq!(response, b"tim b913a602c7eda7a495b4e6e7334d3890");
/// client.handle_message(ServerMessage::Completed)?;
/// assert!(matches!(client.status(), Status::Completed(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Authenticatee {
    state: State,
    principal: Principal,
    outputs: VecDeque<ClientMessage>,
    events: VecDeque<AuthEvent>,
}

impl Authenticatee {
    /// Prepares to authenticate as `principal`. Only the HMAC key schedule
    /// of `secret` is kept, and it is wiped once the response is sent.
    ///
    /// # Errors
    ///
    /// [`ApiMisuse::EmptySecret`] for an empty secret (Mesos refuses such a
    /// credential without sending anything).
    pub fn new(principal: Principal, secret: &Secret) -> Result<Self, SaslError> {
        if secret.is_empty() {
            return Err(ApiMisuse::EmptySecret.into());
        }
        Ok(Self {
            state: State::AwaitingMechanisms(AwaitingMechanisms {
                key: HmacMd5Key::from_secret(secret.expose()),
            }),
            principal,
            outputs: VecDeque::with_capacity(1),
            events: VecDeque::with_capacity(1),
        })
    }

    /// Handles one message from the server.
    ///
    /// # Errors
    ///
    /// A [`SaslError`] if the server broke the protocol, reported an error,
    /// or the exchange had already ended. After an error every call returns
    /// it again. A refusal (`Failed`) is not an error: the status becomes
    /// [`Status::Failed`].
    pub fn handle_message(&mut self, msg: ServerMessage) -> Result<(), SaslError> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let result = match (state, msg) {
            (State::Error(e), _) => {
                self.state = State::Error(e.clone());
                return Err(e);
            }
            (terminal @ (State::Completed | State::Failed), _) => {
                self.state = terminal;
                return Err(PeerMisbehaved::AfterEnd.into());
            }
            // Failed and Error are accepted in any pending state (Mesos).
            (_, ServerMessage::Failed) => {
                self.finish(
                    State::Failed,
                    AuthResult::Failed,
                    Some(FailureReason::RefusedByServer),
                );
                return Ok(());
            }
            (_, ServerMessage::Error(text)) => Err(SaslError::Server(sanitize(&text))),
            (State::AwaitingMechanisms(s), ServerMessage::Mechanisms(list)) => {
                s.handle(&list).map(|(next, out)| {
                    self.outputs.push_back(out);
                    State::AwaitingChallenge(next)
                })
            }
            (State::AwaitingChallenge(s), ServerMessage::Step(challenge)) => {
                s.handle(&self.principal, &challenge).map(|(next, out)| {
                    self.outputs.push_back(out);
                    State::AwaitingOutcome(next)
                })
            }
            (State::AwaitingOutcome(AwaitingOutcome), ServerMessage::Completed) => {
                self.finish(State::Completed, AuthResult::Completed, None);
                return Ok(());
            }
            (_, ServerMessage::Mechanisms(_)) => Err(PeerMisbehaved::UnexpectedMechanisms.into()),
            (_, ServerMessage::Step(_)) => Err(PeerMisbehaved::UnexpectedStep.into()),
            (_, ServerMessage::Completed) => Err(PeerMisbehaved::UnexpectedCompleted.into()),
        };
        match result {
            Ok(next) => {
                self.state = next;
                Ok(())
            }
            Err(e) => {
                self.events
                    .push_back(self.event(AuthResult::Error, None, Some(&e)));
                self.state = State::Error(e.clone());
                Err(e)
            }
        }
    }

    /// The next message to send to the server.
    pub fn poll_output(&mut self) -> Option<ClientMessage> {
        self.outputs.pop_front()
    }

    /// The audit record, once the exchange has ended.
    pub fn poll_event(&mut self) -> Option<AuthEvent> {
        self.events.pop_front()
    }

    /// Where the exchange stands.
    pub fn status(&self) -> Status {
        match &self.state {
            State::AwaitingMechanisms(_)
            | State::AwaitingChallenge(_)
            | State::AwaitingOutcome(_) => Status::Pending,
            State::Completed => Status::Completed(self.principal.clone()),
            State::Failed => Status::Failed,
            State::Error(e) => Status::Error(e.clone()),
        }
    }

    fn finish(&mut self, state: State, result: AuthResult, reason: Option<FailureReason>) {
        self.state = state;
        self.events.push_back(self.event(result, reason, None));
    }

    fn event(
        &self,
        result: AuthResult,
        reason: Option<FailureReason>,
        error: Option<&SaslError>,
    ) -> AuthEvent {
        AuthEvent {
            side: Side::Authenticatee,
            principal: Some(self.principal.as_str().to_owned()),
            peer: None,
            mechanism: MECHANISM,
            result,
            reason,
            error: error.map(ToString::to_string),
            audit_id: None,
        }
    }
}

/// The server's error text, cut short and without control characters.
fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .scan(0usize, |len, c| {
            *len += c.len_utf8();
            (*len <= MAX_SERVER_ERROR_LEN).then_some(c)
        })
        .collect()
}
