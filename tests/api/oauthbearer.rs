//! OAUTHBEARER (RFC 7628) through the SASL state machines, and mechanism
//! negotiation: tokens minted per run by the issuer helpers in bearer.rs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test fixtures: a broken fixture must fail the test loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_auth::audit::Event;
use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::sasl::{
    ApiMisuse, AuthResult, Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage,
    FailureReason, MAX_MESSAGE_LEN, NonceSource, PeerMisbehaved, SaslError, ServerMessage, Status,
    TokenSource, TokenSourceError,
};
use mesos_auth::{Principal, Secret};
use serde_json::json;

use super::bearer::{Signer, claims, keys, mint, now, rs, secs, validator, with};

struct Fixed;

impl NonceSource for Fixed {
    fn nonce(&mut self) -> [u8; 16] {
        [7; 16]
    }
}

const ERROR_DOC: &[u8] = br#"{"status":"invalid_token"}"#;

fn p(s: &str) -> Principal {
    Principal::new(s).unwrap()
}

fn cram_store() -> Arc<CredentialStore> {
    Arc::new(
        CredentialStore::from_credentials([Credential::plain(p("tim"), Secret::new(b"tanstaaf"))])
            .unwrap(),
    )
}

fn both() -> AuthenticatorConfig {
    AuthenticatorConfig::new().oauthbearer(Arc::new(validator()))
}

fn server(config: AuthenticatorConfig, t0: Instant) -> Authenticator {
    Authenticator::with_wall_clock(cram_store(), config, &mut Fixed, t0, now())
}

fn token_for(sub: &str) -> String {
    mint(
        &rs("rsa-1"),
        &with(claims(), "sub", json!(sub)),
        &Signer::Rsa(&keys().rsa),
    )
}

/// Shuttles messages until both sides are quiet; returns what the server
/// sent after its mechanism list.
fn run(server: &mut Authenticator, client: &mut Authenticatee, t: Instant) -> Vec<ServerMessage> {
    let mut sent = Vec::new();
    loop {
        let mut moved = false;
        while let Some(m) = server.poll_output() {
            if !matches!(m, ServerMessage::Mechanisms(_)) {
                sent.push(m.clone());
            }
            let _ = client.handle_message(m);
            moved = true;
        }
        while let Some(m) = client.poll_output() {
            let _ = server.handle_message(t, m);
            moved = true;
        }
        if !moved {
            return sent;
        }
    }
}

#[test]
fn token_authenticates_and_mechanism_list_has_both() {
    let t0 = Instant::now();
    assert_eq!(both().mechanisms(), ["OAUTHBEARER", "CRAM-MD5"]);
    assert_eq!(AuthenticatorConfig::new().mechanisms(), ["CRAM-MD5"]);
    let mut s = server(both(), t0);
    assert_eq!(
        s.poll_output(),
        Some(ServerMessage::Mechanisms(
            ["OAUTHBEARER", "CRAM-MD5"].into()
        ))
    );
    let token = token_for("alice");
    let mut c = Authenticatee::oauthbearer(p("alice"), &Secret::new(token.as_bytes())).unwrap();
    c.handle_message(ServerMessage::Mechanisms(
        ["OAUTHBEARER", "CRAM-MD5"].into(),
    ))
    .unwrap();
    let Some(ClientMessage::Start { mechanism, data }) = c.poll_output() else {
        panic!("no start");
    };
    assert_eq!(mechanism, "OAUTHBEARER");
    let expected = format!("n,a=alice,\x01auth=Bearer {token}\x01\x01");
    assert_eq!(data, expected.as_bytes());
    s.handle_start(t0, &mechanism, &data).unwrap();
    assert_eq!(s.poll_output(), Some(ServerMessage::Completed));
    c.handle_message(ServerMessage::Completed).unwrap();
    assert_eq!(s.status(), Status::Completed(p("alice")));
    assert_eq!(c.status(), Status::Completed(p("alice")));
    assert_eq!(s.mechanism(), "OAUTHBEARER");
    let ev = s.poll_event().unwrap();
    assert_eq!(
        (ev.mechanism, ev.result, ev.principal.as_deref()),
        ("OAUTHBEARER", AuthResult::Completed, Some("alice"))
    );
    assert_eq!(ev.auth_method(), "oauthbearer");
    let line = ev.to_json().to_string();
    assert!(!line.contains(&token[..20]), "token in the audit event");
}

