//! GSSAPI inside the Mesos message flow: `Authenticator` ↔ `Authenticatee`
//! with real tickets from the throw-away realm (one realm for all of them).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::kdc::{self, Kdc};
use mesos_auth::Principal;
use mesos_auth::Secret;
use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::sasl::gssapi::{AuthToLocal, GssapiClientConfig, GssapiServerConfig};
use mesos_auth::sasl::{
    AuthResult, Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage, FailureReason,
    OsNonceSource, PeerMisbehaved, ServerMessage, Status, Throttle, ThrottleConfig,
};

const RULES: &str = r"RULE:[1:$1@$0](.*@MESOS\.TEST)s/@.*//";

#[test]
fn sasl_sessions() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice", "nobody"]);
    let alice = kdc.ccache("alice");
    let child = |name: &str| format!("gssapi::session::child::{name}");
    kdc.run_child(&child("full_flow"), &alice, &[]);
    kdc.run_child(&child("mixed_and_cram_only_masters"), &alice, &[]);
    kdc.run_child(&child("unmapped"), &kdc.ccache("nobody"), &[]);
    kdc.run_child(
        &child("missing_keytab"),
        &alice,
        &[("KRB5_KTNAME", "FILE:/nonexistent/mesos.keytab")],
    );
}

fn store() -> Arc<CredentialStore> {
    Arc::new(
        CredentialStore::from_credentials([Credential::plain(
            Principal::new("tim").unwrap(),
            Secret::new(b"tanstaaftanstaaf"),
        )])
        .unwrap(),
    )
}

fn gss_server_with(rules: &str) -> GssapiServerConfig {
    GssapiServerConfig::new(Arc::new(
        AuthToLocal::parse(rules, Some(kdc::REALM)).unwrap(),
    ))
    .service("mesos@localhost")
}

fn gss_server() -> GssapiServerConfig {
    gss_server_with(RULES)
}

fn master(config: AuthenticatorConfig) -> Authenticator {
    Authenticator::with_wall_clock(
        store(),
        config,
        &mut OsNonceSource::new().unwrap(),
        Instant::now(),
        SystemTime::now(),
    )
}

fn gss_client(principal: &str) -> Authenticatee {
    Authenticatee::gssapi(GssapiClientConfig::new(
        Principal::new(principal).unwrap(),
        "mesos@localhost",
    ))
    .unwrap()
}

#[derive(Debug, PartialEq)]
enum Seen {
    ToClient(ServerMessage),
    ToServer(ClientMessage),
}

/// Shuttles messages until both sides are quiet; the transcript in order.
fn run(server: &mut Authenticator, client: &mut Authenticatee) -> Vec<Seen> {
    let mut seen = Vec::new();
    for _ in 0..16 {
        let mut moved = false;
        while let Some(m) = server.poll_output() {
            seen.push(Seen::ToClient(m.clone()));
            // A refusal of the client's own is in its status and event.
            let _ = client.handle_message(m);
            moved = true;
        }
        while let Some(m) = client.poll_output() {
            seen.push(Seen::ToServer(m.clone()));
            let _ = server.handle_message(Instant::now(), m);
            moved = true;
        }
        if !moved {
            return seen;
        }
    }
    panic!("no end after 16 rounds: {seen:?}")
}

