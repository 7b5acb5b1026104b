//! Integration tests for `mesos_auth::sasl`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity,
    reason = "test helpers outside #[test] functions"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_auth::credentials::{Credential, CredentialStore, StoredSecret};
use mesos_auth::internal::{Pair, cram_md5_response, cram_md5_verify};
use mesos_auth::sasl::{
    ApiMisuse, AuthEvent, AuthResult, Authenticatee, Authenticator, AuthenticatorConfig,
    ClientMessage, FailureReason, MAX_MESSAGE_LEN, PeerMisbehaved, SaslError, ServerMessage, Side,
    Status, Throttle, ThrottleConfig, Verdict,
};
use mesos_auth::{Principal, Secret};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;

fn p(s: &str) -> Principal {
    Principal::new(s).unwrap()
}

fn store(creds: &[(&str, &[u8])]) -> Arc<CredentialStore> {
    Arc::new(
        CredentialStore::from_credentials(
            creds
                .iter()
                .map(|(n, s)| Credential::plain(p(n), Secret::new(s))),
        )
        .unwrap(),
    )
}

/// A seeded ChaCha20 stream as the nonce source: reproducible challenges.
struct Seeded(ChaCha20Rng);

impl mesos_auth::sasl::NonceSource for Seeded {
    fn nonce(&mut self) -> [u8; 16] {
        let mut n = [0; 16];
        rand_core::RngCore::fill_bytes(&mut self.0, &mut n);
        n
    }
}

fn rng() -> Seeded {
    Seeded(ChaCha20Rng::seed_from_u64(7))
}

fn default_store() -> Arc<CredentialStore> {
    store(&[
        ("tim", b"tanstaaftanstaaf"),
        ("ops team", b"s3cret"),
        ("nopass", b""),
    ])
}

/// A server that has sent its challenge; returns it.
fn started(store: Arc<CredentialStore>, now: Instant) -> (Authenticator, Vec<u8>) {
    let mut server = Authenticator::new(store, AuthenticatorConfig::new(), &mut rng(), now);
    assert_eq!(
        server.poll_output(),
        Some(ServerMessage::Mechanisms(["CRAM-MD5"].into()))
    );
    server.handle_start(now, "CRAM-MD5", b"").unwrap();
    let Some(ServerMessage::Step(challenge)) = server.poll_output() else {
        panic!("no challenge");
    };
    (server, challenge.into_vec())
}

fn respond(
    server: &mut Authenticator,
    now: Instant,
    data: &[u8],
) -> (Option<ServerMessage>, Status, AuthEvent) {
    let _ = server.handle_step(now, data);
    let out = server.poll_output();
    let event = server.poll_event().expect("an event");
    (out, server.status(), event)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> Value {
    serde_json::from_str(include_str!("../data/cram-md5-vectors.json")).unwrap()
}

#[test]
fn rfc2195_example() {
    let r = cram_md5_response(
        "tim",
        b"tanstaaftanstaaf",
        b"<1896.697170952@postoffice.reston.mci.net>",
    );
    assert_eq!(r, b"tim b913a602c7eda7a495b4e6e7334d3890");
}

#[test]
fn conformance_vectors_client_side() {
    let v = vectors();
    let list = v["vectors"].as_array().unwrap();
    assert!(list.len() >= 10);
    for case in list {
        let principal = hex(case["principal_hex"].as_str().unwrap());
        let secret = hex(case["secret_hex"].as_str().unwrap());
        let challenge = hex(case["challenge_hex"].as_str().unwrap());
        let expected = hex(case["response_hex"].as_str().unwrap());
        let got = cram_md5_response(
            std::str::from_utf8(&principal).unwrap(),
            &secret,
            &challenge,
        );
        assert_eq!(got, expected, "{}", case["name"]);
    }
}

#[test]
fn conformance_vectors_server_side() {
    let v = vectors();
    for case in v["vectors"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let principal = String::from_utf8(hex(case["principal_hex"].as_str().unwrap())).unwrap();
        let secret = hex(case["secret_hex"].as_str().unwrap());
        let challenge = hex(case["challenge_hex"].as_str().unwrap());
        let response = hex(case["response_hex"].as_str().unwrap());
        let s = store(&[(&principal, &secret)]);
        // Empty secrets are refused, as Cyrus does.
        assert_eq!(
            cram_md5_verify(&s, &challenge, &response),
            !secret.is_empty(),
            "{name}"
        );
    }
}

/// The server cases of the conformance file, run through a real session
/// whose challenge is the case's challenge. Where Mesos/Cyrus is laxer
/// (trailing junk accepted) we are stricter; where Cyrus reports an error
/// for an empty secret we refuse uniformly.
#[test]
fn conformance_server_cases() {
    let v = vectors();
    let cases = v["server_response_cases"].as_array().unwrap();
    assert!(cases.len() >= 12);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let creds: Vec<(String, Vec<u8>)> = case["server_credentials"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().as_bytes().to_vec()))
            .collect();
        let creds: Vec<(&str, &[u8])> = creds
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        let s = store(&creds);
        let challenge = case["challenge"].as_str().unwrap().as_bytes();
        let response = hex(case["response_hex"].as_str().unwrap());
        let ok = cram_md5_verify(&s, challenge, &response);
        let cyrus = case["expect"]["sasl_result"].as_str().unwrap();
        let expected_ok = cyrus == "SASL_OK" && !name.contains("extra bytes");
        assert_eq!(ok, expected_ok, "{name}");
    }
}

