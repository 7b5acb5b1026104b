//! `mesos-auth tls map`: exit codes 0 / 1 / 2 and `--explain`.

use std::process::Command;

use super::pki::{Ca, LeafSpec, issue};

fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mesos-auth"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn tls_map_exit_codes_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(&[("O", "Acme"), ("CN", "Ops CA")]);
    let agent = issue(
        &ca,
        &LeafSpec::subject(&[&["C=US"], &["O=Acme"], &["OU=agents"], &["CN=Agent-7"]]),
    );
    let stranger = issue(
        &ca,
        &LeafSpec {
            dns: vec!["Web.Example.com".into()],
            ..LeafSpec::subject(&[&["CN=stranger"]])
        },
    );
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("agent.pem"), &agent.pem).unwrap();
    std::fs::write(p("stranger.pem"), &stranger.pem).unwrap();
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tls-rules.json");
    std::fs::write(
        p("bad.json"),
        "[\n  {\"source\": \"dn\", \"match\": \"(x)\", \"principal\": \"$1x\"}\n]",
    )
    .unwrap();
    std::fs::write(p("junk.pem"), "not a certificate").unwrap();

    let os = |s: &str| std::ffi::OsString::from(s);
    let map = |rules: &str, cert: &std::path::Path, explain: bool| {
        let mut a = vec![
            os("tls"),
            os("map"),
            os("--rules"),
            os(rules),
            os("--cert"),
            cert.as_os_str().to_owned(),
        ];
        if explain {
            a.push(os("--explain"));
        }
        let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
        run(&refs)
    };

    assert_eq!(
        map(rules, &p("agent.pem"), false),
        (0, "agent:agent-7\n".into(), String::new())
    );

    let (code, out, _) = map(rules, &p("stranger.pem"), true);
    assert_eq!(code, 1);
    assert!(out.contains("subject:    CN=stranger\n"), "{out}");
    assert!(out.contains("issuer:     CN=Ops CA,O=Acme\n"), "{out}");
    assert!(out.contains("san.dns     web.example.com\n"), "{out}");
    assert!(out.contains("rule:       no rule\n"), "{out}");
    assert!(
        out.ends_with("rejected: no rule produced a principal\n"),
        "{out}"
    );

    let (code, out, _) = map(rules, &p("agent.pem"), true);
    assert_eq!(code, 0);
    assert!(out.contains("rule:       rule 2 `agents`\n"), "{out}");

    let bad = p("bad.json");
    let (code, out, err) = map(bad.to_str().unwrap(), &p("agent.pem"), false);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error: 2:49: $[0].principal: the template names group `1x`, which the pattern does not have\n"
    );
    let (code, _, err) = map(rules, &p("junk.pem"), false);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: bad PEM certificates"), "{err}");
    let (code, _, err) = map(rules, &p("missing.pem"), false);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}
