//! HMAC-MD5 (RFC 2104) with the key schedule done once.
//!
//! CRAM-MD5 (RFC 2195) is HMAC-MD5 over the server's challenge. HMAC's two
//! key-dependent MD5 blocks (key ⊕ ipad, key ⊕ opad) never change for a
//! credential, so the store compresses them at load time and keeps only the
//! two 128-bit chaining states. A check then costs the MD5 blocks of the
//! challenge plus one, and a file holding the states (Dovecot's `CRAM-MD5`
//! scheme) does not give the password back.
//!
//! The compression function is `md-5`'s (`block_api::compress`, public
//! since 0.11); the padding, the key schedule and the states are here. The
//! tests cross-check the result against `md-5`'s `Md5` and the RFC vectors.

use zeroize::{Zeroize, ZeroizeOnDrop};

// The MD5 compression function (RFC 1321 §3.4) is `md-5`'s, public with its
// chaining state since 0.11; until then this file held its own. Measured
// side by side (benches/hashes.rs, criterion, 10 interleaved runs on the
// shared 2-core machine): ours was faster alone (median ratio 0.84) but the
// whole CRAM-MD5 check, an HMAC from stored states over a 62-byte
// challenge, differed by 3% (median ratio 0.97, runs 0.69 to 1.32), inside
// the noise. Not measurably better, so the crate's is used, fed bytes
// directly (a words-to-bytes wrapper cost about 25% more, and so did wiping
// the public challenge's padding byte by byte). As written here the check
// is within 2-5% of the bare crate HMAC (4 runs, 368-423 ns).
use md5::block_api::compress;

const BLOCK: usize = 64;
const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Continues an MD5 computation from `state`, after `prefix_len` bytes
/// already compressed (a multiple of 64), over `data`, and returns the
/// final state (whose little-endian bytes are the digest). `secret` says
/// whether `data` must not outlive the call in the padding copy.
fn finish_state(mut state: [u32; 4], prefix_len: u64, data: &[u8], secret: bool) -> [u32; 4] {
    let mut chunks = data.chunks_exact(BLOCK);
    // Whole blocks straight from the caller's bytes: no copy to wipe.
    for chunk in &mut chunks {
        if let Ok(block) = <&[u8; BLOCK]>::try_from(chunk) {
            compress(&mut state, std::slice::from_ref(block));
        }
    }
    let rest = chunks.remainder();
    let bit_len = (prefix_len + data.len() as u64).wrapping_mul(8);
    let blocks = if rest.len() < 56 { 1 } else { 2 };
    let mut tail = [[0u8; BLOCK]; 2];
    let flat = tail.as_flattened_mut();
    if let Some(dst) = flat.get_mut(..rest.len()) {
        dst.copy_from_slice(rest);
    }
    // The 0x80 byte right after the data, the bit length at the end.
    if let Some(b) = flat.get_mut(rest.len()) {
        *b = 0x80;
    }
    if let Some(dst) = flat.get_mut(blocks * BLOCK - 8..blocks * BLOCK) {
        dst.copy_from_slice(&bit_len.to_le_bytes());
    }
    compress(&mut state, tail.get(..blocks).unwrap_or_default());
    // A long key is secret: wipe the copy. A challenge is public, and
    // wiping byte by byte is a sixth of the cost of a CRAM-MD5 check.
    if secret {
        tail.zeroize();
    }
    state
}

