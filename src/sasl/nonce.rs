//! Where challenge randomness comes from.

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, OsRng, RngCore, SeedableRng};

/// A source of 128-bit challenge nonces. Every cryptographically secure RNG
/// (`RngCore + CryptoRng`) is one; tests pass a seeded one to pin challenges.
pub trait NonceSource {
    /// Sixteen fresh random bytes.
    fn nonce(&mut self) -> [u8; 16];
}

impl<R: RngCore + CryptoRng> NonceSource for R {
    fn nonce(&mut self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        self.fill_bytes(&mut bytes);
        bytes
    }
}

/// A fast CSPRNG (ChaCha20) seeded from the operating system, for hosts that
/// make many sessions.
///
/// # Errors
///
/// Returns the OS RNG's error if it cannot be read.
pub fn default_nonce_source() -> Result<ChaCha20Rng, rand_core::Error> {
    ChaCha20Rng::from_rng(OsRng)
}

/// Builds the challenge `<{hi}.{lo}@{host}>`: the shape of Cyrus SASL's
/// `<random.time@host>` that existing clients accept, but with all 128 bits
/// of the two decimal fields random (Cyrus has 32).
pub(crate) fn challenge(nonce: [u8; 16], host: &str) -> Vec<u8> {
    let value = u128::from_be_bytes(nonce);
    let hi = (value >> 64) as u64;
    let lo = value as u64;
    // Sized once: two u64s of at most 20 digits, `<.@>` and the host.
    let mut out = Vec::with_capacity(44 + host.len());
    out.push(b'<');
    push_decimal(&mut out, hi);
    out.push(b'.');
    push_decimal(&mut out, lo);
    out.push(b'@');
    out.extend_from_slice(host.as_bytes());
    out.push(b'>');
    out
}

/// Appends `n` in decimal (no `format!`: this is on every session's path).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        start -= 1;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}
