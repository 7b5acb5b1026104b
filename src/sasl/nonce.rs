//! Where challenge randomness comes from.

use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};

/// A source of 128-bit challenge nonces.
///
/// [`OsNonceSource`] is the one to use. Tests pin challenges with a source
/// of their own (the trait has one method); a host that already holds a
/// CSPRNG wraps it in a one-line impl. No RNG crate's trait is part of this
/// API, so those crates can change without breaking callers.
///
/// ```
/// use mesos_auth::sasl::NonceSource;
///
/// /// The same nonce every time: for tests only.
/// struct Fixed([u8; 16]);
///
/// impl NonceSource for Fixed {
///     fn nonce(&mut self) -> [u8; 16] {
///         self.0
///     }
/// }
/// assert_eq!(Fixed([7; 16]).nonce(), [7; 16]);
/// ```
pub trait NonceSource {
    /// Sixteen fresh random bytes.
    fn nonce(&mut self) -> [u8; 16];
}

/// Nonces read straight from the operating system's CSPRNG: one system call
/// each, for a single challenge (an rsasl session) where seeding a ChaCha20
/// generator would cost more.
#[cfg_attr(
    not(feature = "rsasl"),
    allow(dead_code, reason = "used by the rsasl mechanism")
)]
pub(crate) struct SystemNonces;

impl NonceSource for SystemNonces {
    fn nonce(&mut self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        bytes
    }
}

/// The default nonce source: a fast CSPRNG (ChaCha20) seeded from the
/// operating system, for hosts that make many sessions. What is inside is
/// not part of the API, so the RNG crates can change without breaking
/// callers.
///
/// ```
/// use mesos_auth::sasl::{NonceSource, OsNonceSource};
///
/// let mut nonces = OsNonceSource::new()?;
/// assert_ne!(nonces.nonce(), nonces.nonce());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OsNonceSource(ChaCha20Rng);

impl OsNonceSource {
    /// Seeds a new source from the operating system.
    ///
    /// # Errors
    ///
    /// [`NonceError`] if the operating system's RNG cannot be read.
    pub fn new() -> Result<Self, NonceError> {
        ChaCha20Rng::from_rng(OsRng)
            .map(Self)
            .map_err(|e| NonceError {
                message: e.to_string(),
            })
    }
}

impl NonceSource for OsNonceSource {
    fn nonce(&mut self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        self.0.fill_bytes(&mut bytes);
        bytes
    }
}

// The RNG state would let a reader predict the next challenges.
impl std::fmt::Debug for OsNonceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OsNonceSource(..)")
    }
}

/// The operating system's random number generator could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the operating system's random number generator: {message}")]
pub struct NonceError {
    message: String,
}

/// [`OsNonceSource::new`].
///
/// # Errors
///
/// [`NonceError`] if the operating system's RNG cannot be read.
pub fn default_nonce_source() -> Result<OsNonceSource, NonceError> {
    OsNonceSource::new()
}

/// Longest host part of a challenge. With `<`, two 11-character nonce
/// halves, `.`, `@` and `>` (26 bytes) it keeps a challenge at 55 bytes:
/// 64 (HMAC's inner pad block) + 55 + 9 (MD5's `0x80` byte and length) is
/// two blocks, so the inner hash costs one compression after the stored
/// inner state, and a check costs two in all (a 56-byte challenge costs
/// three).
pub(crate) const MAX_HOST_LEN: usize = 29;

/// Longest challenge: 55 bytes (see [`MAX_HOST_LEN`]).
pub(crate) const MAX_CHALLENGE_LEN: usize = 26 + MAX_HOST_LEN;

/// A challenge kept inline, so a session holds it without an allocation.
#[derive(Clone)]
pub(crate) struct Challenge {
    // One spare byte: the head and the whole (padded) tail, 24 + 32.
    bytes: [u8; HEAD_LEN + TAIL_BYTES],
    // INVARIANT: `len <= MAX_CHALLENGE_LEN`.
    len: u8,
}

impl Challenge {
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The challenge as a step message's data, inline: its whole buffer
    /// is copied (a fixed size, a few moves rather than a `memcpy` call).
    pub(crate) fn to_step_data(&self) -> super::message::StepData {
        super::message::StepData::inline(self.bytes, usize::from(self.len))
    }
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Challenge")
            .field(&String::from_utf8_lossy(self.as_slice()))
            .finish()
    }
}

/// The base64url alphabet (RFC 4648 §5): every character is `atext`
/// (RFC 5322), so the challenge stays a msg-id as RFC 2195 asks.
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `n` as 11 base64url characters, most significant first (66 bits: the
/// first character carries the top 4 bits). The value is public (it is
/// sent to the peer), so the table look-ups leak nothing.
fn b64url_u64(n: u64) -> [u8; 11] {
    let mut out = [0u8; 11];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 6 * (10 - i);
        let index = ((n >> shift) & 63) as usize;
        *slot = B64URL.get(index).copied().unwrap_or(b'A');
    }
    out
}

