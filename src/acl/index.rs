//! The tables behind [`CompiledAcls`](super::CompiledAcls), laid out so
//! that a decision on a large policy waits for one round of cache misses,
//! all started together from the request's hashes:
//!
//! - [`NameTable`]: interned principals, objects and `x/` prefixes. A
//!   string of up to 28 bytes sits inside its 32-byte slot, so finding it
//!   reads that slot and nothing else (a longer one is confirmed against
//!   its bytes, a second read). The slot also holds the string's dense id
//!   and a flag telling whether it has single-sided rules (kept apart, in
//!   `sides`: most strings have none, and a slot has no room left).
//! - [`PairTable`]: (id, id) pairs, placed by [`HashKey::pair_hash`] of the
//!   two strings' hashes (so its slot is known before the string look-ups
//!   return the ids), each holding its rule's position *and* a copy of the
//!   rule, so a pair hit needs no read of the rule array.
//!
//! Both use open addressing with linear probing and 32-byte, 32-aligned
//! slots (two to a cache line).
//!
//! Why not `hashbrown::HashTable`, which also takes precomputed hashes:
//! measured side by side on the pair table (benches/hashes.rs, 1,024
//! probes, half hits, the same hashes for both; 3 runs on the shared 2-core
//! machine), this table was faster at 100,000 pairs in every run (5.0-5.3
//! against 6.7-7.8 us, ratio 0.68-0.79) and mixed at 1,000 (ratios 0.79,
//! 1.21, 1.91). Not a win for the crate where the size targets are, so the
//! table stays.

pub(crate) use crate::strtable::{HashKey, Hashed};
use crate::strtable::{slots_for, word_at};

/// Tables of at least this many bytes live in an anonymous map advised
/// for transparent huge pages; smaller ones on the heap.
const MAP_AT: usize = 2 << 20;
/// A huge page (x86-64, aarch64 with 4 KiB base pages).
const HUGE: usize = 2 << 20;

/// Told of every map of table slots made (+bytes) and dropped (-bytes):
/// the memory tests' counting allocator cannot see maps, so it adds them
/// through this.
static MAP_OBSERVER: std::sync::OnceLock<fn(isize)> = std::sync::OnceLock::new();

/// Sets [`MAP_OBSERVER`] (once per process); `false` if it was set.
pub(crate) fn set_map_observer(f: fn(isize)) -> bool {
    MAP_OBSERVER.set(f).is_ok()
}

fn observe(bytes: usize, grow: bool) {
    if let Some(f) = MAP_OBSERVER.get() {
        let b = isize::try_from(bytes).unwrap_or(isize::MAX);
        f(if grow { b } else { -b });
    }
}

/// A fixed array of slots: on the heap when small, else in an anonymous
/// map advised `MADV_HUGEPAGE` and aligned to 2 MiB, so a random probe of
/// a large table costs one cache miss and, measured on the KVM guest this
/// was built on, a much cheaper TLB miss (a chain of random misses: 149 ns
/// a step with huge pages, 230-245 ns with 4 KiB pages; nested page walks
/// make TLB misses dear). Falls back to the heap if mapping fails.
/// `memmap2` and `bytemuck` keep this safe code.
enum Slots<T: bytemuck::Pod> {
    Heap(Vec<T>),
    /// `len` slots from byte `start` of `map` (2 MiB aligned).
    Mapped {
        map: memmap2::MmapMut,
        start: usize,
        len: usize,
    },
}

impl<T: bytemuck::Pod> Slots<T> {
    fn new() -> Self {
        Self::Heap(Vec::new())
    }

    /// `n` zeroed slots (all-zero is an empty slot in both tables): in a
    /// map from [`MAP_AT`] bytes, built in place, so a large table is
    /// neither filled by a pass of its own nor copied from the heap once
    /// built (the kernel's zeroed pages are empty slots, faulted in by the
    /// first probe that reaches them); else on the heap, zeroed by the
    /// allocator.
    fn zeroed(n: usize) -> Self {
        let bytes = n.saturating_mul(size_of::<T>());
        if bytes >= MAP_AT
            && let Some(m) = Self::map(n, bytes)
        {
            return m;
        }
        Self::Heap(bytemuck::zeroed_vec(n))
    }

    fn map(len: usize, bytes: usize) -> Option<Self> {
        // Room to start at a huge-page boundary: the part before it is
        // never touched, so it never takes memory.
        let map = memmap2::MmapMut::map_anon(bytes.checked_add(HUGE)?).ok()?;
        let addr = map.as_ptr() as usize;
        let start = addr.next_multiple_of(HUGE) - addr;
        // Advice only: without huge pages the table still works.
        let _ = map.advise(memmap2::Advice::HugePage);
        let s = Self::Mapped { map, start, len };
        // The view must exist (alignment, size) before the map is used.
        if s.as_slice().len() != len {
            return None;
        }
        observe(bytes, true);
        Some(s)
    }

