//! Opaque handles: how a Rust object crosses to C and comes back.
//!
//! The Rust value lives in a [`Tagged<T>`]: a `#[repr(C)]` header (a kind
//! tag and a poisoned flag) followed by the value. Every pointer C holds
//! starts with a kind tag at offset 0 whatever `T` is, so any handle pointer
//! can be checked for its kind before it is used as a `T` (threats.md FF-4).
//!
//! [`Castable`] names, for each opaque C type, the Rust type behind it and
//! whether C holds an `Arc` (shared compiled objects: any thread, any number
//! of concurrent calls) or a `Box` (one session: one call at a time).
//!
//! A Box handle points at its `Tagged<T>`; it gets a dead tag just before
//! its memory is released, which catches some use-after-free mistakes (ASan
//! catches the rest in our tests).
//!
//! A shared (Arc) handle is one C *reference*: a small [`CRef`] box holding
//! the kind tag and one strong count of the `Arc<Tagged<T>>`. `_free` gives
//! the count back and marks the reference released, but keeps the box
//! itself alive for the life of the process (in [`GRAVEYARD`]), so a second
//! `_free` or a use after free reads a released tag and gets `WRONG_HANDLE`
//! instead of touching freed memory or dropping someone else's count (the
//! object may still be alive, held by sessions or other references). The
//! cost is one small box (24 bytes) per released reference; references are
//! made by `_load` / `_compile` / `_new` / `_up_ref`, not per request.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};

use crate::result::{fail, mesos_auth_result};

/// The kind tags. Values are arbitrary but distinct and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Kind {
    Credentials = 0x4d41_0001,
    Authenticator = 0x4d41_0002,
    Authenticatee = 0x4d41_0003,
    TlsMapper = 0x4d41_0004,
    Acl = 0x4d41_0005,
    Audit = 0x4d41_0006,
    Throttle = 0x4d41_0007,
    RateLimiter = 0x4d41_0010,
    HttpBuilder = 0x4d41_0011,
    HttpAuthenticator = 0x4d41_0012,
    HttpOutcome = 0x4d41_0013,
    Bearer = 0x4d41_0014,
    #[cfg(feature = "zk")]
    ZkWatch = 0x4d41_0015,
    // Apart from the run above, so kinds added elsewhere meanwhile keep
    // their numbers.
    #[cfg(feature = "gssapi")]
    GssapiServer = 0x4d41_0020,
    #[cfg(feature = "gssapi")]
    GssapiClient = 0x4d41_0021,
    #[cfg(feature = "gssapi")]
    GssapiAcceptor = 0x4d41_0022,
    // Apart again, for the same reason.
    TokenSource = 0x4d41_0030,
}

/// The tag a Box handle gets as it is freed.
const DEAD: u32 = 0xdead_0000;

/// The tag a shared handle's [`CRef`] gets when its `_free` gives the
/// reference back. The box stays readable, so this stays detectable.
const RELEASED: u32 = 0xdead_0001;

/// How C owns a handle.
pub(crate) enum Ownership {
    /// A [`CRef`] holding one strong count; `_free` gives it back.
    Arc,
    /// `Box::into_raw`; `_free` drops the value.
    Box,
}

/// Maps an opaque C type to the Rust value behind it.
pub(crate) trait Castable {
    /// The Rust type C's pointer really points at (inside a [`Tagged`]).
    type RustType: Send + Sync + 'static;
    /// Its tag.
    const KIND: Kind;
    /// How C holds it.
    const OWNERSHIP: Ownership;
}

#[repr(C)]
pub(crate) struct Header {
    tag: AtomicU32,
    poisoned: AtomicBool,
}

/// The Rust value behind a handle, with its header. A Box handle points
/// at one; a shared handle's [`CRef`] holds an `Arc` of one.
#[repr(C)]
pub(crate) struct Tagged<T> {
    header: Header,
    value: T,
}

impl<T> Tagged<T> {
    fn new(kind: Kind, value: T) -> Self {
        Self {
            header: Header {
                tag: AtomicU32::new(kind as u32),
                poisoned: AtomicBool::new(false),
            },
            value,
        }
    }
}

