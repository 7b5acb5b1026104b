//! `mesos-auth token check`: explain why a bearer token is or is not
//! accepted, without ever printing the token.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesos_auth::audit::to_json_line;
use mesos_auth::bearer::{Jwks, ValidationEvent, Validator, ValidatorConfig};

/// Largest JWKS or configuration file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Check one bearer token: exit 0 accepted, 1 rejected, 2 errors. The
    /// token is never printed; the reason is the one the audit log gets.
    Check {
        /// The JWKS file (what the host fetches from the issuer).
        #[arg(long)]
        jwks: PathBuf,
        /// The validator configuration (JSON: issuers, audiences,
        /// algorithms, leeway_secs, max_token_bytes, principal_rules).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Accepted issuer, when there is no --config (repeat for several).
        #[arg(long)]
        issuer: Vec<String>,
        /// Accepted audience, when there is no --config (repeat for several).
        #[arg(long)]
        audience: Vec<String>,
        /// The JWKS holds shared secrets (`oct` keys for HS256/384/512).
        #[arg(long)]
        shared_secret: bool,
        /// Check as of this time (seconds since the epoch) instead of now.
        #[arg(long)]
        now: Option<u64>,
        /// Print the audit record (one JSON line) instead of the text.
        #[arg(long)]
        json: bool,
        /// The token, or `-` to read it from standard input (safer: a
        /// command line shows up in `ps` and shell history). A leading
        /// `Bearer ` is dropped.
        token: String,
    },
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    let Command::Check {
        jwks,
        config,
        issuer,
        audience,
        shared_secret,
        now,
        json,
        token,
    } = cmd;
    let validator = match build(&jwks, config.as_deref(), &issuer, &audience, shared_secret) {
        Ok(v) => v,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let token = if token == "-" {
        let mut s = String::new();
        let limit = u64::try_from(validator.config().token_limit()).unwrap_or(u64::MAX) + 16;
        if let Err(e) = std::io::stdin().take(limit).read_to_string(&mut s) {
            eprintln!("error: reading the token from standard input: {e}");
            return ExitCode::from(2);
        }
        s
    } else {
        token
    };
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    let now = now.map_or_else(SystemTime::now, |s| UNIX_EPOCH + Duration::from_secs(s));
    let result = validator.validate(token, now);
    let event = ValidationEvent::new(&result);
    let mut o = String::new();
    if json {
        o.push_str(&format!("{}\n", to_json_line(&event, now)));
    } else {
        o.push_str(&format!("token:     {} bytes (not shown)\n", token.len()));
        if let Some(alg) = event.alg {
            o.push_str(&format!("alg:       {alg}\n"));
        }
        if let Some(kid) = &event.kid {
            o.push_str(&format!("kid:       {kid:?}\n"));
        }
        if let Some(iss) = &event.iss {
            o.push_str(&format!("issuer:    {iss:?}\n"));
        }
        match &result {
            Ok(v) => {
                o.push_str(&format!(
                    "result:    ACCEPTED as principal {:?} (claim `{}`, rule {})\n",
                    v.principal().as_str(),
                    v.claim(),
                    v.rule()
                ));
                let secs = now
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                o.push_str(&format!(
                    "expires:   {} ({}s from now)\n",
                    v.exp(),
                    v.exp().saturating_sub(secs)
                ));
            }
            Err(r) => {
                o.push_str(&format!(
                    "result:    REJECTED (peer is told `{}`)\n",
                    r.code()
                ));
                o.push_str(&format!("reason:    {}\n", r.reason()));
            }
        }
    }
    let _ = std::io::stdout().write_all(o.as_bytes());
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "{}: larger than {MAX_FILE_BYTES} bytes",
            path.display()
        ));
    }
    Ok(bytes)
}

pub(crate) fn build(
    jwks: &Path,
    config: Option<&Path>,
    issuers: &[String],
    audiences: &[String],
    shared_secret: bool,
) -> Result<Validator, String> {
    fn at(p: &Path) -> impl Fn(mesos_auth::bearer::BearerError) -> String + '_ {
        move |e| format!("{}: {e}", p.display())
    }
    let set = read(jwks)?;
    let set = if shared_secret {
        Jwks::shared_secrets_from_json(&set)
    } else {
        Jwks::from_json(&set)
    }
    .map_err(at(jwks))?;
    let mut cfg = match config {
        Some(p) => ValidatorConfig::from_json(&read(p)?).map_err(at(p))?,
        None if issuers.is_empty() || audiences.is_empty() => {
            return Err("give --config, or --issuer and --audience".to_owned());
        }
        None => ValidatorConfig::new(),
    };
    for i in issuers {
        cfg = cfg.issuer(i);
    }
    for a in audiences {
        cfg = cfg.audience(a);
    }
    Validator::new(&cfg, set).map_err(|e| e.to_string())
}
