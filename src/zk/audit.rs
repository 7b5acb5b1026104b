//! `zk audit`: the ACLs of the Mesos znodes and of ours, against what they
//! should be.
//!
//! Mesos 1.11 lays out its `--zk=zk://.../mesos` tree as: the leader
//! election group at the root, one ephemeral sequential member per master
//! (`json.info_0000000042` with the `MasterInfo` as JSON, older masters
//! `info_...` as protobuf); the replicated log's members under
//! `log_replicas` (unlabelled sequence numbers, one per replica); and, with
//! ZooKeeper state storage, one znode per entry (the registrar's
//! `registry`). With `--zk_auth` Mesos creates these with "anyone reads,
//! creator does all"; without, open to anyone (`OPEN_ACL_UNSAFE`). Our own
//! znodes are `acls`, `credentials` and `tls-rules` under a base path.

use std::collections::VecDeque;

use base64::Engine as _;
use zookeeper_client as zkc;

use super::connect::ConnectOptions;
use super::error::ZkError;
use super::push::block_on;
use super::url::ZkUrl;

/// Most znodes one audit visits (a Mesos tree holds a few dozen).
pub const MAX_AUDIT_ZNODES: usize = 10_000;

/// Passwords tried against each `digest` ACL: ZooKeeper's digest is an
/// unsalted `base64(SHA-1("user:password"))`, so a guessed password can be
/// confirmed offline. A short list of the defaults and examples seen in
/// deployments, plus the user name itself (tried separately).
const WEAK_PASSWORDS: &[&str] = &[
    "",
    "password",
    "passw0rd",
    "Password1",
    "secret",
    "changeme",
    "admin",
    "root",
    "super",
    "mesos",
    "master",
    "zookeeper",
    "zk",
    "marathon",
    "test",
    "guest",
    "default",
    "letmein",
    "qwerty",
    "123456",
    "12345678",
    "1234",
];

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditFindingKind {
    /// `world:anyone` may write, create, delete or change the ACL.
    WorldWritable,
    /// A credentials znode anyone (or any authenticated user) can read.
    ReadableCredentials,
    /// A `digest` ACL whose password is the user name or one of a short
    /// built-in list of weak passwords.
    WeakDigest,
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
            Self::WeakDigest => "weak_digest",
            Self::NoTls => "no_tls",
            Self::Unauthenticated => "unauthenticated",
            Self::Uninspectable => "uninspectable",
        }
    }
}

/// What a znode is for, from its name and place in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZnodeRole {
    /// Not a znode: the audit's own connection.
    Connection,
    /// The znode holding Mesos's leader election members (`--zk`'s path).
    ElectionGroup,
    /// One master's membership (`json.info_N`, `info_N`): who the leader is.
    ElectionMember,
    /// The replicated log's group (`log_replicas`) or one of its members.
    LogReplicas,
    /// Mesos's registry in ZooKeeper state storage (`registry`).
    Registry,
    /// Our ACL policy (`acls`).
    Acls,
    /// Our credentials (`credentials`).
    Credentials,
    /// Our TLS mapping rules (`tls-rules`).
    TlsRules,
    /// Anything else in the tree.
    Other,
}

impl ZnodeRole {
    /// A stable name for tools (`election_member`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::ElectionGroup => "election_group",
            Self::ElectionMember => "election_member",
            Self::LogReplicas => "log_replicas",
            Self::Registry => "registry",
            Self::Acls => "acls",
            Self::Credentials => "credentials",
            Self::TlsRules => "tls_rules",
            Self::Other => "other",
        }
    }

    /// The ACL the znode should have, for a person.
    pub fn expected(self) -> &'static str {
        match self {
            Self::Connection => "TLS and an authenticated session",
            Self::ElectionGroup | Self::LogReplicas | Self::Other => {
                "anyone may read; only the masters' identity may create, delete or change"
            }
            Self::ElectionMember => {
                "anyone may read (agents and frameworks find the leader here); only the master that created it may change it"
            }
            Self::Registry => "only the masters' identity may read or change",
            Self::Acls | Self::TlsRules => {
                "only the pushing identity may change; the masters' identity may read"
            }
            Self::Credentials => "only the pushing identity and the masters' identity may read",
        }
    }

    /// What anyone who may change such a znode can do, for the message.
    fn stake(self) -> &'static str {
        match self {
            Self::ElectionGroup => {
                ": a deleted or planted member redirects agents and frameworks to another leader"
            }
            Self::ElectionMember => ": a rewritten member sends agents and frameworks elsewhere",
            Self::LogReplicas => ": the replicated log's membership can be forged",
            Self::Registry => ": the cluster's registry can be rewritten",
            Self::Acls => ": the authorization policy of every master can be replaced",
            Self::Credentials => ": anyone can add a principal",
            Self::TlsRules => ": anyone can map a certificate to any principal",
            Self::Connection | Self::Other => "",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    /// The znode (`-` for the connection).
    pub path: String,
    /// What the znode is for.
    pub role: ZnodeRole,
    /// What is wrong.
    pub kind: AuditFindingKind,
    /// What is wrong, for a person (never a password or a digest).
    pub message: String,
}

