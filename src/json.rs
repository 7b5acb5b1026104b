//! A strict JSON reader that keeps a byte span on every value.
//!
//! The ACL, credential and TLS-rule parsers all read JSON written by hand,
//! and each must say *where* a mistake is, reject duplicate keys (serde and
//! Mesos's picojson both let the last one win silently) and bound nesting
//! (CVE-2018-11793). serde_json gives none of that, so the crate has this one
//! reader, shared by every component.
//!
//! It reads RFC 8259 JSON exactly: no comments, no trailing commas, no BOM
//! (unless allowed), no raw control characters or lone surrogates in strings.
//! Numbers are kept as their source text; the caller decides what fits.
//! String values sit in wiping buffers sized once, because a credential file
//! holds secrets in them.

use std::fmt;

use zeroize::Zeroizing;

use crate::span::Span;

/// Nesting allowed by default (threats.md §0).
pub(crate) const DEFAULT_MAX_DEPTH: usize = 32;

/// One JSON value and the bytes it came from.
#[derive(Debug)]
pub(crate) struct Json {
    pub(crate) value: JsonValue,
    pub(crate) span: Span,
}

/// The value itself.
#[derive(Debug)]
pub(crate) enum JsonValue {
    Null,
    Bool(bool),
    /// A number, checked against the JSON grammar. No schema in the crate
    /// takes numbers, so only its span is kept (`1e400` cannot overflow).
    Number,
    String(Zeroizing<String>),
    Array(Vec<Json>),
    /// Members in source order, duplicates included: the caller decides.
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: Json,
}

impl Json {
    /// What kind of value this is, for messages ("expected a string, found an array").
    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number => "a number",
            JsonValue::String(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            JsonValue::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self.value {
            JsonValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Json]> {
        match &self.value {
            JsonValue::Array(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            JsonValue::Object(m) => Some(m),
            _ => None,
        }
    }
}

/// A string read without building a tree: borrowed from the source when it
/// holds no escape, else decoded into a buffer wiped on drop (it may be a
/// secret).
#[derive(Debug)]
pub(crate) enum JsonStr<'s> {
    Borrowed(&'s str),
    Decoded(Zeroizing<String>),
}

impl std::ops::Deref for JsonStr<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Self::Borrowed(s) => s,
            Self::Decoded(s) => s.as_str(),
        }
    }
}

/// A cursor for readers that walk one fixed document shape token by token
/// instead of building a [`Json`] tree (the credential reader's fast path:
/// no allocation per value).
///
/// It has no messages of its own: each method either consumes exactly what
/// was asked for or answers that it is not there, and the caller then reads
/// the text again with [`parse`], which reports the problem. Strings go
/// through the same code as [`parse`], so they are exactly as strict.
pub(crate) struct Scanner<'s> {
    p: Parser<'s>,
}

impl<'s> Scanner<'s> {
    /// A scanner at the start of `text` (a BOM is not skipped).
    pub(crate) fn new(text: &'s str) -> Self {
        Self {
            p: Parser::new(text, Options::default()),
        }
    }

    /// A scanner at byte `offset` of `text`, which must be where a token or
    /// whitespace starts (a worker reading part of a document).
    pub(crate) fn at(text: &'s str, offset: usize) -> Self {
        let mut p = Parser::new(text, Options::default());
        p.pos = offset.min(text.len());
        Self { p }
    }

    /// Skips whitespace, then consumes `byte` if it comes next.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        self.p.skip_ws();
        let next = self.p.peek() == Some(byte);
        if next {
            self.p.pos += 1;
        }
        next
    }

    /// Skips whitespace, then reads a string and its span (quotes
    /// included); `None` if no valid string comes next.
    pub(crate) fn string(&mut self) -> Option<(JsonStr<'s>, Span)> {
        self.p.skip_ws();
        if self.p.peek() != Some(b'"') {
            return None;
        }
        let start = self.p.pos;
        let s = self.p.string_ref().ok()?;
        Some((s, Span::new(start, self.p.pos)))
    }

    /// Skips whitespace, then reads `true` or `false`; `None` if neither
    /// comes next (the cursor is then left where the literal would start).
    pub(crate) fn boolean(&mut self) -> Option<bool> {
        self.p.skip_ws();
        let rest = self.p.src.get(self.p.pos..).unwrap_or_default();
        let (value, len) = if rest.starts_with(b"true") {
            (true, 4)
        } else if rest.starts_with(b"false") {
            (false, 5)
        } else {
            return None;
        };
        // `trueish` is not a literal followed by junk the caller could
        // mistake for a separator: the next byte must not continue a word.
        if rest.get(len).is_some_and(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        self.p.pos += len;
        Some(value)
    }

    /// Skips whitespace; the byte offset reached (where the next token starts).
    pub(crate) fn offset(&mut self) -> usize {
        self.p.skip_ws();
        self.p.pos
    }

    /// Skips whitespace; whether the text ends there.
    pub(crate) fn at_end(&mut self) -> bool {
        self.p.skip_ws();
        self.p.pos >= self.p.src.len()
    }
}

