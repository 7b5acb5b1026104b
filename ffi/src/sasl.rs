//! SASL sessions (CRAM-MD5, OAUTHBEARER): the authenticator (Mesos master
//! side) and the authenticatee (framework or agent side), as sans-I/O state
//! machines. The
//! host decodes Mesos authentication messages, feeds them in, and sends what
//! `_poll_output` gives.

use std::ffi::c_char;
use std::time::{Duration, Instant, SystemTime};

use mesos_auth::sasl::{
    Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage, SaslError, ServerMessage,
    Status, TokenSource, default_nonce_source,
};
use mesos_auth::{Principal, Secret};

use crate::audit::{self, SharedSink, mesos_auth_audit};
use crate::bearer::mesos_auth_bearer;
use crate::credentials::mesos_auth_credentials;
use crate::handle::{self, Castable, Kind, Ownership};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};
use crate::throttle::{self, SharedThrottle, mesos_auth_throttle};
use crate::{mesos_auth_bytes, mesos_auth_str};

#[cfg(feature = "gssapi")]
mod gssapi;
#[cfg(feature = "gssapi")]
pub use gssapi::mesos_auth_gssapi_acceptor;

/// The kind of a Mesos authentication message (`authentication.proto`),
/// passed as `uint32_t` in `mesos_auth_message.kind`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_message_kind {
    /// No message (`_poll_output` had nothing to send).
    None = 0,
    /// `AuthenticationMechanismsMessage`: `mechanism` holds the names,
    /// separated by `,` (the authenticator sends the ones it enables,
    /// strongest first: `GSSAPI,OAUTHBEARER,CRAM-MD5`, or `CRAM-MD5` alone).
    Mechanisms = 1,
    /// `AuthenticationStartMessage`: `mechanism` and `data` (empty for
    /// CRAM-MD5, the GS2 initial response for OAUTHBEARER, the initial
    /// context token for GSSAPI).
    Start = 2,
    /// `AuthenticationStepMessage`: `data`.
    Step = 3,
    /// `AuthenticationCompletedMessage`.
    Completed = 4,
    /// `AuthenticationFailedMessage`.
    Failed = 5,
    /// `AuthenticationErrorMessage`: `data` holds the error text.
    Error = 6,
}

/// Where a session stands (`uint32_t` from the `_status` functions).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_status {
    /// Still exchanging messages.
    Pending = 0,
    /// Authenticated.
    Completed = 1,
    /// The credentials were refused (final; Mesos clients do not retry).
    Failed = 2,
    /// The exchange broke off (protocol violation, timeout, discard, server
    /// error); Mesos clients retry with backoff.
    Error = 3,
}

/// A decoded Mesos authentication message. Fields a kind does not use are
/// ignored on input and empty on output. On input, a NULL pointer is allowed
/// with a zero length.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_message {
    /// A `mesos_auth_message_kind`.
    pub kind: u32,
    /// The mechanism (`START`) or mechanism list (`MECHANISMS`), UTF-8.
    pub mechanism: mesos_auth_str,
    /// The payload (`START`, `STEP`, `ERROR`).
    pub data: mesos_auth_bytes,
}

/// An authenticator session (one client's attempt; CRAM-MD5 and, if
/// enabled, OAUTHBEARER).
///
/// Thread safety: single owner. Calls on one session must not overlap (use
/// it from one thread at a time); different sessions are independent.
/// Views it returns live until the next call on the session or its `_free`
/// (the principal: until `_free`).
pub struct mesos_auth_authenticator {
    _private: [u8; 0],
}

/// An authenticatee session (our side as a client), for one mechanism.
///
/// Thread safety: as `mesos_auth_authenticator`.
pub struct mesos_auth_authenticatee {
    _private: [u8; 0],
}

/// The last output handed out, kept so the views stay valid.
#[derive(Default)]
struct Outbox {
    mechanism: String,
    data: Vec<u8>,
}

impl Outbox {
    fn view(&self, kind: mesos_auth_message_kind) -> mesos_auth_message {
        mesos_auth_message {
            kind: kind as u32,
            mechanism: mesos_auth_str::view(&self.mechanism),
            data: mesos_auth_bytes::view(&self.data),
        }
    }
}

pub(crate) struct ServerSession {
    inner: Authenticator,
    sink: SharedSink,
    throttle: Option<SharedThrottle>,
    out: Outbox,
    principal: Option<String>,
}

