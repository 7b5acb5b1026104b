//! Errors (a rule file or a TLS configuration is wrong) and rejections (a
//! certificate does not map to a principal).

use std::fmt;
use std::sync::Arc;

use crate::principal::Principal;
use crate::span::{Location, Span};

/// Which rule decided, for messages and audit records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleRef {
    index: usize,
    name: Option<Arc<str>>,
}

impl RuleRef {
    pub(crate) fn new(index: usize, name: Option<Arc<str>>) -> Self {
        Self { index, name }
    }

    /// The rule's position in the rule list, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The rule's `name`, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "rule {} `{n}`", self.index),
            None => write!(f, "rule {}", self.index),
        }
    }
}

/// Why a certificate was not mapped to a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// The certificate or one of its subjectAltName entries does not parse.
    Unparsable(String),
    /// A CN or SAN holds a control character or does not decode.
    BadName(String),
    /// The rule reads an attribute the subject holds more than once (two
    /// CNs): ambiguous, never the first or the last (threats.md TM-3).
    AmbiguousAttribute {
        /// The attribute's keyword or OID.
        attribute: String,
        /// The rule that read it.
        rule: RuleRef,
    },
    /// The rule reads an attribute that sits in a multi-valued RDN
    /// (threats.md TM-5).
    MultiValuedRdn {
        /// The attribute's keyword or OID.
        attribute: String,
        /// The rule that read it.
        rule: RuleRef,
    },
    /// A `reject` rule matched.
    RejectRule(RuleRef),
    /// No rule produced a principal.
    NoRule,
    /// The matching rule produced something that is not a valid principal
    /// (empty, too long, control character, edge whitespace).
    InvalidPrincipal {
        /// The rule that matched.
        rule: RuleRef,
        /// What is wrong with the output.
        problem: String,
    },
}

impl RejectReason {
    /// The rule that decided, if one did.
    pub fn rule(&self) -> Option<&RuleRef> {
        match self {
            Self::AmbiguousAttribute { rule, .. }
            | Self::MultiValuedRdn { rule, .. }
            | Self::RejectRule(rule)
            | Self::InvalidPrincipal { rule, .. } => Some(rule),
            Self::Unparsable(_) | Self::BadName(_) | Self::NoRule => None,
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unparsable(m) => write!(f, "certificate does not parse: {m}"),
            Self::BadName(m) => write!(f, "bad name in certificate: {m}"),
            Self::AmbiguousAttribute { attribute, rule } => {
                write!(
                    f,
                    "{rule} reads `{attribute}`, which appears more than once"
                )
            }
            Self::MultiValuedRdn { attribute, rule } => {
                write!(
                    f,
                    "{rule} reads `{attribute}`, which is part of a multi-valued RDN"
                )
            }
            Self::RejectRule(rule) => write!(f, "rejected by {rule}"),
            Self::NoRule => f.write_str("no rule produced a principal"),
            Self::InvalidPrincipal { rule, problem } => {
                write!(f, "{rule} produced an invalid principal: {problem}")
            }
        }
    }
}

/// A certificate that maps to no principal, and why. The connection should
/// be closed; the reason goes to the local audit log, not to the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    reason: RejectReason,
}

impl Rejection {
    pub(crate) fn new(reason: RejectReason) -> Self {
        Self { reason }
    }

    /// Why.
    pub fn reason(&self) -> &RejectReason {
        &self.reason
    }
}

/// One problem in a rule file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub(crate) path: String,
    pub(crate) span: Span,
    pub(crate) location: Location,
    pub(crate) message: String,
}

impl RuleProblem {
    /// The JSON path of the offending value, like `$[2].match`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Byte span in the rule file.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Line and column in the rule file.
    pub fn location(&self) -> Location {
        self.location
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.path, self.message)
    }
}

/// Every problem found in a rule file (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError {
    pub(crate) problems: Vec<RuleProblem>,
}

impl RulesError {
    /// The problems, in source order.
    pub fn problems(&self) -> &[RuleProblem] {
        &self.problems
    }
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RulesError {}

/// Errors of the tls component: a bad rule file, an unreadable file, a bad
/// certificate or key bundle, a TLS configuration rustls refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsMapError {
    /// The rule file is wrong.
    #[error("invalid rule file: {0}")]
    Rules(#[from] RulesError),
    /// A file could not be read.
    #[error("cannot read `{path}`: {message}")]
    Read {
        /// The file.
        path: String,
        /// The system's reason.
        message: String,
    },
    /// A file is larger than allowed.
    #[error("`{path}` is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A PEM bundle holds nothing usable or does not parse.
    #[error("bad PEM {what}: {message}")]
    Pem {
        /// What was being read (CA bundle, certificate chain, private key).
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Config(String),
}

impl TlsMapError {
    /// The rule problems, in source order, when the rules are what is wrong
    /// (empty for a file, size or PEM error).
    pub fn problems(&self) -> &[RuleProblem] {
        match self {
            Self::Rules(e) => e.problems(),
            _ => &[],
        }
    }
}

/// A certificate principal and a CRAM-MD5 principal that differ.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate principal `{certificate}` differs from SASL principal `{sasl}`")]
pub struct PrincipalMismatch {
    /// From the client certificate.
    pub certificate: Principal,
    /// From CRAM-MD5.
    pub sasl: Principal,
}
