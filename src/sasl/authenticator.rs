//! The server side (the Mesos master's CRAM-MD5 authenticator session).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Status;
use super::cram_md5::{self, DigestVerified};
use super::error::{PeerMisbehaved, SaslError};
use super::event::{AuthEvent, AuthResult, FailureReason, Side};
use super::message::{ClientMessage, MAX_MESSAGE_LEN, MECHANISM, ServerMessage};
use super::nonce::{self, Challenge, NonceSource};
use crate::Principal;
use crate::credentials::CredentialStore;

/// Settings of an [`Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthenticatorConfig {
    timeout: Duration,
    // Shared, so handing a config to each new session copies no text.
    host: Arc<str>,
    peer: Option<Arc<str>>,
}

impl Default for AuthenticatorConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            host: Arc::from("localhost"),
            peer: None,
        }
    }
}

impl AuthenticatorConfig {
    /// Defaults: a 15 s timeout (Mesos `--authentication_v0_timeout`), host
    /// `localhost`, no peer name.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long the session may take before [`Authenticator::handle_timeout`]
    /// ends it.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The host name in challenges (`<…@host>`). Characters other than ASCII
    /// letters, digits, `.` and `-` are dropped, so the challenge always has
    /// the expected shape; empty becomes `localhost`.
    ///
    /// A name longer than 29 bytes is shortened to its leading labels that
    /// fit (`master-01.dc-east.prod.example.org` becomes
    /// `master-01.dc-east.prod`), or its first label cut to 29 bytes: the
    /// challenge then stays within 55 bytes, so its HMAC costs two MD5
    /// compressions instead of three. The host is informative only (RFC 2195
    /// asks for a unique msg-id; 128 random bits make it unique), and no
    /// peer checks it.
    #[must_use]
    pub fn host(mut self, host: &str) -> Self {
        let clean: String = host
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        let fitted = nonce::fit_host(&clean);
        self.host = if fitted.is_empty() {
            Arc::from("localhost")
        } else {
            Arc::from(fitted)
        };
        self
    }

    /// The peer's name (for example the client's UPID or address), copied
    /// into audit events.
    #[must_use]
    pub fn peer(mut self, peer: impl Into<String>) -> Self {
        self.peer = Some(Arc::from(peer.into()));
        self
    }
}

/// Waiting for `Start`; the challenge is already drawn.
#[derive(Debug)]
struct AwaitingStart {
    challenge: Challenge,
}

/// Waiting for the response to `challenge` (used once: the state is consumed).
#[derive(Debug)]
struct AwaitingResponse {
    challenge: Challenge,
}

/// Authenticated. Only reachable with a [`DigestVerified`] proof.
#[derive(Debug)]
struct Completed {
    principal: Principal,
}

impl Completed {
    fn new(principal: Principal, _proof: DigestVerified) -> Self {
        Self { principal }
    }
}

#[derive(Debug)]
enum State {
    AwaitingStart(AwaitingStart),
    AwaitingResponse(AwaitingResponse),
    Completed(Completed),
    Failed,
    Error(SaslError),
}

/// A client message, borrowed: the session reads it and keeps nothing of
/// it, so [`Authenticator::handle_step`] and `handle_start` copy nothing.
#[derive(Clone, Copy)]
enum Input<'a> {
    Start { mechanism: &'a str, data: &'a [u8] },
    Step(&'a [u8]),
}

/// What a transition produces besides the next state.
enum Step {
    Next(State),
    Done(State, ServerMessage, AuthEvent),
}

impl AwaitingStart {
    fn handle(self, msg: Input<'_>) -> Result<State, SaslError> {
        match msg {
            Input::Start { mechanism, data } => {
                if mechanism != MECHANISM {
                    return Err(PeerMisbehaved::UnsupportedMechanism.into());
                }
                if !data.is_empty() {
                    return Err(PeerMisbehaved::InitialData.into());
                }
                Ok(State::AwaitingResponse(AwaitingResponse {
                    challenge: self.challenge,
                }))
            }
            Input::Step(_) => Err(PeerMisbehaved::UnexpectedStep.into()),
        }
    }
}

impl AwaitingResponse {
    fn handle(self, msg: Input<'_>, ctx: &Ctx<'_>) -> Result<Step, SaslError> {
        let data = match msg {
            Input::Step(data) => data,
            Input::Start { .. } => return Err(PeerMisbehaved::UnexpectedStart.into()),
        };
        let Some(parsed) = cram_md5::split(data) else {
            return Err(PeerMisbehaved::MissingName.into());
        };
        let checked = cram_md5::check(ctx.store, self.challenge.as_slice(), &parsed);
        // Everything below runs after the decision and depends only on it.
        let claimed = claimed_name(parsed.name);
        match checked.into_result() {
            Ok((principal, proof)) => Ok(Step::Done(
                State::Completed(Completed::new(principal, proof)),
                ServerMessage::Completed,
                ctx.event(Some(claimed), AuthResult::Completed, None, None),
            )),
            Err(reason) => Ok(Step::Done(
                State::Failed,
                ServerMessage::Failed,
                ctx.event(Some(claimed), AuthResult::Failed, Some(reason), None),
            )),
        }
    }
}

