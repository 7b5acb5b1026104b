//! Integration tests for `mesos_auth::sasl::rsasl` (feature `rsasl`): rsasl
//! clients and servers in process, against each other and against the
//! crate's own state machines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions"
)]

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use mesos_auth::audit::MemorySink;
use mesos_auth::credentials::{Credential, CredentialStore, ScramSha256Keys, StoredSecret};
use mesos_auth::sasl::rsasl::{
    AuthenticationFailed, CRAM_MD5, MECHANISMS, PlaintextScram, PrincipalValidation,
    ServerCallback, client_config,
};
use mesos_auth::sasl::{
    AuthEvent, AuthResult, Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage,
    FailureReason, ServerMessage, Status,
};
use mesos_auth::{Principal, Secret};
use rsasl::callback::{Context, Request, SessionCallback, SessionData};
use rsasl::prelude::{
    Mechname, MessageSent, SASLClient, SASLConfig, SASLError, SASLServer, Session, SessionError,
    State,
};
use rsasl::property::{AuthId, AuthzId, Password};
use rsasl::registry::Registry;
use rsasl::validate::NoValidation;

static CRAM_MD5_ONLY: &[rsasl::registry::Mechanism] = &[CRAM_MD5];

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn p(s: &str) -> Principal {
    Principal::new(s).unwrap()
}

fn scram(password: &[u8], salt: &[u8], iterations: u32) -> StoredSecret {
    StoredSecret::ScramSha256(
        ScramSha256Keys::derive(&Secret::new(password), salt, iterations).unwrap(),
    )
}

/// tim: plaintext; sam: SCRAM keys (RFC 7677's salt and count); carl:
/// CRAM-MD5 states only.
fn store() -> Arc<CredentialStore> {
    let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let carl = {
        // `{CRAM-MD5}` form, via the store's own conversion.
        let c = Credential::plain(p("carl"), Secret::new(b"carl-secret"));
        c.convert(mesos_auth::credentials::Scheme::CramMd5State, 4096)
            .unwrap()
    };
    Arc::new(
        CredentialStore::from_credentials([
            Credential::plain(p("tim"), Secret::new(b"tanstaaftanstaaf")),
            Credential::new(p("sam"), scram(b"pencil", &salt, 4096)),
            carl,
        ])
        .unwrap(),
    )
}

struct Server {
    config: Arc<SASLConfig>,
    audit: Arc<MemorySink>,
}

fn server_with(callback: impl FnOnce(ServerCallback) -> ServerCallback) -> Server {
    let audit = Arc::new(MemorySink::new());
    let config = callback(ServerCallback::new(store()).audit(audit.clone()))
        .config()
        .unwrap();
    Server { config, audit }
}

fn server() -> Server {
    server_with(|c| c)
}

impl Server {
    fn start(&self, mechanism: &str) -> Session<PrincipalValidation> {
        SASLServer::<PrincipalValidation>::new(self.config.clone())
            .start_suggested(Mechname::parse(mechanism.as_bytes()).unwrap())
            .unwrap()
    }

    /// The SASL audit events recorded so far.
    fn events(&self) -> Vec<AuthEvent> {
        self.audit
            .take()
            .into_iter()
            .map(|e| match e.downcast_ref::<AuthEvent>() {
                Some(e) => e.clone(),
                None => panic!("unexpected event {e:?}"),
            })
            .collect()
    }
}

fn client(principal: &str, secret: &[u8], offered: &[&str]) -> Session<NoValidation> {
    let config = client_config(p(principal), Secret::new(secret)).unwrap();
    let offered: Vec<&Mechname> = offered
        .iter()
        .map(|m| Mechname::parse(m.as_bytes()).unwrap())
        .collect();
    SASLClient::new(config).start_suggested(&offered).unwrap()
}

fn step(
    session: &mut Session<impl rsasl::validate::Validation>,
    input: Option<&[u8]>,
) -> (Result<State, SessionError>, Vec<u8>) {
    let mut out = Vec::new();
    let r = session.step(input, &mut out);
    (r, out)
}