#[test]
fn full_exchange_succeeds_and_audits() {
    let now = Instant::now();
    let s = default_store();
    let client = Authenticatee::new(p("ops team"), &Secret::new(b"s3cret")).unwrap();
    let mut pair = Pair::new(
        s,
        AuthenticatorConfig::new().peer("scheduler@10.0.0.1:5050"),
        &mut rng(),
        client,
        now,
    );
    assert_eq!(pair.drive(now).unwrap(), 5);
    assert_eq!(pair.server.status(), Status::Completed(p("ops team")));
    assert_eq!(pair.client.status(), Status::Completed(p("ops team")));
    assert_eq!(pair.server.principal(), Some(&p("ops team")));
    let ev = pair.server.poll_event().unwrap();
    assert_eq!(ev.side, Side::Authenticator);
    assert_eq!(ev.result, AuthResult::Completed);
    assert_eq!(ev.principal.as_deref(), Some("ops team"));
    assert_eq!(ev.peer.as_deref(), Some("scheduler@10.0.0.1:5050"));
    assert!(pair.server.poll_event().is_none());
    let line = mesos_auth::audit::to_json_line(&ev, std::time::SystemTime::now());
    let json: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(json["component"], "sasl");
    assert_eq!(json["result"], "completed");
    assert_eq!(json["mechanism"], "CRAM-MD5");
    assert_eq!(
        pair.client.poll_event().unwrap().result,
        AuthResult::Completed
    );
    assert_eq!(pair.server.poll_timeout(), None);
}

#[test]
fn precomputed_state_credentials_verify() {
    // The HMAC states of "tanstaaftanstaaf", computed through a plain store
    // and the client-side key: check a store holding only states.
    let now = Instant::now();
    let plain = store(&[("tim", b"tanstaaftanstaaf")]);
    let (mut server, challenge) = started(plain, now);
    let resp = cram_md5_response("tim", b"tanstaaftanstaaf", &challenge);
    server.handle_step(now, &resp).unwrap();
    assert_eq!(server.status(), Status::Completed(p("tim")));
    // A state-only credential (Dovecot CRAM-MD5 scheme).
    let (inner, outer) = mesos_auth::internal::cram_md5_states(b"tanstaaftanstaaf");
    let s = Arc::new(
        CredentialStore::from_credentials([Credential::new(
            p("tim"),
            StoredSecret::CramMd5State {
                inner: Box::new(inner),
                outer: Box::new(outer),
            },
        )])
        .unwrap(),
    );
    assert!(cram_md5_verify(
        &s,
        b"<1896.697170952@postoffice.reston.mci.net>",
        b"tim b913a602c7eda7a495b4e6e7334d3890"
    ));
}

#[test]
fn uniform_failure_reasons_stay_local() {
    let now = Instant::now();
    let digest_for = |c: &[u8]| cram_md5_response("tim", b"tanstaaftanstaaf", c);
    let cases: Vec<(Box<dyn Fn(&[u8]) -> Vec<u8>>, FailureReason)> = vec![
        (
            Box::new(|c| cram_md5_response("tim", b"wrong", c)),
            FailureReason::BadDigest,
        ),
        (
            Box::new(|c| cram_md5_response("mallory", b"x", c)),
            FailureReason::UnknownPrincipal,
        ),
        (
            Box::new(|c| cram_md5_response("TIM", b"tanstaaftanstaaf", c)),
            FailureReason::UnknownPrincipal,
        ),
        (
            Box::new(move |c| {
                digest_for(c)
                    .to_ascii_uppercase()
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| if i < 3 { b.to_ascii_lowercase() } else { b })
                    .collect()
            }),
            FailureReason::MalformedDigest,
        ),
        (
            Box::new(|c| {
                let mut r = cram_md5_response("tim", b"tanstaaftanstaaf", c);
                r.pop();
                r
            }),
            FailureReason::MalformedDigest,
        ),
        (
            Box::new(|c| {
                let mut r = cram_md5_response("tim", b"tanstaaftanstaaf", c);
                r.push(b'0');
                r
            }),
            FailureReason::MalformedDigest,
        ),
        (
            Box::new(|c| {
                let mut r = cram_md5_response("tim", b"tanstaaftanstaaf", c);
                r.extend_from_slice(b"\r\n");
                r
            }),
            FailureReason::MalformedDigest,
        ),
        (
            Box::new(|c| {
                let mut r = cram_md5_response("tim", b"tanstaaftanstaaf", c);
                r.push(b' ');
                r
            }),
            FailureReason::UnknownPrincipal,
        ),
        (
            Box::new(|c| cram_md5_response(" tim", b"tanstaaftanstaaf", c)),
            FailureReason::UnknownPrincipal,
        ),
        (
            Box::new(|c| cram_md5_response("tim ", b"tanstaaftanstaaf", c)),
            FailureReason::UnknownPrincipal,
        ),
        (
            Box::new(|c| {
                let mut r = b"t\0m ".to_vec();
                r.extend_from_slice(&cram_md5_response("x", b"y", c)[2..]);
                r
            }),
            FailureReason::InvalidPrincipal,
        ),
        (
            Box::new(|c| {
                let mut r = vec![0xff, 0xfe, b' '];
                r.extend_from_slice(&cram_md5_response("x", b"y", c)[2..]);
                r
            }),
            FailureReason::InvalidPrincipal,
        ),
        (
            Box::new(|c| cram_md5_response("nopass", b"", c)),
            FailureReason::NoCramMd5Secret,
        ),
        (
            Box::new(|c| {
                let mut r = b"tim ".to_vec();
                r.extend_from_slice(&[b'g'; 32]);
                let _ = c;
                r
            }),
            FailureReason::MalformedDigest,
        ),
    ];
    for (i, (make, reason)) in cases.iter().enumerate() {
        let (mut server, challenge) = started(default_store(), now);
        let (out, status, event) = respond(&mut server, now, &make(&challenge));
        assert_eq!(out, Some(ServerMessage::Failed), "case {i}");
        assert_eq!(status, Status::Failed, "case {i}");
        assert_eq!(event.result, AuthResult::Failed);
        assert_eq!(event.reason, Some(*reason), "case {i}");
        assert!(server.poll_output().is_none());
    }
}

