//! The strict reader for the two JSON parts of a compact JWS (RFC 7515
//! §7.1): the JOSE header and the JWT claims, read straight from the
//! decoded bytes, with no serde and no heap allocation for a usual token
//! (strings are borrowed unless they hold escapes; `aud` lists stay as
//! their validated text and are walked when checked).
//!
//! What is accepted is RFC 8259 JSON with one object at the top, and on
//! top of the grammar: valid UTF-8 throughout (no BOM), no lone surrogate
//! in any `\u` escape, containers nested at most [`MAX_DEPTH`] deep, and no
//! number beyond the range of a double (serde_json refused those too).
//! Every value is validated, read or not.
//!
//! Duplicates: a repeated member that the checks read (`alg`, `kid`,
//! `crit` in the header; `iss`, `aud`, `exp`, `nbf` and the rules' claims)
//! is refused, as taking either copy would let the token mean two things.
//! A repeated member nobody reads is accepted (RFC 7519 §4 allows either):
//! the validator hands on only the principal, `iss` and `kid`, so a second
//! copy of an unread claim changes nothing it decides or reports, and
//! refusing it would need a set of every name per token. This is what the
//! serde reader did before.
//!
//! A problem never quotes the input: it names the shape of the fault, or a
//! member by the name the configuration gives it.

use std::borrow::Cow;
use std::sync::Arc;

use super::rules::MAX_RULES;

/// Deepest nesting accepted, the top object counting as 1. Tokens carry
/// flat claims; this only bounds the reader's work on hostile input.
pub(crate) const MAX_DEPTH: u32 = 32;

/// What is wrong with a part's JSON. Small and `Copy`: it is passed up
/// through every step of the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The input ends inside a value.
    Truncated,
    /// Not JSON (grammar, UTF-8, escapes, a number out of range).
    Syntax,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// JSON, but not an object, or a header member of the wrong type.
    Shape,
    /// The header has no `alg`.
    MissingAlg,
    /// A header member given twice.
    DuplicateHeader(HeaderMember),
    /// A claim the checks read, given twice.
    DuplicateClaim(ClaimSlot),
}

/// A header member we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderMember {
    Alg,
    Kid,
    Crit,
}

/// A claim we read: a standard one, or a rule's claim by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimSlot {
    Iss,
    Aud,
    Exp,
    Nbf,
    Rule(u8),
    Other,
}

impl Problem {
    /// The text for [`Reason::Malformed`](super::Reason::Malformed), the
    /// wording serde's reader gave for the same faults; a claim by the
    /// name the configuration gives it (`rule_claims`), never the input's.
    pub(crate) fn message(self, rule_claims: &[Arc<str>]) -> String {
        match self {
            Self::Truncated => "truncated JSON".to_owned(),
            Self::Syntax => "not JSON".to_owned(),
            Self::TooDeep => format!("JSON nested deeper than {MAX_DEPTH} levels"),
            Self::Shape => "not a JSON object of the expected shape".to_owned(),
            Self::MissingAlg => "missing field `alg`".to_owned(),
            Self::DuplicateHeader(m) => format!(
                "duplicate field `{}`",
                match m {
                    HeaderMember::Alg => "alg",
                    HeaderMember::Kid => "kid",
                    HeaderMember::Crit => "crit",
                }
            ),
            Self::DuplicateClaim(slot) => {
                let name = match slot {
                    ClaimSlot::Iss => "iss",
                    ClaimSlot::Aud => "aud",
                    ClaimSlot::Exp => "exp",
                    ClaimSlot::Nbf => "nbf",
                    ClaimSlot::Rule(i) => rule_claims.get(usize::from(i)).map_or("", |n| &**n),
                    ClaimSlot::Other => "",
                };
                format!("claim `{name}` is given twice")
            }
        }
    }
}

/// The JOSE header members we read; the others are validated and skipped
/// (`typ`, `cty`, and `jku`/`jwk`/`x5u`/`x5c`, which never pick the key:
/// RFC 8725 §3.10).
#[derive(Debug)]
pub(crate) struct Header<'a> {
    pub(crate) alg: Cow<'a, str>,
    /// `null` reads as absent, as it did before.
    pub(crate) kid: Option<Cow<'a, str>>,
    /// Whether `crit` is present, whatever its value: nothing is
    /// understood, so any `crit` is refused.
    pub(crate) crit: bool,
}

