//! The demo's flow, without printing: a master-side endpoint and four
//! scheduler clients on loopback, returning a [`Report`] of every outcome.
//! `main.rs` prints the report; `tests/demo.rs` asserts on it.
//!
//! ```text
//!  client thread                              master (accept thread + one thread per connection)
//!   TLS (rustls, ring) ─────────────────────► tls::server_config (client cert optional)
//!   HELLO(pid) ─────────────────────────────► tls::Mapper::map_connection
//!                                              ├─ certificate mapped ──► IDENTITY(principal)
//!                                              ├─ certificate rejected ► REFUSED, close
//!                                              └─ no certificate ──────► CRAM-MD5 (sasl::Authenticator,
//!   sasl::Authenticatee ◄──── MECHS/CHALLENGE/OK/FAILED/ERROR ─┘  sasl::Throttle before each attempt)
//!   REQUEST(action, objects) ───────────────► acl::AclHandle::authorize ──► DECISION(allow|deny, rule)
//!                                            every outcome ──► audit::Event ──► JSON line
//! ```
//!
//! Frames inside the TLS stream: a 4-byte big-endian length, then one tag
//! byte and the body (fields separated by NUL).

use std::error::Error;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use mesos_auth::acl::{self, AclHandle, Action, Compiler, Object, Request};
use mesos_auth::audit::{self, AuditEvent, AuditSink};
use mesos_auth::credentials::{self, Credential, CredentialsHandle, Scheme};
use mesos_auth::sasl::{
    self, AuthEvent, Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage,
    ServerMessage, Status, Throttle, ThrottleConfig, Verdict,
};
use mesos_auth::tls::{self, ClientAuth, Mapper, TlsIdentity};
use mesos_auth::{Principal, Secret};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConnection, StreamOwned};
use rustls_pki_types::{CertificateDer, ServerName};

/// The example policy and mapping rules shipped in `examples/`.
pub(crate) const ACLS: &str = include_str!("../acls.json");
/// The example TLS mapping rules.
pub(crate) const TLS_RULES: &str = include_str!("../tls-rules.json");

/// The frameworks' passwords. The master's file holds only their CRAM-MD5
/// states (written below); the clients hold the passwords.
pub(crate) const SPARK_SECRET: &str = "q7Vn-2xLw-Rb8k-Tz4p";
/// airflow's real password, which the guessing client does not know.
pub(crate) const AIRFLOW_SECRET: &str = "Hs3m-Ye9c-Pa6u-Wd1j";
/// What the guessing client tries instead.
pub(crate) const WRONG_SECRETS: [&str; 5] = [
    "Summer2026!",
    "correct-horse",
    "Passw0rd!",
    "letmein-now",
    "hunter2-hunter2",
];

/// Failures allowed before the throttle delays a principal or a peer.
pub(crate) const FREE_FAILURES: u32 = 2;
/// The first throttle delay (long enough that the demo's retry, a few
/// milliseconds later, is always inside it).
pub(crate) const THROTTLE_BASE: Duration = Duration::from_secs(30);

/// Every socket read and write gives up after this, so a broken peer ends
/// the demo with an error instead of hanging it.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest frame either side accepts.
const MAX_FRAME: usize = 4096;

mod tag {
    //! Frame tags.
    /// Client: `AuthenticateMessage{pid}`.
    pub(super) const HELLO: u8 = b'H';
    /// Client: SASL start (`mechanism NUL data`).
    pub(super) const START: u8 = b'S';
    /// Client: SASL step (the CRAM-MD5 response).
    pub(super) const STEP: u8 = b'P';
    /// Client: an authorization request (`action NUL object NUL ...`).
    pub(super) const REQUEST: u8 = b'R';
    /// Client: done.
    pub(super) const BYE: u8 = b'B';
    /// Server: the certificate named this principal.
    pub(super) const IDENTITY: u8 = b'I';
    /// Server: the certificate is refused; the connection closes.
    pub(super) const REFUSED: u8 = b'X';
    /// Server: SASL mechanisms (comma-separated).
    pub(super) const MECHANISMS: u8 = b'M';
    /// Server: SASL challenge.
    pub(super) const CHALLENGE: u8 = b'C';
    /// Server: SASL completed.
    pub(super) const COMPLETED: u8 = b'K';
    /// Server: SASL failed (the one uniform refusal).
    pub(super) const FAILED: u8 = b'F';
    /// Server: SASL error (text).
    pub(super) const ERROR: u8 = b'E';
    /// Server: a decision (`allow|deny NUL rule NUL reason`).
    pub(super) const DECISION: u8 = b'D';
}

