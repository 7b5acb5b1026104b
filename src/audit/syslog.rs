//! JSON lines to the local syslog socket (syslogd, rsyslog, or journald's
//! `/dev/log`), written here rather than through a crate.
//!
//! Why no crate: the local protocol is one datagram per message with a
//! short header, about a hundred lines with the date arithmetic; the
//! `syslog` crate brings its own error and formatting layers (and
//! `hostname`, `time`), and the journald crates link `libsystemd` or carry
//! the native protocol, all for what `UnixDatagram::send` does. journald
//! reads `/dev/log` on systemd hosts, so one sink serves both.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{AuditError, AuditSink, Event, to_json_line};

/// How a [`SyslogSink`] frames a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyslogFormat {
    /// What glibc's `syslog(3)` sends to `/dev/log`:
    /// `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`; every local receiver parses it
    /// (rsyslog's imuxsock, journald, syslog-ng, busybox). The timestamp is
    /// UTC; local receivers stamp messages on arrival anyway.
    #[default]
    Local,
    /// RFC 5424: `<PRI>1 TIMESTAMP - APP PID audit - MSG`, for receivers
    /// configured to parse it.
    Rfc5424,
}

/// Settings of a [`SyslogSink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogConfig {
    socket: PathBuf,
    app_name: String,
    facility: u8,
    format: SyslogFormat,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        Self {
            socket: PathBuf::from("/dev/log"),
            app_name: "mesos-auth".to_owned(),
            facility: 10,
            format: SyslogFormat::Local,
        }
    }
}

impl SyslogConfig {
    /// `/dev/log`, tag `mesos-auth`, facility `authpriv` (10), the local
    /// format.
    pub fn new() -> Self {
        Self::default()
    }

    /// The receiver's datagram socket.
    #[must_use]
    pub fn socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.socket = path.into();
        self
    }

    /// The tag (APP-NAME): printable ASCII, no spaces, `[` or `:`, at most
    /// 48 bytes; other characters become `_`.
    #[must_use]
    pub fn app_name(mut self, name: &str) -> Self {
        let tag: String = name
            .chars()
            .take(48)
            .map(|c| {
                if c.is_ascii_graphic() && !matches!(c, '[' | ']' | ':') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.app_name = if tag.is_empty() { "-".to_owned() } else { tag };
        self
    }

    /// The facility number (0-23; `authpriv` is 10, `auth` 4, `local0` 16).
    ///
    /// # Errors
    ///
    /// [`AuditError::Config`] above 23.
    pub fn facility(mut self, facility: u8) -> Result<Self, AuditError> {
        if facility > 23 {
            return Err(AuditError::Config("syslog facility must be 0-23"));
        }
        self.facility = facility;
        Ok(self)
    }

    /// The framing.
    #[must_use]
    pub fn format(mut self, format: SyslogFormat) -> Self {
        self.format = format;
        self
    }
}

/// Sends each event as one syslog message (severity `info`) whose text is
/// the event's JSON line.
///
/// A send that fails (the receiver restarted) reconnects once and retries;
/// a message is acknowledged when the kernel accepted the datagram (the
/// receiver then owns it; syslog has no end-to-end acknowledgement).
#[derive(Debug)]
pub struct SyslogSink {
    config: SyslogConfig,
    socket: Mutex<UnixDatagram>,
    errors: std::sync::atomic::AtomicU64,
}

/// Severity `info`.
const INFO: u8 = 6;

impl SyslogSink {
    /// Connects to the receiver's socket.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if the socket cannot be reached.
    pub fn connect(config: SyslogConfig) -> Result<Self, AuditError> {
        let socket = connect(&config.socket)?;
        Ok(Self {
            config,
            socket: Mutex::new(socket),
            errors: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Sends failed so far through [`AuditSink::record`].
    pub fn errors(&self) -> u64 {
        self.errors.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends one event.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if the datagram could not be sent, even after
    /// reconnecting.
    pub fn send_event(&self, event: &dyn Event) -> Result<(), AuditError> {
        let now = SystemTime::now();
        let msg = self.frame(&to_json_line(event, now), now);
        let mut sock = match self.socket.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if sock.send(msg.as_bytes()).is_ok() {
            return Ok(());
        }
        *sock = connect(&self.config.socket)?;
        sock.send(msg.as_bytes())
            .map(drop)
            .map_err(|e| io_error(&self.config.socket, e))
    }

    fn frame(&self, json: &str, now: SystemTime) -> String {
        let c = &self.config;
        let pri = u16::from(c.facility) * 8 + u16::from(INFO);
        let pid = std::process::id();
        let (y, mo, d, h, mi, s, micros) = civil(now);
        match c.format {
            SyslogFormat::Local => {
                const MONTHS: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                let month = MONTHS
                    .get(usize::from(mo.saturating_sub(1)))
                    .copied()
                    .unwrap_or("Jan");
                format!(
                    "<{pri}>{month} {d:>2} {h:02}:{mi:02}:{s:02} {}[{pid}]: {json}",
                    c.app_name
                )
            }
            SyslogFormat::Rfc5424 => format!(
                "<{pri}>1 {y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}Z - {} {pid} audit - {json}",
                c.app_name
            ),
        }
    }
}

impl AuditSink for SyslogSink {
    fn record(&self, event: &dyn Event) {
        if self.send_event(event).is_err() {
            self.errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn try_record(&self, event: &dyn Event) -> Result<(), AuditError> {
        self.send_event(event)
    }
}

fn io_error(path: &Path, source: std::io::Error) -> AuditError {
    AuditError::Io {
        what: "syslog socket",
        path: path.to_path_buf(),
        source,
    }
}

fn connect(path: &Path) -> Result<UnixDatagram, AuditError> {
    let sock = UnixDatagram::unbound().map_err(|e| io_error(path, e))?;
    sock.connect(path).map_err(|e| io_error(path, e))?;
    // A wedged receiver must not hold the writer forever.
    sock.set_write_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| io_error(path, e))?;
    Ok(sock)
}

/// UTC calendar fields of `t`: (year, month 1-12, day, hour, minute,
/// second, microsecond). Days to date after Howard Hinnant's
/// `civil_from_days` (a public-domain algorithm, rewritten here).
fn civil(t: SystemTime) -> (i64, u8, u8, u8, u8, u8, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let small = |v: i64| u8::try_from(v).unwrap_or(0);
    let small_u = |v: u64| u8::try_from(v).unwrap_or(0);
    (
        year,
        small(month),
        small(day),
        small_u(rem / 3600),
        small_u(rem % 3600 / 60),
        small_u(rem % 60),
        d.subsec_micros(),
    )
}

#[cfg(test)]
pub(super) fn civil_for_test(t: SystemTime) -> (i64, u8, u8, u8, u8, u8, u32) {
    civil(t)
}