pub(crate) struct ClientSession {
    inner: Authenticatee,
    sink: SharedSink,
    out: Outbox,
}

impl ClientSession {
    /// The handle of a new client session (nothing sent yet).
    pub(crate) fn handle(inner: Authenticatee, sink: SharedSink) -> *mut mesos_auth_authenticatee {
        handle::to_box::<mesos_auth_authenticatee>(Self {
            inner,
            sink,
            out: Outbox::default(),
        })
    }
}

/// A token source from the C arguments: exactly one of a file and a
/// command (run by `sh -c`).
fn token_source(file: &str, command: &str) -> Result<TokenSource, mesos_auth_result> {
    match (file.is_empty(), command.is_empty()) {
        (false, true) => Ok(TokenSource::file(file)),
        (true, false) => Ok(TokenSource::command("sh", ["-c", command])),
        _ => Err(fail(
            mesos_auth_result::InvalidParameter,
            "give exactly one of token_file and token_command",
        )),
    }
}

/// A bearer token's source (a file or a command) that keeps the token it
/// read until shortly before the token's `exp` (60 s; a token without a
/// readable `exp` is read again every time), so a client does not run the
/// command or read the file on every attempt.
///
/// Thread safety: one call at a time (the cache is refreshed in place).
pub struct mesos_auth_token_source {
    _private: [u8; 0],
}

impl Castable for mesos_auth_token_source {
    type RustType = TokenSource;
    const KIND: Kind = Kind::TokenSource;
    const OWNERSHIP: Ownership = Ownership::Box;
}

impl mesos_auth_token_source {
    /// Makes a token source: the file `token_file` (one line) or the
    /// standard output of `token_command` (run by `sh -c`, 30 s at most,
    /// its standard error discarded); exactly one of the two is given (the
    /// other NULL with length 0). Nothing is read yet.
    ///
    /// # Safety
    ///
    /// `token_file` and `token_command` valid for their lengths; `out`
    /// valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_token_source_new(
        token_file: *const c_char,
        token_file_len: usize,
        token_command: *const c_char,
        token_command_len: usize,
        out: *mut *mut mesos_auth_token_source,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let file = unsafe { handle::string(token_file, token_file_len, "token_file")? };
                // SAFETY: forwarded caller contract.
                let command = unsafe { handle::string(token_command, token_command_len, "token_command")? };
                Ok(handle::to_box::<mesos_auth_token_source>(token_source(file, command)?))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Frees a token source (its cached token is wiped). NULL is a no-op.
    ///
    /// # Safety
    ///
    /// `source` NULL or live, not in use by another call, not used again.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_token_source_free(
        source: *mut mesos_auth_token_source,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(source.cast_const()) }
        }
    }
}

/// The principal a client session authenticates as, from the C argument.
pub(crate) fn client_principal(name: &str) -> Result<Principal, mesos_auth_result> {
    Principal::new(name).map_err(|e| {
        fail(
            mesos_auth_result::InvalidParameter,
            format_args!("principal: {e}"),
        )
    })
}

impl Castable for mesos_auth_authenticator {
    type RustType = ServerSession;
    const KIND: Kind = Kind::Authenticator;
    const OWNERSHIP: Ownership = Ownership::Box;
}

impl Castable for mesos_auth_authenticatee {
    type RustType = ClientSession;
    const KIND: Kind = Kind::Authenticatee;
    const OWNERSHIP: Ownership = Ownership::Box;
}

impl ServerSession {
    fn after_call(&mut self) {
        while let Some(e) = self.inner.poll_event() {
            if let Some(t) = &self.throttle {
                throttle::observe(t, &e);
            }
            audit::record(&self.sink, e);
        }
        if self.principal.is_none() {
            self.principal = self.inner.principal().map(|p| p.as_str().to_owned());
        }
    }
}

fn status_code(s: &Status) -> mesos_auth_status {
    match s {
        Status::Pending => mesos_auth_status::Pending,
        Status::Completed(_) => mesos_auth_status::Completed,
        Status::Failed => mesos_auth_status::Failed,
        Status::Error(_) => mesos_auth_status::Error,
    }
}

fn sasl_error(e: &SaslError) -> mesos_auth_result {
    fail(mesos_auth_result::ProtocolError, e)
}

