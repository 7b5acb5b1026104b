//! Rate-limit checks (criterion): one check by a listed principal in a table
//! of 1,000,000 principals, uncontended and with two threads on one
//! principal, beside governor's keyed GCRA limiter doing the same.
//!
//! `cargo bench --bench ratelimit -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, missing_docs, reason = "benchmark harness")]

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use governor::{Quota, RateLimiter as Governor};
use mesos_auth::ratelimit::{RateLimiter, RateLimits};

const PRINCIPALS: usize = 1_000_000;

fn limits() -> RateLimits {
    let mut json = String::from(r#"{"limits": ["#);
    for i in 0..PRINCIPALS {
        if i > 0 {
            json.push(',');
        }
        // A rate no benchmark loop exhausts, so every check takes a permit.
        json.push_str(&format!(
            r#"{{"principal": "framework-{i}", "qps": 1000000000}}"#
        ));
    }
    json.push_str("]}");
    RateLimits::from_json(&json).unwrap()
}

/// Runs `f` on a second thread for as long as the measurement lasts.
fn with_hammer<R>(hammer: impl Fn() + Send + 'static, measure: impl FnOnce() -> R) -> R {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            for _ in 0..64 {
                hammer();
            }
        }
    });
    let r = measure();
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
    r
}

fn bench(c: &mut Criterion) {
    let ours = Arc::new(RateLimiter::new(&limits()));
    let quota = Quota::per_second(NonZeroU32::new(1_000_000_000).unwrap());
    let governor = Arc::new(Governor::keyed(quota));
    for i in 0..PRINCIPALS {
        let _ = governor.check_key(&format!("framework-{i}"));
    }
    let name = "framework-777777";
    let mut g = c.benchmark_group("ratelimit");
    // The clock a host reads once per request anyway; governor reads its own
    // (quanta) inside check_key, so its rows include one.
    g.bench_function("Instant::now()", |b| b.iter(|| black_box(Instant::now())));
    g.bench_function(
        "check, 1M principals, uncontended, clock read per call",
        |b| b.iter(|| black_box(ours.check(Some(black_box(name)), Instant::now()))),
    );
    let now = Instant::now();
    g.bench_function("check, 1M principals, uncontended, caller's time", |b| {
        b.iter(|| black_box(ours.check(Some(black_box(name)), black_box(now))))
    });
    g.bench_function("governor keyed check, 1M keys, uncontended", |b| {
        let key = name.to_owned();
        b.iter(|| black_box(governor.check_key(black_box(&key)).is_ok()))
    });
    let hammer = Arc::clone(&ours);
    with_hammer(
        move || {
            black_box(hammer.check(Some(name), now));
        },
        || {
            g.bench_function(
                "check, 1M principals, 2 threads on one principal, caller's time",
                |b| b.iter(|| black_box(ours.check(Some(black_box(name)), black_box(now)))),
            );
        },
    );
    let hammer = Arc::clone(&governor);
    let hammer_key = name.to_owned();
    with_hammer(
        move || {
            let _ = black_box(hammer.check_key(&hammer_key));
        },
        || {
            g.bench_function("governor keyed check, 2 threads on one key", |b| {
                let key = name.to_owned();
                b.iter(|| black_box(governor.check_key(black_box(&key)).is_ok()))
            });
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
