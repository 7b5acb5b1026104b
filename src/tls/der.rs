//! A strict DER reader for the few parts of a leaf certificate the mapper
//! reads (the subject and issuer names and the subjectAltName extension),
//! in one pass over the bytes with no allocation.
//!
//! Why our own: x509-parser builds the whole certificate (every field,
//! every extension, OIDs and times decoded) when the rules need two names
//! and one extension; that was about half the cost of a mapping. The
//! certificate was verified by webpki before it gets here, so the fields
//! this reader skips (serial, algorithms, validity, key, signature) have
//! been checked there; here they only have to be well-formed TLVs of the
//! right type in the right place. The tests and the `tls_facts_diff` fuzz
//! target hold it to the x509-parser path kept in `facts/reference.rs`.
//!
//! Stricter than BER on purpose: definite lengths in their shortest form,
//! tags in their shortest form, nothing after the certificate.

/// What was wrong with the DER (public: it names a structure, never a value).
pub(crate) type DerError = &'static str;

/// One TLV: its identifier octets decoded, its content, and the whole
/// encoding (for `#hex` rendering).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    /// The first identifier octet (class, constructed bit, low tag bits).
    pub(crate) first: u8,
    /// The tag number (from the high-tag-number form when needed).
    pub(crate) number: u32,
    /// The content octets.
    pub(crate) value: &'a [u8],
    /// Identifier, length and content octets.
    pub(crate) raw: &'a [u8],
}

impl Tlv<'_> {
    /// Universal class, primitive.
    pub(crate) fn is_universal_primitive(&self) -> bool {
        self.first & 0xe0 == 0
    }

    /// Context-specific class.
    pub(crate) fn is_context_specific(&self) -> bool {
        self.first & 0xc0 == 0x80
    }
}

/// Reads TLVs one after another from a slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

/// Longest content accepted: 4 length octets (a certificate is far smaller).
const MAX_LENGTH_OCTETS: usize = 4;

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The first identifier octet of the next TLV, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next TLV.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>, DerError> {
        let all = self.rest;
        let (&first, mut at) = match all.split_first() {
            Some((b, _)) => (b, 1usize),
            None => return Err("unexpected end of data"),
        };
        let mut number = u32::from(first & 0x1f);
        if number == 0x1f {
            // High-tag-number form: base 128, shortest form, and only for
            // numbers that do not fit the low form.
            number = 0;
            loop {
                let b = *all.get(at).ok_or("unexpected end of data in a tag")?;
                at += 1;
                if number == 0 && b == 0x80 {
                    return Err("a tag is not in its shortest form");
                }
                number = number
                    .checked_mul(128)
                    .filter(|n| *n < (1 << 24))
                    .ok_or("a tag number is too large")?
                    | u32::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
            }
            if number < 0x1f {
                return Err("a tag is not in its shortest form");
            }
        }
        let l0 = *all.get(at).ok_or("unexpected end of data in a length")?;
        at += 1;
        let len = if l0 < 0x80 {
            usize::from(l0)
        } else {
            let n = usize::from(l0 & 0x7f);
            if n == 0 {
                return Err("an indefinite length");
            }
            if n > MAX_LENGTH_OCTETS {
                return Err("a length is too large");
            }
            let octets = all
                .get(at..at + n)
                .ok_or("unexpected end of data in a length")?;
            at += n;
            if octets.first() == Some(&0) {
                return Err("a length is not in its shortest form");
            }
            let len = octets
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err("a length is not in its shortest form");
            }
            len
        };
        let end = at.checked_add(len).ok_or("a length is too large")?;
        let value = all.get(at..end).ok_or("a length runs past the data")?;
        let raw = all.get(..end).ok_or("a length runs past the data")?;
        self.rest = all.get(end..).unwrap_or_default();
        Ok(Tlv {
            first,
            number,
            value,
            raw,
        })
    }

    /// The next TLV, which must start with identifier octet `first`.
    pub(crate) fn expect(&mut self, first: u8, what: DerError) -> Result<Tlv<'a>, DerError> {
        match self.peek() {
            Some(b) if b == first => self.read(),
            _ => Err(what),
        }
    }

    /// The next TLV if it starts with identifier octet `first`.
    pub(crate) fn optional(&mut self, first: u8) -> Result<Option<Tlv<'a>>, DerError> {
        match self.peek() {
            Some(b) if b == first => self.read().map(Some),
            _ => Ok(None),
        }
    }
}

/// Identifier octets used below.
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// The parts of a certificate the mapper reads.
#[derive(Debug)]
pub(crate) struct CertParts<'a> {
    /// Content of the issuer Name (a SEQUENCE OF RDN).
    pub(crate) issuer: &'a [u8],
    /// Content of the subject Name.
    pub(crate) subject: &'a [u8],
    /// extnValue contents of the subjectAltName extensions, in order (more
    /// than one is the caller's to refuse).
    pub(crate) san: Option<&'a [u8]>,
    /// Whether a second subjectAltName extension was seen.
    pub(crate) duplicate_san: bool,
}

/// DER content of the subjectAltName extension's OID (2.5.29.17).
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

