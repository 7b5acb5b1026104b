//! Loading a credentials file from a path, safely.
//!
//! The file is opened once (`O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK`), and the
//! checks (regular file, owner, permission bits, size cap) run on that same
//! descriptor with `fstat`, so the file cannot be swapped between the check
//! and the read (threats.md CS-9). A FIFO or device is refused before any
//! read. The contents go into one wiping buffer of exactly the file's size;
//! if the file grows or shrinks meanwhile, the load fails rather than
//! reading a torn file.
//!
//! Permissions: strict mode refuses a file that group or others can access
//! (any bit of `0o077`) or that another user owns. Lenient mode, like Mesos
//! (which only logs a warning when others can read the file), reads it and
//! reports each problem as a warning; so does
//! [`Options::allow_insecure_permissions`] in strict mode.

use std::path::Path;

use zeroize::Zeroizing;

use super::error::{CredentialsError, Diagnostic, Problem};
use super::parse::{CredentialsFile, Options, parse, parse_store};
use super::store::CredentialStore;
use crate::file::{self, FileError, Follow};
use crate::{Location, Span};

/// Reads and parses the credentials file at `path` (a `file://` prefix, as
/// Mesos flags allow, is taken off).
///
/// # Errors
///
/// [`CredentialsError::Symlink`], [`CredentialsError::NotRegularFile`] (a
/// FIFO, device or directory), [`CredentialsError::InsecurePermissions`]
/// (group/other bits set) and [`CredentialsError::ForeignOwner`] (both only
/// in strict mode without [`Options::allow_insecure_permissions`]),
/// [`CredentialsError::TooLarge`],
/// [`CredentialsError::ChangedWhileReading`], [`CredentialsError::Io`], or
/// [`CredentialsError::Parse`] with the file name in every diagnostic.
pub fn load(
    path: impl AsRef<Path>,
    options: &Options,
) -> Result<CredentialsFile, CredentialsError> {
    let path = strip_file_scheme(path.as_ref());
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

/// Reads a private file (a credentials file in another syntax, a secret)
/// with exactly the checks [`load`] makes, without parsing it: no symlink,
/// a regular file, owner and permissions as `options` say, at most
/// [`Options::max_file_size`] bytes. The bytes come back in a buffer that
/// is wiped when dropped, and no other copy is made. Permission problems
/// `options` tolerates are not reported (use [`load`] for warnings).
///
/// # Errors
///
/// As [`load`], except [`CredentialsError::Parse`].
pub fn read_private_file(
    path: impl AsRef<Path>,
    options: &Options,
) -> Result<Zeroizing<Vec<u8>>, CredentialsError> {
    read_checked(strip_file_scheme(path.as_ref()), options).map(|(bytes, _)| bytes)
}

/// Takes off a `file://` prefix, as Mesos flags allow.
fn strip_file_scheme(path: &Path) -> &Path {
    path.to_str()
        .and_then(|s| s.strip_prefix("file://"))
        .map(Path::new)
        .unwrap_or(path)
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
    let path = strip_file_scheme(path.as_ref());
    let (bytes, _) = read_checked(path, options)?;
    // A strict read goes straight into the store, which finds repeated
    // principals as it places them. When either finds anything wrong (or
    // the read is lenient), the file is parsed as `load` does, for the same
    // answer: every error with its place, every repeated name with both.
    let result = match parse_store(&bytes, options) {
        Ok(Some(store)) => Ok(store),
        Ok(None) | Err(CredentialsError::DuplicatePrincipal { .. }) => {
            parse(&bytes, options).and_then(CredentialsFile::into_store)
        }
        Err(e) => Err(e),
    };
    result.map_err(|e| match e {
        CredentialsError::Parse(mut e) => {
            e.set_file(path);
            CredentialsError::Parse(e)
        }
        e => e,
    })
}

/// Opens, checks and reads the file; returns the bytes and the permission
/// problems that were tolerated.
fn read_checked(
    path: &Path,
    options: &Options,
) -> Result<(Zeroizing<Vec<u8>>, Vec<Diagnostic>), CredentialsError> {
    let opened = file::open_regular(path, Follow::No).map_err(|e| file_error(path, e))?;
    let tolerate = options.is_lenient() || options.allows_insecure_permissions();
    let mut notes = Vec::new();
    let at_start = |problem| {
        Diagnostic::new(
            Span::new(0, 0),
            Location { line: 1, column: 1 },
            None,
            problem,
        )
    };
    let perms = opened.permissions();
    if perms & 0o077 != 0 {
        if !tolerate {
            return Err(CredentialsError::InsecurePermissions {
                path: path.to_path_buf(),
                mode: perms,
            });
        }
        notes.push(at_start(Problem::InsecurePermissions { mode: perms }));
    }
    let owner = opened.owner();
    let user = rustix::process::geteuid().as_raw();
    if owner != user {
        if !tolerate {
            return Err(CredentialsError::ForeignOwner {
                path: path.to_path_buf(),
                owner,
                user,
            });
        }
        notes.push(at_start(Problem::ForeignOwner { owner }));
    }
    let bytes = opened
        .read_all(options.file_size_limit())
        .map_err(|e| file_error(path, e))?;
    Ok((bytes, notes))
}

/// The checked reader's failure as a credentials error.
fn file_error(path: &Path, e: FileError) -> CredentialsError {
    let path = path.to_path_buf();
    match e {
        FileError::Symlink => CredentialsError::Symlink { path },
        FileError::NotRegularFile => CredentialsError::NotRegularFile { path },
        FileError::TooLarge { size, limit } => CredentialsError::TooLarge { path, size, limit },
        FileError::Changed => CredentialsError::ChangedWhileReading { path },
        FileError::Io(e) => CredentialsError::Io {
            path,
            message: e.to_string(),
        },
    }
}
