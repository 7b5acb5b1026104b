//! `Secret`: a password held on the heap, wiped on drop, compared in constant time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Longest secret accepted, in bytes (threats.md §0).
pub const MAX_SECRET_LEN: usize = 1024;

/// A shared secret (a password).
///
/// The bytes live in one heap allocation sized exactly once, so no growth
/// leaves copies behind, and are overwritten with zeros when the `Secret` is
/// dropped. `Debug` prints `Secret(<redacted>)`. There is deliberately no
/// `Clone`, `PartialEq` or `Display`: comparing goes through
/// [`Secret::verify`], which runs in constant time.
///
/// ```
/// use mesos_auth::Secret;
///
/// let secret = Secret::new(b"q7Vn-2xLw-Rb8k");
/// assert!(secret.verify(b"q7Vn-2xLw-Rb8k"));
/// assert!(!secret.verify(b"q7Vn"));
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// ```
pub struct Secret(Box<[u8]>);

impl Secret {
    /// Copies `bytes` into a new secret. The caller keeps responsibility for
    /// wiping its own copy.
    pub fn new(bytes: &[u8]) -> Self {
        Self(Box::from(bytes))
    }

    /// Takes a buffer that will be wiped, copying only if its capacity is
    /// larger than its length (a shrink could otherwise leave a copy behind).
    pub fn from_zeroizing(bytes: Zeroizing<Vec<u8>>) -> Self {
        // Copy into an exact-size box; `bytes` is wiped when it drops here.
        Self(Box::from(bytes.as_slice()))
    }

    /// Length in bytes (public information: Mesos and Cyrus both reveal it
    /// through timing of the HMAC key schedule anyway for keys over 64 bytes).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares `candidate` with this secret in constant time.
    ///
    /// Both sides are hashed with SHA-256 first, so neither the secret's
    /// length nor the position of the first difference shows in the timing.
    pub fn verify(&self, candidate: &[u8]) -> bool {
        let mine = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(&self.0)));
        let theirs = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(candidate)));
        bool::from(mine.ct_eq(&*theirs))
    }

    /// The raw bytes. Crate-private so the secret cannot leak through the API.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new(b"hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{s:#?}").contains("hunter2"));
    }

    #[test]
    fn verify_is_exact() {
        let s = Secret::new(b"tanstaaftanstaaf");
        assert!(s.verify(b"tanstaaftanstaaf"));
        assert!(!s.verify(b"tanstaaftanstaa"));
        assert!(!s.verify(b"tanstaaftanstaafX"));
        assert!(!s.verify(b""));
        assert_eq!(s.len(), 16);
        assert_eq!(s.expose(), b"tanstaaftanstaaf");
    }

    #[test]
    fn from_zeroizing_keeps_bytes() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(b"abc");
        let s = Secret::from_zeroizing(Zeroizing::new(v));
        assert_eq!(s.expose(), b"abc");
    }
}