/// Any error of the demo's own plumbing (sockets, TLS, certificates).
pub(crate) type DemoError = Box<dyn Error + Send + Sync>;

/// Who wrote a trace line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Preparing keys, files and policies.
    Setup,
    /// The master-side endpoint.
    Master,
    /// A client, by name.
    Client(&'static str),
    /// An audit event, as the JSON line a log would get.
    Audit,
}

/// One line of the trace, in the order it happened.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// Who.
    pub(crate) source: Source,
    /// What.
    pub(crate) text: String,
}

/// The shared, ordered trace.
#[derive(Debug, Default)]
struct Trace {
    lines: Mutex<Vec<Line>>,
}

impl Trace {
    fn push(&self, source: Source, text: impl Into<String>) {
        lock(&self.lines).push(Line {
            source,
            text: text.into(),
        });
    }
}

/// Locks, recovering from a poisoned lock (a panicked thread is reported
/// by its join, not here).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The master's audit sink: keeps every typed event and writes its JSON
/// line into the trace.
#[derive(Debug)]
struct DemoAudit {
    events: Mutex<Vec<AuditEvent>>,
    trace: Arc<Trace>,
}

impl AuditSink for DemoAudit {
    fn record(&self, event: &dyn audit::Event) {
        self.trace
            .push(Source::Audit, audit::to_json_line(event, SystemTime::now()));
        lock(&self.events).push(event.to_audit_event());
    }
}

/// How a client's authentication ended, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The master mapped the client certificate to this principal.
    Certificate(String),
    /// CRAM-MD5 completed for this principal.
    CramMd5(String),
    /// The master refused the certificate and closed the connection.
    CertificateRefused(String),
    /// Every CRAM-MD5 attempt failed; the last ones were throttled.
    CramMd5Refused(Vec<Attempt>),
}

/// One CRAM-MD5 attempt of the guessing client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The master checked the response and said `Failed`.
    Failed,
    /// The master refused to try at all, with this message.
    Throttled(String),
}

/// One decision as the client received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The action asked (`run_task`).
    pub(crate) action: &'static str,
    /// Its objects (roles or users).
    pub(crate) objects: Vec<&'static str>,
    /// Allowed or denied.
    pub(crate) allowed: bool,
    /// The deciding ACL (`run_tasks[2] (line 10)`), empty when none decided.
    pub(crate) rule: String,
    /// The reason in words.
    pub(crate) reason: String,
}

/// What one client did.
#[derive(Debug, Clone)]
pub(crate) struct ClientReport {
    /// The client's name in the trace.
    pub(crate) name: &'static str,
    /// How it authenticated, or why not.
    pub(crate) auth: Auth,
    /// The answers to its requests (none when it never authenticated).
    pub(crate) answers: Vec<Answer>,
}

/// Everything the demo did.
#[derive(Debug)]
pub(crate) struct Report {
    /// Trace lines (setup, master, clients, audit JSON) in order.
    pub(crate) trace: Vec<Line>,
    /// One report per client, in the order they ran.
    pub(crate) clients: Vec<ClientReport>,
    /// The master's audit events, typed.
    pub(crate) audit: Vec<AuditEvent>,
    /// Threads started and joined (accept loop, connections, clients).
    pub(crate) threads_joined: usize,
    /// Connecting to the master's port after shutdown was refused.
    pub(crate) listener_closed: bool,
}

/// The certificates the demo issues.
struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key_pem: String,
    /// A framework certificate with a SPIFFE ID the rules map.
    marathon: ClientCert,
    /// A certificate from the same CA that no rule maps.
    laptop: ClientCert,
}

struct ClientCert {
    chain: Vec<CertificateDer<'static>>,
    key_pem: String,
    subject: &'static str,
}

fn ca_params() -> Result<CertificateParams, DemoError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Acme");
    params
        .distinguished_name
        .push(DnType::CommonName, "Demo Mesos CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn leaf_params(
    subject: &[(DnType, &str)],
    sans: Vec<SanType>,
    eku: ExtendedKeyUsagePurpose,
) -> Result<CertificateParams, DemoError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = DistinguishedName::new();
    for (ty, value) in subject {
        params.distinguished_name.push(ty.clone(), *value);
    }
    params.subject_alt_names = sans;
    params.extended_key_usages = vec![eku];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    Ok(params)
}

