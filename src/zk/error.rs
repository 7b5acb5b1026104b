//! What can go wrong talking to ZooKeeper or with what a znode holds.

/// An error of the ZooKeeper policy source. Messages name the znode (and
/// its version when one was read), never a secret: no password, no key, no
/// znode content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZkError {
    /// The `zk://` URL is malformed.
    #[error("invalid ZooKeeper URL `{url}`: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A TLS or SASL setting could not be used (unreadable file, bad PEM).
    #[error("ZooKeeper connection setting {what}: {reason}")]
    Config {
        /// Which setting (`--tls-ca` file `ca.pem`, ...).
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// No session could be established (servers down, TLS refused, SASL
    /// refused, timeout).
    #[error("cannot connect to ZooKeeper at `{servers}`: {reason}")]
    Connect {
        /// The servers tried.
        servers: String,
        /// The client's reason.
        reason: String,
    },
    /// The znode does not exist.
    #[error("znode `{path}` does not exist")]
    NoNode {
        /// The znode.
        path: String,
    },
    /// The znode holds more bytes than the policy's limit.
    #[error("znode `{path}` version {version}: {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// The znode.
        path: String,
        /// Its ZooKeeper data version.
        version: i32,
        /// Bytes it holds.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The znode's content does not parse or compile.
    #[error("znode `{path}` version {version}: invalid {kind}: {reason}")]
    Invalid {
        /// The znode.
        path: String,
        /// Its ZooKeeper data version (-1: not yet written, a local check).
        version: i32,
        /// `ACLs`, `credentials` or `TLS mapping rules`.
        kind: &'static str,
        /// The parser's or compiler's first error (located).
        reason: String,
    },
    /// A compare-and-swap write lost: someone else changed the znode.
    #[error(
        "znode `{path}` changed under us: expected version {expected}, another writer got there first; re-read and push again"
    )]
    Conflict {
        /// The znode.
        path: String,
        /// The version the write was based on (-1: the znode was absent).
        expected: i32,
    },
    /// A multi-znode push lost a compare-and-swap: nothing was written.
    #[error(
        "znode `{path}` changed under us: expected version {expected}, another writer got there first; none of the {znodes} znodes of this push was written; re-read and push again"
    )]
    MultiConflict {
        /// The znode whose version did not match.
        path: String,
        /// The version its write was based on (-1: the znode was absent).
        expected: i32,
        /// How many znodes the push would have written.
        znodes: usize,
    },
    /// ZooKeeper refused the operation for lack of permission.
    #[error("ZooKeeper refused access to `{path}`: {reason}")]
    Denied {
        /// The znode.
        path: String,
        /// ZooKeeper's reason (no auth, not authenticated, ...).
        reason: String,
    },
    /// Creating a znode readable by anyone was refused (credentials, or an
    /// unauthenticated session without an explicit opt-in).
    #[error("refusing to create `{path}`: {reason}")]
    UnsafeAcl {
        /// The znode.
        path: String,
        /// Why.
        reason: String,
    },
    /// Any other ZooKeeper error on a znode operation.
    #[error("ZooKeeper error on `{path}`: {reason}")]
    Zk {
        /// The znode.
        path: String,
        /// The client's reason.
        reason: String,
    },
    /// The first read did not finish within the start-up bound.
    #[error("no policy read from znode `{path}` within {waited_ms} ms: {reason}")]
    Startup {
        /// The znode.
        path: String,
        /// How long start-up waited.
        waited_ms: u128,
        /// The last error seen.
        reason: String,
    },
    /// The policy is older than the fail-closed bound allows.
    #[error(
        "policy from `{path}` is stale: no ZooKeeper contact for {since_ms} ms (bound {bound_ms} ms); failing closed"
    )]
    Stale {
        /// The znode.
        path: String,
        /// Milliseconds since the last contact.
        since_ms: u128,
        /// The configured bound.
        bound_ms: u128,
    },
    /// The background thread or its runtime could not be started.
    #[error("cannot start the ZooKeeper watcher: {reason}")]
    Runtime {
        /// The reason.
        reason: String,
    },
}

impl ZkError {
    /// Maps a client error on `path` to ours.
    pub(crate) fn from_client(path: &str, e: &zookeeper_client::Error) -> Self {
        use zookeeper_client::Error as E;
        let path = path.to_owned();
        match e {
            E::NoNode => Self::NoNode { path },
            E::NoAuth | E::AuthFailed => Self::Denied {
                path,
                reason: e.to_string(),
            },
            _ => Self::Zk {
                path,
                reason: e.to_string(),
            },
        }
    }
}
