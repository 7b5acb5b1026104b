//! Credential files: arbitrary bytes never panic, in the text and JSON
//! formats, strict and lenient; whatever strict mode accepts as JSON or
//! with the format detected, lenient (Mesos ≥ 1.11) mode accepts too, a
//! strict store survives a JSON round trip, and the JSON fast path answers
//! as the full reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Every combination runs on every input.
    let strict_json = mesos_auth::internal::credentials_accepts(data, true, false);
    let lenient_json = mesos_auth::internal::credentials_accepts(data, true, true);
    if strict_json {
        assert!(lenient_json, "lenient refused JSON that strict accepted");
    }
    // Format detected: strict never accepts what lenient (Mesos ≥ 1.11)
    // refuses; the text format is read only when asked for.
    if mesos_auth::internal::credentials_accepts_detected(data, false) {
        assert!(
            mesos_auth::internal::credentials_accepts_detected(data, true),
            "lenient refused a file strict accepted (format detected)"
        );
    }
    // Text: strict strips one CR per line where Mesos 1.10 (lenient) keeps
    // it, so neither accepts a superset of the other; both must not panic.
    let _ = mesos_auth::internal::credentials_accepts(data, false, false);
    let _ = mesos_auth::internal::credentials_accepts(data, false, true);
    mesos_auth::internal::credentials_round_trip(data);
    // The JSON fast path (no tree) must answer exactly as the full reader.
    for lenient in [false, true] {
        assert!(
            mesos_auth::internal::credentials_fast_path_agrees(data, lenient),
            "JSON fast path and full reader disagree (lenient: {lenient})"
        );
    }
});