/// One znode visited: its role and ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedZnode {
    /// The znode.
    pub path: String,
    /// What it is for.
    pub role: ZnodeRole,
    /// Its ACL entries as `scheme:id:perms` (`perms` from `rwcda`); a
    /// digest's hash is left out (`digest:user:<hash>`). Empty if unreadable.
    pub acl: Vec<String>,
}

/// What an audit saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditReport {
    /// Znodes visited.
    pub znodes: usize,
    /// Each znode visited, in visiting order (breadth first, sorted).
    pub visited: Vec<AuditedZnode>,
    /// Findings, in visiting order (the connection's first).
    pub findings: Vec<AuditFinding>,
}

/// Walks the tree under `url`'s path (at most [`MAX_AUDIT_ZNODES`]),
/// classifies each znode ([`ZnodeRole`]: Mesos's leader election members,
/// log replicas and registry, our policy znodes) and reports:
///
/// - each znode whose ACL lets `world:anyone` write, create, delete or
///   change the ACL;
/// - a credentials znode readable by anyone, by any authenticated user
///   (`auth:`) or by an address range (`ip:`);
/// - each `digest` ACL whose password is the user name or in a short
///   built-in list (about twenty common passwords). Only those: the digest
///   is a one-way hash, so any other password, weak or not, goes unseen.
///   ZooKeeper (3.5.6 and later) shows the hash only to a session with
///   ADMIN on the znode (otherwise `user:x`): run the audit as the
///   `superDigest` user ([`ConnectOptions::digest`]) to check them all.
///   The `superDigest` itself (a server property) is not visible at all;
/// - a connection without TLS, a session without authentication.
///
/// ZooKeeper shows a znode's ACL only to a session that may read it; what
/// the audit cannot read is reported as [`AuditFindingKind::Uninspectable`].
/// Blocking.
///
/// # Errors
///
/// Connection errors, or [`ZkError::NoNode`] if the root does not exist.
pub fn audit(url: &ZkUrl, connect: &ConnectOptions) -> Result<AuditReport, ZkError> {
    block_on(async {
        let client = connect.connect(url).await?;
        let mut report = AuditReport::default();
        let connection = |kind, message: &str| AuditFinding {
            path: "-".to_owned(),
            role: ZnodeRole::Connection,
            kind,
            message: message.to_owned(),
        };
        if !connect.is_tls() {
            report.findings.push(connection(
                AuditFindingKind::NoTls,
                "the connection to ZooKeeper is not encrypted",
            ));
        }
        if !connect.is_authenticated() {
            report.findings.push(connection(
                AuditFindingKind::Unauthenticated,
                "the session is not authenticated: the audit sees what anyone sees",
            ));
        }
        // (path, role guessed from the name and the parent's role)
        let root = url.path().to_owned();
        let root_role = role_of(&root, None);
        let mut queue = VecDeque::from([(root, root_role)]);
        while let Some((path, named_role)) = queue.pop_front() {
            if report.znodes >= MAX_AUDIT_ZNODES {
                break;
            }
            report.znodes += 1;
            let first = report.znodes == 1;
            // Children first: a znode holding election members is the
            // election group whatever it is called.
            let children = match client.list_children(&path).await {
                Ok(mut children) => {
                    children.sort();
                    children
                }
                Err(zkc::Error::NoNode) if first => return Err(ZkError::NoNode { path }),
                Err(zkc::Error::NoNode) => continue,
                Err(e) => {
                    report.findings.push(AuditFinding {
                        path: path.clone(),
                        role: named_role,
                        kind: AuditFindingKind::Uninspectable,
                        message: format!("children unreadable: {e}"),
                    });
                    Vec::new()
                }
            };
            let role = if named_role == ZnodeRole::Other
                && children.iter().any(|c| is_election_member(c))
            {
                ZnodeRole::ElectionGroup
            } else {
                named_role
            };
            let mut seen = AuditedZnode {
                path: path.clone(),
                role,
                acl: Vec::new(),
            };
            match client.get_acl(&path).await {
                Ok((acls, _)) => {
                    seen.acl = acls.iter().map(show_acl).collect();
                    judge(&path, role, &acls, &mut report);
                }
                Err(zkc::Error::NoNode) if first => return Err(ZkError::NoNode { path }),
                Err(zkc::Error::NoNode) => continue,
                Err(e) => report.findings.push(AuditFinding {
                    path: path.clone(),
                    role,
                    kind: AuditFindingKind::Uninspectable,
                    message: format!("ACL unreadable: {e}"),
                }),
            }
            report.visited.push(seen);
            for child in children {
                let child_path = format!("{}/{child}", path.trim_end_matches('/'));
                let child_role = role_of(&child_path, Some(role));
                queue.push_back((child_path, child_role));
            }
        }
        Ok(report)
    })
}

