//! The principal table: a look-up whose time and memory accesses do not
//! depend on whether the principal exists (threats.md SA-8), which also
//! serves the store's ordinary by-name look-up.
//!
//! A hash map answers a miss faster than a hit (no key comparison) and
//! touches the found key's memory only on a hit, which a statistical test
//! sees at once. Here every CRAM-MD5 look-up does the same work:
//!
//! * the name is hashed once with SipHash-1-3-128 under a key drawn from the
//!   OS for this table into a 128-bit tag; its halves pick two buckets
//!   (two-choice hashing keeps the buckets short);
//! * a bucket is one cache line of three slots (tag and entry position
//!   only); every slot of both buckets is read, its tag compared with
//!   arithmetic (no comparison instruction), and its position selected with
//!   an all-ones-or-zero mask the optimizer cannot see through: no branch,
//!   no early exit;
//! * the selection starts from a dummy position, so a miss ends having done
//!   exactly the work of a hit; then exactly one key is read from a dense
//!   array, at the selected position.
//!
//! Which key is read shows as a memory address, so the dummy key is not one
//! shared entry (always cached after a few misses, unlike a rarely used
//! principal's key), nor copies in a region of their own (touched only by
//! misses, so colder than the keys of principals who log in: a dudect run
//! over 100,000 principals saw that at |t| 8-13). Every principal's key
//! shares its 64-byte line with a copy of the dummy key, and a miss reads
//! the copy its tag picks: a line as warm as a random principal's. A given
//! name, known or not, always reads the same line. Hashing costs time by
//! the name's length only, which the peer chose.
//!
//! Matching by tag instead of by name: the tag is a keyed PRF output under
//! a 128-bit key drawn from the OS for each table, which never leaves it
//! and is never used for anything observable but the bucket choice, whose
//! scan is constant work. Without the key, a name the peer chooses has the
//! tag of a given stored principal with probability 2⁻¹²⁷ (one bit marks
//! used slots): even 2⁶⁴ tries against 10⁶ principals leave odds below
//! 2⁻⁴³, and a tried name's outcome shows only as a failed login. Colliding
//! stored principals are caught at build time (the table is rebuilt with a
//! new key). A false match could only let someone who knows a principal's
//! secret log in as that principal under another name; the principal
//! returned is always the stored one, and [`position`](CramIndex::position)
//! callers compare names.
//!
//! SipHash-1-3 with 128-bit output, one pass for the whole tag: the round
//! count std's `HashMap` (and Python, Ruby) rely on against chosen keys.
//! No attack on it is known; the SipHash authors keep 2-4 as the
//! conservative default, which here cost about 10 ns more per look-up (a
//! fifth of the 50 ns budget) for no threat we face: finding a collision
//! needs the tag values, which never leave the process.

use rand_core::{OsRng, RngCore};
use subtle::Choice;
use zeroize::Zeroize;

use crate::Principal;
use crate::hmac_md5::HmacMd5Key;
use crate::siphash::siphash13_128;

/// Slots per bucket: three 16-byte tags and three positions fill one cache
/// line exactly.
const WIDTH: usize = 3;

/// Stores this large compute their keys on a second thread (below, a
/// thread costs more than it saves).
const PARALLEL_FROM: usize = 4096;

/// Position flag: the principal has a CRAM-MD5 key.
const KEY_FLAG: u32 = 1 << 31;

/// One table bucket, one cache line. An unused slot has an all-zero tag,
/// which no name's tag is (bit 0 of every tag is set).
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Bucket {
    tags: [[u64; 2]; WIDTH],
    /// Entry position, with [`KEY_FLAG`].
    values: [u32; WIDTH],
    _pad: u32,
}

/// A key's inner then outer HMAC-MD5 state, aligned so that reading one
/// never straddles cache lines.
#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
struct KeyWords([u32; 8]);

/// The dense key array: per principal its key (the dummy key if it has no
/// CRAM-MD5 key), then a copy of the dummy key, in one line. Wiped on drop.
struct Keys(Vec<KeyWords>);

