//! SASL GSSAPI (Kerberos V5, RFC 4752) step machines for C: the server
//! (Mesos master) and the client (framework or agent). Each `_step` takes
//! the peer's token and gives the next token to send; a refusal returns
//! `MESOS_AUTH_RESULT_REJECTED` (send the peer a bare failure) with the
//! precise reason from `_reason`. Built with the `gssapi` feature.
//!
//! Keys and tickets come from MIT Kerberos's environment (`KRB5_KTNAME`
//! for the server's keytab, `KRB5CCNAME` or `KRB5_CLIENT_KTNAME` for the
//! client): set it before the first session.

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use mesos_auth::Principal;
use mesos_auth::sasl::gssapi::{
    AuthToLocal, GssFailure, GssStep, GssapiClient, GssapiClientConfig, GssapiError, GssapiServer,
    GssapiServerConfig,
};

use crate::handle::{self, Castable, Kind, Ownership};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};
use crate::{mesos_auth_bytes, mesos_auth_str};

/// Why a GSSAPI exchange was refused (`uint32_t` from the `_reason`
/// functions). Numbers are fixed forever.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_gssapi_reason {
    /// Not refused (yet).
    None = 0,
    /// The ticket has expired.
    ExpiredTicket = 1,
    /// The ticket is for a service principal we have no key for.
    WrongServicePrincipal = 2,
    /// A replayed authenticator.
    Replay = 3,
    /// The peer's clock is too far off.
    ClockSkew = 4,
    /// No rule maps the Kerberos name to a Mesos principal.
    UnmappedPrincipal = 5,
    /// The client asked to act as another principal.
    AuthzidMismatch = 6,
    /// No credentials (ticket cache, keytab entry).
    NoCredentials = 7,
    /// A token failed its checks.
    BadToken = 8,
    /// Another GSSAPI failure (`mesos_auth_last_error` says which).
    Other = 9,
}

/// One step's result, written by the `_step` functions. `output` is the
/// token to send to the peer (it may be empty); it lives until the next
/// call on the session or its `_free`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_gssapi_step {
    /// Whether the exchange is complete (server: authenticated; client: send
    /// `output`, then wait for the server's verdict).
    pub done: bool,
    /// The token to send (with `done`, a last token when not empty).
    pub output: mesos_auth_bytes,
}

/// A GSSAPI server session (one client's attempt).
///
/// Thread safety: single owner; calls on one session must not overlap.
pub struct mesos_auth_gssapi_server {
    _private: [u8; 0],
}

/// A GSSAPI client session.
///
/// Thread safety: as `mesos_auth_gssapi_server`.
pub struct mesos_auth_gssapi_client {
    _private: [u8; 0],
}

/// A session's state for C: the machine, the last token handed out (kept
/// so the view stays valid), the principal and the refusal reason.
pub(crate) struct Session<T> {
    // The GSS context is Send but not Sync; the handle wants both.
    inner: Mutex<T>,
    out: Mutex<(Vec<u8>, Option<String>, Option<GssFailure>)>,
}

impl Castable for mesos_auth_gssapi_server {
    type RustType = Session<GssapiServer>;
    const KIND: Kind = Kind::GssapiServer;
    const OWNERSHIP: Ownership = Ownership::Box;
}

impl Castable for mesos_auth_gssapi_client {
    type RustType = Session<GssapiClient>;
    const KIND: Kind = Kind::GssapiClient;
    const OWNERSHIP: Ownership = Ownership::Box;
}

/// A server configuration from the C arguments' text: the mapping rules
/// (with the default realm, if not empty) and the service name (the
/// library's default if empty).
pub(crate) fn server_config(
    rules: &str,
    default_realm: &str,
    service: &str,
) -> Result<GssapiServerConfig, mesos_auth_result> {
    let realm = (!default_realm.is_empty()).then_some(default_realm);
    let rules =
        AuthToLocal::parse(rules, realm).map_err(|e| fail(mesos_auth_result::ParseError, e))?;
    let config = GssapiServerConfig::new(Arc::new(rules));
    Ok(if service.is_empty() {
        config
    } else {
        config.service(service)
    })
}

