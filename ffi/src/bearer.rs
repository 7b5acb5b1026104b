//! The bearer-token (JWT) validator: a configuration and a JWKS compiled
//! once, the JWKS reloadable while in use.

use std::ffi::c_char;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesos_auth::Reloadable;
use mesos_auth::bearer::{Jwks, ValidationEvent, Validator, ValidatorConfig};

use crate::audit::{self, mesos_auth_audit};
use crate::handle::{self, Castable, Kind, Ownership};
use crate::mesos_auth_str;
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};

/// `flags` bit for `mesos_auth_bearer_new`: the JWKS holds shared secrets
/// (`oct` keys, for HS256/HS384/HS512, which the configuration must then
/// list alone). Without it, the JWKS holds public keys only.
pub const MESOS_AUTH_BEARER_SHARED_SECRET: u32 = 1;

const ALL_FLAGS: u32 = MESOS_AUTH_BEARER_SHARED_SECRET;

/// A bearer-token validator being served.
///
/// Thread safety: shared, reference-counted; any number of threads may
/// validate through one handle at once, reloads included (a reload swaps
/// the whole validator atomically; a check in flight finishes with the keys
/// it started with).
pub struct mesos_auth_bearer {
    _private: [u8; 0],
}

pub(crate) struct Served {
    live: Reloadable<Validator>,
}

// An HTTP authenticator's Bearer scheme follows this handle's key
// rotations (`mesos_auth_http_builder_add_bearer`).
impl mesos_auth::http::TokenValidator for crate::handle::Tagged<Served> {
    fn validate(
        &self,
        token: &str,
        now: std::time::SystemTime,
    ) -> Result<mesos_auth::http::ValidToken, mesos_auth::http::TokenRejection> {
        mesos_auth::http::TokenValidator::validate(&self.live, token, now)
    }
}

impl Served {
    /// The validator serving now, for a SASL session (a later reload does
    /// not affect that session).
    pub(crate) fn current(&self) -> std::sync::Arc<Validator> {
        self.live.snapshot().arc().clone()
    }
}

