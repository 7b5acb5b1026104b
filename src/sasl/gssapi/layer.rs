//! RFC 4752 §3.1's security-layer negotiation: after the GSS context is
//! established, the server sends (wrapped) one octet of offered layers and
//! three of its maximum buffer size; the client answers (wrapped) with the
//! one layer it chose, its own maximum buffer size and an optional
//! authorization identity. We offer and accept only "no security layer":
//! Mesos carries its messages on its own connection after authentication.

/// "No security layer" bit.
pub(crate) const LAYER_NONE: u8 = 0x01;

/// The server's offer: no security layer, maximum buffer 0.
pub(crate) const SERVER_OFFER: [u8; 4] = [LAYER_NONE, 0, 0, 0];

/// Parsed security-layer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerMessage {
    /// The layer bitmask (offered by the server, chosen by the client).
    pub layers: u8,
    /// The maximum buffer size, 0 to 2^24 - 1.
    pub max_buffer: u32,
    /// The authorization identity (client only; empty if none).
    pub authzid: Vec<u8>,
}

/// Why a security-layer message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// Shorter than four octets.
    #[error("security-layer message is {0} bytes, not at least 4")]
    Short(usize),
    /// The server's offer has trailing bytes.
    #[error("the server's security-layer offer is {0} bytes, not 4")]
    ServerLength(usize),
    /// The server does not offer "no security layer".
    #[error("the server does not offer authentication without a security layer (mask {0:#04x})")]
    NoneNotOffered(u8),
    /// The client chose something other than exactly "no security layer".
    #[error("the client chose security layer mask {0:#04x}, only 0x01 (none) is offered")]
    UnofferedLayer(u8),
    /// The authorization identity is not UTF-8.
    #[error("the authorization identity is not UTF-8")]
    AuthzidNotUtf8,
}

/// Parses the four octets and what follows.
///
/// # Errors
/// [`LayerError::Short`] under four octets.
pub fn parse(msg: &[u8]) -> Result<LayerMessage, LayerError> {
    let (head, rest) = msg
        .split_first_chunk::<4>()
        .ok_or(LayerError::Short(msg.len()))?;
    let [layers, a, b, c] = *head;
    Ok(LayerMessage {
        layers,
        max_buffer: u32::from_be_bytes([0, a, b, c]),
        authzid: rest.to_vec(),
    })
}

/// Checks the server's offer (client side).
///
/// # Errors
/// [`LayerError`] if it is not exactly four octets or lacks "none".
pub fn check_offer(msg: &[u8]) -> Result<LayerMessage, LayerError> {
    let offer = parse(msg)?;
    if msg.len() != 4 {
        return Err(LayerError::ServerLength(msg.len()));
    }
    if offer.layers & LAYER_NONE == 0 {
        return Err(LayerError::NoneNotOffered(offer.layers));
    }
    Ok(offer)
}

/// Checks the client's choice (server side) and returns its authorization
/// identity (empty: none). The client's maximum buffer is ignored: with no
/// security layer it has no use (Cyrus ignores it too).
///
/// # Errors
/// [`LayerError`] if short, not exactly "none", or the authzid is not UTF-8.
pub fn check_choice(msg: &[u8]) -> Result<String, LayerError> {
    let choice = parse(msg)?;
    if choice.layers != LAYER_NONE {
        return Err(LayerError::UnofferedLayer(choice.layers));
    }
    String::from_utf8(choice.authzid).map_err(|_| LayerError::AuthzidNotUtf8)
}

/// The client's answer: no security layer, maximum buffer 0, `authzid`.
pub fn client_choice(authzid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + authzid.len());
    out.extend_from_slice(&[LAYER_NONE, 0, 0, 0]);
    out.extend_from_slice(authzid.as_bytes());
    out
}
