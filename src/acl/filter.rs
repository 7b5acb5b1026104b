//! A blocked Bloom filter over keyed 64-bit hashes: the compact
//! summary that lets a decision on a large policy skip its table reads
//! when no pair and no single-sided rule can match the request.
//!
//! On a stream of distinct requests, a request that matches no pair
//! still read three table lines from memory (the principal's, the
//! object's and the pair's slot) only to learn that. At twelve bits a
//! key the filter of 1,000,000 pairs is 1.5 MiB, which mostly stays in
//! cache: "absent" then costs one cached word instead of a memory round
//! trip. A filter never says "absent" of a key it holds, so a decision taken
//! on its word is the one the tables would give; "maybe" (every key held,
//! and about 2 % of the others) goes on to the tables.
//!
//! Each key sets four bits of one 64-bit word (a "register-blocked"
//! Bloom filter), so a look-up reads one word and tests it with one
//! mask: a few instructions, where a filter reading one bit in each of
//! eight words cost a decision on a policy in cache more than the table
//! reads it saved (measured, 1,000 ACLs). The keys are the tables' own
//! hashes, keyed per compile with a random key, so no request can be
//! chosen to collide with a policy's entries more often than chance; a
//! collision costs only the table reads it would have skipped.

/// Bits of filter per key: a false-positive rate of about 2 % (`tests`
/// hold it below 3 %).
const BITS_PER_KEY: usize = 12;

/// A set of 64-bit hashes that answers "maybe held" or "surely not".
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    words: Vec<u64>,
}

/// The word `hash` lives in, of `n` (Lemire's multiply-shift on the
/// high half: `n` need not be a power of two, so the filter is sized to
/// its keys).
#[inline(always)]
fn word_of(hash: u64, n: usize) -> usize {
    (((hash >> 32) * n as u64) >> 32) as usize
}

/// The four bits `hash` sets in its word, from its low 24 bits (the word
/// index came from the high half).
#[inline(always)]
fn mask(hash: u64) -> u64 {
    (1u64 << (hash & 63))
        | (1u64 << ((hash >> 6) & 63))
        | (1u64 << ((hash >> 12) & 63))
        | (1u64 << ((hash >> 18) & 63))
}

impl Filter {
    /// A filter holding every key of `keys` (sized to their count, which
    /// may include repeats).
    pub(crate) fn new(keys: &[u64]) -> Self {
        // At least one word: an empty filter answers "not held" to all.
        let n = keys
            .len()
            .saturating_mul(BITS_PER_KEY)
            .div_ceil(64)
            .clamp(1, u32::MAX as usize);
        let mut words = vec![0u64; n];
        for &k in keys {
            if let Some(w) = words.get_mut(word_of(k, n)) {
                *w |= mask(k);
            }
        }
        Self { words }
    }

    /// `false` only if `hash` was never added.
    #[inline(always)]
    pub(crate) fn may_hold(&self, hash: u64) -> bool {
        let m = mask(hash);
        // Past the end cannot happen; "maybe" sends the caller to the
        // tables, the safe answer.
        self.words
            .get(word_of(hash, self.words.len()))
            .is_none_or(|w| w & m == m)
    }

    /// Starts the load of the word [`may_hold`](Self::may_hold) reads.
    #[inline(always)]
    pub(crate) fn touch(&self, hash: u64) {
        if let Some(w) = self.words.get(word_of(hash, self.words.len())) {
            mem_prefetch::prefetch_read_data::<_, 3>(w);
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.words.capacity() * size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-bit mix (splitmix64's finaliser), to make test keys.
    fn mix(mut x: u64) -> u64 {
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    #[test]
    fn holds_every_key_and_few_others() {
        for n in [0usize, 1, 7, 1_000, 100_000] {
            let keys: Vec<u64> = (0..n as u64).map(mix).collect();
            let f = Filter::new(&keys);
            assert!(keys.iter().all(|&k| f.may_hold(k)), "a key of {n} lost");
            let others = 200_000u64;
            let false_pos = (0..others)
                .map(|i| mix(i | 1 << 63))
                .filter(|&k| f.may_hold(k))
                .count();
            let rate = false_pos as f64 / others as f64;
            // Tiny filters are a word or a few: their rate is not the sizing's.
            if n >= 1_000 {
                assert!(rate < 0.03, "{n} keys: false-positive rate {rate}");
            }
            if n == 0 {
                assert_eq!(false_pos, 0, "an empty filter holds nothing");
            }
        }
    }
}