/// CRAM-MD5, rsasl client against rsasl server: the server's final result
/// and validation.
fn cram_md5(
    server: &Server,
    principal: &str,
    secret: &[u8],
) -> (Result<State, SessionError>, Option<Principal>) {
    let mut c = client(principal, secret, &["CRAM-MD5"]);
    assert_eq!(c.get_mechname().as_str(), "CRAM-MD5");
    assert!(!c.are_we_first());
    let mut s = server.start("CRAM-MD5");
    assert!(s.are_we_first());
    let (r, challenge) = step(&mut s, None);
    assert_eq!(r.unwrap(), State::Running);
    // The `<random.time@host>` shape, 128 random bits in two decimal fields.
    assert!(challenge.starts_with(b"<") && challenge.ends_with(b"@localhost>"));
    let (r, response) = step(&mut c, Some(&challenge));
    assert_eq!(r.unwrap(), State::Finished(MessageSent::Yes));
    assert!(response.starts_with(format!("{principal} ").as_bytes()));
    let (r, out) = step(&mut s, Some(&response));
    assert!(out.is_empty());
    (r, s.validation())
}

fn mechanism_error(r: Result<State, SessionError>) -> String {
    match r {
        Err(e @ SessionError::MechanismError(_)) => e.to_string(),
        other => panic!("expected a mechanism error, got {other:?}"),
    }
}

#[test]
fn cram_md5_rsasl_client_and_server() {
    let server = server();
    let (r, who) = cram_md5(&server, "tim", b"tanstaaftanstaaf");
    assert_eq!(r.unwrap(), State::Finished(MessageSent::No));
    assert_eq!(who, Some(p("tim")));
    // A `{CRAM-MD5}` stored credential works the same.
    let (r, who) = cram_md5(&server, "carl", b"carl-secret");
    assert!(r.is_ok());
    assert_eq!(who, Some(p("carl")));
    let events = server.events();
    assert_eq!(events.len(), 2);
    for (e, name) in events.iter().zip(["tim", "carl"]) {
        assert_eq!(e.mechanism, "CRAM-MD5");
        assert_eq!(e.result, AuthResult::Completed);
        assert_eq!(e.principal.as_deref(), Some(name));
    }
}

#[test]
fn cram_md5_failures_look_the_same_to_the_peer() {
    let server = server();
    let (wrong, who) = cram_md5(&server, "tim", b"wrong-secret");
    assert_eq!(who, None);
    let (unknown, who2) = cram_md5(&server, "nobody", b"tanstaaftanstaaf");
    assert_eq!(who2, None);
    // SCRAM-only principal: no CRAM-MD5 secret, same failure.
    let (scram_only, who3) = cram_md5(&server, "sam", b"pencil");
    assert_eq!(who3, None);
    let expected = SessionError::from(AuthenticationFailed).to_string();
    for r in [wrong, unknown, scram_only] {
        assert_eq!(mechanism_error(r), expected);
    }
    // The reasons are only in the audit log.
    let reasons: Vec<_> = server
        .events()
        .iter()
        .map(|e| (e.result, e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (AuthResult::Failed, Some(FailureReason::BadDigest)),
            (AuthResult::Failed, Some(FailureReason::UnknownPrincipal)),
            (AuthResult::Failed, Some(FailureReason::NoCramMd5Secret)),
        ]
    );
}

