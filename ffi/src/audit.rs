//! Audit sinks for C: events delivered to a callback as JSON lines, or
//! written by a queued writer thread to a rotating file or to syslog.

use std::ffi::{CString, c_char, c_void};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mesos_auth::AuditSink;
use mesos_auth::audit::{
    AsyncSink, AuditError, Event, FileSink, FileSinkConfig, FsyncPolicy, SyslogConfig, SyslogSink,
};

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

/// An audit sink: a callback and its userdata (`mesos_auth_audit_new`), a
/// rotating JSON-lines file (`mesos_auth_audit_file_new`) or syslog
/// (`mesos_auth_audit_syslog_new`). Every function taking an audit handle
/// takes any of the three. Events carry principals, peers, rule names and
/// reasons, never a secret.
///
/// The file and syslog kinds never block the caller: events go into a
/// bounded queue that one writer thread empties; when it is full the event
/// is dropped and counted (`mesos_auth_audit_dropped`). When the last
/// reference is freed, the writer drains the queue for at most 5 seconds.
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
    /// Events handed to the callback.
    delivered: AtomicU64,
}

/// When the file sink syncs (passed as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_audit_fsync {
    /// Never fsync: a killed process loses nothing written, a power cut
    /// may lose the last seconds.
    Never = 0,
    /// At most `fsync_interval_ms` after a write.
    Interval = 1,
    /// Before an event counts as acknowledged.
    Always = 2,
}

/// What an audit handle is.
pub(crate) enum AuditHandle {
    Callback(CallbackSink),
    File(AsyncSink<FileSink>),
    Syslog(AsyncSink<SyslogSink>),
    /// Both, in order (`mesos_auth_audit_tee_new`).
    Tee(
        std::sync::Arc<handle::Tagged<AuditHandle>>,
        std::sync::Arc<handle::Tagged<AuditHandle>>,
    ),
}

impl AuditHandle {
    /// (dropped, written, acknowledged): for a callback, every event is
    /// written and acknowledged when the callback returns.
    fn counters(&self) -> (u64, u64, u64) {
        match self {
            Self::Callback(c) => {
                let n = c.delivered.load(Ordering::Relaxed);
                (0, n, n)
            }
            Self::File(q) => (q.dropped(), q.written(), q.acknowledged()),
            Self::Syslog(q) => (q.dropped(), q.written(), q.acknowledged()),
            Self::Tee(a, b) => {
                let (x, y) = (a.counters(), b.counters());
                (
                    x.0.saturating_add(y.0),
                    x.1.saturating_add(y.1),
                    x.2.saturating_add(y.2),
                )
            }
        }
    }

    fn flush(&self, timeout: Duration) -> Result<(), AuditError> {
        match self {
            Self::Callback(_) => Ok(()),
            Self::File(q) => q.flush(timeout),
            Self::Syslog(q) => q.flush(timeout),
            Self::Tee(a, b) => {
                let start = std::time::Instant::now();
                // The handles' own flush (with its timeout), not the
                // `AuditSink` one a `Tagged` handle also has.
                AuditHandle::flush(a, timeout)?;
                AuditHandle::flush(b, timeout.saturating_sub(start.elapsed()))
            }
        }
    }
}

// A handle as the library's builders take a sink (`Arc<dyn AuditSink>`).
impl AuditSink for handle::Tagged<AuditHandle> {
    fn record(&self, event: &dyn Event) {
        (**self).record(event);
    }
}