/// The claims we read, each at most once.
#[derive(Debug)]
pub(crate) struct Claims<'a> {
    pub(crate) iss: Option<Loose<'a>>,
    pub(crate) aud: Option<Loose<'a>>,
    pub(crate) exp: Option<Loose<'a>>,
    pub(crate) nbf: Option<Loose<'a>>,
    /// By the validator's rule-claim index (at most [`MAX_RULES`]).
    pub(crate) rule_values: [Option<Loose<'a>>; MAX_RULES],
}

/// A claim's value as far as the checks need it.
#[derive(Debug, Clone)]
pub(crate) enum Loose<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    /// An array of strings only (`aud`), kept as its validated text.
    Strs(StrList<'a>),
    /// Anything else: a type no check accepts.
    Other,
}

/// A validated JSON array of strings, walked on demand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StrList<'a> {
    /// From `[` to `]`, already validated.
    raw: &'a str,
}

impl<'a> StrList<'a> {
    /// The strings, unescaped.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Cow<'a, str>> + use<'a> {
        let mut c = Cursor::new(self.raw);
        c.pos = 1;
        std::iter::from_fn(move || {
            c.ws();
            if c.peek() == Some(b',') {
                c.pos += 1;
                c.ws();
            }
            if c.peek() != Some(b'"') {
                return None;
            }
            c.string().and_then(JsonStr::value).ok()
        })
    }
}

/// Reads a header. The whole part must be one object (whitespace around
/// it allowed), `alg` a string, `kid` a string or `null`.
pub(crate) fn read_header(bytes: &[u8]) -> Result<Header<'_>, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| Problem::Syntax)?;
    let mut c = Cursor::new(text);
    let mut alg = None;
    let mut kid: Option<Option<Cow<'_, str>>> = None;
    let mut crit = false;
    c.object(|c, key| {
        // A repeat is refused at its name, before its value is read.
        match &*key.value()? {
            "alg" => {
                if alg.is_some() {
                    return Err(Problem::DuplicateHeader(HeaderMember::Alg));
                }
                c.colon()?;
                alg = Some(c.header_string()?);
            }
            "kid" => {
                if kid.is_some() {
                    return Err(Problem::DuplicateHeader(HeaderMember::Kid));
                }
                c.colon()?;
                kid = Some(if c.next_ws()? == b'n' {
                    c.literal(b"null")?;
                    None
                } else {
                    Some(c.header_string()?)
                });
            }
            "crit" => {
                if crit {
                    return Err(Problem::DuplicateHeader(HeaderMember::Crit));
                }
                c.colon()?;
                c.skip_value(1)?;
                crit = true;
            }
            _ => {
                c.colon()?;
                c.skip_value(1)?;
            }
        }
        Ok(())
    })?;
    let alg = alg.ok_or(Problem::MissingAlg)?;
    c.end()?;
    Ok(Header {
        alg,
        kid: kid.flatten(),
        crit,
    })
}

/// Reads the claims; `rule_claims` are the names the rules read (at most
/// [`MAX_RULES`]; more are ignored).
pub(crate) fn read_claims<'a>(
    bytes: &'a [u8],
    rule_claims: &[Arc<str>],
) -> Result<Claims<'a>, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| Problem::Syntax)?;
    let mut c = Cursor::new(text);
    let mut claims = Claims {
        iss: None,
        aud: None,
        exp: None,
        nbf: None,
        rule_values: [const { None }; MAX_RULES],
    };
    c.object(|c, key| {
        let key = key.value()?;
        // Standard claims first: a rule may name `iss` or `aud` too, but
        // they are checked as themselves (and a rule on them sees nothing).
        let slot = match &*key {
            "iss" => ClaimSlot::Iss,
            "aud" => ClaimSlot::Aud,
            "exp" => ClaimSlot::Exp,
            "nbf" => ClaimSlot::Nbf,
            k => rule_claims
                .iter()
                .position(|r| &**r == k)
                .and_then(|i| u8::try_from(i).ok())
                .map_or(ClaimSlot::Other, ClaimSlot::Rule),
        };
        c.colon()?;
        let place = match slot {
            ClaimSlot::Other => return c.skip_value(1),
            ClaimSlot::Iss => &mut claims.iss,
            ClaimSlot::Aud => &mut claims.aud,
            ClaimSlot::Exp => &mut claims.exp,
            ClaimSlot::Nbf => &mut claims.nbf,
            ClaimSlot::Rule(i) => match claims.rule_values.get_mut(usize::from(i)) {
                Some(place) => place,
                None => return c.skip_value(1),
            },
        };
        // A repeat is refused once its value has been read (serde's order).
        let v = c.loose()?;
        if place.replace(v).is_some() {
            return Err(Problem::DuplicateClaim(slot));
        }
        Ok(())
    })?;
    c.end()?;
    Ok(claims)
}