/// A throw-away CA, the master's certificate and two client certificates.
fn make_pki() -> Result<Pki, DemoError> {
    let ca = ca_params()?;
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::from_params(&ca, &ca_key);

    let issue =
        |params: CertificateParams| -> Result<(CertificateDer<'static>, String), DemoError> {
            let key = KeyPair::generate()?;
            let cert = params.signed_by(&key, &issuer)?;
            Ok((cert.der().clone(), key.serialize_pem()))
        };
    let (server, server_key_pem) = issue(leaf_params(
        &[(DnType::CommonName, "localhost")],
        vec![SanType::DnsName("localhost".try_into()?)],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?)?;
    let (marathon, marathon_key) = issue(leaf_params(
        &[
            (DnType::OrganizationName, "Acme"),
            (DnType::CommonName, "marathon"),
        ],
        vec![SanType::URI(
            "spiffe://prod.example.org/mesos/framework/marathon".try_into()?,
        )],
        ExtendedKeyUsagePurpose::ClientAuth,
    )?)?;
    let (laptop, laptop_key) = issue(leaf_params(
        &[
            (DnType::OrganizationName, "Acme"),
            (DnType::CommonName, "dev-laptop-17"),
        ],
        Vec::new(),
        ExtendedKeyUsagePurpose::ClientAuth,
    )?)?;
    Ok(Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        server_chain: vec![server],
        server_key_pem,
        marathon: ClientCert {
            chain: vec![marathon],
            key_pem: marathon_key,
            subject: "CN=marathon,O=Acme + SPIFFE ID spiffe://prod.example.org/mesos/framework/marathon",
        },
        laptop: ClientCert {
            chain: vec![laptop],
            key_pem: laptop_key,
            subject: "CN=dev-laptop-17,O=Acme, no SAN",
        },
    })
}

/// Writes the master's credentials file: CRAM-MD5 states, not passwords,
/// mode 0600 (the loader refuses anything group- or world-readable).
fn write_credentials(dir: &Path, trace: &Trace) -> Result<CredentialsHandle, DemoError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    let plain = [
        Credential::plain(
            Principal::new("spark")?,
            Secret::new(SPARK_SECRET.as_bytes()),
        ),
        Credential::plain(
            Principal::new("airflow")?,
            Secret::new(AIRFLOW_SECRET.as_bytes()),
        ),
    ];
    let stored = plain
        .iter()
        .map(|c| c.convert(Scheme::CramMd5State, 0))
        .collect::<Result<Vec<_>, _>>()?;
    // JSON, the format Mesos >= 1.11 reads (and the only one detected).
    let text = credentials::to_json(&stored)?;
    let path = dir.join("credentials");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?
        .write_all(text.as_bytes())?;
    trace.push(
        Source::Setup,
        format!(
            "credentials: {} principals written as {{CRAM-MD5}} HMAC states (no password on disk), mode 0600",
            stored.len()
        ),
    );

    // The same file readable by others is refused, with a clear message.
    let loose = dir.join("credentials-0644");
    std::fs::write(&loose, text.as_bytes())?;
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644))?;
    match credentials::load(&loose, &credentials::Options::new()) {
        Ok(_) => trace.push(Source::Setup, "credentials: a mode 0644 copy was accepted"),
        Err(e) => trace.push(
            Source::Setup,
            format!("credentials: a mode 0644 copy is refused: {e}"),
        ),
    }
    std::fs::remove_file(&loose)?;

    let handle = CredentialsHandle::open(&path, credentials::Options::new())?;
    trace.push(
        Source::Setup,
        format!(
            "credentials: loaded {} (strict, owner-only), {} principals",
            path.display(),
            handle.snapshot().len()
        ),
    );
    Ok(handle)
}

/// The master's shared state.
struct Master {
    tls: Arc<rustls::ServerConfig>,
    mapper: Mapper,
    credentials: CredentialsHandle,
    acls: AclHandle,
    throttle: Mutex<Throttle>,
    audit: DemoAudit,
    trace: Arc<Trace>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Sends one frame: length (tag + body, big-endian u32), tag, body.
fn write_frame(w: &mut impl Write, tag: u8, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len() + 1)
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
    let mut buf = Vec::with_capacity(body.len() + 5);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.push(tag);
    buf.extend_from_slice(body);
    w.write_all(&buf)?;
    w.flush()
}

/// Reads one frame; a length of 0 or over [`MAX_FRAME`] is an error.
fn read_frame(r: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad frame length {len}"),
        ));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    let (tag, body) = buf
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "empty frame"))?;
    Ok((*tag, body.to_vec()))
}

