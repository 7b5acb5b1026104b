//! Bearer token parts: the validator's hand-written reader against the
//! serde_json reference it replaced (`internal::bearer_reference_*`), on
//! arbitrary bytes read as a JOSE header and as claims. Both must accept
//! the same inputs and read the same values (numbers as the NumericDate
//! they give); where serde_json's `Value` takes the input, the problem
//! texts of a refusal agree too.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use libfuzzer_sys::fuzz_target;
use mesos_auth::bearer::{Alg, Jwks, PrincipalRule, Validator, ValidatorConfig};
use mesos_auth::internal;
use std::sync::LazyLock;

static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
    let jwks = format!(
        r#"{{"keys": [{{"kty": "oct", "kid": "k1", "k": "{}"}}]}}"#,
        B64.encode(b"fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-32")
    );
    let config = ValidatorConfig::new()
        .issuer("iss")
        .audience("aud")
        .algorithms(&[Alg::HS256])
        .rule(PrincipalRule::claim("client_id").strip_prefix("svc-"))
        .rule(PrincipalRule::claim("sub"))
        .rule(PrincipalRule::claim("azp"));
    Validator::new(
        &config,
        Jwks::shared_secrets_from_json(jwks.as_bytes()).unwrap(),
    )
    .unwrap()
});

fn same<T: PartialEq + std::fmt::Debug>(
    what: &str,
    data: &[u8],
    new: Result<T, String>,
    old: Result<T, String>,
) {
    match (new, old) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}: values differ"),
        (Err(a), Err(b)) => {
            if internal::bearer_strict_json(data) {
                assert_eq!(a, b, "{what}: problems differ");
            }
        }
        (a, b) => panic!("{what}: new {a:?}, reference {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    same(
        "header",
        data,
        internal::bearer_read_header(data),
        internal::bearer_reference_header(data),
    );
    same(
        "claims",
        data,
        internal::bearer_read_claims(&VALIDATOR, data),
        internal::bearer_reference_claims(&VALIDATOR, data),
    );
});
