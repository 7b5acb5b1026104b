//! `mesos-auth zk push|get|diff`: the policy in ZooKeeper (feature `zk`).
//!
//! The URL names a deployment's base znode, `zk://zk1:2181,zk2/mesos-auth`;
//! the policies live in its children `acls`, `credentials` and `tls-rules`
//! (the znodes a master's `zk://.../mesos-auth/acls` watches).
//!
//! `push` checks each file as `acl check`, `credentials check` and `tls
//! check` would (errors: exit 2; findings: exit 1, unless
//! `--allow-findings`), all of them before writing any, then writes them in one ZooKeeper
//! `multi` (all or nothing), each with compare-and-swap on its znode
//! version: a concurrent writer on any of them fails the whole push
//! (exit 2), nothing overwritten. `get` prints a znode (credentials
//! only with `--show-secrets`); `diff` compares a local file with its znode
//! (exit 0 same, 1 different, 2 errors; credentials by principal, never a
//! secret). `audit` walks a znode tree (Mesos's leader election, log
//! replicas, registry; ours), reports each znode's role and ACL, and the
//! ACLs that let anyone change a znode or read credentials, digest ACLs
//! with a guessable password, a connection without TLS or authentication
//! (exit 0 clean, 1 findings, 2 errors; `--json` for tools), and who may
//! read each credentials znode (`sasl:` Kerberos principals included).
//!
//! With feature `gssapi`, `--sasl-gssapi PRINCIPAL --keytab F` (or
//! `--ccache F`) authenticates by Kerberos. MIT Kerberos reads the client
//! keytab and cache from the environment only, which this process may not
//! change under its own threads: when they do not name the given files,
//! the command runs itself again with `KRB5_CLIENT_KTNAME` naming the
//! keytab and a fresh in-memory cache (or `KRB5CCNAME` naming `--ccache`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mesos_auth::acl::{self, Compiler};
use mesos_auth::credentials;
use mesos_auth::tls::Mapper;
use mesos_auth::zk::{
    self, ConnectOptions, Expect, PolicyKind, PushOptions, SaslDigest, TlsSettings, ZkError, ZkUrl,
};

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Check policy files and write them to ZooKeeper (compare-and-swap).
    Push {
        /// The ACL JSON file, written to `<base>/acls`.
        #[arg(long)]
        acls: Option<PathBuf>,
        /// The credentials file (JSON), written to `<base>/credentials`.
        #[arg(long)]
        credentials: Option<PathBuf>,
        /// The TLS mapping rules JSON, written to `<base>/tls-rules`.
        #[arg(long)]
        tls_rules: Option<PathBuf>,
        /// Replace only this znode version (from `zk get`); with several
        /// files, it applies to each. Default: the version read just before
        /// the write.
        #[arg(long)]
        expect_version: Option<i32>,
        /// Let `SCHEME:ID` (e.g. `sasl:mesos-master`) read znodes this push
        /// creates; repeat for several.
        #[arg(long)]
        reader: Vec<String>,
        /// Write even if the checks report findings (warnings, lint).
        #[arg(long)]
        allow_findings: bool,
        /// On an unauthenticated session, create ACL and rule znodes open
        /// to anyone. Test clusters only; never for credentials.
        #[arg(long)]
        insecure_open_acl: bool,
        /// The base znode: `zk://host:port[,host:port...]/path`.
        url: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Print a policy znode and its version.
    Get {
        #[command(flatten)]
        which: Which,
        /// Print the credentials themselves (otherwise only a summary).
        #[arg(long)]
        show_secrets: bool,
        /// The base znode.
        url: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Check the ACLs of a znode tree (Mesos's `zk://.../mesos`, ours):
    /// exit 0 clean, 1 findings, 2 errors.
    Audit {
        /// One JSON object on standard output instead of text lines.
        #[arg(long)]
        json: bool,
        /// The roots of the trees (Mesos's `--zk` path, our base znode).
        #[arg(required = true)]
        url: Vec<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Compare a local policy file with its znode: exit 0 same, 1 different.
    Diff {
        /// The ACL JSON file, compared with `<base>/acls`.
        #[arg(long, group = "file")]
        acls: Option<PathBuf>,
        /// The credentials file, compared with `<base>/credentials`.
        #[arg(long, group = "file")]
        credentials: Option<PathBuf>,
        /// The TLS mapping rules, compared with `<base>/tls-rules`.
        #[arg(long, group = "file")]
        tls_rules: Option<PathBuf>,
        /// The base znode.
        url: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// Which znode `get` reads.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Which {
    /// `<base>/acls`.
    #[arg(long)]
    acls: bool,
    /// `<base>/credentials`.
    #[arg(long)]
    credentials: bool,
    /// `<base>/tls-rules`.
    #[arg(long)]
    tls_rules: bool,
}

/// How to reach ZooKeeper.
#[derive(clap::Args)]
pub(crate) struct ConnArgs {
    /// Connect with TLS, trusting this CA (PEM).
    #[arg(long)]
    tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for TLS.
    #[arg(long, requires = "tls_key", requires = "tls_ca")]
    tls_cert: Option<PathBuf>,
    /// Client key (PEM) for TLS.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// SASL DIGEST-MD5 user.
    #[arg(long, requires = "sasl_password_file")]
    sasl_user: Option<String>,
    /// File whose first line is the SASL password.
    #[arg(long, requires = "sasl_user")]
    sasl_password_file: Option<PathBuf>,
    /// ZooKeeper `digest` user (as `addauth digest`; e.g. the server's
    /// `super` user for `audit`).
    #[arg(long, requires = "digest_password_file")]
    digest_user: Option<String>,
    /// File whose first line is the digest password.
    #[arg(long, requires = "digest_user")]
    digest_password_file: Option<PathBuf>,
    /// Kerberos (boxed: the options are large, the command enum small).
    #[cfg(feature = "gssapi")]
    #[command(flatten)]
    gssapi: Box<GssapiArgs>,
    /// Session timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    session_timeout_ms: u64,
}

/// SASL GSSAPI (Kerberos) to ZooKeeper.
#[cfg(feature = "gssapi")]
#[derive(clap::Args)]
pub(crate) struct GssapiArgs {
    /// Kerberos principal to authenticate as by SASL GSSAPI
    /// (`mesos-master@EXAMPLE.ORG`), with `--keytab` or `--ccache`.
    #[arg(long, conflicts_with = "sasl_user")]
    sasl_gssapi: Option<String>,
    /// The client keytab of `--sasl-gssapi`'s principal.
    #[arg(long, requires = "sasl_gssapi", conflicts_with = "ccache")]
    keytab: Option<PathBuf>,
    /// The ticket cache of `--sasl-gssapi`'s principal (kept fresh by
    /// `kinit`).
    #[arg(long, requires = "sasl_gssapi")]
    ccache: Option<PathBuf>,
    /// ZooKeeper's Kerberos service name.
    /// Default: `zookeeper`.
    #[arg(long, requires = "sasl_gssapi")]
    gssapi_service: Option<String>,
    /// The host in ZooKeeper's principal (`<service>/<host>@REALM`); by
    /// default the server's host as written in the URL.
    #[arg(long, requires = "sasl_gssapi")]
    gssapi_host: Option<String>,
}

impl ConnArgs {
    fn options(&self) -> Result<ConnectOptions, ZkError> {
        let mut options = ConnectOptions::new()
            .session_timeout(std::time::Duration::from_millis(self.session_timeout_ms));
        if let Some(ca) = &self.tls_ca {
            let mut tls = TlsSettings::from_ca_file(ca)?;
            if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
                tls = tls.identity_files(cert, key)?;
            }
            options = options.tls(tls);
        }
        if let (Some(user), Some(file)) = (&self.sasl_user, &self.sasl_password_file) {
            options = options.sasl(SaslDigest::from_password_file(user.clone(), file)?);
        }
        #[cfg(feature = "gssapi")]
        let g = &self.gssapi;
        #[cfg(feature = "gssapi")]
        if let Some(principal) = &g.sasl_gssapi {
            let mut gssapi = match (&g.keytab, &g.ccache) {
                (Some(keytab), _) => zk::SaslGssapi::with_keytab(principal.clone(), keytab),
                (None, Some(ccache)) => zk::SaslGssapi::with_ccache(principal.clone(), ccache),
                (None, None) => {
                    return Err(ZkError::Config {
                        what: "--sasl-gssapi".to_owned(),
                        reason: "give the principal's --keytab or --ccache".to_owned(),
                    });
                }
            }
            .service(
                g.gssapi_service
                    .clone()
                    .unwrap_or_else(|| zk::DEFAULT_SERVICE.to_owned()),
            );
            if let Some(host) = &g.gssapi_host {
                gssapi = gssapi.host(host.clone());
            }
            options = options.sasl_gssapi(gssapi);
        }
        if let (Some(user), Some(file)) = (&self.digest_user, &self.digest_password_file) {
            let bad = |reason: String| ZkError::Config {
                what: format!("--digest-password-file `{}`", file.display()),
                reason,
            };
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(file).map_err(|e| bad(e.kind().to_string()))?,
            );
            let password = text.lines().next().unwrap_or("");
            if password.is_empty() {
                return Err(bad("the first line is empty".to_owned()));
            }
            options = options.digest(SaslDigest::new(user.clone(), password));
        }
        Ok(options)
    }
}

/// The Kerberos variables `conn` needs that the environment lacks, if any.
#[cfg(feature = "gssapi")]
fn kerberos_environment(conn: &ConnArgs) -> Option<Vec<(&'static str, String)>> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let g = &conn.gssapi;
    let wanted = match (&g.sasl_gssapi, &g.keytab, &g.ccache) {
        (Some(_), Some(keytab), _) => vec![
            (
                "KRB5_CLIENT_KTNAME",
                format!("FILE:{}", absolute(keytab).display()),
            ),
            // Tickets got from the keytab stay in this process.
            ("KRB5CCNAME", "MEMORY:mesos-auth-zk".to_owned()),
        ],
        (Some(_), None, Some(ccache)) => {
            vec![("KRB5CCNAME", format!("FILE:{}", absolute(ccache).display()))]
        }
        _ => return None,
    };
    let missing = wanted
        .iter()
        .any(|(k, v)| std::env::var(k).ok().as_deref() != Some(v));
    missing.then_some(wanted)
}

/// Runs this command again with `vars` set: the exit code of that run.
#[cfg(feature = "gssapi")]
fn rerun_with(vars: Vec<(&'static str, String)>) -> ExitCode {
    // Once: the second run has the variables, or says why not.
    if std::env::var_os("MESOS_AUTH_ZK_KRB5_RERUN").is_some() {
        return fail("the Kerberos environment could not be set up");
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail(&format!("cannot run itself again: {}", e.kind())),
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.args(std::env::args_os().skip(1))
        .env("MESOS_AUTH_ZK_KRB5_RERUN", "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    match cmd.status() {
        Ok(status) => status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .map_or(ExitCode::from(2), ExitCode::from),
        Err(e) => fail(&format!("cannot run itself again: {}", e.kind())),
    }
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    #[cfg(feature = "gssapi")]
    {
        let conn = match &cmd {
            Command::Push { conn, .. }
            | Command::Get { conn, .. }
            | Command::Audit { conn, .. }
            | Command::Diff { conn, .. } => conn,
        };
        if let Some(vars) = kerberos_environment(conn) {
            return rerun_with(vars);
        }
    }
    let result = match cmd {
        Command::Push {
            acls,
            credentials,
            tls_rules,
            expect_version,
            reader,
            allow_findings,
            insecure_open_acl,
            url,
            conn,
        } => {
            let files = files(acls, credentials, tls_rules);
            push(
                &files,
                &url,
                &conn,
                &PushArgs {
                    expect_version,
                    reader,
                    allow_findings,
                    insecure_open_acl,
                },
            )
        }
        Command::Get {
            which,
            show_secrets,
            url,
            conn,
        } => {
            let kind = if which.acls {
                PolicyKind::Acls
            } else if which.credentials {
                PolicyKind::Credentials
            } else {
                PolicyKind::TlsRules
            };
            get(kind, show_secrets, &url, &conn)
        }
        Command::Audit { json, url, conn } => audit(json, &url, &conn),
        Command::Diff {
            acls,
            credentials,
            tls_rules,
            url,
            conn,
        } => match files(acls, credentials, tls_rules).as_slice() {
            [(kind, file)] => diff(*kind, file, &url, &conn),
            _ => Err(fail("give one of --acls, --credentials, --tls-rules")),
        },
    };
    result.unwrap_or_else(|code| code)
}

fn files(
    acls: Option<PathBuf>,
    credentials: Option<PathBuf>,
    tls_rules: Option<PathBuf>,
) -> Vec<(PolicyKind, PathBuf)> {
    [
        (PolicyKind::Acls, acls),
        (PolicyKind::Credentials, credentials),
        (PolicyKind::TlsRules, tls_rules),
    ]
    .into_iter()
    .filter_map(|(k, f)| f.map(|f| (k, f)))
    .collect()
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn znode_url(base: &str, kind: PolicyKind) -> Result<ZkUrl, ExitCode> {
    let base = ZkUrl::parse(base).map_err(|e| fail(&e.to_string()))?;
    let path = format!("{}/{}", base.path(), kind.znode_name());
    base.with_path(&path).map_err(|e| fail(&e.to_string()))
}

struct PushArgs {
    expect_version: Option<i32>,
    reader: Vec<String>,
    allow_findings: bool,
    insecure_open_acl: bool,
}

/// Checks `file` as its `check` command does; returns the bytes to write
/// and the number of findings. Errors are printed, located.
fn check_file(kind: PolicyKind, file: &Path) -> Result<(Vec<u8>, usize), ExitCode> {
    let bytes =
        std::fs::read(file).map_err(|e| fail(&format!("`{}`: {}", file.display(), e.kind())))?;
    let text = || {
        std::str::from_utf8(&bytes).map_err(|e| {
            fail(&format!(
                "`{}`: not UTF-8 at byte {}",
                file.display(),
                e.valid_up_to()
            ))
        })
    };
    let located = |e: &dyn std::fmt::Display| fail(&format!("{}: {e}", file.display()));
    let findings = match kind {
        PolicyKind::Acls => {
            let options = acl::Options::new();
            let src = acl::read_file(file, options).map_err(|e| located(&e))?;
            let compiled = Compiler::new().compile(&src).map_err(|e| located(&e))?;
            let mut n = 0;
            for w in src.warnings() {
                eprintln!(
                    "{}:{}: warning: {}: {}",
                    file.display(),
                    w.location(),
                    w.path(),
                    w.message()
                );
                n += 1;
            }
            for f in acl::lint(&src, &compiled) {
                eprintln!(
                    "{}:{}: lint: {}: {}",
                    file.display(),
                    f.location,
                    f.path,
                    f.message
                );
                n += 1;
            }
            n
        }
        PolicyKind::Credentials => {
            let loaded = credentials::load(file, &credentials::Options::default())
                .map_err(|e| located(&e))?;
            let findings = credentials::findings(&loaded);
            for w in loaded.warnings() {
                eprintln!("{}: warning: {w}", file.display());
            }
            for f in &findings {
                eprintln!("{}: finding: {f}", file.display());
            }
            let n = loaded.warnings().len() + findings.len();
            loaded.into_store().map_err(|e| located(&e))?;
            n
        }
        PolicyKind::TlsRules => {
            Mapper::from_json(text()?).map_err(|e| located(&e))?;
            0
        }
    };
    Ok((bytes, findings))
}

fn push(
    files: &[(PolicyKind, PathBuf)],
    base: &str,
    conn: &ConnArgs,
    args: &PushArgs,
) -> Result<ExitCode, ExitCode> {
    if files.is_empty() {
        return Err(fail(
            "nothing to push: give --acls, --credentials or --tls-rules",
        ));
    }
    // Every file is checked before anything is written.
    let mut checked = Vec::new();
    let mut findings = 0;
    for (kind, file) in files {
        let (bytes, n) = check_file(*kind, file)?;
        findings += n;
        checked.push((*kind, file, bytes, znode_url(base, *kind)?));
    }
    if findings > 0 && !args.allow_findings {
        eprintln!("{findings} finding(s): nothing written (--allow-findings to write anyway)");
        return Err(ExitCode::from(1));
    }
    let mut options = PushOptions::new(conn.options().map_err(|e| fail(&e.to_string()))?)
        .insecure_open_acl(args.insecure_open_acl);
    if let Some(v) = args.expect_version {
        options = options.expect(Expect::Version(v));
    }
    for r in &args.reader {
        let Some((scheme, id)) = r.split_once(':') else {
            return Err(fail(&format!("--reader `{r}`: expected SCHEME:ID")));
        };
        options = options.reader(scheme, id);
    }
    // One `multi`: all files or none, each with compare-and-swap.
    let items: Vec<_> = checked
        .iter()
        .map(|(kind, _, bytes, url)| (url, *kind, bytes.as_slice()))
        .collect();
    let pushed = zk::push_many(&items, &options).map_err(|e| fail(&e.to_string()))?;
    let mut out = std::io::stdout().lock();
    for ((_, file, _, url), pushed) in checked.iter().zip(pushed) {
        let from = pushed
            .previous
            .map_or_else(|| "created".to_owned(), |v| format!("version {v} ->"));
        let _ = writeln!(
            out,
            "{}: pushed to {url}: {from} version {}",
            file.display(),
            pushed.version
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn get(
    kind: PolicyKind,
    show_secrets: bool,
    base: &str,
    conn: &ConnArgs,
) -> Result<ExitCode, ExitCode> {
    let url = znode_url(base, kind)?;
    let options = conn.options().map_err(|e| fail(&e.to_string()))?;
    let znode = zk::get(&url, &options).map_err(|e| fail(&e.to_string()))?;
    eprintln!(
        "{url}: version {}, {} bytes",
        znode.version,
        znode.data.len()
    );
    if kind.is_secret() && !show_secrets {
        let n = credentials::parse(&znode.data, &credentials::Options::default())
            .map(|f| f.entries().len().to_string())
            .unwrap_or_else(|e| format!("unparsable ({e})"));
        eprintln!("{n} credential(s); --show-secrets prints them");
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&znode.data);
    Ok(ExitCode::SUCCESS)
}

fn diff(kind: PolicyKind, file: &Path, base: &str, conn: &ConnArgs) -> Result<ExitCode, ExitCode> {
    let url = znode_url(base, kind)?;
    let local =
        std::fs::read(file).map_err(|e| fail(&format!("`{}`: {}", file.display(), e.kind())))?;
    let options = conn.options().map_err(|e| fail(&e.to_string()))?;
    let znode = zk::get(&url, &options).map_err(|e| fail(&e.to_string()))?;
    let mut out = std::io::stdout().lock();
    if local == znode.data {
        let _ = writeln!(
            out,
            "{}: same as {url} version {}",
            file.display(),
            znode.version
        );
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(
        out,
        "--- {url} version {}\n+++ {}",
        znode.version,
        file.display()
    );
    if kind.is_secret() {
        // By principal only: a secret never reaches the terminal.
        let opts = credentials::Options::default();
        let parse = |b: &[u8], what: &str| {
            credentials::parse(b, &opts)
                .and_then(credentials::CredentialsFile::into_store)
                .map_err(|e| fail(&format!("{what}: {e}")))
        };
        let old = parse(&znode.data, &url.to_string())?;
        let new = parse(&local, &file.display().to_string())?;
        let report = credentials::diff(&old, &new, 0);
        for p in report.added() {
            let _ = writeln!(out, "+ principal `{p}`");
        }
        for p in report.removed() {
            let _ = writeln!(out, "- principal `{p}`");
        }
        for p in report.rotated() {
            let _ = writeln!(out, "~ principal `{p}`: secret changed");
        }
    } else {
        let old = String::from_utf8_lossy(&znode.data);
        let new = String::from_utf8_lossy(&local);
        for line in line_diff(&old, &new) {
            let _ = writeln!(out, "{line}");
        }
    }
    Ok(ExitCode::from(1))
}

fn audit(json: bool, urls: &[String], conn: &ConnArgs) -> Result<ExitCode, ExitCode> {
    let urls = urls
        .iter()
        .map(|u| ZkUrl::parse(u))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(&e.to_string()))?;
    let options = conn.options().map_err(|e| fail(&e.to_string()))?;
    let mut report = zk::AuditReport::default();
    for (i, url) in urls.iter().enumerate() {
        let mut one = zk::audit(url, &options).map_err(|e| fail(&e.to_string()))?;
        if i > 0 {
            // The connection's findings once, not once per tree.
            one.findings.retain(|f| f.role != zk::ZnodeRole::Connection);
        }
        report.znodes += one.znodes;
        report.visited.append(&mut one.visited);
        report.findings.append(&mut one.findings);
    }
    let url = urls
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = std::io::stdout().lock();
    if json {
        let findings: Vec<_> = report
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({"path": f.path, "role": f.role.name(), "kind": f.kind.name(), "message": f.message})
            })
            .collect();
        let visited: Vec<_> = report
            .visited
            .iter()
            .map(|z| {
                serde_json::json!({"path": z.path, "role": z.role.name(), "acl": z.acl, "readers": readers(&z.acl), "expected": z.role.expected()})
            })
            .collect();
        let doc = serde_json::json!({
            "urls": urls.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "tls": options.is_tls(),
            "authenticated": options.is_authenticated(),
            "znodes": report.znodes,
            "visited": visited,
            "findings": findings,
        });
        let _ = writeln!(out, "{doc}");
    } else {
        for z in &report.visited {
            if z.role == zk::ZnodeRole::Credentials && !z.acl.is_empty() {
                let who = readers(&z.acl);
                let _ = if who.is_empty() {
                    writeln!(out, "{}: credentials readable by nobody", z.path)
                } else {
                    writeln!(
                        out,
                        "{}: credentials readable by {} only",
                        z.path,
                        who.join(", ")
                    )
                };
            }
        }
        for f in &report.findings {
            let _ = writeln!(
                out,
                "{}: {} ({}): {}",
                f.path,
                f.kind.name(),
                f.role.name(),
                f.message
            );
        }
        let _ = writeln!(
            out,
            "{url}: {} znode(s), {} finding(s)",
            report.znodes,
            report.findings.len()
        );
    }
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The `scheme:id` entries of `acl` (`scheme:id:perms`) that may read:
/// for a credentials znode, ideally only the masters' identity
/// (`sasl:mesos-master@EXAMPLE.ORG` with Kerberos).
fn readers(acl: &[String]) -> Vec<&str> {
    acl.iter()
        .filter_map(|entry| entry.rsplit_once(':'))
        .filter(|(_, perms)| perms.contains('r'))
        .map(|(who, _)| who)
        .collect()
}

/// A plain line diff (longest common subsequence), enough for policy files
/// of a few thousand lines; larger inputs are summarised.
fn line_diff(old: &str, new: &str) -> Vec<String> {
    const MAX_CELLS: usize = 16 * 1024 * 1024;
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        return vec![format!(
            "(too large to diff line by line: {} vs {} lines)",
            a.len(),
            b.len()
        )];
    }
    // lcs[i][j]: common lines of a[i..] and b[j..], row-major.
    let w = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            let v = if a.get(i) == b.get(j) {
                lcs.get((i + 1) * w + j + 1).copied().unwrap_or(0) + 1
            } else {
                let down = lcs.get((i + 1) * w + j).copied().unwrap_or(0);
                let right = lcs.get(i * w + j + 1).copied().unwrap_or(0);
                down.max(right)
            };
            if let Some(cell) = lcs.get_mut(i * w + j) {
                *cell = v;
            }
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        let at = |i: usize, j: usize| lcs.get(i * w + j).copied().unwrap_or(0);
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(_)) if at(i + 1, j) >= at(i, j + 1) => {
                out.push(format!("-{}: {x}", i + 1));
                i += 1;
            }
            (_, Some(y)) => {
                out.push(format!("+{}: {y}", j + 1));
                j += 1;
            }
            (Some(x), None) => {
                out.push(format!("-{}: {x}", i + 1));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}