impl Drop for Keys {
    fn drop(&mut self) {
        for k in &mut self.0 {
            k.0.zeroize();
        }
    }
}

/// What a look-up found, every field selected in constant time.
pub(super) struct Found {
    /// Whether the principal exists.
    pub(super) exists: Choice,
    /// Whether it exists and has a CRAM-MD5 key.
    pub(super) known: Choice,
    /// Its position in the store (meaningless on a miss).
    pub(super) index: u32,
    /// Its key, or the dummy key.
    pub(super) key: HmacMd5Key,
}

/// Two entries with the same name, by position.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Duplicate {
    pub(super) principal: Principal,
    pub(super) first: usize,
    pub(super) second: usize,
}

/// The table. Immutable once built; keys wiped on drop.
pub(super) struct CramIndex {
    sip: [u64; 2],
    /// Buckets minus one (the bucket count is a power of two).
    mask: usize,
    /// Buckets scanned per choice (1 unless placement kept failing).
    span: usize,
    buckets: Vec<Bucket>,
    keys: Keys,
    /// Principals.
    len: usize,
}

/// Why one placement attempt failed.
enum Fail {
    Duplicate(Duplicate),
    /// A group overflowed or two names shared a tag: retry with a new key.
    Retry,
}

impl CramIndex {
    /// Builds the table over `names` (principal, and whether it has a
    /// CRAM-MD5 key, in store order); `key_of(i)` gives entry `i`'s key and
    /// `dummy` stands in for every miss.
    ///
    /// Large stores compute the keys (two MD5 compressions each) on a
    /// second thread while this one places the names: the two halves share
    /// nothing until the end.
    ///
    /// # Errors
    ///
    /// The first repeated name, with both positions.
    pub(super) fn build<K>(
        names: &[(&Principal, bool)],
        key_of: K,
        dummy: &HmacMd5Key,
    ) -> Result<Self, Duplicate>
    where
        K: Fn(usize) -> Option<HmacMd5Key> + Sync,
    {
        let len = names.len();
        let fill = || fill_keys(len, &key_of, dummy);
        let (keys, table) = if len < PARALLEL_FROM {
            let keys = fill();
            (keys, build_table(names))
        } else {
            std::thread::scope(|scope| {
                // If no thread can be had, the keys are computed here.
                let worker = std::thread::Builder::new()
                    .name("credentials-keys".into())
                    .spawn_scoped(scope, fill)
                    .ok();
                let table = build_table(names);
                let keys = worker.and_then(|w| w.join().ok()).unwrap_or_else(fill);
                (keys, table)
            })
        };
        let (sip, buckets, span, table) = table?;
        Ok(Self {
            sip,
            mask: buckets - 1,
            span,
            buckets: table,
            keys,
            len,
        })
    }

    /// The scanned buckets of each choice.
    fn groups(&self, tag: [u64; 2]) -> [&[Bucket]; 2] {
        groups_of(tag, self.mask).map(|start| {
            self.buckets
                .get(start..start.saturating_add(self.span))
                .unwrap_or_default()
        })
    }

    /// Looks `name` up for CRAM-MD5. The same work, and the same number of
    /// memory reads, for every name of the same length.
    pub(super) fn find(&self, name: &str) -> Found {
        let tag = tag_of(&self.sip, name);
        // A miss ends on this: a dummy copy picked by the tag.
        let mut value = self.dummy_position(tag);
        let mut exists = 0u32;
        for group in self.groups(tag) {
            for bucket in group {
                for (t, v) in bucket.tags.iter().zip(&bucket.values) {
                    let diff = (t[0] ^ tag[0]) | (t[1] ^ tag[1]);
                    // 1 when `diff` is zero, computed without a comparison.
                    let same = 1 ^ ((diff | diff.wrapping_neg()) >> 63);
                    // An opaque all-ones-or-zero mask: the optimizer cannot
                    // turn the selection back into a branch on it.
                    let mask = std::hint::black_box((same as u32).wrapping_neg());
                    exists |= mask;
                    value = (v & mask) | (value & !mask);
                }
            }
        }
        let exists = exists & 1;
        let index = value & !KEY_FLAG;
        // Entry `i`'s key is at 2i, its dummy copy at 2i + 1: one read
        // either way, in the same line. Always in bounds. Read in place, so
        // no stack copy of the key is left to wipe.
        let at = (index as usize).saturating_mul(2) | (1 ^ exists) as usize;
        let key = match self.keys.0.get(at) {
            Some(k) => HmacMd5Key::from_words(&k.0),
            None => HmacMd5Key::from_words(&[0; 8]),
        };
        Found {
            exists: Choice::from(exists as u8),
            known: Choice::from((value >> 31) as u8 & exists as u8),
            index,
            key,
        }
    }

