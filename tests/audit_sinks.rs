//! The audit sinks from outside: enriched events, and the kill test (a
//! writer killed mid-stream loses no acknowledged event).
//!
//! Its own binary, because the kill test re-runs this executable as the
//! child writer.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mesos_auth::acl::{self, Action, Compiler, DecisionEvent, Object, Request};
use mesos_auth::audit::{AsyncSink, AuditId, FileSink, FileSinkConfig, FsyncPolicy};

const CHILD_ENV: &str = "MESOS_AUTH_AUDIT_KILL_CHILD";

fn decision(n: u128) -> DecisionEvent {
    let policy = Compiler::new()
        .compile(&acl::parse(r#"{"permissive": false}"#).unwrap())
        .unwrap();
    let request = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
    DecisionEvent::new(&request, &policy.authorize(&request))
        .with_policy(&policy)
        .with_audit_id(AuditId::from_u128(n))
}

/// The child: writes numbered events through `AsyncSink<FileSink>` under
/// `Always`, printing `ACK <n>` after each acknowledgement, until killed.
/// Without the variable (a normal test run) it does nothing.
#[test]
fn kill_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let file = FileSink::open(&path, FileSinkConfig::new().fsync(FsyncPolicy::Always)).unwrap();
    let sink = AsyncSink::new(file, 64).unwrap();
    let event = decision(0);
    let mut out = std::io::stdout().lock();
    for n in 0..u128::from(u32::MAX) {
        let mut e = event.clone();
        e.audit_id = Some(AuditId::from_u128(n));
        sink.record_acked(&e, Duration::from_secs(10)).unwrap();
        writeln!(out, "ACK {n}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn a_killed_writer_loses_no_acknowledged_event() {
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    for kill_after in [1u64, 17, 150] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acked: Option<u128> = None;
        for line in lines.by_ref() {
            if let Some(n) = line.unwrap().strip_prefix("ACK ") {
                acked = Some(n.parse().unwrap());
                if acked.is_some_and(|a| a + 1 >= u128::from(kill_after)) {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "child too slow"
            );
        }
        // SIGKILL, mid-stream: no destructor, no drain.
        child.kill().unwrap();
        // What the child printed before it died was acknowledged too.
        for line in lines {
            if let Some(n) = line.unwrap().strip_prefix("ACK ") {
                acked = Some(n.parse().unwrap());
            }
        }
        child.wait().unwrap();
        let acked = acked.expect("the child acknowledged nothing");

        // The reader rule: complete lines parse; only a final line without
        // its newline may be torn.
        let text = std::fs::read_to_string(&path).unwrap();
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        let mut ids = Vec::new();
        for line in complete.lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
            assert_eq!(v["component"], "acl");
            let id: AuditId = v["audit_id"].as_str().unwrap().parse().unwrap();
            ids.push(id.as_u128());
        }
        assert!(
            ids.len() as u128 > acked,
            "kill after {kill_after}: {acked} acknowledged, {} in the file",
            ids.len()
        );
        assert_eq!(ids[..=acked as usize], (0..=acked).collect::<Vec<_>>()[..]);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn decision_events_name_the_policy_and_request() {
    let src = r#"{"permissive": false,
        "run_tasks": [{"principals": {"values": ["ops"]}, "users": {"values": ["root"]}}]}"#;
    let reformatted = r#"{"run_tasks":[{"users":{"values":["root"]},"principals":{"values":["ops"]}}],"permissive":false}"#;
    let changed = src.replace("root", "admin");
    let compile = |s: &str| Compiler::new().compile(&acl::parse(s).unwrap()).unwrap();
    let policy = compile(src);
    assert_eq!(policy.policy_hash().len(), 32);
    assert_eq!(policy.policy_hash(), compile(src).policy_hash());
    assert_eq!(policy.policy_hash(), compile(reformatted).policy_hash());
    assert_ne!(policy.policy_hash(), compile(&changed).policy_hash());
    assert_ne!(
        policy.policy_hash(),
        compile(&src.replace("false", "true")).policy_hash()
    );

    let request = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
    let id = AuditId::new();
    let event = DecisionEvent::new(&request, &policy.authorize(&request))
        .with_policy(&policy)
        .with_generation(7)
        .with_audit_id(id);
    let line = mesos_auth::audit::to_json_line(&event, std::time::SystemTime::UNIX_EPOCH);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["policy_hash"], policy.policy_hash());
    assert_eq!(v["policy_generation"], 7);
    assert_eq!(v["audit_id"], id.to_string());
    assert_eq!(v["rule"]["index"], 0);
    assert_eq!(v["allowed"], true);
    // Without them, the record keeps its old shape.
    let plain = DecisionEvent::new(&request, &policy.authorize(&request));
    let line = mesos_auth::audit::to_json_line(&plain, std::time::SystemTime::UNIX_EPOCH);
    assert!(
        !line.contains("policy_hash") && !line.contains("audit_id"),
        "{line}"
    );
}

#[test]
fn sasl_events_say_how_and_from_where() {
    use mesos_auth::credentials::{Credential, CredentialStore};
    use mesos_auth::internal::Pair;
    use mesos_auth::sasl::{Authenticatee, AuthenticatorConfig, NonceSource};
    use mesos_auth::{Principal, Secret};

    struct Fixed;
    impl NonceSource for Fixed {
        fn nonce(&mut self) -> [u8; 16] {
            [7; 16]
        }
    }
    let ops = Principal::new("ops").unwrap();
    let store = std::sync::Arc::new(
        CredentialStore::from_credentials([Credential::plain(ops.clone(), Secret::new(b"pw"))])
            .unwrap(),
    );
    let client = Authenticatee::new(ops, &Secret::new(b"pw")).unwrap();
    let now = Instant::now();
    let mut pair = Pair::new(
        store,
        AuthenticatorConfig::new().peer("scheduler@10.0.0.1:5050"),
        &mut Fixed,
        client,
        now,
    );
    pair.drive(now).unwrap();
    let id = AuditId::new();
    let ev = pair.server.poll_event().unwrap().with_audit_id(id);
    let v: serde_json::Value = serde_json::from_str(&mesos_auth::audit::to_json_line(
        &ev,
        std::time::SystemTime::UNIX_EPOCH,
    ))
    .unwrap();
    assert_eq!(v["auth_method"], "cram-md5");
    assert_eq!(v["source"], "scheduler@10.0.0.1:5050");
    assert_eq!(v["peer"], "scheduler@10.0.0.1:5050");
    assert_eq!(v["mechanism"], "CRAM-MD5");
    assert_eq!(v["audit_id"], id.to_string());
    let client_ev = pair.client.poll_event().unwrap();
    assert_eq!(client_ev.auth_method(), "cram-md5");
    assert_eq!(ev.source(), Some("scheduler@10.0.0.1:5050"));
    assert_eq!(client_ev.audit_id, None);
}
