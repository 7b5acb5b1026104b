//! SASL GSSAPI (Kerberos V5) to ZooKeeper (features `zk` and `gssapi`).
//!
//! The exchange itself is the ZooKeeper client's own (its `sasl-gssapi`
//! feature: rsasl's GSSAPI mechanism over `libgssapi` 0.7, which links the
//! same `libgssapi-sys` 0.3 as our `libgssapi` 0.11, so one system library
//! serves both). What this module adds is what that mechanism leaves out:
//! it always uses the process's default Kerberos credentials and reports a
//! failure only as "connection failed". So before connecting we check that
//! the credentials MIT Kerberos will pick are the configured principal's,
//! from the configured keytab or cache, and get the service ticket once
//! ourselves, which names what failed (unknown principal, wrong key, no
//! KDC) on one line; after connecting, ZooKeeper's `whoami` must show the
//! session as that principal.

use std::fmt;
use std::path::{Path, PathBuf};

use libgssapi::context::{ClientCtx, CtxFlags};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE, GSS_NT_KRB5_PRINCIPAL, OidSet};
use zookeeper_client as zkc;

use super::error::ZkError;

/// ZooKeeper's default service name (the Java client's
/// `zookeeper.sasl.client.username`).
pub const DEFAULT_SERVICE: &str = "zookeeper";

/// Where the client principal's Kerberos credentials are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A client keytab: MIT Kerberos gets (and renews) tickets itself.
    Keytab(PathBuf),
    /// A credentials cache someone else (`kinit`) keeps fresh.
    Ccache(PathBuf),
}

/// SASL GSSAPI credentials for ZooKeeper: a client principal, its keytab
/// or ticket cache, and the server's service principal
/// (`<service>/<host>@REALM`, service `zookeeper` by default).
///
/// MIT Kerberos takes the client keytab and the cache from the process
/// environment (`KRB5_CLIENT_KTNAME`, `KRB5CCNAME`), which a library must
/// not change under its host's other threads; the host sets them before it
/// starts, and [`ConnectOptions::sasl_gssapi`](super::ConnectOptions::sasl_gssapi)
/// refuses to connect when they name another file than the one configured
/// here, rather than silently authenticating with other credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslGssapi {
    principal: String,
    source: Source,
    service: String,
    host: Option<String>,
}

impl fmt::Debug for SaslGssapi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslGssapi")
            .field("principal", &self.principal)
            .field("source", &self.source)
            .field("service", &self.service)
            .field("host", &self.host)
            .finish()
    }
}

impl SaslGssapi {
    /// `principal` (`mesos-master@EXAMPLE.ORG`) with its keys in the
    /// client keytab `keytab` (named by `KRB5_CLIENT_KTNAME` too).
    pub fn with_keytab(principal: impl Into<String>, keytab: impl Into<PathBuf>) -> Self {
        Self::new(principal.into(), Source::Keytab(keytab.into()))
    }

    /// `principal` with its tickets in the cache `ccache` (named by
    /// `KRB5CCNAME` too).
    pub fn with_ccache(principal: impl Into<String>, ccache: impl Into<PathBuf>) -> Self {
        Self::new(principal.into(), Source::Ccache(ccache.into()))
    }

    fn new(principal: String, source: Source) -> Self {
        Self {
            principal,
            source,
            service: DEFAULT_SERVICE.to_owned(),
            host: None,
        }
    }

    /// The service name of ZooKeeper's principal (default `zookeeper`).
    #[must_use]
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// The host part of ZooKeeper's principal. By default, the host of
    /// the server being connected to, as written in the URL (the client
    /// does not canonicalize it: `127.0.0.1` asks for
    /// `zookeeper/127.0.0.1@REALM` unless MIT Kerberos's own
    /// `dns_canonicalize_hostname` rewrites it).
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The client principal.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    pub(crate) fn to_client(&self) -> zkc::SaslOptions {
        let options = zkc::SaslOptions::gssapi().with_username(self.service.clone());
        match &self.host {
            Some(host) => options.with_hostname(host.clone()).into(),
            None => options.into(),
        }
    }

