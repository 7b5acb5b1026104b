//! The one result enum of the C API, and its messages.

use std::cell::RefCell;
use std::ffi::c_char;

use crate::panic::ffi_panic_boundary;

/// The result of every fallible call. Numbers are fixed forever: a retired
/// value stays reserved (kept here as a comment) and is never reused.
#[allow(non_camel_case_types, reason = "C naming, as the header shows it")]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_result {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL.
    NullParameter = 1,
    /// An argument was out of range (an unknown enum value, a bad length).
    InvalidParameter = 2,
    /// A string argument was not UTF-8 or held a NUL byte.
    InvalidUtf8 = 3,
    /// The library panicked. The handle involved is poisoned; the host should
    /// log, deny, and drop it.
    Panic = 4,
    /// The handle was poisoned by an earlier panic.
    Poisoned = 5,
    /// A handle of the wrong kind (or an already freed one) was passed.
    WrongHandle = 6,
    /// The output buffer was too small; `out_n` holds the size needed.
    BufferTooSmall = 7,
    /// The input could not be parsed; the detail is in `mesos_auth_last_error`.
    ParseError = 100,
    /// The input exceeded a configured limit.
    LimitExceeded = 101,
    /// A file could not be read, or had unsafe permissions.
    FileError = 102,
    /// The operation is not valid in the object's current state.
    InvalidState = 103,
    /// A TLS certificate maps to no principal, or a bearer token is
    /// refused; the reason is in `mesos_auth_last_error`. Close the
    /// connection (or answer 401).
    Rejected = 104,
    /// The peer broke the SASL protocol (or the session had timed out or
    /// ended); an error message for the peer is queued on the session.
    ProtocolError = 105,
    /// The operating system's random number generator could not be read.
    RandomUnavailable = 106,
    /// The loaded library does not serve the header version the caller
    /// was compiled against (`mesos_auth_check_version`).
    IncompatibleVersion = 107,
    /// No ZooKeeper session, or no valid policy from ZooKeeper within the
    /// start-up bound (feature `zk`); the detail names the servers or znode.
    ZkUnavailable = 108,
    /// The policy from ZooKeeper is older than the fail-closed bound:
    /// deny every request until ZooKeeper is back (feature `zk`).
    Stale = 109,
}

impl mesos_auth_result {
    /// A short static description (no detail, no secret).
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NullParameter => "a required pointer argument was NULL",
            Self::InvalidParameter => "an argument was out of range",
            Self::InvalidUtf8 => "a string argument was not UTF-8 or held a NUL byte",
            Self::Panic => "internal error (panic); the handle is poisoned",
            Self::Poisoned => "the handle was poisoned by an earlier internal error",
            Self::WrongHandle => "a handle of the wrong kind, or a freed one, was passed",
            Self::BufferTooSmall => "the output buffer is too small",
            Self::ParseError => "the input could not be parsed",
            Self::LimitExceeded => "the input exceeded a limit",
            Self::FileError => "a file could not be read or has unsafe permissions",
            Self::InvalidState => "the operation is not valid in the current state",
            Self::Rejected => "the certificate or token maps to no principal",
            Self::ProtocolError => "the peer broke the authentication protocol",
            Self::RandomUnavailable => "the system random number generator is unavailable",
            Self::IncompatibleVersion => "the library version does not match the caller's header",
            Self::ZkUnavailable => "ZooKeeper is unavailable or gave no valid policy in time",
            Self::Stale => "the policy from ZooKeeper is stale: failing closed",
        }
    }

    /// Maps a number from C to a result, or `None` if it names none.
    pub(crate) fn from_u32(n: u32) -> Option<Self> {
        const ALL: [mesos_auth_result; 18] = [
            mesos_auth_result::Ok,
            mesos_auth_result::NullParameter,
            mesos_auth_result::InvalidParameter,
            mesos_auth_result::InvalidUtf8,
            mesos_auth_result::Panic,
            mesos_auth_result::Poisoned,
            mesos_auth_result::WrongHandle,
            mesos_auth_result::BufferTooSmall,
            mesos_auth_result::ParseError,
            mesos_auth_result::LimitExceeded,
            mesos_auth_result::FileError,
            mesos_auth_result::InvalidState,
            mesos_auth_result::Rejected,
            mesos_auth_result::ProtocolError,
            mesos_auth_result::RandomUnavailable,
            mesos_auth_result::IncompatibleVersion,
            mesos_auth_result::ZkUnavailable,
            mesos_auth_result::Stale,
        ];
        ALL.into_iter().find(|r| *r as u32 == n)
    }
}

