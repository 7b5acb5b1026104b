use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn limiter(json: &str) -> RateLimiter {
    RateLimiter::new(&RateLimits::from_json(json).unwrap())
}

fn err(json: &str) -> String {
    RateLimits::from_json(json).unwrap_err().to_string()
}

#[test]
fn reads_the_mesos_format() {
    let l = RateLimits::from_json(
        r#"{"limits": [{"principal": "a", "qps": 0.5, "capacity": 3}, {"principal": "b"}],
            "aggregate_default_qps": 20, "aggregate_default_capacity": 100}"#,
    )
    .unwrap();
    assert_eq!(l.limits.len(), 2);
    assert_eq!(
        (l.limits[0].qps, l.limits[0].capacity),
        (Some(0.5), Some(3))
    );
    assert_eq!((l.limits[1].qps, l.limits[1].capacity), (None, None));
    assert_eq!(
        (l.aggregate_default_qps, l.aggregate_default_capacity),
        (Some(20.0), Some(100))
    );
    assert_eq!(RateLimits::from_json("{}").unwrap(), RateLimits::default());
}

#[test]
fn refuses_what_mesos_refuses_and_says_where() {
    assert_eq!(
        err(r#"{"limits": [{"principal": "a", "qps": 0}]}"#),
        "1:39: $.limits[0].qps: must be a positive number"
    );
    assert!(err(r#"{"limits": [{"principal": "a", "qps": -1}]}"#).contains("positive"));
    assert!(
        err(r#"{"aggregate_default_qps": 0}"#)
            .contains("$.aggregate_default_qps: must be a positive")
    );
    assert_eq!(
        err("{\"limits\": [{\"principal\": \"a\"},\n {\"principal\": \"a\"}]}"),
        "2:2: $.limits[1]: principal `a` is listed twice"
    );
    assert!(err(r#"{"limits": [{"qps": 1}]}"#).contains("$.limits[0]: missing `principal`"));
    assert!(err(r#"{"limits": [{"principal": "a", "capacity": 1.5}]}"#).contains("whole number"));
    assert!(err(r#"{"limits": [{"principal": "a", "capacity": -1}]}"#).contains("whole number"));
    assert!(
        err(r#"{"limits": [{"principal": "a", "qps": "1"}]}"#)
            .contains("expected a number, found a string")
    );
    assert!(err(r#"{"limit": []}"#).contains("$.limit: unknown key"));
    assert!(err(r#"{"limits": [], "limits": []}"#).contains("repeated key (first at 1:2)"));
    assert!(err(r#"{"limits": [{"principal": ""}]}"#).contains("$.limits[0].principal"));
    assert!(err(r#"{"limits": [{"principal": "a", "qps": 1e999}]}"#).contains("positive number"));
    assert_eq!(err("{\"limits\": ["), "1:13: unexpected end of text");
}

#[test]
fn follows_mesos_queue_and_capacity() {
    let l = limiter(
        r#"{"limits": [{"principal": "a", "qps": 2, "capacity": 1}, {"principal": "free"}]}"#,
    );
    let t0 = Instant::now() + Duration::from_secs(1);
    assert_eq!(l.check(Some("a"), t0), RateDecision::Allowed);
    assert_eq!(
        l.check(Some("a"), t0),
        RateDecision::Delayed(Duration::from_millis(500))
    );
    // One waits: capacity 1 reached; a permit frees 500 ms from now.
    assert_eq!(
        l.check(Some("a"), t0),
        RateDecision::Limited {
            retry_after: Duration::from_millis(500)
        }
    );
    assert_eq!(
        l.check(Some("a"), t0 + Duration::from_millis(500)),
        RateDecision::Delayed(Duration::from_millis(500))
    );
    assert_eq!(
        l.check(Some("a"), t0 + Duration::from_secs(5)),
        RateDecision::Allowed
    );
    assert_eq!(l.check(Some("free"), t0), RateDecision::Unlimited);
    // Not listed, no aggregate default: unlimited; no principal likewise.
    assert_eq!(l.check(Some("other"), t0), RateDecision::Unlimited);
    assert_eq!(l.check(None, t0), RateDecision::Unlimited);
}

#[test]
fn capacity_zero_drops_everything_as_mesos_does() {
    let l = limiter(r#"{"limits": [{"principal": "a", "qps": 100, "capacity": 0}]}"#);
    assert!(!l.check(Some("a"), Instant::now()).is_admitted());
}

#[test]
fn the_aggregate_default_is_shared() {
    let l = limiter(r#"{"aggregate_default_qps": 1, "aggregate_default_capacity": 0}"#);
    assert_eq!(l.limiters(), 1);
    let l = limiter(r#"{"aggregate_default_qps": 1, "aggregate_default_capacity": 1}"#);
    let t = Instant::now();
    assert_eq!(l.check(Some("x"), t), RateDecision::Allowed);
    assert_eq!(
        l.check(None, t),
        RateDecision::Delayed(Duration::from_secs(1))
    );
    assert!(!l.check(Some("y"), t).is_admitted());
}

#[test]
fn reload_keeps_the_state_of_unchanged_limits() {
    let l = limiter(
        r#"{"limits": [{"principal": "a", "qps": 1, "capacity": 0}, {"principal": "b", "qps": 1, "capacity": 1}]}"#,
    );
    let t = Instant::now();
    assert_eq!(l.check(Some("b"), t), RateDecision::Allowed);
    assert_eq!(
        l.check(Some("b"), t),
        RateDecision::Delayed(Duration::from_secs(1))
    );
    let generation = l.reload(
        &RateLimits::from_json(r#"{"limits": [{"principal": "a", "qps": 1}, {"principal": "b", "qps": 1, "capacity": 1}]}"#)
            .unwrap(),
    );
    assert_eq!((generation, l.generation()), (1, 1));
    // b's debt survives the reload; a's limit changed and starts afresh.
    assert!(!l.check(Some("b"), t).is_admitted());
    assert_eq!(l.check(Some("a"), t), RateDecision::Allowed);
}

#[test]
fn concurrent_checks_admit_exactly_the_capacity() {
    let l = Arc::new(limiter(
        r#"{"limits": [{"principal": "a", "qps": 1, "capacity": 50}]}"#,
    ));
    let t = Instant::now();
    let admitted: usize = (0..4)
        .map(|_| {
            let l = Arc::clone(&l);
            std::thread::spawn(move || {
                (0..1000)
                    .filter(|_| l.check(Some("a"), t).is_admitted())
                    .count()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum();
    // One permit now, 50 waiting: 51 in all, however the threads interleave.
    assert_eq!(admitted, 51);
}

/// Mesos's own bookkeeping (Master::consume with a BoundedRateLimiter),
/// step by step: a permit every `interval`, `waiting` messages queued, the
/// next one dropped once `capacity` wait.
struct MesosModel {
    interval: u64,
    capacity: Option<u64>,
    next_permit: u64,
    scheduled: std::collections::VecDeque<u64>,
}

impl MesosModel {
    fn arrive(&mut self, t: u64) -> RateDecision {
        while self.scheduled.front().is_some_and(|&s| s <= t) {
            self.scheduled.pop_front();
        }
        if self
            .capacity
            .is_some_and(|c| self.scheduled.len() as u64 >= c)
        {
            return RateDecision::Limited {
                retry_after: Duration::ZERO,
            };
        }
        let at = self.next_permit.max(t);
        self.next_permit = at + self.interval;
        if at == t {
            RateDecision::Allowed
        } else {
            self.scheduled.push_back(at);
            RateDecision::Delayed(Duration::from_nanos(at - t))
        }
    }
}

proptest! {
    #[test]
    fn agrees_with_the_mesos_model(
        interval_ms in 1u64..50,
        capacity in proptest::option::of(0u64..6),
        gaps in proptest::collection::vec(0u64..60, 1..200),
    ) {
        let qps = 1000.0 / interval_ms as f64;
        let json = match capacity {
            Some(c) => format!(r#"{{"limits": [{{"principal": "p", "qps": {qps}, "capacity": {c}}}]}}"#),
            None => format!(r#"{{"limits": [{{"principal": "p", "qps": {qps}}}]}}"#),
        };
        let l = limiter(&json);
        let interval = (1e9 / qps).round() as u64;
        let mut model = MesosModel { interval, capacity, next_permit: 0, scheduled: Default::default() };
        let start = Instant::now() + Duration::from_secs(1);
        let mut t = 1_000_000_000u64;
        for gap in gaps {
            t += gap * 1_000_000;
            let ours = l.check(Some("p"), start + Duration::from_nanos(t - 1_000_000_000));
            let mesos = model.arrive(t);
            match (ours, mesos) {
                (RateDecision::Limited { .. }, RateDecision::Limited { .. }) => {}
                (a, b) => prop_assert_eq!(a, b),
            }
        }
    }
}

#[test]
fn reads_a_file_and_refuses_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rate_limits.json");
    std::fs::write(&path, "{\"limits\": [{\"principal\": \"a\", \"qps\": 0}]}").unwrap();
    let e = RateLimits::from_file(&path).unwrap_err().to_string();
    assert!(
        e.starts_with("1:39: ") && e.contains("rate_limits.json: $.limits[0].qps"),
        "{e}"
    );
    std::fs::write(&path, r#"{"limits": [{"principal": "a", "qps": 5}]}"#).unwrap();
    assert_eq!(RateLimits::from_file(&path).unwrap().limits.len(), 1);
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        tx.send(
            RateLimits::from_file(&fifo)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        )
    });
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a FIFO must not block the loader");
    assert!(got.unwrap_err().contains("is not a regular file"));
}

#[test]
fn limits_built_in_code_are_checked_too() {
    let p = crate::Principal::new("a").unwrap();
    assert_eq!(
        RateLimit::new(p.clone(), Some(0.0), None)
            .unwrap_err()
            .to_string(),
        "the limit for `a`: qps must be a positive number"
    );
    assert!(RateLimit::new(p.clone(), Some(f64::NAN), None).is_err());
    assert!(RateLimit::new(p, None, Some(3)).is_ok());
}

/// `check_now`: within the capacity (or the default burst without one) a
/// request is served now, beyond it refused with nothing taken; never
/// `Delayed`.
#[test]
fn check_now_answers_at_once() {
    let l = limiter(
        r#"{"limits": [{"principal": "a", "qps": 1, "capacity": 2}, {"principal": "b", "qps": 4}]}"#,
    );
    let t = Instant::now();
    let burst = Duration::from_millis(500);
    let a: Vec<_> = (0..4).map(|_| l.check_now(Some("a"), t, burst)).collect();
    assert_eq!(a[..3], [RateDecision::Allowed; 3]);
    assert_eq!(
        a[3],
        RateDecision::Limited {
            retry_after: Duration::from_secs(1)
        }
    );
    // b has no capacity: 500 ms of its 4/s rate ahead, plus the one due now.
    let b: Vec<_> = (0..5).map(|_| l.check_now(Some("b"), t, burst)).collect();
    assert_eq!(b[..3], [RateDecision::Allowed; 3]);
    assert!(matches!(b[3], RateDecision::Limited { .. }));
    // A refusal takes nothing: a quarter second later one more fits.
    let later = t + Duration::from_millis(250);
    assert_eq!(l.check_now(Some("b"), later, burst), RateDecision::Allowed);
    assert!(matches!(
        l.check_now(Some("b"), later, burst),
        RateDecision::Limited { .. }
    ));
    assert_eq!(l.check_now(Some("c"), t, burst), RateDecision::Unlimited);
}