/// The NUL-separated fields of a body.
fn fields(body: &[u8]) -> Vec<String> {
    body.split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

fn protocol_error(what: impl Into<String>) -> DemoError {
    io::Error::new(io::ErrorKind::InvalidData, what.into()).into()
}

/// One SASL message from the library's authenticator, as a frame.
fn send_server_message(w: &mut impl Write, msg: ServerMessage) -> io::Result<()> {
    match msg {
        ServerMessage::Mechanisms(list) => {
            write_frame(w, tag::MECHANISMS, list.join(",").as_bytes())
        }
        ServerMessage::Step(challenge) => write_frame(w, tag::CHALLENGE, &challenge),
        ServerMessage::Completed => write_frame(w, tag::COMPLETED, b""),
        ServerMessage::Failed => write_frame(w, tag::FAILED, b""),
        ServerMessage::Error(text) => write_frame(w, tag::ERROR, text.as_bytes()),
    }
}

type ServerStream = StreamOwned<ServerConnection, TcpStream>;

impl Master {
    /// Serves one connection: TLS, identity, then requests until BYE.
    fn serve(&self, sock: TcpStream) -> Result<(), DemoError> {
        sock.set_read_timeout(Some(IO_TIMEOUT))?;
        sock.set_write_timeout(Some(IO_TIMEOUT))?;
        let conn = ServerConnection::new(Arc::clone(&self.tls))?;
        let mut tls = StreamOwned::new(conn, sock);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        let (t, body) = read_frame(&mut tls)?;
        if t != tag::HELLO {
            return Err(protocol_error("expected HELLO"));
        }
        let peer = String::from_utf8_lossy(&body).into_owned();

        let principal = match self.mapper.map_connection(&tls.conn, &self.audit) {
            Ok(TlsIdentity::Principal(p)) => {
                self.trace.push(
                    Source::Master,
                    format!(
                        "{peer}: TLS client certificate verified and mapped to principal `{p}`"
                    ),
                );
                write_frame(&mut tls, tag::IDENTITY, p.as_str().as_bytes())?;
                p
            }
            Err(rejection) => {
                self.trace.push(
                    Source::Master,
                    format!(
                        "{peer}: TLS client certificate verified but refused: {rejection}; closing"
                    ),
                );
                write_frame(&mut tls, tag::REFUSED, b"certificate not accepted")?;
                close(&mut tls);
                return Ok(());
            }
            Ok(TlsIdentity::None) => {
                self.trace.push(
                    Source::Master,
                    format!("{peer}: no client certificate, so CRAM-MD5 decides"),
                );
                match self.cram_md5(&mut tls, &peer)? {
                    Some(p) => p,
                    None => {
                        close(&mut tls);
                        return Ok(());
                    }
                }
            }
        };
        self.answer_requests(&mut tls, &peer, &principal)?;
        close(&mut tls);
        Ok(())
    }

    /// Refuses a throttled attempt: the session is discarded (its audit
    /// event says so) and the client gets an error with the wait.
    fn refuse_throttled(
        &self,
        tls: &mut ServerStream,
        server: &mut Authenticator,
        peer: &str,
        by: &str,
        wait: Duration,
    ) -> Result<(), DemoError> {
        self.trace.push(
            Source::Master,
            format!(
                "{peer}: throttled ({by} failed too often): attempt refused without checking, retry in {} s",
                wait.as_secs().max(1)
            ),
        );
        server.discard();
        while let Some(event) = server.poll_event() {
            self.audit.record(&event);
        }
        let text = format!(
            "too many failed attempts, retry in {} s",
            wait.as_secs().max(1)
        );
        write_frame(tls, tag::ERROR, text.as_bytes())?;
        Ok(())
    }

    /// Runs one CRAM-MD5 exchange; the principal if it completed.
    fn cram_md5(&self, tls: &mut ServerStream, peer: &str) -> Result<Option<Principal>, DemoError> {
        let store = Arc::clone(self.credentials.snapshot().arc());
        let mut nonces = sasl::default_nonce_source().map_err(|e| protocol_error(e.to_string()))?;
        let config = AuthenticatorConfig::new().host("master.demo").peer(peer);
        let mut server = Authenticator::new(store, config, &mut nonces, Instant::now());

        // The peer's record first: a peer that failed too often gets no challenge.
        if let Verdict::Delay(wait) = lock(&self.throttle).check(None, Some(peer), Instant::now()) {
            self.refuse_throttled(tls, &mut server, peer, "this peer", wait)?;
            return Ok(None);
        }
        loop {
            // Audit and trace first, then answer, so the log never lags
            // behind what the client has already seen.
            while let Some(event) = server.poll_event() {
                self.observe(&event);
            }
            let outcome = match server.status() {
                Status::Pending => None,
                Status::Completed(p) => {
                    self.trace.push(
                        Source::Master,
                        format!("{peer}: CRAM-MD5 completed, principal `{p}`"),
                    );
                    Some(Some(p))
                }
                Status::Failed => {
                    self.trace.push(
                        Source::Master,
                        format!("{peer}: CRAM-MD5 failed; the client is told only `failed`, the reason is in the audit event"),
                    );
                    Some(None)
                }
                Status::Error(e) => {
                    self.trace
                        .push(Source::Master, format!("{peer}: CRAM-MD5 error: {e}"));
                    Some(None)
                }
            };
            while let Some(msg) = server.poll_output() {
                send_server_message(tls, msg)?;
            }
            if let Some(principal) = outcome {
                return Ok(principal);
            }
            let (t, body) = read_frame(tls)?;
            let msg = match t {
                tag::START => {
                    let (mechanism, data) = match body.iter().position(|&b| b == 0) {
                        Some(i) => (
                            body.get(..i).unwrap_or_default(),
                            body.get(i + 1..).unwrap_or_default(),
                        ),
                        None => (body.as_slice(), &[][..]),
                    };
                    ClientMessage::Start {
                        mechanism: String::from_utf8_lossy(mechanism).into_owned(),
                        data: data.to_vec(),
                    }
                }
                tag::STEP => {
                    // The response names the principal: check its record
                    // before spending a verification on it.
                    let claimed = body
                        .iter()
                        .rposition(|&b| b == b' ')
                        .and_then(|i| body.get(..i))
                        .map(|n| String::from_utf8_lossy(n).into_owned());
                    let verdict =
                        lock(&self.throttle).check(claimed.as_deref(), Some(peer), Instant::now());
                    if let Verdict::Delay(wait) = verdict {
                        let by = format!("principal `{}`", claimed.unwrap_or_default());
                        self.refuse_throttled(tls, &mut server, peer, &by, wait)?;
                        return Ok(None);
                    }
                    ClientMessage::Step(body)
                }
                other => return Err(protocol_error(format!("unexpected frame {other}"))),
            };
            // A protocol error is queued for the client as an ERROR frame and
            // ends the session; the loop sends it and reports the status.
            let _ = server.handle_message(Instant::now(), msg);
        }
    }

    /// Audits a SASL outcome and feeds it to the throttle.
    fn observe(&self, event: &AuthEvent) {
        lock(&self.throttle).observe(event, Instant::now());
        self.audit.record(event);
    }

    /// Decides each request with the compiled ACLs until BYE.
    fn answer_requests(
        &self,
        tls: &mut ServerStream,
        peer: &str,
        principal: &Principal,
    ) -> Result<(), DemoError> {
        loop {
            let (t, body) = read_frame(tls)?;
            match t {
                tag::BYE => return Ok(()),
                tag::REQUEST => {}
                other => return Err(protocol_error(format!("unexpected frame {other}"))),
            }
            let f = fields(&body);
            let Some((action_name, objects)) = f.split_first() else {
                return Err(protocol_error("empty request"));
            };
            let Some(action) = Action::from_name(action_name) else {
                write_frame(tls, tag::DECISION, b"deny\0\0unknown action")?;
                continue;
            };
            let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
            let object = match objects.as_slice() {
                [] => Object::Absent,
                [one] => Object::One(one),
                many => Object::many(many),
            };
            let request = Request::new(action, Some(principal.as_str()), object);
            let decision = self.acls.authorize(&request);
            self.audit
                .record(&acl::DecisionEvent::new(&request, &decision));
            self.trace.push(
                Source::Master,
                format!("{peer}: `{principal}` {action} {objects:?} → {}", decision),
            );
            let rule = decision.rule().map(|r| r.to_string()).unwrap_or_default();
            let verdict = if decision.is_allowed() {
                "allow"
            } else {
                "deny"
            };
            let body = format!("{verdict}\0{rule}\0{}", decision.reason());
            write_frame(tls, tag::DECISION, body.as_bytes())?;
        }
    }
}

/// Sends close_notify; the peer may already be gone.
fn close<C, D, T>(tls: &mut StreamOwned<C, T>)
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
    T: Read + Write,
{
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

type ClientStream = StreamOwned<ClientConnection, TcpStream>;

/// What a client knows before it connects.
struct ClientSpec {
    name: &'static str,
    /// Mesos names a scheduler by its UPID; the master uses it as the peer.
    pid: &'static str,
    login: Login,
    requests: &'static [(&'static str, &'static [&'static str])],
}

