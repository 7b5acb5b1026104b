//! A compiled ACL decision allocates nothing (issue 2): a counting global
//! allocator around `authorize` for every request shape, hits and misses.
//! Its own test binary, because the allocator is process-wide.
#![allow(missing_docs, reason = "test binary")]

use mesos_auth_zeroize_test::{ALLOCATIONS, Counting};
use std::sync::atomic::Ordering;

use mesos_auth::acl::{self, Action, Compiler, LegacyQuotaOp, Object, Request};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn decisions_do_not_allocate() {
    let long = "x".repeat(5000);
    let mut text = String::from(
        r#"{"permissive": false,
        "register_frameworks": [
          {"principals": {"values": ["ops"]}, "roles": {"values": ["eng/%", "web", "a"]}},
          {"principals": {"type": "ANY"}, "roles": {"values": ["pub/%", "pub"]}},
          {"principals": {"type": "NONE"}, "roles": {"values": ["secret"]}}],
        "run_tasks": ["#,
    );
    for i in 0..1000 {
        text.push_str(&format!(
            r#"{{"principals": {{"values": ["fw-{i}"]}}, "users": {{"values": ["user-{i}"]}}}},"#
        ));
    }
    text.push_str(
        r#"{"principals": {"values": ["a-principal-longer-than-sixteen-bytes"]}, "users": {"type": "ANY"}}],
        "update_quotas": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
        "register_agents": [{"principals": {"values": ["agent"]}, "agents": {"type": "ANY"}}]}"#,
    );
    let src = acl::parse(&text).unwrap();
    let compiled = Compiler::new().compile(&src).unwrap();
    let many = ["web", "eng/a/b", "pub/x"];
    let requests = [
        Request::new(Action::RunTasks, Some("fw-0"), Object::One("user-0")),
        Request::new(Action::RunTasks, Some("fw-999"), Object::One("user-999")),
        Request::new(
            Action::RunTasks,
            Some("fw-unknown"),
            Object::One("user-unknown"),
        ),
        Request::new(Action::RunTasks, None, Object::Absent),
        Request::new(
            Action::RunTasks,
            Some("a-principal-longer-than-sixteen-bytes"),
            Object::One("a-user-name-longer-than-sixteen-bytes"),
        ),
        Request::new(Action::RunTasks, Some("fw\u{0}"), Object::One("user-0")),
        Request::new(Action::RunTasks, Some(&long), Object::One("user-0")),
        Request::new(
            Action::RegisterFrameworks,
            Some("ops"),
            Object::One("eng/web/prod"),
        ),
        Request::new(Action::RegisterFrameworks, None, Object::One("pub/x/y")),
        Request::new(Action::RegisterFrameworks, Some("ops"), Object::many(&many)),
        Request::new(Action::RegisterFrameworks, Some("ops"), Object::many(&[])),
        Request::new(Action::RegisterFrameworks, Some("ops"), Object::One("a//b")),
        Request::new(Action::RegisterFrameworks, Some("x"), Object::One("secret")),
        Request::new(
            Action::RegisterAgents,
            Some("agent"),
            Object::One("ignored"),
        ),
        Request::new(Action::UpdateQuotas, Some("ops"), Object::One("r"))
            .legacy_quota_op(LegacyQuotaOp::SetQuota),
    ];
    let mut seen = Vec::with_capacity(requests.len());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for r in &requests {
        seen.push(compiled.authorize(r));
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "decisions allocated");
    // Positive control: the counter does see an allocation.
    drop(std::hint::black_box(Box::new(0u64)));
    assert!(
        ALLOCATIONS.load(Ordering::SeqCst) > after,
        "the counting allocator is not installed"
    );
    // The decisions are real ones (a hit, a miss, a deny of a bad request).
    assert!(seen[0].is_allowed() && seen[1].is_allowed());
    assert!(!seen[2].is_allowed() && seen[2].rule().is_none());
    assert!(!seen[5].is_allowed() && !seen[6].is_allowed());
    assert!(seen[7].is_allowed() && seen[8].is_allowed() && seen[9].is_allowed());
    assert!(!seen[12].is_allowed());
}
