//! Bearer tokens (RFC 6750): the validator interface and its challenges.

use std::time::SystemTime;

use crate::principal::Principal;

/// The RFC 6750 §3.1 error code a client is told: the bearer-token
/// validator's own ([`crate::bearer::ErrorCode`]), one type for both.
pub use crate::bearer::ErrorCode;

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
    code: ErrorCode,
    reason: String,
}

impl TokenRejection {
    /// A rejection with `code` for the client and `reason` for the log.
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// The code the client sees.
    pub fn code(&self) -> ErrorCode {
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
pub(crate) fn challenge(realm: &str, error: Option<ErrorCode>) -> String {
    match error {
        None => format!("Bearer realm=\"{realm}\""),
        Some(e) => format!("Bearer realm=\"{realm}\", error=\"{}\"", e.as_str()),
    }
}

/// The library's JWT validator serves HTTP Bearer directly: its RFC 6750
/// code goes to the client, its precise reason to the audit event.
impl TokenValidator for crate::bearer::Validator {
    fn validate(&self, token: &str, now: SystemTime) -> Result<ValidToken, TokenRejection> {
        match crate::bearer::Validator::validate(self, token, now) {
            Ok(v) => Ok(ValidToken::new(v.principal().clone())),
            Err(r) => Err(TokenRejection::new(r.code(), r.reason().to_string())),
        }
    }
}

/// A validator whose keys rotate (a JWKS reloaded in place): each request
/// sees one whole key set.
impl TokenValidator for crate::Reloadable<crate::bearer::Validator> {
    fn validate(&self, token: &str, now: SystemTime) -> Result<ValidToken, TokenRejection> {
        self.with(|v, _| TokenValidator::validate(v, token, now))
    }
}
