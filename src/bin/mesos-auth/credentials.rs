//! `mesos-auth credentials check|convert`.
//!
//! `check FILE [--lenient]` loads the file exactly as a server would
//! (a regular file, no symlink, permission and owner check on the opened
//! descriptor, size cap, strict or lenient parse), then lists findings
//! (weak, short or shared secrets, duplicates, ...). Exit 0 clean, 1
//! warnings or findings, 2 errors.
//!
//! Both commands read JSON, as Mesos ≥ 1.11 does; a file in the Mesos
//! 1.0–1.10 text format needs `--format text` (e.g. `convert FILE --format
//! text --to json` to move it to JSON).
//!
//! `convert FILE --to cram-md5-state|scram-sha-256|json [--out PATH]` rewrites
//! the secrets into a stored form (keeping the input's format; `json` keeps
//! the secrets as they are and writes Mesos's JSON form). The output goes to
//! `--out PATH`, created with mode 0600 next to its destination and renamed
//! over it (an existing `PATH` must be a regular file), or to standard
//! output when `--out` is absent (then the shell's umask decides the mode:
//! use `umask 077`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mesos_auth::credentials::{
    self, Credential, CredentialsError, DEFAULT_MAX_FILE_SIZE, Format, MIN_SCRAM_ITERATIONS,
    Options, Reader, Scheme,
};

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Load a credentials file as a server would and report problems.
    Check {
        /// The credentials file.
        file: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Rewrite a credentials file with secrets in a stored form.
    Convert {
        /// The credentials file.
        file: PathBuf,
        /// The form to write.
        #[arg(long, value_enum)]
        to: Target,
        /// Where to write (mode 0600); standard output if absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// PBKDF2 iterations for `scram-sha-256`.
        #[arg(long, default_value_t = MIN_SCRAM_ITERATIONS)]
        iterations: u32,
        #[command(flatten)]
        read: ReadArgs,
    },
}

#[derive(clap::Args)]
pub(crate) struct ReadArgs {
    /// Accept what Mesos ≥ 1.11 accepts, each quirk a warning: JSON only
    /// (text only with --format text, read as Mesos 1.0-1.10 did), unknown
    /// keys ignored, the last duplicate key or principal wins, null means
    /// absent, missing or empty secrets and zero credentials (`{}`)
    /// allowed, group/other permissions and a foreign owner only warned
    /// about. Strict (the default) makes all of these errors, so it never
    /// accepts a file lenient mode refuses. Both refuse an empty file (Mesos
    /// exits on it), symlinks, FIFOs and devices, NUL bytes, invalid
    /// principals and over-long secrets.
    #[arg(long)]
    lenient: bool,
    /// The file's format. `auto`: JSON, as Mesos ≥ 1.11 reads (a file not
    /// starting with `{` or `[` is refused, in both modes). `text`: one
    /// `principal secret` per line, as Mesos 1.0-1.10 read (checked
    /// strictly, or read as Mesos did with --lenient), e.g. to convert it
    /// with `convert --to json`.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Read one `{"principal", "secret"}` object (agent `--credential`).
    #[arg(long)]
    single: bool,
    /// Accept a file with no credentials.
    #[arg(long)]
    allow_empty: bool,
    /// Accept a file group or others can access, or owned by another user
    /// (still a warning).
    #[arg(long)]
    allow_insecure_permissions: bool,
    /// Largest file read, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_FILE_SIZE)]
    max_bytes: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum FormatArg {
    Auto,
    Text,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Target {
    CramMd5State,
    #[value(name = "scram-sha-256")]
    ScramSha256,
    Json,
}

impl ReadArgs {
    fn options(&self) -> Options {
        Options::new()
            .lenient(self.lenient)
            .format(match self.format {
                FormatArg::Auto => Format::Auto,
                FormatArg::Text => Format::Text,
                FormatArg::Json => Format::Json,
            })
            .reader(if self.single {
                Reader::Credential
            } else {
                Reader::Credentials
            })
            .allow_empty(self.allow_empty)
            .allow_insecure_permissions(self.allow_insecure_permissions)
            .max_file_size(self.max_bytes)
    }
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Check { file, read } => check(&file, &read.options()),
        Command::Convert {
            file,
            to,
            out,
            iterations,
            read,
        } => match convert(&file, to, out.as_deref(), iterations, &read.options()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => error(&e),
        },
    }
}

fn error(e: &CredentialsError) -> ExitCode {
    let mut err = std::io::stderr().lock();
    match e.parse_errors() {
        Some(list) => {
            for d in list {
                let _ = writeln!(err, "error: {d}");
            }
        }
        None => {
            let _ = writeln!(err, "error: {e}");
        }
    }
    ExitCode::from(2)
}

fn check(path: &Path, options: &Options) -> ExitCode {
    let file = match credentials::load(path, options) {
        Ok(f) => f,
        Err(e) => return error(&e),
    };
    let mut out = std::io::stdout().lock();
    for w in file.warnings() {
        let _ = writeln!(out, "warning: {w}");
    }
    let findings = credentials::findings(&file);
    for f in &findings {
        let _ = writeln!(out, "finding: {}:{f}", path.display());
    }
    let n = file.entries().len();
    let warnings = file.warnings().len();
    if let Err(e) = file.into_store() {
        return error(&e);
    }
    let _ = writeln!(
        out,
        "{}: {n} credential(s), {warnings} warning(s), {} finding(s)",
        path.display(),
        findings.len()
    );
    if findings.is_empty() && warnings == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn convert(
    path: &Path,
    to: Target,
    out: Option<&Path>,
    iterations: u32,
    options: &Options,
) -> Result<(), CredentialsError> {
    let file = credentials::load(path, options)?;
    let text = match to {
        Target::Json => credentials::to_json(file.credentials())?,
        Target::CramMd5State | Target::ScramSha256 => {
            let scheme = match to {
                Target::CramMd5State => Scheme::CramMd5State,
                _ => Scheme::ScramSha256,
            };
            let converted: Vec<Credential> = file
                .credentials()
                .map(|c| c.convert(scheme, iterations))
                .collect::<Result<_, _>>()?;
            match file.format() {
                Format::Text => credentials::to_text(&converted)?,
                _ => credentials::to_json(&converted)?,
            }
        }
    };
    let io = |p: &Path, e: std::io::Error| CredentialsError::Io {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    match out {
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| io(Path::new("-"), e)),
        Some(dest) => write_private(dest, text.as_bytes()).map_err(|e| io(dest, e)),
    }
}

/// Writes `bytes` to `dest` through a 0600 temporary file in the same
/// directory, renamed over `dest` once complete. An existing `dest` must
/// be a regular file: the rename would otherwise replace a device node,
/// FIFO, symlink or socket with a plain file.
fn write_private(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::symlink_metadata(dest) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(std::io::Error::other(
                "the destination exists and is not a regular file (a device, FIFO, symlink, socket or directory); not replaced",
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "credentials".to_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(o_nofollow())
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn o_nofollow() -> i32 {
    // rustix's constant is the value open(2) takes.
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}
