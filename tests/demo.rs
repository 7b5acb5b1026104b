//! The end-to-end demo's flow (examples/demo/flow.rs), run without printing:
//! real TLS handshakes and CRAM-MD5 exchanges on loopback, every outcome
//! asserted.

#[path = "../examples/demo/flow.rs"]
mod flow;

use flow::{Answer, Attempt, Auth, Source};
use mesos_auth::acl::AclList;
use mesos_auth::acl::DecisionEvent;
use mesos_auth::sasl::{AuthEvent, AuthResult, FailureReason, Side};
use mesos_auth::tls::MappingEvent;

/// What each client should be told: action, objects, allowed, deciding ACL
/// (`None`: no ACL matched).
type Expected = (
    &'static str,
    &'static [&'static str],
    bool,
    Option<(AclList, u32)>,
);

const MARATHON: &[Expected] = &[
    (
        "register_framework",
        &["web", "web/frontend"],
        true,
        Some((AclList::RegisterFrameworks, 0)),
    ),
    ("run_task", &["svc-web"], true, Some((AclList::RunTasks, 2))),
    ("run_task", &["root"], false, Some((AclList::RunTasks, 1))),
];

const SPARK: &[Expected] = &[
    (
        "register_framework",
        &["analytics/batch"],
        true,
        Some((AclList::RegisterFrameworks, 1)),
    ),
    (
        "register_framework",
        &["analytics/batch", "web"],
        false,
        None,
    ),
    (
        "run_task",
        &["svc-data"],
        true,
        Some((AclList::RunTasks, 3)),
    ),
    ("run_task", &["nobody"], true, Some((AclList::RunTasks, 4))),
    ("run_task", &["root"], false, Some((AclList::RunTasks, 1))),
];

fn check_answers(who: &str, got: &[Answer], want: &[Expected]) {
    assert_eq!(got.len(), want.len(), "{who}: {got:?}");
    for (a, (action, objects, allowed, rule)) in got.iter().zip(want) {
        assert_eq!(a.action, *action, "{who}");
        assert_eq!(a.objects, *objects, "{who}");
        assert_eq!(a.allowed, *allowed, "{who}: {a:?}");
        match rule {
            Some((list, index)) => {
                assert!(
                    a.rule.starts_with(&format!("{}[{index}]", list.key())),
                    "{who}: {a:?}"
                );
                assert!(a.reason.starts_with("decided by ACL"), "{who}: {a:?}");
            }
            None => {
                assert_eq!(a.rule, "", "{who}: {a:?}");
                assert_eq!(a.reason, "no ACL matched, permissive = false");
            }
        }
    }
}

