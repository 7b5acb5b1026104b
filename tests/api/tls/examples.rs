//! The 18 example mappings of tls-identity.md §10, driven by
//! tests/data/tls/examples.json, each with a freshly issued certificate.

use mesos_auth::tls::{LeafFacts, Mapper, VerifiedLeaf};
use serde_json::Value;

use super::pki::{Ca, LeafSpec, issue};

const EXAMPLES: &str = include_str!("../../data/tls/examples.json");
const RULES_A: &str = include_str!("../../data/tls/rules-a.json");

fn rules_text(rules: &Value) -> String {
    match rules {
        Value::String(s) if s == "A" => RULES_A.to_owned(),
        Value::String(s) if s == "A+DEFAULT" => {
            let mut v: Vec<Value> = serde_json::from_str(RULES_A).unwrap();
            v.push(Value::String("DEFAULT".into()));
            serde_json::to_string(&v).unwrap()
        }
        other => serde_json::to_string(other).unwrap(),
    }
}

fn strings(case: &Value, key: &str) -> Vec<String> {
    case.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn section_10_examples() {
    let ops = Ca::new(&[("O", "Acme"), ("CN", "Ops CA")]);
    let other = Ca::new(&[("O", "Acme"), ("CN", "Other CA")]);
    let cases: Vec<Value> = serde_json::from_str(EXAMPLES).unwrap();
    assert_eq!(cases.len(), 18);
    for case in &cases {
        let n = case["case"].as_u64().unwrap();
        let rules = rules_text(&case["rules"]);
        let expect = &case["expect"];
        if let Some(needle) = expect.get("load_error") {
            let err = Mapper::from_json(&rules).expect_err(&format!("case {n} must not load"));
            let text = err.to_string();
            assert!(
                text.contains(needle.as_str().unwrap()),
                "case {n}: error {text:?}"
            );
            continue;
        }
        let mapper = Mapper::from_json(&rules).unwrap_or_else(|e| panic!("case {n}: {e}"));
        let spec = LeafSpec {
            subject: case["subject"]
                .as_array()
                .unwrap()
                .iter()
                .map(|rdn| {
                    rdn.as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect()
                })
                .collect(),
            dns: strings(case, "dns"),
            uri: strings(case, "uri"),
            email: strings(case, "email"),
            ..LeafSpec::default()
        };
        let ca = if case.get("issuer").and_then(Value::as_str) == Some("other") {
            &other
        } else {
            &ops
        };
        let leaf = issue(ca, &spec);
        let facts = LeafFacts::parse(leaf.der.as_ref()).unwrap();
        if let Some(dn) = case.get("dn") {
            assert_eq!(facts.subject_dn(), dn.as_str().unwrap(), "case {n}");
        }
        let verified = VerifiedLeaf::from_der_verified_elsewhere(leaf.der.clone());
        let (_, result) = mapper.explain(&verified);
        match (expect.get("principal"), expect.get("reject")) {
            (Some(p), None) => {
                let mapped = result.unwrap_or_else(|r| panic!("case {n}: rejected: {r}"));
                assert_eq!(mapped.principal().as_str(), p.as_str().unwrap(), "case {n}");
                assert_eq!(
                    mapped.rule().index() as u64,
                    expect["rule"].as_u64().unwrap(),
                    "case {n}"
                );
                assert_eq!(mapper.map(&verified).unwrap(), *mapped.principal());
            }
            (None, Some(why)) => {
                let rejection = result.expect_err(&format!("case {n} must be rejected"));
                let text = rejection.to_string();
                let why = why.as_str().unwrap();
                assert!(text.contains(why), "case {n}: {text:?} lacks {why:?}");
            }
            _ => unreachable!("case {n}: bad expectation"),
        }
    }
}
