//! The audit record of one mapping (tls-identity.md §7).

use crate::principal::Principal;

use super::error::Rejection;
use super::facts::{LeafFacts, hex};
use super::mapper::Mapped;

/// What happened when one certificate was mapped: recorded for every
/// outcome, accepted or rejected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct MappingEvent {
    /// Lowercase hex SHA-256 of the leaf's DER.
    pub leaf_sha256: String,
    /// The canonical subject DN, if the certificate parsed.
    pub subject_dn: Option<String>,
    /// The canonical issuer DN, if the certificate parsed.
    pub issuer_dn: Option<String>,
    /// DNS SANs (lowercased).
    pub san_dns: Vec<String>,
    /// URI SANs.
    pub san_uri: Vec<String>,
    /// Email SANs.
    pub san_email: Vec<String>,
    /// IP SANs.
    pub san_ip: Vec<String>,
    /// The deciding rule (`rule <index>` plus its name), or `no rule`.
    pub rule: String,
    /// `mapped` or `rejected`.
    pub outcome: &'static str,
    /// The principal, when mapped.
    pub principal: Option<Principal>,
    /// The rejection reason, when rejected.
    pub reason: Option<String>,
    /// How the principal authenticated: always `tls`.
    pub auth_method: &'static str,
    /// The request (connection) this mapping belongs to, if the host gave
    /// one ([`with_audit_id`](Self::with_audit_id)); omitted from JSON if
    /// not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<crate::audit::AuditId>,
}

impl MappingEvent {
    pub(crate) fn new(
        sha256: &[u8; 32],
        facts: Option<&LeafFacts>,
        result: &Result<Mapped, Rejection>,
    ) -> Self {
        let list =
            |f: fn(&LeafFacts) -> &[String]| facts.map(|x| f(x).to_vec()).unwrap_or_default();
        let (rule, outcome, principal, reason) = match result {
            Ok(m) => (
                m.rule().to_string(),
                "mapped",
                Some(m.principal().clone()),
                None,
            ),
            Err(r) => (
                r.reason()
                    .rule()
                    .map_or_else(|| "no rule".to_owned(), ToString::to_string),
                "rejected",
                None,
                Some(r.to_string()),
            ),
        };
        Self {
            leaf_sha256: hex(sha256),
            subject_dn: facts.map(|f| f.subject_dn().to_owned()),
            issuer_dn: facts.map(|f| f.issuer_dn().to_owned()),
            san_dns: list(LeafFacts::san_dns),
            san_uri: list(LeafFacts::san_uri),
            san_email: list(LeafFacts::san_email),
            san_ip: list(LeafFacts::san_ip),
            rule,
            outcome,
            principal,
            reason,
            auth_method: "tls",
            audit_id: None,
        }
    }

    /// The event tagged with the request's audit id.
    #[must_use]
    pub fn with_audit_id(mut self, id: crate::audit::AuditId) -> Self {
        self.audit_id = Some(id);
        self
    }
}

impl crate::audit::Event for MappingEvent {
    fn component(&self) -> &'static str {
        "tls"
    }

    fn to_json(&self) -> serde_json::Value {
        crate::audit::json_of(self)
    }

    fn to_audit_event(&self) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(self.clone())
    }
}
