//! The watcher: one znode feeding one live policy.
//!
//! A background thread runs a current-thread tokio runtime with the
//! ZooKeeper session on it, so hosts without an async runtime (the C API,
//! the Mesos modules) only see [`PolicyWatch`]: start it, ask its status,
//! ask whether decisions may still be made, drop it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use zookeeper_client as zkc;

use crate::audit::AuditSink;

use super::connect::ConnectOptions;
use super::error::ZkError;
use super::event::ZkEvent;
use super::target::PolicyTarget;
use super::url::ZkUrl;

/// What happens when ZooKeeper has been out of reach for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StalePolicy {
    /// Keep serving the last good policy (the default); a `stale` audit
    /// event is recorded once the contact is older than
    /// [`WatchOptions::stale_log_after`].
    KeepServing,
    /// After `after` without contact, [`PolicyWatch::check_fresh`] fails:
    /// the host denies every decision until contact is back.
    FailClosed {
        /// The bound.
        after: Duration,
    },
}

/// What [`PolicyWatch::start`] does before returning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Startup {
    /// Wait at most this long for a valid policy from ZooKeeper; refuse to
    /// start (an error) without one.
    RequireZk(Duration),
    /// Return at once: the target's current value (typically read from a
    /// local file) serves until ZooKeeper delivers a valid version.
    Fallback,
}

/// How a [`PolicyWatch`] connects and behaves.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    connect: ConnectOptions,
    stale: StalePolicy,
    stale_log_after: Duration,
    startup: Startup,
    retry: Duration,
    resync: Duration,
    tick: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self::new(ConnectOptions::new())
    }
}

impl WatchOptions {
    /// Keep serving when stale (logged after 30 s), require ZooKeeper at
    /// start-up (10 s), retry a lost connection every 500 ms, re-read the
    /// version every 5 s besides the watch.
    pub fn new(connect: ConnectOptions) -> Self {
        Self {
            connect,
            stale: StalePolicy::KeepServing,
            stale_log_after: Duration::from_secs(30),
            startup: Startup::RequireZk(Duration::from_secs(10)),
            retry: Duration::from_millis(500),
            resync: Duration::from_secs(5),
            tick: Duration::from_millis(100),
        }
    }

    /// The stale policy.
    #[must_use]
    pub fn stale(mut self, stale: StalePolicy) -> Self {
        self.stale = stale;
        self
    }

    /// With [`StalePolicy::KeepServing`], when the `stale` event is logged.
    #[must_use]
    pub fn stale_log_after(mut self, after: Duration) -> Self {
        self.stale_log_after = after;
        self
    }

    /// The start-up behaviour.
    #[must_use]
    pub fn startup(mut self, startup: Startup) -> Self {
        self.startup = startup;
        self
    }

    /// How often the znode's version is read even without a watch event (a
    /// safety net; the watch normally delivers a change within
    /// milliseconds). At least 100 ms.
    #[must_use]
    pub fn resync(mut self, every: Duration) -> Self {
        self.resync = every.max(Duration::from_millis(100));
        self
    }

    /// The pause between reconnection attempts.
    #[must_use]
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = retry;
        self
    }
}

/// What a [`PolicyWatch`] knows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchStatus {
    /// ZooKeeper's data version of the znode serving now (`None`: nothing
    /// from ZooKeeper yet, the fallback serves).
    pub version: Option<i32>,
    /// How long ago that version was applied.
    pub policy_age: Option<Duration>,
    /// How long since ZooKeeper was last in contact (zero while connected).
    pub since_contact: Duration,
    /// Whether a session is up now.
    pub connected: bool,
    /// Whether decisions fail closed now.
    pub fail_closed: bool,
    /// The last refusal or connection error, if any (never a secret).
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ZnodeVersion {
    // A deleted and re-created znode starts again at version 0: the
    // creation zxid tells the two apart.
    czxid: i64,
    version: i32,
}

#[derive(Debug)]
struct State {
    applied: Option<(ZnodeVersion, Instant)>,
    refused: Option<ZnodeVersion>,
    last_contact: Instant,
    last_error: Option<String>,
    stale_reported: bool,
}

#[derive(Debug)]
struct Shared {
    path: String,
    servers: String,
    stale: StalePolicy,
    stale_log_after: Duration,
    connected: AtomicBool,
    // False once the watcher thread has ended, however it ended (a panic
    // included): the contact then ages and a fail-closed bound applies.
    alive: AtomicBool,
    state: Mutex<State>,
}

