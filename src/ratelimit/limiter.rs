//! The compiled limiter: an immutable principal → slot table and one atomic
//! theoretical arrival time per slot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::RateLimits;
use crate::reload::Reloadable;
use crate::strtable::{HashKey, StrTable};

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// No limit applies to this principal.
    Unlimited,
    /// Within the rate: go ahead now.
    Allowed,
    /// Within the capacity but ahead of the rate: Mesos would queue it this
    /// long. The permit is taken; hold the request, then serve it.
    Delayed(Duration),
    /// Over the capacity: Mesos would drop it. Nothing was taken; the
    /// earliest a new request could be admitted is `retry_after` from now.
    Limited {
        /// How long until a request would fit the capacity again.
        retry_after: Duration,
    },
}

impl RateDecision {
    /// Whether the request may be served (now or after its delay).
    pub fn is_admitted(&self) -> bool {
        !matches!(self, Self::Limited { .. })
    }
}

/// One limiter's state and parameters, 32 bytes (half a cache line).
#[derive(Debug)]
struct Slot {
    /// Nanoseconds after the limiter's epoch at which the next permit is
    /// free (the theoretical arrival time).
    tat: AtomicU64,
    /// Nanoseconds between permits (1 / qps), at least 1.
    interval: u64,
    /// How far ahead of now the arrival time may be for a request to be
    /// admitted: capacity × interval (saturating; `u64::MAX` without a
    /// capacity).
    tolerance: u64,
    /// `capacity` 0: Mesos drops every message.
    refuse_all: bool,
}

impl Slot {
    fn new(qps: f64, capacity: Option<u64>) -> Self {
        // qps is positive and finite (checked when read), and `as` saturates:
        // a rate above 10^9/s is one permit a nanosecond.
        let interval = ((1e9 / qps).round() as u64).max(1);
        Self {
            tat: AtomicU64::new(0),
            interval,
            tolerance: capacity.map_or(u64::MAX, |c| c.saturating_mul(interval)),
            refuse_all: capacity == Some(0),
        }
    }

    #[inline]
    fn take(&self, now: u64) -> RateDecision {
        self.take_within(now, self.tolerance)
    }

    /// [`take`](Self::take) with `tolerance` in place of the slot's own.
    #[inline]
    fn take_within(&self, now: u64, tolerance: u64) -> RateDecision {
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let ahead = tat.saturating_sub(now);
            if self.refuse_all || ahead > tolerance {
                let retry = if self.refuse_all {
                    u64::MAX
                } else {
                    ahead - tolerance
                };
                return RateDecision::Limited {
                    retry_after: Duration::from_nanos(retry),
                };
            }
            let next = tat.max(now).saturating_add(self.interval);
            // One atomic variable: its modification order is all the
            // ordering this needs.
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) if ahead == 0 => return RateDecision::Allowed,
                Ok(_) => return RateDecision::Delayed(Duration::from_nanos(ahead)),
                Err(current) => tat = current,
            }
        }
    }
}

/// Where a principal's requests are counted.
const UNLIMITED: u32 = u32::MAX;

#[derive(Debug)]
struct Table {
    /// Listed principals → slot index (`vals[0]`), or [`UNLIMITED`] (listed
    /// without qps). Keyed per table, filled only from the operator's file.
    key: HashKey,
    index: StrTable,
    slots: Box<[Slot]>,
    /// The aggregate default's slot, if one is configured.
    default: Option<u32>,
}

impl Table {
    fn compile(limits: &RateLimits) -> Self {
        let key = HashKey::random();
        let mut index = StrTable::new();
        let bytes: usize = limits
            .limits
            .iter()
            .map(|l| l.principal.as_str().len())
            .sum();
        // Each string over 16 bytes is stored with an end marker.
        index.reserve(limits.limits.len(), bytes + limits.limits.len());
        let mut slots = Vec::with_capacity(limits.limits.len() + 1);
        for limit in &limits.limits {
            let at = match limit.qps {
                Some(qps) => {
                    slots.push(Slot::new(qps, limit.capacity));
                    u32::try_from(slots.len() - 1).unwrap_or(UNLIMITED)
                }
                None => UNLIMITED,
            };
            // Principals are unique (checked when read); a table that ran
            // out of ids would leave the rest to the default limiter.
            let _ = index.intern(&key, limit.principal.as_str(), [at, 0]);
        }
        // Give back what the reservation over-estimated (short names are
        // kept in their slots, not in the byte store).
        index.shrink();
        let default = limits.aggregate_default_qps.map(|qps| {
            slots.push(Slot::new(qps, limits.aggregate_default_capacity));
            u32::try_from(slots.len() - 1).unwrap_or(UNLIMITED)
        });
        Self {
            key,
            index,
            slots: slots.into_boxed_slice(),
            default,
        }
    }

    /// The slot of a listed principal: `Some(UNLIMITED)` for one without a
    /// rate, `None` if not listed.
    #[inline]
    fn listed(&self, principal: &str) -> Option<u32> {
        let hashed = self.key.hash(principal.as_bytes());
        self.index
            .find(principal.as_bytes(), &hashed)
            .map(|(_, e)| e.vals[0])
    }

