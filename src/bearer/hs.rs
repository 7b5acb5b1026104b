//! HMAC keys (HS256/384/512) prepared once, when the key set is read: the
//! padded key blocks are hashed then, so a token costs only its own input
//! (the backend's call built a fresh key and re-encoded the tag as base64
//! per token). The tag is compared in constant time (`verify_slice`); its
//! length is public.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

use super::alg::Alg;

/// One shared secret, ready for each HMAC algorithm.
#[derive(Clone)]
pub(crate) struct HmacKeys {
    s256: Hmac<Sha256>,
    s384: Hmac<Sha384>,
    s512: Hmac<Sha512>,
}

impl fmt::Debug for HmacKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKeys(..)")
    }
}

impl HmacKeys {
    /// `None` never happens in practice: HMAC takes a key of any length.
    pub(crate) fn new(secret: &[u8]) -> Option<Self> {
        Some(Self {
            s256: Mac::new_from_slice(secret).ok()?,
            s384: Mac::new_from_slice(secret).ok()?,
            s512: Mac::new_from_slice(secret).ok()?,
        })
    }

    /// Whether `tag` is `alg`'s HMAC of `input`; `false` for a non-HMAC
    /// `alg`.
    pub(crate) fn verify(&self, alg: Alg, input: &[u8], tag: &[u8]) -> bool {
        fn check<M: Mac + Clone>(key: &M, input: &[u8], tag: &[u8]) -> bool {
            let mut m = key.clone();
            m.update(input);
            m.verify_slice(tag).is_ok()
        }
        match alg {
            Alg::HS256 => check(&self.s256, input, tag),
            Alg::HS384 => check(&self.s384, input, tag),
            Alg::HS512 => check(&self.s512, input, tag),
            _ => false,
        }
    }
}
