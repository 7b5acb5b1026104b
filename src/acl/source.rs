//! ACL text → [`AclSource`]: the parsed policy, every ACL with its location.
//!
//! Strict by default; [`Options::lenient`] reproduces what Mesos ≥ 1.5
//! accepts and reports each thing it dropped or coerced as a warning.

use crate::json::{self, Json, JsonPath, JsonValue, KeyProblem, Member};
use crate::span::{LineIndex, Location};

use super::error::{AclError, Diagnostic, LimitError, LimitKind};
use super::kind::{AclList, ENDPOINT_PATHS, LIST_COUNT, ObjectRule};

mod fast;

/// Largest ACL text accepted by default: 256 MiB. A cap always exists
/// (threats.md §0); this one fits the 1,000,000 ACLs the performance
/// targets set (about 80 MB written one ACL a line, 200 MB pretty-printed).
pub const DEFAULT_MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

/// How to read ACL text: the same shape as
/// [`credentials::Options`](crate::credentials::Options) (a `const`
/// builder, private fields, the same method names).
///
/// ```
/// use mesos_auth::acl::{self, Options};
///
/// let options = Options::new().lenient(true).max_file_size(1 << 20);
/// assert!(options.is_lenient());
/// assert_eq!(options.file_size_limit(), 1 << 20);
/// // Lenient, as Mesos: a misspelt list is dropped with a warning.
/// let src = acl::parse_with(r#"{"permissive": false, "run_task": []}"#, options)?;
/// assert_eq!(src.warnings().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    lenient: bool,
    max_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    /// Strict parsing, at most [`DEFAULT_MAX_FILE_BYTES`].
    pub const fn new() -> Self {
        Self {
            lenient: false,
            max_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// Lenient mode: accept what Mesos ≥ 1.5 accepts, with a warning for
    /// each coercion.
    #[must_use]
    pub const fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// Sets the size cap on the text, in bytes.
    #[must_use]
    pub const fn max_file_size(mut self, bytes: u64) -> Self {
        // Saturates on 32-bit targets, where no text could be larger anyway.
        self.max_bytes = if bytes > usize::MAX as u64 {
            usize::MAX
        } else {
            bytes as usize
        };
        self
    }

    /// [`max_file_size`](Self::max_file_size) as a length (the name before
    /// the two `Options` were given one shape).
    #[doc(hidden)]
    #[must_use]
    pub const fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Whether lenient mode is on.
    pub const fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// The size cap, in bytes.
    pub const fn file_size_limit(&self) -> u64 {
        self.max_bytes as u64
    }
}

/// One literal value of a SOME entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub(crate) text: Text,
    pub(crate) location: Location,
}

impl Value {
    /// The literal string.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The literal string's bytes (for the compiler, which hashes and
    /// stores bytes: no UTF-8 check of a short value's bytes).
    #[inline(always)]
    pub(crate) fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Where it is written.
    pub fn location(&self) -> Location {
        self.location
    }
}

/// Longest value text kept in place in its [`Value`].
const INLINE_TEXT: usize = 22;

/// A value's text: up to [`INLINE_TEXT`] bytes in place, longer ones on
/// the heap. A policy of 1,000,000 ACLs holds two to three million values,
/// nearly all short: an allocation each was a large part of reading the
/// policy and of dropping it (a `malloc`, then a `free`, apiece), and of
/// its size (a 32-byte heap block besides the 16-byte pointer).
#[derive(Clone)]
pub(crate) enum Text {
    /// The first `len` bytes of `bytes` (UTF-8: copied from a `str`); the
    /// rest zero.
    Inline { len: u8, bytes: [u8; INLINE_TEXT] },
    /// Over [`INLINE_TEXT`] bytes (never fewer: one form per string).
    Heap(Box<str>),
}

impl Text {
    pub(crate) fn new(s: &str) -> Self {
        let mut bytes = [0u8; INLINE_TEXT];
        match (bytes.get_mut(..s.len()), u8::try_from(s.len())) {
            (Some(b), Ok(len)) => {
                b.copy_from_slice(s.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(s.into()),
        }
    }

    #[inline(always)]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Self::Heap(s) => s.as_bytes(),
        }
    }

