//! Why an audit sink could not be opened or could not write.

use std::path::PathBuf;

/// An audit sink's error. Messages name the file or socket, never an
/// event's contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The audit log path's last component is a symbolic link.
    #[error("audit log `{}`: is a symbolic link", path.display())]
    Symlink {
        /// The path.
        path: PathBuf,
    },
    /// The audit log is a FIFO, device, directory or socket.
    #[error("audit log `{}`: not a regular file", path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// The existing audit log can be written by its group or by others.
    #[error("audit log `{}`: writable by group or others (mode {mode:04o}); chmod go-w it", path.display())]
    Permissions {
        /// The path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A configuration value is out of range.
    #[error("audit sink: {0}")]
    Config(&'static str),
    /// What the operating system said about the file or socket.
    #[error("audit {what} `{}`: {source}", path.display())]
    Io {
        /// `log` or `syslog socket`.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The queue did not get to the event (or the flush) in time.
    #[error("audit queue: not written within the timeout")]
    Timeout,
    /// The queue was full and the event was dropped.
    #[error("audit queue: full, event dropped")]
    QueueFull,
    /// The inner sink of a queue failed to write the event (or to flush);
    /// the inner sink's own error went to its error count.
    #[error("audit queue: the sink failed to write")]
    Rejected,
    /// The queue's writer has stopped.
    #[error("audit queue: writer stopped")]
    Stopped,
}
