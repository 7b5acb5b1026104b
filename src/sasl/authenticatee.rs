//! The client side (Mesos `CRAMMD5Authenticatee`, grown to OAUTHBEARER and
//! GSSAPI).

use std::collections::VecDeque;

use super::Status;
use super::cram_md5;
use super::error::{ApiMisuse, PeerMisbehaved, SaslError};
use super::event::{AuthEvent, AuthResult, FailureReason, Side};
#[cfg(feature = "gssapi")]
use super::gssapi::{self, GssapiClientConfig};
use super::mechanism::ClientMechanism;
use super::message::{ClientMessage, MechanismList, ServerMessage};
use super::oauthbearer;
use crate::hmac_md5::HmacMd5Key;
use crate::{Principal, Secret};

/// Longest error text kept from a server's `AuthenticationErrorMessage`.
const MAX_SERVER_ERROR_LEN: usize = 256;

/// The configured mechanism.
#[derive(Debug)]
enum Mech {
    CramMd5(cram_md5::Client),
    OAuthBearer(oauthbearer::Client),
    /// Boxed: the largest client by far, it would set the size of every
    /// session's state, which moves on each message (a Kerberos exchange
    /// costs far more than the allocation).
    #[cfg(feature = "gssapi")]
    Gssapi(Box<gssapi::mech::Client>),
}

impl Mech {
    fn get(&self) -> &dyn ClientMechanism {
        match self {
            Self::CramMd5(m) => m,
            Self::OAuthBearer(m) => m,
            #[cfg(feature = "gssapi")]
            Self::Gssapi(m) => &**m,
        }
    }

    fn get_mut(&mut self) -> &mut dyn ClientMechanism {
        match self {
            Self::CramMd5(m) => m,
            Self::OAuthBearer(m) => m,
            #[cfg(feature = "gssapi")]
            Self::Gssapi(m) => &mut **m,
        }
    }
}

#[derive(Debug)]
enum State {
    /// Waiting for the server's mechanism list.
    AwaitingMechanisms(Mech),
    /// Sent `Start`; exchanging steps until the outcome.
    Stepping(Mech),
    Completed,
    Failed,
    Error(SaslError),
}

/// What a transition yields besides a message to send.
enum Next {
    Started(State, ClientMessage),
    /// The server offers not our mechanism: refuse to fall back, and do not
    /// retry either (the status is `Failed`).
    Downgrade(SaslError),
}

fn on_mechanisms(
    mut mech: Mech,
    principal: &Principal,
    offered: &MechanismList,
) -> Result<Next, SaslError> {
    let name = mech.get().name();
    // Only the configured mechanism, whatever else is offered: no
    // downgrade (threats.md SC-2).
    if !offered.contains(name) {
        return match mech {
            // CRAM-MD5 is Mesos's own: its absence is a broken server, and
            // Mesos retries.
            Mech::CramMd5(_) => Err(PeerMisbehaved::NoCramMd5.into()),
            // Kerberos and tokens are chosen to replace shared secrets:
            // never talked down to CRAM-MD5.
            Mech::OAuthBearer(_) => Ok(Next::Downgrade(
                PeerMisbehaved::MechanismNotOffered(name).into(),
            )),
            #[cfg(feature = "gssapi")]
            Mech::Gssapi(_) => Ok(Next::Downgrade(
                PeerMisbehaved::MechanismNotOffered(name).into(),
            )),
        };
    }
    let data = mech.get_mut().start(principal)?;
    Ok(Next::Started(
        State::Stepping(mech),
        ClientMessage::Start {
            mechanism: name.to_owned(),
            data,
        },
    ))
}

