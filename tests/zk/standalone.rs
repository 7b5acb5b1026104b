//! One standalone server: push, get, watch, reload; an invalid version
//! written behind push's back; two concurrent pushes; three masters
//! converging; ZooKeeper down at start and mid-way; session expiry.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use mesos_auth::acl::{self, AclHandle, Action, Compiler, Object, Request};
use mesos_auth::audit::{AuditSink, Event, MemorySink};
use mesos_auth::zk::{
    self, ConnectOptions, Expect, PolicyKind, PolicyWatch, PushOptions, StalePolicy, Startup,
    WatchOptions, ZkError, ZkEvent, ZkUrl,
};

use super::server::{self, Extra, Server, wait_until};

/// Allows `ops` to run as `root` and `dev` as `web`.
const ALLOW: &[u8] = br#"{"permissive": false, "run_tasks": [
  {"principals": {"values": ["ops"]}, "users": {"values": ["root"]}},
  {"principals": {"values": ["dev"]}, "users": {"values": ["web"]}}]}"#;
/// Allows neither.
const DENY: &[u8] = br#"{"permissive": false}"#;
const BROKEN: &str = r#"{"permissive": tru"#;

fn ops_root() -> Request<'static> {
    Request::new(Action::RunTasks, Some("ops"), Object::One("root"))
}

fn dev_web() -> Request<'static> {
    Request::new(Action::RunTasks, Some("dev"), Object::One("web"))
}

fn open() -> PushOptions {
    PushOptions::new(ConnectOptions::new()).insecure_open_acl(true)
}

fn handle(src: &[u8]) -> Arc<AclHandle> {
    Arc::new(
        AclHandle::from_str(
            std::str::from_utf8(src).unwrap(),
            Compiler::new(),
            acl::Options::new(),
        )
        .unwrap(),
    )
}

/// Keeps the `zk` events, readable while the watcher runs.
#[derive(Default)]
pub(crate) struct Events(Mutex<Vec<ZkEvent>>);

impl AuditSink for Events {
    fn record(&self, event: &dyn Event) {
        if let Some(e) = event.downcast_ref::<ZkEvent>() {
            self.0.lock().unwrap().push(e.clone());
        }
    }
}

fn events(sink: &Events) -> Vec<ZkEvent> {
    sink.0.lock().unwrap().clone()
}