#[test]
fn principals_with_spaces_at_and_utf8() {
    let now = Instant::now();
    for (name, secret) in [
        ("svc account", &b"pw"[..]),
        ("user@EXAMPLE.COM", b"pw2"),
        ("jürgen", "pässwörd€".as_bytes()),
        ("a", &[b'k'; 200]),
        ("b", &[b'k'; 64]),
        ("c", &[b'k'; 65]),
    ] {
        let s = store(&[(name, secret), ("other", b"x")]);
        let client = Authenticatee::new(p(name), &Secret::new(secret)).unwrap();
        let mut pair = Pair::new(s, AuthenticatorConfig::new(), &mut rng(), client, now);
        pair.drive(now).unwrap();
        assert_eq!(
            pair.status(),
            (Status::Completed(p(name)), Status::Completed(p(name)))
        );
    }
}

#[test]
fn wrong_secret_fails_both_sides() {
    let now = Instant::now();
    let client = Authenticatee::new(p("tim"), &Secret::new(b"guess")).unwrap();
    let mut pair = Pair::new(
        default_store(),
        AuthenticatorConfig::new(),
        &mut rng(),
        client,
        now,
    );
    pair.drive(now).unwrap();
    assert_eq!(pair.status(), (Status::Failed, Status::Failed));
    let ev = pair.client.poll_event().unwrap();
    assert_eq!(ev.reason, Some(FailureReason::RefusedByServer));
    assert_eq!(ev.side, Side::Authenticatee);
}

// ---- threats.md §2 (server side) ----

fn err_of(server: &mut Authenticator) -> String {
    match server.poll_output() {
        Some(ServerMessage::Error(e)) => e,
        other => panic!("expected an error message, got {other:?}"),
    }
}

#[test]
fn sa1_out_of_order_messages_are_sticky_errors() {
    let now = Instant::now();
    // Step before start.
    let mut server =
        Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut rng(), now);
    server.poll_output();
    let e = server.handle_step(now, b"tim 0").unwrap_err();
    assert_eq!(e, SaslError::Peer(PeerMisbehaved::UnexpectedStep));
    assert_eq!(
        err_of(&mut server),
        "peer misbehaved: unexpected authentication 'step' received"
    );
    // Sticky: a good start now still fails with the same error, nothing sent.
    assert_eq!(server.handle_start(now, "CRAM-MD5", b"").unwrap_err(), e);
    assert!(server.poll_output().is_none());
    assert_eq!(server.status(), Status::Error(e));
    assert_eq!(server.poll_event().unwrap().result, AuthResult::Error);

    // Second start.
    let (mut server, _) = started(default_store(), now);
    assert_eq!(
        server.handle_start(now, "CRAM-MD5", b"").unwrap_err(),
        SaslError::Peer(PeerMisbehaved::UnexpectedStart)
    );
    err_of(&mut server);

    // Step after success / failure: refused, outcome unchanged.
    let (mut server, challenge) = started(default_store(), now);
    server
        .handle_step(
            now,
            &cram_md5_response("tim", b"tanstaaftanstaaf", &challenge),
        )
        .unwrap();
    assert_eq!(server.poll_output(), Some(ServerMessage::Completed));
    assert_eq!(
        server.handle_step(now, b"tim 00").unwrap_err(),
        SaslError::Peer(PeerMisbehaved::AfterEnd)
    );
    assert_eq!(server.status(), Status::Completed(p("tim")));
    assert!(server.poll_output().is_none());
    let (mut server, _) = started(default_store(), now);
    server.handle_step(now, b"tim 00").unwrap();
    assert!(server.handle_step(now, b"tim 00").is_err());
    assert_eq!(server.status(), Status::Failed);
}

#[test]
fn sa2_initial_data_or_other_mechanism() {
    let now = Instant::now();
    for (mech, data) in [
        ("CRAM-MD5", &b"tim"[..]),
        ("PLAIN", b""),
        ("cram-md5", b""),
        ("", b""),
    ] {
        let mut server =
            Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut rng(), now);
        server.poll_output();
        let e = server.handle_start(now, mech, data).unwrap_err();
        assert!(matches!(
            e,
            SaslError::Peer(PeerMisbehaved::InitialData | PeerMisbehaved::UnsupportedMechanism)
        ));
        err_of(&mut server);
        assert!(matches!(server.status(), Status::Error(_)));
    }
}

