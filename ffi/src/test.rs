use std::ffi::c_char;

use super::*;

#[test]
fn version_matches_the_crate() {
    let v = mesos_auth_version();
    // SAFETY: the view points at static UTF-8 of the given length.
    let s = unsafe { std::slice::from_raw_parts(v.data.cast::<u8>(), v.len) };
    assert_eq!(std::str::from_utf8(s).unwrap(), env!("CARGO_PKG_VERSION"));
}

/// The word-at-a-time screen on every decision's strings agrees with the
/// byte-by-byte rule (ASCII, no NUL) at every length and position,
/// including the overlapping-read boundaries at 4, 8 and 16 bytes.
#[test]
fn ascii_screen_matches_the_bytewise_rule() {
    let mut checked = 0;
    for len in 0..41usize {
        for pos in 0..len.max(1) {
            for odd in [0u8, 1, 0x1f, b'a', 0x7f, 0x80, 0xc2, 0xff] {
                let mut b = vec![b'x'; len];
                if let Some(slot) = b.get_mut(pos) {
                    *slot = odd;
                }
                let want = b.iter().all(|&x| x != 0 && x.is_ascii());
                assert_eq!(handle::ascii_without_nul(&b), want, "{b:?}");
                checked += usize::from(!want);
            }
        }
    }
    // The loop must have produced rejections, or it tested nothing.
    assert!(checked > 1_000, "{checked}");
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
    let line = format!(
        "#define MESOS_AUTH_VERSION_NUMBER {:#08x}",
        mesos_auth_version_number()
    );
    assert!(header.contains(&line), "header lacks {line}");
}

