use super::cram_md5::{hex_lower, split};
use super::nonce::challenge;

#[test]
fn hex_matches_format() {
    for seed in 0u8..=255 {
        let bytes: [u8; 16] =
            std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 17));
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex_lower(&bytes).as_slice(), expected.as_bytes());
    }
}

#[test]
fn split_at_last_space_without_trimming() {
    let p = split(b"svc account 0123").unwrap();
    assert_eq!(p.name, b"svc account");
    assert_eq!(p.digest, b"0123");
    let p = split(b"tim  abc").unwrap();
    assert_eq!(p.name, b"tim ");
    let p = split(b"tim abc ").unwrap();
    assert_eq!(p.name, b"tim abc");
    assert_eq!(p.digest, b"");
    assert!(split(b"nospace").is_none());
    assert!(split(b" leading").is_none());
    assert!(split(b" ").is_none());
    assert!(split(b"").is_none());
}

/// The reference encoding, written independently of the code under test:
/// `n` zero-extended to 66 bits, read 6 bits at a time into base64url
/// (RFC 4648 §5) characters.
fn b64url_ref(n: u64) -> String {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bits: Vec<u8> = (0..66)
        .map(|i| {
            if i < 2 {
                0
            } else {
                ((n >> (65 - i)) & 1) as u8
            }
        })
        .collect();
    bits.chunks(6)
        .map(|c| {
            let v = c.iter().fold(0usize, |acc, &b| acc * 2 + usize::from(b));
            alphabet.as_bytes()[v] as char
        })
        .collect()
}

#[test]
fn challenge_shape() {
    let c = challenge([0xff; 16], "host.example");
    let s = String::from_utf8(c).unwrap();
    assert_eq!(s, "<P__________.P__________@host.example>");
    let c = challenge([0; 16], "h");
    assert_eq!(c, b"<AAAAAAAAAAA.AAAAAAAAAAA@h>");
    // A host is cut at 29 bytes, so a challenge never exceeds 55 bytes.
    let long = "h".repeat(300);
    let c = challenge([0xff; 16], &long);
    assert_eq!(c.len(), super::nonce::MAX_CHALLENGE_LEN);
    assert_eq!(c.len(), 55);
    assert!(c.ends_with(b"h>"));
}

#[test]
fn challenge_halves_are_base64url() {
    for (hi, lo) in [
        (0u64, 1u64),
        (9, 10),
        (u64::MAX, 12345),
        (1 << 63, 999_999_999_999),
        (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210),
        (12_345_678_901_234_567_890, 1_000_000_000_000_000_001),
    ] {
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&hi.to_be_bytes());
        nonce[8..].copy_from_slice(&lo.to_be_bytes());
        let want = format!("<{}.{}@x>", b64url_ref(hi), b64url_ref(lo));
        assert_eq!(String::from_utf8(challenge(nonce, "x")).unwrap(), want);
    }
}

/// Distinct nonces give distinct challenges (the encoding keeps all 128
/// bits): flipping any single bit changes the challenge.
#[test]
fn challenge_keeps_every_nonce_bit() {
    let base = challenge([0x5a; 16], "h");
    for bit in 0..128 {
        let mut nonce = [0x5a; 16];
        nonce[bit / 8] ^= 1 << (bit % 8);
        assert_ne!(challenge(nonce, "h"), base, "bit {bit}");
    }
}

#[test]
fn long_hosts_keep_whole_labels() {
    use super::nonce::fit_host;
    assert_eq!(fit_host("master.example.org"), "master.example.org");
    let exact = "a".repeat(29);
    assert_eq!(fit_host(&exact), exact);
    assert_eq!(
        fit_host("master-01.dc-east.prod.example.org"),
        "master-01.dc-east.prod"
    );
    // A dot right after 29 bytes keeps those 29.
    let at_limit = format!("{}.example.org", "b".repeat(29));
    assert_eq!(fit_host(&at_limit), "b".repeat(29));
    // One long label is cut.
    assert_eq!(fit_host(&"c".repeat(40)), "c".repeat(29));
    assert_eq!(
        fit_host(&format!(".{}", "d".repeat(40))),
        format!(".{}", "d".repeat(28))
    );
}

/// Every challenge an authenticator sends is at most 55 bytes (two MD5
/// compressions for its HMAC), whatever host it was configured with.
#[test]
fn configured_challenges_fit_one_md5_block() {
    use std::sync::Arc;
    use std::time::Instant;

    use super::{Authenticator, AuthenticatorConfig, ServerMessage};
    use crate::credentials::CredentialStore;

    let store = Arc::new(CredentialStore::from_credentials([]).unwrap());
    let now = Instant::now();
    let mut nonces = super::OsNonceSource::new().unwrap();
    for host in [
        "",
        "localhost",
        "master-01.dc-east.prod.example.org",
        &"x".repeat(500),
        "ünïcode.host",
    ] {
        let config = AuthenticatorConfig::new().host(host);
        let mut s = Authenticator::new(store.clone(), config, &mut nonces, now);
        s.poll_output();
        s.handle_start(now, "CRAM-MD5", b"").unwrap();
        let Some(ServerMessage::Step(c)) = s.poll_output() else {
            panic!("no challenge for {host:?}");
        };
        assert!(c.len() <= 55, "{host:?}: {} bytes", c.len());
        assert!(c.starts_with(b"<") && c.ends_with(b">"));
    }
}

