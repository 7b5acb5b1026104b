//! `zk push` and `zk get`: checked, compare-and-swap writes and plain reads.

use std::future::Future;

use zookeeper_client as zkc;

use super::connect::ConnectOptions;
use super::error::ZkError;
use super::target::PolicyKind;
use super::url::ZkUrl;

/// Which znode version a push may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever version is there when the push reads it (or no znode):
    /// a writer that changes it between our read and our write makes the
    /// push fail, never overwritten.
    Current,
    /// Exactly this version (from an earlier `zk get`).
    Version(i32),
    /// No znode yet: the push creates it.
    Absent,
}

/// How a push writes.
#[derive(Debug, Clone)]
pub struct PushOptions {
    connect: ConnectOptions,
    expect: Expect,
    readers: Vec<(String, String)>,
    open_acl: bool,
}

impl PushOptions {
    /// Compare-and-swap on the current version; znodes it creates are
    /// readable and writable only by the pushing identity.
    pub fn new(connect: ConnectOptions) -> Self {
        Self {
            connect,
            expect: Expect::Current,
            readers: Vec::new(),
            open_acl: false,
        }
    }

    /// The version the push may replace.
    #[must_use]
    pub fn expect(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }

    /// Also lets `scheme:id` (for example `sasl:mesos-master`) read znodes
    /// the push creates: the masters' identity, when it is not the pusher's.
    #[must_use]
    pub fn reader(mut self, scheme: impl Into<String>, id: impl Into<String>) -> Self {
        self.readers.push((scheme.into(), id.into()));
        self
    }

    /// On an unauthenticated session, creates ACL and TLS-rule znodes open
    /// to anyone (`world:anyone`, all permissions). Never for credentials.
    /// Only for tests and throw-away clusters.
    #[must_use]
    pub fn insecure_open_acl(mut self, open: bool) -> Self {
        self.open_acl = open;
        self
    }
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    /// The znode's version before (`None`: it was created).
    pub previous: Option<i32>,
    /// Its version now.
    pub version: i32,
}

/// A znode's content and version, as read.
#[derive(Clone, PartialEq, Eq)]
pub struct Znode {
    /// The content.
    pub data: Vec<u8>,
    /// ZooKeeper's data version.
    pub version: i32,
    /// The creation zxid (tells a re-created znode from the old one).
    pub czxid: i64,
    /// Last modification time, milliseconds since the epoch.
    pub mtime_ms: i64,
}

impl std::fmt::Debug for Znode {
    // The data may be credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Znode")
            .field("len", &self.data.len())
            .field("version", &self.version)
            .field("czxid", &self.czxid)
            .field("mtime_ms", &self.mtime_ms)
            .finish()
    }
}

/// Runs `f` to completion on a throw-away current-thread runtime: the
/// blocking face of the async client, for the CLI and tests.
pub(crate) fn block_on<T>(f: impl Future<Output = Result<T, ZkError>>) -> Result<T, ZkError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| ZkError::Runtime {
            reason: e.to_string(),
        })?
        .block_on(async {
            let _spawner = spawns_core::enter(&TokioSpawner);
            f.await
        })
}

/// Spawns the client's tasks on the current tokio runtime. Named
/// explicitly on each thread that runs the client: the client's own
/// discovery of tokio is a linker-section registration, which a static
/// library (the C API's `.a`, linked into a Mesos module) drops, and the
/// client then panics with "no spawner".
pub(crate) struct TokioSpawner;

impl spawns_core::Spawn for TokioSpawner {
    fn spawn(&self, task: spawns_core::Task) {
        let spawns_core::Task { future, .. } = task;
        // Only ever entered inside our runtime; outside one, the task is
        // dropped (the client then reports a lost connection).
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(Box::into_pin(future));
        }
    }
}

/// Checks `data` as `kind` (parse and compile, strict, as the CLI's
/// `check` does) and writes it to `url`'s znode with compare-and-swap.
/// Blocking.
///
/// # Errors
///
/// [`ZkError::Invalid`] before any connection if the content is invalid;
/// [`ZkError::Conflict`] if another writer changed the znode;
/// [`ZkError::UnsafeAcl`] if the znode would be created readable by
/// anyone; connection and permission errors.
pub fn push(
    url: &ZkUrl,
    kind: PolicyKind,
    data: &[u8],
    options: &PushOptions,
) -> Result<Pushed, ZkError> {
    kind.check(data).map_err(|reason| ZkError::Invalid {
        path: url.path().to_owned(),
        version: -1,
        kind: kind.name(),
        reason,
    })?;
    block_on(async {
        let client = options.connect.connect(url).await?;
        push_on(&client, url.path(), kind, data, options).await
    })
}

