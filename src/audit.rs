//! Audit events: one typed record for every security-relevant outcome, which a
//! host forwards wherever its logs go (JSON lines by default).
//!
//! Components never write logs themselves; they hand an [`AuditEvent`] to the
//! [`AuditSink`] the host gave them. Events carry principals, peers, rule
//! names and reasons, never a secret, digest or password.

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A security-relevant outcome from one of the components.
///
/// Serialized as one JSON object with a `"component"` tag.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "component", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// A SASL exchange ended.
    Sasl(crate::sasl::AuthEvent),
    /// A credentials reload was served or refused.
    Credentials(crate::credentials::ReloadEvent),
    /// A TLS client certificate was mapped (or refused).
    Tls(crate::tls::MappingEvent),
    /// An ACL decision ([`crate::acl::DecisionEvent`]).
    Acl(crate::acl::DecisionEvent),
}

/// Receives audit events. Implementations must be cheap and must not block
/// for long: they are called on the authentication path.
pub trait AuditSink: Send + Sync {
    /// Records one event.
    fn record(&self, event: &AuditEvent);
}

/// Drops every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

impl AuditSink for NullSink {
    fn record(&self, _event: &AuditEvent) {}
}

/// Keeps events in memory, for tests and demos.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the events recorded so far.
    pub fn take(&self) -> Vec<AuditEvent> {
        match self.events.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) {
        let mut v = match self.events.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        v.push(event.clone());
    }
}

/// Writes each event as one JSON line, `{"time": <unix seconds>, ...event}`.
#[derive(Debug)]
pub struct JsonLinesSink<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLinesSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        match self.out.into_inner() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Renders `event` as one JSON line (no trailing newline) stamped with `time`.
pub fn to_json_line(event: &AuditEvent, time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut value = serde_json::to_value(event).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("time".to_owned(), serde_json::json!(secs));
    }
    value.to_string()
}

impl<W: Write + Send> AuditSink for JsonLinesSink<W> {
    fn record(&self, event: &AuditEvent) {
        let line = to_json_line(event, SystemTime::now());
        let mut out = match self.out.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        // An audit sink that cannot write must not fail authentication; the
        // host sees the I/O problem on its own writer.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
