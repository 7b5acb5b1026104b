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
//!   in one 32 KiB block (two-choice hashing keeps the buckets short; one
//!   block lets a large table be filled block by block, on several
//!   threads);
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

use std::sync::{Mutex, PoisonError};

use rand_core::{OsRng, RngCore};
use zeroize::Zeroize;

use crate::Principal;
use crate::credentials::parse::{in_parallel, threads};
use crate::hmac_md5::{HmacMd5Key, LANES};
use crate::siphash::siphash13_128;

/// Slots per bucket: three 16-byte tags and three positions fill one cache
/// line exactly.
const WIDTH: usize = 3;

/// Stores this large are built on several threads (below, a thread costs
/// more than it saves).
const PARALLEL_FROM: usize = 4096;

/// Position flag: the principal has a CRAM-MD5 key.
const KEY_FLAG: u32 = 1 << 31;

/// One table bucket, one cache line. An unused slot has an all-zero tag,
/// which no name's tag is (bit 0 of every tag is set).
#[derive(Clone, Copy, Default, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct Bucket {
    tags: [[u64; 2]; WIDTH],
    /// Entry position, with [`KEY_FLAG`].
    values: [u32; WIDTH],
    _pad: u32,
}

/// A key's inner then outer HMAC-MD5 state, aligned so that reading one
/// never straddles cache lines.
#[derive(Clone, Copy, Default, bytemuck::Zeroable)]
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
    /// Whether the principal exists: 1 or 0. Flags in a `u8` behind
    /// `std::hint::black_box` (no code), where subtle's `Choice` paid an
    /// out-of-line call per flag on every session (issue 14, item 3).
    pub(super) exists: u8,
    /// Whether it exists and has a CRAM-MD5 key: 1 or 0.
    pub(super) known: u8,
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
    /// Large stores use up to `min(available_parallelism, 8)` threads:
    /// each computes the keys (two MD5 compressions each) and the tags of
    /// a run of entries, then each places the names of a run of blocks
    /// (a name's two buckets are in one block, see [`groups_of`]).
    ///
    /// # Errors
    ///
    /// The first repeated name, with both positions.
    pub(super) fn build<'s, K, S>(
        names: &[(&Principal, bool)],
        key_of: K,
        dummy: &HmacMd5Key,
    ) -> Result<Self, Duplicate>
    where
        K: Fn(usize) -> S + Sync,
        S: Into<KeySource<'s>>,
    {
        let len = names.len();
        let (keys, first) = if len < PARALLEL_FROM {
            (fill_keys(len, &key_of, dummy), None)
        } else {
            // The first attempt's key is drawn here, so that each thread
            // hashes the names whose keys it computes, in one pass.
            let sip = [OsRng.next_u64(), OsRng.next_u64()];
            let (keys, tags) = keys_and_tags(names, &key_of, dummy, &sip);
            (keys, Some((sip, tags)))
        };
        let (sip, buckets, span, table) = build_table(names, first)?;
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
            exists: std::hint::black_box(exists as u8),
            known: std::hint::black_box((value >> 31) as u8 & exists as u8),
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

/// Where an entry's CRAM-MD5 key comes from.
pub(super) enum KeySource<'s> {
    /// A password: its key schedule runs while the table is built, several
    /// at once (see [`HmacMd5Key::from_secrets`]).
    Secret(&'s [u8]),
    /// A key computed already (stored chaining states).
    Key(HmacMd5Key),
    /// No CRAM-MD5 key: the dummy stands in.
    None,
}

impl From<Option<HmacMd5Key>> for KeySource<'_> {
    fn from(key: Option<HmacMd5Key>) -> Self {
        key.map_or(Self::None, Self::Key)
    }
}

/// The dense key array: for each of `len` (at least one) entries, its key
/// from `key_of` (the dummy if it has none or is past the end), then a copy
/// of `dummy`.
fn fill_keys<'s, S: Into<KeySource<'s>>>(
    len: usize,
    key_of: &impl Fn(usize) -> S,
    dummy: &HmacMd5Key,
) -> Keys {
    // Exact size, filled in place: growing would free a buffer holding
    // keys unwiped.
    let mut keys = Keys(bytemuck::zeroed_vec(len.max(1).saturating_mul(2)));
    fill_run(0, len, &mut keys.0, key_of, dummy);
    keys
}