fn kind_of(n: u32) -> Result<mesos_auth_message_kind, mesos_auth_result> {
    use mesos_auth_message_kind as K;
    Ok(match n {
        0 => K::None,
        1 => K::Mechanisms,
        2 => K::Start,
        3 => K::Step,
        4 => K::Completed,
        5 => K::Failed,
        6 => K::Error,
        n => {
            return Err(fail(
                mesos_auth_result::InvalidParameter,
                format_args!("unknown message kind {n}"),
            ));
        }
    })
}

/// Reads a message from C.
///
/// # Safety
///
/// `msg` must be NULL or valid for one read, its views valid as documented.
unsafe fn read_message<'a>(
    msg: *const mesos_auth_message,
) -> Result<(mesos_auth_message_kind, &'a str, &'a [u8]), mesos_auth_result> {
    if msg.is_null() {
        return Err(fail(mesos_auth_result::NullParameter, "msg is NULL"));
    }
    // SAFETY: non-null; caller promised it is readable.
    let m = unsafe { msg.read() };
    let kind = kind_of(m.kind)?;
    // SAFETY: caller promised the views are valid.
    let mechanism = unsafe { handle::string(m.mechanism.data, m.mechanism.len, "msg.mechanism")? };
    // SAFETY: as above.
    let data = unsafe { handle::bytes(m.data.data, m.data.len, "msg.data")? };
    Ok((kind, mechanism, data))
}

/// Writes a status to `out`.
///
/// # Safety
///
/// `out` NULL or valid for one write.
unsafe fn put_status(
    r: Result<mesos_auth_status, mesos_auth_result>,
    out: *mut u32,
) -> mesos_auth_result {
    match r {
        // SAFETY: forwarded.
        Ok(s) => unsafe { handle::write_out(out, s as u32) },
        Err(e) => e,
    }
}

/// A mechanism-set authenticator session: `config` (which may already
/// enable a mechanism: `preset`), plus CRAM-MD5 over `creds` and
/// OAUTHBEARER with `bearer` when they are not NULL.
///
/// # Safety
///
/// As `mesos_auth_authenticator_new_mechanisms`.
#[expect(
    clippy::too_many_arguments,
    reason = "the C function's parameters, passed on"
)]
unsafe fn mechanisms_session(
    mut config: AuthenticatorConfig,
    preset: bool,
    creds: *const mesos_auth_credentials,
    bearer: *const mesos_auth_bearer,
    timeout_ms: u64,
    peer: *const c_char,
    peer_len: usize,
    audit: *const mesos_auth_audit,
) -> Result<*mut mesos_auth_authenticator, mesos_auth_result> {
    if !preset && creds.is_null() && bearer.is_null() {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            "no mechanism: give creds (CRAM-MD5), bearer (OAUTHBEARER) or both",
        ));
    }
    config = config.cram_md5(!creds.is_null());
    let store = if creds.is_null() {
        std::sync::Arc::new(
            mesos_auth::credentials::CredentialStore::from_credentials([])
                .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))?,
        )
    } else {
        // SAFETY: forwarded caller contract.
        unsafe { handle::with_ref(creds, |s| Ok(s.store()))? }
    };
    if !bearer.is_null() {
        // SAFETY: forwarded caller contract.
        let validator = unsafe { handle::with_ref(bearer, |b| Ok(b.current()))? };
        config = config.oauthbearer(validator);
    }
    // SAFETY: forwarded caller contract.
    let peer = unsafe { handle::string(peer, peer_len, "peer")? };
    // SAFETY: forwarded caller contract.
    let sink = unsafe { audit::optional_sink(audit)? };
    if timeout_ms != 0 {
        config = config.timeout(Duration::from_millis(timeout_ms));
    }
    if !peer.is_empty() {
        config = config.peer(peer);
    }
    let mut nonces =
        default_nonce_source().map_err(|e| fail(mesos_auth_result::RandomUnavailable, e))?;
    let inner = Authenticator::with_wall_clock(
        store,
        config,
        &mut nonces,
        Instant::now(),
        SystemTime::now(),
    );
    Ok(handle::to_box::<mesos_auth_authenticator>(ServerSession {
        inner,
        sink,
        throttle: None,
        out: Outbox::default(),
        principal: None,
    }))
}

