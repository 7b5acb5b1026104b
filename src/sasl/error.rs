//! Why an exchange broke off. Peer faults and caller mistakes are kept apart
//! (STYLE.md §4). No message carries a secret or a digest.

/// An error from the authenticator or the authenticatee. Sticky: once a
/// session has returned one, every later call returns it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The peer broke the protocol.
    #[error("peer misbehaved: {0}")]
    Peer(#[from] PeerMisbehaved),
    /// The caller used the API wrongly.
    #[error("api misuse: {0}")]
    Misuse(#[from] ApiMisuse),
    /// The server gave up waiting for the client.
    #[error("authentication timed out")]
    TimedOut,
    /// The host discarded the session.
    #[error("authentication discarded")]
    Discarded,
    /// The server answered with an `AuthenticationErrorMessage`.
    #[error("server reported an error: `{0}`")]
    Server(String),
    /// GSSAPI client: Kerberos could not go on locally (no ticket or
    /// keytab entry, expired credentials, the server failed mutual
    /// authentication). GSSAPI's message names principals and codes, never
    /// keys.
    #[error("kerberos: {0}")]
    Kerberos(String),
}

/// A protocol violation by the other side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// A start message when none was expected.
    #[error("unexpected authentication 'start' received")]
    UnexpectedStart,
    /// A step message when none was expected.
    #[error("unexpected authentication 'step' received")]
    UnexpectedStep,
    /// A mechanisms message when none was expected.
    #[error("unexpected authentication mechanisms received")]
    UnexpectedMechanisms,
    /// `Completed` before the client sent its response (threats.md SC-1).
    #[error("unexpected authentication 'completed' received")]
    UnexpectedCompleted,
    /// A message after the exchange had ended.
    #[error("message received after the authentication ended")]
    AfterEnd,
    /// The client asked for another mechanism.
    #[error("unsupported mechanism (not one this server offers)")]
    UnsupportedMechanism,
    /// The server does not offer the one mechanism this client is
    /// configured for (no fallback to a weaker one: downgrade protection).
    #[error("server does not offer {0}, and this client will not fall back to another mechanism")]
    MechanismNotOffered(&'static str),
    /// An OAUTHBEARER message broke RFC 7628's syntax; names the problem,
    /// never the content.
    #[error("malformed OAUTHBEARER message: {0}")]
    MalformedOAuthBearer(&'static str),
    /// A GSSAPI message broke RFC 4752's exchange (a token out of place,
    /// a malformed security-layer message); names the problem.
    #[error("malformed GSSAPI message: {0}")]
    MalformedGssapi(String),
    /// The server did not offer CRAM-MD5 (no downgrade, threats.md SC-2).
    #[error("server does not offer CRAM-MD5")]
    NoCramMd5,
    /// The client sent initial data with its start message (threats.md SA-2).
    #[error("unexpected initial data in start message")]
    InitialData,
    /// Message data over the size limit.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLong {
        /// Bytes received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An empty challenge (threats.md SC-3).
    #[error("empty challenge")]
    EmptyChallenge,
    /// A response with no user name before its last space (threats.md SA-3).
    #[error("response needs an authentication name")]
    MissingName,
}

/// A mistake by the host program.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiMisuse {
    /// A call after the exchange had ended.
    #[error("the exchange has already ended")]
    Finished,
    /// An authenticatee was built with an empty secret (Mesos refuses these).
    #[error("the secret is empty")]
    EmptySecret,
    /// A bearer token that cannot be sent (empty, or outside RFC 6750's
    /// `b64token` syntax). The token is not quoted.
    #[error("the bearer token is unusable: {0}")]
    BadToken(&'static str),
    /// A server configuration with no mechanism enabled.
    #[error("no SASL mechanism is enabled")]
    NoMechanism,
}
