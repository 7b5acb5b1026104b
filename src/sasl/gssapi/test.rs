use super::is_krb5_initial_token;
use super::layer::{self, LayerError};
use super::rules::{AuthToLocal, MapError};
use proptest::prelude::*;

fn rules(text: &str) -> AuthToLocal {
    AuthToLocal::parse(text, Some("LOCAL.ORG")).unwrap()
}

fn map(r: &AuthToLocal, name: &str) -> Option<String> {
    r.map(name).ok().map(|(p, _)| p.as_str().to_owned())
}

#[test]
fn mapping_table() {
    let r = rules(
        r"RULE:[1:$1@$0](.*@EXAMPLE\.ORG)s/@.*//
          RULE:[2:$1@$0](mesos@EXAMPLE\.ORG)s/.*/agent/
          RULE:[2:$2-$1](admin-.*)s/(.*)-(.*)/${2}_${1}/
          RULE:[1:$1](Shout)/L
          RULE:[1:$1](a+b+)s/b/c/g
          DEFAULT",
    );
    let table: &[(&str, Option<&str>)] = &[
        ("alice@EXAMPLE.ORG", Some("alice")),
        ("alice@EXAMPLE.ORGX", None),
        ("alice@OTHER.ORG", None),
        ("mesos/agent1.example.org@EXAMPLE.ORG", Some("agent")),
        ("http/agent1@EXAMPLE.ORG", None),
        ("carol/admin@X.ORG", Some("carol_admin")),
        ("Shout@ANY", Some("shout")),
        ("aabbb@ANY", Some("aaccc")),
        // DEFAULT: one component of the local realm only.
        ("dave@LOCAL.ORG", Some("dave")),
        ("dave/ops@LOCAL.ORG", None),
        ("dave@REMOTE.ORG", None),
        // Not names: no realm, empty parts.
        ("dave", None),
        ("@LOCAL.ORG", None),
        ("a//b@LOCAL.ORG", None),
        // MIT's escapes: one component holding a slash is not two.
        (r"mesos\/x@EXAMPLE.ORG", None),
    ];
    for (name, want) in table {
        assert_eq!(map(&r, name).as_deref(), *want, "{name}");
    }
    assert_eq!(r.map("alice@EXAMPLE.ORG").unwrap().1.0, 1);
    assert_eq!(r.map("dave@LOCAL.ORG").unwrap().1.0, 6);
}

#[test]
fn first_applicable_rule_decides_and_bad_results_refuse() {
    // The first rule leaves the realm in: refused, the second is not tried.
    let r = rules(r"RULE:[1:$1@$0](.*) DEFAULT");
    match r.map("dave@LOCAL.ORG") {
        Err(MapError::BadResult {
            rule: 1, result, ..
        }) => assert_eq!(result, "dave@LOCAL.ORG"),
        other => panic!("{other:?}"),
    }
    // An empty result is refused too.
    let r = rules(r"RULE:[1:$1](.*)s/.*//");
    assert!(matches!(r.map("x@R"), Err(MapError::BadResult { .. })));
    // No rules: everything refused.
    let r = rules("  \n ");
    assert!(r.is_empty());
    assert!(matches!(r.map("x@R"), Err(MapError::NoMatch(_))));
    // DEFAULT without a local realm maps nothing.
    let r = AuthToLocal::parse("DEFAULT", None).unwrap();
    assert!(matches!(r.map("x@R"), Err(MapError::NoMatch(_))));
}

#[test]
fn parse_errors_name_rule_and_column() {
    let cases: &[(&str, usize, &str, &str)] = &[
        ("DEFAULT RULE:[x:$1](a)", 2, "1:15", "component count"),
        ("RULE:[1:$2](a)", 1, "1:9", "`$2`"),
        ("RULE:[1:$1]a", 1, "1:12", "expected `(`"),
        ("RULE:[1:$1](a", 1, "1:12", "not closed"),
        ("DEFAULT\n  RULE:[1:$1]((a)", 2, "2:14", "not closed"),
        ("RULE:[1:$1](a)s/[/x/", 1, "1:17", "bad regex"),
        ("RULE:[1:$1](a)s/a/x", 1, "1:19", "closing `/`"),
        ("RULE:[1:$1](a)x", 1, "1:15", "unexpected `x`"),
        ("RULE:[1:$1](a)s/a/b/gq", 1, "1:22", "unexpected `q`"),
        ("DEFAULTS", 1, "1:1", "expected `RULE:[`"),
        ("RULE:[10:$1](a)", 1, "1:7", "component count"),
        ("RULE:[1:$1", 1, "1:9", "no closing `]`"),
    ];
    for (text, index, at, what) in cases {
        let e = AuthToLocal::parse(text, None).unwrap_err();
        let first = &e.errors()[0];
        assert_eq!(first.index(), *index, "{text}: {e}");
        assert_eq!(first.location().to_string(), *at, "{text}: {e}");
        assert!(first.message().contains(what), "{text}: {e}");
        assert!(
            e.to_string().contains(&format!("rule {index} at {at}")),
            "{e}"
        );
    }
}

