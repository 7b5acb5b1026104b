//! Rule patterns (tls-identity.md §2, §7): ASCII-only case folding for
//! `ignore_case`, and a size budget shared by every pattern of a rule file.
//!
//! The regex crate folds case by Unicode rules, so with it `k` would match
//! U+212A KELVIN SIGN and `s` U+017F LATIN SMALL LETTER LONG S (threats.md
//! TM-9). `ignore_case` is therefore done here, on the parsed pattern: every
//! ASCII letter gets its other ASCII case, nothing else changes. Inline
//! `(?i)` would bring Unicode folding back, so it is refused.
//!
//! Each pattern has a size limit; without a total, a rule file of a few
//! kilobytes (256 rules of two patterns, each just under the limit) compiled
//! to hundreds of megabytes in seconds. The budget counts the memory of each
//! regex as built and refuses the pattern that would exceed it; its NFA is
//! also limited to what is left, so an oversized one stops early.

use regex_automata::meta::{self, Regex};
use regex_syntax::ast::{self, Ast, Flag, Flags};
use regex_syntax::hir::{self, Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};

/// Size limit of one pattern's NFA, in bytes (§7).
pub(super) const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Largest one-pass DFA built for a pattern (a faster capture engine): a
/// pattern such as `CN=(\w+),O=Acme` gets a 700 KB one, ten times its NFA,
/// for a search that runs once per connection. Bigger ones are skipped.
const ONEPASS_SIZE_LIMIT: usize = 64 << 10;

/// Memory limit of all the compiled patterns of one rule set together, in
/// bytes (each pattern's regex as built: NFAs, one-pass DFA, prefilters;
/// not the search caches): room for 256 rules whose patterns use Unicode
/// classes such as `\w` (about 60 KB each), not for many patterns near the
/// per-pattern limit.
pub const TOTAL_PATTERN_SIZE_LIMIT: usize = 32 << 20;

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PatternError {
    /// Not a valid pattern; the parser's one-line explanation.
    Syntax(String),
    /// Inline `(?i)`, which folds case by Unicode rules.
    InlineIgnoreCase,
    /// `ignore_case` on a pattern with `(?-u)`.
    IgnoreCaseWithoutUnicode,
    /// This pattern's NFA alone is past [`PATTERN_SIZE_LIMIT`].
    TooBig,
    /// This pattern takes the rule set past [`TOTAL_PATTERN_SIZE_LIMIT`].
    OverBudget,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Syntax(m) => write!(f, "invalid regular expression: {m}"),
            Self::InlineIgnoreCase => f.write_str(
                "inline `(?i)` is not supported: it folds case by Unicode rules (U+212A KELVIN SIGN would match `k`); use `\"ignore_case\": true`, which folds ASCII only",
            ),
            Self::IgnoreCaseWithoutUnicode => {
                f.write_str("`ignore_case` cannot be combined with `(?-u)`")
            }
            Self::TooBig => write!(
                f,
                "the pattern compiles to more than {PATTERN_SIZE_LIMIT} bytes"
            ),
            Self::OverBudget => write!(
                f,
                "the patterns up to this one compile to more than {TOTAL_PATTERN_SIZE_LIMIT} bytes together, the limit for a rule set"
            ),
        }
    }
}

/// Compiles the patterns of one rule set, keeping count of their total size.
#[derive(Debug)]
pub(super) struct Budget {
    left: usize,
}

impl Budget {
    /// A fresh budget of [`TOTAL_PATTERN_SIZE_LIMIT`].
    pub(super) fn new() -> Self {
        Self::with_limit(TOTAL_PATTERN_SIZE_LIMIT)
    }

    /// A budget of `limit` bytes (tests use small ones).
    pub(super) fn with_limit(limit: usize) -> Self {
        Self { left: limit }
    }

    /// What is left.
    #[cfg(test)]
    pub(super) fn left(&self) -> usize {
        self.left
    }

