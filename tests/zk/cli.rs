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

/// Lays out znodes as Mesos 1.11 does under `--zk=zk://.../mesos`, with one
/// instance of each finding, and the library's own base znode.
fn mesos_layout(port: u16) {
    use zookeeper_client as zkc;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let servers = format!("127.0.0.1:{port}");
        let open = zkc::Client::connect(&servers).await.unwrap();
        // Mesos with `--zk_auth` (`zk://mesos:mesos@.../mesos`): anyone
        // reads, the creator (digest `mesos`, password `mesos`) does all.
        let weak = zkc::Client::connect(&servers).await.unwrap();
        weak.auth("digest", b"mesos:mesos").await.unwrap();
        let strong = zkc::Client::connect(&servers).await.unwrap();
        strong
            .auth("digest", b"ops:Vq3!r8Lz-e2Xp9#mTt4wY")
            .await
            .unwrap();
        let everyone_read_creator_all = || {
            let mut acls = zkc::Acls::creator_all().to_vec();
            acls.extend(zkc::Acls::anyone_read().iter().cloned());
            acls
        };
        let acls = everyone_read_creator_all();
        let guarded = zkc::CreateMode::Persistent.with_acls(zkc::Acls::new(&acls));
        let guarded_seq = zkc::CreateMode::PersistentSequential.with_acls(zkc::Acls::new(&acls));
        let unsafe_open = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
        let read_only = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_read());

        // The election group, created without `--zk_auth`: open to anyone.
        open.create("/mesos", b"", &unsafe_open).await.unwrap();
        // A master with the weak digest (its member is guarded otherwise).
        let (stat, _) = weak
            .create("/mesos/json.info_", b"{}", &guarded_seq)
            .await
            .unwrap();
        assert!(stat.version >= 0);
        // An old master without `--zk_auth`: its protobuf member is open.
        open.create("/mesos/info_0000000001", b"", &unsafe_open)
            .await
            .unwrap();
        // The replicated log's group, guarded by a strong digest: clean.
        strong
            .create("/mesos/log_replicas", b"", &guarded)
            .await
            .unwrap();
        // One replica's member left open (by a replica without `--zk_auth`
        // in a group created with it).
        strong
            .create("/mesos/log_replicas/0000000000", b"", &unsafe_open)
            .await
            .unwrap();
        // ZooKeeper state storage's registry entry, guarded: clean.
        strong
            .create("/mesos/registry", b"", &guarded)
            .await
            .unwrap();
        // Our base znode, guarded, and credentials anyone reads.
        strong.create("/mesos-auth", b"", &guarded).await.unwrap();
        strong
            .create("/mesos-auth/credentials", b"{}", &read_only)
            .await
            .unwrap();
    });
}

