//! Fuzzer findings for the tls component (tests/regressions/tls_*), replayed
//! with the fuzz targets' own checks.

use mesos_auth::tls::Mapper;

#[test]
fn tls_rules_findings_stay_fixed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("tls_rules-") {
            continue;
        }
        seen += 1;
        let data = std::fs::read(&path).unwrap();
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        if let Err(e) = Mapper::from_json(text) {
            for p in e.problems() {
                assert!(p.span().end <= data.len(), "{name}: {p} outside the text");
                assert!(p.location().line >= 1 && p.location().column >= 1);
            }
        }
    }
    assert!(seen >= 1);
}
