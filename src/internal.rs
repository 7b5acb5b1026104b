//! Hooks for fuzz targets and benchmarks. Not part of the public API: no
//! semver promise, may change in any release.

/// Parses `src` with the crate's strict JSON reader. For the fuzzers: it must
/// never panic. The error is the reader's message.
///
/// # Errors
///
/// The reader's message when `src` is refused.
pub fn json_parse(src: &[u8]) -> Result<(), String> {
    crate::json::from_utf8(src)
        .and_then(|s| crate::json::parse(s, crate::json::Options::default()))
        .map(drop)
        .map_err(|e| e.to_string())
}
