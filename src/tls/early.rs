//! Optional early rejection (tls-identity.md §7): a client-certificate
//! verifier that, after the chain checks pass, also runs the mapper and
//! fails the handshake with `access_denied` when the certificate maps to
//! no principal. Mapping after the handshake stays the primary path (it
//! yields the principal and allows the no-certificate fallback); this only
//! stops an unmappable client before any application data flows.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::UnixTime;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use rustls_pki_types::CertificateDer;

use crate::audit::AuditSink;

use super::ReloadableMapper;
use super::verified::VerifiedLeaf;

/// Wraps a chain verifier (from [`client_verifier`](super::client_verifier))
/// and refuses certificates the current rules reject. A rejection is
/// recorded in the audit sink; accepted certificates are recorded when the
/// connection is mapped after the handshake.
pub struct EarlyRejectVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    mapper: Arc<ReloadableMapper>,
    sink: Arc<dyn AuditSink>,
}

impl std::fmt::Debug for EarlyRejectVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EarlyRejectVerifier")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl EarlyRejectVerifier {
    /// A verifier that checks the chain with `inner`, then maps the leaf
    /// with whatever `mapper` serves at that moment.
    pub fn new(
        inner: Arc<dyn ClientCertVerifier>,
        mapper: Arc<ReloadableMapper>,
        sink: Arc<dyn AuditSink>,
    ) -> Self {
        Self {
            inner,
            mapper,
            sink,
        }
    }
}

impl ClientCertVerifier for EarlyRejectVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        // The chain is verified at this point, so this is the promise the
        // constructor's name asks for.
        let leaf = VerifiedLeaf::from_der_verified_elsewhere(end_entity.clone().into_owned());
        let mapper = self.mapper.snapshot();
        let (facts, result) = mapper.explain(&leaf);
        match result {
            Ok(_) => Ok(verified),
            Err(rejection) => {
                self.sink.record(&super::event::MappingEvent::new(
                    leaf.sha256(),
                    facts.as_ref(),
                    &Err(rejection),
                ));
                Err(Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