    #[inline(always)]
    fn as_slice(&self) -> &[T] {
        match self {
            Self::Heap(v) => v,
            Self::Mapped { map, start, len } => map
                .get(*start..)
                .and_then(|b| b.get(..len.saturating_mul(size_of::<T>())))
                .and_then(|b| bytemuck::try_cast_slice(b).ok())
                .unwrap_or(&[]),
        }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Self::Heap(v) => v,
            Self::Mapped { map, start, len } => map
                .get_mut(*start..)
                .and_then(|b| b.get_mut(..len.saturating_mul(size_of::<T>())))
                .and_then(|b| bytemuck::try_cast_slice_mut(b).ok())
                .unwrap_or(&mut []),
        }
    }

    /// Bytes held: the heap capacity, or the mapped slots (the map's
    /// alignment slack is address space, never touched).
    fn bytes(&self) -> usize {
        match self {
            Self::Heap(v) => v.capacity() * size_of::<T>(),
            Self::Mapped { len, .. } => len * size_of::<T>(),
        }
    }
}

impl<T: bytemuck::Pod> Drop for Slots<T> {
    fn drop(&mut self) {
        if let Self::Mapped { len, .. } = self {
            observe(len.saturating_mul(size_of::<T>()), false);
        }
    }
}

impl<T: bytemuck::Pod> Clone for Slots<T> {
    fn clone(&self) -> Self {
        let src = self.as_slice();
        let mut s = Self::zeroed(src.len());
        s.as_mut_slice().copy_from_slice(src);
        s
    }
}

impl<T: bytemuck::Pod> std::fmt::Debug for Slots<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Self::Heap(_) => "heap",
            Self::Mapped { .. } => "mapped",
        };
        write!(f, "Slots({} {kind})", self.as_slice().len())
    }
}

/// Longest string kept inside its slot.
const INLINE: usize = 28;
/// Pads an inline string to [`INLINE`] bytes: never a byte of UTF-8, so a
/// padded string determines its length.
const PAD: u8 = 0xff;
/// Eight [`PAD`] bytes.
const PAD_WORD: u64 = u64::from_le_bytes([PAD; 8]);
/// First word of a slot holding a string over [`INLINE`] bytes (its first
/// byte 0xFD is never the first byte of UTF-8).
const LONG_W0: u64 = 0xfd;
/// First word of an empty slot (first byte 0xFE: never UTF-8 either).
/// Slots store their first word XORed with it, so an all-zero slot (what
/// a fresh map or a zeroed allocation holds) is the empty one.
const EMPTY_W0: u64 = 0xfe;
/// [`LONG_W0`] as stored.
const LONG_KEY: u64 = LONG_W0 ^ EMPTY_W0;
/// Follows each long string in the arena (never UTF-8): comparing it too
/// makes a match exact in length.
const END: u8 = 0xff;
/// Slot flag: the string has single-sided rules (in `sides`).
const HAS_SIDE: u32 = 1 << 31;
/// Flag on the first slot of a line: some string whose home is this line
/// sits beyond it ([`home`]).
const NAME_SPILL: u32 = 1 << 30;
/// Slot flag: the string is a valid Mesos role, checked when it was
/// interned as an object of a role list (a request naming it needs no
/// role check of its own).
const ROLE_OK: u32 = 1 << 29;
/// Ids stay below this (the top bits of a slot's id word are the flags).
const MAX_ID: u32 = ROLE_OK - 1;
/// Side values of a string with no single-sided rule.
pub(crate) const NO_SIDE: [u32; 2] = [u32::MAX; 2];

/// Slots per 64-byte cache line (both tables' slots are 32 bytes; a large
/// table's map starts on a huge page, so its lines hold whole pairs).
const PER_LINE: usize = 2;

/// The first slot of the line a key hashed to `hash` starts its probe at,
/// in a table of `len` slots (a power of two, or 0). Probes start at a
/// line, not at a slot: then a key is in its home line unless that line
/// filled up first, and a flag on the line's first slot (set when a key
/// homed there spilled past it) lets a look-up that misses stop after one
/// line instead of following the cluster into the next. Measured on the
/// 1,000,000-ACL stream, probes past the first line were most of the
/// decision's wait: each is another round trip to memory.
#[inline(always)]
fn home(hash: u64, len: usize) -> usize {
    (hash as usize & len.wrapping_sub(1)) & !(PER_LINE - 1)
}

/// Whether slot `i` lies past the home line that starts at `first`.
#[inline(always)]
fn past_home(i: usize, first: usize, mask: usize) -> bool {
    i.wrapping_sub(first) & mask >= PER_LINE
}

/// A slot of a line-homed table ([`home`]): all zero when empty, with
/// room on a line's first slot for the spill flag.
trait LineSlot: Copy {
    fn is_empty(&self) -> bool;
    /// Flags this (a line's first slot): a key homed at the line sits
    /// beyond it.
    fn set_spill(&mut self);
}

