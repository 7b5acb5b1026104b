//! The CRAM-MD5 authenticator under arbitrary client message sequences: it
//! never panics, a terminal status never changes, and it completes only
//! after the right response to the challenge it issued.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::internal::cram_md5_response;
use mesos_auth::sasl::{Authenticator, AuthenticatorConfig, NonceSource, ServerMessage, Status};
use mesos_auth::{Principal, Secret};

#[derive(Arbitrary, Debug)]
enum Op {
    Start {
        cram: bool,
        mechanism: String,
        data: Vec<u8>,
    },
    Step(Vec<u8>),
    /// The right response to the challenge seen so far (or to none).
    Good,
    Timeout(u16),
    Discard,
}

struct Nonces(u64);

impl NonceSource for Nonces {
    fn nonce(&mut self) -> [u8; 16] {
        let mut n = [0u8; 16];
        n[..8].copy_from_slice(&self.0.to_le_bytes());
        n
    }
}

fn store() -> Arc<CredentialStore> {
    static STORE: OnceLock<Arc<CredentialStore>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            Arc::new(
                CredentialStore::from_credentials([
                    Credential::plain(
                        Principal::new("tim").unwrap(),
                        Secret::new(b"tanstaaftanstaaf"),
                    ),
                    Credential::plain(Principal::new("svc account").unwrap(), Secret::new(b"pw")),
                ])
                .unwrap(),
            )
        })
        .clone()
}

fuzz_target!(|input: (u64, Vec<Op>)| {
    let (seed, ops) = input;
    let t0 = Instant::now();
    let mut now = t0;
    let mut server = Authenticator::new(store(), AuthenticatorConfig::new(), &mut Nonces(seed), t0);
    let mut challenge: Option<Vec<u8>> = None;
    let mut good_sent = false;
    let mut terminal: Option<Status> = None;
    for op in ops.into_iter().take(16) {
        match op {
            Op::Start {
                cram,
                mechanism,
                data,
            } => {
                let m = if cram { "CRAM-MD5" } else { mechanism.as_str() };
                let _ = server.handle_start(now, m, &data);
            }
            Op::Step(data) => {
                let _ = server.handle_step(now, &data);
            }
            Op::Good => {
                let c = challenge.clone().unwrap_or_default();
                if challenge.is_some() && terminal.is_none() && now < t0 + Duration::from_secs(15) {
                    good_sent = true;
                }
                let _ = server.handle_step(now, &cram_md5_response("tim", b"tanstaaftanstaaf", &c));
            }
            Op::Timeout(ms) => {
                now += Duration::from_millis(u64::from(ms));
                server.handle_timeout(now);
            }
            Op::Discard => server.discard(),
        }
        while let Some(m) = server.poll_output() {
            if let ServerMessage::Step(c) = m {
                assert!(challenge.is_none(), "a second challenge");
                challenge = Some(c.into_vec());
            }
        }
        let status = server.status();
        if let Some(t) = &terminal {
            assert_eq!(&status, t, "terminal status changed");
        } else if status.is_terminal() {
            assert!(server.poll_event().is_some(), "no audit event");
            terminal = Some(status.clone());
        }
        if let Status::Completed(p) = &status {
            assert_eq!(p.as_str(), "tim");
            assert!(good_sent, "completed without the right response");
        }
    }
});
