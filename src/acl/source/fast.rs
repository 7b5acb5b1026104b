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
//!
//! A large text is cut into pieces at ACL starts and the pieces are read on
//! several threads. A piece after the first starts inside a list it cannot
//! name, so it reads that list's ACLs without knowing their list, noting
//! the object key they use and what the list rules would ask; the pieces
//! are then joined in file order, checking each piece ended exactly where
//! the next starts. Anything that does not fit (a cut that was not an ACL
//! start, a piece that failed) sends the whole text to the one-piece read,
//! so a split can only be faster, never different.

use crate::json::Scanner;
use crate::span::Location;

use super::super::kind::{AclList, ENDPOINT_PATHS, LIST_COUNT, ObjectRule};
use super::{Acl, AclSource, Entity, Locator, Text, Value};

/// Texts this large are read in pieces on several threads (below, a thread
/// costs more than it saves).
const PARALLEL_FROM: usize = 1 << 20;

/// Parses `src` strictly, or `None` if the full reader must look at it.
pub(super) fn parse(src: &str) -> Option<AclSource> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if src.len() >= PARALLEL_FROM && threads > 1 {
        let cuts = cuts(src, threads);
        if !cuts.is_empty()
            && let Some(source) = parse_in_pieces(src, &cuts)
        {
            return Some(source);
        }
    }
    join(src.len(), vec![piece(src, 0, None)?])
}

/// Where to cut `src` for `threads` pieces: for each further piece, the
/// first line at or after its share whose first token is `{` and whose
/// previous token is `,` (an array element that is an object: in an ACL
/// file, an ACL). Lines only, because no JSON string holds a raw newline,
/// so a line start is never inside one.
fn cuts(src: &str, threads: usize) -> Vec<usize> {
    // How far past its share a cut is looked for (pretty-printed ACLs take
    // a dozen lines; a text with no usable line is read in one piece).
    const LOOK: usize = 64 * 1024;
    let bytes = src.as_bytes();
    let share = src.len() / threads;
    let mut out: Vec<usize> = Vec::new();
    for k in 1..threads {
        let mut at = share.saturating_mul(k);
        let end = at.saturating_add(LOOK).min(src.len());
        while at < end {
            let Some(nl) = bytes
                .get(at..end)
                .and_then(|r| r.iter().position(|&b| b == b'\n'))
            else {
                break;
            };
            let line = at + nl + 1;
            let rest = bytes.get(line..).unwrap_or_default();
            let ws = rest.iter().take_while(|b| b" \t\r".contains(b)).count();
            let before = bytes.get(..at + nl).unwrap_or_default();
            let prev = before.iter().rev().find(|b| !b" \t\r\n".contains(b));
            if rest.get(ws) == Some(&b'{') && prev == Some(&b',') {
                let cut = line + ws;
                if out.last().is_none_or(|&c| c < cut) {
                    out.push(cut);
                }
                break;
            }
            at = line;
        }
    }
    out
}

/// Reads `src` in pieces cut at `cuts` (increasing offsets, each where an
/// ACL would start), one thread each; `None` if any piece fails or the
/// pieces do not join up (the caller then reads it in one piece).
fn parse_in_pieces(src: &str, cuts: &[usize]) -> Option<AclSource> {
    let mut bounds = Vec::with_capacity(cuts.len() + 1);
    bounds.push(0);
    bounds.extend_from_slice(cuts);
    let work = |k: usize| {
        let from = *bounds.get(k)?;
        piece(src, from, bounds.get(k + 1).copied())
    };
    let parts: Vec<Option<Part>> = std::thread::scope(|scope| {
        let work = &work;
        let others: Vec<_> = (1..bounds.len())
            .map(|k| {
                let handle = std::thread::Builder::new()
                    .name("acl-parse".into())
                    .spawn_scoped(scope, move || work(k))
                    .ok();
                (k, handle)
            })
            .collect();
        let mut parts = Vec::with_capacity(bounds.len());
        parts.push(work(0));
        for (k, handle) in others {
            // A thread that could not start (or failed) is done here.
            parts.push(
                handle
                    .and_then(|h| h.join().ok())
                    .unwrap_or_else(|| work(k)),
            );
        }
        parts
    });
    join(src.len(), parts.into_iter().collect::<Option<Vec<_>>>()?)
}

/// What one piece read, in file order.
struct Part {
    /// `permissive` values it read.
    permissive: Vec<bool>,
    /// Its ACLs, in runs of one list each. Only a piece after the first
    /// starts with a run whose list it does not know.
    runs: Vec<Run>,
    /// Whether its last run's list goes on in the next piece.
    open: bool,
}

