//! `mesos-auth acl ...`: check, evaluate and explain Mesos ACL files.
//!
//! Every command loads the policy the same way (strict or `--lenient`,
//! `--max-bytes`, `--max-rules`) and prints the same warnings and lint
//! findings on standard error; only `check` turns them into its exit code.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mesos_auth::acl::{
    self, AclError, AclSource, Action, CompiledAcls, Compiler, Config, DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_RULES, Decision, Entity, LegacyQuotaOp, Object, Options, Reason, Request,
};

/// Longest request line `acl eval` reads (a request with many roles fits
/// easily: a role is at most 4,096 bytes).
const MAX_REQUEST_LINE: usize = 1024 * 1024;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Parse, compile and lint an ACL file: exit 0 clean, 1 findings, 2 errors.
    Check {
        /// The ACL JSON file.
        file: PathBuf,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Decide requests read as JSON lines on stdin; one JSON line out per request.
    ///
    /// A request is one JSON object per line (at most 1 MiB): `action` (our
    /// name `run_task`, the list `run_tasks`, or Mesos' `RUN_TASK`),
    /// `principal` (string or null), `object` (string, list of strings or
    /// null), `legacy_quota_op` ("SetQuota", "RemoveQuota" or null). A
    /// duplicate or unknown key makes the line an error (the conformance
    /// corpus' annotations `allowed`, `mesos_action` and `object_from` are
    /// skipped). Exit 0 if every line was decided, 2 if any was an error.
    Eval {
        /// The ACL JSON file.
        #[arg(long)]
        acls: PathBuf,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Explain the decision for one request: exit 0 allowed, 1 denied, 2 errors.
    Explain {
        /// The ACL JSON file.
        #[arg(long)]
        acls: PathBuf,
        /// The action: our name (`run_task`), its list (`run_tasks`) or the
        /// Mesos `authorization::Action` name (`RUN_TASK`).
        #[arg(long)]
        action: String,
        /// The principal; omit for an unauthenticated request.
        #[arg(long)]
        principal: Option<String>,
        /// The object; repeat for several roles; omit for none.
        #[arg(long)]
        object: Vec<String>,
        #[command(flatten)]
        policy: PolicyArgs,
    },
}

/// How the policy file is read, the same for every command.
#[derive(clap::Args)]
pub(crate) struct PolicyArgs {
    /// Accept what Mesos >= 1.5 accepts: unknown keys and `type` names are
    /// dropped, a single object stands for a list, a bare string for a list
    /// of strings, the last of duplicate keys wins, `"true"`/`"false"` for
    /// `permissive`, `permissive` may be absent (true). Each coercion is
    /// printed as a warning. Strict (the default) refuses all of these.
    #[arg(long)]
    lenient: bool,
    /// Largest ACL file read, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_FILE_BYTES)]
    max_bytes: usize,
    /// Most ACLs in the policy, across all lists.
    #[arg(long, default_value_t = DEFAULT_MAX_RULES)]
    max_rules: usize,
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Check { file, policy } => check(&file, &policy),
        Command::Eval { acls, policy } => eval(&acls, &policy),
        Command::Explain {
            acls,
            action,
            principal,
            object,
            policy,
        } => explain(&acls, &action, principal.as_deref(), &object, &policy),
    }
}

fn report(file: &Path, e: &AclError) {
    for d in e.diagnostics() {
        eprintln!(
            "{}:{}: error: {}: {}",
            file.display(),
            d.location(),
            d.path(),
            d.message()
        );
    }
}

/// Loads and compiles the policy, then prints its warnings and lint
/// findings on standard error; returns how many there were.
fn load(file: &Path, policy: &PolicyArgs) -> Result<(AclSource, CompiledAcls, usize), ExitCode> {
    let options = Options::new()
        .lenient(policy.lenient)
        .max_bytes(policy.max_bytes);
    let src = acl::read_file(file, options).map_err(|e| {
        report(file, &e);
        ExitCode::from(2)
    })?;
    let compiled = Compiler::new()
        .config(Config::new().max_rules(policy.max_rules))
        .compile(&src)
        .map_err(|e| {
            report(file, &e);
            ExitCode::from(2)
        })?;
    let findings = print_findings(file, &src, &compiled);
    Ok((src, compiled, findings))
}