/// Issue 13 item 17: the number packs the crate's version; the check
/// accepts this header's version and refuses other majors, and (before
/// 1.0) other minors, with `IncompatibleVersion` and both versions named.
#[test]
fn version_number_and_compatibility_check() {
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    assert_eq!(
        mesos_auth_version_number(),
        (major << 16) | (minor << 8) | patch
    );
    assert_eq!(
        mesos_auth_check_version(major, minor),
        mesos_auth_result::Ok
    );
    assert_eq!(
        mesos_auth_check_version(major + 1, minor),
        mesos_auth_result::IncompatibleVersion
    );
    let mut buf = [0 as c_char; 128];
    let mut n = 0usize;
    // SAFETY: buf and n valid for the lengths given.
    let r = unsafe { mesos_auth_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(r, mesos_auth_result::Ok);
    let text: String = buf.iter().take(n).map(|&c| c as u8 as char).collect();
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    // A newer minor than the library's is refused at any major; before 1.0
    // so is an older one.
    assert_eq!(
        mesos_auth_check_version(major, minor + 1),
        mesos_auth_result::IncompatibleVersion
    );
    if major == 0 && minor > 0 {
        assert_eq!(
            mesos_auth_check_version(major, minor - 1),
            mesos_auth_result::IncompatibleVersion
        );
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
        "mesos_auth_acl_compile_buffer",
        "mesos_auth_acl_authorize",
        "mesos_auth_acl_authorize_many",
        "mesos_auth_acl_explain",
        "mesos_auth_acl_action_name",
        "mesos_auth_throttle_up_ref",
        "mesos_auth_audit_up_ref",
        "mesos_auth_check_version",
        "mesos_auth_version_number",
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
                mesos_auth_credentials_format::Text as u32,
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
            (R::IncompatibleVersion, 107),
            (R::ZkUnavailable, 108),
            (R::Stale, 109),
        ] {
            assert_eq!(code as u32, n);
            assert_eq!(R::from_u32(n), Some(code));
        }
        assert_eq!(R::from_u32(8), None);
        assert_eq!(R::from_u32(110), None);
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

    fn last_error() -> String {
        let mut buf = [0 as c_char; 256];
        let mut n = 0usize;
        // SAFETY: buf and n valid for the lengths given.
        let r = unsafe { crate::mesos_auth_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, R::Ok);
        let bytes: Vec<u8> = buf.iter().take(n).map(|&c| c as u8).collect();
        String::from_utf8(bytes).unwrap()
    }

    /// Issue 13 item 4: each C reference to a shared object is released
    /// once; a second `_free`, or a use after `_free`, is refused with
    /// `WrongHandle` while the object lives on for its other holders.
    /// Before the fix the second `_free` returned `Ok` and dropped a count
    /// that belonged to a session (a dangling pointer later).
    #[test]
    fn a_released_reference_is_refused_not_reused() {
        let c = load();
        let mut c2 = ptr::null();
        // SAFETY: c live; c2 writable.
        let r = unsafe { mesos_auth_credentials::mesos_auth_credentials_up_ref(c, &mut c2) };
        assert_eq!(r, R::Ok);
        assert!(!c2.is_null());
        assert_ne!(c, c2, "_up_ref gives a distinct reference");
        // SAFETY: c live; NULL out refused.
        let r =
            unsafe { mesos_auth_credentials::mesos_auth_credentials_up_ref(c, ptr::null_mut()) };
        assert_eq!(r, R::NullParameter);
        // A session holds the store too.
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
        // SAFETY: c is live, then released; the released reference stays
        // readable (kept by the library), which is what is under test.
        unsafe {
            assert_eq!(
                mesos_auth_credentials::mesos_auth_credentials_free(c),
                R::Ok
            );
            assert_eq!(
                mesos_auth_credentials::mesos_auth_credentials_free(c),
                R::WrongHandle
            );
            assert!(
                last_error().contains("already released"),
                "{}",
                last_error()
            );
            assert_eq!(count(c), (R::WrongHandle, usize::MAX));
            let mut c3 = ptr::null();
            let r = mesos_auth_credentials::mesos_auth_credentials_up_ref(c, &mut c3);
            assert_eq!(r, R::WrongHandle);
            assert!(c3.is_null());
        }
        // The other reference and the session are unaffected.
        assert_eq!(count(c2), (R::Ok, 1));
        // SAFETY: c2 live, then released twice (the second refused).
        unsafe {
            assert_eq!(
                mesos_auth_credentials::mesos_auth_credentials_free(c2),
                R::Ok
            );
            assert_eq!(
                mesos_auth_credentials::mesos_auth_credentials_free(c2),
                R::WrongHandle
            );
        }
        let mut st = 77;
        // SAFETY: s live (it holds its own reference to the store).
        let r = unsafe { mesos_auth_authenticator::mesos_auth_authenticator_status(s, &mut st) };
        assert_eq!(r, R::Ok);
        // SAFETY: s live; freed once.
        let r = unsafe { mesos_auth_authenticator::mesos_auth_authenticator_free(s) };
        assert_eq!(r, R::Ok);
    }

    /// The same for the throttle and the audit sink, the handles the
    /// review found (item 4), with a session holding each.
    #[test]
    fn throttle_and_audit_double_free_is_refused() {
        use crate::audit::mesos_auth_audit;
        use crate::panic::ffi_panic_boundary;
        use crate::throttle::mesos_auth_throttle;
        unsafe extern "C" fn sink(_: *mut std::ffi::c_void, _: *const c_char, _: usize) {
            ffi_panic_boundary! {}
        }
        let mut t = ptr::null();
        let mut a = ptr::null();
        // SAFETY: out pointers writable; the callback does nothing.
        unsafe {
            assert_eq!(
                mesos_auth_throttle::mesos_auth_throttle_new(0, 0, 0, &mut t),
                R::Ok
            );
            assert_eq!(
                mesos_auth_audit::mesos_auth_audit_new(Some(sink), ptr::null_mut(), &mut a),
                R::Ok
            );
        }
        let c = load();
        let mut s = ptr::null_mut();
        // SAFETY: c, a, t live; s writable; the released references are
        // kept readable by the library.
        unsafe {
            let r = mesos_auth_authenticator::mesos_auth_authenticator_new(
                c,
                0,
                ptr::null(),
                0,
                a,
                &mut s,
            );
            assert_eq!(r, R::Ok);
            let r = mesos_auth_authenticator::mesos_auth_authenticator_set_throttle(s, t);
            assert_eq!(r, R::Ok);
            assert_eq!(mesos_auth_throttle::mesos_auth_throttle_free(t), R::Ok);
            assert_eq!(
                mesos_auth_throttle::mesos_auth_throttle_free(t),
                R::WrongHandle
            );
            assert_eq!(mesos_auth_audit::mesos_auth_audit_free(a), R::Ok);
            assert_eq!(mesos_auth_audit::mesos_auth_audit_free(a), R::WrongHandle);
            let mut delay = 5u64;
            let r = mesos_auth_throttle::mesos_auth_throttle_check(
                t,
                ptr::null(),
                0,
                ptr::null(),
                0,
                &mut delay,
            );
            assert_eq!(r, R::WrongHandle);
            assert_eq!(delay, 5);
            // Attaching a released throttle is refused too.
            let r = mesos_auth_authenticator::mesos_auth_authenticator_set_throttle(s, t);
            assert_eq!(r, R::WrongHandle);
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

    /// Issue 13 item 11: `FORMAT_AUTO` refuses the text format in both
    /// modes (strict never accepts what lenient refuses); `FORMAT_TEXT`
    /// reads it in both.
    #[test]
    fn auto_format_refuses_text_in_both_modes() {
        for flags in [0, MESOS_AUTH_CREDENTIALS_LENIENT] {
            let mut out = ptr::null();
            // SAFETY: valid buffer and out pointer.
            let r = unsafe {
                mesos_auth_credentials::mesos_auth_credentials_load_buffer(
                    CREDS.as_ptr(),
                    CREDS.len(),
                    mesos_auth_credentials_format::Auto as u32,
                    flags,
                    ptr::null(),
                    &mut out,
                )
            };
            assert_eq!(r, R::ParseError, "flags {flags}");
            assert!(out.is_null());
            let msg = last_error();
            assert!(msg.contains("1:1") && msg.contains("JSON"), "{msg}");
            assert!(!msg.contains("tanstaaf"), "{msg}");
            // SAFETY: valid buffer and out pointer.
            let r = unsafe {
                mesos_auth_credentials::mesos_auth_credentials_load_buffer(
                    CREDS.as_ptr(),
                    CREDS.len(),
                    mesos_auth_credentials_format::Text as u32,
                    flags,
                    ptr::null(),
                    &mut out,
                )
            };
            assert_eq!(r, R::Ok, "flags {flags}");
            assert_eq!(count(out), (R::Ok, 1));
            // SAFETY: out live; freed once.
            let r = unsafe { mesos_auth_credentials::mesos_auth_credentials_free(out) };
            assert_eq!(r, R::Ok);
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

mod acl {
    use std::ffi::c_char;
    use std::ptr;

    use crate::acl::*;
    use crate::handle;
    use crate::mesos_auth_str;
    use crate::result::mesos_auth_result as R;

    const POLICY: &str = r#"{
  "permissive": false,
  "run_tasks": [
    {"principals": {"values": ["ops"]}, "users": {"values": ["root"]}},
    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
  ],
  "register_frameworks": [
    {"principals": {"values": ["fw"]}, "roles": {"values": ["dev/%", "prod"]}}
  ]
}"#;

    fn s(v: &str) -> mesos_auth_str {
        mesos_auth_str {
            data: v.as_ptr().cast::<c_char>(),
            len: v.len(),
        }
    }

    const NO_PRINCIPAL: mesos_auth_str = mesos_auth_str {
        data: ptr::null(),
        len: 0,
    };

    fn compile(text: &str, flags: u32) -> (R, *const mesos_auth_acl) {
        let mut out = ptr::null();
        // SAFETY: valid buffer and out pointer.
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_compile_buffer(
                text.as_ptr().cast(),
                text.len(),
                flags,
                ptr::null(),
                &mut out,
            )
        };
        (r, out)
    }

    fn one(
        action: mesos_auth_acl_action,
        principal: mesos_auth_str,
        o: &str,
    ) -> mesos_auth_acl_request {
        mesos_auth_acl_request {
            action: action as u32,
            principal,
            object: mesos_auth_acl_object {
                kind: mesos_auth_acl_object_kind::One as u32,
                value: s(o),
                values: ptr::null(),
                values_len: 0,
            },
            legacy_quota_op: 0,
        }
    }

    fn authorize(
        a: *const mesos_auth_acl,
        req: &mesos_auth_acl_request,
    ) -> (R, Option<mesos_auth_acl_decision>) {
        let mut d = std::mem::MaybeUninit::<mesos_auth_acl_decision>::uninit();
        // SAFETY: a NULL or live; req valid; d writable.
        let r = unsafe { mesos_auth_acl::mesos_auth_acl_authorize(a, req, d.as_mut_ptr()) };
        // SAFETY: written on success only.
        (r, (r == R::Ok).then(|| unsafe { d.assume_init() }))
    }

    fn text(v: mesos_auth_str) -> String {
        // SAFETY: a view the library handed out, valid per its docs.
        let b = unsafe { std::slice::from_raw_parts(v.data.cast::<u8>(), v.len) };
        String::from_utf8(b.to_vec()).unwrap()
    }

    fn last_error() -> String {
        let mut buf = [0 as c_char; 512];
        let mut n = 0usize;
        // SAFETY: valid buffer.
        unsafe { crate::mesos_auth_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        String::from_utf8(buf[..n].iter().map(|&c| c as u8).collect()).unwrap()
    }

    fn free(a: *const mesos_auth_acl) {
        // SAFETY: a NULL or live, not used again.
        assert_eq!(unsafe { mesos_auth_acl::mesos_auth_acl_free(a) }, R::Ok);
    }

    /// The C numbers are positions in the table, and every core action has one.
    #[test]
    fn action_numbers_are_fixed_and_complete() {
        for (i, (c, core)) in ACTIONS.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(
                text(mesos_auth_acl_action::mesos_auth_acl_action_name(i as u32)),
                core.name()
            );
        }
        for a in mesos_auth::acl::Action::ALL {
            assert!(ACTIONS.iter().any(|(_, x)| x == a), "{a:?} has no C number");
        }
        assert_eq!(mesos_auth_acl_action::RunTask as u32, 1);
        assert_eq!(mesos_auth_acl_action::DestroyRawDisk as u32, 53);
        assert_eq!(mesos_auth_acl_action::mesos_auth_acl_action_name(54).len, 0);
        for (n, want) in [
            ("run_task", Some(1)),
            ("run_tasks", Some(1)),
            ("RUN_TASK", Some(1)),
            ("REGISTER_FRAMEWORK_WITH_ROLE", Some(0)),
            (
                "GET_ENDPOINT_WITH_PATH",
                Some(mesos_auth_acl_action::GetEndpoint as u32),
            ),
            (
                "UPDATE_QUOTA_WITH_CONFIG",
                Some(mesos_auth_acl_action::UpdateQuota as u32),
            ),
            (
                "TEARDOWN_FRAMEWORK_WITH_PRINCIPAL",
                Some(mesos_auth_acl_action::TeardownFramework as u32),
            ),
            ("LAUNCH_NESTED_CONTAINER", None),
            ("UNKNOWN", None),
            ("Run_Task", None),
            ("", None),
        ] {
            let mut out = 999u32;
            // SAFETY: valid buffer and out.
            let r = unsafe {
                mesos_auth_acl_action::mesos_auth_acl_action_from_name(
                    n.as_ptr().cast(),
                    n.len(),
                    &mut out,
                )
            };
            match want {
                Some(w) => assert_eq!((r, out), (R::Ok, w), "{n}"),
                None => assert_eq!((r, out), (R::InvalidParameter, 999), "{n}"),
            }
        }
    }

    #[test]
    fn decisions_say_which_rule() {
        let (r, a) = compile(POLICY, 0);
        assert_eq!(r, R::Ok);
        let (r, d) = authorize(a, &one(mesos_auth_acl_action::RunTask, s("ops"), "root"));
        assert_eq!(r, R::Ok);
        let d = d.unwrap();
        assert!(d.allowed);
        assert_eq!(d.reason, mesos_auth_acl_reason::Rule as u32);
        assert_eq!(
            (text(d.list).as_str(), d.index, d.line, d.column),
            ("run_tasks", 0, 4, 5)
        );
        assert_eq!(d.generation, 0);
        assert!(!d.permissive);

        // ANY/NONE denies everyone else, by rule 1.
        let d = authorize(a, &one(mesos_auth_acl_action::RunTask, s("dev"), "root"))
            .1
            .unwrap();
        assert!(!d.allowed);
        assert_eq!(
            (d.reason, d.index, d.line),
            (mesos_auth_acl_reason::Rule as u32, 1, 5)
        );

        // No ACL for the list: permissive (false) decides.
        let d = authorize(
            a,
            &one(mesos_auth_acl_action::ViewRole, NO_PRINCIPAL, "dev"),
        )
        .1
        .unwrap();
        assert!(!d.allowed);
        assert_eq!(d.reason, mesos_auth_acl_reason::NoMatch as u32);
        assert_eq!((d.list.len, d.line), (0, 0));

        // A malformed role is denied, never permissive.
        let d = authorize(
            a,
            &one(
                mesos_auth_acl_action::RegisterFramework,
                s("fw"),
                "dev/../prod",
            ),
        )
        .1
        .unwrap();
        assert!(!d.allowed);
        assert_eq!(d.reason, mesos_auth_acl_reason::InvalidRequest as u32);

        // MULTI_ROLE: every role must pass; none at all is `permissive`.
        let roles = [s("dev/a"), s("prod")];
        let mut req = one(mesos_auth_acl_action::RegisterFramework, s("fw"), "");
        req.object = mesos_auth_acl_object {
            kind: mesos_auth_acl_object_kind::Many as u32,
            value: mesos_auth_str::EMPTY,
            values: roles.as_ptr(),
            values_len: roles.len(),
        };
        assert!(authorize(a, &req).1.unwrap().allowed);
        let roles2 = [s("dev/a"), s("qa")];
        req.object.values = roles2.as_ptr();
        assert!(!authorize(a, &req).1.unwrap().allowed);
        req.object.values = ptr::null();
        req.object.values_len = 0;
        let d = authorize(a, &req).1.unwrap();
        assert_eq!(
            (d.allowed, d.reason),
            (false, mesos_auth_acl_reason::NoRoles as u32)
        );
        // A list for an action that takes one object: denied.
        let mut bad = req;
        bad.action = mesos_auth_acl_action::RunTask as u32;
        bad.object.values = roles.as_ptr();
        bad.object.values_len = 2;
        let d = authorize(a, &bad).1.unwrap();
        assert_eq!(
            (d.allowed, d.reason),
            (false, mesos_auth_acl_reason::InvalidRequest as u32)
        );

        // Explain.
        let mut buf = [0 as c_char; 128];
        let mut n = 0usize;
        let req = one(mesos_auth_acl_action::RunTask, s("ops"), "root");
        // SAFETY: valid pointers.
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_explain(a, &req, buf.as_mut_ptr(), buf.len(), &mut n)
        };
        assert_eq!(r, R::Ok);
        let t: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
        assert_eq!(
            String::from_utf8(t).unwrap(),
            "allow: decided by ACL run_tasks[0] (line 4) (policy generation 0)"
        );
        let mut small = [0x55 as c_char; 8];
        // SAFETY: valid pointers.
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_explain(a, &req, small.as_mut_ptr(), small.len(), &mut n)
        };
        assert_eq!(r, R::BufferTooSmall);
        assert_eq!(
            n,
            "allow: decided by ACL run_tasks[0] (line 4) (policy generation 0)".len() + 1
        );
        assert!(small.iter().all(|&c| c == 0x55));
        free(a);
    }

    #[test]
    fn bad_inputs_write_nothing() {
        let (r, a) = compile(POLICY, 0);
        assert_eq!(r, R::Ok);
        let bad_utf8 = [b'o', 0xff];
        let mut req = one(mesos_auth_acl_action::RunTask, s("ops"), "root");
        req.principal = mesos_auth_str {
            data: bad_utf8.as_ptr().cast(),
            len: 2,
        };
        let mut sentinel = authorize(a, &one(mesos_auth_acl_action::RunTask, s("ops"), "root"))
            .1
            .unwrap();
        sentinel.index = 4242;
        // SAFETY: a live; req valid; sentinel writable.
        let r = unsafe { mesos_auth_acl::mesos_auth_acl_authorize(a, &req, &mut sentinel) };
        assert_eq!(
            (r, sentinel.index, sentinel.allowed),
            (R::InvalidUtf8, 4242, true)
        );
        req.principal = s("o\0p");
        assert_eq!(authorize(a, &req).0, R::InvalidUtf8);
        req.principal = s("ops");
        req.action = 54;
        assert_eq!(authorize(a, &req).0, R::InvalidParameter);
        req.action = 1;
        req.object.kind = 3;
        assert_eq!(authorize(a, &req).0, R::InvalidParameter);
        req.object.kind = 1;
        req.legacy_quota_op = 1;
        assert_eq!(
            authorize(a, &req).0,
            R::InvalidParameter,
            "legacy op on run_task"
        );
        req.legacy_quota_op = 3;
        req.action = mesos_auth_acl_action::UpdateQuota as u32;
        assert_eq!(authorize(a, &req).0, R::InvalidParameter);
        req.legacy_quota_op = 0;
        req.object.value = mesos_auth_str {
            data: ptr::null(),
            len: 3,
        };
        assert_eq!(authorize(a, &req).0, R::NullParameter);
        let good = one(mesos_auth_acl_action::RunTask, s("ops"), "root");
        // SAFETY: NULL request and out are refused.
        unsafe {
            let mut d = std::mem::MaybeUninit::<mesos_auth_acl_decision>::uninit();
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_authorize(a, ptr::null(), d.as_mut_ptr()),
                R::NullParameter
            );
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_authorize(a, &good, ptr::null_mut()),
                R::NullParameter
            );
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_authorize(ptr::null(), &good, d.as_mut_ptr()),
                R::NullParameter
            );
        }
        // Flags, NUL in text, NULL out.
        assert_eq!(compile(POLICY, 2).0, R::InvalidParameter);
        assert_eq!(compile("{\"permissive\": true}\0", 0).0, R::InvalidUtf8);
        // SAFETY: NULL out is refused.
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_compile_buffer(
                POLICY.as_ptr().cast(),
                POLICY.len(),
                0,
                ptr::null(),
                ptr::null_mut(),
            )
        };
        assert_eq!(r, R::NullParameter);
        free(a);
        free(ptr::null());
    }

    #[test]
    fn errors_say_where_and_lenient_warns() {
        let bad = "{\n  \"permissive\": false,\n  \"run_task\": []\n}";
        let (r, a) = compile(bad, 0);
        assert_eq!((r, a), (R::ParseError, ptr::null()));
        let e = last_error();
        assert!(e.starts_with("3:3: $.run_task"), "{e}");
        // Lenient: the unknown key is a warning.
        let (r, a) = compile(bad, MESOS_AUTH_ACL_LENIENT);
        assert_eq!(r, R::Ok);
        let mut n = 0usize;
        // SAFETY: a live; outs writable.
        unsafe {
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_warnings_count(a, &mut n),
                R::Ok
            );
            assert_eq!(n, 1);
            let mut buf = [0 as c_char; 256];
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_warning(a, 0, buf.as_mut_ptr(), buf.len(), &mut n),
                R::Ok
            );
            let w: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
            assert!(String::from_utf8(w).unwrap().starts_with("3:3: "));
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_warning(a, 1, buf.as_mut_ptr(), buf.len(), &mut n),
                R::InvalidParameter
            );
        }
        free(a);
    }

    #[test]
    fn reload_swaps_or_keeps_the_old_policy() {
        let dir = std::env::temp_dir().join(format!("mesos-auth-ffi-acl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("acls.json");
        std::fs::write(&path, POLICY).unwrap();
        let p = format!("file://{}", path.display());
        let mut a = ptr::null();
        // SAFETY: valid buffers.
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_load_path(
                p.as_ptr().cast(),
                p.len(),
                0,
                ptr::null(),
                &mut a,
            )
        };
        assert_eq!(r, R::Ok);
        let req = one(mesos_auth_acl_action::RunTask, s("dev"), "root");
        assert!(!authorize(a, &req).1.unwrap().allowed);
        let mut g = 99u64;
        // SAFETY: a live; g writable.
        unsafe {
            std::fs::write(&path, "{\"permissive\": true, \"run_tasks\": [}").unwrap();
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_reload(a, &mut g),
                R::ParseError
            );
            assert_eq!(g, 99);
            assert!(last_error().starts_with("1:"), "{}", last_error());
            assert!(
                !authorize(a, &req).1.unwrap().allowed,
                "old policy keeps serving"
            );
            std::fs::write(&path, "{\"permissive\": true}").unwrap();
            assert_eq!(mesos_auth_acl::mesos_auth_acl_reload(a, &mut g), R::Ok);
            assert_eq!(g, 1);
            let d = authorize(a, &req).1.unwrap();
            assert!(d.allowed && d.generation == 1 && d.permissive);
            let t = POLICY;
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_reload_buffer(a, t.as_ptr().cast(), t.len(), &mut g),
                R::Ok
            );
            assert_eq!(g, 2);
            let mut n = 0usize;
            assert_eq!(mesos_auth_acl::mesos_auth_acl_rule_count(a, &mut n), R::Ok);
            assert_eq!(n, 3);
            assert_eq!(mesos_auth_acl::mesos_auth_acl_generation(a, &mut g), R::Ok);
            assert_eq!(g, 2);
            std::fs::remove_file(&path).unwrap();
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_reload(a, &mut g),
                R::FileError
            );
            assert_eq!(g, 2);
        }
        free(a);
        let (_, b) = compile(POLICY, 0);
        // SAFETY: b live.
        let r = unsafe { mesos_auth_acl::mesos_auth_acl_reload(b, &mut g) };
        assert_eq!(r, R::InvalidState);
        free(b);
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn many_objects_for_one_subject() {
        let (_, a) = compile(POLICY, 0);
        let obj = |o: &str| mesos_auth_acl_object {
            kind: mesos_auth_acl_object_kind::One as u32,
            value: s(o),
            values: ptr::null(),
            values_len: 0,
        };
        let objs = [
            obj("root"),
            obj("nobody"),
            mesos_auth_acl_object { kind: 0, ..obj("") },
        ];
        let mut out = [std::mem::MaybeUninit::<mesos_auth_acl_decision>::uninit(); 3];
        // SAFETY: valid arrays of 3.
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_authorize_many(
                a,
                1,
                s("ops"),
                objs.as_ptr(),
                3,
                out.as_mut_ptr().cast(),
            )
        };
        assert_eq!(r, R::Ok);
        // SAFETY: all three written on success.
        let out = out.map(|d| unsafe { d.assume_init() });
        assert_eq!(out.map(|d| d.allowed), [true, false, false]);
        assert_eq!(out.map(|d| d.index), [0, 1, 1]);
        // One bad object: nothing written.
        let bad = [obj("root"), mesos_auth_acl_object { kind: 9, ..obj("") }];
        let mut out2 = [mesos_auth_acl_decision {
            allowed: true,
            ..out[0]
        }; 2];
        out2[0].index = 77;
        // SAFETY: valid arrays of 2.
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_authorize_many(
                a,
                1,
                s("ops"),
                bad.as_ptr(),
                2,
                out2.as_mut_ptr(),
            )
        };
        assert_eq!(r, R::InvalidParameter);
        assert_eq!(out2[0].index, 77);
        // SAFETY: n == 0 with NULL arrays is fine; NULL with n > 0 is not.
        unsafe {
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_authorize_many(
                    a,
                    1,
                    NO_PRINCIPAL,
                    ptr::null(),
                    0,
                    ptr::null_mut()
                ),
                R::Ok
            );
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_authorize_many(
                    a,
                    1,
                    NO_PRINCIPAL,
                    ptr::null(),
                    1,
                    out2.as_mut_ptr()
                ),
                R::NullParameter
            );
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_authorize_many(
                    a,
                    99,
                    NO_PRINCIPAL,
                    objs.as_ptr(),
                    1,
                    out2.as_mut_ptr()
                ),
                R::InvalidParameter
            );
        }
        free(a);
    }

    /// The batch path decides each of many objects (more than one group
    /// of 16, every object kind, invalid ones too) as a single call would.
    #[test]
    fn many_objects_match_single_decisions() {
        let (_, a) = compile(POLICY, 0);
        let roles = [s("prod"), s("dev/y")];
        let kinds = |o: &str, i: usize| match i % 4 {
            0 | 1 => mesos_auth_acl_object {
                kind: mesos_auth_acl_object_kind::One as u32,
                value: s(o),
                values: ptr::null(),
                values_len: 0,
            },
            2 => mesos_auth_acl_object {
                kind: 2,
                value: s(""),
                values: roles.as_ptr(),
                values_len: i % 3,
            },
            _ => mesos_auth_acl_object {
                kind: 0,
                value: s(""),
                values: ptr::null(),
                values_len: 0,
            },
        };
        let names = ["prod", "dev/x", "other", "a/../b", "dev/"];
        let objs: Vec<_> = (0..41).map(|i| kinds(names[i % names.len()], i)).collect();
        let mut out = vec![std::mem::MaybeUninit::<mesos_auth_acl_decision>::uninit(); objs.len()];
        // SAFETY: valid arrays of objs.len().
        let r = unsafe {
            mesos_auth_acl::mesos_auth_acl_authorize_many(
                a,
                mesos_auth_acl_action::RegisterFramework as u32,
                s("fw"),
                objs.as_ptr(),
                objs.len(),
                out.as_mut_ptr().cast(),
            )
        };
        assert_eq!(r, R::Ok);
        for (i, (o, d)) in objs.iter().zip(&out).enumerate() {
            // SAFETY: all written on success.
            let d = unsafe { d.assume_init() };
            let mut req = one(mesos_auth_acl_action::RegisterFramework, s("fw"), "");
            req.object = *o;
            let (r, single) = authorize(a, &req);
            assert_eq!(r, R::Ok);
            let single = single.unwrap();
            assert_eq!(
                (d.allowed, d.reason, d.index, d.line),
                (single.allowed, single.reason, single.index, single.line),
                "object {i}"
            );
        }
        free(a);
    }

    /// A panic inside a call poisons the policy handle; later calls get
    /// `Poisoned` and write nothing; `_free` still works.
    #[test]
    fn a_panic_poisons_the_policy() {
        let (_, a) = compile(POLICY, 0);
        // SAFETY: a is live.
        let r: Result<(), R> = unsafe {
            handle::with_ref(a, |_| {
                let v: Vec<u8> = Vec::new();
                if v.is_empty() {
                    panic!("injected");
                }
                Ok(())
            })
        };
        assert_eq!(r, Err(R::Panic));
        let (r, d) = authorize(a, &one(mesos_auth_acl_action::RunTask, s("ops"), "root"));
        assert_eq!((r, d.is_none()), (R::Poisoned, true));
        let mut g = 5u64;
        // SAFETY: a live.
        let r = unsafe { mesos_auth_acl::mesos_auth_acl_generation(a, &mut g) };
        assert_eq!(r, R::Poisoned);
        assert_eq!(g, 5);
        free(a);
    }

    #[test]
    fn wrong_handle_kinds_are_refused() {
        let (_, a) = compile(POLICY, 0);
        let creds = b"tim tanstaaftanstaaf-0123\n";
        let mut c = ptr::null();
        // SAFETY: valid buffers.
        unsafe {
            crate::credentials::mesos_auth_credentials::mesos_auth_credentials_load_buffer(
                creds.as_ptr(),
                creds.len(),
                crate::credentials::mesos_auth_credentials_format::Text as u32,
                0,
                ptr::null(),
                &mut c,
            );
        }
        let (r, _) = authorize(
            c.cast(),
            &one(mesos_auth_acl_action::RunTask, s("ops"), "root"),
        );
        assert_eq!(r, R::WrongHandle);
        // SAFETY: a live handle of another kind is refused, not freed.
        let r = unsafe { mesos_auth_acl::mesos_auth_acl_free(c.cast()) };
        assert_eq!(r, R::WrongHandle);
        // SAFETY: both live, freed once each.
        unsafe {
            assert_eq!(
                crate::credentials::mesos_auth_credentials::mesos_auth_credentials_free(a.cast()),
                R::WrongHandle
            );
            assert_eq!(
                crate::credentials::mesos_auth_credentials::mesos_auth_credentials_free(c),
                R::Ok
            );
        }
        free(a);
    }

    /// Several threads decide through one handle while another reloads it.
    #[test]
    fn threads_share_and_reload_one_policy() {
        let (_, a) = compile(POLICY, 0);
        let addr = a as usize;
        let deciders: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    let a = addr as *const mesos_auth_acl;
                    for _ in 0..500 {
                        let d =
                            authorize(a, &one(mesos_auth_acl_action::RunTask, s("ops"), "root"))
                                .1
                                .unwrap();
                        // Both policies allow ops/root; the generation only grows.
                        assert!(d.allowed);
                    }
                })
            })
            .collect();
        for i in 0..50 {
            let t = if i % 2 == 0 {
                "{\"permissive\": true}"
            } else {
                POLICY
            };
            let mut g = 0u64;
            // SAFETY: a live; shared across threads by contract.
            let r = unsafe {
                mesos_auth_acl::mesos_auth_acl_reload_buffer(
                    addr as *const mesos_auth_acl,
                    t.as_ptr().cast(),
                    t.len(),
                    &mut g,
                )
            };
            assert_eq!((r, g), (R::Ok, i + 1));
        }
        for d in deciders {
            d.join().unwrap();
        }
        free(a);
    }
}

