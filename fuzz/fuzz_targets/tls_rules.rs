//! TLS mapping rule files: arbitrary bytes never panic, a compiled rule
//! list is never empty, and every error points inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match mesos_auth::internal::tls_rules_compile(data) {
        None => {}
        Some(Ok(n)) => assert!((1..=mesos_auth::tls::MAX_RULES).contains(&n)),
        Some(Err(e)) => {
            assert!(!e.problems().is_empty());
            for p in e.problems() {
                assert!(p.span().start <= p.span().end && p.span().end <= data.len());
                assert!(p.location().line >= 1 && p.location().column >= 1);
                assert!(!p.message().is_empty());
            }
        }
    }
});