fn print_findings(file: &Path, src: &AclSource, compiled: &CompiledAcls) -> usize {
    let mut findings = 0;
    for w in src.warnings() {
        eprintln!(
            "{}:{}: warning: {}: {}",
            file.display(),
            w.location(),
            w.path(),
            w.message()
        );
        findings += 1;
    }
    for f in acl::lint(src, compiled) {
        eprintln!(
            "{}:{}: lint: {}: {}",
            file.display(),
            f.location,
            f.path,
            f.message
        );
        findings += 1;
    }
    findings
}

fn check(file: &Path, policy: &PolicyArgs) -> ExitCode {
    let (_, compiled, findings) = match load(file, policy) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if findings > 0 {
        eprintln!("{}: {findings} finding(s)", file.display());
        return ExitCode::from(1);
    }
    let _ = writeln!(
        std::io::stdout(),
        "{}: ok ({} ACLs, permissive = {})",
        file.display(),
        compiled.rule_count(),
        compiled.permissive()
    );
    ExitCode::SUCCESS
}

/// One request line, shaped like the conformance corpus.
struct LineRequest {
    action: Action,
    principal: Option<String>,
    object: Option<Vec<String>>,
    single: bool,
    legacy: Option<LegacyQuotaOp>,
}

/// One request line's members, keys unique: serde_json's own map keeps
/// the last of duplicate keys, so the object is walked here instead.
struct Members(serde_json::Map<String, serde_json::Value>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !KNOWN_KEYS.contains(&key.as_str()) && !SKIPPED_KEYS.contains(&key.as_str())
                    {
                        return Err(serde::de::Error::custom(format!("unknown key `{key}`")));
                    }
                    let value: serde_json::Value = map.next_value()?;
                    if out.insert(key.clone(), value).is_some() {
                        return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                    }
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// The keys a request line is read from.
const KNOWN_KEYS: &[&str] = &["action", "principal", "object", "legacy_quota_op"];
/// The conformance corpus' annotations, skipped.
const SKIPPED_KEYS: &[&str] = &["allowed", "mesos_action", "object_from"];

fn parse_line(line: &str) -> Result<LineRequest, String> {
    let Members(obj) = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let action = obj
        .get("action")
        .and_then(|a| a.as_str())
        .ok_or("`action` must be a string")?;
    let action = Action::from_name(action).ok_or_else(|| format!("unknown action `{action}`"))?;
    let principal = match obj.get("principal") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`principal` must be a string or null".into()),
    };
    let (object, single) = match obj.get("object") {
        None | Some(serde_json::Value::Null) => (None, true),
        Some(serde_json::Value::String(s)) => (Some(vec![s.clone()]), true),
        Some(serde_json::Value::Array(items)) => {
            let mut out = Vec::new();
            for i in items {
                out.push(
                    i.as_str()
                        .ok_or("`object` list must hold strings")?
                        .to_owned(),
                );
            }
            (Some(out), false)
        }
        Some(_) => return Err("`object` must be a string, a list of strings or null".into()),
    };
    let legacy = match obj.get("legacy_quota_op") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s == "SetQuota" => Some(LegacyQuotaOp::SetQuota),
        Some(serde_json::Value::String(s)) if s == "RemoveQuota" => {
            Some(LegacyQuotaOp::RemoveQuota)
        }
        Some(_) => return Err("`legacy_quota_op` must be \"SetQuota\" or \"RemoveQuota\"".into()),
    };
    Ok(LineRequest {
        action,
        principal,
        object,
        single,
        legacy,
    })
}

fn decide(
    acls: &CompiledAcls,
    action: Action,
    principal: Option<&str>,
    object: Option<&[String]>,
    single: bool,
    legacy: Option<LegacyQuotaOp>,
) -> Decision {
    let refs: Vec<&str> = object.into_iter().flatten().map(String::as_str).collect();
    let object = match (object, single, refs.first()) {
        (None, _, _) => Object::Absent,
        (Some(_), true, Some(o)) => Object::One(o),
        _ => Object::many(&refs),
    };
    let mut req = Request::new(action, principal, object);
    req.legacy_quota_op = legacy;
    acls.authorize(&req)
}

