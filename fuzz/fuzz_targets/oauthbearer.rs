//! The authenticator offering OAUTHBEARER and CRAM-MD5 under arbitrary
//! client message sequences: it never panics, a terminal status never
//! changes, every ended session has one audit event, and it completes only
//! as the principal of the one valid token, sent in a well-formed message.
//!
//! Input: records `tag, len (u16 LE), data`, at most 16:
//! 0 start OAUTHBEARER with `data`, 1 start CRAM-MD5, 2 start the mechanism
//! named by `data`, 3 step with `data`, 4 start OAUTHBEARER with the valid
//! token and `data` as the authzid (escaped), 5 step with the valid token,
//! 6 wait `len` ms, 7 discard (these two carry no data).
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use mesos_auth::bearer::{Jwks, Validator, ValidatorConfig};
use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::sasl::{Authenticator, AuthenticatorConfig, NonceSource, Status};
use mesos_auth::{Principal, Secret};

/// RFC 8037's Ed25519 test key; the token (sub alice, nbf 1700000000, exp
/// 1900000000) is the one ffi/tests/c/bearer.c uses.
const JWKS: &str = r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
const GOOD: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoibWVzb3MtbWFzdGVyIiwic3ViIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTkwMDAwMDAwMH0.2tV4b4ZrsCOqByuUxVewQ2fKQ7nL89TNZ9zeZbyicBs3Bc9Gf04rpoxbo5F_9TB04B_wt6gdekXoRx5nn434AQ";

struct Nonces;

impl NonceSource for Nonces {
    fn nonce(&mut self) -> [u8; 16] {
        [3; 16]
    }
}

fn fixtures() -> &'static (Arc<CredentialStore>, AuthenticatorConfig) {
    static F: OnceLock<(Arc<CredentialStore>, AuthenticatorConfig)> = OnceLock::new();
    F.get_or_init(|| {
        let store = CredentialStore::from_credentials([Credential::plain(
            Principal::new("tim").unwrap(),
            Secret::new(b"tanstaaftanstaaf"),
        )])
        .unwrap();
        let config = ValidatorConfig::new()
            .issuer("https://idp.test")
            .audience("mesos-master");
        let validator = Validator::new(&config, Jwks::from_json(JWKS.as_bytes()).unwrap()).unwrap();
        (
            Arc::new(store),
            AuthenticatorConfig::new().oauthbearer(Arc::new(validator)),
        )
    })
}

fn good_message(authzid: &[u8]) -> Vec<u8> {
    let mut m = b"n,".to_vec();
    if !authzid.is_empty() {
        m.extend_from_slice(b"a=");
        for &b in authzid {
            match b {
                b',' => m.extend_from_slice(b"=2C"),
                b'=' => m.extend_from_slice(b"=3D"),
                b => m.push(b),
            }
        }
    }
    m.extend_from_slice(b",\x01auth=Bearer ");
    m.extend_from_slice(GOOD.as_bytes());
    m.extend_from_slice(b"\x01\x01");
    m
}

fuzz_target!(|input: &[u8]| {
    let (store, config) = fixtures();
    let t0 = Instant::now();
    let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut now = t0;
    let mut server =
        Authenticator::with_wall_clock(store.clone(), config.clone(), &mut Nonces, t0, wall);
    let mut terminal: Option<Status> = None;
    // Whether the valid token went in (with no authzid or `alice`'s when
    // framed here).
    let mut good_sent = false;
    let mut rest = input;
    for _ in 0..16 {
        let [tag, l0, l1, tail @ ..] = rest else {
            break;
        };
        let len = usize::from(u16::from_le_bytes([*l0, *l1]));
        // A wait or a discard carries no data: `len` is the wait.
        let take = if matches!(tag % 8, 6 | 7) {
            0
        } else {
            len.min(tail.len())
        };
        let (data, tail) = tail.split_at(take);
        rest = tail;
        let live = terminal.is_none() && now < t0 + Duration::from_secs(15);
        // Raw data may carry the valid token too (a seed does).
        if live
            && matches!(tag % 8, 0 | 3)
            && data.windows(GOOD.len()).any(|w| w == GOOD.as_bytes())
        {
            good_sent = true;
        }
        match tag % 8 {
            0 => drop(server.handle_start(now, "OAUTHBEARER", data)),
            1 => drop(server.handle_start(now, "CRAM-MD5", data)),
            2 => drop(server.handle_start(now, &String::from_utf8_lossy(data), b"")),
            3 => drop(server.handle_step(now, data)),
            4 | 5 => {
                let msg = good_message(data);
                if live && (data.is_empty() || data == b"alice") {
                    good_sent = true;
                }
                if tag % 8 == 4 {
                    drop(server.handle_start(now, "OAUTHBEARER", &msg));
                } else {
                    drop(server.handle_step(now, &msg));
                }
            }
            6 => {
                now += Duration::from_millis(len as u64);
                server.handle_timeout(now);
            }
            _ => server.discard(),
        }
        while server.poll_output().is_some() {}
        let status = server.status();
        if let Some(t) = &terminal {
            assert_eq!(&status, t, "terminal status changed");
        } else if status.is_terminal() {
            assert!(server.poll_event().is_some(), "no audit event");
            terminal = Some(status.clone());
        }
        if let Status::Completed(p) = &status {
            if server.mechanism() == "OAUTHBEARER" {
                assert_eq!(p.as_str(), "alice");
                assert!(good_sent, "completed without the valid token");
            }
        }
    }
});
