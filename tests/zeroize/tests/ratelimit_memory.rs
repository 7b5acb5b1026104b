//! The rate limiter's footprint (issue 16): 1,000,000 principals fit in
//! 128 MiB of heap, and a check allocates nothing. A counting global
//! allocator; its own test binary, because the allocator is process-wide.
#![allow(missing_docs, clippy::unwrap_used, reason = "test binary")]

use mesos_auth_zeroize_test::{ALLOCATIONS, Counting, LIVE};
use std::sync::atomic::Ordering;
use std::time::Instant;

use mesos_auth::Principal;
use mesos_auth::ratelimit::{RateDecision, RateLimit, RateLimiter, RateLimits};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_million_principals_fit_in_128_mib_and_checks_do_not_allocate() {
    let mut limits = RateLimits::default();
    limits.limits = (0..1_000_000)
        .map(|i| {
            let name = Principal::new(&format!("framework-{i:07}")).unwrap();
            RateLimit::new(name, Some(10.0), Some(5)).unwrap()
        })
        .collect();
    limits.aggregate_default_qps = Some(100.0);
    let before = LIVE.load(Ordering::SeqCst);
    let limiter = RateLimiter::new(&limits);
    let retained = LIVE.load(Ordering::SeqCst) - before;
    drop(limits);
    println!(
        "1,000,000 principals: {retained} bytes retained ({} per principal, {} of it the limiter's state)",
        retained / 1_000_000,
        limiter.state_bytes() / limiter.limiters()
    );
    assert!(
        retained <= 128 << 20,
        "{retained} bytes for 1,000,000 principals"
    );
    // A positive control for the counter: building did allocate.
    assert!(retained > 1_000_000);

    let now = Instant::now();
    // The first read on a thread may set up arc-swap's per-thread slot.
    assert!(limiter.check(Some("framework-0000001"), now).is_admitted());
    let allocations = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(
        limiter.check(Some("framework-0999999"), now),
        RateDecision::Allowed
    );
    assert!(limiter.check(Some("framework-0000042"), now).is_admitted());
    assert_eq!(
        limiter.check(Some("not-listed"), now),
        RateDecision::Allowed
    );
    assert_eq!(
        limiter.check(None, now),
        RateDecision::Delayed(std::time::Duration::from_millis(10))
    );
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), allocations);
}