fn reason_code(r: Option<GssFailure>) -> mesos_auth_gssapi_reason {
    use mesos_auth_gssapi_reason as R;
    match r {
        None => R::None,
        Some(GssFailure::ExpiredTicket) => R::ExpiredTicket,
        Some(GssFailure::WrongServicePrincipal) => R::WrongServicePrincipal,
        Some(GssFailure::Replay) => R::Replay,
        Some(GssFailure::ClockSkew) => R::ClockSkew,
        Some(GssFailure::UnmappedPrincipal) => R::UnmappedPrincipal,
        Some(GssFailure::AuthzidMismatch) => R::AuthzidMismatch,
        Some(GssFailure::NoCredentials) => R::NoCredentials,
        Some(GssFailure::BadToken) => R::BadToken,
        Some(_) => R::Other,
    }
}

fn gss_error(e: &GssapiError) -> mesos_auth_result {
    let code = match e {
        GssapiError::Refused { .. } => mesos_auth_result::Rejected,
        GssapiError::Protocol(_) => mesos_auth_result::ProtocolError,
        GssapiError::Misuse(_) => mesos_auth_result::InvalidState,
        // Keytab or ticket cache unusable.
        _ => mesos_auth_result::FileError,
    };
    fail(code, e)
}

/// A lock that a panic in an earlier call may have poisoned: the handle
/// itself is poisoned then, so the data is never used in a broken state.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one step and keeps its token for the view.
fn step<T>(
    s: &Session<T>,
    input: &[u8],
    f: impl FnOnce(&mut T, &[u8]) -> Result<GssStep, GssapiError>,
) -> Result<mesos_auth_gssapi_step, mesos_auth_result> {
    let r = f(&mut lock(&s.inner), input);
    let mut out = lock(&s.out);
    match r {
        Ok(GssStep::Continue(t)) => {
            out.0 = t;
            Ok(mesos_auth_gssapi_step {
                done: false,
                output: mesos_auth_bytes::view(&out.0),
            })
        }
        Ok(GssStep::Done { principal, output }) => {
            out.0 = output.unwrap_or_default();
            out.1 = Some(principal.as_str().to_owned());
            Ok(mesos_auth_gssapi_step {
                done: true,
                output: mesos_auth_bytes::view(&out.0),
            })
        }
        Err(e) => {
            out.0.clear();
            out.2 = e.reason();
            Err(gss_error(&e))
        }
    }
}

/// The principal once done; the view lives until `_free`.
fn principal<T>(s: &Session<T>) -> Result<mesos_auth_str, mesos_auth_result> {
    match &lock(&s.out).1 {
        // INVARIANT: set once, never changed after: the view stays valid.
        Some(p) => Ok(mesos_auth_str::view(p)),
        None => Err(fail(
            mesos_auth_result::InvalidState,
            "the exchange has not completed",
        )),
    }
}

fn new_session<T>(inner: T) -> Session<T> {
    Session {
        inner: Mutex::new(inner),
        out: Mutex::new((Vec::new(), None, None)),
    }
}

impl mesos_auth_gssapi_server {
    /// Starts a server session. `rules` (UTF-8) are the `auth_to_local`
    /// mapping rules (`RULE:[1:$1@$0](.+@EXAMPLE\.ORG)s/@.+//`, `DEFAULT`);
    /// `default_realm` (may be empty) is the realm `DEFAULT` maps;
    /// `service` (may be empty: any key in the keytab) is `mesos@host`.
    /// Bad rules return `MESOS_AUTH_RESULT_PARSE_ERROR` with each rule's
    /// number and line:column in `mesos_auth_last_error`; keys not found
    /// return `MESOS_AUTH_RESULT_FILE_ERROR`.
    ///
    /// # Safety
    ///
    /// Each string valid for its length; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_server_new(
        rules: *const c_char,
        rules_len: usize,
        default_realm: *const c_char,
        default_realm_len: usize,
        service: *const c_char,
        service_len: usize,
        out: *mut *mut mesos_auth_gssapi_server,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let rules = unsafe { handle::string(rules, rules_len, "rules")? };
                // SAFETY: forwarded caller contract.
                let realm = unsafe { handle::string(default_realm, default_realm_len, "default_realm")? };
                // SAFETY: forwarded caller contract.
                let service = unsafe { handle::string(service, service_len, "service")? };
                let config = server_config(rules, realm, service)?;
                let inner = GssapiServer::new(config).map_err(|e| gss_error(&e))?;
                Ok(handle::to_box::<mesos_auth_gssapi_server>(new_session(inner)))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Feeds the client's next token (`input`, NULL allowed with length 0)
    /// and writes what to send to `*out`. Done: the mapped principal is in
    /// `_principal`. A refusal returns `MESOS_AUTH_RESULT_REJECTED` (reason
    /// in `_reason`); a broken exchange `MESOS_AUTH_RESULT_PROTOCOL_ERROR`;
    /// a step after the end `MESOS_AUTH_RESULT_INVALID_STATE`. Errors are
    /// sticky.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `input` valid
    /// for `input_len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_server_step(
        session: *mut mesos_auth_gssapi_server,
        input: *const u8,
        input_len: usize,
        out: *mut mesos_auth_gssapi_step,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_mut(session, |s| {
                    let input = handle::bytes(input, input_len, "input")?;
                    step(s, input, GssapiServer::step)
                })
            };
            match r {
                // SAFETY: checked non-null; writable by contract.
                Ok(v) => unsafe { handle::write_out(out, v) },
                Err(e) => e,
            }
        }
    }

    /// The mapped Mesos principal once done
    /// (`MESOS_AUTH_RESULT_INVALID_STATE` before); the view lives until
    /// `_free`.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_server_principal(
        session: *const mesos_auth_gssapi_server,
        out: *mut mesos_auth_str,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(session, out, "out", principal) }
        }
    }

    /// Why the exchange was refused: a `mesos_auth_gssapi_reason` in
    /// `*out` (`NONE` if it was not).
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_server_reason(
        session: *const mesos_auth_gssapi_server,
        out: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(session, out, "out", |s| Ok(reason_code(lock(&s.out).2) as u32)) }
        }
    }

    /// Frees the session. NULL is a no-op.
    ///
    /// # Safety
    ///
    /// `session` NULL or live, not in use by another call, not used again.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_server_free(
        session: *mut mesos_auth_gssapi_server,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(session.cast_const()) }
        }
    }
}

