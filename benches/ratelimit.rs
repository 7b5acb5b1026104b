//! Rate-limit checks (criterion): one check by a listed principal in a table
//! of 1,000,000 principals, uncontended and with two threads on one
//! principal, beside governor's keyed GCRA limiter doing the same. Two
//! threads on one principal come in three shapes: a rate so high that every
//! check takes a permit (each check writes the principal's shared state:
//! the worst case), a principal over its rate (the abuse a limiter is for:
//! refusals only read), and a principal listed without a rate. The floor row
//! shows what the host charges this run for moving one cache line between
//! the two vCPUs.
//!
//! `cargo bench --bench ratelimit -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, missing_docs, reason = "benchmark harness")]

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use governor::{Quota, RateLimiter as Governor};
use mesos_auth::ratelimit::{RateLimiter, RateLimits};

const PRINCIPALS: usize = 1_000_000;
/// A principal with a rate every benchmark loop exceeds at once: after its
/// burst every check is a refusal, the case a limiter exists for.
const ABUSER: &str = "framework-abuser";
/// A principal listed without a rate: Mesos never throttles it.
const UNLIMITED: &str = "framework-unlimited";

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
    json.push_str(&format!(
        r#",{{"principal": "{ABUSER}", "qps": 100, "capacity": 10}},{{"principal": "{UNLIMITED}"}}]}}"#
    ));
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
    // Leaked: the hammer threads' closures outlive this frame's borrows.
    let key: &'static String = Box::leak(Box::new(name.to_owned()));
    contended(
        &mut g,
        "check, 1M principals, 2 threads on one principal, caller's time",
        &ours,
        move |l| l.check(Some(black_box(name)), black_box(now)).is_admitted(),
    );
    contended(
        &mut g,
        "governor keyed check, 2 threads on one key",
        &governor,
        move |l| l.check_key(black_box(key)).is_ok(),
    );
    contended(
        &mut g,
        "check, 1M principals, 2 threads on one principal over its rate, caller's time",
        &ours,
        move |l| {
            l.check(Some(black_box(ABUSER)), black_box(now))
                .is_admitted()
        },
    );
    contended(
        &mut g,
        "check, 1M principals, 2 threads on one principal without a rate, caller's time",
        &ours,
        move |l| {
            l.check(Some(black_box(UNLIMITED)), black_box(now))
                .is_admitted()
        },
    );
    let quota =
        Quota::per_second(NonZeroU32::new(100).unwrap()).allow_burst(NonZeroU32::new(10).unwrap());
    let abused = Arc::new(Governor::keyed(quota));
    contended(
        &mut g,
        "governor keyed check, 2 threads on one key over its rate",
        &abused,
        |l| l.check_key(black_box(&ABUSER)).is_ok(),
    );
    floors(&mut g);
    g.finish();
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Measures `check` on this thread while a second thread runs it in a loop.
fn contended<L: Send + Sync + 'static>(
    g: &mut Group<'_>,
    label: &str,
    limiter: &Arc<L>,
    check: impl Fn(&L) -> bool + Send + Copy + 'static,
) {
    let hammer = Arc::clone(limiter);
    with_hammer(
        move || {
            black_box(check(&hammer));
        },
        || {
            g.bench_function(label, |b| b.iter(|| black_box(check(black_box(limiter)))));
        },
    );
}

/// What moving one cache line between the two cores costs on this machine,
/// measured in the same run: two threads hand a flag back and forth, so each
/// iteration is two transfers of the line. Any exact limiter whose every
/// check writes shared state pays at least one transfer per check when two
/// cores take turns; which cores the host gives the VM sets this figure.
fn floors(g: &mut Group<'_>) {
    let flag = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (peer_flag, peer_stop) = (Arc::clone(&flag), Arc::clone(&stop));
    // The peer answers every odd value with the next even one.
    let peer = std::thread::spawn(move || {
        while !peer_stop.load(Ordering::Relaxed) {
            let v = peer_flag.load(Ordering::Acquire);
            if v % 2 == 1 {
                peer_flag.store(v + 1, Ordering::Release);
            } else {
                std::hint::spin_loop();
            }
        }
    });
    g.bench_function(
        "floor: one cache line there and back between 2 threads",
        |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let v = flag.fetch_add(1, Ordering::AcqRel) + 1;
                    while flag.load(Ordering::Acquire) == v {
                        std::hint::spin_loop();
                    }
                }
                start.elapsed()
            })
        },
    );
    stop.store(true, Ordering::Relaxed);
    peer.join().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
