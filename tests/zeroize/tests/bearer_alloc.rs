//! An accepted bearer token allocates nothing: the header and claims are
//! read in place (issue 15's speed figure), the `Validated`'s `kid` and
//! `iss` share the key set's and the configuration's copies, and its
//! principal's name (up to 23 bytes) is held inline. Its own test binary, because the counting
//! allocator is process-wide.
#![allow(missing_docs, reason = "test binary")]
#![allow(clippy::unwrap_used, reason = "test binary")]

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use mesos_auth::bearer::{Alg, Jwks, Validator, ValidatorConfig};
use mesos_auth_zeroize_test::{ALLOCATIONS, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// HS256 over `{"alg":"HS256","typ":"JWT","kid":"hs-1"}` and
/// `{"iss":"https://idp.test","aud":["mesos-master","other"],"sub":"alice",
/// "exp":4102444800,"nbf":1000000000,"iat":1000000000,"scope":"framework"}`
/// with the secret below (made once with Python's `hmac`).
const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImhzLTEifQ.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjpbIm1lc29zLW1hc3RlciIsIm90aGVyIl0sInN1YiI6ImFsaWNlIiwiZXhwIjo0MTAyNDQ0ODAwLCJuYmYiOjEwMDAwMDAwMDAsImlhdCI6MTAwMDAwMDAwMCwic2NvcGUiOiJmcmFtZXdvcmsifQ.gi6tSKoV9sQv6VlF5jrc476-XmgzsUP-Wnbaov33Fto";
const SET: &str = r#"{"keys": [{"kty": "oct", "kid": "hs-1", "k": "bWVzb3MtYXV0aC1iZWFyZXItYWxsb2MtdGVzdC1rZXk"}]}"#;

#[test]
fn an_accepted_token_allocates_nothing() {
    let config = ValidatorConfig::new()
        .issuer("https://idp.test")
        .audience("mesos-master")
        .algorithms(&[Alg::HS256]);
    let v = Validator::new(
        &config,
        Jwks::shared_secrets_from_json(SET.as_bytes()).unwrap(),
    )
    .unwrap();
    let now = SystemTime::now();
    // Warm-up: lazy statics.
    drop(v.validate(TOKEN, now).unwrap());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let ok = v.validate(TOKEN, now).unwrap();
    let allocations = ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert_eq!(
        (ok.principal().as_str(), ok.kid(), ok.iss()),
        ("alice", Some("hs-1"), "https://idp.test")
    );
    // Nothing for the header, the claims, `kid` or `iss` (each of those two
    // was a copy before), nor for the principal's name (its own allocation
    // until it was held inline).
    assert_eq!(allocations, 0, "allocations for one accepted token");
    // Zero means something only if the counter counts.
    let probe = ALLOCATIONS.load(Ordering::SeqCst);
    drop(std::hint::black_box(vec![0u8; 8]));
    assert!(
        ALLOCATIONS.load(Ordering::SeqCst) > probe,
        "the counting allocator is not installed"
    );
}
