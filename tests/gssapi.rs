//! SASL GSSAPI (Kerberos V5) against a real MIT KDC that the tests start on
//! loopback (tests/gssapi/kdc.rs), built only with `--features gssapi`.
//! Without the Kerberos tools the tests fail, naming the packages, unless
//! `MESOS_AUTH_GSSAPI_TESTS=skip` says to skip them.
//!
//! MIT Kerberos takes its realm, keytab and ticket cache from the
//! environment, which a test must not change under its siblings: each
//! scenario is an `#[ignore]`d test in `child`, run by its parent test in a
//! child process (this binary again) with the realm's variables.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod gssapi {
    pub(crate) mod kdc;
    mod session;
}

use gssapi::kdc::{self, Kdc};
use mesos_auth::Principal;
use mesos_auth::sasl::gssapi::{
    AuthToLocal, GssFailure, GssStep, GssapiClient, GssapiClientConfig, GssapiError, GssapiServer,
    GssapiServerConfig,
};
use std::sync::Arc;

const RULES: &str = r"RULE:[1:$1@$0](.*@MESOS\.TEST)s/@.*//";

fn server_config(rules: &str) -> GssapiServerConfig {
    GssapiServerConfig::new(Arc::new(
        AuthToLocal::parse(rules, Some(kdc::REALM)).unwrap(),
    ))
}

fn client(principal: &str, service: &str) -> GssapiClient {
    GssapiClient::new(GssapiClientConfig::new(
        Principal::new(principal).unwrap(),
        service,
    ))
    .unwrap()
}

#[derive(Debug)]
#[expect(
    dead_code,
    reason = "the errors are read through Debug, in failure messages"
)]
enum Failed {
    Server(GssapiError),
    Client(GssapiError),
}

/// Runs one exchange in memory: (server's principal, client's principal).
fn drive(
    server: &mut GssapiServer,
    client: &mut GssapiClient,
) -> Result<(Principal, Principal), Failed> {
    let mut to_server = match client.step(&[]).map_err(Failed::Client)? {
        GssStep::Continue(t) => t,
        GssStep::Done { .. } => panic!("client done at its first step"),
    };
    for _ in 0..8 {
        let to_client = match server.step(&to_server).map_err(Failed::Server)? {
            GssStep::Continue(t) => t,
            GssStep::Done { .. } => panic!("server done before the client's choice"),
        };
        match client.step(&to_client).map_err(Failed::Client)? {
            GssStep::Continue(t) => to_server = t,
            GssStep::Done { principal, output } => {
                let last = output.expect("the client's wrapped choice");
                return match server.step(&last).map_err(Failed::Server)? {
                    GssStep::Done {
                        principal: p,
                        output: None,
                    } => Ok((p, principal)),
                    other => panic!("server after the choice: {other:?}"),
                };
            }
        }
    }
    panic!("exchange did not end in 8 rounds")
}

fn refused_by_server(r: Result<(Principal, Principal), Failed>, want: GssFailure) -> String {
    match r {
        Err(Failed::Server(e @ GssapiError::Refused { .. })) => {
            assert_eq!(e.reason(), Some(want), "{e}");
            e.to_string()
        }
        other => panic!("expected the server to refuse with {want:?}, got {other:?}"),
    }
}

// ---- parents: each starts a realm and runs its scenario in a child ----

#[test]
fn ours_to_ours() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice"]);
    kdc.run_child("child::ours_to_ours", &kdc.ccache("alice"), &[]);
}

#[test]
fn spnego_refused() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice"]);
    kdc.run_child("child::spnego", &kdc.ccache("alice"), &[]);
}

#[test]
fn unmapped_principal_refused() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["nobody"]);
    kdc.run_child("child::unmapped", &kdc.ccache("nobody"), &[]);
}

#[test]
fn wrong_service_principal_refused() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice"]);
    kdc.run_child("child::wrong_service", &kdc.ccache("alice"), &[]);
}

#[test]
fn replayed_first_token_refused() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice"]);
    kdc.run_child("child::replay", &kdc.ccache("alice"), &[]);
}

#[test]
fn expired_ticket_refused() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice"]);
    // A 2 s ticket: the service ticket ends with it; the child waits it out
    // plus the realm's 2 s clock skew.
    let cc = kdc.kinit("alice", Some("2s"));
    kdc.run_child("child::expired", &cc, &[]);
}

