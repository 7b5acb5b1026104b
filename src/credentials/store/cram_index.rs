//! The CRAM-MD5 key table: a look-up whose time and memory accesses do not
//! depend on whether the principal exists (threats.md SA-8).
//!
//! A hash map answers a miss faster than a hit (no key comparison) and
//! touches the found key's memory only on a hit, which a statistical test
//! sees at once. Here every look-up does the same work:
//!
//! * the name is hashed with two secret-keyed hashes into a 128-bit tag; its
//!   first and second halves pick two buckets (two-choice hashing keeps the
//!   buckets short);
//! * every slot of both buckets is read, its tag compared with arithmetic
//!   (no comparison instruction), and its key, credential index and flags
//!   selected with an all-ones-or-zero mask the optimizer cannot see
//!   through: no branch and no early exit;
//! * the selection starts from the store's dummy key, so a miss ends with
//!   the dummy key having done exactly the work of a hit.
//!
//! A slot's key lives in the slot, so which key is used never shows as a
//! different memory address. Hashing a name costs time by its length only,
//! which the peer chose.
//!
//! Matching by tag instead of by name: two names collide only with
//! probability 2⁻¹²⁸ per pair under keys the peer does not know, and
//! colliding stored principals are caught at build time (the table is
//! rebuilt with new keys). A false match could only let someone who knows a
//! principal's secret log in as that principal under another name, and the
//! principal returned is always the stored one.

use std::hash::{BuildHasher, RandomState};

use subtle::Choice;
use zeroize::Zeroize;

/// Slots per bucket to start with; two-choice hashing with as many buckets
/// as entries rarely fills one.
const START_WIDTH: usize = 4;

/// One table slot. `key` holds the HMAC-MD5 inner then outer chaining
/// state (the store's dummy key when the principal has no CRAM-MD5 secret).
///
/// One cache line each: with 56-byte slots some buckets straddled one line
/// more than others and some loads split across lines, so the look-up's
/// time varied with the bucket (by name, not by existence, but it blurred
/// the constant-time test).
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Slot {
    tag: [u64; 2],
    key: [u32; 8],
    index: u32,
    /// 1 when the slot holds a principal.
    occupied: u8,
    /// 1 when that principal has a CRAM-MD5 key.
    has_key: u8,
}

/// What a look-up found, every field selected in constant time.
pub(super) struct Found {
    /// Whether the principal exists.
    pub(super) exists: Choice,
    /// Whether it exists and has a CRAM-MD5 key.
    pub(super) known: Choice,
    /// Its position in the store (0 on a miss).
    pub(super) index: u32,
    /// Its key's inner then outer state, or the dummy key's.
    pub(super) key: [u32; 8],
}

/// An entry to place: name, position, CRAM-MD5 key states if any.
pub(super) struct Item<'a> {
    pub(super) name: &'a str,
    pub(super) index: u32,
    pub(super) key: Option<[u32; 8]>,
}

/// The table. Immutable once built; wiped on drop.
pub(super) struct CramIndex {
    hashers: [RandomState; 2],
    /// Buckets minus one (the bucket count is a power of two).
    mask: usize,
    width: usize,
    slots: Vec<Slot>,
    dummy: [u32; 8],
}