/// Every message a session queues reaches `poll_output`, whatever the
/// sequence (the queue is a fixed three slots: mechanisms, challenge, then
/// one outcome or error), and exactly one audit event ends it.
#[test]
fn no_output_is_lost_and_one_event_per_session() {
    use std::sync::Arc;
    use std::time::Instant;

    use super::{Authenticator, AuthenticatorConfig, ClientMessage, Status};
    use crate::credentials::{Credential, CredentialStore};
    use crate::{Principal, Secret};

    struct Fixed;
    impl super::NonceSource for Fixed {
        fn nonce(&mut self) -> [u8; 16] {
            [3; 16]
        }
    }
    let store = Arc::new(
        CredentialStore::from_credentials([Credential::plain(
            Principal::new("tim").unwrap(),
            Secret::new(b"pw"),
        )])
        .unwrap(),
    );
    let now = Instant::now();
    let good = super::cram_md5::response("tim", b"pw", &challenge([3; 16], "localhost"));
    let choices = [
        ClientMessage::Start {
            mechanism: "CRAM-MD5".into(),
            data: vec![],
        },
        ClientMessage::Start {
            mechanism: "PLAIN".into(),
            data: vec![],
        },
        ClientMessage::Step(good),
        ClientMessage::Step(b"tim 0123".to_vec()),
        ClientMessage::Step(vec![b'x'; 2000]),
    ];
    // Every sequence of four messages out of the five kinds.
    for code in 0..choices.len().pow(4) {
        let mut s = Authenticator::new(store.clone(), AuthenticatorConfig::new(), &mut Fixed, now);
        let mut expected = 1;
        let mut c = code;
        for _ in 0..4 {
            let msg = choices[c % choices.len()].clone();
            c /= choices.len();
            if !s.status().is_terminal() {
                expected += 1;
            }
            let _ = s.handle_message(now, msg);
        }
        let mut polled = 0;
        while s.poll_output().is_some() {
            polled += 1;
        }
        assert_eq!(polled, expected, "sequence {code}");
        let events = std::iter::from_fn(|| s.poll_event()).count();
        let terminal = !matches!(s.status(), Status::Pending);
        assert_eq!(events, usize::from(terminal), "sequence {code}");
        // An ended session has let go of the store, however it ended: a
        // host that keeps it does not keep a rotated-out store's secrets.
        if terminal {
            assert_eq!(Arc::strong_count(&store), 1, "sequence {code}");
        }
    }
    // Ended from outside: a timeout (before and after the client chose)
    // and a discard.
    let timeout = AuthenticatorConfig::new().timeout(std::time::Duration::from_secs(1));
    let later = now + std::time::Duration::from_secs(2);
    for start in [false, true] {
        let mut s = Authenticator::new(store.clone(), timeout.clone(), &mut Fixed, now);
        if start {
            s.handle_start(now, "CRAM-MD5", b"").unwrap();
        }
        assert_eq!(Arc::strong_count(&store), 2);
        s.handle_timeout(later);
        assert!(s.status().is_terminal());
        assert_eq!(Arc::strong_count(&store), 1, "timed out, started: {start}");
    }
    let mut s = Authenticator::new(store.clone(), AuthenticatorConfig::new(), &mut Fixed, now);
    s.discard();
    assert_eq!(Arc::strong_count(&store), 1, "discarded");
}

/// The default source is ours: its error converts with `?` into the usual
/// boxed error whatever the features, and its `Debug` shows no RNG state.
#[test]
fn os_nonce_source_is_opaque() {
    fn make() -> Result<super::OsNonceSource, Box<dyn std::error::Error + Send + Sync>> {
        Ok(super::default_nonce_source()?)
    }
    let mut n = make().unwrap();
    assert_ne!(
        super::NonceSource::nonce(&mut n),
        super::NonceSource::nonce(&mut n)
    );
    assert_eq!(format!("{n:?}"), "OsNonceSource(..)");
}

/// A refusal that is the master's own fault (its keytab unreadable) is not
/// counted against the client's principal or peer; a Kerberos refusal of
/// the client still is.
#[test]
fn throttle_ignores_the_masters_own_kerberos_fault() {
    use std::time::Instant;

    use super::event::{AuthEvent, AuthResult, FailureReason, Side};
    use super::throttle::{Throttle, ThrottleConfig, Verdict};

    let failed = |reason| AuthEvent {
        side: Side::Authenticator,
        principal: Some("alice".into()),
        peer: Some("10.0.0.9:5050".to_owned()),
        mechanism: "GSSAPI",
        result: AuthResult::Failed,
        reason: Some(reason),
        error: None,
        detail: None,
        audit_id: None,
    };
    let now = Instant::now();
    let mut th = Throttle::new(ThrottleConfig::new().free_failures(0));
    for _ in 0..5 {
        th.observe(&failed(FailureReason::KerberosUnavailable), now);
    }
    assert_eq!(th.check(Some("alice"), None, now), Verdict::Allow);
    assert_eq!(th.check(None, Some("10.0.0.9:5050"), now), Verdict::Allow);
    assert!(th.is_empty());
    th.observe(&failed(FailureReason::KerberosRefused), now);
    assert!(matches!(
        th.check(Some("alice"), None, now),
        Verdict::Delay(_)
    ));
    assert!(matches!(
        th.check(None, Some("10.0.0.9:5050"), now),
        Verdict::Delay(_)
    ));
}