    /// Compiles `pattern` to match whole values (`matches()`, as Kafka and
    /// Java do), folding ASCII case only if `ignore_case`, and charges its
    /// size to the budget.
    ///
    /// # Errors
    ///
    /// A [`PatternError`]; a refused pattern costs nothing.
    pub(super) fn compile(
        &mut self,
        pattern: &str,
        ignore_case: bool,
    ) -> Result<Regex, PatternError> {
        let syntax = |e: &dyn std::fmt::Display| PatternError::Syntax(last_line(&e.to_string()));
        let mut tree = ast::parse::Parser::new()
            .parse(pattern)
            .map_err(|e| syntax(&e))?;
        let flags = inline_flags(&tree);
        if flags.ignore_case {
            return Err(PatternError::InlineIgnoreCase);
        }
        if ignore_case {
            // Classes are folded one at a time in Unicode mode.
            if flags.no_unicode {
                return Err(PatternError::IgnoreCaseWithoutUnicode);
            }
            fold_ast(&mut tree, pattern)?;
        }
        let hir = hir::translate::Translator::new()
            .translate(pattern, &tree)
            .map_err(|e| syntax(&e))?;
        drop(tree);
        // `^(?:pattern)$`: the whole value (`matches()`, as Kafka and Java).
        let whole = Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)]);
        let limit = PATTERN_SIZE_LIMIT.min(self.left);
        let config = meta::Config::new()
            .nfa_size_limit(Some(limit))
            .onepass_size_limit(Some(ONEPASS_SIZE_LIMIT));
        let re = match Regex::builder().configure(config).build_from_hir(&whole) {
            Ok(re) => re,
            Err(e) if e.size_limit().is_some() && limit < PATTERN_SIZE_LIMIT => {
                return Err(PatternError::OverBudget);
            }
            Err(e) if e.size_limit().is_some() => return Err(PatternError::TooBig),
            Err(e) => return Err(syntax(&e)),
        };
        let size = re.memory_usage();
        if size > self.left {
            return Err(PatternError::OverBudget);
        }
        self.left -= size;
        Ok(re)
    }
}

/// The last non-empty line of a parser's message (the others repeat the
/// pattern with a caret under the problem).
fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

/// Inline flags a pattern sets anywhere.
#[derive(Debug, Default, Clone, Copy)]
struct InlineFlags {
    /// `(?i)` or `(?i:...)`.
    ignore_case: bool,
    /// `(?-u)` or `(?-u:...)`.
    no_unicode: bool,
}

fn inline_flags(tree: &Ast) -> InlineFlags {
    struct Finder(InlineFlags);
    impl ast::Visitor for Finder {
        type Output = InlineFlags;
        type Err = std::convert::Infallible;
        fn finish(self) -> Result<InlineFlags, Self::Err> {
            Ok(self.0)
        }
        fn visit_pre(&mut self, ast: &Ast) -> Result<(), Self::Err> {
            let flags: Option<&Flags> = match ast {
                Ast::Flags(set) => Some(&set.flags),
                Ast::Group(g) => match &g.kind {
                    ast::GroupKind::NonCapturing(flags) => Some(flags),
                    _ => None,
                },
                _ => None,
            };
            if let Some(flags) = flags {
                self.0.ignore_case |= flags.flag_state(Flag::CaseInsensitive) == Some(true);
                self.0.no_unicode |= flags.flag_state(Flag::Unicode) == Some(false);
            }
            Ok(())
        }
    }
    // The visitor keeps its own stack: no recursion on the pattern's depth.
    match ast::visit(tree, Finder(InlineFlags::default())) {
        Ok(found) => found,
        Err(never) => match never {},
    }
}

