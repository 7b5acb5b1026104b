//! The one checked file reader every loader uses (credentials, ACLs, TLS
//! rules and certificates).
//!
//! The file is opened once with `O_NONBLOCK | O_CLOEXEC | O_NOCTTY` (and
//! `O_NOFOLLOW` when asked), and every check runs on that descriptor with
//! `fstat`, so the file cannot be swapped between check and read (threats.md
//! CS-9). `O_NONBLOCK` keeps the open itself from waiting on a FIFO with no
//! writer; the regular-file check then refuses FIFOs, devices (`/dev/zero`)
//! and directories before a byte is read. The contents go into one wiping
//! buffer of exactly the file's size, never reallocated (so no unwiped copy
//! is left behind); a file that grows or shrinks meanwhile is refused rather
//! than read torn.

use std::io::Read;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};
use zeroize::Zeroizing;

/// Why a checked read failed; each component maps it to its own error.
#[derive(Debug)]
pub(crate) enum FileError {
    /// The last path component is a symbolic link (only with
    /// [`Follow::No`]).
    Symlink,
    /// A FIFO, device, directory or socket.
    NotRegularFile,
    /// Larger than the cap, according to `fstat`.
    TooLarge { size: u64, limit: u64 },
    /// The size changed between `fstat` and the end of the read.
    Changed,
    /// What the operating system said.
    Io(std::io::Error),
}

/// Whether a symbolic link as the last path component is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Follow it (ACL and TLS files, often deployed through symlinks).
    Yes,
    /// Refuse it (secrets: the link could point anywhere).
    No,
}

/// An opened regular file whose `fstat` has been taken.
pub(crate) struct Opened {
    file: std::fs::File,
    mode: u32,
    uid: u32,
    size: u64,
}

impl Opened {
    /// The permission bits (`mode & 0o7777`).
    pub(crate) fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }

    /// The owner's user id.
    pub(crate) fn owner(&self) -> u32 {
        self.uid
    }

    /// Reads the whole file into a wiping buffer, refusing a file over
    /// `limit` bytes or one whose size changes while it is read.
    pub(crate) fn read_all(mut self, limit: u64) -> Result<Zeroizing<Vec<u8>>, FileError> {
        let size = self.size;
        if size > limit {
            return Err(FileError::TooLarge { size, limit });
        }
        let len = usize::try_from(size).map_err(|_| FileError::TooLarge { size, limit })?;
        let mut buf = Zeroizing::new(vec![0u8; len]);
        let mut filled = 0;
        while let Some(rest) = buf.get_mut(filled..) {
            if rest.is_empty() {
                break;
            }
            match self.file.read(rest) {
                Ok(0) => return Err(FileError::Changed),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FileError::Io(e)),
            }
        }
        let mut probe = Zeroizing::new([0u8; 1]);
        loop {
            match self.file.read(&mut *probe) {
                Ok(0) => break,
                Ok(_) => return Err(FileError::Changed),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FileError::Io(e)),
            }
        }
        Ok(buf)
    }
}

/// Opens `path` and checks that it is a regular file, without reading.
pub(crate) fn open_regular(path: &Path, follow: Follow) -> Result<Opened, FileError> {
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    if follow == Follow::No {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) if follow == Follow::No => return Err(FileError::Symlink),
        Err(e) => return Err(FileError::Io(e.into())),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| FileError::Io(e.into()))?;
    #[expect(
        clippy::useless_conversion,
        reason = "st_mode is not u32 on every target"
    )]
    let mode = u32::from(st.st_mode);
    if FileType::from_raw_mode(mode as _) != FileType::RegularFile {
        return Err(FileError::NotRegularFile);
    }
    // O_NONBLOCK stays set: it changes nothing for a regular file.
    Ok(Opened {
        file: std::fs::File::from(fd),
        mode,
        uid: st.st_uid,
        size: u64::try_from(st.st_size).unwrap_or(u64::MAX),
    })
}

/// [`open_regular`] then [`Opened::read_all`].
pub(crate) fn read_regular(
    path: &Path,
    follow: Follow,
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, FileError> {
    open_regular(path, follow)?.read_all(limit)
}

/// Takes the bytes out of a wiping buffer, for text that is not secret.
pub(crate) fn into_plain(mut buf: Zeroizing<Vec<u8>>) -> Vec<u8> {
    std::mem::take(&mut *buf)
}

#[cfg(test)]
mod test;
