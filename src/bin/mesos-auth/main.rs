//! `mesos-auth`: the operator's tool for checking credential, ACL and mapping
//! files before a rollout, and the stdio CRAM-MD5 peer the interop harness
//! drives. A thin shell over the library's public API.
//!
//! Exit codes, for every `check`-style command: 0 clean, 1 findings (or a
//! denial/rejection), 2 errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod acl;
mod credentials;
mod sasl;
mod tls;
mod token;
#[cfg(feature = "zk")]
mod zk;

#[derive(Parser)]
#[command(
    name = "mesos-auth",
    version,
    about = "Mesos authentication and authorization tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check and evaluate Mesos ACL files.
    #[command(subcommand)]
    Acl(acl::Command),
    /// Check and convert Mesos credential files.
    #[command(subcommand)]
    Credentials(credentials::Command),
    /// CRAM-MD5 server and client over stdio (interop line protocol).
    #[command(subcommand)]
    Sasl(sasl::Command),
    /// Map TLS client certificates to principals.
    #[command(subcommand)]
    Tls(tls::Command),
    /// Check bearer tokens (JWTs) against a JWKS.
    #[command(subcommand)]
    Token(token::Command),
    /// The policy in ZooKeeper: push, get, diff (feature `zk`).
    #[cfg(feature = "zk")]
    #[command(subcommand)]
    Zk(zk::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version on stdout with exit 0, usage errors with 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Acl(cmd) => acl::run(cmd),
        Command::Credentials(cmd) => credentials::run(cmd),
        Command::Sasl(cmd) => sasl::run(cmd),
        Command::Tls(cmd) => tls::run(cmd),
        Command::Token(cmd) => token::run(cmd),
        #[cfg(feature = "zk")]
        Command::Zk(cmd) => zk::run(cmd),
    }
}
