//! What a leaf certificate says about its holder (tls-identity.md §1.3, §4,
//! §5), parsed once. Anything that does not parse cleanly is a rejection:
//! there is no partial result to fall back on.

use std::net::{Ipv4Addr, Ipv6Addr};

use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;

use super::der;
use super::dn::{self, Attribute};
use super::error::{RejectReason, Rejection};

pub(crate) mod reference;

/// Longest SPIFFE ID accepted (SPIFFE-ID §2.4).
const MAX_SPIFFE_LEN: usize = 2048;

/// The parsed identity facts of one leaf certificate.
///
/// Built by [`LeafFacts::parse`]; what the rules match against and what the
/// audit log records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafFacts {
    sha256: [u8; 32],
    subject_dn: String,
    issuer_dn: String,
    subject: Vec<Attribute>,
    dns: Vec<String>,
    uris: Vec<String>,
    emails: Vec<String>,
    ips: Vec<String>,
    spiffe: Option<String>,
}

impl LeafFacts {
    /// Parses a DER leaf certificate. `sha256` must be the SHA-256 of `der`
    /// (callers that already hashed it pass it in; see [`sha256`]).
    ///
    /// One pass of our own DER reader (`der.rs`) over the parts the rules
    /// read: the subject and issuer names and the subjectAltName extension.
    /// The checks are those of the x509-parser path it replaced
    /// (`facts/reference.rs`, kept as the tests' and fuzzer's oracle).
    pub(crate) fn parse_with_digest(der: &[u8], sha256: [u8; 32]) -> Result<Self, Rejection> {
        let unparsable = |m: &str| Rejection::new(RejectReason::Unparsable(m.to_owned()));
        let parts = der::certificate(der).map_err(unparsable)?;
        let mut subject = Vec::with_capacity(8);
        let subject_dn = dn::render_der(parts.subject, Some(&mut subject)).map_err(unparsable)?;
        let issuer_dn = dn::render_der(parts.issuer, None).map_err(unparsable)?;
        check_cn(&subject)?;
        let mut facts = Self {
            sha256,
            subject_dn,
            issuer_dn,
            subject,
            dns: Vec::new(),
            uris: Vec::new(),
            emails: Vec::new(),
            ips: Vec::new(),
            spiffe: None,
        };
        if parts.duplicate_san {
            return Err(unparsable("two subjectAltName extensions"));
        }
        if let Some(san) = parts.san {
            facts.read_san(san)?;
        }
        facts.find_spiffe();
        Ok(facts)
    }

    /// Reads the subjectAltName extension's value (RFC 5280 §4.2.1.6) with
    /// the same outcome per entry as x509-parser's `GeneralName`, then the
    /// same checks ([`add_san`](Self::add_san)).
    fn read_san(&mut self, value: &[u8]) -> Result<(), Rejection> {
        let whole = || {
            Rejection::new(RejectReason::Unparsable(
                "the subjectAltName extension does not parse".to_owned(),
            ))
        };
        let mut r = der::Reader::new(value);
        let seq = r.expect(der::SEQUENCE, "").map_err(|_| whole())?;
        if !r.is_empty() {
            return Err(whole());
        }
        let mut items = der::Reader::new(seq.value);
        while !items.is_empty() {
            let item = items.read().map_err(|_| whole())?;
            if !item.is_context_specific() {
                return Err(whole());
            }
            let invalid = GeneralName::Invalid(
                x509_parser::der_parser::asn1_rs::Tag(item.number),
                item.value,
            );
            let text = || std::str::from_utf8(item.value).ok();
            let name = match item.number {
                // otherName: an OID, then the value (ignored, §5).
                0 => match der::Reader::new(item.value).expect(der::OID, "") {
                    Ok(oid) if !oid.value.is_empty() => continue,
                    _ => invalid,
                },
                1 => text().map_or(invalid, GeneralName::RFC822Name),
                2 => text().map_or(invalid, GeneralName::DNSName),
                // x400Address, ediPartyName, registeredID: ignored (§5).
                3 | 5 | 8 => continue,
                // directoryName: ignored (§5), but it must be a Name.
                4 => {
                    let mut n = der::Reader::new(item.value);
                    match n.expect(der::SEQUENCE, "") {
                        Ok(name) if n.is_empty() && dn::render_der(name.value, None).is_ok() => {
                            continue;
                        }
                        _ => invalid,
                    }
                }
                6 => text().map_or(invalid, GeneralName::URI),
                7 => GeneralName::IPAddress(item.value),
                _ => return Err(whole()),
            };
            self.add_san(&name)?;
        }
        Ok(())
    }

    /// The SPIFFE ID: the only URI SAN, when it is a valid SPIFFE ID (§5).
    fn find_spiffe(&mut self) {
        if let [uri] = self.uris.as_slice()
            && is_spiffe_id(uri)
        {
            self.spiffe = Some(uri.clone());
        }
    }

