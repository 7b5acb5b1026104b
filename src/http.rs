//! HTTP authentication, sans-I/O: a request's method, path, `Authorization`
//! header(s), peer and user agent in; an [`Outcome`] out (status, challenges,
//! principal), plus an audit [`RequestEvent`].
//!
//! What Mesos's HTTP authenticators do, and where this differs:
//!
//! - **Basic** on the credential store, with Mesos's wire behaviour: every
//!   failure is `401` with `WWW-Authenticate: Basic realm="<realm>"` and no
//!   reason; Mesos's realms are `mesos-master-readonly`,
//!   `mesos-master-readwrite`, `mesos-master-scheduler`,
//!   `mesos-agent-readonly` and `mesos-agent-readwrite`. Deliberate
//!   differences: the scheme is matched case-insensitively (RFC 7235; Mesos
//!   wants exactly `Basic`); the credentials are split at the *first* `:`,
//!   so a password may hold one (Mesos splits on every `:` and so refuses
//!   it); base64 must be canonical; the password is compared in constant
//!   time, an unknown user costs what a wrong password costs, and an empty
//!   stored secret never matches (Mesos lets `user:` in); failures can be
//!   throttled per principal and per peer; the store reloads while serving.
//! - **Bearer** (RFC 6750) through a [`TokenValidator`]: `401` with
//!   `Bearer realm="..."` without credentials, `error="invalid_token"` (401),
//!   `"invalid_request"` (400) or `"insufficient_scope"` (403) with them.
//! - **Several schemes in order**, as Mesos's combined authenticator: each
//!   request goes to the scheme it names (Basic credentials never reach the
//!   token validator), the first success wins, and a failure answers with
//!   every scheme's challenge, in order: `401` if any scheme says 401,
//!   otherwise the first scheme's status.
//! - **Rate limits** per principal in Mesos's `--rate_limits` format
//!   ([`RateLimiter`]), applied after authentication. Mesos queues a
//!   framework's messages and drops them past the capacity; an HTTP request
//!   cannot wait in a queue, so it is served at once while the principal is
//!   ahead of its rate by no more than its `capacity` (the requests Mesos
//!   would queue), and answered `429` with `Retry-After` beyond that. Where
//!   Mesos queues without bound (no `capacity`), HTTP allows a burst of
//!   [`DEFAULT_BURST`] worth of the rate ([`RateLimiter::check_now`]), so
//!   a principal gets its rate plus one burst however hard it pushes.
//! - **Failure throttling** ([`Throttle`]): while a principal (Basic) or a
//!   peer is held back, the answer is `429` with `Retry-After`, and the
//!   password is not checked. 429 rather than 401 tells an honest client
//!   when to come back; a guesser learns nothing new (the throttle keys on
//!   the claimed name whether or not it exists). A success clears only the
//!   principal's count, not the peer's, so one valid account does not
//!   reset a peer's guessing budget. Note that anyone can hold a principal
//!   back for up to the throttle's maximum delay by failing on its behalf.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Instant, SystemTime};
//! use mesos_auth::Reloadable;
//! use mesos_auth::credentials::{self, Options};
//! use mesos_auth::http::{HttpAuthenticator, Outcome, Request};
//!
//! let file = credentials::parse(
//!     br#"{"credentials": [{"principal": "ops", "secret": "correct horse battery"}]}"#,
//!     &Options::default(),
//! )?;
//! let store = Arc::new(Reloadable::new(file.into_store()?));
//! let auth = HttpAuthenticator::builder("mesos-master-readwrite")?
//!     .basic(store)
//!     .build()?;
//!
//! let req = Request::new("GET", "/master/state").peer("10.0.0.9:51234");
//! let out = auth.authenticate(&req, Instant::now(), SystemTime::now());
//! assert_eq!(out.status(), 401);
//! assert_eq!(out.challenges(), ["Basic realm=\"mesos-master-readwrite\""]);
//!
//! // "ops:correct horse battery"
//! let req = req.authorization("Basic b3BzOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==");
//! let out = auth.authenticate(&req, Instant::now(), SystemTime::now());
//! assert!(matches!(out, Outcome::Authenticated { ref principal, .. } if principal.as_str() == "ops"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod basic;
mod bearer;
mod combined;
mod error;
mod event;
mod request;
#[cfg(test)]
mod test;

