//! `mesos-auth credentials ...` (not written yet).

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Command {}

pub(crate) fn run(cmd: Command) -> ExitCode {
    match cmd {}
}
