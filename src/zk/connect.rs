//! How to reach ZooKeeper: TLS (rustls, the operator's CA and client
//! certificate) and SASL DIGEST-MD5 or (feature `gssapi`) GSSAPI.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;
use zookeeper_client as zkc;

use super::error::ZkError;
#[cfg(feature = "gssapi")]
use super::gssapi::SaslGssapi;
use super::url::ZkUrl;

/// TLS to ZooKeeper's secure client port: the CA that signed the servers'
/// certificates and, optionally, our client certificate and key (PEM).
/// The server's name is verified against its certificate.
#[derive(Clone)]
pub struct TlsSettings {
    ca_pem: String,
    identity: Option<(String, Zeroizing<String>)>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("client_certificate", &self.identity.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsSettings {
    /// Trusts the CA certificates in `ca_pem`.
    pub fn new(ca_pem: impl Into<String>) -> Self {
        Self {
            ca_pem: ca_pem.into(),
            identity: None,
        }
    }

    /// Reads the CA file (PEM).
    ///
    /// # Errors
    ///
    /// [`ZkError::Config`] if the file cannot be read.
    pub fn from_ca_file(path: &Path) -> Result<Self, ZkError> {
        Ok(Self::new(read_text(path, "--tls-ca")?))
    }

    /// Presents `cert_pem` (with its chain) signed for `key_pem`.
    #[must_use]
    pub fn identity(mut self, cert_pem: impl Into<String>, key_pem: impl Into<String>) -> Self {
        self.identity = Some((cert_pem.into(), Zeroizing::new(key_pem.into())));
        self
    }

    /// Reads the client certificate and key files (PEM).
    ///
    /// # Errors
    ///
    /// [`ZkError::Config`] if a file cannot be read.
    pub fn identity_files(self, cert: &Path, key: &Path) -> Result<Self, ZkError> {
        let cert = read_text(cert, "--tls-cert")?;
        let key = Zeroizing::new(read_text(key, "--tls-key")?);
        Ok(self.identity(cert, key.as_str()))
    }

    fn to_client(&self) -> Result<zkc::TlsOptions, ZkError> {
        let bad = |what: &str, e: zkc::Error| ZkError::Config {
            what: what.to_owned(),
            reason: e.to_string(),
        };
        let mut tls = zkc::TlsOptions::new()
            .with_pem_ca(&self.ca_pem)
            .map_err(|e| bad("CA certificates", e))?;
        if let Some((cert, key)) = &self.identity {
            tls = tls
                .with_pem_identity(cert, key)
                .map_err(|e| bad("client certificate and key", e))?;
        }
        Ok(tls)
    }
}

impl TlsSettings {
    /// One blocking TLS handshake to `host:port` with these settings (and
    /// one read, where TLS 1.3 servers report a refused client
    /// certificate): the handshake's error, if any.
    fn probe(&self, host: &str, port: u16, timeout: Duration) -> Option<String> {
        use std::io::Read;
        use std::net::{TcpStream, ToSocketAddrs};

        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()).flatten() {
            roots.add(cert).ok()?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(roots);
        let config = match &self.identity {
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .ok()?;
                let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).ok()?;
                builder.with_client_auth_cert(chain, key).ok()?
            }
            None => builder.with_no_client_auth(),
        };
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
            .ok()?
            .to_owned();
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
        let addr = (host.trim_start_matches('[').trim_end_matches(']'), port)
            .to_socket_addrs()
            .ok()?
            .next()?;
        let mut tcp = TcpStream::connect_timeout(&addr, timeout).ok()?;
        tcp.set_read_timeout(Some(timeout)).ok()?;
        tcp.set_write_timeout(Some(timeout)).ok()?;
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut tcp) {
                return Some(e.to_string());
            }
        }
        // ZooKeeper speaks only after our connect request; a refusal of our
        // certificate arrives as an alert before that, or not at all.
        let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
        let mut byte = [0u8; 1];
        match stream.read(&mut byte) {
            Err(e)
                if e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut =>
            {
                Some(e.to_string())
            }
            _ => None,
        }
    }
}

/// SASL DIGEST-MD5 credentials for ZooKeeper (its `Server` JAAS section).
#[derive(Clone)]
pub struct SaslDigest {
    user: String,
    password: Zeroizing<String>,
}