#[test]
fn sa3_missing_name_is_a_protocol_error() {
    let now = Instant::now();
    for data in [
        &b"b913a602c7eda7a495b4e6e7334d3890"[..],
        b" b913a602c7eda7a495b4e6e7334d3890",
        b" ",
        b"",
        b"   ",
    ] {
        let (mut server, _) = started(default_store(), now);
        let e = server.handle_step(now, data).unwrap_err();
        assert_eq!(e, SaslError::Peer(PeerMisbehaved::MissingName));
        err_of(&mut server);
    }
}

#[test]
fn sa4_names_split_at_last_space_and_returned_as_stored() {
    let now = Instant::now();
    let (mut server, challenge) = started(default_store(), now);
    server
        .handle_step(now, &cram_md5_response("ops team", b"s3cret", &challenge))
        .unwrap();
    assert_eq!(server.status(), Status::Completed(p("ops team")));
    // Leading/trailing whitespace is not trimmed: " tim" is not "tim"
    // (Cyrus would accept it and report " tim").
    for claimed in [" tim", "tim ", "tim\t"] {
        let (mut server, challenge) = started(default_store(), now);
        server
            .handle_step(
                now,
                &cram_md5_response(claimed, b"tanstaaftanstaaf", &challenge),
            )
            .unwrap();
        assert_eq!(server.status(), Status::Failed, "{claimed:?}");
    }
}

#[test]
fn sa5_sa6_every_digest_byte_counts() {
    let now = Instant::now();
    let (_, challenge) = started(default_store(), now);
    let good = cram_md5_response("tim", b"tanstaaftanstaaf", &challenge);
    let s = default_store();
    assert!(cram_md5_verify(&s, &challenge, &good));
    let digest_start = good.len() - 32;
    for i in digest_start..good.len() {
        let mut bad = good.clone();
        bad[i] = if bad[i] == b'0' { b'1' } else { b'0' };
        assert!(!cram_md5_verify(&s, &challenge, &bad), "byte {i}");
    }
    // Short, long, non-hex, uppercase: all refused.
    assert!(!cram_md5_verify(&s, &challenge, &good[..good.len() - 1]));
    let mut long = good.clone();
    long.extend_from_slice(b"junk");
    assert!(!cram_md5_verify(&s, &challenge, &long));
    assert!(!cram_md5_verify(&s, &challenge, &good.to_ascii_uppercase()));
    assert!(!cram_md5_verify(&s, &challenge, b"tim "));
}

#[test]
fn sa7_digest_types_have_no_partial_eq() {
    // The only public digest surface is bytes in and a bool/status out; the
    // expected digest never leaves the crate. What we can check here: the
    // public message and status types compare, a Secret does not.
    fn is_partial_eq<T: PartialEq>() {}
    is_partial_eq::<Status>();
    // `Secret: !PartialEq` is checked by the line below failing to compile
    // if uncommented: is_partial_eq::<Secret>();
}

#[test]
fn sa9_challenges_are_random_shaped_and_bounded() {
    let now = Instant::now();
    let mut seen = std::collections::HashSet::new();
    let mut rng = mesos_auth::sasl::default_nonce_source().unwrap();
    for _ in 0..1000 {
        let mut server = Authenticator::new(
            default_store(),
            AuthenticatorConfig::new().host("master.example.org"),
            &mut rng,
            now,
        );
        server.poll_output();
        server.handle_start(now, "CRAM-MD5", b"").unwrap();
        let Some(ServerMessage::Step(c)) = server.poll_output() else {
            panic!()
        };
        let s = std::str::from_utf8(&c).unwrap();
        let inner = s
            .strip_prefix('<')
            .unwrap()
            .strip_suffix("@master.example.org>")
            .unwrap();
        // Two 64-bit halves in base64url, 11 characters each (RFC 2195
        // msg-id `atext`), so the challenge fits one MD5 block.
        let (a, b) = inner.split_once('.').unwrap();
        let b64url = |p: &str| {
            p.len() == 11
                && p.bytes()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == b'-' || ch == b'_')
        };
        assert!(b64url(a) && b64url(b), "{s}");
        assert!(c.len() <= 55);
        assert!(seen.insert(c));
    }
    // Hostile host names cannot break the shape.
    let mut server = Authenticator::new(
        default_store(),
        AuthenticatorConfig::new().host("a>b@c\n<"),
        &mut rng,
        now,
    );
    server.poll_output();
    server.handle_start(now, "CRAM-MD5", b"").unwrap();
    let Some(ServerMessage::Step(c)) = server.poll_output() else {
        panic!()
    };
    assert!(c.ends_with(b"@abc>"), "{}", String::from_utf8_lossy(&c));
    let long = "h".repeat(1000);
    let mut server = Authenticator::new(
        default_store(),
        AuthenticatorConfig::new().host(&long),
        &mut rng,
        now,
    );
    server.poll_output();
    server.handle_start(now, "CRAM-MD5", b"").unwrap();
    let Some(ServerMessage::Step(c)) = server.poll_output() else {
        panic!()
    };
    assert_eq!(c.len(), 55);
    assert!(c.ends_with(&[b"@".as_slice(), &[b'h'; 29], b">"].concat()));
}

