//! Hot rotation: a handle that reloads a credentials file into a new store
//! and swaps it in whole (through [`Reloadable`]), refusing invalid files.

use std::path::{Path, PathBuf};

use super::error::CredentialsError;
use super::file::load;
use super::parse::{Options, parse};
use super::store::{CredentialStore, same_secret};
use crate::audit::{AuditEvent, AuditSink, Event};
use crate::{Principal, Reloadable, Snapshot};

/// What a successful reload changed. Names principals, never secrets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReloadReport {
    generation: u64,
    added: Vec<Principal>,
    removed: Vec<Principal>,
    rotated: Vec<Principal>,
    warnings: usize,
}

impl ReloadReport {
    /// The generation now being served.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Principals that are new, sorted.
    pub fn added(&self) -> &[Principal] {
        &self.added
    }

    /// Principals that are gone, sorted.
    pub fn removed(&self) -> &[Principal] {
        &self.removed
    }

    /// Principals whose secret (or its stored form) changed, sorted.
    pub fn rotated(&self) -> &[Principal] {
        &self.rotated
    }

    /// How many lenient-mode warnings the new file raised.
    pub fn warnings(&self) -> usize {
        self.warnings
    }

    /// Whether nothing changed.
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.rotated.is_empty()
    }
}

/// The audit record of one reload attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReloadEvent {
    /// The new store is being served.
    Reloaded {
        /// Where it came from (`-` when not from a file).
        source: String,
        /// What changed.
        #[serde(flatten)]
        report: ReloadReport,
    },
    /// The new file was refused; the old store keeps serving.
    Refused {
        /// Where it came from.
        source: String,
        /// The generation still being served.
        generation: u64,
        /// Why (no secrets in it).
        reason: String,
    },
}

impl Event for ReloadEvent {
    fn component(&self) -> &'static str {
        "credentials"
    }

    fn to_json(&self) -> serde_json::Value {
        crate::audit::json_of(self)
    }

    fn to_audit_event(&self) -> AuditEvent {
        AuditEvent::new(self.clone())
    }
}

/// Lists what changed between two stores.
pub fn diff(old: &CredentialStore, new: &CredentialStore, generation: u64) -> ReloadReport {
    let mut added = Vec::new();
    let mut rotated = Vec::new();
    for c in new.iter() {
        match old.get(c.principal().as_str()) {
            None => added.push(c.principal().clone()),
            Some(o) if !same_secret(o.secret(), c.secret()) => rotated.push(c.principal().clone()),
            Some(_) => {}
        }
    }
    let mut removed: Vec<Principal> = old
        .iter()
        .filter(|c| new.get(c.principal().as_str()).is_none())
        .map(|c| c.principal().clone())
        .collect();
    added.sort();
    removed.sort();
    rotated.sort();
    ReloadReport {
        generation,
        added,
        removed,
        rotated,
        warnings: 0,
    }
}

/// A credentials file being served, reloadable while readers use it.
///
/// `Send + Sync`: share it behind an `Arc`. Readers call
/// [`snapshot`](Self::snapshot) and keep the store they got for as long as
/// they need it; a reload never changes a store under them.
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// use mesos_auth::audit::MemorySink;
/// use mesos_auth::credentials::{CredentialsHandle, Options};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("credentials");
/// let one = r#"{"credentials": [{"principal": "alice", "secret": "q7Vn-2xLw-Rb8k-3pZt"}]}"#;
/// std::fs::write(&path, one)?;
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
///
/// let handle = CredentialsHandle::open(&path, Options::new())?;
/// assert!(handle.snapshot().verify_password("alice", b"q7Vn-2xLw-Rb8k-3pZt"));
///
/// // The operator adds a principal; the reload reports what changed.
/// std::fs::write(&path, r#"{"credentials": [
///     {"principal": "alice", "secret": "q7Vn-2xLw-Rb8k-3pZt"},
///     {"principal": "bob", "secret": "Hs9d-kW2q-00xV-7LmN"}
/// ]}"#)?;
/// let audit = MemorySink::new();
/// let report = handle.reload_audited(&audit)?;
/// assert_eq!(report.added().len(), 1);
/// assert_eq!(audit.take().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CredentialsHandle {
    path: Option<PathBuf>,
    options: Options,
    store: Reloadable<CredentialStore>,
}