/// ACLs of one list, read in one piece.
struct Run {
    /// `None`: the list the previous piece stopped in. Its ACLs then carry
    /// a placeholder list and their index within the run, set when joined.
    list: Option<AclList>,
    acls: Vec<Acl>,
    /// For an unnamed run: the object key its ACLs use, whether one has a
    /// SOME object, and whether a SOME value is not an endpoint path (the
    /// list rules, checked when the list is known).
    key: Option<Box<str>>,
    some: bool,
    off_path: bool,
}

impl Run {
    fn new(list: Option<AclList>) -> Self {
        Self {
            list,
            acls: Vec::new(),
            key: None,
            some: false,
            off_path: false,
        }
    }
}

/// The location of byte `offset` (a character boundary), counted from the
/// start: where a piece's locator starts.
fn location_at(src: &str, offset: usize) -> Option<Location> {
    let before = src.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let newlines = count_newlines(before.as_bytes());
    let column = before.get(line_start..)?.chars().count();
    let saturate = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1);
    Some(Location {
        line: saturate(newlines),
        column: saturate(column),
    })
}

/// The newlines in `bytes`, counted in byte lanes the compiler keeps in
/// vector registers (a piece of a large text counts everything before it:
/// tens of megabytes, where a count a byte at a time showed in profiles).
fn count_newlines(bytes: &[u8]) -> usize {
    const LANES: usize = 32;
    let mut total = 0;
    // At most 255 rows a block, so no lane can overflow.
    for block in bytes.chunks(LANES * 255) {
        let mut lanes = [0u8; LANES];
        let mut rows = block.chunks_exact(LANES);
        for row in rows.by_ref() {
            for (lane, &b) in lanes.iter_mut().zip(row) {
                *lane = lane.wrapping_add(u8::from(b == b'\n'));
            }
        }
        total += lanes.iter().map(|&n| usize::from(n)).sum::<usize>();
        total += rows.remainder().iter().filter(|&&b| b == b'\n').count();
    }
    total
}

/// Reads the piece of `src` from `from` (0: the document start; else an
/// ACL start inside a list) to `stop` (the next piece's start, met right
/// after a `,` between two ACLs) or, without one, to the document's end.
fn piece(src: &str, from: usize, stop: Option<usize>) -> Option<Part> {
    let lines = if from == 0 {
        Locator::new(src)
    } else {
        Locator::starting_at(src, from, location_at(src, from)?)
    };
    let mut s = Scanner::at(src, from);
    let mut part = Part {
        permissive: Vec::new(),
        runs: Vec::new(),
        open: false,
    };
    let mut scratch = Vec::new();
    if from == 0 {
        if !s.eat(b'{') {
            return None;
        }
        if s.eat(b'}') {
            return (s.at_end() && stop.is_none()).then_some(part);
        }
    } else {
        if !acls(&mut s, &lines, &mut part, None, stop, &mut scratch)? {
            return Some(part);
        }
        if s.eat(b'}') {
            return (s.at_end() && stop.is_none()).then_some(part);
        }
        if !s.eat(b',') {
            return None;
        }
    }
    loop {
        let (key, _) = s.string()?;
        if !s.eat(b':') {
            return None;
        }
        if &*key == "permissive" {
            part.permissive.push(s.boolean()?);
        } else {
            let list = AclList::from_key(&key)?;
            if !s.eat(b'[') {
                return None;
            }
            if s.eat(b']') {
                part.runs.push(Run::new(Some(list)));
            } else if !acls(&mut s, &lines, &mut part, Some(list), stop, &mut scratch)? {
                return Some(part);
            }
        }
        if s.eat(b'}') {
            break;
        }
        if !s.eat(b',') {
            return None;
        }
    }
    (s.at_end() && stop.is_none()).then_some(part)
}

