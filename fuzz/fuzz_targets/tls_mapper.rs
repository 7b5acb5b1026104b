//! Arbitrary DER as a (verified) leaf certificate: the mapper never panics,
//! and whatever it maps is a valid principal.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mesos_auth::tls::Mapper;

/// Every source, shorthands and a reject rule, so every path is reached.
static MAPPER: LazyLock<Mapper> = LazyLock::new(|| {
    Mapper::from_json(
        r#"[
        {"source": "subject.OU", "match": "contractors", "action": "reject"},
        {"source": "spiffe", "match": "spiffe://[^/]+/(.+)", "principal": "${1}"},
        {"source": "san.uri", "match": "(.*)", "principal": "uri:${1}"},
        {"source": "san.dns", "match": "([^.]+)\\..*", "principal": "${1}", "case": "upper"},
        {"source": "san.email", "match": "(?<user>[^@]+)@.*", "principal": "${user}"},
        {"source": "san.ip", "match": ".*", "principal": "ip:$0"},
        {"source": "subject.CN", "match": "(.+)", "principal": "$1", "issuer": ".*O=.*"},
        {"source": "subject.1.2.3.4", "match": "(.*)", "principal": "oid:$1"},
        "RULE:^CN=((?:[^,+\\\\]|\\\\.)+),.*$/$1/L",
        "DEFAULT"
    ]"#,
    )
    .unwrap_or_else(|e| panic!("fuzz rules must load: {e}"))
});

fuzz_target!(|data: &[u8]| {
    if let Some(p) = mesos_auth::internal::tls_map_der(&MAPPER, data) {
        let s = p.as_str();
        assert!(!s.is_empty() && s.len() <= mesos_auth::MAX_PRINCIPAL_LEN);
        assert!(!s.chars().any(char::is_control));
        assert_eq!(s.trim(), s);
    }
});