#[test]
fn cram_md5_server_applies_the_same_validation_rules() {
    let server = server();
    let challenge_and_session = || {
        let mut s = server.start("CRAM-MD5");
        let (r, challenge) = step(&mut s, None);
        r.unwrap();
        (s, challenge)
    };
    let digest = |challenge: &[u8]| {
        let resp = mesos_auth::internal::cram_md5_response("tim", b"tanstaaftanstaaf", challenge);
        String::from_utf8(resp[4..].to_vec()).unwrap()
    };
    let failed = SessionError::from(AuthenticationFailed).to_string();

    // Uppercase hex is malformed: the same uniform failure.
    let (mut s, challenge) = challenge_and_session();
    let upper = format!("tim {}", digest(&challenge).to_uppercase());
    assert_eq!(
        mechanism_error(step(&mut s, Some(upper.as_bytes())).0),
        failed
    );
    // A trailing space is not trimmed: split at it, the name is then
    // `tim <digest>`, which nobody is.
    let (mut s, challenge) = challenge_and_session();
    let spaced = format!("tim {} ", digest(&challenge));
    assert_eq!(
        mechanism_error(step(&mut s, Some(spaced.as_bytes())).0),
        failed
    );
    // Split at the last space: a name with spaces is looked up whole.
    let (mut s, challenge) = challenge_and_session();
    let two = format!("tim tim {}", digest(&challenge));
    assert_eq!(
        mechanism_error(step(&mut s, Some(two.as_bytes())).0),
        failed
    );
    // Over 1,024 bytes: refused as a protocol error, before any look-up.
    let (mut s, _) = challenge_and_session();
    let long = format!("tim {}", "a".repeat(1024));
    let e = mechanism_error(step(&mut s, Some(long.as_bytes())).0);
    assert_ne!(e, failed);
    assert!(e.contains("exceeds the limit of 1024 bytes"), "{e}");
    // Initial data with the start is refused (CRAM-MD5 is server-first).
    let mut s = server.start("CRAM-MD5");
    let e = mechanism_error(step(&mut s, Some(b"tim 0123")).0);
    assert!(e.contains("initial data"), "{e}");

    let reasons: Vec<_> = server
        .events()
        .iter()
        .map(|e| (e.result, e.reason))
        .collect();
    assert_eq!(
        reasons[..3],
        [
            (AuthResult::Failed, Some(FailureReason::MalformedDigest)),
            (AuthResult::Failed, Some(FailureReason::UnknownPrincipal)),
            (AuthResult::Failed, Some(FailureReason::UnknownPrincipal)),
        ]
    );
    assert!(reasons[3..].iter().all(|(r, _)| *r == AuthResult::Error));
}

#[test]
fn cram_md5_challenges_are_fresh() {
    let server = server();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let mut s = server.start("CRAM-MD5");
        let (r, challenge) = step(&mut s, None);
        r.unwrap();
        assert!(seen.insert(challenge));
    }
}

#[test]
fn cram_md5_server_step_without_response_keeps_waiting() {
    let server = server();
    let mut s = server.start("CRAM-MD5");
    let (_, challenge) = step(&mut s, None);
    assert!(matches!(
        step(&mut s, None).0,
        Err(SessionError::InputDataRequired)
    ));
    let response = mesos_auth::internal::cram_md5_response("tim", b"tanstaaftanstaaf", &challenge);
    assert!(step(&mut s, Some(&response)).0.is_ok());
    assert_eq!(s.validation(), Some(p("tim")));
    assert!(matches!(
        step(&mut s, Some(b"x")).0,
        Err(SessionError::MechanismDone)
    ));
}

#[test]
fn cram_md5_client_checks_the_challenge() {
    // No challenge yet: the client waits (rsasl's rule), state unchanged.
    let mut c = client("tim", b"tanstaaftanstaaf", &["CRAM-MD5"]);
    assert!(matches!(
        step(&mut c, None).0,
        Err(SessionError::InputDataRequired)
    ));
    let (r, response) = step(&mut c, Some(b"<1896.697170952@postoffice.reston.mci.net>"));
    assert!(r.is_ok());
    // RFC 2195's example, answered by the client session.
    assert_eq!(response, b"tim b913a602c7eda7a495b4e6e7334d3890");
    // An empty challenge and an oversized one are errors.
    let mut c = client("tim", b"tanstaaftanstaaf", &["CRAM-MD5"]);
    let e = mechanism_error(step(&mut c, Some(b"")).0);
    assert!(e.contains("empty challenge"), "{e}");
    let mut c = client("tim", b"tanstaaftanstaaf", &["CRAM-MD5"]);
    let e = mechanism_error(step(&mut c, Some(&[b'<'; 1025])).0);
    assert!(e.contains("exceeds the limit"), "{e}");
    // An empty secret is refused before anything is sent.
    let mut c = client("tim", b"", &["CRAM-MD5"]);
    let (r, out) = step(&mut c, Some(b"<1.2@h>"));
    assert!(mechanism_error(r).contains("secret is empty"));
    assert!(out.is_empty());
}

#[test]
fn rsasl_cram_md5_server_against_our_authenticatee() {
    let server = server();
    let mut s = server.start("CRAM-MD5");
    let (_, challenge) = step(&mut s, None);
    let mut c = Authenticatee::new(p("tim"), &Secret::new(b"tanstaaftanstaaf")).unwrap();
    c.handle_message(ServerMessage::Mechanisms(["CRAM-MD5"].into()))
        .unwrap();
    assert!(matches!(c.poll_output(), Some(ClientMessage::Start { .. })));
    c.handle_message(ServerMessage::Step(challenge.into()))
        .unwrap();
    let Some(ClientMessage::Step(response)) = c.poll_output() else {
        panic!("no response")
    };
    assert!(step(&mut s, Some(&response)).0.is_ok());
    assert_eq!(s.validation(), Some(p("tim")));
}

