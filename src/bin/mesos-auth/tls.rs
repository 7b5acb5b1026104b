//! `mesos-auth tls ...`: try a rule file on a certificate before a rollout.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use mesos_auth::tls::{Mapper, TlsMapError, VerifiedLeaf, certificates_from_pem, read_pem_file};

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Map a client certificate to a principal with a rule file.
    ///
    /// Prints the principal and exits 0, or prints why the certificate is
    /// rejected and exits 1; a bad rule or certificate file exits 2. The
    /// certificate's chain is NOT verified here: this shows what the rules
    /// would do with a certificate the TLS stack accepted.
    Map {
        /// The JSON rule file.
        #[arg(long, value_name = "FILE")]
        rules: PathBuf,
        /// The client certificate (PEM; the first certificate is the leaf).
        #[arg(long, value_name = "CERT.pem")]
        cert: PathBuf,
        /// Also show the rendered DN, the SANs and the deciding rule.
        #[arg(long)]
        explain: bool,
    },
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Map {
            rules,
            cert,
            explain,
        } => map(&rules, &cert, explain),
    }
}

fn fail(e: &TlsMapError) -> ExitCode {
    let mut err = std::io::stderr().lock();
    match e {
        // One line per problem, each with line:column and JSON path.
        TlsMapError::Rules(rules) => {
            for p in rules.problems() {
                let _ = writeln!(err, "error: {p}");
            }
        }
        other => {
            let _ = writeln!(err, "error: {other}");
        }
    }
    ExitCode::from(2)
}

fn map(rules: &std::path::Path, cert: &std::path::Path, explain: bool) -> ExitCode {
    let mapper = match Mapper::from_file(rules) {
        Ok(m) => m,
        Err(e) => return fail(&e),
    };
    let leaf = match read_pem_file(cert).and_then(|pem| certificates_from_pem(&pem)) {
        Ok(mut certs) if !certs.is_empty() => certs.swap_remove(0),
        Ok(_) => {
            return fail(&TlsMapError::Pem {
                what: "certificates",
                message: "no certificate".to_owned(),
            });
        }
        Err(e) => return fail(&e),
    };
    let leaf = VerifiedLeaf::from_der_verified_elsewhere(leaf);
    let (facts, result) = mapper.explain(&leaf);
    let mut out = std::io::stdout().lock();
    if explain {
        let sha: String = leaf.sha256().iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "sha256:     {sha}");
        if let Some(f) = &facts {
            let _ = writeln!(out, "subject:    {}", f.subject_dn());
            let _ = writeln!(out, "issuer:     {}", f.issuer_dn());
            for (label, list) in [
                ("san.dns", f.san_dns()),
                ("san.uri", f.san_uri()),
                ("san.email", f.san_email()),
                ("san.ip", f.san_ip()),
            ] {
                let _ = writeln!(out, "{label:<11} {}", list.join(", "));
            }
            let _ = writeln!(out, "spiffe:     {}", f.spiffe().unwrap_or(""));
        }
        let rule = match &result {
            Ok(m) => m.rule().to_string(),
            Err(r) => r
                .reason()
                .rule()
                .map_or_else(|| "no rule".to_owned(), ToString::to_string),
        };
        let _ = writeln!(out, "rule:       {rule}");
    }
    match result {
        Ok(m) => {
            let _ = writeln!(out, "{}", m.principal());
            ExitCode::SUCCESS
        }
        Err(r) => {
            let _ = writeln!(out, "rejected: {r}");
            ExitCode::from(1)
        }
    }
}