impl CramIndex {
    /// Places `items`; `dummy` stands in for every miss.
    pub(super) fn build(items: &[Item<'_>], dummy: [u32; 8]) -> Self {
        let mut buckets = items.len().max(1).next_power_of_two();
        let mut width = START_WIDTH;
        loop {
            // Fresh keys every attempt: a failure says nothing about the next.
            let hashers = [RandomState::new(), RandomState::new()];
            if let Some(slots) = place(items, &hashers, &dummy, buckets, width) {
                return Self {
                    hashers,
                    mask: buckets - 1,
                    width,
                    slots,
                    dummy,
                };
            }
            // More buckets first (up to 16 per entry), then wider ones; a
            // bucket as wide as the whole store always fits, so this ends.
            if buckets < items.len().saturating_mul(16) {
                buckets = buckets.saturating_mul(2);
            } else {
                width = width.saturating_mul(2);
            }
        }
    }

    fn tag(&self, name: &str) -> [u64; 2] {
        tag_of(&self.hashers, name)
    }

    /// Looks `name` up. The same work for every name of the same length.
    pub(super) fn find(&self, name: &str) -> Found {
        let tag = self.tag(name);
        let mut found = Found {
            exists: Choice::from(0),
            known: Choice::from(0),
            index: 0,
            key: self.dummy,
        };
        let mut exists = 0u32;
        let mut known = 0u32;
        for bucket in buckets_of(tag, self.mask) {
            let start = bucket.saturating_mul(self.width);
            let slots = self
                .slots
                .get(start..start.saturating_add(self.width))
                .unwrap_or_default();
            for slot in slots {
                let diff = (slot.tag[0] ^ tag[0]) | (slot.tag[1] ^ tag[1]);
                // 1 when `diff` is zero, computed without a comparison.
                let same = 1 ^ ((diff | diff.wrapping_neg()) >> 63);
                let hit = same as u32 & u32::from(slot.occupied);
                // An opaque all-ones-or-zero mask: the optimizer cannot
                // turn the selections below back into a branch on it.
                let mask = std::hint::black_box(hit.wrapping_neg());
                exists |= mask;
                known |= mask & u32::from(slot.has_key).wrapping_neg();
                found.index = (slot.index & mask) | (found.index & !mask);
                for (k, s) in found.key.iter_mut().zip(&slot.key) {
                    *k = (s & mask) | (*k & !mask);
                }
            }
        }
        found.exists = Choice::from((exists & 1) as u8);
        found.known = Choice::from((known & 1) as u8);
        found
    }
}

/// The two keyed 64-bit hashes of `name`.
fn tag_of(hashers: &[RandomState; 2], name: &str) -> [u64; 2] {
    [hashers[0].hash_one(name), hashers[1].hash_one(name)]
}

/// The two candidate buckets of a tag.
fn buckets_of(tag: [u64; 2], mask: usize) -> [usize; 2] {
    // Truncation intended: only the low bits pick a bucket.
    [tag[0] as usize & mask, tag[1] as usize & mask]
}

/// Places every item in the less full of its two buckets; `None` when a
/// bucket overflows or two names share a tag.
fn place(
    items: &[Item<'_>],
    hashers: &[RandomState; 2],
    dummy: &[u32; 8],
    buckets: usize,
    width: usize,
) -> Option<Vec<Slot>> {
    let mut slots = vec![Slot::default(); buckets.checked_mul(width)?];
    let mut fill = vec![0usize; buckets];
    let mut tags = Vec::with_capacity(items.len());
    for item in items {
        let tag = tag_of(hashers, item.name);
        tags.push(tag);
        let [a, b] = buckets_of(tag, buckets - 1);
        let bucket = if fill.get(b)? < fill.get(a)? { b } else { a };
        let used = fill.get_mut(bucket)?;
        if *used >= width {
            wipe(&mut slots);
            return None;
        }
        let slot = slots.get_mut(bucket * width + *used)?;
        *used += 1;
        *slot = Slot {
            tag,
            key: item.key.unwrap_or(*dummy),
            index: item.index,
            occupied: 1,
            has_key: u8::from(item.key.is_some()),
        };
    }
    tags.sort_unstable();
    if tags.windows(2).any(|w| w.first() == w.get(1)) {
        wipe(&mut slots);
        return None;
    }
    Some(slots)
}

fn wipe(slots: &mut [Slot]) {
    for s in slots {
        s.key.zeroize();
    }
}

impl Drop for CramIndex {
    fn drop(&mut self) {
        wipe(&mut self.slots);
        self.dummy.zeroize();
    }
}

impl std::fmt::Debug for CramIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CramIndex")
            .field("buckets", &(self.mask + 1))
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod test;