#[test]
fn our_authenticator_against_rsasl_cram_md5_client() {
    for (secret, ok) in [(&b"tanstaaftanstaaf"[..], true), (b"wrong", false)] {
        let now = Instant::now();
        let mut a = Authenticator::new(
            store(),
            AuthenticatorConfig::new(),
            &mut mesos_auth::sasl::default_nonce_source().unwrap(),
            now,
        );
        assert_eq!(
            a.poll_output(),
            Some(ServerMessage::Mechanisms(["CRAM-MD5"].into()))
        );
        a.handle_start(now, "CRAM-MD5", b"").unwrap();
        let Some(ServerMessage::Step(challenge)) = a.poll_output() else {
            panic!("no challenge")
        };
        let mut c = client("tim", secret, &["CRAM-MD5"]);
        let (r, response) = step(&mut c, Some(&challenge));
        r.unwrap();
        a.handle_step(now, &response).unwrap();
        if ok {
            assert_eq!(a.status(), Status::Completed(p("tim")));
        } else {
            assert_eq!(a.status(), Status::Failed);
        }
    }
}

#[test]
fn client_prefers_scram_and_never_downgrades() {
    let c = client("tim", b"x", &["CRAM-MD5", "SCRAM-SHA-256"]);
    assert_eq!(c.get_mechname().as_str(), "SCRAM-SHA-256");
    let c = client("tim", b"x", &["PLAIN", "CRAM-MD5", "LOGIN"]);
    assert_eq!(c.get_mechname().as_str(), "CRAM-MD5");
    let config = client_config(p("tim"), Secret::new(b"x")).unwrap();
    let plain = [Mechname::parse(b"PLAIN").unwrap()];
    assert!(matches!(
        SASLClient::new(config).start_suggested(&plain),
        Err(SASLError::NoSharedMechanism)
    ));
}

#[test]
fn server_offers_scram_and_cram_md5() {
    let server = server();
    let offered: Vec<String> = SASLServer::<PrincipalValidation>::new(server.config.clone())
        .get_available()
        .into_iter()
        .map(|m| m.mechanism.as_str().to_owned())
        .collect();
    assert_eq!(offered, ["SCRAM-SHA-256", "CRAM-MD5"]);
    // A Mesos-only server.
    let cfg = ServerCallback::new(store())
        .config_with(Registry::with_mechanisms(CRAM_MD5_ONLY))
        .unwrap();
    let mut s = SASLServer::<PrincipalValidation>::new(cfg);
    let names: Vec<_> = s
        .get_available()
        .into_iter()
        .map(|m| m.mechanism.as_str())
        .collect();
    assert_eq!(names, ["CRAM-MD5"]);
    s = SASLServer::<PrincipalValidation>::new(server.config.clone());
    assert!(matches!(
        s.start_suggested(Mechname::parse(b"PLAIN").unwrap()),
        Err(SASLError::NoSharedMechanism)
    ));
}

/// What a SCRAM exchange between an rsasl client and server came to.
struct ScramRun {
    /// The server-first message.
    server_first: Vec<u8>,
    /// The server-final message.
    server_final: Vec<u8>,
    /// The client's last step (checks the server's signature).
    client_end: Result<State, SessionError>,
    validation: Option<Principal>,
}

fn scram_with(server: &Server, mut c: Session<NoValidation>) -> ScramRun {
    assert_eq!(c.get_mechname().as_str(), "SCRAM-SHA-256");
    assert!(c.are_we_first());
    let mut s = server.start("SCRAM-SHA-256");
    let (r, client_first) = step(&mut c, None);
    assert_eq!(r.unwrap(), State::Running);
    let (r, server_first) = step(&mut s, Some(&client_first));
    assert_eq!(r.unwrap(), State::Running);
    let (r, client_final) = step(&mut c, Some(&server_first));
    assert_eq!(r.unwrap(), State::Running);
    let (r, server_final) = step(&mut s, Some(&client_final));
    assert_eq!(r.unwrap(), State::Finished(MessageSent::Yes));
    let (client_end, _) = step(&mut c, Some(&server_final));
    ScramRun {
        server_first,
        server_final,
        client_end,
        validation: s.validation(),
    }
}

