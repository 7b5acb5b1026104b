//! Errors (a configuration or JWKS document is wrong) and rejections (a
//! token is refused).

use std::fmt;

use crate::span::Location;

use super::alg::Alg;

/// A configuration or key-set document that cannot be used, with where the
/// problem is. Never holds key material or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerError {
    /// The document is not (acceptable) JSON.
    #[error("{what}: {location}: {message}")]
    Json {
        /// `JWKS` or `configuration`.
        what: &'static str,
        /// Where the reader stopped.
        location: Location,
        /// The reader's message.
        message: String,
    },
    /// A member is missing, of the wrong type, or holds a value we refuse.
    #[error("{what}: {location}: {path}: {message}")]
    Invalid {
        /// `JWKS` or `configuration`.
        what: &'static str,
        /// Where the offending value (or its object) is.
        location: Location,
        /// The JSON path of the value, like `$.keys[1].crv`.
        path: String,
        /// What is wrong, naming the field; never key material.
        message: String,
    },
    /// A configuration built in code is inconsistent (no location to give).
    #[error("configuration: {0}")]
    Config(String),
}

/// The RFC 6750 §3.1 error code the peer is told (in `WWW-Authenticate`).
/// The precise [`Reason`] stays local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `invalid_request`: the request itself is malformed (an empty or
    /// oversized token).
    InvalidRequest,
    /// `invalid_token`: expired, malformed, wrongly signed or otherwise not
    /// acceptable.
    InvalidToken,
    /// `insufficient_scope`: the token is valid but not for this request.
    /// The validator never returns it; an HTTP layer checking scopes may.
    InsufficientScope,
}

impl ErrorCode {
    /// The code as RFC 6750 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }

    /// The HTTP status RFC 6750 §3.1 gives it: 400, 401 or 403.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of a token that is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The whole token (not three dot-separated parts, bad characters).
    Token,
    /// The JOSE header.
    Header,
    /// The claims (payload).
    Claims,
    /// The signature.
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Token => "token",
            Self::Header => "header",
            Self::Claims => "claims",
            Self::Signature => "signature",
        })
    }
}

/// Why a token was refused: for the local audit log, never for the peer.
/// Holds neither the token nor its signature; it may name a claim and the
/// value that was expected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The token is empty.
    Empty,
    /// The token is longer than the configured limit.
    TooLarge {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A part does not decode (base64url, JSON, structure).
    Malformed {
        /// Which part.
        part: Part,
        /// What is wrong with it.
        problem: String,
    },
    /// The header's `alg` is not one the validator accepts (`none`
    /// included); a name over 10 bytes is given as its length.
    AlgNotAllowed(String),
    /// The header lists `crit` extensions, which this validator does not
    /// implement (RFC 7515 §4.1.11: refuse).
    CriticalHeader,
    /// The JWKS holds more than one key and the header names none.
    KidRequired,
    /// The header's `kid` is not in the key set.
    UnknownKid,
    /// The key named cannot verify the header's `alg` (alg confusion, e.g.
    /// an RSA key with `HS256`).
    AlgKeyMismatch {
        /// The header's algorithm.
        alg: Alg,
        /// What the key is for, like `RSA key for RS256`.
        key: String,
    },
    /// The signature does not verify.
    BadSignature,
    /// A required claim is absent.
    ClaimMissing(&'static str),
    /// A claim has the wrong type (a string `exp`).
    ClaimType {
        /// The claim.
        claim: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// `exp` is past (beyond the leeway).
    Expired {
        /// The token's `exp`, seconds since the epoch.
        exp: i64,
        /// The time of the check.
        now: i64,
    },
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The time of the check.
        now: i64,
    },
    /// `iss` is not a configured issuer.
    WrongIssuer {
        /// The accepted issuers.
        expected: Vec<String>,
    },
    /// No `aud` value is a configured audience.
    WrongAudience {
        /// The accepted audiences.
        expected: Vec<String>,
    },
    /// No principal rule produced a principal.
    NoRuleMatched,
    /// The rule's output is not a valid principal.
    InvalidPrincipal {
        /// The rule's index.
        rule: usize,
        /// What is wrong with it.
        problem: String,
    },
}

impl Reason {
    /// A short stable tag for the reason, for metrics and tests:
    /// `expired`, `not_yet_valid`, `wrong_audience`, ...
    pub fn tag(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLarge { .. } => "too_large",
            Self::Malformed { .. } => "malformed",
            Self::AlgNotAllowed(_) => "alg_not_allowed",
            Self::CriticalHeader => "critical_header",
            Self::KidRequired => "kid_required",
            Self::UnknownKid => "unknown_kid",
            Self::AlgKeyMismatch { .. } => "alg_key_mismatch",
            Self::BadSignature => "bad_signature",
            Self::ClaimMissing(_) => "claim_missing",
            Self::ClaimType { .. } => "claim_type",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::WrongIssuer { .. } => "wrong_issuer",
            Self::WrongAudience { .. } => "wrong_audience",
            Self::NoRuleMatched => "no_rule_matched",
            Self::InvalidPrincipal { .. } => "invalid_principal",
        }
    }

    /// The code the peer is told.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Empty | Self::TooLarge { .. } => ErrorCode::InvalidRequest,
            _ => ErrorCode::InvalidToken,
        }
    }
}