impl mesos_auth_gssapi_client {
    /// Starts a client session authenticating to `service` (`mesos@host`)
    /// as the Mesos `principal` (sent as the authorization identity).
    /// `client_name` (may be empty: the ticket cache's default principal)
    /// picks the Kerberos credentials. Feed an empty input to the first
    /// `_step`.
    ///
    /// # Safety
    ///
    /// Each string valid for its length; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_client_new(
        principal: *const c_char,
        principal_len: usize,
        service: *const c_char,
        service_len: usize,
        client_name: *const c_char,
        client_name_len: usize,
        out: *mut *mut mesos_auth_gssapi_client,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let principal = unsafe { handle::string(principal, principal_len, "principal")? };
                // SAFETY: forwarded caller contract.
                let service = unsafe { handle::string(service, service_len, "service")? };
                // SAFETY: forwarded caller contract.
                let client_name = unsafe { handle::string(client_name, client_name_len, "client_name")? };
                let principal = Principal::new(principal)
                    .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))?;
                if service.is_empty() {
                    return Err(fail(mesos_auth_result::InvalidParameter, "service is empty"));
                }
                let mut config = GssapiClientConfig::new(principal, service);
                if !client_name.is_empty() {
                    config = config.client_name(client_name);
                }
                let inner = GssapiClient::new(config).map_err(|e| gss_error(&e))?;
                Ok(handle::to_box::<mesos_auth_gssapi_client>(new_session(inner)))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Feeds the server's next token (empty for the first step) and writes
    /// what to send to `*out`. With `done`, send `output` and wait for the
    /// server's verdict. Errors as `mesos_auth_gssapi_server_step`.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `input` valid
    /// for `input_len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_client_step(
        session: *mut mesos_auth_gssapi_client,
        input: *const u8,
        input_len: usize,
        out: *mut mesos_auth_gssapi_step,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_mut(session, |s| {
                    let input = handle::bytes(input, input_len, "input")?;
                    step(s, input, GssapiClient::step)
                })
            };
            match r {
                // SAFETY: checked non-null; writable by contract.
                Ok(v) => unsafe { handle::write_out(out, v) },
                Err(e) => e,
            }
        }
    }

    /// Why the exchange was refused: a `mesos_auth_gssapi_reason` in `*out`.
    ///
    /// # Safety
    ///
    /// `session` NULL or live and not in use by another call; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_client_reason(
        session: *const mesos_auth_gssapi_client,
        out: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(session, out, "out", |s| Ok(reason_code(lock(&s.out).2) as u32)) }
        }
    }

    /// Frees the session. NULL is a no-op.
    ///
    /// # Safety
    ///
    /// `session` NULL or live, not in use by another call, not used again.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_client_free(
        session: *mut mesos_auth_gssapi_client,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(session.cast_const()) }
        }
    }
}
