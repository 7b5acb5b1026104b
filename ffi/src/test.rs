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
    ] {
        assert!(
            names.iter().any(|n| n == known),
            "scan missed {known}: {names:?}"
        );
    }
}
