//! Readers for Mesos credential files: the JSON form and the legacy text form.
//!
//! The two modes are described on [`parse`], where rustdoc shows them.

use std::cell::Cell;
use std::collections::HashMap;

use super::error::{CredentialsError, Diagnostic, ParseErrors, Problem};
use super::format::decode_secret;
use super::store::{Credential, CredentialStore, StoredSecret};
use crate::json::{
    self, Json, JsonErrorKind, JsonPath, JsonStr, JsonValue, KeyProblem, Member, Scanner,
};
use crate::span::LineIndex;
use crate::{Location, MAX_SECRET_LEN, Principal, Span};

/// Default cap on a credentials file: 256 MiB. A cap always exists
/// (threats.md §0); this one fits the 1,000,000 principals the performance
/// targets set, in every stored form: about 47 MB as text with 30-byte
/// secrets, 75 MB as JSON, 200 MB as JSON with `{SCRAM-SHA-256}` keys.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Which syntax a credentials text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// JSON, as Mesos ≥ 1.11: a file whose first non-blank byte is not `{`
    /// or `[` is refused (strict: [`Problem::TextFormat`], lenient:
    /// [`Problem::NotJson`]); ask for [`Format::Text`] to read the text
    /// format.
    #[default]
    Auto,
    /// One `principal secret` per line.
    Text,
    /// `{"credentials": [{"principal": .., "secret": ..}, ..]}`.
    Json,
}

/// Which Mesos reader's shape to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Reader {
    /// A list of credentials (master `--credentials`, agent `--http_credentials`).
    #[default]
    Credentials,
    /// Exactly one credential, `{"principal": .., "secret": ..}` (agent `--credential`).
    Credential,
}

/// How to read a credentials file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    format: Format,
    reader: Reader,
    lenient: bool,
    allow_empty: bool,
    allow_insecure_permissions: bool,
    max_file_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    /// Strict, format detected, a list of credentials, at least one required,
    /// owner-only permissions required, at most [`DEFAULT_MAX_FILE_SIZE`].
    pub const fn new() -> Self {
        Self {
            format: Format::Auto,
            reader: Reader::Credentials,
            lenient: false,
            allow_empty: false,
            allow_insecure_permissions: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }

    /// Sets the format.
    pub const fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Sets the reader shape.
    pub const fn reader(mut self, reader: Reader) -> Self {
        self.reader = reader;
        self
    }

    /// Lenient mode: accept what Mesos ≥ 1.11 accepts, each quirk a
    /// warning ([`parse`] describes both modes).
    pub const fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// In strict mode, accept a file that lists no credentials (the store is
    /// then empty and every authentication fails).
    pub const fn allow_empty(mut self, allow: bool) -> Self {
        self.allow_empty = allow;
        self
    }

    /// Opt out of the file permission and ownership checks in strict mode
    /// (the problems are still reported as warnings; lenient mode always
    /// reports them as warnings).
    pub const fn allow_insecure_permissions(mut self, allow: bool) -> Self {
        self.allow_insecure_permissions = allow;
        self
    }

    /// Sets the file size cap, in bytes.
    pub const fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Whether lenient mode is on.
    pub const fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// Whether insecure permissions are tolerated.
    pub const fn allows_insecure_permissions(&self) -> bool {
        self.allow_insecure_permissions
    }

    /// The file size cap.
    pub const fn file_size_limit(&self) -> u64 {
        self.max_file_size
    }
}

/// One credential read from a file, with where it was.
#[derive(Debug)]
pub struct FileEntry {
    credential: Credential,
    span: Span,
    location: Location,
}

impl FileEntry {
    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// Byte range of the principal in the file.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Line and column of the principal.
    pub fn location(&self) -> Location {
        self.location
    }
}

/// A parsed credentials file: every entry in file order, and the warnings
/// (lenient mode only; strict mode turns them into errors).
#[derive(Debug)]
pub struct CredentialsFile {
    entries: Vec<FileEntry>,
    warnings: Vec<Diagnostic>,
    format: Format,
    lenient: bool,
}

impl CredentialsFile {
    /// The entries, in file order (duplicates included in lenient mode).
    pub fn entries(&self) -> &[FileEntry] {
        &self.entries
    }

    /// The credentials, in file order.
    pub fn credentials(&self) -> impl Iterator<Item = &Credential> {
        self.entries.iter().map(|e| &e.credential)
    }

    /// What lenient mode tolerated.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The format that was read ([`Format::Text`] or [`Format::Json`]).
    pub fn format(&self) -> Format {
        self.format
    }

    pub(crate) fn set_file(&mut self, file: &std::path::Path) {
        for w in &mut self.warnings {
            w.set_file(file);
        }
    }

    pub(crate) fn push_warning(&mut self, d: Diagnostic) {
        self.warnings.push(d);
    }

