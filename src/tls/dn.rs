//! The canonical RFC 4514 DN string (tls-identity.md §4), written here because
//! x509-parser's `Display` is not RFC 4514 (forward order, `", "`, no escaping).

use std::borrow::Cow;
use std::fmt::Write as _;

use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use super::der::{self, DerError};

/// DER content bytes of the attribute types that get a keyword, and the
/// keyword. Anything else is written as a dotted OID with a `#hex` value.
const KEYWORDS: &[(&[u8], &str)] = &[
    (&[0x55, 0x04, 0x03], "CN"),
    (&[0x55, 0x04, 0x07], "L"),
    (&[0x55, 0x04, 0x08], "ST"),
    (&[0x55, 0x04, 0x0a], "O"),
    (&[0x55, 0x04, 0x0b], "OU"),
    (&[0x55, 0x04, 0x06], "C"),
    (&[0x55, 0x04, 0x09], "STREET"),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
        "DC",
    ),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
        "UID",
    ),
    (&[0x55, 0x04, 0x05], "serialNumber"),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
        "emailAddress",
    ),
];

/// DER content bytes of the commonName type.
pub(crate) const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

/// The DER content bytes of the type a §4 keyword names.
pub(crate) fn keyword_oid(keyword: &str) -> Option<&'static [u8]> {
    KEYWORDS
        .iter()
        .find(|(_, k)| *k == keyword)
        .map(|(oid, _)| *oid)
}

/// Encodes a dotted OID (`1.3.6.1.4.1.99999.1`) as DER content bytes, or
/// `None` if it is not a well-formed OID.
pub(crate) fn encode_dotted_oid(dotted: &str) -> Option<Vec<u8>> {
    let mut arcs = Vec::new();
    for part in dotted.split('.') {
        let well_formed = !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        if !well_formed {
            return None;
        }
        arcs.push(part.parse::<u64>().ok()?);
    }
    let (&first, rest) = arcs.split_first()?;
    let (&second, rest) = rest.split_first()?;
    if first > 2 || (first < 2 && second > 39) {
        return None;
    }
    let mut out = Vec::new();
    push_base128(&mut out, first.checked_mul(40)?.checked_add(second)?);
    for &arc in rest {
        push_base128(&mut out, arc);
    }
    Some(out)
}

fn push_base128(out: &mut Vec<u8>, mut v: u64) {
    let mut groups = [0u8; 10];
    let mut n = 0;
    loop {
        if let Some(slot) = groups.get_mut(n) {
            *slot = (v & 0x7f) as u8;
        }
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let g = groups.get(i).copied().unwrap_or(0);
        out.push(if i == 0 { g } else { g | 0x80 });
    }
}

/// One attribute of a subject, in RFC 4514 order (most specific first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// DER content bytes of the attribute type (borrowed from the keyword
    /// table when it has one, so the usual types cost no allocation).
    pub(crate) oid: Cow<'static, [u8]>,
    /// The decoded, unescaped value, or `#hex` of the value's DER when it
    /// does not decode (§4.4).
    pub(crate) value: String,
    /// Whether the value decoded as text.
    pub(crate) decoded: bool,
    /// Whether it sits in a multi-valued RDN (threats.md TM-5).
    pub(crate) multi_valued: bool,
}

/// Renders `name` as the canonical string and lists its attributes in the
/// same order.
pub(crate) fn render(name: &X509Name<'_>) -> (String, Vec<Attribute>) {
    let rdns: Vec<_> = name.iter().collect();
    let mut out = String::new();
    let mut attrs = Vec::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let avas: Vec<_> = rdn.iter().collect();
        let multi_valued = avas.len() > 1;
        // AVAs stay in DER order (OpenSSL reverses them; §4.2).
        for (j, ava) in avas.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let attr = render_ava(ava, multi_valued, &mut out);
            attrs.push(attr);
        }
    }
    (out, attrs)
}

fn render_ava(ava: &AttributeTypeAndValue<'_>, multi_valued: bool, out: &mut String) -> Attribute {
    let oid = ava.attr_type().as_bytes();
    let keyword = KEYWORDS.iter().find(|(o, _)| *o == oid).map(|(_, k)| *k);
    let decoded = keyword.and_then(|_| decode_string(ava));
    match keyword {
        Some(k) => out.push_str(k),
        None => out.push_str(&ava.attr_type().to_id_string()),
    }
    out.push('=');
    let (value, is_text) = match decoded {
        Some(text) => {
            escape_into(&text, out);
            (text, true)
        }
        None => {
            let hex = hex_der(ava);
            out.push_str(&hex);
            (hex, false)
        }
    };
    Attribute {
        oid: Cow::Owned(oid.to_vec()),
        value,
        decoded: is_text,
        multi_valued,
    }
}

/// [`render`] over a Name's DER content, read by our own reader: the
/// canonical string and, when `attrs` is given, the attributes in the same
/// order. Same output as [`render`] on the same name (the tests and the
/// `tls_facts_diff` fuzz target compare them).
pub(crate) fn render_der(
    name: &[u8],
    mut attrs: Option<&mut Vec<Attribute>>,
) -> Result<String, DerError> {
    let mut inline: [&[u8]; 16] = [&[]; 16];
    let mut spill = Vec::new();
    let sets = der::rdns(name, &mut inline, &mut spill)?;
    let mut out = String::with_capacity(name.len());
    for (i, set) in sets.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut j = 0usize;
        let mut bad = None;
        der::rdn(set, |ava, multi_valued| {
            if j > 0 {
                out.push('+');
            }
            j += 1;
            if bad.is_none() && !well_formed_oid(ava.oid) {
                bad = Some("a malformed attribute type");
            }
            let attr = render_der_ava(&ava, multi_valued, &mut out);
            if let Some(list) = attrs.as_deref_mut() {
                list.push(attr);
            }
        })?;
        if let Some(e) = bad {
            return Err(e);
        }
    }
    Ok(out)
}

