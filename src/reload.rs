//! Atomic hot reload, shared by every compiled object (credential stores, ACL
//! policies, TLS mappers).
//!
//! A [`Reloadable`] holds one immutable value behind an `ArcSwap`. Readers
//! take a [`Snapshot`] (an `Arc` plus the generation it was published as) and
//! keep using it however long they like; a reload builds a whole new value
//! first and swaps it in with one atomic store, so a reader sees the old value
//! or the new one, never a mix, and a failed build leaves the old value
//! serving.

use std::ops::Deref;
use std::sync::Arc;

use arc_swap::ArcSwap;

/// One published value and its generation.
#[derive(Debug)]
struct Versioned<T> {
    generation: u64,
    value: Arc<T>,
}

/// A value that can be replaced atomically while readers use it.
///
/// `Send + Sync` when `T` is.
///
/// ```
/// use mesos_auth::Reloadable;
///
/// let config = Reloadable::new(String::from("v1"));
/// let reader = config.snapshot(); // kept by a request in flight
///
/// // A rebuild that fails leaves the old value serving.
/// let refused: Result<u64, &str> = config.try_reload(|_| Err("bad file"));
/// assert!(refused.is_err());
/// assert_eq!(config.try_reload(|old| Ok::<_, &str>(format!("{old}+1")))?, 1);
///
/// assert_eq!((&**reader, reader.generation()), ("v1", 0)); // untouched
/// assert_eq!(config.snapshot().as_str(), "v1+1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Reloadable<T> {
    current: ArcSwap<Versioned<T>>,
    // Serializes writers so generations are handed out in publication order.
    writer: std::sync::Mutex<()>,
}

/// A reader's view: one whole value, as published under `generation`.
#[derive(Debug)]
pub struct Snapshot<T> {
    generation: u64,
    value: Arc<T>,
}

impl<T> Clone for Snapshot<T> {
    fn clone(&self) -> Self {
        Self {
            generation: self.generation,
            value: Arc::clone(&self.value),
        }
    }
}

impl<T> Snapshot<T> {
    /// The generation this value was published as: 0 for the initial value,
    /// then one more for each successful reload.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The shared value.
    pub fn arc(&self) -> &Arc<T> {
        &self.value
    }
}

impl<T> Deref for Snapshot<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Reloadable<T> {
    /// Publishes `initial` as generation 0.
    pub fn new(initial: T) -> Self {
        Self {
            current: ArcSwap::from_pointee(Versioned {
                generation: 0,
                value: Arc::new(initial),
            }),
            writer: std::sync::Mutex::new(()),
        }
    }

    /// The value being served now.
    pub fn snapshot(&self) -> Snapshot<T> {
        let v = self.current.load();
        Snapshot {
            generation: v.generation,
            value: Arc::clone(&v.value),
        }
    }

    /// Calls `f` with the value being served now and its generation, without
    /// taking a reference count: cheaper than [`snapshot`](Self::snapshot)
    /// for one short use (a decision), since it does no atomic
    /// read-modify-write on the shared count. Don't block inside `f`: a
    /// reload waits for nothing, but the old value is kept alive until `f`
    /// returns.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(&T, u64) -> R) -> R {
        let v = self.current.load();
        f(&v.value, v.generation)
    }

    /// The generation being served now.
    pub fn generation(&self) -> u64 {
        self.current.load().generation
    }

    /// Publishes `value`, returning its generation.
    pub fn replace(&self, value: T) -> u64 {
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = self.current.load().generation.wrapping_add(1);
        self.current.store(Arc::new(Versioned {
            generation,
            value: Arc::new(value),
        }));
        generation
    }

    /// Builds a new value and publishes it only if the build succeeds; on
    /// error the old value keeps serving and its generation is unchanged.
    ///
    /// `build` gets the value served now, so it can report what changed.
    ///
    /// # Errors
    ///
    /// Whatever `build` returns.
    pub fn try_reload<E>(&self, build: impl FnOnce(&T) -> Result<T, E>) -> Result<u64, E> {
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let old = self.current.load_full();
        let value = build(&old.value)?;
        let generation = old.generation.wrapping_add(1);
        self.current.store(Arc::new(Versioned {
            generation,
            value: Arc::new(value),
        }));
        Ok(generation)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn failed_reload_keeps_the_old_value() {
        let r = Reloadable::new(String::from("a"));
        assert_eq!(r.generation(), 0);
        assert_eq!(r.try_reload(|old| Ok::<_, ()>(format!("{old}b"))), Ok(1));
        assert_eq!(r.try_reload(|_| Err::<String, _>("bad")), Err("bad"));
        let s = r.snapshot();
        assert_eq!((&*s as &str, s.generation()), ("ab", 1));
        assert_eq!(r.replace("c".into()), 2);
        // The earlier snapshot still holds what it saw.
        assert_eq!(&*s as &str, "ab");
        assert_eq!(r.with(|v, g| (v.clone(), g)), (String::from("c"), 2));
    }

    #[test]
    fn readers_see_whole_values_during_reloads() {
        // Each value is a vector whose elements all equal its generation: a
        // torn read would show two different numbers.
        let r = Arc::new(Reloadable::new(vec![0u64; 64]));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let r = Arc::clone(&r);
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let s = r.snapshot();
                        assert!(s.iter().all(|&x| x == s.generation()));
                        // The count-free path sees whole values too.
                        r.with(|v, g| assert!(v.iter().all(|&x| x == g)));
                    }
                })
            })
            .collect();
        for g in 1..=1_000u64 {
            if g % 5 == 0 {
                assert!(r.try_reload(|_| Err::<Vec<u64>, _>(())).is_err());
            }
            let got = r
                .try_reload(|old| Ok::<_, ()>(vec![old[0] + 1; 64]))
                .unwrap();
            assert_eq!(got, g);
        }
        for t in readers {
            t.join().unwrap();
        }
        assert_eq!(r.generation(), 1_000);
    }
}
