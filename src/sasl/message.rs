//! The Mesos authentication messages, decoded (`authentication.proto`).

/// CRAM-MD5, the mechanism Mesos ships (the same as
/// [`CRAM_MD5`](super::CRAM_MD5)).
pub const MECHANISM: &str = super::mechanism::CRAM_MD5;

/// Largest `data` accepted in a start or step message, either side, in bytes
/// (Cyrus SASL's cap, threats.md SA-11, SC-3). GSSAPI's messages have their
/// own bound, `gssapi::MAX_TOKEN_LEN` (64 KiB, feature `gssapi`): Kerberos
/// tickets outgrow this one.
pub const MAX_MESSAGE_LEN: usize = 1024;

/// A message from the authenticator to the authenticatee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// `AuthenticationMechanismsMessage`.
    Mechanisms(Vec<String>),
    /// `AuthenticationStepMessage` (the challenge).
    Step(Vec<u8>),
    /// `AuthenticationCompletedMessage`.
    Completed,
    /// `AuthenticationFailedMessage`: the one uniform refusal.
    Failed,
    /// `AuthenticationErrorMessage` with its `error` text.
    Error(String),
}

/// A message from the authenticatee to the authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `AuthenticationStartMessage`.
    Start {
        /// The chosen mechanism.
        mechanism: String,
        /// Initial response (must be empty for CRAM-MD5, which is
        /// server-first; OAUTHBEARER's GS2 message).
        data: Vec<u8>,
    },
    /// `AuthenticationStepMessage` (the response).
    Step(Vec<u8>),
}