/// Reads ACLs from the scanner's place (an ACL start) into a new run of
/// `part`: through the list's `]` (then `Some(true)`) or up to `stop`
/// (then `Some(false)`, and the part is left open).
fn acls(
    s: &mut Scanner<'_>,
    lines: &Locator<'_>,
    part: &mut Part,
    list: Option<AclList>,
    stop: Option<usize>,
    scratch: &mut Vec<Value>,
) -> Option<bool> {
    let mut run = Run::new(list);
    let closed = loop {
        let index = u32::try_from(run.acls.len()).ok()?;
        let acl = acl(s, lines, &mut run, index, scratch)?;
        run.acls.push(acl);
        if s.eat(b']') {
            break true;
        }
        if !s.eat(b',') {
            return None;
        }
        if let Some(stop) = stop {
            let at = s.offset();
            if at == stop {
                break false;
            }
            if at > stop {
                return None;
            }
        }
    };
    if closed {
        // Most lists are read once and kept: give back the growth slack.
        run.acls.shrink_to_fit();
    }
    part.open = !closed;
    part.runs.push(run);
    Some(closed)
}

/// Joins the pieces' parts, in file order, into the source; `None` if they
/// do not make one strict document.
fn join(bytes: usize, parts: Vec<Part>) -> Option<AclSource> {
    let mut source = AclSource {
        permissive: None,
        lists: vec![Vec::new(); LIST_COUNT],
        warnings: Vec::new(),
        bytes,
    };
    // A list named twice (even empty) is a duplicate key.
    let mut seen = [false; LIST_COUNT];
    // The list the previous part stopped in.
    let mut open: Option<AclList> = None;
    for part in parts {
        for p in part.permissive {
            if source.permissive.replace(p).is_some() {
                return None;
            }
        }
        let count = part.runs.len();
        for (i, run) in part.runs.into_iter().enumerate() {
            let list = match (run.list, open.take()) {
                (None, Some(list)) => {
                    let rule = match list.object_rule() {
                        ObjectRule::NoSome => !run.some,
                        ObjectRule::Endpoints => !run.off_path,
                        ObjectRule::Free => true,
                    };
                    if !rule || run.key.as_deref() != Some(list.object_field()) {
                        return None;
                    }
                    let kept = source.lists.get_mut(list.index())?;
                    let base = u32::try_from(kept.len()).ok()?;
                    kept.reserve_exact(run.acls.len());
                    for mut acl in run.acls {
                        acl.list = list;
                        acl.index = acl.index.checked_add(base)?;
                        kept.push(acl);
                    }
                    list
                }
                (Some(list), None) => {
                    let slot = seen.get_mut(list.index())?;
                    if *slot {
                        return None;
                    }
                    *slot = true;
                    *source.lists.get_mut(list.index())? = run.acls;
                    list
                }
                _ => return None,
            };
            if part.open && i + 1 == count {
                open = Some(list);
            }
        }
    }
    if open.is_some() || source.permissive.is_none() {
        return None;
    }
    for list in &mut source.lists {
        // A list continued across pieces grew past its length.
        list.shrink_to_fit();
    }
    let has = |l: AclList| !source.acls(l).is_empty();
    if has(AclList::UpdateQuotas) && (has(AclList::SetQuotas) || has(AclList::RemoveQuotas)) {
        return None;
    }
    Some(source)
}

fn acl(
    s: &mut Scanner<'_>,
    lines: &Locator<'_>,
    run: &mut Run,
    index: u32,
    scratch: &mut Vec<Value>,
) -> Option<Acl> {
    // Located before its contents: the locator walks forward.
    let location = lines.location(s.offset());
    if !s.eat(b'{') {
        return None;
    }
    let mut principals = None;
    let mut object = None;
    loop {
        let (key, _) = s.string()?;
        if !s.eat(b':') {
            return None;
        }
        let slot = if &*key == "principals" {
            &mut principals
        } else {
            let known = match (run.list, &run.key) {
                (Some(list), _) => &*key == list.object_field(),
                (None, Some(seen)) => *key == **seen,
                // The first object key of an unnamed run is the one its
                // list must have; checked when the pieces are joined.
                (None, None) => {
                    run.key = Some(Box::from(&*key));
                    true
                }
            };
            if !known {
                return None;
            }
            &mut object
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
    let off_path = |values: &[Value]| values.iter().any(|v| !ENDPOINT_PATHS.contains(&v.as_str()));
    match (run.list, &object) {
        (Some(list), Entity::Some(values)) => match list.object_rule() {
            ObjectRule::NoSome => return None,
            ObjectRule::Endpoints if off_path(values) => return None,
            _ => {}
        },
        (None, Entity::Some(values)) => {
            run.some = true;
            if !run.off_path && off_path(values) {
                run.off_path = true;
            }
        }
        _ => {}
    }
    Some(Acl {
        // An unnamed run's list is set when the pieces are joined.
        list: run.list.unwrap_or(AclList::RunTasks),
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
            text: Text::new(&text),
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