    /// Everything that can be checked before a connection: the settings
    /// agree with MIT Kerberos's environment, the credentials are the
    /// principal's, and the KDC issues a ticket for ZooKeeper's principal
    /// on `server_host`. Blocking (it may talk to the KDC).
    pub(crate) fn preflight(&self, server_host: &str, servers: &str) -> Result<(), ZkError> {
        self.check_environment(
            std::env::var_os("KRB5_CLIENT_KTNAME").as_deref(),
            std::env::var_os("KRB5CCNAME").as_deref(),
        )?;
        let host = self.host.as_deref().unwrap_or(server_host);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let target = format!("{}@{host}", self.service);
        let refused = |what: &str, e: libgssapi::error::Error| ZkError::Connect {
            servers: servers.to_owned(),
            reason: format!(
                "Kerberos authentication as `{}` to `{target}` failed: {what}: {}",
                self.principal,
                // GSSAPI's text names principals and codes, never a key.
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        let mechs = krb5_only().map_err(|e| refused("mechanism set", e))?;
        let name = Name::new(self.principal.as_bytes(), Some(GSS_NT_KRB5_PRINCIPAL))
            .map_err(|e| refused("importing the client principal", e))?;
        let wanted = Cred::acquire(Some(&name), None, CredUsage::Initiate, Some(&mechs))
            .map_err(|e| refused("acquiring its credentials", e))?;
        // The client's mechanism acquires the *default* credentials, so
        // they must be this principal's, not merely exist.
        let default = Cred::acquire(None, None, CredUsage::Initiate, Some(&mechs))
            .map_err(|e| refused("acquiring the default credentials", e))?;
        let (wanted_name, default_name) = (cred_name(&wanted), cred_name(&default));
        if wanted_name != default_name {
            return Err(ZkError::Config {
                what: format!("Kerberos principal `{}`", self.principal),
                reason: format!(
                    "the process's default Kerberos credentials are `{}`, which the ZooKeeper client would use instead; point KRB5CCNAME at a cache of `{}` (or at an empty one, with KRB5_CLIENT_KTNAME naming its keytab)",
                    default_name.as_deref().unwrap_or("?"),
                    wanted_name.as_deref().unwrap_or(&self.principal),
                ),
            });
        }
        // One context establishment: the KDC is reached, the client's key
        // and ZooKeeper's principal checked, the ticket cached for the
        // client's own exchange.
        let service = Name::new(target.as_bytes(), Some(GSS_NT_HOSTBASED_SERVICE))
            .map_err(|e| refused("importing the service name", e))?;
        let mut ctx = ClientCtx::new(
            Some(wanted),
            service,
            CtxFlags::GSS_C_MUTUAL_FLAG,
            Some(GSS_MECH_KRB5),
        );
        ctx.step(None, None)
            .map_err(|e| refused("getting a ticket for ZooKeeper", e))?;
        Ok(())
    }

    /// The configured keytab or cache must be the one MIT Kerberos reads
    /// (`ktname`: `KRB5_CLIENT_KTNAME`, `ccname`: `KRB5CCNAME`).
    fn check_environment(
        &self,
        ktname: Option<&std::ffi::OsStr>,
        ccname: Option<&std::ffi::OsStr>,
    ) -> Result<(), ZkError> {
        let (what, path, var, value) = match &self.source {
            Source::Keytab(path) => ("keytab", path, "KRB5_CLIENT_KTNAME", ktname),
            Source::Ccache(path) => ("credentials cache", path, "KRB5CCNAME", ccname),
        };
        let setting = format!("Kerberos {what} `{}`", path.display());
        if let Err(e) = std::fs::metadata(path) {
            return Err(ZkError::Config {
                what: setting,
                reason: e.kind().to_string(),
            });
        }
        let named = value.map(|v| strip_file_prefix(Path::new(v)));
        if named.as_deref() != Some(path.as_path()) {
            return Err(ZkError::Config {
                what: setting,
                reason: match named {
                    Some(other) => format!(
                        "MIT Kerberos reads the {what} from {var}, which names `{}`; set {var}={} in the process's environment",
                        other.display(),
                        path.display()
                    ),
                    None => format!(
                        "MIT Kerberos reads the {what} from {var}, which is not set; set {var}={} in the process's environment",
                        path.display()
                    ),
                },
            });
        }
        Ok(())
    }

    /// Whether ZooKeeper's `whoami` answer shows this principal
    /// authenticated by SASL (ZooKeeper keeps the full Kerberos name
    /// unless told to drop host or realm, so a match on the name before
    /// the realm counts too).
    pub(crate) fn is_authenticated_in(&self, users: &[zkc::AuthUser]) -> bool {
        users.iter().any(|u| {
            let user = u.user();
            u.scheme() == "sasl"
                && (user == self.principal
                    || user.split('@').next() == Some(self.principal.as_str())
                    || self.principal.split('@').next() == Some(user))
        })
    }
}

/// MIT's `FILE:`/`WRFILE:` prefixes name the same file.
fn strip_file_prefix(value: &Path) -> PathBuf {
    let text = value.to_string_lossy();
    for prefix in ["FILE:", "WRFILE:"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return PathBuf::from(rest);
        }
    }
    value.to_path_buf()
}

fn cred_name(cred: &Cred) -> Option<String> {
    cred.name().ok().map(|n| n.to_string())
}

fn krb5_only() -> Result<OidSet, libgssapi::error::Error> {
    let mut set = OidSet::new();
    set.add(GSS_MECH_KRB5)?;
    Ok(set)
}

#[cfg(test)]
mod test;