    /// Builds the store. In lenient mode the last of duplicate principals
    /// wins, as in Mesos.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::DuplicatePrincipal`] (strict mode never gets here
    /// with duplicates; the parser already refused them).
    pub fn into_store(self) -> Result<CredentialStore, CredentialsError> {
        let mut entries = self.entries;
        if self.lenient {
            let mut last: HashMap<Principal, usize> = HashMap::new();
            for (i, e) in entries.iter().enumerate() {
                last.insert(e.credential.principal().clone(), i);
            }
            let mut i = 0;
            entries.retain(|e| {
                let keep = last.get(e.credential.principal()) == Some(&i);
                i += 1;
                keep
            });
        }
        CredentialStore::from_credentials(entries.into_iter().map(|e| e.credential))
    }
}

/// Parses a credentials text, strictly or leniently.
///
/// **Strict** (the default) follows the recommendations of the Mesos
/// reference: the format is chosen explicitly or by the first non-blank byte
/// (`{` or `[` means JSON, and JSON that fails is never re-read as text);
/// duplicate principals, duplicate or unknown JSON keys, a single object
/// instead of a list, missing/empty/null secrets, NUL or control characters,
/// a BOM, comment-like `#` lines, stray blanks, an empty file and an empty
/// credential list (unless [`Options::allow_empty`]) are all errors,
/// reported together with line:column and the principal. With
/// [`Format::Auto`], a file that does not start with `{` or `[` is refused
/// ([`Problem::TextFormat`] at 1:1): Mesos 1.11 and later read only JSON,
/// so strict mode never accepts a file lenient mode refuses.
/// When loaded from a path, a file that group or others can access, or
/// that another user owns, is an error (a warning with
/// [`Options::allow_insecure_permissions`]).
///
/// **Lenient** reproduces what Mesos ≥ 1.11 accepts and reports each quirk
/// as a warning: JSON only ([`Problem::NotJson`] at 1:1 for anything else
/// with [`Format::Auto`]), unknown keys ignored, the last of duplicate keys and
/// duplicate principals wins, `null` means absent, a missing secret is
/// empty, zero credentials (`{}`, `{"credentials": []}`) are fine, and
/// file permissions and ownership are warnings (Mesos only logs one when
/// others can access the file). NUL bytes, over-long secrets, invalid
/// principals, a FIFO or device instead of a file and a symlink stay errors
/// in both modes.
///
/// **The text format** (`principal secret` per line, Mesos 1.0–1.10) is
/// read in both modes only when asked for with [`Format::Text`] (for old
/// deployments and for conversion to JSON). Strict mode reads it strictly;
/// lenient mode reads it like Mesos 1.0–1.10: blank runs collapse, a CR
/// stays in the secret.
///
/// An empty (or whitespace-only) file is an error in both modes
/// ([`Problem::Empty`]): Mesos reads a 0-byte file as "no credentials",
/// which is not zero credentials, and then the master ("must contain at
/// least one credential") and the agent ("Empty credential file") exit.
///
/// **Threads.** A text of 1 MiB or more (about 20,000 principals) is read
/// in pieces by up to `min(available_parallelism, 8)` threads at once
/// (scoped: all joined before this returns), split at line starts, and
/// the duplicate principals are looked for the same way; the results are
/// merged in file order, so entries, errors and warnings are exactly those
/// of a read in one piece. Building the store
/// ([`CredentialsFile::into_store`]) uses as many threads for 4,096
/// principals or more.
///
/// # Errors
///
/// [`CredentialsError::Parse`] listing every problem found, each with its
/// line:column and principal, never a secret.
pub fn parse(src: &[u8], options: &Options) -> Result<CredentialsFile, CredentialsError> {
    parse_with(src, options, true, true)
}

/// A strict read straight into a store, for a file that goes nowhere else
/// (`load_store`): the credentials are collected as they are read, with no
/// [`FileEntry`], no locations and no search for repeated principals (the
/// store finds those as it places them). `Ok(None)` when the read found
/// anything wrong, or no credentials: the caller then parses again with
/// [`parse`] for the exact answer (every error, with line:column, and the
/// repeated principals among them); and so when the store finds a repeated
/// principal.
pub(crate) fn parse_store(
    src: &[u8],
    options: &Options,
) -> Result<Option<CredentialStore>, CredentialsError> {
    if options.lenient {
        // Lenient keeps the last of repeated principals: `into_store`.
        return Ok(None);
    }
    let (text, format) = prelude(src, options)?;
    let lines = Lines::new(text);
    let mut ctx = Ctx::new(&lines, false);
    ctx.parallel = true;
    ctx.store_only = true;
    match format {
        Format::Json => ctx.json(text, options.reader, true),
        _ => ctx.text(text, options.reader),
    }
    if !ctx.errors.is_empty() || ctx.creds.is_empty() {
        return Ok(None);
    }
    CredentialStore::from_credentials(ctx.creds).map(Some)
}