/// One C reference to a shared object: what a shared handle points at.
///
/// Never freed: a released one is kept (reachable from [`GRAVEYARD`]) so
/// that a stale pointer to it stays safe to read.
#[repr(C)]
pub(crate) struct CRef<T> {
    /// The kind tag while C holds the reference; [`RELEASED`] after.
    tag: AtomicU32,
    /// `Arc::into_raw` of the object; NULL once released.
    value: AtomicPtr<Tagged<T>>,
    /// The next released reference (the graveyard's list link).
    next: AtomicPtr<()>,
}

/// Released references, linked through `CRef::next`. Only ever pushed, so
/// no ABA; it keeps them reachable, which tells leak checkers (LSan,
/// valgrind) that they are kept on purpose.
static GRAVEYARD: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

/// Keeps a released reference for good.
fn bury<T>(r: &'static CRef<T>) {
    let me = std::ptr::from_ref(r).cast_mut().cast::<()>();
    let mut head = GRAVEYARD.load(Ordering::Relaxed);
    loop {
        r.next.store(head, Ordering::Relaxed);
        match GRAVEYARD.compare_exchange_weak(head, me, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => return,
            Err(h) => head = h,
        }
    }
}

/// The error for a tag that is not `C`'s kind.
#[cold]
#[inline(never)]
fn bad_tag(tag: u32, what: &str) -> mesos_auth_result {
    if tag == RELEASED {
        fail(
            mesos_auth_result::WrongHandle,
            format_args!("{what}: this reference was already released by its _free"),
        )
    } else {
        fail(
            mesos_auth_result::WrongHandle,
            format_args!("{what}: a handle of another kind, or a freed one, was passed"),
        )
    }
}

/// Checks the tag behind `ptr` and finds the value.
///
/// # Safety
///
/// `ptr` must be NULL, a pointer this library handed out (of any kind) that
/// has not been freed, or a released shared reference.
#[inline(always)]
unsafe fn check<C: Castable>(
    ptr: *const C,
) -> Result<*const Tagged<C::RustType>, mesos_auth_result> {
    if ptr.is_null() {
        return Err(fail(
            mesos_auth_result::NullParameter,
            "a handle argument was NULL",
        ));
    }
    // SAFETY: every handle (a Tagged or a CRef, both repr(C)) starts with
    // its AtomicU32 tag, and the caller promised `ptr` is readable.
    let tag = unsafe { &*ptr.cast::<AtomicU32>() }.load(Ordering::Acquire);
    if tag != C::KIND as u32 {
        return Err(bad_tag(tag, "handle"));
    }
    let tagged = match C::OWNERSHIP {
        Ownership::Box => ptr.cast::<Tagged<C::RustType>>(),
        // SAFETY: the tag says this is a held CRef of this type, whose value
        // is non-NULL until its _free (which the caller does not race).
        Ownership::Arc => unsafe { &*ptr.cast::<CRef<C::RustType>>() }
            .value
            .load(Ordering::Acquire)
            .cast_const(),
    };
    // SAFETY: a live Tagged (a Box handle, or an Arc C still holds).
    let header = unsafe { &(*tagged).header };
    if header.poisoned.load(Ordering::Acquire) {
        return Err(fail(
            mesos_auth_result::Poisoned,
            "the handle was poisoned by an earlier internal error",
        ));
    }
    Ok(tagged)
}

/// Runs `f` on the value, catching a panic: the handle is then poisoned
/// and `MESOS_AUTH_RESULT_PANIC` returned.
#[inline(always)]
fn guarded<T, R>(
    tagged: &Tagged<T>,
    f: impl FnOnce(&T) -> Result<R, mesos_auth_result>,
) -> Result<R, mesos_auth_result> {
    match catch_unwind(AssertUnwindSafe(|| f(&tagged.value))) {
        Ok(r) => r,
        Err(_) => {
            tagged.header.poisoned.store(true, Ordering::Release);
            Err(fail(
                mesos_auth_result::Panic,
                "internal error (panic); the handle is now poisoned",
            ))
        }
    }
}

/// Gives C a new shared handle: one reference to a new object.
pub(crate) fn to_arc<C: Castable>(value: C::RustType) -> *const C {
    new_ref::<C>(Arc::new(Tagged::new(C::KIND, value)))
}

