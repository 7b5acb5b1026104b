use super::*;

#[test]
fn reason_codes() {
    assert_eq!(Reason::Empty.code(), ErrorCode::InvalidRequest);
    assert_eq!(
        Reason::TooLarge { len: 9, limit: 8 }.code().as_str(),
        "invalid_request"
    );
    assert_eq!(Reason::BadSignature.code().as_str(), "invalid_token");
    assert_eq!(
        ErrorCode::InsufficientScope.to_string(),
        "insufficient_scope"
    );
}

#[test]
fn alg_names_round_trip() {
    for a in Alg::ALL {
        assert_eq!(Alg::from_name(a.as_str()), Some(a));
    }
    assert_eq!(Alg::from_name("none"), None);
    assert_eq!(Alg::from_name("rs256"), None, "names are case-sensitive");
}

#[test]
fn reasons_read_well() {
    let r = Reason::Expired { exp: 100, now: 160 };
    assert_eq!(r.to_string(), "expired: `exp` 100 is 60s before now (160)");
    let r = Reason::WrongAudience {
        expected: vec!["a".into(), "b\n".into()],
    };
    assert_eq!(
        r.to_string(),
        "claim `aud` names no accepted audience (expected `a`, `b\\n`)"
    );
}

#[test]
fn config_defaults() {
    let c = ValidatorConfig::new();
    assert_eq!(c.allowed_algorithms(), DEFAULT_ALGORITHMS);
    assert!(matches!(c.check(), Err(BearerError::Config(_))));
}

#[test]
fn extreme_dates_display_without_overflow() {
    // A signed token may carry `exp: -1e300` (saturated to i64::MIN).
    let r = Reason::Expired {
        exp: i64::MIN,
        now: 1_800_000_000,
    };
    assert!(r.to_string().contains(&format!("{}s before", i64::MAX)));
    let r = Reason::NotYetValid {
        nbf: i64::MAX,
        now: -5,
    };
    assert!(r.to_string().contains(&format!("{}s after", i64::MAX)));
}

mod reader {
    //! The hand-written reader (`token`) against the serde reference, and
    //! what it refuses.

    use std::sync::Arc;

    use proptest::prelude::*;

    use super::super::reference::{self, ReadValue};

    fn rules() -> Vec<Arc<str>> {
        vec![Arc::from("sub"), Arc::from("client_id")]
    }

