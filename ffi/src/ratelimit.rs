//! Per-principal rate limits (Mesos `--rate_limits` JSON): load, check,
//! reload.

use std::ffi::c_char;
use std::path::PathBuf;
use std::time::Instant;

use mesos_auth::http::Shared;
use mesos_auth::ratelimit::{RateDecision, RateLimitError, RateLimiter, RateLimits};

use crate::handle::{self, Castable, Kind, Ownership, Tagged};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};

/// `mesos_auth_ratelimiter_check`: no limit applies to the principal.
pub const MESOS_AUTH_RATE_UNLIMITED: u32 = 0;
/// `mesos_auth_ratelimiter_check`: within the rate; serve it now.
pub const MESOS_AUTH_RATE_ALLOWED: u32 = 1;
/// `mesos_auth_ratelimiter_check`: within the capacity but ahead of the
/// rate: Mesos would queue it `*out_retry_after_ms`; the permit is taken.
pub const MESOS_AUTH_RATE_DELAYED: u32 = 2;
/// `mesos_auth_ratelimiter_check`: over the capacity: refuse it (HTTP: 429
/// with `Retry-After`); a retry may fit in `*out_retry_after_ms`.
pub const MESOS_AUTH_RATE_LIMITED: u32 = 3;

/// Per-principal rate limits in Mesos's `--rate_limits` format, checked
/// lock-free, reloadable while in use.
///
/// Thread safety: shared and reference-counted. Every function taking a
/// `const mesos_auth_ratelimiter *` may be called from any number of
/// threads at once, reloads included.
pub struct mesos_auth_ratelimiter {
    _private: [u8; 0],
}

pub(crate) struct Limiter {
    path: Option<PathBuf>,
    limiter: RateLimiter,
}