/// The first quote, backslash or control byte (below 0x20) of `body`:
/// where a string's plain run stops. Eight bytes at a time (the classic
/// "has zero byte" / "has byte less than" word tests: each gives exact
/// flags up to its first true match, and only the lowest flag is used).
fn string_stop(body: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0;
    let mut words = body.chunks_exact(8);
    for chunk in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let w = u64::from_le_bytes(bytes);
        let flags = zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// A problem with an object's keys, found by [`key_problems`].
#[derive(Debug)]
pub(crate) enum KeyProblem<'j> {
    /// A key the schema does not know.
    Unknown(&'j Member),
    /// A key seen before in the same object.
    Duplicate {
        first: &'j Member,
        again: &'j Member,
    },
}

/// Objects up to this many members are checked for repeated keys without a map.
const SMALL_OBJECT: usize = 8;

/// Lists unknown and repeated keys of `members`, in source order.
pub(crate) fn key_problems<'j>(members: &'j [Member], known: &[&str]) -> Vec<KeyProblem<'j>> {
    // A map of first occurrences keeps this linear: an object with 10^5
    // repeated keys must not cost 10^10 comparisons (threats.md AC-8).
    let mut problems = Vec::new();
    if members.len() <= SMALL_OBJECT {
        // A handful of keys: comparing with the earlier ones is cheaper than
        // hashing, and this runs once per credential of a large file.
        for (i, m) in members.iter().enumerate() {
            if !known.contains(&m.key.as_str()) {
                problems.push(KeyProblem::Unknown(m));
            } else if let Some(first) = members
                .get(..i)
                .unwrap_or_default()
                .iter()
                .find(|f| f.key == m.key)
            {
                problems.push(KeyProblem::Duplicate { first, again: m });
            }
        }
        return problems;
    }
    let mut seen: std::collections::HashMap<&str, &Member> = std::collections::HashMap::new();
    for m in members {
        if !known.contains(&m.key.as_str()) {
            problems.push(KeyProblem::Unknown(m));
        } else if let Some(first) = seen.get(m.key.as_str()) {
            problems.push(KeyProblem::Duplicate { first, again: m });
        } else {
            seen.insert(&m.key, m);
        }
    }
    problems
}

/// The first member named `key`.
pub(crate) fn first<'j>(members: &'j [Member], key: &str) -> Option<&'j Member> {
    members.iter().find(|m| m.key == key)
}

/// The last member named `key`: what Mesos's picojson keeps (lenient modes).
pub(crate) fn last<'j>(members: &'j [Member], key: &str) -> Option<&'j Member> {
    members.iter().rev().find(|m| m.key == key)
}

/// A JSON path for messages, like `$.run_tasks[2].users.values[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct JsonPath(String);

impl JsonPath {
    pub(crate) fn root() -> Self {
        Self("$".to_owned())
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            Self(format!("{}.{key}", self.0))
        } else {
            Self(format!("{}[{key:?}]", self.0))
        }
    }

    pub(crate) fn index(&self, i: usize) -> Self {
        Self(format!("{}[{i}]", self.0))
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reader settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Deepest nesting of arrays and objects accepted.
    pub(crate) max_depth: usize,
    /// Whether a leading UTF-8 byte-order mark is skipped rather than refused.
    pub(crate) allow_bom: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
            allow_bom: false,
        }
    }
}

