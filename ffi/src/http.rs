//! HTTP authentication (Basic on a credential store, the failure throttle,
//! per-principal rate limits, audit): a builder, a shared authenticator and
//! an owned outcome per request.

use std::ffi::c_char;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use mesos_auth::Reloadable;
use mesos_auth::credentials::CredentialStore;
use mesos_auth::http::{
    AuthMethod, HttpAuthenticator, HttpAuthenticatorBuilder, HttpError, Outcome, Request, Shared,
};
use mesos_auth::sasl::Throttle;

use crate::audit::mesos_auth_audit;
use crate::bearer::mesos_auth_bearer;
use crate::credentials::{Served, mesos_auth_credentials};
use crate::handle::{self, Castable, Kind, Ownership, Tagged};
use crate::mesos_auth_str;
use crate::panic::ffi_panic_boundary;
use crate::ratelimit::mesos_auth_ratelimiter;
use crate::result::{fail, mesos_auth_result};
use crate::throttle::mesos_auth_throttle;

/// `mesos_auth_http_outcome_method`: not authenticated.
pub const MESOS_AUTH_HTTP_METHOD_NONE: u32 = 0;
/// `mesos_auth_http_outcome_method`: HTTP Basic.
pub const MESOS_AUTH_HTTP_METHOD_BASIC: u32 = 1;
/// `mesos_auth_http_outcome_method`: a bearer token.
pub const MESOS_AUTH_HTTP_METHOD_BEARER: u32 = 2;

/// One HTTP request as the host saw it, borrowed for the duration of
/// `mesos_auth_http_authenticate`. Every field is a pointer + length; a
/// NULL pointer with length 0 means absent (or empty).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_http_request {
    /// The method (`GET`, ...).
    pub method: mesos_auth_str,
    /// The request target; the query string is never recorded.
    pub path: mesos_auth_str,
    /// The first `Authorization` header's value; NULL/0 if there was none.
    pub authorization: mesos_auth_str,
    /// How many `Authorization` headers the request carried: more than one
    /// is refused.
    pub authorization_count: usize,
    /// The peer's address (throttle key, audit `source`); NULL/0 if unknown.
    pub peer: mesos_auth_str,
    /// The `User-Agent` header (audit only, marked untrusted); NULL/0 if
    /// absent. Not UTF-8: left out of the record.
    pub user_agent: mesos_auth_str,
}

/// Collects the configuration of an HTTP authenticator. Consumed by
/// `mesos_auth_http_builder_build`.
///
/// Thread safety: owned by one thread at a time.
pub struct mesos_auth_http_builder {
    _private: [u8; 0],
}

/// Authenticates HTTP requests.
///
/// Thread safety: shared and reference-counted; one authenticator may be
/// used by any number of threads at once (all libprocess threads). It keeps
/// its own references to the credentials, throttle, rate limiter and audit
/// sink it was built with: those handles may be freed by the caller.
pub struct mesos_auth_http_authenticator {
    _private: [u8; 0],
}

/// The answer for one request, owned by the caller until
/// `mesos_auth_http_outcome_free`.
///
/// Thread safety: owned; one call at a time.
pub struct mesos_auth_http_outcome {
    _private: [u8; 0],
}

impl Castable for mesos_auth_http_builder {
    // `None` once built.
    type RustType = Mutex<Option<HttpAuthenticatorBuilder>>;
    const KIND: Kind = Kind::HttpBuilder;
    const OWNERSHIP: Ownership = Ownership::Box;
}