/// Flags the home line starting at `first` if slot `i`, just filled,
/// lies past it.
fn flag_spill<T: LineSlot>(slots: &mut [T], i: usize, first: usize) {
    if past_home(i, first, slots.len().wrapping_sub(1))
        && let Some(f) = slots.get_mut(first)
    {
        f.set_spill();
    }
}

/// Puts `e` in the first empty slot from its home line's `first` slot on
/// (growing and rebuilding a table; `e` carries no spill flag).
fn place<T: LineSlot>(slots: &mut [T], first: usize, e: T) {
    let mask = slots.len().wrapping_sub(1);
    let mut i = first;
    while let Some(s) = slots.get_mut(i) {
        if s.is_empty() {
            *s = e;
            flag_spill(slots, i, first);
            return;
        }
        i = (i + 1) & mask;
    }
}

/// Prefetches the home line a key hashed to `hash` probes, and the line
/// after it, so that a look-up soon after finds them in cache. The next
/// line too: at the load factors of a large policy a fifth of look-ups
/// go on past the home line, and that load, issued only when the home
/// line has come back, was a quarter of a batched decision's time at
/// 1,000,000 ACLs (measured; with it: 0.95-0.96x). A prefetch
/// instruction, not a load: a load that misses holds up retirement, and
/// measured on the 1,000,000-ACL stream a batch touched by plain loads
/// took 1.25-1.5x as long. (`mem_prefetch` wraps the intrinsic, which
/// needs `unsafe`, for a reference: see Cargo.toml.)
#[inline(always)]
fn prefetch_home<T>(slots: &[T], hash: u64) {
    let first = home(hash, slots.len());
    if let Some(s) = slots.get(first) {
        mem_prefetch::prefetch_read_data::<_, 3>(s);
    }
    if let Some(s) = slots.get((first + PER_LINE) & slots.len().wrapping_sub(1)) {
        mem_prefetch::prefetch_read_data::<_, 3>(s);
    }
}

/// The home line of a key hashed to `hash` ([`home`]), or `None` for an
/// empty table.
#[inline(always)]
fn home_line<T>(slots: &[T], hash: u64) -> Option<&[T; PER_LINE]> {
    slots.get(home(hash, slots.len())..)?.first_chunk()
}

/// What [`NameTable::look`] found: the slot's id word (the id and its
/// flags; 0 when not found).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Look {
    pub(crate) found: bool,
    word: u32,
}

impl Look {
    pub(crate) const NONE: Look = Look {
        found: false,
        word: 0,
    };

    /// The id (0 when not found: never use it without `found`).
    #[inline(always)]
    pub(crate) fn id(self) -> u32 {
        self.word & MAX_ID
    }

    #[inline(always)]
    pub(crate) fn has_side(self) -> bool {
        self.word & HAS_SIDE != 0
    }

    /// Whether the string is flagged a valid role
    /// ([`NameTable::intern_object`]).
    #[inline(always)]
    pub(crate) fn role_ok(self) -> bool {
        self.word & ROLE_OK != 0
    }
}

/// One string's slot: 28 bytes of string (padded with [`PAD`]) in `w` and
/// `tail`, or, over 28 bytes, [`LONG_W0`], its full hash, where its bytes
/// are, and its length; then its id and the [`HAS_SIDE`] flag. `w[0]` is
/// stored XORed with [`EMPTY_W0`]: all zero is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(32))]
struct NameSlot {
    w: [u64; 3],
    tail: u32,
    id: u32,
}

impl LineSlot for NameSlot {
    fn is_empty(&self) -> bool {
        self.w[0] == 0
    }

    fn set_spill(&mut self) {
        self.id |= NAME_SPILL;
    }
}

/// What a slot holding `s` (hashed to `hash`) has in `w` and `tail` (`w[0]`
/// as stored); for a long string, the offset word is left 0 (compared
/// apart).
///
/// Built from word loads of `s` itself: copying `s` into a padded stack
/// buffer and reading it back as words (a `memcpy` call, then loads that
/// could not be forwarded from its byte stores) was a fifth of a decision
/// on a policy that fits in cache, measured.
#[inline(always)]
fn name_key(s: &[u8], hash: u64) -> ([u64; 3], u32) {
    if s.len() > INLINE {
        return (
            [LONG_KEY, hash, 0],
            u32::try_from(s.len()).unwrap_or(u32::MAX),
        );
    }
    let w = [padded(s, 0) ^ EMPTY_W0, padded(s, 8), padded(s, 16)];
    (w, padded(s, 24) as u32)
}

/// Bytes `at..at + 8` of `s` as a little-endian word, with [`PAD`] where
/// `s` has ended.
#[inline(always)]
fn padded(s: &[u8], at: usize) -> u64 {
    let (w, k) = word_at(s, at);
    if k >= 8 { w } else { w | (PAD_WORD << (8 * k)) }
}