impl AuditSink for AuditHandle {
    fn record(&self, event: &dyn Event) {
        match self {
            Self::Callback(c) => c.record(event),
            Self::File(q) => q.record(event),
            Self::Syslog(q) => q.record(event),
            Self::Tee(a, b) => {
                a.record(event);
                b.record(event);
            }
        }
    }
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
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Maps a sink error to a result, keeping its message as the detail.
fn audit_error(e: AuditError) -> mesos_auth_result {
    let code = match &e {
        AuditError::Config(_) => mesos_auth_result::InvalidParameter,
        AuditError::Timeout | AuditError::Stopped | AuditError::QueueFull => {
            mesos_auth_result::InvalidState
        }
        _ => mesos_auth_result::FileError,
    };
    fail(code, e)
}

impl Castable for mesos_auth_audit {
    type RustType = AuditHandle;
    const KIND: Kind = Kind::Audit;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

/// The sink behind an optional audit handle (NULL: no auditing).
pub(crate) type SharedSink = Option<std::sync::Arc<handle::Tagged<AuditHandle>>>;

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
            let h = handle::to_arc::<mesos_auth_audit>(AuditHandle::Callback(CallbackSink {
                callback,
                userdata,
                delivered: AtomicU64::new(0),
            }));
            // SAFETY: out checked non-null; caller promised it is writable.
            unsafe { handle::write_out(out, h) }
        }
    }

    /// Creates an audit sink writing one JSON line per event to the file at
    /// `path` (`path_len` bytes of UTF-8; a `file://` prefix is taken off),
    /// through a queue of `queue_capacity` events (at least 1) and one
    /// writer thread.
    ///
    /// The file is created with mode 0600 and opened for appending; an
    /// existing file that is a symbolic link, not a regular file, or
    /// writable by group or others is refused (`MESOS_AUTH_RESULT_FILE_ERROR`).
    /// Before a write would take it past `max_bytes` (0: never) the file is
    /// rotated: `path.1` is the newest old file, up to `path.<keep>`.
    /// `fsync_policy` is a `mesos_auth_audit_fsync`; `fsync_interval_ms` is
    /// read only for `MESOS_AUTH_AUDIT_FSYNC_INTERVAL`. On success `*out`
    /// gets a new handle.
    ///
    /// # Safety
    ///
    /// `path` must be valid for `path_len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_file_new(
        path: *const c_char,
        path_len: usize,
        max_bytes: u64,
        keep: u32,
        fsync_policy: u32,
        fsync_interval_ms: u64,
        queue_capacity: usize,
        out: *mut *const mesos_auth_audit,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let path = unsafe { handle::string(path, path_len, "path")? };
                let fsync = match fsync_policy {
                    0 => FsyncPolicy::Never,
                    1 => FsyncPolicy::Interval(Duration::from_millis(fsync_interval_ms)),
                    2 => FsyncPolicy::Always,
                    n => {
                        return Err(fail(
                            mesos_auth_result::InvalidParameter,
                            format_args!("unknown fsync policy {n}"),
                        ));
                    }
                };
                let config = FileSinkConfig::new()
                    .max_bytes(max_bytes)
                    .keep(keep)
                    .fsync(fsync);
                let path = PathBuf::from(path.strip_prefix("file://").unwrap_or(path));
                let file = FileSink::open(&path, config).map_err(audit_error)?;
                AsyncSink::new(file, queue_capacity)
                    .map(AuditHandle::File)
                    .map_err(audit_error)
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Creates an audit sink sending one syslog message per event (facility
    /// `facility`, 0-23, `authpriv` = 10; severity info; the text is the
    /// event's JSON line, framed as glibc's `syslog(3)` frames it) to the
    /// datagram socket at `socket` (`socket_len` bytes; NULL: `/dev/log`,
    /// which journald serves on systemd hosts), tagged `ident` (`ident_len`
    /// bytes; NULL: `mesos-auth`), through a queue of `queue_capacity`
    /// events. An unreachable socket is `MESOS_AUTH_RESULT_FILE_ERROR`.
    ///
    /// # Safety
    ///
    /// `socket` NULL or valid for `socket_len` bytes; `ident` NULL or valid
    /// for `ident_len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_syslog_new(
        socket: *const c_char,
        socket_len: usize,
        ident: *const c_char,
        ident_len: usize,
        facility: u32,
        queue_capacity: usize,
        out: *mut *const mesos_auth_audit,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                let mut config = SyslogConfig::new();
                if !socket.is_null() {
                    // SAFETY: forwarded caller contract.
                    config = config.socket(unsafe { handle::string(socket, socket_len, "socket")? });
                }
                if !ident.is_null() {
                    // SAFETY: forwarded caller contract.
                    config = config.app_name(unsafe { handle::string(ident, ident_len, "ident")? });
                }
                let facility = u8::try_from(facility).unwrap_or(u8::MAX);
                let config = config.facility(facility).map_err(audit_error)?;
                let sink = SyslogSink::connect(config).map_err(audit_error)?;
                AsyncSink::new(sink, queue_capacity)
                    .map(AuditHandle::Syslog)
                    .map_err(audit_error)
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Creates an audit sink handing every event to `first`, then to
    /// `second` (the glog callback and a file, say). The new handle holds
    /// its own references: the caller frees `first` and `second` as usual.
    /// Its counters are the sums of theirs; a flush flushes both.
    ///
    /// # Safety
    ///
    /// `first` and `second` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_tee_new(
        first: *const mesos_auth_audit,
        second: *const mesos_auth_audit,
        out: *mut *const mesos_auth_audit,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let a = unsafe { handle::clone_arc(first)? };
                // SAFETY: forwarded caller contract.
                let b = unsafe { handle::clone_arc(second)? };
                Ok(AuditHandle::Tee(a, b))
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Events dropped so far because the queue was full (always 0 for a
    /// callback sink).
    ///
    /// # Safety
    ///
    /// `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_dropped(
        audit: *const mesos_auth_audit,
        out: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(audit, out, "out", |a| Ok(a.counters().0)) }
        }
    }

    /// Events the writer has handed to the file or socket so far, whether
    /// or not that succeeded (for a callback sink: callbacks made).
    ///
    /// # Safety
    ///
    /// `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_written(
        audit: *const mesos_auth_audit,
        out: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(audit, out, "out", |a| Ok(a.counters().1)) }
        }
    }

    /// Events acknowledged so far: written without error (and, under
    /// `MESOS_AUTH_AUDIT_FSYNC_ALWAYS`, synced to disk).
    ///
    /// # Safety
    ///
    /// `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_acknowledged(
        audit: *const mesos_auth_audit,
        out: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(audit, out, "out", |a| Ok(a.counters().2)) }
        }
    }

    /// Waits up to `timeout_ms` until every event recorded before the call
    /// has been written and the file synced as its policy says. A timeout
    /// is `MESOS_AUTH_RESULT_INVALID_STATE`, a write or sync failure
    /// `MESOS_AUTH_RESULT_FILE_ERROR` (detail in `mesos_auth_last_error`).
    /// Returns at once for a callback sink.
    ///
    /// # Safety
    ///
    /// `audit` NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_audit_flush(
        audit: *const mesos_auth_audit,
        timeout_ms: u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_ref(audit, |a| {
                    a.flush(Duration::from_millis(timeout_ms)).map_err(audit_error)
                })
            };
            match r {
                Ok(()) => mesos_auth_result::Ok,
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