impl Castable for mesos_auth_http_authenticator {
    type RustType = HttpAuthenticator;
    const KIND: Kind = Kind::HttpAuthenticator;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

impl Castable for mesos_auth_http_outcome {
    type RustType = Outcome;
    const KIND: Kind = Kind::HttpOutcome;
    const OWNERSHIP: Ownership = Ownership::Box;
}

// The credentials handle's store: its reloads are seen by the next request.
impl Shared<Reloadable<CredentialStore>> for Tagged<Served> {
    fn shared(&self) -> &Reloadable<CredentialStore> {
        self.reloadable()
    }
}

// The throttle handle, shared with SASL sessions.
impl Shared<Mutex<Throttle>> for Tagged<Mutex<Throttle>> {
    fn shared(&self) -> &Mutex<Throttle> {
        self
    }
}

fn http_error(e: &HttpError) -> mesos_auth_result {
    let code = match e {
        HttpError::Random { .. } => mesos_auth_result::RandomUnavailable,
        _ => mesos_auth_result::InvalidParameter,
    };
    fail(code, e)
}

/// Applies `f` to the builder behind `b`, which must not be built yet.
///
/// # Safety
///
/// `b` NULL or a live builder.
unsafe fn configure(
    b: *mut mesos_auth_http_builder,
    f: impl FnOnce(HttpAuthenticatorBuilder) -> Result<HttpAuthenticatorBuilder, mesos_auth_result>,
) -> mesos_auth_result {
    // SAFETY: forwarded caller contract.
    handle::code(unsafe {
        handle::with_mut(b, |slot| {
            let slot = slot
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(builder) = slot.take() else {
                return Err(fail(
                    mesos_auth_result::InvalidState,
                    "the builder was already built",
                ));
            };
            *slot = Some(f(builder)?);
            Ok(())
        })
    })
}

/// A string field of the request; NULL/0 is `None`.
///
/// # Safety
///
/// `s.data` valid for `s.len` bytes.
unsafe fn field<'a>(s: mesos_auth_str, what: &str) -> Result<Option<&'a str>, mesos_auth_result> {
    if s.data.is_null() && s.len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded caller contract.
    unsafe { handle::string(s.data, s.len, what) }.map(Some)
}

/// A field only recorded (peer, user agent): unreadable text is left out
/// rather than failing the request.
///
/// # Safety
///
/// As [`field`].
unsafe fn recorded<'a>(s: mesos_auth_str) -> Option<&'a str> {
    if s.data.is_null() {
        return None;
    }
    // SAFETY: forwarded caller contract.
    let b = unsafe { handle::bytes(s.data.cast::<u8>(), s.len, "field") }.ok()?;
    std::str::from_utf8(b).ok().filter(|t| !t.contains('\0'))
}

/// What a header that is not UTF-8 (or holds a NUL) becomes: a value the
/// parser refuses as malformed, so the request gets the usual challenge.
const UNREADABLE_AUTHORIZATION: &str = "Basic !";

impl mesos_auth_http_builder {
    /// Starts a builder for `realm` (`realm_len` bytes; Mesos uses
    /// `mesos-master-readonly`, `mesos-master-readwrite`,
    /// `mesos-master-scheduler`, `mesos-agent-readonly`,
    /// `mesos-agent-readwrite`). A realm that is empty or holds `"`, `\` or
    /// a control character is refused (`MESOS_AUTH_RESULT_INVALID_PARAMETER`).
    ///
    /// # Safety
    ///
    /// `realm` valid for `realm_len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_new(
        realm: *const c_char,
        realm_len: usize,
        out: *mut *mut mesos_auth_http_builder,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let realm = match unsafe { handle::string(realm, realm_len, "realm") } {
                Ok(r) => r,
                Err(e) => return e,
            };
            match HttpAuthenticator::builder(realm) {
                Ok(b) => {
                    let h = handle::to_box::<mesos_auth_http_builder>(Mutex::new(Some(b)));
                    // SAFETY: checked non-null; writable by contract.
                    unsafe { handle::write_out(out, h) }
                }
                Err(e) => http_error(&e),
            }
        }
    }

    /// Adds HTTP Basic on `creds` (tried in the order schemes are added).
    /// The authenticator keeps a reference: reloads of `creds` are seen by
    /// the next request.
    ///
    /// # Safety
    ///
    /// `b` NULL or a live builder; `creds` NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_add_basic(
        b: *mut mesos_auth_http_builder,
        creds: *const mesos_auth_credentials,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let store = match unsafe { handle::clone_arc(creds) } {
                Ok(s) => s,
                Err(e) => return e,
            };
            // SAFETY: forwarded caller contract.
            unsafe { configure(b, |builder| Ok(builder.basic(store))) }
        }
    }

    /// Adds bearer tokens (RFC 6750) checked by `bearer`, a JWT validator
    /// (tried in the order schemes are added). The authenticator keeps a
    /// reference: key sets reloaded into `bearer` are seen by the next
    /// request. A refused token gets `error="invalid_token"` (or
    /// `"invalid_request"`) in its challenge; why goes to the audit event.
    ///
    /// # Safety
    ///
    /// `b` NULL or a live builder; `bearer` NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_add_bearer(
        b: *mut mesos_auth_http_builder,
        bearer: *const mesos_auth_bearer,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let validator = match unsafe { handle::clone_arc(bearer) } {
                Ok(v) => v,
                Err(e) => return e,
            };
            // SAFETY: forwarded caller contract.
            unsafe { configure(b, |builder| Ok(builder.bearer(validator))) }
        }
    }

    /// Throttles failures per principal and per peer with `throttle`
    /// (shareable with SASL authenticators). While held back, a request
    /// gets 429 with `Retry-After` and its password is not checked.
    ///
    /// # Safety
    ///
    /// `b` NULL or a live builder; `throttle` NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_set_throttle(
        b: *mut mesos_auth_http_builder,
        throttle: *const mesos_auth_throttle,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let t = match unsafe { handle::clone_arc(throttle) } {
                Ok(t) => t,
                Err(e) => return e,
            };
            // SAFETY: forwarded caller contract.
            unsafe { configure(b, |builder| Ok(builder.throttle(t))) }
        }
    }

    /// Applies `limiter`'s per-principal limits after authentication: over
    /// the capacity, 429 with `Retry-After`. Its reloads are seen.
    ///
    /// # Safety
    ///
    /// `b` NULL or a live builder; `limiter` NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_set_ratelimiter(
        b: *mut mesos_auth_http_builder,
        limiter: *const mesos_auth_ratelimiter,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let l = match unsafe { handle::clone_arc(limiter) } {
                Ok(l) => l,
                Err(e) => return e,
            };
            // SAFETY: forwarded caller contract.
            unsafe { configure(b, |builder| Ok(builder.rate_limiter(l))) }
        }
    }

    /// Records one audit event (component `http`) per request in `audit`.
    ///
    /// # Safety
    ///
    /// `b` NULL or a live builder; `audit` NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_set_audit(
        b: *mut mesos_auth_http_builder,
        audit: *const mesos_auth_audit,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let s = match unsafe { handle::clone_arc(audit) } {
                Ok(s) => s,
                Err(e) => return e,
            };
            // SAFETY: forwarded caller contract.
            unsafe { configure(b, |builder| Ok(builder.audit(s))) }
        }
    }

    /// Builds the authenticator and consumes the builder's configuration:
    /// the builder itself must still be freed with
    /// `mesos_auth_http_builder_free`, and any further call on it gives
    /// `MESOS_AUTH_RESULT_INVALID_STATE`. Without a scheme (no `_add_basic`,
    /// no `_add_bearer`) the result is `MESOS_AUTH_RESULT_INVALID_PARAMETER`
    /// (the builder is consumed all the same).
    ///
    /// # Safety
    ///
    /// `b` NULL or a live builder; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_build(
        b: *mut mesos_auth_http_builder,
        out: *mut *const mesos_auth_http_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let built = unsafe {
                handle::with_mut(b, |slot| {
                    let slot = slot.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let Some(builder) = slot.take() else {
                        return Err(fail(
                            mesos_auth_result::InvalidState,
                            "the builder was already built",
                        ));
                    };
                    builder.build().map_err(|e| http_error(&e))
                })
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(built, out) }
        }
    }

    /// Frees the builder (built or not). NULL is a no-op.
    ///
    /// # Safety
    ///
    /// `b` NULL or a live builder, not used again.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_builder_free(
        b: *mut mesos_auth_http_builder,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(b.cast_const()) }
        }
    }
}

