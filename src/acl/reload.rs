//! Hot reload of a compiled policy on top of [`Reloadable`].

use crate::reload::{Reloadable, Snapshot};

use super::compile::{CompiledAcls, Compiler};
use super::decision::{Decision, Request};
use super::error::AclError;
use super::source::{Options, parse_with};

/// A policy that can be replaced while requests are being decided.
///
/// A reload parses and compiles the new text first; only a policy that
/// passes both is swapped in, atomically. An invalid one is refused and the
/// old policy keeps serving (threats.md AC-15).
#[derive(Debug)]
pub struct AclHandle {
    current: Reloadable<CompiledAcls>,
    compiler: Compiler,
    options: Options,
}

impl AclHandle {
    /// Serves `initial`; later reloads parse with `options` and compile with `compiler`.
    pub fn new(initial: CompiledAcls, compiler: Compiler, options: Options) -> Self {
        Self {
            current: Reloadable::new(initial),
            compiler,
            options,
        }
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

    /// The generation being served.
    pub fn generation(&self) -> u64 {
        self.current.generation()
    }
}
