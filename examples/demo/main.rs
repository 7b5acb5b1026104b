//! The end-to-end demo: `cargo run --release --example demo`.
//!
//! A master-side endpoint and four scheduler clients talk over loopback:
//! TLS with client certificates mapped to principals, CRAM-MD5 for clients
//! without one, failure throttling, ACL decisions naming their rule, and an
//! audit event for every outcome. The flow is in `flow.rs` (the integration
//! test `tests/demo.rs` runs it too); this file only prints.
#![expect(clippy::print_stdout, reason = "a demo prints its trace")]

mod flow;

use std::process::ExitCode;

fn main() -> ExitCode {
    match flow::run() {
        Ok(report) => {
            print_report(&report);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_report(report: &flow::Report) {
    println!("mesos-auth demo: a master and four schedulers on loopback\n");
    for line in &report.trace {
        println!("{:>16} | {}", line.source.to_string(), line.text);
    }
    println!("\nsummary");
    for c in &report.clients {
        let how = match &c.auth {
            flow::Auth::Certificate(p) => format!("authenticated by TLS certificate as `{p}`"),
            flow::Auth::CramMd5(p) => format!("authenticated by CRAM-MD5 as `{p}`"),
            flow::Auth::CertificateRefused(why) => format!("certificate refused ({why})"),
            flow::Auth::CramMd5Refused(attempts) => {
                let failed = attempts
                    .iter()
                    .filter(|a| matches!(a, flow::Attempt::Failed))
                    .count();
                let throttled = attempts.len() - failed;
                format!("CRAM-MD5 refused: {failed} attempts failed, then {throttled} throttled")
            }
        };
        println!("  {:<9} {how}", c.name);
        for a in &c.answers {
            let rule = if a.rule.is_empty() {
                "no rule"
            } else {
                &a.rule
            };
            println!(
                "            {:<5} {} {:?}  [{rule}]",
                if a.allowed { "allow" } else { "deny" },
                a.action,
                a.objects
            );
        }
    }
    let decisions = report
        .clients
        .iter()
        .map(|c| c.answers.len())
        .sum::<usize>();
    let allowed = report
        .clients
        .iter()
        .flat_map(|c| &c.answers)
        .filter(|a| a.allowed)
        .count();
    println!(
        "  {} decisions ({allowed} allowed, {} denied), {} audit events, {} threads joined, listener closed: {}",
        decisions,
        decisions - allowed,
        report.audit.len(),
        report.threads_joined,
        report.listener_closed
    );
}
