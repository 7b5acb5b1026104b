//! Real mutual-TLS handshakes over loopback TCP: a rustls server built with
//! `tls::server_config` and mapping with `Mapper::map_connection`, against
//! rustls clients and `openssl s_client`. Every socket has a timeout and
//! every wait a deadline, so a broken peer fails the test instead of
//! hanging it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mesos_auth::audit::MemorySink;
use mesos_auth::tls::{
    ClientAuth, EarlyRejectVerifier, Mapper, RejectReason, Rejection, ReloadableMapper,
    TlsIdentity, certificates_from_pem, client_verifier, private_key_from_pem, server_config,
    server_config_with_verifier,
};
use rcgen::ExtendedKeyUsagePurpose;
use rustls::client::Resumption;
use rustls::{ClientConfig, ClientConnection, HandshakeKind, RootCertStore, ServerConnection};
use rustls_pki_types::ServerName;

use super::pki::{Ca, Leaf, LeafSpec, issue};

const TIMEOUT: Duration = Duration::from_secs(10);

const RULES: &str = r#"[
    {"source": "dn", "match": "CN=([^,+\\\\]+),OU=agents,O=Acme", "principal": "agent:${1}", "case": "lower"}
]"#;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the server saw on one connection.
#[derive(Debug)]
enum Seen {
    HandshakeFailed(String),
    Identity(Result<TlsIdentity, Rejection>, Option<HandshakeKind>),
}

struct Pki {
    ca: Ca,
    server: Leaf,
}

fn pki() -> Pki {
    let ca = Ca::new(&[("O", "Acme"), ("CN", "Acme Root")]);
    let server = issue(
        &ca,
        &LeafSpec {
            dns: vec!["localhost".into()],
            eku: Some(vec![ExtendedKeyUsagePurpose::ServerAuth]),
            ..LeafSpec::subject(&[&["CN=localhost"]])
        },
    );
    Pki { ca, server }
}

/// Serves `n` connections one after another on an ephemeral port.
fn serve(pki: &Pki, auth: ClientAuth, n: usize) -> (SocketAddr, JoinHandle<Vec<Seen>>) {
    let config = Arc::new(
        server_config(
            provider(),
            pki.ca.pem.as_bytes(),
            auth,
            certificates_from_pem(pki.server.pem.as_bytes()).unwrap(),
            private_key_from_pem(pki.server.key_pem.as_bytes()).unwrap(),
        )
        .unwrap(),
    );
    serve_config(config, n)
}

fn serve_config(
    config: Arc<rustls::ServerConfig>,
    n: usize,
) -> (SocketAddr, JoinHandle<Vec<Seen>>) {
    let mapper = Arc::new(Mapper::from_json(RULES).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let sink = MemorySink::new();
        let mut seen = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        while seen.len() < n {
            let sock = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no client connected in time");
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                Err(e) => panic!("accept: {e}"),
            };
            seen.push(serve_one(sock, &config, &mapper, &sink));
        }
        // One audit record per mapped certificate, none for no certificate.
        let mapped = seen
            .iter()
            .filter(|s| matches!(s, Seen::Identity(r, _) if !matches!(r, Ok(TlsIdentity::None))))
            .count();
        assert_eq!(sink.take().len(), mapped);
        seen
    });
    (addr, handle)
}

fn serve_one(
    mut sock: TcpStream,
    config: &Arc<rustls::ServerConfig>,
    mapper: &Mapper,
    sink: &MemorySink,
) -> Seen {
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut conn = ServerConnection::new(Arc::clone(config)).unwrap();
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            // Send the alert if there is one.
            let _ = conn.write_tls(&mut sock);
            return Seen::HandshakeFailed(e.to_string());
        }
    }
    let result = mapper.map_connection(&conn, sink);
    let line = match &result {
        Ok(TlsIdentity::Principal(p)) => format!("principal {p}\n"),
        Ok(TlsIdentity::None) => "anonymous\n".to_owned(),
        Err(_) => "denied\n".to_owned(),
    };
    let _ = conn.writer().write_all(line.as_bytes());
    conn.send_close_notify();
    while conn.wants_write() {
        if conn.write_tls(&mut sock).is_err() {
            break;
        }
    }
    Seen::Identity(result, conn.handshake_kind())
}

