//! GSSAPI errors: what the peer did wrong, what the caller did wrong, and
//! the precise local reason a Kerberos exchange was refused.

use serde::Serialize;

// MIT Kerberos minor status codes (krb5/krb5.h, com_err table base
// -1765328384) that tell the refusal reasons apart.
const KRB5KRB_AP_ERR_TKT_EXPIRED: i32 = -1_765_328_352;
const KRB5KRB_AP_ERR_TKT_NYV: i32 = -1_765_328_351;
const KRB5KRB_AP_ERR_REPEAT: i32 = -1_765_328_350;
const KRB5KRB_AP_ERR_NOT_US: i32 = -1_765_328_349;
const KRB5KRB_AP_ERR_BADMATCH: i32 = -1_765_328_348;
const KRB5KRB_AP_ERR_SKEW: i32 = -1_765_328_347;
const KRB5KRB_AP_ERR_BADKEYVER: i32 = -1_765_328_340;
const KRB5KRB_AP_ERR_NOKEY: i32 = -1_765_328_339;
const KRB5_KT_NOTFOUND: i32 = -1_765_328_203;
const KRB5_KT_KVNONOTFOUND: i32 = -1_765_328_154;
const KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN: i32 = -1_765_328_377;
const KRB5_CC_NOTFOUND: i32 = -1_765_328_243;
const KRB5_FCC_NOFILE: i32 = -1_765_328_189;
/// "Decrypt integrity check failed": the keys on the two ends differ (a
/// stale keytab, a changed password), whatever GSS's major code says.
const KRB5KRB_AP_ERR_BAD_INTEGRITY: i32 = -1_765_328_353;
/// "Preauthentication failed": the KDC refused the client's own key.
const KRB5KDC_ERR_PREAUTH_FAILED: i32 = -1_765_328_360;

/// Why an exchange was refused. Local only: the peer sees a bare failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GssFailure {
    /// The ticket (or the credentials behind it) has expired.
    ExpiredTicket,
    /// The ticket is for a service principal this server has no key for
    /// (or the client asked the KDC for an unknown service).
    WrongServicePrincipal,
    /// The authenticator was seen before (replay cache hit).
    Replay,
    /// The peer's clock is outside the allowed skew (or the ticket is not
    /// yet valid).
    ClockSkew,
    /// No mapping rule turns the Kerberos name into a Mesos principal.
    UnmappedPrincipal,
    /// The client asked to act as a principal other than its own.
    AuthzidMismatch,
    /// No credentials (no ticket cache, no keytab entry for the client).
    NoCredentials,
    /// A token failed its checks (corrupt, forged, wrong key).
    BadToken,
    /// Any other GSSAPI failure (the detail says which).
    Other,
}

impl std::fmt::Display for GssFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ExpiredTicket => "expired ticket",
            Self::WrongServicePrincipal => "wrong service principal",
            Self::Replay => "replayed authenticator",
            Self::ClockSkew => "clock skew too great",
            Self::UnmappedPrincipal => "unmapped principal",
            Self::AuthzidMismatch => "authorization identity mismatch",
            Self::NoCredentials => "no credentials",
            Self::BadToken => "bad token",
            Self::Other => "gssapi failure",
        })
    }
}

/// A GSSAPI exchange's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GssapiError {
    /// Authentication refused: send the peer a bare failure, log the reason.
    #[error("gssapi authentication refused ({reason}): {detail}")]
    Refused {
        /// The reason, for the audit record.
        reason: GssFailure,
        /// GSSAPI's or the mapper's message (names, codes; no key).
        detail: String,
    },
    /// The peer broke the RFC 4752 exchange.
    #[error("gssapi protocol violation: {0}")]
    Protocol(String),
    /// The caller used the exchange wrongly (step after the end).
    #[error("gssapi misuse: {0}")]
    Misuse(String),
    /// Credentials or names could not be set up locally.
    #[error("gssapi setup failed ({reason}): {detail}")]
    Setup {
        /// What kind of failure.
        reason: GssFailure,
        /// What was being done and GSSAPI's message.
        detail: String,
    },
}

impl GssapiError {
    /// The refusal reason, if this is a refusal or setup failure.
    pub fn reason(&self) -> Option<GssFailure> {
        match self {
            Self::Refused { reason, .. } | Self::Setup { reason, .. } => Some(*reason),
            Self::Protocol(_) | Self::Misuse(_) => None,
        }
    }

