//! HMAC-MD5 (RFC 2104) with the key schedule done once.
//!
//! CRAM-MD5 (RFC 2195) is HMAC-MD5 over the server's challenge. HMAC's two
//! key-dependent MD5 blocks (key ⊕ ipad, key ⊕ opad) never change for a
//! credential, so the store compresses them at load time and keeps only the
//! two 128-bit chaining states. A check then costs the MD5 blocks of the
//! challenge plus one, and a file holding the states (Dovecot's `CRAM-MD5`
//! scheme) does not give the password back.
//!
//! The compression function (RFC 1321 §3.4) lives here; the tests
//! cross-check it against `md-5` and the RFC vectors. `md-5` 0.11 exposes
//! its chaining state now, and was measured in its place (benches/hashes.rs,
//! benches/README.md): a tie in speed, but with it the constant-time gate
//! (`tests/constant_time.rs`, known vs unknown principal) failed, so ours
//! stays.

use zeroize::{Zeroize, ZeroizeOnDrop};

const BLOCK: usize = 64;
const WORDS: usize = BLOCK / 4;
const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

// The round functions in the forms with the shortest dependency chain on
// `x` (the word just computed): F = z ^ (x & (y ^ z)); G's two terms have no
// common bits, so `|` is `+` and `y & !z` is added before `x` is known.
#[inline(always)]
fn f(x: u32, y: u32, z: u32) -> u32 {
    z ^ (x & (y ^ z))
}

#[inline(always)]
fn h(x: u32, y: u32, z: u32) -> u32 {
    x ^ (y ^ z)
}

#[inline(always)]
fn i(x: u32, y: u32, z: u32) -> u32 {
    y ^ (x | !z)
}

/// One MD5 step: `b + ((a + fun + m + k) <<< s)`, with `a + m + k` summed
/// first (it does not wait for the previous step).
#[inline(always)]
fn step(fun: u32, a: u32, b: u32, m: u32, k: u32, s: u32) -> u32 {
    let mk = std::hint::black_box(m.wrapping_add(k));
    b.wrapping_add(a.wrapping_add(mk).wrapping_add(fun).rotate_left(s))
}

/// A G step: `b + ((a + (b & d) + (c & !d) + m + k) <<< s)`.
#[inline(always)]
fn step_g(a: u32, b: u32, c: u32, d: u32, m: u32, k: u32, s: u32) -> u32 {
    let mk = std::hint::black_box(m.wrapping_add(k));
    let early = a.wrapping_add(mk).wrapping_add(c & !d);
    b.wrapping_add(early.wrapping_add(b & d).rotate_left(s))
}