/// Marks the watcher dead when its thread ends, unwinding included.
struct AliveGuard(Arc<Shared>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.connected.store(false, Ordering::SeqCst);
        self.0.alive.store(false, Ordering::SeqCst);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn contact(&self) {
        self.connected.store(true, Ordering::SeqCst);
        let mut s = self.lock();
        s.last_contact = Instant::now();
        s.stale_reported = false;
    }

    fn since_contact(&self) -> Duration {
        if self.connected.load(Ordering::SeqCst) && self.alive.load(Ordering::SeqCst) {
            return Duration::ZERO;
        }
        self.lock().last_contact.elapsed()
    }

    fn fail_closed(&self) -> bool {
        match self.stale {
            StalePolicy::KeepServing => false,
            StalePolicy::FailClosed { after } => self.since_contact() > after,
        }
    }
}

/// A running watcher: keeps one [`PolicyTarget`] in step with one znode.
///
/// Every version is read under a persistent watch set before the read, so
/// no change is missed; it is applied only if it parses and compiles
/// (keyed on ZooKeeper's version of the znode, never on anything inside
/// the data); an invalid version is refused with a `zk` audit event naming
/// the znode, the version and the error, and the last good policy keeps
/// serving. A lost session is re-established and the znode re-read.
///
/// Dropping it stops the thread (within one connection timeout).
#[derive(Debug)]
pub struct PolicyWatch {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

enum Startup1 {
    Applied,
    Failed(String),
}

impl PolicyWatch {
    /// Starts watching `url` for `target`, recording events in `sink`.
    ///
    /// # Errors
    ///
    /// [`ZkError::Startup`] if [`Startup::RequireZk`] and no valid version
    /// was applied in time (the thread is stopped);
    /// [`ZkError::Runtime`] if the thread could not be started.
    pub fn start(
        url: ZkUrl,
        target: Arc<dyn PolicyTarget>,
        options: WatchOptions,
        sink: Arc<dyn AuditSink>,
    ) -> Result<Self, ZkError> {
        let shared = Arc::new(Shared {
            path: url.path().to_owned(),
            servers: url.connect_string(),
            stale: options.stale,
            stale_log_after: options.stale_log_after,
            connected: AtomicBool::new(false),
            alive: AtomicBool::new(true),
            state: Mutex::new(State {
                applied: None,
                refused: None,
                last_contact: Instant::now(),
                last_error: None,
                stale_reported: false,
            }),
        });
        let (stop, stop_rx) = watch::channel(false);
        let (first_tx, first_rx) = mpsc::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| ZkError::Runtime {
                reason: e.to_string(),
            })?;
        let worker = Worker {
            url,
            target,
            options: options.clone(),
            shared: Arc::clone(&shared),
            sink,
            first: Some(first_tx),
        };
        let thread = std::thread::Builder::new()
            .name("mesos-auth-zk".to_owned())
            .spawn(move || {
                let _alive = AliveGuard(Arc::clone(&worker.shared));
                runtime.block_on(async {
                    let _spawner = spawns_core::enter(&super::push::TokioSpawner);
                    worker.run(stop_rx).await;
                });
            })
            .map_err(|e| ZkError::Runtime {
                reason: e.to_string(),
            })?;
        let watch = Self {
            shared,
            stop,
            thread: Some(thread),
        };
        if let Startup::RequireZk(within) = options.startup {
            let reason = match first_rx.recv_timeout(within) {
                Ok(Startup1::Applied) => return Ok(watch),
                Ok(Startup1::Failed(reason)) => reason,
                Err(_) => watch
                    .shared
                    .lock()
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "no answer".to_owned()),
            };
            return Err(ZkError::Startup {
                path: watch.shared.path.clone(),
                waited_ms: within.as_millis(),
                reason,
            });
        }
        Ok(watch)
    }

    /// The version serving, its age, and the contact with ZooKeeper.
    pub fn status(&self) -> WatchStatus {
        let since_contact = self.shared.since_contact();
        let fail_closed = self.shared.fail_closed();
        let s = self.shared.lock();
        WatchStatus {
            version: s.applied.map(|(v, _)| v.version),
            policy_age: s.applied.map(|(_, at)| at.elapsed()),
            since_contact,
            connected: self.shared.connected.load(Ordering::SeqCst)
                && self.shared.alive.load(Ordering::SeqCst),
            fail_closed,
            last_error: s.last_error.clone(),
        }
    }

    /// Whether decisions may be made now: with [`StalePolicy::FailClosed`],
    /// an error once ZooKeeper has been out of reach for longer than the
    /// bound. The host denies every request while this fails.
    ///
    /// # Errors
    ///
    /// [`ZkError::Stale`] as above.
    pub fn check_fresh(&self) -> Result<(), ZkError> {
        match self.shared.stale {
            StalePolicy::FailClosed { after } => {
                let since = self.shared.since_contact();
                if since > after {
                    return Err(ZkError::Stale {
                        path: self.shared.path.clone(),
                        since_ms: since.as_millis(),
                        bound_ms: after.as_millis(),
                    });
                }
                Ok(())
            }
            StalePolicy::KeepServing => Ok(()),
        }
    }

    /// Stops the watcher and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PolicyWatch {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Worker {
    url: ZkUrl,
    target: Arc<dyn PolicyTarget>,
    options: WatchOptions,
    shared: Arc<Shared>,
    sink: Arc<dyn AuditSink>,
    first: Option<mpsc::Sender<Startup1>>,
}

