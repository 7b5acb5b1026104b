//! The rsasl mechanisms (feature `rsasl`) against a real peer: the GNU SASL
//! command line tool (`gsasl`, package `gsasl`, installed by
//! `.ci/install-deps`), both directions, SCRAM-SHA-256 and CRAM-MD5, over
//! its stdin/stdout (one base64 line per message).
#![cfg(feature = "rsasl")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;

use base64::Engine as _;
use mesos_auth::credentials::{Credential, CredentialStore, ScramSha256Keys, StoredSecret};
use mesos_auth::sasl::rsasl::{PrincipalValidation, ServerCallback, client_config};
use mesos_auth::{Principal, Secret};
use rsasl::prelude::{Mechname, MessageSent, SASLClient, SASLServer, State};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn p(s: &str) -> Principal {
    Principal::new(s).unwrap()
}

/// A running `gsasl` with line-based access to its stdio. `timeout` keeps a
/// peer that stops answering from hanging the test run.
struct Gsasl {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Gsasl {
    fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new("timeout")
            .args(["20", "gsasl", "--quiet", "--no-cb"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gsasl runs (package gsasl, .ci/install-deps)");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    /// One line, without its newline; `None` at end of output.
    fn read(&mut self) -> Option<String> {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        (n > 0).then(|| line.trim_end_matches('\n').to_owned())
    }

    /// One message: a base64 line, decoded.
    fn read_message(&mut self) -> Option<Vec<u8>> {
        self.read().map(|l| B64.decode(l.trim()).unwrap())
    }

    fn write_message(&mut self, data: &[u8]) {
        if let Some(stdin) = &mut self.stdin {
            // A peer that already gave up closes its stdin; its exit status
            // tells the rest.
            let _ = writeln!(stdin, "{}", B64.encode(data));
            let _ = stdin.flush();
        }
    }

    /// Closes stdin and waits: whether gsasl reported success.
    fn finish(mut self) -> bool {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin);
        }
        self.child.wait().unwrap().success()
    }
}

fn store() -> Arc<CredentialStore> {
    let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let keys = ScramSha256Keys::derive(&Secret::new(b"pencil"), &salt, 4096).unwrap();
    Arc::new(
        CredentialStore::from_credentials([
            Credential::new(p("user"), StoredSecret::ScramSha256(keys)),
            Credential::plain(p("tim"), Secret::new(b"tanstaaftanstaaf")),
        ])
        .unwrap(),
    )
}

/// gsasl's client against our rsasl server: (gsasl's verdict, our
/// validation).
fn gsasl_client_vs_our_server(
    mechanism: &str,
    user: &str,
    password: &str,
) -> (bool, Option<Principal>) {
    let config = ServerCallback::new(store()).config().unwrap();
    let mut server = SASLServer::<PrincipalValidation>::new(config)
        .start_suggested(Mechname::parse(mechanism.as_bytes()).unwrap())
        .unwrap();
    let mut peer = Gsasl::spawn(&["--client", "-m", mechanism, "-a", user, "-p", password]);
    assert_eq!(peer.read().as_deref(), Some(mechanism));
    // gsasl's client always starts; empty for server-first mechanisms.
    let mut input = peer.read_message();
    if server.are_we_first() {
        assert_eq!(input.as_deref(), Some(&b""[..]));
        input = None;
    }
    loop {
        let mut out = Vec::new();
        let state = server.step(input.as_deref(), &mut out);
        match state {
            Ok(State::Running) => {
                peer.write_message(&out);
                input = peer.read_message();
                if input.is_none() {
                    break;
                }
            }
            Ok(State::Finished(MessageSent::Yes)) => {
                peer.write_message(&out);
                break;
            }
            Ok(State::Finished(MessageSent::No)) | Err(_) => break,
        }
    }
    let verdict = peer.finish();
    (verdict, server.validation())
}

/// Our rsasl client against gsasl's server (which accepts any user name
/// with its one `--password`): (gsasl's verdict, our client's verdict).
fn our_client_vs_gsasl_server(mechanism: &str, user: &str, password: &[u8]) -> (bool, bool) {
    let config = client_config(p(user), Secret::new(password)).unwrap();
    let offered = [Mechname::parse(mechanism.as_bytes()).unwrap()];
    let mut client = SASLClient::new(config).start_suggested(&offered).unwrap();
    assert_eq!(client.get_mechname().as_str(), mechanism);
    let mut peer = Gsasl::spawn(&["--server", "-m", mechanism, "-p", "pencil"]);
    assert_eq!(peer.read().as_deref(), Some(mechanism));
    // The server's first message; empty for client-first mechanisms.
    let mut input = peer.read_message();
    if client.are_we_first() {
        assert_eq!(input.as_deref(), Some(&b""[..]));
        input = None;
    }
    let mut ours = false;
    loop {
        let mut out = Vec::new();
        match client.step(input.as_deref(), &mut out) {
            Ok(State::Running) => {
                peer.write_message(&out);
                input = peer.read_message();
                if input.is_none() {
                    break;
                }
            }
            Ok(State::Finished(sent)) => {
                if sent == MessageSent::Yes {
                    peer.write_message(&out);
                }
                // SCRAM: the server's signature checked. CRAM-MD5: the
                // client cannot know; gsasl's verdict decides.
                ours = true;
                break;
            }
            Err(_) => break,
        }
    }
    (peer.finish(), ours)
}

#[test]
fn scram_gsasl_client_against_our_server() {
    // Stored `{SCRAM-SHA-256}` keys.
    assert_eq!(
        gsasl_client_vs_our_server("SCRAM-SHA-256", "user", "pencil"),
        (true, Some(p("user")))
    );
    // A plaintext credential, keys derived per attempt.
    assert_eq!(
        gsasl_client_vs_our_server("SCRAM-SHA-256", "tim", "tanstaaftanstaaf"),
        (true, Some(p("tim")))
    );
    // Wrong password, unknown user: refused, and gsasl notices.
    for (user, password) in [("user", "pencil2"), ("nobody", "pencil")] {
        assert_eq!(
            gsasl_client_vs_our_server("SCRAM-SHA-256", user, password),
            (false, None),
            "{user}"
        );
    }
}

#[test]
fn scram_our_client_against_gsasl_server() {
    assert_eq!(
        our_client_vs_gsasl_server("SCRAM-SHA-256", "user", b"pencil"),
        (true, true)
    );
    let (theirs, _) = our_client_vs_gsasl_server("SCRAM-SHA-256", "user", b"wrong");
    assert!(!theirs);
}

#[test]
fn cram_md5_gsasl_client_against_our_server() {
    assert_eq!(
        gsasl_client_vs_our_server("CRAM-MD5", "tim", "tanstaaftanstaaf"),
        (true, Some(p("tim")))
    );
    for (user, password) in [("tim", "wrong"), ("nobody", "tanstaaftanstaaf")] {
        let (_, validation) = gsasl_client_vs_our_server("CRAM-MD5", user, password);
        assert_eq!(validation, None, "{user}");
    }
}

#[test]
fn cram_md5_our_client_against_gsasl_server() {
    assert!(our_client_vs_gsasl_server("CRAM-MD5", "user", b"pencil").0);
    assert!(!our_client_vs_gsasl_server("CRAM-MD5", "user", b"wrong").0);
}

#[test]
fn scram_keys_match_gsasl_mkpasswd() {
    // gsasl derives the stored form on its own: RFC 7677's salt and count.
    let out = Command::new("gsasl")
        .args([
            "--mkpasswd",
            "--quiet",
            "-m",
            "SCRAM-SHA-256",
            "-p",
            "pencil",
        ])
        .args([
            "--iteration-count",
            "4096",
            "--salt",
            "W22ZaJ0SNY7soEsUEjb6gQ==",
        ])
        .output()
        .expect("gsasl runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text
        .trim()
        .strip_prefix("{SCRAM-SHA-256}")
        .unwrap()
        .split(',')
        .collect();
    let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let ours = ScramSha256Keys::derive(&Secret::new(b"pencil"), &salt, 4096).unwrap();
    assert_eq!(
        fields,
        [
            "4096",
            "W22ZaJ0SNY7soEsUEjb6gQ==",
            &B64.encode(ours.stored_key()),
            &B64.encode(ours.server_key()),
        ]
    );
}