thread_local! {
    // The detail of the last failing call on this thread (line:column of a
    // parse error, say). Never holds a secret: it is built from the library's
    // error messages, which never contain one.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// This thread's last error message (for an error that crosses a Rust
/// boundary, not C's: the ZooKeeper watch's refusal reasons).
#[cfg_attr(
    not(feature = "zk"),
    expect(dead_code, reason = "used by the zk watch only")
)]
pub(crate) fn last_error_text() -> String {
    LAST_ERROR.with(|e| e.borrow().clone())
}

/// Records `detail` as this thread's last error and returns `code`.
///
/// Cold and out of line: error paths stay out of the hot functions' code,
/// so a decision's fast path keeps its values in registers.
#[cold]
#[inline(never)]
pub(crate) fn fail(code: mesos_auth_result, detail: impl std::fmt::Display) -> mesos_auth_result {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        use std::fmt::Write;
        let _ = write!(e, "{detail}");
    });
    code
}

/// Writes item `index` of `items` as [`write_text`] does (the
/// `_warning` / `_finding` exports); an index past the end is
/// `MESOS_AUTH_RESULT_INVALID_PARAMETER`, the message naming the list by `what`.
///
/// # Safety
///
/// As [`write_text`].
pub(crate) unsafe fn write_item(
    items: &[String],
    index: usize,
    what: &str,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> mesos_auth_result {
    match items.get(index) {
        // SAFETY: forwarded caller contract.
        Some(text) => unsafe { write_text(text, buf, len, out_n) },
        None => fail(
            mesos_auth_result::InvalidParameter,
            format_args!(
                "{what} index {index} out of range ({} {what}s)",
                items.len()
            ),
        ),
    }
}

/// Copies `text` into the caller's buffer as a NUL-terminated string.
///
/// # Safety
///
/// `buf` must be valid for `len` bytes of writes and `out_n` for one write.
pub(crate) unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> mesos_auth_result {
    if buf.is_null() || out_n.is_null() {
        return mesos_auth_result::NullParameter;
    }
    let needed = text.len() + 1;
    if len < needed {
        // SAFETY: out_n is non-null and the caller promised it is writable.
        unsafe { *out_n = needed };
        return mesos_auth_result::BufferTooSmall;
    }
    // SAFETY: buf is valid for len >= text.len() + 1 bytes (checked above);
    // the source is a Rust string that cannot overlap a C buffer we were given.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        *buf.add(text.len()) = 0;
        *out_n = text.len();
    }
    mesos_auth_result::Ok
}

/// Writes the static description of `result` into `buf` (NUL-terminated),
/// and its length (without the NUL) into `*out_n`. An unknown number is
/// described as such. If `len` is too small, nothing is written to `buf`,
/// `*out_n` gets the size needed (with the NUL), and the call returns
/// `MESOS_AUTH_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
///
/// `buf` must be valid for `len` bytes of writes; `out_n` for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mesos_auth_result_message(
    result: u32,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> mesos_auth_result {
    ffi_panic_boundary! {
        let text = mesos_auth_result::from_u32(result)
            .map_or("unknown result code", mesos_auth_result::description);
        // SAFETY: forwarded caller contract.
        unsafe { write_text(text, buf, len, out_n) }
    }
}

/// Writes the detail of the last failing call made on this thread (for
/// example `acls.json:3:17: unknown key ...`) into `buf`, like
/// [`mesos_auth_result_message`]. Empty if the last call had no detail.
///
/// # Safety
///
/// `buf` must be valid for `len` bytes of writes; `out_n` for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mesos_auth_last_error(
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> mesos_auth_result {
    ffi_panic_boundary! {
        LAST_ERROR.with(|e| {
            // SAFETY: forwarded caller contract.
            unsafe { write_text(&e.borrow(), buf, len, out_n) }
        })
    }
}