impl mesos_auth_authenticator {
    /// Starts an authenticator session over the store `creds` is serving
    /// now (a later reload does not affect this session). `timeout_ms` is
    /// how long the exchange may take (0: the Mesos default, 15 s). `peer`
    /// (may be NULL with `peer_len` 0) names the client in audit events.
    /// `audit` may be NULL. The mechanism list is queued at once: call
    /// `_poll_output` and send it.
    ///
    /// # Safety
    ///
    /// `creds` NULL or live; `peer` valid for `peer_len` bytes; `audit` NULL
    /// or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_new(
        creds: *const mesos_auth_credentials,
        timeout_ms: u64,
        peer: *const c_char,
        peer_len: usize,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let store = unsafe { handle::with_ref(creds, |s| Ok(s.store()))? };
                // SAFETY: forwarded caller contract.
                let peer = unsafe { handle::string(peer, peer_len, "peer")? };
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let mut config = AuthenticatorConfig::new();
                if timeout_ms != 0 {
                    config = config.timeout(Duration::from_millis(timeout_ms));
                }
                if !peer.is_empty() {
                    config = config.peer(peer);
                }
                let mut nonces = default_nonce_source().map_err(|e| {
                    fail(mesos_auth_result::RandomUnavailable, e)
                })?;
                let inner = Authenticator::new(store, config, &mut nonces, Instant::now());
                Ok(handle::to_box::<mesos_auth_authenticator>(ServerSession {
                    inner,
                    sink,
                    throttle: None,
                    out: Outbox::default(),
                    principal: None,
                }))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Starts an authenticator session offering the mechanisms given:
    /// CRAM-MD5 over the store `creds` is serving now (NULL: CRAM-MD5 off),
    /// OAUTHBEARER with the validator `bearer` holds now (NULL: off). At
    /// least one must be given (`MESOS_AUTH_RESULT_INVALID_PARAMETER`). The
    /// mechanism list, strongest first, is queued at once. Tokens are
    /// checked against the system clock. Otherwise as
    /// `mesos_auth_authenticator_new`.
    ///
    /// # Safety
    ///
    /// `creds` and `bearer` NULL or live; `peer` valid for `peer_len`
    /// bytes; `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_new_mechanisms(
        creds: *const mesos_auth_credentials,
        bearer: *const mesos_auth_bearer,
        timeout_ms: u64,
        peer: *const c_char,
        peer_len: usize,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                mechanisms_session(
                    AuthenticatorConfig::new(),
                    false,
                    creds,
                    bearer,
                    timeout_ms,
                    peer,
                    peer_len,
                    audit,
                )
            };
            match r {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// The mechanism the client chose (`CRAM-MD5` until it has chosen), as
    /// a static view.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_mechanism(
        session: *const mesos_auth_authenticator,
        out: *mut mesos_auth_str,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_ref(session, |s| Ok(mesos_auth_str::from_static(s.inner.mechanism())))
            };
            match r {
                // SAFETY: checked non-null; writable by contract.
                Ok(v) => unsafe { handle::write_out(out, v) },
                Err(e) => e,
            }
        }
    }

    /// Feeds one message from the client (`START` or `STEP`). A wrong
    /// digest or unknown principal is not an error: the status becomes
    /// `FAILED` and `FAILED` is queued for the client. A protocol violation
    /// (or a message after the end, or after the timeout) returns
    /// `MESOS_AUTH_RESULT_PROTOCOL_ERROR`, and an `ERROR` message is queued when the client
    /// should be told.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `msg` NULL or
    /// valid, with valid views.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_feed(
        session: *mut mesos_auth_authenticator,
        msg: *const mesos_auth_message,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_mut(session, |s| {
                    let (kind, mechanism, data) = read_message(msg)?;
                    let m = match kind {
                        mesos_auth_message_kind::Start => ClientMessage::Start {
                            mechanism: mechanism.to_owned(),
                            data: data.to_vec(),
                        },
                        mesos_auth_message_kind::Step => ClientMessage::Step(data.to_vec()),
                        other => {
                            return Err(fail(
                                mesos_auth_result::InvalidParameter,
                                format_args!("an authenticator accepts START or STEP, not {other:?}"),
                            ));
                        }
                    };
                    let r = s.inner.handle_message(Instant::now(), m);
                    s.after_call();
                    r.map_err(|e| sasl_error(&e))
                })
            };
            handle::code(r)
        }
    }

    /// Takes the next message to send to the client into `*out`; its views
    /// stay valid until the next call on this session. `out->kind` is
    /// `MESOS_AUTH_MESSAGE_KIND_NONE` when nothing is queued.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_poll_output(
        session: *mut mesos_auth_authenticator,
        out: *mut mesos_auth_message,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_mut(session, |s| {
                    let (kind, mechanism, data) = match s.inner.poll_output() {
                        None => (mesos_auth_message_kind::None, String::new(), Vec::new()),
                        Some(ServerMessage::Mechanisms(list)) => {
                            (mesos_auth_message_kind::Mechanisms, list.join(","), Vec::new())
                        }
                        Some(ServerMessage::Step(d)) => (mesos_auth_message_kind::Step, String::new(), d.into_vec()),
                        Some(ServerMessage::Completed) => {
                            (mesos_auth_message_kind::Completed, String::new(), Vec::new())
                        }
                        Some(ServerMessage::Failed) => (mesos_auth_message_kind::Failed, String::new(), Vec::new()),
                        Some(ServerMessage::Error(t)) => {
                            (mesos_auth_message_kind::Error, String::new(), t.into_bytes())
                        }
                    };
                    s.out = Outbox { mechanism, data };
                    Ok(s.out.view(kind))
                })
            };
            match r {
                // SAFETY: checked non-null; writable by contract.
                Ok(m) => unsafe { handle::write_out(out, m) },
                Err(e) => e,
            }
        }
    }

    /// Ends the session if its timeout has passed (nothing is sent to the
    /// client; the status becomes `ERROR`). Call it when the timer the host
    /// set for the session fires.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_check_timeout(
        session: *mut mesos_auth_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            handle::code(unsafe {
                handle::with_mut(session, |s| {
                    s.inner.handle_timeout(Instant::now());
                    s.after_call();
                    Ok(())
                })
            })
        }
    }

    /// Ends a pending session at the host's request (a newer attempt from
    /// the same client, shutdown). Nothing is sent; the status becomes `ERROR`.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_discard(
        session: *mut mesos_auth_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            handle::code(unsafe {
                handle::with_mut(session, |s| {
                    s.inner.discard();
                    s.after_call();
                    Ok(())
                })
            })
        }
    }

    /// Attaches `throttle` (or detaches, with NULL): the session's outcome
    /// is recorded in it when the session ends (a failure counts against the
    /// principal and the peer, an error against the peer, a success clears
    /// both). Give the session a `peer` name at creation for per-peer counts.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `throttle`
    /// NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_set_throttle(
        session: *mut mesos_auth_authenticator,
        throttle: *const mesos_auth_throttle,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            let t = if throttle.is_null() {
                None
            } else {
                // SAFETY: forwarded caller contract.
                match unsafe { handle::clone_arc(throttle) } {
                    Ok(t) => Some(t),
                    Err(e) => return e,
                }
            };
            // SAFETY: forwarded caller contract.
            handle::code(unsafe {
                handle::with_mut(session, |s| {
                    s.throttle = t;
                    Ok(())
                })
            })
        }
    }

    /// Where the session stands: a `mesos_auth_status` in `*out_status`.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `out_status`
    /// valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_status(
        session: *const mesos_auth_authenticator,
        out_status: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let r = unsafe { handle::with_ref(session, |s| Ok(status_code(&s.inner.status()))) };
            // SAFETY: forwarded caller contract.
            unsafe { put_status(r, out_status) }
        }
    }

    /// The authenticated principal, once the status is `COMPLETED`
    /// (`MESOS_AUTH_RESULT_INVALID_STATE` before). The view lives until the session is freed.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_principal(
        session: *const mesos_auth_authenticator,
        out: *mut mesos_auth_str,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_ref(session, |s| match &s.principal {
                    Some(p) => Ok(mesos_auth_str::view(p)),
                    None => Err(fail(
                        mesos_auth_result::InvalidState,
                        "the session has not completed",
                    )),
                })
            };
            match r {
                // SAFETY: checked non-null; writable by contract.
                Ok(v) => unsafe { handle::write_out(out, v) },
                Err(e) => e,
            }
        }
    }

    /// Frees the session. NULL is a no-op. A pending session is discarded.
    ///
    /// # Safety
    ///
    /// `session` NULL or live, not in use by another call, not used again.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_free(
        session: *mut mesos_auth_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(session.cast_const()) }
        }
    }
}

