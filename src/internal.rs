//! Hooks for fuzz targets and benchmarks. Not part of the public API: no
//! semver promise, may change in any release.

/// Parses `src` as JSON with the crate's strict reader, returning whether it
/// was accepted. For the fuzzers: it must never panic.
pub fn json_accepts(src: &[u8]) -> bool {
    crate::json::from_utf8(src)
        .and_then(|s| crate::json::parse(s, crate::json::Options::default()))
        .is_ok()
}

/// Parses and compiles a TLS rule file, returning whether it was accepted.
/// For the `tls_rules` fuzzer: never panics, and every error names a place.
pub fn tls_rules_accept(src: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(src) else {
        return false;
    };
    match crate::tls::Mapper::from_json(text) {
        Ok(_) => true,
        Err(e) => {
            // Errors must locate themselves inside the text.
            for p in e.problems() {
                assert!(p.span().start <= text.len(), "span outside the text");
                assert!(p.location().line >= 1, "line numbers start at 1");
            }
            false
        }
    }
}

/// Maps arbitrary bytes as if they were a verified leaf, with `rules`.
/// For the `tls_mapper` fuzzer: never panics; a success is a valid principal.
pub fn tls_map_der(mapper: &crate::tls::Mapper, der: &[u8]) -> Option<crate::Principal> {
    let leaf = crate::tls::VerifiedLeaf::from_der_verified_elsewhere(
        rustls_pki_types::CertificateDer::from(der.to_vec()),
    );
    mapper.map(&leaf).ok()
}
