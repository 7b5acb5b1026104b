//! A bounded, non-blocking queue in front of any sink, with one writer
//! thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{AuditError, AuditEvent, AuditSink, Event};

/// How often an idle writer calls the inner sink's
/// [`flush`](AuditSink::flush) (which runs a [`FsyncPolicy::Interval`]
/// sync that no later write would trigger).
///
/// [`FsyncPolicy::Interval`]: super::FsyncPolicy::Interval
const IDLE_TICK: Duration = Duration::from_millis(200);

/// Wraps a sink with a bounded queue and one writer thread, so that
/// [`record`](AuditSink::record) never blocks: when the queue is full the
/// event is dropped and counted ([`dropped`](Self::dropped)).
///
/// An event is *acknowledged* when the writer has handed it to the inner
/// sink and the inner sink reported success ([`AuditSink::try_record`];
/// for a [`FileSink`](super::FileSink) under
/// [`FsyncPolicy::Always`](super::FsyncPolicy::Always) that includes the
/// fsync). [`record_acked`](Self::record_acked) waits for one event's
/// acknowledgement, [`flush`](Self::flush) for everything queued before
/// it. Dropping the sink drains the queue for at most the drain timeout
/// (default 5 s), then leaves the rest to the detached writer.
///
/// Counters: `recorded = dropped + queued + written`, and
/// `written = acknowledged + failed`.
///
/// ```
/// use std::time::Duration;
/// use mesos_auth::audit::{AsyncSink, AuditSink, MemorySink};
/// use mesos_auth::acl::{self, Action, Compiler, DecisionEvent, Object, Request};
///
/// let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": false}"#)?)?;
/// let request = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
/// let sink = AsyncSink::new(MemorySink::new(), 1024)?;
/// sink.record(&DecisionEvent::new(&request, &policy.authorize(&request)));
/// sink.flush(Duration::from_secs(5))?;
/// assert_eq!((sink.recorded(), sink.acknowledged(), sink.dropped()), (1, 1, 0));
/// assert_eq!(sink.inner().take().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AsyncSink<S: AuditSink + 'static> {
    tx: Option<SyncSender<Msg>>,
    shared: Arc<Shared<S>>,
    writer: Option<JoinHandle<()>>,
    drain_timeout: Duration,
}

enum Msg {
    Event(AuditEvent, Option<Arc<Ack>>),
    Flush(Arc<Ack>),
}

/// One waiter's answer: `None` until the writer has dealt with it.
#[derive(Default)]
struct Ack {
    done: Mutex<Option<bool>>,
    cv: Condvar,
}

impl Ack {
    fn set(&self, ok: bool) {
        let mut d = match self.done.lock() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        *d = Some(ok);
        self.cv.notify_all();
    }

    /// `Some(ok)` once answered, `None` at the deadline.
    fn wait(&self, timeout: Duration) -> Option<bool> {
        // A timeout past the clock's range (`u64::MAX` ms from C) waits
        // without a deadline rather than overflowing.
        let deadline = Instant::now().checked_add(timeout);
        let mut d = match self.done.lock() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        loop {
            if let Some(ok) = *d {
                return Some(ok);
            }
            d = match deadline {
                Some(deadline) => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    match self.cv.wait_timeout(d, left) {
                        Ok((d, _)) => d,
                        Err(p) => p.into_inner().0,
                    }
                }
                None => match self.cv.wait(d) {
                    Ok(d) => d,
                    Err(p) => p.into_inner(),
                },
            };
        }
    }
}

struct Shared<S> {
    inner: S,
    recorded: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    acknowledged: AtomicU64,
    failed: AtomicU64,
    /// Set by the writer when it has drained and stopped.
    finished: Ack,
}

