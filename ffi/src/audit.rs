//! Audit events delivered to a C callback as JSON lines.

use std::ffi::{CString, c_char, c_void};

use mesos_auth::AuditSink;
use mesos_auth::audit::Event;

use crate::handle::{self, Castable, Kind, Ownership};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};

/// Receives one audit event as a JSON object (one line, no newline),
/// `json[len] == 0`. `json` is valid only during the call; copy what you
/// keep. `userdata` is the pointer given to `mesos_auth_audit_new`.
///
/// The callback may be called from any thread that uses a handle the audit
/// sink was given, possibly from several at once. It must not unwind: a C++
/// callback must be `noexcept` (an exception crossing Rust frames aborts).
/// It must not call back into the handle that is reporting the event.
pub type mesos_auth_audit_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, json: *const c_char, len: usize)>;

/// An audit sink: a callback and its userdata. Events carry principals,
/// peers, rule names and reasons, never a secret.
///
/// Thread safety: shared and reference-counted; may be passed to any number
/// of handles and used from any thread. `_free` drops the caller's reference;
/// handles built with it keep their own.
pub struct mesos_auth_audit {
    _private: [u8; 0],
}

pub(crate) struct CallbackSink {
    callback: unsafe extern "C" fn(*mut c_void, *const c_char, usize),
    userdata: *mut c_void,
}

// SAFETY: the userdata pointer is only handed back to the caller's callback;
// `mesos_auth_audit_new` documents that callback and userdata must be usable
// from any thread.
unsafe impl Send for CallbackSink {}
// SAFETY: as above; we never dereference userdata ourselves.
unsafe impl Sync for CallbackSink {}

impl AuditSink for CallbackSink {
    fn record(&self, event: &dyn Event) {
        let line = mesos_auth::audit::to_json_line(event, std::time::SystemTime::now());
        // serde_json escapes NUL as \u0000, so this cannot fail; if it did,
        // the event is dropped rather than truncated.
        if let Ok(c) = CString::new(line) {
            let len = c.as_bytes().len();
            // SAFETY: the caller's contract for the callback (documented on
            // mesos_auth_audit_callback): it reads `len` bytes and does not unwind.
            unsafe { (self.callback)(self.userdata, c.as_ptr(), len) };
        }
    }
}

impl Castable for mesos_auth_audit {
    type RustType = CallbackSink;
    const KIND: Kind = Kind::Audit;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

/// The sink behind an optional audit handle (NULL: no auditing).
pub(crate) type SharedSink = Option<std::sync::Arc<handle::Tagged<CallbackSink>>>;

/// # Safety
///
/// `audit` must be NULL or a live audit handle.
pub(crate) unsafe fn optional_sink(
    audit: *const mesos_auth_audit,
) -> Result<SharedSink, mesos_auth_result> {
    if audit.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded caller contract.
    unsafe { handle::clone_arc(audit) }.map(Some)
}

/// Records `event` in the sink, if any.
pub(crate) fn record(sink: &SharedSink, event: impl Event) {
    if let Some(s) = sink {
        s.record(&event);
    }
}

impl mesos_auth_audit {
    /// Creates an audit sink calling `callback(userdata, json, len)` for
    /// every event. `callback` must not be NULL. `userdata` may be NULL; it
    /// must stay valid until every handle given this sink has been freed, and
    /// be safe to use from any thread.
    ///
    /// # Safety
    ///
    /// `out` must be valid for one write; `callback` must follow the rules of
    /// `mesos_auth_audit_callback`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_new(
        callback: mesos_auth_audit_callback,
        userdata: *mut c_void,
        out: *mut *const mesos_auth_audit,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            let Some(callback) = callback else {
                return fail(mesos_auth_result::NullParameter, "audit callback is NULL");
            };
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let h = handle::to_arc::<mesos_auth_audit>(CallbackSink { callback, userdata });
            // SAFETY: out checked non-null; caller promised it is writable.
            unsafe { handle::write_out(out, h) }
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free` (each reference is freed exactly once;
    /// a second `_free` of one returns `MESOS_AUTH_RESULT_WRONG_HANDLE`).
    ///
    /// # Safety
    ///
    /// `audit` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_up_ref(
        audit: *const mesos_auth_audit,
        out: *mut *const mesos_auth_audit,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(audit, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op. A reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE` (the object,
    /// which others may still hold, is untouched).
    ///
    /// # Safety
    ///
    /// `audit` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_free(
        audit: *const mesos_auth_audit,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(audit) }
        }
    }
}