mod child {
    use super::*;

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn full_flow() {
        kdc::child_dir();
        let mut server = master(
            AuthenticatorConfig::new()
                .cram_md5(false)
                .gssapi(gss_server()),
        );
        let mut client = gss_client("alice");
        let seen = run(&mut server, &mut client);
        // Mechanisms, Start (AP-REQ), Step (AP-REP), Step (""), Step
        // (wrapped offer), Step (wrapped choice), Completed.
        assert_eq!(seen.len(), 7, "{seen:?}");
        assert_eq!(
            seen[0],
            Seen::ToClient(ServerMessage::Mechanisms(["GSSAPI"].into()))
        );
        match &seen[1] {
            Seen::ToServer(ClientMessage::Start { mechanism, data }) => {
                assert_eq!(mechanism, "GSSAPI");
                // An RFC 2743 initial context token (AP-REQ inside).
                assert_eq!(data.first(), Some(&0x60));
                assert!(data.len() > 100, "{}", data.len());
            }
            other => panic!("expected Start, got {other:?}"),
        }
        assert!(matches!(&seen[2], Seen::ToClient(ServerMessage::Step(t)) if !t.is_empty()));
        assert_eq!(seen[3], Seen::ToServer(ClientMessage::Step(Vec::new())));
        assert!(matches!(&seen[4], Seen::ToClient(ServerMessage::Step(t)) if !t.is_empty()));
        assert!(matches!(&seen[5], Seen::ToServer(ClientMessage::Step(t)) if !t.is_empty()));
        assert_eq!(seen[6], Seen::ToClient(ServerMessage::Completed));

        assert_eq!(
            server.status(),
            Status::Completed(Principal::new("alice").unwrap())
        );
        assert_eq!(
            client.status(),
            Status::Completed(Principal::new("alice").unwrap())
        );
        let event = server.poll_event().unwrap();
        assert_eq!(
            (event.mechanism, event.result, event.reason),
            ("GSSAPI", AuthResult::Completed, None)
        );
        assert_eq!(event.principal.as_deref(), Some("alice"));
        let event = client.poll_event().unwrap();
        assert_eq!(
            (event.mechanism, event.result),
            ("GSSAPI", AuthResult::Completed)
        );
        // Sticky end on both sides.
        assert_eq!(
            server.handle_step(Instant::now(), b""),
            Err(PeerMisbehaved::AfterEnd.into())
        );
        assert_eq!(
            client.handle_message(ServerMessage::Completed),
            Err(PeerMisbehaved::AfterEnd.into())
        );
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn mixed_and_cram_only_masters() {
        kdc::child_dir();
        // GSSAPI + CRAM-MD5: the Kerberos client gets Kerberos.
        let both = || AuthenticatorConfig::new().gssapi(gss_server());
        let mut server = master(both());
        let mut client = gss_client("alice");
        let seen = run(&mut server, &mut client);
        assert_eq!(
            seen[0],
            Seen::ToClient(ServerMessage::Mechanisms(["GSSAPI", "CRAM-MD5"].into()))
        );
        assert!(
            matches!(&seen[1], Seen::ToServer(ClientMessage::Start { mechanism, .. }) if mechanism == "GSSAPI")
        );
        assert_eq!(
            server.status(),
            Status::Completed(Principal::new("alice").unwrap())
        );
        assert_eq!(server.mechanism(), "GSSAPI");
        // The same master still serves a CRAM-MD5 client.
        let mut server = master(both());
        let mut client = Authenticatee::new(
            Principal::new("tim").unwrap(),
            &Secret::new(b"tanstaaftanstaaf"),
        )
        .unwrap();
        run(&mut server, &mut client);
        assert_eq!(
            server.status(),
            Status::Completed(Principal::new("tim").unwrap())
        );
        assert_eq!(server.mechanism(), "CRAM-MD5");

        // A CRAM-MD5-only master: the Kerberos client refuses locally and
        // sends nothing.
        let mut server = master(AuthenticatorConfig::new());
        let mut client = gss_client("alice");
        let seen = run(&mut server, &mut client);
        assert_eq!(
            seen,
            [Seen::ToClient(ServerMessage::Mechanisms(
                ["CRAM-MD5"].into()
            ))]
        );
        assert_eq!(client.status(), Status::Failed);
        let event = client.poll_event().unwrap();
        assert_eq!(event.reason, Some(FailureReason::MechanismNotOffered));
        assert_eq!(server.status(), Status::Pending);
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn unmapped() {
        kdc::child_dir();
        // `nobody` has a valid ticket, but no rule maps `nobody@MESOS.TEST`.
        let only_alice = r"RULE:[1:$1@$0](alice@MESOS\.TEST)s/@.*//";
        let mut server = master(AuthenticatorConfig::new().gssapi(gss_server_with(only_alice)));
        let mut client = gss_client("nobody");
        let seen = run(&mut server, &mut client);
        assert_eq!(
            seen.last(),
            Some(&Seen::ToClient(ServerMessage::Failed)),
            "{seen:?}"
        );
        assert_eq!(server.status(), Status::Failed);
        assert_eq!(client.status(), Status::Failed);
        let event = server.poll_event().unwrap();
        assert_eq!(event.mechanism, "GSSAPI");
        assert_eq!(event.reason, Some(FailureReason::KerberosRefused));
        let detail = event.detail.unwrap();
        assert!(detail.starts_with("unmapped principal: "), "{detail}");
        assert!(detail.contains("nobody@MESOS.TEST"), "{detail}");
        let event = client.poll_event().unwrap();
        assert_eq!(event.reason, Some(FailureReason::RefusedByServer));
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn missing_keytab() {
        kdc::child_dir();
        let mut server = master(
            AuthenticatorConfig::new()
                .gssapi(gss_server())
                .peer("client:1"),
        );
        let mut client = gss_client("alice");
        let seen = run(&mut server, &mut client);
        // Refused right at Start, with the same bare Failed as any refusal.
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert_eq!(seen[2], Seen::ToClient(ServerMessage::Failed));
        let event = server.poll_event().unwrap();
        assert_eq!(event.reason, Some(FailureReason::KerberosUnavailable));
        // The master's own fault: the failure throttle holds no one back.
        let mut throttle = Throttle::new(ThrottleConfig::new().free_failures(0));
        assert_eq!(event.peer.as_deref(), Some("client:1"));
        throttle.observe(&event, Instant::now());
        assert!(throttle.is_empty());
        let detail = event.detail.unwrap();
        assert!(detail.contains("mesos@localhost"), "{detail}");
        assert_eq!(client.status(), Status::Failed);
    }
}
