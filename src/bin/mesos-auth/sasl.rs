//! `mesos-auth sasl server|client`: one CRAM-MD5 exchange over stdio, in the
//! interop line protocol (`C <b64 challenge>`, `R <b64 response>`,
//! `OK <principal>` | `NO <reason>`). Exit codes: server 0 after `OK`, 1
//! after `NO`, 2 on a setup error; client 0 after `OK`, 1 after `NO`, 2 on a
//! protocol or setup error.
//!
//! The credentials file is the interop format, `principal<TAB>secret` per
//! line (`#` comments and empty lines skipped). Mesos' own credential
//! formats are the `credentials` component's job. It and the client's
//! secret file are read by the library's checked reader
//! ([`credentials::read_private_file`]), with the checks a server makes on
//! a credentials file: no symlink, a regular file (not a FIFO or device),
//! owner-only and owned by this user, at most 1 MiB, into a buffer wiped
//! when dropped.
//!
//! The server waits at most `--timeout` seconds for the client's response;
//! a peer that sends nothing gets `NO timeout` and exit 1.
//!
//! With `--mechanisms` (server) or `--mechanism OAUTHBEARER` (client), both
//! speak the negotiated form of the
//! protocol: the server first sends `M <mech,mech>`, the client answers
//! `S <mechanism>[ <b64 initial response>]`, then `C`/`R` lines repeat until
//! `OK`/`NO`. An OAUTHBEARER client never falls back to CRAM-MD5: offered
//! only CRAM-MD5, it writes nothing and exits 1.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mesos_auth::audit::to_json_line;
use mesos_auth::credentials::{self, Credential, CredentialStore};
use mesos_auth::sasl::{
    Authenticatee, Authenticator, AuthenticatorConfig, ClientMessage, ServerMessage, Status,
    TokenSource, default_nonce_source,
};
use mesos_auth::{Principal, Secret};

/// Longest line read from the peer; a CRAM-MD5 message is at most 1,024
/// bytes, so its base64 fits with room to spare.
const MAX_LINE: u64 = 4096;

/// Largest credentials or secret file read: the interop files are small.
const MAX_FILE: u64 = 1024 * 1024;

/// The checks the library makes on a credentials file, strict.
fn private_file_options() -> credentials::Options {
    credentials::Options::new().max_file_size(MAX_FILE)
}

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Authenticator: send a challenge, check the response, print OK or NO.
    Server {
        /// Credentials file, `principal<TAB>secret` per line [env: CRAM_CREDENTIALS].
        #[arg(long)]
        credentials: Option<PathBuf>,
        /// Host name put into the challenge.
        #[arg(long, default_value = "localhost")]
        host: String,
        /// Seconds to wait for the client's response line; a peer that
        /// sends nothing in time gets `NO timeout` (exit 1).
        #[arg(long, default_value_t = 15)]
        timeout: u64,
        /// Mechanisms offered, comma-separated: CRAM-MD5, OAUTHBEARER. Given
        /// at all, it switches to the negotiated protocol (without it: the
        /// plain CRAM-MD5 protocol).
        #[arg(long, value_delimiter = ',')]
        mechanisms: Option<Vec<String>>,
        /// OAUTHBEARER: the JWKS file of the token issuer.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// OAUTHBEARER: the validator configuration (JSON, as for `token
        /// check --config`).
        #[arg(long)]
        bearer_config: Option<PathBuf>,
        /// OAUTHBEARER: accepted issuer, without --bearer-config (repeat).
        #[arg(long)]
        issuer: Vec<String>,
        /// OAUTHBEARER: accepted audience, without --bearer-config (repeat).
        #[arg(long)]
        audience: Vec<String>,
    },
    /// Authenticatee: answer the challenge, exit by the verdict.
    Client {
        /// Principal to authenticate as [env: CRAM_PRINCIPAL].
        #[arg(long)]
        principal: Option<String>,
        /// File holding the secret (owner-only, a regular file, no
        /// symlink); one trailing newline is ignored [env: CRAM_SECRET
        /// holds the secret itself].
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// The one mechanism to use: CRAM-MD5 (the plain protocol) or
        /// OAUTHBEARER (the negotiated one; never falls back).
        #[arg(long, default_value = "CRAM-MD5")]
        mechanism: String,
        /// OAUTHBEARER: file holding the token.
        #[arg(long, conflicts_with = "token_command")]
        token_file: Option<PathBuf>,
        /// OAUTHBEARER: shell command printing the token on standard output.
        #[arg(long)]
        token_command: Option<String>,
    },
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Server {
            credentials,
            host,
            timeout,
            mechanisms,
            jwks,
            bearer_config,
            issuer,
            audience,
        } => {
            if let Some(mechanisms) = mechanisms {
                let bearer = Bearer {
                    jwks,
                    config: bearer_config,
                    issuer,
                    audience,
                };
                negotiated_server(credentials, &mechanisms, &bearer, &host, timeout)
            } else {
                server(credentials, &host, Duration::from_secs(timeout))
            }
        }
        Command::Client {
            principal,
            secret_file,
            mechanism,
            token_file,
            token_command,
        } => match mechanism.as_str() {
            "CRAM-MD5" => client(principal, secret_file),
            "OAUTHBEARER" => oauthbearer_client(principal, token_file, token_command),
            other => {
                log(&format!(
                    "unknown mechanism `{other}` (CRAM-MD5 or OAUTHBEARER)"
                ));
                ExitCode::from(2)
            }
        },
    }
}

