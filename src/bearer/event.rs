//! The audit record of one token check.

use crate::principal::Principal;

use super::alg::Alg;
use super::error::Rejection;
use super::validator::Validated;

/// What happened when one bearer token was checked: recorded for every
/// outcome. Never holds the token or its signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ValidationEvent {
    /// `accepted` or `rejected`.
    pub outcome: &'static str,
    /// The principal, when accepted.
    pub principal: Option<Principal>,
    /// The claim that gave the principal, when accepted.
    pub claim: Option<String>,
    /// The header's `kid`, if known.
    pub kid: Option<String>,
    /// The algorithm, if it was one we know.
    pub alg: Option<Alg>,
    /// The issuer, once the signature verified.
    pub iss: Option<String>,
    /// The RFC 6750 error code sent to the peer, when rejected.
    pub code: Option<&'static str>,
    /// The reason's tag (`expired`, `unknown_kid`, ...), when rejected.
    pub reason_tag: Option<&'static str>,
    /// The reason in words, when rejected.
    pub reason: Option<String>,
}

impl ValidationEvent {
    /// The record of `result`.
    pub fn new(result: &Result<Validated, Rejection>) -> Self {
        match result {
            Ok(v) => Self {
                outcome: "accepted",
                principal: Some(v.principal().clone()),
                claim: Some(v.claim().to_owned()),
                kid: v.kid().map(str::to_owned),
                alg: Some(v.alg()),
                iss: Some(v.iss().to_owned()),
                code: None,
                reason_tag: None,
                reason: None,
            },
            Err(r) => Self {
                outcome: "rejected",
                principal: None,
                claim: None,
                kid: r.kid().map(str::to_owned),
                alg: r.alg(),
                iss: r.iss().map(str::to_owned),
                code: Some(r.code().as_str()),
                reason_tag: Some(r.reason().tag()),
                reason: Some(r.reason().to_string()),
            },
        }
    }
}

impl crate::audit::Event for ValidationEvent {
    fn component(&self) -> &'static str {
        "bearer"
    }

    fn to_json(&self) -> serde_json::Value {
        crate::audit::json_of(self)
    }

    fn to_audit_event(&self) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(self.clone())
    }
}
