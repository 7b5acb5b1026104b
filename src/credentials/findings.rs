//! Findings for `credentials check`: things that load fine but deserve an
//! operator's attention.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher as _;

use super::parse::CredentialsFile;
use super::store::StoredSecret;
use crate::{Location, Principal};

/// Secrets shorter than this are reported as short.
pub const MIN_SECRET_LEN: usize = 16;

/// Well-known passwords and Mesos documentation examples.
const COMMON: &[&str] = &[
    "password",
    "secret",
    "secret1",
    "secret2",
    "changeme",
    "admin",
    "root",
    "mesos",
    "123456",
    "12345678",
    "qwerty",
    "letmein",
    "test-secret",
    "kitesurf",
    "default",
];

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    principal: Principal,
    location: Location,
    kind: FindingKind,
}

impl Finding {
    /// The credential.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Where the credential is.
    pub fn location(&self) -> Location {
        self.location
    }

    /// What was found.
    pub fn kind(&self) -> &FindingKind {
        &self.kind
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: `{}`: {}", self.location, self.principal, self.kind)
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FindingKind {
    /// The secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("the secret is only {len} bytes long (at least {MIN_SECRET_LEN} recommended)")]
    ShortSecret {
        /// Its length.
        len: usize,
    },
    /// The secret is a well-known password, the principal's name, or one
    /// repeated character.
    #[error("the secret is easy to guess")]
    WeakSecret,
    /// Several principals share one secret.
    #[error("the secret is shared with another principal")]
    SharedSecret,
    /// The principal appears more than once (lenient mode only; strict mode
    /// refuses the file).
    #[error("the principal appears more than once; the last entry wins")]
    DuplicatePrincipal,
    /// The secret is empty or missing (lenient mode only).
    #[error("the secret is empty: this principal can never authenticate")]
    EmptySecret,
    /// The principal holds `:`, so Mesos's HTTP Basic can never accept it.
    #[error("the principal holds `:`, which HTTP Basic cannot carry")]
    ColonInPrincipal,
    /// SCRAM keys with fewer than 4,096 PBKDF2 iterations.
    #[error("SCRAM-SHA-256 with only {iterations} iterations (at least 4096 recommended)")]
    FewScramIterations {
        /// The count.
        iterations: u32,
    },
}

/// Looks over a parsed file.
pub fn findings(file: &CredentialsFile) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen: HashSet<&Principal> = HashSet::new();
    // Secrets grouped by a randomly keyed hash, so finding shared ones is
    // linear (1,000,000 principals); equal hashes are then compared whole.
    let keys = std::collections::hash_map::RandomState::new();
    let mut secrets: HashMap<u64, Vec<(&Principal, &crate::Secret)>> = HashMap::new();
    for e in file.entries() {
        let c = e.credential();
        let principal = c.principal();
        let mut push = |kind| {
            out.push(Finding {
                principal: principal.clone(),
                location: e.location(),
                kind,
            });
        };
        if !seen.insert(principal) {
            push(FindingKind::DuplicatePrincipal);
        }
        if principal.as_str().contains(':') {
            push(FindingKind::ColonInPrincipal);
        }
        match c.secret() {
            StoredSecret::Plain(s) => {
                let bytes = s.expose();
                if bytes.is_empty() {
                    push(FindingKind::EmptySecret);
                    continue;
                }
                if bytes.len() < MIN_SECRET_LEN {
                    push(FindingKind::ShortSecret { len: bytes.len() });
                }
                let lower = bytes.to_ascii_lowercase();
                let weak = COMMON.iter().any(|w| w.as_bytes() == lower.as_slice())
                    || bytes == principal.as_str().as_bytes()
                    || bytes.iter().all(|b| Some(b) == bytes.first());
                let mut lower = lower;
                zeroize::Zeroize::zeroize(&mut lower);
                if weak {
                    push(FindingKind::WeakSecret);
                }
                let same_hash = secrets.entry(keys.hash_one(bytes)).or_default();
                if same_hash
                    .iter()
                    .any(|(p, other)| *p != principal && other.verify(bytes))
                {
                    push(FindingKind::SharedSecret);
                }
                same_hash.push((principal, s));
            }
            StoredSecret::ScramSha256(k)
                if k.iterations() < super::format::MIN_SCRAM_ITERATIONS =>
            {
                push(FindingKind::FewScramIterations {
                    iterations: k.iterations(),
                });
            }
            _ => {}
        }
    }
    out
}
