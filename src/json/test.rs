use super::*;

fn ok(src: &str) -> Json {
    parse(src, Options::default()).unwrap()
}

fn err(src: &str) -> JsonError {
    parse(src, Options::default()).unwrap_err()
}

#[test]
fn reads_values_with_spans() {
    let j = ok(r#" {"a": [1, -2.5e3, true, null], "b": "x\u00e9\n"} "#);
    let members = j.as_object().unwrap();
    assert_eq!(j.span, Span::new(1, 49));
    assert_eq!(members[0].key, "a");
    assert_eq!(members[0].key_span, Span::new(2, 5));
    let arr = members[0].value.as_array().unwrap();
    assert!(matches!(arr[0].value, JsonValue::Number));
    assert_eq!(arr[1].span, Span::new(11, 17));
    assert!(matches!(arr[1].value, JsonValue::Number));
    assert_eq!(arr[2].as_bool(), Some(true));
    assert!(matches!(arr[3].value, JsonValue::Null));
    assert_eq!(members[1].value.as_str(), Some("xé\n"));
}

#[test]
fn keeps_duplicates_for_the_caller() {
    let j = ok(r#"{"permissive": true, "permissive": false, "x": 1}"#);
    let m = j.as_object().unwrap();
    let problems = key_problems(m, &["permissive"]);
    assert_eq!(problems.len(), 2);
    assert!(matches!(problems[0], KeyProblem::Duplicate { first, again }
        if first.key_span.start == 1 && again.key_span.start == 21));
    assert!(matches!(problems[1], KeyProblem::Unknown(m) if m.key == "x"));
    assert_eq!(first(m, "permissive").unwrap().value.as_bool(), Some(true));
    assert_eq!(last(m, "permissive").unwrap().value.as_bool(), Some(false));
}

#[test]
fn surrogates() {
    assert_eq!(ok(r#""\ud83d\ude00""#).as_str(), Some("😀"));
    assert_eq!(
        err(r#""\ud83d""#).kind,
        JsonErrorKind::LoneSurrogate(0xd83d)
    );
    assert_eq!(
        err(r#""\ude00x""#).kind,
        JsonErrorKind::LoneSurrogate(0xde00)
    );
    assert_eq!(
        err(r#""\ud83d\u0041""#).kind,
        JsonErrorKind::LoneSurrogate(0xd83d)
    );
    // An escaped NUL is valid JSON; the schema layer decides to refuse it.
    assert_eq!(ok(r#""a\u0000b""#).as_str(), Some("a\0b"));
}

#[test]
fn refuses_what_rfc_8259_refuses() {
    let cases: &[(&str, JsonErrorKind, usize)] = &[
        ("", JsonErrorKind::Empty, 0),
        ("  \n ", JsonErrorKind::Empty, 4),
        ("\u{feff}{}", JsonErrorKind::ByteOrderMark, 0),
        ("{} x", JsonErrorKind::TrailingData, 3),
        ("[1,]", JsonErrorKind::Unexpected(']'), 3),
        ("{\"a\":1,}", JsonErrorKind::Unexpected('}'), 7),
        ("[01]", JsonErrorKind::InvalidNumber, 2),
        ("[1.]", JsonErrorKind::InvalidNumber, 3),
        ("[-]", JsonErrorKind::InvalidNumber, 2),
        ("[1e]", JsonErrorKind::InvalidNumber, 3),
        ("[tru]", JsonErrorKind::Unexpected(']'), 4),
        ("[nul", JsonErrorKind::UnexpectedEnd, 4),
        ("\"a\tb\"", JsonErrorKind::ControlInString(9), 2),
        ("\"a\\x\"", JsonErrorKind::InvalidEscape, 2),
        ("\"abc", JsonErrorKind::UnexpectedEnd, 4),
        ("{'a':1}", JsonErrorKind::Unexpected('\''), 1),
        ("// c\n{}", JsonErrorKind::Unexpected('/'), 0),
        ("[é]", JsonErrorKind::Unexpected('é'), 1),
    ];
    for (src, kind, offset) in cases {
        let e = err(src);
        assert_eq!((&e.kind, e.offset), (kind, *offset), "input {src:?}");
    }
}

#[test]
fn huge_exponents_are_text_not_overflow() {
    let j = ok("[1e400, -3328e400]");
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .all(|n| matches!(n.value, JsonValue::Number))
    );
}

#[test]
fn depth_limit_is_exact() {
    let at = "[".repeat(DEFAULT_MAX_DEPTH) + &"]".repeat(DEFAULT_MAX_DEPTH);
    assert!(parse(&at, Options::default()).is_ok());
    let over = "[".repeat(DEFAULT_MAX_DEPTH + 1) + &"]".repeat(DEFAULT_MAX_DEPTH + 1);
    assert_eq!(err(&over).kind, JsonErrorKind::TooDeep(DEFAULT_MAX_DEPTH));
    // 10 MiB of '[' fails fast at the limit, not by exhausting the stack.
    let flood = "[".repeat(10 << 20);
    assert_eq!(err(&flood).offset, DEFAULT_MAX_DEPTH);
}

#[test]
fn bom_allowed_when_asked() {
    let j = parse(
        "\u{feff}{}",
        Options {
            allow_bom: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(j.span, Span::new(3, 5));
}

#[test]
fn invalid_utf8_offset() {
    assert_eq!(from_utf8(b"{\"a\xff\"}").unwrap_err().offset, 3);
}

#[test]
fn paths_render() {
    let p = JsonPath::root()
        .key("run_tasks")
        .index(2)
        .key("users")
        .key("odd key");
    assert_eq!(p.to_string(), "$.run_tasks[2].users[\"odd key\"]");
}

#[test]
fn regression_fuzz_number_beyond_f64_is_kept_as_text() {
    // fuzz/json_parse found that serde_json refuses `6E6626`; we keep numbers
    // as text by design, so it is accepted and never converted to infinity.
    let j = ok("6E6626");
    assert!(matches!(j.value, JsonValue::Number));
    assert_eq!(j.span, Span::new(0, 6));
}

#[test]
fn regression_fuzz_trailing_backslash_offset_is_inside_the_text() {
    // fuzz/tls_rules: a string ending in a backslash reported an offset one
    // past the end of the text.
    let src = "\"abc\\";
    let e = err(src);
    assert_eq!(
        (e.kind, e.offset),
        (JsonErrorKind::UnexpectedEnd, src.len())
    );
}

#[test]
fn unexpected_character_messages_stay_on_one_line() {
    let e = err("tru\n");
    assert_eq!(e.kind, JsonErrorKind::Unexpected('\n'));
    assert_eq!(e.to_string(), "unexpected character `\\n`");
}

#[test]
fn string_stop_finds_what_a_byte_loop_finds() {
    let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
    // Every stop byte (and near misses) at every place in and around an
    // eight-byte word, after bytes that borrow in the word tests.
    let fillers: &[u8] = &[
        b'a', 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF, 0x01,
    ];
    let stops: &[u8] = &[b'"', b'\\', 0x00, 0x1F, 0x0A, 0x20, 0x21, 0x5C];
    for len in 0..20 {
        for at in 0..len {
            for &fill in fillers {
                for &stop in stops {
                    let mut body = vec![fill; len];
                    body[at] = stop;
                    assert_eq!(string_stop(&body), naive(&body), "{body:?}");
                }
            }
        }
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        let body: Vec<u8> = (0..37)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly plain text, sometimes a stop byte.
                if x.is_multiple_of(29) {
                    (x >> 8) as u8 & 0x3F
                } else {
                    0x23 + (x >> 16) as u8 % 0x5C
                }
            })
            .collect();
        assert_eq!(string_stop(&body), naive(&body), "{body:?}");
    }
}
