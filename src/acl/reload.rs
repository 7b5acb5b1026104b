//! Hot reload of a compiled policy on top of [`Reloadable`].

use std::path::{Path, PathBuf};

use crate::reload::{Reloadable, Snapshot};

use super::compile::{CompiledAcls, Compiler};
use super::decision::{Decision, Request};
use super::error::AclError;
use super::source::{Options, parse_with, read_file};

/// A policy that can be replaced while requests are being decided.
///
/// A reload parses and compiles the new text first; only a policy that
/// passes both is swapped in, atomically. An invalid one is refused and the
/// old policy keeps serving.
///
/// The calls match the C API's: [`from_file`](Self::from_file) is
/// `mesos_auth_acl_load_path`, [`reload`](Self::reload) is
/// `mesos_auth_acl_reload` (re-read the same file),
/// [`reload_from_str`](Self::reload_from_str) is
/// `mesos_auth_acl_reload_buffer`.
///
/// ```
/// use mesos_auth::acl::{self, AclHandle, Action, Compiler, Object, Request};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("acls.json");
/// std::fs::write(&path, r#"{"permissive": false, "run_tasks": [
///     {"principals": {"values": ["ops"]}, "users": {"values": ["root"]}}]}"#)?;
/// let policy = AclHandle::from_file(&path, Compiler::new(), acl::Options::new())?;
/// let ask = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
/// assert!(policy.authorize(&ask).is_allowed());
///
/// // The operator edits the file and asks for a reload.
/// std::fs::write(&path, r#"{"permissive": false}"#)?;
/// assert_eq!(policy.reload()?, 1);
/// assert!(!policy.authorize(&ask).is_allowed());
///
/// // A broken file is refused; the last good policy keeps serving.
/// std::fs::write(&path, r#"{"permissive": tru"#)?;
/// assert!(policy.reload().is_err());
/// assert_eq!(policy.generation(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AclHandle {
    current: Reloadable<CompiledAcls>,
    compiler: Compiler,
    options: Options,
    path: Option<PathBuf>,
}

impl AclHandle {
    /// Serves `initial`; later reloads parse with `options` and compile with `compiler`.
    pub fn new(initial: CompiledAcls, compiler: Compiler, options: Options) -> Self {
        Self {
            current: Reloadable::new(initial),
            compiler,
            options,
            path: None,
        }
    }

    /// Reads, parses and compiles the ACL file at `path` and serves it;
    /// [`reload`](Self::reload) re-reads the same file.
    ///
    /// # Errors
    ///
    /// As [`read_file`] and [`Compiler::compile`].
    pub fn from_file(
        path: impl AsRef<Path>,
        compiler: Compiler,
        options: Options,
    ) -> Result<Self, AclError> {
        let path = path.as_ref();
        let compiled = compiler.compile(&read_file(path, options)?)?;
        Ok(Self {
            path: Some(path.to_path_buf()),
            ..Self::new(compiled, compiler, options)
        })
    }

    /// Parses and compiles `src` and serves it.
    ///
    /// # Errors
    ///
    /// As [`parse_with`] and [`Compiler::compile`].
    pub fn from_str(src: &str, compiler: Compiler, options: Options) -> Result<Self, AclError> {
        let compiled = compiler.compile(&parse_with(src, options)?)?;
        Ok(Self::new(compiled, compiler, options))
    }

    /// The policy being served and its generation.
    pub fn snapshot(&self) -> Snapshot<CompiledAcls> {
        self.current.snapshot()
    }

    /// Decides `request` against the policy being served now.
    pub fn authorize(&self, request: &Request<'_>) -> Decision {
        self.current.with(|acls, _| acls.authorize(request))
    }

    /// Replaces the policy with `src`, returning the new generation.
    ///
    /// # Errors
    ///
    /// The parse or compile error; the old policy keeps serving.
    pub fn reload_from_str(&self, src: &str) -> Result<u64, AclError> {
        let (compiler, options) = (&self.compiler, self.options);
        self.current
            .try_reload(|_| compiler.compile(&parse_with(src, options)?))
    }

    /// Replaces the policy with the ACL file at `path`, returning the new
    /// generation. [`reload`](Self::reload) still reads the file the handle
    /// was made from.
    ///
    /// # Errors
    ///
    /// The read, parse or compile error; the old policy keeps serving.
    pub fn reload_from_file(&self, path: impl AsRef<Path>) -> Result<u64, AclError> {
        let (compiler, options, path) = (&self.compiler, self.options, path.as_ref());
        self.current
            .try_reload(|_| compiler.compile(&read_file(path, options)?))
    }

    /// Re-reads the file the handle was made from
    /// ([`from_file`](Self::from_file)) and serves it, returning the new
    /// generation.
    ///
    /// # Errors
    ///
    /// [`AclError::NotFromFile`] for a handle made from text, else as
    /// [`reload_from_file`](Self::reload_from_file); the old policy keeps
    /// serving.
    pub fn reload(&self) -> Result<u64, AclError> {
        let path = self.path.as_deref().ok_or(AclError::NotFromFile)?;
        self.reload_from_file(path)
    }

    /// The file the handle was made from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The generation being served.
    pub fn generation(&self) -> u64 {
        self.current.generation()
    }
}