/// threats.md SA-9 / T2: 10^6 challenges, no repeat (about 5 s in a debug
/// build).
fn no_duplicate_challenges(n: usize) {
    let mut rng = mesos_auth::sasl::default_nonce_source().unwrap();
    let mut seen = std::collections::HashSet::with_capacity(n);
    for _ in 0..n {
        let nonce = mesos_auth::sasl::NonceSource::nonce(&mut rng);
        let c = mesos_auth::internal::sasl_challenge(nonce, "localhost");
        assert!(c.len() <= 55);
        assert!(
            seen.insert(u128::from_be_bytes(nonce)),
            "repeated challenge"
        );
    }
    assert_eq!(seen.len(), n);
}

#[test]
fn sa9_no_duplicate_in_a_million_challenges() {
    no_duplicate_challenges(1_000_000);
}

#[test]
fn sa10_replayed_response_fails_in_a_new_session() {
    let now = Instant::now();
    let mut r = Seeded(ChaCha20Rng::seed_from_u64(1));
    let mut first = Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut r, now);
    first.poll_output();
    first.handle_start(now, "CRAM-MD5", b"").unwrap();
    let Some(ServerMessage::Step(c1)) = first.poll_output() else {
        panic!()
    };
    let captured = cram_md5_response("tim", b"tanstaaftanstaaf", &c1);
    first.handle_step(now, &captured).unwrap();
    assert_eq!(first.status(), Status::Completed(p("tim")));
    let mut second = Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut r, now);
    second.poll_output();
    second.handle_start(now, "CRAM-MD5", b"").unwrap();
    second.handle_step(now, &captured).unwrap();
    assert_eq!(second.status(), Status::Failed);
}

#[test]
fn sa11_messages_over_1024_bytes_are_refused() {
    let now = Instant::now();
    let mut server =
        Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut rng(), now);
    server.poll_output();
    let e = server
        .handle_start(now, "CRAM-MD5", &[0; MAX_MESSAGE_LEN + 1])
        .unwrap_err();
    assert_eq!(
        e,
        SaslError::Peer(PeerMisbehaved::TooLong {
            len: 1025,
            max: 1024
        })
    );
    // At the cap the response is processed (and refused as a bad claim).
    let (mut server, _) = started(default_store(), now);
    let mut at_cap = vec![b'x'; MAX_MESSAGE_LEN - 33];
    at_cap.push(b' ');
    at_cap.extend_from_slice(&[b'0'; 32]);
    assert_eq!(at_cap.len(), MAX_MESSAGE_LEN);
    server.handle_step(now, &at_cap).unwrap();
    assert_eq!(server.status(), Status::Failed);
    let (mut server, _) = started(default_store(), now);
    at_cap.insert(0, b'x');
    assert!(matches!(
        server.handle_step(now, &at_cap),
        Err(SaslError::Peer(PeerMisbehaved::TooLong { len: 1025, .. }))
    ));
    err_of(&mut server);
    // A principal-sized overflow claim is logged cut to 256 bytes.
    let (mut server, _) = started(default_store(), now);
    let mut claim = vec![b'y'; 900];
    claim.extend_from_slice(b" 00000000000000000000000000000000");
    server.handle_step(now, &claim).unwrap();
    let ev = server.poll_event().unwrap();
    assert_eq!(ev.reason, Some(FailureReason::InvalidPrincipal));
    assert_eq!(ev.principal.unwrap().len(), 256);
}

#[test]
fn sa12_long_secrets_are_hashed_not_truncated() {
    let now = Instant::now();
    let long: Vec<u8> = (0..100u8).collect();
    let s = store(&[("carol", &long)]);
    let (mut server, challenge) = started(s.clone(), now);
    // A client that truncated the key to 64 bytes must fail.
    server
        .handle_step(now, &cram_md5_response("carol", &long[..64], &challenge))
        .unwrap();
    assert_eq!(server.status(), Status::Failed);
    let (mut server, challenge) = started(s, now);
    server
        .handle_step(now, &cram_md5_response("carol", &long, &challenge))
        .unwrap();
    assert_eq!(server.status(), Status::Completed(p("carol")));
}

#[test]
fn sa14_timeout_and_discard_send_nothing() {
    let now = Instant::now();
    let mut server =
        Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut rng(), now);
    server.poll_output();
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(15)));
    server.handle_timeout(now + Duration::from_secs(14));
    assert_eq!(server.status(), Status::Pending);
    server.handle_timeout(now + Duration::from_secs(15));
    assert_eq!(server.status(), Status::Error(SaslError::TimedOut));
    assert!(server.poll_output().is_none());
    assert_eq!(server.poll_timeout(), None);
    let ev = server.poll_event().unwrap();
    assert_eq!(ev.result, AuthResult::Error);
    assert_eq!(ev.error.as_deref(), Some("authentication timed out"));
    assert_eq!(
        server.handle_start(now, "CRAM-MD5", b"").unwrap_err(),
        SaslError::TimedOut
    );

    // A late response after the (configured) deadline does not complete.
    let cfg = AuthenticatorConfig::new().timeout(Duration::from_millis(10));
    let mut server = Authenticator::new(default_store(), cfg, &mut rng(), now);
    server.poll_output();
    server.handle_start(now, "CRAM-MD5", b"").unwrap();
    let Some(ServerMessage::Step(c)) = server.poll_output() else {
        panic!()
    };
    let late = now + Duration::from_millis(10);
    assert_eq!(
        server
            .handle_step(late, &cram_md5_response("tim", b"tanstaaftanstaaf", &c))
            .unwrap_err(),
        SaslError::TimedOut
    );
    assert!(server.poll_output().is_none());

    let mut server =
        Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut rng(), now);
    server.discard();
    assert_eq!(server.status(), Status::Error(SaslError::Discarded));
    server.poll_output();
    assert!(server.poll_output().is_none());
    // Huge timeouts do not overflow.
    let server = Authenticator::new(
        default_store(),
        AuthenticatorConfig::new().timeout(Duration::MAX),
        &mut rng(),
        now,
    );
    assert!(server.poll_timeout().unwrap() > now);
}

