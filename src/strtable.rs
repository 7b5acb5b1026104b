//! Interned strings behind the crate's hot look-ups (ACL decisions, rate
//! limits): string → dense id plus two caller values, open addressing with
//! linear probing.
//!
//! Why not `HashMap`: a look-up hashes each request string once (the same
//! pass also screens its bytes for request validation) and reuses that hash
//! for every probe, and the probes inline into the caller.
//!
//! Hash flooding: every table is filled only from the operator's file;
//! requests only probe. The hash is keyed with 256 random bits drawn per
//! table ([`HashKey::random`]), so neither a policy author nor a requester
//! can predict which strings share a slot, and a probe never runs longer
//! than the longest cluster the table's own keys formed (load factor ≤ ¾
//! for strings, ½ for pairs).

use std::hash::{BuildHasher, Hasher};

/// The per-policy hash key.
#[derive(Clone, Copy)]
pub(crate) struct HashKey([u64; 4]);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Printing the key would hand it to whoever reads the logs.
        f.write_str("HashKey(..)")
    }
}

/// A request string hashed with a policy's key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hashed {
    pub(crate) hash: u64,
    /// Two words of the string; with its length they determine a string
    /// of up to 16 bytes, so those compare without touching the bytes.
    pub(crate) words: [u64; 2],
    /// Whether a byte is < 0x20, 0x7f or 0xC2 (the lead byte of U+0080–U+00BF):
    /// only then can the string hold a control character.
    pub(crate) suspicious: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Non-zero iff some byte of `w` is < 0x20, == 0x7f or == 0xC2 (exact as a
/// boolean: a borrow only runs upwards from a byte that really matched).
#[inline(always)]
fn suspicious_word(w: u64) -> u64 {
    let below = w.wrapping_sub(LO * 0x20) & !w;
    let del = w ^ (LO * 0x7f);
    let del = del.wrapping_sub(LO) & !del;
    let c2 = w ^ (LO * 0xc2);
    let c2 = c2.wrapping_sub(LO) & !c2;
    (below | del | c2) & HI
}

#[inline(always)]
fn suspicious_byte(b: u8) -> bool {
    b < 0x20 || b == 0x7f || b == 0xc2
}

#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline(always)]
fn word8(b: &[u8; 8]) -> u64 {
    u64::from_le_bytes(*b)
}

#[inline(always)]
fn word4(b: &[u8; 4]) -> u64 {
    u64::from(u32::from_le_bytes(*b))
}

/// Upper half of a 4-byte read, filled with spaces so it screens clean.
const SPACES_HI: u64 = 0x2020_2020 << 32;

impl HashKey {
    /// The slot hash of a pair of strings, from their hashes.
    #[inline(always)]
    pub(crate) fn pair_hash(&self, a: u64, b: u64) -> u64 {
        let [k0, _, _, k3] = self.0;
        fold_mul(a ^ k3, b ^ k0)
    }

    /// 256 fresh random bits. They come from the standard library's
    /// `RandomState` (seeded from the OS once per thread, then stepped per
    /// call), expanded through SipHash-1-3, so every compile gets a new key.
    pub(crate) fn random() -> Self {
        let state = std::collections::hash_map::RandomState::new();
        let mut k = [0u64; 4];
        for (i, slot) in (0u64..).zip(k.iter_mut()) {
            let mut h = state.build_hasher();
            h.write_u64(0x6d65_736f_735f_6163 ^ i);
            *slot = h.finish();
        }
        Self(k)
    }

    /// Hashes `s` (a folded-multiply hash in the style of wyhash/foldhash,
    /// keyed) and screens its bytes in the same pass.
    #[inline(always)]
    pub(crate) fn hash(&self, s: &[u8]) -> Hashed {
        let [k0, k1, k2, k3] = self.0;
        let (a, b, seed, sus) = if s.len() > 32 {
            self.long(s)
        } else if s.len() > 16
            && let (Some(f), Some(l)) = (s.first_chunk::<16>(), s.last_chunk::<16>())
        {
            // 17..=32 bytes (most principals and roles), inline: what
            // `long` computes for them, one block then the last 16 bytes.
            let ((x0, y0), (x, y)) = (split16(f), split16(l));
            let seed = fold_mul(x0 ^ k1, y0 ^ k0);
            let sus = suspicious_word(x0) | suspicious_word(y0);
            (x, y, seed, sus | suspicious_word(x) | suspicious_word(y))
        } else if let (Some(f), Some(l)) = (s.first_chunk::<8>(), s.last_chunk::<8>()) {
            // 8..=16 bytes: first and last word, overlapping.
            let (x, y) = (word8(f), word8(l));
            (x, y, k0, suspicious_word(x) | suspicious_word(y))
        } else if let (Some(f), Some(l)) = (s.first_chunk::<4>(), s.last_chunk::<4>()) {
            let (x, y) = (word4(f), word4(l));
            let sus = suspicious_word(x | SPACES_HI) | suspicious_word(y | SPACES_HI);
            (x, y, k0, sus)
        } else {
            // 0..=3 bytes.
            let (first, mid, last) = match s {
                [] => (0, 0, 0),
                [a] => (*a, *a, *a),
                [a, b] => (*a, *b, *b),
                [a, b, c, ..] => (*a, *b, *c),
            };
            let sus = s.iter().any(|&b| suspicious_byte(b));
            let x = (u64::from(first) << 16) | (u64::from(mid) << 8) | u64::from(last);
            (x, 0, k0, u64::from(sus))
        };
        let h = fold_mul(a ^ k1, b ^ seed);
        Hashed {
            hash: fold_mul(h ^ k2, s.len() as u64 ^ k3),
            words: [a, b],
            suspicious: sus != 0,
        }
    }

    /// Strings over 16 bytes: 16-byte blocks, then the last 16 bytes
    /// (overlapping) as the two final words. [`hash`](Self::hash) calls it
    /// for strings over 32 bytes and computes the same inline below that.
    #[inline(never)]
    fn long(&self, s: &[u8]) -> (u64, u64, u64, u64) {
        let [mut seed, k1, _, _] = self.0;
        let mut sus = 0;
        let mut rest = s;
        while rest.len() > 16 {
            let Some((chunk, tail)) = rest.split_first_chunk::<16>() else {
                break;
            };
            let (x, y) = split16(chunk);
            sus |= suspicious_word(x) | suspicious_word(y);
            seed = fold_mul(x ^ k1, y ^ seed);
            rest = tail;
        }
        let (x, y) = s.last_chunk::<16>().map_or((0, 0), split16);
        (x, y, seed, sus | suspicious_word(x) | suspicious_word(y))
    }
}

#[cfg(test)]
impl HashKey {
    /// [`hash`](Self::hash) of a string over 16 bytes with every length
    /// taken by [`long`](Self::long), as before 17..=32 were inlined.
    pub(crate) fn hash_by_blocks(&self, s: &[u8]) -> (u64, bool) {
        let [_, k1, k2, k3] = self.0;
        let (a, b, seed, sus) = self.long(s);
        let h = fold_mul(a ^ k1, b ^ seed);
        (fold_mul(h ^ k2, s.len() as u64 ^ k3), sus != 0)
    }
}

/// Bytes `at..at + 8` of `s` as a little-endian word, zero where `s` has
/// ended, and how many of them are `s`'s (0 to 8). Word loads, not a copy
/// into a buffer: a `memcpy` call and loads that cannot be forwarded from
/// its byte stores cost more than the work done on the word (measured in
/// ACL decisions, which build slot keys and check roles this way).
#[inline(always)]
pub(crate) fn word_at(s: &[u8], at: usize) -> (u64, usize) {
    let Some(rest) = s.get(at..).filter(|r| !r.is_empty()) else {
        return (0, 0);
    };
    if let Some(w) = rest.first_chunk::<8>() {
        return (u64::from_le_bytes(*w), 8);
    }
    // 1..=7 bytes left: read them with loads ending at the string's end
    // (overlapping) rather than byte by byte.
    let k = rest.len();
    let v = if let Some(w) = s.last_chunk::<8>() {
        u64::from_le_bytes(*w) >> (8 * (8 - k))
    } else if let (Some(a), Some(b)) = (rest.first_chunk::<4>(), rest.last_chunk::<4>()) {
        u64::from(u32::from_le_bytes(*a)) | (u64::from(u32::from_le_bytes(*b)) << (8 * (k - 4)))
    } else if let (Some(a), Some(b)) = (rest.first_chunk::<2>(), rest.last_chunk::<2>()) {
        u64::from(u16::from_le_bytes(*a)) | (u64::from(u16::from_le_bytes(*b)) << (8 * (k - 2)))
    } else {
        rest.first().copied().map_or(0, u64::from)
    };
    (v, k)
}

#[inline(always)]
fn split16(c: &[u8; 16]) -> (u64, u64) {
    let (x, y) = c.split_at(8);
    let mut wx = [0u8; 8];
    let mut wy = [0u8; 8];
    wx.copy_from_slice(x);
    wy.copy_from_slice(y);
    (u64::from_le_bytes(wx), u64::from_le_bytes(wy))
}

/// Slot count for `n` keys at load factor ≤ ½.
pub(crate) fn slots_for(n: usize) -> usize {
    n.saturating_mul(2).max(8).next_power_of_two()
}

/// Slot count for `n` strings at load factor ≤ ¾ (at least ⅜ once
/// sized): a slot is 32 bytes, so the emptier tables of [`slots_for`]
/// would cost more memory than the two-level layout this replaced, while
/// a probe at ¾ still reads about two adjacent slots on a hit.
fn str_slots_for(n: usize) -> usize {
    n.saturating_add(n / 3)
        .saturating_add(1)
        .max(8)
        .next_power_of_two()
}

/// Whether `slots` slots hold `n` strings within load factor ¾.
fn fits(n: usize, slots: usize) -> bool {
    n.saturating_mul(4) <= slots.saturating_mul(3)
}

/// The `id` of an empty slot (ids stay below `u32::MAX - 1`).
const EMPTY_ID: u32 = u32::MAX;

/// One slot: the string's key words, its length or where its bytes are,
/// its id and its two values, in one 32-byte, 32-aligned block, so a
/// look-up that finds a string of up to 16 bytes reads one cache line and
/// nothing else, and a longer one reads its bytes next.
///
/// The key words are the string's two hash words when it has up to 16
/// bytes (with the length they determine it: the compare is exact), else
/// its full hash and last word, and a match is then confirmed against the
/// bytes.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct Entry {
    words: [u64; 2],
    /// Up to 16 bytes: the length. Longer: [`LONG`] | the offset of its
    /// bytes in the arena, or [`FAR`] when the offset does not fit (then
    /// it is in `meta`).
    tag: u32,
    id: u32,
    /// Caller-defined values (rule positions).
    pub(crate) vals: [u32; 2],
}