impl Castable for mesos_auth_bearer {
    type RustType = Served;
    const KIND: Kind = Kind::Bearer;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

fn jwks(bytes: &[u8], shared_secret: bool) -> Result<Jwks, mesos_auth_result> {
    if shared_secret {
        Jwks::shared_secrets_from_json(bytes)
    } else {
        Jwks::from_json(bytes)
    }
    .map_err(|e| fail(mesos_auth_result::ParseError, e))
}

/// The RFC 6750 code as a static view ("" for none).
fn code_view(code: Option<mesos_auth::bearer::ErrorCode>) -> mesos_auth_str {
    code.map_or(mesos_auth_str::EMPTY, |c| {
        mesos_auth_str::from_static(c.as_str())
    })
}

impl mesos_auth_bearer {
    /// Compiles a validator from its configuration (`config_len` bytes of
    /// UTF-8 JSON: `issuers`, `audiences`, and optionally `algorithms`,
    /// `leeway_secs`, `max_token_bytes`, `principal_rules`) and a JWKS
    /// document (`jwks_len` bytes, as fetched from the issuer by the host).
    /// `flags`: 0, or `MESOS_AUTH_BEARER_SHARED_SECRET`. A bad document
    /// gives `MESOS_AUTH_RESULT_PARSE_ERROR` and `mesos_auth_last_error`
    /// says where (line:column, JSON path; never key material).
    ///
    /// # Safety
    ///
    /// `config` valid for `config_len` bytes, `jwks` for `jwks_len`; `out`
    /// valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_bearer_new(
        config: *const c_char,
        config_len: usize,
        jwks: *const u8,
        jwks_len: usize,
        flags: u32,
        out: *mut *const mesos_auth_bearer,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                if flags & !ALL_FLAGS != 0 {
                    return Err(fail(
                        mesos_auth_result::InvalidParameter,
                        format_args!("unknown bearer flag bits {:#x}", flags & !ALL_FLAGS),
                    ));
                }
                // SAFETY: forwarded caller contract.
                let config = unsafe { handle::string(config, config_len, "config")? };
                // SAFETY: forwarded caller contract.
                let jwks_bytes = unsafe { handle::bytes(jwks, jwks_len, "jwks")? };
                let config = ValidatorConfig::from_json(config.as_bytes())
                    .map_err(|e| fail(mesos_auth_result::ParseError, e))?;
                let set = self::jwks(jwks_bytes, flags & MESOS_AUTH_BEARER_SHARED_SECRET != 0)?;
                let validator = Validator::new(&config, set)
                    .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))?;
                Ok(handle::to_arc::<mesos_auth_bearer>(Served {
                    live: Reloadable::new(validator),
                }))
            };
            match run() {
                // SAFETY: checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Replaces the JWKS (`len` bytes at `jwks`, of the kind the handle was
    /// made with) and swaps the new validator in; `*out_generation` is its
    /// generation (one more per successful reload). On any error the
    /// current keys keep serving.
    ///
    /// # Safety
    ///
    /// `bearer` NULL or live; `jwks` valid for `len` bytes;
    /// `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_bearer_reload_jwks_buffer(
        bearer: *const mesos_auth_bearer,
        jwks: *const u8,
        len: usize,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(bearer, out_generation, "out_generation", |s| {
                    let bytes = handle::bytes(jwks, len, "jwks")?;
                    s.live.try_reload(|v| {
                        let set = self::jwks(bytes, v.jwks().is_shared_secret())?;
                        v.with_jwks(set)
                            .map_err(|e| fail(mesos_auth_result::InvalidParameter, e))
                    })
                })
            }
        }
    }

    /// Validates one bearer token (`token_len` bytes, without `Bearer `)
    /// at `now_unix_secs` (seconds since the epoch; 0 reads the system
    /// clock). On success the principal (at most 256 bytes; a 257-byte
    /// buffer always suffices) is written to `buf` NUL-terminated, its
    /// length to `*out_n`, and `*out_error` is set to "". A refused token
    /// gives `MESOS_AUTH_RESULT_REJECTED`: then `*out_error` (and only it)
    /// is written, with the RFC 6750 code for the peer's
    /// `WWW-Authenticate` (`invalid_token`, `invalid_request`), and the
    /// precise reason is in `mesos_auth_last_error` (for the local log,
    /// never the token). `*out_error` points at static storage. `audit` may
    /// be NULL; otherwise every outcome is recorded.
    ///
    /// # Safety
    ///
    /// `bearer` NULL or live; `token` valid for `token_len` bytes; `audit`
    /// NULL or live; `buf` valid for `len` bytes; `out_n` and `out_error`
    /// for one write each.
    #[unsafe(no_mangle)]
    #[allow(
        clippy::too_many_arguments,
        reason = "C signature: inputs, audit, then the outputs"
    )]
    pub unsafe extern "C" fn mesos_auth_bearer_validate(
        bearer: *const mesos_auth_bearer,
        token: *const c_char,
        token_len: usize,
        now_unix_secs: u64,
        audit: *const mesos_auth_audit,
        buf: *mut c_char,
        len: usize,
        out_n: *mut usize,
        out_error: *mut mesos_auth_str,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out_error.is_null() {
                return fail(mesos_auth_result::NullParameter, "out_error is NULL");
            }
            let check = |s: &Served| {
                // SAFETY: forwarded caller contract.
                let token = unsafe { handle::string(token, token_len, "token")? };
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let now = match now_unix_secs {
                    0 => SystemTime::now(),
                    n => UNIX_EPOCH + Duration::from_secs(n),
                };
                let result = s.live.with(|v, _| v.validate(token, now));
                audit::record(&sink, ValidationEvent::new(&result));
                match result {
                    Ok(v) => Ok(v.principal().as_str().to_owned()),
                    Err(rejection) => {
                        // SAFETY: checked non-null; writable by contract.
                        unsafe { handle::write_out(out_error, code_view(Some(rejection.code()))) };
                        Err(fail(mesos_auth_result::Rejected, rejection))
                    }
                }
            };
            // SAFETY: forwarded caller contract.
            let r = unsafe { handle::get_text(bearer, buf, len, out_n, check) };
            if r == mesos_auth_result::Ok {
                // SAFETY: checked non-null; writable by contract.
                unsafe { handle::write_out(out_error, code_view(None)) };
            }
            r
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free`.
    ///
    /// # Safety
    ///
    /// `bearer` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_bearer_up_ref(
        bearer: *const mesos_auth_bearer,
        out: *mut *const mesos_auth_bearer,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(bearer, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op; a reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE`.
    ///
    /// # Safety
    ///
    /// `bearer` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_bearer_free(
        bearer: *const mesos_auth_bearer,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(bearer) }
        }
    }
}
