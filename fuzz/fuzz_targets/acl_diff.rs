//! Differential: the compiled evaluator decides exactly as the reference
//! interpreter on arbitrary policies and requests (small alphabets, so
//! values collide; ANY/NONE/empty entities, `/%`, several roles, no principal).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mesos_auth::acl::{self, Action, Compiler, LegacyQuotaOp, Object, Options, Request};

const NAMES: &[&str] = &[
    "a",
    "b",
    "",
    "a/b",
    "a/%",
    "a/b/%",
    "b/%",
    "*",
    "%",
    "a/b/c",
    "ab",
    "a//b",
    "x/../a",
    // Strings the compiled form screens while hashing: C1 control, Unicode
    // and ASCII whitespace, non-ASCII roles and prefixes, over 16 bytes.
    "a\u{85}b",
    "a b",
    "a\u{a0}",
    "é/%",
    "é/x",
    "-a",
    "a/\u{1}",
    "abcdefghijklmnopq/%",
    "abcdefghijklmnopq/rs",
    "abcdefghijklmnopq",
];
const LISTS: &[(&str, &str)] = &[
    ("register_frameworks", "roles"),
    ("run_tasks", "users"),
    ("reserve_resources", "roles"),
    ("unreserve_resources", "reserver_principals"),
    ("update_quotas", "roles"),
    ("get_quotas", "roles"),
    ("set_quotas", "roles"),
    ("remove_quotas", "quota_principals"),
];
const ACTIONS: &[Action] = &[
    Action::RegisterFrameworks,
    Action::RunTasks,
    Action::ReserveResources,
    Action::UnreserveResources,
    Action::UpdateQuotas,
    Action::GetQuotas,
];

#[derive(Arbitrary, Debug)]
enum E {
    Any,
    None,
    Some(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Rule {
    list: u8,
    principals: E,
    object: E,
}

#[derive(Arbitrary, Debug)]
struct Req {
    action: u8,
    principal: Option<u8>,
    object: Option<Vec<u8>>,
    many: bool,
    legacy: Option<bool>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    permissive: Option<bool>,
    rules: Vec<Rule>,
    requests: Vec<Req>,
}

fn name(i: u8) -> &'static str {
    NAMES[usize::from(i) % NAMES.len()]
}

fn entity(e: &E) -> String {
    match e {
        E::Any => r#"{"type":"ANY"}"#.into(),
        E::None => r#"{"type":"NONE"}"#.into(),
        E::Some(v) => {
            let v: Vec<&str> = v.iter().take(4).map(|i| name(*i)).collect();
            format!(r#"{{"values":{}}}"#, serde_json::to_string(&v).unwrap())
        }
    }
}

fuzz_target!(|input: Input| {
    let mut lists: Vec<Vec<String>> = vec![Vec::new(); LISTS.len()];
    for r in input.rules.iter().take(32) {
        let i = usize::from(r.list) % LISTS.len();
        lists[i].push(format!(
            r#"{{"principals":{},"{}":{}}}"#,
            entity(&r.principals),
            LISTS[i].1,
            entity(&r.object)
        ));
    }
    let mut parts: Vec<String> = input
        .permissive
        .iter()
        .map(|p| format!(r#""permissive":{p}"#))
        .collect();
    for (i, l) in lists.iter().enumerate() {
        if !l.is_empty() {
            parts.push(format!(r#""{}":[{}]"#, LISTS[i].0, l.join(",")));
        }
    }
    let text = format!("{{{}}}", parts.join(","));
    let src = acl::parse_with(&text, Options::new().lenient(true))
        .expect("generated policies parse leniently");
    let compiled = Compiler::new()
        .compile(&src)
        .expect("small policies compile");
    for r in input.requests.iter().take(16) {
        let objects: Vec<&str> = r
            .object
            .iter()
            .flatten()
            .take(4)
            .map(|i| name(*i))
            .collect();
        let object = match (&r.object, r.many, objects.first()) {
            (None, _, _) => Object::Absent,
            (Some(_), false, Some(o)) => Object::One(o),
            _ => Object::many(&objects),
        };
        let mut req = Request::new(
            ACTIONS[usize::from(r.action) % ACTIONS.len()],
            r.principal.map(name),
            object,
        );
        req.legacy_quota_op = r.legacy.map(|s| {
            if s {
                LegacyQuotaOp::SetQuota
            } else {
                LegacyQuotaOp::RemoveQuota
            }
        });
        assert_eq!(
            compiled.authorize(&req),
            acl::reference::authorize(&src, &req),
            "{text} {r:?}"
        );
    }
});
