//! Hooks for fuzz targets and benchmarks. Not part of the public API: no
//! semver promise, may change in any release.

/// Parses `src` as JSON with the crate's strict reader, returning whether it
/// was accepted. For the fuzzers: it must never panic.
pub fn json_accepts(src: &[u8]) -> bool {
    crate::json::from_utf8(src)
        .and_then(|s| crate::json::parse(s, crate::json::Options::default()))
        .is_ok()
}

/// Parses and compiles a TLS rule file. For the `tls_rules` fuzzer: it
/// must never panic; `None` when the bytes are not UTF-8, else the number of
/// rules or the errors (whose spans the fuzzer checks lie inside the text).
pub fn tls_rules_compile(src: &[u8]) -> Option<Result<usize, crate::tls::RulesError>> {
    let text = std::str::from_utf8(src).ok()?;
    Some(crate::tls::Mapper::from_json(text).map(|m| m.len()))
}

/// Maps arbitrary bytes as if they were a verified leaf, with `rules`.
/// For the `tls_mapper` fuzzer: never panics; a success is a valid principal.
pub fn tls_map_der(mapper: &crate::tls::Mapper, der: &[u8]) -> Option<crate::Principal> {
    let leaf = crate::tls::VerifiedLeaf::from_der_verified_elsewhere(
        rustls_pki_types::CertificateDer::from(der.to_vec()),
    );
    mapper.map(&leaf).ok()
}
