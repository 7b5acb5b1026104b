//! The fast path for strict ACL text: one pass over the bytes that builds
//! the [`AclSource`] directly, with no JSON tree (a tree of 1,000,000 ACLs
//! costs seconds and more than a gigabyte; this costs the text's size once).
//!
//! It accepts only what the full reader would accept without a single
//! error, and builds exactly what the full reader builds. At the first
//! thing it does not expect (a syntax error, an unknown or repeated key, a
//! wrong type, a value the full reader would complain about) it gives up,
//! and the caller reads the text again with the full reader, which reports
//! every problem with its path and line:column. So the messages cannot
//! differ: only the full reader writes them.

use crate::json::Scanner;

use super::super::kind::{AclList, ENDPOINT_PATHS, LIST_COUNT, ObjectRule};
use super::{Acl, AclSource, Entity, Locator, Value};

/// Parses `src` strictly, or `None` if the full reader must look at it.
pub(super) fn parse(src: &str) -> Option<AclSource> {
    let lines = Locator::new(src);
    let mut s = Scanner::new(src);
    let mut source = AclSource {
        permissive: None,
        lists: vec![Vec::new(); LIST_COUNT],
        warnings: Vec::new(),
        bytes: src.len(),
    };
    // A list named twice (even empty) is a duplicate key.
    let mut seen = [false; LIST_COUNT];
    if !s.eat(b'{') {
        return None;
    }
    if !s.eat(b'}') {
        loop {
            let (key, _) = s.string()?;
            if !s.eat(b':') {
                return None;
            }
            if &*key == "permissive" {
                if source.permissive.is_some() {
                    return None;
                }
                source.permissive = Some(s.boolean()?);
            } else {
                let list = AclList::from_key(&key)?;
                let slot = seen.get_mut(list.index())?;
                if *slot {
                    return None;
                }
                *slot = true;
                let acls = acl_list(&mut s, &lines, list)?;
                *source.lists.get_mut(list.index())? = acls;
            }
            if s.eat(b'}') {
                break;
            }
            if !s.eat(b',') {
                return None;
            }
        }
    }
    if !s.at_end() || source.permissive.is_none() {
        return None;
    }
    let has = |l: AclList| !source.acls(l).is_empty();
    if has(AclList::UpdateQuotas) && (has(AclList::SetQuotas) || has(AclList::RemoveQuotas)) {
        return None;
    }
    Some(source)
}

fn acl_list(s: &mut Scanner<'_>, lines: &Locator<'_>, list: AclList) -> Option<Vec<Acl>> {
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    if !s.eat(b'[') {
        return None;
    }
    if s.eat(b']') {
        return Some(out);
    }
    loop {
        let index = u32::try_from(out.len()).ok()?;
        out.push(acl(s, lines, list, index, &mut scratch)?);
        if s.eat(b']') {
            // Most lists are read once and kept: give back the growth slack.
            out.shrink_to_fit();
            return Some(out);
        }
        if !s.eat(b',') {
            return None;
        }
    }
}

fn acl(
    s: &mut Scanner<'_>,
    lines: &Locator<'_>,
    list: AclList,
    index: u32,
    scratch: &mut Vec<Value>,
) -> Option<Acl> {
    // Located before its contents: the locator walks forward.
    let location = lines.location(s.offset());
    if !s.eat(b'{') {
        return None;
    }
    let field = list.object_field();
    let mut principals = None;
    let mut object = None;
    loop {
        let (key, _) = s.string()?;
        if !s.eat(b':') {
            return None;
        }
        let slot = if &*key == "principals" {
            &mut principals
        } else if &*key == field {
            &mut object
        } else {
            return None;
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(entity(s, lines, scratch)?);
        if s.eat(b'}') {
            break;
        }
        if !s.eat(b',') {
            return None;
        }
    }
    let (principals, object) = (principals?, object?);
    match (list.object_rule(), &object) {
        (ObjectRule::NoSome, Entity::Some(_)) => return None,
        (ObjectRule::Endpoints, Entity::Some(values))
            if values.iter().any(|v| !ENDPOINT_PATHS.contains(&v.as_str())) =>
        {
            return None;
        }
        _ => {}
    }
    Some(Acl {
        list,
        index,
        location,
        principals,
        object,
    })
}

/// The entity types the full reader accepts without a problem.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Some,
    Any,
    None,
}

fn entity(s: &mut Scanner<'_>, lines: &Locator<'_>, scratch: &mut Vec<Value>) -> Option<Entity> {
    if !s.eat(b'{') {
        return None;
    }
    let mut kind = None;
    let mut values: Option<Vec<Value>> = None;
    if !s.eat(b'}') {
        loop {
            let (key, _) = s.string()?;
            if !s.eat(b':') {
                return None;
            }
            match &*key {
                "type" if kind.is_none() => {
                    let (name, _) = s.string()?;
                    kind = Some(match &*name {
                        "SOME" => Type::Some,
                        "ANY" => Type::Any,
                        "NONE" => Type::None,
                        _ => return None,
                    });
                }
                "values" if values.is_none() => values = Some(strings(s, lines, scratch)?),
                _ => return None,
            }
            if s.eat(b'}') {
                break;
            }
            if !s.eat(b',') {
                return None;
            }
        }
    }
    match (kind, values) {
        // ANY/NONE with values, and SOME without any, are problems.
        (Some(Type::Any), None) => Some(Entity::Any),
        (Some(Type::None), None) => Some(Entity::None),
        (Some(Type::Some) | None, Some(values)) if !values.is_empty() => Some(Entity::Some(values)),
        _ => None,
    }
}

/// Reads an array of strings through `scratch`, so the values kept are
/// allocated once at their exact count (a million ACLs keep two or three
/// million values; growth slack would be most of their size).
fn strings(
    s: &mut Scanner<'_>,
    lines: &Locator<'_>,
    scratch: &mut Vec<Value>,
) -> Option<Vec<Value>> {
    scratch.clear();
    let out = scratch;
    if !s.eat(b'[') {
        return None;
    }
    if s.eat(b']') {
        return Some(Vec::new());
    }
    loop {
        let (text, span) = s.string()?;
        // A control character can never match: the full reader says so.
        if has_control(&text) {
            return None;
        }
        out.push(Value {
            text: Box::from(&*text),
            location: lines.location(span.start),
        });
        if s.eat(b']') {
            // Not `mem::take`: that would keep the scratch's slack.
            let mut kept = Vec::with_capacity(out.len());
            kept.append(out);
            return Some(kept);
        }
        if !s.eat(b',') {
            return None;
        }
    }
}

/// Whether `text` holds a control character (`char::is_control`: U+0000
/// to U+001F and U+007F to U+009F). Every one of them is a byte below
/// 0x20, 0x7F, or starts with 0xC2 in UTF-8, so most values are cleared
/// by a byte test without decoding.
fn has_control(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 || b == 0x7F || b == 0xC2) && text.chars().any(char::is_control)
}

#[cfg(test)]
mod test;
