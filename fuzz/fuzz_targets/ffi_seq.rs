//! Sequences of C API calls, including NULL handles, handles of the wrong
//! kind, unknown enum values, bad UTF-8 and arbitrary peer messages, built
//! with ASan by cargo-fuzz: every call returns a known result code, no call
//! panics or touches memory it must not, and an authenticator only ever
//! completes for the credential it holds. ACL policies: compile and reload
//! arbitrary text, decide arbitrary requests; deciding many objects at once
//! agrees with deciding them one by one, and an explanation exists for every
//! decision.
#![no_main]

use std::ffi::c_char;
use std::ptr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mesos_auth_ffi::{
    mesos_auth_acl, mesos_auth_acl_decision, mesos_auth_acl_object, mesos_auth_acl_request,
    mesos_auth_authenticatee, mesos_auth_authenticator, mesos_auth_bytes, mesos_auth_credentials,
    mesos_auth_message, mesos_auth_result, mesos_auth_str, mesos_auth_tls_mapper,
};

#[derive(Arbitrary, Debug)]
enum Op {
    Reload {
        data: Vec<u8>,
    },
    NewServer {
        timeout_ms: u64,
        wrong_kind: bool,
    },
    NewClient {
        principal: Vec<u8>,
        secret: Vec<u8>,
    },
    FeedServer {
        kind: u32,
        mechanism: Vec<u8>,
        data: Vec<u8>,
        null_msg: bool,
    },
    FeedClient {
        kind: u32,
        mechanism: Vec<u8>,
        data: Vec<u8>,
    },
    Shuttle,
    Status,
    FreeServer,
    FreeClient,
    Map {
        der: Vec<u8>,
        wrong_kind: bool,
    },
    FreeWrongKind,
    AclReload {
        text: Vec<u8>,
    },
    AclAuthorize {
        action: u32,
        principal: Option<Vec<u8>>,
        kind: u32,
        values: Vec<Vec<u8>>,
        legacy_quota_op: u32,
        wrong_kind: bool,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    format: u32,
    flags: u32,
    creds: Vec<u8>,
    rules: Vec<u8>,
    acls: Vec<u8>,
    acl_flags: u32,
    ops: Vec<Op>,
}

// JSON: FORMAT_AUTO (0, below) refuses the text format, as Mesos >= 1.11.
const CREDS: &[u8] =
    br#"{"credentials": [{"principal": "tim", "secret": "tanstaaftanstaaf-0123"}]}"#;
static FALLBACK: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

const RULES: &[u8] = br#"["RULE:^CN=([^,]+)$/$1/L"]"#;

const ACLS: &[u8] = br#"{"permissive": false,
  "register_frameworks": [{"principals": {"values": ["tim"]}, "roles": {"values": ["eng/%", "web"]}}],
  "run_tasks": [{"principals": {"type": "ANY"}, "users": {"values": ["nobody"]}},
                {"principals": {"values": ["tim"]}, "users": {"type": "ANY"}}]}"#;

fn view(b: &[u8]) -> mesos_auth_str {
    mesos_auth_str {
        data: b.as_ptr().cast::<c_char>(),
        len: b.len(),
    }
}

/// The code is one the library describes (not "unknown result code").
fn known(r: mesos_auth_result) {
    let mut buf = [0 as c_char; 128];
    let mut n = 0usize;
    // SAFETY: buf and n are valid for the lengths given.
    let got = unsafe {
        mesos_auth_ffi::mesos_auth_result_message(r as u32, buf.as_mut_ptr(), buf.len(), &mut n)
    };
    assert_eq!(got, mesos_auth_result::Ok);
    let text: Vec<u8> = buf.iter().take(n).map(|&c| c as u8).collect();
    assert_ne!(
        text, b"unknown result code",
        "result {} has no description",
        r as u32
    );
}

