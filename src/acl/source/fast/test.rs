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
