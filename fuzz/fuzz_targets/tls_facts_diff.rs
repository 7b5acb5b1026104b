//! Arbitrary DER as a leaf certificate, read by the crate's own DER reader
//! (the mapping path) and by x509-parser (the oracle it replaced): neither
//! panics, and whenever both accept, the facts are identical.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = mesos_auth::internal::tls_facts_diff(data) {
        panic!("the DER reader and x509-parser disagree: {e}");
    }
});