#[test]
fn sa14_throttle_backs_off_per_principal_and_peer() {
    let t0 = Instant::now();
    let cfg = ThrottleConfig::new()
        .free_failures(2)
        .base(Duration::from_secs(1))
        .max(Duration::from_secs(8))
        .forget_after(Duration::from_secs(600));
    let mut th = Throttle::new(cfg);
    assert_eq!(th.check(Some("tim"), Some("peer1"), t0), Verdict::Allow);
    th.record_failure(Some("tim"), Some("peer1"), t0);
    th.record_failure(Some("tim"), Some("peer1"), t0);
    assert_eq!(th.check(Some("tim"), None, t0), Verdict::Allow);
    let mut expected = 1;
    for _ in 0..6 {
        th.record_failure(Some("tim"), Some("peer1"), t0);
        assert_eq!(
            th.check(Some("tim"), None, t0),
            Verdict::Delay(Duration::from_secs(expected))
        );
        assert_eq!(
            th.check(None, Some("peer1"), t0),
            Verdict::Delay(Duration::from_secs(expected))
        );
        expected = (expected * 2).min(8);
    }
    // Others are unaffected; the delay runs out.
    assert_eq!(th.check(Some("bob"), Some("peer2"), t0), Verdict::Allow);
    assert_eq!(
        th.check(Some("tim"), None, t0 + Duration::from_secs(8)),
        Verdict::Allow
    );
    // A success clears the count.
    th.record_success(Some("tim"), Some("peer1"));
    assert_eq!(th.check(Some("tim"), Some("peer1"), t0), Verdict::Allow);
    // Forgetting after the idle period.
    for _ in 0..5 {
        th.record_failure(Some("x"), None, t0);
    }
    th.record_failure(Some("x"), None, t0 + Duration::from_secs(601));
    assert_eq!(
        th.check(Some("x"), None, t0 + Duration::from_secs(601)),
        Verdict::Allow
    );
}

#[test]
fn sa14_throttle_memory_is_bounded_and_observes_events() {
    let t0 = Instant::now();
    let mut th = Throttle::new(ThrottleConfig::new().max_entries(100).free_failures(0));
    for i in 0..10_000u32 {
        th.record_failure(
            Some(&format!("p{i}")),
            Some(&format!("10.0.{}.{}", i / 256, i % 256)),
            t0 + Duration::from_millis(i.into()),
        );
    }
    assert!(th.len() <= 200, "{}", th.len());
    // The newest keys survive eviction.
    assert!(matches!(
        th.check(Some("p9999"), None, t0 + Duration::from_secs(9)),
        Verdict::Delay(_)
    ));

    // Fed from authenticator events: 100 bad responses from one peer.
    let now = Instant::now();
    let mut th = Throttle::new(ThrottleConfig::new());
    for _ in 0..100 {
        let (mut server, _) = {
            let mut s = Authenticator::new(
                default_store(),
                AuthenticatorConfig::new().peer("evil:1"),
                &mut rng(),
                now,
            );
            s.poll_output();
            s.handle_start(now, "CRAM-MD5", b"").unwrap();
            (s, ())
        };
        server
            .handle_step(now, b"tim 00000000000000000000000000000000")
            .unwrap();
        th.observe(&server.poll_event().unwrap(), now);
    }
    assert_eq!(
        th.check(None, Some("evil:1"), now),
        Verdict::Delay(Duration::from_secs(60))
    );
    assert_eq!(
        th.check(Some("tim"), None, now),
        Verdict::Delay(Duration::from_secs(60))
    );
    assert_eq!(
        th.check(Some("ops team"), Some("good:2"), now),
        Verdict::Allow
    );
}

// ---- threats.md §3 (client side) ----

fn client() -> Authenticatee {
    Authenticatee::new(p("tim"), &Secret::new(b"tanstaaftanstaaf")).unwrap()
}

fn mechs(list: &[&str]) -> ServerMessage {
    ServerMessage::Mechanisms(list.iter().map(|s| s.to_string()).collect())
}

#[test]
fn client_happy_path_messages() {
    let mut c = client();
    assert!(c.poll_output().is_none());
    c.handle_message(mechs(&["PLAIN", "CRAM-MD5"])).unwrap();
    assert_eq!(
        c.poll_output(),
        Some(ClientMessage::Start {
            mechanism: "CRAM-MD5".into(),
            data: vec![]
        })
    );
    c.handle_message(ServerMessage::Step(
        b"<1896.697170952@postoffice.reston.mci.net>"
            .to_vec()
            .into(),
    ))
    .unwrap();
    assert_eq!(
        c.poll_output(),
        Some(ClientMessage::Step(
            b"tim b913a602c7eda7a495b4e6e7334d3890".to_vec()
        ))
    );
    assert_eq!(c.status(), Status::Pending);
    c.handle_message(ServerMessage::Completed).unwrap();
    assert_eq!(c.status(), Status::Completed(p("tim")));
    assert_eq!(
        c.handle_message(ServerMessage::Completed).unwrap_err(),
        SaslError::Peer(PeerMisbehaved::AfterEnd)
    );
    assert_eq!(c.status(), Status::Completed(p("tim")));
}