/// The OAUTHBEARER validator's sources.
struct Bearer {
    jwks: Option<PathBuf>,
    config: Option<PathBuf>,
    issuer: Vec<String>,
    audience: Vec<String>,
}

fn negotiated_server(
    credentials: Option<PathBuf>,
    mechanisms: &[String],
    bearer: &Bearer,
    host: &str,
    timeout: u64,
) -> ExitCode {
    let mut config = AuthenticatorConfig::new()
        .host(host)
        .timeout(Duration::from_secs(timeout))
        .peer("stdio")
        .cram_md5(false);
    let mut store = None;
    for m in mechanisms {
        match m.as_str() {
            "CRAM-MD5" => {
                let Some(path) = credentials
                    .clone()
                    .or_else(|| std::env::var_os("CRAM_CREDENTIALS").map(PathBuf::from))
                else {
                    log("CRAM-MD5 needs --credentials FILE or CRAM_CREDENTIALS");
                    return ExitCode::from(2);
                };
                match load_credentials(&path) {
                    Ok(s) => store = Some(Arc::new(s)),
                    Err(e) => {
                        log(&e);
                        return ExitCode::from(2);
                    }
                }
                config = config.cram_md5(true);
            }
            "OAUTHBEARER" => {
                let Some(jwks) = &bearer.jwks else {
                    log("OAUTHBEARER needs --jwks FILE");
                    return ExitCode::from(2);
                };
                match crate::token::build(
                    jwks,
                    bearer.config.as_deref(),
                    &bearer.issuer,
                    &bearer.audience,
                    false,
                ) {
                    Ok(v) => config = config.oauthbearer(Arc::new(v)),
                    Err(e) => {
                        log(&e);
                        return ExitCode::from(2);
                    }
                }
            }
            other => {
                log(&format!(
                    "unknown mechanism `{other}` (CRAM-MD5, OAUTHBEARER)"
                ));
                return ExitCode::from(2);
            }
        }
    }
    let mut rng = match default_nonce_source() {
        Ok(r) => r,
        Err(e) => {
            log(&format!("no randomness: {e}"));
            return ExitCode::from(2);
        }
    };
    // With CRAM-MD5 off the store is never read.
    let store = match store.map_or_else(|| CredentialStore::from_credentials([]).map(Arc::new), Ok)
    {
        Ok(s) => s,
        Err(e) => {
            log(&e.to_string());
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let mut session =
        Authenticator::with_wall_clock(store, config, &mut rng, start, SystemTime::now());
    let deadline = start.checked_add(Duration::from_secs(timeout));
    // Lines are read on their own thread so each wait is bounded.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut input = io::stdin().lock();
        loop {
            let line = recv(&mut input);
            let end = !matches!(line, Ok(Some(_)));
            if tx.send(line).is_err() || end {
                return;
            }
        }
    });
    loop {
        while let Some(out) = session.poll_output() {
            let line = match out {
                ServerMessage::Mechanisms(list) => format!("M {}", list.join(",")),
                ServerMessage::Step(c) => format!("C {}", B64.encode(&c)),
                ServerMessage::Completed | ServerMessage::Failed | ServerMessage::Error(_) => {
                    continue;
                }
            };
            if send(&line).is_err() {
                return verdict_no("eof while sending");
            }
        }
        if session.status().is_terminal() {
            break;
        }
        let wait = deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        });
        let line = match rx.recv_timeout(wait) {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) => return verdict_no("eof before the exchange ended"),
            Ok(Err(e)) => return verdict_no(&format!("badprot {e}")),
            Err(_) => {
                session.handle_timeout(Instant::now());
                break;
            }
        };
        let now = Instant::now();
        let fed = match parse_line(&line) {
            ("S", rest) => {
                let (mechanism, b64) = rest.split_once(' ').unwrap_or((rest, ""));
                match B64.decode(b64) {
                    Ok(data) => session.handle_start(now, mechanism, &data),
                    Err(_) => return verdict_no("badprot start data is not base64"),
                }
            }
            ("R", b64) => match B64.decode(b64) {
                Ok(data) => session.handle_step(now, &data),
                Err(_) => return verdict_no("badprot response is not base64"),
            },
            _ => return verdict_no("badprot expected an S or R line"),
        };
        if let Err(e) = fed {
            log(&e.to_string());
        }
    }
    while let Some(ev) = session.poll_event() {
        audit(ev);
    }
    match session.status() {
        Status::Completed(p) => match send(&format!("OK {p}")) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        },
        Status::Failed => verdict_no("badauth"),
        Status::Error(e) => verdict_no(&format!("error {e}")),
        Status::Pending => verdict_no("timeout"),
    }
}

