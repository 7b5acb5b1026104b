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
    format!("<{hi}.{lo}@{host}>").into_bytes()
}