enum Login {
    Certificate(ClientCert),
    CramMd5 {
        principal: &'static str,
        secrets: Vec<&'static str>,
    },
}

struct ClientCtx {
    addr: SocketAddr,
    roots: RootCertStore,
    trace: Arc<Trace>,
}

impl ClientCtx {
    fn connect(&self, cert: Option<&ClientCert>) -> Result<ClientStream, DemoError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots.clone());
        let config = match cert {
            Some(c) => builder.with_client_auth_cert(
                c.chain.clone(),
                tls::private_key_from_pem(c.key_pem.as_bytes())?,
            )?,
            None => builder.with_no_client_auth(),
        };
        let sock = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT)?;
        sock.set_read_timeout(Some(IO_TIMEOUT))?;
        sock.set_write_timeout(Some(IO_TIMEOUT))?;
        let conn = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost")?)?;
        Ok(StreamOwned::new(conn, sock))
    }
}

/// One CRAM-MD5 exchange as a scheduler runs it: the library's
/// `Authenticatee` fed with the master's frames.
fn cram_md5_login(
    tls: &mut ClientStream,
    principal: &str,
    secret: &str,
) -> Result<Result<(), Attempt>, DemoError> {
    let mut client =
        Authenticatee::new(Principal::new(principal)?, &Secret::new(secret.as_bytes()))?;
    loop {
        let (t, body) = read_frame(tls)?;
        let msg = match t {
            tag::MECHANISMS => ServerMessage::Mechanisms(
                fields(&body)
                    .concat()
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
            ),
            tag::CHALLENGE => ServerMessage::Step(body.into()),
            tag::COMPLETED => ServerMessage::Completed,
            tag::FAILED => ServerMessage::Failed,
            tag::ERROR => ServerMessage::Error(String::from_utf8_lossy(&body).into_owned()),
            other => return Err(protocol_error(format!("unexpected frame {other}"))),
        };
        // A server error is the session's outcome, read from the status.
        let _ = client.handle_message(msg);
        while let Some(out) = client.poll_output() {
            match out {
                ClientMessage::Start { mechanism, data } => {
                    let mut body = mechanism.into_bytes();
                    body.push(0);
                    body.extend_from_slice(&data);
                    write_frame(tls, tag::START, &body)?;
                }
                ClientMessage::Step(data) => write_frame(tls, tag::STEP, &data)?,
            }
        }
        match client.status() {
            Status::Pending => {}
            Status::Completed(_) => return Ok(Ok(())),
            Status::Failed => return Ok(Err(Attempt::Failed)),
            Status::Error(sasl::SaslError::Server(text)) => {
                return Ok(Err(Attempt::Throttled(text)));
            }
            Status::Error(e) => return Err(Box::new(e)),
        }
    }
}