impl fmt::Debug for SaslDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslDigest")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl SaslDigest {
    /// `user` with `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: Zeroizing::new(password.into()),
        }
    }

    /// `user` with the password in the first line of `path`.
    ///
    /// # Errors
    ///
    /// [`ZkError::Config`] if the file cannot be read or is empty.
    pub fn from_password_file(user: impl Into<String>, path: &Path) -> Result<Self, ZkError> {
        let text = Zeroizing::new(read_text(path, "--sasl-password-file")?);
        let line = text.lines().next().unwrap_or("");
        if line.is_empty() {
            return Err(ZkError::Config {
                what: format!("--sasl-password-file `{}`", path.display()),
                reason: "the first line is empty".to_owned(),
            });
        }
        Ok(Self::new(user, line))
    }

    /// The SASL user name.
    pub fn user(&self) -> &str {
        &self.user
    }
}

/// How to connect: plaintext by default, TLS and SASL on request.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    tls: Option<TlsSettings>,
    sasl: Option<SaslDigest>,
    #[cfg(feature = "gssapi")]
    gssapi: Option<SaslGssapi>,
    digest: Option<SaslDigest>,
    session_timeout: Duration,
    connection_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectOptions {
    /// Plaintext, unauthenticated; session timeout 10 s, connection
    /// timeout 2 s.
    pub fn new() -> Self {
        Self {
            tls: None,
            sasl: None,
            #[cfg(feature = "gssapi")]
            gssapi: None,
            digest: None,
            session_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(2),
        }
    }

    /// Connects with TLS.
    #[must_use]
    pub fn tls(mut self, tls: TlsSettings) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Authenticates with SASL DIGEST-MD5 (replacing GSSAPI, if set).
    #[must_use]
    pub fn sasl(mut self, sasl: SaslDigest) -> Self {
        self.sasl = Some(sasl);
        #[cfg(feature = "gssapi")]
        {
            self.gssapi = None;
        }
        self
    }

    /// Authenticates with SASL GSSAPI (Kerberos V5), replacing DIGEST-MD5
    /// if set: a session has one SASL identity. Before connecting, the
    /// credentials are checked and a ticket for ZooKeeper's principal is
    /// obtained, so a wrong keytab, an unknown principal or an unreachable
    /// KDC is reported by name; after, ZooKeeper must show the session as
    /// the principal.
    #[cfg(feature = "gssapi")]
    #[must_use]
    pub fn sasl_gssapi(mut self, gssapi: SaslGssapi) -> Self {
        self.gssapi = Some(gssapi);
        self.sasl = None;
        self
    }

    /// Authenticates with ZooKeeper's `digest` scheme (`addauth digest
    /// user:password`, what Mesos's `zk://user:password@...` does), for
    /// example as the server's `superDigest` user for `zk audit`.
    #[must_use]
    pub fn digest(mut self, user_password: SaslDigest) -> Self {
        self.digest = Some(user_password);
        self
    }

    /// The ZooKeeper session timeout (the server may clamp it).
    #[must_use]
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// How long one connection attempt to one server may take.
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Whether the session will be authenticated (SASL, digest or a TLS
    /// client certificate), which `creator`-only znode ACLs need.
    pub fn is_authenticated(&self) -> bool {
        self.sasl.is_some()
            || self.has_gssapi()
            || self.digest.is_some()
            || self.tls.as_ref().is_some_and(|t| t.identity.is_some())
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The SASL user (DIGEST-MD5) or Kerberos principal (GSSAPI), if any.
    pub fn sasl_user(&self) -> Option<&str> {
        #[cfg(feature = "gssapi")]
        if let Some(gssapi) = &self.gssapi {
            return Some(gssapi.principal());
        }
        self.sasl.as_ref().map(SaslDigest::user)
    }

    fn has_gssapi(&self) -> bool {
        #[cfg(feature = "gssapi")]
        return self.gssapi.is_some();
        #[cfg(not(feature = "gssapi"))]
        false
    }

    /// Opens a session to `url`'s servers. Must run inside a tokio
    /// runtime (the client's I/O task is spawned on it).
    pub(crate) async fn connect(&self, url: &ZkUrl) -> Result<zkc::Client, ZkError> {
        let servers = url.connect_string();
        let mut connector = zkc::Client::connector()
            .with_session_timeout(self.session_timeout)
            .with_connection_timeout(self.connection_timeout)
            // One pass over the servers, then an error: the caller decides
            // whether and when to retry.
            .with_fail_eagerly();
        if let Some(sasl) = &self.sasl {
            // The client keeps its own copy for re-authentication on
            // reconnect; ours is wiped when the options drop.
            connector = connector.with_sasl(zkc::SaslOptions::digest_md5(
                sasl.user.clone(),
                sasl.password.to_string(),
            ));
        }
        #[cfg(feature = "gssapi")]
        if let Some(gssapi) = &self.gssapi {
            let host = url.hosts().first().map_or("", |(h, _)| h.as_str());
            // Blocking (it may ask the KDC for a ticket), so off the
            // runtime's thread.
            let check = gssapi.clone();
            let (host, all) = (host.to_owned(), servers.clone());
            tokio::task::spawn_blocking(move || check.preflight(&host, &all))
                .await
                .map_err(|e| ZkError::Runtime {
                    reason: e.to_string(),
                })??;
            connector = connector.with_sasl(gssapi.to_client());
        }
        if let Some(digest) = &self.digest {
            let auth = Zeroizing::new(format!("{}:{}", digest.user, digest.password.as_str()));
            connector = connector.with_auth("digest", auth.as_bytes());
        }
        let result = match &self.tls {
            Some(tls) => {
                install_crypto_provider();
                connector
                    .with_tls(tls.to_client()?)
                    .secure_connect(&servers)
                    .await
            }
            None => connector.connect(&servers).await,
        };
        let client = result.map_err(|e| {
            let mut reason = describe(&e);
            // The client does not say why a TLS session failed: one
            // handshake of our own with the same settings usually can.
            if let (Some(tls), zkc::Error::NoHosts, Some((host, port))) =
                (&self.tls, &e, url.hosts().first())
                && let Some(why) = tls.probe(host, *port, self.connection_timeout)
            {
                reason = format!("TLS handshake with {host}:{port} failed: {why}");
            }
            ZkError::Connect { servers, reason }
        })?;
        #[cfg(feature = "gssapi")]
        if let Some(gssapi) = &self.gssapi {
            self.check_gssapi_session(&client, gssapi, url).await?;
        }
        Ok(client)
    }

    /// ZooKeeper's `whoami` must list the principal under `sasl`: a server
    /// without the SASL provider accepts the session unauthenticated.
    #[cfg(feature = "gssapi")]
    async fn check_gssapi_session(
        &self,
        client: &zkc::Client,
        gssapi: &SaslGssapi,
        url: &ZkUrl,
    ) -> Result<(), ZkError> {
        let servers = url.connect_string();
        let users = client
            .list_auth_users()
            .await
            .map_err(|e| ZkError::Connect {
                servers: servers.clone(),
                reason: format!("asking ZooKeeper who this session is: {}", describe(&e)),
            })?;
        if gssapi.is_authenticated_in(&users) {
            return Ok(());
        }
        let seen: Vec<String> = users
            .iter()
            .map(|u| format!("{}:{}", u.scheme(), u.user()))
            .collect();
        Err(ZkError::Connect {
            servers,
            reason: format!(
                "authentication failed: ZooKeeper does not show the session as SASL principal `{}` (it shows [{}]; is its SASL authentication provider configured?)",
                gssapi.principal(),
                seen.join(", ")
            ),
        })
    }
}

/// The client builds its rustls config from the process default provider;
/// with more than one provider compiled in, rustls cannot pick one itself.
/// Installing aws-lc-rs (the client's own) is a no-op if the host already
/// installed one.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn describe(e: &zkc::Error) -> String {
    match e {
        zkc::Error::AuthFailed => "authentication failed (SASL credentials refused)".to_owned(),
        zkc::Error::NoHosts => "no server accepted a session (connection refused, TLS handshake refused, server not serving yet, or timed out)".to_owned(),
        other => other.to_string(),
    }
}

fn read_text(path: &Path, what: &str) -> Result<String, ZkError> {
    std::fs::read_to_string(path).map_err(|e| ZkError::Config {
        what: format!("{what} `{}`", path.display()),
        reason: e.kind().to_string(),
    })
}
