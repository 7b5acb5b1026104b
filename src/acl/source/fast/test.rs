//! The fast path builds exactly what the full reader builds, and leaves
//! everything the full reader would question to it.

use super::super::{AclSource, Options, parse_full, parse_with};
use super::parse as fast;

/// The full reader's answer in strict mode.
fn full(text: &str) -> Result<AclSource, super::super::AclError> {
    parse_full(text, Options::new())
}

const ACCEPTED: &[&str] = &[
    r#"{"permissive": false}"#,
    r#"{"permissive":true,"run_tasks":[]}"#,
    " \n\t{ \"run_tasks\" : [ { \"users\" : { \"values\" : [ \"root\" ] } , \"principals\" : { \"type\" : \"SOME\" , \"values\" : [ \"ops\" , \"é\" ] } } ] , \"permissive\" : false } \r\n",
    r#"{
  "permissive": false,
  "register_frameworks": [
    {"principals": {"values": ["marathon"]}, "roles": {"values": ["web", "web/%"]}},
    {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}
  ],
  "run_tasks": [
    {"principals": {"values": ["日本語", "caf\u00e9"]}, "users": {"values": ["a\/b", "x\"y"]}},
    {"principals": {"type": "NONE"}, "users": {"type": "ANY"}}
  ],
  "get_endpoints": [
    {"principals": {"values": ["ops"]}, "paths": {"values": ["/metrics/snapshot", "/containers"]}}
  ],
  "update_quotas": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}],
  "teardown_frameworks": [
    {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}
  ]
}"#,
    r#"{"permissive": false, "view_roles": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}], "update_weights": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}"#,
    // Legacy quota lists without update_quotas.
    r#"{"permissive": true, "set_quotas": [{"principals": {"values": ["a"]}, "roles": {"values": ["r"]}}]}"#,
];

#[test]
fn accepted_text_builds_what_the_full_reader_builds() {
    for text in ACCEPTED {
        let expected = full(text).unwrap();
        assert_eq!(fast(text).as_ref(), Some(&expected), "{text}");
        assert_eq!(
            parse_with(text, Options::new()).unwrap(),
            expected,
            "{text}"
        );
    }
}

#[test]
fn the_conformance_policies_build_the_same_both_ways() {
    let cases: serde_json::Value =
        serde_json::from_str(include_str!("../../../../tests/data/mesos-acls.json")).unwrap();
    let mut compared = 0;
    for case in cases.as_array().unwrap() {
        let mut acls = case["acls"].clone();
        let Some(obj) = acls.as_object_mut() else {
            continue;
        };
        obj.entry("permissive").or_insert(false.into());
        for text in [
            serde_json::to_string(&acls).unwrap(),
            serde_json::to_string_pretty(&acls).unwrap(),
        ] {
            match full(&text) {
                Ok(expected) => {
                    assert_eq!(fast(&text).as_ref(), Some(&expected), "{text}");
                    compared += 1;
                }
                Err(_) => assert!(fast(&text).is_none(), "{text}"),
            }
        }
    }
    assert!(compared > 20, "only {compared} policies compared");
}

/// Text the full reader questions (an error in strict mode, or a warning
/// in lenient mode) around one otherwise valid ACL.
const QUESTIONED: &[&str] = &[
    "",
    "\u{feff}{\"permissive\": false}",
    "{\"permissive\": false} x",
    "{\"permissive\": false,}",
    "{}",
    "[]",
    r#"{"permissive": null}"#,
    r#"{"permissive": "false"}"#,
    r#"{"permissive": 0}"#,
    r#"{"permissive": falsey}"#,
    r#"{"permissive": false, "permissive": true}"#,
    r#"{"permissive": false, "run_task": []}"#,
    r#"{"permissive": false, "run_tasks": [], "run_tasks": []}"#,
    r#"{"permissive": false, "run_tasks": null}"#,
    r#"{"permissive": false, "run_tasks": {"principals": {"type": "ANY"}, "users": {"type": "ANY"}}}"#,
    r#"{"permissive": false, "run_tasks": [null]}"#,
    r#"{"permissive": false, "run_tasks": [1]}"#,
    r#"{"permissive": false, "run_tasks": [{}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "ANY"}, "users": null}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "any"}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": 1}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "ANY", "values": ["a"]}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "ANY", "type": "ANY"}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"type": "SOME"}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": []}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": "a"}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": [null]}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": ["a", 1]}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": ["a\u0001"]}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": ["a\u0085"]}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": ["a"], "extra": 1}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": ["a"]}, "users": {"type": "ANY"}},]}"#,
    r#"{"permissive": false, "run_tasks": [{"principals": {"values": ["a\x"]}, "users": {"type": "ANY"}}]}"#,
    r#"{"permissive": false, "get_endpoints": [{"principals": {"type": "ANY"}, "paths": {"values": ["/nope"]}}]}"#,
    r#"{"permissive": false, "view_flags": [{"principals": {"type": "ANY"}, "flags": {"values": ["x"]}}]}"#,
    r#"{"permissive": false, "update_quotas": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}], "set_quotas": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}"#,
];

