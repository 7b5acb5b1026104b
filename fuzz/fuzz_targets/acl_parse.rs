//! ACL parsing: arbitrary bytes never panic, in strict or lenient mode; what
//! parses either compiles or fails with a limit error, and what compiles
//! answers a few requests (built from the input) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_auth::acl::{self, Action, Compiler, Object, Options, Request};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for lenient in [false, true] {
        match acl::parse_with(text, Options::new().lenient(lenient)) {
            Ok(src) => {
                let Ok(compiled) = Compiler::new().compile(&src) else {
                    continue;
                };
                let _ = acl::lint(&src, &compiled);
                // Probe with every value the policy names, as principal and object.
                for a in src.iter().take(8) {
                    let action = Action::ALL
                        .iter()
                        .copied()
                        .find(|x| x.list() == a.list())
                        .unwrap_or(Action::RunTasks);
                    let values: Vec<&str> = [a.principals(), a.object()]
                        .into_iter()
                        .filter_map(|e| match e {
                            acl::Entity::Some(v) => Some(v.iter().map(|v| v.as_str())),
                            _ => None,
                        })
                        .flatten()
                        .take(4)
                        .collect();
                    for p in values.iter().map(|p| Some(*p)).chain([None]) {
                        for o in &values {
                            let req = Request::new(action, p, Object::One(o));
                            assert_eq!(
                                compiled.authorize(&req),
                                acl::reference::authorize(&src, &req)
                            );
                        }
                    }
                }
            }
            Err(e) => {
                // Errors are errors: at least one diagnostic, each with a path.
                let d = e.diagnostics();
                assert!(!d.is_empty());
                assert!(d.iter().all(|d| d.path().starts_with('$')));
            }
        }
    }
});