struct Ctx<'a> {
    store: &'a CredentialStore,
    peer: Option<&'a str>,
}

impl Ctx<'_> {
    fn event(
        &self,
        principal: Option<String>,
        result: AuthResult,
        reason: Option<FailureReason>,
        error: Option<&SaslError>,
    ) -> AuthEvent {
        AuthEvent {
            side: Side::Authenticator,
            principal,
            peer: self.peer.map(str::to_owned),
            mechanism: MECHANISM,
            result,
            reason,
            error: error.map(ToString::to_string),
            audit_id: None,
        }
    }
}

/// The peer's claimed name for the audit log: lossy UTF-8, at most 256 bytes.
fn claimed_name(name: &[u8]) -> String {
    let cut = name.get(..crate::MAX_PRINCIPAL_LEN).unwrap_or(name);
    String::from_utf8_lossy(cut).into_owned()
}

/// One server-side CRAM-MD5 session (Mesos `CRAMMD5AuthenticatorSession`).
///
/// Created when the master receives `AuthenticateMessage`; it immediately
/// queues the mechanism list. Feed it the client's messages with
/// [`handle_message`](Self::handle_message), drain replies with
/// [`poll_output`](Self::poll_output) and the audit record with
/// [`poll_event`](Self::poll_event), and call
/// [`handle_timeout`](Self::handle_timeout) when
/// [`poll_timeout`](Self::poll_timeout) has passed.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use mesos_auth::credentials::{self, Options};
/// use mesos_auth::sasl::{
///     AuthResult, Authenticator, AuthenticatorConfig, ClientMessage, FailureReason, OsNonceSource,
///     ServerMessage, Status,
/// };
///
/// let file = br#"{"credentials": [{"principal": "spark", "secret": "q7Vn-2xLw-Rb8k"}]}"#;
/// let store = Arc::new(credentials::parse(file, &Options::new())?.into_store()?);
/// let now = Instant::now();
/// let config = AuthenticatorConfig::new().peer("scheduler@10.0.0.7");
/// let mut master = Authenticator::new(store, config, &mut OsNonceSource::new()?, now);
/// assert!(matches!(master.poll_output(), Some(ServerMessage::Mechanisms(_))));
///
/// master.handle_message(now, ClientMessage::Start { mechanism: "CRAM-MD5".into(), data: vec![] })?;
/// assert!(matches!(master.poll_output(), Some(ServerMessage::Step(_))));
/// // A wrong digest: the peer sees a bare `Failed`, the reason is local.
/// master.handle_message(now, ClientMessage::Step(format!("spark {}", "0".repeat(32)).into_bytes()))?;
/// assert_eq!(master.poll_output(), Some(ServerMessage::Failed));
/// assert_eq!(master.status(), Status::Failed);
/// let event = master.poll_event().ok_or("an audit event")?;
/// assert_eq!((event.result, event.reason), (AuthResult::Failed, Some(FailureReason::BadDigest)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Authenticator {
    state: State,
    store: Arc<CredentialStore>,
    peer: Option<Arc<str>>,
    deadline: Instant,
    outputs: Outbox,
    // At most one: only the step that ends the session records one.
    event: Option<AuthEvent>,
}

/// The messages waiting to be sent. A session sends at most three over its
/// life (mechanisms, challenge, then the outcome or an error; nothing after
/// it ends), so they fit inline and need no allocation.
#[derive(Debug, Default)]
struct Outbox {
    slots: [Option<ServerMessage>; 3],
    read: usize,
    written: usize,
}

impl Outbox {
    fn push(&mut self, msg: ServerMessage) {
        // Cannot be full (see above); if a bug ever made it so, the extra
        // message is dropped, which a peer sees as no answer: fail closed.
        if let Some(slot) = self.slots.get_mut(self.written) {
            *slot = Some(msg);
            self.written += 1;
        }
    }

    fn pop(&mut self) -> Option<ServerMessage> {
        let msg = self.slots.get_mut(self.read)?.take()?;
        self.read += 1;
        Some(msg)
    }
}