/// Whether the JSON fast path (see `Ctx::json_fast`) and the full reader
/// give the same result for `src`: same errors, or same entries (principal,
/// place, stored secret) and warnings. For tests and the fuzzer.
pub(crate) fn fast_path_agrees(src: &[u8], options: &Options) -> bool {
    let fast = parse_with(src, options, true, true);
    let full = parse_with(src, options, false, true);
    match (fast, full) {
        (Err(a), Err(b)) => a == b,
        (Ok(a), Ok(b)) => {
            a.format == b.format
                && a.warnings == b.warnings
                && a.entries.len() == b.entries.len()
                && a.entries.iter().zip(&b.entries).all(|(x, y)| {
                    x.span == y.span
                        && x.location == y.location
                        && x.credential.principal() == y.credential.principal()
                        && super::store::same_secret(x.credential.secret(), y.credential.secret())
                })
        }
        _ => false,
    }
}

/// Whether the JSON fast path alone takes `src` (strict), for tests.
#[cfg(test)]
pub(crate) fn fast_path_takes(src: &str) -> bool {
    let lines = Lines::new(src);
    let mut ctx = Ctx::new(&lines, false);
    ctx.json_fast(src)
}

/// Parses with the full JSON reader only (no fast path), for the bench that
/// compares the two.
pub(crate) fn parse_full_reader(
    src: &[u8],
    options: &Options,
) -> Result<CredentialsFile, CredentialsError> {
    parse_with(src, options, false, true)
}

/// Parses on this thread only (a large file is otherwise read in pieces by
/// several threads), for the tests that compare the two.
#[cfg(test)]
pub(crate) fn parse_in_one_piece(
    src: &[u8],
    options: &Options,
) -> Result<CredentialsFile, CredentialsError> {
    parse_with(src, options, true, false)
}

fn parse_with(
    src: &[u8],
    options: &Options,
    fast_json: bool,
    parallel: bool,
) -> Result<CredentialsFile, CredentialsError> {
    let (text, format) = prelude(src, options)?;
    let lines = Lines::new(text);
    let mut ctx = Ctx::new(&lines, options.lenient);
    ctx.parallel = parallel;
    match format {
        Format::Json => ctx.json(text, options.reader, fast_json),
        _ => ctx.text(text, options.reader),
    }
    ctx.finish(text, options, format)
}

/// The checks before any credential is read (a byte-order mark, UTF-8, an
/// empty text, the format): the text and the format to read it in.
fn prelude<'s>(src: &'s [u8], options: &Options) -> Result<(&'s str, Format), CredentialsError> {
    let fail = |d: Diagnostic| CredentialsError::Parse(ParseErrors::one(d));
    if src.starts_with(b"\xEF\xBB\xBF") {
        return Err(fail(Diagnostic::new(
            Span::new(0, 3),
            Location { line: 1, column: 1 },
            None,
            Problem::ByteOrderMark,
        )));
    }
    let text = match std::str::from_utf8(src) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let prefix = std::str::from_utf8(src.get(..at).unwrap_or_default()).unwrap_or_default();
            let location = LineIndex::new(prefix).location(at);
            return Err(fail(Diagnostic::new(
                Span::new(at, at + 1),
                location,
                None,
                Problem::InvalidUtf8,
            )));
        }
    };
    if text.trim_matches(is_blank).is_empty() {
        return Err(fail(Diagnostic::new(
            Span::new(0, text.len()),
            Location { line: 1, column: 1 },
            None,
            Problem::Empty,
        )));
    }
    let looks_like_json = matches!(
        text.trim_start_matches(is_blank).as_bytes().first(),
        Some(b'{' | b'[')
    );
    let format = match options.format {
        Format::Auto if looks_like_json => Format::Json,
        Format::Auto => {
            // Mesos >= 1.11 refuses the text format, so neither mode reads it
            // unless asked for: strict must never accept what lenient refuses.
            let problem = if options.lenient {
                Problem::NotJson
            } else {
                Problem::TextFormat
            };
            return Err(fail(Diagnostic::new(
                Span::new(0, 1),
                Location { line: 1, column: 1 },
                None,
                problem,
            )));
        }
        f => f,
    };
    Ok((text, format))
}

/// A text's line index, built on first use: a read straight into a store
/// that finds nothing wrong locates nothing, and skips a pass over the
/// text and an array of every line start.
struct Lines<'s> {
    src: &'s str,
    index: std::sync::OnceLock<LineIndex<'s>>,
}

impl<'s> Lines<'s> {
    fn new(src: &'s str) -> Self {
        Self {
            src,
            index: std::sync::OnceLock::new(),
        }
    }

    fn get(&self) -> &LineIndex<'s> {
        self.index.get_or_init(|| LineIndex::new(self.src))
    }
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

struct Ctx<'i, 's> {
    index: &'i Lines<'s>,
    /// The last offset located and its location: locations are mostly asked
    /// for in file order, so each is counted on from the previous one.
    last_location: Cell<(usize, Location)>,
    lenient: bool,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Entries read so far; their locations are filled in by `finish`
    /// (or by the worker that read them: see `located`).
    raw: Vec<FileEntry>,
    /// Whether every entry of `raw` has its location already.
    located: bool,
    /// Whether a large text may be read by several threads.
    parallel: bool,
    /// Whether credentials go to `creds` (see [`parse_store`]) instead of
    /// `raw`.
    store_only: bool,
    /// The credentials read, in file order, when `store_only`.
    creds: Vec<Credential>,
}