/// Writes the key pairs (key, then dummy copy) of entries `start..end`
/// into `keys`, running the passwords' key schedules `LANES / 2` at a time.
/// Slots past `end` get the dummy.
fn fill_run<'s, S: Into<KeySource<'s>>>(
    start: usize,
    end: usize,
    keys: &mut [KeyWords],
    key_of: &impl Fn(usize) -> S,
    dummy: &HmacMd5Key,
) {
    const BATCH: usize = LANES / 2;
    for (b, pairs) in keys.chunks_mut(2 * BATCH).enumerate() {
        let first = start.saturating_add(b * BATCH);
        let sources: [KeySource<'s>; BATCH] = std::array::from_fn(|j| {
            let i = first.saturating_add(j);
            if i < end {
                key_of(i).into()
            } else {
                KeySource::None
            }
        });
        let computed = sources
            .iter()
            .any(|s| matches!(s, KeySource::Secret(_)))
            .then(|| {
                HmacMd5Key::from_secrets(std::array::from_fn(|j| match sources.get(j) {
                    Some(KeySource::Secret(s)) => *s,
                    _ => &[],
                }))
            });
        for (j, (pair, source)) in pairs.chunks_exact_mut(2).zip(&sources).enumerate() {
            let key = match source {
                KeySource::Secret(_) => computed.as_ref().and_then(|c| c.get(j)),
                KeySource::Key(k) => Some(k),
                KeySource::None => None,
            };
            if let [mine, copy] = pair {
                mine.0 = key.unwrap_or(dummy).words();
                copy.0 = dummy.words();
            }
        }
    }
}

/// For a large store: the key array of [`fill_keys`] and every name's tag
/// under `sip`, each thread taking one run of entries.
fn keys_and_tags<'s, S: Into<KeySource<'s>>>(
    names: &[(&Principal, bool)],
    key_of: &(impl Fn(usize) -> S + Sync),
    dummy: &HmacMd5Key,
    sip: &[u64; 2],
) -> (Keys, Vec<[u64; 2]>) {
    let len = names.len();
    // Whole batches of key schedules per run.
    let per = len.div_ceil(threads()).next_multiple_of(LANES).max(1);
    // Filled in place, run by run: growing or concatenating would leave
    // buffers holding keys unwiped. Zeroed by the allocator (fresh pages
    // for a large store), not by a pass here: each thread faults in the
    // pages of its own run as it writes them.
    let mut keys = Keys(bytemuck::zeroed_vec(len.max(1).saturating_mul(2)));
    let mut tags = vec![[0u64; 2]; len];
    // Each run's slices behind a lock taken once, so that the work is a
    // shared closure (which `in_parallel` may run here if a thread fails).
    let runs: Vec<Run<'_>> = keys
        .0
        .chunks_mut(per.saturating_mul(2))
        .zip(tags.chunks_mut(per))
        .enumerate()
        .map(|(k, (keys, tags))| Mutex::new((k * per, keys, tags)))
        .collect();
    let shares: Vec<usize> = (0..=runs.len()).collect();
    in_parallel(&shares, |k, _| {
        let Some(run) = runs.get(k) else {
            return;
        };
        let mut run = run.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, keys, tags) = &mut *run;
        let end = start.saturating_add(tags.len());
        fill_run(*start, end, keys, key_of, dummy);
        for (tag, (name, _)) in tags.iter_mut().zip(names.get(*start..).unwrap_or_default()) {
            *tag = tag_of(sip, name.as_str());
        }
    });
    drop(runs);
    (keys, tags)
}

/// One thread's share of [`keys_and_tags`]: its first entry, its key
/// pairs and its tags.
type Run<'a> = Mutex<(usize, &'a mut [KeyWords], &'a mut [[u64; 2]])>;

/// Every name's tag under `sip`, on several threads for a large store.
fn tags_of(names: &[(&Principal, bool)], sip: &[u64; 2]) -> Vec<[u64; 2]> {
    let n = if names.len() < PARALLEL_FROM {
        1
    } else {
        threads()
    };
    let per = names.len().div_ceil(n).max(1);
    let bounds: Vec<usize> = (0..=n).map(|k| (k * per).min(names.len())).collect();
    in_parallel(&bounds, |a, b| {
        names
            .get(a..b)
            .unwrap_or_default()
            .iter()
            .map(|(name, _)| tag_of(sip, name.as_str()))
            .collect::<Vec<_>>()
    })
    .concat()
}

/// Key, bucket count, span and buckets of a table holding `names`.
type Table = ([u64; 2], usize, usize, Vec<Bucket>);

