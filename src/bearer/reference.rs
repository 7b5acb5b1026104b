//! The serde_json reader that [`token`](super::token) replaced, kept as the
//! oracle for tests and the `bearer_json_diff` fuzz target (through
//! `internal`), never on the validation path. Both readers give their
//! result in the same owned, normalized form ([`ReadHeader`],
//! [`ReadClaims`]) so the two can be compared.
//!
//! Where the new reader is deliberately stricter than serde's typed pass,
//! the reference applies the same rule up front, through serde_json's
//! `Value` (which validates every string, escape and number, read or not)
//! and a depth count: invalid UTF-8 or a lone surrogate in a skipped
//! member, and nesting deeper than [`MAX_DEPTH`](super::token::MAX_DEPTH).
//! The header is read as a map only (serde's derive also took an array),
//! and any `crit`, `null` included, counts as present.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::token::{self, Loose, MAX_DEPTH};
use super::validator::numeric_date;

/// A header as read, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadHeader {
    /// `alg`.
    pub alg: String,
    /// `kid` (`null` reads as absent).
    pub kid: Option<String>,
    /// Whether `crit` is present.
    pub crit: bool,
}

/// A claim value as read, normalized: a number as the NumericDate it gives
/// (floored, saturated), an array of strings as its strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadValue {
    /// A string.
    Str(String),
    /// A number, as `numeric_date` reads it.
    Num(i64),
    /// An array of strings only.
    Strs(Vec<String>),
    /// Anything else.
    Other,
}

/// The claims as read, owned: `iss`, `aud`, `exp`, `nbf`, then one per
/// rule claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadClaims {
    /// `iss`, `aud`, `exp`, `nbf`.
    pub standard: [Option<ReadValue>; 4],
    /// The rules' claims, in the validator's order.
    pub rules: Vec<Option<ReadValue>>,
}

fn normalize(v: &Loose<'_>) -> ReadValue {
    match v {
        Loose::Str(s) => ReadValue::Str(s.as_ref().to_owned()),
        Loose::Int(_) | Loose::Float(_) => {
            numeric_date(Some(v), "n").map_or(ReadValue::Other, ReadValue::Num)
        }
        Loose::Strs(l) => ReadValue::Strs(l.iter().map(Cow::into_owned).collect()),
        Loose::Other => ReadValue::Other,
    }
}

fn normalize_ref(v: &RefLoose<'_>) -> ReadValue {
    match v {
        RefLoose::Str(s) => ReadValue::Str(s.as_ref().to_owned()),
        RefLoose::Int(i) => ReadValue::Num(*i),
        #[expect(clippy::cast_possible_truncation, reason = "saturating is intended")]
        RefLoose::Float(f) if f.is_finite() => ReadValue::Num(f.floor() as i64),
        RefLoose::Float(_) => ReadValue::Other,
        RefLoose::Strs(l) => ReadValue::Strs(l.iter().map(|s| s.as_ref().to_owned()).collect()),
        RefLoose::Other => ReadValue::Other,
    }
}

/// The new reader's header, normalized; the error is the rejection's
/// problem text.
pub(crate) fn header(bytes: &[u8]) -> Result<ReadHeader, String> {
    let h = token::read_header(bytes).map_err(|p| p.message(&[]))?;
    Ok(ReadHeader {
        alg: h.alg.into_owned(),
        kid: h.kid.map(Cow::into_owned),
        crit: h.crit,
    })
}

/// The new reader's claims, normalized.
pub(crate) fn claims(bytes: &[u8], rule_claims: &[Arc<str>]) -> Result<ReadClaims, String> {
    let c = token::read_claims(bytes, rule_claims).map_err(|p| p.message(rule_claims))?;
    Ok(ReadClaims {
        standard: [&c.iss, &c.aud, &c.exp, &c.nbf].map(|v| v.as_ref().map(normalize)),
        rules: c
            .rule_values
            .iter()
            .take(rule_claims.len())
            .map(|v| v.as_ref().map(normalize))
            .collect(),
    })
}

/// Whether `bytes` pass the checks the new reader adds to serde's typed
/// pass: one JSON document serde_json's `Value` accepts (every string,
/// escape and number valid), nested at most [`MAX_DEPTH`] deep. When they
/// do, the two readers' problem texts agree as well.
pub(crate) fn strict_json(bytes: &[u8]) -> bool {
    fn depth(v: &serde_json::Value) -> u32 {
        match v {
            serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| depth(&v) <= MAX_DEPTH)
}

/// The reference header reader (serde), normalized.
pub(crate) fn reference_header(bytes: &[u8]) -> Result<ReadHeader, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let h = (&mut de)
        .deserialize_map(HeaderVisitor)
        .and_then(|h| de.end().map(|()| h))
        .map_err(|e| json_problem(&e))?;
    if !strict_json(bytes) {
        return Err("not JSON".to_owned());
    }
    Ok(h)
}

/// The reference claims reader (serde), normalized.
pub(crate) fn reference_claims(
    bytes: &[u8],
    rule_claims: &[Arc<str>],
) -> Result<ReadClaims, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let c = ClaimsSeed { rule_claims }
        .deserialize(&mut de)
        .and_then(|c| de.end().map(|()| c))
        .map_err(|e| json_problem(&e))?;
    if !strict_json(bytes) {
        return Err("not JSON".to_owned());
    }
    Ok(ReadClaims {
        standard: [&c.iss, &c.aud, &c.exp, &c.nbf].map(|v| v.as_ref().map(normalize_ref)),
        rules: c
            .rule_values
            .iter()
            .map(|v| v.as_ref().map(normalize_ref))
            .collect(),
    })
}