async fn push_on(
    client: &zkc::Client,
    path: &str,
    kind: PolicyKind,
    data: &[u8],
    options: &PushOptions,
) -> Result<Pushed, ZkError> {
    let zk_err = |e: zkc::Error| ZkError::from_client(path, &e);
    let expected = match options.expect {
        Expect::Current => client
            .check_stat(path)
            .await
            .map_err(zk_err)?
            .map(|s| s.version),
        Expect::Version(v) => Some(v),
        Expect::Absent => None,
    };
    if let Some(v) = expected {
        return match client.set_data(path, data, Some(v)).await {
            Ok(stat) => Ok(Pushed {
                previous: Some(v),
                version: stat.version,
            }),
            Err(zkc::Error::BadVersion | zkc::Error::NoNode) => Err(ZkError::Conflict {
                path: path.to_owned(),
                expected: v,
            }),
            Err(e) => Err(zk_err(e)),
        };
    }
    let acls = create_acls(path, kind, options)?;
    let parent_acls = parent_acls(options);
    if let Some((parent, _)) = path.rsplit_once('/')
        && !parent.is_empty()
    {
        let dir = zkc::CreateMode::Persistent.with_acls(zkc::Acls::new(&parent_acls));
        client.mkdir(parent, &dir).await.map_err(zk_err)?;
    }
    let create = zkc::CreateMode::Persistent.with_acls(zkc::Acls::new(&acls));
    match client.create(path, data, &create).await {
        Ok((stat, _)) => Ok(Pushed {
            previous: None,
            version: stat.version,
        }),
        Err(zkc::Error::NodeExists) => Err(ZkError::Conflict {
            path: path.to_owned(),
            expected: -1,
        }),
        Err(e) => Err(zk_err(e)),
    }
}

