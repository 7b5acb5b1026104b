//! The compiled rule list (tls-identity.md §3): immutable, `Send + Sync`,
//! first rule that produces a result wins, no rule means rejection.

use std::path::Path;

use regex_automata::PatternID;
use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use rustls::server::ServerConnection;

use crate::audit::AuditSink;
use crate::principal::Principal;

use super::error::{RejectReason, Rejection, RuleRef, RulesError, TlsMapError};
use super::event::MappingEvent;
use super::facts::LeafFacts;
use super::pattern::{Budget, PatternError};
use super::rules::{Case, Group, Piece, RuleSet, Source, parse_rules};
use super::verified::VerifiedLeaf;

/// Largest rule file read from disk.
pub const MAX_RULE_FILE_LEN: u64 = 1 << 20;

/// A successful mapping: the principal and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    principal: Principal,
    rule: RuleRef,
}

impl Mapped {
    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The rule that produced it.
    pub fn rule(&self) -> &RuleRef {
        &self.rule
    }
}

/// What TLS says about a connection's peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsIdentity {
    /// The client sent no certificate (optional client auth): TLS names
    /// nobody, and the normal Mesos authentication (CRAM-MD5) decides.
    None,
    /// The verified certificate mapped to this principal.
    Principal(Principal),
}

#[derive(Debug)]
struct CompiledRule {
    rule: RuleRef,
    source: Source,
    pattern: Regex,
    issuer: Option<Regex>,
    /// Empty for a reject rule.
    template: Vec<Piece>,
    case: Case,
    reject: bool,
}

/// A compiled rule list. Build once, share (it is `Send + Sync`), swap a new
/// one in through [`Reloadable`](crate::Reloadable) to reload.
#[derive(Debug)]
pub struct Mapper {
    rules: Box<[CompiledRule]>,
}

impl Mapper {
    /// Compiles a parsed rule set: regexes (with a size limit each and one
    /// for all of them together, [`TOTAL_PATTERN_SIZE_LIMIT`]), and every
    /// template group checked against its pattern.
    ///
    /// `ignore_case` folds ASCII letters only, and inline `(?i)` is refused:
    /// Unicode folding would let U+212A KELVIN SIGN match `k` (threats.md
    /// TM-9).
    ///
    /// # Errors
    ///
    /// [`TlsMapError::Rules`] listing every rule that does not compile. Once
    /// the total is exceeded no further pattern is compiled: the rule that
    /// exceeded it is the last one reported. (Every `Mapper` constructor
    /// returns [`TlsMapError`], whatever its input.)
    ///
    /// [`TOTAL_PATTERN_SIZE_LIMIT`]: super::TOTAL_PATTERN_SIZE_LIMIT
    pub fn compile(set: &RuleSet) -> Result<Self, TlsMapError> {
        Ok(Self::compile_with(set, Budget::new())?)
    }

    pub(super) fn compile_with(set: &RuleSet, mut budget: Budget) -> Result<Self, RulesError> {
        let mut problems = Vec::new();
        let mut rules = Vec::with_capacity(set.rules.len());
        for (index, spec) in set.rules.iter().enumerate() {
            let mut over_budget = false;
            let mut build = |at: &super::rules::At<String>, ignore_case: bool| match budget
                .compile(&at.value, ignore_case)
            {
                Ok(re) => Some(re),
                Err(e) => {
                    over_budget |= e == PatternError::OverBudget;
                    problems.push(at.problem(e.to_string()));
                    None
                }
            };
            let pattern = build(&spec.pattern, spec.ignore_case);
            let issuer = match &spec.issuer {
                None => Some(None),
                // Checked only if the pattern fit: past the budget, stop.
                Some(at) if pattern.is_some() => build(at, false).map(Some),
                Some(_) => None,
            };
            if over_budget {
                break;
            }
            let mut template = Vec::new();
            if let (Some(t), Some(re)) = (&spec.template, &pattern) {
                // The regex crate expands a missing group to nothing; Kafka
                // keeps it as text. Both hide a typo, so it is a load error.
                for piece in &t.value {
                    if let Piece::Group(g) = piece {
                        let exists = match g {
                            // Group 0 of the user's pattern is our group 0;
                            // our wrapper adds no capturing group.
                            Group::Index(n) => *n < re.captures_len(),
                            Group::Name(name) => re
                                .group_info()
                                .pattern_names(PatternID::ZERO)
                                .flatten()
                                .any(|c| c == &**name),
                        };
                        if !exists {
                            let shown = match g {
                                Group::Index(n) => n.to_string(),
                                Group::Name(name) => name.to_string(),
                            };
                            problems.push(t.problem(format!(
                                "the template names group `{shown}`, which the pattern does not have"
                            )));
                        }
                    }
                }
                template.clone_from(&t.value);
            }
            if let (Some(pattern), Some(issuer)) = (pattern, issuer) {
                rules.push(CompiledRule {
                    rule: RuleRef::new(index, spec.name.clone()),
                    source: spec.source.clone(),
                    pattern,
                    issuer,
                    template,
                    case: spec.case,
                    reject: spec.reject,
                });
            }
        }
        if problems.is_empty() {
            Ok(Self {
                rules: rules.into(),
            })
        } else {
            Err(RulesError { problems })
        }
    }

