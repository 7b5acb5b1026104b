//! Kerberos principal → Mesos principal, by ordered rules in Hadoop's
//! `auth_to_local` notation:
//!
//! ```text
//! RULE:[1:$1@$0](.*@EXAMPLE\.ORG)s/@.*//
//! RULE:[2:$1](mesos)s/^.*$/agent/
//! DEFAULT
//! ```
//!
//! `RULE:[n:format](filter)s/pattern/replacement/g` applies to names of
//! exactly `n` components (the realm not counted); `format` builds a string
//! from `$0` (the realm) and `$1`..`$n` (the components); `filter` must match
//! all of it; the optional `s/pattern/replacement/` (with `g`: every match)
//! rewrites it, and an optional `/L` lowercases the result. `DEFAULT` maps a
//! one-component name of the local realm to that component.
//!
//! The first rule that applies decides; its result must be a valid
//! [`Principal`] without `/` or `@`, or the name is refused (fail closed,
//! later rules are not tried). No rule applies: refused.
//!
//! Deliberate difference from Hadoop: `DEFAULT` takes only one-component
//! names. Hadoop maps `alice/admin@REALM` to `alice` too, which would let an
//! administrative principal pass as the ordinary user; write a `RULE:[2:..]`
//! for host or service principals that should map.

use regex_automata::meta::Regex;

use crate::Principal;
use crate::span::{LineIndex, Location};

/// Most components a rule may name (`$0`..`$9`).
const MAX_COMPONENTS: usize = 9;
/// Rule text longer than this is refused (a hostile config file).
const MAX_RULES_LEN: usize = 64 * 1024;
/// Regexes are compiled with this size limit each.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Errors from [`AuthToLocal::parse`]: every rule's first error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct RulesError {
    errors: Vec<RuleError>,
}

impl RulesError {
    /// The errors, in source order (never empty).
    pub fn errors(&self) -> &[RuleError] {
        &self.errors
    }
}

/// One rule's error: which rule (from 1), where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("auth_to_local rule {index} at {location}: {message}")]
pub struct RuleError {
    index: usize,
    location: Location,
    message: String,
}

impl RuleError {
    /// The rule's number, from 1.
    pub fn index(&self) -> usize {
        self.index
    }
    /// Where in the text the error is.
    pub fn location(&self) -> Location {
        self.location
    }
    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Compiled mapping rules. Immutable; cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct AuthToLocal {
    rules: Vec<Rule>,
    default_realm: Option<String>,
}

#[derive(Debug, Clone)]
enum Rule {
    Default,
    Rule {
        components: usize,
        format: Vec<FormatPart>,
        filter: Regex,
        subst: Option<Subst>,
        lowercase: bool,
    },
}

#[derive(Debug, Clone)]
enum FormatPart {
    Literal(String),
    Component(usize),
}

#[derive(Debug, Clone)]
struct Subst {
    pattern: Regex,
    replacement: String,
    global: bool,
}

/// Which rule mapped a name, for the audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleIndex(pub usize);

/// Why a name was not mapped (local only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// No rule applies.
    #[error("no auth_to_local rule maps `{0}`")]
    NoMatch(String),
    /// The deciding rule produced something that is not a plain principal.
    #[error(
        "auth_to_local rule {rule} maps `{name}` to `{result}`, which is not a plain principal"
    )]
    BadResult {
        /// The rule, from 1.
        rule: usize,
        /// The Kerberos name.
        name: String,
        /// What the rule produced.
        result: String,
    },
    /// The Kerberos name could not be split into components and realm.
    #[error("`{0}` is not a Kerberos principal name with a realm")]
    BadName(String),
}