fn run_client(ctx: &ClientCtx, spec: ClientSpec) -> Result<ClientReport, DemoError> {
    let say = |text: String| ctx.trace.push(Source::Client(spec.name), text);
    let (mut tls, auth) = match &spec.login {
        Login::Certificate(cert) => {
            say(format!(
                "connects with TLS, client certificate {}",
                cert.subject
            ));
            let mut tls = ctx.connect(Some(cert))?;
            write_frame(&mut tls, tag::HELLO, spec.pid.as_bytes())?;
            let (t, body) = read_frame(&mut tls)?;
            let text = String::from_utf8_lossy(&body).into_owned();
            match t {
                tag::IDENTITY => {
                    say(format!("authenticated by certificate as `{text}`"));
                    (tls, Auth::Certificate(text))
                }
                tag::REFUSED => {
                    say(format!("refused: {text}"));
                    return Ok(ClientReport {
                        name: spec.name,
                        auth: Auth::CertificateRefused(text),
                        answers: Vec::new(),
                    });
                }
                other => return Err(protocol_error(format!("unexpected frame {other}"))),
            }
        }
        Login::CramMd5 { principal, secrets } => {
            let mut attempts = Vec::new();
            let mut logged_in = None;
            for (n, secret) in secrets.iter().enumerate() {
                say(format!(
                    "attempt {}: TLS without a client certificate, CRAM-MD5 as `{principal}`",
                    n + 1
                ));
                let mut tls = ctx.connect(None)?;
                write_frame(&mut tls, tag::HELLO, spec.pid.as_bytes())?;
                match cram_md5_login(&mut tls, principal, secret)? {
                    Ok(()) => {
                        say(format!("authenticated by CRAM-MD5 as `{principal}`"));
                        logged_in = Some(tls);
                        break;
                    }
                    Err(Attempt::Failed) => {
                        say("refused: authentication failed".to_owned());
                        attempts.push(Attempt::Failed);
                        close(&mut tls);
                    }
                    Err(Attempt::Throttled(text)) => {
                        say(format!("refused: {text}; giving up"));
                        attempts.push(Attempt::Throttled(text));
                        close(&mut tls);
                        break;
                    }
                }
            }
            match logged_in {
                Some(tls) => (tls, Auth::CramMd5((*principal).to_owned())),
                None => {
                    return Ok(ClientReport {
                        name: spec.name,
                        auth: Auth::CramMd5Refused(attempts),
                        answers: Vec::new(),
                    });
                }
            }
        }
    };
    let mut answers = Vec::new();
    for (action, objects) in spec.requests {
        let mut body = action.as_bytes().to_vec();
        for o in *objects {
            body.push(0);
            body.extend_from_slice(o.as_bytes());
        }
        write_frame(&mut tls, tag::REQUEST, &body)?;
        let (t, body) = read_frame(&mut tls)?;
        if t != tag::DECISION {
            return Err(protocol_error(format!("unexpected frame {t}")));
        }
        let f = fields(&body);
        let [verdict, rule, reason] = f.as_slice() else {
            return Err(protocol_error("malformed decision"));
        };
        say(format!("{action} {objects:?}: {verdict} ({reason})"));
        answers.push(Answer {
            action,
            objects: objects.to_vec(),
            allowed: verdict == "allow",
            rule: rule.clone(),
            reason: reason.clone(),
        });
    }
    write_frame(&mut tls, tag::BYE, b"")?;
    close(&mut tls);
    Ok(ClientReport {
        name: spec.name,
        auth,
        answers,
    })
}

