//! The C API's ZooKeeper watch against a real ZooKeeper (Debian's package,
//! started here on loopback, as the core's tests/zk do). Without ZooKeeper
//! installed the test fails, unless `MESOS_AUTH_ZK_TESTS=skip`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mesos_auth::zk::{self, ConnectOptions, PolicyKind, PushOptions, ZkUrl};

use super::*;

const ZK_JAR: &str = "/usr/share/java/zookeeper.jar";
const JAVA: &str = "/usr/bin/java";

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn available() -> bool {
    if Path::new(ZK_JAR).exists() && Path::new(JAVA).exists() {
        return true;
    }
    assert_eq!(
        std::env::var("MESOS_AUTH_ZK_TESTS").as_deref(),
        Ok("skip"),
        "ZooKeeper not found: install `zookeeper`, or set MESOS_AUTH_ZK_TESTS=skip"
    );
    false
}

fn start_zk() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=100\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\n4lw.commands.whitelist=srvr\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let child = Command::new(JAVA)
        .args([
            "-Xmx128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            ZK_JAR,
        ])
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    assert!(
        wait_until(Duration::from_secs(30), || srvr(port)),
        "ZooKeeper not serving"
    );
    server
}

fn srvr(port: u16) -> bool {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    // A server still starting may accept and never answer.
    if s.set_read_timeout(Some(Duration::from_secs(2))).is_err() {
        return false;
    }
    let mut out = String::new();
    s.write_all(b"srvr").is_ok() && s.read_to_string(&mut out).is_ok() && out.contains("Mode:")
}

fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// Writes `data` with ZooKeeper's own Java CLI (creating the znode open to
/// anyone), bypassing `zk push` and its checks.
fn zk_cli(port: u16, args: &[&str]) {
    let out = Command::new(JAVA)
        .args(["-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", ZK_JAR])
        .arg("org.apache.zookeeper.ZooKeeperMain")
        .args(["-server", &format!("127.0.0.1:{port}")])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

const ALLOW: &str = r#"{"permissive": false, "run_tasks": [
  {"principals": {"values": ["ops"]}, "users": {"values": ["root"]}},
  {"principals": {"values": ["dev"]}, "users": {"values": ["web"]}}]}"#;
const ONE: &str = r#"{"permissive": false, "run_tasks": [
  {"principals": {"values": ["ops"]}, "users": {"values": ["root"]}}]}"#;
const DENY: &str = r#"{"permissive": false}"#;

fn rules(acl: *const mesos_auth_acl) -> usize {
    let mut n = usize::MAX;
    // SAFETY: a live handle, a local out.
    let r = unsafe { mesos_auth_acl::mesos_auth_acl_rule_count(acl, &mut n) };
    assert_eq!(r, mesos_auth_result::Ok);
    n
}

fn status(w: *const mesos_auth_zk_watch) -> mesos_auth_zk_status {
    let mut s = std::mem::MaybeUninit::<mesos_auth_zk_status>::uninit();
    // SAFETY: a live handle, a local out.
    let r = unsafe { mesos_auth_zk_watch::mesos_auth_zk_watch_status(w, s.as_mut_ptr()) };
    assert_eq!(r, mesos_auth_result::Ok);
    // SAFETY: written on success.
    unsafe { s.assume_init() }
}

fn config(startup_ms: u32, fail_closed_ms: u32) -> mesos_auth_zk_config {
    let none = mesos_auth_str::EMPTY;
    mesos_auth_zk_config {
        tls_ca_file: none,
        tls_cert_file: none,
        tls_key_file: none,
        sasl_user: none,
        sasl_password_file: none,
        session_timeout_ms: 2000,
        startup_timeout_ms: startup_ms,
        fail_closed_after_ms: fail_closed_ms,
        sasl_gssapi_principal: none,
        sasl_gssapi_keytab: none,
        sasl_gssapi_ccache: none,
        sasl_gssapi_service: none,
        sasl_gssapi_host: none,
    }
}

fn watch_acl(
    acl: *const mesos_auth_acl,
    url: &str,
    config: &mesos_auth_zk_config,
) -> Result<*const mesos_auth_zk_watch, mesos_auth_result> {
    let mut w = std::ptr::null();
    // SAFETY: live handle, valid views and out.
    let r = unsafe {
        mesos_auth_zk_watch::mesos_auth_zk_watch_acl(
            acl,
            url.as_ptr().cast(),
            url.len(),
            config,
            &mut w,
        )
    };
    if r == mesos_auth_result::Ok {
        Ok(w)
    } else {
        Err(r)
    }
}

