//! Audit events: one typed record for every security-relevant outcome, which a
//! host forwards wherever its logs go (JSON lines by default).
//!
//! Components never write logs themselves; they hand an event to the
//! [`AuditSink`] the host gave them. Events carry principals, peers, rule
//! names and reasons, never a secret, digest or password.
//!
//! The tie is one-way: each component owns its event type
//! ([`sasl::AuthEvent`](crate::sasl::AuthEvent),
//! [`tls::MappingEvent`](crate::tls::MappingEvent),
//! [`acl::DecisionEvent`](crate::acl::DecisionEvent),
//! [`credentials::ReloadEvent`](crate::credentials::ReloadEvent)) and
//! implements [`Event`] for it; this module (the sinks, the JSON lines, the C
//! callback built on them) knows no component. A new component adds an
//! event type of its own and touches nothing here.
//!
//! # The record
//!
//! [`to_json_line`] gives one JSON object per line, keys sorted: the
//! event's own keys plus these (`docs/audit.md` §1 lists every component's
//! keys):
//!
//! | key | meaning |
//! |---|---|
//! | `component` | which component decided: `sasl`, `tls`, `acl`, `credentials`, ... |
//! | `time` | Unix seconds, fractional, when the sink wrote it |
//! | `audit_id` | the request's [`AuditId`], when the host gave one (absent otherwise) |
//! | `auth_method` | how the principal authenticated (`cram-md5`, `tls`, ...), on authentication events |
//! | `principal`, `peer`, `source`, `objects` | what the peer claimed: **untrusted** until the event says it was verified; escaped, else as received |
//! | `rule`, `reason` | the deciding rule and the reason in words |
//! | `policy_hash`, `policy_generation` | on decisions: which policy decided (when the host said) |
//!
//! No record holds a secret, digest, password or token.
//!
//! # Sinks, acknowledgement, rotation
//!
//! [`FileSink`] appends JSON lines to a file (created 0600; an unsafe
//! existing file is refused) and rotates by size: `<path>` becomes
//! `<path>.1`, `<path>.1` becomes `<path>.2`, ... up to `<path>.<keep>`,
//! each an atomic rename. [`SyslogSink`] sends each line to the local
//! syslog socket. [`AsyncSink`] puts any sink behind a bounded queue and
//! one writer thread, so recording never blocks (a full queue drops and
//! counts).
//!
//! An event is *acknowledged* when its sink reported success
//! ([`AuditSink::try_record`]): for a [`FileSink`] under
//! [`FsyncPolicy::Always`], written in one `write` and synced. Acknowledged
//! events survive the writer being killed.
//!
//! The reader rule: a record is a line that ends with a newline and parses
//! as a JSON object. A writer killed mid-write may leave one torn line at
//! the end; the next [`FileSink`] on the file ends it with a newline first,
//! so only that fragment is skipped.
//!
//! # Example
//!
//! A sink that keeps only the refusals, and the JSON line of an event:
//!
//! ```
//! use std::sync::Mutex;
//! use mesos_auth::acl::{self, Action, Compiler, DecisionEvent, Object, Request};
//! use mesos_auth::audit::{self, AuditSink, Event};
//!
//! #[derive(Default)]
//! struct Refusals(Mutex<Vec<String>>);
//!
//! impl AuditSink for Refusals {
//!     fn record(&self, event: &dyn Event) {
//!         if let Some(d) = event.downcast_ref::<DecisionEvent>() {
//!             if !d.allowed {
//!                 let line = audit::to_json_line(event, std::time::SystemTime::UNIX_EPOCH);
//!                 self.0.lock().map(|mut v| v.push(line)).ok();
//!             }
//!         }
//!     }
//! }
//!
//! let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": false}"#)?)?;
//! let request = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
//! let sink = Refusals::default();
//! sink.record(&DecisionEvent::new(&request, &policy.authorize(&request)));
//!
//! let lines = sink.0.into_inner()?;
//! assert_eq!(lines.len(), 1);
//! assert!(lines[0].starts_with(r#"{"action":"run_task","allowed":false,"component":"acl""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::any::Any;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A security-relevant outcome, as a component reports it.
///
/// Each component implements this for its own event type; sinks receive
/// `&dyn Event` and either render it ([`to_json_line`]) or look for the
/// types they care about ([`downcast_ref`](trait.Event.html#method.downcast_ref)).
pub trait Event: fmt::Debug + Send + Sync + Any {
    /// The `"component"` tag of the JSON record: `sasl`, `tls`, `acl`,
    /// `credentials`, ...
    fn component(&self) -> &'static str;

    /// The event's own fields as a JSON object (without `component` and
    /// `time`, which [`to_json_line`] adds). Never a secret.
    fn to_json(&self) -> serde_json::Value;

    /// An owned, cheaply cloned copy, for sinks that keep events
    /// ([`MemorySink`]). Implementations are `AuditEvent::new(self.clone())`.
    fn to_audit_event(&self) -> AuditEvent;
}

impl dyn Event {
    /// The event as its concrete type, if it is a `T`.
    pub fn downcast_ref<T: Event>(&self) -> Option<&T> {
        (self as &dyn Any).downcast_ref::<T>()
    }

    /// Whether the event is a `T`.
    pub fn is<T: Event>(&self) -> bool {
        (self as &dyn Any).is::<T>()
    }
}