/// A string's side values, by its id ([`NameTable::side_of`]).
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(16))]
struct SideSlot {
    /// The id plus one (0: an empty slot).
    id1: u32,
    side: [u32; 2],
    pad: u32,
}

/// Where `id` starts its probe in a side table of `mask + 1` slots. Ids
/// are dense numbers the compiler gave, not input, so a multiplicative
/// hash spreads them well enough and no key is needed.
#[inline(always)]
fn side_home(id: u32, mask: usize) -> usize {
    (u64::from(id).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & mask
}

/// Interned strings: string → dense id (from 0) and two side values.
#[derive(Debug, Clone)]
pub(crate) struct NameTable {
    /// Open addressing, linear probing, load factor ≤ ¾.
    slots: Slots<NameSlot>,
    /// Per id, while building (rehashing needs it); emptied by
    /// [`freeze`](Self::freeze).
    hashes: Vec<u64>,
    /// Per id, while building: its two side values. Emptied by
    /// [`freeze`](Self::freeze), which moves the few strings that have
    /// any into `side_slots`.
    sides: Vec<[u32; 2]>,
    /// The side values of the strings that have any, by id: a table of
    /// those few rather than an array over every id, so that it stays in
    /// cache (read after the string's slot, it cannot be prefetched; an
    /// array over 10^6 ids cost a miss, in 6 % of look-ups, measured).
    side_slots: Slots<SideSlot>,
    /// The strings over [`INLINE`] bytes, each followed by [`END`].
    bytes: Vec<u8>,
    len: usize,
    /// Whether any string has side values (else `freeze` drops `sides`).
    any_side: bool,
}

/// Slot count for `n` strings at load factor ≤ ¾ (at least ⅜ once
/// sized): a probe at ¾ still reads about two adjacent slots on a hit,
/// and emptier tables of 32-byte slots would cost more memory than the
/// layout they replace.
fn name_slots_for(n: usize) -> usize {
    n.saturating_add(n / 3)
        .saturating_add(1)
        .max(8)
        .next_power_of_two()
}

impl NameTable {
    pub(crate) fn new() -> Self {
        Self {
            slots: Slots::new(),
            hashes: Vec::new(),
            sides: Vec::new(),
            side_slots: Slots::new(),
            bytes: Vec::new(),
            len: 0,
            any_side: false,
        }
    }

    /// Room for about `n` strings without growing (the arena, for the few
    /// over [`INLINE`] bytes, grows as needed).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.hashes.reserve(n);
        self.sides.reserve(n);
        let want = name_slots_for(self.len.saturating_add(n));
        if want > self.slots.as_slice().len() {
            self.rehash(want);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// While building (before [`freeze`](Self::freeze)): the hash and
    /// side values of each string that has any.
    pub(crate) fn sided(&self) -> impl Iterator<Item = (u64, [u32; 2])> + '_ {
        self.hashes
            .iter()
            .zip(&self.sides)
            .filter(|(_, v)| **v != NO_SIDE)
            .map(|(h, v)| (*h, *v))
    }

    /// Ends building: gives back what [`reserve`](Self::reserve)
    /// over-estimated (the estimate counts every value, the table holds
    /// each string once) and what only building needs.
    pub(crate) fn freeze(&mut self) {
        let want = name_slots_for(self.len);
        if want < self.slots.as_slice().len() {
            self.rehash(want);
        }
        self.hashes = Vec::new();
        let sides = std::mem::take(&mut self.sides);
        if self.any_side {
            let with: Vec<(u32, [u32; 2])> =
                (0u32..).zip(sides).filter(|(_, v)| *v != NO_SIDE).collect();
            let mut table: Slots<SideSlot> = Slots::zeroed(slots_for(with.len()));
            let slots = table.as_mut_slice();
            let mask = slots.len().wrapping_sub(1);
            for (id, side) in with {
                let mut i = side_home(id, mask);
                while let Some(s) = slots.get_mut(i) {
                    if s.id1 == 0 {
                        *s = SideSlot {
                            id1: id + 1,
                            side,
                            pad: 0,
                        };
                        break;
                    }
                    i = (i + 1) & mask;
                }
            }
            self.side_slots = table;
        }
        self.bytes.shrink_to_fit();
    }

    /// The side values of `id`, a string whose slot has [`HAS_SIDE`]: from
    /// the per-id array while building, from the side table once frozen.
    #[inline(always)]
    fn side_of(&self, id: u32) -> [u32; 2] {
        if let Some(v) = self.sides.get(id as usize) {
            return *v;
        }
        let slots = self.side_slots.as_slice();
        let mask = slots.len().wrapping_sub(1);
        let mut i = side_home(id, mask);
        loop {
            match slots.get(i) {
                Some(s) if s.id1 == id.wrapping_add(1) => return s.side,
                Some(s) if s.id1 != 0 => i = (i + 1) & mask,
                _ => return NO_SIDE,
            }
        }
    }

    /// Heap bytes held (capacity, not length).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.bytes()
            + self.hashes.capacity() * size_of::<u64>()
            + self.sides.capacity() * size_of::<[u32; 2]>()
            + self.side_slots.bytes()
            + self.bytes.capacity()
    }

    /// Puts `e` (its spill flag cleared) in the first empty slot from its
    /// home line, flagging that line if the slot is past it.
    fn place(slots: &mut [NameSlot], hash: u64, mut e: NameSlot) {
        e.id &= !NAME_SPILL;
        place(slots, home(hash, slots.len()), e);
    }

    fn rehash(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, Slots::zeroed(n));
        let new = self.slots.as_mut_slice();
        for e in old.as_slice().iter().filter(|e| e.w[0] != 0) {
            if let Some(&h) = self.hashes.get((e.id & MAX_ID) as usize) {
                Self::place(new, h, *e);
            }
        }
    }

    /// Interns `s` (one probe, whether or not it is new) and lowers its
    /// side value `which` (0 or 1) to at most `d`, marking its slot as
    /// having side values; returns its id and hash, or `None` as
    /// [`intern`](Self::intern).
    pub(crate) fn intern_side(
        &mut self,
        key: &HashKey,
        s: &(impl AsRef<[u8]> + ?Sized),
        which: usize,
        d: u32,
        role: bool,
    ) -> Option<(u32, u64)> {
        let (id, h, at) = self.intern_at(key, s.as_ref(), role)?;
        if let Some(slot) = self.slots.as_mut_slice().get_mut(at) {
            slot.id |= HAS_SIDE;
            self.any_side = true;
        }
        if let Some(v) = self
            .sides
            .get_mut(id as usize)
            .and_then(|v| v.get_mut(which))
        {
            *v = (*v).min(d);
        }
        Some((id, h))
    }

    /// The id and hash of `s`, added if new; `None` if the ids ran out
    /// (more than 2^29 - 1 strings) or the table is frozen.
    pub(crate) fn intern(
        &mut self,
        key: &HashKey,
        s: &(impl AsRef<[u8]> + ?Sized),
    ) -> Option<(u32, u64)> {
        self.intern_object(key, s, false)
    }

    /// [`intern`](Self::intern) for an object; on a role list (`role`) the
    /// slot is also flagged [`ROLE_OK`] if `s` is a valid role.
    pub(crate) fn intern_object(
        &mut self,
        key: &HashKey,
        s: &(impl AsRef<[u8]> + ?Sized),
        role: bool,
    ) -> Option<(u32, u64)> {
        self.intern_at(key, s.as_ref(), role)
            .map(|(id, h, _)| (id, h))
    }

    /// [`intern`](Self::intern), and the index of the string's slot;
    /// `role`: flag the slot [`ROLE_OK`] if `s` is a valid role.
    fn intern_at(&mut self, key: &HashKey, s: &[u8], role: bool) -> Option<(u32, u64, usize)> {
        let (id, h, at) = self.intern_slot(key, s)?;
        if role
            && let Some(slot) = self.slots.as_mut_slice().get_mut(at)
            && slot.id & ROLE_OK == 0
            && std::str::from_utf8(s).is_ok_and(super::decision::valid_role)
        {
            slot.id |= ROLE_OK;
        }
        Some((id, h, at))
    }

    /// [`intern_at`](Self::intern_at) without the role flag.
    fn intern_slot(&mut self, key: &HashKey, s: &[u8]) -> Option<(u32, u64, usize)> {
        let h = key.hash(s).hash;
        let (mut w, tail) = name_key(s, h);
        // Room first, so the probe below also finds where a new string
        // goes (no second probe).
        if (self.len + 1).saturating_mul(4) > self.slots.as_slice().len().saturating_mul(3) {
            if self.hashes.len() != self.len {
                return None;
            }
            self.rehash(name_slots_for(self.len + 1));
        }
        let long = s.len() > INLINE;
        let slots = self.slots.as_slice();
        let mask = slots.len().wrapping_sub(1);
        let first = home(h, slots.len());
        let mut i = first;
        // To the first empty slot (no early stop at the home line): that
        // is where a new string goes.
        loop {
            let e = slots.get(i)?;
            if e.w[0] == 0 {
                break;
            }
            let hit = if long {
                e.w[0] == LONG_KEY && e.w[1] == h && e.tail == tail && self.same_long(e.w[2], s)
            } else {
                e.w == w && e.tail == tail
            };
            if hit {
                return Some((e.id & MAX_ID, h, i));
            }
            i = (i + 1) & mask;
        }
        let id = u32::try_from(self.len).ok().filter(|&id| id < MAX_ID)?;
        if self.hashes.len() != self.len {
            return None;
        }
        if long {
            w[2] = self.bytes.len() as u64;
            self.bytes.extend_from_slice(s);
            self.bytes.push(END);
        }
        self.hashes.push(h);
        self.sides.push(NO_SIDE);
        self.len += 1;
        let slots = self.slots.as_mut_slice();
        *slots.get_mut(i)? = NameSlot { w, tail, id };
        flag_spill(slots, i, first);
        Some((id, h, i))
    }

    /// Prefetches the lines a look-up of `hashed` reads first
    /// ([`prefetch_home`]).
    #[inline(always)]
    pub(crate) fn touch(&self, hashed: &Hashed) {
        prefetch_home(self.slots.as_slice(), hashed.hash);
    }

    /// The id and side values of `s` (UTF-8: a `str`'s bytes), hashed as
    /// `hashed` with this table's key.
    #[inline(always)]
    pub(crate) fn find(&self, s: &[u8], hashed: &Hashed) -> Option<(u32, [u32; 2])> {
        self.find_role(s, hashed).map(|(id, side, _)| (id, side))
    }

    /// [`find`](Self::find), and whether the string is flagged a valid
    /// role ([`intern_object`](Self::intern_object)).
    #[inline(always)]
    pub(crate) fn find_role(&self, s: &[u8], hashed: &Hashed) -> Option<(u32, [u32; 2], bool)> {
        let (w, tail) = name_key(s, hashed.hash);
        let e = self.find_keyed(s, hashed.hash, w, tail)?;
        let l = Look {
            found: true,
            word: e.id,
        };
        Some((l.id(), self.side_values(l), l.role_ok()))
    }

    /// [`find_role`](Self::find_role) as values rather than control flow,
    /// for a decision that must not branch on what memory returns: a
    /// mispredicted branch waiting on a slot that missed the cache throws
    /// away the following requests' loads, which an out-of-order core
    /// would otherwise have in flight already. A string of up to
    /// [`INLINE`] bytes is compared against both slots of its home line
    /// at once; the loop of [`find_keyed`](Self::find_keyed) runs only for
    /// a long string, or when the string may lie past its home line (it
    /// is not there and the line spilled).
    #[inline(always)]
    pub(crate) fn look(&self, s: &[u8], hashed: &Hashed) -> Look {
        let h = hashed.hash;
        let (w, tail) = name_key(s, h);
        if s.len() <= INLINE
            && let Some(line) = home_line(self.slots.as_slice(), h)
        {
            let mut word = 0u32;
            let mut any = 0u32;
            for e in line {
                let diff = (e.w[0] ^ w[0]) | (e.w[1] ^ w[1]) | (e.w[2] ^ w[2]);
                let hit = (diff | u64::from(e.tail ^ tail)) == 0;
                let m = 0u32.wrapping_sub(u32::from(hit));
                word |= e.id & m;
                any |= m;
            }
            // An empty slot never matches: a short key's first word is
            // never 0 (its first byte would be 0xFE) nor [`LONG_KEY`].
            if (any != 0) | (line[0].id & NAME_SPILL == 0) {
                return Look {
                    found: any != 0,
                    word: word & !NAME_SPILL,
                };
            }
        }
        match self.find_keyed(s, h, w, tail) {
            Some(e) => Look {
                found: true,
                word: e.id & !NAME_SPILL,
            },
            None => Look::NONE,
        }
    }

    /// The side values of a string [`look`](Self::look) found with
    /// [`Look::has_side`].
    #[inline(always)]
    pub(crate) fn side_values(&self, l: Look) -> [u32; 2] {
        if l.has_side() {
            self.side_of(l.id())
        } else {
            NO_SIDE
        }
    }

    /// The slot of `s`, hashed to `h`, whose slot words ([`name_key`])
    /// are `w` and `tail`.
    #[inline(always)]
    fn find_keyed(&self, s: &[u8], h: u64, w: [u64; 3], tail: u32) -> Option<&NameSlot> {
        let slots = self.slots.as_slice();
        let mask = slots.len().wrapping_sub(1);
        let first = home(h, slots.len());
        let mut i = first;
        let mut step = 0;
        let long = s.len() > INLINE;
        loop {
            // Past the home line, and nothing homed there spilled: not
            // here (checked before the next line is read).
            if step == PER_LINE && slots.get(first).is_none_or(|f| f.id & NAME_SPILL == 0) {
                return None;
            }
            step += 1;
            // Load factor < 1: an empty slot ends every probe; an empty
            // table has no slot 0.
            let e = slots.get(i)?;
            if e.w[0] == 0 {
                return None;
            }
            let hit = if long {
                e.w[0] == LONG_KEY && e.w[1] == h && e.tail == tail && self.same_long(e.w[2], s)
            } else {
                e.w == w && e.tail == tail
            };
            if hit {
                return Some(e);
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether the long string at `start` in the arena is `s`: its bytes,
    /// then [`END`] where `s` ends.
    #[inline(never)]
    fn same_long(&self, start: u64, s: &[u8]) -> bool {
        let Ok(start) = usize::try_from(start) else {
            return false;
        };
        let end = start.saturating_add(s.len());
        self.bytes.get(start..end) == Some(s) && self.bytes.get(end) == Some(&END)
    }
}

/// (id, id) → a rule position `u32` and a copy of that rule (`[u32; 4]`:
/// the caller's encoding), keeping the first inserted. A pair's slot
/// comes from [`HashKey::pair_hash`] of its two strings' hashes, so a
/// decision can read it before the string probes return the ids.
#[derive(Debug, Clone)]
pub(crate) struct PairTable {
    slots: Slots<PairSlot>,
    len: usize,
}

/// 32 bytes, 32-aligned: one slot never straddles two cache lines.
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(32))]
struct PairSlot {
    /// The pair XORed with [`NO_PAIR`] (0: empty).
    key: u64,
    /// Low half of the pair hash (for growing); its bit 0, which never
    /// picks a line, is [`PAIR_SPILL`].
    hash: u32,
    val: u32,
    extra: [u32; 4],
}

