//! An optional cache of mapping outcomes keyed by the leaf's SHA-256: the
//! outcome depends only on the certificate bytes and the compiled rules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::audit::AuditSink;
use crate::principal::Principal;

use super::error::Rejection;
use super::event::MappingEvent;
use super::mapper::{Mapped, Mapper};
use super::verified::VerifiedLeaf;

#[derive(Debug)]
struct Outcome {
    result: Result<Mapped, Rejection>,
    event: MappingEvent,
}

/// A [`Mapper`] with a bounded outcome cache. One cache belongs to one
/// compiled mapper: on reload, build a new `CachedMapper` (a stale outcome
/// can never outlive its rules).
#[derive(Debug)]
pub struct CachedMapper {
    mapper: Arc<Mapper>,
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], Arc<Outcome>>>,
}

impl CachedMapper {
    /// A cache of at most `capacity` outcomes in front of `mapper`. When it
    /// is full it is emptied (a simple bound, no ordering to keep).
    pub fn new(mapper: Arc<Mapper>, capacity: usize) -> Self {
        Self {
            mapper,
            capacity,
            entries: Mutex::new(HashMap::new()),
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<Outcome>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn outcome(&self, leaf: &VerifiedLeaf) -> Arc<Outcome> {
        if let Some(hit) = self.lock().get(leaf.sha256()) {
            return Arc::clone(hit);
        }
        let (facts, result) = self.mapper.explain(leaf);
        let event = MappingEvent::new(leaf.sha256(), facts.as_ref(), &result);
        let outcome = Arc::new(Outcome { result, event });
        if self.capacity > 0 {
            let mut map = self.lock();
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(*leaf.sha256(), Arc::clone(&outcome));
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
