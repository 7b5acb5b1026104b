//! A CRAM-MD5 server session allocates only what its public messages and
//! audit event own (issue 14, item 3): the mechanism list (a `Vec` and its
//! `String`), the challenge message and the audit event's claimed name.
//! The client's messages are read in place. The client side likewise: its
//! output queue, the start message's mechanism name, the response and the
//! audit event's principal. Its own test binary, because
//! the counting allocator is process-wide.
#![allow(missing_docs, reason = "test binary")]
#![allow(clippy::unwrap_used, clippy::panic, reason = "test binary")]

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::internal::cram_md5_response;
use mesos_auth::sasl::{
    Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage, NonceSource, ServerMessage,
    Status,
};
use mesos_auth::{Principal, Secret};
use mesos_auth_zeroize_test::{ALLOCATIONS, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The count is process-wide and the harness runs tests on threads side by
/// side: each test counts alone.
static ALONE: Mutex<()> = Mutex::new(());

fn alone() -> MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Fixed;

impl NonceSource for Fixed {
    fn nonce(&mut self) -> [u8; 16] {
        [7; 16]
    }
}

#[test]
fn a_server_session_allocates_only_its_outputs() {
    let _alone = alone();
    let store = Arc::new(
        CredentialStore::from_credentials([Credential::plain(
            Principal::new("fw").unwrap(),
            Secret::new(b"pw"),
        )])
        .unwrap(),
    );
    let config = AuthenticatorConfig::new().host("master.example.org");
    let challenge = mesos_auth::internal::sasl_challenge([7; 16], "master.example.org");
    let response = cram_md5_response("fw", b"pw", &challenge);
    let now = Instant::now();
    // Warm-up: lazy statics, the store's first use.
    for _ in 0..2 {
        let before = ALLOCATIONS.load(Ordering::SeqCst);
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
        let used = ALLOCATIONS.load(Ordering::SeqCst) - before;
        // Mechanisms (2), challenge (1), the event's name (1); `status()`
        // clones an `Arc`.
        assert!(used <= 4, "{used} allocations");
        assert!(used >= 1, "the counting allocator is not installed");
        drop((mechanisms, event, c));
    }
}

#[test]
fn a_client_exchange_allocates_only_its_outputs() {
    let _alone = alone();
    let principal = Principal::new("fw").unwrap();
    let secret = Secret::new(b"pw");
    let challenge = mesos_auth::internal::sasl_challenge([7; 16], "master.example.org");
    for _ in 0..2 {
        // The server's messages are the host's, built before counting.
        let mechanisms = ServerMessage::Mechanisms(vec!["CRAM-MD5".into()]);
        let step = ServerMessage::Step(challenge.clone());
        let before = ALLOCATIONS.load(Ordering::SeqCst);
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
        let used = ALLOCATIONS.load(Ordering::SeqCst) - before;
        // The output queue, the mechanism name in `Start`, the response and
        // the event's principal; the event itself is held inline (it was a
        // queue of its own, one more allocation).
        assert!(used <= 4, "{used} allocations");
        drop((start, response, event));
    }
}
