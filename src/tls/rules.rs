//! The rule file (tls-identity.md §2): an ordered JSON array of rule objects
//! and the `DEFAULT` / Kafka `RULE:` shorthands, read with the crate's strict
//! JSON reader so every mistake has a JSON path and a line:column.

use std::sync::Arc;

use crate::json::{self, Json, JsonPath, JsonValue, KeyProblem};
use crate::span::{LineIndex, Location, Span};

use super::dn;
use super::error::{RuleProblem, RulesError};

/// Most rules in one file (§7).
pub const MAX_RULES: usize = 256;
/// Longest `match` or `issuer` pattern, in bytes (§7).
pub const MAX_PATTERN_LEN: usize = 1024;
/// Longest `principal` template or `name`, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 1024;

const KNOWN_KEYS: &[&str] = &[
    "source",
    "match",
    "principal",
    "case",
    "ignore_case",
    "issuer",
    "action",
    "name",
];

/// What a rule matches against (§2, §4, §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Dn,
    /// `subject.<ATTR>`: the attribute type's DER content bytes and its
    /// spelling in the rule file.
    Subject(Box<[u8]>, Box<str>),
    SanDns,
    SanUri,
    SanEmail,
    SanIp,
    Spiffe,
}

impl Source {
    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "dn" => Self::Dn,
            "san.dns" => Self::SanDns,
            "san.uri" => Self::SanUri,
            "san.email" => Self::SanEmail,
            "san.ip" => Self::SanIp,
            "spiffe" => Self::Spiffe,
            _ => {
                let Some(attr) = s.strip_prefix("subject.") else {
                    return Err(format!(
                        "unknown source `{s}` (expected `dn`, `subject.<ATTR>`, `san.dns`, `san.uri`, `san.email`, `san.ip` or `spiffe`)"
                    ));
                };
                let oid = match dn::keyword_oid(attr) {
                    Some(oid) => oid.to_vec(),
                    None => dn::encode_dotted_oid(attr).ok_or_else(|| {
                        format!(
                            "unknown attribute `{attr}` (expected CN, L, ST, O, OU, C, STREET, DC, UID, serialNumber, emailAddress or a dotted OID)"
                        )
                    })?,
                };
                Self::Subject(oid.into(), attr.into())
            }
        })
    }
}

/// How the finished principal's case is changed (§2 `case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Case {
    #[default]
    Keep,
    Lower,
    Upper,
}

/// A reference to a capture group in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Group {
    Index(usize),
    Name(Box<str>),
}

/// One piece of a principal template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(Box<str>),
    Group(Group),
}

/// A parsed template: `${0}`, `${N}`, `${name}`, `$N`, `$name`, `$$`.
pub(crate) fn parse_template(t: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('$') {
        lit.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        let (group, consumed) = if let Some(a) = after.strip_prefix('$') {
            lit.push('$');
            rest = a;
            continue;
        } else if let Some(inner) = after.strip_prefix('{') {
            let close = inner
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in template `{t}`"))?;
            let name = inner.get(..close).unwrap_or("");
            (name, close + 2)
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (after.get(..len).unwrap_or(""), len)
        };
        let valid =
            !group.is_empty() && group.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`$` must be followed by a group number or name, `{{...}}` or `$` in template `{t}`"
            ));
        }
        if !lit.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut lit).into()));
        }
        pieces.push(Piece::Group(match group.parse::<usize>() {
            Ok(n) if group.bytes().all(|b| b.is_ascii_digit()) => Group::Index(n),
            _ => Group::Name(group.into()),
        }));
        rest = after.get(consumed..).unwrap_or("");
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        pieces.push(Piece::Literal(lit.into()));
    }
    Ok(pieces)
}

/// A value from the rule file and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) path: String,
    pub(crate) span: Span,
    pub(crate) location: Location,
}

impl<T> At<T> {
    pub(crate) fn problem(&self, message: String) -> RuleProblem {
        RuleProblem {
            path: self.path.clone(),
            span: self.span,
            location: self.location,
            message,
        }
    }
}

/// One rule as written, checked for shape but not yet compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleSpec {
    pub(crate) name: Option<Arc<str>>,
    pub(crate) source: Source,
    pub(crate) pattern: At<String>,
    /// `None` for a reject rule.
    pub(crate) template: Option<At<Vec<Piece>>>,
    pub(crate) case: Case,
    pub(crate) ignore_case: bool,
    pub(crate) issuer: Option<At<String>>,
    pub(crate) reject: bool,
}

/// A parsed rule file: the rules in order, each with its source positions.
/// Turn it into a [`Mapper`](super::Mapper) with
/// [`Mapper::compile`](super::Mapper::compile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    pub(crate) rules: Vec<RuleSpec>,
}

impl RuleSet {
    /// How many rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules (never true for a parsed set).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

struct Reader<'s> {
    lines: LineIndex<'s>,
    problems: Vec<RuleProblem>,
}

