//! Errors and warnings of the credentials component.
//!
//! No message ever contains a secret: problems with a secret name the
//! principal it belongs to and where it sits, never its bytes.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{Location, PrincipalError, Span};

/// Why credentials could not be loaded, parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The same principal appears twice.
    #[error("duplicate principal `{principal}` (entries {first} and {second})")]
    DuplicatePrincipal {
        /// The principal.
        principal: crate::Principal,
        /// Position (0-based) of the first entry.
        first: usize,
        /// Position (0-based) of the repeated entry.
        second: usize,
    },
    /// The text has one or more problems; all of them are listed.
    #[error(transparent)]
    Parse(ParseErrors),
    /// The file could not be opened or read.
    #[error("cannot read `{}`: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        message: String,
    },
    /// The path names a symbolic link; it is not followed.
    #[error("`{}` is a symbolic link; give the path of the file itself", path.display())]
    Symlink {
        /// The file.
        path: PathBuf,
    },
    /// The path names something other than a regular file.
    #[error("`{}` is not a regular file", path.display())]
    NotRegularFile {
        /// The file.
        path: PathBuf,
    },
    /// Group or others may read or write the file.
    #[error(
        "`{}` has mode {mode:04o}: group or others may access it (run `chmod 600` on it, or opt out explicitly)",
        path.display()
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file belongs to another user.
    #[error(
        "`{}` is owned by uid {owner}, not by this process's uid {user} (or opt out explicitly)",
        path.display()
    )]
    ForeignOwner {
        /// The file.
        path: PathBuf,
        /// The file's owner.
        owner: u32,
        /// The effective user of this process.
        user: u32,
    },
    /// The file is larger than the configured cap.
    #[error("`{}` is {size} bytes long, more than the limit of {limit}", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size according to `fstat`.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// The file changed size while it was being read.
    #[error("`{}` changed while it was being read", path.display())]
    ChangedWhileReading {
        /// The file.
        path: PathBuf,
    },
    /// A stored form could not be produced.
    #[error("cannot convert the secret of `{principal}`: {reason}")]
    Convert {
        /// The credential.
        principal: crate::Principal,
        /// Why not.
        reason: &'static str,
    },
}

impl CredentialsError {
    /// The parse diagnostics, if this is a parse error.
    pub fn parse_errors(&self) -> Option<&ParseErrors> {
        match self {
            Self::Parse(e) => Some(e),
            _ => None,
        }
    }
}

/// One problem found in a credentials text: an error in strict mode, or a
/// tolerated quirk reported as a warning in lenient mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    file: Option<PathBuf>,
    span: Span,
    location: Location,
    principal: Option<String>,
    problem: Problem,
}

impl Diagnostic {
    pub(crate) fn new(
        span: Span,
        location: Location,
        principal: Option<String>,
        problem: Problem,
    ) -> Self {
        Self {
            file: None,
            span,
            location,
            principal,
            problem,
        }
    }

    pub(crate) fn set_file(&mut self, file: &Path) {
        self.file = Some(file.to_path_buf());
    }

    /// The file, when the text came from one.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Byte range of the offending text.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Line and column where the problem starts.
    pub fn location(&self) -> Location {
        self.location
    }

    /// The principal of the credential concerned, when known.
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// What is wrong.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}:", file.display())?;
        }
        write!(f, "{}: {}", self.location, self.problem)?;
        if let Some(p) = &self.principal {
            // Escaped and shortened: the name may be hostile (too long, control
            // characters) when the problem is the name itself.
            let shown: String = p.chars().take(64).flat_map(char::escape_debug).collect();
            let more = if p.chars().nth(64).is_some() {
                "…"
            } else {
                ""
            };
            write!(f, " (principal `{shown}{more}`)")?;
        }
        Ok(())
    }
}

/// Every error found in one text, in source order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseErrors(Vec<Diagnostic>);

impl ParseErrors {
    /// Wraps a non-empty list, `None` if it is empty.
    pub(crate) fn from_vec(mut errors: Vec<Diagnostic>) -> Option<Self> {
        if errors.is_empty() {
            None
        } else {
            errors.sort_by_key(|d| d.span.start);
            Some(Self(errors))
        }
    }

    pub(crate) fn one(d: Diagnostic) -> Self {
        Self(vec![d])
    }

    pub(crate) fn set_file(&mut self, file: &Path) {
        for d in &mut self.0 {
            d.set_file(file);
        }
    }