impl mesos_auth_http_authenticator {
    /// Authenticates one request. Every problem with the request itself
    /// (missing, duplicate or malformed `Authorization`, a wrong password,
    /// an unknown user) is an outcome that denies it, not an error; an
    /// error result means a bad argument (NULL, a method or path that is not
    /// UTF-8) and the host should answer 400 or 500. On success `*out` gets
    /// a new outcome, to be freed with `mesos_auth_http_outcome_free`.
    ///
    /// # Safety
    ///
    /// `a` NULL or live; `req` NULL or valid, its views valid for their
    /// lengths during the call; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_authenticate(
        a: *const mesos_auth_http_authenticator,
        req: *const mesos_auth_http_request,
        out: *mut *mut mesos_auth_http_outcome,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() || req.is_null() {
                return fail(mesos_auth_result::NullParameter, "req or out is NULL");
            }
            // SAFETY: checked non-null; readable by contract.
            let r = unsafe { *req };
            // SAFETY: forwarded caller contract.
            let outcome = unsafe {
                handle::with_ref(a, |auth| {
                    let method = field(r.method, "method")?.unwrap_or_default();
                    let path = field(r.path, "path")?.unwrap_or_default();
                    let authorization = if r.authorization.data.is_null() && r.authorization.len == 0 {
                        None
                    } else {
                        Some(recorded(r.authorization).unwrap_or(UNREADABLE_AUTHORIZATION))
                    };
                    let mut request = Request::new(method, path)
                        .authorization_headers(authorization, r.authorization_count);
                    if let Some(p) = recorded(r.peer) {
                        request = request.peer(p);
                    }
                    if let Some(u) = recorded(r.user_agent) {
                        request = request.user_agent(u);
                    }
                    Ok(auth.authenticate(&request, Instant::now(), SystemTime::now()))
                })
            };
            match outcome {
                Ok(o) => {
                    let h = handle::to_box::<mesos_auth_http_outcome>(o);
                    // SAFETY: checked non-null; writable by contract.
                    unsafe { handle::write_out(out, h) }
                }
                Err(e) => e,
            }
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free` (each reference is freed exactly once;
    /// a second `_free` of one returns `MESOS_AUTH_RESULT_WRONG_HANDLE`).
    ///
    /// # Safety
    ///
    /// `a` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_authenticator_up_ref(
        a: *const mesos_auth_http_authenticator,
        out: *mut *const mesos_auth_http_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(a, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op. A reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE`.
    ///
    /// # Safety
    ///
    /// `a` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_authenticator_free(
        a: *const mesos_auth_http_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(a) }
        }
    }
}

