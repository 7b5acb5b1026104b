//! Unit tests of the credentials component's internals.

use super::format::{decode_secret, encode_secret};
use super::store::{StoredSecret, same_secret};
use crate::Secret;

#[test]
fn cram_state_hex_round_trips() {
    let s = StoredSecret::cram_md5_from(&Secret::new(b"tanstaaftanstaaf"));
    let text = encode_secret(&s).unwrap();
    let (back, unknown) = decode_secret(&text, false).unwrap();
    assert!(!unknown);
    assert!(same_secret(&s, &back));
    // The state is the HMAC key schedule's: rebuilding from it gives the
    // RFC 2195 answer.
    let StoredSecret::CramMd5State { inner, outer } = &back else {
        panic!("wrong form")
    };
    let key = crate::hmac_md5::HmacMd5Key::from_states(**inner, **outer);
    let mac = key.mac(b"<1896.697170952@postoffice.reston.mci.net>");
    assert_eq!(mac[..4], [0xb9, 0x13, 0xa6, 0x02]);
}

#[test]
fn same_secret_distinguishes_forms_and_values() {
    let a = StoredSecret::Plain(Secret::new(b"one"));
    let b = StoredSecret::Plain(Secret::new(b"two"));
    let a2 = StoredSecret::Plain(Secret::new(b"one"));
    assert!(same_secret(&a, &a2));
    assert!(!same_secret(&a, &b));
    let c = StoredSecret::cram_md5_from(&Secret::new(b"one"));
    assert!(!same_secret(&a, &c));
}

#[test]
fn unknown_scheme_prefix_detection() {
    assert!(decode_secret("{MD5}x", false).is_err());
    assert!(matches!(decode_secret("{MD5}x", true), Ok((_, true))));
    assert!(matches!(decode_secret("{md5}x", false), Ok((_, false))));
    assert!(matches!(decode_secret("{}x", false), Ok((_, false))));
    assert!(matches!(
        decode_secret("{PLAIN}{MD5}x", false),
        Ok((_, false))
    ));
}

/// The JSON fast path must answer exactly as the full reader: inputs it
/// takes, inputs it gives up on part-way, and every conformance case.
#[test]
fn json_fast_path_agrees_with_full_reader() {
    use super::parse::{Options, fast_path_agrees};
    let mut inputs: Vec<Vec<u8>> = [
        r#"{"credentials": [{"principal": "a", "secret": "s1"}, {"secret": "s2", "principal": "b"}]}"#,
        r#"{"credentials": []}"#,
        r#" { "credentials" : [ { "principal" : "a" , "secret" : "x\u0041\n" } ] } "#,
        r#"{"credentials": [{"principal": "a\u00e9", "secret": "\ud83d\ude00"}]}"#,
        r#"{"credentials": [{"principal": "a", "secret": "s"}, {"principal": "a", "secret": "t"}]}"#,
        r#"{"credentials": [{"principal": "", "secret": ""}, {"principal": "b", "secret": "{MD5}x"}]}"#,
        r#"{"credentials": [{"principal": "a", "secret": "s"}, {"principal": "b"}]}"#,
        r#"{"credentials": [{"principal": "a", "secret": "s", "x": 1}]}"#,
        r#"{"credentials": [{"principal": "a", "principal": "b", "secret": "s"}]}"#,
        r#"{"credentials": [{"principal": "a", "secret": "s"}], "credentials": []}"#,
        r#"{"credentials": [{"principal": "a", "secret": "s"}]} x"#,
        r#"{"credentials": [{"principal": "a", "secret": "s"},]}"#,
        r#"{"credentials": [{"principal": "a", "secret": "s"}"#,
        r#"{"credentials": [{"principal": "a", "secret": "\ud800"}]}"#,
        r#"{"credentials": [{"principal": "a", "secret": "tab	here"}]}"#,
        r#"{"credentials": [{"principal": "bad", "secret": "s"}, {"principal": 1, "secret": null}]}"#,
        r#"{"credentials": {"principal": "a", "secret": "s"}}"#,
        r#"{"credentials": null}"#,
        r#"{"credentials": [{"principal": "a", "secret": "s"}], "x": [[[[]]]]}"#,
        "{\"credentials\": [{\"principal\": \"a\u{7}\", \"secret\": \"s\\u0000\"}]}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/credentials-cases.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut from_cases = 0;
    collect_strings(&cases, &mut |s| {
        if s.trim_start().starts_with('{') || s.trim_start().starts_with('[') {
            inputs.push(s.as_bytes().to_vec());
            from_cases += 1;
        }
    });
    assert!(
        from_cases > 10,
        "found only {from_cases} JSON inputs in the cases"
    );
    // The plain shapes really go the fast way; the others really do not.
    for (i, input) in inputs.iter().take(6).enumerate() {
        let text = std::str::from_utf8(input).unwrap();
        assert!(super::parse::fast_path_takes(text), "input {i} not taken");
    }
    for input in inputs.iter().skip(6).take(14) {
        let text = std::str::from_utf8(input).unwrap();
        assert!(!super::parse::fast_path_takes(text), "{text} taken");
    }
    for input in &inputs {
        for lenient in [false, true] {
            let options = Options::new().lenient(lenient);
            assert!(
                fast_path_agrees(input, &options),
                "lenient {lenient}: {}",
                String::from_utf8_lossy(input)
            );
        }
    }
}

fn collect_strings(v: &serde_json::Value, f: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, f)),
        serde_json::Value::Object(m) => m.values().for_each(|x| collect_strings(x, f)),
        _ => {}
    }
}