/// The MD5 compression function over one block of sixteen little-endian
/// words. Word-based so callers wipe 16 words, not 64 bytes one by one.
pub(crate) fn compress(state: &mut [u32; 4], m: &[u32; WORDS]) {
    // Unrolled (RFC 1321 §3.4): a constant message index and shift per
    // step lets the compiler keep everything in registers.
    let [mut a, mut b, mut c, mut d] = *state;
    let [
        m0,
        m1,
        m2,
        m3,
        m4,
        m5,
        m6,
        m7,
        m8,
        m9,
        m10,
        m11,
        m12,
        m13,
        m14,
        m15,
    ] = *m;
    a = step(f(b, c, d), a, b, m0, 0xd76aa478, 7);
    d = step(f(a, b, c), d, a, m1, 0xe8c7b756, 12);
    c = step(f(d, a, b), c, d, m2, 0x242070db, 17);
    b = step(f(c, d, a), b, c, m3, 0xc1bdceee, 22);
    a = step(f(b, c, d), a, b, m4, 0xf57c0faf, 7);
    d = step(f(a, b, c), d, a, m5, 0x4787c62a, 12);
    c = step(f(d, a, b), c, d, m6, 0xa8304613, 17);
    b = step(f(c, d, a), b, c, m7, 0xfd469501, 22);
    a = step(f(b, c, d), a, b, m8, 0x698098d8, 7);
    d = step(f(a, b, c), d, a, m9, 0x8b44f7af, 12);
    c = step(f(d, a, b), c, d, m10, 0xffff5bb1, 17);
    b = step(f(c, d, a), b, c, m11, 0x895cd7be, 22);
    a = step(f(b, c, d), a, b, m12, 0x6b901122, 7);
    d = step(f(a, b, c), d, a, m13, 0xfd987193, 12);
    c = step(f(d, a, b), c, d, m14, 0xa679438e, 17);
    b = step(f(c, d, a), b, c, m15, 0x49b40821, 22);
    a = step_g(a, b, c, d, m1, 0xf61e2562, 5);
    d = step_g(d, a, b, c, m6, 0xc040b340, 9);
    c = step_g(c, d, a, b, m11, 0x265e5a51, 14);
    b = step_g(b, c, d, a, m0, 0xe9b6c7aa, 20);
    a = step_g(a, b, c, d, m5, 0xd62f105d, 5);
    d = step_g(d, a, b, c, m10, 0x02441453, 9);
    c = step_g(c, d, a, b, m15, 0xd8a1e681, 14);
    b = step_g(b, c, d, a, m4, 0xe7d3fbc8, 20);
    a = step_g(a, b, c, d, m9, 0x21e1cde6, 5);
    d = step_g(d, a, b, c, m14, 0xc33707d6, 9);
    c = step_g(c, d, a, b, m3, 0xf4d50d87, 14);
    b = step_g(b, c, d, a, m8, 0x455a14ed, 20);
    a = step_g(a, b, c, d, m13, 0xa9e3e905, 5);
    d = step_g(d, a, b, c, m2, 0xfcefa3f8, 9);
    c = step_g(c, d, a, b, m7, 0x676f02d9, 14);
    b = step_g(b, c, d, a, m12, 0x8d2a4c8a, 20);
    a = step(h(b, c, d), a, b, m5, 0xfffa3942, 4);
    d = step(h(a, b, c), d, a, m8, 0x8771f681, 11);
    c = step(h(d, a, b), c, d, m11, 0x6d9d6122, 16);
    b = step(h(c, d, a), b, c, m14, 0xfde5380c, 23);
    a = step(h(b, c, d), a, b, m1, 0xa4beea44, 4);
    d = step(h(a, b, c), d, a, m4, 0x4bdecfa9, 11);
    c = step(h(d, a, b), c, d, m7, 0xf6bb4b60, 16);
    b = step(h(c, d, a), b, c, m10, 0xbebfbc70, 23);
    a = step(h(b, c, d), a, b, m13, 0x289b7ec6, 4);
    d = step(h(a, b, c), d, a, m0, 0xeaa127fa, 11);
    c = step(h(d, a, b), c, d, m3, 0xd4ef3085, 16);
    b = step(h(c, d, a), b, c, m6, 0x04881d05, 23);
    a = step(h(b, c, d), a, b, m9, 0xd9d4d039, 4);
    d = step(h(a, b, c), d, a, m12, 0xe6db99e5, 11);
    c = step(h(d, a, b), c, d, m15, 0x1fa27cf8, 16);
    b = step(h(c, d, a), b, c, m2, 0xc4ac5665, 23);
    a = step(i(b, c, d), a, b, m0, 0xf4292244, 6);
    d = step(i(a, b, c), d, a, m7, 0x432aff97, 10);
    c = step(i(d, a, b), c, d, m14, 0xab9423a7, 15);
    b = step(i(c, d, a), b, c, m5, 0xfc93a039, 21);
    a = step(i(b, c, d), a, b, m12, 0x655b59c3, 6);
    d = step(i(a, b, c), d, a, m3, 0x8f0ccc92, 10);
    c = step(i(d, a, b), c, d, m10, 0xffeff47d, 15);
    b = step(i(c, d, a), b, c, m1, 0x85845dd1, 21);
    a = step(i(b, c, d), a, b, m8, 0x6fa87e4f, 6);
    d = step(i(a, b, c), d, a, m15, 0xfe2ce6e0, 10);
    c = step(i(d, a, b), c, d, m6, 0xa3014314, 15);
    b = step(i(c, d, a), b, c, m13, 0x4e0811a1, 21);
    a = step(i(b, c, d), a, b, m4, 0xf7537e82, 6);
    d = step(i(a, b, c), d, a, m11, 0xbd3af235, 10);
    c = step(i(d, a, b), c, d, m2, 0x2ad7d2bb, 15);
    b = step(i(c, d, a), b, c, m9, 0xeb86d391, 21);
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}