    /// The errors, in source order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// How many errors there are (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a `ParseErrors` holds at least one error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a ParseErrors {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            d.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseErrors {}

/// What is wrong with a credentials text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The file is empty or holds only whitespace: an error in both modes,
    /// since Mesos exits on a file with no credentials.
    #[error("the file is empty")]
    Empty,
    /// The file lists no credentials.
    #[error("the file lists no credentials")]
    NoCredentials,
    /// The file starts with a UTF-8 byte-order mark.
    #[error("the file starts with a byte-order mark")]
    ByteOrderMark,
    /// The file is not UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// The JSON syntax is wrong.
    #[error("invalid JSON: {0}")]
    Json(&'static str),
    /// A value has the wrong type.
    #[error("`{path}` must be {expected}, found {found}")]
    WrongType {
        /// JSON path of the value.
        path: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A required field is missing (or null).
    #[error("`{path}` lacks the field `{field}`")]
    MissingField {
        /// JSON path of the object.
        path: String,
        /// The field.
        field: &'static str,
    },
    /// A field the format does not know.
    #[error("unknown field `{field}` in `{path}`")]
    UnknownField {
        /// JSON path of the object.
        path: String,
        /// The field's name.
        field: String,
    },
    /// The same key appears twice in one object.
    #[error("duplicate field `{field}` in `{path}` (first at {first})")]
    DuplicateField {
        /// JSON path of the object.
        path: String,
        /// The field's name.
        field: String,
        /// Where it first appears.
        first: Location,
    },
    /// A single object stands where a list is expected.
    #[error("`{path}` is an object, not a list of credentials")]
    ObjectForList {
        /// JSON path of the value.
        path: String,
    },
    /// A value is null.
    #[error("`{path}` is null")]
    Null {
        /// JSON path of the value.
        path: String,
    },
    /// The principal is not a valid name.
    #[error("invalid principal: {0}")]
    InvalidPrincipal(PrincipalError),
    /// The principal appears again.
    #[error("duplicate principal (first at {first})")]
    DuplicatePrincipal {
        /// Where it first appears.
        first: Location,
    },
    /// The credential has no secret.
    #[error("the secret is missing")]
    MissingSecret,
    /// The secret is empty.
    #[error("the secret is empty")]
    EmptySecret,
    /// The secret is longer than [`MAX_SECRET_LEN`](crate::MAX_SECRET_LEN).
    #[error(
        "the secret is {len} bytes long, more than the limit of {}",
        crate::MAX_SECRET_LEN
    )]
    SecretTooLong {
        /// Its length.
        len: usize,
    },
    /// The secret holds a NUL byte (C callers would cut it there).
    #[error("the secret holds a NUL character")]
    NulInSecret,
    /// The secret holds another control character (a CR from a CRLF file, a tab, ...).
    #[error("the secret holds a control character")]
    ControlInSecret,
    /// A stored secret (`{CRAM-MD5}`, `{SCRAM-SHA-256}`) is malformed.
    #[error("malformed `{{{scheme}}}` secret: {reason}")]
    StoredForm {
        /// The scheme.
        scheme: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The secret starts with `{NAME}` for a scheme this library does not know.
    #[error(
        "the secret starts with an unknown `{{SCHEME}}` prefix (write `{{PLAIN}}` before a literal secret starting with `{{`)"
    )]
    UnknownScheme,
    /// Lenient mode with [`Format::Auto`](crate::credentials::Format::Auto)
    /// reads JSON only, as Mesos ≥ 1.11, and this is not JSON.
    #[error("not JSON: Mesos 1.11 and later read only JSON (ask for the text format explicitly)")]
    NotJson,
    /// The text format was asked for, but the file looks like JSON.
    #[error("the file looks like JSON (starts with `{{` or `[`), not like the text format")]
    LooksLikeJson,
    /// A text line does not hold exactly a principal and a secret.
    #[error("expected `principal secret` separated by one space, found {fields} field(s)")]
    TextFields {
        /// How many space-separated fields the line holds.
        fields: usize,
    },
    /// A text line has leading or trailing blanks, a tab, or several spaces in a row.
    #[error(
        "stray blank in a `principal secret` line (leading or trailing space, tab, or several spaces)"
    )]
    TextBlank,
    /// A text line starts with `#`: Mesos has no comments, it would read a credential.
    #[error("line starts with `#`; the text format has no comments")]
    TextComment,
    /// Lenient about permissions: group or others may access the file.
    #[error("the file has mode {mode:04o}: group or others may access it")]
    InsecurePermissions {
        /// Permission bits.
        mode: u32,
    },
    /// Lenient about ownership: another user owns the file.
    #[error("the file is owned by uid {owner}, not by this process")]
    ForeignOwner {
        /// The owner.
        owner: u32,
    },
    /// Strict mode with [`Format::Auto`](crate::credentials::Format::Auto)
    /// found the text format, not JSON: Mesos 1.11 and later refuse it, so
    /// this is an error (ask for the text format explicitly to read it).
    #[error(
        "the text format: Mesos 1.11 and later read only JSON (convert with `mesos-auth credentials convert --format text --to json`, or ask for the text format explicitly)"
    )]
    TextFormat,
    /// A single-credential file holds more than one.
    #[error("expected exactly one credential")]
    ExpectedOne,
}