#[test]
fn sc1_completed_before_response_is_an_error() {
    let mut c = client();
    assert_eq!(
        c.handle_message(ServerMessage::Completed).unwrap_err(),
        SaslError::Peer(PeerMisbehaved::UnexpectedCompleted)
    );
    let mut c = client();
    c.handle_message(mechs(&["CRAM-MD5"])).unwrap();
    let e = c.handle_message(ServerMessage::Completed).unwrap_err();
    assert_eq!(e, SaslError::Peer(PeerMisbehaved::UnexpectedCompleted));
    assert_eq!(c.status(), Status::Error(e.clone()));
    // Sticky.
    assert_eq!(
        c.handle_message(ServerMessage::Step(b"<1@x>".to_vec().into()))
            .unwrap_err(),
        e
    );
    assert_eq!(c.poll_event().unwrap().result, AuthResult::Error);
}

#[test]
fn sc2_no_downgrade() {
    for list in [&["PLAIN"][..], &[], &["cram-md5", "PLAIN"], &["CRAM-MD5 "]] {
        let mut c = client();
        assert_eq!(
            c.handle_message(mechs(list)).unwrap_err(),
            SaslError::Peer(PeerMisbehaved::NoCramMd5),
            "{list:?}"
        );
        assert!(c.poll_output().is_none());
    }
}

#[test]
fn sc3_empty_or_oversized_challenge() {
    for challenge in [vec![], vec![b'x'; MAX_MESSAGE_LEN + 1]] {
        let mut c = client();
        c.handle_message(mechs(&["CRAM-MD5"])).unwrap();
        c.poll_output();
        assert!(
            c.handle_message(ServerMessage::Step(challenge.into()))
                .is_err()
        );
        assert!(c.poll_output().is_none());
    }
    let mut c = client();
    c.handle_message(mechs(&["CRAM-MD5"])).unwrap();
    c.poll_output();
    c.handle_message(ServerMessage::Step(vec![b'x'; MAX_MESSAGE_LEN].into()))
        .unwrap();
    assert!(c.poll_output().is_some());
}

#[test]
fn client_out_of_order_and_server_errors() {
    // Step before mechanisms, mechanisms twice, a second step.
    let mut c = client();
    assert!(
        c.handle_message(ServerMessage::Step(b"<1@x>".to_vec().into()))
            .is_err()
    );
    let mut c = client();
    c.handle_message(mechs(&["CRAM-MD5"])).unwrap();
    assert_eq!(
        c.handle_message(mechs(&["CRAM-MD5"])).unwrap_err(),
        SaslError::Peer(PeerMisbehaved::UnexpectedMechanisms)
    );
    let mut c = client();
    c.handle_message(mechs(&["CRAM-MD5"])).unwrap();
    c.handle_message(ServerMessage::Step(b"<1@x>".to_vec().into()))
        .unwrap();
    assert_eq!(
        c.handle_message(ServerMessage::Step(b"<2@x>".to_vec().into()))
            .unwrap_err(),
        SaslError::Peer(PeerMisbehaved::UnexpectedStep)
    );
    // Failed is accepted in any state; Error becomes a sticky Server error
    // with the text cleaned and cut.
    let mut c = client();
    c.handle_message(ServerMessage::Failed).unwrap();
    assert_eq!(c.status(), Status::Failed);
    let mut c = client();
    let text = format!("No authenticator loaded\n{}", "z".repeat(1000));
    let e = c.handle_message(ServerMessage::Error(text)).unwrap_err();
    let SaslError::Server(t) = &e else { panic!() };
    assert!(t.starts_with("No authenticator loadedzz") && t.len() == 256);
    assert_eq!(c.handle_message(ServerMessage::Failed).unwrap_err(), e);
}

#[test]
fn sc6_empty_secret_refused_up_front() {
    assert_eq!(
        Authenticatee::new(p("tim"), &Secret::new(b"")).unwrap_err(),
        SaslError::Misuse(ApiMisuse::EmptySecret)
    );
}

#[test]
fn errors_say_nothing_secret() {
    let now = Instant::now();
    let (mut server, challenge) = started(default_store(), now);
    let resp = cram_md5_response("tim", b"tanstaaftanstaaf", &challenge);
    let digest = String::from_utf8(resp[4..].to_vec()).unwrap();
    server.handle_step(now, b"tim 0000").unwrap();
    let ev = server.poll_event().unwrap();
    let dbg = format!("{ev:?} {server:?}");
    assert!(!dbg.contains(&digest));
    assert!(!dbg.contains("tanstaaf"));
}

// ---- property tests ----

#[derive(Debug, Clone)]
enum ToServer {
    Start(String, Vec<u8>),
    Step(Vec<u8>),
    Good,
    Timeout(u64),
    Discard,
}

