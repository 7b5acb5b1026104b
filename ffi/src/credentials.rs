//! The credential store: load from a file or a buffer, reload, count, findings.

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mesos_auth::Reloadable;
use mesos_auth::credentials::{
    self, CredentialStore, CredentialsError, CredentialsFile, Format, Options, ReloadEvent,
};

use crate::audit::{self, SharedSink, mesos_auth_audit};
use crate::handle::{self, Castable, Kind, Ownership};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result, write_item};

/// Lenient mode: accept what Mesos accepts, reporting quirks as findings.
pub const MESOS_AUTH_CREDENTIALS_LENIENT: u32 = 1;
/// Skip the file permission and ownership checks (the problems are still
/// reported as findings). Only for `mesos_auth_credentials_load_path`.
pub const MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS: u32 = 2;
/// Accept a file that lists no credentials (every authentication then fails).
pub const MESOS_AUTH_CREDENTIALS_ALLOW_EMPTY: u32 = 4;
const ALL_FLAGS: u32 = MESOS_AUTH_CREDENTIALS_LENIENT
    | MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS
    | MESOS_AUTH_CREDENTIALS_ALLOW_EMPTY;

/// The syntax of a credentials buffer (passed as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_credentials_format {
    /// JSON, as Mesos >= 1.11: a buffer whose first non-blank byte is not `{`
    /// or `[` is refused in both modes (`MESOS_AUTH_RESULT_PARSE_ERROR`).
    Auto = 0,
    /// One `principal secret` per line (Mesos 1.0-1.10), read only when
    /// asked for, in both modes.
    Text = 1,
    /// `{"credentials": [{"principal": .., "secret": ..}, ..]}`.
    Json = 2,
}

/// A credential store being served, reloadable while in use.
///
/// Thread safety: shared and reference-counted. Every function taking a
/// `const mesos_auth_credentials *` may be called from any number of threads
/// at once, reloads included: a reload swaps the whole store atomically, and
/// sessions already created keep the store they started with. Freeing it
/// while sessions created from it are in flight is safe (they hold their own
/// reference to their store).
pub struct mesos_auth_credentials {
    _private: [u8; 0],
}

pub(crate) struct Served {
    path: Option<PathBuf>,
    options: Options,
    store: Reloadable<CredentialStore>,
    /// Findings and tolerated warnings of the file now served, rendered
    /// (never a secret). Its lock also serialises reloads, so the findings
    /// always describe the store being served.
    findings: Mutex<Arc<Vec<String>>>,
    sink: SharedSink,
}

impl Served {
    /// The reloadable store itself (an HTTP authenticator follows its reloads).
    pub(crate) fn reloadable(&self) -> &Reloadable<CredentialStore> {
        &self.store
    }

    pub(crate) fn store(&self) -> Arc<CredentialStore> {
        Arc::clone(self.store.snapshot().arc())
    }

    /// Parses `bytes` with the handle's flags and swaps the store in (the
    /// ZooKeeper watch's way in).
    #[cfg(feature = "zk")]
    pub(crate) fn reload_bytes(&self, bytes: &[u8]) -> Result<u64, mesos_auth_result> {
        self.reload(|| credentials::parse(bytes, &self.options))
    }

    /// Where the handle's events go.
    #[cfg(feature = "zk")]
    pub(crate) fn sink(&self) -> &SharedSink {
        &self.sink
    }

