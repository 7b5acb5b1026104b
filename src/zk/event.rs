//! Audit events of the ZooKeeper policy source (component `zk`).

use crate::audit::{AuditEvent, Event};

/// Something the ZooKeeper watcher did or saw. Never carries znode content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZkEvent {
    /// A znode version was validated, compiled and swapped in.
    Applied {
        /// The znode.
        znode: String,
        /// Its ZooKeeper data version.
        version: i32,
        /// The generation it was published as.
        generation: u64,
    },
    /// A znode version was invalid; the last good policy keeps serving.
    Refused {
        /// The znode.
        znode: String,
        /// The refused ZooKeeper data version.
        version: i32,
        /// The version still serving, if one came from ZooKeeper.
        serving: Option<i32>,
        /// Why (located, never a secret).
        reason: String,
    },
    /// The znode was deleted; the last good policy keeps serving.
    Deleted {
        /// The znode.
        znode: String,
    },
    /// A session was (re-)established and the znode re-read.
    Connected {
        /// The znode.
        znode: String,
        /// The servers.
        servers: String,
    },
    /// The connection or session was lost; the policy keeps serving while
    /// the watcher reconnects.
    Disconnected {
        /// The znode.
        znode: String,
        /// Why.
        reason: String,
    },
    /// No contact for longer than the bound: decisions fail closed
    /// (`fail_closed`), or the stale policy keeps serving (logged).
    Stale {
        /// The znode.
        znode: String,
        /// Milliseconds since the last contact.
        since_ms: u64,
        /// Whether decisions now fail closed.
        fail_closed: bool,
    },
}

impl Event for ZkEvent {
    fn component(&self) -> &'static str {
        "zk"
    }

    fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Self::Applied {
                znode,
                version,
                generation,
            } => {
                json!({"event": "applied", "znode": znode, "version": version, "generation": generation})
            }
            Self::Refused {
                znode,
                version,
                serving,
                reason,
            } => {
                json!({"event": "refused", "znode": znode, "version": version, "serving_version": serving, "reason": reason})
            }
            Self::Deleted { znode } => json!({"event": "deleted", "znode": znode}),
            Self::Connected { znode, servers } => {
                json!({"event": "connected", "znode": znode, "servers": servers})
            }
            Self::Disconnected { znode, reason } => {
                json!({"event": "disconnected", "znode": znode, "reason": reason})
            }
            Self::Stale {
                znode,
                since_ms,
                fail_closed,
            } => {
                json!({"event": "stale", "znode": znode, "since_ms": since_ms, "fail_closed": fail_closed})
            }
        }
    }

    fn to_audit_event(&self) -> AuditEvent {
        AuditEvent::new(self.clone())
    }
}
