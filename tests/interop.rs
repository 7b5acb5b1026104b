//! Interop against real peers: Cyrus SASL (libsasl2, set up as Mesos sets
//! it up) and GNU SASL (libgsasl), both directions, through the small C
//! peers in tests/interop/ (compiled here with `cc`). The scenarios are the
//! core ones of the shared interop harness, plus random credentials.
//!
//! Needs `cc`, libsasl2-dev + libsasl2-modules and libgsasl-dev
//! (`.ci/install-deps`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::sasl::{
    Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage, ServerMessage, Status,
};
use mesos_auth::{Principal, Secret};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

#[derive(Clone, Copy, Debug)]
enum Peer {
    Cyrus,
    Gsasl,
}

fn build(name: &str, lib: &str) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/interop/{name}.c"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let status = Command::new("cc")
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Wno-cast-function-type",
            "-Werror",
            "-O1",
            "-o",
        ])
        .arg(&out)
        .arg(&src)
        .arg(lib)
        .status()
        .expect("cc runs");
    assert!(status.success(), "compiling {name}");
    out
}

fn peer_binary(peer: Peer) -> &'static PathBuf {
    static CYRUS: OnceLock<PathBuf> = OnceLock::new();
    static GSASL: OnceLock<PathBuf> = OnceLock::new();
    match peer {
        Peer::Cyrus => CYRUS.get_or_init(|| build("cyrus_peer", "-lsasl2")),
        Peer::Gsasl => GSASL.get_or_init(|| build("gsasl_peer", "-lgsasl")),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

type Creds = Vec<(String, Vec<u8>)>;

fn harness_creds() -> Creds {
    let c = |p: &str, s: &[u8]| (p.to_owned(), s.to_vec());
    vec![
        c("alice", b"s3cret"),
        c("bob", b"hunter2"),
        c("carol", &[b'c'; 100]),
        c("dave", &[b'd'; 64]),
        c("eve", b"p@ss w0rd!#$%^&*()_+-=[]{};':,./<>?"),
        c("svc account", b"svc-secret"),
        c("user@EXAMPLE.COM", b"realm-secret"),
        c("jürgen", "pässwörd€".as_bytes()),
    ]
}

/// (name, principal, secret, expected principal on success)
fn scenarios() -> Vec<(&'static str, String, Vec<u8>, Option<String>)> {
    let creds = harness_creds();
    let ok = |name: &'static str, i: usize| {
        let (p, s) = &creds[i];
        (name, p.clone(), s.clone(), Some(p.clone()))
    };
    let no = |name: &'static str, p: &str, s: &[u8]| (name, p.to_owned(), s.to_vec(), None);
    vec![
        ok("ok-basic", 0),
        ok("ok-second-user", 1),
        ok("ok-secret-100-bytes", 2),
        ok("ok-secret-64-bytes", 3),
        ok("ok-secret-punctuation", 4),
        ok("ok-principal-with-space", 5),
        ok("ok-principal-with-at", 6),
        ok("ok-utf8", 7),
        no("fail-wrong-secret", "alice", b"wrong"),
        no("fail-other-users-secret", "alice", b"hunter2"),
        no("fail-secret-prefix", "alice", b"s3cre"),
        no("fail-unknown-user", "mallory", b"s3cret"),
        no("fail-principal-case", "ALICE", b"s3cret"),
        no("fail-principal-at-realm", "alice@EXAMPLE.COM", b"s3cret"),
    ]
}

fn store_of(creds: &Creds) -> Arc<CredentialStore> {
    Arc::new(
        CredentialStore::from_credentials(
            creds
                .iter()
                .map(|(p, s)| Credential::plain(Principal::new(p).unwrap(), Secret::new(s))),
        )
        .unwrap(),
    )
}