impl CredentialsHandle {
    /// Loads `path` and serves it as generation 0.
    ///
    /// # Errors
    ///
    /// As [`load`](super::load).
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<Self, CredentialsError> {
        let path = path.as_ref().to_path_buf();
        let store = load(&path, &options)?.into_store()?;
        Ok(Self {
            path: Some(path),
            options,
            store: Reloadable::new(store),
        })
    }

    /// Serves `store`; [`reload`](Self::reload) is then unavailable, use
    /// [`reload_from_bytes`](Self::reload_from_bytes).
    pub fn from_store(store: CredentialStore, options: Options) -> Self {
        Self {
            path: None,
            options,
            store: Reloadable::new(store),
        }
    }

    /// The store being served now.
    pub fn snapshot(&self) -> Snapshot<CredentialStore> {
        self.store.snapshot()
    }

    /// The underlying reload cell.
    pub fn reloadable(&self) -> &Reloadable<CredentialStore> {
        &self.store
    }

    /// The file being served, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Re-reads the file and swaps the new store in; an invalid file is
    /// refused and the old store keeps serving.
    ///
    /// # Errors
    ///
    /// As [`load`](super::load); also [`CredentialsError::Io`] if the handle
    /// was not made from a file.
    pub fn reload(&self) -> Result<ReloadReport, CredentialsError> {
        let Some(path) = &self.path else {
            return Err(CredentialsError::Io {
                path: PathBuf::from("-"),
                message: "this handle was not opened from a file".to_owned(),
            });
        };
        self.swap(|| load(path, &self.options))
    }

    /// Parses `bytes` with the handle's options and swaps the new store in.
    ///
    /// # Errors
    ///
    /// As [`parse`](super::parse).
    pub fn reload_from_bytes(&self, bytes: &[u8]) -> Result<ReloadReport, CredentialsError> {
        self.swap(|| parse(bytes, &self.options))
    }

    /// [`reload`](Self::reload), recording the outcome in `sink`.
    ///
    /// # Errors
    ///
    /// As [`reload`](Self::reload).
    pub fn reload_audited(&self, sink: &dyn AuditSink) -> Result<ReloadReport, CredentialsError> {
        let result = self.reload();
        sink.record(&self.event(&result));
        result
    }

    /// The audit record for a reload result.
    pub fn event(&self, result: &Result<ReloadReport, CredentialsError>) -> ReloadEvent {
        let source = self
            .path
            .as_ref()
            .map_or_else(|| "-".to_owned(), |p| p.display().to_string());
        match result {
            Ok(report) => ReloadEvent::Reloaded {
                source,
                report: report.clone(),
            },
            Err(e) => ReloadEvent::Refused {
                source,
                generation: self.store.generation(),
                reason: e.to_string(),
            },
        }
    }

    fn swap(
        &self,
        read: impl FnOnce() -> Result<super::CredentialsFile, CredentialsError>,
    ) -> Result<ReloadReport, CredentialsError> {
        let mut report = None;
        let generation = self.store.try_reload(|old| {
            let file = read()?;
            let warnings = file.warnings().len();
            let new = file.into_store()?;
            let mut r = diff(old, &new, 0);
            r.warnings = warnings;
            report = Some(r);
            Ok::<_, CredentialsError>(new)
        })?;
        let mut report = report.unwrap_or_else(|| diff_empty(generation));
        report.generation = generation;
        Ok(report)
    }
}

// `try_reload` succeeded, so the closure ran and set the report; this only
// keeps the code free of `expect`.
fn diff_empty(generation: u64) -> ReloadReport {
    ReloadReport {
        generation,
        added: Vec::new(),
        removed: Vec::new(),
        rotated: Vec::new(),
        warnings: 0,
    }
}