/// Lanes of [`compress_lanes`]: eight independent MD5 computations.
pub(crate) const LANES: usize = 8;

/// One word of each lane.
type Lanes = [u32; LANES];

#[inline(always)]
fn g(x: u32, y: u32, z: u32) -> u32 {
    (x & z) | (y & !z)
}

/// One MD5 step in every lane: `a = b + ((a + fun(b, c, d) + m + k) <<< s)`.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "an MD5 step's inputs, as in RFC 1321"
)]
fn lane_step(
    fun: impl Fn(u32, u32, u32) -> u32,
    a: &mut Lanes,
    b: &Lanes,
    c: &Lanes,
    d: &Lanes,
    m: &Lanes,
    k: u32,
    s: u32,
) {
    // Eight independent chains: scalar code (SSE2 has no vector rotate, and
    // a vectorized form with shifts measured slower) that keeps the
    // processor's ALUs busy where one MD5 waits on each step's result:
    // about twice the throughput of `compress`.
    for ((((a, b), c), d), m) in a.iter_mut().zip(b).zip(c).zip(d).zip(m) {
        let sum = a
            .wrapping_add(m.wrapping_add(k))
            .wrapping_add(fun(*b, *c, *d));
        *a = b.wrapping_add(sum.rotate_left(s));
    }
}

