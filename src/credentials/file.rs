//! Loading a credentials file from a path, safely.
//!
//! The file is opened once (`O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK`), and the
//! checks (regular file, owner, permission bits, size cap) run on that same
//! descriptor with `fstat`, so the file cannot be swapped between the check
//! and the read (threats.md CS-9). The contents go into one wiping buffer of
//! exactly the file's size; if the file grows or shrinks meanwhile, the load
//! fails rather than reading a torn file.

use std::io::Read;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};
use zeroize::Zeroizing;

use super::error::{CredentialsError, Diagnostic, Problem};
use super::parse::{CredentialsFile, Options, parse};
use super::store::CredentialStore;
use crate::{Location, Span};

/// Reads and parses the credentials file at `path` (a `file://` prefix, as
/// Mesos flags allow, is taken off).
///
/// # Errors
///
/// [`CredentialsError::Symlink`], [`CredentialsError::NotRegularFile`],
/// [`CredentialsError::InsecurePermissions`] (group/other bits set),
/// [`CredentialsError::ForeignOwner`] (unless
/// [`Options::allow_insecure_permissions`]), [`CredentialsError::TooLarge`],
/// [`CredentialsError::ChangedWhileReading`], [`CredentialsError::Io`], or
/// [`CredentialsError::Parse`] with the file name in every diagnostic.
pub fn load(
    path: impl AsRef<Path>,
    options: &Options,
) -> Result<CredentialsFile, CredentialsError> {
    let path = path.as_ref();
    let path = path
        .to_str()
        .and_then(|s| s.strip_prefix("file://"))
        .map(Path::new)
        .unwrap_or(path);
    let (bytes, notes) = read_checked(path, options)?;
    match parse(&bytes, options) {
        Ok(mut file) => {
            for n in notes {
                file.push_warning(n);
            }
            file.set_file(path);
            Ok(file)
        }
        Err(CredentialsError::Parse(mut e)) => {
            e.set_file(path);
            Err(CredentialsError::Parse(e))
        }
        Err(e) => Err(e),
    }
}

/// [`load`] then [`CredentialsFile::into_store`].
///
/// # Errors
///
/// As [`load`].
pub fn load_store(
    path: impl AsRef<Path>,
    options: &Options,
) -> Result<CredentialStore, CredentialsError> {
    load(path, options)?.into_store()
}

/// Opens, checks and reads the file; returns the bytes and the permission
/// problems that were tolerated.
fn read_checked(
    path: &Path,
    options: &Options,
) -> Result<(Zeroizing<Vec<u8>>, Vec<Diagnostic>), CredentialsError> {
    let io = |e: std::io::Error| CredentialsError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) => {
            return Err(CredentialsError::Symlink {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io(e.into())),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| io(e.into()))?;
    #[expect(
        clippy::useless_conversion,
        reason = "st_mode is not u32 on every target"
    )]
    let raw_mode = u32::from(st.st_mode);
    if FileType::from_raw_mode(raw_mode as _) != FileType::RegularFile {
        return Err(CredentialsError::NotRegularFile {
            path: path.to_path_buf(),
        });
    }
    let mut notes = Vec::new();
    let at_start = |problem| {
        Diagnostic::new(
            Span::new(0, 0),
            Location { line: 1, column: 1 },
            None,
            problem,
        )
    };
    let perms = raw_mode & 0o7777;
    if perms & 0o077 != 0 {
        if !options.allows_insecure_permissions() {
            return Err(CredentialsError::InsecurePermissions {
                path: path.to_path_buf(),
                mode: perms,
            });
        }
        notes.push(at_start(Problem::InsecurePermissions { mode: perms }));
    }
    let owner = st.st_uid;
    let user = rustix::process::geteuid().as_raw();
    if owner != user {
        if !options.allows_insecure_permissions() {
            return Err(CredentialsError::ForeignOwner {
                path: path.to_path_buf(),
                owner,
                user,
            });
        }
        notes.push(at_start(Problem::ForeignOwner { owner }));
    }
    let size = u64::try_from(st.st_size).unwrap_or(u64::MAX);
    let limit = options.file_size_limit();
    if size > limit {
        return Err(CredentialsError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    let len = usize::try_from(size).map_err(|_| CredentialsError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit,
    })?;
    // Blocking reads from here on (O_NONBLOCK only guarded the open).
    let mut file = std::fs::File::from(fd);
    let mut buf = Zeroizing::new(vec![0u8; len]);
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match file.read(rest) {
            Ok(0) => {
                return Err(CredentialsError::ChangedWhileReading {
                    path: path.to_path_buf(),
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    let mut probe = Zeroizing::new([0u8; 1]);
    loop {
        match file.read(&mut *probe) {
            Ok(0) => break,
            Ok(_) => {
                return Err(CredentialsError::ChangedWhileReading {
                    path: path.to_path_buf(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok((buf, notes))
}