fn scram_run(server: &Server, principal: &str, password: &[u8]) -> ScramRun {
    scram_with(server, client(principal, password, &["SCRAM-SHA-256"]))
}

#[test]
fn scram_with_stored_keys() {
    let server = server();
    let run = scram_run(&server, "sam", b"pencil");
    assert_eq!(run.validation, Some(p("sam")));
    assert!(run.server_final.starts_with(b"v="));
    // The client checked the server's signature: mutual authentication.
    assert_eq!(run.client_end.unwrap(), State::Finished(MessageSent::No));
    // The store's salt and count went out (RFC 7677's).
    let first = String::from_utf8(run.server_first).unwrap();
    assert!(
        first.contains(",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        "{first}"
    );
    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].mechanism, "SCRAM-SHA-256");
    assert_eq!(events[0].result, AuthResult::Completed);
    assert_eq!(events[0].principal.as_deref(), Some("sam"));
}

#[test]
fn scram_with_plaintext_credential() {
    let server = server();
    let run = scram_run(&server, "tim", b"tanstaaftanstaaf");
    assert_eq!(run.validation, Some(p("tim")));
    assert!(run.client_end.is_ok());
    // Refused by policy: fails like an unknown principal.
    let strict = server_with(|c| c.plaintext_scram(PlaintextScram::Refuse));
    let run = scram_run(&strict, "tim", b"tanstaaftanstaaf");
    assert_eq!(run.validation, None);
    assert_eq!(run.server_final, b"e=invalid-proof");
}

#[test]
fn scram_failures_look_the_same_to_the_peer() {
    let server = server();
    let wrong = scram_run(&server, "sam", b"pencil2");
    let wrong_plain = scram_run(&server, "tim", b"wrong");
    let unknown = scram_run(&server, "nobody", b"pencil");
    let cram_only = scram_run(&server, "carl", b"carl-secret");
    for run in [&wrong, &wrong_plain, &unknown, &cram_only] {
        assert_eq!(run.validation, None);
        assert_eq!(run.server_final, b"e=invalid-proof");
        assert!(run.client_end.is_err());
    }
    let reasons: Vec<_> = server
        .events()
        .iter()
        .map(|e| (e.result, e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (AuthResult::Failed, Some(FailureReason::BadDigest)),
            (AuthResult::Failed, Some(FailureReason::BadDigest)),
            (AuthResult::Failed, Some(FailureReason::UnknownPrincipal)),
            (AuthResult::Failed, Some(FailureReason::UnknownPrincipal)),
        ]
    );
}

/// The `s=...,i=...` part of a server-first message.
fn salt_and_count(server_first: &[u8]) -> String {
    let text = std::str::from_utf8(server_first).unwrap();
    let at = text.find(",s=").unwrap();
    text[at..].to_owned()
}

#[test]
fn scram_does_not_reveal_who_exists() {
    let server = server();
    // An unknown name gets the same salt every time (rsasl's own fallback
    // would draw a new one and say `e=unknown-user`) and the store's
    // iteration count.
    let a = scram_run(&server, "nobody", b"x");
    let b = scram_run(&server, "nobody", b"y");
    assert_eq!(
        salt_and_count(&a.server_first),
        salt_and_count(&b.server_first)
    );
    assert!(salt_and_count(&a.server_first).ends_with(",i=4096"));
    let other = scram_run(&server, "somebody-else", b"x");
    assert_ne!(
        salt_and_count(&a.server_first),
        salt_and_count(&other.server_first)
    );
    // A plaintext principal's derived keys use a salt as stable.
    let t1 = scram_run(&server, "tim", b"x");
    let t2 = scram_run(&server, "tim", b"tanstaaftanstaaf");
    assert_eq!(
        salt_and_count(&t1.server_first),
        salt_and_count(&t2.server_first)
    );
    assert_eq!(t2.validation, Some(p("tim")));
}

/// A client callback that also asks to act for someone else.
struct ProxyClient;

