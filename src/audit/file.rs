//! JSON lines to a file, with size-based rotation and an fsync policy.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rustix::fs::{FileType, Mode, OFlags};

use super::{AuditError, AuditSink, Event, to_json_line};

/// When a [`FileSink`] asks the kernel to put written events on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// Never: the kernel writes back when it likes; a power cut may lose
    /// the last seconds (a killed process loses nothing written).
    Never,
    /// At most this long after a write (checked at the next write, and by
    /// an [`AsyncSink`](super::AsyncSink)'s writer when idle).
    Interval(Duration),
    /// Before the write is acknowledged: every event is on disk when
    /// [`FileSink::write_event`] returns.
    #[default]
    Always,
}

/// Settings of a [`FileSink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSinkConfig {
    max_bytes: u64,
    keep: u32,
    fsync: FsyncPolicy,
}

impl Default for FileSinkConfig {
    fn default() -> Self {
        Self {
            max_bytes: 100 * 1024 * 1024,
            keep: 5,
            fsync: FsyncPolicy::Always,
        }
    }
}

impl FileSinkConfig {
    /// 100 MiB per file, 5 rotated files kept, fsync before acknowledging.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rotates before a write would take the file past `max_bytes`
    /// (0: never rotate). A single event larger than this still goes into
    /// a file of its own.
    #[must_use]
    pub const fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How many rotated files (`<path>.1` newest ... `<path>.<keep>`) are
    /// kept; 0 discards the full file at rotation.
    #[must_use]
    pub const fn keep(mut self, keep: u32) -> Self {
        self.keep = keep;
        self
    }

    /// The fsync policy.
    #[must_use]
    pub const fn fsync(mut self, fsync: FsyncPolicy) -> Self {
        self.fsync = fsync;
        self
    }
}

/// Writes each event as one JSON line to a file, appending.
///
/// The file is opened `O_APPEND | O_NOFOLLOW`, created with mode 0600; an
/// existing file that is a symbolic link, not a regular file, or writable
/// by group or others is refused. Each event is one `write` of its whole
/// line. A file left with a torn last line (a writer killed mid-write) gets
/// a newline first, so the next event starts a line of its own; readers
/// skip lines that are not complete JSON objects (the reader rule in the
/// [module docs](super)).
///
/// Rotation renames `<path>.<keep-1>` to `<path>.<keep>`, ..., `<path>` to
/// `<path>.1` (each rename atomic), then creates a fresh `<path>`.
///
/// ```
/// use mesos_auth::audit::{FileSink, FileSinkConfig, FsyncPolicy};
/// use mesos_auth::acl::{self, Action, Compiler, DecisionEvent, Object, Request};
///
/// let dir = std::env::temp_dir().join(format!("audit-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("audit.log");
/// let sink = FileSink::open(&path, FileSinkConfig::new().fsync(FsyncPolicy::Never))?;
/// let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": false}"#)?)?;
/// let request = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
/// sink.write_event(&DecisionEvent::new(&request, &policy.authorize(&request)))?;
/// assert_eq!(std::fs::read_to_string(&path)?.lines().count(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    config: FileSinkConfig,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    size: u64,
    /// Written since the last fsync.
    dirty: bool,
    last_sync: Instant,
    errors: u64,
}

