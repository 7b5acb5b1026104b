//! The server side (the Mesos master's authenticator session).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::Status;
use super::cram_md5;
use super::error::{ApiMisuse, PeerMisbehaved, SaslError};
use super::event::{AuthEvent, AuthResult, FailureReason, Side};
#[cfg(feature = "gssapi")]
use super::gssapi::{self, GssapiServerConfig};
use super::mechanism::{
    CRAM_MD5, GSSAPI, OAUTHBEARER, ServerMechanism, ServerStep, StepCtx, Verified,
};
use super::message::{ClientMessage, MAX_MESSAGE_LEN, MechanismList, ServerMessage};
use super::nonce::{self, NonceSource};
use super::oauthbearer;
use crate::bearer::Validator;
use crate::credentials::CredentialStore;
use crate::{Name, Principal};

/// Settings of an [`Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthenticatorConfig {
    timeout: Duration,
    // The host as the end of a challenge, inline: a session copies it
    // without counting a shared pointer.
    host: nonce::ChallengeTail,
    peer: Option<Arc<str>>,
    cram_md5: bool,
    oauthbearer: Option<Arc<Validator>>,
    #[cfg(feature = "gssapi")]
    gssapi: Option<GssapiServerConfig>,
}

impl Default for AuthenticatorConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            host: nonce::ChallengeTail::new("localhost"),
            peer: None,
            cram_md5: true,
            oauthbearer: None,
            #[cfg(feature = "gssapi")]
            gssapi: None,
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
        self.host = nonce::ChallengeTail::new(if fitted.is_empty() {
            "localhost"
        } else {
            fitted
        });
        self
    }

    /// The peer's name (for example the client's UPID or address), copied
    /// into audit events.
    #[must_use]
    pub fn peer(mut self, peer: impl Into<String>) -> Self {
        self.peer = Some(Arc::from(peer.into()));
        self
    }

    /// Whether CRAM-MD5 is offered (the default). Turn it off on a master
    /// that accepts tokens only, so no client can be talked down to it.
    #[must_use]
    pub fn cram_md5(mut self, enabled: bool) -> Self {
        self.cram_md5 = enabled;
        self
    }

    /// Offers OAUTHBEARER (RFC 7628), checking tokens with `validator`. For
    /// key rotation, hand each new session the current snapshot of a
    /// [`Reloadable`](crate::Reloadable) validator
    /// (`reloadable.snapshot().arc().clone()`).
    #[must_use]
    pub fn oauthbearer(mut self, validator: Arc<Validator>) -> Self {
        self.oauthbearer = Some(validator);
        self
    }

    /// Offers GSSAPI (Kerberos V5, RFC 4752), first in the mechanism list.
    /// Each session that the client starts with GSSAPI creates its GSS
    /// context then (keys from the keytab `KRB5_KTNAME` names); a keytab
    /// problem refuses that client with the uniform `Failed` and
    /// [`FailureReason::KerberosUnavailable`] in the audit event.
    #[cfg(feature = "gssapi")]
    #[must_use]
    pub fn gssapi(mut self, config: GssapiServerConfig) -> Self {
        self.gssapi = Some(config);
        self
    }

    /// The mechanism list a session sends, strongest first: GSSAPI,
    /// OAUTHBEARER, CRAM-MD5, those enabled.
    pub fn mechanisms(&self) -> Vec<&'static str> {
        self.offered().into_iter().flatten().collect()
    }

    /// The mechanism list as a session sends it: one of the fixed lists, so
    /// the message costs no allocation (issue 14, item 3).
    fn offered_list(&self) -> MechanismList {
        // Strongest first: a client that takes the first one it knows gets
        // Kerberos, then the token mechanism.
        const fn b(name: &'static str) -> Cow<'static, str> {
            Cow::Borrowed(name)
        }
        static NONE: [Cow<'static, str>; 0] = [];
        static C: [Cow<'static, str>; 1] = [b(CRAM_MD5)];
        static O: [Cow<'static, str>; 1] = [b(OAUTHBEARER)];
        static OC: [Cow<'static, str>; 2] = [b(OAUTHBEARER), b(CRAM_MD5)];
        static G: [Cow<'static, str>; 1] = [b(GSSAPI)];
        static GC: [Cow<'static, str>; 2] = [b(GSSAPI), b(CRAM_MD5)];
        static GO: [Cow<'static, str>; 2] = [b(GSSAPI), b(OAUTHBEARER)];
        static GOC: [Cow<'static, str>; 3] = [b(GSSAPI), b(OAUTHBEARER), b(CRAM_MD5)];
        let [gss, oauth, cram] = self.offered().map(|m| m.is_some());
        MechanismList::fixed(match (gss, oauth, cram) {
            (false, false, false) => &NONE,
            (false, false, true) => &C,
            (false, true, false) => &O,
            (false, true, true) => &OC,
            (true, false, false) => &G,
            (true, false, true) => &GC,
            (true, true, false) => &GO,
            (true, true, true) => &GOC,
        })
    }

    /// The mechanism list without allocating, strongest first.
    fn offered(&self) -> [Option<&'static str>; 3] {
        #[cfg(feature = "gssapi")]
        let gssapi = self.gssapi.is_some().then_some(GSSAPI);
        #[cfg(not(feature = "gssapi"))]
        let gssapi = None;
        [
            gssapi,
            self.oauthbearer.is_some().then_some(OAUTHBEARER),
            self.cram_md5.then_some(CRAM_MD5),
        ]
    }
}

/// The mechanisms a session offers, each ready (CRAM-MD5's challenge is
/// already drawn). They stay in place for the whole session: the chosen one
/// runs where it is and the others are dropped when the client chooses.
/// Moving the chosen mechanism into a new state cost a CRAM-MD5 session
/// store-forwarding stalls worth a tenth of its time besides the HMAC
/// (issue 14, item 3).
#[derive(Debug)]
struct Mechanisms {
    cram_md5: Option<cram_md5::Server>,
    oauthbearer: Option<oauthbearer::Server>,
    // Its GSS context is only made if the client starts GSSAPI.
    #[cfg(feature = "gssapi")]
    gssapi: Option<gssapi::mech::Server>,
}

/// Which mechanism the client chose.
#[derive(Debug, Clone, Copy)]
enum Chosen {
    CramMd5,
    OAuthBearer,
    #[cfg(feature = "gssapi")]
    Gssapi,
}

impl Mechanisms {
    /// The offered mechanism called `name`, as its `'static` name.
    fn offered(&self, name: &str) -> Option<&'static str> {
        let cram = self.cram_md5.as_ref().map(|m| m.name());
        let oauth = self.oauthbearer.as_ref().map(|m| m.name());
        #[cfg(feature = "gssapi")]
        let gss = self.gssapi.as_ref().map(|m| m.name());
        #[cfg(not(feature = "gssapi"))]
        let gss = None;
        [gss, cram, oauth]
            .into_iter()
            .flatten()
            .find(|n| *n == name)
    }

    /// Chooses the mechanism the client started, if it was offered, and
    /// drops the others.
    fn choose(&mut self, mechanism: &str) -> Option<Chosen> {
        let chosen = match mechanism {
            CRAM_MD5 if self.cram_md5.is_some() => Chosen::CramMd5,
            OAUTHBEARER if self.oauthbearer.is_some() => Chosen::OAuthBearer,
            #[cfg(feature = "gssapi")]
            GSSAPI if self.gssapi.is_some() => Chosen::Gssapi,
            _ => return None,
        };
        if !matches!(chosen, Chosen::CramMd5) {
            self.cram_md5 = None;
        }
        if !matches!(chosen, Chosen::OAuthBearer) {
            self.oauthbearer = None;
        }
        #[cfg(feature = "gssapi")]
        if !matches!(chosen, Chosen::Gssapi) {
            self.gssapi = None;
        }
        Some(chosen)
    }

    /// Drops every mechanism: the session has ended.
    fn clear(&mut self) {
        self.cram_md5 = None;
        self.oauthbearer = None;
        #[cfg(feature = "gssapi")]
        {
            self.gssapi = None;
        }
    }

    /// What the mechanism is told with a message at `now`, in a session
    /// that started at `started` (`wall` on the wall clock). Only token
    /// lifetimes are wall-clock: other mechanisms get `wall` as it is, which
    /// spares a CRAM-MD5 session the clock arithmetic.
    fn ctx(chosen: Chosen, wall: SystemTime, started: Instant, now: Instant) -> StepCtx {
        let wall = match chosen {
            Chosen::OAuthBearer => wall
                .checked_add(now.saturating_duration_since(started))
                .unwrap_or(wall),
            _ => wall,
        };
        StepCtx { wall }
    }

    /// Hands `data` to the chosen mechanism, as its start (`start`) or as a
    /// step. Matched here rather than through `&mut dyn ServerMechanism`,
    /// so each mechanism's call is direct and can be inlined.
    fn run(
        &mut self,
        chosen: Chosen,
        start: bool,
        data: &[u8],
        ctx: StepCtx,
    ) -> Result<ServerStep, SaslError> {
        fn go(
            m: Option<&mut impl ServerMechanism>,
            start: bool,
            data: &[u8],
            ctx: StepCtx,
        ) -> Result<ServerStep, SaslError> {
            match (m, start) {
                (Some(m), true) => m.start(data, ctx),
                (Some(m), false) => m.step(data, ctx),
                // Chosen means present until the session ends, and an ended
                // session is answered before this; fail closed regardless.
                (None, _) => Err(PeerMisbehaved::AfterEnd.into()),
            }
        }
        match chosen {
            Chosen::CramMd5 => go(self.cram_md5.as_mut(), start, data, ctx),
            Chosen::OAuthBearer => go(self.oauthbearer.as_mut(), start, data, ctx),
            #[cfg(feature = "gssapi")]
            Chosen::Gssapi => go(self.gssapi.as_mut(), start, data, ctx),
        }
    }
}

/// Authenticated. Only reachable with a [`Verified`] proof.
#[derive(Debug)]
struct Completed {
    principal: Principal,
}

impl Completed {
    fn new(principal: Principal, _proof: Verified) -> Self {
        Self { principal }
    }
}

#[derive(Debug)]
enum State {
    AwaitingStart,
    Stepping(Chosen),
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

/// Largest message data for `mechanism`: Kerberos AP-REQs (a ticket, maybe
/// with a PAC) and identity providers' access tokens outgrow the 1 KiB that
/// suits CRAM-MD5.
fn max_len(mechanism: &str) -> usize {
    #[cfg(feature = "gssapi")]
    if mechanism == GSSAPI {
        return gssapi::MAX_TOKEN_LEN;
    }
    if mechanism == OAUTHBEARER {
        return oauthbearer::MAX_MESSAGE_LEN;
    }
    MAX_MESSAGE_LEN
}

struct Ctx<'a> {
    peer: Option<&'a str>,
    mechanism: &'static str,
}

impl Ctx<'_> {
    // Inlined so the event is built where it is stored: out of line, its
    // 144 bytes were copied twice on the way.
    #[inline(always)]
    fn event(
        &self,
        principal: Option<Name>,
        result: AuthResult,
        reason: Option<FailureReason>,
        error: Option<&SaslError>,
        detail: Option<String>,
    ) -> AuthEvent {
        AuthEvent {
            side: Side::Authenticator,
            principal,
            peer: self.peer.map(str::to_owned),
            mechanism: self.mechanism,
            result,
            reason,
            error: error.map(ToString::to_string),
            detail,
            audit_id: None,
        }
    }
}

/// One server-side session (Mesos `CRAMMD5AuthenticatorSession`, grown to
/// several mechanisms: CRAM-MD5, OAUTHBEARER and, with feature `gssapi`,
/// GSSAPI).
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
    mechanisms: Mechanisms,
    peer: Option<Arc<str>>,
    // The mechanism chosen (CRAM-MD5 until then), for the audit event.
    mechanism: &'static str,
    started: Instant,
    // Wall-clock time at `started`; later messages add the monotonic
    // elapsed time, so no clock is read here.
    wall: SystemTime,
    deadline: Instant,
    outputs: Outbox,
    // At most one: only the step that ends the session records one.
    event: Option<AuthEvent>,
}

/// The messages waiting to be sent. A session sends at most four over its
/// life (mechanisms, a challenge, OAUTHBEARER's error document after an
/// empty challenge, then the outcome or an error; nothing after it ends),
/// so they fit inline and need no allocation.
#[derive(Debug, Default)]
struct Outbox {
    slots: [Option<ServerMessage>; 4],
    read: usize,
    written: usize,
}

impl Outbox {
    /// An outbox holding `msg`, the session's first message.
    fn holding(msg: ServerMessage) -> Self {
        Self {
            slots: [Some(msg), None, None, None],
            read: 0,
            written: 1,
        }
    }

    fn push(&mut self, msg: ServerMessage) {
        // Cannot be full (see above); if a bug ever made it so, the extra
        // message is dropped, which a peer sees as no answer: fail closed.
        if let Some(slot) = self.slots.get_mut(self.written) {
            *slot = Some(msg);
            self.written += 1;
        }
    }

    /// Queues `Completed` (`true`) or `Failed`. Its own method so the
    /// outcome is written as a bare tag: queued through [`push`](Self::push)
    /// from two places, it was built on the stack and copied over whole,
    /// and the caller's read of the slot stalled on that copy.
    fn push_outcome(&mut self, completed: bool) {
        if let Some(slot) = self.slots.get_mut(self.written) {
            *slot = Some(if completed {
                ServerMessage::Completed
            } else {
                ServerMessage::Failed
            });
            self.written += 1;
        }
    }

    fn pop(&mut self) -> Option<ServerMessage> {
        // The slot is returned whole, not taken apart with `?` and put back
        // together: that copied the message from its second byte on, in
        // loads that straddled the 16-byte stores which queued it, and each
        // stalled until those stores had reached the cache.
        let msg = self.slots.get_mut(self.read).and_then(Option::take);
        self.read += usize::from(msg.is_some());
        msg
    }
}

impl Authenticator {
    /// Starts a session at `now`, drawing its challenge from `nonces`, and
    /// queues the mechanism list (`["CRAM-MD5"]` by default; see
    /// [`AuthenticatorConfig::oauthbearer`] and, with feature `gssapi`,
    /// `AuthenticatorConfig::gssapi`).
    ///
    /// With OAUTHBEARER enabled, use [`with_wall_clock`](Self::with_wall_clock):
    /// tokens are checked against wall-clock time, which this constructor
    /// takes as the Unix epoch, so every token is refused as not yet valid
    /// (fail closed).
    pub fn new(
        store: Arc<CredentialStore>,
        config: AuthenticatorConfig,
        nonces: &mut (impl NonceSource + ?Sized),
        now: Instant,
    ) -> Self {
        Self::with_wall_clock(store, config, nonces, now, SystemTime::UNIX_EPOCH)
    }

    /// As [`new`](Self::new), with the wall-clock time `wall` at `now` (for
    /// token lifetimes). Later messages are timed as `wall` plus the
    /// monotonic time since `now`.
    ///
    /// `store` serves CRAM-MD5 and is unused when the configuration turns
    /// CRAM-MD5 off. A configuration with no mechanism at all gives a
    /// session that has already ended in [`ApiMisuse::NoMechanism`]
    /// (the client is sent that error).
    pub fn with_wall_clock(
        store: Arc<CredentialStore>,
        config: AuthenticatorConfig,
        nonces: &mut (impl NonceSource + ?Sized),
        now: Instant,
        wall: SystemTime,
    ) -> Self {
        let cram = config.cram_md5.then(|| {
            let challenge = nonce::challenge_with(nonces.nonce(), &config.host);
            cram_md5::Server::new(challenge, store)
        });
        let names = config.offered_list();
        let oauth = config.oauthbearer.map(oauthbearer::Server::new);
        #[cfg(feature = "gssapi")]
        let gss = config.gssapi.map(gssapi::mech::Server::new);
        // One struct expression, built where the caller keeps it: a local
        // session changed after it was made was copied whole (624 bytes) on
        // return (issue 14, item 3).
        let mechanisms = Mechanisms {
            cram_md5: cram,
            oauthbearer: oauth,
            #[cfg(feature = "gssapi")]
            gssapi: gss,
        };
        let (state, first) = if names.is_empty() {
            let e = SaslError::from(ApiMisuse::NoMechanism);
            let msg = ServerMessage::Error(e.to_string());
            (State::Error(e), msg)
        } else {
            (State::AwaitingStart, ServerMessage::Mechanisms(names))
        };
        Self {
            state,
            mechanisms,
            peer: config.peer,
            mechanism: CRAM_MD5,
            started: now,
            wall,
            // A timeout too large to add means "never"; fall back to a year.
            deadline: now
                .checked_add(config.timeout)
                .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)))
                .unwrap_or(now),
            outputs: Outbox::holding(first),
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
        match &self.state {
            State::Error(e) => return Err(e.clone()),
            State::Completed(_) | State::Failed => return Err(PeerMisbehaved::AfterEnd.into()),
            State::AwaitingStart | State::Stepping(_) => {}
        }
        // Name the chosen mechanism in the audit event from here on.
        if let (State::AwaitingStart, Input::Start { mechanism, .. }) = (&self.state, msg)
            && let Some(name) = self.mechanisms.offered(mechanism)
        {
            self.mechanism = name;
        }
        let result = if len > max_len(self.mechanism) {
            Err(PeerMisbehaved::TooLong {
                len,
                max: max_len(self.mechanism),
            }
            .into())
        } else {
            self.transition(now, msg)
        };
        match result {
            Ok(step) => {
                self.advance(step);
                Ok(())
            }
            Err(e) => {
                self.outputs.push(ServerMessage::Error(e.to_string()));
                self.fail(e.clone());
                Err(e)
            }
        }
    }

    /// Hands the message to the mechanism. Only the state's tag changes
    /// here; the mechanisms stay where they are (see [`Mechanisms`]).
    fn transition(&mut self, now: Instant, msg: Input<'_>) -> Result<ServerStep, SaslError> {
        let (chosen, start, data) = match (&self.state, msg) {
            (State::AwaitingStart, Input::Start { mechanism, data }) => {
                let Some(chosen) = self.mechanisms.choose(mechanism) else {
                    return Err(PeerMisbehaved::UnsupportedMechanism.into());
                };
                self.state = State::Stepping(chosen);
                (chosen, true, data)
            }
            (State::AwaitingStart, Input::Step(_)) => {
                return Err(PeerMisbehaved::UnexpectedStep.into());
            }
            (State::Stepping(chosen), Input::Step(data)) => (*chosen, false, data),
            (State::Stepping(_), Input::Start { .. }) => {
                return Err(PeerMisbehaved::UnexpectedStart.into());
            }
            // Ended sessions were answered by `handle`.
            (State::Completed(_) | State::Failed | State::Error(_), _) => {
                return Err(PeerMisbehaved::AfterEnd.into());
            }
        };
        let ctx = Mechanisms::ctx(chosen, self.wall, self.started, now);
        self.mechanisms.run(chosen, start, data, ctx)
    }

    /// Applies a mechanism's answer: the reply, and the next state and audit
    /// event if the exchange ended.
    fn advance(&mut self, step: ServerStep) {
        let ctx = Ctx {
            peer: self.peer.as_deref(),
            mechanism: self.mechanism,
        };
        match step {
            ServerStep::Challenge(c) => self.outputs.push(ServerMessage::Step(c)),
            ServerStep::Success {
                principal,
                proof,
                claimed,
            } => {
                self.event = Some(ctx.event(claimed, AuthResult::Completed, None, None, None));
                self.state = State::Completed(Completed::new(principal, proof));
                self.mechanisms.clear();
                self.outputs.push_outcome(true);
            }
            ServerStep::Failure {
                reason,
                claimed,
                detail,
            } => {
                self.event =
                    Some(ctx.event(claimed, AuthResult::Failed, Some(reason), None, detail));
                self.state = State::Failed;
                self.mechanisms.clear();
                self.outputs.push_outcome(false);
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
            State::AwaitingStart | State::Stepping(_) => Status::Pending,
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

    /// The mechanism the client chose (`CRAM-MD5` until it has chosen).
    pub fn mechanism(&self) -> &'static str {
        self.mechanism
    }

    fn status_is_terminal(&self) -> bool {
        !matches!(self.state, State::AwaitingStart | State::Stepping(_))
    }

    fn fail(&mut self, e: SaslError) {
        let ctx = Ctx {
            peer: self.peer.as_deref(),
            mechanism: self.mechanism,
        };
        self.event = Some(ctx.event(None, AuthResult::Error, None, Some(&e), None));
        self.state = State::Error(e);
        self.mechanisms.clear();
    }
}