/// Rewrites `ast` so that every ASCII letter also matches its other ASCII
/// case: literals become two-letter classes, and classes get the other case
/// of the ASCII letters they hold, before their negation as with `(?i)`
/// (`[^x]` matches neither `x` nor `X`). Recursion is bounded by the
/// parser's nesting limit.
fn fold_ast(ast: &mut Ast, pattern: &str) -> Result<(), PatternError> {
    let folded = match ast {
        Ast::Literal(lit) if lit.c.is_ascii_alphabetic() => {
            let c = lit.c;
            let class = ClassUnicode::new([
                ClassUnicodeRange::new(c, c),
                ClassUnicodeRange::new(swap_case(c), swap_case(c)),
            ]);
            class_ast(lit.span, &class)
        }
        Ast::ClassBracketed(class) => {
            let (span, negated) = (class.span, class.negated);
            folded_class(ast.clone(), span, negated, pattern)?
        }
        Ast::ClassUnicode(class) => {
            let (span, negated) = (class.span, class.is_negated());
            folded_class(ast.clone(), span, negated, pattern)?
        }
        Ast::Repetition(rep) => return fold_ast(&mut rep.ast, pattern),
        Ast::Group(group) => return fold_ast(&mut group.ast, pattern),
        Ast::Concat(concat) => {
            return concat
                .asts
                .iter_mut()
                .try_for_each(|a| fold_ast(a, pattern));
        }
        Ast::Alternation(alt) => {
            return alt.asts.iter_mut().try_for_each(|a| fold_ast(a, pattern));
        }
        // Perl classes (`\w`, `\d`, `\s` and negations) hold both cases of
        // every ASCII letter or neither; the rest holds no letter.
        _ => return Ok(()),
    };
    *ast = folded;
    Ok(())
}

/// A class node folded: translated alone, the negation (if any) undone,
/// the other case of its ASCII letters added, the negation redone.
fn folded_class(
    node: Ast,
    span: ast::Span,
    negated: bool,
    pattern: &str,
) -> Result<Ast, PatternError> {
    let hir = hir::translate::Translator::new()
        .translate(pattern, &node)
        .map_err(|e| PatternError::Syntax(last_line(&e.to_string())))?;
    let mut set = match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => c.clone(),
        // A one-character class comes back as a literal.
        HirKind::Literal(hir::Literal(bytes)) => match std::str::from_utf8(bytes) {
            Ok(s) => ClassUnicode::new(s.chars().map(|c| ClassUnicodeRange::new(c, c))),
            Err(_) => return Ok(node),
        },
        // An empty class, which no character matches.
        HirKind::Class(Class::Bytes(b)) if b.ranges().is_empty() => ClassUnicode::empty(),
        // Not seen for a class in Unicode mode; unfolded is the strict side.
        _ => return Ok(node),
    };
    if negated {
        set.negate();
    }
    let mut other = ClassUnicode::empty();
    for range in set.iter() {
        for (lo, hi) in [('a', 'z'), ('A', 'Z')] {
            let start = range.start().max(lo);
            let end = range.end().min(hi);
            if start <= end {
                other.push(ClassUnicodeRange::new(swap_case(start), swap_case(end)));
            }
        }
    }
    set.union(&other);
    if negated {
        set.negate();
    }
    Ok(class_ast(span, &set))
}

/// A bracketed class listing `class`'s ranges (an empty one matches
/// nothing).
fn class_ast(span: ast::Span, class: &ClassUnicode) -> Ast {
    let lit = |c| ast::Literal {
        span,
        kind: ast::LiteralKind::Verbatim,
        c,
    };
    let items = class
        .iter()
        .map(|r| {
            ast::ClassSetItem::Range(ast::ClassSetRange {
                span,
                start: lit(r.start()),
                end: lit(r.end()),
            })
        })
        .collect();
    Ast::class_bracketed(ast::ClassBracketed {
        span,
        negated: false,
        kind: ast::ClassSet::union(ast::ClassSetUnion { span, items }),
    })
}

/// The other ASCII case of an ASCII letter.
fn swap_case(c: char) -> char {
    let b = u8::try_from(c).unwrap_or(b'?');
    char::from(b ^ 0x20)
}
