//! ZooKeeper as the policy source (feature `zk`).
//!
//! ACLs, credentials and TLS mapping rules each live in one znode,
//! addressed by a [`ZkUrl`] such as `zk://zk1:2181,zk2:2181/mesos-auth/acls`,
//! in the format of the file they replace.
//!
//! ```text
//!  zk push ──check (as `acl check`)──▶ znode (CAS on its version, creator-only ACL)
//!                                         │ persistent watch
//!                                         ▼
//!  PolicyWatch thread ─ read ─ parse+compile ─┬─ ok ──▶ Reloadable swap (AclHandle, ...)
//!                                             └─ bad ─▶ refused: audit event, last good serves
//! ```
//!
//! A [`PolicyWatch`] keeps one [`PolicyTarget`] ([`AclHandle`](crate::acl::AclHandle),
//! [`CredentialsHandle`](crate::credentials::CredentialsHandle),
//! [`Reloadable<Mapper>`](crate::tls::Mapper)) in step with its znode, off
//! the hot path: decisions keep reading the handle as before. Reloads are
//! keyed on ZooKeeper's own version of the znode, never on anything inside
//! the data. Staleness is visible ([`PolicyWatch::status`]) and bounded
//! ([`StalePolicy`]). The watcher runs its own thread with a
//! current-thread tokio runtime, so the host needs no async runtime.
//!
//! [`push`] checks the content exactly as the CLI's `check` commands do
//! and writes it with compare-and-swap; [`get`] reads it back.
//!
//! [`audit()`] walks a tree of znodes (Mesos's leader election, log
//! replicas and registry, and ours) and reports ACLs that let anyone change
//! a znode or read credentials, and digest ACLs with a guessable password.
//!
//! The connection may use TLS ([`TlsSettings`]: rustls, the operator's CA,
//! an optional client certificate) and SASL DIGEST-MD5 ([`SaslDigest`])
//! or, with feature `gssapi` too, Kerberos (`SaslGssapi`: the client
//! principal's keytab or ticket cache, ZooKeeper's service principal).

mod audit;
mod connect;
mod error;
mod event;
#[cfg(feature = "gssapi")]
mod gssapi;
mod push;
mod source;
mod target;
mod url;

pub use audit::{
    AuditFinding, AuditFindingKind, AuditReport, AuditedZnode, MAX_AUDIT_ZNODES, ZnodeRole, audit,
};
pub use connect::{ConnectOptions, SaslDigest, TlsSettings};
pub use error::ZkError;
pub use event::ZkEvent;
#[cfg(feature = "gssapi")]
pub use gssapi::{DEFAULT_SERVICE, SaslGssapi};
pub use push::{Expect, PushOptions, Pushed, Znode, get, push, push_many};
pub use source::{PolicyWatch, StalePolicy, Startup, WatchOptions, WatchStatus};
pub use target::{PolicyKind, PolicyTarget};
pub use url::{DEFAULT_PORT, ZkUrl};

#[cfg(test)]
mod test;
