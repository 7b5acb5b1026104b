use super::dn::{encode_dotted_oid, escape_into};
use super::facts::is_spiffe_id;
use super::rules::{Group, Piece, parse_template};
use super::*;
use crate::Principal;

fn esc(v: &str) -> String {
    let mut s = String::new();
    escape_into(v, &mut s);
    s
}

#[test]
fn escapes_per_rfc_4514_profile() {
    assert_eq!(esc("plain"), "plain");
    assert_eq!(esc("a,b+c\"d\\e;f<g>h"), "a\\,b\\+c\\\"d\\\\e\\;f\\<g\\>h");
    assert_eq!(esc("#x"), "\\#x");
    assert_eq!(esc("x#"), "x#");
    assert_eq!(esc(" lead"), "\\ lead");
    assert_eq!(esc("trail "), "trail\\ ");
    assert_eq!(esc(" "), "\\ ");
    assert_eq!(esc("a b"), "a b");
    assert_eq!(esc("nul\0del\x7f"), "nul\\00del\\7F");
    assert_eq!(esc("\x1b"), "\\1B");
    assert_eq!(esc("Müller"), "Müller");
    assert_eq!(esc(""), "");
}

#[test]
fn encodes_dotted_oids() {
    assert_eq!(encode_dotted_oid("2.5.4.3").unwrap(), [0x55, 0x04, 0x03]);
    assert_eq!(
        encode_dotted_oid("1.2.840.113549.1.9.1").unwrap(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]
    );
    assert_eq!(
        encode_dotted_oid("1.3.6.1.4.1.99999.1").unwrap(),
        [0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01]
    );
    for bad in [
        "",
        "1",
        "3.1",
        "1.40",
        "1..2",
        "1.02",
        "a.b",
        "1.2.",
        "1.2.99999999999999999999",
    ] {
        assert_eq!(encode_dotted_oid(bad), None, "{bad}");
    }
}

#[test]
fn parses_templates() {
    let lit = |s: &str| Piece::Literal(s.into());
    let idx = |n| Piece::Group(Group::Index(n));
    assert_eq!(parse_template("${1}").unwrap(), [idx(1)]);
    assert_eq!(
        parse_template("agent:${1}").unwrap(),
        [lit("agent:"), idx(1)]
    );
    assert_eq!(parse_template("$1").unwrap(), [idx(1)]);
    assert_eq!(parse_template("$$x").unwrap(), [lit("$x")]);
    assert_eq!(
        parse_template("$1x").unwrap(),
        [Piece::Group(Group::Name("1x".into()))]
    );
    assert_eq!(
        parse_template("${user}@${0}").unwrap(),
        [Piece::Group(Group::Name("user".into())), lit("@"), idx(0)]
    );
    assert_eq!(parse_template("${1}-x").unwrap(), [idx(1), lit("-x")]);
    for bad in ["$", "a$", "${1", "${}", "$-", "${a b}"] {
        assert!(parse_template(bad).is_err(), "{bad}");
    }
}

#[test]
fn validates_spiffe_ids() {
    for good in [
        "spiffe://prod.example.org/mesos/framework/marathon",
        "spiffe://td",
        "spiffe://a-b_c.d/A.b_c-9",
    ] {
        assert!(is_spiffe_id(good), "{good}");
    }
    for bad in [
        "spiffe://Prod.example.org/x",
        "spiffe://td/",
        "spiffe://td//x",
        "spiffe://td/./x",
        "spiffe://td/a/../x",
        "spiffe://td/x?q=1",
        "spiffe://td/x#f",
        "spiffe://td:443/x",
        "spiffe://user@td/x",
        "spiffe:///x",
        "SPIFFE://td/x",
        "https://td/x",
    ] {
        assert!(!is_spiffe_id(bad), "{bad}");
    }
    let long = format!("spiffe://td/{}", "a".repeat(2048));
    assert!(!is_spiffe_id(&long));
}

fn problems(src: &str) -> Vec<String> {
    Mapper::from_json(src)
        .unwrap_err()
        .problems()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn rule_errors_have_path_and_location() {
    let p = problems(
        "[\n  {\"source\": \"dn\", \"match\": \"x\", \"principal\": \"p\"},\n  {\"source\": \"subject.XX\", \"match\": \"x\", \"principal\": \"p\"}\n]",
    );
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with("3:14: $[1].source: unknown attribute `XX`"),
        "{p:?}"
    );

    let p = problems("[{\"source\": \"dn\", \"match\": \"(x\", \"principal\": \"p\"}]");
    assert!(
        p[0].starts_with("1:28: $[0].match: invalid regular expression"),
        "{p:?}"
    );

    let p = problems("[{\"source\": \"dn\", \"match\": \"(x)\", \"principal\": \"$2\"}]");
    assert_eq!(
        p,
        ["1:48: $[0].principal: the template names group `2`, which the pattern does not have"]
    );

    // Several problems are all reported.
    let p = problems(
        "[{\"source\": \"nope\", \"match\": \"x\", \"principal\": \"p\", \"extra\": 1, \"case\": \"title\"}, 7]",
    );
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(
        p.iter()
            .any(|m| m.contains("$[0].extra: unknown field `extra`"))
    );
    assert!(
        p.iter()
            .any(|m| m.contains("$[0].source: unknown source `nope`"))
    );
    assert!(
        p.iter()
            .any(|m| m.contains("$[0].case: unknown case `title`"))
    );
    assert!(p.iter().any(|m| m.contains("$[1]: expected a rule object")));
}