#[test]
fn watch_feeds_the_acl_and_credentials_handles_and_fails_closed() {
    if !available() {
        return;
    }
    let mut zk = start_zk();
    let port = zk.port;
    let url = format!("zk://127.0.0.1:{port}/mesos-auth/acls");
    let open = PushOptions::new(ConnectOptions::new()).insecure_open_acl(true);
    let acls_url = ZkUrl::parse(&url).unwrap();
    zk::push(&acls_url, PolicyKind::Acls, ALLOW.as_bytes(), &open).unwrap();

    // The handle starts from its own (local) policy: nothing allowed.
    let mut acl = std::ptr::null();
    // SAFETY: valid buffer and out.
    let r = unsafe {
        mesos_auth_acl::mesos_auth_acl_compile_buffer(
            DENY.as_ptr().cast(),
            DENY.len(),
            0,
            std::ptr::null(),
            &mut acl,
        )
    };
    assert_eq!(r, mesos_auth_result::Ok);
    assert_eq!(rules(acl), 0);

    // Bad input: a clear error, nothing started.
    let bad = watch_acl(acl, "http://x/acls", &config(0, 0));
    assert_eq!(bad.err(), Some(mesos_auth_result::InvalidParameter));
    let nowhere = watch_acl(acl, "zk://127.0.0.1:1/acls", &config(300, 0));
    assert_eq!(nowhere.err(), Some(mesos_auth_result::ZkUnavailable));
    assert!(last_error_text().contains("/acls"), "{}", last_error_text());

    // Start-up waits for the first valid version: it serves on return.
    let w = watch_acl(acl, &url, &config(10_000, 400)).unwrap();
    assert_eq!(rules(acl), 2);
    let s = status(w);
    assert_eq!((s.version, s.connected, s.fail_closed), (0, true, false));
    assert!(s.policy_age_ms < 10_000);
    // SAFETY: a live handle.
    let fresh = unsafe { mesos_auth_zk_watch::mesos_auth_zk_watch_check_fresh(w) };
    assert_eq!(fresh, mesos_auth_result::Ok);

    // A push reaches the handle.
    zk::push(&acls_url, PolicyKind::Acls, ONE.as_bytes(), &open).unwrap();
    assert!(wait_until(Duration::from_secs(5), || rules(acl) == 1));
    assert_eq!(status(w).version, 1);

    // An invalid version written behind push's back: refused, the last
    // good one keeps serving, the reason readable.
    zk_cli(port, &["set", "/mesos-auth/acls", "{\"permissive\":tru"]);
    assert!(wait_until(Duration::from_secs(5), || {
        let mut buf = [0 as c_char; 512];
        let mut n = 0;
        // SAFETY: live handle, a local buffer of that length.
        let r = unsafe {
            mesos_auth_zk_watch::mesos_auth_zk_watch_last_error(
                w,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        r == mesos_auth_result::Ok && n > 0
    }));
    assert_eq!((rules(acl), status(w).version), (1, 1));

    // Credentials: a znode written by another tool, swapped into the handle.
    zk_cli(
        port,
        &[
            "create",
            "/mesos-auth/credentials",
            r#"{"credentials":[{"principal":"a","secret":"x-1"},{"principal":"b","secret":"y-2"}]}"#,
        ],
    );
    let creds_json = br#"{"credentials": [{"principal": "a", "secret": "x-1"}]}"#;
    let mut creds = std::ptr::null();
    // SAFETY: valid buffer and out.
    let r = unsafe {
        crate::credentials::mesos_auth_credentials::mesos_auth_credentials_load_buffer(
            creds_json.as_ptr(),
            creds_json.len(),
            2,
            0,
            std::ptr::null(),
            &mut creds,
        )
    };
    assert_eq!(r, mesos_auth_result::Ok);
    let curl = format!("zk://127.0.0.1:{port}/mesos-auth/credentials");
    let mut cw = std::ptr::null();
    // SAFETY: live handle, valid views and out.
    let r = unsafe {
        mesos_auth_zk_watch::mesos_auth_zk_watch_credentials(
            creds,
            curl.as_ptr().cast(),
            curl.len(),
            &config(10_000, 0),
            &mut cw,
        )
    };
    assert_eq!(r, mesos_auth_result::Ok, "{}", last_error_text());
    let mut n = 0;
    // SAFETY: live handle, local out.
    let r = unsafe {
        crate::credentials::mesos_auth_credentials::mesos_auth_credentials_count(creds, &mut n)
    };
    assert_eq!((r, n), (mesos_auth_result::Ok, 2));

    // ZooKeeper gone: the ACL watch fails closed after its bound, the
    // credentials watch (no bound) keeps serving.
    let _ = zk.child.kill();
    let _ = zk.child.wait();
    assert!(wait_until(Duration::from_secs(10), || {
        // SAFETY: a live handle.
        let r = unsafe { mesos_auth_zk_watch::mesos_auth_zk_watch_check_fresh(w) };
        r == mesos_auth_result::Stale
    }));
    let s = status(w);
    // Stale means more than 400 ms, which whole milliseconds show as 400.
    assert!(
        !s.connected && s.fail_closed && s.since_contact_ms >= 400,
        "{s:?}"
    );
    // SAFETY: a live handle.
    let fresh = unsafe { mesos_auth_zk_watch::mesos_auth_zk_watch_check_fresh(cw) };
    assert_eq!(fresh, mesos_auth_result::Ok);

    // Stopped: the handles keep their last policy and stay usable.
    // SAFETY: each reference freed once.
    unsafe {
        assert_eq!(
            mesos_auth_zk_watch::mesos_auth_zk_watch_free(w),
            mesos_auth_result::Ok
        );
        assert_eq!(
            mesos_auth_zk_watch::mesos_auth_zk_watch_free(cw),
            mesos_auth_result::Ok
        );
        assert_eq!(
            mesos_auth_zk_watch::mesos_auth_zk_watch_free(std::ptr::null()),
            mesos_auth_result::Ok
        );
    }
    assert_eq!(rules(acl), 1);
    // SAFETY: each handle freed once.
    unsafe {
        assert_eq!(
            mesos_auth_acl::mesos_auth_acl_free(acl),
            mesos_auth_result::Ok
        );
        assert_eq!(
            crate::credentials::mesos_auth_credentials::mesos_auth_credentials_free(creds),
            mesos_auth_result::Ok
        );
    }
}

fn view(s: &'static str) -> mesos_auth_str {
    mesos_auth_str {
        data: s.as_ptr().cast(),
        len: s.len(),
    }
}

/// The GSSAPI fields' errors, before and at the start: no ZooKeeper, no
/// KDC needed (the keytab is checked before any connection).
#[test]
fn gssapi_config_errors_fail_the_start_and_name_the_field() {
    let mut acl = std::ptr::null();
    let deny = r#"{"permissive": false}"#;
    // SAFETY: valid buffer and out.
    let r = unsafe {
        mesos_auth_acl::mesos_auth_acl_compile_buffer(
            deny.as_ptr().cast(),
            deny.len(),
            0,
            std::ptr::null(),
            &mut acl,
        )
    };
    assert_eq!(r, mesos_auth_result::Ok);
    let url = "zk://127.0.0.1:1/mesos-auth/acls";

    let mut half = config(1000, 0);
    half.sasl_gssapi_keytab = view("/etc/zk-master.keytab");
    assert_eq!(
        watch_acl(acl, url, &half).unwrap_err(),
        mesos_auth_result::InvalidParameter
    );
    assert!(
        last_error_text().contains("need sasl_gssapi_principal"),
        "{}",
        last_error_text()
    );

    let mut both = config(1000, 0);
    both.sasl_gssapi_principal = view("zkmaster@MESOS.TEST");
    both.sasl_gssapi_keytab = view("/nonexistent/zk-master.keytab");
    both.sasl_user = view("master");
    both.sasl_password_file = view("/nonexistent/password");
    assert_eq!(
        watch_acl(acl, url, &both).unwrap_err(),
        mesos_auth_result::InvalidParameter
    );
    assert!(
        last_error_text().contains("exclude each other"),
        "{}",
        last_error_text()
    );

    let mut missing = config(1000, 0);
    missing.sasl_gssapi_principal = view("zkmaster@MESOS.TEST");
    missing.sasl_gssapi_keytab = view("/nonexistent/zk-master.keytab");
    let r = watch_acl(acl, url, &missing).unwrap_err();
    let text = last_error_text();
    if cfg!(feature = "gssapi") {
        // Refused at the start, naming the keytab: nothing connected.
        assert_eq!(r, mesos_auth_result::ZkUnavailable, "{text}");
        assert!(
            text.contains("Kerberos keytab `/nonexistent/zk-master.keytab`"),
            "{text}"
        );
    } else {
        assert_eq!(r, mesos_auth_result::InvalidParameter, "{text}");
        assert!(text.contains("built without GSSAPI"), "{text}");
    }
    // SAFETY: the handle from compile, freed once.
    unsafe { mesos_auth_acl::mesos_auth_acl_free(acl) };
}

fn watch_tls_rules(
    mapper: *const crate::tls::mesos_auth_tls_mapper,
    url: &str,
    config: &mesos_auth_zk_config,
) -> Result<*const mesos_auth_zk_watch, mesos_auth_result> {
    let mut w = std::ptr::null();
    // SAFETY: live handle, valid views and out; no audit.
    let r = unsafe {
        mesos_auth_zk_watch::mesos_auth_zk_watch_tls_rules(
            mapper,
            url.as_ptr().cast(),
            url.len(),
            config,
            std::ptr::null(),
            &mut w,
        )
    };
    if r == mesos_auth_result::Ok {
        Ok(w)
    } else {
        Err(r)
    }
}

fn free_watch(w: *const mesos_auth_zk_watch) {
    // SAFETY: a live reference, freed once.
    let r = unsafe { mesos_auth_zk_watch::mesos_auth_zk_watch_free(w) };
    assert_eq!(r, mesos_auth_result::Ok);
}

fn watch_error(w: *const mesos_auth_zk_watch) -> String {
    let mut buf = [0 as c_char; 512];
    let mut n = 0;
    // SAFETY: live handle, a local buffer of that length.
    let r = unsafe {
        mesos_auth_zk_watch::mesos_auth_zk_watch_last_error(w, buf.as_mut_ptr(), buf.len(), &mut n)
    };
    assert_eq!(r, mesos_auth_result::Ok);
    let bytes: Vec<u8> = buf.iter().take(n).map(|&c| c as u8).collect();
    String::from_utf8(bytes).unwrap()
}

/// Issue 17: a watch feeding a TLS mapper that is past its fail-closed
/// bound makes every mapping fail with `Stale` (no ZooKeeper needed: one
/// never reached ages from the start); a keep-serving watch never does;
/// freeing the watch lets the mapper serve its last rule set again.
#[test]
fn tls_rules_watch_fails_closed_past_its_bound() {
    use crate::test::tls_mapper::{RULES_A, cert, free, map, new, reload};
    let alice = cert("alice");
    let m = new(RULES_A);
    let nowhere = "zk://127.0.0.1:1/mesos-auth/tls-rules";
    let keep = watch_tls_rules(m, nowhere, &config(0, 0)).unwrap();
    let strict = watch_tls_rules(m, nowhere, &config(0, 300)).unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        map(m, &alice) == Err(mesos_auth_result::Stale)
    }));
    let e = last_error_text();
    assert!(e.contains("/mesos-auth/tls-rules"), "{e}");
    assert!(status(strict).fail_closed && !status(keep).fail_closed);
    // A local reload still swaps the rules in, but mapping stays closed.
    assert_eq!(
        reload(m, crate::test::tls_mapper::RULES_B).0,
        mesos_auth_result::Ok
    );
    assert_eq!(map(m, &alice), Err(mesos_auth_result::Stale));
    // Freed: the gate goes with it; the keep-serving watch does not gate.
    free_watch(strict);
    assert_eq!(map(m, &alice), Err(mesos_auth_result::Rejected));
    assert_eq!(map(m, &cert("carol")).as_deref(), Ok("b-carol"));
    free_watch(keep);
    // Bad input: clear errors, nothing written.
    assert_eq!(
        watch_tls_rules(m, "http://x/tls-rules", &config(0, 0)).err(),
        Some(mesos_auth_result::InvalidParameter)
    );
    assert_eq!(
        watch_tls_rules(std::ptr::null(), nowhere, &config(0, 0)).err(),
        Some(mesos_auth_result::NullParameter)
    );
    free(m);
}