fn msg(kind: u32, mechanism: &[u8], data: &[u8]) -> mesos_auth_message {
    mesos_auth_message {
        kind,
        mechanism: mesos_auth_str {
            data: mechanism.as_ptr().cast::<c_char>(),
            len: mechanism.len(),
        },
        data: mesos_auth_bytes {
            data: data.as_ptr(),
            len: data.len(),
        },
    }
}

fuzz_target!(|input: Input| {
    // SAFETY (whole target): every pointer passed is NULL, a live handle of
    // this run (of the right or the wrong kind), or a valid Rust buffer of
    // the given length; freed handles are set to NULL at once.
    unsafe {
        let mut creds: *const mesos_auth_credentials = ptr::null();
        known(mesos_auth_credentials::mesos_auth_credentials_load_buffer(
            input.creds.as_ptr(),
            input.creds.len(),
            input.format,
            input.flags,
            ptr::null(),
            &mut creds,
        ));
        if !creds.is_null() {
            known(mesos_auth_credentials::mesos_auth_credentials_free(creds));
        }
        creds = ptr::null();
        assert_eq!(
            mesos_auth_credentials::mesos_auth_credentials_load_buffer(
                CREDS.as_ptr(),
                CREDS.len(),
                0,
                0,
                ptr::null(),
                &mut creds,
            ),
            mesos_auth_result::Ok
        );
        let mut mapper: *const mesos_auth_tls_mapper = ptr::null();
        known(mesos_auth_tls_mapper::mesos_auth_tls_mapper_new(
            input.rules.as_ptr().cast(),
            input.rules.len(),
            &mut mapper,
        ));
        let own_mapper = !mapper.is_null();
        if !own_mapper {
            // Compiling the regexes is the slow part: the fallback mapper is
            // built once per process and shared (it is an Arc handle).
            mapper = *FALLBACK.get_or_init(|| {
                let mut m: *const mesos_auth_tls_mapper = ptr::null();
                assert_eq!(
                    mesos_auth_tls_mapper::mesos_auth_tls_mapper_new(
                        RULES.as_ptr().cast(),
                        RULES.len(),
                        &mut m
                    ),
                    mesos_auth_result::Ok
                );
                m as usize
            }) as *const mesos_auth_tls_mapper;
        }
        let mut acl: *const mesos_auth_acl = ptr::null();
        known(mesos_auth_acl::mesos_auth_acl_compile_buffer(
            input.acls.as_ptr().cast(),
            input.acls.len(),
            input.acl_flags,
            ptr::null(),
            &mut acl,
        ));
        if acl.is_null() {
            assert_eq!(
                mesos_auth_acl::mesos_auth_acl_compile_buffer(
                    ACLS.as_ptr().cast(),
                    ACLS.len(),
                    0,
                    ptr::null(),
                    &mut acl,
                ),
                mesos_auth_result::Ok
            );
        }
        let mut server: *mut mesos_auth_authenticator = ptr::null_mut();
        let mut client: *mut mesos_auth_authenticatee = ptr::null_mut();
        let mut buf = [0 as c_char; 300];
        let mut n = 0usize;
        for op in input.ops.iter().take(64) {
            match op {
                Op::Reload { data } => {
                    let mut g = 0u64;
                    known(
                        mesos_auth_credentials::mesos_auth_credentials_reload_buffer(
                            creds,
                            data.as_ptr(),
                            data.len(),
                            &mut g,
                        ),
                    );
                }
                Op::NewServer {
                    timeout_ms,
                    wrong_kind,
                } => {
                    if !server.is_null() {
                        known(mesos_auth_authenticator::mesos_auth_authenticator_free(
                            server,
                        ));
                        server = ptr::null_mut();
                    }
                    let from = if *wrong_kind { mapper.cast() } else { creds };
                    known(mesos_auth_authenticator::mesos_auth_authenticator_new(
                        from,
                        *timeout_ms,
                        ptr::null(),
                        0,
                        ptr::null(),
                        &mut server,
                    ));
                }
                Op::NewClient { principal, secret } => {
                    if !client.is_null() {
                        known(mesos_auth_authenticatee::mesos_auth_authenticatee_free(
                            client,
                        ));
                        client = ptr::null_mut();
                    }
                    known(mesos_auth_authenticatee::mesos_auth_authenticatee_new(
                        principal.as_ptr().cast(),
                        principal.len(),
                        secret.as_ptr(),
                        secret.len(),
                        ptr::null(),
                        &mut client,
                    ));
                }
                Op::FeedServer {
                    kind,
                    mechanism,
                    data,
                    null_msg,
                } => {
                    let m = msg(*kind, mechanism, data);
                    let p = if *null_msg {
                        ptr::null()
                    } else {
                        &m as *const _
                    };
                    known(mesos_auth_authenticator::mesos_auth_authenticator_feed(
                        server, p,
                    ));
                }
                Op::FeedClient {
                    kind,
                    mechanism,
                    data,
                } => {
                    let m = msg(*kind, mechanism, data);
                    known(mesos_auth_authenticatee::mesos_auth_authenticatee_feed(
                        client, &m,
                    ));
                }
                Op::Shuttle => {
                    for _ in 0..4 {
                        let mut m = msg(0, &[], &[]);
                        known(
                            mesos_auth_authenticator::mesos_auth_authenticator_poll_output(
                                server, &mut m,
                            ),
                        );
                        if m.kind != 0 {
                            known(mesos_auth_authenticatee::mesos_auth_authenticatee_feed(
                                client, &m,
                            ));
                        }
                        let mut m = msg(0, &[], &[]);
                        known(
                            mesos_auth_authenticatee::mesos_auth_authenticatee_poll_output(
                                client, &mut m,
                            ),
                        );
                        if m.kind != 0 {
                            known(mesos_auth_authenticator::mesos_auth_authenticator_feed(
                                server, &m,
                            ));
                        }
                    }
                }
                Op::Status => {
                    let mut st = 0u32;
                    known(mesos_auth_authenticator::mesos_auth_authenticator_status(
                        server, &mut st,
                    ));
                    let mut p = mesos_auth_str {
                        data: ptr::null(),
                        len: 0,
                    };
                    let r = mesos_auth_authenticator::mesos_auth_authenticator_principal(
                        server, &mut p,
                    );
                    known(r);
                    if r == mesos_auth_result::Ok {
                        // Only the principal the store holds can complete.
                        assert_eq!(
                            std::slice::from_raw_parts(p.data.cast::<u8>(), p.len),
                            b"tim"
                        );
                    }
                    known(mesos_auth_authenticatee::mesos_auth_authenticatee_status(
                        client, &mut st,
                    ));
                    known(mesos_auth_authenticator::mesos_auth_authenticator_check_timeout(server));
                }
                Op::FreeServer => {
                    known(mesos_auth_authenticator::mesos_auth_authenticator_free(
                        server,
                    ));
                    server = ptr::null_mut();
                }
                Op::FreeClient => {
                    known(mesos_auth_authenticatee::mesos_auth_authenticatee_free(
                        client,
                    ));
                    client = ptr::null_mut();
                }
                Op::Map { der, wrong_kind } => {
                    let m = if *wrong_kind { creds.cast() } else { mapper };
                    known(mesos_auth_tls_mapper::mesos_auth_tls_mapper_map_der(
                        m,
                        der.as_ptr(),
                        der.len(),
                        ptr::null(),
                        buf.as_mut_ptr(),
                        buf.len(),
                        &mut n,
                    ));
                }
                Op::AclReload { text } => {
                    let mut g = 0u64;
                    known(mesos_auth_acl::mesos_auth_acl_reload_buffer(
                        acl,
                        text.as_ptr().cast(),
                        text.len(),
                        &mut g,
                    ));
                }
                Op::AclAuthorize {
                    action,
                    principal,
                    kind,
                    values,
                    legacy_quota_op,
                    wrong_kind,
                } => {
                    let views: Vec<mesos_auth_str> = values.iter().map(|v| view(v)).collect();
                    let first = values.first().map_or(&[][..], |v| &v[..]);
                    let object = mesos_auth_acl_object {
                        kind: *kind,
                        value: view(first),
                        values: views.as_ptr(),
                        values_len: views.len(),
                    };
                    let principal = match principal {
                        Some(p) => view(p),
                        None => mesos_auth_str {
                            data: ptr::null(),
                            len: 0,
                        },
                    };
                    let req = mesos_auth_acl_request {
                        action: *action,
                        principal,
                        object,
                        legacy_quota_op: *legacy_quota_op,
                    };
                    let h = if *wrong_kind { creds.cast() } else { acl };
                    let mut one = std::mem::MaybeUninit::<mesos_auth_acl_decision>::uninit();
                    let r = mesos_auth_acl::mesos_auth_acl_authorize(h, &req, one.as_mut_ptr());
                    known(r);
                    let r2 = mesos_auth_acl::mesos_auth_acl_explain(
                        h,
                        &req,
                        buf.as_mut_ptr(),
                        buf.len(),
                        &mut n,
                    );
                    known(r2);
                    if *wrong_kind {
                        assert_eq!(r, mesos_auth_result::WrongHandle);
                        continue;
                    }
                    // A request either gets a decision or does not, whether
                    // it is decided or explained (a short buffer aside).
                    assert_eq!(
                        r == mesos_auth_result::Ok,
                        matches!(
                            r2,
                            mesos_auth_result::Ok | mesos_auth_result::BufferTooSmall
                        ),
                        "authorize {r:?} vs explain {r2:?}"
                    );
                    // Many single-role objects at once == one by one, when
                    // no reload happens in between (none can: one thread).
                    if *legacy_quota_op != 0 {
                        continue;
                    }
                    let singles: Vec<mesos_auth_acl_object> = views
                        .iter()
                        .map(|v| mesos_auth_acl_object {
                            kind: 1,
                            value: *v,
                            values: ptr::null(),
                            values_len: 0,
                        })
                        .collect();
                    let mut many = vec![
                        std::mem::MaybeUninit::<mesos_auth_acl_decision>::uninit();
                        singles.len()
                    ];
                    let rm = mesos_auth_acl::mesos_auth_acl_authorize_many(
                        acl,
                        *action,
                        principal,
                        singles.as_ptr(),
                        singles.len(),
                        many.as_mut_ptr().cast(),
                    );
                    known(rm);
                    if rm != mesos_auth_result::Ok {
                        continue;
                    }
                    for (o, m) in singles.iter().zip(&many) {
                        let req = mesos_auth_acl_request {
                            action: *action,
                            principal,
                            object: *o,
                            legacy_quota_op: 0,
                        };
                        let mut d = std::mem::MaybeUninit::<mesos_auth_acl_decision>::uninit();
                        assert_eq!(
                            mesos_auth_acl::mesos_auth_acl_authorize(acl, &req, d.as_mut_ptr()),
                            mesos_auth_result::Ok
                        );
                        let (d, m) = (d.assume_init(), m.assume_init());
                        assert_eq!(
                            (d.allowed, d.reason, d.index),
                            (m.allowed, m.reason, m.index)
                        );
                    }
                }
                Op::FreeWrongKind => {
                    assert_eq!(
                        mesos_auth_tls_mapper::mesos_auth_tls_mapper_free(creds.cast()),
                        mesos_auth_result::WrongHandle
                    );
                }
            }
        }
        known(mesos_auth_authenticator::mesos_auth_authenticator_free(
            server,
        ));
        known(mesos_auth_authenticatee::mesos_auth_authenticatee_free(
            client,
        ));
        if own_mapper {
            known(mesos_auth_tls_mapper::mesos_auth_tls_mapper_free(mapper));
        }
        known(mesos_auth_acl::mesos_auth_acl_free(acl));
        known(mesos_auth_credentials::mesos_auth_credentials_free(creds));
    }
});
