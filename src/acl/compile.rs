//! [`AclSource`] → [`CompiledAcls`]: per-list hash indexes that answer with a
//! fixed number of look-ups, whatever the number of ACLs.
//!
//! Mesos decides by the *first* ACL whose subject and object both match.
//! Every (derived) rule gets its position `d` in that order, and each index
//! below keeps, per key, the smallest `d` that matches the key:
//!
//! | subject \ object | ANY/NONE      | SOME values        | `x/%` (hierarchical) |
//! |------------------|---------------|--------------------|----------------------|
//! | ANY/NONE         | `any_any`     | `by_object[oid]`   | `by_prefix[pid]`     |
//! | SOME values      | `by_subject[sid]` | `pairs[(sid, oid)]` | `prefix_pairs[(sid, pid)]` |
//!
//! A request looks up its principal (→ `sid`), its object (→ `oid`), and for
//! hierarchical lists each ancestor prefix of the role (`a/`, `a/b/`: one per
//! `/`), then takes the minimum rule position over those few buckets. Once
//! a rule matches, its verdict is fixed (allow unless either entity is NONE),
//! so the minimum decides.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use super::decision::{
    Decision, LegacyQuotaOp, Object, Reason, Request, RequestError, RuleRef, check_object,
    check_principal,
};
use super::error::{AclError, LimitError, LimitKind};
use super::kind::{AclList, Action, LIST_COUNT};
use super::source::{Acl, AclSource, Entity};

/// Most ACLs in one policy, across all lists (threats.md §0).
pub const DEFAULT_MAX_RULES: usize = 100_000;
/// Most values in one entity (threats.md §0).
pub const DEFAULT_MAX_VALUES: usize = 10_000;
/// Longest value, in bytes (threats.md §0).
pub const DEFAULT_MAX_STRING_LEN: usize = 4096;
/// Most (principal, object) pairs the compiled index may hold: an ACL with
/// SOME principals and SOME objects costs the product of their counts.
pub const DEFAULT_MAX_INDEX_ENTRIES: usize = 1 << 22;

/// Compiler limits. Unset knobs take the defaults above; configs merge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Config {
    max_rules: Option<usize>,
    max_values: Option<usize>,
    max_string_len: Option<usize>,
    max_index_entries: Option<usize>,
}

impl Config {
    /// All defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Most ACLs across all lists.
    #[must_use]
    pub fn max_rules(mut self, n: usize) -> Self {
        self.max_rules = Some(n);
        self
    }

    /// Most values in one entity.
    #[must_use]
    pub fn max_values(mut self, n: usize) -> Self {
        self.max_values = Some(n);
        self
    }

    /// Longest value in bytes; longer principals or objects in requests are denied.
    #[must_use]
    pub fn max_string_len(mut self, n: usize) -> Self {
        self.max_string_len = Some(n);
        self
    }

    /// Most (principal, object) index entries.
    #[must_use]
    pub fn max_index_entries(mut self, n: usize) -> Self {
        self.max_index_entries = Some(n);
        self
    }

    /// Knobs set in `other` override those set here.
    #[must_use]
    pub fn overwrite(self, other: Config) -> Self {
        Self {
            max_rules: other.max_rules.or(self.max_rules),
            max_values: other.max_values.or(self.max_values),
            max_string_len: other.max_string_len.or(self.max_string_len),
            max_index_entries: other.max_index_entries.or(self.max_index_entries),
        }
    }

    fn rules(&self) -> usize {
        self.max_rules.unwrap_or(DEFAULT_MAX_RULES)
    }
    fn values(&self) -> usize {
        self.max_values.unwrap_or(DEFAULT_MAX_VALUES)
    }
    fn string_len(&self) -> usize {
        self.max_string_len.unwrap_or(DEFAULT_MAX_STRING_LEN)
    }
    fn index_entries(&self) -> usize {
        self.max_index_entries.unwrap_or(DEFAULT_MAX_INDEX_ENTRIES)
    }
}