    /// The text (the bytes in place are checked as UTF-8 again, being
    /// bytes here: they always are, copied from a `str`).
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Self::Heap(s) => s,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A subject or object entity (`ACL.Entity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// `{"type": "ANY"}`: everyone / everything.
    Any,
    /// `{"type": "NONE"}`: matches everyone, then denies.
    None,
    /// A set of literal values (empty only in lenient mode: matches nothing).
    Some(Vec<Value>),
}

/// One ACL of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub(crate) list: AclList,
    pub(crate) index: u32,
    pub(crate) location: Location,
    pub(crate) principals: Entity,
    pub(crate) object: Entity,
}

impl Acl {
    /// The list it belongs to.
    pub fn list(&self) -> AclList {
        self.list
    }

    /// Its position in the list, from 0.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Where its JSON object starts.
    pub fn location(&self) -> Location {
        self.location
    }

    /// The subject entity (`principals`).
    pub fn principals(&self) -> &Entity {
        &self.principals
    }

    /// The object entity (`roles`, `users`, ...).
    pub fn object(&self) -> &Entity {
        &self.object
    }
}

/// A parsed ACL policy, not yet compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclSource {
    pub(crate) permissive: Option<bool>,
    pub(crate) lists: Vec<Vec<Acl>>,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) bytes: usize,
}

impl AclSource {
    /// The `permissive` flag as Mesos reads it (unset means `true`).
    pub fn permissive(&self) -> bool {
        self.permissive.unwrap_or(true)
    }

    /// Whether the file sets `permissive` itself.
    pub fn permissive_is_set(&self) -> bool {
        self.permissive.is_some()
    }

    /// The ACLs of `list`, in file order.
    pub fn acls(&self, list: AclList) -> &[Acl] {
        self.lists.get(list.index()).map_or(&[], Vec::as_slice)
    }

    /// Every ACL of every list.
    pub fn iter(&self) -> impl Iterator<Item = &Acl> {
        self.lists.iter().flatten()
    }

    /// What lenient parsing dropped or coerced (empty in strict mode).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Size of the text it came from.
    pub fn source_bytes(&self) -> usize {
        self.bytes
    }
}

/// Parses ACL JSON strictly.
///
/// # Errors
///
/// [`AclError::Invalid`] listing every problem (JSON path and line:column),
/// or [`AclError::Limit`] if the text is over [`DEFAULT_MAX_FILE_BYTES`].
pub fn parse(src: &str) -> Result<AclSource, AclError> {
    parse_with(src, Options::default())
}

/// Parses ACL JSON with `options`.
///
/// # Errors
///
/// As [`parse`].
pub fn parse_with(src: &str, options: Options) -> Result<AclSource, AclError> {
    if src.len() > options.max_bytes {
        return Err(AclError::Limit(LimitError {
            kind: LimitKind::FileBytes,
            limit: options.max_bytes,
            found: src.len(),
            path: "$".into(),
            location: Location { line: 1, column: 1 },
        }));
    }
    // Strict text with no problem (nearly every file a master loads) takes
    // the fast path; anything else is read again, fully, for the messages.
    if !options.lenient
        && let Some(source) = fast::parse(src)
    {
        return Ok(source);
    }
    parse_full(src, options)
}

/// The full reader: a JSON tree, then every check, every problem reported.
pub(crate) fn parse_full(src: &str, options: Options) -> Result<AclSource, AclError> {
    let lines = Locator::new(src);
    let doc = json::parse(src, json::Options::default()).map_err(|e| {
        AclError::Invalid(vec![Diagnostic::new(
            "$",
            lines.location(e.offset),
            format!("invalid JSON: {e}"),
        )])
    })?;
    let mut p = Parser {
        lenient: options.lenient,
        lines,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let out = p.document(&doc, src.len());
    if p.errors.is_empty() {
        Ok(out)
    } else {
        Err(AclError::Invalid(p.errors))
    }
}

/// Reads and parses an ACL file. The file is opened without blocking and
/// must be a regular file (a FIFO or device is refused before any read);
/// its size is checked on the opened file before it is read.
///
/// # Errors
///
/// [`AclError::Io`] if it cannot be opened or read, is not a regular file or
/// is not UTF-8, [`AclError::Limit`] if it is over the options' file size
/// limit, else as [`parse`].
pub fn read_file(
    path: impl AsRef<std::path::Path>,
    options: Options,
) -> Result<AclSource, AclError> {
    use crate::file::{self, FileError, Follow};
    let path = path.as_ref();
    let io = |message: String| AclError::Io {
        path: path.display().to_string(),
        message,
    };
    let limit = options.max_bytes;
    let bytes = match file::read_regular(path, Follow::Yes, limit as u64) {
        Ok(b) => file::into_plain(b),
        Err(FileError::TooLarge { size, .. }) => {
            return Err(AclError::Limit(LimitError {
                kind: LimitKind::FileBytes,
                limit,
                found: usize::try_from(size).unwrap_or(usize::MAX),
                path: "$".into(),
                location: Location { line: 1, column: 1 },
            }));
        }
        Err(FileError::NotRegularFile) => {
            return Err(io("not a regular file (a FIFO, device or directory)".into()));
        }
        Err(FileError::Changed) => return Err(io("the file changed while it was read".into())),
        Err(FileError::Symlink) => return Err(io("is a symbolic link".into())),
        Err(FileError::Io(e)) => return Err(io(e.to_string())),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        io(format!(
            "invalid UTF-8 at byte {}",
            e.utf8_error().valid_up_to()
        ))
    })?;
    parse_with(&text, options)
}

/// Offsets → locations, fast for the (mostly increasing) order the parser
/// asks in: a cursor walks forward from the last answer, so a whole file
/// costs one pass even when it is a single 16 MiB line.
struct Locator<'s> {
    src: &'s str,
    // Built on the first backward question only: a file of a million lines
    // read front to back never needs its line table.
    index: std::cell::OnceCell<LineIndex<'s>>,
    offset: std::cell::Cell<usize>,
    at: std::cell::Cell<Location>,
}

impl<'s> Locator<'s> {
    fn new(src: &'s str) -> Self {
        Self {
            src,
            index: std::cell::OnceCell::new(),
            offset: std::cell::Cell::new(0),
            at: std::cell::Cell::new(Location { line: 1, column: 1 }),
        }
    }

    /// A locator whose cursor starts at `offset`, known to be at `at` (a
    /// piece of the text read by another thread).
    fn starting_at(src: &'s str, offset: usize, at: Location) -> Self {
        Self {
            src,
            index: std::cell::OnceCell::new(),
            offset: std::cell::Cell::new(offset),
            at: std::cell::Cell::new(at),
        }
    }

    fn location(&self, offset: usize) -> Location {
        let from = self.offset.get();
        let loc = match self.src.get(from..offset) {
            Some(gap) if offset >= from => {
                // The gap (a few dozen bytes between two values): its
                // newlines end lines, and the bytes after the last one
                // that start a character advance the column. Counts, not a
                // branch a byte: the compiler widens them.
                let gap = gap.as_bytes();
                let mut at = self.at.get();
                let starts = |b: &[u8]| b.iter().filter(|&&b| b & 0xC0 != 0x80).count();
                let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                let tail = match gap.iter().rposition(|&b| b == b'\n') {
                    Some(last) => {
                        let newlines = gap.iter().take(last + 1).filter(|&&b| b == b'\n').count();
                        at.line = at.line.saturating_add(count(newlines));
                        at.column = 1;
                        gap.get(last + 1..).unwrap_or_default()
                    }
                    None => gap,
                };
                at.column = at.column.saturating_add(count(starts(tail)));
                at
            }
            // Backwards or inside a character: the slow, exact way.
            _ => self
                .index
                .get_or_init(|| LineIndex::new(self.src))
                .location(offset),
        };
        if self.src.is_char_boundary(offset) {
            self.offset.set(offset);
            self.at.set(loc);
        }
        loc
    }
}

struct Parser<'s> {
    lenient: bool,
    lines: Locator<'s>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

const TYPE_KEYS: &[&str] = &["type", "values"];

impl Parser<'_> {
    fn loc(&self, offset: usize) -> Location {
        self.lines.location(offset)
    }

    fn error(&mut self, path: &JsonPath, offset: usize, msg: impl Into<String>) {
        let d = Diagnostic::new(path, self.loc(offset), msg);
        self.errors.push(d);
    }

    /// Strict: an error. Lenient: a warning, and the caller applies Mesos's
    /// coercion.
    fn problem(&mut self, path: &JsonPath, offset: usize, msg: impl Into<String>) {
        let d = Diagnostic::new(path, self.loc(offset), msg);
        if self.lenient {
            self.warnings.push(d);
        } else {
            self.errors.push(d);
        }
    }

    /// Reports unknown and repeated keys; returns the members to use (the
    /// first of each key when strict, the last when lenient, as picojson).
    fn members<'j>(
        &mut self,
        path: &JsonPath,
        members: &'j [Member],
        known: &[&str],
    ) -> Vec<&'j Member> {
        for p in json::key_problems(members, known) {
            match p {
                KeyProblem::Unknown(m) => {
                    let msg = if self.lenient {
                        format!("unknown key `{}` ignored (Mesos drops it silently)", m.key)
                    } else {
                        format!("unknown key `{}`", m.key)
                    };
                    self.problem(&path.key(&m.key), m.key_span.start, msg);
                }
                KeyProblem::Duplicate { first, again } => {
                    let msg = format!(
                        "duplicate key `{}` (first at {}){}",
                        again.key,
                        self.loc(first.key_span.start),
                        if self.lenient {
                            "; the last one wins"
                        } else {
                            ""
                        }
                    );
                    self.problem(&path.key(&again.key), again.key_span.start, msg);
                }
            }
        }
        // Known keys are few, so this stays linear in the object's size.
        let mut out = Vec::new();
        for key in known {
            let pick = if self.lenient {
                json::last(members, key)
            } else {
                json::first(members, key)
            };
            if let Some(m) = pick {
                out.push(m);
            }
        }
        out.sort_by_key(|m| m.key_span.start);
        out
    }

    fn document(&mut self, doc: &Json, bytes: usize) -> AclSource {
        let mut source = AclSource {
            permissive: None,
            lists: vec![Vec::new(); LIST_COUNT],
            warnings: Vec::new(),
            bytes,
        };
        let root = JsonPath::root();
        let Some(members) = doc.as_object() else {
            self.error(
                &root,
                doc.span.start,
                format!("expected an object, found {}", doc.kind()),
            );
            return source;
        };
        let mut known: Vec<&str> = vec!["permissive"];
        known.extend(AclList::ALL.iter().map(|l| l.key()));
        for m in self.members(&root, members, &known) {
            let path = root.key(&m.key);
            if m.key == "permissive" {
                source.permissive = self.permissive(&path, &m.value);
            } else if let Some(list) = AclList::from_key(&m.key) {
                let acls = self.list(&path, list, &m.value);
                if let Some(slot) = source.lists.get_mut(list.index()) {
                    *slot = acls;
                }
            }
        }
        if source.permissive.is_none() {
            self.problem(
                &root.key("permissive"),
                doc.span.start,
                "`permissive` is not set, so requests no ACL matches are allowed (Mesos default true); set it explicitly",
            );
        }
        let has = |l: AclList| !source.acls(l).is_empty();
        if has(AclList::UpdateQuotas) && (has(AclList::SetQuotas) || has(AclList::RemoveQuotas)) {
            self.problem(
                &root.key("update_quotas"),
                doc.span.start,
                "`update_quotas` cannot be combined with the legacy `set_quotas` / `remove_quotas` (Mesos 1.0-1.2 refused the file; later versions ignore the legacy lists)",
            );
        }
        source.warnings = std::mem::take(&mut self.warnings);
        source
    }

    fn permissive(&mut self, path: &JsonPath, v: &Json) -> Option<bool> {
        match &v.value {
            JsonValue::Bool(b) => Some(*b),
            JsonValue::Null => {
                self.problem(
                    path,
                    v.span.start,
                    "`permissive` is null; expected true or false",
                );
                None
            }
            JsonValue::String(s) if s.as_str() == "true" || s.as_str() == "false" => {
                self.problem(
                    path,
                    v.span.start,
                    format!(
                        "`permissive` is the string \"{}\"; expected a boolean",
                        s.as_str()
                    ),
                );
                Some(s.as_str() == "true")
            }
            _ => {
                self.error(
                    path,
                    v.span.start,
                    format!("expected true or false, found {}", v.kind()),
                );
                None
            }
        }
    }

    fn list(&mut self, path: &JsonPath, list: AclList, v: &Json) -> Vec<Acl> {
        let mut out = Vec::new();
        let items: Vec<(JsonPath, &Json)> = match &v.value {
            JsonValue::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| (path.index(i), x))
                .collect(),
            JsonValue::Object(_) => {
                self.problem(
                    path,
                    v.span.start,
                    "expected an array of ACLs, found a single object",
                );
                vec![(path.clone(), v)]
            }
            JsonValue::Null => {
                self.problem(path, v.span.start, "list is null; treated as empty");
                Vec::new()
            }
            _ => {
                self.error(
                    path,
                    v.span.start,
                    format!("expected an array of ACLs, found {}", v.kind()),
                );
                Vec::new()
            }
        };
        for (p, item) in items {
            match &item.value {
                JsonValue::Object(members) => {
                    let index = u32::try_from(out.len()).unwrap_or(u32::MAX);
                    if let Some(acl) = self.acl(&p, list, index, item, members) {
                        out.push(acl);
                    }
                }
                JsonValue::Null => self.problem(&p, item.span.start, "ACL is null; skipped"),
                _ => self.error(
                    &p,
                    item.span.start,
                    format!("expected an ACL object, found {}", item.kind()),
                ),
            }
        }
        out
    }

    fn acl(
        &mut self,
        path: &JsonPath,
        list: AclList,
        index: u32,
        v: &Json,
        members: &[Member],
    ) -> Option<Acl> {
        // Locate the ACL before its contents: the locator walks forward.
        let location = self.loc(v.span.start);
        let field = list.object_field();
        let chosen = self.members(path, members, &["principals", field]);
        let mut principals = None;
        let mut object = None;
        for m in chosen {
            let p = path.key(&m.key);
            if matches!(m.value.value, JsonValue::Null) {
                continue; // reported as missing below
            }
            if m.key == "principals" {
                principals = self.entity(&p, &m.value);
            } else {
                object = self.entity(&p, &m.value);
            }
        }
        let present = |k: &str| {
            members
                .iter()
                .any(|m| m.key == k && !matches!(m.value.value, JsonValue::Null))
        };
        if !present("principals") {
            self.error(path, v.span.start, "missing required entity `principals`");
        }
        if !present(field) {
            self.error(
                path,
                v.span.start,
                format!("missing required entity `{field}`"),
            );
        }
        let (principals, object) = (principals?, object?);
        let opath = path.key(field);
        match (list.object_rule(), &object) {
            (ObjectRule::NoSome, Entity::Some(_)) => {
                self.error(
                    &opath,
                    v.span.start,
                    format!(
                        "`{}.{field}` must be ANY or NONE (Mesos refuses SOME here)",
                        list.key()
                    ),
                );
            }
            (ObjectRule::Endpoints, Entity::Some(values)) => {
                for val in values {
                    if !ENDPOINT_PATHS.contains(&val.as_str()) {
                        let d = Diagnostic::new(
                            &opath,
                            val.location,
                            format!(
                                "`{}` is not an endpoint Mesos authorizes with `get_endpoints`",
                                val.as_str()
                            ),
                        );
                        self.errors.push(d);
                    }
                }
            }
            _ => {}
        }
        Some(Acl {
            list,
            index,
            location,
            principals,
            object,
        })
    }

    fn entity(&mut self, path: &JsonPath, v: &Json) -> Option<Entity> {
        let Some(members) = v.as_object() else {
            self.error(
                path,
                v.span.start,
                format!("expected an entity object, found {}", v.kind()),
            );
            return None;
        };
        let mut kind: Option<(&str, usize)> = None;
        let mut values: Option<(Vec<Value>, usize)> = None;
        let mut ok = true;
        let mut bad_type = false;
        for m in self.members(path, members, TYPE_KEYS) {
            let p = path.key(&m.key);
            match (m.key.as_str(), &m.value.value) {
                (_, JsonValue::Null) => {
                    self.problem(
                        &p,
                        m.value.span.start,
                        format!("`{}` is null; treated as absent", m.key),
                    );
                }
                ("type", JsonValue::String(s)) => match s.as_str() {
                    t @ ("SOME" | "ANY" | "NONE") => kind = Some((t, m.value.span.start)),
                    other => {
                        bad_type = true;
                        self.problem(
                            &p,
                            m.value.span.start,
                            format!(
                                "unknown entity type `{other}` (expected SOME, ANY or NONE){}",
                                if self.lenient {
                                    "; Mesos drops it, leaving SOME"
                                } else {
                                    ""
                                }
                            ),
                        );
                    }
                },
                ("type", _) => {
                    self.error(
                        &p,
                        m.value.span.start,
                        format!("expected a type name, found {}", m.value.kind()),
                    );
                    ok = false;
                }
                (_, JsonValue::String(s)) => {
                    self.problem(
                        &p,
                        m.value.span.start,
                        "expected an array of strings, found a single string",
                    );
                    values = Some((
                        vec![self.value(&p, s.as_str(), m.value.span.start)],
                        m.value.span.start,
                    ));
                }
                (_, JsonValue::Array(items)) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let ip = p.index(i);
                        match &item.value {
                            JsonValue::String(s) => {
                                out.push(self.value(&ip, s.as_str(), item.span.start))
                            }
                            JsonValue::Null => {
                                self.problem(&ip, item.span.start, "value is null; skipped")
                            }
                            _ => {
                                self.error(
                                    &ip,
                                    item.span.start,
                                    format!("expected a string, found {}", item.kind()),
                                );
                                ok = false;
                            }
                        }
                    }
                    values = Some((out, m.value.span.start));
                }
                (_, _) => {
                    self.error(
                        &p,
                        m.value.span.start,
                        format!("expected an array of strings, found {}", m.value.kind()),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        match kind {
            Some((t @ ("ANY" | "NONE"), _)) => {
                if let Some((_, at)) = values {
                    self.problem(
                        &path.key("values"),
                        at,
                        format!(
                            "an entity of type {t} takes no `values`{}",
                            if self.lenient {
                                "; they are ignored"
                            } else {
                                ""
                            }
                        ),
                    );
                }
                Some(if t == "ANY" {
                    Entity::Any
                } else {
                    Entity::None
                })
            }
            _ => {
                let values = values.map(|(v, _)| v).unwrap_or_default();
                // After an unknown type, one problem is enough.
                if values.is_empty() && !bad_type {
                    self.problem(path, v.span.start, "entity names no values, so it matches nothing; write {\"type\": \"NONE\"} or list values");
                }
                Some(Entity::Some(values))
            }
        }
    }

    fn value(&mut self, path: &JsonPath, s: &str, offset: usize) -> Value {
        if s.chars().any(char::is_control) {
            self.problem(
                path,
                offset,
                "value holds a control character; it can never match",
            );
        }
        Value {
            text: Text::new(s),
            location: self.loc(offset),
        }
    }
}