#[test]
fn every_bad_rule_is_reported() {
    let e = AuthToLocal::parse("RULE:[0:$1](a) DEFAULT RULE:[1:$9](a) nonsense", None).unwrap_err();
    let got: Vec<usize> = e.errors().iter().map(|e| e.index()).collect();
    assert_eq!(got, [1, 3, 4]);
}

#[test]
fn security_layer_messages() {
    assert_eq!(layer::parse(b"\x01\x00"), Err(LayerError::Short(2)));
    let offer = layer::check_offer(&[0x07, 0x01, 0x00, 0x00]).unwrap();
    assert_eq!(offer.max_buffer, 0x01_0000);
    assert_eq!(
        layer::check_offer(&[0x06, 0, 0, 0]),
        Err(LayerError::NoneNotOffered(6))
    );
    assert_eq!(
        layer::check_offer(&[0x01, 0, 0, 0, b'x']),
        Err(LayerError::ServerLength(5))
    );
    assert_eq!(
        layer::check_choice(&layer::client_choice("alice")).unwrap(),
        "alice"
    );
    assert_eq!(layer::check_choice(&layer::client_choice("")).unwrap(), "");
    // Cyrus sends its own buffer size even with no layer: ignored.
    assert_eq!(layer::check_choice(&[0x01, 0x00, 0x10, 0x00]).unwrap(), "");
    assert_eq!(
        layer::check_choice(&[0x02, 0, 0, 0]),
        Err(LayerError::UnofferedLayer(2))
    );
    assert_eq!(
        layer::check_choice(&[0x03, 0, 0, 0]),
        Err(LayerError::UnofferedLayer(3))
    );
    assert_eq!(
        layer::check_choice(&[0x01, 0, 0, 0, 0xff]),
        Err(LayerError::AuthzidNotUtf8)
    );
    assert_eq!(layer::SERVER_OFFER, [0x01, 0, 0, 0]);
}

#[test]
fn initial_token_framing() {
    let oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    let framed = |len: &[u8], body_extra: usize| {
        let mut t = vec![0x60];
        t.extend_from_slice(len);
        t.extend_from_slice(&oid);
        t.extend(std::iter::repeat_n(0u8, body_extra));
        t
    };
    assert!(is_krb5_initial_token(&framed(&[11 + 4], 4)));
    assert!(is_krb5_initial_token(&framed(&[0x81, 11 + 200], 200)));
    assert!(is_krb5_initial_token(&framed(
        &[0x82, 0x02, 0xd9],
        0x2d9 - 11
    )));
    // Wrong length, wrong tag, truncated, another mechanism (SPNEGO).
    assert!(!is_krb5_initial_token(&framed(&[11 + 5], 4)));
    assert!(!is_krb5_initial_token(&framed(&[0x84, 0, 0, 0, 15], 4)));
    assert!(!is_krb5_initial_token(&[0x61, 2, 0x06, 0x09]));
    assert!(!is_krb5_initial_token(&[0x60]));
    assert!(!is_krb5_initial_token(&[0x60, 0x82, 0x01]));
    assert!(!is_krb5_initial_token(&[]));
    let spnego = [0x60, 0x08, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    assert!(!is_krb5_initial_token(&spnego));
}

proptest! {
    #[test]
    fn realm_strip_rule_maps_every_user(user in "[a-z][a-z0-9._-]{0,15}") {
        let r = rules(r"RULE:[1:$1@$0](.*@EXAMPLE\.ORG)s/@.*//");
        let name = format!("{user}@EXAMPLE.ORG");
        prop_assert_eq!(map(&r, &name), Some(user.clone()));
        let other_realm = format!("{user}@EXAMPLE.COM");
        prop_assert_eq!(map(&r, &other_realm), None);
    }

    #[test]
    fn parse_and_map_never_panic(text in "(RULE:\\[[0-9]:[$0-9a-z@/]{0,6}\\]\\([a-z.*@()\\\\]{0,8}\\)(s/[a-z.*]{0,3}/[a-z$]{0,3}/g?)?(/L)?|DEFAULT|[ \n]|.){0,6}",
                                 name in ".{0,24}") {
        if let Ok(r) = AuthToLocal::parse(&text, Some("R")) {
            let _ = r.map(&name);
        }
    }

    #[test]
    fn framing_check_never_panics(t in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = is_krb5_initial_token(&t);
    }

    #[test]
    fn layer_parsers_never_panic(msg in proptest::collection::vec(any::<u8>(), 0..12)) {
        let _ = layer::check_offer(&msg);
        let _ = layer::check_choice(&msg);
    }
}