impl<S: AuditSink + 'static> AsyncSink<S> {
    /// Starts the writer thread with room for `capacity` queued events.
    ///
    /// # Errors
    ///
    /// [`AuditError::Config`] for a zero capacity, [`AuditError::Io`] if the
    /// thread cannot be spawned.
    pub fn new(inner: S, capacity: usize) -> Result<Self, AuditError> {
        if capacity == 0 {
            return Err(AuditError::Config("queue capacity must be at least 1"));
        }
        let (tx, rx) = mpsc::sync_channel(capacity);
        let shared = Arc::new(Shared {
            inner,
            recorded: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            finished: Ack::default(),
        });
        let for_writer = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("mesos-auth-audit".to_owned())
            .spawn(move || write_loop(&for_writer, &rx))
            .map_err(|source| AuditError::Io {
                what: "writer thread",
                path: std::path::PathBuf::new(),
                source,
            })?;
        Ok(Self {
            tx: Some(tx),
            shared,
            writer: Some(writer),
            drain_timeout: Duration::from_secs(5),
        })
    }

    /// How long dropping the sink waits for the queue to drain.
    #[must_use]
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &S {
        &self.shared.inner
    }

    /// Events offered to [`record`](AuditSink::record) (and
    /// [`record_acked`](Self::record_acked)).
    pub fn recorded(&self) -> u64 {
        self.shared.recorded.load(Ordering::Relaxed)
    }

    /// Events dropped because the queue was full (or the writer gone).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Events the writer handed to the inner sink.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Events the inner sink accepted: acknowledged.
    pub fn acknowledged(&self) -> u64 {
        self.shared.acknowledged.load(Ordering::Acquire)
    }

    /// Events the inner sink refused (an I/O error).
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    fn offer(&self, msg: Msg) -> Result<(), AuditError> {
        let Some(tx) = &self.tx else {
            return Err(AuditError::Stopped);
        };
        match tx.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(Msg::Event(..))) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                Err(AuditError::QueueFull)
            }
            Err(TrySendError::Full(_)) => Err(AuditError::QueueFull),
            Err(TrySendError::Disconnected(Msg::Event(..))) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                Err(AuditError::Stopped)
            }
            Err(TrySendError::Disconnected(_)) => Err(AuditError::Stopped),
        }
    }

    /// Queues `event` and waits until it is acknowledged or `timeout`
    /// passes. Never blocks on a full queue: the event is dropped.
    ///
    /// # Errors
    ///
    /// [`AuditError::QueueFull`] (dropped), [`AuditError::Timeout`] (still
    /// queued: it may be written later), [`AuditError::Stopped`], or
    /// [`AuditError::Rejected`] if the inner sink failed to write it.
    pub fn record_acked(&self, event: &dyn Event, timeout: Duration) -> Result<(), AuditError> {
        self.shared.recorded.fetch_add(1, Ordering::Relaxed);
        let ack = Arc::new(Ack::default());
        self.offer(Msg::Event(event.to_audit_event(), Some(Arc::clone(&ack))))?;
        match ack.wait(timeout) {
            Some(true) => Ok(()),
            Some(false) => Err(AuditError::Rejected),
            None => Err(AuditError::Timeout),
        }
    }

    /// Waits until everything queued before this call has been written and
    /// the inner sink flushed, or `timeout` passes.
    ///
    /// # Errors
    ///
    /// [`AuditError::Timeout`], [`AuditError::Stopped`], or
    /// [`AuditError::Rejected`] if the inner flush failed.
    pub fn flush(&self, timeout: Duration) -> Result<(), AuditError> {
        let start = Instant::now();
        let ack = Arc::new(Ack::default());
        // The flush marker waits for room (briefly, in small steps): it is
        // the caller's explicit request to wait.
        loop {
            match self.offer(Msg::Flush(Arc::clone(&ack))) {
                Ok(()) => break,
                Err(AuditError::QueueFull) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(AuditError::QueueFull) => return Err(AuditError::Timeout),
                Err(e) => return Err(e),
            }
        }
        match ack.wait(timeout.saturating_sub(start.elapsed())) {
            Some(true) => Ok(()),
            Some(false) => Err(AuditError::Rejected),
            None => Err(AuditError::Timeout),
        }
    }
}

impl<S: AuditSink + 'static> AuditSink for AsyncSink<S> {
    fn record(&self, event: &dyn Event) {
        self.shared.recorded.fetch_add(1, Ordering::Relaxed);
        // Full or stopped: counted in `dropped`; the caller never waits.
        let _ = self.offer(Msg::Event(event.to_audit_event(), None));
    }

    fn try_record(&self, event: &dyn Event) -> Result<(), AuditError> {
        self.shared.recorded.fetch_add(1, Ordering::Relaxed);
        self.offer(Msg::Event(event.to_audit_event(), None))
    }

    fn flush(&self) -> Result<(), AuditError> {
        AsyncSink::flush(self, self.drain_timeout)
    }
}

impl<S: AuditSink + 'static> std::fmt::Debug for AsyncSink<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSink")
            .field("recorded", &self.recorded())
            .field("dropped", &self.dropped())
            .field("written", &self.written())
            .field("acknowledged", &self.acknowledged())
            .field("failed", &self.failed())
            .finish_non_exhaustive()
    }
}

impl<S: AuditSink + 'static> Drop for AsyncSink<S> {
    fn drop(&mut self) {
        // Closing the channel lets the writer finish what is queued, then
        // stop.
        drop(self.tx.take());
        if self.shared.finished.wait(self.drain_timeout).is_some()
            && let Some(w) = self.writer.take()
        {
            let _ = w.join();
        }
        // Otherwise the writer is left detached, still draining.
    }
}

fn write_loop<S: AuditSink>(shared: &Shared<S>, rx: &Receiver<Msg>) {
    loop {
        match rx.recv_timeout(IDLE_TICK) {
            Ok(Msg::Event(event, ack)) => {
                shared.written.fetch_add(1, Ordering::Relaxed);
                let ok = shared.inner.try_record(event.as_event()).is_ok();
                if ok {
                    shared.acknowledged.fetch_add(1, Ordering::Release);
                } else {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(a) = ack {
                    a.set(ok);
                }
            }
            Ok(Msg::Flush(ack)) => ack.set(shared.inner.flush().is_ok()),
            Err(RecvTimeoutError::Timeout) => {
                let _ = shared.inner.flush();
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = shared.inner.flush();
    shared.finished.set(true);
}
