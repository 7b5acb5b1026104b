//! `mesos-auth acl ...`: check, evaluate and explain Mesos ACL files.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mesos_auth::acl::{
    self, AclError, AclSource, Action, CompiledAcls, Compiler, Decision, Entity, LegacyQuotaOp,
    Object, Options, Reason, Request,
};

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Parse, compile and lint an ACL file: exit 0 clean, 1 findings, 2 errors.
    Check {
        /// The ACL JSON file.
        file: PathBuf,
        /// Accept what Mesos >= 1.5 accepts, reporting each coercion.
        #[arg(long)]
        lenient: bool,
    },
    /// Decide requests read as JSON lines on stdin; one JSON line out per request.
    Eval {
        /// The ACL JSON file.
        #[arg(long)]
        acls: PathBuf,
        /// Accept what Mesos >= 1.5 accepts.
        #[arg(long)]
        lenient: bool,
    },
    /// Explain the decision for one request: exit 0 allowed, 1 denied, 2 errors.
    Explain {
        /// The ACL JSON file.
        #[arg(long)]
        acls: PathBuf,
        /// The action (`run_task`) or its list (`run_tasks`).
        #[arg(long)]
        action: String,
        /// The principal; omit for an unauthenticated request.
        #[arg(long)]
        principal: Option<String>,
        /// The object; repeat for several roles; omit for none.
        #[arg(long)]
        object: Vec<String>,
        /// Accept what Mesos >= 1.5 accepts.
        #[arg(long)]
        lenient: bool,
    },
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Check { file, lenient } => check(&file, lenient),
        Command::Eval { acls, lenient } => eval(&acls, lenient),
        Command::Explain {
            acls,
            action,
            principal,
            object,
            lenient,
        } => explain(&acls, &action, principal.as_deref(), &object, lenient),
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

fn load(file: &Path, lenient: bool) -> Result<(AclSource, CompiledAcls), ExitCode> {
    let src = acl::read_file(file, Options::new().lenient(lenient)).map_err(|e| {
        report(file, &e);
        ExitCode::from(2)
    })?;
    let compiled = Compiler::new().compile(&src).map_err(|e| {
        report(file, &e);
        ExitCode::from(2)
    })?;
    Ok((src, compiled))
}

fn check(file: &Path, lenient: bool) -> ExitCode {
    let (src, compiled) = match load(file, lenient) {
        Ok(x) => x,
        Err(code) => return code,
    };
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
    for f in acl::lint(&src, &compiled) {
        eprintln!(
            "{}:{}: lint: {}: {}",
            file.display(),
            f.location,
            f.path,
            f.message
        );
        findings += 1;
    }
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

fn parse_line(line: &str) -> Result<LineRequest, String> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = v.as_object().ok_or("expected a JSON object")?;
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

fn eval(file: &Path, lenient: bool) -> ExitCode {
    let (_, acls) = match load(file, lenient) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut bad = false;
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("stdin: {e}");
                return ExitCode::from(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let result = match parse_line(&line) {
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
                serde_json::json!({"error": format!("line {}: {e}", n + 1)})
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
    lenient: bool,
) -> ExitCode {
    let Some(action) = Action::from_name(action) else {
        eprintln!("error: unknown action `{action}`");
        return ExitCode::from(2);
    };
    let (src, acls) = match load(file, lenient) {
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
