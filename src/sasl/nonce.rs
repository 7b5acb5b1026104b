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

/// Longest challenge: `<`, two 20-digit numbers, `.`, `@`, a 128-byte host,
/// `>` (the authenticator caps the host at 128 bytes).
pub(crate) const MAX_CHALLENGE_LEN: usize = 44 + 128;

/// A challenge kept inline, so a session holds it without an allocation.
#[derive(Clone)]
pub(crate) struct Challenge {
    bytes: [u8; MAX_CHALLENGE_LEN],
    len: usize,
}

impl Challenge {
    fn push(&mut self, part: &[u8]) {
        let end = self.len.saturating_add(part.len()).min(MAX_CHALLENGE_LEN);
        if let Some(dst) = self.bytes.get_mut(self.len..end) {
            dst.copy_from_slice(part.get(..end - self.len).unwrap_or_default());
        }
        self.len = end;
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Challenge")
            .field(&String::from_utf8_lossy(self.as_slice()))
            .finish()
    }
}

/// Builds the challenge `<{hi}.{lo}@{host}>`: the shape of Cyrus SASL's
/// `<random.time@host>` that existing clients accept, but with all 128 bits
/// of the two decimal fields random (Cyrus has 32). A host longer than 128
/// bytes is cut.
pub(crate) fn challenge_inline(nonce: [u8; 16], host: &str) -> Challenge {
    let value = u128::from_be_bytes(nonce);
    let mut out = Challenge {
        bytes: [0; MAX_CHALLENGE_LEN],
        len: 0,
    };
    out.push(b"<");
    push_decimal(&mut out, (value >> 64) as u64);
    out.push(b".");
    push_decimal(&mut out, value as u64);
    out.push(b"@");
    let host = host.as_bytes();
    out.push(host.get(..128).unwrap_or(host));
    out.push(b">");
    out
}

/// [`challenge_inline`] as a vector.
pub(crate) fn challenge(nonce: [u8; 16], host: &str) -> Vec<u8> {
    challenge_inline(nonce, host).as_slice().to_vec()
}

/// Appends `n` in decimal (no `format!`: this is on every session's path).
///
/// The 20 digit positions are filled as three independent parts (4 + 8 + 8
/// digits, 32-bit arithmetic), so the divisions overlap instead of forming
/// one chain of twenty; then leading zeros are dropped. The value is public
/// (it is sent to the peer), so the branches here leak nothing.
fn push_decimal(out: &mut Challenge, n: u64) {
    const E8: u64 = 100_000_000;
    let mut digits = [b'0'; 20];
    // Each part is below 10^8, so the casts are exact.
    let parts = [
        (n / (E8 * E8)) as u32,
        ((n / E8) % E8) as u32,
        (n % E8) as u32,
    ];
    let (top, rest) = digits.split_at_mut(4);
    let (mid, low) = rest.split_at_mut(8);
    for (slots, mut v) in [top, mid, low].into_iter().zip(parts) {
        for slot in slots.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let start = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len() - 1);
    out.push(digits.get(start..).unwrap_or_default());
}
