//! HMAC-MD5 (RFC 2104) with the key schedule done once.
//!
//! CRAM-MD5 (RFC 2195) is HMAC-MD5 over the server's challenge. HMAC's two
//! key-dependent MD5 blocks (key ⊕ ipad, key ⊕ opad) never change for a
//! credential, so the store compresses them at load time and keeps only the
//! two 128-bit chaining states. A check then costs the MD5 blocks of the
//! challenge plus one, and a file holding the states (Dovecot's `CRAM-MD5`
//! scheme) does not give the password back.
//!
//! The RustCrypto `md-5` crate does not expose its chaining state, so the
//! compression function (RFC 1321 §3.4) lives here; the tests cross-check it
//! against `md-5` and the RFC vectors.

use zeroize::{Zeroize, ZeroizeOnDrop};

const BLOCK: usize = 64;
const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Per-round shift amounts and sine constants of RFC 1321.
const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

#[expect(
    clippy::indexing_slicing,
    reason = "every index is < 16 or < 64 by construction"
)]
fn compress(state: &mut [u32; 4], block: &[u8; BLOCK]) {
    let mut m = [0u32; 16];
    for (w, chunk) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let rotated = a
            .wrapping_add(f)
            .wrapping_add(K[i])
            .wrapping_add(m[g])
            .rotate_left(S[i]);
        (a, b, c, d) = (d, b.wrapping_add(rotated), b, c);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
    m.zeroize();
}

/// Continues an MD5 computation from `state`, after `prefix_len` bytes
/// already compressed (a multiple of 64), over `data`, and finishes it.
fn finish(mut state: [u32; 4], prefix_len: u64, data: &[u8]) -> [u8; 16] {
    let mut chunks = data.chunks_exact(BLOCK);
    for chunk in &mut chunks {
        let mut block = [0u8; BLOCK];
        block.copy_from_slice(chunk);
        compress(&mut state, &block);
        block.zeroize();
    }
    let rest = chunks.remainder();
    let bit_len = (prefix_len + data.len() as u64).wrapping_mul(8);
    let mut tail = [0u8; 2 * BLOCK];
    let tail_len = if rest.len() < 56 { BLOCK } else { 2 * BLOCK };
    if let Some(dst) = tail.get_mut(..rest.len()) {
        dst.copy_from_slice(rest);
    }
    if let Some(b) = tail.get_mut(rest.len()) {
        *b = 0x80;
    }
    if let Some(dst) = tail.get_mut(tail_len - 8..tail_len) {
        dst.copy_from_slice(&bit_len.to_le_bytes());
    }
    for chunk in tail.chunks_exact(BLOCK).take(tail_len / BLOCK) {
        let mut block = [0u8; BLOCK];
        block.copy_from_slice(chunk);
        compress(&mut state, &block);
    }
    tail.zeroize();
    let mut out = [0u8; 16];
    for (dst, word) in out.chunks_exact_mut(4).zip(state) {
        dst.copy_from_slice(&word.to_le_bytes());
    }
    state.zeroize();
    out
}

/// MD5 of `data`.
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    finish(INIT, 0, data)
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
            let mut digest = md5(secret);
            if let Some(dst) = key.get_mut(..16) {
                dst.copy_from_slice(&digest);
            }
            digest.zeroize();
        } else if let Some(dst) = key.get_mut(..secret.len()) {
            dst.copy_from_slice(secret);
        }
        let mut ipad = [0u8; BLOCK];
        let mut opad = [0u8; BLOCK];
        // By reference: `zip(key)` would move a copy of the key into the
        // iterator, a stack copy nothing wipes (found by the zeroize test).
        for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(key.iter()) {
            *i = k ^ 0x36;
            *o = k ^ 0x5c;
        }
        let mut inner = INIT;
        let mut outer = INIT;
        compress(&mut inner, &ipad);
        compress(&mut outer, &opad);
        key.zeroize();
        ipad.zeroize();
        opad.zeroize();
        Self { inner, outer }
    }

    /// Rebuilds a key from stored chaining states.
    pub(crate) fn from_states(inner: [u32; 4], outer: [u32; 4]) -> Self {
        Self { inner, outer }
    }

    /// The inner and outer chaining states, for writing a stored form.
    pub(crate) fn states(&self) -> ([u32; 4], [u32; 4]) {
        (self.inner, self.outer)
    }

    /// HMAC-MD5(key, `message`).
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 16] {
        let mut inner = finish(self.inner, BLOCK as u64, message);
        let out = finish(self.outer, BLOCK as u64, &inner);
        inner.zeroize();
        out
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