impl SessionCallback for ProxyClient {
    fn callback(
        &self,
        _: &SessionData,
        _: &Context<'_>,
        request: &mut Request<'_>,
    ) -> Result<(), SessionError> {
        request
            .satisfy::<AuthId>("sam")?
            .satisfy::<Password>(b"pencil")?
            .satisfy::<AuthzId>("tim")?;
        Ok(())
    }
}

#[test]
fn scram_refuses_another_authorization_identity() {
    let server = server();
    let config = SASLConfig::builder()
        .with_registry(Registry::with_mechanisms(MECHANISMS))
        .with_callback(ProxyClient)
        .unwrap();
    let offered = [Mechname::parse(b"SCRAM-SHA-256").unwrap()];
    let c = SASLClient::new(config).start_suggested(&offered).unwrap();
    let mut s = server.start("SCRAM-SHA-256");
    let mut c = c;
    let (_, client_first) = step(&mut c, None);
    assert!(client_first.starts_with(b"n,a=tim,") || client_first.starts_with(b"y,a=tim,"));
    let (_, server_first) = step(&mut s, Some(&client_first));
    let (_, client_final) = step(&mut c, Some(&server_first));
    let (r, _) = step(&mut s, Some(&client_final));
    assert!(r.is_err(), "a proxy login must not succeed");
    assert_eq!(s.validation(), None);
    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].result, AuthResult::Error);
}

#[test]
fn scram_against_an_independent_client() {
    // A SCRAM client written out here (RFC 5802 §3 with RFC 7677's user,
    // password and salt), so the server is checked against more than
    // rsasl's own client.
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let hmac = |k: &[u8], m: &[u8]| {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(k).unwrap();
        mac.update(m);
        mac.finalize().into_bytes().to_vec()
    };
    let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(b"pencil", &salt, 4096, &mut salted);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(&client_key);
    let server_key = hmac(&salted, b"Server Key");
    let store = Arc::new(
        CredentialStore::from_credentials([Credential::new(
            p("user"),
            StoredSecret::ScramSha256(
                ScramSha256Keys::new(
                    &salt,
                    4096,
                    stored_key.into(),
                    server_key.clone().try_into().unwrap(),
                )
                .unwrap(),
            ),
        )])
        .unwrap(),
    );
    let config = ServerCallback::new(store).config().unwrap();
    let mut s = SASLServer::<PrincipalValidation>::new(config)
        .start_suggested(Mechname::parse(b"SCRAM-SHA-256").unwrap())
        .unwrap();
    let client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
    let (r, server_first) = step(&mut s, Some(format!("n,,{client_first_bare}").as_bytes()));
    r.unwrap();
    let server_first = String::from_utf8(server_first).unwrap();
    let nonce = server_first
        .strip_prefix("r=")
        .and_then(|r| r.split(',').next())
        .unwrap();
    assert!(nonce.starts_with("rOprNGfwEbeRWgbNEkqO") && nonce.len() > 20);
    let without_proof = format!("c=biws,r={nonce}");
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let signature = hmac(&stored_key, auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(a, b)| a ^ b)
        .collect();
    let client_final = format!("{without_proof},p={}", B64.encode(&proof));
    let (r, server_final) = step(&mut s, Some(client_final.as_bytes()));
    assert_eq!(r.unwrap(), State::Finished(MessageSent::Yes));
    let expected = B64.encode(hmac(&server_key, auth_message.as_bytes()));
    assert_eq!(server_final, format!("v={expected}").as_bytes());
    assert_eq!(s.validation(), Some(p("user")));
}

#[test]
fn cram_md5_only_validates_through_our_callback() {
    // A callback that answers nothing: the CRAM-MD5 server cannot get a
    // store, so it errors instead of completing.
    struct Nothing;
    impl SessionCallback for Nothing {}
    let config = SASLConfig::builder()
        .with_registry(Registry::with_mechanisms(CRAM_MD5_ONLY))
        .with_callback(Nothing)
        .unwrap();
    let mut s = SASLServer::<PrincipalValidation>::new(config)
        .start_suggested(Mechname::parse(b"CRAM-MD5").unwrap())
        .unwrap();
    let (r, out) = step(&mut s, None);
    assert!(r.unwrap_err().is_missing_prop());
    assert!(out.is_empty());
}

