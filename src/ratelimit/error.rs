//! Errors of the rate-limit component.

use crate::span::Location;

/// Why a rate-limits document was refused: where (line:column and JSON path)
/// and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// The document is larger than the limit.
    #[error("the rate limits are {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A limit built in code ([`RateLimit::new`](super::RateLimit::new))
    /// has a `qps` that is not a positive finite number.
    #[error("the limit for `{}`: qps must be a positive number", .principal.escape_debug())]
    BadQps {
        /// The principal it was for.
        principal: String,
    },
    /// The file cannot be read.
    #[error("{path}: {message}")]
    File {
        /// The path, as given.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The text is not acceptable JSON.
    #[error("{location}: {message}")]
    Json {
        /// Where.
        location: Location,
        /// What.
        message: String,
    },
    /// A value does not fit the schema.
    #[error("{location}: {path}: {message}")]
    Invalid {
        /// Where the value starts.
        location: Location,
        /// Its JSON path, like `$.limits[2].qps`.
        path: String,
        /// What is wrong.
        message: String,
    },
}
