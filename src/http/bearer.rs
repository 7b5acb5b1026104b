//! Bearer tokens (RFC 6750): the validator interface and its challenges.

use std::time::SystemTime;

use crate::principal::Principal;

/// The RFC 6750 §3.1 error codes, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// `invalid_request` (400): malformed, or more than one credential.
    InvalidRequest,
    /// `invalid_token` (401): expired, revoked, malformed or not ours.
    InvalidToken,
    /// `insufficient_scope` (403): valid, but not for this resource.
    InsufficientScope,
}

impl BearerError {
    /// The code as it goes in the challenge's `error` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }

    /// The HTTP status RFC 6750 gives it.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
        }
    }
}

/// A token the validator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidToken {
    principal: Principal,
}

impl ValidToken {
    /// A token that authenticates `principal`.
    pub fn new(principal: Principal) -> Self {
        Self { principal }
    }

    /// Who the token authenticates.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
}

/// Why a validator refused a token: the RFC 6750 code the client sees, and
/// a reason that goes to the local audit log only. The reason must not hold
/// the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRejection {
    code: BearerError,
    reason: String,
}

impl TokenRejection {
    /// A rejection with `code` for the client and `reason` for the log.
    pub fn new(code: BearerError, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// The code the client sees.
    pub fn code(&self) -> BearerError {
        self.code
    }

    /// The local reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Checks bearer tokens (a JWT validator, an introspection cache, ...).
///
/// Called on the request path from any thread: keep it fast, and never
/// block on I/O.
pub trait TokenValidator: Send + Sync {
    /// Validates `token` at wall-clock time `now`.
    ///
    /// # Errors
    ///
    /// A [`TokenRejection`] naming the RFC 6750 code for the client.
    fn validate(&self, token: &str, now: SystemTime) -> Result<ValidToken, TokenRejection>;
}

/// The `WWW-Authenticate` value: `Bearer realm="..."`, plus `error="..."`
/// when credentials were sent (RFC 6750 §3: none without them). There is
/// deliberately no `error_description`: what exactly was wrong with a token
/// (expired, bad signature, unknown issuer) would help an attacker more
/// than a client; it goes to the audit log.
pub(crate) fn challenge(realm: &str, error: Option<BearerError>) -> String {
    match error {
        None => format!("Bearer realm=\"{realm}\""),
        Some(e) => format!("Bearer realm=\"{realm}\", error=\"{}\"", e.as_str()),
    }
}