/// Runs a full exchange with `token`; returns the server's event detail and
/// checks the peer saw only the uniform error exchange.
fn refused_with(token: &str, principal: &str) -> (FailureReason, String) {
    let t0 = Instant::now();
    let mut s = server(both(), t0);
    let mut c = Authenticatee::oauthbearer(p(principal), &Secret::new(token.as_bytes())).unwrap();
    let sent = run(&mut s, &mut c, t0);
    assert_eq!(
        sent,
        [
            ServerMessage::Step(ERROR_DOC.to_vec().into()),
            ServerMessage::Failed
        ],
        "the peer sees one uniform refusal"
    );
    assert_eq!(s.status(), Status::Failed);
    assert_eq!(c.status(), Status::Failed);
    let cev = c.poll_event().unwrap();
    assert_eq!(cev.reason, Some(FailureReason::RefusedByServer));
    assert_eq!(cev.detail.as_deref(), Some("server status `invalid_token`"));
    let ev = s.poll_event().unwrap();
    assert_eq!(
        (ev.result, ev.mechanism),
        (AuthResult::Failed, "OAUTHBEARER")
    );
    let detail = ev.detail.clone().unwrap();
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!detail.contains(part), "token part in the detail: {detail}");
        assert!(!ev.to_json().to_string().contains(part));
    }
    (ev.reason.unwrap(), detail)
}

#[test]
fn each_rejection_is_uniform_to_the_peer_and_precise_locally() {
    let k = keys();
    let rsa = Signer::Rsa(&k.rsa);
    let der = k.rsa.public().as_ref().to_vec();
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            mint(
                &rs("rsa-1"),
                &with(claims(), "exp", json!(secs() - 3600)),
                &rsa,
            ),
        ),
        (
            "wrong_audience",
            mint(&rs("rsa-1"), &with(claims(), "aud", json!("other")), &rsa),
        ),
        (
            "wrong_issuer",
            mint(
                &rs("rsa-1"),
                &with(claims(), "iss", json!("https://evil.test")),
                &rsa,
            ),
        ),
        ("unknown_kid", mint(&rs("rsa-9"), &claims(), &rsa)),
        (
            "alg_not_allowed",
            mint(
                &json!({"alg": "none", "kid": "rsa-1"}),
                &claims(),
                &Signer::Unsigned,
            ),
        ),
        (
            "alg_not_allowed",
            mint(
                &json!({"alg": "HS256", "kid": "rsa-1"}),
                &claims(),
                &Signer::Hmac(&der),
            ),
        ),
        (
            "bad_signature",
            mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&k.rsa_next)),
        ),
        // `+` is b64token but not base64url: the validator refuses it.
        ("malformed", "eyJ+bGci.eyJzdWIi.c2ln".to_owned()),
    ];
    for (tag, token) in cases {
        let (reason, detail) = refused_with(&token, "alice");
        assert_eq!(reason, FailureReason::TokenRejected, "{tag}");
        assert!(detail.starts_with(tag), "{tag}: {detail}");
    }
}

#[test]
fn authzid_must_be_the_tokens_principal() {
    let (reason, detail) = refused_with(&token_for("alice"), "mallory");
    assert_eq!(reason, FailureReason::AuthzidMismatch);
    assert!(detail.contains("alice"), "{detail}");
}

#[test]
fn oversized_message_is_a_protocol_error() {
    let t0 = Instant::now();
    // A token an identity provider might issue (4 KiB: past the 1 KiB
    // bound of CRAM-MD5 messages) is read and accepted.
    let large = with(claims(), "groups", json!("g".repeat(3000)));
    let token = mint(&rs("rsa-1"), &large, &Signer::Rsa(&keys().rsa));
    assert!(token.len() > 4 * MAX_MESSAGE_LEN);
    let mut s = server(both(), t0);
    let mut c = Authenticatee::oauthbearer(p("alice"), &Secret::new(token.as_bytes())).unwrap();
    run(&mut s, &mut c, t0);
    assert!(matches!(s.status(), Status::Completed(ref who) if who.as_str() == "alice"));

    // Past the OAUTHBEARER bound (16 KiB) the message is refused unread.
    let big = with(claims(), "pad", json!("x".repeat(16 * 1024)));
    let token = mint(&rs("rsa-1"), &big, &Signer::Rsa(&keys().rsa));
    let mut s = server(both(), t0);
    let mut c = Authenticatee::oauthbearer(p("alice"), &Secret::new(token.as_bytes())).unwrap();
    let sent = run(&mut s, &mut c, t0);
    assert!(matches!(&sent[..], [ServerMessage::Error(e)] if e.contains("exceeds the limit")));
    assert!(matches!(
        s.status(),
        Status::Error(SaslError::Peer(PeerMisbehaved::TooLong { .. }))
    ));
}