    /// The position of `name`'s entry, or `None`: a plain look-up, quicker
    /// for a miss. The tag matched; the caller compares the name.
    pub(super) fn position(&self, name: &str) -> Option<usize> {
        let tag = tag_of(&self.sip, name);
        self.groups(tag)
            .into_iter()
            .flatten()
            .flat_map(|b| b.tags.iter().zip(&b.values))
            .find(|(t, _)| **t == tag)
            .map(|(_, v)| (v & !KEY_FLAG) as usize)
    }

    /// Every stored position, in table order (keyed at random per store).
    pub(super) fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.buckets
            .iter()
            .flat_map(|b| b.tags.iter().zip(&b.values))
            .filter(|(t, _)| **t != [0, 0])
            .map(|(_, v)| (v & !KEY_FLAG) as usize)
    }

    /// Which entry's dummy copy a miss for `tag` reads: spread like the
    /// principals' own keys, each copy in the line of one of them.
    fn dummy_position(&self, tag: [u64; 2]) -> u32 {
        let pairs = self.len.max(1) as u64;
        // The high half of a 64×64-bit product: uniform in 0..pairs.
        // Fewer than 2^31 principals: fits, flag clear.
        (((u128::from(tag[1]) * u128::from(pairs)) >> 64) as u32) & !KEY_FLAG
    }
}

/// The dense key array: for each of `len` (at least one) entries, its key
/// from `key_of` (the dummy if it has none or is past the end), then a copy
/// of `dummy`.
fn fill_keys(
    len: usize,
    key_of: &impl Fn(usize) -> Option<HmacMd5Key>,
    dummy: &HmacMd5Key,
) -> Keys {
    let pairs = len.max(1);
    // Exact capacity: growing would free a buffer holding keys unwiped.
    let mut keys = Keys(Vec::with_capacity(pairs.saturating_mul(2)));
    for i in 0..pairs {
        let key = if i < len { key_of(i) } else { None };
        keys.0.push(KeyWords::default());
        if let Some(slot) = keys.0.last_mut() {
            slot.0 = key.as_ref().unwrap_or(dummy).words();
        }
        keys.0.push(KeyWords::default());
        if let Some(slot) = keys.0.last_mut() {
            slot.0 = dummy.words();
        }
    }
    keys
}

/// Key, bucket count, span and buckets of a table holding `names`.
type Table = ([u64; 2], usize, usize, Vec<Bucket>);

/// Places `names`, retrying with a fresh key and a larger table until every
/// name fits.
fn build_table(names: &[(&Principal, bool)]) -> Result<Table, Duplicate> {
    let len = names.len();
    // About half full: two choices of three slots place that many
    // without trouble; a failed attempt doubles the table.
    let mut buckets = len.div_ceil(2).max(1).next_power_of_two();
    let mut span = 1;
    loop {
        // A fresh key every attempt: a failure says nothing about the next.
        let mut sip = [OsRng.next_u64(), OsRng.next_u64()];
        // Placed in bucket order first (see `placing_order`); a duplicate
        // found that way is looked for again in store order, so the error
        // names the first repeated name as it always did.
        let placed = match place_in(names, &sip, buckets, span, true) {
            Err(Fail::Duplicate(_)) => place_in(names, &sip, buckets, span, false),
            other => other,
        };
        match placed {
            Ok(table) => return Ok((sip, buckets, span, table)),
            Err(Fail::Duplicate(d)) => {
                sip.zeroize();
                return Err(d);
            }
            Err(Fail::Retry) => sip.zeroize(),
        }
        // More buckets first (up to 16 per entry), then wider groups; a
        // group as wide as the whole store always fits, so this ends.
        if buckets < len.saturating_mul(16) {
            buckets = buckets.saturating_mul(2);
        } else {
            span = span.saturating_mul(2);
        }
    }
}

