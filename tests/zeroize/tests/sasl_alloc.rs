//! A completed CRAM-MD5 server session allocates nothing (issue 14, item
//! 3): the mechanism list is a fixed one, the challenge message holds the
//! challenge inline, and the session's state and audit event name the
//! stored principal through a `Name` (inline up to 23 bytes, else shared).
//! The client's messages are read in place. The client side allocates only
//! its output queue, the start message's mechanism name and the response
//! (the audit event names its principal the same way). Each test counts its own
//! thread's allocations: the harness's other threads allocate meanwhile
//! (reporting the test before), which a process-wide count took in.
#![allow(missing_docs, reason = "test binary")]
#![allow(clippy::unwrap_used, clippy::panic, reason = "test binary")]

use std::sync::Arc;
use std::time::Instant;

use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::internal::cram_md5_response;
use mesos_auth::sasl::{
    Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage, NonceSource, ServerMessage,
    Status,
};
use mesos_auth::{Principal, Secret};
use mesos_auth_zeroize_test::{Counting, thread_allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Fixed;

impl NonceSource for Fixed {
    fn nonce(&mut self) -> [u8; 16] {
        [7; 16]
    }
}

#[test]
fn a_server_session_allocates_nothing() {
    // A name held inline and one too long for that (shared instead).
    const LONG: &str = "a-framework-whose-name-is-not-held-inline";
    assert!(LONG.len() > 23);
    let store = Arc::new(
        CredentialStore::from_credentials(
            ["fw", LONG]
                .map(|name| Credential::plain(Principal::new(name).unwrap(), Secret::new(b"pw"))),
        )
        .unwrap(),
    );
    let config = AuthenticatorConfig::new().host("master.example.org");
    let challenge = mesos_auth::internal::sasl_challenge([7; 16], "master.example.org");
    let now = Instant::now();
    // Each name twice: the first is also a warm-up (lazy statics, the
    // store's first use).
    for name in ["fw", "fw", LONG, LONG] {
        let response = cram_md5_response(name, b"pw", &challenge);
        let before = thread_allocations();
        let mut s = Authenticator::new(store.clone(), config.clone(), &mut Fixed, now);
        let mechanisms = s.poll_output();
        s.handle_start(now, "CRAM-MD5", b"").unwrap();
        let Some(ServerMessage::Step(c)) = s.poll_output() else {
            panic!("no challenge")
        };
        assert_eq!(c, challenge);
        s.handle_step(now, &response).unwrap();
        assert_eq!(s.poll_output(), Some(ServerMessage::Completed));
        assert!(matches!(s.status(), Status::Completed(_)));
        let event = s.poll_event();
        let used = thread_allocations() - before;
        // `status()` clones the principal, which does not allocate.
        assert_eq!(used, 0, "{used} allocations for {name}");
        assert_eq!(
            event.and_then(|e| e.principal).as_deref(),
            Some(name),
            "the event names the principal"
        );
        drop((mechanisms, c));
        // Zero means something only if the counter counts.
        let probe = thread_allocations();
        drop(std::hint::black_box(vec![0u8; 8]));
        assert!(
            thread_allocations() > probe,
            "the counting allocator is not installed"
        );
    }
}

#[test]
fn a_client_exchange_allocates_only_its_outputs() {
    let principal = Principal::new("fw").unwrap();
    let secret = Secret::new(b"pw");
    let challenge = mesos_auth::internal::sasl_challenge([7; 16], "master.example.org");
    for _ in 0..2 {
        // The server's messages are the host's, built before counting.
        let mechanisms = ServerMessage::Mechanisms(["CRAM-MD5"].into());
        let step = ServerMessage::Step(challenge.clone().into());
        let before = thread_allocations();
        let mut a = Authenticatee::new(principal.clone(), &secret).unwrap();
        a.handle_message(mechanisms).unwrap();
        let start = a.poll_output();
        assert!(matches!(start, Some(ClientMessage::Start { .. })));
        a.handle_message(step).unwrap();
        let response = a.poll_output();
        assert!(matches!(response, Some(ClientMessage::Step(_))));
        a.handle_message(ServerMessage::Completed).unwrap();
        let event = a.poll_event();
        assert!(event.is_some());
        let used = thread_allocations() - before;
        // The output queue, the mechanism name in `Start` and the response;
        // the event names the principal without one, and the event itself is
        // held inline (it was a queue of its own, one more allocation).
        assert!(used <= 3, "{used} allocations");
        drop((start, response, event));
    }
}
