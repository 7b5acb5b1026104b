//! The hash tables behind [`CompiledAcls`](super::CompiledAcls): interned
//! strings and (id, id) pairs, open addressing with linear probing.
//!
//! Why not `HashMap`: a decision hashes each request string once (the same
//! pass also screens its bytes for request validation) and reuses that hash
//! for every probe, and the probes inline into the decision.
//!
//! Why not `hashbrown::HashTable`, which also takes precomputed hashes:
//! measured side by side on the pair table (benches/hashes.rs, 1,024
//! probes, half hits, the same hashes for both; 3 runs on the shared 2-core
//! machine), this table was faster at 100,000 pairs in every run (5.0-5.3
//! against 6.7-7.8 us, ratio 0.68-0.79) and mixed at 1,000 (ratios 0.79,
//! 1.21, 1.91). Not a win for the crate where the size targets are, so the
//! table stays.
//!
//! Hash flooding: every table is filled only from the policy; requests only
//! probe. The hash is keyed with 256 random bits drawn per compiled policy
//! ([`HashKey::random`]), so neither a policy author nor a requester can
//! predict which strings share a slot, and a probe never runs longer than
//! the longest cluster the policy's own keys formed (load factor ≤ ½).

use std::hash::{BuildHasher, Hasher};

/// The per-policy hash key.
#[derive(Clone, Copy)]
pub(super) struct HashKey([u64; 4]);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Printing the key would hand it to whoever reads the logs.
        f.write_str("HashKey(..)")
    }
}

