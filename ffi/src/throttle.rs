//! Failure throttling shared by authenticator sessions: exponential backoff
//! per principal and per peer (threats.md SA-14).

use std::ffi::c_char;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos_auth::sasl::{AuthEvent, Throttle, ThrottleConfig, Verdict};

use crate::handle::{self, Castable, Kind, Ownership, Tagged};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};

/// Failure counts per principal and per peer, fed by the authenticator
/// sessions it is attached to (`mesos_auth_authenticator_set_throttle`).
///
/// Thread safety: shared and reference-counted, internally locked: any
/// number of threads and sessions may use one throttle at once.
pub struct mesos_auth_throttle {
    _private: [u8; 0],
}

impl Castable for mesos_auth_throttle {
    type RustType = Mutex<Throttle>;
    const KIND: Kind = Kind::Throttle;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

/// A throttle as a session holds it.
pub(crate) type SharedThrottle = Arc<Tagged<Mutex<Throttle>>>;

/// Records a session's outcome.
pub(crate) fn observe(throttle: &SharedThrottle, event: &AuthEvent) {
    let mut t = match throttle.lock() {
        Ok(t) => t,
        Err(p) => p.into_inner(),
    };
    t.observe(event, Instant::now());
}

impl mesos_auth_throttle {
    /// Creates a throttle: the first `free_failures` failures cost nothing,
    /// then each failure doubles the delay from `base_ms` up to `max_ms`.
    /// Zero for all three gives the defaults (3 free failures, 1 s, 60 s).
    /// `max_ms` below `base_ms` is refused.
    ///
    /// # Safety
    ///
    /// `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_throttle_new(
        free_failures: u32,
        base_ms: u64,
        max_ms: u64,
        out: *mut *const mesos_auth_throttle,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let mut config = ThrottleConfig::new();
            if free_failures != 0 || base_ms != 0 || max_ms != 0 {
                if base_ms == 0 || max_ms < base_ms {
                    return fail(
                        mesos_auth_result::InvalidParameter,
                        "throttle: need 0 < base_ms <= max_ms (or all zero for the defaults)",
                    );
                }
                config = config
                    .free_failures(free_failures)
                    .base(Duration::from_millis(base_ms))
                    .max(Duration::from_millis(max_ms));
            }
            let h = handle::to_arc::<mesos_auth_throttle>(Mutex::new(Throttle::new(config)));
            // SAFETY: checked non-null; writable by contract.
            unsafe { handle::write_out(out, h) }
        }
    }

    /// How long a new attempt from `peer` (and, if known, by `principal`;
    /// NULL with length 0 when not) should wait: 0 means go ahead. Call it
    /// before creating a session; a host that must not block refuses the
    /// attempt instead of waiting.
    ///
    /// # Safety
    ///
    /// `throttle` NULL or live; `principal`/`peer` valid for their lengths;
    /// `out_delay_ms` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_throttle_check(
        throttle: *const mesos_auth_throttle,
        principal: *const c_char,
        principal_len: usize,
        peer: *const c_char,
        peer_len: usize,
        out_delay_ms: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(throttle, out_delay_ms, "out_delay_ms", |t| {
                    let principal = handle::string(principal, principal_len, "principal")?;
                    let peer = handle::string(peer, peer_len, "peer")?;
                    let t = match t.lock() {
                        Ok(t) => t,
                        Err(p) => p.into_inner(),
                    };
                    let verdict = t.check(
                        (!principal.is_empty()).then_some(principal),
                        (!peer.is_empty()).then_some(peer),
                        Instant::now(),
                    );
                    Ok(match verdict {
                        Verdict::Allow => 0,
                        // Round up so a pending delay never reads as 0.
                        Verdict::Delay(d) => u64::try_from(d.as_micros().div_ceil(1000)).unwrap_or(u64::MAX),
                    })
                })
            }
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free` (each reference is freed exactly once;
    /// a second `_free` of one returns `MESOS_AUTH_RESULT_WRONG_HANDLE`).
    ///
    /// # Safety
    ///
    /// `throttle` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_throttle_up_ref(
        throttle: *const mesos_auth_throttle,
        out: *mut *const mesos_auth_throttle,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(throttle, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op. A reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE` (the object,
    /// which others may still hold, is untouched).
    ///
    /// # Safety
    ///
    /// `throttle` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_throttle_free(
        throttle: *const mesos_auth_throttle,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(throttle) }
        }
    }
}