    /// The two readers agree on acceptance and values, and on the problem
    /// text wherever serde_json's `Value` takes the input.
    fn agree(json: &[u8]) {
        let (new, old) = (
            reference::claims(json, &rules()),
            reference::reference_claims(json, &rules()),
        );
        let strict = reference::strict_json(json);
        match (&new, &old) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "claims {:?}", String::from_utf8_lossy(json)),
            (Err(a), Err(b)) if strict => {
                assert_eq!(a, b, "claims {:?}", String::from_utf8_lossy(json));
            }
            (Err(_), Err(_)) => {}
            _ => panic!(
                "claims {:?}: new {new:?}, reference {old:?}",
                String::from_utf8_lossy(json)
            ),
        }
        let (new, old) = (reference::header(json), reference::reference_header(json));
        match (&new, &old) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "header {:?}", String::from_utf8_lossy(json)),
            (Err(a), Err(b)) if strict => {
                assert_eq!(a, b, "header {:?}", String::from_utf8_lossy(json));
            }
            (Err(_), Err(_)) => {}
            _ => panic!(
                "header {:?}: new {new:?}, reference {old:?}",
                String::from_utf8_lossy(json)
            ),
        }
    }

    fn claims_err(json: &str) -> String {
        agree(json.as_bytes());
        reference::claims(json.as_bytes(), &rules()).unwrap_err()
    }

    fn claim(json: &str, name: &str) -> Option<ReadValue> {
        agree(json.as_bytes());
        let c = reference::claims(json.as_bytes(), &rules()).unwrap();
        let i = ["iss", "aud", "exp", "nbf"].iter().position(|n| *n == name);
        match i {
            Some(i) => c.standard[i].clone(),
            None => c.rules[rules().iter().position(|r| &**r == name).unwrap()].clone(),
        }
    }

    fn header_err(json: &str) -> String {
        agree(json.as_bytes());
        reference::header(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn escapes_and_surrogates() {
        let h = reference::header(
            br#"{"alg":"HS\u0032\u00356","kid":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}"#,
        )
        .unwrap();
        assert_eq!(h.alg, "HS256");
        assert_eq!(
            h.kid.as_deref(),
            Some("a\"b\\c/d\u{8}\u{c}\n\r\té\u{1F600}")
        );
        agree(br#"{"alg":"HS\u0032\u00356","kid":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}"#);
        // Escaped names are matched by their value.
        assert_eq!(
            claim(r#"{"s\u0075b":"alice"}"#, "sub"),
            Some(ReadValue::Str("alice".into()))
        );
        // Lone surrogates, read or skipped, and bad escapes.
        for bad in [
            r#"{"sub":"\ud83d"}"#,
            r#"{"sub":"\ude00"}"#,
            r#"{"sub":"\ud83d\u0041"}"#,
            r#"{"sub":"\ud83dx"}"#,
            r#"{"sub":"\ud83d\n"}"#,
            r#"{"other":"\ud800"}"#,
            r#"{"other":["\udfff"]}"#,
            r#"{"sub":"\x"}"#,
            r#"{"sub":"\u12g4"}"#,
            r#"{"\ud800":1}"#,
        ] {
            assert_eq!(claims_err(bad), "not JSON", "{bad}");
        }
        assert_eq!(claims_err(r#"{"sub":"\ud83d"#), "truncated JSON");
        assert_eq!(claims_err(r#"{"sub":"\u12"#), "truncated JSON");
    }

    #[test]
    fn strings_refuse_control_characters_and_bad_utf8() {
        assert_eq!(claims_err("{\"sub\":\"a\tb\"}"), "not JSON");
        assert_eq!(claims_err("{\"other\":\"a\u{1}b\"}"), "not JSON");
        // U+007F and beyond are fine unescaped.
        assert_eq!(
            claim("{\"sub\":\"a\u{7f}é\"}", "sub"),
            Some(ReadValue::Str("a\u{7f}é".into()))
        );
        for bad in [
            &b"{\"sub\":\"\xff\"}"[..],
            b"{\"other\":\"\xc3\"}",
            b"{\"other\":\"\xed\xa0\x80\"}",
        ] {
            agree(bad);
            assert_eq!(reference::claims(bad, &rules()).unwrap_err(), "not JSON");
        }
    }

    #[test]
    fn numbers_follow_rfc_8259() {
        let num = |text: &str| claim(&format!(r#"{{"exp":{text}}}"#), "exp");
        assert_eq!(num("1800000000"), Some(ReadValue::Num(1_800_000_000)));
        assert_eq!(num("1799999999.75"), Some(ReadValue::Num(1_799_999_999)));
        assert_eq!(num("-1.5"), Some(ReadValue::Num(-2)));
        assert_eq!(num("-0"), Some(ReadValue::Num(0)));
        assert_eq!(num("1.8e9"), Some(ReadValue::Num(1_800_000_000)));
        assert_eq!(num("18E+8"), Some(ReadValue::Num(1_800_000_000)));
        assert_eq!(num("1e-400"), Some(ReadValue::Num(0)));
        // Huge values saturate.
        assert_eq!(num("18446744073709551616"), Some(ReadValue::Num(i64::MAX)));
        assert_eq!(num("9223372036854775808"), Some(ReadValue::Num(i64::MAX)));
        assert_eq!(num("-9223372036854775808"), Some(ReadValue::Num(i64::MIN)));
        assert_eq!(num("-1e300"), Some(ReadValue::Num(i64::MIN)));
        assert_eq!(num(&"9".repeat(300)), Some(ReadValue::Num(i64::MAX)));
        for bad in [
            "01", "+1", ".5", "1.", "1.e5", "1e", "1e+", "-", "--1", "0x1", "1e400", "Infinity",
            "NaN",
        ] {
            assert_eq!(
                claims_err(&format!(r#"{{"exp":{bad}}}"#)),
                "not JSON",
                "{bad}"
            );
        }
        // Out of a double's range is refused even where nobody reads it.
        assert_eq!(claims_err(r#"{"iat":1e400}"#), "not JSON");
        assert_eq!(claims_err(r#"{"exp":1."#), "truncated JSON");
        assert_eq!(claims_err(r#"{"exp":-"#), "truncated JSON");
        assert_eq!(
            claims_err(&format!(r#"{{"iat":{}}}"#, "9".repeat(400))),
            "not JSON"
        );
    }

    #[test]
    fn duplicates_of_read_members_are_refused() {
        for name in ["iss", "aud", "exp", "nbf", "sub", "client_id"] {
            assert_eq!(
                claims_err(&format!(r#"{{"{name}":1,"x":2,"{name}":1}}"#)),
                format!("claim `{name}` is given twice")
            );
        }
        // Also when one copy is escaped.
        assert_eq!(
            claims_err(r#"{"sub":"a","s\u0075b":"a"}"#),
            "claim `sub` is given twice"
        );
        for name in ["alg", "kid", "crit"] {
            assert_eq!(
                header_err(&format!(r#"{{"alg":"HS256","{name}":null,"{name}":null}}"#)),
                format!("duplicate field `{name}`")
            );
        }
        // Unread members may repeat (RFC 7519 §4 leaves it open; nothing
        // reads them).
        assert_eq!(
            claim(r#"{"jti":1,"jti":2,"sub":"a"}"#, "sub"),
            Some(ReadValue::Str("a".into()))
        );
        let h = reference::header(br#"{"typ":"JWT","typ":"x","alg":"HS256"}"#).unwrap();
        assert_eq!(h.alg, "HS256");
    }

    #[test]
    fn header_members() {
        assert_eq!(header_err("{}"), "missing field `alg`");
        assert_eq!(header_err(r#"{"kid":"k"}"#), "missing field `alg`");
        assert_eq!(
            header_err(r#"{"alg":5}"#),
            "not a JSON object of the expected shape"
        );
        assert_eq!(
            header_err(r#"{"alg":"HS256","kid":7}"#),
            "not a JSON object of the expected shape"
        );
        // serde's derive took an array for a struct; not any more.
        assert_eq!(
            header_err(r#"["HS256",null,null]"#),
            "not a JSON object of the expected shape"
        );
        assert_eq!(
            header_err(r#""HS256""#),
            "not a JSON object of the expected shape"
        );
        let h = reference::header(br#"{"alg":"HS256","kid":null}"#).unwrap();
        assert_eq!(h.kid, None);
        // Any `crit`, even `null`, is present (and refused by the validator).
        assert!(
            reference::header(br#"{"alg":"HS256","crit":null}"#)
                .unwrap()
                .crit
        );
        assert!(!reference::header(br#"{"alg":"HS256"}"#).unwrap().crit);
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |n: usize| format!(r#"{{"sub":"a","x":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        // The top object is level 1: 31 more are fine, 32 more are not.
        assert!(reference::claims(nested(31).as_bytes(), &rules()).is_ok());
        agree(nested(31).as_bytes());
        assert_eq!(claims_err(&nested(32)), "JSON nested deeper than 32 levels");
        let objects = format!(
            r#"{{"sub":"a","x":{}1{}}}"#,
            r#"{"a":"#.repeat(40),
            "}".repeat(40)
        );
        assert_eq!(claims_err(&objects), "JSON nested deeper than 32 levels");
        // Deep enough to have overflowed a recursive reader: refused alike.
        assert_eq!(
            claims_err(&nested(100_000)),
            "JSON nested deeper than 32 levels"
        );
        let in_aud = format!(r#"{{"aud":["a",{}{}]}}"#, "[".repeat(31), "]".repeat(31));
        assert_eq!(claims_err(&in_aud), "JSON nested deeper than 32 levels");
    }

    #[test]
    fn whitespace_bom_and_the_edges_of_the_object() {
        assert_eq!(
            claim(
                " \t\r\n{ \"sub\" \n:\t\"a\" , \"aud\" : [ \"x\" , \"y\" ] }\r\n ",
                "aud"
            ),
            Some(ReadValue::Strs(vec!["x".into(), "y".into()]))
        );
        assert_eq!(claim(r#"{"aud":[]}"#, "aud"), Some(ReadValue::Strs(vec![])));
        assert_eq!(claim(r#"{"aud":["a",1]}"#, "aud"), Some(ReadValue::Other));
        assert_eq!(claim(r#"{"aud":[["a"]]}"#, "aud"), Some(ReadValue::Other));
        assert_eq!(
            claim(r#"{"sub":{"a":[1,{}]}}"#, "sub"),
            Some(ReadValue::Other)
        );
        assert_eq!(claim(r#"{"sub":true}"#, "sub"), Some(ReadValue::Other));
        assert_eq!(claim("{}", "sub"), None);
        assert_eq!(claims_err("\u{feff}{}"), "not JSON");
        assert_eq!(claims_err("{}\u{a0}"), "not JSON");
        assert_eq!(claims_err("{\u{b}}"), "not JSON");
        assert_eq!(claims_err(r#"{"sub":"a",}"#), "not JSON");
        assert_eq!(claims_err(r#"{"aud":["a",]}"#), "not JSON");
        assert_eq!(claims_err(r#"{"x":[1,]}"#), "not JSON");
        assert_eq!(claims_err(r#"{"x":{"a":1,}}"#), "not JSON");
        assert_eq!(claims_err(r#"{,}"#), "not JSON");
        assert_eq!(claims_err(r#"{"sub":"a"}x"#), "not JSON");
        assert_eq!(claims_err(r#"{"sub":"a"}{}"#), "not JSON");
        assert_eq!(claims_err(r#"{"sub" "a"}"#), "not JSON");
        assert_eq!(claims_err(r#"{"x":tru}"#), "not JSON");
        assert_eq!(claims_err(r#"{"x":nul"#), "truncated JSON");
        assert_eq!(claims_err(r#"{"sub":"a""#), "truncated JSON");
        assert_eq!(claims_err(""), "truncated JSON");
        assert_eq!(claims_err("  "), "truncated JSON");
        assert_eq!(claims_err("[1]"), "not a JSON object of the expected shape");
        assert_eq!(
            claims_err("null"),
            "not a JSON object of the expected shape"
        );
    }

    /// Fragments that make JSON, near-JSON and edge cases when strung
    /// together.
    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\t",
        "\n",
        "\"iss\"",
        "\"aud\"",
        "\"exp\"",
        "\"nbf\"",
        "\"sub\"",
        "\"client_id\"",
        "\"s\\u0075b\"",
        "\"x\"",
        "\"\"",
        "\"a\\\"b\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"é\"",
        "\"\\n\"",
        "\"\t\"",
        "1",
        "-0",
        "01",
        "1.5",
        "-2.5e3",
        "1e400",
        "18446744073709551616",
        "1.",
        ".5",
        "+1",
        "true",
        "false",
        "null",
        "tru",
        "\u{feff}",
        "\"",
    ];

    fn fragments() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..24).prop_map(|v| v.concat())
    }

    /// A well-formed claims object with members drawn from the fragments.
    fn objects() -> impl Strategy<Value = String> {
        let key = prop::sample::select(&FRAGMENTS[9..22]);
        let value = prop_oneof![
            prop::sample::select(&FRAGMENTS[17..39]).prop_map(str::to_owned),
            prop::collection::vec(prop::sample::select(&FRAGMENTS[16..24]), 0..4)
                .prop_map(|v| format!("[{}]", v.join(","))),
            Just("{\"a\":[1,{\"b\":null}]}".to_owned()),
        ];
        prop::collection::vec((key, value), 0..8).prop_map(|members| {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", body.join(","))
        })
    }

    proptest! {
        #[test]
        fn readers_agree_on_fragments(text in fragments()) {
            agree(text.as_bytes());
            agree(format!("{{{text}").as_bytes());
        }

        #[test]
        fn readers_agree_on_objects(text in objects(), cut in 0usize..64) {
            agree(text.as_bytes());
            // And on every prefix-like damage: cut short.
            agree(&text.as_bytes()[..text.len().saturating_sub(cut)]);
        }

        #[test]
        fn readers_agree_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
            agree(&bytes);
        }
    }
}

mod base64url {
    //! The validator's base64url decoder against the `base64` crate's
    //! `URL_SAFE_NO_PAD`, which it replaced: the same acceptance (no
    //! padding, no standard alphabet, canonical trailing bits only) and
    //! the same bytes.

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use super::super::token::decode_base64url;

    fn agree(text: &[u8]) {
        let mut out = [0u8; 64];
        let ours = decode_base64url(text, &mut out).map(|n| out[..n].to_vec());
        let theirs = URL_SAFE_NO_PAD.decode(text).ok();
        assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(text));
    }

    #[test]
    fn edge_cases() {
        for t in [
            "", "A", "AA", "AB", "AAA", "AAB", "AAAA", "e30", "e30=", "e3+", "e3/", "_-_-", "Zg",
            "Zh", "Zm8", "Zm9", "Zm9v", "Zm9v=", "Zm9vY", "Zm9vYg", "Zm9vYh", "Zm9vYmE", "Zm9vYmF",
            "Zm 9v", "Zm9v\n", "ÿÿÿÿ",
        ] {
            agree(t.as_bytes());
        }
        // Too short an output is a refusal, not a panic.
        assert_eq!(decode_base64url(b"Zm9vYmFy", &mut [0u8; 5]), None);
    }

    proptest! {
        #[test]
        fn same_as_the_base64_crate(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            agree(text.as_bytes());
        }

        #[test]
        fn same_refusals(
            text in prop::collection::vec(
                prop::sample::select(b"AQgw_-+/=Zz09 .".to_vec()), 0..12)
        ) {
            agree(&text);
        }
    }
}

#[test]
fn plain_run_finds_the_first_special_byte() {
    // Every position of each special byte, in runs long enough for the
    // eight-at-a-time path, with high bytes and near misses around.
    for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
        for len in 0..40 {
            for at in 0..=len {
                let mut text: Vec<u8> = (0..len)
                    .map(|i| [b'a', 0xc3, 0xa9, b' ', 0x7f, b'!', b'#', b'['][i % 8])
                    .collect();
                if at < len {
                    text[at] = special;
                }
                let want = text
                    .iter()
                    .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                    .unwrap_or(len);
                assert_eq!(token::plain_run(&text), want, "{special} at {at} of {len}");
            }
        }
    }
}