/// rsasl 2.3.1's SCRAM parsers index attributes without a length check; the
/// wrapper refuses such messages before they get there.
#[test]
fn scram_short_attributes_are_errors_not_panics() {
    let server = server();
    for bad in [
        &b"n,,n"[..],
        b"n,a,n=x,r=y",
        b"n,,n=x,r",
        b"n,,n=x,r=abc,e",
        b"",
        b"y",
    ] {
        let mut s = server.start("SCRAM-SHA-256");
        let (r, out) = step(&mut s, Some(bad));
        assert!(r.is_err(), "{bad:?}");
        assert!(out.is_empty());
        assert!(matches!(
            step(&mut s, Some(b"n,,n=x,r=y")).0,
            Err(SessionError::MechanismDone)
        ));
    }
    // A short attribute in the client-final message.
    for bad in [
        &b"c"[..],
        b"c=biws,r=x,p",
        b"c=biws,r",
        b"c=biws,r=x,p=abc,x",
    ] {
        let mut s = server.start("SCRAM-SHA-256");
        let (r, _) = step(&mut s, Some(b"n,,n=sam,r=abcdef"));
        r.unwrap();
        assert!(step(&mut s, Some(bad)).0.is_err(), "{bad:?}");
        assert!(matches!(
            step(&mut s, Some(bad)).0,
            Err(SessionError::MechanismDone)
        ));
    }
    let errors = server.events();
    assert_eq!(errors.len(), 10);
    assert!(errors.iter().all(|e| e.result == AuthResult::Error));
    // And on the client side, in the server's messages.
    for bad in [&b"r"[..], b"r=x,s", b""] {
        let mut c = client("sam", b"pencil", &["SCRAM-SHA-256"]);
        step(&mut c, None).0.unwrap();
        assert!(step(&mut c, Some(bad)).0.is_err(), "{bad:?}");
        assert!(matches!(
            step(&mut c, Some(bad)).0,
            Err(SessionError::MechanismDone)
        ));
    }
}

#[test]
fn scram_step_without_input_keeps_the_exchange() {
    // rsasl drops its state on `InputDataRequired`; the wrapper answers it
    // first, so the exchange goes on.
    let server = server();
    let mut c = client("sam", b"pencil", &["SCRAM-SHA-256"]);
    let mut s = server.start("SCRAM-SHA-256");
    assert!(matches!(
        step(&mut s, None).0,
        Err(SessionError::InputDataRequired)
    ));
    let (_, client_first) = step(&mut c, None);
    assert!(matches!(
        step(&mut c, None).0,
        Err(SessionError::InputDataRequired)
    ));
    let (_, server_first) = step(&mut s, Some(&client_first));
    assert!(matches!(
        step(&mut s, None).0,
        Err(SessionError::InputDataRequired)
    ));
    let (_, client_final) = step(&mut c, Some(&server_first));
    let (r, server_final) = step(&mut s, Some(&client_final));
    assert_eq!(r.unwrap(), State::Finished(MessageSent::Yes));
    assert!(step(&mut c, Some(&server_final)).0.is_ok());
    assert_eq!(s.validation(), Some(p("sam")));
}

mod random_input {
    use super::*;
    use proptest::prelude::*;

    /// One step of a session under test.
    type StepFn<'a> = dyn FnMut(Option<&[u8]>) -> Result<State, SessionError> + 'a;

    /// Messages built from SCRAM and CRAM-MD5 pieces, whole and cut short,
    /// so the parsers are reached, not just the first check; sometimes raw
    /// bytes, sometimes no input at all.
    fn message() -> impl Strategy<Value = Option<Vec<u8>>> {
        let field = prop::sample::select(vec![
            "",
            "n",
            "y",
            "p",
            "p=tls-unique",
            "a",
            "a=",
            "a=x",
            "n=",
            "n=x",
            "m",
            "m=x",
            "r",
            "r=",
            "r=abc",
            "c",
            "c=",
            "c=biws",
            "p=",
            "p=AAAA",
            "s",
            "s=AAAA",
            "i",
            "i=1",
            "v",
            "v=AAAA",
            "e",
            "e=x",
            "x",
            "x tim 0123456789abcdef0123456789abcdef",
            "<1.2@h>",
        ]);
        let fields = prop::collection::vec(field, 1..6).prop_map(|f| f.join(",").into_bytes());
        let raw = prop::collection::vec(any::<u8>(), 0..40);
        prop::option::weighted(0.9, prop_oneof![4 => fields, 1 => raw])
    }