#[test]
fn clock_skew_refused() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice"]);
    let faketime = std::path::Path::new("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
    assert!(
        faketime.exists(),
        "libfaketime is needed for the skewed client (.ci/install-deps), or set MESOS_AUTH_GSSAPI_TESTS=skip"
    );
    // The client's clock runs 60 s ahead (libfaketime in its process only).
    // Its service ticket comes from the KDC beforehand, at the real time:
    // the KDC would refuse a skewed TGS request itself.
    kdc.kvno("alice", "mesos/localhost");
    kdc.run_child(
        "child::skewed_client_token",
        &kdc.ccache("alice"),
        &[
            ("LD_PRELOAD", faketime.to_str().unwrap()),
            ("FAKETIME", "+60s"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    kdc.run_child("child::skewed_server", &kdc.ccache("alice"), &[]);
}

/// Compiles tests/gssapi/cyrus_gssapi_peer.c (once per process).
fn cyrus_peer() -> &'static std::path::Path {
    static PEER: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PEER.get_or_init(|| {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/gssapi/cyrus_gssapi_peer.c");
        let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cyrus_gssapi_peer");
        let status = std::process::Command::new("cc")
            .args([
                "-std=c99",
                "-Wall",
                "-Wextra",
                "-Wno-cast-function-type",
                "-Wno-unused-function",
                "-Werror",
                "-O1",
                "-o",
            ])
            .arg(&out)
            .arg(&src)
            .arg("-lsasl2")
            .status()
            .expect("cc runs");
        assert!(
            status.success(),
            "compiling cyrus_gssapi_peer (libsasl2-dev)"
        );
        out
    })
}

#[test]
fn interop_cyrus_server_our_client() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice"]);
    let peer = cyrus_peer().to_str().unwrap();
    kdc.run_child(
        "child::cyrus_server",
        &kdc.ccache("alice"),
        &[("MESOS_AUTH_GSSAPI_PEER", peer)],
    );
}

#[test]
fn interop_our_server_cyrus_client() {
    if kdc::skip() {
        return;
    }
    let kdc = Kdc::start(&["alice", "nobody"]);
    let peer = cyrus_peer().to_str().unwrap();
    kdc.run_child(
        "child::cyrus_client",
        &kdc.ccache("alice"),
        &[("MESOS_AUTH_GSSAPI_PEER", peer)],
    );
    kdc.run_child(
        "child::cyrus_client_unmapped",
        &kdc.ccache("nobody"),
        &[("MESOS_AUTH_GSSAPI_PEER", peer)],
    );
}

/// A Cyrus peer process speaking tests/gssapi/cyrus_gssapi_peer.c's lines.
struct Peer {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Peer {
    fn spawn(args: &[&str]) -> Self {
        let mut child =
            std::process::Command::new(std::env::var("MESOS_AUTH_GSSAPI_PEER").unwrap())
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        Self { child, out }
    }

    fn send(&mut self, tag: &str, data: &[u8]) {
        use std::io::Write;
        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{tag} {hex}").unwrap();
        stdin.flush().unwrap();
    }

    /// (tag, payload) of the next line.
    fn recv(&mut self) -> (String, Vec<u8>) {
        use std::io::BufRead;
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        let line = line.trim_end();
        let (tag, hex) = line.split_once(' ').unwrap_or((line, ""));
        let data = if tag == "NO" {
            hex.as_bytes().to_vec()
        } else {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        };
        (tag.to_owned(), data)
    }

    fn exit_code(mut self) -> i32 {
        drop(self.child.stdin.take());
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

// ---- children: run only by the parents above ----

mod child {
    use super::*;

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn ours_to_ours() {
        kdc::child_dir();
        // Any key in the keytab, and the one named service.
        for config in [
            server_config(RULES),
            server_config(RULES).service("mesos@localhost"),
        ] {
            let mut server = GssapiServer::new(config).unwrap();
            let mut c = client("alice", "mesos@localhost");
            let (s, c) = drive(&mut server, &mut c).unwrap();
            assert_eq!(s.as_str(), "alice");
            assert_eq!(c.as_str(), "alice");
            // Sticky end: no step after completion.
            assert!(matches!(server.step(b""), Err(GssapiError::Misuse(_))));
        }
        // Asking to be someone else than the mapping says: refused.
        let mut server = GssapiServer::new(server_config(RULES)).unwrap();
        let mut c = client("bob", "mesos@localhost");
        let msg = refused_by_server(drive(&mut server, &mut c), GssFailure::AuthzidMismatch);
        assert!(msg.contains("`bob`") && msg.contains("`alice`"), "{msg}");
        // Without an authzid the mapping decides.
        let mut server = GssapiServer::new(server_config(RULES)).unwrap();
        let mut c = GssapiClient::new(
            GssapiClientConfig::new(Principal::new("bob").unwrap(), "mesos@localhost")
                .send_authzid(false),
        )
        .unwrap();
        let (s, _) = drive(&mut server, &mut c).unwrap();
        assert_eq!(s.as_str(), "alice");
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn spnego() {
        use mesos_auth::internal::libgssapi::context::{ClientCtx, CtxFlags};
        use mesos_auth::internal::libgssapi::name::Name;
        use mesos_auth::internal::libgssapi::oid::{GSS_MECH_SPNEGO, GSS_NT_HOSTBASED_SERVICE};
        kdc::child_dir();
        // A SPNEGO initiator (Kerberos inside): RFC 4752 is Kerberos V5 only.
        let target = Name::new(b"mesos@localhost", Some(GSS_NT_HOSTBASED_SERVICE)).unwrap();
        let mut c = ClientCtx::new(
            None,
            target,
            CtxFlags::GSS_C_MUTUAL_FLAG,
            Some(GSS_MECH_SPNEGO),
        );
        let mut token = c.step(None, None).unwrap().unwrap().to_vec();
        let mut server = GssapiServer::new(server_config(RULES)).unwrap();
        let e = loop {
            match server.step(&token) {
                Ok(GssStep::Continue(t)) => match c.step(Some(&t), None).unwrap() {
                    Some(next) => token = next.to_vec(),
                    None => token = Vec::new(),
                },
                Ok(GssStep::Done { principal, .. }) => panic!("SPNEGO accepted as {principal}"),
                Err(e) => break e,
            }
        };
        assert_eq!(e.reason(), Some(GssFailure::BadToken), "{e}");
        assert!(e.to_string().contains("not a Kerberos V5"), "{e}");
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn unmapped() {
        kdc::child_dir();
        let only_alice = r"RULE:[1:$1@$0](alice@MESOS\.TEST)s/@.*//";
        let mut server = GssapiServer::new(server_config(only_alice)).unwrap();
        let mut c = client("nobody", "mesos@localhost");
        let msg = refused_by_server(drive(&mut server, &mut c), GssFailure::UnmappedPrincipal);
        assert!(msg.contains("nobody@MESOS.TEST"), "{msg}");
        // Errors are sticky.
        assert!(matches!(
            server.step(b"x"),
            Err(GssapiError::Refused {
                reason: GssFailure::UnmappedPrincipal,
                ..
            })
        ));
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn wrong_service() {
        kdc::child_dir();
        // The KDC knows mesos/otherhost; our keytab has only mesos/localhost.
        let mut server = GssapiServer::new(server_config(RULES)).unwrap();
        let mut c = client("alice", "mesos@otherhost");
        let msg = refused_by_server(
            drive(&mut server, &mut c),
            GssFailure::WrongServicePrincipal,
        );
        assert!(msg.contains("otherhost"), "{msg}");
        // A server told to be mesos/otherhost has no key for it.
        let e = GssapiServer::new(server_config(RULES).service("mesos@otherhost")).unwrap_err();
        assert!(matches!(e, GssapiError::Setup { .. }), "{e}");
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn replay() {
        kdc::child_dir();
        let mut c = client("alice", "mesos@localhost");
        let Ok(GssStep::Continue(first)) = c.step(&[]) else {
            panic!("first token")
        };
        let mut server = GssapiServer::new(server_config(RULES)).unwrap();
        assert!(matches!(server.step(&first), Ok(GssStep::Continue(_))));
        let mut again = GssapiServer::new(server_config(RULES)).unwrap();
        let e = again.step(&first).unwrap_err();
        assert_eq!(e.reason(), Some(GssFailure::Replay), "{e}");
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn expired() {
        kdc::child_dir();
        let mut c = client("alice", "mesos@localhost");
        let Ok(GssStep::Continue(first)) = c.step(&[]) else {
            panic!("first token")
        };
        std::thread::sleep(std::time::Duration::from_millis(5_500));
        let mut server = GssapiServer::new(server_config(RULES)).unwrap();
        let e = server.step(&first).unwrap_err();
        assert_eq!(e.reason(), Some(GssFailure::ExpiredTicket), "{e}");
        // And a client whose ticket has run out cannot start.
        let mut late = client("alice", "mesos@otherhost");
        let e = late.step(&[]).unwrap_err();
        assert_eq!(e.reason(), Some(GssFailure::ExpiredTicket), "{e}");
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn cyrus_server() {
        kdc::child_dir();
        let mut peer = Peer::spawn(&["server"]);
        let mut c = client("alice", "mesos@localhost");
        let GssStep::Continue(first) = c.step(&[]).unwrap() else {
            panic!("first token")
        };
        peer.send("T", &first);
        loop {
            let (tag, data) = peer.recv();
            assert_eq!(
                tag,
                "T",
                "Cyrus refused: {}",
                String::from_utf8_lossy(&data)
            );
            match c.step(&data).unwrap() {
                GssStep::Continue(t) => peer.send("T", &t),
                GssStep::Done { principal, output } => {
                    assert_eq!(principal.as_str(), "alice");
                    peer.send("T", &output.unwrap());
                    let (tag, authid) = peer.recv();
                    assert_eq!(tag, "OK", "{}", String::from_utf8_lossy(&authid));
                    // Cyrus names the Kerberos principal (its realm is the
                    // default one, so it may strip it).
                    let authid = String::from_utf8(authid).unwrap();
                    assert!(
                        authid == "alice" || authid == "alice@MESOS.TEST",
                        "{authid}"
                    );
                    assert_eq!(peer.exit_code(), 0);
                    return;
                }
            }
        }
    }

    /// Our server against the Cyrus client; the server's result.
    fn serve_cyrus(rules: &str, authzid: &str) -> (Result<Principal, GssapiError>, i32) {
        let mut peer = Peer::spawn(&["client", "localhost", authzid]);
        let mut server =
            GssapiServer::new(server_config(rules).service("mesos@localhost")).unwrap();
        let result = loop {
            let (tag, data) = peer.recv();
            assert_eq!(tag, "T", "Cyrus client said {tag}");
            match server.step(&data) {
                Ok(GssStep::Continue(t)) => peer.send("T", &t),
                Ok(GssStep::Done { principal, output }) => {
                    assert!(output.is_none());
                    peer.send("OK", b"");
                    break Ok(principal);
                }
                Err(e) => {
                    peer.send("NO", b"");
                    break Err(e);
                }
            }
        };
        (result, peer.exit_code())
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn cyrus_client() {
        kdc::child_dir();
        let (r, code) = serve_cyrus(RULES, "alice");
        assert_eq!(r.unwrap().as_str(), "alice");
        assert_eq!(code, 0);
        // Cyrus asking to act as someone else: refused.
        let (r, code) = serve_cyrus(RULES, "root");
        assert_eq!(r.unwrap_err().reason(), Some(GssFailure::AuthzidMismatch));
        assert_eq!(code, 1);
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn cyrus_client_unmapped() {
        kdc::child_dir();
        let (r, code) = serve_cyrus(r"RULE:[1:$1@$0](alice@MESOS\.TEST)s/@.*//", "nobody");
        assert_eq!(r.unwrap_err().reason(), Some(GssFailure::UnmappedPrincipal));
        assert_eq!(code, 1);
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn skewed_client_token() {
        let dir = kdc::child_dir();
        let mut c = client("alice", "mesos@localhost");
        let Ok(GssStep::Continue(first)) = c.step(&[]) else {
            panic!("first token")
        };
        std::fs::write(dir.join("skewed.token"), first).unwrap();
    }

    #[test]
    #[ignore = "run by its parent test in a prepared Kerberos realm"]
    fn skewed_server() {
        let dir = kdc::child_dir();
        let first = std::fs::read(dir.join("skewed.token")).unwrap();
        let mut server = GssapiServer::new(server_config(RULES)).unwrap();
        let e = server.step(&first).unwrap_err();
        assert_eq!(e.reason(), Some(GssFailure::ClockSkew), "{e}");
    }
}