/// Why the text is not (acceptable) JSON, and the byte where that shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub(crate) offset: usize,
    pub(crate) kind: JsonErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JsonErrorKind {
    #[error("the text is empty")]
    Empty,
    #[error("the text starts with a byte-order mark")]
    ByteOrderMark,
    #[error("invalid UTF-8")]
    InvalidUtf8,
    #[error("unexpected end of text")]
    UnexpectedEnd,
    // Escaped so a newline or control character never breaks the message.
    #[error("unexpected character `{}`", .0.escape_debug())]
    Unexpected(char),
    #[error("invalid number")]
    InvalidNumber,
    #[error("invalid escape sequence in a string")]
    InvalidEscape,
    #[error("unpaired surrogate `\\u{0:04x}` in a string")]
    LoneSurrogate(u16),
    #[error("raw control character U+{0:04X} in a string (write it as an escape)")]
    ControlInString(u32),
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    #[error("text after the end of the JSON value")]
    TrailingData,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

/// Checks that `bytes` are UTF-8, reporting the first bad byte's offset.
pub(crate) fn from_utf8(bytes: &[u8]) -> Result<&str, JsonError> {
    std::str::from_utf8(bytes).map_err(|e| JsonError {
        offset: e.valid_up_to(),
        kind: JsonErrorKind::InvalidUtf8,
    })
}

/// Parses one JSON document.
pub(crate) fn parse(src: &str, options: Options) -> Result<Json, JsonError> {
    let mut p = Parser::new(src, options);
    if p.src.starts_with(b"\xEF\xBB\xBF") {
        if !options.allow_bom {
            return Err(p.error(JsonErrorKind::ByteOrderMark));
        }
        p.pos = 3;
    }
    p.skip_ws();
    if p.pos >= p.src.len() {
        return Err(p.error(JsonErrorKind::Empty));
    }
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.src.len() {
        return Err(p.error(JsonErrorKind::TrailingData));
    }
    Ok(value)
}

struct Parser<'s> {
    text: &'s str,
    src: &'s [u8],
    pos: usize,
    options: Options,
}

impl<'s> Parser<'s> {
    fn new(text: &'s str, options: Options) -> Self {
        Self {
            text,
            src: text.as_bytes(),
            pos: 0,
            options,
        }
    }

