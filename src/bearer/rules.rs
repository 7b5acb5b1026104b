//! Claims → principal: an ordered list of rules, the first that produces a
//! principal wins, none means refusal.
//!
//! A rule names one claim whose value must be a string, and may require
//! (and remove) a prefix: `{"claim": "sub"}`, `{"claim": "client_id",
//! "strip_prefix": "svc-"}`. That is deliberately less than a regex with
//! capture groups: the common mappings (the subject as is, a service
//! account's name under a fixed prefix) need nothing more, and an
//! unanchored or over-broad pattern is the classic way such mappings go
//! wrong (tls-identity.md discusses the same trap for certificate names).

use std::sync::Arc;

/// Most rules one configuration may hold.
pub const MAX_RULES: usize = 16;

/// One claims → principal rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRule {
    pub(crate) claim: Arc<str>,
    pub(crate) strip_prefix: Option<Box<str>>,
}

impl PrincipalRule {
    /// The rule that takes `claim`'s string value as the principal.
    pub fn claim(claim: &str) -> Self {
        Self {
            claim: Arc::from(claim),
            strip_prefix: None,
        }
    }

    /// Only values starting with `prefix` match, and the principal is the
    /// rest.
    #[must_use]
    pub fn strip_prefix(mut self, prefix: &str) -> Self {
        self.strip_prefix = Some(Box::from(prefix));
        self
    }

    /// The claim this rule reads.
    pub fn claim_name(&self) -> &str {
        &self.claim
    }

    /// What the claim's value gives: `None` when the rule does not match.
    pub(crate) fn apply<'v>(&self, value: &'v str) -> Option<&'v str> {
        match &self.strip_prefix {
            None => Some(value),
            Some(p) => value.strip_prefix(&**p),
        }
    }
}