/// The TLS mapper handle: reloads swap whole rule sets while mappings run.
pub(crate) mod tls_mapper {
    use std::ffi::c_char;
    use std::ptr;

    use crate::result::mesos_auth_result as R;
    use crate::tls::mesos_auth_tls_mapper as M;

    /// Maps `alice` (as `CN` and as the principal template's `${1}`) to
    /// `a-alice`.
    pub(crate) const RULES_A: &str = r#"[
  {"source": "subject.CN", "match": "bob", "principal": "a-bob"},
  {"source": "subject.CN", "match": "(.+)", "principal": "a-${1}"}
]"#;
    /// Rejects `alice`; anyone else is `b-<CN>`. Mixing its first rule
    /// with A's second, or A's first with its second, would give an
    /// outcome neither set gives on its own.
    pub(crate) const RULES_B: &str = r#"[
  {"source": "subject.CN", "match": "alice", "action": "reject"},
  {"source": "subject.CN", "match": "(.+)", "principal": "b-${1}"}
]"#;

    /// A self-signed certificate whose subject is `CN=<cn>`, as DER.
    pub(crate) fn cert(cn: &str) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    pub(crate) fn new(rules: &str) -> *const M {
        let mut m = ptr::null();
        // SAFETY: valid buffers.
        let r = unsafe { M::mesos_auth_tls_mapper_new(rules.as_ptr().cast(), rules.len(), &mut m) };
        assert_eq!(r, R::Ok);
        m
    }

    pub(crate) fn free(m: *const M) {
        // SAFETY: m live, freed once.
        assert_eq!(unsafe { M::mesos_auth_tls_mapper_free(m) }, R::Ok);
    }

    /// The principal `der` maps to, or the result code.
    pub(crate) fn map(m: *const M, der: &[u8]) -> Result<String, R> {
        let mut buf = [0 as c_char; 257];
        let mut n = usize::MAX;
        // SAFETY: m live; buffers valid for the lengths given.
        let r = unsafe {
            M::mesos_auth_tls_mapper_map_der(
                m,
                der.as_ptr(),
                der.len(),
                ptr::null(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        if r != R::Ok {
            return Err(r);
        }
        let bytes: Vec<u8> = buf.iter().take(n).map(|&c| c as u8).collect();
        Ok(String::from_utf8(bytes).unwrap())
    }

    pub(crate) fn reload(m: *const M, rules: &str) -> (R, u64) {
        let mut g = u64::MAX;
        // SAFETY: m live; buffers valid.
        let r = unsafe {
            M::mesos_auth_tls_mapper_reload_buffer(m, rules.as_ptr().cast(), rules.len(), &mut g)
        };
        (r, g)
    }

    pub(crate) fn generation(m: *const M) -> u64 {
        let mut g = u64::MAX;
        // SAFETY: m live; g writable.
        let r = unsafe { M::mesos_auth_tls_mapper_generation(m, &mut g) };
        assert_eq!(r, R::Ok);
        g
    }

    fn len(m: *const M) -> usize {
        let mut n = usize::MAX;
        // SAFETY: m live; n writable.
        assert_eq!(unsafe { M::mesos_auth_tls_mapper_len(m, &mut n) }, R::Ok);
        n
    }

    pub(crate) fn last_error() -> String {
        let mut buf = [0 as c_char; 512];
        let mut n = 0usize;
        // SAFETY: buf and n valid for the lengths given.
        let r = unsafe { crate::mesos_auth_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, R::Ok);
        let bytes: Vec<u8> = buf.iter().take(n).map(|&c| c as u8).collect();
        String::from_utf8(bytes).unwrap()
    }

    /// Issue 17: a reload swaps the rule set in; an invalid one is refused
    /// with a located error and the old one keeps serving.
    #[test]
    fn reload_swaps_or_keeps_the_old_rules() {
        let alice = cert("alice");
        let carol = cert("carol");
        let m = new(RULES_A);
        assert_eq!((generation(m), len(m)), (0, 2));
        assert_eq!(map(m, &alice).as_deref(), Ok("a-alice"));

        assert_eq!(reload(m, RULES_B), (R::Ok, 1));
        assert_eq!(generation(m), 1);
        assert_eq!(map(m, &alice), Err(R::Rejected));
        assert_eq!(map(m, &carol).as_deref(), Ok("b-carol"));

        // Invalid: refused, located, nothing written, B still serves.
        let bad = "[\n  {\"source\": \"subject.CN\", \"match\": \"(\", \"principal\": \"x\"}\n]";
        assert_eq!(reload(m, bad), (R::ParseError, u64::MAX));
        let e = last_error();
        assert!(e.contains("2:"), "{e}");
        assert_eq!(reload(m, "{"), (R::ParseError, u64::MAX));
        let huge = " ".repeat(2 << 20);
        assert_eq!(reload(m, &huge), (R::LimitExceeded, u64::MAX));
        assert_eq!(generation(m), 1);
        assert_eq!(map(m, &carol).as_deref(), Ok("b-carol"));

        // Bad arguments.
        // SAFETY: NULL out / NULL rules with a length are refused.
        unsafe {
            assert_eq!(
                M::mesos_auth_tls_mapper_reload_buffer(
                    m,
                    RULES_A.as_ptr().cast(),
                    RULES_A.len(),
                    ptr::null_mut()
                ),
                R::NullParameter
            );
            let mut g = 0;
            assert_eq!(
                M::mesos_auth_tls_mapper_reload_buffer(m, ptr::null(), 3, &mut g),
                R::NullParameter
            );
            assert_eq!(
                M::mesos_auth_tls_mapper_reload_buffer(
                    ptr::null(),
                    RULES_A.as_ptr().cast(),
                    RULES_A.len(),
                    &mut g
                ),
                R::NullParameter
            );
            assert_eq!(
                M::mesos_auth_tls_mapper_generation(m, ptr::null_mut()),
                R::NullParameter
            );
        }
        assert_eq!(generation(m), 1);

        // A second reference sees the same rule set, reloads included.
        let mut m2 = ptr::null();
        // SAFETY: m live; m2 writable.
        let r = unsafe { M::mesos_auth_tls_mapper_up_ref(m, &mut m2) };
        assert_eq!(r, R::Ok);
        assert_eq!(reload(m2, RULES_A), (R::Ok, 2));
        assert_eq!(map(m, &alice).as_deref(), Ok("a-alice"));
        free(m2);
        free(m);
        // A released reference is refused.
        assert_eq!(reload(m, RULES_A).0, R::WrongHandle);
    }

    /// Issue 17: mappings during reloads each see one whole rule set: every
    /// outcome is A's or B's, never anything else, and both are seen.
    #[test]
    fn threads_map_while_rules_reload() {
        let alice = cert("alice");
        let m = new(RULES_A);
        let addr = m as usize;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mappers: Vec<_> = (0..3)
            .map(|_| {
                let alice = alice.clone();
                let stop = std::sync::Arc::clone(&stop);
                std::thread::spawn(move || {
                    let (mut a, mut b) = (0u32, 0u32);
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) || a + b < 200 {
                        match map(addr as *const M, &alice) {
                            Ok(p) if p == "a-alice" => a += 1,
                            Err(R::Rejected) => b += 1,
                            other => panic!("a mix of rule sets: {other:?}"),
                        }
                    }
                    (a, b)
                })
            })
            .collect();
        for i in 0..400u64 {
            let rules = if i % 2 == 0 { RULES_B } else { RULES_A };
            assert_eq!(reload(addr as *const M, rules), (R::Ok, i + 1));
            if i % 50 == 0 {
                std::thread::yield_now();
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (mut a, mut b) = (0, 0);
        for t in mappers {
            let (x, y) = t.join().unwrap();
            a += x;
            b += y;
        }
        assert!(a > 0 && b > 0, "a {a}, b {b}");
        free(m);
    }
}