/// Walks `der` as a certificate (RFC 5280 §4.1) and returns the names and
/// the subjectAltName extension, checking the structure around them.
pub(crate) fn certificate(der: &[u8]) -> Result<CertParts<'_>, DerError> {
    let mut top = Reader::new(der);
    let cert = top.expect(SEQUENCE, "not a certificate")?;
    if !top.is_empty() {
        return Err("bytes after the certificate");
    }
    let mut c = Reader::new(cert.value);
    let tbs = c.expect(SEQUENCE, "no tbsCertificate")?;
    c.expect(SEQUENCE, "no signatureAlgorithm")?;
    c.expect(BIT_STRING, "no signatureValue")?;
    if !c.is_empty() {
        return Err("bytes after the signature");
    }

    let mut t = Reader::new(tbs.value);
    if let Some(version) = t.optional(0xa0)? {
        let mut v = Reader::new(version.value);
        let int = v.expect(INTEGER, "a version that is not an integer")?;
        if !v.is_empty() || !matches!(int.value, [0..=2]) {
            return Err("an unknown certificate version");
        }
    }
    let serial = t.expect(INTEGER, "no serial number")?;
    if serial.value.is_empty() {
        return Err("an empty serial number");
    }
    t.expect(SEQUENCE, "no signature algorithm")?;
    let issuer = t.expect(SEQUENCE, "no issuer name")?;
    t.expect(SEQUENCE, "no validity")?;
    let subject = t.expect(SEQUENCE, "no subject name")?;
    t.expect(SEQUENCE, "no subjectPublicKeyInfo")?;
    t.optional(0x81)?;
    t.optional(0x82)?;
    let mut parts = CertParts {
        issuer: issuer.value,
        subject: subject.value,
        san: None,
        duplicate_san: false,
    };
    if let Some(exts) = t.optional(0xa3)? {
        let mut outer = Reader::new(exts.value);
        let list = outer.expect(SEQUENCE, "extensions that are not a sequence")?;
        if !outer.is_empty() {
            return Err("bytes after the extensions");
        }
        let mut list = Reader::new(list.value);
        while !list.is_empty() {
            let ext = list.expect(SEQUENCE, "an extension that is not a sequence")?;
            let mut e = Reader::new(ext.value);
            let oid = e.expect(OID, "an extension without an identifier")?;
            if oid.value.is_empty() {
                return Err("an empty extension identifier");
            }
            if let Some(critical) = e.optional(BOOLEAN)?
                && !matches!(critical.value, [0x00 | 0xff])
            {
                return Err("a malformed critical flag");
            }
            let value = e.expect(OCTET_STRING, "an extension without a value")?;
            if !e.is_empty() {
                return Err("bytes after an extension's value");
            }
            if oid.value == OID_SAN {
                if parts.san.is_some() {
                    parts.duplicate_san = true;
                } else {
                    parts.san = Some(value.value);
                }
            }
        }
    }
    if !t.is_empty() {
        return Err("bytes after the extensions");
    }
    Ok(parts)
}

/// One attribute of a name: its type's OID content and its value's TLV.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ava<'a> {
    pub(crate) oid: &'a [u8],
    pub(crate) value: Tlv<'a>,
}

/// Reads one RDN (a SET's content) as its AVAs, calling `each` in DER
/// order with whether the RDN has more than one.
pub(crate) fn rdn<'a>(set: &'a [u8], mut each: impl FnMut(Ava<'a>, bool)) -> Result<(), DerError> {
    let mut first = Reader::new(set);
    let first_ava = ava(&mut first)?;
    let multi = !first.is_empty();
    each(first_ava, multi);
    while !first.is_empty() {
        each(ava(&mut first)?, multi);
    }
    Ok(())
}

fn ava<'a>(r: &mut Reader<'a>) -> Result<Ava<'a>, DerError> {
    let seq = r.expect(SEQUENCE, "a name attribute that is not a sequence")?;
    let mut a = Reader::new(seq.value);
    let oid = a.expect(OID, "a name attribute without a type")?;
    if oid.value.is_empty() {
        return Err("an empty attribute type");
    }
    let value = a.read()?;
    if !a.is_empty() {
        return Err("bytes after a name attribute's value");
    }
    Ok(Ava {
        oid: oid.value,
        value,
    })
}

/// The RDN SETs of a Name's content, in DER order (least specific first):
/// in `inline` when they fit (no allocation for the usual names), else in
/// `spill`.
pub(crate) fn rdns<'a, 'b>(
    name: &'a [u8],
    inline: &'b mut [&'a [u8]; 16],
    spill: &'b mut Vec<&'a [u8]>,
) -> Result<&'b [&'a [u8]], DerError> {
    let mut r = Reader::new(name);
    let mut n = 0usize;
    while !r.is_empty() {
        let set = r.expect(SET, "a name component that is not a set")?;
        match inline.get_mut(n) {
            Some(slot) => *slot = set.value,
            None => {
                if spill.is_empty() {
                    spill.extend_from_slice(inline);
                }
                spill.push(set.value);
            }
        }
        n += 1;
    }
    if spill.is_empty() {
        Ok(inline.get(..n).unwrap_or_default())
    } else {
        Ok(spill.as_slice())
    }
}