/// A string's text between its quotes, escapes validated.
#[derive(Clone, Copy)]
struct JsonStr<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// The value: borrowed when there is nothing to unescape.
    #[inline(always)]
    fn value(self) -> Result<Cow<'a, str>, Problem> {
        if self.escaped {
            unescape(self.raw).map(Cow::Owned).ok_or(Problem::Syntax)
        } else {
            Ok(Cow::Borrowed(self.raw))
        }
    }
}

/// Decodes the escapes of a string already validated by
/// [`Cursor::string`]; `None` only if it was not.
#[cold]
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(&mut chars)?;
                let cp = if (0xD800..0xDC00).contains(&hi) {
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    let lo = hex4(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                // A lone trailing surrogate is no char: refused here too.
                char::from_u32(cp)?
            }
            _ => return None,
        });
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v << 4 | chars.next()?.to_digit(16)?;
    }
    Some(v)
}

/// A position in a part's text. Every slice taken ends at an ASCII byte,
/// so it is always on a char boundary.
struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn next_ws(&mut self) -> Result<u8, Problem> {
        self.ws();
        self.peek().ok_or(Problem::Truncated)
    }

    fn end(&mut self) -> Result<(), Problem> {
        self.ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Problem::Syntax),
        }
    }

    fn colon(&mut self) -> Result<(), Problem> {
        if self.next_ws()? != b':' {
            return Err(Problem::Syntax);
        }
        self.pos += 1;
        Ok(())
    }

    /// One object at the top; `member` gets each name with the cursor
    /// before the colon and must consume the colon and the value.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, JsonStr<'a>) -> Result<(), Problem>,
    ) -> Result<(), Problem> {
        match self.next_ws()? {
            b'{' => self.pos += 1,
            b'"' | b'[' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => return Err(Problem::Shape),
            _ => return Err(Problem::Syntax),
        }
        if self.next_ws()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.next_ws()? != b'"' {
                return Err(Problem::Syntax);
            }
            let key = self.string()?;
            member(self, key)?;
            match self.next_ws()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Problem::Syntax),
            }
        }
    }

    /// A header member that must be a string.
    fn header_string(&mut self) -> Result<Cow<'a, str>, Problem> {
        match self.next_ws()? {
            b'"' => self.string()?.value(),
            b'[' | b'{' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => Err(Problem::Shape),
            _ => Err(Problem::Syntax),
        }
    }

    /// A string, the cursor on its opening quote. Inlined: its result
    /// then stays in registers (returned through memory, it stalled the
    /// loads that read it back).
    #[inline(always)]
    fn string(&mut self) -> Result<JsonStr<'a>, Problem> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Straight to the next byte that is not plain string text.
            self.pos += plain_run(self.bytes.get(self.pos..).unwrap_or_default());
            match self.peek().ok_or(Problem::Truncated)? {
                b'"' => {
                    let raw = self.text.get(start..self.pos).unwrap_or_default();
                    self.pos += 1;
                    return Ok(JsonStr { raw, escaped });
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    self.escape()?;
                }
                0..=0x1f => return Err(Problem::Syntax),
                _ => self.pos += 1,
            }
        }
    }

    #[cold]
    /// An escape after its backslash; a `\u` leading surrogate must be
    /// followed by an escaped trailing one (RFC 8259 §7).
    fn escape(&mut self) -> Result<(), Problem> {
        let b = self.peek().ok_or(Problem::Truncated)?;
        self.pos += 1;
        match b {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => match self.hex4()? {
                0xD800..=0xDBFF => {
                    for want in [b'\\', b'u'] {
                        if self.peek().ok_or(Problem::Truncated)? != want {
                            return Err(Problem::Syntax);
                        }
                        self.pos += 1;
                    }
                    match self.hex4()? {
                        0xDC00..=0xDFFF => Ok(()),
                        _ => Err(Problem::Syntax),
                    }
                }
                0xDC00..=0xDFFF => Err(Problem::Syntax),
                _ => Ok(()),
            },
            _ => Err(Problem::Syntax),
        }
    }

    fn hex4(&mut self) -> Result<u32, Problem> {
        let mut v = 0;
        for _ in 0..4 {
            let d = char::from(self.peek().ok_or(Problem::Truncated)?)
                .to_digit(16)
                .ok_or(Problem::Syntax)?;
            v = v << 4 | d;
            self.pos += 1;
        }
        Ok(v)
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Problem> {
        for &want in word {
            if self.peek().ok_or(Problem::Truncated)? != want {
                return Err(Problem::Syntax);
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn digits(&mut self) -> Result<(), Problem> {
        if !self.peek().ok_or(Problem::Truncated)?.is_ascii_digit() {
            return Err(Problem::Syntax);
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        Ok(())
    }

    /// A number (RFC 8259 §6), the cursor on its first byte: its text,
    /// and whether it is a plain integer (no fraction, no exponent).
    fn number(&mut self) -> Result<(&'a str, bool), Problem> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek().ok_or(Problem::Truncated)? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits()?,
            _ => return Err(Problem::Syntax),
        }
        let int_len = self.pos - start;
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            plain = false;
            self.digits()?;
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            plain = false;
            exponent = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        // Only an exponent or over 300 integer digits can pass a double's
        // range; such a number is refused, read or not.
        if (exponent || int_len > 300) && text.parse::<f64>().map_or(true, f64::is_infinite) {
            return Err(Problem::Syntax);
        }
        Ok((text, plain))
    }

    /// A read claim's value.
    fn loose(&mut self) -> Result<Loose<'a>, Problem> {
        match self.next_ws()? {
            b'"' => Ok(Loose::Str(self.string()?.value()?)),
            b'-' | b'0'..=b'9' => {
                let (text, plain) = self.number()?;
                if plain && let Ok(i) = text.parse::<i64>() {
                    return Ok(Loose::Int(i));
                }
                // Beyond i64, or a fraction: a double, as before.
                text.parse::<f64>()
                    .map(Loose::Float)
                    .map_err(|_| Problem::Syntax)
            }
            b'[' => {
                let start = self.pos;
                self.pos += 1;
                let mut only_strings = true;
                if self.next_ws()? == b']' {
                    self.pos += 1;
                } else {
                    loop {
                        if self.next_ws()? == b'"' {
                            self.string()?;
                        } else {
                            only_strings = false;
                            self.skip_value(2)?;
                        }
                        match self.next_ws()? {
                            b',' => self.pos += 1,
                            b']' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(Problem::Syntax),
                        }
                    }
                }
                Ok(if only_strings {
                    Loose::Strs(StrList {
                        raw: self.text.get(start..self.pos).unwrap_or_default(),
                    })
                } else {
                    Loose::Other
                })
            }
            _ => self.skip_value(1).map(|()| Loose::Other),
        }
    }

    /// Validates and skips one value inside `depth` open containers,
    /// without recursion: one bit per open container (set for an object).
    fn skip_value(&mut self, depth: u32) -> Result<(), Problem> {
        let mut objects: u64 = 0;
        let mut open: u32 = 0;
        loop {
            // A value is expected here.
            match self.next_ws()? {
                b @ (b'{' | b'[') => {
                    if depth + open >= MAX_DEPTH {
                        return Err(Problem::TooDeep);
                    }
                    self.pos += 1;
                    let object = b == b'{';
                    let close = if object { b'}' } else { b']' };
                    if self.next_ws()? == close {
                        // Empty: a whole value already.
                        self.pos += 1;
                    } else {
                        objects = objects << 1 | u64::from(object);
                        open += 1;
                        if object {
                            self.member_name()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return Err(Problem::Syntax),
            }
            // After a value: close what ends here, or go on to the next.
            loop {
                if open == 0 {
                    return Ok(());
                }
                let object = objects & 1 == 1;
                match (self.next_ws()?, object) {
                    (b',', _) => {
                        self.pos += 1;
                        if object {
                            self.member_name()?;
                        }
                        break;
                    }
                    (b'}', true) | (b']', false) => {
                        self.pos += 1;
                        objects >>= 1;
                        open -= 1;
                    }
                    _ => return Err(Problem::Syntax),
                }
            }
        }
    }

    /// A member's name and its colon, inside a skipped object.
    fn member_name(&mut self) -> Result<(), Problem> {
        if self.next_ws()? != b'"' {
            return Err(Problem::Syntax);
        }
        self.string()?;
        self.colon()
    }
}

/// The base64url alphabet's values (RFC 4648 §5), already shifted into
/// their place in a 24-bit group for each of the four positions, so a
/// group is four lookups ORed; every other byte (`=` included) has the
/// top byte set, which survives the ORs and is checked once at the end.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: a bad index fails the build, never a caller"
)]
const BASE64URL: [[u32; 256]; 4] = {
    let mut t = [[0xff00_0000; 256]; 4];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        let c = alphabet[i] as usize;
        let v = i as u32;
        t[0][c] = v << 18;
        t[1][c] = v << 12;
        t[2][c] = v << 6;
        t[3][c] = v;
        i += 1;
    }
    t
};

/// How many bytes `len` characters of unpadded base64url decode to, or
/// `None` for an impossible length (1 mod 4).
pub(crate) fn base64url_len(len: usize) -> Option<usize> {
    let tail = match len % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    Some(len / 4 * 3 + tail)
}

/// Decodes strict unpadded base64url into the front of `out` and returns
/// the length: no padding, no other alphabet, no length of 1 mod 4, and
/// the unused bits of the last character zero (the canonical encoding
/// only; the `base64` crate's `URL_SAFE_NO_PAD` accepted exactly this).
/// `None` when `text` is not that, or `out` is too short.
pub(crate) fn decode_base64url(text: &[u8], out: &mut [u8]) -> Option<usize> {
    let n = base64url_len(text.len())?;
    let out = out.get_mut(..n)?;
    let [t0, t1, t2, t3] = &BASE64URL;
    let at = |t: &[u32; 256], b: u8| t.get(usize::from(b)).copied().unwrap_or(0xff00_0000);
    let mut bad = 0;
    let mut quads = text.chunks_exact(4);
    let mut triples = out.chunks_exact_mut(3);
    for (q, o) in quads.by_ref().zip(triples.by_ref()) {
        if let (&[a, b, c, d], [x, y, z]) = (q, o) {
            let v = at(t0, a) | at(t1, b) | at(t2, c) | at(t3, d);
            bad |= v;
            let [_, hi, mid, lo] = v.to_be_bytes();
            (*x, *y, *z) = (hi, mid, lo);
        }
    }
    // The last character's unused low bits must be zero: a canonical
    // encoding only.
    match (quads.remainder(), triples.into_remainder()) {
        ([], []) => {}
        (&[a, b], [x]) => {
            let v = at(t0, a) | at(t1, b);
            bad |= v | (v & 0xf000) << 12;
            let [_, hi, _, _] = v.to_be_bytes();
            *x = hi;
        }
        (&[a, b, c], [x, y]) => {
            let v = at(t0, a) | at(t1, b) | at(t2, c);
            bad |= v | (v & 0x00c0) << 18;
            let [_, hi, mid, _] = v.to_be_bytes();
            (*x, *y) = (hi, mid);
        }
        _ => return None,
    }
    (bad & 0xff00_0000 == 0).then_some(n)
}

/// How many bytes at the start of `text` are plain string content: not `"`,
/// `\\` or a control character. Eight bytes at a time (SWAR): a byte is
/// flagged when it equals a quote or a backslash (its XOR is zero) or is
/// under 0x20; borrows can flag bytes after a true hit, never before it, so
/// the lowest flag is exact. Bytes of 0x80 and above are never flagged.
pub(crate) fn plain_run(text: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut done = 0;
    for chunk in text.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(word);
        let hits = (zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if hits != 0 {
            return done + (hits.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    let rest = text.get(done..).unwrap_or_default();
    done + rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(rest.len())
}
