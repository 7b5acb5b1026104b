//! Where an OAUTHBEARER client gets its token: a file, or a command's
//! standard output, re-read shortly before the token expires (the way
//! Kafka's OAUTHBEARER login callback refreshes).

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::Secret;

/// Largest token file or command output read, in bytes.
pub const MAX_TOKEN_SOURCE_BYTES: usize = 16 * 1024;

/// Why no token could be had. Never holds the token or the command's
/// output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenSourceError {
    /// The token file could not be read.
    #[error("cannot read token file {path}: {problem}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        problem: String,
    },
    /// The token command could not run, failed or timed out.
    #[error("token command {program} failed: {problem}")]
    Command {
        /// The program.
        program: PathBuf,
        /// What went wrong (its exit status, a spawn error, a timeout).
        problem: String,
    },
    /// The source gave something that is not a usable token.
    #[error("token from {source_name} is unusable: {problem}")]
    Invalid {
        /// The file or program.
        source_name: String,
        /// What is wrong (empty, too large, not one line of RFC 6750
        /// `b64token` characters).
        problem: String,
    },
}

#[derive(Debug, Clone)]
enum Kind {
    File(PathBuf),
    Command {
        program: PathBuf,
        args: Vec<OsString>,
        timeout: Duration,
    },
}

#[derive(Debug)]
struct Cached {
    token: Secret,
    // `None`: no readable `exp`, so the source is asked every time.
    refresh_at: Option<SystemTime>,
}

/// A bearer token's source, with a cache that is refreshed before the
/// token expires.
///
/// The token's `exp` is read from its (unverified) JWT claims only to
/// schedule the refresh: [`refresh_before`](Self::refresh_before) ahead of
/// it, 60 s by default. An opaque token, or one without `exp`, is re-read
/// on every call. The clock is the caller's (`now`).
///
/// ```no_run
/// use std::time::SystemTime;
/// use mesos_auth::sasl::{Authenticatee, TokenSource};
/// use mesos_auth::Principal;
///
/// let mut source = TokenSource::command("/usr/local/bin/get-token", ["--audience", "mesos"]);
/// let token = source.token(SystemTime::now())?;
/// let client = Authenticatee::oauthbearer(Principal::new("agent-7")?, &token)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TokenSource {
    kind: Kind,
    refresh_before: Duration,
    cached: Option<Cached>,
}

impl TokenSource {
    /// Reads the token from `path` (one line; surrounding whitespace is
    /// dropped). A file that a sidecar rewrites is picked up on refresh.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: Kind::File(path.into()),
            refresh_before: Duration::from_secs(60),
            cached: None,
        }
    }

    /// Runs `program` with `args` (no shell) and takes its standard output
    /// as the token. Its standard error is discarded (it could echo the
    /// token); a non-zero exit, or no exit within 30 s, is an error.
    pub fn command<I, S>(program: impl Into<PathBuf>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            kind: Kind::Command {
                program: program.into(),
                args: args.into_iter().map(Into::into).collect(),
                timeout: Duration::from_secs(30),
            },
            refresh_before: Duration::from_secs(60),
            cached: None,
        }
    }

    /// How long before `exp` the token is fetched again.
    #[must_use]
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// How long a token command may run (30 s by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        if let Kind::Command { timeout: t, .. } = &mut self.kind {
            *t = timeout;
        }
        self
    }

    /// The token: the cached one while it is fresh at `now`, else a new one
    /// from the source.
    ///
    /// # Errors
    ///
    /// [`TokenSourceError`] when the source cannot be read or gives no
    /// usable token; the cache is dropped then, so nothing stale is reused.
    pub fn token(&mut self, now: SystemTime) -> Result<Secret, TokenSourceError> {
        if let Some(c) = &self.cached
            && c.refresh_at.is_some_and(|at| now < at)
        {
            return Ok(Secret::new(c.token.expose()));
        }
        self.cached = None;
        let token = self.fetch()?;
        let refresh_at = jwt_exp(token.expose())
            .map(|exp| exp.checked_sub(self.refresh_before).unwrap_or(UNIX_EPOCH));
        let out = Secret::new(token.expose());
        self.cached = Some(Cached { token, refresh_at });
        Ok(out)
    }

    /// When the cached token will be fetched again, if it has a known
    /// expiry.
    pub fn refresh_at(&self) -> Option<SystemTime> {
        self.cached.as_ref().and_then(|c| c.refresh_at)
    }

    /// Drops the cached token (after the server refused it, for example).
    pub fn invalidate(&mut self) {
        self.cached = None;
    }

    fn name(&self) -> String {
        match &self.kind {
            Kind::File(p) => p.display().to_string(),
            Kind::Command { program, .. } => program.display().to_string(),
        }
    }

    fn fetch(&self) -> Result<Secret, TokenSourceError> {
        let raw = match &self.kind {
            Kind::File(path) => read_file(path)?,
            Kind::Command {
                program,
                args,
                timeout,
            } => run(program, args, *timeout)?,
        };
        let invalid = |problem: &str| TokenSourceError::Invalid {
            source_name: self.name(),
            problem: problem.to_owned(),
        };
        if raw.len() > MAX_TOKEN_SOURCE_BYTES {
            return Err(invalid("more than 16 KiB"));
        }
        let token = raw.trim_ascii();
        if token.is_empty() {
            return Err(invalid("empty"));
        }
        let body_len = token.iter().rposition(|&b| b != b'=').map_or(0, |p| p + 1);
        let (body, pad) = token.split_at(body_len);
        let ok = !body.is_empty()
            && body.iter().all(|&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            })
            && pad.iter().all(|&b| b == b'=');
        if !ok {
            return Err(invalid(
                "not one line of RFC 6750 b64token characters (a JWT is three base64url parts joined by `.`)",
            ));
        }
        Ok(Secret::new(token))
    }
}

fn read_file(path: &PathBuf) -> Result<Zeroizing<Vec<u8>>, TokenSourceError> {
    let fail = |e: std::io::Error| TokenSourceError::Read {
        path: path.clone(),
        problem: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut buf = Zeroizing::new(Vec::new());
    // One byte over the limit tells "too large" apart without reading more.
    file.take(MAX_TOKEN_SOURCE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(fail)?;
    Ok(buf)
}

fn run(
    program: &PathBuf,
    args: &[OsString],
    timeout: Duration,
) -> Result<Zeroizing<Vec<u8>>, TokenSourceError> {
    let fail = |problem: String| TokenSourceError::Command {
        program: program.clone(),
        problem,
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(fail("no standard output".to_owned()));
    };
    // Read in a thread so that a command that never exits cannot block us
    // past the timeout.
    let reader = std::thread::spawn(move || {
        let mut buf = Zeroizing::new(Vec::new());
        let read = stdout
            .take(MAX_TOKEN_SOURCE_BYTES as u64 + 1)
            .read_to_end(&mut buf);
        read.map(|_| buf)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                // Best effort: the child may have exited in between.
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("no exit within {timeout:?}")));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(fail(format!("cannot wait for it: {e}"))),
        }
    };
    let out = reader
        .join()
        .map_err(|_| fail("the output reader failed".to_owned()))?
        .map_err(|e| fail(format!("cannot read its output: {e}")))?;
    if !status.success() {
        return Err(fail(format!("exited with {status}")));
    }
    Ok(out)
}

/// The `exp` claim of a JWT, unverified (only to schedule a refresh).
fn jwt_exp(token: &[u8]) -> Option<SystemTime> {
    let mut parts = token.split(|&b| b == b'.');
    let _header = parts.next()?;
    let claims = parts.next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = value.get("exp")?.as_u64()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(exp))
}
