//! SASL OAUTHBEARER (RFC 7628) with the provider's token: the client reads
//! it from a token file (`TokenSource::file`), the server checks it with a
//! validator built from the provider's discovered JWKS.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesos_auth::audit::Event as _;
use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::sasl::{
    AuthResult, Authenticatee, Authenticator, AuthenticatorConfig, FailureReason, NonceSource,
    ServerMessage, Status, TokenSource,
};
use mesos_auth::{Principal, Secret};

use super::provider::{self, CLIENT_ID, MASTER, OTHER, Options, Provider, claims, validator};

struct Fixed;

impl NonceSource for Fixed {
    fn nonce(&mut self) -> [u8; 16] {
        [7; 16]
    }
}

/// Shuttles messages until both sides are quiet.
fn run(server: &mut Authenticator, client: &mut Authenticatee, t: Instant) -> Vec<ServerMessage> {
    let mut sent = Vec::new();
    loop {
        let mut moved = false;
        while let Some(m) = server.poll_output() {
            sent.push(m.clone());
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

fn p(s: &str) -> Principal {
    Principal::new(s).unwrap()
}

#[test]
fn oauthbearer_pair_authenticates_with_the_providers_token() {
    if !provider::available() {
        return;
    }
    let idp = Provider::start(&Options::default());
    let v = Arc::new(validator(&idp.discover().issuer, &idp.jwks(), MASTER));
    // CRAM-MD5 stays on, as on a master serving both kinds of clients.
    let store = Arc::new(
        CredentialStore::from_credentials([Credential::plain(p("tim"), Secret::new(b"tanstaaf"))])
            .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");

    let token = idp.token(MASTER);
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let mut source = TokenSource::file(&file);
    let now = SystemTime::now();
    let secret = source.token(now).unwrap();
    assert!(secret.verify(token.as_bytes()));
    // The source read the real token's `exp`: refetch a minute before it.
    let exp = claims(&token)["exp"].as_u64().unwrap();
    assert_eq!(
        source.refresh_at(),
        Some(UNIX_EPOCH + Duration::from_secs(exp - 60))
    );

    let t0 = Instant::now();
    let config = AuthenticatorConfig::new().oauthbearer(Arc::clone(&v));
    let mut server =
        Authenticator::with_wall_clock(Arc::clone(&store), config, &mut Fixed, t0, now);
    let mut client = Authenticatee::oauthbearer(p(CLIENT_ID), &secret).unwrap();
    run(&mut server, &mut client, t0);
    assert_eq!(server.status(), Status::Completed(p(CLIENT_ID)));
    assert_eq!(client.status(), Status::Completed(p(CLIENT_ID)));
    let ev = server.poll_event().unwrap();
    assert_eq!(
        (ev.mechanism, ev.result, ev.principal.as_deref()),
        ("OAUTHBEARER", AuthResult::Completed, Some(CLIENT_ID))
    );
    let line = ev.to_json().to_string();
    for part in token.split('.') {
        assert!(
            !line.contains(part),
            "token part in the audit event: {line}"
        );
    }

    // A token the provider issued for another service, rotated into the
    // same file: refused, the peer told only `invalid_token`.
    let other = idp.token(OTHER);
    std::fs::write(&file, &other).unwrap();
    source.invalidate();
    let secret = source.token(now).unwrap();
    let config = AuthenticatorConfig::new().oauthbearer(v);
    let mut server = Authenticator::with_wall_clock(store, config, &mut Fixed, t0, now);
    let mut client = Authenticatee::oauthbearer(p(CLIENT_ID), &secret).unwrap();
    let sent = run(&mut server, &mut client, t0);
    assert_eq!(
        &sent[1..],
        [
            ServerMessage::Step(br#"{"status":"invalid_token"}"#.to_vec().into()),
            ServerMessage::Failed
        ]
    );
    assert_eq!(server.status(), Status::Failed);
    let ev = server.poll_event().unwrap();
    assert_eq!(ev.reason, Some(FailureReason::TokenRejected));
    let detail = ev.detail.unwrap();
    assert!(detail.starts_with("wrong_audience"), "{detail}");
}
