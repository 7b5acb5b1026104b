//! Client-side retry backoff (threats.md SC-7): how long a framework or
//! agent waits on an authentication attempt before it gives up and tries
//! again, so a fleet of clients does not hammer a master in lock-step.
//!
//! Mesos's agent and scheduler driver draw attempt `n`'s timeout uniformly
//! from `[min, min + factor·2ⁿ]`, capped at `max` (flags
//! `--authentication_backoff_factor` 1 s, `--authentication_timeout_min`
//! 5 s, `--authentication_timeout_max` 60 s): [5, 7] s, [5, 9] s, [5, 13] s,
//! …, [5, 60] s. Sans-I/O like the rest of the module: the caller counts the
//! attempts and passes the randomness.

use std::time::Duration;

use super::nonce::NonceSource;

/// Client retry backoff with Mesos's defaults and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBackoff {
    min: Duration,
    factor: Duration,
    max: Duration,
}

impl Default for RetryBackoff {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(5),
            factor: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl RetryBackoff {
    /// Mesos's defaults: min 5 s, factor 1 s, max 60 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shortest wait (`--authentication_timeout_min`).
    #[must_use]
    pub fn min(mut self, min: Duration) -> Self {
        self.min = min;
        self
    }

    /// The unit the window grows by (`--authentication_backoff_factor`).
    #[must_use]
    pub fn factor(mut self, factor: Duration) -> Self {
        self.factor = factor;
        self
    }

    /// The longest wait (`--authentication_timeout_max`). A `max` below
    /// `min` pins every wait to `min`.
    #[must_use]
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// The window `[low, high]` for attempt `attempt`, counted from 1 (0 is
    /// taken as 1): `[min, min(min + factor·2^attempt, max)]`, computed with
    /// saturating arithmetic, so any attempt number is fine.
    pub fn window(&self, attempt: u32) -> (Duration, Duration) {
        let attempt = attempt.max(1);
        // 2^attempt; from 2^32 on it saturates, and so does the product.
        let scale = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        let high = self
            .min
            .saturating_add(self.factor.saturating_mul(scale))
            .min(self.max)
            .max(self.min);
        (self.min, high)
    }

    /// A wait drawn uniformly (to the nanosecond) from
    /// [`window(attempt)`](Self::window), with randomness from `rng`
    /// (an [`OsNonceSource`](super::OsNonceSource) serves).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mesos_auth::sasl::{OsNonceSource, RetryBackoff};
    ///
    /// let backoff = RetryBackoff::new();
    /// let wait = backoff.delay(3, &mut OsNonceSource::new()?);
    /// assert!((Duration::from_secs(5)..=Duration::from_secs(13)).contains(&wait));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delay(&self, attempt: u32, rng: &mut (impl NonceSource + ?Sized)) -> Duration {
        let (low, high) = self.window(attempt);
        let width = u64::try_from(high.saturating_sub(low).as_nanos()).unwrap_or(u64::MAX);
        // Multiply-shift maps 64 random bits onto 0..=width; the bias is at
        // most width / 2^64, nothing for windows of seconds.
        let span = u128::from(width) + 1;
        let [a, b, c, d, e, f, g, h, ..] = rng.nonce();
        let random = u64::from_be_bytes([a, b, c, d, e, f, g, h]);
        let offset = (u128::from(random) * span) >> 64;
        let offset = u64::try_from(offset).unwrap_or(width);
        low.saturating_add(Duration::from_nanos(offset))
    }
}

#[cfg(test)]
mod test;