impl Castable for mesos_auth_ratelimiter {
    type RustType = Limiter;
    const KIND: Kind = Kind::RateLimiter;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

// What an HTTP authenticator built with this limiter consults.
impl Shared<RateLimiter> for Tagged<Limiter> {
    fn shared(&self) -> &RateLimiter {
        &self.limiter
    }
}

/// Records the error (line:column and JSON path for a bad document) and
/// picks a code.
fn limits_error(e: &RateLimitError) -> mesos_auth_result {
    let code = match e {
        RateLimitError::File { .. } => mesos_auth_result::FileError,
        RateLimitError::TooLarge { .. } => mesos_auth_result::LimitExceeded,
        _ => mesos_auth_result::ParseError,
    };
    fail(code, e)
}

/// Reads `len` bytes at `text` as a UTF-8 rate-limits document.
///
/// # Safety
///
/// `text` valid for `len` bytes.
unsafe fn parse(text: *const c_char, len: usize) -> Result<RateLimits, mesos_auth_result> {
    // SAFETY: forwarded caller contract.
    let bytes = unsafe { handle::bytes(text.cast::<u8>(), len, "text")? };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        fail(
            mesos_auth_result::InvalidUtf8,
            format_args!("text: invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    RateLimits::from_json(text).map_err(|e| limits_error(&e))
}

/// Milliseconds, rounded up so a pending wait never reads as 0.
fn ceil_ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

impl mesos_auth_ratelimiter {
    /// Loads the rate limits from the JSON file at `path` (`path_len`
    /// bytes; a `file://` prefix, as Mesos takes, is stripped). A bad file
    /// is refused with `MESOS_AUTH_RESULT_PARSE_ERROR` (line:column and JSON
    /// path in `mesos_auth_last_error`) or `MESOS_AUTH_RESULT_FILE_ERROR`.
    ///
    /// # Safety
    ///
    /// `path` valid for `path_len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_load_path(
        path: *const c_char,
        path_len: usize,
        out: *mut *const mesos_auth_ratelimiter,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let path = unsafe { handle::string(path, path_len, "path")? };
                let path = PathBuf::from(path.strip_prefix("file://").unwrap_or(path));
                let limits = RateLimits::from_file(&path).map_err(|e| limits_error(&e))?;
                Ok(Limiter { path: Some(path), limiter: RateLimiter::new(&limits) })
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Compiles the rate limits from `len` bytes of JSON at `text` (which
    /// may be freed when the call returns).
    ///
    /// # Safety
    ///
    /// `text` valid for `len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_compile_buffer(
        text: *const c_char,
        len: usize,
        out: *mut *const mesos_auth_ratelimiter,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let limits = unsafe { parse(text, len) };
            let built = limits.map(|l| Limiter { path: None, limiter: RateLimiter::new(&l) });
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(built, out) }
        }
    }

    /// Re-reads the file the limiter was loaded from and swaps the new
    /// limits in; `*out_generation` gets the new generation (the first load
    /// is 0). A bad file is refused (the error says where) and the old
    /// limits keep serving. A limiter compiled from a buffer gives
    /// `MESOS_AUTH_RESULT_INVALID_STATE`. Principals kept across the reload
    /// keep their state (a reload does not hand out a fresh burst).
    ///
    /// # Safety
    ///
    /// `limiter` NULL or live; `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_reload(
        limiter: *const mesos_auth_ratelimiter,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(limiter, out_generation, "out_generation", |l| {
                    let Some(path) = &l.path else {
                        return Err(fail(
                            mesos_auth_result::InvalidState,
                            "this limiter was not loaded from a file; use mesos_auth_ratelimiter_reload_buffer",
                        ));
                    };
                    let limits = RateLimits::from_file(path).map_err(|e| limits_error(&e))?;
                    Ok(l.limiter.reload(&limits))
                })
            }
        }
    }

    /// Compiles `len` bytes of JSON at `text` and swaps the new limits in,
    /// as `mesos_auth_ratelimiter_reload`.
    ///
    /// # Safety
    ///
    /// `limiter` NULL or live; `text` valid for `len` bytes;
    /// `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_reload_buffer(
        limiter: *const mesos_auth_ratelimiter,
        text: *const c_char,
        len: usize,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(limiter, out_generation, "out_generation", |l| {
                    let limits = parse(text, len)?;
                    Ok(l.limiter.reload(&limits))
                })
            }
        }
    }

    /// Takes a permit for one request by `principal` (NULL with length 0:
    /// no principal, so the aggregate default applies). `*out_decision`
    /// gets one of `MESOS_AUTH_RATE_*`; `*out_retry_after_ms` the delay
    /// (`DELAYED`) or the time until a retry may fit (`LIMITED`), rounded
    /// up, else 0.
    ///
    /// # Safety
    ///
    /// `limiter` NULL or live; `principal` valid for `principal_len` bytes;
    /// `out_retry_after_ms` and `out_decision` valid for one write each.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_check(
        limiter: *const mesos_auth_ratelimiter,
        principal: *const c_char,
        principal_len: usize,
        out_retry_after_ms: *mut u64,
        out_decision: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out_retry_after_ms.is_null() || out_decision.is_null() {
                return fail(
                    mesos_auth_result::NullParameter,
                    "out_retry_after_ms or out_decision is NULL",
                );
            }
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_ref(limiter, |l| {
                    let principal = handle::string(principal, principal_len, "principal")?;
                    let principal = (!principal.is_empty()).then_some(principal);
                    Ok(match l.limiter.check(principal, Instant::now()) {
                        RateDecision::Unlimited => (MESOS_AUTH_RATE_UNLIMITED, 0),
                        RateDecision::Allowed => (MESOS_AUTH_RATE_ALLOWED, 0),
                        RateDecision::Delayed(d) => (MESOS_AUTH_RATE_DELAYED, ceil_ms(d)),
                        RateDecision::Limited { retry_after } => {
                            (MESOS_AUTH_RATE_LIMITED, ceil_ms(retry_after))
                        }
                    })
                })
            };
            match r {
                Ok((decision, ms)) => {
                    // SAFETY: both checked non-null; writable by contract.
                    unsafe {
                        out_retry_after_ms.write(ms);
                        out_decision.write(decision);
                    }
                    mesos_auth_result::Ok
                }
                Err(e) => e,
            }
        }
    }

    /// The generation of the limits being served (0 for the first load, +1
    /// per successful reload).
    ///
    /// # Safety
    ///
    /// `limiter` NULL or live; `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_generation(
        limiter: *const mesos_auth_ratelimiter,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(limiter, out_generation, "out_generation", |l| Ok(l.limiter.generation()))
            }
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free` (each reference is freed exactly once;
    /// a second `_free` of one returns `MESOS_AUTH_RESULT_WRONG_HANDLE`).
    ///
    /// # Safety
    ///
    /// `limiter` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_up_ref(
        limiter: *const mesos_auth_ratelimiter,
        out: *mut *const mesos_auth_ratelimiter,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(limiter, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op. A reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE` (the object,
    /// which others may still hold, is untouched).
    ///
    /// # Safety
    ///
    /// `limiter` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_ratelimiter_free(
        limiter: *const mesos_auth_ratelimiter,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(limiter) }
        }
    }
}