    /// Parses and compiles a rule file's text.
    ///
    /// # Errors
    ///
    /// [`TlsMapError::Rules`] with every problem, each with a JSON path and
    /// line:column.
    pub fn from_json(src: &str) -> Result<Self, TlsMapError> {
        Self::compile(&parse_rules(src)?)
    }

    /// Reads, parses and compiles a rule file (at most [`MAX_RULE_FILE_LEN`] bytes).
    ///
    /// # Errors
    ///
    /// [`TlsMapError::Read`], [`TlsMapError::TooLarge`] or [`TlsMapError::Rules`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, TlsMapError> {
        let text = read_limited(path.as_ref(), MAX_RULE_FILE_LEN)?;
        let text = match std::str::from_utf8(&text) {
            Ok(t) => t,
            Err(e) => {
                let offset = e.valid_up_to();
                let valid = String::from_utf8_lossy(text.get(..offset).unwrap_or(&[]));
                return Err(TlsMapError::Rules(RulesError {
                    problems: vec![super::error::RuleProblem {
                        path: "$".to_owned(),
                        span: crate::span::Span::new(offset, offset),
                        location: crate::span::LineIndex::new(&valid).location(offset),
                        message: "invalid UTF-8".to_owned(),
                    }],
                }));
            }
        };
        Self::from_json(text)
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules (never true for a compiled mapper).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs the rules over parsed facts: the first rule that produces a
    /// result wins; none means rejection. Crate-private: callers go through
    /// a [`VerifiedLeaf`], so unverified facts are never mapped.
    pub(crate) fn decide(&self, facts: &LeafFacts) -> Result<Mapped, Rejection> {
        for rule in self.rules.iter() {
            if let Some(issuer) = &rule.issuer
                && !issuer.is_match(facts.issuer_dn())
            {
                continue;
            }
            if let Some(result) = self.try_rule(rule, facts)? {
                return Ok(result);
            }
        }
        Err(Rejection::new(RejectReason::NoRule))
    }

