//! Findings about a policy that parses and compiles but probably does not
//! say what its author meant.

use std::fmt;

use crate::span::Location;

use super::compile::CompiledAcls;
use super::decision::valid_role;
use super::kind::AclList;
use super::source::{Acl, AclSource, Entity};

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// Every request this ACL matches is decided by earlier ACLs.
    Shadowed,
    /// The ACL can match nothing (an empty value set).
    MatchesNothing,
    /// A list Mesos ignores since 1.3 (`set_quotas`, `remove_quotas`).
    LegacyList,
    /// A value that looks like a wildcard (`*`, `%`) but is a literal here,
    /// or a role no valid request can name.
    NeverMatches,
    /// `permissive` is unset, so unmatched requests are allowed.
    PermissiveUnset,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// JSON path, like `$.run_tasks[3]`.
    pub path: String,
    /// Where.
    pub location: Location,
    /// Explanation.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.path, self.message)
    }
}

/// Lints `source`, compiled as `compiled` (used to find shadowed ACLs).
pub fn lint(source: &AclSource, compiled: &CompiledAcls) -> Vec<Finding> {
    let mut out = Vec::new();
    if !source.permissive_is_set() {
        out.push(Finding {
            kind: FindingKind::PermissiveUnset,
            path: "$.permissive".into(),
            location: Location { line: 1, column: 1 },
            message: "`permissive` is not set: requests no ACL matches are allowed".into(),
        });
    }
    for list in AclList::ALL {
        let acls = source.acls(*list);
        if list.is_legacy() {
            if let Some(first) = acls.first() {
                out.push(Finding {
                    kind: FindingKind::LegacyList,
                    path: format!("$.{}", list.key()),
                    location: first.location,
                    message: format!(
                        "`{}` is ignored by Mesos 1.3 and later; use `update_quotas`",
                        list.key()
                    ),
                });
            }
            continue;
        }
        for acl in acls {
            values(acl, &mut out);
            shadowed(acl, compiled, &mut out);
        }
    }
    out
}

fn path(acl: &Acl) -> String {
    format!("$.{}[{}]", acl.list.key(), acl.index)
}

fn values(acl: &Acl, out: &mut Vec<Finding>) {
    let hier = acl.list.hierarchical();
    let roles = acl.list.object_field() == "roles";
    for (field, entity, is_object) in [
        ("principals", &acl.principals, false),
        (acl.list.object_field(), &acl.object, true),
    ] {
        let Entity::Some(values) = entity else {
            continue;
        };
        if values.is_empty() {
            out.push(Finding {
                kind: FindingKind::MatchesNothing,
                path: format!("{}.{field}", path(acl)),
                location: acl.location,
                message: "entity has no values, so this ACL matches nothing".into(),
            });
        }
        for (i, v) in values.iter().enumerate() {
            let s = v.as_str();
            let p = format!("{}.{field}.values[{i}]", path(acl));
            let recursive = hier && is_object && s.ends_with("/%");
            let msg = if s == "*" && !(is_object && roles) {
                Some(
                    "`*` is a literal name here, not a wildcard; use {\"type\": \"ANY\"}"
                        .to_owned(),
                )
            } else if s.contains('%') && !recursive {
                Some(if is_object && roles {
                    "`%` is only special as a final `/%` (role subtree); here it is a literal"
                        .to_owned()
                } else {
                    format!("`%` is a literal in `{field}`; subtrees (`x/%`) exist only for roles")
                })
            } else if is_object && hier && !recursive && !valid_role(s) {
                Some(format!(
                    "`{}` is not a valid role, so no request can match it",
                    s.escape_debug()
                ))
            } else {
                None
            };
            if let Some(message) = msg {
                out.push(Finding {
                    kind: FindingKind::NeverMatches,
                    path: p,
                    location: v.location,
                    message,
                });
            }
        }
    }
}

/// An ACL is shadowed when every (subject, object) it matches is decided
/// by an earlier ACL. A subject of ANY/NONE stands for "any principal",
/// probed with no principal (which only ANY/NONE subjects match, like an
/// unknown principal); likewise an ANY/NONE object; `x/%` is probed with
/// an unknown child of `x`.
fn shadowed(acl: &Acl, compiled: &CompiledAcls, out: &mut Vec<Finding>) {
    let subjects: Vec<Option<&str>> = match &acl.principals {
        Entity::Some(v) => v.iter().map(|v| Some(v.as_str())).collect(),
        _ => vec![None],
    };
    let hier = acl.list.hierarchical();
    let objects: Vec<Option<String>> = match &acl.object {
        Entity::Some(v) => v
            .iter()
            .map(|v| {
                let s = v.as_str();
                match s.strip_suffix('%') {
                    Some(prefix) if hier && prefix.ends_with('/') => Some(format!("{prefix}\u{1}")),
                    _ => Some(s.to_owned()),
                }
            })
            .collect(),
        _ => vec![None],
    };
    if subjects.is_empty() || objects.is_empty() {
        return;
    }
    let mut by = None;
    for s in &subjects {
        for o in &objects {
            match compiled.first_rule(acl.list, *s, o.as_deref()) {
                Some(r) if r.index < acl.index => {
                    by = by.max(Some(r.index));
                }
                _ => return,
            }
        }
    }
    if let Some(by) = by {
        out.push(Finding {
            kind: FindingKind::Shadowed,
            path: path(acl),
            location: acl.location,
            message: format!(
                "never decides anything: every request it matches is decided earlier (last by `{}[{by}]`)",
                acl.list.key()
            ),
        });
    }
}
