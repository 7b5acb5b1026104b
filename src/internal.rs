//! Hooks for fuzz targets and benchmarks. Not part of the public API: no
//! semver promise, may change in any release.

/// Parses `src` as JSON with the crate's strict reader, returning whether it
/// was accepted. For the fuzzers: it must never panic.
pub fn json_accepts(src: &[u8]) -> bool {
    crate::json::from_utf8(src)
        .and_then(|s| crate::json::parse(s, crate::json::Options::default()))
        .is_ok()
}