    fn error(&self, kind: JsonErrorKind) -> JsonError {
        JsonError {
            offset: self.pos,
            kind,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    /// The character at the current position, for "unexpected" messages.
    fn unexpected(&self) -> JsonError {
        // Every position the parser stops at is a character boundary of the
        // (valid UTF-8) input, except inside a literal, where the byte is ASCII
        // or starts a character.
        let rest = self.src.get(self.pos..).unwrap_or_default();
        let ch = rest
            .utf8_chunks()
            .next()
            .and_then(|chunk| chunk.valid().chars().next());
        match ch {
            Some(c) => self.error(JsonErrorKind::Unexpected(c)),
            None if rest.is_empty() => self.error(JsonErrorKind::UnexpectedEnd),
            None => self.error(JsonErrorKind::InvalidUtf8),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, lit: &[u8]) -> Result<(), JsonError> {
        for &want in lit {
            if self.peek() != Some(want) {
                return Err(self.unexpected());
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        let start = self.pos;
        let value = match self.peek() {
            None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonValue::String(self.string()?),
            Some(b't') => {
                self.expect_literal(b"true")?;
                JsonValue::Bool(true)
            }
            Some(b'f') => {
                self.expect_literal(b"false")?;
                JsonValue::Bool(false)
            }
            Some(b'n') => {
                self.expect_literal(b"null")?;
                JsonValue::Null
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.unexpected()),
        };
        Ok(Json {
            value,
            span: Span::new(start, self.pos),
        })
    }

    fn enter(&self, depth: usize) -> Result<usize, JsonError> {
        let depth = depth + 1;
        if depth > self.options.max_depth {
            return Err(self.error(JsonErrorKind::TooDeep(self.options.max_depth)));
        }
        Ok(depth)
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(JsonValue::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key_start = self.pos;
            let key = self.string_ref()?;
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected());
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            // Keys are never secret; keep them as plain strings.
            members.push(Member {
                key: key.to_owned(),
                key_span,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonValue::Object(members));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        let depth = self.enter(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(JsonValue::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonValue::Array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn number(&mut self) -> Result<JsonValue, JsonError> {
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error(JsonErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error(JsonErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error(JsonErrorKind::InvalidNumber));
            }
        }
        if self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
        {
            return Err(self.error(JsonErrorKind::InvalidNumber));
        }
        Ok(JsonValue::Number)
    }

    /// Reads a string starting at the opening quote.
    fn string(&mut self) -> Result<Zeroizing<String>, JsonError> {
        self.pos += 1; // '"'
        // Find the closing quote first so the buffer is sized once: decoding
        // never makes a string longer, and no reallocation leaves a copy of a
        // secret behind.
        let body_start = self.pos;
        let mut end = body_start;
        loop {
            match self.src.get(end) {
                None => {
                    // A trailing backslash steps past the end; report the end.
                    self.pos = end.min(self.src.len());
                    return Err(self.error(JsonErrorKind::UnexpectedEnd));
                }
                Some(b'"') => break,
                Some(b'\\') => end += 2,
                Some(_) => end += 1,
            }
        }
        let mut out = Zeroizing::new(String::with_capacity(end - body_start));
        while self.pos < end {
            let Some(rest) = self.src.get(self.pos..end) else {
                break;
            };
            // The input is a &str, so slices at ASCII positions are valid UTF-8.
            let run = rest
                .iter()
                .position(|&b| b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            if run > 0 {
                let text = std::str::from_utf8(rest.get(..run).unwrap_or_default())
                    .map_err(|_| self.error(JsonErrorKind::InvalidUtf8))?;
                out.push_str(text);
                self.pos += run;
                continue;
            }
            match self.peek() {
                Some(b'\\') => {
                    let ch = self.escape()?;
                    out.push(ch);
                }
                Some(b) => return Err(self.error(JsonErrorKind::ControlInString(u32::from(b)))),
                None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
            }
        }
        self.pos = end + 1; // closing quote
        Ok(out)
    }

    /// Reads a string starting at the opening quote, borrowing it from the
    /// source when it holds no escape (the common case) and decoding it into
    /// a wiping buffer otherwise. Errors are exactly those of [`Self::string`].
    fn string_ref(&mut self) -> Result<JsonStr<'s>, JsonError> {
        let body_start = self.pos + 1;
        let body = self.src.get(body_start..).unwrap_or_default();
        if let Some(len) = string_stop(body)
            && body.get(len) == Some(&b'"')
            && let Some(text) = self.text.get(body_start..body_start + len)
        {
            self.pos = body_start + len + 1;
            return Ok(JsonStr::Borrowed(text));
        }
        self.string().map(JsonStr::Decoded)
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let digits = self.src.get(self.pos..self.pos + 4).ok_or(JsonError {
            offset: self.pos,
            kind: JsonErrorKind::InvalidEscape,
        })?;
        let mut v: u16 = 0;
        for &d in digits {
            let n = char::from(d).to_digit(16).ok_or(JsonError {
                offset: self.pos,
                kind: JsonErrorKind::InvalidEscape,
            })?;
            v = (v << 4) | n as u16;
        }
        self.pos += 4;
        Ok(v)
    }

    fn escape(&mut self) -> Result<char, JsonError> {
        let at = self.pos;
        self.pos += 1; // '\\'
        let e = self.peek();
        self.pos += 1;
        let ch = match e {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4()?;
                match hi {
                    0xD800..=0xDBFF => {
                        if self.src.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(JsonError {
                                offset: at,
                                kind: JsonErrorKind::LoneSurrogate(hi),
                            });
                        }
                        self.pos += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(JsonError {
                                offset: at,
                                kind: JsonErrorKind::LoneSurrogate(hi),
                            });
                        }
                        let c =
                            0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                        char::from_u32(c).ok_or(JsonError {
                            offset: at,
                            kind: JsonErrorKind::InvalidEscape,
                        })?
                    }
                    0xDC00..=0xDFFF => {
                        return Err(JsonError {
                            offset: at,
                            kind: JsonErrorKind::LoneSurrogate(hi),
                        });
                    }
                    _ => char::from_u32(u32::from(hi)).ok_or(JsonError {
                        offset: at,
                        kind: JsonErrorKind::InvalidEscape,
                    })?,
                }
            }
            _ => {
                return Err(JsonError {
                    offset: at,
                    kind: JsonErrorKind::InvalidEscape,
                });
            }
        };
        Ok(ch)
    }
}

#[cfg(test)]
mod test;
