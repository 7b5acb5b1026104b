//! The x509-parser path that `LeafFacts::parse_with_digest` replaced, kept
//! as the oracle of the tests and the `tls_facts_diff` fuzz target: the
//! same facts and the same accept or reject from a full parse.

use x509_parser::certificate::X509CertificateParser;
use x509_parser::extensions::SubjectAlternativeName;
use x509_parser::nom::Parser as _;
use x509_parser::oid_registry::OID_X509_EXT_SUBJECT_ALT_NAME;
use x509_parser::prelude::FromDer;

use super::super::dn;
use super::super::error::{RejectReason, Rejection};
use super::LeafFacts;

impl LeafFacts {
    /// The x509-parser path: the whole certificate parsed by x509-parser,
    /// the names rendered from its types.
    pub(crate) fn parse_reference(der: &[u8], sha256: [u8; 32]) -> Result<Self, Rejection> {
        let reject = |reason| Rejection::new(reason);
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

        super::check_cn(&subject)?;

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
        facts.find_spiffe();
        Ok(facts)
    }
}