/// Places `names`, retrying with a fresh key and a larger table until every
/// name fits. `first` is the first attempt's key and tags, if computed
/// already.
fn build_table(
    names: &[(&Principal, bool)],
    mut first: Option<([u64; 2], Vec<[u64; 2]>)>,
) -> Result<Table, Duplicate> {
    let len = names.len();
    // A failed attempt doubles the table.
    let mut buckets = first_buckets(len);
    let mut span = 1;
    // Read in bucket order: one byte a name keeps them in cache.
    let has_keys: Vec<bool> = names.iter().map(|&(_, k)| k).collect();
    loop {
        // A fresh key every attempt: a failure says nothing about the next.
        let (mut sip, tags) = first.take().unwrap_or_else(|| {
            let sip = [OsRng.next_u64(), OsRng.next_u64()];
            let tags = tags_of(names, &sip);
            (sip, tags)
        });
        // Placed in bucket order first (see `placing_order`); a duplicate
        // found that way is looked for again in store order, so the error
        // names the first repeated name as it always did.
        let placed = match place_in(names, &has_keys, tags, buckets, span, true) {
            Err(Fail::Duplicate(_)) => {
                let tags = tags_of(names, &sip);
                place_in(names, &has_keys, tags, buckets, span, false)
            }
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

/// The bucket count of the first attempt to place `len` names: at most
/// 8/15 full (8 names per 5 buckets of 3 slots). A name's two buckets share
/// one block, so what fails is the fullest block; at the 64 % of a million
/// names in 2^19 buckets some block overflowed in every build we watched,
/// which then hashed and placed every name again in twice the buckets.
fn first_buckets(len: usize) -> usize {
    len.saturating_mul(5).div_ceil(8).max(1).next_power_of_two()
}

/// The two candidate buckets of a tag (the first of each group): both in
/// one block of [`BLOCK`] buckets, so a large table can be filled block by
/// block, by several threads, each block in cache. Within a block of 512
/// buckets the two choices balance as well as across the whole table.
fn groups_of(tag: [u64; 2], mask: usize) -> [usize; 2] {
    // Truncation intended: only the low bits pick a bucket. Bit 0 of the
    // first half is always set, so it is shifted out.
    let first = (tag[0] >> 1) as usize & mask;
    // `mask + 1` and `BLOCK` are powers of two.
    let local = BLOCK.min(mask.saturating_add(1)) - 1;
    [first, (first & !local) | (tag[1] as usize & local)]
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
    let has_keys: Vec<bool> = names.iter().map(|&(_, k)| k).collect();
    place_in(names, &has_keys, tags_of(names, sip), buckets, span, false)
}

/// Buckets per block (32 KiB): a name's two buckets are in the same block.
const BLOCK: usize = 512;

/// The order to place names in: by the block of their buckets (a counting
/// sort, stable, so store order within a block), and where each block's
/// names start in it (one more entry: the end). Placing in store order
/// reads two random buckets per name, each a cache miss in a table of tens
/// of MiB (most of a large store's build); in this order both are in a
/// block just read. Each name's tag comes along, so the placing loop reads
/// them in order too.
fn placing_order(tags: &[[u64; 2]], mask: usize) -> (Vec<([u64; 2], usize)>, Vec<usize>) {
    let buckets = mask + 1;
    let block = BLOCK.min(buckets);
    let regions = buckets / block;
    let shift = block.trailing_zeros();
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
    let mut next = starts.clone();
    let mut order: Vec<([u64; 2], usize)> = bytemuck::zeroed_vec(tags.len());
    for (i, &tag) in tags.iter().enumerate() {
        if let Some(at) = next.get_mut(region(tag)) {
            if let Some(slot) = order.get_mut(*at) {
                *slot = (tag, i);
            }
            *at += 1;
        }
    }
    (order, starts)
}

/// Places every name (tag `tags[i]` for `names[i]`) in the less full of
/// its two groups (moving one occupant to its other group when both are
/// full), in bucket order if `by_bucket` (for a large store: on several
/// threads, each taking a run of blocks), else in store order. A duplicate
/// found names its two positions, lower first.
fn place_in(
    names: &[(&Principal, bool)],
    has_keys: &[bool],
    tags: Vec<[u64; 2]>,
    buckets: usize,
    span: usize,
    by_bucket: bool,
) -> Result<Vec<Bucket>, Fail> {
    let mask = buckets - 1;
    if !by_bucket || names.len() < PARALLEL_FROM {
        let order: Vec<([u64; 2], usize)> = tags.into_iter().zip(0..).collect();
        let mut table = bytemuck::zeroed_vec(buckets.saturating_add(span - 1));
        place_part(&mut table, 0, &order, names, has_keys, mask, span)?;
        return Ok(table);
    }
    let (order, starts) = placing_order(&tags, mask);
    // The order holds the tags too: a copy fewer at the peak.
    drop(tags);
    // Zeroed by the allocator, not by a pass on this thread: the placing
    // threads fault in the pages of their own blocks.
    let mut table = bytemuck::zeroed_vec(buckets.saturating_add(span - 1));
    let regions = starts.len() - 1;
    let block = buckets / regions;
    // Wider groups cross blocks: one thread (this never happens in
    // practice: it takes a table of 16 buckets per name that still failed).
    let n = if span > 1 { 1 } else { threads().min(regions) };
    let mut parts = Vec::with_capacity(n);
    let mut rest = table.as_mut_slice();
    let mut first_region = 0;
    for k in 1..=n {
        let last_region = if k == n { regions } else { regions * k / n };
        let size = (last_region - first_region) * block;
        let take = if k == n {
            rest.len()
        } else {
            size.min(rest.len())
        };
        let (mine, tail) = std::mem::take(&mut rest).split_at_mut(take);
        rest = tail;
        let from = starts.get(first_region).copied().unwrap_or(0);
        let to = starts.get(last_region).copied().unwrap_or(0);
        let names_here = order.get(from..to).unwrap_or_default();
        parts.push(Mutex::new((mine, first_region * block, names_here)));
        first_region = last_region;
    }
    let shares: Vec<usize> = (0..=parts.len()).collect();
    let results = in_parallel(&shares, |k, _| match parts.get(k) {
        Some(part) => {
            let mut part = part.lock().unwrap_or_else(PoisonError::into_inner);
            let (table, base, order) = &mut *part;
            place_part(table, *base, order, names, has_keys, mask, span)
        }
        None => Ok(()),
    });
    drop(parts);
    // A duplicate first: the caller then looks for it in store order.
    let mut retry = false;
    for result in results {
        match result {
            Ok(()) => {}
            Err(Fail::Duplicate(d)) => return Err(Fail::Duplicate(d)),
            Err(Fail::Retry) => retry = true,
        }
    }
    if retry {
        return Err(Fail::Retry);
    }
    Ok(table)
}

/// Places the names of `order` (tag and store position) in `table`, the
/// buckets from `base` on (every bucket their groups use).
fn place_part(
    table: &mut [Bucket],
    base: usize,
    order: &[([u64; 2], usize)],
    names: &[(&Principal, bool)],
    has_keys: &[bool],
    mask: usize,
    span: usize,
) -> Result<(), Fail> {
    for &(tag, i) in order {
        let has_key = has_keys.get(i).copied().unwrap_or(false);
        // Outside the part (never): `get` finds nothing there.
        let groups = groups_of(tag, mask).map(|g| g.wrapping_sub(base));
        if let Some(j) = find_tag(table, groups, span, tag) {
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
        let [a, b] = groups.map(|g| free_slot(table, g, span));
        let target = match (a, b) {
            (Some((fa, sa)), Some((fb, sb))) => Some(if fb > fa { sb } else { sa }),
            (Some((_, s)), None) | (None, Some((_, s))) => Some(s),
            (None, None) => make_room(table, groups, span, mask, base),
        };
        let Some((bucket, slot)) = target else {
            return Err(Fail::Retry);
        };
        let b = table.get_mut(bucket).ok_or(Fail::Retry)?;
        *b.tags.get_mut(slot).ok_or(Fail::Retry)? = tag;
        *b.values.get_mut(slot).ok_or(Fail::Retry)? = value;
    }
    Ok(())
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
/// room, and returns the slot it left. Bucket numbers are from `base` on.
fn make_room(
    table: &mut [Bucket],
    groups: [usize; 2],
    span: usize,
    mask: usize,
    base: usize,
) -> Option<(usize, usize)> {
    for g in groups {
        for bucket in g..g.saturating_add(span) {
            for slot in 0..WIDTH {
                let b = table.get(bucket)?;
                let (tag, value) = (*b.tags.get(slot)?, *b.values.get(slot)?);
                let [x, y] = groups_of(tag, mask).map(|g| g.wrapping_sub(base));
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