    /// A store without plaintext, so no PBKDF2 runs on random names. Built
    /// once: deriving its keys is slow in a debug build.
    fn scram_only_server() -> &'static Server {
        static SERVER: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
        SERVER.get_or_init(build_scram_only_server)
    }

    fn build_scram_only_server() -> Server {
        let salt = [7u8; 16];
        let store = Arc::new(
            CredentialStore::from_credentials([Credential::new(
                p("x"),
                scram(b"pencil", &salt, 4096),
            )])
            .unwrap(),
        );
        Server {
            config: ServerCallback::new(store).config().unwrap(),
            audit: Arc::new(MemorySink::new()),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Random message sequences never panic, and once a session has
        /// ended every further step is an error.
        #[test]
        fn sessions_never_panic(
            mechanism in prop::sample::select(vec!["SCRAM-SHA-256", "CRAM-MD5"]),
            client_side in any::<bool>(),
            messages in prop::collection::vec(message(), 1..6),
        ) {
            let server = scram_only_server();
            let mut ended = false;
            let mut run = |session: &mut StepFn<'_>| {
                for m in &messages {
                    let r = session(m.as_deref());
                    if ended {
                        prop_assert!(r.is_err());
                    }
                    match r {
                        Ok(State::Running) | Err(SessionError::InputDataRequired) => {}
                        _ => ended = true,
                    }
                }
                Ok(())
            };
            if client_side {
                let mut c = client("x", b"pencil", &[mechanism]);
                if c.are_we_first() {
                    step(&mut c, None).0.unwrap();
                }
                run(&mut |m| step(&mut c, m).0)?;
            } else {
                let mut s = server.start(mechanism);
                run(&mut |m| step(&mut s, m).0)?;
            }
        }
    }
}

#[test]
fn scram_messages_are_capped() {
    let server = server();
    let mut s = server.start("SCRAM-SHA-256");
    let long = format!("n,,n={},r=abc", "x".repeat(4096));
    assert!(step(&mut s, Some(long.as_bytes())).0.is_err());
    // Just under the cap is parsed (and fails later, as an unknown name).
    let mut s = server.start("SCRAM-SHA-256");
    let fits = format!("n,,n={},r=abc", "x".repeat(4000));
    assert_eq!(
        step(&mut s, Some(fits.as_bytes())).0.unwrap(),
        State::Running
    );
}

#[test]
fn audit_events_name_the_peer() {
    let server = server_with(|c| c.peer("10.0.0.7:5050"));
    let (r, _) = cram_md5(&server, "tim", b"tanstaaftanstaaf");
    assert!(r.is_ok());
    let run = scram_run(&server, "sam", b"wrong");
    assert_eq!(run.validation, None);
    let events = server.events();
    assert_eq!(events.len(), 2);
    for e in &events {
        assert_eq!(e.peer.as_deref(), Some("10.0.0.7:5050"));
    }
    // They serialize as the crate's JSON lines.
    let line = mesos_auth::audit::to_json_line(&events[1], std::time::SystemTime::UNIX_EPOCH);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["mechanism"], "SCRAM-SHA-256");
    assert_eq!(v["result"], "failed");
    assert_eq!(v["reason"], "bad_digest");
    assert_eq!(v["principal"], "sam");
    assert!(!line.contains("wrong"));
}

#[test]
fn cram_md5_settings_reach_the_authenticator() {
    use std::time::Duration;
    let server = server_with(|c| {
        c.cram_md5(
            AuthenticatorConfig::new()
                .host("master.example")
                .timeout(Duration::from_millis(50)),
        )
    });
    let mut s = server.start("CRAM-MD5");
    let (r, challenge) = step(&mut s, None);
    r.unwrap();
    assert!(challenge.ends_with(b"@master.example>"));
    // Too long between challenge and response: timed out.
    std::thread::sleep(Duration::from_millis(100));
    let response = mesos_auth::internal::cram_md5_response("tim", b"tanstaaftanstaaf", &challenge);
    let e = mechanism_error(step(&mut s, Some(&response)).0);
    assert!(e.contains("timed out"), "{e}");
    assert_eq!(s.validation(), None);
}