impl<'i, 's> Ctx<'i, 's> {
    fn new(index: &'i Lines<'s>, lenient: bool) -> Self {
        Self {
            index,
            last_location: Cell::new((0, Location { line: 1, column: 1 })),
            lenient,
            errors: Vec::new(),
            warnings: Vec::new(),
            raw: Vec::new(),
            located: false,
            parallel: false,
            store_only: false,
            creds: Vec::new(),
        }
    }

    /// A context for a worker reading from `offset` (a line start) on.
    fn at(index: &'i Lines<'s>, lenient: bool, store_only: bool, offset: usize) -> Self {
        let mut ctx = Self::new(index, lenient);
        ctx.store_only = store_only;
        // A read into a store locates nothing unless something is wrong
        // (and is then done again by `parse`): no index needed.
        if !store_only {
            ctx.last_location
                .set((offset, index.get().location(offset)));
        }
        ctx
    }

    /// Locates the entries read so far, counting on from one another.
    fn locate_entries(&mut self) {
        let mut entries = std::mem::take(&mut self.raw);
        if let Some(first) = entries.first() {
            let at = self.index.get().location(first.span.start);
            self.last_location.set((first.span.start, at));
        }
        for e in &mut entries {
            e.location = self.locate(e.span.start);
        }
        self.raw = entries;
        self.located = true;
    }

    /// Appends a later worker's findings, in file order.
    fn append(&mut self, mut later: Self) {
        self.errors.append(&mut later.errors);
        self.warnings.append(&mut later.warnings);
        if self.raw.is_empty() {
            self.raw = std::mem::take(&mut later.raw);
        } else {
            self.raw.append(&mut later.raw);
        }
        if self.creds.is_empty() {
            self.creds = std::mem::take(&mut later.creds);
        } else {
            self.creds.append(&mut later.creds);
        }
    }
    fn locate(&self, offset: usize) -> Location {
        let index = self.index.get();
        let location = index.location_after(offset, self.last_location.get());
        self.last_location.set((offset.min(index.len()), location));
        location
    }

    fn diag(&self, span: Span, principal: Option<&str>, problem: Problem) -> Diagnostic {
        Diagnostic::new(
            span,
            self.locate(span.start),
            principal.map(str::to_owned),
            problem,
        )
    }

    fn error(&mut self, span: Span, principal: Option<&str>, problem: Problem) {
        let d = self.diag(span, principal, problem);
        self.errors.push(d);
    }

    /// An error in strict mode, a warning in lenient mode.
    fn tolerate(&mut self, span: Span, principal: Option<&str>, problem: Problem) {
        let d = self.diag(span, principal, problem);
        if self.lenient {
            self.warnings.push(d);
        } else {
            self.errors.push(d);
        }
    }

    fn principal(&mut self, name: &str, span: Span) -> Option<Principal> {
        match Principal::new(name) {
            Ok(p) => Some(p),
            Err(e) => {
                self.error(span, Some(name), Problem::InvalidPrincipal(e));
                None
            }
        }
    }

    /// Checks a secret's text and decodes its stored form.
    fn secret(&mut self, text: &str, span: Span, principal: &str) -> Option<StoredSecret> {
        let who = Some(principal);
        if text.len() > MAX_SECRET_LEN {
            self.error(span, who, Problem::SecretTooLong { len: text.len() });
            return None;
        }
        if text.is_empty() {
            self.tolerate(span, who, Problem::EmptySecret);
        }
        if text.contains('\0') {
            self.error(span, who, Problem::NulInSecret);
            return None;
        }
        if text.chars().any(char::is_control) {
            self.tolerate(span, who, Problem::ControlInSecret);
        }
        match decode_secret(text, self.lenient) {
            Ok((secret, unknown_scheme)) => {
                // `{PLAIN}` with nothing after it is an empty secret too.
                if !text.is_empty() && matches!(&secret, StoredSecret::Plain(s) if s.is_empty()) {
                    self.tolerate(span, who, Problem::EmptySecret);
                }
                if unknown_scheme {
                    self.warnings
                        .push(self.diag(span, who, Problem::UnknownScheme));
                }
                Some(secret)
            }
            Err(p) => {
                self.error(span, who, p);
                None
            }
        }
    }

    fn push(&mut self, principal: Option<Principal>, span: Span, secret: Option<StoredSecret>) {
        if let (Some(principal), Some(secret)) = (principal, secret) {
            if self.store_only {
                self.creds.push(Credential::new(principal, secret));
                return;
            }
            self.raw.push(FileEntry {
                credential: Credential::new(principal, secret),
                span,
                location: Location::default(),
            });
        }
    }

