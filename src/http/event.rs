//! The audit record of one HTTP request's authentication.

use crate::principal::Principal;

/// What happened when one request was authenticated: recorded for every
/// outcome. Never holds a password, a token or the query string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RequestEvent {
    /// 128 random bits in hex (or the host's own ID), to match this record
    /// with the host's access log.
    pub audit_id: String,
    /// Always `authentication` (the stage that produced the record).
    pub stage: &'static str,
    /// The peer address the host reported, if any.
    pub source: Option<String>,
    /// The `User-Agent` header, as sent (bounded; client-controlled).
    pub user_agent: Option<String>,
    /// Always `false`: the user agent is whatever the client claimed.
    pub user_agent_trusted: bool,
    /// The HTTP method (bounded).
    pub method: String,
    /// The path without query string or fragment (bounded).
    pub path: String,
    /// The authenticated principal (also set when it was then rate limited).
    pub principal: Option<Principal>,
    /// `basic` or `bearer`, once authenticated.
    pub auth_method: Option<&'static str>,
    /// `authenticated`, `unauthorized`, `throttled` or `rate_limited`.
    pub outcome: &'static str,
    /// Why it failed (local only: the client saw a bare challenge).
    pub reason: Option<String>,
    /// The generation of the credential store consulted, if one was.
    pub credentials_generation: Option<u64>,
    /// `unlimited`, `allowed`, `delayed` or `limited`; `unlimited` when no
    /// rate limiter is set or none was consulted.
    pub rate_limit: &'static str,
    /// The rate limiter's delay (`delayed`) or retry time (`limited`), or
    /// the failure throttle's (`throttled`), in milliseconds, rounded up.
    pub retry_after_ms: Option<u64>,
    /// The HTTP status: 0 when authenticated (the host's handler decides),
    /// 400, 401, 403 or 429.
    pub status: u16,
}

/// Longest client-supplied text kept in an event, in bytes.
pub(crate) const MAX_FIELD_LEN: usize = 512;

/// `s` cut to [`MAX_FIELD_LEN`] at a character boundary.
pub(crate) fn bounded(s: &str) -> String {
    let mut end = s.len().min(MAX_FIELD_LEN);
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).unwrap_or_default().to_owned()
}

impl crate::audit::Event for RequestEvent {
    fn component(&self) -> &'static str {
        "http"
    }

    fn to_json(&self) -> serde_json::Value {
        crate::audit::json_of(self)
    }

    fn to_audit_event(&self) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(self.clone())
    }
}