    fn findings(&self) -> Arc<Vec<String>> {
        match self.findings.lock() {
            Ok(f) => Arc::clone(&f),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    fn source(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "-".to_owned(), |p| p.display().to_string())
    }

    fn reload(
        &self,
        read: impl FnOnce() -> Result<CredentialsFile, CredentialsError>,
    ) -> Result<u64, mesos_auth_result> {
        let mut findings = match self.findings.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        let old = self.store.snapshot();
        let built = read().and_then(|file| {
            let f = render_findings(&file);
            file.into_store().map(|s| (s, f))
        });
        match built {
            Ok((store, f)) => {
                let report = credentials::diff(&old, &store, old.generation() + 1);
                let generation = self.store.replace(store);
                *findings = Arc::new(f);
                audit::record(
                    &self.sink,
                    ReloadEvent::Reloaded {
                        source: self.source(),
                        report,
                    },
                );
                Ok(generation)
            }
            Err(e) => {
                audit::record(
                    &self.sink,
                    ReloadEvent::Refused {
                        source: self.source(),
                        generation: old.generation(),
                        reason: e.to_string(),
                    },
                );
                Err(credentials_error(&e))
            }
        }
    }
}

impl Castable for mesos_auth_credentials {
    type RustType = Served;
    const KIND: Kind = Kind::Credentials;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

fn render_findings(file: &CredentialsFile) -> Vec<String> {
    let mut out: Vec<String> = file.warnings().iter().map(ToString::to_string).collect();
    out.extend(credentials::findings(file).iter().map(ToString::to_string));
    out
}

/// Records the error (its message never holds a secret) and picks a code.
fn credentials_error(e: &CredentialsError) -> mesos_auth_result {
    let code = match e {
        CredentialsError::Parse(_) | CredentialsError::DuplicatePrincipal { .. } => {
            mesos_auth_result::ParseError
        }
        CredentialsError::TooLarge { .. } => mesos_auth_result::LimitExceeded,
        _ => mesos_auth_result::FileError,
    };
    fail(code, e)
}

fn options(flags: u32, format: u32, from_file: bool) -> Result<Options, mesos_auth_result> {
    if flags & !ALL_FLAGS != 0 {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            format_args!("unknown credentials flag bits {:#x}", flags & !ALL_FLAGS),
        ));
    }
    if !from_file && flags & MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS != 0 {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            "ALLOW_INSECURE_PERMISSIONS applies to files only",
        ));
    }
    let format = match format {
        0 => Format::Auto,
        1 => Format::Text,
        2 => Format::Json,
        n => {
            return Err(fail(
                mesos_auth_result::InvalidParameter,
                format_args!("unknown credentials format {n}"),
            ));
        }
    };
    Ok(Options::new()
        .format(format)
        .lenient(flags & MESOS_AUTH_CREDENTIALS_LENIENT != 0)
        .allow_empty(flags & MESOS_AUTH_CREDENTIALS_ALLOW_EMPTY != 0)
        .allow_insecure_permissions(flags & MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS != 0))
}

fn serve(
    path: Option<PathBuf>,
    options: Options,
    file: Result<CredentialsFile, CredentialsError>,
    sink: SharedSink,
) -> Result<Served, mesos_auth_result> {
    let file = file.map_err(|e| credentials_error(&e))?;
    let findings = render_findings(&file);
    let store = file.into_store().map_err(|e| credentials_error(&e))?;
    Ok(Served {
        path,
        options,
        store: Reloadable::new(store),
        findings: Mutex::new(Arc::new(findings)),
        sink,
    })
}