fn to_server() -> impl Strategy<Value = ToServer> {
    prop_oneof![
        (
            prop_oneof![Just("CRAM-MD5".to_string()), ".{0,10}"],
            prop::collection::vec(any::<u8>(), 0..4)
        )
            .prop_map(|(m, d)| ToServer::Start(m, d)),
        prop::collection::vec(any::<u8>(), 0..1100).prop_map(ToServer::Step),
        "[a-z ]{0,8} [0-9a-f]{30,34}".prop_map(|s| ToServer::Step(s.into_bytes())),
        Just(ToServer::Good),
        (0u64..20).prop_map(ToServer::Timeout),
        Just(ToServer::Discard),
    ]
}

fn to_client() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        prop::collection::vec(
            prop_oneof![Just("CRAM-MD5".to_string()), "[A-Z-]{0,8}"],
            0..3
        )
        .prop_map(|l| ServerMessage::Mechanisms(l.into())),
        prop::collection::vec(any::<u8>(), 0..1100).prop_map(|d| ServerMessage::Step(d.into())),
        Just(ServerMessage::Completed),
        Just(ServerMessage::Failed),
        ".{0,20}".prop_map(ServerMessage::Error),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random sequences never panic, a terminal status never changes, and
    /// success happens only after a correct response to the issued challenge.
    #[test]
    fn server_random_sequences(ops in prop::collection::vec(to_server(), 0..8)) {
        let t0 = Instant::now();
        let mut server = Authenticator::new(default_store(), AuthenticatorConfig::new(), &mut rng(), t0);
        let mut challenge: Option<Vec<u8>> = None;
        let mut sent_good_after_challenge = false;
        let mut terminal: Option<Status> = None;
        let mut now = t0;
        for op in ops {
            match op {
                ToServer::Start(m, d) => { let _ = server.handle_start(now, &m, &d); }
                ToServer::Step(d) => { let _ = server.handle_step(now, &d); }
                ToServer::Good => {
                    let c = challenge.clone().unwrap_or_default();
                    if challenge.is_some() && terminal.is_none() { sent_good_after_challenge = true; }
                    let _ = server.handle_step(now, &cram_md5_response("tim", b"tanstaaftanstaaf", &c));
                }
                ToServer::Timeout(s) => { now += Duration::from_secs(s); server.handle_timeout(now); }
                ToServer::Discard => server.discard(),
            }
            while let Some(m) = server.poll_output() {
                if let ServerMessage::Step(c) = m { challenge = Some(c.into_vec()); }
            }
            let st = server.status();
            if let Some(t) = &terminal { prop_assert_eq!(&st, t); }
            if st.is_terminal() && terminal.is_none() {
                terminal = Some(st.clone());
                prop_assert_eq!(server.poll_event().map(|e| e.result).is_some(), true);
            }
            if let Status::Completed(pr) = &st { prop_assert_eq!(pr.as_str(), "tim"); prop_assert!(sent_good_after_challenge); }
        }
        // Ends in a terminal state once the deadline passes.
        server.handle_timeout(t0 + Duration::from_secs(10_000));
        prop_assert!(server.status().is_terminal());
        prop_assert!(server.poll_timeout().is_none());
    }

    #[test]
    fn client_random_sequences(msgs in prop::collection::vec(to_client(), 0..6)) {
        let mut c = client();
        let mut terminal: Option<Status> = None;
        let mut responded = false;
        for m in msgs {
            let _ = c.handle_message(m);
            while let Some(out) = c.poll_output() {
                if matches!(out, ClientMessage::Step(_)) { responded = true; }
            }
            let st = c.status();
            if let Some(t) = &terminal { prop_assert_eq!(&st, t); }
            if st.is_terminal() && terminal.is_none() { terminal = Some(st.clone()); }
            if matches!(st, Status::Completed(_)) { prop_assert!(responded); }
        }
        // Any further message ends a pending exchange (error) or is refused.
        let _ = c.handle_message(ServerMessage::Failed);
        prop_assert!(c.status().is_terminal());
    }

    #[test]
    fn pair_agrees_with_the_store(name in "[a-zA-Z0-9 @.]{1,20}", secret in prop::collection::vec(any::<u8>(), 1..150), right in any::<bool>()) {
        prop_assume!(!name.trim().is_empty());
        let now = Instant::now();
        let s = store(&[(&name, &secret)]);
        let used = if right { secret.clone() } else { let mut w = secret.clone(); w[0] ^= 1; w };
        let client = Authenticatee::new(p(&name), &Secret::new(&used)).unwrap();
        let mut pair = Pair::new(s, AuthenticatorConfig::new(), &mut rng(), client, now);
        pair.drive(now).unwrap();
        let expect = if right { Status::Completed(p(&name)) } else { Status::Failed };
        prop_assert_eq!(pair.status(), (expect.clone(), expect));
    }
}

/// Found by the `sasl_pair` fuzzer (an oracle bug, not a library bug): HMAC
/// pads keys of up to 64 bytes with zeros (RFC 2104), so in CRAM-MD5 a
/// secret and the same secret plus trailing NUL bytes are one key. Cyrus and
/// GNU SASL behave the same; the credential parsers refuse NUL (CS-3).
#[test]
fn regression_trailing_nul_bytes_are_the_same_hmac_key() {
    let now = Instant::now();
    let s = store(&[("tim", b"secret")]);
    let client = Authenticatee::new(p("tim"), &Secret::new(b"secret\0\0")).unwrap();
    let mut pair = Pair::new(s, AuthenticatorConfig::new(), &mut rng(), client, now);
    pair.drive(now).unwrap();
    assert_eq!(pair.server.status(), Status::Completed(p("tim")));
}