#[test]
fn rule_file_limits_and_shapes() {
    assert!(problems("[]")[0].contains("empty"));
    assert!(problems("{}")[0].contains("expected an array"));
    assert!(problems("[1,]")[0].starts_with("1:4: $:"));
    let many = format!("[{}]", vec!["\"DEFAULT\""; MAX_RULES + 1].join(","));
    assert!(problems(&many)[0].contains("more than the limit of 256"));
    let ok = format!("[{}]", vec!["\"DEFAULT\""; MAX_RULES].join(","));
    assert_eq!(Mapper::from_json(&ok).unwrap().len(), MAX_RULES);
    let long = format!(
        "[{{\"source\":\"dn\",\"match\":\"{}\",\"principal\":\"p\"}}]",
        "a".repeat(MAX_PATTERN_LEN + 1)
    );
    assert!(problems(&long)[0].contains("more than the limit of 1024"));
    // A short pattern that compiles past the size limit (TM-14).
    let huge = "[{\"source\":\"dn\",\"match\":\"\\\\w{1000}\\\\w{1000}\",\"principal\":\"p\"}]";
    assert!(
        problems(huge)[0].contains("compiles to more than"),
        "{:?}",
        problems(huge)
    );
    let dup = "[{\"source\":\"dn\",\"source\":\"dn\",\"match\":\"x\",\"principal\":\"p\"}]";
    assert!(problems(dup)[0].contains("given twice"));
    assert!(
        problems("[{\"source\":\"dn\",\"match\":\"x\"}]")[0].contains("missing field `principal`")
    );
    assert!(
        problems("[{\"source\":\"dn\",\"principal\":\"x\"}]")[0].contains("missing field `match`")
    );
    assert!(
        problems("[{\"source\":\"dn\",\"match\":\"x\",\"principal\":\"p\",\"action\":\"reject\"}]")
            [0]
        .contains("a reject rule has no `principal`")
    );
    assert!(
        problems("[{\"name\":\"a\\u0007\",\"source\":\"dn\",\"match\":\"x\",\"principal\":\"p\"}]")
            [0]
        .contains("`name` must be")
    );
    assert!(problems("[\"RULE:x/y\"]")[0].contains("expected `RULE:"));
    assert!(problems("[\"RULE:x/y/Q\"]")[0].contains("unknown case flag `Q`"));
    assert!(problems("[\"DEFAULTS\"]")[0].contains("must be `DEFAULT`"));
    assert!(problems("[\"RULE:(a)/$2/\"]")[0].contains("group `2`"));
}

#[test]
fn kafka_rule_escapes_slashes() {
    let set = parse_rules(r#"["RULE:^CN=a\\/b$/x\\/y/U"]"#).unwrap();
    let rule = &set.rules[0];
    assert_eq!(rule.pattern.value, "^CN=a/b$");
    assert_eq!(
        rule.template.as_ref().unwrap().value,
        [Piece::Literal("x/y".into())]
    );
    assert_eq!(rule.case, rules::Case::Upper);
}

#[test]
fn combines_certificate_and_sasl_principals() {
    let a = Principal::new("a").unwrap();
    let b = Principal::new("b").unwrap();
    assert_eq!(combine_principals(None, None), Ok(None));
    assert_eq!(combine_principals(Some(&a), None), Ok(Some(a.clone())));
    assert_eq!(combine_principals(None, Some(&b)), Ok(Some(b.clone())));
    assert_eq!(combine_principals(Some(&a), Some(&a)), Ok(Some(a.clone())));
    let e = combine_principals(Some(&a), Some(&b)).unwrap_err();
    assert_eq!(e.certificate, a);
    assert_eq!(e.sasl, b);
}

#[test]
fn compiled_objects_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Mapper>();
    check::<CachedMapper>();
    check::<ReloadableMapper>();
    check::<LeafFacts>();
    check::<VerifiedLeaf>();
}

#[test]
fn garbage_der_is_rejected() {
    let mapper = Mapper::from_json("[\"DEFAULT\"]").unwrap();
    for der in [
        &b""[..],
        b"\x30\x00",
        b"\x30\x82\xff\xff",
        b"not a certificate",
    ] {
        let leaf = VerifiedLeaf::from_der_verified_elsewhere(der.to_vec().into());
        let r = mapper.map(&leaf).unwrap_err();
        assert!(matches!(r.reason(), RejectReason::Unparsable(_)), "{r}");
    }
}