    fn text(&mut self, src: &str, reader: Reader) {
        let first = src.find(|c| !is_blank(c)).unwrap_or(0);
        if !self.lenient && matches!(src.as_bytes().get(first), Some(b'{' | b'[')) {
            self.error(Span::new(first, first + 1), None, Problem::LooksLikeJson);
            return;
        }
        if reader == Reader::Credentials && self.parallel {
            let bounds = pieces(src, 0, |_| Some(0));
            if bounds.len() > 2 {
                let (index, lenient, store_only) = (self.index, self.lenient, self.store_only);
                let parts = in_parallel(&bounds, |from, to| {
                    let mut w = Ctx::at(index, lenient, store_only, from);
                    w.text_lines(src, from, to, reader);
                    w.locate_entries();
                    w
                });
                for part in parts {
                    self.append(part);
                }
                self.located = true;
                return;
            }
        }
        self.text_lines(src, 0, src.len(), reader);
    }

    /// Reads the lines of `src[from..to]` (`from` a line start, `to` one
    /// or the end).
    fn text_lines(&mut self, src: &str, from: usize, to: usize, reader: Reader) {
        let mut offset = from;
        let mut lines = 0usize;
        for line in src.get(from..to).unwrap_or_default().split('\n') {
            let start = offset;
            offset += line.len() + 1;
            // Strict: a CRLF file is fine; only one CR is taken off.
            let body = if self.lenient {
                line
            } else {
                line.strip_suffix('\r').unwrap_or(line)
            };
            if body.is_empty() {
                continue;
            }
            lines += 1;
            if reader == Reader::Credential && lines == 2 {
                self.error(
                    Span::new(start, start + body.len()),
                    None,
                    Problem::ExpectedOne,
                );
            }
            let line_span = Span::new(start, start + body.len());
            // The first two space-separated fields (with offsets) and the
            // field count, without allocating per line.
            let mut fields = 0usize;
            let mut first_two: [Option<(usize, &str)>; 2] = [None, None];
            let mut pos = 0usize;
            for t in body.split(' ') {
                if !t.is_empty() {
                    if let Some(slot) = first_two.get_mut(fields) {
                        *slot = Some((pos, t));
                    }
                    fields += 1;
                }
                pos += t.len() + 1;
            }
            // Name the principal only when the line has at least two fields:
            // a one-field line might be a bare secret.
            let who = match first_two {
                [Some((_, p)), Some(_)] => Some(p),
                _ => None,
            };
            if body.starts_with('#') {
                self.tolerate(line_span, who, Problem::TextComment);
                if !self.lenient {
                    continue;
                }
            }
            let exact_blanks = !body.contains('\t')
                && !body.starts_with(' ')
                && !body.ends_with(' ')
                && !body.contains("  ");
            if fields != 2 {
                self.error(line_span, who, Problem::TextFields { fields });
                continue;
            }
            if !exact_blanks {
                self.tolerate(line_span, who, Problem::TextBlank);
                if !self.lenient {
                    continue;
                }
            }
            let [Some((p_at, p)), Some((s_at, s))] = first_two else {
                continue;
            };
            let p_span = Span::new(start + p_at, start + p_at + p.len());
            let s_span = Span::new(start + s_at, start + s_at + s.len());
            let principal = self.principal(p, p_span);
            let secret = self.secret(s, s_span, p);
            self.push(principal, p_span, secret);
        }
    }