use std::time::Duration;

pub use bearer::{ErrorCode, TokenRejection, TokenValidator, ValidToken};
pub use combined::{HttpAuthenticator, HttpAuthenticatorBuilder};
pub use error::HttpError;
pub use event::RequestEvent;
pub use request::{MAX_AUTHORIZATION_LEN, Request};

#[cfg(doc)]
use crate::{ratelimit::RateLimiter, sasl::Throttle};

use crate::principal::Principal;

/// How far ahead of its rate a principal whose limit has no `capacity` may
/// run over HTTP: one second's worth of requests (Mesos would queue them
/// without bound; see [`RateLimiter::check_now`]).
pub const DEFAULT_BURST: Duration = Duration::from_secs(1);

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic, against the credential store.
    Basic,
    /// A bearer token, accepted by the [`TokenValidator`].
    Bearer,
}

impl AuthMethod {
    /// `basic` or `bearer`, as in the audit event.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Bearer => "bearer",
        }
    }
}

/// What the host should answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Authenticated: serve the request as `principal`.
    Authenticated {
        /// Who.
        principal: Principal,
        /// How.
        method: AuthMethod,
    },
    /// `401 Unauthorized`, one `WWW-Authenticate` header per challenge, in
    /// order, and no reason in the body.
    Unauthorized {
        /// The `WWW-Authenticate` values.
        challenges: Vec<String>,
    },
    /// `403 Forbidden` (a bearer token without the scope needed), with
    /// every challenge as for `Unauthorized`.
    Forbidden {
        /// The `WWW-Authenticate` values.
        challenges: Vec<String>,
    },
    /// `400 Bad Request` (malformed bearer credentials), with every
    /// challenge as for `Unauthorized`.
    BadRequest {
        /// The `WWW-Authenticate` values.
        challenges: Vec<String>,
    },
    /// `429 Too Many Requests` with `Retry-After`
    /// ([`retry_after_secs`](Self::retry_after_secs)): the principal is over
    /// its rate limit, or failures from this principal or peer are being
    /// throttled.
    TooManyRequests {
        /// How long until a retry may succeed.
        retry_after: Duration,
        /// The authenticated principal when its rate limit refused it;
        /// `None` when the failure throttle did (nobody authenticated).
        principal: Option<Principal>,
    },
}

impl Outcome {
    /// The HTTP status to answer: 0 when authenticated (the host's handler
    /// decides), otherwise 400, 401, 403 or 429.
    pub fn status(&self) -> u16 {
        match self {
            Self::Authenticated { .. } => 0,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::BadRequest { .. } => 400,
            Self::TooManyRequests { .. } => 429,
        }
    }

    /// The `WWW-Authenticate` values (empty unless 400, 401 or 403).
    pub fn challenges(&self) -> &[String] {
        match self {
            Self::Unauthorized { challenges }
            | Self::Forbidden { challenges }
            | Self::BadRequest { challenges } => challenges,
            Self::Authenticated { .. } | Self::TooManyRequests { .. } => &[],
        }
    }

    /// The principal: authenticated, or rate limited after authenticating.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Self::Authenticated { principal, .. } => Some(principal),
            Self::TooManyRequests { principal, .. } => principal.as_ref(),
            _ => None,
        }
    }

    /// The `Retry-After` value for a 429: whole seconds, rounded up, at
    /// least 1; `None` for any other outcome.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after, .. } => Some(ceil_secs(*retry_after)),
            _ => None,
        }
    }
}

/// Whole seconds, rounded up, at least 1.
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    s.max(1)
}

/// Milliseconds, rounded up.
pub(crate) fn ceil_ms(d: Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// Access to an object the authenticator shares with its host (the store
/// being reloaded, the throttle, the rate limiter), whatever the host keeps
/// it in. Every `T` is its own `Shared<T>`, so an `Arc<T>` is passed as is.
pub trait Shared<T: ?Sized>: Send + Sync {
    /// The object.
    fn shared(&self) -> &T;
}

impl<T: Send + Sync> Shared<T> for T {
    fn shared(&self) -> &T {
        self
    }
}