/// ZooKeeper's digest, computed here with openssl (independently of the
/// library's).
fn sha1_b64(s: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new("sh")
        .args(["-c", "openssl sha1 -binary | base64"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    text(&out.stdout).trim().to_owned()
}

#[test]
fn audit_of_a_mesos_tree() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    // ZooKeeper shows digest hashes only to a session with ADMIN on the
    // znode: the operator audits as the `super` user (password `Adm1n-z`).
    let super_digest = "super:sGoiK9Ioih86v8oYPiUdeYPUnZo=";
    assert_eq!(
        super_digest,
        format!("super:{}", sha1_b64("super:Adm1n-z")),
        "the test's super digest"
    );
    let extra = Extra {
        props: vec![format!(
            "zookeeper.DigestAuthenticationProvider.superDigest={super_digest}"
        )],
        ..Extra::default()
    };
    let zk = Server::standalone(root.path(), &extra);
    zk.wait_ready();
    mesos_layout(zk.port);
    let (mesos, ours) = (zk.url("/mesos"), zk.url("/mesos-auth"));
    let password = root.path().join("super.pw");
    std::fs::write(&password, "Adm1n-z\n").unwrap();
    let password = password.display().to_string();
    let as_super = [
        "--digest-user",
        "super",
        "--digest-password-file",
        &password,
    ];

    let mut args = vec!["zk", "audit", "--json", &mesos, &ours];
    args.extend(as_super);
    let out = cli(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tls"], false);
    assert_eq!(report["authenticated"], true);
    assert_eq!(report["znodes"], 8, "{report}");
    let findings: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_owned();
            (s("path"), s("role"), s("kind"))
        })
        .collect();
    let weak_member = report["visited"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|z| {
            let p = z["path"].as_str().unwrap();
            p.starts_with("/mesos/json.info_").then(|| p.to_owned())
        })
        .unwrap();
    let want = [
        ("-", "connection", "no_tls"),
        ("/mesos", "election_group", "world_writable"),
        (&weak_member, "election_member", "weak_digest"),
        (
            "/mesos/info_0000000001",
            "election_member",
            "world_writable",
        ),
        (
            "/mesos/log_replicas/0000000000",
            "log_replicas",
            "world_writable",
        ),
        (
            "/mesos-auth/credentials",
            "credentials",
            "readable_credentials",
        ),
    ];
    let mut want: Vec<(String, String, String)> = want
        .iter()
        .map(|(p, r, k)| ((*p).to_owned(), (*r).to_owned(), (*k).to_owned()))
        .collect();
    let mut got = findings.clone();
    want.sort();
    got.sort();
    // Exactly these: the guarded log group, the registry and the strong
    // digest are clean; the connection is reported once for both trees.
    assert_eq!(got, want, "{report}");

    // Each znode's ACL against what it should be; no digest hash shown.
    let visited = report["visited"].as_array().unwrap();
    let registry = visited
        .iter()
        .find(|z| z["path"] == "/mesos/registry")
        .unwrap();
    assert_eq!(registry["role"], "registry");
    assert_eq!(
        registry["acl"],
        serde_json::json!(["digest:ops:<hash>:rwcda", "world:anyone:r"])
    );
    assert!(registry["expected"].as_str().unwrap().contains("masters"));
    assert!(!text(&out.stdout).contains("rlJGHx66"), "digest hash shown");

    // Anonymous, in text: one line per finding, naming the role; the
    // weak digest is out of sight (ZooKeeper masks the hash).
    let out = cli(&["zk", "audit", &mesos]);
    assert_eq!(out.status.code(), Some(1));
    let lines = text(&out.stdout);
    assert!(
        lines.contains(
            "/mesos: world_writable (election_group): anyone may write, create, delete, admin"
        ) && lines.contains("-: unauthenticated (connection)")
            && !lines.contains("weak_digest"),
        "{lines}"
    );

    // A missing root is an error (exit 2), as `acl check` on a missing file.
    let out = cli(&["zk", "audit", &zk.url("/nowhere")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`/nowhere` does not exist"),
        "{}",
        text(&out.stderr)
    );
}

const RULES: &str = include_str!("../../examples/tls-rules.json");

#[test]
fn multi_push_is_all_or_nothing() {
    use mesos_auth::zk::{self, ConnectOptions, Expect, PolicyKind, PushOptions, ZkError, ZkUrl};
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
    let acls1 = file("a1.json", "{\"permissive\": false}\n");
    let acls2 = file("a2.json", "{\"permissive\": true}\n");
    let rules1 = file("r1.json", RULES);
    let rules2 = file("r2.json", &format!("{RULES}\n"));

    // Both znodes in one push.
    let out = cli(&[
        "zk",
        "push",
        "--acls",
        &acls1,
        "--tls-rules",
        &rules1,
        "--insecure-open-acl",
        &base,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("created version 0").count(), 2, "{stdout}");

    // Another writer changes the rules behind our back: a push based on
    // version 0 of both fails as a whole; the ACLs (still at version 0,
    // which would have matched) are not written either.
    let open = || PushOptions::new(ConnectOptions::new()).insecure_open_acl(true);
    let rules_url = ZkUrl::parse(&zk.url("/mesos-auth/tls-rules")).unwrap();
    let acls_url = ZkUrl::parse(&zk.url("/mesos-auth/acls")).unwrap();
    zk::push(&rules_url, PolicyKind::TlsRules, RULES.as_bytes(), &open()).unwrap();
    let out = cli(&[
        "zk",
        "push",
        "--acls",
        &acls2,
        "--tls-rules",
        &rules2,
        "--expect-version",
        "0",
        &base,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "`/mesos-auth/tls-rules` changed under us: expected version 0, another writer got there first; none of the 2 znodes of this push was written"
        ),
        "{}",
        text(&out.stderr)
    );
    let acls = zk::get(&acls_url, &ConnectOptions::new()).unwrap();
    assert_eq!(
        (acls.version, acls.data.as_slice()),
        (0, &b"{\"permissive\": false}\n"[..])
    );

    // Two pushes of both znodes at once, each creating them: exactly one
    // wins, and both znodes hold the winner's content.
    let race = |i: usize| {
        let acls: &[u8] = if i == 0 {
            b"{\"permissive\": false}"
        } else {
            b"{\"permissive\": true}"
        };
        let rules = if i == 0 {
            RULES.to_owned()
        } else {
            format!("{RULES} ")
        };
        let a = ZkUrl::parse(&zk.url("/race/acls")).unwrap();
        let r = ZkUrl::parse(&zk.url("/race/tls-rules")).unwrap();
        let items = [
            (&a, PolicyKind::Acls, acls),
            (&r, PolicyKind::TlsRules, rules.as_bytes()),
        ];
        zk::push_many(&items, &open().expect(Expect::Absent))
    };
    let barrier = std::sync::Barrier::new(2);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    race(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winner = results.iter().position(Result::is_ok).unwrap();
    let loser = &results[1 - winner];
    assert!(
        matches!(loser, Err(ZkError::MultiConflict { znodes: 2, .. })),
        "{results:?}"
    );
    let read =
        |p: &str| zk::get(&ZkUrl::parse(&zk.url(p)).unwrap(), &ConnectOptions::new()).unwrap();
    let (a, r) = (read("/race/acls"), read("/race/tls-rules"));
    assert_eq!(a.data.ends_with(b"true}"), winner == 1);
    assert_eq!(r.data.ends_with(b" "), winner == 1);
}