/// Gives C a new reference to `arc`.
fn new_ref<C: Castable>(arc: Arc<Tagged<C::RustType>>) -> *const C {
    debug_assert!(matches!(C::OWNERSHIP, Ownership::Arc));
    let r = CRef {
        tag: AtomicU32::new(C::KIND as u32),
        value: AtomicPtr::new(Arc::into_raw(arc).cast_mut()),
        next: AtomicPtr::new(std::ptr::null_mut()),
    };
    Box::into_raw(Box::new(r)).cast_const().cast::<C>()
}

/// The `_up_ref` of a shared handle: a new C reference to the same object,
/// a distinct pointer with its own `_free`.
///
/// # Safety
///
/// As [`with_ref`]; `out` NULL or valid for one write.
pub(crate) unsafe fn up_ref<C: Castable>(ptr: *const C, out: *mut *const C) -> mesos_auth_result {
    if out.is_null() {
        return fail(mesos_auth_result::NullParameter, "out is NULL");
    }
    // SAFETY: forwarded caller contract.
    match unsafe { clone_arc(ptr) } {
        // SAFETY: non-null, writable by the caller's contract.
        Ok(arc) => unsafe { write_out(out, new_ref::<C>(arc)) },
        Err(e) => e,
    }
}

/// Hands C a new Arc handle through `out`, or passes the error on (the
/// tail of every `_load` / `_compile` export).
///
/// # Safety
///
/// `out` must be non-null and valid for one write.
pub(crate) unsafe fn finish_arc<C: Castable>(
    value: Result<C::RustType, mesos_auth_result>,
    out: *mut *const C,
) -> mesos_auth_result {
    match value {
        Ok(v) => {
            // SAFETY: the caller's contract.
            unsafe { out.write(to_arc::<C>(v)) };
            mesos_auth_result::Ok
        }
        Err(e) => e,
    }
}

/// Gives C a new Box handle.
pub(crate) fn to_box<C: Castable>(value: C::RustType) -> *mut C {
    Box::into_raw(Box::new(Tagged::new(C::KIND, value))).cast::<C>()
}

/// Calls `f` with a shared reference to the value behind a handle.
///
/// # Safety
///
/// `ptr` must be NULL or a live handle from this library. For a Box handle,
/// no other call may be using it at the same time.
#[inline(always)]
pub(crate) unsafe fn with_ref<C: Castable, R>(
    ptr: *const C,
    f: impl FnOnce(&C::RustType) -> Result<R, mesos_auth_result>,
) -> Result<R, mesos_auth_result> {
    // SAFETY: forwarded caller contract.
    let tagged = unsafe { check(ptr)? };
    // SAFETY: `check` verified the tag, so `tagged` points at a live
    // Tagged<C::RustType>; it lives at least until this call returns, since
    // freeing it concurrently would break the caller's contract.
    guarded(unsafe { &*tagged }, f)
}

/// The shape of every getter (`_generation`, `_count`, a reload's new
/// generation): checks `out`, runs `f` on the value behind `ptr` (panics
/// caught, as [`with_ref`]) and writes its result to `*out`; nothing is
/// written on error. `what` names `out` in the error message.
///
/// # Safety
///
/// As [`with_ref`]; `out` NULL or valid for one write of `T`.
pub(crate) unsafe fn get<C: Castable, T>(
    ptr: *const C,
    out: *mut T,
    what: &str,
    f: impl FnOnce(&C::RustType) -> Result<T, mesos_auth_result>,
) -> mesos_auth_result {
    if out.is_null() {
        return fail(
            mesos_auth_result::NullParameter,
            format_args!("{what} is NULL"),
        );
    }
    // SAFETY: forwarded caller contract.
    match unsafe { with_ref(ptr, f) } {
        // SAFETY: non-null, writable by the caller's contract.
        Ok(v) => unsafe { write_out(out, v) },
        Err(e) => e,
    }
}

/// [`get`] for text (`_explain`, `_map_der`): checks `buf` and `out_n`,
/// runs `f` on the value behind `ptr` and writes its text as
/// [`write_text`](crate::result::write_text) does; nothing is written on
/// error.
///
/// # Safety
///
/// As [`with_ref`]; `buf` valid for `len` bytes of writes, `out_n` for one.
pub(crate) unsafe fn get_text<C: Castable>(
    ptr: *const C,
    buf: *mut std::ffi::c_char,
    len: usize,
    out_n: *mut usize,
    f: impl FnOnce(&C::RustType) -> Result<String, mesos_auth_result>,
) -> mesos_auth_result {
    if buf.is_null() || out_n.is_null() {
        return fail(mesos_auth_result::NullParameter, "buf or out_n is NULL");
    }
    // SAFETY: forwarded caller contract.
    match unsafe { with_ref(ptr, f) } {
        // SAFETY: forwarded caller contract.
        Ok(text) => unsafe { crate::result::write_text(&text, buf, len, out_n) },
        Err(e) => e,
    }
}

