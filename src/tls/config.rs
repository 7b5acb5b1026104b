//! rustls 0.23 server configurations that verify client certificates
//! against a PEM CA bundle (tls-identity.md §1.1, §8).

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, ServerConfig, WebPkiClientVerifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::error::TlsMapError;
use super::mapper::read_limited;

/// Largest PEM file read.
const MAX_PEM_FILE_LEN: u64 = 4 << 20;

/// Whether a client must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// The handshake fails without a verified client certificate.
    Required,
    /// A client may connect without a certificate; it then has no TLS
    /// identity ([`TlsIdentity::None`](super::TlsIdentity::None)) and
    /// CRAM-MD5 decides. A certificate that is sent is still verified.
    Optional,
}

/// Reads every certificate in a PEM text.
///
/// # Errors
///
/// [`TlsMapError::Pem`] if a block does not parse or there is none.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsMapError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsMapError::Pem {
            what: "certificates",
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsMapError::Pem {
            what: "certificates",
            message: "no CERTIFICATE block found".to_owned(),
        });
    }
    Ok(certs)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) in a PEM text.
///
/// # Errors
///
/// [`TlsMapError::Pem`] if there is no key or it does not parse.
pub fn private_key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsMapError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsMapError::Pem {
        what: "private key",
        message: e.to_string(),
    })
}

/// Reads a PEM file of at most 4 MiB.
///
/// # Errors
///
/// [`TlsMapError::Read`] or [`TlsMapError::TooLarge`].
pub fn read_pem_file(path: impl AsRef<Path>) -> Result<Vec<u8>, TlsMapError> {
    read_limited(path.as_ref(), MAX_PEM_FILE_LEN)
}

/// A client-certificate verifier trusting the CA certificates of
/// `ca_bundle_pem`, built with the caller's crypto provider.
///
/// It checks chain, validity dates and the clientAuth EKU (webpki).
///
/// # Errors
///
/// [`TlsMapError::Pem`] for a bad bundle, [`TlsMapError::Config`] if a CA
/// certificate is not a usable trust anchor or rustls refuses.
pub fn client_verifier(
    provider: Arc<CryptoProvider>,
    ca_bundle_pem: &[u8],
    auth: ClientAuth,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsMapError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem(ca_bundle_pem)? {
        roots
            .add(cert)
            .map_err(|e| TlsMapError::Config(format!("CA certificate refused: {e}")))?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = match auth {
        ClientAuth::Required => builder,
        ClientAuth::Optional => builder.allow_unauthenticated(),
    };
    builder
        .build()
        .map_err(|e| TlsMapError::Config(e.to_string()))
}

/// A server configuration that verifies client certificates against
/// `ca_bundle_pem` and presents `cert_chain` / `key`.
///
/// Session resumption is turned off (no session cache, no tickets): a
/// resumed session would carry the identity verified under the old trust
/// store (threats.md TM-13), and a full handshake costs little next to a
/// Mesos connection's lifetime.
///
/// # Errors
///
/// As [`client_verifier`], and [`TlsMapError::Config`] if rustls refuses the
/// protocol versions, the certificate chain or the key.
pub fn server_config(
    provider: Arc<CryptoProvider>,
    ca_bundle_pem: &[u8],
    auth: ClientAuth,
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, TlsMapError> {
    let verifier = client_verifier(Arc::clone(&provider), ca_bundle_pem, auth)?;
    server_config_with_verifier(provider, verifier, cert_chain, key)
}

/// As [`server_config`], with a client-certificate verifier the caller
/// built, e.g. an [`EarlyRejectVerifier`](super::EarlyRejectVerifier)
/// around [`client_verifier`]. Session resumption is off here too.
///
/// # Errors
///
/// [`TlsMapError::Config`] if rustls refuses the protocol versions, the
/// certificate chain or the key.
pub fn server_config_with_verifier(
    provider: Arc<CryptoProvider>,
    verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, TlsMapError> {
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsMapError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(cert_chain, key)
        .map_err(|e| TlsMapError::Config(e.to_string()))?;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}