fn client_config(pki: &Pki, cert: Option<&Leaf>, resumption: bool) -> Arc<ClientConfig> {
    let chain = cert.map(|leaf| (vec![leaf.der.clone()], leaf));
    client_config_chain(pki, chain, resumption)
}

fn client_config_chain(
    pki: &Pki,
    cert: Option<(Vec<rustls_pki_types::CertificateDer<'static>>, &Leaf)>,
    resumption: bool,
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.der.clone()).unwrap();
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match cert {
        Some((chain, leaf)) => builder
            .with_client_auth_cert(
                chain,
                private_key_from_pem(leaf.key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    if !resumption {
        config.resumption = Resumption::disabled();
    }
    Arc::new(config)
}

/// Connects, reads what the server says until it closes; the text, or the
/// error the client saw.
fn connect(addr: SocketAddr, config: &Arc<ClientConfig>) -> Result<String, String> {
    let mut sock = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut conn = ClientConnection::new(
        Arc::clone(config),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let mut text = String::new();
    tls.read_to_string(&mut text).map_err(|e| e.to_string())?;
    Ok(text)
}

fn client_leaf(ca: &Ca, spec: LeafSpec) -> Leaf {
    issue(ca, &spec)
}

fn agent_spec(cn: &str) -> LeafSpec {
    LeafSpec::subject(&[&["O=Acme"], &["OU=agents"], &[&format!("CN={cn}")]])
}

#[test]
fn rustls_clients_good_unmapped_expired_untrusted() {
    let pki = pki();
    let other_ca = Ca::new(&[("O", "Acme"), ("CN", "Acme Root")]); // same name, other key
    let good = client_leaf(&pki.ca, agent_spec("Agent-7"));
    let unmapped = client_leaf(&pki.ca, LeafSpec::subject(&[&["O=Acme"], &["CN=visitor"]]));
    let expired = client_leaf(
        &pki.ca,
        LeafSpec {
            expired: true,
            ..agent_spec("old")
        },
    );
    let untrusted = client_leaf(&other_ca, agent_spec("mallory"));
    let server_only = client_leaf(
        &pki.ca,
        LeafSpec {
            eku: Some(vec![ExtendedKeyUsagePurpose::ServerAuth]),
            ..agent_spec("reused")
        },
    );

    let (addr, server) = serve(&pki, ClientAuth::Required, 6);
    let said = [
        connect(addr, &client_config(&pki, Some(&good), false)),
        connect(addr, &client_config(&pki, Some(&unmapped), false)),
        connect(addr, &client_config(&pki, Some(&expired), false)),
        connect(addr, &client_config(&pki, Some(&untrusted), false)),
        connect(addr, &client_config(&pki, None, false)),
        // threats.md TM-11: a server certificate reused as a client one.
        connect(addr, &client_config(&pki, Some(&server_only), false)),
    ];
    let seen = server.join().unwrap();

    assert_eq!(said[0].as_deref(), Ok("principal agent:agent-7\n"));
    assert!(
        matches!(&seen[0], Seen::Identity(Ok(TlsIdentity::Principal(p)), _) if p.as_str() == "agent:agent-7")
    );

    assert_eq!(said[1].as_deref(), Ok("denied\n"));
    assert!(matches!(&seen[1], Seen::Identity(Err(r), _) if r.reason() == &RejectReason::NoRule));

    let failed = |i: usize, needle: &str| match &seen[i] {
        Seen::HandshakeFailed(e) => assert!(e.contains(needle), "connection {i}: {e}"),
        other => panic!("connection {i} should fail the handshake: {other:?}"),
    };
    failed(2, "expired");
    // Same issuer name, other key: found by name, refused by signature.
    failed(3, "BadSignature");
    failed(4, "peer sent no certificates");
    failed(5, "extended key usage for client authentication");
    for (i, s) in said.iter().enumerate().skip(2) {
        assert!(s.is_err(), "client {i} must see the failure: {s:?}");
    }
}

#[test]
fn optional_client_auth_gives_no_identity_without_a_certificate() {
    let pki = pki();
    let good = client_leaf(&pki.ca, agent_spec("a1"));
    let untrusted = client_leaf(&Ca::new(&[("CN", "Elsewhere")]), agent_spec("a2"));
    let (addr, server) = serve(&pki, ClientAuth::Optional, 3);
    let said = [
        connect(addr, &client_config(&pki, None, false)),
        connect(addr, &client_config(&pki, Some(&good), false)),
        connect(addr, &client_config(&pki, Some(&untrusted), false)),
    ];
    let seen = server.join().unwrap();
    // threats.md TM-1: no certificate is anonymous, never a default principal.
    assert_eq!(said[0].as_deref(), Ok("anonymous\n"));
    assert!(matches!(&seen[0], Seen::Identity(Ok(TlsIdentity::None), _)));
    assert_eq!(said[1].as_deref(), Ok("principal agent:a1\n"));
    // A certificate that is sent is still verified.
    assert!(matches!(&seen[2], Seen::HandshakeFailed(e) if e.contains("UnknownIssuer")));
}

#[test]
fn no_resumption_every_connection_is_mapped_afresh() {
    // threats.md TM-13: the server keeps no sessions, so a client that
    // offers resumption still gets a full handshake and a fresh mapping.
    let pki = pki();
    let good = client_leaf(&pki.ca, agent_spec("r1"));
    let config = client_config(&pki, Some(&good), true);
    let (addr, server) = serve(&pki, ClientAuth::Required, 3);
    for _ in 0..3 {
        assert_eq!(
            connect(addr, &config).as_deref(),
            Ok("principal agent:r1\n")
        );
    }
    for s in server.join().unwrap() {
        assert!(
            matches!(s, Seen::Identity(Ok(_), Some(HandshakeKind::Full))),
            "{s:?}"
        );
    }
}

/// Runs `openssl s_client` against `addr` with a deadline; its stdout.
fn s_client(addr: SocketAddr, pki: &Pki, leaf: Option<&Leaf>, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca.pem).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-quiet",
        "-ign_eof",
        "-verify_return_error",
        "-connect",
    ])
    .arg(addr.to_string())
    .arg("-CAfile")
    .arg(&ca)
    .args(extra);
    if let Some(leaf) = leaf {
        let c = dir.path().join("c.pem");
        let k = dir.path().join("k.pem");
        std::fs::write(&c, &leaf.pem).unwrap();
        std::fs::write(&k, &leaf.key_pem).unwrap();
        cmd.arg("-cert").arg(&c).arg("-key").arg(&k);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("openssl s_client did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn openssl_s_client_as_a_foreign_client() {
    let pki = pki();
    let good = issue(&pki.ca, &agent_spec("Foreign-1"));
    let unmapped = issue(&pki.ca, &LeafSpec::subject(&[&["CN=nobody"]]));
    let (addr, server) = serve(&pki, ClientAuth::Required, 4);
    let out = [
        s_client(addr, &pki, Some(&good), &[]),
        s_client(addr, &pki, Some(&good), &["-tls1_2"]),
        s_client(addr, &pki, Some(&unmapped), &[]),
        s_client(addr, &pki, None, &[]),
    ];
    let seen = server.join().unwrap();
    assert_eq!(out[0], "principal agent:foreign-1\n");
    assert_eq!(out[1], "principal agent:foreign-1\n");
    assert_eq!(out[2], "denied\n");
    assert!(matches!(&seen[2], Seen::Identity(Err(_), _)));
    assert!(
        matches!(&seen[3], Seen::HandshakeFailed(_)),
        "{:?}",
        seen[3]
    );
    assert_eq!(out[3], "");
}

#[test]
fn tm12_long_chains_are_bounded() {
    // webpki bounds path building (at most 6 intermediates, a signature
    // budget); a long chain fails quickly, a short one maps the leaf.
    let pki = pki();
    let mut cas = vec![];
    for i in 0..8 {
        let parent = cas.last().unwrap_or(&pki.ca);
        let next = parent.intermediate(&[("O", "Acme"), ("CN", &format!("Sub CA {i}"))]);
        cas.push(next);
    }
    let chain_of = |depth: usize| {
        let leaf = issue(&cas[depth - 1], &agent_spec(&format!("depth-{depth}")));
        let mut chain = vec![leaf.der.clone()];
        chain.extend(cas[..depth].iter().rev().map(|c| c.der.clone()));
        (chain, leaf)
    };
    let (short, short_leaf) = chain_of(2);
    let (long, long_leaf) = chain_of(8);
    let (addr, server) = serve(&pki, ClientAuth::Required, 2);
    let started = Instant::now();
    let said = [
        connect(
            addr,
            &client_config_chain(&pki, Some((short, &short_leaf)), false),
        ),
        connect(
            addr,
            &client_config_chain(&pki, Some((long, &long_leaf)), false),
        ),
    ];
    let seen = server.join().unwrap();
    assert!(started.elapsed() < TIMEOUT);
    assert_eq!(said[0].as_deref(), Ok("principal agent:depth-2\n"));
    assert!(
        matches!(&seen[1], Seen::HandshakeFailed(e) if e.contains("MaximumPathDepthExceeded")),
        "{:?}",
        seen[1]
    );
}

#[test]
fn early_rejection_fails_the_handshake_with_access_denied() {
    let pki = pki();
    let rules = Arc::new(ReloadableMapper::new(Mapper::from_json(RULES).unwrap()));
    let sink = Arc::new(MemorySink::new());
    let inner = client_verifier(provider(), pki.ca.pem.as_bytes(), ClientAuth::Required).unwrap();
    let verifier = Arc::new(EarlyRejectVerifier::new(
        inner,
        Arc::clone(&rules),
        sink.clone(),
    ));
    let config = server_config_with_verifier(
        provider(),
        verifier,
        certificates_from_pem(pki.server.pem.as_bytes()).unwrap(),
        private_key_from_pem(pki.server.key_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let good = client_leaf(&pki.ca, agent_spec("e1"));
    let unmapped = client_leaf(&pki.ca, LeafSpec::subject(&[&["CN=stranger"]]));
    let untrusted = client_leaf(&Ca::new(&[("CN", "Elsewhere")]), agent_spec("e2"));
    let (addr, server) = serve_config(Arc::new(config), 3);
    let said = [
        connect(addr, &client_config(&pki, Some(&good), false)),
        connect(addr, &client_config(&pki, Some(&unmapped), false)),
        connect(addr, &client_config(&pki, Some(&untrusted), false)),
    ];
    let seen = server.join().unwrap();
    assert_eq!(said[0].as_deref(), Ok("principal agent:e1\n"));
    assert!(
        matches!(&seen[1], Seen::HandshakeFailed(e) if e.contains("ApplicationVerificationFailure")),
        "{:?}",
        seen[1]
    );
    let client_saw = said[1].as_ref().unwrap_err();
    assert!(client_saw.contains("AccessDenied"), "{client_saw}");
    // The chain check still comes first: an untrusted chain is not mapped.
    assert!(matches!(&seen[2], Seen::HandshakeFailed(e) if e.contains("UnknownIssuer")));
    let events = sink.take();
    assert_eq!(events.len(), 1, "one rejection recorded by the verifier");
}