enum End {
    Stop,
    Lost(String),
}

impl Worker {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let reason = match self.session(&mut stop).await {
                End::Stop => return,
                End::Lost(reason) => reason,
            };
            self.shared.connected.store(false, Ordering::SeqCst);
            self.shared.lock().last_error = Some(reason.clone());
            self.record(&ZkEvent::Disconnected {
                znode: self.shared.path.clone(),
                reason,
            });
            let pause = tokio::time::sleep(self.options.retry);
            tokio::select! {
                _ = pause => {}
                _ = stop.changed() => return,
            }
        }
    }

    fn record(&self, event: &ZkEvent) {
        self.sink.record(event);
    }

    async fn session(&mut self, stop: &mut watch::Receiver<bool>) -> End {
        let path = self.shared.path.clone();
        let connect = self.options.connect.connect(&self.url);
        let client = tokio::select! {
            c = connect => c,
            _ = stop.changed() => return End::Stop,
        };
        let client = match client {
            Ok(c) => c,
            Err(e) => return self.lost(e.to_string()),
        };
        let mut states = client.state_watcher();
        let mut watcher = match self.watch_and_read(&client).await {
            Ok(w) => w,
            Err(end) => return end,
        };
        self.record(&ZkEvent::Connected {
            znode: path.clone(),
            servers: self.shared.servers.clone(),
        });
        let mut tick = tokio::time::interval(self.options.tick);
        let mut resync = tokio::time::interval(self.options.resync);
        resync.reset();
        let mut was_disconnected = false;
        loop {
            tokio::select! {
                _ = stop.changed() => return End::Stop,
                state = states.changed() => match state {
                    zkc::SessionState::SyncConnected | zkc::SessionState::ConnectedReadOnly => {
                        self.shared.contact();
                        if std::mem::take(&mut was_disconnected) {
                            // Events during a disconnection may be lost
                            // (ZOOKEEPER-4698), and a restarted server may not
                            // restore the watch: watch afresh and re-read.
                            watcher = match self.watch_and_read(&client).await {
                                Ok(w) => w,
                                Err(end) => return end,
                            };
                        }
                    }
                    zkc::SessionState::Disconnected => {
                        was_disconnected = true;
                        self.shared.connected.store(false, Ordering::SeqCst);
                    }
                    // Terminal: neither watcher may be polled again.
                    state => return self.lost(format!("session {state:?}")),
                },
                event = watcher.changed() => match event.event_type {
                    zkc::EventType::Session => {
                        if event.session_state.is_terminated() {
                            return self.lost(format!("session {:?}", event.session_state));
                        }
                    }
                    zkc::EventType::NodeCreated | zkc::EventType::NodeDataChanged => {
                        self.shared.contact();
                        if let Err(end) = self.read_apply(&client).await {
                            return end;
                        }
                    }
                    zkc::EventType::NodeDeleted => {
                        self.shared.contact();
                        self.shared.lock().last_error =
                            Some(format!("znode `{path}` was deleted"));
                        self.record(&ZkEvent::Deleted { znode: path.clone() });
                    }
                    zkc::EventType::NodeChildrenChanged => {}
                },
                _ = resync.tick() => {
                    // A safety net under the watch: a cheap read of the
                    // version catches anything a watch failed to deliver.
                    if let Err(end) = self.read_apply(&client).await {
                        return end;
                    }
                }
                _ = tick.tick() => self.on_tick(&client),
            }
        }
    }

    /// Sets a persistent watch, then reads: a change between the two shows
    /// up as an event and a second read, never as a miss.
    async fn watch_and_read(
        &mut self,
        client: &zkc::Client,
    ) -> Result<zkc::PersistentWatcher, End> {
        let path = self.shared.path.clone();
        let watcher = match client.watch(&path, zkc::AddWatchMode::Persistent).await {
            Ok(w) => w,
            Err(e) => return Err(self.lost(ZkError::from_client(&path, &e).to_string())),
        };
        self.shared.contact();
        self.read_apply(client).await?;
        Ok(watcher)
    }

    // A lost session leaves the start-up sender in place: a retry may
    // still succeed within the start-up bound.
    fn lost(&mut self, reason: String) -> End {
        End::Lost(reason)
    }

    fn on_tick(&self, client: &zkc::Client) {
        match client.state() {
            zkc::SessionState::SyncConnected | zkc::SessionState::ConnectedReadOnly => {
                self.shared.contact();
            }
            _ => self.shared.connected.store(false, Ordering::SeqCst),
        }
        let since = self.shared.since_contact();
        let (bound, fail_closed) = match self.shared.stale {
            StalePolicy::KeepServing => (self.shared.stale_log_after, false),
            StalePolicy::FailClosed { after } => (after, true),
        };
        if since > bound {
            let first_time = {
                let mut s = self.shared.lock();
                !std::mem::replace(&mut s.stale_reported, true)
            };
            if first_time {
                self.record(&ZkEvent::Stale {
                    znode: self.shared.path.clone(),
                    since_ms: u64::try_from(since.as_millis()).unwrap_or(u64::MAX),
                    fail_closed,
                });
            }
        }
    }

    /// Reads the znode and applies it if its version is new.
    async fn read_apply(&mut self, client: &zkc::Client) -> Result<(), End> {
        let path = self.shared.path.clone();
        let (data, stat) = match client.get_data(&path).await {
            Ok(x) => x,
            Err(zkc::Error::NoNode) => {
                let e = ZkError::NoNode { path };
                self.shared.lock().last_error = Some(e.to_string());
                self.report_first(Startup1::Failed(e.to_string()));
                return Ok(());
            }
            Err(e) if is_session_error(&e) => {
                return Err(self.lost(ZkError::from_client(&path, &e).to_string()));
            }
            Err(e) => {
                let e = ZkError::from_client(&path, &e);
                self.shared.lock().last_error = Some(e.to_string());
                self.report_first(Startup1::Failed(e.to_string()));
                return Ok(());
            }
        };
        self.shared.contact();
        let seen = ZnodeVersion {
            czxid: stat.czxid,
            version: stat.version,
        };
        {
            let s = self.shared.lock();
            if s.applied.map(|(v, _)| v) == Some(seen) || s.refused == Some(seen) {
                return Ok(());
            }
        }
        let kind = self.target.kind();
        let checked = if data.len() > kind.max_bytes() {
            Err(ZkError::TooLarge {
                path: path.clone(),
                version: stat.version,
                len: data.len(),
                max: kind.max_bytes(),
            }
            .to_string())
        } else {
            self.target.apply(&data).map_err(|reason| {
                ZkError::Invalid {
                    path: path.clone(),
                    version: stat.version,
                    kind: kind.name(),
                    reason,
                }
                .to_string()
            })
        };
        match checked {
            Ok(generation) => {
                {
                    let mut s = self.shared.lock();
                    s.applied = Some((seen, Instant::now()));
                    s.refused = None;
                    s.last_error = None;
                }
                self.record(&ZkEvent::Applied {
                    znode: path,
                    version: stat.version,
                    generation,
                });
                self.report_first(Startup1::Applied);
            }
            Err(reason) => {
                let serving = {
                    let mut s = self.shared.lock();
                    s.refused = Some(seen);
                    s.last_error = Some(reason.clone());
                    s.applied.map(|(v, _)| v.version)
                };
                self.record(&ZkEvent::Refused {
                    znode: path,
                    version: stat.version,
                    serving,
                    reason: reason.clone(),
                });
                self.report_first(Startup1::Failed(reason));
            }
        }
        Ok(())
    }

    fn report_first(&mut self, outcome: Startup1) {
        if let Some(first) = self.first.take() {
            let _ = first.send(outcome);
        }
    }
}

fn is_session_error(e: &zkc::Error) -> bool {
    matches!(
        e,
        zkc::Error::SessionExpired
            | zkc::Error::ClientClosed
            | zkc::Error::ConnectionLoss
            | zkc::Error::AuthFailed
    )
}