/// The two candidate buckets of a tag (the first of each group).
fn groups_of(tag: [u64; 2], mask: usize) -> [usize; 2] {
    // Truncation intended: only the low bits pick a bucket. Bit 0 of the
    // first half is always set, so it is shifted out.
    [(tag[0] >> 1) as usize & mask, tag[1] as usize & mask]
}

/// The 128-bit tag of `name`, bit 0 set so no tag is the empty slot's.
fn tag_of(key: &[u64; 2], name: &str) -> [u64; 2] {
    let [a, b] = siphash13_128(key, name.as_bytes());
    [a | 1, b]
}

/// [`place_in`] in store order.
#[cfg(test)]
fn place(
    names: &[(&Principal, bool)],
    sip: &[u64; 2],
    buckets: usize,
    span: usize,
) -> Result<Vec<Bucket>, Fail> {
    place_in(names, sip, buckets, span, false)
}

/// Bucket regions of [`placing_order`]: 1,024 regions of 32 KiB each
/// for a million principals.
const REGIONS: usize = 1024;

/// The order to place names in: by the region of their first bucket
/// (a counting sort, stable, so store order within a region). Placing in
/// store order reads two random buckets per name, each a cache miss in a
/// table of tens of MiB (most of a large store's build); in this order the
/// first bucket is in a small region just read, so one miss is left. Each
/// name's tag comes along, so the placing loop reads them in order too.
fn placing_order(tags: &[[u64; 2]], mask: usize) -> Vec<([u64; 2], usize)> {
    let buckets = mask + 1;
    let regions = REGIONS.min(buckets);
    // Both powers of two: a region is a run of `buckets / regions` buckets.
    let shift = (buckets / regions).trailing_zeros();
    let region = |tag: [u64; 2]| groups_of(tag, mask)[0] >> shift;
    let mut starts = vec![0usize; regions + 1];
    for &tag in tags {
        if let Some(n) = starts.get_mut(region(tag) + 1) {
            *n += 1;
        }
    }
    for r in 1..starts.len() {
        let before = starts.get(r - 1).copied().unwrap_or(0);
        if let Some(n) = starts.get_mut(r) {
            *n += before;
        }
    }
    let mut order = vec![([0u64; 2], 0usize); tags.len()];
    for (i, &tag) in tags.iter().enumerate() {
        if let Some(at) = starts.get_mut(region(tag)) {
            if let Some(slot) = order.get_mut(*at) {
                *slot = (tag, i);
            }
            *at += 1;
        }
    }
    order
}

