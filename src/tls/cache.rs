//! An optional cache of mapping outcomes: the outcome depends only on the
//! certificate bytes and the compiled rules.
//!
//! Keyed by a keyed hash of the DER, not by its SHA-256 (which costs more
//! than the rest of a hit): SipHash-1-3 under a random 128-bit key drawn per
//! cache, over the DER's length and its last 64 bytes. Those end the
//! certificate's signature, which the issuing CA computed over everything
//! before it, so distinct verified certificates differ there; the random
//! key keeps anyone from choosing certificates that crowd one bucket. The
//! hash only finds the entry: a hit also compares the stored DER with the
//! presented one byte for byte, so a collision, chosen or by chance, is a
//! miss (the entry is replaced) and can never return another
//! certificate's outcome.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use rand_core::{OsRng, RngCore};

use crate::audit::AuditSink;
use crate::principal::Principal;
use crate::siphash::siphash13_64;

use super::error::Rejection;
use super::event::MappingEvent;
use super::mapper::{Mapped, Mapper};
use super::verified::VerifiedLeaf;

#[derive(Debug)]
struct Outcome {
    result: Result<Mapped, Rejection>,
    event: MappingEvent,
}

/// A cached outcome and the certificate it belongs to.
#[derive(Debug)]
struct Entry {
    der: Box<[u8]>,
    outcome: Arc<Outcome>,
}

/// How many bytes at the end of the DER (the signature's) feed the hash.
const HASHED_TAIL: usize = 64;

/// The map's own hasher passes the already keyed 64-bit hash through (a
/// second SipHash would only cost time).
#[derive(Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Entries = HashMap<u64, Entry, BuildHasherDefault<PassThrough>>;

/// A random 128-bit key from the operating system; if it cannot be read,
/// std's per-process random hash keys (the hash then still spreads
/// entries; the byte comparison keeps correctness either way).
fn random_key() -> [u64; 2] {
    let mut bytes = [0u8; 16];
    if OsRng.try_fill_bytes(&mut bytes).is_ok() {
        let (a, b) = bytes.split_at(8);
        let word = |s: &[u8]| u64::from_le_bytes(<[u8; 8]>::try_from(s).unwrap_or_default());
        return [word(a), word(b)];
    }
    use std::hash::BuildHasher as _;
    let state = std::collections::hash_map::RandomState::new();
    [state.hash_one(1u8), state.hash_one(2u8)]
}

/// A [`Mapper`] with a bounded outcome cache. One cache belongs to one
/// compiled mapper: on reload, build a new `CachedMapper` (a stale outcome
/// can never outlive its rules).
#[derive(Debug)]
pub struct CachedMapper {
    mapper: Arc<Mapper>,
    capacity: usize,
    key: [u64; 2],
    entries: Mutex<Entries>,
}

impl CachedMapper {
    /// A cache of at most `capacity` outcomes in front of `mapper`. When it
    /// is full it is emptied (a simple bound, no ordering to keep).
    ///
    /// Entries are found by a keyed hash of the certificate (a random key
    /// per cache) and confirmed by comparing the whole DER, so two
    /// certificates can never share an outcome.
    pub fn new(mapper: Arc<Mapper>, capacity: usize) -> Self {
        Self {
            mapper,
            capacity,
            key: random_key(),
            entries: Mutex::new(Entries::default()),
        }
    }

    /// The mapper behind the cache.
    pub fn mapper(&self) -> &Arc<Mapper> {
        &self.mapper
    }

    /// How many outcomes are cached.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The bucket hash of `der`: its length and its last bytes.
    fn bucket(&self, der: &[u8]) -> u64 {
        let tail = der
            .get(der.len().saturating_sub(HASHED_TAIL)..)
            .unwrap_or(der);
        let mut input = [0u8; 8 + HASHED_TAIL];
        let (len, rest) = input.split_at_mut(8);
        len.copy_from_slice(&(der.len() as u64).to_le_bytes());
        if let Some(dst) = rest.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        siphash13_64(&self.key, input.get(..8 + tail.len()).unwrap_or(&input))
    }

    fn outcome(&self, leaf: &VerifiedLeaf) -> Arc<Outcome> {
        let der = leaf.der().as_ref();
        let bucket = self.bucket(der);
        if let Some(hit) = self.lock().get(&bucket)
            && *hit.der == *der
        {
            return Arc::clone(&hit.outcome);
        }
        let (facts, result) = self.mapper.explain(leaf);
        let event = MappingEvent::new(leaf.sha256(), facts.as_ref(), &result);
        let outcome = Arc::new(Outcome { result, event });
        if self.capacity > 0 {
            let mut map = self.lock();
            if map.len() >= self.capacity {
                map.clear();
            }
            // A different certificate in the same bucket is replaced.
            map.insert(
                bucket,
                Entry {
                    der: der.into(),
                    outcome: Arc::clone(&outcome),
                },
            );
        }
        outcome
    }

    /// As [`Mapper::map`], answered from the cache when possible.
    ///
    /// # Errors
    ///
    /// As [`Mapper::map`].
    pub fn map(&self, leaf: &VerifiedLeaf) -> Result<Principal, Rejection> {
        match &self.outcome(leaf).result {
            Ok(m) => Ok(m.principal().clone()),
            Err(r) => Err(r.clone()),
        }
    }

    /// As [`Mapper::map_audited`]: every call records an event, hit or miss.
    ///
    /// # Errors
    ///
    /// As [`Mapper::map`].
    pub fn map_audited(
        &self,
        leaf: &VerifiedLeaf,
        sink: &dyn AuditSink,
    ) -> Result<Principal, Rejection> {
        let outcome = self.outcome(leaf);
        sink.record(&outcome.event);
        match &outcome.result {
            Ok(m) => Ok(m.principal().clone()),
            Err(r) => Err(r.clone()),
        }
    }
}
