//! Per-request audit ids.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The id of one request, shared by every event about it (the Kubernetes
/// `auditID`): 128 bits, written as 32 lowercase hex digits.
///
/// Ids are *unique, not secret*: the high 64 bits are drawn from the
/// operating system once per process, the low 64 bits are a counter that
/// starts at an OS-random value and steps by one per id. Making an id costs
/// one atomic add (20 to 100 times cheaper than asking the OS for 16 bytes
/// per id; figures in `docs/audit.md`), and two processes collide only if
/// their 64-bit prefixes do. Never use an id as a token or nonce: the next
/// id of a process is predictable from the last.
///
/// A process that `fork`s without `exec` shares its prefix and counter with
/// the child; such a host should give the child ids of its own
/// ([`AuditId::from_u128`]).
///
/// ```
/// use mesos_auth::audit::AuditId;
///
/// let a = AuditId::new();
/// let b = AuditId::new();
/// assert_ne!(a, b);
/// assert_eq!(a.to_string().len(), 32);
/// assert_eq!(a.to_string().parse::<AuditId>()?, a);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditId {
    // Two halves, not a u128: 8-byte alignment keeps `Option<AuditId>` at
    // 24 bytes in the events that carry one.
    hi: u64,
    lo: u64,
}

/// The process's random prefix and the next counter value.
struct Seed {
    prefix: u64,
    counter: AtomicU64,
}

fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        use rand_core::{OsRng, RngCore};
        let mut bytes = [0u8; 16];
        if OsRng.try_fill_bytes(&mut bytes).is_err() {
            // No OS randomness (very early boot, seccomp): ids must still be
            // unique within the process, which the counter guarantees;
            // time and pid keep processes apart in practice.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes = (nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
        }
        let (hi, lo) = bytes.split_at(8);
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        Seed {
            prefix: word(hi),
            counter: AtomicU64::new(word(lo)),
        }
    })
}

impl AuditId {
    /// A new id, distinct from every other this process made.
    pub fn new() -> Self {
        let s = seed();
        // Relaxed: only uniqueness matters, which fetch_add gives in any
        // ordering.
        let n = s.counter.fetch_add(1, Ordering::Relaxed);
        Self {
            hi: s.prefix,
            lo: n,
        }
    }

    /// An id given by the host (for example one received with a request).
    pub const fn from_u128(v: u128) -> Self {
        Self {
            hi: (v >> 64) as u64,
            lo: v as u64,
        }
    }

    /// The id as a number.
    pub const fn as_u128(self) -> u128 {
        ((self.hi as u128) << 64) | self.lo as u128
    }
}

impl Default for AuditId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for AuditId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:016x}", self.hi, self.lo)
    }
}

impl fmt::Debug for AuditId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditId({self})")
    }
}

/// Why text is not an [`AuditId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an audit id is 32 hex digits")]
pub struct ParseAuditIdError;

impl FromStr for AuditId {
    type Err = ParseAuditIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseAuditIdError);
        }
        u128::from_str_radix(s, 16)
            .map(Self::from_u128)
            .map_err(|_| ParseAuditIdError)
    }
}

impl serde::Serialize for AuditId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