    fn json(&mut self, src: &str, reader: Reader, fast: bool) {
        if fast && reader == Reader::Credentials {
            if self.json_fast(src) {
                return;
            }
            // Not the plain shape (or not valid JSON): start over with the
            // full reader, which reports everything exactly.
            self.errors.clear();
            self.warnings.clear();
            self.raw.clear();
            self.creds.clear();
        }
        let doc = match json::parse(src, json::Options::default()) {
            Ok(doc) => doc,
            Err(e) => {
                let problem = match e.kind {
                    JsonErrorKind::Empty => Problem::Empty,
                    JsonErrorKind::ByteOrderMark => Problem::ByteOrderMark,
                    JsonErrorKind::InvalidUtf8 => Problem::InvalidUtf8,
                    kind => Problem::Json(json_message(&kind)),
                };
                self.error(Span::new(e.offset, e.offset + 1), None, problem);
                return;
            }
        };
        let root = JsonPath::root();
        match reader {
            Reader::Credential => self.credential(&doc, &|| root.clone()),
            Reader::Credentials => {
                let Some(members) = doc.as_object() else {
                    self.wrong_type(&doc, &root, "an object");
                    return;
                };
                self.key_problems(members, &["credentials"], &|| root.clone());
                let Some(list) = self.pick(members, "credentials") else {
                    if !self.lenient {
                        self.error(
                            doc.span,
                            None,
                            Problem::MissingField {
                                path: root.to_string(),
                                field: "credentials",
                            },
                        );
                    }
                    return;
                };
                let path = root.key("credentials");
                match &list.value.value {
                    JsonValue::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            // The item's path is only written out for a message.
                            self.credential(item, &|| path.index(i));
                        }
                    }
                    JsonValue::Object(_) => {
                        self.tolerate(
                            list.value.span,
                            None,
                            Problem::ObjectForList {
                                path: path.to_string(),
                            },
                        );
                        self.credential(&list.value, &|| path.clone());
                    }
                    JsonValue::Null => self.tolerate(
                        list.value.span,
                        None,
                        Problem::Null {
                            path: path.to_string(),
                        },
                    ),
                    _ => self.wrong_type(&list.value, &path, "a list of credentials"),
                }
            }
        }
    }

    /// Reads `{"credentials": [{"principal": "..", "secret": ".."}, ..]}`
    /// (keys in either order, nothing else) without building a tree:
    /// strings are borrowed from the source unless they hold escapes, and no
    /// path is written. Returns false at anything else, including any syntax
    /// error; what was recorded is then to be discarded. A document it
    /// accepts is valid JSON, and each credential goes through the same
    /// checks, in the same order, as in [`Self::credential`].
    ///
    /// A large file is split at item starts (a `{` first on its line) and
    /// the pieces read by several threads, each checking that the piece
    /// before it ends exactly where it starts; if one does not (an unusual
    /// layout), the whole list is read again here, in one piece.
    fn json_fast(&mut self, src: &str) -> bool {
        let mut s = Scanner::new(src);
        if !s.eat(b'{') || s.string().is_none_or(|(k, _)| &*k != "credentials") {
            return false;
        }
        if !s.eat(b':') || !s.eat(b'[') {
            return false;
        }
        if s.eat(b']') {
            return s.eat(b'}') && s.at_end();
        }
        let first = s.offset();
        let bounds = pieces(src, first, |rest| {
            // The piece starts at its first token, where a scanner stops.
            let ws = rest.iter().take_while(|b| b" \t\r\n".contains(b)).count();
            (rest.get(ws) == Some(&b'{')).then_some(ws)
        });
        if bounds.len() > 2 && self.parallel {
            let (index, lenient, store_only) = (self.index, self.lenient, self.store_only);
            let last = bounds.len() - 2;
            let parts = in_parallel(&bounds, |from, to| {
                let mut w = Ctx::at(index, lenient, store_only, from);
                let mut s = Scanner::at(src, from);
                let ok = w.json_fast_items(&mut s, (to < src.len()).then_some(to));
                w.locate_entries();
                (w, ok)
            });
            if parts.iter().all(|(_, ok)| *ok) && parts.len() == last + 1 {
                for (part, _) in parts {
                    self.append(part);
                }
                self.located = true;
                return true;
            }
        }
        let mut s = Scanner::at(src, first);
        self.json_fast_items(&mut s, None)
    }

    /// Items for [`Self::json_fast`] from the scanner's place: up to the
    /// item starting at `stop`, or to the end of the document.
    fn json_fast_items(&mut self, s: &mut Scanner<'_>, stop: Option<usize>) -> bool {
        loop {
            if !self.json_fast_item(s) {
                return false;
            }
            match stop {
                Some(stop) => {
                    if !s.eat(b',') {
                        return false;
                    }
                    let at = s.offset();
                    if at == stop {
                        return true;
                    }
                    if at > stop {
                        return false;
                    }
                }
                None => {
                    if s.eat(b']') {
                        return s.eat(b'}') && s.at_end();
                    }
                    if !s.eat(b',') {
                        return false;
                    }
                }
            }
        }
    }

    /// One `{"principal": "..", "secret": ".."}` for [`Self::json_fast`].
    fn json_fast_item(&mut self, s: &mut Scanner<'_>) -> bool {
        if !s.eat(b'{') {
            return false;
        }
        let Some(one) = fast_member(s) else {
            return false;
        };
        if !s.eat(b',') {
            return false;
        }
        let Some(two) = fast_member(s) else {
            return false;
        };
        if !s.eat(b'}') {
            return false;
        }
        let ((_, name, p_span), (_, text, s_span)) = match (&*one.0, &*two.0) {
            ("principal", "secret") => (one, two),
            ("secret", "principal") => (two, one),
            _ => return false,
        };
        let principal = self.principal(&name, p_span);
        let secret = self.secret(&text, s_span, &name);
        self.push(principal, p_span, secret);
        true
    }

    fn wrong_type(&mut self, value: &Json, path: &JsonPath, expected: &'static str) {
        self.error(
            value.span,
            None,
            Problem::WrongType {
                path: path.to_string(),
                expected,
                found: value.kind(),
            },
        );
    }

    /// Strict reads the first of duplicate keys (after reporting them);
    /// lenient the last, as picojson does.
    fn pick<'j>(&self, members: &'j [Member], key: &str) -> Option<&'j Member> {
        if self.lenient {
            json::last(members, key)
        } else {
            json::first(members, key)
        }
    }

    fn key_problems(&mut self, members: &[Member], known: &[&str], path: &dyn Fn() -> JsonPath) {
        let problems = json::key_problems(members, known);
        if problems.is_empty() {
            return;
        }
        let path = path();
        for problem in problems {
            match problem {
                KeyProblem::Unknown(m) => self.tolerate(
                    m.key_span,
                    None,
                    Problem::UnknownField {
                        path: path.to_string(),
                        // Escaped: a key may hold line breaks or controls.
                        field: m.key.escape_debug().to_string(),
                    },
                ),
                KeyProblem::Duplicate { first, again } => {
                    let first = self.locate(first.key_span.start);
                    self.tolerate(
                        again.key_span,
                        None,
                        Problem::DuplicateField {
                            path: path.to_string(),
                            field: again.key.escape_debug().to_string(),
                            first,
                        },
                    );
                }
            }
        }
    }

    fn credential(&mut self, value: &Json, path: &dyn Fn() -> JsonPath) {
        let Some(members) = value.as_object() else {
            self.wrong_type(value, &path(), "an object");
            return;
        };
        self.key_problems(members, &["principal", "secret"], path);
        let principal_member = self.pick(members, "principal");
        let (name, principal, p_span) = match principal_member.map(|m| &m.value) {
            None
            | Some(Json {
                value: JsonValue::Null,
                ..
            }) => {
                self.error(
                    value.span,
                    None,
                    Problem::MissingField {
                        path: path().to_string(),
                        field: "principal",
                    },
                );
                (None, None, value.span)
            }
            Some(v) => match v.as_str() {
                Some(name) => (Some(name), self.principal(name, v.span), v.span),
                None => {
                    self.wrong_type(v, &path().key("principal"), "a string");
                    (None, None, v.span)
                }
            },
        };
        let secret = match self.pick(members, "secret").map(|m| &m.value) {
            None
            | Some(Json {
                value: JsonValue::Null,
                ..
            }) => {
                self.tolerate(value.span, name, Problem::MissingSecret);
                Some(StoredSecret::Plain(crate::Secret::new(b"")))
            }
            Some(v) => match v.as_str() {
                Some(text) => self.secret(text, v.span, name.unwrap_or("")),
                None => {
                    self.error(
                        v.span,
                        name,
                        Problem::WrongType {
                            path: path().key("secret").to_string(),
                            expected: "a string",
                            found: v.kind(),
                        },
                    );
                    None
                }
            },
        };
        self.push(principal, p_span, secret);
    }

    fn finish(
        mut self,
        src: &str,
        options: &Options,
        format: Format,
    ) -> Result<CredentialsFile, CredentialsError> {
        // Entries are in file order, so their locations are counted on from
        // one another: one pass over the text in all.
        self.last_location.set((0, Location { line: 1, column: 1 }));
        let mut entries = std::mem::take(&mut self.raw);
        if !self.located {
            for e in &mut entries {
                e.location = self.locate(e.span.start);
            }
        }
        let names: Vec<&str> = entries
            .iter()
            .map(|e| e.credential.principal().as_str())
            .collect();
        let mut duplicates = Vec::new();
        for (again, first) in repeated(&names, self.parallel) {
            if let (Some(e), Some(f)) = (entries.get(again), entries.get(first)) {
                duplicates.push(Diagnostic::new(
                    e.span,
                    e.location,
                    Some(e.credential.principal().as_str().to_owned()),
                    Problem::DuplicatePrincipal { first: f.location },
                ));
            }
        }
        drop(names);
        if self.lenient {
            self.warnings.extend(duplicates);
        } else {
            self.errors.extend(duplicates);
        }
        if entries.is_empty() && self.errors.is_empty() {
            let d = self.diag(Span::new(0, src.len()), None, Problem::NoCredentials);
            if self.lenient || options.allow_empty {
                self.warnings.push(d);
            } else {
                self.errors.push(d);
            }
        }
        if let Some(errors) = ParseErrors::from_vec(self.errors) {
            return Err(CredentialsError::Parse(errors));
        }
        self.warnings.sort_by_key(|d| d.span().start);
        Ok(CredentialsFile {
            entries,
            warnings: self.warnings,
            format,
            lenient: self.lenient,
        })
    }
}