fn oauthbearer_client(
    principal: Option<String>,
    token_file: Option<PathBuf>,
    token_command: Option<String>,
) -> ExitCode {
    let Some(name) = principal.or_else(|| std::env::var("CRAM_PRINCIPAL").ok()) else {
        log("no principal: pass --principal P or set CRAM_PRINCIPAL");
        return ExitCode::from(2);
    };
    let mut source = match (token_file, token_command) {
        (Some(f), _) => TokenSource::file(f),
        (None, Some(cmd)) => TokenSource::command("sh", ["-c".to_owned(), cmd]),
        (None, None) => {
            log("no token: pass --token-file F or --token-command CMD");
            return ExitCode::from(2);
        }
    };
    let token = match source.token(SystemTime::now()) {
        Ok(t) => t,
        Err(e) => {
            log(&e.to_string());
            return ExitCode::from(2);
        }
    };
    let session = Principal::new(&name)
        .map_err(|e| format!("principal: {e}"))
        .and_then(|p| Authenticatee::oauthbearer(p, &token).map_err(|e| e.to_string()));
    drop(token);
    let mut session = match session {
        Ok(s) => s,
        Err(e) => {
            log(&e);
            return ExitCode::from(2);
        }
    };
    let code = match negotiated_client_exchange(&mut session) {
        Ok(code) => code,
        Err(e) => {
            log(&e);
            // A refused downgrade is final, like NO.
            if session.status() == Status::Failed {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    };
    while let Some(ev) = session.poll_event() {
        audit(ev);
    }
    code
}

fn negotiated_client_exchange(session: &mut Authenticatee) -> Result<ExitCode, String> {
    let to_string = |e: mesos_auth::sasl::SaslError| e.to_string();
    let mut input = io::stdin().lock();
    loop {
        let line = recv(&mut input)
            .map_err(|e| e.to_string())?
            .ok_or("eof before the verdict")?;
        let msg = match parse_line(&line) {
            ("M", list) => ServerMessage::Mechanisms(list.split(',').map(str::to_owned).collect()),
            ("C", b64) => ServerMessage::Step(
                B64.decode(b64)
                    .map_err(|_| "challenge is not base64")?
                    .into(),
            ),
            ("OK", _) => ServerMessage::Completed,
            ("NO", _) => ServerMessage::Failed,
            _ => return Err("expected M, C, OK or NO".to_owned()),
        };
        session.handle_message(msg).map_err(to_string)?;
        while let Some(out) = session.poll_output() {
            let line = match out {
                ClientMessage::Start { mechanism, data } if data.is_empty() => {
                    format!("S {mechanism}")
                }
                ClientMessage::Start { mechanism, data } => {
                    format!("S {mechanism} {}", B64.encode(&data))
                }
                ClientMessage::Step(data) => format!("R {}", B64.encode(&data)),
            };
            send(&line).map_err(|e| e.to_string())?;
        }
        match session.status() {
            Status::Completed(_) => return Ok(ExitCode::SUCCESS),
            Status::Failed => return Ok(ExitCode::from(1)),
            Status::Error(e) => return Err(e.to_string()),
            Status::Pending => {}
        }
    }
}

fn log(msg: &str) {
    let _ = writeln!(io::stderr(), "mesos-auth sasl: {msg}");
}

fn audit(event: mesos_auth::sasl::AuthEvent) {
    let line = to_json_line(&event, SystemTime::now());
    let _ = writeln!(io::stderr(), "{line}");
}

/// Writes one protocol line and flushes it.
fn send(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Reads one line (without its `\n`), `None` at end of input.
fn recv(input: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    io::Read::take(&mut *input, MAX_LINE).read_until(b'\n', &mut buf)?;
    if buf.is_empty() {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() as u64 >= MAX_LINE {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "line is not UTF-8"))
}

/// Splits `TAG[ payload]`.
fn parse_line(line: &str) -> (&str, &str) {
    line.split_once(' ').unwrap_or((line, ""))
}

/// Parses the interop credentials format.
fn load_credentials(path: &Path) -> Result<CredentialStore, String> {
    let raw =
        credentials::read_private_file(path, &private_file_options()).map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(&raw).map_err(|e| {
        format!(
            "`{}`: not UTF-8 at byte {}",
            path.display(),
            e.valid_up_to()
        )
    })?;
    let mut creds = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("`{}` line {}", path.display(), i + 1);
        let (name, secret) = line
            .split_once('\t')
            .ok_or_else(|| format!("{at}: expected `principal<TAB>secret`"))?;
        let principal = Principal::new(name).map_err(|e| format!("{at}: {e}"))?;
        creds.push(Credential::plain(principal, Secret::new(secret.as_bytes())));
    }
    CredentialStore::from_credentials(creds).map_err(|e| format!("`{}`: {e}", path.display()))
}

fn server(credentials: Option<PathBuf>, host: &str, timeout: Duration) -> ExitCode {
    let Some(path) =
        credentials.or_else(|| std::env::var_os("CRAM_CREDENTIALS").map(PathBuf::from))
    else {
        log("no credentials: pass --credentials FILE or set CRAM_CREDENTIALS");
        return ExitCode::from(2);
    };
    let store = match load_credentials(&path) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            log(&e);
            return ExitCode::from(2);
        }
    };
    let mut rng = match default_nonce_source() {
        Ok(r) => r,
        Err(e) => {
            log(&format!("no randomness: {e}"));
            return ExitCode::from(2);
        }
    };
    let now = Instant::now();
    let config = AuthenticatorConfig::new()
        .host(host)
        .timeout(timeout)
        .peer("stdio");
    let mut session = Authenticator::new(store, config, &mut rng, now);
    // The line protocol has no mechanism negotiation: play the client's
    // start ourselves.
    let _mechanisms = session.poll_output();
    if let Err(e) = session.handle_start(now, "CRAM-MD5", b"") {
        log(&e.to_string());
        return ExitCode::from(2);
    }
    let Some(ServerMessage::Step(challenge)) = session.poll_output() else {
        log("no challenge");
        return ExitCode::from(2);
    };
    if send(&format!("C {}", B64.encode(&challenge))).is_err() {
        return verdict_no("eof while sending the challenge");
    }
    // The response is read on its own thread so the wait can be bounded:
    // a silent peer must not hold the server forever.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(recv(&mut io::stdin().lock()));
    });
    // A timeout too large to add waits without a bound (recv_timeout's rule).
    let wait = now.checked_add(timeout).map_or(timeout, |deadline| {
        deadline.saturating_duration_since(Instant::now())
    });
    let line = match rx.recv_timeout(wait) {
        Ok(line) => line,
        Err(_) => {
            session.handle_timeout(Instant::now());
            while let Some(ev) = session.poll_event() {
                audit(ev);
            }
            // Leaving main ends the process and the reader thread with it.
            return verdict_no("timeout");
        }
    };
    let response = match line {
        Ok(Some(line)) => match parse_line(&line) {
            ("R", b64) => match B64.decode(b64) {
                Ok(r) => r,
                Err(_) => return verdict_no("badprot response is not base64"),
            },
            _ => return verdict_no("badprot expected an R line"),
        },
        Ok(None) => return verdict_no("eof before the response"),
        Err(e) => return verdict_no(&format!("badprot {e}")),
    };
    let _ = session.handle_step(Instant::now(), &response);
    while let Some(ev) = session.poll_event() {
        audit(ev);
    }
    match session.status() {
        Status::Completed(p) => match send(&format!("OK {p}")) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        },
        // One uniform answer; the reason is in the audit line on stderr.
        Status::Failed => verdict_no("badauth"),
        Status::Error(e) => verdict_no(&format!("error {e}")),
        Status::Pending => verdict_no("error exchange did not finish"),
    }
}