/// An owned event of any component: what [`MemorySink`] keeps. Cloning
/// shares the event (an `Arc` inside).
///
/// ```
/// use mesos_auth::AuditEvent;
/// use mesos_auth::acl::{self, Action, Compiler, DecisionEvent, Object, Request};
///
/// let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": true}"#)?)?;
/// let request = Request::new(Action::RunTasks, Some("ops"), Object::One("svc"));
/// let event = AuditEvent::new(DecisionEvent::new(&request, &policy.authorize(&request)));
/// assert_eq!(event.component(), "acl");
/// assert!(event.downcast_ref::<DecisionEvent>().is_some_and(|d| d.allowed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AuditEvent(Arc<dyn Event>);

impl AuditEvent {
    /// Wraps one component's event.
    pub fn new<E: Event>(event: E) -> Self {
        Self(Arc::new(event))
    }

    /// The `"component"` tag.
    pub fn component(&self) -> &'static str {
        self.0.component()
    }

    /// The event as its concrete type, if it is a `T`.
    pub fn downcast_ref<T: Event>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }

    /// The event, borrowed.
    pub fn as_event(&self) -> &dyn Event {
        &*self.0
    }
}

impl fmt::Debug for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// The event's JSON object with its `"component"`, as in a JSON line
/// without the `"time"`.
impl serde::Serialize for AuditEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        tagged(self.as_event()).serialize(s)
    }
}

impl Event for AuditEvent {
    fn component(&self) -> &'static str {
        self.0.component()
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }

    fn to_audit_event(&self) -> AuditEvent {
        self.clone()
    }
}

/// Receives audit events. Implementations must be cheap and must not block
/// for long: they are called on the authentication path.
///
/// See the [module example](self) for a sink of one's own.
pub trait AuditSink: Send + Sync {
    /// Records one event.
    fn record(&self, event: &dyn Event);

    /// Records one event and says whether the sink accepted it: `Ok` means
    /// *acknowledged* (written, and synced if the sink's policy says so).
    /// The default records and answers `Ok`.
    ///
    /// # Errors
    ///
    /// The sink's [`AuditError`] if the event was not written.
    fn try_record(&self, event: &dyn Event) -> Result<(), AuditError> {
        self.record(event);
        Ok(())
    }

    /// Puts what was recorded where the sink's policy says it must be (an
    /// fsync for a [`FileSink`]). The default does nothing.
    ///
    /// # Errors
    ///
    /// The sink's [`AuditError`].
    fn flush(&self) -> Result<(), AuditError> {
        Ok(())
    }
}

/// Drops every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

impl AuditSink for NullSink {
    fn record(&self, _event: &dyn Event) {}
}

/// Keeps events in memory, for tests and demos.
///
/// ```
/// use mesos_auth::audit::{AuditSink, MemorySink};
/// use mesos_auth::acl::{self, Action, Compiler, DecisionEvent, Object, Request};
///
/// let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": false}"#)?)?;
/// let request = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
/// let sink = MemorySink::new();
/// sink.record(&DecisionEvent::new(&request, &policy.authorize(&request)));
///
/// let events = sink.take();
/// assert!(matches!(&events[..], [e] if e.downcast_ref::<DecisionEvent>().is_some_and(|d| !d.allowed)));
/// assert!(sink.take().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    fn record(&self, event: &dyn Event) {
        let mut v = match self.events.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        v.push(event.to_audit_event());
    }
}

/// Writes each event as one JSON line, `{"time": <unix seconds>, ...event}`.
///
/// ```
/// use mesos_auth::audit::{AuditSink, JsonLinesSink};
/// use mesos_auth::acl::{self, Action, Compiler, DecisionEvent, Object, Request};
///
/// let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": false}"#)?)?;
/// let request = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
/// let sink = JsonLinesSink::new(Vec::new());
/// sink.record(&DecisionEvent::new(&request, &policy.authorize(&request)));
///
/// let out = String::from_utf8(sink.into_inner())?;
/// assert_eq!(out.lines().count(), 1);
/// assert!(out.contains(r#""component":"acl""#) && out.contains(r#""time":"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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

/// Renders `event` as one JSON line (no trailing newline) stamped with
/// `time`: the event's fields, its `"component"` and `"time"` (Unix
/// seconds), keys in sorted order.
pub fn to_json_line(event: &dyn Event, time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut map = tagged(event);
    map.insert("time".to_owned(), serde_json::json!(secs));
    serde_json::Value::Object(map).to_string()
}

/// The event's fields and its `"component"` tag.
fn tagged(event: &dyn Event) -> serde_json::Map<String, serde_json::Value> {
    let mut map = match event.to_json() {
        serde_json::Value::Object(map) => map,
        // An event that is not an object still gets its tag and time.
        other => {
            let mut map = serde_json::Map::new();
            map.insert("event".to_owned(), other);
            map
        }
    };
    map.insert("component".to_owned(), event.component().into());
    map
}

/// The JSON object of a serializable event, for [`Event::to_json`]
/// implementations (`Null` if it cannot be represented, which derived
/// implementations never hit).
pub(crate) fn json_of<T: serde::Serialize>(event: &T) -> serde_json::Value {
    serde_json::to_value(event).unwrap_or(serde_json::Value::Null)
}

impl<W: Write + Send> AuditSink for JsonLinesSink<W> {
    fn record(&self, event: &dyn Event) {
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

mod error;
mod file;
mod id;
mod queue;
mod syslog;

pub use error::AuditError;
pub use file::{FileSink, FileSinkConfig, FsyncPolicy};
pub use id::{AuditId, ParseAuditIdError};
pub use queue::AsyncSink;
pub use syslog::{SyslogConfig, SyslogFormat, SyslogSink};

#[cfg(test)]
mod test;