impl mesos_auth_authenticatee {
    /// Starts an authenticatee session for `principal` (UTF-8, 1..=256
    /// bytes) with `secret` (`secret_len` > 0 bytes; copied, and wiped from
    /// our memory when no longer needed). `audit` may be NULL.
    ///
    /// # Safety
    ///
    /// `principal` valid for `principal_len` bytes, `secret` for
    /// `secret_len`; `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_new(
        principal: *const c_char,
        principal_len: usize,
        secret: *const u8,
        secret_len: usize,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticatee,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let principal = unsafe { handle::string(principal, principal_len, "principal")? };
                let principal = client_principal(principal)?;
                // SAFETY: forwarded caller contract.
                let secret = Secret::new(unsafe { handle::bytes(secret, secret_len, "secret")? });
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let inner = Authenticatee::new(principal, &secret)
                    .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))?;
                Ok(ClientSession::handle(inner, sink))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Starts an OAUTHBEARER authenticatee session (RFC 7628) for
    /// `principal` (UTF-8, 1..=256 bytes; sent as the authzid, so the
    /// server refuses it unless the token maps to it) with the bearer
    /// `token` (`token_len` bytes of RFC 6750 `b64token`, copied and wiped
    /// when sent). Only OAUTHBEARER is used: if the server does not offer
    /// it, feeding its `MECHANISMS` returns
    /// `MESOS_AUTH_RESULT_PROTOCOL_ERROR` with the status `FAILED` (no
    /// fallback to CRAM-MD5, no retry). `audit` may be NULL.
    ///
    /// # Safety
    ///
    /// `principal` valid for `principal_len` bytes, `token` for
    /// `token_len`; `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_new_oauthbearer(
        principal: *const c_char,
        principal_len: usize,
        token: *const u8,
        token_len: usize,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticatee,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let principal = unsafe { handle::string(principal, principal_len, "principal")? };
                let principal = client_principal(principal)?;
                // SAFETY: forwarded caller contract.
                let token = Secret::new(unsafe { handle::bytes(token, token_len, "token")? });
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let inner = Authenticatee::oauthbearer(principal, &token)
                    .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))?;
                Ok(ClientSession::handle(inner, sink))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Starts an OAUTHBEARER authenticatee session as
    /// `mesos_auth_authenticatee_new_oauthbearer`, with the token read now
    /// from its source: the file `token_file` (one line) or the standard
    /// output of `token_command` (run by `sh -c`, 30 s at most, its
    /// standard error discarded). Exactly one of the two is given (the
    /// other NULL with length 0). Call it for each attempt, so a token the
    /// issuer rotated is picked up. A source that cannot be read or gives
    /// no usable token is `MESOS_AUTH_RESULT_FILE_ERROR`;
    /// `mesos_auth_last_error` says why (never the token).
    ///
    /// # Safety
    ///
    /// `principal`, `token_file` and `token_command` valid for their
    /// lengths; `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    #[allow(
        clippy::too_many_arguments,
        reason = "a C signature: each view is a pointer and a length"
    )]
    pub unsafe extern "C" fn mesos_auth_authenticatee_new_oauthbearer_source(
        principal: *const c_char,
        principal_len: usize,
        token_file: *const c_char,
        token_file_len: usize,
        token_command: *const c_char,
        token_command_len: usize,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticatee,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let principal = unsafe { handle::string(principal, principal_len, "principal")? };
                let principal = client_principal(principal)?;
                // SAFETY: forwarded caller contract.
                let file = unsafe { handle::string(token_file, token_file_len, "token_file")? };
                // SAFETY: forwarded caller contract.
                let command = unsafe { handle::string(token_command, token_command_len, "token_command")? };
                let mut source = token_source(file, command)?;
                let token = source
                    .token(SystemTime::now())
                    .map_err(|e| fail(mesos_auth_result::FileError, e))?;
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let inner = Authenticatee::oauthbearer(principal, &token)
                    .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))?;
                Ok(ClientSession::handle(inner, sink))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Starts an OAUTHBEARER authenticatee session as
    /// `mesos_auth_authenticatee_new_oauthbearer`, with the token from
    /// `source`: the one it holds, or, when it has none or the token's
    /// `exp` is less than 60 s away, a fresh one read now. A source that
    /// cannot be read or gives no usable token is
    /// `MESOS_AUTH_RESULT_FILE_ERROR`; `mesos_auth_last_error` says why
    /// (never the token).
    ///
    /// # Safety
    ///
    /// `principal` valid for `principal_len` bytes; `source` live and used
    /// by no other call at the same time; `audit` NULL or live; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_new_oauthbearer_cached(
        principal: *const c_char,
        principal_len: usize,
        source: *mut mesos_auth_token_source,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticatee,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let principal = unsafe { handle::string(principal, principal_len, "principal")? };
                let principal = client_principal(principal)?;
                // SAFETY: forwarded caller contract.
                let token = unsafe {
                    handle::with_mut(source, |s| {
                        s.token(SystemTime::now())
                            .map_err(|e| fail(mesos_auth_result::FileError, e))
                    })?
                };
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let inner = Authenticatee::oauthbearer(principal, &token)
                    .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))?;
                Ok(ClientSession::handle(inner, sink))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Feeds one message from the server (`MECHANISMS`, `STEP`,
    /// `COMPLETED`, `FAILED` or `ERROR`). `FAILED` is not an error (the
    /// status becomes `FAILED`); a protocol violation or a server `ERROR`
    /// returns `MESOS_AUTH_RESULT_PROTOCOL_ERROR` and the status becomes `ERROR`.
    ///
    /// # Safety
    ///
    /// As `mesos_auth_authenticator_feed`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_feed(
        session: *mut mesos_auth_authenticatee,
        msg: *const mesos_auth_message,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_mut(session, |s| {
                    let (kind, mechanism, data) = read_message(msg)?;
                    let m = match kind {
                        mesos_auth_message_kind::Mechanisms => ServerMessage::Mechanisms(
                            mechanism.split(',').map(str::to_owned).collect(),
                        ),
                        mesos_auth_message_kind::Step => ServerMessage::Step(data.to_vec().into()),
                        mesos_auth_message_kind::Completed => ServerMessage::Completed,
                        mesos_auth_message_kind::Failed => ServerMessage::Failed,
                        mesos_auth_message_kind::Error => {
                            ServerMessage::Error(String::from_utf8_lossy(data).into_owned())
                        }
                        other => {
                            return Err(fail(
                                mesos_auth_result::InvalidParameter,
                                format_args!(
                                    "an authenticatee accepts MECHANISMS, STEP, COMPLETED, FAILED or ERROR, not {other:?}"
                                ),
                            ));
                        }
                    };
                    let r = s.inner.handle_message(m);
                    while let Some(e) = s.inner.poll_event() {
                        audit::record(&s.sink, e);
                    }
                    r.map_err(|e| sasl_error(&e))
                })
            };
            handle::code(r)
        }
    }

    /// Takes the next message to send to the server, as
    /// `mesos_auth_authenticator_poll_output`.
    ///
    /// # Safety
    ///
    /// As `mesos_auth_authenticator_poll_output`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_poll_output(
        session: *mut mesos_auth_authenticatee,
        out: *mut mesos_auth_message,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_mut(session, |s| {
                    let (kind, mechanism, data) = match s.inner.poll_output() {
                        None => (mesos_auth_message_kind::None, String::new(), Vec::new()),
                        Some(ClientMessage::Start { mechanism, data }) => {
                            (mesos_auth_message_kind::Start, mechanism, data)
                        }
                        Some(ClientMessage::Step(d)) => (mesos_auth_message_kind::Step, String::new(), d),
                    };
                    s.out = Outbox { mechanism, data };
                    Ok(s.out.view(kind))
                })
            };
            match r {
                // SAFETY: checked non-null; writable by contract.
                Ok(m) => unsafe { handle::write_out(out, m) },
                Err(e) => e,
            }
        }
    }

    /// Where the session stands: a `mesos_auth_status` in `*out_status`.
    ///
    /// # Safety
    ///
    /// As `mesos_auth_authenticator_status`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_status(
        session: *const mesos_auth_authenticatee,
        out_status: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let r = unsafe { handle::with_ref(session, |s| Ok(status_code(&s.inner.status()))) };
            // SAFETY: forwarded caller contract.
            unsafe { put_status(r, out_status) }
        }
    }

    /// Frees the session (its key is wiped). NULL is a no-op.
    ///
    /// # Safety
    ///
    /// `session` NULL or live, not in use by another call, not used again.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_free(
        session: *mut mesos_auth_authenticatee,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(session.cast_const()) }
        }
    }
}