#[test]
fn anything_the_full_reader_questions_is_left_to_it() {
    for text in QUESTIONED {
        let strict = full(text);
        let lenient = parse_full(text, Options::new().lenient(true));
        let questioned = strict.is_err() || lenient.is_ok_and(|s| !s.warnings().is_empty());
        assert!(questioned, "not a questioned case: {text}");
        assert!(fast(text).is_none(), "{text}");
        // And the public entry point answers as the full reader does.
        assert_eq!(parse_with(text, Options::new()), strict, "{text}");
    }
}

#[test]
fn errors_keep_their_locations_after_a_long_accepted_prefix() {
    let mut text = String::from("{\"permissive\": false, \"run_tasks\": [\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "  {{\"principals\": {{\"values\": [\"p{i}\"]}}, \"users\": {{\"type\": \"ANY\"}}}},\n"
        ));
    }
    text.push_str("  {\"principals\": {\"values\": [\"p\"]}, \"users\": {\"type\": \"ANY\"}, \"user\": 1}\n]}");
    assert!(fast(&text).is_none());
    let err = parse_with(&text, Options::new()).unwrap_err();
    assert_eq!(err, full(&text).unwrap_err());
    let d = err.diagnostics();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].location().to_string(), "1002:63");
    assert_eq!(d[0].path(), "$.run_tasks[1000].user");
}

#[test]
fn control_characters_are_found_by_the_byte_prefilter() {
    for c in (0u32..0x300).filter_map(char::from_u32) {
        let text = format!("ab{c}cd");
        assert_eq!(
            super::has_control(&text),
            c.is_control(),
            "U+{:04X}",
            c as u32
        );
    }
    // A C1 control after other two-byte characters.
    assert!(super::has_control("é\u{85}"));
    assert!(!super::has_control("éé€"));
}

#[test]
fn locations_counted_forward_match_the_line_table() {
    use crate::span::LineIndex;
    let text = "{\n  \"é\": [\"a\",\r\n\t\"€x\"],\n\n  \"b\":  \"ü\"}\n";
    let table = LineIndex::new(text);
    let offsets: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    // Forward in steps of every size, as the parser asks.
    for step in 1..offsets.len() {
        let lines = super::super::Locator::new(text);
        for &o in offsets.iter().step_by(step) {
            assert_eq!(
                lines.location(o),
                table.location(o),
                "offset {o}, step {step}"
            );
        }
    }
}

/// Texts whose cuts fall in awkward places: strings holding `{`, `}`, `,`,
/// `"`, `[`, escapes and characters of several bytes, entities starting
/// on their own line after a key, and lists continued over many lines.
const AWKWARD: &[&str] = &[
    "{\"permissive\": false, \"run_tasks\": [\n  {\"principals\": {\"values\": [\"a,\\\\  {\\\"b\"]}, \"users\": {\"values\": [\"}\"]}},\n  {\"principals\": {\"values\": [\"{\", \"]\"]}, \"users\": {\"type\": \"ANY\"}},\n  {\"users\": {\"values\": [\"é€,{\"]}, \"principals\": {\"type\": \"NONE\"}},\n{\"principals\":\n{\"values\": [\"\\u007b\"]}, \"users\": {\"values\": [\"x\\\",\\\"y\"]}}\n], \"register_frameworks\": [\n  {\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"values\": [\"r\", \"r/%\"]}},\n  {\"principals\": {\"values\": [\"日本\"]}, \"roles\": {\"type\": \"ANY\"}}\n]}\n",
    "{\n  \"run_tasks\": [\n    {\n      \"principals\": {\n        \"values\": [\"a\"]\n      },\n      \"users\": {\n        \"type\": \"ANY\"\n      }\n    },\n    {\n      \"principals\": {\"type\": \"ANY\"},\n      \"users\": {\"values\": [\"u\", \"v\"]}\n    }\n  ],\n  \"permissive\": true,\n  \"get_endpoints\": [\n    {\"principals\": {\"type\": \"ANY\"}, \"paths\": {\"values\": [\"/containers\"]}},\n    {\"principals\": {\"type\": \"ANY\"}, \"paths\": {\"values\": [\"/files/debug\"]}}\n  ],\n  \"view_flags\": [\n    {\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"type\": \"ANY\"}},\n    {\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"type\": \"NONE\"}}\n  ]\n}",
];