/// Checks each `(url, kind, data)` as [`push`] does, all before writing
/// any, then writes them in one ZooKeeper `multi`: all or nothing, each
/// with compare-and-swap on its own version (as `options` expects). A
/// writer that changed any of them since it was read fails the whole push
/// with [`ZkError::MultiConflict`], and none is written. Missing parent
/// znodes (which hold no policy) are created first, outside the `multi`.
/// Blocking. Returns what happened to each, in order.
///
/// # Errors
///
/// [`ZkError::Invalid`] before any connection if a content is invalid;
/// [`ZkError::Url`] if the znodes are not on the same servers or one is
/// named twice; [`ZkError::MultiConflict`]; [`ZkError::UnsafeAcl`];
/// connection and permission errors.
pub fn push_many(
    items: &[(&ZkUrl, PolicyKind, &[u8])],
    options: &PushOptions,
) -> Result<Vec<Pushed>, ZkError> {
    let Some((first, _, _)) = items.first() else {
        return Ok(Vec::new());
    };
    for (i, (url, kind, data)) in items.iter().enumerate() {
        kind.check(data).map_err(|reason| ZkError::Invalid {
            path: url.path().to_owned(),
            version: -1,
            kind: kind.name(),
            reason,
        })?;
        let bad = |reason: &str| ZkError::Url {
            url: url.to_string(),
            reason: reason.to_owned(),
        };
        if url.hosts() != first.hosts() {
            return Err(bad("all znodes of one push must be on the same servers"));
        }
        if items
            .iter()
            .take(i)
            .any(|(other, _, _)| other.path() == url.path())
        {
            return Err(bad("the same znode twice in one push"));
        }
    }
    block_on(async {
        let client = options.connect.connect(first).await?;
        // The version each write is based on (None: create).
        let mut expected = Vec::with_capacity(items.len());
        for (url, kind, _) in items {
            let path = url.path();
            let v = match options.expect {
                Expect::Current => client
                    .check_stat(path)
                    .await
                    .map_err(|e| ZkError::from_client(path, &e))?
                    .map(|s| s.version),
                Expect::Version(v) => Some(v),
                Expect::Absent => None,
            };
            if v.is_none() {
                // Refused before anything is written, parents included.
                create_acls(path, *kind, options)?;
            }
            expected.push(v);
        }
        let parent_acls = parent_acls(options);
        let dir = zkc::CreateMode::Persistent.with_acls(zkc::Acls::new(&parent_acls));
        for ((url, _, _), v) in items.iter().zip(&expected) {
            if v.is_none()
                && let Some((parent, _)) = url.path().rsplit_once('/')
                && !parent.is_empty()
            {
                client
                    .mkdir(parent, &dir)
                    .await
                    .map_err(|e| ZkError::from_client(parent, &e))?;
            }
        }
        // ACLs only for the znodes this push creates.
        let acls = items
            .iter()
            .zip(&expected)
            .map(|((url, kind, _), v)| match v {
                Some(_) => Ok(Vec::new()),
                None => create_acls(url.path(), *kind, options),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut multi = client.new_multi_writer();
        for (((url, _, data), v), acls) in items.iter().zip(&expected).zip(&acls) {
            let path = url.path();
            let added = match v {
                Some(v) => multi.add_set_data(path, data, Some(*v)),
                None => multi.add_create(
                    path,
                    data,
                    &zkc::CreateMode::Persistent.with_acls(zkc::Acls::new(acls)),
                ),
            };
            added.map_err(|e| ZkError::from_client(path, &e))?;
        }
        let results = match multi.commit().await {
            Ok(results) => results,
            Err(zkc::MultiWriteError::OperationFailed { index, source }) => {
                let path = items
                    .get(index)
                    .map_or(first.path(), |(url, _, _)| url.path())
                    .to_owned();
                return Err(match source {
                    zkc::Error::BadVersion | zkc::Error::NoNode | zkc::Error::NodeExists => {
                        ZkError::MultiConflict {
                            path,
                            expected: expected.get(index).copied().flatten().unwrap_or(-1),
                            znodes: items.len(),
                        }
                    }
                    e => ZkError::from_client(&path, &e),
                });
            }
            Err(zkc::MultiWriteError::RequestFailed { source }) => {
                return Err(ZkError::from_client(first.path(), &source));
            }
        };
        Ok(results
            .into_iter()
            .zip(&expected)
            .map(|(r, v)| {
                let version = match r {
                    zkc::MultiWriteResult::SetData { stat }
                    | zkc::MultiWriteResult::Create { stat, .. } => stat.version,
                    _ => -1,
                };
                Pushed {
                    previous: *v,
                    // A created znode's stat may be invalid (ZOOKEEPER-4026):
                    // a new znode is at version 0.
                    version: if v.is_none() { 0 } else { version },
                }
            })
            .collect())
    })
}

/// The ACL of a policy znode: the creator (and the named readers) only;
/// open to anyone only when explicitly asked, never for credentials.
fn create_acls(
    path: &str,
    kind: PolicyKind,
    options: &PushOptions,
) -> Result<Vec<zkc::Acl>, ZkError> {
    if !options.connect.is_authenticated() {
        if kind.is_secret() {
            return Err(ZkError::UnsafeAcl {
                path: path.to_owned(),
                reason: "credentials must be readable only by the masters, and this session is not authenticated (use SASL or a TLS client certificate)".to_owned(),
            });
        }
        if !options.open_acl {
            return Err(ZkError::UnsafeAcl {
                path: path.to_owned(),
                reason: "the session is not authenticated, so the znode could only be created open to anyone (use SASL or a TLS client certificate, or the insecure open-ACL option on a test cluster)".to_owned(),
            });
        }
        return Ok(zkc::Acls::anyone_all().to_vec());
    }
    let mut acls = zkc::Acls::creator_all().to_vec();
    for (scheme, id) in &options.readers {
        acls.push(zkc::Acl::new(
            zkc::Permission::READ,
            zkc::AuthId::new(scheme, id),
        ));
    }
    Ok(acls)
}

/// Parent znodes hold no policy: anyone may list them, only the creator
/// may change them.
fn parent_acls(options: &PushOptions) -> Vec<zkc::Acl> {
    if options.connect.is_authenticated() {
        let mut acls = zkc::Acls::creator_all().to_vec();
        acls.extend(zkc::Acls::anyone_read().iter().cloned());
        acls
    } else {
        zkc::Acls::anyone_all().to_vec()
    }
}

/// Reads `url`'s znode. Blocking.
///
/// # Errors
///
/// [`ZkError::NoNode`], permission and connection errors.
pub fn get(url: &ZkUrl, connect: &ConnectOptions) -> Result<Znode, ZkError> {
    block_on(async {
        let client = connect.connect(url).await?;
        let (data, stat) = client
            .get_data(url.path())
            .await
            .map_err(|e| ZkError::from_client(url.path(), &e))?;
        Ok(Znode {
            data,
            version: stat.version,
            czxid: stat.czxid,
            mtime_ms: stat.mtime,
        })
    })
}
