//! GSSAPI in the session without a KDC: the mechanism list, the message
//! size bound, refusals before any ticket is involved, downgrade refusal.
//! The exchanges with real tickets are in tests/gssapi/session.rs.

use std::sync::Arc;
use std::time::Instant;

use crate::Principal;
use crate::credentials::CredentialStore;
use crate::sasl::gssapi::{AuthToLocal, GssapiClientConfig, GssapiServerConfig};
use crate::sasl::{
    AuthResult, Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage, FailureReason,
    OsNonceSource, PeerMisbehaved, SaslError, ServerMessage, Status,
};

fn server(config: AuthenticatorConfig) -> Authenticator {
    let store = Arc::new(CredentialStore::from_credentials([]).unwrap());
    Authenticator::new(
        store,
        config,
        &mut OsNonceSource::new().unwrap(),
        Instant::now(),
    )
}

fn gss_config() -> GssapiServerConfig {
    GssapiServerConfig::new(Arc::new(
        AuthToLocal::parse(r"RULE:[1:$1@$0](.*@MESOS\.TEST)s/@.*//", Some("MESOS.TEST")).unwrap(),
    ))
}

#[test]
fn offered_first() {
    let config = AuthenticatorConfig::new().gssapi(gss_config());
    assert_eq!(config.mechanisms(), ["GSSAPI", "CRAM-MD5"]);
    let mut s = server(config);
    assert_eq!(
        s.poll_output(),
        Some(ServerMessage::Mechanisms(["GSSAPI", "CRAM-MD5"].into()))
    );
    // GSSAPI alone.
    let config = AuthenticatorConfig::new()
        .cram_md5(false)
        .gssapi(gss_config());
    assert_eq!(config.mechanisms(), ["GSSAPI"]);
}

#[test]
fn a_token_that_is_not_kerberos_is_a_uniform_failure() {
    let mut s = server(AuthenticatorConfig::new().gssapi(gss_config()));
    s.poll_output();
    // Larger than the 1 KiB bound of the other mechanisms: GSSAPI's own
    // bound applies, so this reaches the mechanism and is refused there.
    let junk = vec![0x42; 4000];
    s.handle_message(
        Instant::now(),
        ClientMessage::Start {
            mechanism: "GSSAPI".into(),
            data: junk,
        },
    )
    .unwrap();
    assert_eq!(s.poll_output(), Some(ServerMessage::Failed));
    assert_eq!(s.status(), Status::Failed);
    let event = s.poll_event().unwrap();
    assert_eq!(event.mechanism, "GSSAPI");
    assert_eq!(event.result, AuthResult::Failed);
    assert_eq!(event.reason, Some(FailureReason::KerberosRefused));
    let detail = event.detail.unwrap();
    assert!(detail.starts_with("bad token: "), "{detail}");
}

#[test]
fn gssapi_bound_and_other_mechanisms_keep_theirs() {
    let mut s = server(AuthenticatorConfig::new().gssapi(gss_config()));
    s.poll_output();
    let err = s
        .handle_start(Instant::now(), "GSSAPI", &vec![0x60; 64 * 1024 + 1])
        .unwrap_err();
    assert!(matches!(
        err,
        SaslError::Peer(PeerMisbehaved::TooLong { max: 65536, .. })
    ));
    let mut s = server(AuthenticatorConfig::new().gssapi(gss_config()));
    s.poll_output();
    let err = s
        .handle_start(Instant::now(), "CRAM-MD5", &[0; 2000])
        .unwrap_err();
    assert!(matches!(
        err,
        SaslError::Peer(PeerMisbehaved::TooLong { max: 1024, .. })
    ));
}

#[test]
fn not_offered_is_unsupported() {
    let mut s = server(AuthenticatorConfig::new());
    s.poll_output();
    let err = s
        .handle_start(Instant::now(), "GSSAPI", b"\x60\x00")
        .unwrap_err();
    assert_eq!(err, PeerMisbehaved::UnsupportedMechanism.into());
}

#[test]
fn an_empty_start_asks_for_the_token() {
    let mut s = server(AuthenticatorConfig::new().gssapi(gss_config()));
    s.poll_output();
    s.handle_start(Instant::now(), "GSSAPI", b"").unwrap();
    assert_eq!(
        s.poll_output(),
        Some(ServerMessage::Step(Vec::new().into()))
    );
    // The token then comes in a step (here not Kerberos: refused).
    s.handle_step(Instant::now(), b"not a token").unwrap();
    assert_eq!(s.poll_output(), Some(ServerMessage::Failed));
    assert_eq!(
        s.poll_event().unwrap().reason,
        Some(FailureReason::KerberosRefused)
    );
}

#[test]
fn client_refuses_to_fall_back() {
    let config = GssapiClientConfig::new(Principal::new("alice").unwrap(), "mesos@localhost");
    let mut c = Authenticatee::gssapi(config).unwrap();
    assert_eq!(c.mechanism(), "GSSAPI");
    let err = c
        .handle_message(ServerMessage::Mechanisms(["CRAM-MD5"].into()))
        .unwrap_err();
    assert_eq!(err, PeerMisbehaved::MechanismNotOffered("GSSAPI").into());
    assert_eq!(c.poll_output(), None, "no Start is sent");
    assert_eq!(c.status(), Status::Failed);
    let event = c.poll_event().unwrap();
    assert_eq!(event.reason, Some(FailureReason::MechanismNotOffered));
    assert_eq!(event.mechanism, "GSSAPI");
}

#[test]
fn client_does_not_accept_completed_before_its_choice() {
    // A `Completed` before the client has even sent its token (SC-1).
    let config = GssapiClientConfig::new(Principal::new("alice").unwrap(), "mesos@localhost");
    let mut c = Authenticatee::gssapi(config).unwrap();
    let err = c.handle_message(ServerMessage::Completed).unwrap_err();
    assert_eq!(err, PeerMisbehaved::UnexpectedCompleted.into());
}

#[test]
fn sessions_stay_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Authenticator>();
    both::<Authenticatee>();
}