/// A request string hashed with a policy's key.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hashed {
    pub(super) hash: u64,
    /// Two words of the string; with its length they determine a string
    /// of up to 16 bytes, so those compare without touching the bytes.
    pub(super) words: [u64; 2],
    /// Whether a byte is < 0x20, 0x7f or 0xC2 (the lead byte of U+0080–U+00BF):
    /// only then can the string hold a control character.
    pub(super) suspicious: bool,
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
    /// 256 fresh random bits. They come from the standard library's
    /// `RandomState` (seeded from the OS once per thread, then stepped per
    /// call), expanded through SipHash-1-3, so every compile gets a new key.
    pub(super) fn random() -> Self {
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
    pub(super) fn hash(&self, s: &[u8]) -> Hashed {
        let [k0, k1, k2, k3] = self.0;
        let (a, b, seed, sus) = if s.len() > 16 {
            self.long(s)
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
    /// (overlapping) as the two final words.
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

#[inline(always)]
fn split16(c: &[u8; 16]) -> (u64, u64) {
    let (x, y) = c.split_at(8);
    let mut wx = [0u8; 8];
    let mut wy = [0u8; 8];
    wx.copy_from_slice(x);
    wy.copy_from_slice(y);
    (u64::from_le_bytes(wx), u64::from_le_bytes(wy))
}

/// An empty slot.
const EMPTY: u64 = 0;

#[inline(always)]
fn slot_of(hash: u64, id: u32) -> u64 {
    (hash & 0xffff_ffff_0000_0000) | (u64::from(id) + 1)
}

/// Slot count for `n` keys at load factor ≤ ½.
fn slots_for(n: usize) -> usize {
    n.saturating_mul(2).max(8).next_power_of_two()
}

/// One interned string and its two values.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    hash: u64,
    words: [u64; 2],
    start: usize,
    len: usize,
    /// Caller-defined values (rule positions).
    pub(super) vals: [u32; 2],
}

/// Interned strings: string → id (dense, from 0) and two `u32` values.
#[derive(Debug, Clone)]
pub(super) struct StrTable {
    /// `EMPTY`, or the high half of the hash and `id + 1`.
    slots: Vec<u64>,
    entries: Vec<Entry>,
    /// The strings, back to back.
    bytes: Vec<u8>,
}

impl StrTable {
    pub(super) fn new() -> Self {
        Self {
            slots: Vec::new(),
            entries: Vec::new(),
            bytes: Vec::new(),
        }
    }

    /// Room for about `n` strings of `bytes` bytes in all without growing.
    pub(super) fn reserve(&mut self, n: usize, bytes: usize) {
        self.entries.reserve(n);
        self.bytes.reserve(bytes);
        let want = slots_for(self.entries.len().saturating_add(n));
        if want > self.slots.len() {
            self.rehash(want);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn entry_mut(&mut self, id: u32) -> Option<&mut Entry> {
        self.entries.get_mut(id as usize)
    }

    fn rehash(&mut self, n: usize) {
        self.slots.clear();
        self.slots.resize(n, EMPTY);
        let mask = n - 1;
        for (id, e) in (0u32..).zip(&self.entries) {
            let mut i = e.hash as usize & mask;
            while let Some(s) = self.slots.get_mut(i) {
                if *s == EMPTY {
                    *s = slot_of(e.hash, id);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
    }

    /// The id and hash of `s`, added with values `init` if new; `None` if
    /// the ids ran out (more than `u32::MAX - 1` strings).
    pub(super) fn intern(&mut self, key: &HashKey, s: &str, init: [u32; 2]) -> Option<(u32, u64)> {
        let hashed = key.hash(s.as_bytes());
        if let Some((id, _)) = self.find(s.as_bytes(), &hashed) {
            return Some((id, hashed.hash));
        }
        let h = hashed.hash;
        let id = u32::try_from(self.entries.len())
            .ok()
            .filter(|&id| id < u32::MAX - 1)?;
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            self.rehash(slots_for(self.entries.len() + 1));
        }
        self.entries.push(Entry {
            hash: h,
            words: hashed.words,
            start: self.bytes.len(),
            len: s.len(),
            vals: init,
        });
        self.bytes.extend_from_slice(s.as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while let Some(slot) = self.slots.get_mut(i) {
            if *slot == EMPTY {
                *slot = slot_of(h, id);
                break;
            }
            i = (i + 1) & mask;
        }
        Some((id, h))
    }

    /// The id and entry of `s`, hashed as `hashed` with this table's key.
    #[inline(always)]
    pub(super) fn find(&self, s: &[u8], hashed: &Hashed) -> Option<(u32, &Entry)> {
        let h = hashed.hash;
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = h as usize & mask;
        let tag = h & 0xffff_ffff_0000_0000;
        loop {
            // Load factor ≤ ½: an empty slot ends every probe; an empty
            // table has no slot 0.
            let slot = *self.slots.get(i)?;
            if slot == EMPTY {
                return None;
            }
            if slot & 0xffff_ffff_0000_0000 == tag {
                let id = (slot as u32).wrapping_sub(1);
                let e = self.entries.get(id as usize)?;
                if e.words == hashed.words
                    && e.len == s.len()
                    && (s.len() <= 16 || self.bytes.get(e.start..e.start + e.len) == Some(s))
                {
                    return Some((id, e));
                }
            }
            i = (i + 1) & mask;
        }
    }
}

/// (id, id) → `u32`, keeping the value first inserted. A pair's slot
/// comes from [`HashKey::pair_hash`] of its two strings' hashes, so a
/// decision can compute it before the string probes return the ids.
#[derive(Debug, Clone)]
pub(crate) struct PairTable {
    slots: Vec<PairSlot>,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
struct PairSlot {
    key: u64,
    /// Low half of the pair hash (for growing).
    hash: u32,
    val: u32,
}

/// No pair has this key: ids stay below `u32::MAX - 1`.
const NO_PAIR: u64 = u64::MAX;

const EMPTY_PAIR: PairSlot = PairSlot {
    key: NO_PAIR,
    hash: 0,
    val: 0,
};

#[inline(always)]
pub(super) fn pair(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl HashKey {
    /// The slot hash of a pair of strings, from their hashes.
    #[inline(always)]
    pub(super) fn pair_hash(&self, a: u64, b: u64) -> u64 {
        let [k0, _, _, k3] = self.0;
        fold_mul(a ^ k3, b ^ k0)
    }
}

impl PairTable {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
        }
    }

    /// Room for about `n` pairs without growing.
    pub(super) fn reserve(&mut self, n: usize) {
        let want = slots_for(self.len.saturating_add(n));
        if want > self.slots.len() {
            self.rehash(want);
        }
    }

    fn rehash(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_PAIR; n]);
        let mask = n - 1;
        for p in old.into_iter().filter(|p| p.key != NO_PAIR) {
            let mut i = p.hash as usize & mask;
            while let Some(s) = self.slots.get_mut(i) {
                if s.key == NO_PAIR {
                    *s = p;
                    break;
                }
                i = (i + 1) & mask;
            }
        }
    }

    /// Sets `k` (slot hash `h`) to `v` unless `k` is there already (rules
    /// are inserted in order, so the first value is the smallest).
    pub(crate) fn insert_first(&mut self, h: u64, k: u64, v: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.rehash(slots_for(self.len + 1));
        }
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while let Some(s) = self.slots.get_mut(i) {
            if s.key == k {
                return;
            }
            if s.key == NO_PAIR {
                *s = PairSlot {
                    key: k,
                    hash: h as u32,
                    val: v,
                };
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The value of `k`, whose slot hash is `h`.
    #[inline(always)]
    pub(crate) fn get(&self, h: u64, k: u64) -> Option<u32> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = h as usize & mask;
        loop {
            let s = self.slots.get(i)?;
            if s.key == k {
                return Some(s.val);
            }
            if s.key == NO_PAIR {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}