    fn default_slot(&self) -> Option<&Slot> {
        self.slots.get(usize::try_from(self.default?).ok()?)
    }

    /// A listed principal's own slot (not the default's).
    fn listed_slot(&self, principal: Option<&str>) -> Option<&Slot> {
        self.slots
            .get(usize::try_from(self.listed(principal?)?).ok()?)
    }

    #[inline]
    fn slot(&self, principal: Option<&str>) -> Option<&Slot> {
        let at = match principal.and_then(|p| self.listed(p)) {
            Some(at) => at,
            None => self.default?,
        };
        self.slots.get(usize::try_from(at).ok()?)
    }

    /// Keeps the state of every limiter whose principal and parameters are
    /// unchanged (and of the aggregate default, if unchanged), so a reload
    /// neither forgives a principal's debt nor punishes it twice.
    fn inherit(&self, old: &Table, limits: &RateLimits) {
        let carry = |new: &Slot, old: &Slot| {
            if new.interval == old.interval
                && new.tolerance == old.tolerance
                && new.refuse_all == old.refuse_all
            {
                new.tat
                    .store(old.tat.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        };
        for limit in &limits.limits {
            let p = Some(limit.principal.as_str());
            if let (Some(new), Some(old_slot)) = (self.listed_slot(p), old.listed_slot(p)) {
                carry(new, old_slot);
            }
        }
        if let (Some(new), Some(old_slot)) = (self.default_slot(), old.default_slot()) {
            carry(new, old_slot);
        }
    }
}

/// Per-principal rate limiting with Mesos's semantics: compiled from
/// [`RateLimits`], checked lock-free from any number of threads,
/// hot-reloadable.
///
/// Requests without a principal, and principals not listed, count against
/// the aggregate default when there is one (Mesos does so for registered
/// frameworks; an HTTP host decides which requests to ask about).
#[derive(Debug)]
pub struct RateLimiter {
    epoch: Instant,
    table: Reloadable<Table>,
}

impl RateLimiter {
    /// A limiter for `limits`, with every principal's budget full.
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            epoch: Instant::now(),
            table: Reloadable::new(Table::compile(limits)),
        }
    }

    /// `now` as nanoseconds after the limiter's epoch (saturating).
    #[inline]
    fn nanos(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Takes a permit for one request by `principal` at `now` (the caller's
    /// clock: tests and hosts pass it in), or says why not.
    #[inline]
    pub fn check(&self, principal: Option<&str>, now: Instant) -> RateDecision {
        let now = self.nanos(now);
        self.table.with(|table, _| match table.slot(principal) {
            Some(slot) => slot.take(now),
            None => RateDecision::Unlimited,
        })
    }

    /// Takes a permit for a request that must be answered now (an HTTP
    /// request: a host cannot queue it as Mesos queues a framework's
    /// messages). A principal may run ahead of its rate by its `capacity`
    /// (the requests Mesos would queue) and is refused beyond it; without a
    /// capacity (where Mesos would queue without bound) by `default_burst`
    /// worth of its rate. The answer is [`Unlimited`](RateDecision::Unlimited),
    /// [`Allowed`](RateDecision::Allowed) (serve it now) or
    /// [`Limited`](RateDecision::Limited) (nothing taken; answer 429 with
    /// `Retry-After`), never `Delayed`: over time a principal gets its rate
    /// plus one burst, however hard it pushes.
    #[inline]
    pub fn check_now(
        &self,
        principal: Option<&str>,
        now: Instant,
        default_burst: Duration,
    ) -> RateDecision {
        let now = self.nanos(now);
        let burst = u64::try_from(default_burst.as_nanos()).unwrap_or(u64::MAX);
        self.table.with(|table, _| match table.slot(principal) {
            Some(slot) => {
                let tolerance = if slot.tolerance == u64::MAX {
                    burst
                } else {
                    slot.tolerance
                };
                match slot.take_within(now, tolerance) {
                    RateDecision::Delayed(_) => RateDecision::Allowed,
                    other => other,
                }
            }
            None => RateDecision::Unlimited,
        })
    }

    /// Serves `limits` from now on, returning the new generation. A
    /// principal whose limit is unchanged keeps its state; requests being
    /// checked during the swap see the old or the new limits, never a mix.
    pub fn reload(&self, limits: &RateLimits) -> u64 {
        let table = Table::compile(limits);
        self.table
            .try_reload(|old| {
                table.inherit(old, limits);
                Ok::<_, std::convert::Infallible>(table)
            })
            .unwrap_or_else(|never| match never {})
    }

    /// The generation served now (0 until the first reload).
    pub fn generation(&self) -> u64 {
        self.table.generation()
    }

    /// Bytes of mutable state and parameters: one 32-byte slot per limiter,
    /// whatever the principal's name (the names live in the look-up table).
    pub fn state_bytes(&self) -> usize {
        self.table.with(|t, _| size_of_val(&*t.slots))
    }

    /// How many limiters (listed principals with a rate, plus the aggregate
    /// default) hold state.
    pub fn limiters(&self) -> usize {
        self.table.with(|t, _| t.slots.len())
    }
}