impl mesos_auth_http_outcome {
    /// The status to answer: 0 when authenticated (serve the request as
    /// `_principal`), otherwise 400, 401 or 403 (with every `_challenge` as
    /// a `WWW-Authenticate` header, no reason in the body) or 429 (with
    /// `Retry-After: _retry_after_secs`).
    ///
    /// # Safety
    ///
    /// `o` NULL or live; `status` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_outcome_status(
        o: *const mesos_auth_http_outcome,
        status: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(o, status, "status", |o| Ok(u32::from(o.status()))) }
        }
    }

    /// The principal: authenticated (status 0) or rate limited after
    /// authenticating (429). Otherwise `MESOS_AUTH_RESULT_INVALID_STATE`.
    /// The view lives until `mesos_auth_http_outcome_free(o)`.
    ///
    /// # Safety
    ///
    /// `o` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_outcome_principal(
        o: *const mesos_auth_http_outcome,
        out: *mut mesos_auth_str,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(o, out, "out", |o| match o.principal() {
                    Some(p) => Ok(mesos_auth_str::view(p.as_str())),
                    None => Err(fail(
                        mesos_auth_result::InvalidState,
                        "this outcome has no principal (nobody was authenticated)",
                    )),
                })
            }
        }
    }

    /// How the principal was authenticated: `MESOS_AUTH_HTTP_METHOD_*`
    /// (`_NONE` unless status 0).
    ///
    /// # Safety
    ///
    /// `o` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_outcome_method(
        o: *const mesos_auth_http_outcome,
        out: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(o, out, "out", |o| {
                    Ok(match o {
                        Outcome::Authenticated { method: AuthMethod::Basic, .. } => {
                            MESOS_AUTH_HTTP_METHOD_BASIC
                        }
                        Outcome::Authenticated { method: AuthMethod::Bearer, .. } => {
                            MESOS_AUTH_HTTP_METHOD_BEARER
                        }
                        _ => MESOS_AUTH_HTTP_METHOD_NONE,
                    })
                })
            }
        }
    }

    /// How many `WWW-Authenticate` values to send (0 unless 400, 401, 403).
    ///
    /// # Safety
    ///
    /// `o` NULL or live; `n` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_outcome_challenge_count(
        o: *const mesos_auth_http_outcome,
        n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(o, n, "n", |o| Ok(o.challenges().len())) }
        }
    }

    /// `WWW-Authenticate` value number `i`, in the order to send them (e.g.
    /// `Basic realm="mesos-master-readwrite"`). An index past the end gives
    /// `MESOS_AUTH_RESULT_INVALID_PARAMETER`. The view lives until
    /// `mesos_auth_http_outcome_free(o)`.
    ///
    /// # Safety
    ///
    /// `o` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_outcome_challenge(
        o: *const mesos_auth_http_outcome,
        i: usize,
        out: *mut mesos_auth_str,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(o, out, "out", |o| {
                    let c = o.challenges();
                    match c.get(i) {
                        Some(s) => Ok(mesos_auth_str::view(s)),
                        None => Err(fail(
                            mesos_auth_result::InvalidParameter,
                            format_args!("challenge index {i} out of range ({} challenges)", c.len()),
                        )),
                    }
                })
            }
        }
    }

    /// The `Retry-After` value for a 429, in whole seconds (rounded up, at
    /// least 1); 0 for any other status.
    ///
    /// # Safety
    ///
    /// `o` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_outcome_retry_after_secs(
        o: *const mesos_auth_http_outcome,
        out: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(o, out, "out", |o| Ok(o.retry_after_secs().unwrap_or(0))) }
        }
    }

    /// Frees the outcome (and every view it gave out). NULL is a no-op.
    ///
    /// # Safety
    ///
    /// `o` NULL or live, not used again.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_http_outcome_free(
        o: *mut mesos_auth_http_outcome,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(o.cast_const()) }
        }
    }
}