/// Issue 17: the TLS rules znode feeds a C mapper handle: pushes reach it,
/// an invalid version written behind `zk push`'s back is refused (the
/// error names the znode version) and the last good rules keep mapping.
#[test]
fn watch_feeds_the_tls_mapper() {
    use crate::test::tls_mapper::{RULES_A, RULES_B, cert, free, generation, map, new};
    if !available() {
        return;
    }
    let zk = start_zk();
    let url = format!("zk://127.0.0.1:{}/mesos-auth/tls-rules", zk.port);
    let zurl = ZkUrl::parse(&url).unwrap();
    let open = PushOptions::new(ConnectOptions::new()).insecure_open_acl(true);
    zk::push(&zurl, PolicyKind::TlsRules, RULES_A.as_bytes(), &open).unwrap();
    let alice = cert("alice");
    // The mapper starts from its local rules (B: alice rejected).
    let m = new(RULES_B);
    assert_eq!(map(m, &alice), Err(mesos_auth_result::Rejected));
    let w = watch_tls_rules(m, &url, &config(10_000, 0)).unwrap();
    assert_eq!(map(m, &alice).as_deref(), Ok("a-alice"));
    assert_eq!((status(w).version, generation(m)), (0, 1));

    zk::push(&zurl, PolicyKind::TlsRules, RULES_B.as_bytes(), &open).unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        map(m, &alice) == Err(mesos_auth_result::Rejected)
    }));
    assert_eq!(status(w).version, 1);

    zk_cli(
        zk.port,
        &["set", "/mesos-auth/tls-rules", "[{\"source\":1}]"],
    );
    assert!(wait_until(Duration::from_secs(5), || !watch_error(w).is_empty()));
    let e = watch_error(w);
    assert!(e.contains("/mesos-auth/tls-rules` version 2"), "{e}");
    assert_eq!((status(w).version, generation(m)), (1, 2));
    assert_eq!(map(m, &cert("carol")).as_deref(), Ok("b-carol"));
    free_watch(w);
    free(m);
}