/// Places every name in the less full of its two groups (moving one
/// occupant to its other group when both are full), in bucket order if
/// `by_bucket` (for a large store), else in store order. A duplicate found
/// names its two positions, lower first.
fn place_in(
    names: &[(&Principal, bool)],
    sip: &[u64; 2],
    buckets: usize,
    span: usize,
    by_bucket: bool,
) -> Result<Vec<Bucket>, Fail> {
    let mask = buckets - 1;
    let mut table = vec![Bucket::default(); buckets.saturating_add(span - 1)];
    // Hashing first keeps the placing loop short, so the processor has
    // several of its (random, cache-missing) bucket reads in flight at once.
    let tags: Vec<[u64; 2]> = names.iter().map(|(n, _)| tag_of(sip, n.as_str())).collect();
    let order = if by_bucket && names.len() >= PARALLEL_FROM {
        placing_order(&tags, mask)
    } else {
        tags.iter().copied().zip(0..).collect()
    };
    drop(tags);
    let has_keys: Vec<bool> = names.iter().map(|&(_, k)| k).collect();
    for (tag, i) in order {
        let has_key = has_keys.get(i).copied().unwrap_or(false);
        let groups = groups_of(tag, mask);
        if let Some(j) = find_tag(&table, groups, span, tag) {
            return Err(match (names.get(i), names.get(j)) {
                (Some(&(name, _)), Some(&(other, _))) if other == name => {
                    Fail::Duplicate(Duplicate {
                        principal: name.clone(),
                        first: j.min(i),
                        second: j.max(i),
                    })
                }
                _ => Fail::Retry,
            });
        }
        // Truncation: a store holds fewer than 2^31 principals (more would
        // take hundreds of GiB).
        let value = (i as u32 & !KEY_FLAG) | if has_key { KEY_FLAG } else { 0 };
        let [a, b] = groups.map(|g| free_slot(&table, g, span));
        let target = match (a, b) {
            (Some((fa, sa)), Some((fb, sb))) => Some(if fb > fa { sb } else { sa }),
            (Some((_, s)), None) | (None, Some((_, s))) => Some(s),
            (None, None) => make_room(&mut table, groups, span, mask),
        };
        let Some((bucket, slot)) = target else {
            return Err(Fail::Retry);
        };
        let b = table.get_mut(bucket).ok_or(Fail::Retry)?;
        *b.tags.get_mut(slot).ok_or(Fail::Retry)? = tag;
        *b.values.get_mut(slot).ok_or(Fail::Retry)? = value;
    }
    Ok(table)
}

/// The position stored under `tag` in either group, if any.
fn find_tag(table: &[Bucket], groups: [usize; 2], span: usize, tag: [u64; 2]) -> Option<usize> {
    groups
        .into_iter()
        .flat_map(|g| table.get(g..g.saturating_add(span)).unwrap_or_default())
        .flat_map(|b| b.tags.iter().zip(&b.values))
        .find(|(t, _)| **t == tag)
        .map(|(_, v)| (v & !KEY_FLAG) as usize)
}

/// The free slot count of the group starting at `start` and its first free
/// slot (bucket, slot), if it has one.
fn free_slot(table: &[Bucket], start: usize, span: usize) -> Option<(usize, (usize, usize))> {
    let mut free = 0;
    let mut first = None;
    for (bucket, b) in table
        .get(start..start.saturating_add(span))
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        for (slot, t) in b.tags.iter().enumerate() {
            if *t == [0, 0] {
                free += 1;
                first = first.or(Some((start + bucket, slot)));
            }
        }
    }
    first.map(|f| (free, f))
}

/// Both groups are full: moves one occupant to its other group if that has
/// room, and returns the slot it left.
fn make_room(
    table: &mut [Bucket],
    groups: [usize; 2],
    span: usize,
    mask: usize,
) -> Option<(usize, usize)> {
    for g in groups {
        for bucket in g..g.saturating_add(span) {
            for slot in 0..WIDTH {
                let b = table.get(bucket)?;
                let (tag, value) = (*b.tags.get(slot)?, *b.values.get(slot)?);
                let [x, y] = groups_of(tag, mask);
                let other = if (x..x.saturating_add(span)).contains(&bucket) {
                    y
                } else {
                    x
                };
                if let Some((_, (ob, os))) = free_slot(table, other, span) {
                    let dst = table.get_mut(ob)?;
                    *dst.tags.get_mut(os)? = tag;
                    *dst.values.get_mut(os)? = value;
                    let src = table.get_mut(bucket)?;
                    *src.tags.get_mut(slot)? = [0, 0];
                    *src.values.get_mut(slot)? = 0;
                    return Some((bucket, slot));
                }
            }
        }
    }
    None
}

impl Drop for CramIndex {
    fn drop(&mut self) {
        self.sip.zeroize();
    }
}

impl std::fmt::Debug for CramIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CramIndex")
            .field("buckets", &(self.mask + 1))
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod test;
