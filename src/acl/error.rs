//! Errors and warnings of the ACL component.

use std::fmt;

use crate::span::Location;

/// One problem found in an ACL file: where (JSON path and line:column) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub(crate) path: String,
    pub(crate) location: Location,
    pub(crate) message: String,
}

impl Diagnostic {
    pub(crate) fn new(
        path: impl fmt::Display,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.to_string(),
            location,
            message: message.into(),
        }
    }

    /// The JSON path of the offending value, like `$.run_tasks[2].users`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Line and column of the offending value.
    pub fn location(&self) -> Location {
        self.location
    }

    /// What is wrong, in lowercase words.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.path, self.message)
    }
}

/// Which limit a policy ran into (threats.md §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// Bytes of ACL text.
    FileBytes,
    /// ACLs across all lists.
    Rules,
    /// Values in one entity.
    ValuesPerEntity,
    /// Bytes in one value.
    StringBytes,
    /// (principal, object) pairs the compiled index would hold.
    IndexEntries,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::FileBytes => "bytes of ACL text",
            LimitKind::Rules => "ACLs",
            LimitKind::ValuesPerEntity => "values in one entity",
            LimitKind::StringBytes => "bytes in one value",
            LimitKind::IndexEntries => "(principal, object) index entries",
        })
    }
}

/// A policy over one of the configured limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    pub(crate) kind: LimitKind,
    pub(crate) limit: usize,
    pub(crate) found: usize,
    pub(crate) path: String,
    pub(crate) location: Location,
}

impl LimitError {
    /// Which limit.
    pub fn kind(&self) -> LimitKind {
        self.kind
    }

    /// The configured limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// What the policy has (at least; counting stops at the first excess).
    pub fn found(&self) -> usize {
        self.found
    }

    /// JSON path of the value that went over.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where in the text.
    pub fn location(&self) -> Location {
        self.location
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} {} is more than the limit of {}",
            self.location, self.path, self.found, self.kind, self.limit
        )
    }
}

/// Why an ACL policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AclError {
    /// The text is not a valid ACL policy; every problem found is listed.
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
    /// The policy is over a limit.
    #[error("{0}")]
    Limit(LimitError),
    /// The file could not be read.
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's reason.
        message: String,
    },
    /// [`AclHandle::reload`](super::AclHandle::reload) on a policy that was
    /// not loaded from a file.
    #[error("this policy was not loaded from a file")]
    NotFromFile,
}

impl AclError {
    /// The individual problems (one for a limit or I/O error).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            AclError::Invalid(d) => d.clone(),
            AclError::Limit(l) => vec![Diagnostic::new(&l.path, l.location, l.to_string())],
            AclError::Io { path, message } => vec![Diagnostic::new(
                path,
                Location { line: 0, column: 0 },
                message.clone(),
            )],
            AclError::NotFromFile => vec![Diagnostic::new(
                "$",
                Location { line: 0, column: 0 },
                self.to_string(),
            )],
        }
    }
}

fn join(d: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, x) in d.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&x.to_string());
    }
    out
}
