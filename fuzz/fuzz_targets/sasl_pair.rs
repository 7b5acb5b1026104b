//! Authenticatee and authenticator joined in memory with arbitrary
//! credentials: the exchange completes exactly when the client's secret is
//! the stored one, and both sides agree.
#![no_main]

use std::sync::Arc;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use mesos_auth::credentials::{Credential, CredentialStore};
use mesos_auth::internal::Pair;
use mesos_auth::sasl::{Authenticatee, AuthenticatorConfig, NonceSource, Status};
use mesos_auth::{Principal, Secret};

struct Fixed([u8; 16]);

impl NonceSource for Fixed {
    fn nonce(&mut self) -> [u8; 16] {
        self.0
    }
}

fuzz_target!(|input: (String, Vec<u8>, Vec<u8>, [u8; 16])| {
    let (name, stored, used, nonce) = input;
    let (Ok(principal), false, false) = (Principal::new(&name), stored.is_empty(), used.is_empty())
    else {
        return;
    };
    // A name of spaces only is no name on the wire (threats.md SA-3).
    if name.bytes().all(|b| b == b' ') {
        return;
    }
    let store = Arc::new(
        CredentialStore::from_credentials([Credential::plain(
            principal.clone(),
            Secret::new(&stored),
        )])
        .unwrap(),
    );
    let client = Authenticatee::new(principal.clone(), &Secret::new(&used)).unwrap();
    let now = Instant::now();
    let mut pair = Pair::new(
        store,
        AuthenticatorConfig::new(),
        &mut Fixed(nonce),
        client,
        now,
    );
    let _ = pair.drive(now);
    // HMAC pads keys of up to 64 bytes with zeros (RFC 2104), so keys that
    // differ only in trailing zero bytes are the same key.
    let trim = |k: &[u8]| -> Vec<u8> {
        let end = k.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        k[..end].to_vec()
    };
    let same =
        stored == used || (stored.len() <= 64 && used.len() <= 64 && trim(&stored) == trim(&used));
    let expected = if same {
        Status::Completed(principal)
    } else {
        Status::Failed
    };
    assert_eq!(pair.status(), (expected.clone(), expected));
});