#[test]
fn malformed_messages_are_clear_protocol_errors() {
    let t0 = Instant::now();
    let token = token_for("alice");
    for (data, want) in [
        (
            format!("x,,\x01auth=Bearer {token}\x01\x01"),
            "must start with `n,` or `y,`",
        ),
        (
            format!("p=tls-unique,,\x01auth=Bearer {token}\x01\x01"),
            "channel binding",
        ),
        (
            format!("n,,\x01auth=Bearer {token}\x01"),
            "must end with 0x01 0x01",
        ),
        (
            format!("n,a=al=ice,\x01auth=Bearer {token}\x01\x01"),
            "`=2C` or `=3D`",
        ),
        ("n,,\x01auth=Bearer ***\x01\x01".to_owned(), "b64token"),
        ("n,,\x01host=h\x01\x01".to_owned(), "`auth` key is missing"),
    ] {
        let mut s = server(both(), t0);
        s.poll_output();
        let err = s
            .handle_start(t0, "OAUTHBEARER", data.as_bytes())
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(want), "{text}");
        assert!(!text.contains(&token[..16]), "message echoes the token");
        assert!(matches!(s.poll_output(), Some(ServerMessage::Error(e)) if e == text));
    }
}

#[test]
fn initial_response_may_come_in_the_first_step() {
    let t0 = Instant::now();
    let mut s = server(both(), t0);
    s.poll_output();
    s.handle_start(t0, "OAUTHBEARER", b"").unwrap();
    assert_eq!(
        s.poll_output(),
        Some(ServerMessage::Step(Vec::new().into()))
    );
    let msg = format!(
        "y,,\x01host=m1\x01port=5050\x01auth=bearer {}\x01\x01",
        token_for("alice")
    );
    s.handle_step(t0, msg.as_bytes()).unwrap();
    assert_eq!(s.status(), Status::Completed(p("alice")));
}

#[test]
fn error_exchange_needs_the_clients_kvsep() {
    let t0 = Instant::now();
    let mut s = server(both(), t0);
    s.poll_output();
    let bad = mint(&rs("rsa-9"), &claims(), &Signer::Rsa(&keys().rsa));
    s.handle_start(
        t0,
        "OAUTHBEARER",
        format!("n,,\x01auth=Bearer {bad}\x01\x01").as_bytes(),
    )
    .unwrap();
    assert_eq!(
        s.poll_output(),
        Some(ServerMessage::Step(ERROR_DOC.to_vec().into()))
    );
    let err = s.handle_step(t0, b"again").unwrap_err();
    assert!(err.to_string().contains("must send 0x01"), "{err}");
}

#[test]
fn wall_clock_is_needed_for_tokens() {
    // `new` takes the epoch as wall time: every token is not yet valid.
    let t0 = Instant::now();
    let mut s = Authenticator::new(cram_store(), both(), &mut Fixed, t0);
    let mut c = Authenticatee::oauthbearer(p("alice"), &Secret::new(token_for("alice").as_bytes()))
        .unwrap();
    run(&mut s, &mut c, t0);
    assert_eq!(s.status(), Status::Failed);
    let ev = s.poll_event().unwrap();
    assert!(ev.detail.unwrap().starts_with("not_yet_valid"));
    // Later messages add monotonic time to the wall clock: an exchange
    // that starts 10 min before expiry and answers 12 min later (past the leeway) is refused.
    let mut c = Authenticatee::oauthbearer(p("alice"), &Secret::new(token_for("alice").as_bytes()))
        .unwrap();
    let late = t0 + Duration::from_secs(720);
    let s_cfg = both().timeout(Duration::from_secs(3600));
    let mut s2 = server(s_cfg, t0);
    run(&mut s2, &mut c, late);
    assert_eq!(s2.status(), Status::Failed);
    assert!(
        s2.poll_event()
            .unwrap()
            .detail
            .unwrap()
            .starts_with("expired")
    );
}