/// Writes `data` with ZooKeeper's own Java CLI: a writer that bypasses
/// `zk push` and its checks.
fn zk_cli_set(port: u16, path: &str, data: &str) {
    let out = std::process::Command::new("/usr/bin/java")
        .args([
            "-Xmx64m",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            "/usr/share/java/zookeeper.jar",
        ])
        .arg("org.apache.zookeeper.ZooKeeperMain")
        .args(["-server", &format!("127.0.0.1:{port}"), "set", path, data])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zkCli set: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[test]
fn push_get_watch_refuse_cas_converge() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let zk = Server::standalone(root.path(), &Extra::default());
    zk.wait_ready();
    let url = ZkUrl::parse(&zk.url("/mesos-auth/acls")).unwrap();

    // Checked before any connection: an invalid file is never written.
    match zk::push(&url, PolicyKind::Acls, BROKEN.as_bytes(), &open()) {
        Err(ZkError::Invalid {
            version: -1,
            reason,
            ..
        }) => assert!(reason.contains("1:19"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Unauthenticated: no open znode unless asked, never for credentials.
    let plain = PushOptions::new(ConnectOptions::new());
    let refused = zk::push(&url, PolicyKind::Acls, ALLOW, &plain);
    assert!(
        matches!(refused, Err(ZkError::UnsafeAcl { .. })),
        "{refused:?}"
    );
    let creds = url.with_path("/mesos-auth/credentials").unwrap();
    let creds_json =
        br#"{"credentials": [{"principal": "ops", "secret": "correct-horse-battery-staple"}]}"#;
    let refused = zk::push(&creds, PolicyKind::Credentials, creds_json, &open());
    assert!(
        matches!(refused, Err(ZkError::UnsafeAcl { .. })),
        "{refused:?}"
    );
    assert!(matches!(
        zk::get(&url, &ConnectOptions::new()),
        Err(ZkError::NoNode { .. })
    ));

    // Create, read back.
    let pushed = zk::push(&url, PolicyKind::Acls, ALLOW, &open()).unwrap();
    assert_eq!((pushed.previous, pushed.version), (None, 0));
    let got = zk::get(&url, &ConnectOptions::new()).unwrap();
    assert_eq!((got.data.as_slice(), got.version), (ALLOW, 0));

    // A master: starts from ZooKeeper (the fallback content differs).
    let policy = handle(DENY);
    let sink = Arc::new(Events::default());
    let watch = PolicyWatch::start(
        url.clone(),
        policy.clone(),
        WatchOptions::new(ConnectOptions::new())
            .startup(Startup::RequireZk(Duration::from_secs(20))),
        sink.clone(),
    )
    .unwrap();
    assert_eq!(watch.status().version, Some(0));
    assert!(policy.authorize(&ops_root()).is_allowed());

    // A push is seen through the persistent watch.
    let pushed = zk::push(&url, PolicyKind::Acls, DENY, &open()).unwrap();
    assert_eq!((pushed.previous, pushed.version), (Some(0), 1));
    assert!(wait_until(Duration::from_secs(10), || watch
        .status()
        .version
        == Some(1)));
    assert!(!policy.authorize(&ops_root()).is_allowed());

    // Invalid content written behind push's back: refused, last good kept,
    // the event names the znode version.
    let generation = policy.snapshot().generation();
    zk_cli_set(zk.port, "/mesos-auth/acls", BROKEN);
    assert!(wait_until(Duration::from_secs(10), || {
        events(&sink)
            .iter()
            .any(|e| matches!(e, ZkEvent::Refused { version: 2, .. }))
    }));
    let refused = events(&sink)
        .into_iter()
        .find(|e| matches!(e, ZkEvent::Refused { .. }))
        .unwrap();
    let ZkEvent::Refused {
        znode,
        serving,
        reason,
        ..
    } = &refused
    else {
        unreachable!()
    };
    assert_eq!((znode.as_str(), *serving), ("/mesos-auth/acls", Some(1)));
    assert!(
        reason.contains("version 2") && reason.contains("1:19"),
        "{reason}"
    );
    let status = watch.status();
    assert_eq!(status.version, Some(1));
    assert!(status.last_error.unwrap().contains("version 2"));
    assert_eq!(policy.snapshot().generation(), generation);
    assert!(!policy.authorize(&ops_root()).is_allowed());

    // Two concurrent pushes based on the same version: exactly one wins.
    let barrier = Arc::new(Barrier::new(2));
    let racers: Vec<_> = [ALLOW, DENY]
        .into_iter()
        .map(|body| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let options = open().expect(Expect::Version(2));
                barrier.wait();
                zk::push(&url, PolicyKind::Acls, body, &options)
            })
        })
        .collect();
    let results: Vec<_> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let lost = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        matches!(lost, ZkError::Conflict { expected: 2, .. }),
        "{lost:?}"
    );
    assert!(lost.to_string().contains("another writer"));
    assert!(wait_until(Duration::from_secs(10), || watch
        .status()
        .version
        == Some(3)));
    drop(watch);

    converge(&url);
}