/// Texts this large are read by several threads (below, a thread costs
/// more than it saves).
const PARALLEL_FROM: usize = 1 << 20;

/// How many threads a large load uses: one per core the process may run
/// on, at most 8.
pub(super) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Piece boundaries for [`in_parallel`]: `from`, then for each further
/// thread the first line start at or after its share of `src[from..]`
/// whose rest `starts` accepts (plus the bytes it says to skip), then
/// `src.len()`. Just `[from, len]` for a small text or a single core.
fn pieces(src: &str, from: usize, starts: impl Fn(&[u8]) -> Option<usize>) -> Vec<usize> {
    let bytes = src.as_bytes();
    let n = if src.len() < PARALLEL_FROM {
        1
    } else {
        threads()
    };
    let share = src.len().saturating_sub(from) / n;
    let mut bounds = vec![from];
    for k in 1..n {
        let target = from.saturating_add(share.saturating_mul(k));
        let Some(nl) = bytes
            .get(target..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'))
        else {
            break;
        };
        let at = target + nl + 1;
        let rest = bytes.get(at..).unwrap_or_default();
        if let Some(skip) = starts(rest)
            && at + skip < src.len()
            && bounds.last().is_some_and(|&b| b < at)
        {
            bounds.push(at + skip);
        }
    }
    bounds.push(src.len());
    bounds
}

/// Runs `work` on each piece `bounds[k]..bounds[k + 1]`, the first on this
/// thread and the others on scoped threads, and returns the results in
/// file order. A piece whose thread cannot be started (or fails) is done
/// here.
pub(super) fn in_parallel<T: Send>(
    bounds: &[usize],
    work: impl Fn(usize, usize) -> T + Sync,
) -> Vec<T> {
    let ranges: Vec<(usize, usize)> = bounds
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((*a, *b)),
            _ => None,
        })
        .collect();
    let work = &work;
    std::thread::scope(|scope| {
        let mut rest = ranges
            .iter()
            .skip(1)
            .map(|&(a, b)| {
                let handle = std::thread::Builder::new()
                    .name("credentials-load".into())
                    .spawn_scoped(scope, move || work(a, b))
                    .ok();
                (a, b, handle)
            })
            .collect::<Vec<_>>();
        let mut out = Vec::with_capacity(ranges.len());
        if let Some(&(a, b)) = ranges.first() {
            out.push(work(a, b));
        }
        for (a, b, handle) in rest.drain(..) {
            out.push(
                handle
                    .and_then(|h| h.join().ok())
                    .unwrap_or_else(|| work(a, b)),
            );
        }
        out
    })
}