/// One line of input, at most [`MAX_REQUEST_LINE`] bytes: `Ok(None)` at
/// the end, `Err` for a line too long (then skipped to its end) or not
/// UTF-8.
fn next_line(input: &mut impl BufRead) -> std::io::Result<Option<Result<String, String>>> {
    let mut buf = Vec::new();
    let cap = MAX_REQUEST_LINE as u64;
    input.by_ref().take(cap + 1).read_until(b'\n', &mut buf)?;
    if buf.is_empty() {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if buf.len() as u64 > cap {
        // Skip the rest of the line in bounded pieces.
        loop {
            let mut rest = Vec::new();
            let n = input
                .by_ref()
                .take(64 * 1024)
                .read_until(b'\n', &mut rest)?;
            if n == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
        return Ok(Some(Err(format!(
            "line longer than {MAX_REQUEST_LINE} bytes"
        ))));
    }
    Ok(Some(
        String::from_utf8(buf).map_err(|_| "line is not UTF-8".to_owned()),
    ))
}

fn eval(file: &Path, policy: &PolicyArgs) -> ExitCode {
    let (_, acls, _) = match load(file, policy) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut bad = false;
    let mut n = 0usize;
    loop {
        let line = match next_line(&mut input) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                eprintln!("stdin: {e}");
                return ExitCode::from(2);
            }
        };
        n += 1;
        if line.as_ref().is_ok_and(|l| l.trim().is_empty()) {
            continue;
        }
        let result = match line.and_then(|l| parse_line(&l)) {
            Ok(r) => {
                let d = decide(
                    &acls,
                    r.action,
                    r.principal.as_deref(),
                    r.object.as_deref(),
                    r.single,
                    r.legacy,
                );
                let rule = d.rule().map(|r| {
                    serde_json::json!({"list": r.list.key(), "index": r.index, "line": r.location.line})
                });
                serde_json::json!({"allowed": d.is_allowed(), "rule": rule, "reason": d.reason().to_string()})
            }
            Err(e) => {
                bad = true;
                serde_json::json!({"error": format!("line {n}: {e}")})
            }
        };
        if writeln!(out, "{result}").is_err() {
            return ExitCode::from(2);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn entity(e: &Entity) -> String {
    match e {
        Entity::Any => "ANY".into(),
        Entity::None => "NONE (matches everyone, then denies)".into(),
        Entity::Some(values) => {
            let v: Vec<String> = values.iter().map(|v| format!("{:?}", v.as_str())).collect();
            format!("[{}]", v.join(", "))
        }
    }
}

fn explain(
    file: &Path,
    action: &str,
    principal: Option<&str>,
    objects: &[String],
    policy: &PolicyArgs,
) -> ExitCode {
    let Some(action) = Action::from_name(action) else {
        eprintln!("error: unknown action `{action}`");
        return ExitCode::from(2);
    };
    let (src, acls, _) = match load(file, policy) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let object = (!objects.is_empty()).then_some(objects);
    let d = decide(&acls, action, principal, object, objects.len() <= 1, None);
    let list = action.list();
    let mut o = String::new();
    let who = principal.map_or(
        "no principal (unauthenticated: matches only ANY/NONE principals)".to_owned(),
        |p| format!("principal {p:?}"),
    );
    let what = match objects {
        [] => "no object (matches only ANY/NONE objects)".to_owned(),
        [one] => format!("{} {one:?}", list.object_field().trim_end_matches('s')),
        many => format!("{} {:?} (each must be allowed)", list.object_field(), many),
    };
    o.push_str(&format!("request:  {action} by {who} on {what}\n"));
    o.push_str(&format!(
        "policy:   {} ({} ACLs, {} in `{}`, permissive = {})\n",
        file.display(),
        acls.rule_count(),
        src.acls(list).len(),
        list.key(),
        acls.permissive()
    ));
    o.push_str(&format!(
        "decision: {}\n",
        if d.is_allowed() { "ALLOW" } else { "DENY" }
    ));
    o.push_str(&format!("reason:   {}\n", d.reason()));
    if let Reason::Rule(r) = d.reason()
        && let Some(rule) = src.acls(r.list).get(r.index as usize)
    {
        o.push_str(&format!(
            "rule:     {}:{}  {}[{}]\n",
            file.display(),
            r.location,
            r.list.key(),
            r.index
        ));
        o.push_str(&format!(
            "            principals: {}\n",
            entity(rule.principals())
        ));
        o.push_str(&format!(
            "            {}: {}\n",
            r.list.object_field(),
            entity(rule.object())
        ));
        let skipped = r.index as usize;
        let later = src.acls(r.list).len().saturating_sub(skipped + 1);
        o.push_str(&format!(
            "          the first ACL whose principals and {} both match decides: {skipped} earlier ACL(s) did not match, {later} later ACL(s) were not consulted\n",
            r.list.object_field()
        ));
    }
    let _ = std::io::stdout().write_all(o.as_bytes());
    if d.is_allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