/// Three in-process masters watch one znode; each push alternates ALLOW
/// and DENY. Reports p50/p99 of push-to-applied on every master, and
/// checks that no decision, taken while swaps happen, sees a mix.
fn converge(url: &ZkUrl) {
    let masters: Vec<_> = (0..3)
        .map(|_| {
            let policy = handle(DENY);
            let watch = PolicyWatch::start(
                url.clone(),
                policy.clone(),
                WatchOptions::new(ConnectOptions::new()),
                Arc::new(MemorySink::new()),
            )
            .unwrap();
            (policy, watch)
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = masters
        .iter()
        .map(|(policy, _)| {
            let (policy, stop, checked) = (policy.clone(), stop.clone(), checked.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // One decision = one snapshot: both requests must be
                    // answered by the same whole policy.
                    let snap = policy.snapshot();
                    let a = snap.authorize(&ops_root()).is_allowed();
                    let b = snap.authorize(&dev_web()).is_allowed();
                    assert_eq!(a, b, "a mixed policy at generation {}", snap.generation());
                    checked.fetch_add(1, Ordering::Relaxed);
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    let mut samples = Vec::new();
    let mut version = zk::get(url, &ConnectOptions::new()).unwrap().version;
    for round in 0..20 {
        let body = if round % 2 == 0 { ALLOW } else { DENY };
        let start = Instant::now();
        let pushed = zk::push(
            url,
            PolicyKind::Acls,
            body,
            &open().expect(Expect::Version(version)),
        )
        .unwrap();
        version = pushed.version;
        let mut pending: Vec<usize> = (0..masters.len()).collect();
        let deadline = start + Duration::from_secs(10);
        while !pending.is_empty() && Instant::now() < deadline {
            pending.retain(|&i| {
                if masters[i].1.status().version == Some(version) {
                    samples.push(start.elapsed());
                    false
                } else {
                    true
                }
            });
            std::thread::sleep(Duration::from_micros(200));
        }
        assert!(
            pending.is_empty(),
            "masters {pending:?} did not apply version {version}"
        );
        for (policy, _) in &masters {
            assert_eq!(policy.authorize(&ops_root()).is_allowed(), round % 2 == 0);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    samples.sort();
    let (p50, p99) = (percentile(&samples, 50), percentile(&samples, 99));
    eprintln!(
        "zk convergence, 3 masters x 20 pushes (push start to applied): p50 {p50:?}, p99 {p99:?}, {} mixed-policy checks",
        checked.load(Ordering::Relaxed)
    );
    assert!(checked.load(Ordering::Relaxed) > 0);
    // The goal is 100 ms on loopback; the bound leaves room for a loaded CI.
    assert!(p99 < Duration::from_secs(2), "p99 {p99:?}");
}

#[test]
fn down_at_start_and_mid_way() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let port = server::free_port();
    let url = ZkUrl::parse(&format!("zk://127.0.0.1:{port}/m/acls")).unwrap();
    let fast = || {
        WatchOptions::new(ConnectOptions::new().session_timeout(Duration::from_secs(4)))
            .retry(Duration::from_millis(100))
            // Far beyond the waits below: what arrives came by the watch.
            .resync(Duration::from_secs(60))
    };

    // Down at start: refused when ZooKeeper is required, clearly.
    let err = PolicyWatch::start(
        url.clone(),
        handle(DENY),
        fast().startup(Startup::RequireZk(Duration::from_millis(800))),
        Arc::new(MemorySink::new()),
    )
    .unwrap_err();
    assert!(matches!(err, ZkError::Startup { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/m/acls") && err.to_string().contains("cannot connect"),
        "{err}"
    );

    // ... or the local fallback serves until ZooKeeper is there.
    let closed = handle(ALLOW);
    let sink = Arc::new(Events::default());
    let bound = Duration::from_millis(1500);
    let fail_closed = PolicyWatch::start(
        url.clone(),
        closed.clone(),
        fast()
            .startup(Startup::Fallback)
            .stale(StalePolicy::FailClosed { after: bound }),
        sink.clone(),
    )
    .unwrap();
    assert_eq!(fail_closed.status().version, None);
    assert!(closed.authorize(&ops_root()).is_allowed());

    // ZooKeeper comes up on that port with a policy.
    let mut zk = Server::standalone_on(root.path(), port);
    zk.wait_ready();
    zk::push(&url, PolicyKind::Acls, DENY, &open()).unwrap();
    assert!(wait_until(Duration::from_secs(15), || fail_closed
        .status()
        .version
        == Some(0)));
    assert!(!closed.authorize(&ops_root()).is_allowed());
    let serving = handle(ALLOW);
    let keep_sink = Arc::new(Events::default());
    let keep = PolicyWatch::start(
        url.clone(),
        serving.clone(),
        fast().stale_log_after(Duration::from_millis(500)),
        keep_sink.clone(),
    )
    .unwrap();
    fail_closed.check_fresh().unwrap();

    // Down mid-way: both keep serving, the age grows; after the bound the
    // fail-closed one refuses decisions, the other only logs.
    zk.kill();
    assert!(wait_until(Duration::from_secs(10), || !fail_closed
        .status()
        .connected));
    std::thread::sleep(Duration::from_millis(300));
    let age = fail_closed.status().since_contact;
    assert!(age > Duration::ZERO);
    std::thread::sleep(Duration::from_millis(200));
    assert!(fail_closed.status().since_contact > age);
    assert!(wait_until(Duration::from_secs(10), || fail_closed
        .check_fresh()
        .is_err()));
    let err = fail_closed.check_fresh().unwrap_err();
    assert!(
        err.to_string().contains("failing closed") && err.to_string().contains("/m/acls"),
        "{err}"
    );
    assert!(fail_closed.status().fail_closed);
    keep.check_fresh().unwrap();
    assert!(
        !serving.authorize(&ops_root()).is_allowed(),
        "last good policy keeps serving"
    );
    assert!(wait_until(Duration::from_secs(5), || {
        events(&sink).iter().any(|e| {
            matches!(
                e,
                ZkEvent::Stale {
                    fail_closed: true,
                    ..
                }
            )
        }) && events(&keep_sink).iter().any(|e| {
            matches!(
                e,
                ZkEvent::Stale {
                    fail_closed: false,
                    ..
                }
            )
        })
    }));

    // Back: fresh again, and a change made now arrives.
    zk.start();
    zk.wait_ready();
    assert!(wait_until(Duration::from_secs(20), || fail_closed
        .check_fresh()
        .is_ok()));
    zk::push(&url, PolicyKind::Acls, ALLOW, &open()).unwrap();
    let both = wait_until(Duration::from_secs(10), || {
        fail_closed.status().version == Some(1) && keep.status().version == Some(1)
    });
    assert!(
        both,
        "{:?}\n{:?}\n{:?}\n{:?}",
        fail_closed.status(),
        keep.status(),
        events(&sink),
        events(&keep_sink)
    );
    assert!(closed.authorize(&ops_root()).is_allowed());
}

#[test]
fn session_expiry_rewatches_and_misses_nothing() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let zk = Server::standalone(root.path(), &Extra::default());
    zk.wait_ready();
    let url = ZkUrl::parse(&zk.url("/e/acls")).unwrap();
    zk::push(&url, PolicyKind::Acls, DENY, &open()).unwrap();
    let policy = handle(DENY);
    let sink = Arc::new(Events::default());
    let watch = PolicyWatch::start(
        url.clone(),
        policy.clone(),
        WatchOptions::new(ConnectOptions::new().session_timeout(Duration::from_millis(1000)))
            .retry(Duration::from_millis(100))
            .resync(Duration::from_secs(60)),
        sink.clone(),
    )
    .unwrap();
    assert_eq!(watch.status().version, Some(0));

    // Freeze the server past the session timeout: on thaw it expires the
    // session, and the watcher must open a new one.
    let pid = zk.pid().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        std::process::Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .unwrap()
            .success()
    );
    // A change made while the watcher has no session is not missed.
    zk::push(&url, PolicyKind::Acls, ALLOW, &open()).unwrap();
    assert!(wait_until(Duration::from_secs(15), || watch
        .status()
        .version
        == Some(1)));
    assert!(policy.authorize(&ops_root()).is_allowed());
    let expired = events(&sink)
        .iter()
        .any(|e| matches!(e, ZkEvent::Disconnected { reason, .. } if reason.contains("Expired")));
    assert!(expired, "{:?}", events(&sink));
    // And the new session's watch works.
    zk::push(&url, PolicyKind::Acls, DENY, &open()).unwrap();
    assert!(wait_until(Duration::from_secs(10), || watch
        .status()
        .version
        == Some(2)));

    // A watcher whose thread dies (here a target that panics) is not taken
    // for a live one: its contact ages and the fail-closed bound applies.
    let dead = PolicyWatch::start(
        url,
        Arc::new(Panics),
        WatchOptions::new(ConnectOptions::new())
            .startup(Startup::Fallback)
            .stale(StalePolicy::FailClosed {
                after: Duration::from_millis(300),
            }),
        Arc::new(Events::default()),
    )
    .unwrap();
    assert!(wait_until(Duration::from_secs(10), || dead
        .check_fresh()
        .is_err()));
    assert!(!dead.status().connected);
}

struct Panics;

impl zk::PolicyTarget for Panics {
    fn kind(&self) -> PolicyKind {
        PolicyKind::Acls
    }

    fn apply(&self, _: &[u8]) -> Result<u64, String> {
        panic!("a target that panics");
    }
}