/// [`compress`] in [`LANES`] lanes at once: `state[w][l]` is word `w` of
/// lane `l`'s state, `m[w][l]` word `w` of its block. Same result per lane
/// as [`compress`]; about twice its throughput, for loading many keys.
pub(crate) fn compress_lanes(state: &mut [Lanes; 4], m: &[Lanes; WORDS]) {
    let [mut a, mut b, mut c, mut d] = *state;
    let [
        m0,
        m1,
        m2,
        m3,
        m4,
        m5,
        m6,
        m7,
        m8,
        m9,
        m10,
        m11,
        m12,
        m13,
        m14,
        m15,
    ] = m;
    lane_step(f, &mut a, &b, &c, &d, m0, 0xd76aa478, 7);
    lane_step(f, &mut d, &a, &b, &c, m1, 0xe8c7b756, 12);
    lane_step(f, &mut c, &d, &a, &b, m2, 0x242070db, 17);
    lane_step(f, &mut b, &c, &d, &a, m3, 0xc1bdceee, 22);
    lane_step(f, &mut a, &b, &c, &d, m4, 0xf57c0faf, 7);
    lane_step(f, &mut d, &a, &b, &c, m5, 0x4787c62a, 12);
    lane_step(f, &mut c, &d, &a, &b, m6, 0xa8304613, 17);
    lane_step(f, &mut b, &c, &d, &a, m7, 0xfd469501, 22);
    lane_step(f, &mut a, &b, &c, &d, m8, 0x698098d8, 7);
    lane_step(f, &mut d, &a, &b, &c, m9, 0x8b44f7af, 12);
    lane_step(f, &mut c, &d, &a, &b, m10, 0xffff5bb1, 17);
    lane_step(f, &mut b, &c, &d, &a, m11, 0x895cd7be, 22);
    lane_step(f, &mut a, &b, &c, &d, m12, 0x6b901122, 7);
    lane_step(f, &mut d, &a, &b, &c, m13, 0xfd987193, 12);
    lane_step(f, &mut c, &d, &a, &b, m14, 0xa679438e, 17);
    lane_step(f, &mut b, &c, &d, &a, m15, 0x49b40821, 22);
    lane_step(g, &mut a, &b, &c, &d, m1, 0xf61e2562, 5);
    lane_step(g, &mut d, &a, &b, &c, m6, 0xc040b340, 9);
    lane_step(g, &mut c, &d, &a, &b, m11, 0x265e5a51, 14);
    lane_step(g, &mut b, &c, &d, &a, m0, 0xe9b6c7aa, 20);
    lane_step(g, &mut a, &b, &c, &d, m5, 0xd62f105d, 5);
    lane_step(g, &mut d, &a, &b, &c, m10, 0x02441453, 9);
    lane_step(g, &mut c, &d, &a, &b, m15, 0xd8a1e681, 14);
    lane_step(g, &mut b, &c, &d, &a, m4, 0xe7d3fbc8, 20);
    lane_step(g, &mut a, &b, &c, &d, m9, 0x21e1cde6, 5);
    lane_step(g, &mut d, &a, &b, &c, m14, 0xc33707d6, 9);
    lane_step(g, &mut c, &d, &a, &b, m3, 0xf4d50d87, 14);
    lane_step(g, &mut b, &c, &d, &a, m8, 0x455a14ed, 20);
    lane_step(g, &mut a, &b, &c, &d, m13, 0xa9e3e905, 5);
    lane_step(g, &mut d, &a, &b, &c, m2, 0xfcefa3f8, 9);
    lane_step(g, &mut c, &d, &a, &b, m7, 0x676f02d9, 14);
    lane_step(g, &mut b, &c, &d, &a, m12, 0x8d2a4c8a, 20);
    lane_step(h, &mut a, &b, &c, &d, m5, 0xfffa3942, 4);
    lane_step(h, &mut d, &a, &b, &c, m8, 0x8771f681, 11);
    lane_step(h, &mut c, &d, &a, &b, m11, 0x6d9d6122, 16);
    lane_step(h, &mut b, &c, &d, &a, m14, 0xfde5380c, 23);
    lane_step(h, &mut a, &b, &c, &d, m1, 0xa4beea44, 4);
    lane_step(h, &mut d, &a, &b, &c, m4, 0x4bdecfa9, 11);
    lane_step(h, &mut c, &d, &a, &b, m7, 0xf6bb4b60, 16);
    lane_step(h, &mut b, &c, &d, &a, m10, 0xbebfbc70, 23);
    lane_step(h, &mut a, &b, &c, &d, m13, 0x289b7ec6, 4);
    lane_step(h, &mut d, &a, &b, &c, m0, 0xeaa127fa, 11);
    lane_step(h, &mut c, &d, &a, &b, m3, 0xd4ef3085, 16);
    lane_step(h, &mut b, &c, &d, &a, m6, 0x04881d05, 23);
    lane_step(h, &mut a, &b, &c, &d, m9, 0xd9d4d039, 4);
    lane_step(h, &mut d, &a, &b, &c, m12, 0xe6db99e5, 11);
    lane_step(h, &mut c, &d, &a, &b, m15, 0x1fa27cf8, 16);
    lane_step(h, &mut b, &c, &d, &a, m2, 0xc4ac5665, 23);
    lane_step(i, &mut a, &b, &c, &d, m0, 0xf4292244, 6);
    lane_step(i, &mut d, &a, &b, &c, m7, 0x432aff97, 10);
    lane_step(i, &mut c, &d, &a, &b, m14, 0xab9423a7, 15);
    lane_step(i, &mut b, &c, &d, &a, m5, 0xfc93a039, 21);
    lane_step(i, &mut a, &b, &c, &d, m12, 0x655b59c3, 6);
    lane_step(i, &mut d, &a, &b, &c, m3, 0x8f0ccc92, 10);
    lane_step(i, &mut c, &d, &a, &b, m10, 0xffeff47d, 15);
    lane_step(i, &mut b, &c, &d, &a, m1, 0x85845dd1, 21);
    lane_step(i, &mut a, &b, &c, &d, m8, 0x6fa87e4f, 6);
    lane_step(i, &mut d, &a, &b, &c, m15, 0xfe2ce6e0, 10);
    lane_step(i, &mut c, &d, &a, &b, m6, 0xa3014314, 15);
    lane_step(i, &mut b, &c, &d, &a, m13, 0x4e0811a1, 21);
    lane_step(i, &mut a, &b, &c, &d, m4, 0xf7537e82, 6);
    lane_step(i, &mut d, &a, &b, &c, m11, 0xbd3af235, 10);
    lane_step(i, &mut c, &d, &a, &b, m2, 0x2ad7d2bb, 15);
    lane_step(i, &mut b, &c, &d, &a, m9, 0xeb86d391, 21);
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        for (s, v) in s.iter_mut().zip(v) {
            *s = s.wrapping_add(v);
        }
    }
}