    fn try_rule(
        &self,
        rule: &CompiledRule,
        facts: &LeafFacts,
    ) -> Result<Option<Mapped>, Rejection> {
        let values: Vec<&str> = match &rule.source {
            Source::Dn => Some(facts.subject_dn())
                .filter(|d| !d.is_empty())
                .into_iter()
                .collect(),
            Source::SanDns => facts.san_dns().iter().map(String::as_str).collect(),
            Source::SanUri => facts.san_uri().iter().map(String::as_str).collect(),
            Source::SanEmail => facts.san_email().iter().map(String::as_str).collect(),
            Source::SanIp => facts.san_ip().iter().map(String::as_str).collect(),
            Source::Spiffe => facts.spiffe().into_iter().collect(),
            Source::Subject(oid, attr) => {
                let found: Vec<_> = facts
                    .attributes()
                    .iter()
                    .filter(|a| *a.oid == **oid)
                    .collect();
                if found.iter().any(|a| a.multi_valued) {
                    return Err(Rejection::new(RejectReason::MultiValuedRdn {
                        attribute: attr.to_string(),
                        rule: rule.rule.clone(),
                    }));
                }
                // Two CNs are ambiguous: OpenSSL takes the first, Go the
                // last (threats.md TM-3). Other attributes (OU) may repeat.
                if found.len() > 1 && &**oid == super::dn::OID_CN {
                    return Err(Rejection::new(RejectReason::AmbiguousAttribute {
                        attribute: attr.to_string(),
                        rule: rule.rule.clone(),
                    }));
                }
                found.iter().map(|a| a.value.as_str()).collect()
            }
        };
        for value in values {
            // `is_match` runs the fast engines; captures are only needed
            // for the one value that matches, and never for a reject rule.
            if !rule.pattern.is_match(value) {
                continue;
            }
            if rule.reject {
                return Err(Rejection::new(RejectReason::RejectRule(rule.rule.clone())));
            }
            let mut caps = rule.pattern.create_captures();
            rule.pattern.captures(value, &mut caps);
            if !caps.is_match() {
                continue;
            }
            if matches!(rule.source, Source::Dn) && splits_an_escape(value, &caps) {
                return Err(Rejection::new(RejectReason::InvalidPrincipal {
                    rule: rule.rule.clone(),
                    problem: "a capture group starts or ends inside an escape sequence of the DN"
                        .to_owned(),
                }));
            }
            return self.finish(rule, value, &caps).map(Some);
        }
        Ok(None)
    }

    fn finish(
        &self,
        rule: &CompiledRule,
        value: &str,
        caps: &Captures,
    ) -> Result<Mapped, Rejection> {
        // A group that did not take part expands to nothing.
        let text = |span: Option<regex_automata::Span>| {
            span.and_then(|s| value.get(s.range())).unwrap_or("")
        };
        let mut out = String::new();
        for piece in &rule.template {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Group(Group::Index(n)) => out.push_str(text(caps.get_group(*n))),
                Piece::Group(Group::Name(name)) => {
                    out.push_str(text(caps.get_group_by_name(name)));
                }
            }
        }
        let invalid = |problem: String| {
            Rejection::new(RejectReason::InvalidPrincipal {
                rule: rule.rule.clone(),
                problem,
            })
        };
        // ASCII only (threats.md TM-9): Unicode mapping merges names, e.g.
        // U+212A KELVIN SIGN lowercases to `k` and `ſ` uppercases to `S`.
        if rule.case != Case::Keep && !out.is_ascii() {
            return Err(invalid(
                "`case` changes ASCII letters only, and the principal has a non-ASCII character"
                    .to_owned(),
            ));
        }
        let out = match rule.case {
            Case::Keep => out,
            Case::Lower => out.to_ascii_lowercase(),
            Case::Upper => out.to_ascii_uppercase(),
        };
        if out.starts_with(char::is_whitespace) || out.ends_with(char::is_whitespace) {
            return Err(invalid("leading or trailing whitespace".to_owned()));
        }
        let principal = Principal::new(&out).map_err(|e| invalid(e.to_string()))?;
        Ok(Mapped {
            principal,
            rule: rule.rule.clone(),
        })
    }

    /// Parses the leaf and runs the rules, returning the facts too (for
    /// `--explain` and audit records). The facts are `None` when the
    /// certificate does not parse.
    pub fn explain(&self, leaf: &VerifiedLeaf) -> (Option<LeafFacts>, Result<Mapped, Rejection>) {
        match LeafFacts::parse_with_digest(leaf.der().as_ref(), *leaf.sha256()) {
            Ok(facts) => {
                let result = self.decide(&facts);
                (Some(facts), result)
            }
            Err(rejection) => (None, Err(rejection)),
        }
    }

    /// Maps a verified leaf to a principal.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] when the certificate does not parse cleanly or no rule
    /// produces a principal.
    pub fn map(&self, leaf: &VerifiedLeaf) -> Result<Principal, Rejection> {
        self.explain(leaf).1.map(|m| m.principal)
    }

    /// Maps a verified leaf and records a [`MappingEvent`] for the outcome.
    ///
    /// # Errors
    ///
    /// As [`Mapper::map`].
    pub fn map_audited(
        &self,
        leaf: &VerifiedLeaf,
        sink: &dyn AuditSink,
    ) -> Result<Principal, Rejection> {
        let (facts, result) = self.explain(leaf);
        sink.record(&MappingEvent::new(leaf.sha256(), facts.as_ref(), &result));
        result.map(|m| m.principal)
    }

    /// After a completed handshake: the connection's identity. No client
    /// certificate gives [`TlsIdentity::None`] (no event is recorded then);
    /// a certificate is mapped and the outcome recorded.
    ///
    /// Call it on every connection, resumed or not, so a reloaded rule set
    /// applies at once (threats.md TM-13).
    ///
    /// # Errors
    ///
    /// A [`Rejection`]: close the connection.
    pub fn map_connection(
        &self,
        conn: &ServerConnection,
        sink: &dyn AuditSink,
    ) -> Result<TlsIdentity, Rejection> {
        match VerifiedLeaf::from_server_connection(conn) {
            None => Ok(TlsIdentity::None),
            Some(leaf) => self.map_audited(&leaf, sink).map(TlsIdentity::Principal),
        }
    }
}