/// What is wrong with a part's JSON, never quoting it: serde's messages
/// can hold input text ("invalid type: string \"...\""), so only those
/// naming a member alone are kept.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io | Category::Eof => "truncated JSON".to_owned(),
        Category::Syntax => "not JSON".to_owned(),
        Category::Data => {
            let m = e.to_string();
            let m = m.find(" at line ").and_then(|i| m.get(..i)).unwrap_or(&m);
            let named = ["missing field `", "duplicate field `", "claim `"]
                .iter()
                .any(|p| m.starts_with(p));
            if named {
                m.to_owned()
            } else {
                "not a JSON object of the expected shape".to_owned()
            }
        }
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = ReadHeader;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JOSE header")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadHeader, A::Error> {
        let mut alg: Option<Cow<'de, str>> = None;
        let mut kid: Option<Option<Cow<'de, str>>> = None;
        let mut crit = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "alg" => {
                    if alg.is_some() {
                        return Err(de::Error::duplicate_field("alg"));
                    }
                    alg = Some(map.next_value::<BorrowedStr<'de>>()?.0);
                }
                "kid" => {
                    if kid.is_some() {
                        return Err(de::Error::duplicate_field("kid"));
                    }
                    kid = Some(map.next_value::<Option<BorrowedStr<'de>>>()?.map(|s| s.0));
                }
                "crit" => {
                    if crit {
                        return Err(de::Error::duplicate_field("crit"));
                    }
                    map.next_value::<IgnoredAny>()?;
                    crit = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let alg = alg.ok_or_else(|| de::Error::missing_field("alg"))?;
        Ok(ReadHeader {
            alg: alg.into_owned(),
            kid: kid.flatten().map(Cow::into_owned),
            crit,
        })
    }
}

/// A string, borrowed when it has no escapes (serde's `Cow<str>` alone
/// always copies).
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

struct RefClaims<'a> {
    iss: Option<RefLoose<'a>>,
    aud: Option<RefLoose<'a>>,
    exp: Option<RefLoose<'a>>,
    nbf: Option<RefLoose<'a>>,
    rule_values: Vec<Option<RefLoose<'a>>>,
}

#[derive(Debug)]
enum RefLoose<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Strs(Vec<Cow<'a, str>>),
    Other,
}

impl<'de> de::Deserialize<'de> for RefLoose<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = RefLoose<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a claim value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(RefLoose::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RefLoose::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RefLoose::Str(Cow::Owned(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(RefLoose::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        #[expect(clippy::cast_precision_loss, reason = "saturated by numeric_date")]
        Ok(i64::try_from(v).map_or(RefLoose::Float(v as f64), RefLoose::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(RefLoose::Float(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(RefLoose::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RefLoose::Other)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut strs = Vec::new();
        let mut only_strings = true;
        while let Some(item) = seq.next_element::<RefLoose<'de>>()? {
            match item {
                RefLoose::Str(s) if only_strings => strs.push(s),
                _ => only_strings = false,
            }
        }
        Ok(if only_strings {
            RefLoose::Strs(strs)
        } else {
            RefLoose::Other
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(RefLoose::Other)
    }
}

struct ClaimsSeed<'a> {
    rule_claims: &'a [Arc<str>],
}

enum Slot {
    Iss,
    Aud,
    Exp,
    Nbf,
    Rule(usize),
    Other,
}

struct KeySeed<'a>(&'a [Arc<str>]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Slot;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Slot;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Slot, E> {
        Ok(match v {
            "iss" => Slot::Iss,
            "aud" => Slot::Aud,
            "exp" => Slot::Exp,
            "nbf" => Slot::Nbf,
            _ => self
                .0
                .iter()
                .position(|c| &**c == v)
                .map_or(Slot::Other, Slot::Rule),
        })
    }
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = RefClaims<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RefClaims<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = RefClaims<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RefClaims<'de>, A::Error> {
        fn put<'v, E: de::Error>(
            slot: &mut Option<RefLoose<'v>>,
            v: RefLoose<'v>,
            name: &str,
        ) -> Result<(), E> {
            if slot.replace(v).is_some() {
                return Err(E::custom(format!("claim `{name}` is given twice")));
            }
            Ok(())
        }
        let mut c = RefClaims {
            iss: None,
            aud: None,
            exp: None,
            nbf: None,
            rule_values: std::iter::repeat_with(|| None)
                .take(self.rule_claims.len())
                .collect(),
        };
        while let Some(slot) = map.next_key_seed(KeySeed(self.rule_claims))? {
            match slot {
                Slot::Iss => put(&mut c.iss, map.next_value()?, "iss")?,
                Slot::Aud => put(&mut c.aud, map.next_value()?, "aud")?,
                Slot::Exp => put(&mut c.exp, map.next_value()?, "exp")?,
                Slot::Nbf => put(&mut c.nbf, map.next_value()?, "nbf")?,
                Slot::Rule(i) => {
                    let name = self.rule_claims.get(i).map_or("", |n| &**n);
                    match c.rule_values.get_mut(i) {
                        Some(s) => put(s, map.next_value()?, name)?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Slot::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(c)
    }
}
