use super::*;

#[test]
#[expect(
    deprecated,
    reason = "std's SipHasher is the reference for SipHash-2-4"
)]
fn siphash_matches_the_reference() {
    use std::hash::Hasher;
    let key = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];
    // The SipHash paper's 64-bit vector: key 00..0f, message 00..0e.
    let msg: Vec<u8> = (0..15).collect();
    assert_eq!(siphash::<2, 4, false>(&key, &msg)[0], 0xa129_ca61_49be_45e5);
    // std's SipHash-2-4 over every length across a few blocks.
    let long: Vec<u8> = (0u8..40)
        .map(|i| i.wrapping_mul(7).wrapping_add(3))
        .collect();
    for n in 0..long.len() {
        let mut h = std::hash::SipHasher::new_with_keys(key[0], key[1]);
        h.write(&long[..n]);
        assert_eq!(
            siphash::<2, 4, false>(&key, &long[..n])[0],
            h.finish(),
            "{n}"
        );
    }
    // The reference implementation's 128-bit vectors (vectors.h), empty
    // message and message 00.
    let out = |w: [u64; 2]| {
        let mut b = w[0].to_le_bytes().to_vec();
        b.extend(w[1].to_le_bytes());
        b
    };
    assert_eq!(
        out(siphash::<2, 4, true>(&key, b"")),
        [
            0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55,
            0x02, 0x93
        ]
    );
    assert_eq!(
        out(siphash::<2, 4, true>(&key, &[0])),
        [
            0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22,
            0xfc, 0x45
        ]
    );
}
