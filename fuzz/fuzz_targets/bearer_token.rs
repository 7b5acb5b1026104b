//! Bearer tokens: any bytes, as a token or as a header and claims signed
//! with the fixed key (so the claim checks are reached), never panic; a
//! rejection's reason never shows a part of the token, and the peer's code
//! is `invalid_request` exactly for empty or oversized tokens.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use libfuzzer_sys::fuzz_target;
use mesos_auth::bearer::{Alg, ErrorCode, Jwks, PrincipalRule, Reason, Validator, ValidatorConfig};
use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

const SECRET: &[u8] = b"fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-32";

static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
    let jwks = format!(
        r#"{{"keys": [{{"kty": "oct", "kid": "k1", "k": "{}"}}]}}"#,
        B64.encode(SECRET)
    );
    let config = ValidatorConfig::new()
        .issuer("iss")
        .audience("aud")
        .algorithms(&[Alg::HS256])
        .max_token_bytes(2048)
        .rule(PrincipalRule::claim("client_id").strip_prefix("svc-"))
        .rule(PrincipalRule::claim("sub"));
    Validator::new(
        &config,
        Jwks::shared_secrets_from_json(jwks.as_bytes()).unwrap(),
    )
    .unwrap()
});

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // Header and claims split at the first 0xff, signed with the key.
        let at = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
        let (h, c) = rest.split_at(at);
        let input = format!(
            "{}.{}",
            B64.encode(h),
            B64.encode(c.get(1..).unwrap_or_default())
        );
        let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
        let sig =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
                .unwrap();
        format!("{input}.{sig}")
    };
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(mode) * 1_000_000);
    match VALIDATOR.validate(&token, now) {
        Ok(v) => {
            assert!(!v.principal().as_str().is_empty());
            assert_eq!(v.iss(), "iss");
        }
        Err(r) => {
            let text = r.to_string();
            // A part that could be a real token's (base64url): the
            // messages' own words (`token: malformed header: not ...`)
            // are not a leak when the fuzzer happens to send them.
            let base64url = |p: &&str| {
                p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            for part in token.split('.').filter(|p| p.len() >= 16).filter(base64url) {
                assert!(!text.contains(part), "reason shows a token part: {text}");
            }
            let request = matches!(r.reason(), Reason::Empty | Reason::TooLarge { .. });
            assert_eq!(r.code() == ErrorCode::InvalidRequest, request);
        }
    }
});
