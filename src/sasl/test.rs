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

#[test]
fn challenge_shape() {
    let c = challenge([0xff; 16], "host.example");
    let s = String::from_utf8(c).unwrap();
    assert_eq!(s, format!("<{}.{}@host.example>", u64::MAX, u64::MAX));
    let c = challenge([0; 16], "h");
    assert_eq!(c, b"<0.0@h>");
    // The host is cut at 128 bytes, so a challenge never exceeds its buffer.
    let long = "h".repeat(300);
    let c = challenge([0xff; 16], &long);
    assert_eq!(c.len(), super::nonce::MAX_CHALLENGE_LEN);
    assert!(c.ends_with(b"h>"));
}

#[test]
fn challenge_digits_match_format() {
    for (hi, lo) in [
        (0u64, 1u64),
        (9, 10),
        (u64::MAX, 12345),
        (1 << 63, 999_999_999_999),
        (10_000_000_000_000_000, 100_000_000),
        (9_999_999_999_999_999, 99_999_999),
        (12_345_678_901_234_567_890, 1_000_000_000_000_000_001),
    ] {
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&hi.to_be_bytes());
        nonce[8..].copy_from_slice(&lo.to_be_bytes());
        assert_eq!(challenge(nonce, "x"), format!("<{hi}.{lo}@x>").into_bytes());
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
    }
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