fn list(f: &mut fmt::Formatter<'_>, values: &[String]) -> fmt::Result {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "`{}`", v.escape_debug())?;
    }
    Ok(())
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the token is empty"),
            Self::TooLarge { len, limit } => {
                write!(
                    f,
                    "the token is {len} bytes, more than the limit of {limit}"
                )
            }
            Self::Malformed { part, problem } => write!(f, "malformed {part}: {problem}"),
            Self::AlgNotAllowed(alg) => {
                write!(f, "algorithm `{}` is not allowed", alg.escape_debug())
            }
            Self::CriticalHeader => {
                f.write_str("the header has `crit` extensions, which are not supported")
            }
            Self::KidRequired => {
                f.write_str("the header has no `kid` and the key set holds more than one key")
            }
            Self::UnknownKid => f.write_str("the header's `kid` is not in the key set"),
            Self::AlgKeyMismatch { alg, key } => {
                write!(f, "algorithm `{alg}` does not match the {key}")
            }
            Self::BadSignature => f.write_str("the signature does not verify"),
            Self::ClaimMissing(c) => write!(f, "claim `{c}` is missing"),
            Self::ClaimType { claim, expected } => {
                write!(f, "claim `{claim}` is not {expected}")
            }
            Self::Expired { exp, now } => {
                write!(
                    f,
                    "expired: `exp` {exp} is {}s before now ({now})",
                    now.saturating_sub(*exp)
                )
            }
            Self::NotYetValid { nbf, now } => write!(
                f,
                "not yet valid: `nbf` {nbf} is {}s after now ({now})",
                nbf.saturating_sub(*now)
            ),
            Self::WrongIssuer { expected } => {
                f.write_str("claim `iss` is not an accepted issuer (expected ")?;
                list(f, expected)?;
                f.write_str(")")
            }
            Self::WrongAudience { expected } => {
                f.write_str("claim `aud` names no accepted audience (expected ")?;
                list(f, expected)?;
                f.write_str(")")
            }
            Self::NoRuleMatched => f.write_str("no principal rule matched the claims"),
            Self::InvalidPrincipal { rule, problem } => {
                write!(
                    f,
                    "principal rule {rule} produced an invalid principal: {problem}"
                )
            }
        }
    }
}

/// A refused token: the code for the peer, the reason for the audit log,
/// and what was learnt of the token before it was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", reason.code())]
pub struct Rejection {
    pub(crate) reason: Reason,
    pub(crate) kid: Option<String>,
    pub(crate) alg: Option<Alg>,
    pub(crate) iss: Option<String>,
}

impl Rejection {
    pub(crate) fn new(reason: Reason) -> Self {
        Self {
            reason,
            kid: None,
            alg: None,
            iss: None,
        }
    }

    /// The RFC 6750 error code for the peer.
    pub fn code(&self) -> ErrorCode {
        self.reason.code()
    }

    /// The precise reason, for the local audit log.
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The header's `kid`, if it had one (cut to 128 characters).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header's algorithm, if it was one we know.
    pub fn alg(&self) -> Option<Alg> {
        self.alg
    }

    /// The `iss` claim, only once the signature has verified (before that it
    /// is anyone's word).
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }
}
