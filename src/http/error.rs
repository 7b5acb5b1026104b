//! Errors of the HTTP authentication component.

/// Why an `Authorization` header was not accepted, or why an authenticator
/// could not be built.
///
/// The header variants go to the local audit log only: the client sees one
/// uniform challenge. None of them quotes the header, which holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// More than one `Authorization` header was sent.
    #[error("{count} Authorization headers (at most one is accepted)")]
    MultipleAuthorization {
        /// How many.
        count: usize,
    },
    /// The header value is longer than [`MAX_AUTHORIZATION_LEN`](super::MAX_AUTHORIZATION_LEN).
    #[error("the Authorization header is {len} bytes, more than the limit of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The header is not `<scheme> <credentials>` (one token after the
    /// scheme, separated by spaces, nothing after it).
    #[error("the Authorization header is malformed: {what}")]
    Malformed {
        /// What is wrong (never the value).
        what: &'static str,
    },
    /// The Basic credentials are not canonical base64.
    #[error("the Basic credentials are not canonical base64")]
    Base64,
    /// The decoded Basic credentials are not UTF-8.
    #[error("the Basic credentials are not UTF-8")]
    NotUtf8,
    /// The decoded Basic credentials hold no `:`.
    #[error("the Basic credentials hold no `:` between user-id and password")]
    NoColon,
    /// The Basic user-id is empty.
    #[error("the Basic user-id is empty")]
    EmptyUser,
    /// The realm cannot be written in a challenge (empty, or holding a
    /// quote, backslash or control character).
    #[error("the realm `{}` cannot be used in a challenge: {what}", .realm.escape_debug())]
    BadRealm {
        /// The realm given.
        realm: String,
        /// What is wrong with it.
        what: &'static str,
    },
    /// An authenticator was built with no scheme (no Basic, no Bearer).
    #[error("no authentication scheme was configured")]
    NoScheme,
    /// The operating system's random number generator could not be read
    /// (for audit IDs).
    #[error("cannot read the operating system's random number generator: {message}")]
    Random {
        /// The detail.
        message: String,
    },
}