#[test]
fn negotiation_client_picks_its_mechanism() {
    let t0 = Instant::now();
    // A CRAM-MD5 client against a server offering both: CRAM-MD5.
    let mut s = server(both(), t0);
    let mut c = Authenticatee::new(p("tim"), &Secret::new(b"tanstaaf")).unwrap();
    run(&mut s, &mut c, t0);
    assert_eq!(s.status(), Status::Completed(p("tim")));
    assert_eq!(s.poll_event().unwrap().mechanism, "CRAM-MD5");
    // A mechanism nobody offers: a protocol error.
    let mut s = server(both(), t0);
    s.poll_output();
    let err = s.handle_start(t0, "PLAIN", b"").unwrap_err();
    assert_eq!(err, SaslError::Peer(PeerMisbehaved::UnsupportedMechanism));
    // CRAM-MD5 turned off: not offered, and refused if started anyway.
    let cfg = both().cram_md5(false);
    assert_eq!(cfg.mechanisms(), ["OAUTHBEARER"]);
    let mut s = server(cfg, t0);
    assert_eq!(
        s.poll_output(),
        Some(ServerMessage::Mechanisms(["OAUTHBEARER"].into()))
    );
    let err = s.handle_start(t0, "CRAM-MD5", b"").unwrap_err();
    assert_eq!(err, SaslError::Peer(PeerMisbehaved::UnsupportedMechanism));
    // Nothing enabled: the session is over before it starts.
    let mut s = server(AuthenticatorConfig::new().cram_md5(false), t0);
    assert!(
        matches!(s.poll_output(), Some(ServerMessage::Error(e)) if e.contains("no SASL mechanism"))
    );
    assert_eq!(
        s.status(),
        Status::Error(SaslError::Misuse(ApiMisuse::NoMechanism))
    );
}

#[test]
fn oauthbearer_client_refuses_downgrade_to_cram_md5() {
    let t0 = Instant::now();
    let mut s = server(AuthenticatorConfig::new(), t0);
    let mut c = Authenticatee::oauthbearer(p("alice"), &Secret::new(token_for("alice").as_bytes()))
        .unwrap();
    let Some(offer) = s.poll_output() else {
        panic!()
    };
    assert_eq!(offer, ServerMessage::Mechanisms(["CRAM-MD5"].into()));
    let err = c.handle_message(offer).unwrap_err();
    assert_eq!(
        err,
        SaslError::Peer(PeerMisbehaved::MechanismNotOffered("OAUTHBEARER"))
    );
    assert!(err.to_string().contains("will not fall back"), "{err}");
    assert_eq!(c.status(), Status::Failed, "final: no retry");
    assert_eq!(c.poll_output(), None, "nothing sent to the server");
    let ev = c.poll_event().unwrap();
    assert_eq!(
        (ev.result, ev.reason),
        (AuthResult::Failed, Some(FailureReason::MechanismNotOffered))
    );
    // The CRAM-MD5 client still treats a missing CRAM-MD5 as before.
    let mut c = Authenticatee::new(p("tim"), &Secret::new(b"tanstaaf")).unwrap();
    let err = c
        .handle_message(ServerMessage::Mechanisms(["OAUTHBEARER"].into()))
        .unwrap_err();
    assert_eq!(err, SaslError::Peer(PeerMisbehaved::NoCramMd5));
}

#[test]
fn client_is_strict_about_the_server() {
    let tok = Secret::new(token_for("alice").as_bytes());
    let offer = || ServerMessage::Mechanisms(["OAUTHBEARER"].into());
    // Completed after the error document: an error, not a success.
    let mut c = Authenticatee::oauthbearer(p("alice"), &tok).unwrap();
    c.handle_message(offer()).unwrap();
    c.poll_output();
    c.handle_message(ServerMessage::Step(ERROR_DOC.to_vec().into()))
        .unwrap();
    assert_eq!(c.poll_output(), Some(ClientMessage::Step(vec![1])));
    let err = c.handle_message(ServerMessage::Completed).unwrap_err();
    assert_eq!(err, SaslError::Peer(PeerMisbehaved::UnexpectedCompleted));
    // A challenge that is not an error document.
    let mut c = Authenticatee::oauthbearer(p("alice"), &tok).unwrap();
    c.handle_message(offer()).unwrap();
    let err = c
        .handle_message(ServerMessage::Step(b"<1.2@host>".to_vec().into()))
        .unwrap_err();
    assert!(err.to_string().contains("not an error document"), "{err}");
    // Completed before anything was sent.
    let mut c = Authenticatee::oauthbearer(p("alice"), &tok).unwrap();
    let err = c.handle_message(ServerMessage::Completed).unwrap_err();
    assert_eq!(err, SaslError::Peer(PeerMisbehaved::UnexpectedCompleted));
    // Unusable tokens are the caller's error, and not quoted.
    for bad in [&b""[..], b"a b", b"tok\n"] {
        let err = Authenticatee::oauthbearer(p("alice"), &Secret::new(bad)).unwrap_err();
        assert!(
            matches!(err, SaslError::Misuse(ApiMisuse::BadToken(_))),
            "{err}"
        );
    }
}