/// Joins a thread, turning a panic into an error.
fn join<T>(handle: JoinHandle<T>, what: &str) -> Result<T, DemoError> {
    handle
        .join()
        .map_err(|_| protocol_error(format!("the {what} thread panicked")))
}

/// The accept loop: one thread per connection until `stop`; then the
/// listener is dropped (closed) and every connection thread joined.
fn accept_loop(
    master: Arc<Master>,
    listener: TcpListener,
    stop: Arc<AtomicBool>,
) -> Result<usize, DemoError> {
    let mut handles = Vec::new();
    let mut failure = None;
    for sock in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let sock = match sock {
            Ok(sock) => sock,
            Err(e) => {
                // Stop accepting, but still join what is running.
                failure = Some(e);
                break;
            }
        };
        let master = Arc::clone(&master);
        handles.push(std::thread::spawn(move || {
            if let Err(e) = master.serve(sock) {
                master.trace.push(
                    Source::Master,
                    format!("connection ended with an error: {e}"),
                );
            }
        }));
    }
    drop(listener);
    let n = handles.len();
    // Join every one before reporting a panic, so none is left behind.
    let panicked = handles
        .into_iter()
        .map(JoinHandle::join)
        .filter(Result::is_err)
        .count();
    if panicked > 0 {
        return Err(protocol_error(format!(
            "{panicked} connection threads panicked"
        )));
    }
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(n),
    }
}