/// `bytes` (at most 64) as little-endian words, zero-filled.
fn load_words(bytes: &[u8], words: &mut [u32]) {
    for (w, chunk) in words.iter_mut().zip(bytes.chunks(4)) {
        let mut le = [0u8; 4];
        for (d, s) in le.iter_mut().zip(chunk) {
            *d = *s;
        }
        *w = u32::from_le_bytes(le);
    }
}

/// The HMAC key block of `secret`: the secret itself, or its MD5 digest
/// if it is longer than a block (RFC 2104), as little-endian words.
fn key_words(secret: &[u8], key: &mut [u32; WORDS]) {
    key.fill(0);
    if secret.len() > BLOCK {
        let mut digest = finish_state(INIT, 0, secret);
        // The digest's little-endian bytes are the state words.
        if let Some(dst) = key.get_mut(..4) {
            dst.copy_from_slice(&digest);
        }
        digest.zeroize();
    } else {
        load_words(secret, key);
    }
}

/// Continues an MD5 computation from `state`, after `prefix_len` bytes
/// already compressed (a multiple of 64), over `data`, and returns the
/// final state (whose little-endian bytes are the digest).
fn finish_state(mut state: [u32; 4], prefix_len: u64, data: &[u8]) -> [u32; 4] {
    let mut words = [0u32; 2 * WORDS];
    let mut chunks = data.chunks_exact(BLOCK);
    for chunk in &mut chunks {
        let (block, _) = words.split_at_mut(WORDS);
        load_words(chunk, block);
        if let Ok(block) = <&[u32; WORDS]>::try_from(&*block) {
            compress(&mut state, block);
        }
    }
    let rest = chunks.remainder();
    let bit_len = (prefix_len + data.len() as u64).wrapping_mul(8);
    let blocks = if rest.len() < 56 { 1 } else { 2 };
    words.fill(0);
    load_words(rest, &mut words);
    // The 0x80 byte right after the data.
    if let Some(w) = words.get_mut(rest.len() / 4) {
        *w |= 0x80 << (8 * (rest.len() % 4));
    }
    let len_at = blocks * WORDS - 2;
    if let Some(w) = words.get_mut(len_at..len_at + 2) {
        w.copy_from_slice(&[bit_len as u32, (bit_len >> 32) as u32]);
    }
    for block in words.chunks_exact(WORDS).take(blocks) {
        if let Ok(block) = <&[u32; WORDS]>::try_from(block) {
            compress(&mut state, block);
        }
    }
    // Data may be secret (a long key, an inner digest): wipe the copy.
    words.zeroize();
    state
}

/// Longest message whose HMAC inner hash is one block after the ipad block:
/// 55 bytes, then MD5's `0x80` byte and 8-byte length. Every challenge a
/// session draws fits (`sasl::nonce::MAX_CHALLENGE_LEN`).
const ONE_BLOCK: usize = BLOCK - 9;

/// The last block of the inner hash of `message` after the ipad block, if
/// `message` fits in it ([`ONE_BLOCK`]). Built with fixed-size copies that
/// depend only on the (public) length: [`finish_state`]'s byte loop and
/// length-dependent copy cost a session more than a compression's tenth.
fn short_block(message: &[u8]) -> Option<[u32; WORDS]> {
    let len = message.len();
    if len > ONE_BLOCK {
        return None;
    }
    let mut bytes = [0u8; BLOCK];
    match len {
        32.. => copy_ends::<32>(&mut bytes, message),
        16..32 => copy_ends::<16>(&mut bytes, message),
        8..16 => copy_ends::<8>(&mut bytes, message),
        4..8 => copy_ends::<4>(&mut bytes, message),
        _ => {
            for (d, s) in bytes.iter_mut().zip(message) {
                *d = *s;
            }
        }
    }
    if let Some(b) = bytes.get_mut(len) {
        *b = 0x80;
    }
    let bit_len = ((BLOCK + len) as u64).wrapping_mul(8);
    if let Some((_, tail)) = bytes.split_last_chunk_mut::<8>() {
        *tail = bit_len.to_le_bytes();
    }
    let mut words = [0u32; WORDS];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        if let Ok(le) = <[u8; 4]>::try_from(chunk) {
            *w = u32::from_le_bytes(le);
        }
    }
    Some(words)
}