/// The end of a host's challenges, `@host>`, built once per configuration
/// and kept inline at a fixed size, so a session assembles its challenge
/// with fixed-size copies (no length-dependent copy, no shared pointer to
/// count).
#[derive(Clone, Copy)]
pub(crate) struct ChallengeTail {
    bytes: [u8; TAIL_BYTES],
    // INVARIANT: `2 <= len <= MAX_HOST_LEN + 2`; `bytes[..len]` is `@host>`.
    len: u8,
}

/// The tail's storage: `@`, the host, `>`, and one spare byte, so it is
/// copied as two whole 16-byte words. At 31 bytes the copies overlapped,
/// and reading a configuration just cloned stalled on them (a store the
/// read only partly covers cannot be forwarded).
const TAIL_BYTES: usize = MAX_HOST_LEN + 3;

impl ChallengeTail {
    /// The tail for `host`, cut at [`MAX_HOST_LEN`] bytes (the config has
    /// already shortened it at a label boundary).
    pub(crate) fn new(host: &str) -> Self {
        let host = host.as_bytes();
        let host = host.get(..MAX_HOST_LEN).unwrap_or(host);
        let mut bytes = [0u8; TAIL_BYTES];
        let mut len = 0usize;
        for part in [b"@".as_slice(), host, b">"] {
            let end = len.saturating_add(part.len());
            if let Some(dst) = bytes.get_mut(len..end) {
                dst.copy_from_slice(part);
                len = end;
            }
        }
        Self {
            bytes,
            // At most 31 (the host was cut above), so the cast is exact.
            len: len.min(MAX_HOST_LEN + 2) as u8,
        }
    }

    /// The host, as the challenges name it.
    pub(crate) fn host(&self) -> &str {
        let end = usize::from(self.len).saturating_sub(1);
        let host = self.bytes.get(1..end).unwrap_or_default();
        // Built from a `&str` cut at a byte limit: lossy only if the cut
        // split a character.
        std::str::from_utf8(host).unwrap_or("")
    }
}

impl std::fmt::Debug for ChallengeTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.host(), f)
    }
}

/// `<`, the nonce's high half, `.`, its low half: the first 24 bytes of
/// every challenge.
const HEAD_LEN: usize = 24;

/// Builds the challenge `<{hi}.{lo}@{host}>`, where `hi` and `lo` are the
/// nonce's two 64-bit halves in base64url: the shape of Cyrus SASL's
/// `<random.time@host>` (a msg-id, RFC 2195), with all 128 bits random
/// (Cyrus has 32) in 22 characters instead of up to 40 decimal digits.
pub(crate) fn challenge_with(nonce: [u8; 16], tail: &ChallengeTail) -> Challenge {
    let value = u128::from_be_bytes(nonce);
    let [h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10] = b64url_u64((value >> 64) as u64);
    let [l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10] = b64url_u64(value as u64);
    let head: [u8; HEAD_LEN] = [
        b'<', h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, b'.', l0, l1, l2, l3, l4, l5, l6, l7,
        l8, l9, l10,
    ];
    let mut bytes = [0u8; HEAD_LEN + TAIL_BYTES];
    // Fixed sizes: 24 + 32, so both parts always exist.
    if let Some((first, rest)) = bytes.split_first_chunk_mut::<HEAD_LEN>() {
        *first = head;
        if let Some(last) = rest.first_chunk_mut::<TAIL_BYTES>() {
            *last = tail.bytes;
        }
    }
    Challenge {
        bytes,
        // At most 24 + 31 = 55, so the cast is exact.
        len: (HEAD_LEN + usize::from(tail.len)).min(MAX_CHALLENGE_LEN) as u8,
    }
}

/// [`challenge_with`] for `host` (cut at [`MAX_HOST_LEN`] bytes).
pub(crate) fn challenge_inline(nonce: [u8; 16], host: &str) -> Challenge {
    challenge_with(nonce, &ChallengeTail::new(host))
}

/// [`challenge_inline`] as a vector.
pub(crate) fn challenge(nonce: [u8; 16], host: &str) -> Vec<u8> {
    challenge_inline(nonce, host).as_slice().to_vec()
}

/// A host name for challenges, at most [`MAX_HOST_LEN`] bytes: `host` if it
/// fits, else its longest prefix of whole labels that fits (`a.b.example`
/// becomes `a.b`), else its first label cut to the limit.
pub(crate) fn fit_host(host: &str) -> &str {
    if host.len() <= MAX_HOST_LEN {
        return host;
    }
    let head = host.get(..=MAX_HOST_LEN).unwrap_or(host);
    match head.rfind('.') {
        Some(dot) if dot > 0 => host.get(..dot).unwrap_or(host),
        _ => host.get(..MAX_HOST_LEN).unwrap_or(host),
    }
}