fn verdict_no(reason: &str) -> ExitCode {
    let _ = send(&format!("NO {reason}"));
    ExitCode::from(1)
}

fn client(principal: Option<String>, secret_file: Option<PathBuf>) -> ExitCode {
    let Some(name) = principal.or_else(|| std::env::var("CRAM_PRINCIPAL").ok()) else {
        log("no principal: pass --principal P or set CRAM_PRINCIPAL");
        return ExitCode::from(2);
    };
    let secret = match secret_file {
        Some(path) => match credentials::read_private_file(&path, &private_file_options()) {
            Ok(bytes) => {
                let end = bytes
                    .strip_suffix(b"\r\n")
                    .or_else(|| bytes.strip_suffix(b"\n"))
                    .unwrap_or(&bytes);
                Secret::new(end)
            }
            Err(e) => {
                log(&e.to_string());
                return ExitCode::from(2);
            }
        },
        None => match std::env::var_os("CRAM_SECRET") {
            Some(s) => Secret::new(s.as_encoded_bytes()),
            None => {
                log("no secret: pass --secret-file F or set CRAM_SECRET");
                return ExitCode::from(2);
            }
        },
    };
    let principal = match Principal::new(&name) {
        Ok(p) => p,
        Err(e) => {
            log(&format!("principal: {e}"));
            return ExitCode::from(2);
        }
    };
    let mut session = match Authenticatee::new(principal, &secret) {
        Ok(s) => s,
        Err(e) => {
            log(&e.to_string());
            return ExitCode::from(2);
        }
    };
    drop(secret);
    match client_exchange(&mut session) {
        Ok(code) => {
            while let Some(ev) = session.poll_event() {
                audit(ev);
            }
            code
        }
        Err(e) => {
            log(&e);
            ExitCode::from(2)
        }
    }
}

