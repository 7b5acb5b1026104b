//! ACL benchmarks: compile time and per-decision time at 10, 1,000 and
//! 100,000 ACLs, for a request decided by the first ACL, by the last, and by
//! none (permissive), compiled vs the reference interpreter.
#![allow(
    clippy::expect_used,
    missing_docs,
    reason = "benchmark setup: a broken fixture should stop the run; criterion macros generate undocumented items"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mesos_auth::acl::{self, AclSource, Action, Compiler, Decision, Object, Request};

const SIZES: &[usize] = &[10, 1_000, 100_000];

/// Keeps a decision alive in memory where it was built, without reading it
/// back: passing the `Decision` itself through `black_box` copies it field by
/// field and re-reads it, and the loads that straddle its byte-sized stores
/// stall on store forwarding (about 7 ns a call here, more than half of a
/// compiled decision). A caller reads `is_allowed()` and perhaps the reason,
/// which forward fine.
#[inline(always)]
fn consume(d: Decision) {
    black_box(&d);
}

/// `n` run_tasks ACLs, each one principal and one user, like a per-framework
/// policy; the last one grants a role subtree in register_frameworks too.
fn policy(n: usize) -> AclSource {
    let mut s = String::from("{\"permissive\": false, \"run_tasks\": [");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"principals\": {{\"values\": [\"fw-{i}\"]}}, \"users\": {{\"values\": [\"user-{i}\"]}}}}"
        ));
    }
    s.push_str("]}");
    acl::parse(&s).expect("valid policy")
}

fn bench(c: &mut Criterion) {
    let mut compile = c.benchmark_group("acl_compile");
    compile.sample_size(10);
    for &n in SIZES {
        let src = policy(n);
        compile.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
            b.iter(|| Compiler::new().compile(black_box(src)).expect("compiles"))
        });
    }
    compile.finish();

    let mut decide = c.benchmark_group("acl_authorize");
    for &n in SIZES {
        let src = policy(n);
        let compiled = Compiler::new().compile(&src).expect("compiles");
        let last_p = format!("fw-{}", n - 1);
        let last_u = format!("user-{}", n - 1);
        let cases = [
            ("first", "fw-0", "user-0"),
            ("last", last_p.as_str(), last_u.as_str()),
            ("none", "fw-unknown", "user-unknown"),
        ];
        for (name, p, u) in cases {
            let req = Request::new(Action::RunTasks, Some(p), Object::One(u));
            decide.bench_with_input(
                BenchmarkId::new(format!("compiled/{name}"), n),
                &req,
                |b, req| b.iter(|| consume(compiled.authorize(black_box(req)))),
            );
            if n <= 1_000 || name == "first" {
                decide.bench_with_input(
                    BenchmarkId::new(format!("reference/{name}"), n),
                    &req,
                    |b, req| {
                        b.iter(|| {
                            consume(acl::reference::authorize(black_box(&src), black_box(req)))
                        })
                    },
                );
            }
        }
    }
    // A hierarchical role three levels deep, matched by a `/%` ACL.
    let src = acl::parse(
        r#"{"permissive": false, "register_frameworks": [
            {"principals": {"values": ["a"]}, "roles": {"values": ["x"]}},
            {"principals": {"values": ["ops"]}, "roles": {"values": ["eng/%"]}}]}"#,
    )
    .expect("valid");
    let compiled = Compiler::new().compile(&src).expect("compiles");
    let req = Request::new(
        Action::RegisterFrameworks,
        Some("ops"),
        Object::One("eng/web/prod"),
    );
    decide.bench_function("compiled/role_subtree_depth3", |b| {
        b.iter(|| consume(compiled.authorize(black_box(&req))))
    });
    decide.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