    /// Parses a DER leaf certificate.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] if the certificate does not parse, a SAN entry does
    /// not parse, or a CN or SAN holds a control character.
    pub fn parse(der: &[u8]) -> Result<Self, Rejection> {
        Self::parse_with_digest(der, sha256(der))
    }

    fn add_san(&mut self, name: &GeneralName<'_>) -> Result<(), Rejection> {
        let clean = |kind: &str, v: &str| {
            if v.chars().any(char::is_control) {
                Err(Rejection::new(RejectReason::BadName(format!(
                    "a {kind} subjectAltName holds a control character"
                ))))
            } else {
                Ok(())
            }
        };
        match name {
            GeneralName::DNSName(v) => {
                clean("DNS", v)?;
                self.dns.push(v.to_ascii_lowercase());
            }
            GeneralName::RFC822Name(v) => {
                clean("email", v)?;
                let lowered = match v.rsplit_once('@') {
                    Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
                    None => (*v).to_owned(),
                };
                self.emails.push(lowered);
            }
            GeneralName::URI(v) => {
                clean("URI", v)?;
                self.uris.push((*v).to_owned());
            }
            GeneralName::IPAddress(bytes) => {
                let text = if let Ok(b) = <[u8; 4]>::try_from(*bytes) {
                    Ipv4Addr::from(b).to_string()
                } else if let Ok(b) = <[u8; 16]>::try_from(*bytes) {
                    Ipv6Addr::from(b).to_string()
                } else {
                    return Err(Rejection::new(RejectReason::Unparsable(format!(
                        "an IP subjectAltName is {} bytes long",
                        bytes.len()
                    ))));
                };
                self.ips.push(text);
            }
            GeneralName::Invalid(..) => {
                return Err(Rejection::new(RejectReason::Unparsable(
                    "a subjectAltName entry does not parse".to_owned(),
                )));
            }
            // Ignored for now (§5): otherName/UPN, registeredID,
            // directoryName, x400Address, ediPartyName.
            _ => {}
        }
        Ok(())
    }

    /// SHA-256 of the certificate's DER.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The subject DN in the canonical RFC 4514 form (empty for an empty subject).
    pub fn subject_dn(&self) -> &str {
        &self.subject_dn
    }

    /// The issuer DN in the canonical RFC 4514 form.
    pub fn issuer_dn(&self) -> &str {
        &self.issuer_dn
    }

    /// The subject's attributes as `(keyword or dotted OID, unescaped value)`,
    /// most specific first.
    pub fn subject_attributes(&self) -> Vec<(String, &str)> {
        self.subject
            .iter()
            .map(|a| (dn::oid_name(&a.oid), a.value.as_str()))
            .collect()
    }

    /// DNS SANs, ASCII-lowercased, in certificate order.
    pub fn san_dns(&self) -> &[String] {
        &self.dns
    }

    /// URI SANs as presented.
    pub fn san_uri(&self) -> &[String] {
        &self.uris
    }

    /// Email (rfc822Name) SANs, domain lowercased.
    pub fn san_email(&self) -> &[String] {
        &self.emails
    }

    /// IP SANs as text (IPv6 per RFC 5952).
    pub fn san_ip(&self) -> &[String] {
        &self.ips
    }

    /// The SPIFFE ID: the only URI SAN, when it is a valid SPIFFE ID.
    pub fn spiffe(&self) -> Option<&str> {
        self.spiffe.as_deref()
    }

    pub(crate) fn attributes(&self) -> &[Attribute] {
        &self.subject
    }
}

/// A CN must be clean text wherever it is: a NUL or control character
/// (CVE-2009-2408) or bytes that do not decode reject the certificate, even
/// when no rule reads the CN.
fn check_cn(subject: &[Attribute]) -> Result<(), Rejection> {
    for a in subject.iter().filter(|a| &*a.oid == dn::OID_CN) {
        if !a.decoded {
            return Err(Rejection::new(RejectReason::BadName(
                "the subject CN does not decode as text".to_owned(),
            )));
        }
        if a.value.chars().any(char::is_control) {
            return Err(Rejection::new(RejectReason::BadName(
                "the subject CN holds a control character".to_owned(),
            )));
        }
    }
    Ok(())
}

/// SHA-256 of `der`.
pub(crate) fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The SPIFFE ID rules of §5.
pub(crate) fn is_spiffe_id(uri: &str) -> bool {
    if uri.len() > MAX_SPIFFE_LEN {
        return false;
    }
    let Some(rest) = uri.strip_prefix("spiffe://") else {
        return false;
    };
    let (domain, path) = match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
        None => (rest, ""),
    };
    let domain_ok = !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !domain_ok {
        return false;
    }
    if path.is_empty() {
        return true;
    }
    // `path` starts with '/': every segment after it must be non-empty, not
    // `.` or `..`, and made of the allowed characters (no trailing '/').
    path.split('/').skip(1).all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}