impl mesos_auth_credentials {
    /// Loads the credentials file at `path` (`path_len` bytes of UTF-8; a
    /// `file://` prefix is taken off, as Mesos flags allow). The file must be
    /// a regular file owned by this process's user with no group/other
    /// access, unless `flags` has `MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS`.
    /// `flags` is a mix of the `MESOS_AUTH_CREDENTIALS_*` bits; `format` a
    /// `mesos_auth_credentials_format`. `audit` may be NULL; reload outcomes
    /// are reported to it. On success `*out` gets a new handle.
    ///
    /// # Safety
    ///
    /// `path` must be valid for `path_len` bytes; `audit` NULL or live; `out`
    /// valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_load_path(
        path: *const c_char,
        path_len: usize,
        format: u32,
        flags: u32,
        audit: *const mesos_auth_audit,
        out: *mut *const mesos_auth_credentials,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let path = unsafe { handle::string(path, path_len, "path")? };
                let options = options(flags, format, true)?;
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let path = PathBuf::from(path.strip_prefix("file://").unwrap_or(path));
                let file = credentials::load(&path, &options);
                serve(Some(path), options, file, sink)
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Parses credentials from `len` bytes at `buf` (text or JSON per
    /// `format`; `flags` as for `_load_path`, except that
    /// `ALLOW_INSECURE_PERMISSIONS` is refused). The buffer may be freed as
    /// soon as the call returns.
    ///
    /// # Safety
    ///
    /// `buf` must be valid for `len` bytes; `audit` NULL or live; `out`
    /// valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_load_buffer(
        buf: *const u8,
        len: usize,
        format: u32,
        flags: u32,
        audit: *const mesos_auth_audit,
        out: *mut *const mesos_auth_credentials,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let bytes = unsafe { handle::bytes(buf, len, "buf")? };
                let options = options(flags, format, false)?;
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let file = credentials::parse(bytes, &options);
                serve(None, options, file, sink)
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Re-reads the file the handle was loaded from and swaps the new store
    /// in; `*out_generation` gets the new generation (the first load is 0).
    /// An invalid file is refused (the error says where) and the old store
    /// keeps serving. A handle made from a buffer gives `MESOS_AUTH_RESULT_INVALID_STATE`.
    ///
    /// # Safety
    ///
    /// `creds` must be NULL or live; `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_reload(
        creds: *const mesos_auth_credentials,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(creds, out_generation, "out_generation", |s| {
                    let Some(path) = s.path.clone() else {
                        return Err(fail(
                            mesos_auth_result::InvalidState,
                            "this handle was not loaded from a file; use mesos_auth_credentials_reload_buffer",
                        ));
                    };
                    s.reload(|| credentials::load(&path, &s.options))
                })
            }
        }
    }

    /// Parses `len` bytes at `buf` with the handle's format and flags and
    /// swaps the new store in, as `mesos_auth_credentials_reload`.
    ///
    /// # Safety
    ///
    /// `creds` NULL or live; `buf` valid for `len` bytes; `out_generation`
    /// valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_reload_buffer(
        creds: *const mesos_auth_credentials,
        buf: *const u8,
        len: usize,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(creds, out_generation, "out_generation", |s| {
                    let bytes = handle::bytes(buf, len, "buf")?;
                    s.reload(|| credentials::parse(bytes, &s.options))
                })
            }
        }
    }

    /// How many credentials the store being served holds.
    ///
    /// # Safety
    ///
    /// `creds` NULL or live; `out_n` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_count(
        creds: *const mesos_auth_credentials,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(creds, out_n, "out_n", |s| Ok(s.store.snapshot().len())) }
        }
    }

    /// The generation of the store being served (0 for the first load, +1
    /// per successful reload).
    ///
    /// # Safety
    ///
    /// `creds` NULL or live; `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_generation(
        creds: *const mesos_auth_credentials,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(creds, out_generation, "out_generation", |s| Ok(s.store.generation()))
            }
        }
    }

    /// How many findings (weak, short or shared secrets, tolerated lenient
    /// quirks, permission problems that were allowed) the served file has.
    ///
    /// # Safety
    ///
    /// `creds` NULL or live; `out_n` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_findings_count(
        creds: *const mesos_auth_credentials,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(creds, out_n, "out_n", |s| Ok(s.findings().len())) }
        }
    }

    /// Writes finding number `index` (`line:column: ...`, never a secret)
    /// into `buf` as a NUL-terminated string, its length into `*out_n`; as
    /// `mesos_auth_result_message` for a short buffer. An index past the end
    /// gives `MESOS_AUTH_RESULT_INVALID_PARAMETER`. A reload in between may change the list.
    ///
    /// # Safety
    ///
    /// `creds` NULL or live; `buf` valid for `len` bytes; `out_n` for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_finding(
        creds: *const mesos_auth_credentials,
        index: usize,
        buf: *mut c_char,
        len: usize,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let r = unsafe { handle::with_ref(creds, |s| Ok(s.findings())) };
            match r {
                // SAFETY: forwarded caller contract.
                Ok(f) => unsafe { write_item(&f, index, "finding", buf, len, out_n) },
                Err(e) => e,
            }
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free` (each reference is freed exactly once;
    /// a second `_free` of one returns `MESOS_AUTH_RESULT_WRONG_HANDLE`).
    ///
    /// # Safety
    ///
    /// `creds` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_up_ref(
        creds: *const mesos_auth_credentials,
        out: *mut *const mesos_auth_credentials,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(creds, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op. A reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE` (the object,
    /// which others may still hold, is untouched).
    ///
    /// # Safety
    ///
    /// `creds` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_credentials_free(
        creds: *const mesos_auth_credentials,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(creds) }
        }
    }
}