impl AuthToLocal {
    /// Parses rules separated by whitespace or newlines. `default_realm` is
    /// the local realm `DEFAULT` applies to (`None`: `DEFAULT` never maps).
    ///
    /// # Errors
    /// [`RulesError`] with each bad rule's index and line:column.
    pub fn parse(text: &str, default_realm: Option<&str>) -> Result<Self, RulesError> {
        let lines = LineIndex::new(text);
        if text.len() > MAX_RULES_LEN {
            return Err(RulesError {
                errors: vec![RuleError {
                    index: 0,
                    location: lines.location(MAX_RULES_LEN),
                    message: format!("rules are longer than {MAX_RULES_LEN} bytes"),
                }],
            });
        }
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        let mut pos = 0;
        let mut index = 0;
        loop {
            pos += text.get(pos..).unwrap_or("").len()
                - text.get(pos..).unwrap_or("").trim_start().len();
            if pos >= text.len() {
                break;
            }
            index += 1;
            match parse_rule(text, pos) {
                Ok((rule, end)) => {
                    rules.push(rule);
                    pos = end;
                }
                Err((at, message)) => {
                    errors.push(RuleError {
                        index,
                        location: lines.location(at),
                        message,
                    });
                    // Skip to the next whitespace to report the next rule.
                    let rest = text.get(at..).unwrap_or("");
                    pos = at + rest.find(char::is_whitespace).unwrap_or(rest.len());
                    pos = pos.max(at + 1);
                    while pos < text.len() && !text.is_char_boundary(pos) {
                        pos += 1;
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(Self {
                rules,
                default_realm: default_realm.map(str::to_owned),
            })
        } else {
            Err(RulesError { errors })
        }
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules (every name is refused).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Maps a Kerberos name (`alice@EXAMPLE.ORG`, `mesos/host@EXAMPLE.ORG`,
    /// with MIT's `\` escapes) to a Mesos principal and the rule that did it.
    ///
    /// # Errors
    /// [`MapError`]: no rule applies, the deciding rule's result is not a
    /// plain principal, or the name has no realm.
    pub fn map(&self, name: &str) -> Result<(Principal, RuleIndex), MapError> {
        let (components, realm) =
            split_name(name).ok_or_else(|| MapError::BadName(name.to_owned()))?;
        for (i, rule) in self.rules.iter().enumerate() {
            let result = match rule {
                Rule::Default => match (&self.default_realm, components.as_slice()) {
                    (Some(d), [one]) if *d == realm => one.clone(),
                    _ => continue,
                },
                Rule::Rule {
                    components: n,
                    format,
                    filter,
                    subst,
                    lowercase,
                } => {
                    if *n != components.len() {
                        continue;
                    }
                    let mut formatted = String::new();
                    for part in format {
                        match part {
                            FormatPart::Literal(s) => formatted.push_str(s),
                            FormatPart::Component(0) => formatted.push_str(&realm),
                            FormatPart::Component(c) => {
                                formatted
                                    .push_str(components.get(c - 1).map_or("", String::as_str));
                            }
                        }
                    }
                    if !filter.is_match(formatted.as_str()) {
                        continue;
                    }
                    let mut out = match subst {
                        None => formatted,
                        Some(s) => s.apply(&formatted),
                    };
                    if *lowercase {
                        out = out.to_lowercase();
                    }
                    out
                }
            };
            let rule_no = i + 1;
            if result.is_empty() || result.contains(['/', '@']) {
                return Err(MapError::BadResult {
                    rule: rule_no,
                    name: name.to_owned(),
                    result,
                });
            }
            return match Principal::new(&result) {
                Ok(p) => Ok((p, RuleIndex(rule_no))),
                Err(_) => Err(MapError::BadResult {
                    rule: rule_no,
                    name: name.to_owned(),
                    result,
                }),
            };
        }
        Err(MapError::NoMatch(name.to_owned()))
    }
}

impl Subst {
    fn apply(&self, s: &str) -> String {
        let mut out = String::new();
        let mut last = 0;
        for caps in self.pattern.captures_iter(s) {
            let Some(m) = caps.get_match() else { break };
            out.push_str(s.get(last..m.start()).unwrap_or(""));
            caps.interpolate_string_into(s, &self.replacement, &mut out);
            last = m.end();
            if !self.global {
                break;
            }
        }
        out.push_str(s.get(last..).unwrap_or(""));
        out
    }
}

/// Splits `a/b@REALM` into components and realm, honouring `\` escapes.
fn split_name(name: &str) -> Option<(Vec<String>, String)> {
    let mut components = vec![String::new()];
    let mut realm: Option<String> = None;
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => match chars.next()? {
                'n' => '\n',
                't' => '\t',
                'b' => '\u{8}',
                '0' => '\0',
                other => other,
            },
            '@' if realm.is_none() => {
                realm = Some(String::new());
                continue;
            }
            '/' if realm.is_none() => {
                components.push(String::new());
                continue;
            }
            '@' | '/' => return None,
            other => other,
        };
        match realm.as_mut() {
            Some(r) => r.push(c),
            None => components.last_mut()?.push(c),
        }
    }
    let realm = realm.filter(|r| !r.is_empty())?;
    if components.iter().any(String::is_empty) {
        return None;
    }
    Some((components, realm))
}

type ParseResult<T> = Result<T, (usize, String)>;

fn parse_rule(text: &str, start: usize) -> ParseResult<(Rule, usize)> {
    let rest = text.get(start..).unwrap_or("");
    if let Some(after) = rest.strip_prefix("DEFAULT")
        && (after.is_empty() || after.starts_with(char::is_whitespace))
    {
        return Ok((Rule::Default, start + "DEFAULT".len()));
    }
    let Some(after) = rest.strip_prefix("RULE:[") else {
        return Err((start, "expected `RULE:[` or `DEFAULT`".to_owned()));
    };
    let mut pos = start + "RULE:[".len();
    // [n:format]
    let digits = after.chars().take_while(char::is_ascii_digit).count();
    let n: usize = after
        .get(..digits)
        .and_then(|d| d.parse().ok())
        .filter(|n| (1..=MAX_COMPONENTS).contains(n))
        .ok_or((
            pos,
            format!("expected a component count from 1 to {MAX_COMPONENTS}"),
        ))?;
    pos += digits;
    if text.get(pos..).and_then(|r| r.chars().next()) != Some(':') {
        return Err((pos, "expected `:` after the component count".to_owned()));
    }
    pos += 1;
    let fmt_start = pos;
    let fmt_len = text
        .get(pos..)
        .unwrap_or("")
        .find([']', '\n'])
        .filter(|&i| text.get(pos + i..).is_some_and(|r| r.starts_with(']')))
        .ok_or((pos, "the format has no closing `]`".to_owned()))?;
    let format = parse_format(
        text.get(fmt_start..fmt_start + fmt_len).unwrap_or(""),
        n,
        fmt_start,
    )?;
    pos = fmt_start + fmt_len + 1;
    // (filter)
    if text.get(pos..).and_then(|r| r.chars().next()) != Some('(') {
        return Err((
            pos,
            "expected `(` and a filter regex after the format".to_owned(),
        ));
    }
    let (filter_src, after_filter) = balanced(text, pos)?;
    let filter = compile(&format!("^(?:{filter_src})$"), pos + 1)?;
    pos = after_filter;
    let mut subst = None;
    if text.get(pos..).is_some_and(|r| r.starts_with("s/")) {
        let pat_start = pos + 2;
        let pat_len = text.get(pat_start..).unwrap_or("").find('/').ok_or((
            pat_start,
            "the substitution has no `/` after its pattern".to_owned(),
        ))?;
        let rep_start = pat_start + pat_len + 1;
        let rep_len = text
            .get(rep_start..)
            .unwrap_or("")
            .find('/')
            .ok_or((rep_start, "the substitution has no closing `/`".to_owned()))?;
        let pattern = compile(
            text.get(pat_start..pat_start + pat_len).unwrap_or(""),
            pat_start,
        )?;
        let replacement = text
            .get(rep_start..rep_start + rep_len)
            .unwrap_or("")
            .to_owned();
        if replacement.contains(char::is_whitespace) {
            return Err((rep_start, "the replacement contains whitespace".to_owned()));
        }
        pos = rep_start + rep_len + 1;
        let global = text.get(pos..).is_some_and(|r| r.starts_with('g'));
        if global {
            pos += 1;
        }
        subst = Some(Subst {
            pattern,
            replacement,
            global,
        });
    }
    let lowercase = text.get(pos..).is_some_and(|r| r.starts_with("/L"));
    if lowercase {
        pos += 2;
    }
    match text.get(pos..).and_then(|r| r.chars().next()) {
        None => {}
        Some(c) if c.is_whitespace() => {}
        Some(c) => {
            return Err((
                pos,
                format!("unexpected `{}` after the rule", c.escape_debug()),
            ));
        }
    }
    Ok((
        Rule::Rule {
            components: n,
            format,
            filter,
            subst,
            lowercase,
        },
        pos,
    ))
}

fn parse_format(src: &str, n: usize, at: usize) -> ParseResult<Vec<FormatPart>> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            literal.push(c);
            continue;
        }
        let Some((_, d)) = chars.next() else {
            return Err((at + i, "`$` at the end of the format".to_owned()));
        };
        let k = d
            .to_digit(10)
            .map(|k| k as usize)
            .filter(|&k| k <= n)
            .ok_or((
                at + i,
                format!("`${d}` is not `$0` (the realm) or `$1`..`${n}`"),
            ))?;
        if !literal.is_empty() {
            parts.push(FormatPart::Literal(std::mem::take(&mut literal)));
        }
        parts.push(FormatPart::Component(k));
    }
    if !literal.is_empty() {
        parts.push(FormatPart::Literal(literal));
    }
    Ok(parts)
}

/// The text inside the parentheses opening at `open`, and the offset after
/// the closing one. `\` escapes and character classes are skipped over.
fn balanced(text: &str, open: usize) -> ParseResult<(&str, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    let mut in_class = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => {
                depth -= 1;
                if depth == 0 {
                    return Ok((text.get(open + 1..i).unwrap_or(""), i + 1));
                }
            }
            b'\n' => break,
            _ => {}
        }
        i += 1;
    }
    Err((
        open,
        "the filter's `(` is not closed on its line".to_owned(),
    ))
}

fn compile(pattern: &str, at: usize) -> ParseResult<Regex> {
    Regex::builder()
        .configure(Regex::config().nfa_size_limit(Some(REGEX_SIZE_LIMIT)))
        .build(pattern)
        .map_err(|e| (at, format!("bad regex: {e}")))
}