    pub(crate) fn refused(reason: GssFailure, detail: String) -> Self {
        Self::Refused { reason, detail }
    }

    pub(crate) fn refused_gss(e: &libgssapi::error::Error) -> Self {
        Self::Refused {
            reason: classify(e),
            detail: describe(e),
        }
    }

    pub(crate) fn setup(what: &str, e: &libgssapi::error::Error) -> Self {
        Self::Setup {
            reason: classify(e),
            detail: format!("{what}: {}", describe(e)),
        }
    }

    pub(crate) fn protocol(what: impl Into<String>) -> Self {
        Self::Protocol(what.into())
    }

    pub(crate) fn misuse(what: &str) -> Self {
        Self::Misuse(what.to_owned())
    }
}

/// GSSAPI's text, on one line.
fn describe(e: &libgssapi::error::Error) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The reason, from the mechanism's minor code first (it is precise), then
/// the GSS major code.
pub(crate) fn classify(e: &libgssapi::error::Error) -> GssFailure {
    use libgssapi::error::MajorFlags as M;
    // The minor status is a com_err code, a negative `long` in MIT's
    // headers, carried as OM_uint32: reinterpret the bits.
    let minor = i32::from_ne_bytes(e.minor.to_ne_bytes());
    match minor {
        KRB5KRB_AP_ERR_TKT_EXPIRED => return GssFailure::ExpiredTicket,
        KRB5KRB_AP_ERR_REPEAT => return GssFailure::Replay,
        KRB5KRB_AP_ERR_SKEW | KRB5KRB_AP_ERR_TKT_NYV => return GssFailure::ClockSkew,
        KRB5KRB_AP_ERR_NOT_US
        | KRB5KRB_AP_ERR_BADMATCH
        | KRB5KRB_AP_ERR_BADKEYVER
        | KRB5KRB_AP_ERR_NOKEY
        | KRB5_KT_NOTFOUND
        | KRB5_KT_KVNONOTFOUND
        | KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN => return GssFailure::WrongServicePrincipal,
        KRB5_CC_NOTFOUND | KRB5_FCC_NOFILE | KRB5KDC_ERR_PREAUTH_FAILED => {
            return GssFailure::NoCredentials;
        }
        KRB5KRB_AP_ERR_BAD_INTEGRITY => return GssFailure::BadToken,
        _ => {}
    }
    let major = e.major;
    if major.intersects(M::GSS_S_CREDENTIALS_EXPIRED | M::GSS_S_CONTEXT_EXPIRED) {
        GssFailure::ExpiredTicket
    } else if major.contains(M::GSS_S_DUPLICATE_TOKEN) {
        GssFailure::Replay
    } else if major.contains(M::GSS_S_NO_CRED) {
        GssFailure::NoCredentials
    } else if major.intersects(
        M::GSS_S_DEFECTIVE_TOKEN
            | M::GSS_S_BAD_SIG
            | M::GSS_S_BAD_MIC
            | M::GSS_S_DEFECTIVE_CREDENTIAL,
    ) {
        GssFailure::BadToken
    } else {
        GssFailure::Other
    }
}

#[cfg(test)]
mod classify_test {
    use libgssapi::error::{Error, MajorFlags};

    use super::{GssFailure, classify};

    fn minor(code: i32) -> u32 {
        u32::from_ne_bytes(code.to_ne_bytes())
    }

    #[test]
    fn mismatched_keys_are_not_called_an_expired_ticket() {
        // MIT reports a stale keytab with GSS_S_CREDENTIALS_EXPIRED around
        // the minor code that says what happened.
        let e = Error {
            major: MajorFlags::GSS_S_CREDENTIALS_EXPIRED,
            minor: minor(-1_765_328_353),
        };
        assert_eq!(classify(&e), GssFailure::BadToken);
        let e = Error {
            major: MajorFlags::GSS_S_FAILURE,
            minor: minor(-1_765_328_360),
        };
        assert_eq!(classify(&e), GssFailure::NoCredentials);
        let e = Error {
            major: MajorFlags::GSS_S_CREDENTIALS_EXPIRED,
            minor: 0,
        };
        assert_eq!(classify(&e), GssFailure::ExpiredTicket);
    }
}