impl Reader<'_> {
    fn at<T>(&self, value: T, path: &JsonPath, span: Span) -> At<T> {
        At {
            value,
            path: path.to_string(),
            span,
            location: self.lines.location(span.start),
        }
    }

    fn report(&mut self, path: &JsonPath, span: Span, message: impl Into<String>) {
        self.problems.push(RuleProblem {
            path: path.to_string(),
            span,
            location: self.lines.location(span.start),
            message: message.into(),
        });
    }
}

/// Parses a rule file.
///
/// # Errors
///
/// A [`RulesError`] listing every problem found, each with its JSON path and
/// line:column.
pub fn parse_rules(src: &str) -> Result<RuleSet, RulesError> {
    let mut r = Reader {
        lines: LineIndex::new(src),
        problems: Vec::new(),
    };
    let root = JsonPath::root();
    let doc = match json::parse(src, json::Options::default()) {
        Ok(doc) => doc,
        Err(e) => {
            // Clamped: the JSON reader can report one past the end of a
            // text cut inside an escape (found by the tls_rules fuzzer).
            let at = e.offset.min(src.len());
            r.report(&root, Span::new(at, at), e.to_string());
            return Err(RulesError {
                problems: r.problems,
            });
        }
    };
    let mut rules = Vec::new();
    match doc.as_array() {
        None => r.report(
            &root,
            doc.span,
            format!("expected an array of rules, found {}", doc.kind()),
        ),
        Some([]) => r.report(
            &root,
            doc.span,
            "the rule list is empty (there is no implicit `DEFAULT`)",
        ),
        Some(items) if items.len() > MAX_RULES => r.report(
            &root,
            doc.span,
            format!("{} rules, more than the limit of {MAX_RULES}", items.len()),
        ),
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(rule) = read_rule(&mut r, &root.index(i), item) {
                    rules.push(rule);
                }
            }
        }
    }
    if r.problems.is_empty() {
        Ok(RuleSet { rules })
    } else {
        Err(RulesError {
            problems: r.problems,
        })
    }
}

fn read_rule(r: &mut Reader<'_>, path: &JsonPath, item: &Json) -> Option<RuleSpec> {
    match &item.value {
        JsonValue::String(s) => read_shorthand(r, path, item.span, s),
        JsonValue::Object(members) => {
            let before = r.problems.len();
            for p in json::key_problems(members, KNOWN_KEYS) {
                match p {
                    KeyProblem::Unknown(m) => r.report(
                        &path.key(&m.key),
                        m.key_span,
                        format!("unknown field `{}`", m.key),
                    ),
                    KeyProblem::Duplicate { again, .. } => r.report(
                        &path.key(&again.key),
                        again.key_span,
                        format!("field `{}` given twice", again.key),
                    ),
                }
            }
            let string = |r: &mut Reader<'_>, key: &str, max: usize| -> Option<At<String>> {
                let m = json::first(members, key)?;
                let p = path.key(key);
                match m.value.as_str() {
                    Some(s) if s.len() > max => {
                        r.report(
                            &p,
                            m.value.span,
                            format!("`{key}` is {} bytes, more than the limit of {max}", s.len()),
                        );
                        None
                    }
                    Some(s) => Some(r.at(s.to_owned(), &p, m.value.span)),
                    None => {
                        r.report(
                            &p,
                            m.value.span,
                            format!("`{key}` must be a string, found {}", m.value.kind()),
                        );
                        None
                    }
                }
            };
            let source = string(r, "source", MAX_PATTERN_LEN);
            let pattern = string(r, "match", MAX_PATTERN_LEN);
            let principal = string(r, "principal", MAX_TEMPLATE_LEN);
            let case = string(r, "case", MAX_PATTERN_LEN);
            let issuer = string(r, "issuer", MAX_PATTERN_LEN);
            let action = string(r, "action", MAX_PATTERN_LEN);
            let name = string(r, "name", MAX_TEMPLATE_LEN);
            let ignore_case = match json::first(members, "ignore_case") {
                None => false,
                Some(m) => match m.value.as_bool() {
                    Some(b) => b,
                    None => {
                        r.report(
                            &path.key("ignore_case"),
                            m.value.span,
                            format!("`ignore_case` must be a boolean, found {}", m.value.kind()),
                        );
                        false
                    }
                },
            };
            let missing = |r: &mut Reader<'_>, key: &str| {
                r.report(path, item.span, format!("missing field `{key}`"));
            };
            let source = match source {
                None => {
                    if json::first(members, "source").is_none() {
                        missing(r, "source");
                    }
                    None
                }
                Some(s) => match Source::parse(&s.value) {
                    Ok(src) => Some(src),
                    Err(m) => {
                        r.problems.push(s.problem(m));
                        None
                    }
                },
            };
            if pattern.is_none() && json::first(members, "match").is_none() {
                missing(r, "match");
            }
            let reject = match action.as_ref().map(|a| a.value.as_str()) {
                None | Some("map") => false,
                Some("reject") => true,
                Some(other) => {
                    if let Some(a) = &action {
                        r.problems.push(a.problem(format!(
                            "unknown action `{other}` (expected `map` or `reject`)"
                        )));
                    }
                    false
                }
            };
            let case = match case.as_ref().map(|c| c.value.as_str()) {
                None | Some("keep") => Case::Keep,
                Some("lower") => Case::Lower,
                Some("upper") => Case::Upper,
                Some(other) => {
                    if let Some(c) = &case {
                        r.problems.push(c.problem(format!(
                            "unknown case `{other}` (expected `keep`, `lower` or `upper`)"
                        )));
                    }
                    Case::Keep
                }
            };
            let template = match (&principal, reject) {
                (Some(p), true) => {
                    r.problems
                        .push(p.problem("a reject rule has no `principal`".to_owned()));
                    None
                }
                (None, false) => {
                    if json::first(members, "principal").is_none() {
                        missing(r, "principal");
                    }
                    None
                }
                (None, true) => None,
                (Some(p), false) => match parse_template(&p.value) {
                    Ok(pieces) => Some(At {
                        value: pieces,
                        path: p.path.clone(),
                        span: p.span,
                        location: p.location,
                    }),
                    Err(m) => {
                        r.problems.push(p.problem(m));
                        None
                    }
                },
            };
            if let Some(n) = &name
                && (n.value.is_empty() || n.value.chars().any(char::is_control))
            {
                r.problems.push(
                    n.problem("`name` must be non-empty, without control characters".to_owned()),
                );
            }
            if r.problems.len() > before {
                return None;
            }
            Some(RuleSpec {
                name: name.map(|n| Arc::from(n.value.as_str())),
                source: source?,
                pattern: pattern?,
                template,
                case,
                ignore_case,
                issuer,
                reject,
            })
        }
        _ => {
            r.report(
                path,
                item.span,
                format!(
                    "expected a rule object, `DEFAULT` or `RULE:...`, found {}",
                    item.kind()
                ),
            );
            None
        }
    }
}

