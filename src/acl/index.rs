//! The pair table behind [`CompiledAcls`](super::CompiledAcls): (id, id)
//! pairs of interned strings ([`crate::strtable`]), open addressing with
//! linear probing, slots placed by [`HashKey::pair_hash`].
//!
//! Why not `hashbrown::HashTable`, which also takes precomputed hashes:
//! measured side by side on the pair table (benches/hashes.rs, 1,024
//! probes, half hits, the same hashes for both; 3 runs on the shared 2-core
//! machine), this table was faster at 100,000 pairs in every run (5.0-5.3
//! against 6.7-7.8 us, ratio 0.68-0.79) and mixed at 1,000 (ratios 0.79,
//! 1.21, 1.91). Not a win for the crate where the size targets are, so the
//! table stays.

use crate::strtable::slots_for;
pub(crate) use crate::strtable::{HashKey, Hashed, StrTable};

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

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held (capacity, not length).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<PairSlot>()
    }

    /// The value in the first slot a probe for slot hash `h` reads, if
    /// that slot is taken: whatever pair it holds. It costs the load the
    /// probe will make anyway, and lets the caller start the next one.
    #[inline(always)]
    pub(crate) fn first_val(&self, h: u64) -> Option<u32> {
        let s = self
            .slots
            .get(h as usize & self.slots.len().wrapping_sub(1))?;
        (s.key != NO_PAIR).then_some(s.val)
    }

    /// Reads the first slot a probe for slot hash `h` reads (a software
    /// prefetch, as [`StrTable::touch`]).
    #[inline(always)]
    pub(crate) fn touch(&self, h: u64) {
        if let Some(s) = self
            .slots
            .get(h as usize & self.slots.len().wrapping_sub(1))
        {
            std::hint::black_box(s.key);
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