impl FileSink {
    /// Opens (or creates) the audit log at `path`.
    ///
    /// # Errors
    ///
    /// [`AuditError::Symlink`], [`AuditError::NotRegularFile`],
    /// [`AuditError::Permissions`] for an unsafe existing file,
    /// [`AuditError::Io`] if it cannot be opened.
    pub fn open(path: impl AsRef<Path>, config: FileSinkConfig) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let file = open_log(&path)?;
        let size = file.metadata().map_err(|e| io_error(&path, e))?.len();
        let sink = Self {
            path,
            config,
            state: Mutex::new(State {
                file,
                size,
                dirty: false,
                last_sync: Instant::now(),
                errors: 0,
            }),
        };
        sink.end_torn_line()?;
        Ok(sink)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes failed so far through [`AuditSink::record`] (which cannot
    /// report them).
    pub fn errors(&self) -> u64 {
        self.lock().errors
    }

    /// Writes one event; when this returns `Ok` the event is written (and
    /// on disk, under [`FsyncPolicy::Always`]): it is *acknowledged*.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if writing, syncing or rotating failed.
    pub fn write_event(&self, event: &dyn Event) -> Result<(), AuditError> {
        let mut line = to_json_line(event, SystemTime::now());
        line.push('\n');
        let mut st = self.lock();
        let len = line.len() as u64;
        if self.config.max_bytes > 0
            && st.size > 0
            && st.size.saturating_add(len) > self.config.max_bytes
        {
            self.rotate(&mut st)?;
        }
        st.file
            .write_all(line.as_bytes())
            .map_err(|e| io_error(&self.path, e))?;
        st.size = st.size.saturating_add(len);
        st.dirty = true;
        match self.config.fsync {
            FsyncPolicy::Never => Ok(()),
            FsyncPolicy::Always => self.sync(&mut st),
            FsyncPolicy::Interval(d) if st.last_sync.elapsed() >= d => self.sync(&mut st),
            FsyncPolicy::Interval(_) => Ok(()),
        }
    }

    /// Puts what was written on disk, unless the policy is
    /// [`FsyncPolicy::Never`].
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if fsync failed.
    pub fn sync_now(&self) -> Result<(), AuditError> {
        let mut st = self.lock();
        if self.config.fsync == FsyncPolicy::Never {
            return Ok(());
        }
        self.sync(&mut st)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn sync(&self, st: &mut State) -> Result<(), AuditError> {
        if st.dirty {
            st.file.sync_data().map_err(|e| io_error(&self.path, e))?;
            st.dirty = false;
        }
        st.last_sync = Instant::now();
        Ok(())
    }

    /// Ends a torn last line left by a writer that died mid-write.
    fn end_torn_line(&self) -> Result<(), AuditError> {
        use std::io::{Read, Seek, SeekFrom};
        let mut st = self.lock();
        if st.size == 0 {
            return Ok(());
        }
        // The write descriptor cannot read: look through a second one.
        let mut last = [0u8; 1];
        let mut reader = File::open(&self.path).map_err(|e| io_error(&self.path, e))?;
        reader
            .seek(SeekFrom::End(-1))
            .and_then(|_| reader.read_exact(&mut last))
            .map_err(|e| io_error(&self.path, e))?;
        if last != *b"\n" {
            st.file
                .write_all(b"\n")
                .map_err(|e| io_error(&self.path, e))?;
            st.size = st.size.saturating_add(1);
            st.dirty = true;
        }
        Ok(())
    }

    fn rotated(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&self, st: &mut State) -> Result<(), AuditError> {
        if self.config.fsync != FsyncPolicy::Never {
            self.sync(st)?;
        }
        let rename = |from: &Path, to: &Path| match std::fs::rename(from, to) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(from, e)),
        };
        if self.config.keep == 0 {
            match std::fs::remove_file(&self.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&self.path, e)),
            }
        } else {
            for n in (1..self.config.keep).rev() {
                rename(&self.rotated(n), &self.rotated(n + 1))?;
            }
            rename(&self.path, &self.rotated(1))?;
        }
        st.file = open_log(&self.path)?;
        st.size = 0;
        st.dirty = false;
        if self.config.fsync != FsyncPolicy::Never {
            // The renames and the new file are directory entries: sync
            // them too, or a crash could bring back the old names.
            if let Some(dir) = self.path.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| io_error(dir, e))?;
            }
        }
        Ok(())
    }
}

impl AuditSink for FileSink {
    fn record(&self, event: &dyn Event) {
        // The caller cannot be told; the count is.
        if self.write_event(event).is_err() {
            let mut st = self.lock();
            st.errors = st.errors.saturating_add(1);
        }
    }

    fn try_record(&self, event: &dyn Event) -> Result<(), AuditError> {
        self.write_event(event)
    }

    fn flush(&self) -> Result<(), AuditError> {
        self.sync_now()
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let _ = self.sync_now();
    }
}

fn io_error(path: &Path, source: std::io::Error) -> AuditError {
    AuditError::Io {
        what: "log",
        path: path.to_path_buf(),
        source,
    }
}

/// Opens the log for appending, refusing what the credential reader
/// refuses for writing: a symlink, a non-regular file, a file others can
/// write.
fn open_log(path: &Path) -> Result<File, AuditError> {
    let flags = OFlags::WRONLY
        | OFlags::APPEND
        | OFlags::CREATE
        | OFlags::CLOEXEC
        | OFlags::NOCTTY
        | OFlags::NOFOLLOW
        // A FIFO must not block the open; refused below.
        | OFlags::NONBLOCK;
    let fd = match rustix::fs::open(path, flags, Mode::from_raw_mode(0o600)) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) => {
            return Err(AuditError::Symlink {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io_error(path, e.into())),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| io_error(path, e.into()))?;
    #[expect(
        clippy::useless_conversion,
        reason = "st_mode is not u32 on every target"
    )]
    let mode = u32::from(st.st_mode);
    if FileType::from_raw_mode(mode as _) != FileType::RegularFile {
        return Err(AuditError::NotRegularFile {
            path: path.to_path_buf(),
        });
    }
    if mode & 0o022 != 0 {
        return Err(AuditError::Permissions {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        });
    }
    // Writes to a regular file never return EAGAIN: O_NONBLOCK can stay.
    Ok(File::from(fd))
}