/// Whether a capture group starts or ends inside an RFC 4514
/// escape of `dn`: `CN=([^,]+),OU=admins` over `CN=evil\,OU=admins,...`
/// captures `evil\`, a sign the pattern took an escaped comma for a
/// separator (threats.md TM-6). Such a match is refused, never mapped.
fn splits_an_escape(dn: &str, caps: &Captures) -> bool {
    if !dn.contains('\\') {
        return false;
    }
    let bytes = dn.as_bytes();
    let mut inside = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'\\') {
            let hex = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_hexdigit);
            let len = if hex(i + 1) && hex(i + 2) { 3 } else { 2 };
            inside.extend(i + 1..i + len);
            i += len;
        } else {
            i += 1;
        }
    }
    // Every group counts, used by the template or not: a pattern whose
    // group boundary falls inside an escape has misread the DN.
    caps.iter()
        .flatten()
        .any(|m| inside.contains(&m.start) || inside.contains(&m.end))
}

/// Reads `path` through the crate's checked reader: opened without
/// blocking, a regular file only (a FIFO or device is refused before any
/// read), at most `limit` bytes by `fstat`, refused if it changes meanwhile.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, TlsMapError> {
    use crate::file::{self, FileError, Follow};
    let shown = path.display().to_string();
    let read_err = |message: String| TlsMapError::Read {
        path: shown.clone(),
        message,
    };
    match file::read_regular(path, Follow::Yes, limit) {
        Ok(buf) => Ok(file::into_plain(buf)),
        Err(FileError::TooLarge { size, limit }) => Err(TlsMapError::TooLarge {
            path: shown,
            size,
            limit,
        }),
        Err(FileError::NotRegularFile) => Err(read_err(
            "not a regular file (a FIFO, device or directory)".into(),
        )),
        Err(FileError::Changed) => Err(read_err("the file changed while it was read".into())),
        Err(FileError::Symlink) => Err(read_err("is a symbolic link".into())),
        Err(FileError::Io(e)) => Err(read_err(e.to_string())),
    }
}

/// Combines the certificate principal with the CRAM-MD5 one (§7): either
/// alone stands; both must be equal.
///
/// # Errors
///
/// [`PrincipalMismatch`](super::PrincipalMismatch) when both exist and differ.
pub fn combine_principals(
    certificate: Option<&Principal>,
    sasl: Option<&Principal>,
) -> Result<Option<Principal>, super::error::PrincipalMismatch> {
    match (certificate, sasl) {
        (Some(c), Some(s)) if c != s => Err(super::error::PrincipalMismatch {
            certificate: c.clone(),
            sasl: s.clone(),
        }),
        (Some(p), _) | (None, Some(p)) => Ok(Some(p.clone())),
        (None, None) => Ok(None),
    }
}
