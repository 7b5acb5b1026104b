//! Hooks for fuzz targets and benchmarks. Not part of the public API: no
//! semver promise, may change in any release.

/// Parses `src` as JSON with the crate's strict reader, returning whether it
/// was accepted. For the fuzzers: it must never panic.
pub fn json_accepts(src: &[u8]) -> bool {
    crate::json::from_utf8(src)
        .and_then(|s| crate::json::parse(s, crate::json::Options::default()))
        .is_ok()
}

/// HMAC-MD5 of `challenge` under `principal`'s CRAM-MD5 key (the dummy key
/// for unknown principals) and whether the principal is known: what a
/// CRAM-MD5 server computes, for tests and benchmarks outside the crate.
pub fn credentials_cram_md5(
    store: &crate::credentials::CredentialStore,
    principal: &str,
    challenge: &[u8],
) -> ([u8; 16], bool) {
    let key = store.cram_md5_key(principal);
    (key.mac(challenge), key.known())
}

/// Parses `src` as a credentials file (text or JSON, strict or lenient) and
/// builds the store, returning whether it was accepted. For the fuzzers: it
/// must never panic.
pub fn credentials_accepts(src: &[u8], json: bool, lenient: bool) -> bool {
    use crate::credentials::{Format, Options, parse};
    let format = if json { Format::Json } else { Format::Text };
    let options = Options::new().format(format).lenient(lenient);
    parse(src, &options).and_then(|f| f.into_store()).is_ok()
}

/// Parses `src` strictly (format detected); if accepted, writes the
/// credentials as JSON and reads them back, asserting nothing was lost. For
/// the fuzzers: panics only on a real round-trip bug.
pub fn credentials_round_trip(src: &[u8]) {
    use crate::credentials::{Options, parse, to_json};
    let Ok(file) = parse(src, &Options::new()) else {
        return;
    };
    let Ok(json) = to_json(file.credentials()) else {
        return;
    };
    let back = parse(json.as_bytes(), &Options::new());
    let same = back.as_ref().is_ok_and(|b| {
        b.entries().len() == file.entries().len()
            && b.credentials().zip(file.credentials()).all(|(x, y)| {
                x.principal() == y.principal()
                    && crate::credentials::same_secret(x.secret(), y.secret())
            })
    });
    #[expect(
        clippy::panic,
        reason = "fuzz oracle: a lost credential is the bug being hunted"
    )]
    if !same {
        panic!("credentials changed in a JSON round trip");
    }
}
