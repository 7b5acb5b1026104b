//! GSSAPI without a KDC: the `auth_to_local` rules (parse, map), the RFC
//! 4752 security-layer messages, and the server state machine fed garbage
//! tokens. Never a panic; a mapped name is a plain principal; a garbage
//! exchange never completes and its first error is sticky.
#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mesos_auth::sasl::gssapi::{AuthToLocal, GssStep, GssapiServer, GssapiServerConfig, layer};

#[derive(Arbitrary, Debug)]
struct Input {
    rules: String,
    name: String,
    layer_messages: Vec<Vec<u8>>,
    tokens: Vec<Vec<u8>>,
}

fn server_rules() -> Arc<AuthToLocal> {
    static RULES: OnceLock<Arc<AuthToLocal>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            Arc::new(
                AuthToLocal::parse(
                    r"RULE:[1:$1@$0](.*@EXAMPLE\.ORG)s/@.*// DEFAULT",
                    Some("EXAMPLE.ORG"),
                )
                .unwrap(),
            )
        })
        .clone()
}

fuzz_target!(|input: Input| {
    if let Ok(rules) = AuthToLocal::parse(&input.rules, Some("EXAMPLE.ORG")) {
        if let Ok((principal, rule)) = rules.map(&input.name) {
            assert!(!principal.as_str().contains(['/', '@']));
            assert!(rule.0 >= 1 && rule.0 <= rules.len());
        }
    }
    for m in &input.layer_messages {
        if layer::check_offer(m).is_ok() {
            assert_eq!(m.len(), 4);
        }
        if let Ok(authzid) = layer::check_choice(m) {
            assert_eq!(authzid.as_bytes(), &m[4..]);
            assert_eq!(m[0], 0x01);
        }
    }
    // No keytab is read until a token needs one.
    let mut server = GssapiServer::new(GssapiServerConfig::new(server_rules())).unwrap();
    let mut first_error = None;
    for token in input.tokens.iter().take(4) {
        match server.step(token) {
            Ok(GssStep::Done { .. }) => panic!("a garbage exchange completed"),
            Ok(GssStep::Continue(_)) => assert!(first_error.is_none()),
            Err(e) => match &first_error {
                Some(first) => assert_eq!(&e, first),
                None => first_error = Some(e),
            },
        }
    }
});