/// The digest bytes of a final state.
fn digest_of(state: &[u32; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (dst, word) in out.chunks_exact_mut(4).zip(state) {
        dst.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// MD5 of `data` (the tests check the compression function with it).
#[cfg(test)]
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    let mut state = finish_state(INIT, 0, data, true);
    let out = digest_of(&state);
    state.zeroize();
    out
}

/// An HMAC-MD5 key reduced to its inner and outer chaining states.
///
/// Wiped on drop; no `Debug` beyond a redacted one, no `PartialEq`.
#[derive(Clone)]
pub(crate) struct HmacMd5Key {
    inner: [u32; 4],
    outer: [u32; 4],
}

impl HmacMd5Key {
    /// Runs the HMAC key schedule over `secret` (hashed first if it is longer
    /// than a block, as RFC 2104 says).
    pub(crate) fn from_secret(secret: &[u8]) -> Self {
        let mut key = [0u8; BLOCK];
        if secret.len() > BLOCK {
            let mut digest = finish_state(INIT, 0, secret, true);
            for (dst, word) in key.chunks_exact_mut(4).zip(digest.iter()) {
                dst.copy_from_slice(&word.to_le_bytes());
            }
            digest.zeroize();
        } else if let Some(dst) = key.get_mut(..secret.len()) {
            dst.copy_from_slice(secret);
        }
        let mut pad = [0u8; BLOCK];
        let mut inner = INIT;
        let mut outer = INIT;
        // By reference: `zip(key)` would move a copy of the key into the
        // iterator, a stack copy nothing wipes (found by the zeroize test).
        for (p, k) in pad.iter_mut().zip(key.iter()) {
            *p = k ^ 0x36;
        }
        compress(&mut inner, std::slice::from_ref(&pad));
        for (p, k) in pad.iter_mut().zip(key.iter()) {
            *p = k ^ 0x5c;
        }
        compress(&mut outer, std::slice::from_ref(&pad));
        key.zeroize();
        pad.zeroize();
        Self { inner, outer }
    }

    /// Rebuilds a key from stored chaining states.
    pub(crate) fn from_states(inner: [u32; 4], outer: [u32; 4]) -> Self {
        Self { inner, outer }
    }

    /// Rebuilds a key from its inner then outer state, as [`words`](Self::words)
    /// gives them.
    pub(crate) fn from_words(words: &[u32; 8]) -> Self {
        let [i0, i1, i2, i3, o0, o1, o2, o3] = *words;
        Self {
            inner: [i0, i1, i2, i3],
            outer: [o0, o1, o2, o3],
        }
    }

    /// The inner then outer state as one array (for tables that select keys
    /// word by word in constant time). The caller wipes the copy.
    pub(crate) fn words(&self) -> [u32; 8] {
        let ([i0, i1, i2, i3], [o0, o1, o2, o3]) = (self.inner, self.outer);
        [i0, i1, i2, i3, o0, o1, o2, o3]
    }

    /// The inner and outer chaining states, for writing a stored form.
    pub(crate) fn states(&self) -> ([u32; 4], [u32; 4]) {
        (self.inner, self.outer)
    }

    /// HMAC-MD5(key, `message`). The message is public (a CRAM-MD5
    /// challenge): only key-derived data is wiped.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 16] {
        let mut inner = finish_state(self.inner, BLOCK as u64, message, false);
        // The outer message is the inner digest (the inner state's
        // little-endian bytes): one block, 0x80 after 16 bytes, and the bit
        // length of ipad-block + digest (80 bytes).
        let mut block = [0u8; BLOCK];
        for (dst, word) in block.chunks_exact_mut(4).zip(inner.iter()) {
            dst.copy_from_slice(&word.to_le_bytes());
        }
        if let Some(b) = block.get_mut(16) {
            *b = 0x80;
        }
        if let Some(dst) = block.get_mut(BLOCK - 8..) {
            dst.copy_from_slice(&(80u64 * 8).to_le_bytes());
        }
        let mut outer = self.outer;
        compress(&mut outer, std::slice::from_ref(&block));
        inner.zeroize();
        // Only the first 16 bytes (the inner digest) are not constants.
        if let Some(digest) = block.get_mut(..16) {
            digest.zeroize();
        }
        digest_of(&outer)
    }
}

impl Drop for HmacMd5Key {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl ZeroizeOnDrop for HmacMd5Key {}

impl std::fmt::Debug for HmacMd5Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacMd5Key(<redacted>)")
    }
}

#[cfg(test)]
mod test;
