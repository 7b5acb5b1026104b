//! What a znode holds and where a new version is swapped in.

use crate::acl::{self, AclHandle, Compiler};
use crate::credentials::{self, CredentialsHandle};
use crate::reload::Reloadable;
use crate::tls::{MAX_RULE_FILE_LEN, Mapper};

/// The three policies a znode can hold, each in the format of its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Mesos ACL JSON (as `--acls`).
    Acls,
    /// A Mesos credentials file, text or JSON (as `--credentials`).
    Credentials,
    /// TLS mapping rules JSON.
    TlsRules,
}

impl PolicyKind {
    /// The name used in messages and audit events.
    pub fn name(self) -> &'static str {
        match self {
            Self::Acls => "ACLs",
            Self::Credentials => "credentials",
            Self::TlsRules => "TLS mapping rules",
        }
    }

    /// The znode's name under a deployment's base path (`zk push`'s URL):
    /// `acls`, `credentials`, `tls-rules`.
    pub fn znode_name(self) -> &'static str {
        match self {
            Self::Acls => "acls",
            Self::Credentials => "credentials",
            Self::TlsRules => "tls-rules",
        }
    }

    /// The largest content accepted: the same limit as the file (ZooKeeper's
    /// own `jute.maxbuffer`, about 1 MiB by default, is usually lower).
    pub fn max_bytes(self) -> usize {
        let limit = match self {
            Self::Acls => acl::DEFAULT_MAX_FILE_BYTES as u64,
            Self::Credentials => credentials::DEFAULT_MAX_FILE_SIZE,
            Self::TlsRules => MAX_RULE_FILE_LEN,
        };
        usize::try_from(limit).unwrap_or(usize::MAX)
    }

    /// Whether the content is secret (then its znode must not be readable
    /// by anyone but the masters).
    pub fn is_secret(self) -> bool {
        matches!(self, Self::Credentials)
    }

    /// Parses and compiles `bytes` with the default (strict) options, as
    /// the CLI's `check` commands do, and drops the result.
    ///
    /// # Errors
    ///
    /// The first error, located (line:column), never a secret.
    pub fn check(self, bytes: &[u8]) -> Result<(), String> {
        if bytes.len() > self.max_bytes() {
            return Err(format!(
                "{} bytes, more than the limit of {}",
                bytes.len(),
                self.max_bytes()
            ));
        }
        match self {
            Self::Acls => {
                let src = utf8(bytes)?;
                let parsed = acl::parse(src).map_err(|e| e.to_string())?;
                Compiler::new()
                    .compile(&parsed)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            Self::Credentials => credentials::parse(bytes, &credentials::Options::default())
                .and_then(credentials::CredentialsFile::into_store)
                .map(drop)
                .map_err(|e| e.to_string()),
            Self::TlsRules => Mapper::from_json(utf8(bytes)?)
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))
}

/// A live policy a znode feeds: parse, compile and swap in one version, or
/// refuse it and keep serving the old one.
pub trait PolicyTarget: Send + Sync {
    /// What the znode holds.
    fn kind(&self) -> PolicyKind;

    /// Builds `bytes` and publishes it, returning the new generation.
    ///
    /// # Errors
    ///
    /// The parse or compile error (located, never a secret); the old value
    /// keeps serving.
    fn apply(&self, bytes: &[u8]) -> Result<u64, String>;
}

impl PolicyTarget for AclHandle {
    fn kind(&self) -> PolicyKind {
        PolicyKind::Acls
    }

    fn apply(&self, bytes: &[u8]) -> Result<u64, String> {
        self.reload_from_str(utf8(bytes)?)
            .map_err(|e| e.to_string())
    }
}

impl PolicyTarget for CredentialsHandle {
    fn kind(&self) -> PolicyKind {
        PolicyKind::Credentials
    }

    fn apply(&self, bytes: &[u8]) -> Result<u64, String> {
        self.reload_from_bytes(bytes)
            .map(|r| r.generation())
            .map_err(|e| e.to_string())
    }
}

impl PolicyTarget for Reloadable<Mapper> {
    fn kind(&self) -> PolicyKind {
        PolicyKind::TlsRules
    }

    fn apply(&self, bytes: &[u8]) -> Result<u64, String> {
        let src = utf8(bytes)?;
        self.try_reload(|_| Mapper::from_json(src))
            .map_err(|e| e.to_string())
    }
}

impl<T: PolicyTarget + ?Sized> PolicyTarget for std::sync::Arc<T> {
    fn kind(&self) -> PolicyKind {
        (**self).kind()
    }

    fn apply(&self, bytes: &[u8]) -> Result<u64, String> {
        (**self).apply(bytes)
    }
}
