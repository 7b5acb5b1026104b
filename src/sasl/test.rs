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
