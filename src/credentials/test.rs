//! Unit tests of the credentials component's internals.

use super::format::{decode_secret, encode_secret};
use super::store::{StoredSecret, same_secret};
use crate::Secret;

#[test]
fn cram_state_hex_round_trips() {
    let s = StoredSecret::cram_md5_from(&Secret::new(b"tanstaaftanstaaf"));
    let text = encode_secret(&s).unwrap();
    let (back, unknown) = decode_secret(&text, false).unwrap();
    assert!(!unknown);
    assert!(same_secret(&s, &back));
    // The state is the HMAC key schedule's: rebuilding from it gives the
    // RFC 2195 answer.
    let StoredSecret::CramMd5State { inner, outer } = back else {
        panic!("wrong form")
    };
    let key = crate::hmac_md5::HmacMd5Key::from_states(inner, outer);
    let mac = key.mac(b"<1896.697170952@postoffice.reston.mci.net>");
    assert_eq!(mac[..4], [0xb9, 0x13, 0xa6, 0x02]);
}

#[test]
fn same_secret_distinguishes_forms_and_values() {
    let a = StoredSecret::Plain(Secret::new(b"one"));
    let b = StoredSecret::Plain(Secret::new(b"two"));
    let a2 = StoredSecret::Plain(Secret::new(b"one"));
    assert!(same_secret(&a, &a2));
    assert!(!same_secret(&a, &b));
    let c = StoredSecret::cram_md5_from(&Secret::new(b"one"));
    assert!(!same_secret(&a, &c));
}

#[test]
fn unknown_scheme_prefix_detection() {
    assert!(decode_secret("{MD5}x", false).is_err());
    assert!(matches!(decode_secret("{MD5}x", true), Ok((_, true))));
    assert!(matches!(decode_secret("{md5}x", false), Ok((_, false))));
    assert!(matches!(decode_secret("{}x", false), Ok((_, false))));
    assert!(matches!(
        decode_secret("{PLAIN}{MD5}x", false),
        Ok((_, false))
    ));
}