/// Builds [`CompiledAcls`].
#[derive(Debug, Clone, Default)]
pub struct Compiler {
    config: Config,
}

impl Compiler {
    /// A compiler with default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `config` (merged over the current one).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = self.config.overwrite(config);
        self
    }

    /// Compiles `source`.
    ///
    /// # Errors
    ///
    /// [`AclError::Limit`] if the policy is over a limit.
    pub fn compile(&self, source: &AclSource) -> Result<CompiledAcls, AclError> {
        let cfg = self.config;
        check_limits(source, &cfg)?;
        let mut budget = Budget {
            left: cfg.index_entries(),
            limit: cfg.index_entries(),
            used: 0,
        };
        let seed = random_seed();
        let mut tables = Vec::with_capacity(LIST_COUNT);
        for list in AclList::ALL {
            tables.push(Table::build(
                source.acls(*list),
                list.hierarchical(),
                seed,
                &mut budget,
            )?);
        }
        let legacy_update =
            Table::build(source.acls(AclList::UpdateQuotas), false, seed, &mut budget)?;
        Ok(CompiledAcls {
            permissive: source.permissive(),
            legacy_in_use: !source.acls(AclList::SetQuotas).is_empty()
                || !source.acls(AclList::RemoveQuotas).is_empty(),
            tables,
            legacy_update,
            max_string_len: cfg.string_len(),
            rules: source.iter().count(),
        })
    }
}

fn acl_path(acl: &Acl) -> String {
    format!("$.{}[{}]", acl.list.key(), acl.index)
}

fn check_limits(source: &AclSource, cfg: &Config) -> Result<(), AclError> {
    let limit = |kind, limit, found, path: String, location| {
        Err(AclError::Limit(LimitError {
            kind,
            limit,
            found,
            path,
            location,
        }))
    };
    for (n, acl) in source.iter().enumerate() {
        if n >= cfg.rules() {
            return limit(
                LimitKind::Rules,
                cfg.rules(),
                n + 1,
                acl_path(acl),
                acl.location,
            );
        }
        for (field, entity) in [
            ("principals", &acl.principals),
            (acl.list.object_field(), &acl.object),
        ] {
            let Entity::Some(values) = entity else {
                continue;
            };
            if values.len() > cfg.values() {
                return limit(
                    LimitKind::ValuesPerEntity,
                    cfg.values(),
                    values.len(),
                    format!("{}.{field}", acl_path(acl)),
                    acl.location,
                );
            }
            for (i, v) in values.iter().enumerate() {
                if v.as_str().len() > cfg.string_len() {
                    return limit(
                        LimitKind::StringBytes,
                        cfg.string_len(),
                        v.as_str().len(),
                        format!("{}.{field}.values[{i}]", acl_path(acl)),
                        v.location,
                    );
                }
            }
        }
    }
    Ok(())
}

struct Budget {
    left: usize,
    limit: usize,
    used: usize,
}

/// A seed drawn from the standard library's random hasher keys, so index
/// layouts differ per process.
fn random_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6d65_736f_735f_6163);
    h.finish()
}

/// A fast seeded hasher for the compiled indexes. Their keys come only from
/// the policy; requests only probe, and the per-process seed keeps probe
/// lengths unpredictable to whoever crafts requests.
#[derive(Debug, Clone, Copy)]
struct Seeded(u64);

impl BuildHasher for Seeded {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.0)
    }
}

#[derive(Debug, Clone, Copy)]
struct FastHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(31);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(rest) {
                *d = *s;
            }
            h = (h ^ u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59))
                .wrapping_mul(K)
                .rotate_left(31);
        }
        self.0 = h;
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0 ^ u64::from(i)).wrapping_mul(K).rotate_left(31);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0 ^ i).wrapping_mul(K).rotate_left(31);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // murmur3's fmix64: every input bit reaches the high (tag) and low
        // (bucket) bits hashbrown uses.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

type StrMap = HashMap<Box<str>, u32, Seeded>;
type PairMap = HashMap<u64, u32, Seeded>;