impl LineSlot for PairSlot {
    fn is_empty(&self) -> bool {
        self.key == 0
    }

    fn set_spill(&mut self) {
        self.hash |= PAIR_SPILL;
    }
}

/// No pair has this key: ids stay below `u32::MAX - 1`. Slots store a
/// key XORed with it, so an all-zero slot is the empty one.
const NO_PAIR: u64 = u64::MAX;
/// In `hash` of a line's first slot: a pair homed at this line sits
/// beyond it (as [`NAME_SPILL`]).
const PAIR_SPILL: u32 = 1;

#[inline(always)]
pub(super) fn pair(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl PairTable {
    pub(crate) fn new() -> Self {
        Self {
            slots: Slots::new(),
            len: 0,
        }
    }

    /// Room for about `n` pairs without growing.
    pub(super) fn reserve(&mut self, n: usize) {
        let want = slots_for(self.len.saturating_add(n));
        if want > self.slots.as_slice().len() {
            self.rehash(want);
        }
    }

    /// Ends building: gives back what [`reserve`](Self::reserve)
    /// over-estimated, and maps a large table.
    pub(super) fn freeze(&mut self) {
        let want = slots_for(self.len);
        if want < self.slots.as_slice().len() {
            self.rehash(want);
        }
    }

    fn rehash(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, Slots::zeroed(n));
        let new = self.slots.as_mut_slice();
        for p in old.as_slice().iter().filter(|p| !p.is_empty()) {
            let mut p = *p;
            p.hash &= !PAIR_SPILL;
            place(new, home(u64::from(p.hash), n), p);
        }
    }

    /// Sets `k` (slot hash `h`) to `v` and `extra` unless `k` is there
    /// already (rules are inserted in order, so the first value is the
    /// smallest).
    pub(crate) fn insert_first(&mut self, h: u64, k: u64, v: u32, extra: [u32; 4]) {
        if (self.len + 1) * 2 > self.slots.as_slice().len() {
            self.rehash(slots_for(self.len + 1));
        }
        let slots = self.slots.as_mut_slice();
        let mask = slots.len() - 1;
        let first = home(h, slots.len());
        let mut i = first;
        let k = k ^ NO_PAIR;
        while let Some(s) = slots.get_mut(i) {
            if s.key == k {
                return;
            }
            if s.key == 0 {
                *s = PairSlot {
                    key: k,
                    hash: h as u32 & !PAIR_SPILL,
                    val: v,
                    extra,
                };
                flag_spill(slots, i, first);
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held (capacity, not length), or mapped.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.bytes()
    }

    /// Prefetches the lines a look-up of slot hash `h` reads first
    /// ([`prefetch_home`]).
    #[inline(always)]
    pub(crate) fn touch(&self, h: u64) {
        prefetch_home(self.slots.as_slice(), h);
    }

    /// The value of `k`, whose slot hash is `h`.
    #[inline(always)]
    pub(crate) fn get(&self, h: u64, k: u64) -> Option<u32> {
        self.get_with(h, k).map(|(v, _)| v)
    }

    /// [`get_with`](Self::get_with) as values rather than control flow
    /// (see [`NameTable::look`]): whether the pair is here, its rule
    /// position and its rule (meaningless when it is not: use them only
    /// with the flag).
    #[inline(always)]
    pub(crate) fn look(&self, h: u64, k: u64) -> (bool, u32, [u32; 4]) {
        if let Some(line) = home_line(self.slots.as_slice(), h) {
            // Never 0 (ids stay below 2^29), so never an empty slot's key.
            let want = k ^ NO_PAIR;
            let hits = u32::from(line[0].key == want) | (u32::from(line[1].key == want) << 1);
            if (hits != 0) | (line[0].hash & PAIR_SPILL == 0) {
                // The matching slot's values, or the first's (then
                // unused): picked by a mask, not by a branch.
                let [a, b] = line;
                let m = 0u32.wrapping_sub(hits >> 1);
                let pick = |x: u32, y: u32| (x & !m) | (y & m);
                let mut extra = a.extra;
                for (x, y) in extra.iter_mut().zip(b.extra) {
                    *x = pick(*x, y);
                }
                return (hits != 0, pick(a.val, b.val), extra);
            }
        }
        match self.get_with(h, k) {
            Some((v, e)) => (true, v, e),
            None => (false, 0, [0; 4]),
        }
    }

    /// The value of `k`, whose slot hash is `h`, and its copy of the rule.
    #[inline(always)]
    pub(crate) fn get_with(&self, h: u64, k: u64) -> Option<(u32, [u32; 4])> {
        let slots = self.slots.as_slice();
        let mask = slots.len().wrapping_sub(1);
        let first = home(h, slots.len());
        let mut i = first;
        let mut step = 0;
        let k = k ^ NO_PAIR;
        loop {
            // Past the home line, and nothing homed there spilled.
            if step == PER_LINE && slots.get(first).is_none_or(|f| f.hash & PAIR_SPILL == 0) {
                return None;
            }
            step += 1;
            let s = slots.get(i)?;
            if s.key == k {
                return Some((s.val, s.extra));
            }
            if s.key == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`name_key`] as first written: the string copied into a padded
    /// buffer, read back as words.
    fn name_key_by_copy(s: &[u8], hash: u64) -> ([u64; 3], u32) {
        if s.len() > INLINE {
            return ([LONG_KEY, hash, 0], s.len() as u32);
        }
        let mut b = [PAD; 32];
        b[..s.len()].copy_from_slice(s);
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        ([word(0) ^ EMPTY_W0, word(8), word(16)], word(24) as u32)
    }

    #[test]
    fn name_key_matches_the_padded_copy_at_every_length() {
        let text: Vec<u8> = (0u8..40).map(|i| b'a' + i % 26).collect();
        for len in 0..=text.len() {
            for start in 0..3 {
                let Some(s) = text.get(start..start + len) else {
                    continue;
                };
                assert_eq!(name_key(s, 7), name_key_by_copy(s, 7), "length {len}");
            }
        }
    }

    #[test]
    fn line_homed_tables_find_every_key_and_no_other() {
        let key = HashKey::random();
        let mut names = NameTable::new();
        let words: Vec<String> = (0..5000).map(|i| format!("name-{i}")).collect();
        // Grown one string at a time: every rehash re-places and re-flags.
        for w in &words {
            names.intern(&key, w);
        }
        let long: Vec<String> = (0..500).map(|i| format!("{i:040}")).collect();
        for (i, w) in long.iter().enumerate() {
            names.intern_side(&key, w, i % 2, i as u32, false);
        }
        names.freeze();
        for (i, w) in words.iter().enumerate() {
            let h = key.hash(w.as_bytes());
            assert_eq!(
                names.find(w.as_bytes(), &h).map(|(id, _)| id),
                Some(i as u32)
            );
        }
        for i in 0..5000 {
            let w = format!("other-{i}");
            assert_eq!(names.find(w.as_bytes(), &key.hash(w.as_bytes())), None);
            assert_eq!(
                names.look(w.as_bytes(), &key.hash(w.as_bytes())),
                Look::NONE
            );
        }
        // `look` (no branch on the slots) agrees with `find`, found or
        // not, past the home line or in it, for long strings too.
        let mut past_home = 0;
        for w in words
            .iter()
            .chain(&long)
            .map(String::as_str)
            .chain(["other-1", "x"])
        {
            let h = key.hash(w.as_bytes());
            let l = names.look(w.as_bytes(), &h);
            let f = names.find_role(w.as_bytes(), &h);
            assert_eq!(l.found, f.is_some(), "{w}");
            if let Some((id, side, role_ok)) = f {
                assert_eq!(
                    (l.id(), names.side_values(l), l.role_ok()),
                    (id, side, role_ok)
                );
                let slots = names.slots.as_slice();
                let at = home(h.hash, slots.len());
                past_home +=
                    usize::from(slots[at].id & MAX_ID != id && slots[at + 1].id & MAX_ID != id);
            }
        }
        assert!(past_home > 0, "some key lies past its home line");
        let mut pairs = PairTable::new();
        for i in 0..5000u32 {
            pairs.insert_first(key.pair_hash(u64::from(i), 1), pair(i, 1), i, [i; 4]);
        }
        pairs.freeze();
        for i in 0..5000u32 {
            assert_eq!(
                pairs.get(key.pair_hash(u64::from(i), 1), pair(i, 1)),
                Some(i)
            );
            assert_eq!(pairs.get(key.pair_hash(u64::from(i), 2), pair(i, 2)), None);
            for b in [1, 2] {
                let h = key.pair_hash(u64::from(i), b);
                let want = pairs.get_with(h, pair(i, b as u32));
                let (found, val, extra) = pairs.look(h, pair(i, b as u32));
                assert_eq!(found.then_some((val, extra)), want, "pair {i} {b}");
            }
        }
    }
}
