//! The reference interpreter: a literal port of the Mesos local authorizer
//! (`matches` / `allows`, first match, `permissive`, `/%` subtrees), kept as
//! the oracle that [`CompiledAcls`](super::CompiledAcls) is tested and
//! fuzzed against (threats.md AC-10).
//!
//! It scans every ACL of the list on every request, so it is slow on
//! purpose: each branch maps to a line of mesos-reference.md §2.4–§2.6.
//! It shares only request validation with the compiled form.

use super::compile::DEFAULT_MAX_STRING_LEN;
use super::decision::{
    Decision, LegacyQuotaOp, Object, Reason, Request, RequestError, RuleRef, check_object,
    check_principal,
};
use super::kind::{AclList, Action};
use super::source::{Acl, AclSource, Entity};

/// A request entity: `None` is ANY (no principal / no object).
type Req<'a> = Option<&'a str>;

fn matches(request: Req<'_>, acl: &Entity) -> bool {
    match (request, acl) {
        (None, Entity::Any | Entity::None) => true,
        (None, Entity::Some(_)) => false,
        (Some(_), Entity::Any | Entity::None) => true,
        (Some(x), Entity::Some(values)) => values.iter().any(|v| v.as_str() == x),
    }
}

fn allows(request: Req<'_>, acl: &Entity) -> bool {
    match (request, acl) {
        (None, Entity::Any) => true,
        (None, _) => false,
        (Some(_), Entity::Any) => true,
        (Some(_), Entity::None) => false,
        (Some(x), Entity::Some(values)) => values.iter().any(|v| v.as_str() == x),
    }
}

fn rule_ref(acl: &Acl) -> RuleRef {
    RuleRef {
        list: acl.list,
        index: acl.index,
        location: acl.location,
    }
}

/// The flat engine: the first ACL whose subject and object match decides.
fn first_match(acls: &[Acl], subject: Req<'_>, object: Req<'_>, permissive: bool) -> Decision {
    for acl in acls {
        if matches(subject, &acl.principals) && matches(object, &acl.object) {
            let ok = allows(subject, &acl.principals) && allows(object, &acl.object);
            return Decision::from_bool(ok, Reason::Rule(rule_ref(acl)));
        }
    }
    Decision::from_bool(permissive, Reason::NoMatch { permissive })
}

/// One rule after `createHierarchicalRoleACLs`.
enum Derived<'a> {
    Plain(&'a Acl, Entity),
    /// `x/%`: the prefix `x/`.
    Recursive(&'a Acl, &'a str),
}

fn split_hierarchical(acls: &[Acl]) -> Vec<Derived<'_>> {
    let mut out = Vec::new();
    for acl in acls {
        match &acl.object {
            Entity::Some(values) => {
                let mut plain = Vec::new();
                for v in values {
                    match v.as_str().strip_suffix('%') {
                        Some(prefix) if prefix.ends_with('/') => {
                            out.push(Derived::Recursive(acl, prefix));
                        }
                        _ => plain.push(v.clone()),
                    }
                }
                if !plain.is_empty() {
                    out.push(Derived::Plain(acl, Entity::Some(plain)));
                }
            }
            // Values of ANY/NONE never reach here (the parser drops them),
            // so Mesos bug B1 cannot occur.
            other => out.push(Derived::Plain(acl, other.clone())),
        }
    }
    out
}

fn hierarchical_match(
    rules: &[Derived<'_>],
    subject: Req<'_>,
    object: Req<'_>,
    permissive: bool,
) -> Decision {
    for rule in rules {
        match rule {
            Derived::Plain(acl, obj) => {
                if matches(subject, &acl.principals) && matches(object, obj) {
                    let ok = allows(subject, &acl.principals) && allows(object, obj);
                    return Decision::from_bool(ok, Reason::Rule(rule_ref(acl)));
                }
            }
            Derived::Recursive(acl, prefix) => {
                if let Some(o) = object
                    && o.starts_with(prefix)
                    && matches(subject, &acl.principals)
                {
                    // The object counts as ANY (allowed).
                    let ok = allows(subject, &acl.principals);
                    return Decision::from_bool(ok, Reason::Rule(rule_ref(acl)));
                }
            }
        }
    }
    Decision::from_bool(permissive, Reason::NoMatch { permissive })
}

fn deny(e: RequestError) -> Decision {
    Decision::Deny(Reason::InvalidRequest(e))
}

/// Decides `request` by scanning `source` as Mesos does.
pub fn authorize(source: &AclSource, request: &Request<'_>) -> Decision {
    let max = DEFAULT_MAX_STRING_LEN;
    let permissive = source.permissive();
    let subject = request.principal;
    if let Some(p) = subject
        && let Err(e) = check_principal(p, max)
    {
        return deny(e);
    }
    let action = request.action;

    // Legacy (Mesos 1.0-1.2) quota ACLs.
    if action == Action::UpdateQuotas
        && let Some(op) = request.legacy_quota_op
    {
        let object = match request.object {
            Object::Absent => None,
            Object::One(o) => Some(o),
            Object::Many(_) => return deny(RequestError::ObjectListNotAllowed),
        };
        if let Some(o) = object
            && let Err(e) = check_object(o, false, max)
        {
            return deny(e);
        }
        let set = source.acls(AclList::SetQuotas);
        let remove = source.acls(AclList::RemoveQuotas);
        let list = if set.is_empty() && remove.is_empty() {
            source.acls(AclList::UpdateQuotas)
        } else {
            match op {
                LegacyQuotaOp::SetQuota => set,
                LegacyQuotaOp::RemoveQuota => remove,
            }
        };
        return first_match(list, subject, object, permissive);
    }

    let list = action.list();
    let acls = source.acls(list);
    let object = if action.implicit_object() {
        Object::Absent
    } else {
        request.object
    };
    let hierarchical = list.hierarchical();
    match object {
        Object::Absent => {}
        Object::One(o) => {
            if let Err(e) = check_object(o, hierarchical, max) {
                return deny(e);
            }
        }
        Object::Many(os) => {
            if !action.takes_role_list() {
                return deny(RequestError::ObjectListNotAllowed);
            }
            for o in os.iter() {
                if let Err(e) = check_object(o, hierarchical, max) {
                    return deny(e);
                }
            }
        }
    }
    if !hierarchical {
        let Object::One(o) = object else {
            return first_match(acls, subject, None, permissive);
        };
        return first_match(acls, subject, Some(o), permissive);
    }
    let rules = split_hierarchical(acls);
    match object {
        Object::Absent => hierarchical_match(&rules, subject, None, permissive),
        Object::One(o) => hierarchical_match(&rules, subject, Some(o), permissive),
        Object::Many(roles) => {
            if roles.is_empty() {
                return if action == Action::RegisterFrameworks {
                    Decision::from_bool(permissive, Reason::NoRoles { permissive })
                } else {
                    Decision::Allow(Reason::NothingToAuthorize)
                };
            }
            let mut first = None;
            for r in roles.iter() {
                let d = hierarchical_match(&rules, subject, Some(r), permissive);
                if !d.is_allowed() {
                    return d;
                }
                first.get_or_insert(d);
            }
            first.unwrap_or(Decision::Allow(Reason::NothingToAuthorize))
        }
    }
}