// ---- TokenSource ----

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mesos-auth-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn jwt_expiring(exp: i64) -> String {
    mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(exp)),
        &Signer::Rsa(&keys().rsa),
    )
}

#[test]
fn token_file_is_cached_until_shortly_before_expiry() {
    let path = tmp("refresh");
    let first = jwt_expiring(secs() + 600);
    std::fs::write(&path, format!("{first}\n")).unwrap();
    let mut src = TokenSource::file(&path).refresh_before(Duration::from_secs(60));
    assert!(src.token(now()).unwrap().verify(first.as_bytes()));
    let refresh_at = src.refresh_at().unwrap();
    assert_eq!(refresh_at, now() + Duration::from_secs(540));
    // A rotated file is not read before the refresh time ...
    let second = jwt_expiring(secs() + 1200);
    std::fs::write(&path, &second).unwrap();
    assert!(
        src.token(refresh_at - Duration::from_secs(1))
            .unwrap()
            .verify(first.as_bytes())
    );
    // ... and is from then on.
    assert!(src.token(refresh_at).unwrap().verify(second.as_bytes()));
    // An opaque token has no known expiry: read every time.
    std::fs::write(&path, "opaque-token").unwrap();
    src.invalidate();
    assert!(src.token(now()).unwrap().verify(b"opaque-token"));
    std::fs::write(&path, "opaque-2").unwrap();
    assert!(src.token(now()).unwrap().verify(b"opaque-2"));
    assert_eq!(src.refresh_at(), None);
}

