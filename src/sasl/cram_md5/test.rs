use super::{claimed_name, last_space, principal_name, split};

/// The fast path for a `name SP 32-hex` response finds the same space as a
/// search from the end, whatever the shape around it.
#[test]
fn last_space_matches_a_search_from_the_end() {
    let hex = "0123456789abcdef0123456789abcdef";
    let mut cases: Vec<Vec<u8>> = vec![
        format!("tim {hex}").into_bytes(),
        format!("svc account {hex}").into_bytes(),
        format!(" {hex}").into_bytes(),
        format!("tim  {hex}").into_bytes(),
        hex.as_bytes().to_vec(),
        b"tim abc".to_vec(),
        b"tim abc ".to_vec(),
        b"".to_vec(),
        b" ".to_vec(),
    ];
    // A space at every position of a 33-byte tail, and responses one byte
    // shorter and longer than the usual shape.
    for at in 0..40 {
        let mut r = format!("tim {hex}").into_bytes();
        r.push(b'x');
        if let Some(b) = r.get_mut(at) {
            *b = b' ';
        }
        cases.push(r.clone());
        r.truncate(r.len().saturating_sub(2));
        cases.push(r);
    }
    for case in cases {
        assert_eq!(
            last_space(&case),
            case.iter().rposition(|&b| b == b' '),
            "{}",
            String::from_utf8_lossy(&case)
        );
    }
    let response = format!("a b {hex}");
    let p = split(response.as_bytes()).unwrap();
    assert_eq!(p.name, b"a b");
    assert_eq!(p.digest, hex.as_bytes());
}

/// The check's name rule is `Principal::new`'s: same verdict on ASCII and
/// C0/C1 control characters, DEL, non-ASCII text, bad UTF-8 and length.
#[test]
fn principal_name_follows_the_principal_rule() {
    let long = "a".repeat(crate::MAX_PRINCIPAL_LEN);
    let too_long = "a".repeat(crate::MAX_PRINCIPAL_LEN + 1);
    let names: Vec<Vec<u8>> = vec![
        b"tim".to_vec(),
        b"framework-500".to_vec(),
        b"a\x00b".to_vec(),
        b"a\x1fb".to_vec(),
        b"a\x7fb".to_vec(),
        "a\u{85}b".as_bytes().to_vec(),
        "a\u{9f}b".as_bytes().to_vec(),
        "a\u{a0}b".as_bytes().to_vec(),
        "ünïcode".as_bytes().to_vec(),
        b"\xff\xfe".to_vec(),
        b"a\xc2".to_vec(),
        b"".to_vec(),
        long.into_bytes(),
        too_long.into_bytes(),
    ];
    for name in names {
        let expected = std::str::from_utf8(&name)
            .ok()
            .filter(|n| crate::Principal::new(n).is_ok());
        assert_eq!(principal_name(&name), expected, "{name:?}");
    }
}

/// The audit event's claimed name is the same whether the check found the
/// name valid (copied as it is) or not (decoded lossily and cut).
#[test]
fn claimed_name_is_the_same_either_way() {
    let store = crate::credentials::CredentialStore::from_credentials([
        crate::credentials::Credential::plain(
            crate::Principal::new("tim").unwrap(),
            crate::Secret::new(b"pw"),
        ),
    ])
    .unwrap();
    let long = "b".repeat(300);
    for name in [
        b"tim".as_slice(),
        b"nobody",
        "ünïcode".as_bytes(),
        b"a\x01b",
        b"\xff\xfe",
        long.as_bytes(),
    ] {
        let mut response = name.to_vec();
        response.extend_from_slice(b" 0123456789abcdef0123456789abcdef");
        let parsed = split(&response).unwrap();
        let checked = super::check(&store, b"<c@h>", &parsed);
        assert_eq!(checked.claimed(parsed.name), claimed_name(name));
    }
}
