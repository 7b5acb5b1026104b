//! `mesos-auth zk push|get|diff|audit` against a real server.

use std::process::{Command, Output};

use super::server::{self, Extra, Server};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesos-auth"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn push_get_diff_audit() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let zk = Server::standalone(root.path(), &Extra::default());
    zk.wait_ready();
    let base = zk.url("/mesos-auth");
    let file = |name: &str, body: &str| {
        let p = root.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let good = file("good.json", "{\"permissive\": false}\n");
    let other = file("other.json", "{\"permissive\": true}\n");
    let bad = file("bad.json", "{\"permissive\": fals}\n");

    // Checked as `acl check` does: an invalid file is refused, located.
    let out = cli(&["zk", "push", "--acls", &bad, "--insecure-open-acl", &base]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("bad.json: 1:"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(cli(&["zk", "get", "--acls", &base]).status.code(), Some(2));

    // Unauthenticated without the opt-in: refused, nothing written.
    let out = cli(&["zk", "push", "--acls", &good, &base]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("refusing to create"),
        "{}",
        text(&out.stderr)
    );

    let out = cli(&["zk", "push", "--acls", &good, "--insecure-open-acl", &base]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("created version 0"),
        "{}",
        text(&out.stdout)
    );

    let out = cli(&["zk", "get", "--acls", &base]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "{\"permissive\": false}\n");

    let out = cli(&["zk", "diff", "--acls", &good, &base]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = cli(&["zk", "diff", "--acls", &other, &base]);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(
        diff.contains("-1: {\"permissive\": false}") && diff.contains("+1: {\"permissive\": true}"),
        "{diff}"
    );

    // A stale expected version: refused, not overwritten.
    let out = cli(&[
        "zk",
        "push",
        "--acls",
        &other,
        "--expect-version",
        "7",
        &base,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("another writer"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&[
        "zk",
        "push",
        "--acls",
        &other,
        "--expect-version",
        "0",
        &base,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("version 0 -> version 1"),
        "{}",
        text(&out.stdout)
    );

    // The audit: the open znodes and the plaintext, anonymous session.
    let out = cli(&["zk", "audit", "--json", &base]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["znodes"], 2);
    let kinds: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("-", "no_tls"),
        ("-", "unauthenticated"),
        ("/mesos-auth", "world_writable"),
        ("/mesos-auth/acls", "world_writable"),
    ] {
        assert!(
            kinds.contains(&(want.0.to_owned(), want.1.to_owned())),
            "{want:?} in {kinds:?}"
        );
    }
}