#[test]
fn token_sources_fail_clearly_without_quoting() {
    let path = tmp("bad");
    std::fs::write(&path, "two words-secretish").unwrap();
    let err = TokenSource::file(&path).token(now()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, TokenSourceError::Invalid { .. }), "{text}");
    assert!(
        text.contains("b64token") && !text.contains("secretish"),
        "{text}"
    );
    std::fs::write(&path, "\n").unwrap();
    assert!(
        TokenSource::file(&path)
            .token(now())
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    std::fs::write(&path, "a".repeat(17 * 1024)).unwrap();
    assert!(
        TokenSource::file(&path)
            .token(now())
            .unwrap_err()
            .to_string()
            .contains("16 KiB")
    );
    let missing = tmp("missing");
    let err = TokenSource::file(&missing).token(now()).unwrap_err();
    assert!(matches!(err, TokenSourceError::Read { .. }));
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn token_command_output_and_failures() {
    let token = jwt_expiring(secs() + 600);
    let mut src = TokenSource::command(
        "sh",
        ["-c", &format!("printf '%s\\n' {token}; echo noise >&2")],
    );
    assert!(src.token(now()).unwrap().verify(token.as_bytes()));
    let err = TokenSource::command("sh", ["-c", "echo secretish; exit 3"])
        .token(now())
        .unwrap_err();
    assert!(matches!(err, TokenSourceError::Command { .. }));
    assert!(err.to_string().contains("exit status: 3") && !err.to_string().contains("secretish"));
    let err = TokenSource::command("/nonexistent/get-token", Vec::<String>::new())
        .token(now())
        .unwrap_err();
    assert!(err.to_string().contains("cannot start"), "{err}");
    let started = Instant::now();
    let err = TokenSource::command("sleep", ["5"])
        .timeout(Duration::from_millis(200))
        .token(now())
        .unwrap_err();
    assert!(err.to_string().contains("no exit within"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

// ---- the CLI's negotiated line protocol ----

/// Runs `mesos-auth sasl server` and `sasl client` joined by pipes; returns
/// their exit codes and stderr.
#[cfg(feature = "cli")]
fn cli_pair(server_args: &[&str], client_args: &[&str]) -> (i32, i32, String) {
    use std::process::{Command, Stdio};
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mesos-auth"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut server = spawn(server_args);
    let mut client = spawn(client_args);
    let (mut s_out, mut s_in) = (server.stdout.take().unwrap(), server.stdin.take().unwrap());
    let (mut c_out, mut c_in) = (client.stdout.take().unwrap(), client.stdin.take().unwrap());
    // Copies line by line, keeping a transcript for the failure message.
    let pump = |from: &mut dyn std::io::Read, to: &mut dyn std::io::Write| {
        use std::io::BufRead;
        let mut seen = String::new();
        for line in std::io::BufReader::new(from).lines().map_while(Result::ok) {
            seen.push_str(&line[..line.len().min(60)]);
            seen.push('\n');
            if writeln!(to, "{line}").and_then(|()| to.flush()).is_err() {
                break;
            }
        }
        seen
    };
    let a = std::thread::spawn(move || pump(&mut s_out, &mut c_in));
    let b = std::thread::spawn(move || pump(&mut c_out, &mut s_in));
    let s = server.wait_with_output().unwrap();
    let c = client.wait_with_output().unwrap();
    let (sa, sb) = (a.join().unwrap(), b.join().unwrap());
    let log = format!(
        "{}{}server said:\n{sa}client said:\n{sb}",
        String::from_utf8_lossy(&s.stderr),
        String::from_utf8_lossy(&c.stderr)
    );
    (s.status.code().unwrap(), c.status.code().unwrap(), log)
}

#[cfg(feature = "cli")]
#[test]
fn cli_negotiates_oauthbearer_and_refuses_downgrade() {
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let live = with(
        with(claims(), "exp", json!(real + 600)),
        "nbf",
        json!(real - 60),
    );
    let good = mint(&rs("rsa-1"), &live, &Signer::Rsa(&keys().rsa));
    let stale = mint(
        &rs("rsa-1"),
        &with(live, "exp", json!(real - 600)),
        &Signer::Rsa(&keys().rsa),
    );
    let jwks = tmp("jwks.json");
    std::fs::write(&jwks, super::bearer::standard_jwks()).unwrap();
    let good_file = tmp("good.jwt");
    std::fs::write(&good_file, &good).unwrap();
    let creds = tmp("creds");
    std::fs::write(&creds, "tim\ttanstaaf\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (jwks, good_file, creds) = (
        jwks.to_str().unwrap().to_owned(),
        good_file.to_str().unwrap().to_owned(),
        creds.to_str().unwrap().to_owned(),
    );
    let server = [
        "sasl",
        "server",
        "--mechanisms",
        "OAUTHBEARER,CRAM-MD5",
        "--credentials",
        &creds,
        "--jwks",
        &jwks,
        "--issuer",
        "https://idp.test",
        "--audience",
        "mesos-master",
    ];
    // A token from a file: accepted.
    let (s, c, log) = cli_pair(
        &server,
        &[
            "sasl",
            "client",
            "--mechanism",
            "OAUTHBEARER",
            "--principal",
            "alice",
            "--token-file",
            &good_file,
        ],
    );
    assert_eq!((s, c), (0, 0), "{log}");
    // A token from a command: expired, refused through the error exchange.
    let cmd = format!("echo {stale}");
    let (s, c, log) = cli_pair(
        &server,
        &[
            "sasl",
            "client",
            "--mechanism",
            "OAUTHBEARER",
            "--principal",
            "alice",
            "--token-command",
            &cmd,
        ],
    );
    assert_eq!((s, c), (1, 1), "{log}");
    assert!(log.contains("\"detail\":\"expired"), "{log}");
    assert!(!log.contains(&good[good.len() - 30..]) && !log.contains(&stale[stale.len() - 30..]));
    // A CRAM-MD5-only server: the OAUTHBEARER client will not fall back.
    let (s, c, log) = cli_pair(
        &[
            "sasl",
            "server",
            "--mechanisms",
            "CRAM-MD5",
            "--credentials",
            &creds,
        ],
        &[
            "sasl",
            "client",
            "--mechanism",
            "OAUTHBEARER",
            "--principal",
            "alice",
            "--token-file",
            &good_file,
        ],
    );
    assert_eq!((s, c), (1, 1), "{log}");
    assert!(log.contains("will not fall back"), "{log}");
}
