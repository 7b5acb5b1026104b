//! Deterministic big files for the load benchmark and the heap example:
//! ACL policies in the shapes Mesos clusters write (one ACL a line, the
//! lists a master configures, SOME/ANY/NONE entities, role subtrees) and
//! credential files in both formats.

use std::fmt::Write as _;

/// An ACL policy of `n` ACLs, about 88 bytes each: half `run_tasks`, a fifth
/// `register_frameworks` (a role and its subtree), and the rest spread over
/// `reserve_resources`, `teardown_frameworks` and `view_frameworks`, with an
/// ANY or NONE entity every few ACLs.
pub(crate) fn acl_json(n: usize) -> String {
    let lists: [(&str, &str, usize); 5] = [
        ("run_tasks", "users", n / 2),
        ("register_frameworks", "roles", n / 5),
        ("reserve_resources", "roles", n / 10),
        ("teardown_frameworks", "framework_principals", n / 10),
        ("view_frameworks", "users", n - n / 2 - n / 5 - 2 * (n / 10)),
    ];
    let mut s = String::with_capacity(n * 96 + 256);
    s.push_str("{\n  \"permissive\": false");
    let mut id = 0usize;
    for (key, field, count) in lists {
        let _ = write!(s, ",\n  \"{key}\": [");
        for i in 0..count {
            s.push_str(if i == 0 { "\n    " } else { ",\n    " });
            let principals = if id % 17 == 16 {
                "{\"type\": \"ANY\"}".to_owned()
            } else {
                format!("{{\"values\": [\"fw-{id:07}\"]}}")
            };
            let object = match (field, id % 13) {
                (_, 12) => "{\"type\": \"NONE\"}".to_owned(),
                (_, 11) => "{\"type\": \"ANY\"}".to_owned(),
                ("roles", _) => {
                    let team = id % 5000;
                    format!("{{\"values\": [\"team-{team:04}\", \"team-{team:04}/%\"]}}")
                }
                _ => format!("{{\"values\": [\"svc-{:06}\"]}}", id % 200_000),
            };
            let _ = write!(s, "{{\"principals\": {principals}, \"{field}\": {object}}}");
            id += 1;
        }
        s.push_str("\n  ]");
    }
    s.push_str("\n}\n");
    s
}

/// `n` credentials in the text format (`principal secret` a line).
pub(crate) fn credentials_text(n: usize) -> String {
    let mut s = String::with_capacity(n * 42);
    for i in 0..n {
        let _ = writeln!(s, "principal-{i:07} secret-value-{i:08}-xyz");
    }
    s
}

/// `n` credentials in the JSON format Mesos reads.
pub(crate) fn credentials_json(n: usize) -> String {
    let mut s = String::with_capacity(n * 80 + 32);
    s.push_str("{\n  \"credentials\": [");
    for i in 0..n {
        s.push_str(if i == 0 { "\n    " } else { ",\n    " });
        let _ = write!(
            s,
            "{{\"principal\": \"principal-{i:07}\", \"secret\": \"secret-value-{i:08}-xyz\"}}"
        );
    }
    s.push_str("\n  ]\n}\n");
    s
}