/// Calls `f` with an exclusive reference to the value behind a Box handle.
///
/// # Safety
///
/// `ptr` must be NULL or a live Box handle from this library, used by no
/// other call at the same time.
pub(crate) unsafe fn with_mut<C: Castable, R>(
    ptr: *mut C,
    f: impl FnOnce(&mut C::RustType) -> Result<R, mesos_auth_result>,
) -> Result<R, mesos_auth_result> {
    debug_assert!(matches!(C::OWNERSHIP, Ownership::Box));
    // SAFETY: forwarded caller contract.
    let tagged = unsafe { check(ptr.cast_const())? }.cast_mut();
    // SAFETY: tag checked; a Box handle is used by one call at a time (the
    // caller's contract), so this is the only reference.
    let tagged = unsafe { &mut *tagged };
    let poisoned = &tagged.header.poisoned;
    match catch_unwind(AssertUnwindSafe(|| f(&mut tagged.value))) {
        Ok(r) => r,
        Err(_) => {
            poisoned.store(true, Ordering::Release);
            Err(fail(
                mesos_auth_result::Panic,
                "internal error (panic); the handle is now poisoned",
            ))
        }
    }
}

/// A new strong reference to the value behind an Arc handle (for objects
/// that keep what they were built from alive, e.g. a session and its store).
///
/// # Safety
///
/// As [`with_ref`].
pub(crate) unsafe fn clone_arc<C: Castable>(
    ptr: *const C,
) -> Result<Arc<Tagged<C::RustType>>, mesos_auth_result> {
    debug_assert!(matches!(C::OWNERSHIP, Ownership::Arc));
    // SAFETY: forwarded caller contract.
    let tagged = unsafe { check(ptr)? };
    // SAFETY: a held CRef's value came from Arc::into_raw of this exact type
    // (tag checked) and C still holds that count, so it is at least 1.
    unsafe {
        Arc::increment_strong_count(tagged);
        Ok(Arc::from_raw(tagged))
    }
}

impl<T> std::ops::Deref for Tagged<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Releases C's reference. NULL is a no-op; a handle of another kind is
/// refused (and leaked rather than freed as the wrong type); a shared
/// reference already released is refused (`MESOS_AUTH_RESULT_WRONG_HANDLE`), its object
/// untouched.
///
/// # Safety
///
/// `ptr` must be NULL, a live handle from this library or a released shared
/// reference, not used by any other call during this one (a Box handle: not
/// used again at all).
pub(crate) unsafe fn free<C: Castable>(ptr: *const C) -> mesos_auth_result {
    if ptr.is_null() {
        return mesos_auth_result::Ok;
    }
    // SAFETY: every handle starts with its tag (see `check`); the caller
    // promised `ptr` is readable. A poisoned handle may still be freed.
    let tag = unsafe { &*ptr.cast::<AtomicU32>() };
    match C::OWNERSHIP {
        Ownership::Arc => {
            // The swap makes exactly one of two racing _free calls win.
            if let Err(t) = tag.compare_exchange(
                C::KIND as u32,
                RELEASED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                return bad_tag(t, "_free");
            }
            // SAFETY: the tag was this kind, so `ptr` is a CRef of this type;
            // CRefs are never freed, so it may be borrowed for good.
            let r: &'static CRef<C::RustType> = unsafe { &*ptr.cast::<CRef<C::RustType>>() };
            let value = r.value.swap(std::ptr::null_mut(), Ordering::AcqRel);
            // SAFETY: from Arc::into_raw of this type, taken out of the CRef
            // exactly once (the tag swap above): C's count is given back.
            drop(unsafe { Arc::from_raw(value.cast_const()) });
            bury(r);
        }
        Ownership::Box => {
            let t = tag.load(Ordering::Acquire);
            if t != C::KIND as u32 {
                return bad_tag(t, "_free");
            }
            let tagged = ptr.cast::<Tagged<C::RustType>>();
            // SAFETY: from Box::into_raw of this type (tag checked), and the
            // caller gives up the pointer.
            let boxed = unsafe { Box::from_raw(tagged.cast_mut()) };
            boxed.header.tag.store(DEAD, Ordering::Release);
            drop(boxed);
        }
    }
    mesos_auth_result::Ok
}

