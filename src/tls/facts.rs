//! What a leaf certificate says about its holder (tls-identity.md §1.3, §4,
//! §5), parsed once. Anything that does not parse cleanly is a rejection:
//! there is no partial result to fall back on.

use std::net::{Ipv4Addr, Ipv6Addr};

use sha2::{Digest, Sha256};
use x509_parser::certificate::X509CertificateParser;
use x509_parser::extensions::{GeneralName, SubjectAlternativeName};
use x509_parser::nom::Parser as _;
use x509_parser::oid_registry::OID_X509_EXT_SUBJECT_ALT_NAME;
use x509_parser::prelude::FromDer;

use super::dn::{self, Attribute};
use super::error::{RejectReason, Rejection};

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
    pub(crate) fn parse_with_digest(der: &[u8], sha256: [u8; 32]) -> Result<Self, Rejection> {
        let reject = |reason| Rejection::new(reason);
        // Extensions other than the SAN are not needed here (webpki already
        // checked them): parse only the SAN, which saves a third of the time.
        let (rest, cert) = X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(der)
            .map_err(|e| reject(RejectReason::Unparsable(e.to_string())))?;
        if !rest.is_empty() {
            return Err(reject(RejectReason::Unparsable(
                "bytes after the certificate".to_owned(),
            )));
        }
        let (subject_dn, subject) = dn::render(cert.subject());
        let (issuer_dn, _) = dn::render(cert.issuer());

        // A CN must be clean text wherever it is: a NUL or control character
        // (CVE-2009-2408) or bytes that do not decode reject the certificate,
        // even when no rule reads the CN.
        for a in subject.iter().filter(|a| &*a.oid == dn::OID_CN) {
            if !a.decoded {
                return Err(reject(RejectReason::BadName(
                    "the subject CN does not decode as text".to_owned(),
                )));
            }
            if a.value.chars().any(char::is_control) {
                return Err(reject(RejectReason::BadName(
                    "the subject CN holds a control character".to_owned(),
                )));
            }
        }

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
        let mut seen_san = false;
        for ext in cert.extensions() {
            if ext.oid != OID_X509_EXT_SUBJECT_ALT_NAME {
                continue;
            }
            if seen_san {
                return Err(reject(RejectReason::Unparsable(
                    "two subjectAltName extensions".to_owned(),
                )));
            }
            seen_san = true;
            let san = match SubjectAlternativeName::from_der(ext.value) {
                Ok(([], san)) => san,
                _ => {
                    return Err(reject(RejectReason::Unparsable(
                        "the subjectAltName extension does not parse".to_owned(),
                    )));
                }
            };
            for name in &san.general_names {
                facts.add_san(name)?;
            }
        }
        if let [uri] = facts.uris.as_slice()
            && is_spiffe_id(uri)
        {
            facts.spiffe = Some(uri.clone());
        }
        Ok(facts)
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
