//! The strict JSON reader every policy and credential parser sits on:
//! arbitrary bytes never panic, and it agrees with serde_json except where it
//! is stricter by design (nesting over 32) or keeps numbers as text (serde_json
//! refuses numbers beyond f64's range, such as `6E6626`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = mesos_auth::internal::json_parse(data);
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    match (&ours, &theirs) {
        (Ok(()), Err(e)) => assert!(
            e.to_string().contains("number out of range"),
            "accepted what serde_json refuses: {e}"
        ),
        (Err(why), Ok(_)) => assert!(
            why.contains("nesting deeper than"),
            "refused what serde_json accepts: {why}"
        ),
        _ => {}
    }
});