/// Text that is accepted whole but not after a cut unless the joined
/// pieces are checked: in the second of two ACLs of a list, a wrong
/// object key, a SOME object where the list forbids it, a path outside
/// the endpoint set; a list or `permissive` repeated in a later piece;
/// `update_quotas` next to `set_quotas`.
const REFUSED_ACROSS_CUTS: &[&str] = &[
    "{\"permissive\": false, \"run_tasks\": [\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"ANY\"}}]}",
    "{\"permissive\": false, \"view_flags\": [\n{\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"flags\": {\"values\": [\"x\"]}}]}",
    "{\"permissive\": false, \"get_endpoints\": [\n{\"principals\": {\"type\": \"ANY\"}, \"paths\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"paths\": {\"values\": [\"/containers\", \"/nope\"]}}]}",
    "{\"permissive\": false, \"run_tasks\": [\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}}], \"run_tasks\": []}",
    "{\"permissive\": false, \"run_tasks\": [\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}}], \"permissive\": true}",
    "{\"run_tasks\": [\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}}]}",
    "{\"permissive\": false, \"set_quotas\": [\n{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"ANY\"}}], \"update_quotas\": [{\"principals\": {\"type\": \"ANY\"}, \"roles\": {\"type\": \"ANY\"}}]}",
    "{\"permissive\": false, \"run_tasks\": [\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}}]} x",
    "{\"permissive\": false, \"run_tasks\": [\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}},\n{\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"ANY\"}},]}",
];

/// Every text a cut may not change: the accepted, awkward and questioned
/// ones, and those refused only across a cut.
fn cut_texts() -> Vec<&'static str> {
    ACCEPTED
        .iter()
        .chain(AWKWARD)
        .chain(QUESTIONED)
        .chain(REFUSED_ACROSS_CUTS)
        .copied()
        .collect()
}

/// Offsets where a cut works: the `{` of each ACL after a `,`.
fn acl_cuts(text: &str) -> Vec<usize> {
    (1..text.len())
        .filter(|&b| super::parse_in_pieces(text, &[b]).is_some())
        .collect()
}

#[test]
fn a_cut_anywhere_builds_the_same_or_leaves_it_to_one_piece() {
    for text in cut_texts() {
        let whole = fast(text);
        let mut worked = 0;
        for b in (1..text.len()).filter(|&b| text.is_char_boundary(b)) {
            if let Some(cut) = super::parse_in_pieces(text, &[b]) {
                assert_eq!(Some(&cut), whole.as_ref(), "cut at {b}: {text}");
                assert_eq!(cut, full(text).unwrap(), "cut at {b}: {text}");
                worked += 1;
            }
        }
        // A cut works exactly at the ACLs that follow a comma in their list.
        let expected = whole.as_ref().map_or(0, |s| {
            s.lists.iter().map(|l| l.len().saturating_sub(1)).sum()
        });
        assert_eq!(worked, expected, "{text}");
    }
    for text in REFUSED_ACROSS_CUTS {
        assert!(fast(text).is_none(), "{text}");
        assert!(full(text).is_err(), "{text}");
    }
}