/// A minified file keeps every credential on one line: each location is
/// counted on from the previous one (this used to rescan the line from its
/// start for every credential, quadratic in the file size).
#[test]
fn one_line_json_locations() {
    use super::parse::{Options, parse};
    let n = 20_000;
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"principal":"p{i:05}","secret":"s-{i:08}"}}"#))
        .collect();
    let src = format!(r#"{{"credentials":[{}]}}"#, items.join(","));
    let file = parse(src.as_bytes(), &Options::new()).unwrap();
    assert_eq!(file.entries().len(), n);
    for (i, e) in file.entries().iter().enumerate().step_by(997) {
        let at = src.find(&format!(r#""p{i:05}""#)).unwrap();
        assert_eq!(e.span().start, at);
        assert_eq!(e.location().line, 1);
        assert_eq!(e.location().column as usize, at + 1);
    }
    // And the same file with a duplicate at the very end names both places.
    let dup = src.replacen(
        "]}",
        r#",{"principal":"p00003","secret":"again-secret"}]}"#,
        1,
    );
    let err = parse(dup.as_bytes(), &Options::new()).unwrap_err();
    let shown = err.to_string();
    let first = src.find(r#""p00003""#).unwrap() + 1;
    assert!(shown.contains(&format!("1:{first}")), "{shown}");
}

/// Errors on one long line, asked for out of order (a principal's, then its
/// credential's missing secret, which starts earlier), get exact locations.
#[test]
fn one_line_errors_out_of_order() {
    use super::parse::{Options, parse};
    let n = 2_000;
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"principal":"p{i:04}\u0001"}}"#))
        .collect();
    let src = format!(r#"{{"credentials":[{}]}}"#, items.join(","));
    let err = parse(src.as_bytes(), &Options::new()).unwrap_err();
    let errors: Vec<_> = err.parse_errors().unwrap().iter().collect();
    assert_eq!(errors.len(), 2 * n);
    let last_object = src.rfind(r#"{"principal""#).unwrap();
    let last_name = src.rfind(r#""p1999"#).unwrap();
    let columns: Vec<usize> = errors
        .iter()
        .rev()
        .take(2)
        .map(|d| d.location().column as usize)
        .collect();
    // Sorted by place: the missing secret (object start), then the name.
    assert_eq!(columns, vec![last_name + 1, last_object + 1]);
    assert!(errors.iter().all(|d| d.location().line == 1));
}