#[test]
fn demo_flow_outcomes() {
    let report = flow::run().unwrap();

    // Clean shutdown: 4 client threads, 7 connections, the accept loop.
    assert!(report.listener_closed);
    assert_eq!(report.threads_joined, 4 + 7 + 1);

    // Who authenticated how.
    let names: Vec<_> = report.clients.iter().map(|c| c.name).collect();
    assert_eq!(names, ["marathon", "spark", "guesser", "laptop"]);
    let [marathon, spark, guesser, laptop] = report.clients.as_slice() else {
        panic!("four clients");
    };
    assert_eq!(marathon.auth, Auth::Certificate("marathon".into()));
    check_answers("marathon", &marathon.answers, MARATHON);
    assert_eq!(spark.auth, Auth::CramMd5("spark".into()));
    check_answers("spark", &spark.answers, SPARK);

    // The guesser: free failures plus the one that started the delay are
    // checked and refused; the next attempt is throttled without a check.
    let Auth::CramMd5Refused(attempts) = &guesser.auth else {
        panic!("guesser: {:?}", guesser.auth);
    };
    let checked = flow::FREE_FAILURES as usize + 1;
    assert_eq!(attempts.len(), checked + 1, "{attempts:?}");
    assert!(attempts[..checked].iter().all(|a| *a == Attempt::Failed));
    assert!(
        matches!(&attempts[checked], Attempt::Throttled(t) if t.starts_with("too many failed attempts, retry in ")),
        "{attempts:?}"
    );
    assert!(guesser.answers.is_empty());

    assert_eq!(
        laptop.auth,
        Auth::CertificateRefused("certificate not accepted".into())
    );
    assert!(laptop.answers.is_empty());

    // Audit: TLS mappings.
    let tls: Vec<_> = report
        .audit
        .iter()
        .filter_map(|e| e.downcast_ref::<MappingEvent>())
        .collect();
    assert_eq!(tls.len(), 2);
    assert_eq!(tls[0].outcome, "mapped");
    assert_eq!(
        tls[0].principal.as_ref().map(|p| p.as_str()),
        Some("marathon")
    );
    assert_eq!(tls[0].rule, "rule 1 `frameworks`");
    assert_eq!(tls[0].subject_dn.as_deref(), Some("CN=marathon,O=Acme"));
    assert_eq!(
        tls[0].san_uri,
        ["spiffe://prod.example.org/mesos/framework/marathon"]
    );
    assert_eq!(tls[1].outcome, "rejected");
    assert_eq!(tls[1].principal, None);
    assert_eq!(tls[1].rule, "no rule");
    assert_eq!(
        tls[1].subject_dn.as_deref(),
        Some("CN=dev-laptop-17,O=Acme")
    );
    assert_eq!(tls[0].leaf_sha256.len(), 64);

    // Audit: SASL outcomes, all from the master's side.
    let sasl: Vec<_> = report
        .audit
        .iter()
        .filter_map(|e| e.downcast_ref::<AuthEvent>())
        .collect();
    assert_eq!(sasl.len(), 1 + checked + 1, "{sasl:?}");
    assert!(sasl.iter().all(|s| s.side == Side::Authenticator));
    assert!(sasl.iter().all(|s| s.mechanism == "CRAM-MD5"));
    assert_eq!(sasl[0].result, AuthResult::Completed);
    assert_eq!(sasl[0].principal.as_deref(), Some("spark"));
    assert_eq!(sasl[0].peer.as_deref(), Some("scheduler-spark@127.0.0.1"));
    for s in &sasl[1..=checked] {
        assert_eq!(s.result, AuthResult::Failed);
        assert_eq!(s.reason, Some(FailureReason::BadDigest));
        assert_eq!(s.principal.as_deref(), Some("airflow"));
        assert_eq!(s.peer.as_deref(), Some("scheduler-guesser@127.0.0.1"));
    }
    let throttled = sasl[checked + 1];
    assert_eq!(throttled.result, AuthResult::Error);
    assert_eq!(throttled.error.as_deref(), Some("authentication discarded"));
    assert_eq!(
        throttled.peer.as_deref(),
        Some("scheduler-guesser@127.0.0.1")
    );

    // Audit: one ACL event per decision, matching what the client was told.
    let acl: Vec<_> = report
        .audit
        .iter()
        .filter_map(|e| e.downcast_ref::<DecisionEvent>())
        .collect();
    let told: Vec<_> = [("marathon", MARATHON), ("spark", SPARK)]
        .iter()
        .flat_map(|(p, want)| want.iter().map(move |w| (*p, w)))
        .collect();
    assert_eq!(acl.len(), told.len());
    for (event, (principal, (action, objects, allowed, rule))) in acl.iter().zip(&told) {
        assert_eq!(event.principal.as_deref(), Some(*principal));
        assert_eq!(event.action.to_string(), *action);
        assert_eq!(event.objects, *objects);
        assert_eq!(event.allowed, *allowed);
        assert_eq!(event.rule.map(|r| (r.list, r.index)), *rule);
    }
    assert_eq!(report.audit.len(), tls.len() + sasl.len() + acl.len());

    // The trace holds each audit event as one JSON line, in order.
    let lines: Vec<_> = report
        .trace
        .iter()
        .filter(|l| l.source == Source::Audit)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(lines.len(), report.audit.len());
    for (line, event) in lines.iter().zip(&report.audit) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let component = event.component();
        assert!(["tls", "sasl", "acl"].contains(&component), "{event:?}");
        assert_eq!(v["component"], component, "{line}");
        assert!(v["time"].as_f64().is_some_and(|t| t > 0.0), "{line}");
    }

    // The throttle note comes after the checked failures.
    let texts: Vec<_> = report.trace.iter().map(|l| l.text.as_str()).collect();
    let throttle_at = texts
        .iter()
        .position(|t| t.contains("throttled (this peer failed too often)"))
        .unwrap();
    let failures_before = texts[..throttle_at]
        .iter()
        .filter(|t| t.contains("CRAM-MD5 failed"))
        .count();
    assert_eq!(failures_before, checked);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("mode 0644 copy is refused"))
    );

    // No secret anywhere: not in the audit, not in the trace, and no
    // CRAM-MD5 digest (32 hex digits) either.
    let secrets = [flow::SPARK_SECRET, flow::AIRFLOW_SECRET]
        .into_iter()
        .chain(flow::WRONG_SECRETS);
    for secret in secrets {
        for l in &report.trace {
            assert!(!l.text.contains(secret), "secret in {l:?}");
        }
    }
    for l in &report.trace {
        let digest_like = l
            .text
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|w| w.len() == 32);
        assert!(!digest_like, "digest-like text in {l:?}");
    }
}