/// No rule: the `permissive` flag decides.
const NO_RULE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct RuleInfo {
    rule: RuleRef,
    allow: bool,
}

/// The index of one list.
#[derive(Debug, Clone)]
struct Table {
    hierarchical: bool,
    rules: Vec<RuleInfo>,
    subjects: StrMap,
    objects: StrMap,
    prefixes: StrMap,
    any_any: u32,
    by_subject: Vec<u32>,
    by_object: Vec<u32>,
    by_prefix: Vec<u32>,
    pairs: PairMap,
    prefix_pairs: PairMap,
}

enum Subj<'a> {
    All,
    Set(&'a [super::source::Value]),
}

enum Obj<'a> {
    All,
    Set(Vec<&'a str>),
    Prefix(&'a str),
}

fn intern(map: &mut StrMap, slots: &mut Vec<u32>, key: &str) -> usize {
    if let Some(&id) = map.get(key) {
        return id as usize;
    }
    let id = slots.len();
    map.insert(key.into(), u32::try_from(id).unwrap_or(u32::MAX));
    slots.push(NO_RULE);
    id
}

fn set_min(slot: Option<&mut u32>, d: u32) {
    if let Some(s) = slot {
        *s = (*s).min(d);
    }
}

#[inline]
fn pair(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl Table {
    fn build(
        acls: &[Acl],
        hierarchical: bool,
        seed: u64,
        budget: &mut Budget,
    ) -> Result<Table, AclError> {
        let s = Seeded(seed);
        let mut t = Table {
            hierarchical,
            rules: Vec::new(),
            subjects: HashMap::with_hasher(s),
            objects: HashMap::with_hasher(s),
            prefixes: HashMap::with_hasher(s),
            any_any: NO_RULE,
            by_subject: Vec::new(),
            by_object: Vec::new(),
            by_prefix: Vec::new(),
            pairs: HashMap::with_hasher(s),
            prefix_pairs: HashMap::with_hasher(s),
        };
        // Size the maps once: rehashing 10^5 keys is most of a compile.
        let count = |e: &Entity| match e {
            Entity::Some(v) => v.len(),
            _ => 0,
        };
        let (mut ns, mut no, mut np) = (0usize, 0usize, 0usize);
        for acl in acls {
            let (a, b) = (count(&acl.principals), count(&acl.object));
            ns += a;
            no += b;
            np = np.saturating_add(a.saturating_mul(b));
        }
        let np = np.min(budget.left);
        t.subjects.reserve(ns);
        t.objects.reserve(no);
        t.pairs.reserve(np);
        t.by_subject.reserve(ns);
        t.by_object.reserve(no);
        t.rules.reserve(acls.len());
        for acl in acls {
            let rule = RuleRef {
                list: acl.list,
                index: acl.index,
                location: acl.location,
            };
            let subj = match &acl.principals {
                Entity::Any | Entity::None => Subj::All,
                Entity::Some(v) => Subj::Set(v),
            };
            let subj_allows = !matches!(acl.principals, Entity::None);
            // createHierarchicalRoleACLs: each `x/%` value first, then the rest.
            let mut derived: Vec<(Obj<'_>, bool)> = Vec::new();
            match &acl.object {
                Entity::Any => derived.push((Obj::All, true)),
                Entity::None => derived.push((Obj::All, false)),
                Entity::Some(values) => {
                    let mut plain = Vec::new();
                    for v in values {
                        let text = v.as_str();
                        match text.strip_suffix('%') {
                            Some(prefix) if hierarchical && prefix.ends_with('/') => {
                                derived.push((Obj::Prefix(prefix), true));
                            }
                            _ => plain.push(text),
                        }
                    }
                    if !plain.is_empty() {
                        derived.push((Obj::Set(plain), true));
                    }
                }
            }
            for (obj, obj_allows) in derived {
                let d = u32::try_from(t.rules.len()).unwrap_or(NO_RULE - 1);
                t.rules.push(RuleInfo {
                    rule,
                    allow: subj_allows && obj_allows,
                });
                t.insert(&subj, &obj, d, acl, budget)?;
            }
        }
        Ok(t)
    }

    fn insert(
        &mut self,
        subj: &Subj<'_>,
        obj: &Obj<'_>,
        d: u32,
        acl: &Acl,
        budget: &mut Budget,
    ) -> Result<(), AclError> {
        match (subj, obj) {
            (Subj::All, Obj::All) => self.any_any = self.any_any.min(d),
            (Subj::All, Obj::Set(os)) => {
                for o in os {
                    let id = intern(&mut self.objects, &mut self.by_object, o);
                    set_min(self.by_object.get_mut(id), d);
                }
            }
            (Subj::All, Obj::Prefix(p)) => {
                let id = intern(&mut self.prefixes, &mut self.by_prefix, p);
                set_min(self.by_prefix.get_mut(id), d);
            }
            (Subj::Set(ss), Obj::All) => {
                for s in *ss {
                    let id = intern(&mut self.subjects, &mut self.by_subject, s.as_str());
                    set_min(self.by_subject.get_mut(id), d);
                }
            }
            (Subj::Set(ss), Obj::Set(os)) => {
                let n = ss.len().saturating_mul(os.len());
                budget.take(n, acl)?;
                let oids: Vec<u32> = os
                    .iter()
                    .map(|o| intern(&mut self.objects, &mut self.by_object, o) as u32)
                    .collect();
                for s in *ss {
                    let sid = intern(&mut self.subjects, &mut self.by_subject, s.as_str()) as u32;
                    for &oid in &oids {
                        self.pairs.entry(pair(sid, oid)).or_insert(d);
                    }
                }
            }
            (Subj::Set(ss), Obj::Prefix(p)) => {
                budget.take(ss.len(), acl)?;
                let pid = intern(&mut self.prefixes, &mut self.by_prefix, p) as u32;
                for s in *ss {
                    let sid = intern(&mut self.subjects, &mut self.by_subject, s.as_str()) as u32;
                    self.prefix_pairs.entry(pair(sid, pid)).or_insert(d);
                }
            }
        }
        Ok(())
    }

    /// Position of the first rule matching `subject` and `object`.
    #[inline]
    fn first(&self, subject: Option<&str>, object: Option<&str>) -> u32 {
        let mut best = self.any_any;
        let sid = subject.and_then(|p| self.subjects.get(p)).copied();
        if let Some(sid) = sid {
            best = best.min(
                self.by_subject
                    .get(sid as usize)
                    .copied()
                    .unwrap_or(NO_RULE),
            );
        }
        let Some(o) = object else { return best };
        if let Some(&oid) = self.objects.get(o) {
            best = best.min(self.by_object.get(oid as usize).copied().unwrap_or(NO_RULE));
            if let Some(sid) = sid
                && let Some(&d) = self.pairs.get(&pair(sid, oid))
            {
                best = best.min(d);
            }
        }
        if self.hierarchical && !self.prefixes.is_empty() {
            // `x/%` matches objects starting with `x/`: exactly the prefixes
            // of `o` that end at one of its slashes.
            for (i, _) in o.match_indices('/') {
                let Some(prefix) = o.get(..=i) else { continue };
                if let Some(&pid) = self.prefixes.get(prefix) {
                    best = best.min(self.by_prefix.get(pid as usize).copied().unwrap_or(NO_RULE));
                    if let Some(sid) = sid
                        && let Some(&d) = self.prefix_pairs.get(&pair(sid, pid))
                    {
                        best = best.min(d);
                    }
                }
            }
        }
        best
    }

    #[inline]
    fn decide(&self, subject: Option<&str>, object: Option<&str>, permissive: bool) -> Decision {
        match self.rules.get(self.first(subject, object) as usize) {
            Some(r) => Decision::from_bool(r.allow, Reason::Rule(r.rule)),
            None => Decision::from_bool(permissive, Reason::NoMatch { permissive }),
        }
    }
}

impl Budget {
    fn take(&mut self, n: usize, acl: &Acl) -> Result<(), AclError> {
        self.used = self.used.saturating_add(n);
        if n > self.left {
            return Err(AclError::Limit(LimitError {
                kind: LimitKind::IndexEntries,
                limit: self.limit,
                found: self.used,
                path: acl_path(acl),
                location: acl.location,
            }));
        }
        self.left -= n;
        Ok(())
    }
}

/// A compiled ACL policy: immutable, `Send + Sync`, cheap to share in an
/// `Arc`. [`authorize`](Self::authorize) does a fixed number of hash
/// look-ups per object and never allocates.
#[derive(Debug, Clone)]
pub struct CompiledAcls {
    permissive: bool,
    legacy_in_use: bool,
    tables: Vec<Table>,
    legacy_update: Table,
    max_string_len: usize,
    rules: usize,
}

fn deny(e: RequestError) -> Decision {
    Decision::Deny(Reason::InvalidRequest(e))
}

impl CompiledAcls {
    /// The policy's `permissive` flag.
    pub fn permissive(&self) -> bool {
        self.permissive
    }

    /// Number of ACLs across all lists.
    pub fn rule_count(&self) -> usize {
        self.rules
    }

    fn table(&self, list: AclList) -> Option<&Table> {
        self.tables.get(list.index())
    }

    /// Decides `request` exactly as the Mesos local authorizer would (see
    /// the module docs for the deliberate divergences). Malformed requests
    /// are denied with [`Reason::InvalidRequest`], never given the
    /// permissive default.
    pub fn authorize(&self, request: &Request<'_>) -> Decision {
        let max = self.max_string_len;
        let subject = request.principal;
        if let Some(p) = subject
            && let Err(e) = check_principal(p, max)
        {
            return deny(e);
        }
        let action = request.action;
        let permissive = self.permissive;
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
            let table = if !self.legacy_in_use {
                Some(&self.legacy_update)
            } else {
                self.table(match op {
                    LegacyQuotaOp::SetQuota => AclList::SetQuotas,
                    LegacyQuotaOp::RemoveQuota => AclList::RemoveQuotas,
                })
            };
            return match table {
                Some(t) => t.decide(subject, object, permissive),
                None => Decision::from_bool(permissive, Reason::NoMatch { permissive }),
            };
        }
        let Some(table) = self.table(action.list()) else {
            return Decision::from_bool(permissive, Reason::NoMatch { permissive });
        };
        let object = if action.implicit_object() {
            Object::Absent
        } else {
            request.object
        };
        let role = table.hierarchical;
        match object {
            Object::Absent => table.decide(subject, None, permissive),
            Object::One(o) => match check_object(o, role, max) {
                Ok(()) => table.decide(subject, Some(o), permissive),
                Err(e) => deny(e),
            },
            Object::Many(roles) => {
                if !action.takes_role_list() {
                    return deny(RequestError::ObjectListNotAllowed);
                }
                for r in roles {
                    if let Err(e) = check_object(r, role, max) {
                        return deny(e);
                    }
                }
                let Some((head, rest)) = roles.split_first() else {
                    return if action == Action::RegisterFrameworks {
                        Decision::from_bool(permissive, Reason::NoRoles { permissive })
                    } else {
                        Decision::Allow(Reason::NothingToAuthorize)
                    };
                };
                let first = table.decide(subject, Some(head), permissive);
                if !first.is_allowed() {
                    return first;
                }
                for r in rest {
                    let d = table.decide(subject, Some(r), permissive);
                    if !d.is_allowed() {
                        return d;
                    }
                }
                first
            }
        }
    }

    /// The position of the deciding rule for a single subject/object pair
    /// of `list`, for the linter: `None` when no rule matches. `object` is
    /// not validated.
    pub(crate) fn first_rule(
        &self,
        list: AclList,
        subject: Option<&str>,
        object: Option<&str>,
    ) -> Option<RuleRef> {
        let t = self.table(list)?;
        t.rules
            .get(t.first(subject, object) as usize)
            .map(|r| r.rule)
    }
}