fn read_shorthand(r: &mut Reader<'_>, path: &JsonPath, span: Span, s: &str) -> Option<RuleSpec> {
    if s == "DEFAULT" {
        return Some(RuleSpec {
            name: Some(Arc::from("DEFAULT")),
            source: Source::Dn,
            pattern: r.at("(?s).+".to_owned(), path, span),
            template: Some(r.at(vec![Piece::Group(Group::Index(0))], path, span)),
            case: Case::Keep,
            ignore_case: false,
            issuer: None,
            reject: false,
        });
    }
    let Some(body) = s.strip_prefix("RULE:") else {
        r.report(
            path,
            span,
            "a string rule must be `DEFAULT` or `RULE:<pattern>/<replacement>/[L|U]`",
        );
        return None;
    };
    if s.len() > MAX_PATTERN_LEN + MAX_TEMPLATE_LEN {
        r.report(path, span, "the rule is too long");
        return None;
    }
    // Split on unescaped '/': `\/` stands for a slash, other escapes are the
    // regex's and stay as written.
    let mut parts = vec![String::new()];
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('/') => push_char(&mut parts, '/'),
                Some(n) => {
                    push_char(&mut parts, '\\');
                    push_char(&mut parts, n);
                }
                None => push_char(&mut parts, '\\'),
            },
            '/' => parts.push(String::new()),
            _ => push_char(&mut parts, c),
        }
    }
    let (pattern, replacement, case) = match parts.as_slice() {
        [p, rep, flag] => {
            let case = match flag.as_str() {
                "" => Case::Keep,
                "L" => Case::Lower,
                "U" => Case::Upper,
                other => {
                    r.report(
                        path,
                        span,
                        format!("unknown case flag `{other}` after the replacement (expected `L` or `U`)"),
                    );
                    return None;
                }
            };
            (p.clone(), rep.clone(), case)
        }
        _ => {
            r.report(
                path,
                span,
                "expected `RULE:<pattern>/<replacement>/` with an optional `L` or `U` (write `\\/` for a slash)",
            );
            return None;
        }
    };
    let template = match parse_template(&replacement) {
        Ok(t) => t,
        Err(m) => {
            r.report(path, span, m);
            return None;
        }
    };
    Some(RuleSpec {
        name: None,
        source: Source::Dn,
        pattern: r.at(pattern, path, span),
        template: Some(r.at(template, path, span)),
        case,
        ignore_case: false,
        issuer: None,
        reject: false,
    })
}

fn push_char(parts: &mut [String], c: char) {
    if let Some(last) = parts.last_mut() {
        last.push(c);
    }
}
