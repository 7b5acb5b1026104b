//! Failure throttling: exponential backoff per principal and per peer, so
//! online guessing against a master is slowed down (threats.md SA-14).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::event::{AuthEvent, AuthResult, FailureReason, Side};

/// Settings of a [`Throttle`].
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    free_failures: u32,
    base: Duration,
    max: Duration,
    forget_after: Duration,
    max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            free_failures: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
            forget_after: Duration::from_secs(15 * 60),
            max_entries: 10_000,
        }
    }
}

impl ThrottleConfig {
    /// Defaults: 3 failures free, then 1 s doubling up to 60 s; a key is
    /// forgotten 15 minutes after its last failure; at most 10,000 keys of
    /// each kind.
    pub fn new() -> Self {
        Self::default()
    }

    /// Failures allowed before any delay.
    #[must_use]
    pub fn free_failures(mut self, n: u32) -> Self {
        self.free_failures = n;
        self
    }

    /// The first delay; each further failure doubles it.
    #[must_use]
    pub fn base(mut self, base: Duration) -> Self {
        self.base = base;
        self
    }

    /// The longest delay.
    #[must_use]
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// How long after its last failure a key is forgotten.
    #[must_use]
    pub fn forget_after(mut self, d: Duration) -> Self {
        self.forget_after = d;
        self
    }

    /// Most keys tracked per kind (principals, peers). When full, expired
    /// keys go first, then the one whose last failure is oldest.
    #[must_use]
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n.max(1);
        self
    }
}

/// What the host should do with a new attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allow,
    /// Refuse (or hold) the attempt for this long.
    Delay(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    until: Instant,
}

/// Tracks failures per principal and per peer.
///
/// Not internally locked: a host shares it behind a `Mutex`. Memory is
/// bounded by [`ThrottleConfig::max_entries`].
///
/// ```
/// use std::time::{Duration, Instant};
/// use mesos_auth::sasl::{Throttle, ThrottleConfig, Verdict};
///
/// let mut throttle = Throttle::new(ThrottleConfig::new().free_failures(2).base(Duration::from_secs(1)));
/// let now = Instant::now();
/// // Before each attempt the host asks; after each failure it reports
/// // (or feeds the session's audit event to `observe`).
/// for _ in 0..3 {
///     assert_eq!(throttle.check(Some("airflow"), Some("10.0.0.9"), now), Verdict::Allow);
///     throttle.record_failure(Some("airflow"), Some("10.0.0.9"), now);
/// }
/// assert!(matches!(throttle.check(Some("airflow"), None, now), Verdict::Delay(_)));
/// // Another principal from another peer is not held back.
/// assert_eq!(throttle.check(Some("spark"), Some("10.0.0.7"), now), Verdict::Allow);
/// ```
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    principals: HashMap<String, Entry>,
    peers: HashMap<String, Entry>,
}

impl Throttle {
    /// An empty throttle.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            principals: HashMap::new(),
            peers: HashMap::new(),
        }
    }

    /// Whether an attempt by `principal` (if already known) from `peer`
    /// (if known) may proceed at `now`; the longer of the two delays wins.
    pub fn check(&self, principal: Option<&str>, peer: Option<&str>, now: Instant) -> Verdict {
        let wait = |map: &HashMap<String, Entry>, key: Option<&str>| {
            key.and_then(|k| map.get(k))
                .map_or(Duration::ZERO, |e| e.until.saturating_duration_since(now))
        };
        let delay = wait(&self.principals, principal).max(wait(&self.peers, peer));
        if delay.is_zero() {
            Verdict::Allow
        } else {
            Verdict::Delay(delay)
        }
    }

    /// Records a failed attempt.
    pub fn record_failure(&mut self, principal: Option<&str>, peer: Option<&str>, now: Instant) {
        if let Some(p) = principal {
            bump(&mut self.principals, &self.config, p, now);
        }
        if let Some(p) = peer {
            bump(&mut self.peers, &self.config, p, now);
        }
    }

    /// Records a success: the principal's and the peer's counts start over.
    pub fn record_success(&mut self, principal: Option<&str>, peer: Option<&str>) {
        if let Some(p) = principal {
            self.principals.remove(p);
        }
        if let Some(p) = peer {
            self.peers.remove(p);
        }
    }

    /// Records the outcome an authenticator reported. Errors count as
    /// failures of the peer only (the principal is unproven). A refusal
    /// that is the master's own fault ([`FailureReason::KerberosUnavailable`]:
    /// its keytab is unreadable) counts against no one.
    pub fn observe(&mut self, event: &AuthEvent, now: Instant) {
        if event.side != Side::Authenticator {
            return;
        }
        let principal = event.principal.as_deref();
        let peer = event.peer.as_deref();
        match event.result {
            AuthResult::Completed => self.record_success(principal, peer),
            // The client did nothing wrong: counting it would hold back
            // every GSSAPI client for a while after the keytab is fixed.
            AuthResult::Failed if event.reason == Some(FailureReason::KerberosUnavailable) => {}
            AuthResult::Failed => self.record_failure(principal, peer, now),
            AuthResult::Error => self.record_failure(None, peer, now),
        }
    }

    /// Keys tracked (principals plus peers).
    pub fn len(&self) -> usize {
        self.principals.len() + self.peers.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn bump(map: &mut HashMap<String, Entry>, config: &ThrottleConfig, key: &str, now: Instant) {
    if !map.contains_key(key) && map.len() >= config.max_entries {
        map.retain(|_, e| now.saturating_duration_since(e.last) < config.forget_after);
        if map.len() >= config.max_entries
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, e)| e.last)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
    let entry = map.entry(key.to_owned()).or_insert(Entry {
        failures: 0,
        last: now,
        until: now,
    });
    if now.saturating_duration_since(entry.last) >= config.forget_after {
        entry.failures = 0;
    }
    entry.failures = entry.failures.saturating_add(1);
    entry.last = now;
    let over = entry.failures.saturating_sub(config.free_failures);
    let delay = if over == 0 {
        Duration::ZERO
    } else {
        let doublings = over.saturating_sub(1).min(31);
        config
            .base
            .saturating_mul(1u32 << doublings)
            .min(config.max)
    };
    entry.until = now.checked_add(delay).unwrap_or(now);
}
