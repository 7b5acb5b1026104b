//! `zk audit`: the ACLs of the Mesos znodes and of ours, against what they
//! should be.

use std::collections::VecDeque;

use zookeeper_client as zkc;

use super::connect::ConnectOptions;
use super::error::ZkError;
use super::push::block_on;
use super::url::ZkUrl;

/// Most znodes one audit visits (a Mesos tree holds a few dozen).
pub const MAX_AUDIT_ZNODES: usize = 10_000;

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditFindingKind {
    /// `world:anyone` may write, create, delete or change the ACL.
    WorldWritable,
    /// A credentials znode anyone (or any authenticated user) can read.
    ReadableCredentials,
    /// The audit's own connection is not encrypted.
    NoTls,
    /// The audit's own session is not authenticated.
    Unauthenticated,
    /// A znode whose ACL or children could not be read.
    Uninspectable,
}

impl AuditFindingKind {
    /// A stable name for tools (`world_writable`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::WorldWritable => "world_writable",
            Self::ReadableCredentials => "readable_credentials",
            Self::NoTls => "no_tls",
            Self::Unauthenticated => "unauthenticated",
            Self::Uninspectable => "uninspectable",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    /// The znode (`-` for the connection).
    pub path: String,
    /// What is wrong.
    pub kind: AuditFindingKind,
    /// What is wrong, for a person.
    pub message: String,
}

/// What an audit saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditReport {
    /// Znodes visited.
    pub znodes: usize,
    /// Findings, in visiting order (the connection's first).
    pub findings: Vec<AuditFinding>,
}

/// Walks the tree under `url`'s path (at most [`MAX_AUDIT_ZNODES`]) and
/// reports each znode whose ACL lets anyone change it, each credentials
/// znode (named `credentials`) readable beyond its owner, and a
/// connection without TLS or authentication. Blocking.
///
/// Not yet detected: weak `digest` passwords.
///
/// # Errors
///
/// Connection errors, or [`ZkError::NoNode`] if the root does not exist.
pub fn audit(url: &ZkUrl, connect: &ConnectOptions) -> Result<AuditReport, ZkError> {
    block_on(async {
        let client = connect.connect(url).await?;
        let mut report = AuditReport::default();
        if !connect.is_tls() {
            report.findings.push(AuditFinding {
                path: "-".to_owned(),
                kind: AuditFindingKind::NoTls,
                message: "the connection to ZooKeeper is not encrypted".to_owned(),
            });
        }
        if !connect.is_authenticated() {
            report.findings.push(AuditFinding {
                path: "-".to_owned(),
                kind: AuditFindingKind::Unauthenticated,
                message: "the session is not authenticated: the audit sees what anyone sees"
                    .to_owned(),
            });
        }
        let mut queue = VecDeque::from([url.path().to_owned()]);
        while let Some(path) = queue.pop_front() {
            if report.znodes >= MAX_AUDIT_ZNODES {
                break;
            }
            report.znodes += 1;
            match client.get_acl(&path).await {
                Ok((acls, _)) => judge(&path, &acls, &mut report),
                Err(zkc::Error::NoNode) if report.znodes == 1 => {
                    return Err(ZkError::NoNode { path });
                }
                Err(zkc::Error::NoNode) => continue,
                Err(e) => report.findings.push(AuditFinding {
                    path: path.clone(),
                    kind: AuditFindingKind::Uninspectable,
                    message: format!("ACL unreadable: {e}"),
                }),
            }
            match client.list_children(&path).await {
                Ok(mut children) => {
                    children.sort();
                    for child in children {
                        queue.push_back(format!("{}/{child}", path.trim_end_matches('/')));
                    }
                }
                Err(zkc::Error::NoNode) => {}
                Err(e) => report.findings.push(AuditFinding {
                    path: path.clone(),
                    kind: AuditFindingKind::Uninspectable,
                    message: format!("children unreadable: {e}"),
                }),
            }
        }
        Ok(report)
    })
}

fn judge(path: &str, acls: &[zkc::Acl], report: &mut AuditReport) {
    let changes = [
        (zkc::Permission::WRITE, "write"),
        (zkc::Permission::CREATE, "create"),
        (zkc::Permission::DELETE, "delete"),
        (zkc::Permission::ADMIN, "admin"),
    ];
    let is_credentials = path.rsplit('/').next() == Some("credentials");
    for acl in acls {
        let world = acl.scheme() == "world" && acl.id() == "anyone";
        if world {
            let granted: Vec<&str> = changes
                .iter()
                .filter(|(p, _)| acl.permission().has(*p))
                .map(|(_, name)| *name)
                .collect();
            if !granted.is_empty() {
                report.findings.push(AuditFinding {
                    path: path.to_owned(),
                    kind: AuditFindingKind::WorldWritable,
                    message: format!("anyone may {} (world:anyone)", granted.join(", ")),
                });
            }
        }
        let broad =
            world || (acl.scheme() == "auth" && acl.id().is_empty()) || acl.scheme() == "ip";
        if is_credentials && broad && acl.permission().has(zkc::Permission::READ) {
            report.findings.push(AuditFinding {
                path: path.to_owned(),
                kind: AuditFindingKind::ReadableCredentials,
                message: format!(
                    "credentials readable by `{}:{}`, not only by the masters",
                    acl.scheme(),
                    acl.id()
                ),
            });
        }
    }
}