#[test]
fn several_cuts_build_the_same() {
    for text in ACCEPTED.iter().chain(AWKWARD) {
        let whole = fast(text).unwrap_or_else(|| panic!("{:?}", full(text)));
        let good = acl_cuts(text);
        for (i, &a) in good.iter().enumerate() {
            // Every pair of working cuts works, and a working cut followed
            // by any other offset works only at a working one.
            for b in (a + 1..text.len()).filter(|&b| text.is_char_boundary(b)) {
                let cut = super::parse_in_pieces(text, &[a, b]);
                assert_eq!(cut.is_some(), good.contains(&b), "cuts {a}, {b}: {text}");
                if let Some(cut) = cut {
                    assert_eq!(cut, whole, "cuts {a}, {b}: {text}");
                }
            }
            if good.len() > i + 2 {
                let three = [a, good[i + 1], good[i + 2]];
                assert_eq!(
                    super::parse_in_pieces(text, &three).as_ref(),
                    Some(&whole),
                    "{three:?}"
                );
            }
        }
    }
}

/// A text of `n` ACLs over several lists, one a line, with awkward values.
fn many(n: usize) -> String {
    let lists = [
        ("run_tasks", "users"),
        ("register_frameworks", "roles"),
        ("get_endpoints", "paths"),
        ("view_flags", "flags"),
    ];
    let mut text = String::from("{\"permissive\": false");
    for (l, (key, field)) in lists.iter().enumerate() {
        text.push_str(&format!(",\n \"{key}\": ["));
        for i in 0..n / lists.len() {
            let object = match (l, i % 3) {
                (2, 0) => "{\"values\": [\"/containers\", \"/files/debug\"]}".to_owned(),
                (2 | 3, _) | (_, 1) => "{\"type\": \"ANY\"}".to_owned(),
                _ => format!("{{\"values\": [\"v{i}, {{\\\"é\\/\", \"日本 ]{i}\"]}}"),
            };
            let sep = if i == 0 { "\n  " } else { ",\n  " };
            text.push_str(&format!(
                "{sep}{{\"principals\": {{\"values\": [\"p{i}\\u00e9\"]}}, \"{field}\": {object}}}"
            ));
        }
        text.push_str("\n ]");
    }
    text.push_str("\n}\n");
    text
}

#[test]
fn large_text_is_cut_where_the_pieces_join() {
    let text = many(20_000);
    assert!(text.len() > super::PARALLEL_FROM, "{}", text.len());
    let whole = super::join(text.len(), vec![super::piece(&text, 0, None).unwrap()]).unwrap();
    assert_eq!(whole, full(&text).unwrap());
    for threads in 2..=8 {
        let cuts = super::cuts(&text, threads);
        assert_eq!(cuts.len(), threads - 1, "{threads} threads");
        assert_eq!(
            super::parse_in_pieces(&text, &cuts).as_ref(),
            Some(&whole),
            "{threads} threads"
        );
    }
    // And the public entry point, whatever the machine's cores.
    assert_eq!(fast(&text).as_ref(), Some(&whole));
    // A large text with a mistake in its last ACL is still refused.
    let bad = text.replacen("\"flags\": {\"type\": \"NONE\"}", "", 0);
    let last = bad.rfind("\"flags\"").unwrap();
    let bad = format!("{}\"flag\"{}", &bad[..last], &bad[last + 7..]);
    assert!(fast(&bad).is_none());
    for threads in 2..=4 {
        assert!(super::parse_in_pieces(&bad, &super::cuts(&bad, threads)).is_none());
    }
}

#[test]
fn a_text_without_usable_lines_is_not_cut() {
    let one_line = many(20_000).replace('\n', " ");
    assert!(super::cuts(&one_line, 4).is_empty());
    assert!(fast(&one_line).is_some());
}

#[test]
fn newlines_are_counted_in_every_lane_and_block() {
    let mut bytes = Vec::new();
    let mut expected = 0;
    // Every lane, past several blocks, with runs of newlines that would
    // overflow a lane counted past 255.
    for i in 0..40_000usize {
        let newline = i % 7 == 0 || (10_000..12_000).contains(&i);
        bytes.push(if newline { b'\n' } else { b'x' });
        expected += usize::from(newline);
        if i % 997 == 0 {
            assert_eq!(super::count_newlines(&bytes), expected, "{i}");
        }
    }
    assert_eq!(super::count_newlines(&bytes), expected);
    assert_eq!(super::count_newlines(&[b'\n'; 10_000]), 10_000);
    assert_eq!(super::count_newlines(b""), 0);
}