/// Whether OID content octets are well-formed base 128: no arc starts with
/// a `0x80` octet and the last octet ends an arc.
fn well_formed_oid(oid: &[u8]) -> bool {
    let mut starts_arc = true;
    for &b in oid {
        if starts_arc && b == 0x80 {
            return false;
        }
        starts_arc = b & 0x80 == 0;
    }
    starts_arc && !oid.is_empty()
}

fn render_der_ava(ava: &der::Ava<'_>, multi_valued: bool, out: &mut String) -> Attribute {
    let known = KEYWORDS.iter().find(|(o, _)| *o == ava.oid);
    let keyword = known.map(|(_, k)| *k);
    let decoded = match keyword {
        Some(_) if ava.value.is_universal_primitive() => {
            decode_text(ava.value.number, ava.value.value)
        }
        _ => None,
    };
    match keyword {
        Some(k) => out.push_str(k),
        None => out.push_str(&oid_name(ava.oid)),
    }
    out.push('=');
    let (value, is_text) = match decoded {
        Some(text) => {
            escape_into(&text, out);
            (text, true)
        }
        None => {
            let mut hex = String::with_capacity(1 + 2 * ava.value.raw.len());
            hex.push('#');
            for b in ava.value.raw {
                let _ = write!(hex, "{b:02x}");
            }
            out.push_str(&hex);
            (hex, false)
        }
    };
    Attribute {
        oid: match known {
            Some((o, _)) => Cow::Borrowed(*o),
            None => Cow::Owned(ava.oid.to_vec()),
        },
        value,
        decoded: is_text,
        multi_valued,
    }
}

/// Decodes a DirectoryString-like value (§4.4); `None` for any other type
/// or bytes that do not decode. Never lossy.
fn decode_string(ava: &AttributeTypeAndValue<'_>) -> Option<String> {
    let any = ava.attr_value();
    if !any.header.is_universal() || any.header.is_constructed() {
        return None;
    }
    decode_text(any.header.tag().0, any.data)
}

/// Decodes the content of a universal, primitive string of type `tag`.
fn decode_text(tag: u32, data: &[u8]) -> Option<String> {
    match tag {
        // UTF8String
        12 => std::str::from_utf8(data).ok().map(str::to_owned),
        // NumericString, PrintableString, IA5String: ASCII only.
        18 | 19 | 22 => data
            .is_ascii()
            .then(|| String::from_utf8(data.to_vec()).ok())
            .flatten(),
        // TeletexString, read as Latin-1 (one byte, one code point: injective).
        20 => Some(data.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE, no lone surrogates.
        30 => {
            if !data.len().is_multiple_of(2) {
                return None;
            }
            let units = data.chunks_exact(2).map(|c| {
                let mut b = [0u8; 2];
                b.copy_from_slice(c);
                u16::from_be_bytes(b)
            });
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        // UniversalString: UTF-32BE.
        28 => {
            if !data.len().is_multiple_of(4) {
                return None;
            }
            data.chunks_exact(4)
                .map(|c| {
                    let mut b = [0u8; 4];
                    b.copy_from_slice(c);
                    char::from_u32(u32::from_be_bytes(b))
                })
                .collect()
        }
        _ => None,
    }
}

/// `#` and the lowercase hex of the value's whole DER (tag, length, content).
fn hex_der(ava: &AttributeTypeAndValue<'_>) -> String {
    let any = ava.attr_value();
    let mut der = Vec::with_capacity(any.data.len() + 8);
    match any.header.raw_tag() {
        Some(raw) => der.extend_from_slice(raw),
        None => {
            let class = any.header.class() as u8;
            let constructed = u8::from(any.header.is_constructed());
            let tag = any.header.tag().0;
            let first = (class << 6) | (constructed << 5);
            if tag < 31 {
                der.push(first | tag as u8);
            } else {
                der.push(first | 0x1f);
                push_base128(&mut der, u64::from(tag));
            }
        }
    }
    let len = any.data.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or(&[]);
        der.push(0x80 | significant.len() as u8);
        der.extend_from_slice(significant);
    }
    der.extend_from_slice(any.data);
    let mut out = String::with_capacity(1 + der.len() * 2);
    out.push('#');
    for b in der {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Appends `value` escaped per §4.5.
pub(crate) fn escape_into(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0'..='\x1f' | '\x7f' => {
                let _ = write!(out, "\\{:02X}", c as u32);
            }
            _ => out.push(c),
        }
    }
}

/// The §4 keyword of an attribute type, or its dotted OID.
pub(crate) fn oid_name(oid: &[u8]) -> String {
    if let Some((_, k)) = KEYWORDS.iter().find(|(o, _)| *o == oid) {
        return (*k).to_owned();
    }
    x509_parser::der_parser::oid::Oid::new(Cow::Borrowed(oid)).to_id_string()
}