/// One client-side exchange, with the one mechanism it was built for
/// ([`new`](Self::new): CRAM-MD5; [`oauthbearer`](Self::oauthbearer)).
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
/// client.handle_message(ServerMessage::Mechanisms(["CRAM-MD5"].into()))?;
/// assert!(matches!(client.poll_output(), Some(ClientMessage::Start { .. })));
/// client.handle_message(ServerMessage::Step(b"<1896.697170952@postoffice.reston.mci.net>".into()))?;
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
    mechanism: &'static str,
    outputs: VecDeque<ClientMessage>,
    // At most one: only the message that ends the exchange records one
    // (later calls return early), so it needs no queue and no allocation.
    event: Option<AuthEvent>,
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
            state: State::AwaitingMechanisms(Mech::CramMd5(cram_md5::Client::new(
                HmacMd5Key::from_secret(secret.expose()),
            ))),
            principal,
            mechanism: super::CRAM_MD5,
            outputs: VecDeque::with_capacity(1),
            event: None,
        })
    }

    /// Prepares to authenticate with the bearer `token` (OAUTHBEARER,
    /// RFC 7628), asking to act as `principal` (sent as the authzid; the
    /// server refuses it unless the token maps to the same principal).
    ///
    /// Only OAUTHBEARER is ever used: a server that does not offer it gets
    /// no `Start` at all, and the exchange ends [`Status::Failed`] with
    /// [`PeerMisbehaved::MechanismNotOffered`] (downgrade protection).
    ///
    /// # Errors
    ///
    /// [`ApiMisuse::BadToken`] for an empty token or one outside RFC 6750's
    /// `b64token` syntax.
    pub fn oauthbearer(principal: Principal, token: &Secret) -> Result<Self, SaslError> {
        let mech = oauthbearer::Client::new(token)?;
        Ok(Self {
            state: State::AwaitingMechanisms(Mech::OAuthBearer(mech)),
            principal,
            mechanism: super::OAUTHBEARER,
            outputs: VecDeque::with_capacity(2),
            event: None,
        })
    }

    /// Prepares to authenticate with Kerberos (GSSAPI, RFC 4752) to the
    /// service `config` names, expecting to be mapped to its principal
    /// (sent as the authzid unless turned off). Tickets come from the
    /// credentials cache `KRB5CCNAME` names, or from a client keytab
    /// (`KRB5_CLIENT_KTNAME`).
    ///
    /// Only GSSAPI is ever used: a server that does not offer it gets no
    /// `Start` at all, and the exchange ends [`Status::Failed`] with
    /// [`PeerMisbehaved::MechanismNotOffered`] (downgrade protection).
    ///
    /// # Errors
    ///
    /// [`SaslError::Kerberos`] if the service name is invalid or the named
    /// client's credentials cannot be found.
    #[cfg(feature = "gssapi")]
    pub fn gssapi(config: GssapiClientConfig) -> Result<Self, SaslError> {
        let principal = config.principal().clone();
        let mech = gssapi::mech::Client::new(config)?;
        Ok(Self {
            state: State::AwaitingMechanisms(Mech::Gssapi(Box::new(mech))),
            principal,
            mechanism: super::mechanism::GSSAPI,
            outputs: VecDeque::with_capacity(2),
            event: None,
        })
    }

    /// The mechanism this client uses.
    pub fn mechanism(&self) -> &'static str {
        self.mechanism
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
            (pending, ServerMessage::Failed) => {
                let detail = match &pending {
                    State::AwaitingMechanisms(m) | State::Stepping(m) => m.get().failure_detail(),
                    _ => None,
                };
                self.state = State::Failed;
                let event = self
                    .event(
                        AuthResult::Failed,
                        Some(FailureReason::RefusedByServer),
                        None,
                    )
                    .with_detail(detail);
                self.event = Some(event);
                return Ok(());
            }
            (_, ServerMessage::Error(text)) => Err(SaslError::Server(sanitize(&text))),
            (State::AwaitingMechanisms(m), ServerMessage::Mechanisms(list)) => {
                match on_mechanisms(m, &self.principal, &list) {
                    Ok(Next::Started(next, out)) => {
                        self.outputs.push_back(out);
                        Ok(next)
                    }
                    Ok(Next::Downgrade(e)) => {
                        self.state = State::Failed;
                        let event = self.event(
                            AuthResult::Failed,
                            Some(FailureReason::MechanismNotOffered),
                            Some(&e),
                        );
                        self.event = Some(event);
                        return Err(e);
                    }
                    Err(e) => Err(e),
                }
            }
            (State::Stepping(mut m), ServerMessage::Step(challenge)) => {
                m.get_mut().step(&self.principal, &challenge).map(|out| {
                    self.outputs.push_back(ClientMessage::Step(out));
                    State::Stepping(m)
                })
            }
            (State::Stepping(m), ServerMessage::Completed) if m.get().may_complete() => {
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
                self.event = Some(self.event(AuthResult::Error, None, Some(&e)));
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
        self.event.take()
    }

    /// Where the exchange stands.
    pub fn status(&self) -> Status {
        match &self.state {
            State::AwaitingMechanisms(_) | State::Stepping(_) => Status::Pending,
            State::Completed => Status::Completed(self.principal.clone()),
            State::Failed => Status::Failed,
            State::Error(e) => Status::Error(e.clone()),
        }
    }

    fn finish(&mut self, state: State, result: AuthResult, reason: Option<FailureReason>) {
        self.state = state;
        self.event = Some(self.event(result, reason, None));
    }

    fn event(
        &self,
        result: AuthResult,
        reason: Option<FailureReason>,
        error: Option<&SaslError>,
    ) -> AuthEvent {
        AuthEvent {
            side: Side::Authenticatee,
            principal: Some(self.principal.name()),
            peer: None,
            mechanism: self.mechanism,
            result,
            reason,
            error: error.map(ToString::to_string),
            detail: None,
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