/// Tag bit of a string over 16 bytes.
const LONG: u32 = 1 << 31;
/// Tag of a string over 16 bytes whose offset is 2 GiB or more.
const FAR: u32 = u32::MAX;
/// Follows each string over 16 bytes in the arena: never a byte of UTF-8,
/// so comparing it too makes a match exact in length.
const END: u8 = 0xff;

const EMPTY_SLOT: Entry = Entry {
    words: [0; 2],
    tag: 0,
    id: EMPTY_ID,
    vals: [0; 2],
};

/// What stays out of the slots: needed to grow the table, or to confirm a
/// string over 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Meta {
    hash: u64,
    start: usize,
}

/// The words a slot keys `s` by (see [`Entry`]).
#[inline(always)]
fn key_words(len: usize, hashed: &Hashed) -> [u64; 2] {
    if len <= 16 {
        hashed.words
    } else {
        let [_, last] = hashed.words;
        [hashed.hash, last]
    }
}

/// Interned strings: string → id (dense, from 0) and two `u32` values.
#[derive(Debug, Clone)]
pub(crate) struct StrTable {
    /// Open addressing, linear probing, load factor ≤ ¾.
    slots: Vec<Entry>,
    /// Per id.
    meta: Vec<Meta>,
    /// The strings over 16 bytes, each followed by [`END`].
    bytes: Vec<u8>,
}