/// `json.info_0000000042`, `info_0000000042`: a master's membership.
fn is_election_member(name: &str) -> bool {
    ["json.info_", "info_"].iter().any(|label| {
        name.strip_prefix(label)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// A znode's role from its name and its parent's role.
pub(super) fn role_of(path: &str, parent: Option<ZnodeRole>) -> ZnodeRole {
    let name = path.rsplit('/').next().unwrap_or_default();
    let sequence = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit());
    match (name, parent) {
        (_, Some(ZnodeRole::LogReplicas)) if sequence => ZnodeRole::LogReplicas,
        ("log_replicas", _) => ZnodeRole::LogReplicas,
        ("registry", _) => ZnodeRole::Registry,
        ("acls", _) => ZnodeRole::Acls,
        ("credentials", _) => ZnodeRole::Credentials,
        ("tls-rules", _) => ZnodeRole::TlsRules,
        (n, _) if is_election_member(n) => ZnodeRole::ElectionMember,
        _ => ZnodeRole::Other,
    }
}

/// `scheme:id:rwcda`, a digest's hash left out.
pub(super) fn show_acl(acl: &zkc::Acl) -> String {
    let perms: String = [
        (zkc::Permission::READ, 'r'),
        (zkc::Permission::WRITE, 'w'),
        (zkc::Permission::CREATE, 'c'),
        (zkc::Permission::DELETE, 'd'),
        (zkc::Permission::ADMIN, 'a'),
    ]
    .iter()
    .filter(|(p, _)| acl.permission().has(*p))
    .map(|(_, c)| *c)
    .collect();
    let id = if acl.scheme() == "digest" {
        let user = acl.id().split_once(':').map_or(acl.id(), |(u, _)| u);
        format!("{user}:<hash>")
    } else {
        acl.id().to_owned()
    };
    format!("{}:{id}:{perms}", acl.scheme())
}

/// ZooKeeper's digest of `user:password`: base64 of its SHA-1.
pub(super) fn zk_digest(user: &str, password: &str) -> String {
    let hash = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{user}:{password}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(hash.as_ref())
}

/// Whether the digest ACL id `user:hash` was made from a weak password.
pub(super) fn weak_digest(id: &str) -> bool {
    let Some((user, hash)) = id.split_once(':') else {
        return false;
    };
    // Hashes are public (anyone with read access sees them); comparing
    // them needs no constant time.
    std::iter::once(user)
        .chain(WEAK_PASSWORDS.iter().copied())
        .any(|candidate| zk_digest(user, candidate) == hash)
}

fn judge(path: &str, role: ZnodeRole, acls: &[zkc::Acl], report: &mut AuditReport) {
    let changes = [
        (zkc::Permission::WRITE, "write"),
        (zkc::Permission::CREATE, "create"),
        (zkc::Permission::DELETE, "delete"),
        (zkc::Permission::ADMIN, "admin"),
    ];
    let mut finding = |kind, message| {
        report.findings.push(AuditFinding {
            path: path.to_owned(),
            role,
            kind,
            message,
        });
    };
    for acl in acls {
        let world = acl.scheme() == "world" && acl.id() == "anyone";
        if world {
            let granted: Vec<&str> = changes
                .iter()
                .filter(|(p, _)| acl.permission().has(*p))
                .map(|(_, name)| *name)
                .collect();
            if !granted.is_empty() {
                finding(
                    AuditFindingKind::WorldWritable,
                    format!(
                        "anyone may {} (world:anyone){}",
                        granted.join(", "),
                        role.stake()
                    ),
                );
            }
        }
        let broad =
            world || (acl.scheme() == "auth" && acl.id().is_empty()) || acl.scheme() == "ip";
        if role == ZnodeRole::Credentials && broad && acl.permission().has(zkc::Permission::READ) {
            finding(
                AuditFindingKind::ReadableCredentials,
                format!(
                    "credentials readable by `{}:{}`, not only by the masters",
                    acl.scheme(),
                    acl.id()
                ),
            );
        }
        if acl.scheme() == "digest" && weak_digest(acl.id()) {
            let user = acl.id().split_once(':').map_or("", |(u, _)| u);
            finding(
                AuditFindingKind::WeakDigest,
                format!(
                    "digest user `{user}` has a guessable password (the user name or a common one): the unsalted digest is confirmed offline"
                ),
            );
        }
    }
}