/// Writes `value` to `*out`.
///
/// # Safety
///
/// `out` must be NULL or valid for one write of `T`.
#[inline]
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> mesos_auth_result {
    if out.is_null() {
        return fail(
            mesos_auth_result::NullParameter,
            "an output argument was NULL",
        );
    }
    // SAFETY: non-null, and the caller promised it is writable.
    unsafe { out.write(value) };
    mesos_auth_result::Ok
}

/// Borrows `len` bytes at `ptr` (NULL allowed when `len` is 0).
///
/// # Safety
///
/// `ptr` must be valid for `len` bytes of reads for the returned lifetime.
#[inline(always)]
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], mesos_auth_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(fail(
            mesos_auth_result::NullParameter,
            format_args!("{what}: NULL pointer with a non-zero length"),
        ));
    }
    if len > isize::MAX as usize {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            format_args!("{what}: length too large"),
        ));
    }
    // SAFETY: non-null, len bounded, and the caller promised readability.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a UTF-8 string without NUL bytes (threats.md FF-3).
///
/// # Safety
///
/// As [`bytes`].
#[inline(always)]
pub(crate) unsafe fn string<'a>(
    ptr: *const std::ffi::c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, mesos_auth_result> {
    // SAFETY: forwarded caller contract.
    let b = unsafe { bytes(ptr.cast::<u8>(), len, what)? };
    // Fast path (on every decision's path): ASCII without NUL is UTF-8
    // without NUL, screened a word at a time.
    if ascii_without_nul(b) {
        // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(b) });
    }
    utf8_without_nul(b, what)
}

/// [`string`] for anything but plain ASCII: full UTF-8 validation.
#[inline(never)]
fn utf8_without_nul<'a>(b: &'a [u8], what: &str) -> Result<&'a str, mesos_auth_result> {
    let s = std::str::from_utf8(b).map_err(|e| {
        fail(
            mesos_auth_result::InvalidUtf8,
            format_args!("{what}: invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    if let Some(at) = b.iter().position(|&x| x == 0) {
        return Err(fail(
            mesos_auth_result::InvalidUtf8,
            format_args!("{what}: NUL byte at byte {at}"),
        ));
    }
    Ok(s)
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Non-zero iff a byte of `w` is 0 or ≥ 0x80 (exact as a boolean: the
/// zero-byte borrow only runs upwards from a byte that really is 0).
#[inline(always)]
fn non_ascii_or_nul(w: u64) -> u64 {
    (w | (w.wrapping_sub(LO) & !w)) & HI
}

/// Whether every byte of `b` is ASCII and none is NUL, eight at a time
/// (overlapping reads at the ends, so no byte loop below 8 bytes but for
/// the shortest strings).
#[inline(always)]
pub(crate) fn ascii_without_nul(b: &[u8]) -> bool {
    if let (Some(first), Some(last)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        let mut bad = non_ascii_or_nul(u64::from_le_bytes(*first))
            | non_ascii_or_nul(u64::from_le_bytes(*last));
        if b.len() > 16 {
            let mut rest = b;
            while let Some((w, tail)) = rest.split_first_chunk::<8>() {
                bad |= non_ascii_or_nul(u64::from_le_bytes(*w));
                rest = tail;
            }
        }
        bad == 0
    } else if let (Some(first), Some(last)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        // 4..=7 bytes: two overlapping 4-byte reads, padded with 'A's.
        let pad = 0x4141_4141 << 32;
        let x = u64::from(u32::from_le_bytes(*first)) | pad;
        let y = u64::from(u32::from_le_bytes(*last)) | pad;
        non_ascii_or_nul(x) | non_ascii_or_nul(y) == 0
    } else {
        b.iter().all(|&x| x != 0 && x.is_ascii())
    }
}

/// Turns a `Result` into the C result code (the error was recorded by `fail`).
pub(crate) fn code(r: Result<(), mesos_auth_result>) -> mesos_auth_result {
    match r {
        Ok(()) => mesos_auth_result::Ok,
        Err(e) => e,
    }
}