/// Runs the whole demo: keys and files in a temporary directory (removed at
/// the end), a master on an ephemeral loopback port, four clients in turn,
/// then a clean shutdown.
pub(crate) fn run() -> Result<Report, DemoError> {
    let trace = Arc::new(Trace::default());
    let setup = |text: String| trace.push(Source::Setup, text);

    let pki = make_pki()?;
    setup("generated a throw-away CA `CN=Demo Mesos CA,O=Acme`, the master's certificate (localhost) and two client certificates".to_owned());

    let dir = tempfile::tempdir()?;
    let credentials = write_credentials(dir.path(), &trace)?;

    let acls = AclHandle::from_str(ACLS, Compiler::new(), acl::Options::new())?;
    let snapshot = acls.snapshot();
    setup(format!(
        "ACLs: examples/acls.json compiled, {} rules, permissive = {}",
        snapshot.rule_count(),
        snapshot.permissive()
    ));
    let mapper = Mapper::from_json(TLS_RULES)?;
    setup(format!(
        "TLS mapping: examples/tls-rules.json compiled, {} rules, first match wins, no match = refused",
        mapper.len()
    ));

    let server_config = tls::server_config(
        provider(),
        pki.ca_pem.as_bytes(),
        ClientAuth::Optional,
        pki.server_chain.clone(),
        tls::private_key_from_pem(pki.server_key_pem.as_bytes())?,
    )?;
    let master = Arc::new(Master {
        tls: Arc::new(server_config),
        mapper,
        credentials,
        acls,
        throttle: Mutex::new(Throttle::new(
            ThrottleConfig::new()
                .free_failures(FREE_FAILURES)
                .base(THROTTLE_BASE),
        )),
        audit: DemoAudit {
            events: Mutex::new(Vec::new()),
            trace: Arc::clone(&trace),
        },
        trace: Arc::clone(&trace),
    });
    // Everything fallible happens before the accept thread starts, so an
    // early error never leaves it behind.
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca_der.clone())?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    setup(format!(
        "master listening on {addr} (TLS, client certificate optional; throttle: {FREE_FAILURES} free failures, then {} s doubling)",
        THROTTLE_BASE.as_secs()
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let (master, stop) = (Arc::clone(&master), Arc::clone(&stop));
        std::thread::spawn(move || accept_loop(master, listener, stop))
    };

    let ctx = Arc::new(ClientCtx {
        addr,
        roots,
        trace: Arc::clone(&trace),
    });
    let specs = vec![
        ClientSpec {
            name: "marathon",
            pid: "scheduler-marathon@127.0.0.1",
            login: Login::Certificate(pki.marathon),
            requests: &[
                ("register_framework", &["web", "web/frontend"]),
                ("run_task", &["svc-web"]),
                ("run_task", &["root"]),
            ],
        },
        ClientSpec {
            name: "spark",
            pid: "scheduler-spark@127.0.0.1",
            login: Login::CramMd5 {
                principal: "spark",
                secrets: vec![SPARK_SECRET],
            },
            requests: &[
                ("register_framework", &["analytics/batch"]),
                ("register_framework", &["analytics/batch", "web"]),
                ("run_task", &["svc-data"]),
                ("run_task", &["nobody"]),
                ("run_task", &["root"]),
            ],
        },
        ClientSpec {
            name: "guesser",
            pid: "scheduler-guesser@127.0.0.1",
            login: Login::CramMd5 {
                principal: "airflow",
                secrets: WRONG_SECRETS.to_vec(),
            },
            requests: &[("run_task", &["root"])],
        },
        ClientSpec {
            name: "laptop",
            pid: "scheduler-laptop@127.0.0.1",
            login: Login::Certificate(pki.laptop),
            requests: &[("run_task", &["root"])],
        },
    ];
    // Clients run one after another so the trace reads in order; each is
    // its own thread, as a scheduler process would be.
    let mut clients = Vec::new();
    let mut threads = 0;
    let mut failure = None;
    for spec in specs {
        let ctx = Arc::clone(&ctx);
        let name = spec.name;
        let handle = std::thread::spawn(move || run_client(&ctx, spec));
        threads += 1;
        match join(handle, name).and_then(|r| r) {
            Ok(report) => clients.push(report),
            Err(e) => {
                failure = Some(protocol_error(format!("client {name}: {e}")));
                break;
            }
        }
    }

    // Shut down: raise the flag, wake the blocking accept with one last
    // connection, join everything, then check the port is closed.
    stop.store(true, Ordering::SeqCst);
    drop(TcpStream::connect_timeout(&addr, IO_TIMEOUT));
    let connections = join(acceptor, "accept")??;
    threads += connections + 1;
    let listener_closed = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err();
    trace.push(
        Source::Master,
        format!("shut down: listener closed, {threads} threads joined ({connections} connections)"),
    );
    if let Some(e) = failure {
        return Err(e);
    }
    let audit = std::mem::take(&mut *lock(&master.audit.events));
    let trace = std::mem::take(&mut *lock(&trace.lines));
    Ok(Report {
        trace,
        clients,
        audit,
        threads_joined: threads,
        listener_closed,
    })
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Setup => f.write_str("setup"),
            Source::Master => f.write_str("master"),
            Source::Client(name) => write!(f, "client {name}"),
            Source::Audit => f.write_str("audit"),
        }
    }
}
