//! The authenticator: the schemes in order, the failure throttle, the rate
//! limiter and the audit record.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::audit::AuditSink;
use crate::credentials::CredentialStore;
use crate::principal::Principal;
use crate::ratelimit::{RateDecision, RateLimiter};
use crate::reload::Reloadable;
use crate::sasl::{NonceSource, OsNonceSource, Throttle, Verdict};

use super::basic::{self, Basic};
use super::bearer::{self, ErrorCode, TokenValidator};
use super::error::HttpError;
use super::event::{RequestEvent, bounded};
use super::request::{BasicCredentials, Presented, Request, Scheme, path_only, presented};
use super::{AuthMethod, Outcome, Shared, ceil_ms};

/// One configured scheme and its precomputed challenges.
enum Scheme_ {
    Basic {
        basic: Basic,
        challenge: String,
    },
    Bearer {
        validator: Arc<dyn TokenValidator>,
        /// Indexed: none, invalid_request, invalid_token, insufficient_scope.
        challenges: [String; 4],
    },
}

/// Builds an [`HttpAuthenticator`]: a realm, then the schemes in the order
/// they are tried, then the optional throttle, rate limiter and audit sink.
pub struct HttpAuthenticatorBuilder {
    realm: String,
    schemes: Vec<Scheme_>,
    throttle: Option<Arc<dyn Shared<Mutex<Throttle>>>>,
    limiter: Option<Arc<dyn Shared<RateLimiter>>>,
    audit: Option<Arc<dyn AuditSink>>,
}

impl std::fmt::Debug for HttpAuthenticatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAuthenticatorBuilder")
            .field("realm", &self.realm)
            .field("schemes", &self.schemes)
            .field("throttle", &self.throttle.is_some())
            .field("rate_limiter", &self.limiter.is_some())
            .field("audit", &self.audit.is_some())
            .finish()
    }
}

impl HttpAuthenticatorBuilder {
    /// Adds HTTP Basic on `store`; its reloads are seen by the next request.
    #[must_use]
    pub fn basic(mut self, store: Arc<dyn Shared<Reloadable<CredentialStore>>>) -> Self {
        let challenge = basic::challenge(&self.realm);
        self.schemes.push(Scheme_::Basic {
            basic: Basic { store },
            challenge,
        });
        self
    }

    /// Adds bearer tokens checked by `validator`.
    #[must_use]
    pub fn bearer(mut self, validator: Arc<dyn TokenValidator>) -> Self {
        let c = |e| bearer::challenge(&self.realm, e);
        let challenges = [
            c(None),
            c(Some(ErrorCode::InvalidRequest)),
            c(Some(ErrorCode::InvalidToken)),
            c(Some(ErrorCode::InsufficientScope)),
        ];
        self.schemes.push(Scheme_::Bearer {
            validator,
            challenges,
        });
        self
    }

    /// Throttles failures per principal and per peer with `throttle` (which
    /// may be shared with SASL sessions).
    #[must_use]
    pub fn throttle(mut self, throttle: Arc<dyn Shared<Mutex<Throttle>>>) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// Applies per-principal rate limits after authentication.
    #[must_use]
    pub fn rate_limiter(mut self, limiter: Arc<dyn Shared<RateLimiter>>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Records a [`RequestEvent`] for every request.
    #[must_use]
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// The authenticator.
    ///
    /// # Errors
    ///
    /// [`HttpError::NoScheme`] without a scheme; [`HttpError::Random`] if
    /// audit IDs are needed and the system RNG cannot be read.
    pub fn build(self) -> Result<HttpAuthenticator, HttpError> {
        if self.schemes.is_empty() {
            return Err(HttpError::NoScheme);
        }
        let ids = match self.audit {
            Some(_) => Some(Mutex::new(OsNonceSource::new().map_err(|e| {
                HttpError::Random {
                    message: e.to_string(),
                }
            })?)),
            None => None,
        };
        Ok(HttpAuthenticator {
            schemes: self.schemes,
            throttle: self.throttle,
            limiter: self.limiter,
            audit: self.audit,
            ids,
        })
    }
}

/// Authenticates HTTP requests. Immutable, `Send + Sync`: share one (in an
/// `Arc`) among every thread serving requests.
pub struct HttpAuthenticator {
    schemes: Vec<Scheme_>,
    throttle: Option<Arc<dyn Shared<Mutex<Throttle>>>>,
    limiter: Option<Arc<dyn Shared<RateLimiter>>>,
    audit: Option<Arc<dyn AuditSink>>,
    ids: Option<Mutex<OsNonceSource>>,
}

impl std::fmt::Debug for HttpAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAuthenticator")
            .field("schemes", &self.schemes)
            .field("throttle", &self.throttle.is_some())
            .field("rate_limiter", &self.limiter.is_some())
            .field("audit", &self.audit.is_some())
            .finish()
    }
}

