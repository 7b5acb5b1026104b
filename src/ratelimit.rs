//! Per-principal rate limits in Mesos's own `--rate_limits` format, checked
//! lock-free.
//!
//! Mesos throttles the messages of driver-based frameworks by principal: each
//! listed principal gets `qps` permits a second, and at most `capacity`
//! messages may wait for a permit; the next one is dropped and the framework
//! told so. Principals not listed share one aggregate limiter
//! (`aggregate_default_qps`, `aggregate_default_capacity`) if it is set; a
//! listed principal without `qps` is not throttled at all. The v1 HTTP API
//! never got those limits. [`RateLimiter`] applies the same semantics to any
//! request a host can name a principal for:
//!
//! - [`RateDecision::Allowed`]: a permit is free now.
//! - [`RateDecision::Delayed`]: Mesos would queue it; the host holds the
//!   request that long (an HTTP host delays its answer).
//! - [`RateDecision::Limited`]: Mesos would drop it (`capacity` exceeded);
//!   an HTTP host answers `429 Too Many Requests` with `Retry-After`.
//! - [`RateDecision::Unlimited`]: no limit applies.
//!
//! It is the generic cell rate algorithm: one theoretical arrival time per
//! limiter, moved by one compare-and-swap. With emission interval `T = 1/qps`
//! and `x` the time until that arrival time, `x / T` messages are waiting;
//! Mesos admits a message while fewer than `capacity` wait, so a message is
//! refused when `x > capacity · T` (always, for `capacity` 0, as Mesos).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use mesos_auth::ratelimit::{RateDecision, RateLimiter, RateLimits};
//!
//! let limits = RateLimits::from_json(
//!     r#"{"limits": [{"principal": "spark", "qps": 10, "capacity": 2},
//!                    {"principal": "ops"}],
//!         "aggregate_default_qps": 100}"#,
//! )?;
//! let limiter = RateLimiter::new(&limits);
//! let now = Instant::now();
//! assert_eq!(limiter.check(Some("spark"), now), RateDecision::Allowed);
//! assert_eq!(limiter.check(Some("spark"), now), RateDecision::Delayed(Duration::from_millis(100)));
//! assert_eq!(limiter.check(Some("spark"), now), RateDecision::Delayed(Duration::from_millis(200)));
//! // Two are waiting: a third would exceed the capacity.
//! assert!(matches!(limiter.check(Some("spark"), now), RateDecision::Limited { .. }));
//! assert_eq!(limiter.check(Some("ops"), now), RateDecision::Unlimited);
//! assert_eq!(limiter.check(Some("anyone"), now), RateDecision::Allowed); // the aggregate default
//! # Ok::<(), mesos_auth::ratelimit::RateLimitError>(())
//! ```

mod error;
mod limiter;
mod parse;
#[cfg(test)]
mod test;

pub use error::RateLimitError;
pub use limiter::{RateDecision, RateLimiter};

/// Largest rate-limits document read, in bytes: a million principals with
/// their limits fit.
pub const DEFAULT_MAX_BYTES: usize = 128 << 20;

/// One principal's limit, as written in the file.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RateLimit {
    /// The principal the limit applies to.
    pub principal: crate::Principal,
    /// Messages a second; `None`: the principal is not throttled.
    pub qps: Option<f64>,
    /// Messages that may wait for a permit; `None`: no bound. Ignored
    /// without `qps`, as in Mesos.
    pub capacity: Option<u64>,
}

impl RateLimit {
    /// A limit for `principal`: `qps` messages a second (`None`: not
    /// throttled; a value that is not a positive finite number is refused),
    /// at most `capacity` waiting (`None`: no bound).
    pub fn new(
        principal: crate::Principal,
        qps: Option<f64>,
        capacity: Option<u64>,
    ) -> Result<Self, RateLimitError> {
        if qps.is_some_and(|q| !(q.is_finite() && q > 0.0)) {
            return Err(RateLimitError::BadQps {
                principal: principal.as_str().to_owned(),
            });
        }
        Ok(Self {
            principal,
            qps,
            capacity,
        })
    }
}

/// A parsed `--rate_limits` document (`mesos.RateLimits`).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct RateLimits {
    /// Per-principal limits, in file order, principals unique.
    pub limits: Vec<RateLimit>,
    /// The rate shared by every principal not listed (and requests without
    /// one), if any.
    pub aggregate_default_qps: Option<f64>,
    /// The capacity of that shared limiter (no bound if `None`).
    pub aggregate_default_capacity: Option<u64>,
}

impl RateLimits {
    /// Reads a `--rate_limits` JSON document: `limits` (each a `principal`,
    /// an optional positive `qps`, an optional `capacity`),
    /// `aggregate_default_qps` and `aggregate_default_capacity`. Unknown or
    /// repeated keys, a repeated principal, a `qps` that is not a positive
    /// finite number and a `capacity` that is not a whole number are errors,
    /// each with its line:column and JSON path.
    pub fn from_json(text: &str) -> Result<Self, RateLimitError> {
        parse::parse(text)
    }

    /// Reads a `--rate_limits` file (Mesos also takes `file://` paths; strip
    /// the scheme first) through the crate's checked reader: a regular file
    /// only (a FIFO or device is refused before any read), at most
    /// [`DEFAULT_MAX_BYTES`], UTF-8.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, RateLimitError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let bytes =
            crate::file::read_regular(path, crate::file::Follow::Yes, DEFAULT_MAX_BYTES as u64)
                .map_err(|e| RateLimitError::File {
                    path: shown.clone(),
                    message: match e {
                        crate::file::FileError::Symlink => "is a symbolic link".to_owned(),
                        crate::file::FileError::NotRegularFile => {
                            "is not a regular file".to_owned()
                        }
                        crate::file::FileError::TooLarge { size, limit } => {
                            format!("is {size} bytes, more than the limit of {limit}")
                        }
                        crate::file::FileError::Changed => "changed while being read".to_owned(),
                        crate::file::FileError::Io(e) => e.to_string(),
                    },
                })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| RateLimitError::File {
            path: shown.clone(),
            message: format!("is not UTF-8 (byte {})", e.valid_up_to()),
        })?;
        parse::parse(text).map_err(|e| match e {
            RateLimitError::Json { location, message } => RateLimitError::Json {
                location,
                message: format!("{shown}: {message}"),
            },
            RateLimitError::Invalid {
                location,
                path,
                message,
            } => RateLimitError::Invalid {
                location,
                path: format!("{shown}: {path}"),
                message,
            },
            other => other,
        })
    }
}