/// Every repeated name as `(position, position of its first occurrence)`,
/// in file order.
///
/// Not a hash map of first occurrences: a million random inserts miss the
/// cache twice each, which was a third of reading a large file. Instead
/// each name's keyed hash is computed (in pieces, on several threads), the
/// (hash, position) pairs are split by hash between the threads, and each
/// sorts its share, so equal names end up next to each other in position
/// order; names are compared only within a run of equal hashes.
pub(super) fn repeated(names: &[&str], parallel: bool) -> Vec<(usize, usize)> {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    // About 24 bytes a name: the same size a text this long would need.
    let parallel = parallel && names.len().saturating_mul(24) >= PARALLEL_FROM;
    let n = if parallel { threads() } else { 1 };
    let per = names.len().div_ceil(n).max(1);
    let bounds: Vec<usize> = (0..=n).map(|k| (k * per).min(names.len())).collect();
    let hashes: Vec<u64> = in_parallel(&bounds, |a, b| {
        names
            .get(a..b)
            .unwrap_or_default()
            .iter()
            .map(|name| state.hash_one(name))
            .collect::<Vec<u64>>()
    })
    .concat();
    let shares: Vec<usize> = (0..=n).collect();
    let mut found: Vec<(usize, usize)> = in_parallel(&shares, |k, _| {
        let mut mine: Vec<(u64, usize)> = hashes
            .iter()
            .enumerate()
            .filter(|&(_, &h)| (h % n as u64) as usize == k)
            .map(|(i, &h)| (h, i))
            .collect();
        mine.sort_unstable();
        let mut out = Vec::new();
        // The distinct names of the current run of equal hashes and where
        // each first occurs (one name, but for a 64-bit hash collision).
        let mut run: Vec<(&str, usize)> = Vec::new();
        let mut run_hash = None;
        for (h, i) in mine {
            let Some(&name) = names.get(i) else {
                continue;
            };
            if run_hash != Some(h) {
                run_hash = Some(h);
                run.clear();
            }
            match run.iter().find(|(n, _)| *n == name) {
                Some(&(_, first)) => out.push((i, first)),
                None => run.push((name, i)),
            }
        }
        out
    })
    .concat();
    found.sort_unstable();
    found
}

/// `"key": "string"` for [`Ctx::json_fast_item`]: key, value, value span.
fn fast_member<'s>(s: &mut Scanner<'s>) -> Option<(JsonStr<'s>, JsonStr<'s>, Span)> {
    let (key, _) = s.string()?;
    if !s.eat(b':') {
        return None;
    }
    let (value, span) = s.string()?;
    Some((key, value, span))
}

/// JSON syntax errors without the offending character: it may belong to a
/// secret (an unquoted password, say).
fn json_message(kind: &JsonErrorKind) -> &'static str {
    match kind {
        JsonErrorKind::Empty => "the text is empty",
        JsonErrorKind::ByteOrderMark => "the text starts with a byte-order mark",
        JsonErrorKind::InvalidUtf8 => "invalid UTF-8",
        JsonErrorKind::UnexpectedEnd => "unexpected end of text",
        JsonErrorKind::Unexpected(_) => "unexpected character",
        JsonErrorKind::InvalidNumber => "invalid number",
        JsonErrorKind::InvalidEscape => "invalid escape sequence in a string",
        JsonErrorKind::LoneSurrogate(_) => "unpaired surrogate in a string",
        JsonErrorKind::ControlInString(_) => "raw control character in a string",
        JsonErrorKind::TooDeep(_) => "nesting deeper than 32 levels",
        JsonErrorKind::TrailingData => "text after the end of the JSON value",
    }
}

#[cfg(test)]
mod test;