/// Copies `src` (`N` to `2N` bytes long) to the start of `dst` as its first
/// and its last `N` bytes, which overlap: two fixed-size moves.
#[inline(always)]
fn copy_ends<const N: usize>(dst: &mut [u8; BLOCK], src: &[u8]) {
    let at = src.len().saturating_sub(N);
    if let (Some(head), Some(tail)) = (src.first_chunk::<N>(), src.last_chunk::<N>()) {
        if let Some(d) = dst.first_chunk_mut::<N>() {
            *d = *head;
        }
        if let Some(d) = dst.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<N>) {
            *d = *tail;
        }
    }
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
    let mut state = finish_state(INIT, 0, data);
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
        let mut key = [0u32; WORDS];
        key_words(secret, &mut key);
        let mut pad = [0u32; WORDS];
        let mut inner = INIT;
        let mut outer = INIT;
        // By reference: `zip(key)` would move a copy of the key into the
        // iterator, a stack copy nothing wipes (found by the zeroize test).
        for (p, k) in pad.iter_mut().zip(key.iter()) {
            *p = k ^ 0x3636_3636;
        }
        compress(&mut inner, &pad);
        for (p, k) in pad.iter_mut().zip(key.iter()) {
            *p = k ^ 0x5c5c_5c5c;
        }
        compress(&mut outer, &pad);
        key.zeroize();
        pad.zeroize();
        Self { inner, outer }
    }

    /// [`from_secret`](Self::from_secret) of `LANES / 2` secrets at once,
    /// each secret's inner and outer block in a lane of
    /// [`compress_lanes`]: the store computes a million keys this way.
    pub(crate) fn from_secrets(secrets: [&[u8]; LANES / 2]) -> [Self; LANES / 2] {
        let mut key = [0u32; WORDS];
        let mut pads = [[0u32; LANES]; WORDS];
        for (lane, secret) in secrets.iter().enumerate() {
            key_words(secret, &mut key);
            for (words, k) in pads.iter_mut().zip(key.iter()) {
                let (inner, outer) = words.split_at_mut(LANES / 2);
                if let (Some(i), Some(o)) = (inner.get_mut(lane), outer.get_mut(lane)) {
                    *i = k ^ 0x3636_3636;
                    *o = k ^ 0x5c5c_5c5c;
                }
            }
        }
        key.zeroize();
        let mut state = INIT.map(|w| [w; LANES]);
        compress_lanes(&mut state, &pads);
        pads.zeroize();
        let [a, b, c, d] = &state;
        let word = |w: &Lanes, lane: usize| w.get(lane).copied().unwrap_or(0);
        let lane = |l: usize| [word(a, l), word(b, l), word(c, l), word(d, l)];
        let keys = std::array::from_fn(|l| Self {
            inner: lane(l),
            outer: lane(l + LANES / 2),
        });
        state.zeroize();
        keys
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

    /// HMAC-MD5(key, `message`). `message` is public (a CRAM-MD5
    /// challenge), so the padded copy of a short one is not wiped.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 16] {
        let mut inner = match short_block(message) {
            Some(block) => {
                let mut state = self.inner;
                compress(&mut state, &block);
                state
            }
            None => finish_state(self.inner, BLOCK as u64, message),
        };
        // The outer message is the inner digest, whose little-endian words
        // are the inner state: one block, 0x80 after 16 bytes, and the bit
        // length of ipad-block + digest (80 bytes).
        let [i0, i1, i2, i3] = inner;
        let mut block = [i0, i1, i2, i3, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 80 * 8, 0];
        let mut outer = self.outer;
        compress(&mut outer, &block);
        inner.zeroize();
        block.zeroize();
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
