use super::*;
use hmac::{Hmac, Mac};
use proptest::prelude::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn md5_rfc_1321_suite() {
    let cases = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(hex(&md5(input.as_bytes())), want, "md5({input:?})");
    }
}

#[test]
fn hmac_rfc_2195_example() {
    let key = HmacMd5Key::from_secret(b"tanstaaftanstaaf");
    let mac = key.mac(b"<1896.697170952@postoffice.reston.mci.net>");
    assert_eq!(hex(&mac), "b913a602c7eda7a495b4e6e7334d3890");
}

#[test]
fn hmac_rfc_2202_cases() {
    let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
        (
            vec![0x0b; 16],
            b"Hi There".to_vec(),
            "9294727a3638bb1c13f48ef8158bfc9d",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "750c783e6ab0b503eaa86e310a5db738",
        ),
        (
            vec![0xaa; 16],
            vec![0xdd; 50],
            "56be34521d144c88dbb8c733f0e8b3f6",
        ),
        (
            (1..=25).collect(),
            vec![0xcd; 50],
            "697eaf0aca3a3aea3a75164746ffaa79",
        ),
        (
            vec![0x0c; 16],
            b"Test With Truncation".to_vec(),
            "56461ef2342edc00f9bab995690efd4c",
        ),
        (
            vec![0xaa; 80],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
        ),
        (
            vec![0xaa; 80],
            b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data".to_vec(),
            "6f630fad67cda0ee1fb1f562db3aa53e",
        ),
    ];
    for (key, data, want) in cases {
        assert_eq!(hex(&HmacMd5Key::from_secret(&key).mac(&data)), want);
    }
}

#[test]
fn states_round_trip() {
    let key = HmacMd5Key::from_secret(b"s3cret");
    let (i, o) = key.states();
    let again = HmacMd5Key::from_states(i, o);
    assert_eq!(key.mac(b"<x@y>"), again.mac(b"<x@y>"));
    assert_eq!(format!("{key:?}"), "HmacMd5Key(<redacted>)");
}

#[test]
fn every_message_length_around_one_block() {
    // The one-block path (up to 55 bytes, copied in overlapping halves)
    // and the general one meet at 55/56; check each length on both sides.
    let key = HmacMd5Key::from_secret(b"kitesurf-at-dawn");
    let msg: Vec<u8> = (0u8..130).map(|b| b.wrapping_mul(37) ^ 0x5a).collect();
    for len in 0..=msg.len() {
        let part = &msg[..len];
        let mut theirs = Hmac::<md5_010::Md5>::new_from_slice(b"kitesurf-at-dawn").unwrap();
        theirs.update(part);
        let want: [u8; 16] = theirs.finalize().into_bytes().into();
        assert_eq!(key.mac(part), want, "length {len}");
    }
}

proptest! {
    #[test]
    fn agrees_with_rustcrypto(key in proptest::collection::vec(any::<u8>(), 0..200),
                              msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut theirs = Hmac::<md5_010::Md5>::new_from_slice(&key).unwrap();
        theirs.update(&msg);
        let want: [u8; 16] = theirs.finalize().into_bytes().into();
        prop_assert_eq!(HmacMd5Key::from_secret(&key).mac(&msg), want);
        use md5_010::Digest;
        let d: [u8; 16] = md5_010::Md5::digest(&msg).into();
        prop_assert_eq!(md5(&msg), d);
    }
}

#[test]
fn keys_in_lanes_match_one_at_a_time() {
    // Empty, short, a full block, and longer than a block (hashed first).
    let lens = [0usize, 1, 3, 16, 55, 56, 63, 64, 65, 100, 200];
    let secrets: Vec<Vec<u8>> = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| (0..n).map(|j| (j * 31 + i * 7) as u8).collect())
        .collect();
    for batch in secrets.windows(LANES / 2) {
        let refs: [&[u8]; LANES / 2] = std::array::from_fn(|l| batch[l].as_slice());
        let keys = HmacMd5Key::from_secrets(refs);
        for (key, secret) in keys.iter().zip(batch) {
            let one = HmacMd5Key::from_secret(secret);
            assert_eq!(key.words(), one.words(), "{} bytes", secret.len());
            assert_ne!(key.words(), [0; 8]);
        }
    }
}

proptest! {
    #[test]
    fn compress_lanes_is_compress_in_each_lane(
        words in proptest::collection::vec(any::<u32>(), LANES * (WORDS + 4)),
    ) {
        let (blocks, states) = words.split_at(LANES * WORDS);
        let m: [Lanes; WORDS] = std::array::from_fn(|w| std::array::from_fn(|l| blocks[w * LANES + l]));
        let mut state: [Lanes; 4] = std::array::from_fn(|w| std::array::from_fn(|l| states[w * LANES + l]));
        let before = state;
        compress_lanes(&mut state, &m);
        for l in 0..LANES {
            let mut one = [before[0][l], before[1][l], before[2][l], before[3][l]];
            compress(&mut one, &std::array::from_fn(|w| m[w][l]));
            prop_assert_eq!(one, [state[0][l], state[1][l], state[2][l], state[3][l]]);
        }
    }
}
