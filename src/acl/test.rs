//! Unit tests of the ACL internals.

use super::compile::DEFAULT_MAX_STRING_LEN;
use super::decision::{check_object, has_control, valid_role};

#[test]
fn control_characters_found_by_byte_scan() {
    for s in ["\u{0}", "a\u{1f}", "\u{7f}", "x\u{80}", "\u{9f}y", "\r"] {
        assert!(has_control(s), "{s:?}");
    }
    for s in ["", "plain", "é", "\u{a0}", "日本", "\u{c2}\u{a0}"] {
        assert!(!has_control(s), "{s:?}");
    }
}

#[test]
fn roles_validated_like_mesos() {
    for ok in ["*", "a", "a/b", "a/b/c", "a-b", "a.b", "a/.b"] {
        assert!(valid_role(ok), "{ok}");
    }
    for bad in [
        "", "/", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "-a", "a/-b", "a b", "a/*",
        "*/a", "a\tb",
    ] {
        assert!(!valid_role(bad), "{bad}");
    }
    assert!(
        check_object(
            &"r".repeat(DEFAULT_MAX_STRING_LEN),
            true,
            DEFAULT_MAX_STRING_LEN
        )
        .is_ok()
    );
    assert!(
        check_object(
            &"r".repeat(DEFAULT_MAX_STRING_LEN + 1),
            true,
            DEFAULT_MAX_STRING_LEN
        )
        .is_err()
    );
}

#[test]
fn locations_on_one_long_line_and_many_lines() {
    // Errors late in a single-line file carry the right column.
    let mut text = String::from("{\"permissive\": false, \"run_tasks\": [");
    for i in 0..50 {
        text.push_str(&format!(
            "{{\"principals\": {{\"values\": [\"p{i}\"]}}, \"users\": {{\"type\": \"ANY\"}}}},"
        ));
    }
    let col = text.chars().count() + 1;
    text.push_str("{\"principals\": {\"type\": \"any\"}, \"users\": {\"type\": \"ANY\"}}]}");
    let err = super::parse(&text).unwrap_err().diagnostics();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].location().line, 1);
    assert_eq!(
        err[0].location().column as usize,
        col + "{\"principals\": {\"type\": ".chars().count()
    );
    let s = super::parse("{\n \"permissive\": true,\n \"run_tasks\": [\n  {\"principals\": {\"type\": \"ANY\"},\n   \"users\": {\"type\": \"ANY\"}}]}").unwrap();
    let acl = &s.acls(super::AclList::RunTasks)[0];
    assert_eq!((acl.location().line, acl.location().column), (4, 3));
}