impl StrTable {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            meta: Vec::new(),
            bytes: Vec::new(),
        }
    }

    /// Room for about `n` strings of `bytes` bytes in all without growing.
    pub(crate) fn reserve(&mut self, n: usize, bytes: usize) {
        self.meta.reserve(n);
        self.bytes.reserve(bytes);
        let want = str_slots_for(self.meta.len().saturating_add(n));
        if want > self.slots.len() {
            self.rehash(want);
        }
    }

    /// Gives back what [`reserve`](Self::reserve) over-estimated: the
    /// estimate counts every value, the table holds each string once.
    pub(crate) fn shrink(&mut self) {
        self.meta.shrink_to_fit();
        self.bytes.shrink_to_fit();
        let want = str_slots_for(self.meta.len());
        if want < self.slots.len() {
            self.rehash(want);
        }
    }

    /// The values of `id`, to update them (only tests do: the rate
    /// limiter sets its values when interning).
    #[cfg(test)]
    pub(crate) fn vals_mut(&mut self, id: u32, hash: u64) -> Option<&mut [u32; 2]> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = hash as usize & mask;
        loop {
            let s = self.slots.get(i)?;
            if s.id == id {
                return self.slots.get_mut(i).map(|s| &mut s.vals);
            }
            if s.id == EMPTY_ID {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    fn place(slots: &mut [Entry], hash: u64, e: Entry) {
        let mask = slots.len().wrapping_sub(1);
        let mut i = hash as usize & mask;
        while let Some(s) = slots.get_mut(i) {
            if s.id == EMPTY_ID {
                *s = e;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn rehash(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; n]);
        for e in old.into_iter().filter(|e| e.id != EMPTY_ID) {
            if let Some(m) = self.meta.get(e.id as usize) {
                Self::place(&mut self.slots, m.hash, e);
            }
        }
    }

    /// The id and hash of `s`, added with values `init` if new; `None` if
    /// the ids ran out (more than `u32::MAX - 1` strings).
    pub(crate) fn intern(&mut self, key: &HashKey, s: &str, init: [u32; 2]) -> Option<(u32, u64)> {
        let hashed = key.hash(s.as_bytes());
        if let Some((id, _)) = self.find(s.as_bytes(), &hashed) {
            return Some((id, hashed.hash));
        }
        let h = hashed.hash;
        let id = u32::try_from(self.meta.len())
            .ok()
            .filter(|&id| id < u32::MAX - 1)?;
        if !fits(self.meta.len() + 1, self.slots.len()) {
            self.rehash(str_slots_for(self.meta.len() + 1));
        }
        let start = self.bytes.len();
        let tag = if s.len() <= 16 {
            s.len() as u32
        } else {
            self.bytes.extend_from_slice(s.as_bytes());
            self.bytes.push(END);
            u32::try_from(start)
                .ok()
                .filter(|&at| at < LONG - 1)
                .map_or(FAR, |at| LONG | at)
        };
        self.meta.push(Meta { hash: h, start });
        let e = Entry {
            words: key_words(s.len(), &hashed),
            tag,
            id,
            vals: init,
        };
        Self::place(&mut self.slots, h, e);
        Some((id, h))
    }

    /// The id and entry of `s` (UTF-8: a `str`'s bytes), hashed as
    /// `hashed` with this table's key.
    #[inline(always)]
    pub(crate) fn find(&self, s: &[u8], hashed: &Hashed) -> Option<(u32, &Entry)> {
        let h = hashed.hash;
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = h as usize & mask;
        let words = key_words(s.len(), hashed);
        // A long string's tag is never a length of up to 16.
        let short = s.len() <= 16;
        let len = s.len() as u32;
        loop {
            // Load factor < 1: an empty slot ends every probe; an empty
            // table has no slot 0.
            let e = self.slots.get(i)?;
            if e.id == EMPTY_ID {
                return None;
            }
            if e.words == words
                && if short {
                    e.tag == len
                } else {
                    self.same_long(e, s)
                }
            {
                return Some((e.id, e));
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether the long string in `e` is `s` (over 16 bytes): its bytes,
    /// then [`END`] where `s` ends.
    #[inline(never)]
    fn same_long(&self, e: &Entry, s: &[u8]) -> bool {
        let start = match e.tag {
            FAR => match self.meta.get(e.id as usize) {
                Some(m) => m.start,
                None => return false,
            },
            t if t & LONG != 0 => (t & !LONG) as usize,
            _ => return false,
        };
        let end = start.saturating_add(s.len());
        self.bytes.get(start..end) == Some(s) && self.bytes.get(end) == Some(&END)
    }
}