/// Undoes the §4.5 escaping: `\\XX` hex pairs and `\\c`.
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let hex = |k: usize| b.get(k).is_some_and(u8::is_ascii_hexdigit);
            if hex(i + 1) && hex(i + 2) {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i + 1]);
                i += 2;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

proptest::proptest! {
    /// Escaping is reversible, and an escaped value holds no bare `,` or `+`
    /// a pattern could take for a separator (threats.md TM-6).
    #[test]
    fn escaping_round_trips_and_hides_separators(v in "[ -~\u{0}-\u{1f}\u{7f}äü€😀]{0,24}") {
        let e = esc(&v);
        proptest::prop_assert_eq!(unescape(&e), v.clone());
        let b = e.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            proptest::prop_assert!(!b",+\";<>".contains(&b[i]), "bare special in {:?}", e);
            proptest::prop_assert!(!(b[i] < 0x20 || b[i] == 0x7f), "raw control in {:?}", e);
            i += 1;
        }
        proptest::prop_assert!(!e.starts_with(' ') && !e.starts_with('#'));
        proptest::prop_assert!(!e.ends_with(' ') || e.ends_with("\\ "));
    }
}

#[test]
fn rule_file_reading_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; (MAX_RULE_FILE_LEN + 1) as usize]).unwrap();
    assert!(matches!(
        Mapper::from_file(&big),
        Err(TlsMapError::TooLarge { .. })
    ));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"[\n\"DEF\xffAULT\"]").unwrap();
    let Err(TlsMapError::Rules(e)) = Mapper::from_file(&bad) else {
        panic!("invalid UTF-8 must be a rules error")
    };
    assert_eq!(e.to_string(), "2:5: $: invalid UTF-8");
    let ok = dir.path().join("ok.json");
    std::fs::write(&ok, b"[\"DEFAULT\"]").unwrap();
    assert_eq!(Mapper::from_file(&ok).unwrap().len(), 1);
    assert!(matches!(
        Mapper::from_file(dir.path().join("missing.json")),
        Err(TlsMapError::Read { .. })
    ));
}

#[test]
fn pattern_budget_counts_every_pattern() {
    use super::pattern::{Budget, PatternError};
    let mut probe = Budget::new();
    probe.compile(r"\w", false).unwrap();
    let size = TOTAL_PATTERN_SIZE_LIMIT - probe.left();
    assert!(size > 10_000, "{size}");
    // Five fit in five and a half times that, the sixth does not.
    let mut budget = Budget::with_limit(size * 11 / 2);
    for _ in 0..5 {
        assert!(budget.compile(r"\w", false).is_ok());
    }
    assert_eq!(
        budget.compile(r"\w", true).err(),
        Some(PatternError::OverBudget)
    );
    // A refused pattern costs nothing; small ones still fit.
    assert!(budget.compile("[a-z]+", true).is_ok());
    // With room to spare, a pattern past the per-pattern limit is `TooBig`.
    let mut budget = Budget::new();
    assert_eq!(
        budget.compile(r"\w{1000}", false).err(),
        Some(PatternError::TooBig)
    );
    assert!(matches!(
        budget.compile("(x", false),
        Err(PatternError::Syntax(_))
    ));
    assert_eq!(
        budget.compile("(?i)x", false).err(),
        Some(PatternError::InlineIgnoreCase)
    );
}

#[test]
fn ignore_case_folds_ascii_letters_only() {
    use super::pattern::{Budget, PatternError};
    let re = Budget::new()
        .compile(r"k[a-c]\x{17F}(?<n>\d)[^x]é", true)
        .unwrap();
    for yes in ["kaſ1yé", "KCſ2Yé", "Kbſ3!é"] {
        assert!(re.is_match(yes), "{yes}");
    }
    // U+212A KELVIN SIGN, ASCII `s` for `ſ`, `X` for `[^x]`, `É` for `é`.
    for no in ["\u{212A}aſ1yé", "kas1yé", "kaſ1Xé", "kaſ1yÉ", "kaſ1yéz"] {
        assert!(!re.is_match(no), "{no}");
    }
    let names: Vec<_> = re
        .group_info()
        .pattern_names(regex_automata::PatternID::ZERO)
        .flatten()
        .collect();
    assert_eq!(names, ["n"]);
    // Negated classes are folded before the negation, as `(?i)` does.
    let re = Budget::new().compile(r"[^x]\p{Lu}\P{Lu}", true).unwrap();
    for yes in ["za1", "zA1", "?B-"] {
        assert!(re.is_match(yes), "{yes}");
    }
    for no in ["Xa1", "xa1", "zaa", "zaA", "z1a"] {
        assert!(!re.is_match(no), "{no}");
    }
    assert_eq!(
        Budget::new().compile("(?-u:x)", true).err(),
        Some(PatternError::IgnoreCaseWithoutUnicode)
    );
}
