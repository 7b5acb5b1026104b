//! The only ways into the mapper: a leaf rustls has verified, or DER the
//! caller says it verified itself (threats.md TM-1: map only the verified
//! end-entity certificate, never an intermediate).

use std::sync::OnceLock;

use rustls::server::ServerConnection;
use rustls_pki_types::CertificateDer;

use super::facts::sha256;

/// A client's end-entity certificate whose chain has been verified.
///
/// Build it with [`VerifiedLeaf::from_server_connection`] after a rustls
/// handshake; callers that verified the chain with another stack (the C FFI
/// under OpenSSL) use [`VerifiedLeaf::from_der_verified_elsewhere`], whose
/// name says what they promise. The SHA-256 of the DER, which identifies
/// the certificate in audit records, is computed on first use and kept:
/// a [`CachedMapper`](super::CachedMapper) hit needs none.
#[derive(Debug, Clone)]
pub struct VerifiedLeaf {
    der: CertificateDer<'static>,
    sha256: OnceLock<[u8; 32]>,
}

// Equality is the certificate's: the digest is a function of the DER,
// whether or not it has been computed yet.
impl PartialEq for VerifiedLeaf {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for VerifiedLeaf {}

impl VerifiedLeaf {
    /// The peer's leaf after a completed rustls handshake.
    ///
    /// `None` when the handshake is not finished or the client sent no
    /// certificate (a listener that allows unauthenticated clients): then no
    /// principal comes from TLS at all.
    pub fn from_server_connection(conn: &ServerConnection) -> Option<Self> {
        if conn.is_handshaking() {
            return None;
        }
        Self::from_peer_certificates(conn.peer_certificates()?)
    }

    /// The leaf of a chain as rustls returns it from `peer_certificates()`
    /// (leaf first) on a connection whose handshake completed. `None` for an
    /// empty chain.
    pub fn from_peer_certificates(chain: &[CertificateDer<'_>]) -> Option<Self> {
        let leaf = chain.first()?;
        Some(Self::from_der_verified_elsewhere(leaf.clone().into_owned()))
    }

    /// A leaf certificate whose chain the caller has verified by other
    /// means (trust anchors, validity, clientAuth). Passing an unverified
    /// certificate here maps an identity nobody vouched for.
    pub fn from_der_verified_elsewhere(der: CertificateDer<'static>) -> Self {
        Self {
            der,
            sha256: OnceLock::new(),
        }
    }

    /// The certificate's DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// SHA-256 of the DER (computed at the first call, then kept).
    pub fn sha256(&self) -> &[u8; 32] {
        self.sha256.get_or_init(|| sha256(self.der.as_ref()))
    }
}