/// One scheme's failure.
struct Failure {
    status: u16,
    challenge: String,
}

/// What the audit record needs beyond the outcome.
#[derive(Default)]
struct Trace {
    reason: Option<String>,
    generation: Option<u64>,
    rate_limit: Option<RateDecision>,
    throttled: Option<Duration>,
}

// Only the shape: the parts are the host's objects.
impl std::fmt::Debug for Scheme_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Basic { .. } => "Basic",
            Self::Bearer { .. } => "Bearer",
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl HttpAuthenticator {
    /// Starts a builder for `realm` (the same for every scheme).
    ///
    /// # Errors
    ///
    /// [`HttpError::BadRealm`] if the realm is empty or holds a `"`, `\`
    /// or control character (it is written inside a quoted string).
    pub fn builder(realm: &str) -> Result<HttpAuthenticatorBuilder, HttpError> {
        let bad = |what| {
            Err(HttpError::BadRealm {
                realm: realm.to_owned(),
                what,
            })
        };
        if realm.is_empty() {
            return bad("it is empty");
        }
        if realm
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return bad("it holds a quote, backslash or control character");
        }
        Ok(HttpAuthenticatorBuilder {
            realm: realm.to_owned(),
            schemes: Vec::new(),
            throttle: None,
            limiter: None,
            audit: None,
        })
    }

    /// Authenticates `req`. `now` drives the throttle and the rate limiter,
    /// `wall` the token validator (expiry). Never fails: every problem with
    /// the request is an [`Outcome`] that denies it.
    pub fn authenticate(&self, req: &Request<'_>, now: Instant, wall: SystemTime) -> Outcome {
        let mut trace = Trace::default();
        let outcome = self.decide(req, now, wall, &mut trace);
        if let Some(sink) = &self.audit {
            sink.record(&self.event(req, &outcome, trace));
        }
        outcome
    }

    fn decide(
        &self,
        req: &Request<'_>,
        now: Instant,
        wall: SystemTime,
        trace: &mut Trace,
    ) -> Outcome {
        let shown = presented(req);
        // Basic credentials are decoded once, before the throttle (which
        // keys on the claimed user-id) and the password check.
        let basic = match &shown {
            Presented::Basic(token) => Some(BasicCredentials::decode(token)),
            _ => None,
        };
        let claimed = match &basic {
            Some(Ok(c)) => Some(c.user()),
            _ => None,
        };
        let sent = !matches!(shown, Presented::Nothing);
        if let (Some(t), true) = (&self.throttle, sent)
            && let Verdict::Delay(d) = lock((**t).shared()).check(claimed, req.peer, now)
        {
            trace.throttled = Some(d);
            trace.reason = Some("failures from this principal or peer are throttled".to_owned());
            return Outcome::TooManyRequests {
                retry_after: d,
                principal: None,
            };
        }

        // Empty until a scheme fails: a success allocates nothing here.
        let mut failures: Vec<Failure> = Vec::new();
        for scheme in &self.schemes {
            match scheme {
                Scheme_::Basic {
                    basic: b,
                    challenge,
                } => {
                    let fail = |trace: &mut Trace, reason: String| {
                        trace.reason.get_or_insert(reason);
                        Failure {
                            status: 401,
                            challenge: challenge.clone(),
                        }
                    };
                    let f = match (&shown, &basic) {
                        (_, Some(Ok(c))) => {
                            let checked = b.check(c);
                            trace.generation = Some(checked.generation);
                            match checked.principal {
                                Some(p) => return self.admit(p, AuthMethod::Basic, now, trace),
                                None => fail(trace, "unknown principal or wrong password".into()),
                            }
                        }
                        (_, Some(Err(e))) => fail(trace, e.to_string()),
                        (Presented::Refused(Scheme::Basic | Scheme::Unknown, e), _) => {
                            fail(trace, e.to_string())
                        }
                        (Presented::Nothing, _) => {
                            fail(trace, "no Authorization header".to_owned())
                        }
                        _ => Failure {
                            status: 401,
                            challenge: challenge.clone(),
                        },
                    };
                    failures.push(f);
                }
                Scheme_::Bearer {
                    validator,
                    challenges: [plain, invalid_request, invalid_token, scope],
                } => {
                    let with = |e: ErrorCode| Failure {
                        status: e.status(),
                        challenge: match e {
                            ErrorCode::InvalidRequest => invalid_request,
                            ErrorCode::InvalidToken => invalid_token,
                            ErrorCode::InsufficientScope => scope,
                        }
                        .clone(),
                    };
                    let f = match &shown {
                        Presented::Bearer(token) => match validator.validate(token, wall) {
                            Ok(v) => {
                                return self.admit(
                                    v.principal().clone(),
                                    AuthMethod::Bearer,
                                    now,
                                    trace,
                                );
                            }
                            Err(r) => {
                                trace
                                    .reason
                                    .get_or_insert_with(|| format!("bearer: {}", r.reason()));
                                with(r.code())
                            }
                        },
                        // RFC 6750 §3.1: malformed, or more than one method.
                        Presented::Refused(Scheme::Bearer | Scheme::Unknown, e) => {
                            trace.reason.get_or_insert_with(|| e.to_string());
                            with(ErrorCode::InvalidRequest)
                        }
                        Presented::Nothing => {
                            trace
                                .reason
                                .get_or_insert_with(|| "no Authorization header".to_owned());
                            Failure {
                                status: 401,
                                challenge: plain.clone(),
                            }
                        }
                        _ => Failure {
                            status: 401,
                            challenge: plain.clone(),
                        },
                    };
                    failures.push(f);
                }
            }
        }
        if trace.reason.is_none() {
            trace.reason = Some("credentials for a scheme not offered here".to_owned());
        }
        if let (Some(t), true) = (&self.throttle, sent) {
            lock((**t).shared()).record_failure(claimed, req.peer, now);
        }
        // As Mesos's combined authenticator: 401 if any scheme said so,
        // otherwise the first scheme's status; every challenge, in order.
        let status = if failures.iter().any(|f| f.status == 401) {
            401
        } else {
            failures.first().map_or(401, |f| f.status)
        };
        let challenges = failures.into_iter().map(|f| f.challenge).collect();
        match status {
            400 => Outcome::BadRequest { challenges },
            403 => Outcome::Forbidden { challenges },
            _ => Outcome::Unauthorized { challenges },
        }
    }

    /// After authentication: the throttle forgets the principal's failures
    /// (not the peer's), then the rate limit applies.
    fn admit(
        &self,
        principal: Principal,
        method: AuthMethod,
        now: Instant,
        trace: &mut Trace,
    ) -> Outcome {
        if let Some(t) = &self.throttle {
            lock((**t).shared()).record_success(Some(principal.as_str()), None);
        }
        if let Some(l) = &self.limiter {
            let decision =
                (**l)
                    .shared()
                    .check_now(Some(principal.as_str()), now, super::DEFAULT_BURST);
            trace.rate_limit = Some(decision);
            if let RateDecision::Limited { retry_after } = decision {
                trace.reason = Some("over the principal's rate limit".to_owned());
                return Outcome::TooManyRequests {
                    retry_after,
                    principal: Some(principal),
                };
            }
        }
        Outcome::Authenticated { principal, method }
    }

    fn event(&self, req: &Request<'_>, outcome: &Outcome, trace: Trace) -> RequestEvent {
        let audit_id = match (req.audit_id, &self.ids) {
            (Some(id), _) => bounded(id),
            (None, Some(ids)) => hex(&lock(ids).nonce()),
            (None, None) => String::new(),
        };
        let (rate_limit, rate_ms) = match trace.rate_limit {
            None | Some(RateDecision::Unlimited) => ("unlimited", None),
            Some(RateDecision::Allowed) => ("allowed", None),
            Some(RateDecision::Delayed(d)) => ("delayed", Some(ceil_ms(d))),
            Some(RateDecision::Limited { retry_after }) => ("limited", Some(ceil_ms(retry_after))),
        };
        let outcome_name = match outcome {
            Outcome::Authenticated { .. } => "authenticated",
            Outcome::TooManyRequests {
                principal: None, ..
            } => "throttled",
            Outcome::TooManyRequests { .. } => "rate_limited",
            _ => "unauthorized",
        };
        RequestEvent {
            audit_id,
            stage: "authentication",
            source: req.peer.map(bounded),
            user_agent: req.user_agent.map(bounded),
            user_agent_trusted: false,
            method: bounded(req.method),
            path: bounded(path_only(req.path)),
            principal: outcome.principal().cloned(),
            auth_method: match outcome {
                Outcome::Authenticated { method, .. } => Some(method.as_str()),
                _ => None,
            },
            outcome: outcome_name,
            reason: trace.reason,
            credentials_generation: trace.generation,
            rate_limit,
            retry_after_ms: trace.throttled.map(ceil_ms).or(rate_ms),
            status: outcome.status(),
        }
    }
}

fn hex(bytes: &[u8; 16]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(32);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
