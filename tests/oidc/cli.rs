//! `mesos-auth token check` with the provider's JWKS and tokens: the real
//! token is accepted and never printed.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use super::provider::{self, CLIENT_ID, MASTER, OTHER, Options, Provider};

fn check(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-auth"))
        .args(["token", "check"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Neither output holds the token or any of its parts.
fn assert_not_printed(out: &Output, token: &str) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        for part in token.split('.') {
            assert!(!text.contains(part), "token part printed:\n{text}");
        }
    }
}

#[test]
fn token_check_accepts_the_real_token_and_never_prints_it() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options::default());
    let issuer = p.discover().issuer;
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, p.jwks()).unwrap();
    let jwks = jwks.to_str().unwrap();
    let token = p.token(MASTER);
    let base = ["--jwks", jwks, "--issuer", &issuer, "--audience", MASTER];

    // On the command line, as `Bearer <token>` on standard input, and as
    // the JSON audit record.
    for (extra, stdin) in [
        (vec![token.as_str()], None),
        (vec!["-"], Some(format!("Bearer {token}\n"))),
        (vec!["--json", "-"], Some(token.clone())),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let out = check(&args, stdin.as_deref());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("ACCEPTED as principal \"{CLIENT_ID}\""))
                || stdout.contains(&format!("\"principal\":\"{CLIENT_ID}\"")),
            "{stdout}"
        );
        assert!(stdout.contains(&issuer), "{stdout}");
        assert_not_printed(&out, &token);
    }

    // A configuration file mapping `client_id` under a prefix.
    let config = dir.path().join("validator.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"issuers": ["{issuer}"], "audiences": ["{MASTER}"],
                "principal_rules": [{{"claim": "client_id", "strip_prefix": "mesos-"}}]}}"#
        ),
    )
    .unwrap();
    let out = check(
        &["--jwks", jwks, "--config", config.to_str().unwrap(), &token],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("ACCEPTED as principal \"scheduler\" (claim `client_id`"),
        "{stdout}"
    );

    // The provider's token for another service: rejected, exit 1, the
    // reason named, still not printed.
    let other = p.token(OTHER);
    let mut args = base.to_vec();
    args.push(&other);
    let out = check(&args, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("REJECTED (peer is told `invalid_token`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("claim `aud` names no accepted audience"),
        "{stdout}"
    );
    assert_not_printed(&out, &other);
}