fn client_exchange(session: &mut Authenticatee) -> Result<ExitCode, String> {
    let to_string = |e: mesos_auth::sasl::SaslError| e.to_string();
    session
        .handle_message(ServerMessage::Mechanisms(["CRAM-MD5"].into()))
        .map_err(to_string)?;
    let _start = session.poll_output();
    let mut input = io::stdin().lock();
    let line = recv(&mut input)
        .map_err(|e| e.to_string())?
        .ok_or("eof before the challenge")?;
    let challenge = match parse_line(&line) {
        ("C", b64) => B64.decode(b64).map_err(|_| "challenge is not base64")?,
        _ => return Err("expected a C line".to_owned()),
    };
    session
        .handle_message(ServerMessage::Step(challenge.into()))
        .map_err(to_string)?;
    let Some(ClientMessage::Step(response)) = session.poll_output() else {
        return Err("no response computed".to_owned());
    };
    send(&format!("R {}", B64.encode(&response))).map_err(|e| e.to_string())?;
    let line = recv(&mut input)
        .map_err(|e| e.to_string())?
        .ok_or("eof before the verdict")?;
    match parse_line(&line) {
        ("OK", _) => {
            session
                .handle_message(ServerMessage::Completed)
                .map_err(to_string)?;
            Ok(ExitCode::SUCCESS)
        }
        ("NO", _) => {
            session
                .handle_message(ServerMessage::Failed)
                .map_err(to_string)?;
            Ok(ExitCode::from(1))
        }
        _ => Err("expected OK or NO".to_owned()),
    }
}
