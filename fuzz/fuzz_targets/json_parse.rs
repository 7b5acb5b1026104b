//! The strict JSON reader every policy and credential parser sits on:
//! arbitrary bytes never panic, and whatever serde_json refuses we refuse too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = mesos_auth::internal::json_accepts(data);
    // serde_json is more lenient (no depth limit of 32, accepts nothing we
    // refuse otherwise), so anything we accept it must accept too.
    if ours {
        assert!(serde_json::from_slice::<serde_json::Value>(data).is_ok());
    }
});