impl Authenticator {
    /// Starts a session at `now`, drawing its challenge from `nonces`, and
    /// queues the mechanism list (`["CRAM-MD5"]`).
    pub fn new(
        store: Arc<CredentialStore>,
        config: AuthenticatorConfig,
        nonces: &mut (impl NonceSource + ?Sized),
        now: Instant,
    ) -> Self {
        let challenge = nonce::challenge_inline(nonces.nonce(), &config.host);
        let mut outputs = Outbox::default();
        outputs.push(ServerMessage::Mechanisms(vec![MECHANISM.to_owned()]));
        Self {
            state: State::AwaitingStart(AwaitingStart { challenge }),
            store,
            peer: config.peer,
            // A timeout too large to add means "never"; fall back to a year.
            deadline: now
                .checked_add(config.timeout)
                .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)))
                .unwrap_or(now),
            outputs,
            event: None,
        }
    }

    /// Handles one message from the client.
    ///
    /// # Errors
    ///
    /// A [`SaslError`] if the client broke the protocol (an
    /// `AuthenticationErrorMessage` is queued for it), if the session timed
    /// out, or if it had already ended. Bad credentials are not an error:
    /// the session ends with [`Status::Failed`] and `Failed` is queued.
    pub fn handle_message(&mut self, now: Instant, msg: ClientMessage) -> Result<(), SaslError> {
        match &msg {
            ClientMessage::Start { mechanism, data } => self.handle(
                now,
                Input::Start {
                    mechanism,
                    data: data.as_slice(),
                },
            ),
            ClientMessage::Step(data) => self.handle(now, Input::Step(data)),
        }
    }

    fn handle(&mut self, now: Instant, msg: Input<'_>) -> Result<(), SaslError> {
        self.handle_timeout(now);
        let len = match msg {
            Input::Start { data, .. } | Input::Step(data) => data.len(),
        };
        let state = std::mem::replace(&mut self.state, State::Failed);
        let ctx = Ctx {
            store: &self.store,
            peer: self.peer.as_deref(),
        };
        let result = match state {
            State::Error(e) => {
                self.state = State::Error(e.clone());
                return Err(e);
            }
            terminal @ (State::Completed(_) | State::Failed) => {
                self.state = terminal;
                return Err(PeerMisbehaved::AfterEnd.into());
            }
            _ if len > MAX_MESSAGE_LEN => Err(PeerMisbehaved::TooLong {
                len,
                max: MAX_MESSAGE_LEN,
            }
            .into()),
            State::AwaitingStart(s) => s.handle(msg).map(Step::Next),
            State::AwaitingResponse(s) => s.handle(msg, &ctx),
        };
        match result {
            Ok(Step::Next(next)) => {
                if let State::AwaitingResponse(s) = &next {
                    self.outputs
                        .push(ServerMessage::Step(s.challenge.as_slice().to_vec()));
                }
                self.state = next;
                Ok(())
            }
            Ok(Step::Done(next, reply, event)) => {
                self.state = next;
                self.outputs.push(reply);
                self.event = Some(event);
                Ok(())
            }
            Err(e) => {
                self.outputs.push(ServerMessage::Error(e.to_string()));
                self.fail(e.clone());
                Err(e)
            }
        }
    }

    /// As [`handle_message`](Self::handle_message) with a start message, read
    /// in place (nothing is copied).
    ///
    /// # Errors
    ///
    /// As for `handle_message`.
    pub fn handle_start(
        &mut self,
        now: Instant,
        mechanism: &str,
        data: &[u8],
    ) -> Result<(), SaslError> {
        self.handle(now, Input::Start { mechanism, data })
    }

    /// As [`handle_message`](Self::handle_message) with a step message, read
    /// in place (nothing is copied).
    ///
    /// # Errors
    ///
    /// As for `handle_message`.
    pub fn handle_step(&mut self, now: Instant, data: &[u8]) -> Result<(), SaslError> {
        self.handle(now, Input::Step(data))
    }

    /// Ends a pending session whose deadline has passed at `now`. Nothing is
    /// sent to the client (as in Mesos, where the future is discarded).
    pub fn handle_timeout(&mut self, now: Instant) {
        if now >= self.deadline && !self.status_is_terminal() {
            self.fail(SaslError::TimedOut);
        }
    }

    /// Ends a pending session at the host's request (a newer attempt from the
    /// same client, shutdown). Nothing is sent to the client.
    pub fn discard(&mut self) {
        if !self.status_is_terminal() {
            self.fail(SaslError::Discarded);
        }
    }

    /// When to call [`handle_timeout`](Self::handle_timeout); `None` once the
    /// session has ended.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.status_is_terminal()).then_some(self.deadline)
    }

    /// The next message to send to the client.
    pub fn poll_output(&mut self) -> Option<ServerMessage> {
        self.outputs.pop()
    }

    /// The audit record, once the session has ended.
    pub fn poll_event(&mut self) -> Option<AuthEvent> {
        self.event.take()
    }

    /// Where the session stands.
    pub fn status(&self) -> Status {
        match &self.state {
            State::AwaitingStart(_) | State::AwaitingResponse(_) => Status::Pending,
            State::Completed(c) => Status::Completed(c.principal.clone()),
            State::Failed => Status::Failed,
            State::Error(e) => Status::Error(e.clone()),
        }
    }

    /// The authenticated principal, once completed.
    pub fn principal(&self) -> Option<&Principal> {
        match &self.state {
            State::Completed(c) => Some(&c.principal),
            _ => None,
        }
    }

    fn status_is_terminal(&self) -> bool {
        !matches!(
            self.state,
            State::AwaitingStart(_) | State::AwaitingResponse(_)
        )
    }

    fn fail(&mut self, e: SaslError) {
        let ctx = Ctx {
            store: &self.store,
            peer: self.peer.as_deref(),
        };
        self.event = Some(ctx.event(None, AuthResult::Error, None, Some(&e)));
        self.state = State::Error(e);
    }
}
