//! Allocator-level test support: this package exists for its test binaries,
//! which install global allocators (unsafe code, which the `mesos-auth`
//! package forbids in all of its targets). The `zeroize` binary has a
//! scanning allocator of its own; `no_alloc`, `ratelimit_memory` and
//! `load_memory` share [`Counting`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Allocation and reallocation calls so far (process-wide).
pub static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Bytes requested and not yet freed (process-wide; the allocator's own
/// overhead is not counted).
pub static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Most bytes live at once since the last [`reset_peak`] (process-wide).
pub static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Starts a new peak measurement from the bytes live now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::SeqCst), Ordering::SeqCst);
}

thread_local! {
    // Const-initialised, no destructor: reading it never allocates, so the
    // allocator itself may.
    static THREAD_ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Allocations (and reallocations) made so far by the calling thread: unlike
/// [`ALLOCATIONS`], not moved by the test harness's other threads (which
/// allocate to report a finished test while the next one runs).
pub fn thread_allocations() -> usize {
    THREAD_ALLOCATIONS.with(std::cell::Cell::get)
}

fn count_thread() {
    // `try_with`: during thread teardown the slot may be gone.
    let _ = THREAD_ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

/// Forwards to `System`, counting calls and live bytes. A test binary
/// installs it with `#[global_allocator] static GLOBAL: Counting = Counting;`.
pub struct Counting;

#[allow(
    unsafe_code,
    reason = "a GlobalAlloc impl is unsafe by definition; it only forwards to System"
)]
// SAFETY: every method forwards to `System` with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        count_thread();
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        count_thread();
        let live = LIVE.fetch_add(new_size, Ordering::SeqCst) + new_size;
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // Net of the old block: a large block grows in place (mremap).
        PEAK.fetch_max(live - layout.size(), Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