/// Our authenticator against the peer's client. Returns our status and the
/// peer's exit code.
fn our_server(peer: Peer, creds: &Creds, principal: &str, secret: &[u8]) -> (Status, i32) {
    let mut child = Command::new(peer_binary(peer))
        .args(["client", &hex(principal.as_bytes()), &hex(secret)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut to = child.stdin.take().unwrap();
    let mut from = BufReader::new(child.stdout.take().unwrap());
    let now = Instant::now();
    let mut rng = mesos_auth::sasl::default_nonce_source().unwrap();
    let mut server = Authenticator::new(
        store_of(creds),
        AuthenticatorConfig::new().host("master.example.org"),
        &mut rng,
        now,
    );
    assert!(matches!(
        server.poll_output(),
        Some(ServerMessage::Mechanisms(_))
    ));
    server.handle_start(now, "CRAM-MD5", b"").unwrap();
    let Some(ServerMessage::Step(challenge)) = server.poll_output() else {
        panic!()
    };
    writeln!(to, "C {}", hex(&challenge)).unwrap();
    let mut line = String::new();
    from.read_line(&mut line).unwrap();
    let response = unhex(line.trim_end().strip_prefix("R ").expect("R line"));
    server.handle_step(now, &response).unwrap();
    let verdict = match server.poll_output() {
        Some(ServerMessage::Completed) => "OK",
        Some(ServerMessage::Failed) => "NO badauth",
        other => panic!("{other:?}"),
    };
    writeln!(to, "{verdict}").unwrap();
    drop(to);
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (server.status(), code)
}

/// Our authenticatee against the peer's server. Returns our status and the
/// principal the peer reported on success.
fn our_client(
    peer: Peer,
    creds: &Creds,
    principal: &str,
    secret: &[u8],
) -> (Status, Option<String>) {
    let mut args = vec!["server".to_owned()];
    for (p, s) in creds {
        args.push(hex(p.as_bytes()));
        args.push(hex(s));
    }
    let mut child = Command::new(peer_binary(peer))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut to = child.stdin.take().unwrap();
    let mut from = BufReader::new(child.stdout.take().unwrap());
    let mut client =
        Authenticatee::new(Principal::new(principal).unwrap(), &Secret::new(secret)).unwrap();
    client
        .handle_message(ServerMessage::Mechanisms(["CRAM-MD5"].into()))
        .unwrap();
    assert!(matches!(
        client.poll_output(),
        Some(ClientMessage::Start { .. })
    ));
    let mut line = String::new();
    from.read_line(&mut line).unwrap();
    let challenge = unhex(line.trim_end().strip_prefix("C ").expect("C line"));
    client
        .handle_message(ServerMessage::Step(challenge.into()))
        .unwrap();
    let Some(ClientMessage::Step(response)) = client.poll_output() else {
        panic!()
    };
    writeln!(to, "R {}", hex(&response)).unwrap();
    line.clear();
    from.read_line(&mut line).unwrap();
    let line = line.trim_end();
    let reported = if let Some(p) = line.strip_prefix("OK ") {
        client.handle_message(ServerMessage::Completed).unwrap();
        Some(String::from_utf8(unhex(p)).unwrap())
    } else if line.starts_with("NO") {
        client.handle_message(ServerMessage::Failed).unwrap();
        None
    } else {
        panic!("bad verdict line {line:?}");
    };
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(if reported.is_some() { 0 } else { 1 }));
    (client.status(), reported)
}

fn run_scenarios(peer: Peer) {
    let creds = harness_creds();
    for (name, principal, secret, expected) in scenarios() {
        // Our server, their client.
        let (status, code) = our_server(peer, &creds, &principal, &secret);
        match &expected {
            Some(p) => {
                assert_eq!(
                    status,
                    Status::Completed(Principal::new(p).unwrap()),
                    "{peer:?} client, {name}"
                );
                assert_eq!(code, 0, "{peer:?} client exit, {name}");
            }
            None => {
                assert_eq!(status, Status::Failed, "{peer:?} client, {name}");
                assert_eq!(code, 1, "{peer:?} client exit, {name}");
            }
        }
        // Their server, our client.
        let (status, reported) = our_client(peer, &creds, &principal, &secret);
        match &expected {
            Some(p) => {
                assert!(
                    matches!(status, Status::Completed(_)),
                    "{peer:?} server, {name}"
                );
                assert_eq!(
                    reported.as_deref(),
                    Some(p.as_str()),
                    "{peer:?} server principal, {name}"
                );
            }
            None => assert_eq!(status, Status::Failed, "{peer:?} server, {name}"),
        }
    }
}

#[test]
fn cyrus_sasl_both_directions() {
    run_scenarios(Peer::Cyrus);
}

#[test]
fn gnu_sasl_both_directions() {
    run_scenarios(Peer::Gsasl);
}

/// Random credentials: principals 1–64 bytes with spaces, `@` and (for
/// Cyrus) UTF-8; secrets 1–200 bytes (around the 64-byte block). Every
/// exchange must succeed with the right secret and fail with a wrong one.
fn random_agreement(peer: Peer, rounds: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5a51);
    let alphabet: Vec<char> = match peer {
        // gsasl SASLpreps; stay with ASCII there (threats.md SA-13).
        Peer::Gsasl => "abcXYZ019 @._-".chars().collect(),
        Peer::Cyrus => "abcXYZ019 @._-äöü€漢".chars().collect(),
    };
    for round in 0..rounds {
        let len = 1 + (rng.next_u32() % 20) as usize;
        let mut principal: String = (0..len)
            .map(|_| alphabet[(rng.next_u32() as usize) % alphabet.len()])
            .collect();
        // Cyrus trims surrounding whitespace for its lookup; keep names
        // without it (the no-trim difference is tested in tests/api).
        principal = principal.trim().to_owned();
        if principal.is_empty() || principal.len() > 64 {
            principal = format!("p{round}");
        }
        // Around the 64-byte HMAC block, and anywhere in 1..=200.
        let slen = match round % 4 {
            0 => 63,
            1 => 64,
            2 => 65,
            _ => 1 + (rng.next_u32() % 200) as usize,
        };
        let secret: Vec<u8> = (0..slen)
            .map(|_| b'!' + (rng.next_u32() % 94) as u8)
            .collect();
        let creds = vec![
            (principal.clone(), secret.clone()),
            ("other".to_owned(), b"x".to_vec()),
        ];
        let right = round % 2 == 0;
        let used = if right {
            secret.clone()
        } else {
            let mut w = secret.clone();
            w[slen - 1] = if w[slen - 1] == b'a' { b'b' } else { b'a' };
            w
        };
        let expected = if right {
            Status::Completed(Principal::new(&principal).unwrap())
        } else {
            Status::Failed
        };
        let (status, _) = our_server(peer, &creds, &principal, &used);
        assert_eq!(status, expected, "{peer:?} client, {principal:?} / {slen}");
        let (status, reported) = our_client(peer, &creds, &principal, &used);
        if right {
            assert_eq!(
                reported.as_deref(),
                Some(principal.as_str()),
                "{peer:?} server, {principal:?}"
            );
        } else {
            assert_eq!(status, Status::Failed, "{peer:?} server, {principal:?}");
        }
    }
}

#[test]
fn cyrus_sasl_random_credentials() {
    random_agreement(Peer::Cyrus, 100);
}

#[test]
fn gnu_sasl_random_credentials() {
    random_agreement(Peer::Gsasl, 100);
}
