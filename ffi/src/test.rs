use std::ffi::c_char;

use super::*;

#[test]
fn version_matches_the_crate() {
    let v = mesos_auth_version();
    // SAFETY: the view points at static UTF-8 of the given length.
    let s = unsafe { std::slice::from_raw_parts(v.data.cast::<u8>(), v.len) };
    assert_eq!(std::str::from_utf8(s).unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn header_version_macros_match_the_crate() {
    let header = include_str!("../include/mesos_auth.h");
    let want = format!(
        "#define MESOS_AUTH_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(header.contains(&want), "header lacks {want}");
    for (name, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define MESOS_AUTH_VERSION_{name} {value}");
        assert!(header.contains(&line), "header lacks {line}");
    }
}

#[test]
fn result_messages() {
    let mut buf = [0 as c_char; 64];
    let mut n = 0usize;
    // SAFETY: buf and n are valid for the lengths given.
    let r = unsafe { mesos_auth_result_message(1, buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(r, mesos_auth_result::Ok);
    let text = std::str::from_utf8(&buf.map(|c| c as u8)[..n])
        .unwrap()
        .to_owned();
    assert_eq!(text, "a required pointer argument was NULL");
    assert_eq!(buf[n], 0);

    // Too small: nothing written, size needed reported.
    let mut small = [0x55 as c_char; 4];
    // SAFETY: as above.
    let r = unsafe { mesos_auth_result_message(1, small.as_mut_ptr(), small.len(), &mut n) };
    assert_eq!(r, mesos_auth_result::BufferTooSmall);
    assert_eq!(n, text.len() + 1);
    assert!(small.iter().all(|&c| c == 0x55));

    // NULL buffer, unknown code.
    // SAFETY: NULL is allowed and must be refused.
    let r = unsafe { mesos_auth_result_message(1, std::ptr::null_mut(), 10, &mut n) };
    assert_eq!(r, mesos_auth_result::NullParameter);
    // SAFETY: as above.
    let r = unsafe { mesos_auth_result_message(9999, buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(r, mesos_auth_result::Ok);
    assert_eq!(&buf.map(|c| c as u8)[..n], b"unknown result code");
}

#[test]
fn last_error_is_per_thread() {
    let _ = result::fail(mesos_auth_result::ParseError, "x.json:1:2: bad");
    let mut buf = [0 as c_char; 64];
    let mut n = 0usize;
    // SAFETY: buf and n are valid.
    unsafe { mesos_auth_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(&buf.map(|c| c as u8)[..n], b"x.json:1:2: bad");
    std::thread::spawn(|| {
        let mut buf = [0 as c_char; 8];
        let mut n = 99usize;
        // SAFETY: buf and n are valid.
        unsafe { mesos_auth_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(n, 0);
    })
    .join()
    .unwrap();
}

#[test]
fn panics_become_results() {
    fn boom() -> mesos_auth_result {
        ffi_panic_boundary! {
            let v: Vec<u8> = Vec::new();
            if v.is_empty() {
                panic!("boom");
            }
            mesos_auth_result::Ok
        }
    }
    assert_eq!(boom(), mesos_auth_result::Panic);
}

/// Every `extern "C" fn` in this crate's sources must begin its body with the
/// panic boundary: one missed wrapper would abort a Mesos master.
#[test]
fn every_export_has_the_panic_boundary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let mut rest = src.as_str();
        while let Some(at) = rest.find("extern \"C\" fn ") {
            let after = &rest[at..];
            let body_start = after.find('{').unwrap();
            let body = after[body_start + 1..].trim_start();
            let name: String = after["extern \"C\" fn ".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(
                body.starts_with("ffi_panic_boundary!"),
                "{}: `{name}` lacks ffi_panic_boundary!",
                path.display()
            );
            names.push(name);
            rest = &after[body_start..];
        }
    }
    // The scan must see the exports we know of, or it proves nothing.
    for known in [
        "mesos_auth_version",
        "mesos_auth_result_message",
        "mesos_auth_last_error",
        "mesos_auth_audit_new",
        "mesos_auth_credentials_load_path",
        "mesos_auth_credentials_finding",
        "mesos_auth_authenticator_feed",
        "mesos_auth_authenticatee_poll_output",
        "mesos_auth_tls_mapper_map_der",
        "mesos_auth_throttle_check",
        "mesos_auth_authenticator_set_throttle",
    ] {
        assert!(
            names.iter().any(|n| n == known),
            "scan missed {known}: {names:?}"
        );
    }
}

mod components {
    use std::ffi::c_char;
    use std::ptr;

    use crate::credentials::*;
    use crate::handle;
    use crate::result::mesos_auth_result as R;
    use crate::sasl::*;
    use crate::tls::*;
    use crate::{mesos_auth_bytes, mesos_auth_str};

    const CREDS: &[u8] = b"tim tanstaaftanstaaf-0123\n";

    fn load() -> *const mesos_auth_credentials {
        let mut out = ptr::null();
        // SAFETY: valid buffer and out pointer.
        let r = unsafe {
            mesos_auth_credentials::mesos_auth_credentials_load_buffer(
                CREDS.as_ptr(),
                CREDS.len(),
                0,
                0,
                ptr::null(),
                &mut out,
            )
        };
        assert_eq!(r, R::Ok);
        assert!(!out.is_null());
        out
    }

    fn count(c: *const mesos_auth_credentials) -> (R, usize) {
        let mut n = usize::MAX;
        // SAFETY: c is NULL or live; n is writable.
        let r = unsafe { mesos_auth_credentials::mesos_auth_credentials_count(c, &mut n) };
        (r, n)
    }

    #[test]
    fn result_numbers_are_fixed() {
        for (code, n) in [
            (R::Ok, 0),
            (R::NullParameter, 1),
            (R::InvalidParameter, 2),
            (R::InvalidUtf8, 3),
            (R::Panic, 4),
            (R::Poisoned, 5),
            (R::WrongHandle, 6),
            (R::BufferTooSmall, 7),
            (R::ParseError, 100),
            (R::LimitExceeded, 101),
            (R::FileError, 102),
            (R::InvalidState, 103),
            (R::Rejected, 104),
            (R::ProtocolError, 105),
            (R::RandomUnavailable, 106),
        ] {
            assert_eq!(code as u32, n);
            assert_eq!(R::from_u32(n), Some(code));
        }
        assert_eq!(R::from_u32(8), None);
    }

    /// A panic inside a call poisons the handle (threats.md FF-1): later
    /// calls get `Poisoned`, `_free` still works.
    #[test]
    fn a_panic_poisons_the_handle() {
        let c = load();
        assert_eq!(count(c), (R::Ok, 1));
        // SAFETY: c is live.
        let r: Result<(), R> = unsafe {
            handle::with_ref(c, |_| {
                let v: Vec<u8> = Vec::new();
                if v.is_empty() {
                    panic!("injected");
                }
                Ok(())
            })
        };
        assert_eq!(r, Err(R::Panic));
        let (r, n) = count(c);
        assert_eq!(r, R::Poisoned);
        assert_eq!(n, usize::MAX, "out-param written on failure");
        // SAFETY: c is live and not used again.
        let got = unsafe { mesos_auth_credentials::mesos_auth_credentials_free(c) };
        assert_eq!(got, R::Ok);
    }

    /// The same for a single-owner session handle: a panic inside a call
    /// poisons it, later calls get `Poisoned`, `_free` still releases it.
    #[test]
    fn a_panic_poisons_a_session() {
        let c = load();
        let mut s = ptr::null_mut();
        // SAFETY: c live; s writable.
        let r = unsafe {
            mesos_auth_authenticator::mesos_auth_authenticator_new(
                c,
                0,
                ptr::null(),
                0,
                ptr::null(),
                &mut s,
            )
        };
        assert_eq!(r, R::Ok);
        // SAFETY: s is live and used by this thread only.
        let r: Result<(), R> = unsafe {
            handle::with_mut(s, |_| {
                let v: Vec<u8> = Vec::new();
                if v.is_empty() {
                    panic!("injected");
                }
                Ok(())
            })
        };
        assert_eq!(r, Err(R::Panic));
        let mut st = 77;
        // SAFETY: s live; st writable.
        let got = unsafe { mesos_auth_authenticator::mesos_auth_authenticator_status(s, &mut st) };
        assert_eq!(got, R::Poisoned);
        assert_eq!(st, 77);
        // SAFETY: s live; freed once.
        let got = unsafe { mesos_auth_authenticator::mesos_auth_authenticator_free(s) };
        assert_eq!(got, R::Ok);
        // SAFETY: c live; freed once.
        let got = unsafe { mesos_auth_credentials::mesos_auth_credentials_free(c) };
        assert_eq!(got, R::Ok);
    }

    #[test]
    fn wrong_kinds_and_nulls_are_refused() {
        let c = load();
        let mut m = ptr::null();
        let rules = br#"["RULE:^CN=([^,]+)$/$1/"]"#;
        // SAFETY: valid buffers.
        let r = unsafe {
            mesos_auth_tls_mapper::mesos_auth_tls_mapper_new(
                rules.as_ptr().cast::<c_char>(),
                rules.len(),
                &mut m,
            )
        };
        assert_eq!(r, R::Ok);
        assert_eq!(count(m.cast()).0, R::WrongHandle);
        assert_eq!(count(ptr::null()).0, R::NullParameter);
        // SAFETY: a live handle of another kind is refused, not freed.
        let got = unsafe { mesos_auth_tls_mapper::mesos_auth_tls_mapper_free(c.cast()) };
        assert_eq!(got, R::WrongHandle);
        assert_eq!(count(c), (R::Ok, 1));
        // SAFETY: both live, freed once.
        unsafe {
            assert_eq!(mesos_auth_tls_mapper::mesos_auth_tls_mapper_free(m), R::Ok);
            assert_eq!(
                mesos_auth_credentials::mesos_auth_credentials_free(c),
                R::Ok
            );
            assert_eq!(
                mesos_auth_credentials::mesos_auth_credentials_free(ptr::null()),
                R::Ok
            );
        }
    }

    #[test]
    fn unknown_enum_values_and_flags_are_refused() {
        let mut out = ptr::null();
        for (format, flags) in [
            (3, 0),
            (u32::MAX, 0),
            (0, 8),
            (0, MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS),
        ] {
            // SAFETY: valid buffer and out pointer.
            let r = unsafe {
                mesos_auth_credentials::mesos_auth_credentials_load_buffer(
                    CREDS.as_ptr(),
                    CREDS.len(),
                    format,
                    flags,
                    ptr::null(),
                    &mut out,
                )
            };
            assert_eq!(r, R::InvalidParameter, "format {format} flags {flags}");
            assert!(out.is_null());
        }
    }

    fn drain_server(s: *mut mesos_auth_authenticator) -> Vec<(u32, String, Vec<u8>)> {
        let mut v = Vec::new();
        loop {
            let mut m = mesos_auth_message {
                kind: 99,
                mechanism: mesos_auth_str::EMPTY,
                data: mesos_auth_bytes::view(&[]),
            };
            // SAFETY: s live; m writable.
            let got = unsafe {
                mesos_auth_authenticator::mesos_auth_authenticator_poll_output(s, &mut m)
            };
            assert_eq!(got, R::Ok);
            if m.kind == mesos_auth_message_kind::None as u32 {
                return v;
            }
            // SAFETY: the views are valid until the next call on s.
            let (mech, data) = unsafe {
                (
                    std::slice::from_raw_parts(m.mechanism.data.cast::<u8>(), m.mechanism.len)
                        .to_vec(),
                    std::slice::from_raw_parts(m.data.data, m.data.len).to_vec(),
                )
            };
            v.push((m.kind, String::from_utf8(mech).unwrap(), data));
        }
    }

    /// The full exchange through the exported functions, the client's
    /// response computed independently (RFC 2195: `name hex(HMAC-MD5)`).
    #[test]
    fn cram_md5_exchange_through_the_c_api() {
        let c = load();
        let mut s = ptr::null_mut();
        // SAFETY: c live; s writable.
        let r = unsafe {
            mesos_auth_authenticator::mesos_auth_authenticator_new(
                c,
                0,
                ptr::null(),
                0,
                ptr::null(),
                &mut s,
            )
        };
        assert_eq!(r, R::Ok);
        let first = drain_server(s);
        assert_eq!(
            first,
            vec![(
                mesos_auth_message_kind::Mechanisms as u32,
                "CRAM-MD5".to_owned(),
                vec![]
            )]
        );
        let start = mesos_auth_message {
            kind: mesos_auth_message_kind::Start as u32,
            mechanism: mesos_auth_str::view("CRAM-MD5"),
            data: mesos_auth_bytes {
                data: ptr::null(),
                len: 0,
            },
        };
        // SAFETY: s live; start valid.
        let got = unsafe { mesos_auth_authenticator::mesos_auth_authenticator_feed(s, &start) };
        assert_eq!(got, R::Ok);
        let step = drain_server(s);
        assert_eq!(step.len(), 1);
        assert_eq!(step[0].0, mesos_auth_message_kind::Step as u32);
        let challenge = &step[0].2;
        assert!(challenge.starts_with(b"<") && challenge.ends_with(b">"));

        use md5::{Digest, Md5};
        let key = b"tanstaaftanstaaf-0123";
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(key);
        let inner = Md5::new()
            .chain_update(k.map(|b| b ^ 0x36))
            .chain_update(challenge)
            .finalize();
        let mac = Md5::new()
            .chain_update(k.map(|b| b ^ 0x5c))
            .chain_update(inner)
            .finalize();
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        let response = format!("tim {hex}");
        let msg = mesos_auth_message {
            kind: mesos_auth_message_kind::Step as u32,
            mechanism: mesos_auth_str::EMPTY,
            data: mesos_auth_bytes::view(response.as_bytes()),
        };
        // SAFETY: s live; msg valid.
        let got = unsafe { mesos_auth_authenticator::mesos_auth_authenticator_feed(s, &msg) };
        assert_eq!(got, R::Ok);
        assert_eq!(
            drain_server(s)[0].0,
            mesos_auth_message_kind::Completed as u32
        );
        let mut st = 99;
        let mut p = mesos_auth_str::EMPTY;
        // SAFETY: s live; outs writable; p's view valid until free.
        unsafe {
            assert_eq!(
                mesos_auth_authenticator::mesos_auth_authenticator_status(s, &mut st),
                R::Ok
            );
            assert_eq!(st, mesos_auth_status::Completed as u32);
            assert_eq!(
                mesos_auth_authenticator::mesos_auth_authenticator_principal(s, &mut p),
                R::Ok
            );
            assert_eq!(
                std::slice::from_raw_parts(p.data.cast::<u8>(), p.len),
                b"tim"
            );
            assert_eq!(
                mesos_auth_authenticator::mesos_auth_authenticator_free(s),
                R::Ok
            );
            assert_eq!(
                mesos_auth_credentials::mesos_auth_credentials_free(c),
                R::Ok
            );
        }
    }
}
