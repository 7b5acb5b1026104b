//! [`AclSource`] → [`CompiledAcls`]: per-list hash indexes that answer with a
//! fixed number of look-ups, whatever the number of ACLs.
//!
//! Mesos decides by the *first* ACL whose subject and object both match.
//! Every (derived) rule gets its position `d` in that order, and each index
//! below keeps, per key, the smallest `d` that matches the key:
//!
//! | subject \ object | ANY/NONE      | SOME values        | `x/%` (hierarchical) |
//! |------------------|---------------|--------------------|----------------------|
//! | ANY/NONE         | `any_any`     | `names[o].side[AS_OBJECT]` | `prefixes[p].side[0]` |
//! | SOME values      | `names[s].side[AS_SUBJECT]` | `pairs[(s, o)]` | `prefix_pairs[(s, p)]` |
//!
//! A request hashes its principal and its object once each (the same pass
//! screens them for request validation), looks both up in `names` (one id
//! space for principals and objects; see [`index`](super::index)), probes
//! the pair whose slot follows from the two hashes, and for hierarchical
//! lists each ancestor prefix of the role (`a/`, `a/b/`: one per `/`), then
//! takes the minimum rule position over those few buckets. Once a rule
//! matches, its verdict is fixed (allow unless either entity is NONE), so
//! the minimum decides.
//!
//! Before the tables, a list without `x/%` values asks its two
//! [`Filter`]s, which stay in cache: does any pair hash as this request's
//! pair, and has the principal or the object a single-sided rule? If
//! neither, only `any_any` (or the default) can decide, and the three
//! table reads, each a cache miss on a large policy, are skipped.

use super::decision::{
    Decision, LegacyQuotaOp, Object, Reason, Request, RequestError, RuleRef, check_object,
    check_principal, valid_role,
};
use super::error::{AclError, LimitError, LimitKind};
use super::filter::Filter;
use super::index::{HashKey, Hashed, Look, NameTable, PairTable, pair};
use super::kind::{AclList, Action, LIST_COUNT};
use super::source::{Acl, AclSource, Entity, Value};

/// Most ACLs in one policy, across all lists: 2,000,000, twice the
/// 1,000,000 the performance targets set (a cap always exists, threats.md §0).
pub const DEFAULT_MAX_RULES: usize = 2_000_000;
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

/// Builds [`CompiledAcls`], within the limits of its [`Config`].
///
/// ```
/// use mesos_auth::acl::{self, AclError, Compiler, Config, LimitKind};
///
/// let src = acl::parse(r#"{"permissive": false, "run_tasks": [
///     {"principals": {"type": "ANY"}, "users": {"values": ["a", "b", "c"]}}]}"#)?;
/// assert_eq!(Compiler::new().compile(&src)?.rule_count(), 1);
///
/// // A hostile policy is an error, not an out-of-memory.
/// let tight = Compiler::new().config(Config::new().max_values(2));
/// assert!(matches!(tight.compile(&src), Err(AclError::Limit(l)) if l.kind() == LimitKind::ValuesPerEntity));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
        let needs = check_all(source, &cfg)?;
        let need = |l: AclList| needs.get(l.index()).copied().unwrap_or(0);
        let key = HashKey::random();
        // One job per list, then the legacy `update_quotas` table.
        let jobs: Vec<Job<'_>> = AclList::ALL
            .iter()
            .map(|l| (source.acls(*l), l.hierarchical(), need(*l)))
            .chain([(
                source.acls(AclList::UpdateQuotas),
                false,
                need(AclList::UpdateQuotas),
            )])
            .scan(0usize, |used, (acls, hierarchical, need)| {
                // Each job starts with the budget the jobs before it leave,
                // so building them in any order (or at once) fails exactly
                // where building them one by one would.
                let budget = Budget {
                    left: cfg.index_entries().saturating_sub(*used),
                    limit: cfg.index_entries(),
                    used: *used,
                };
                *used = used.saturating_add(need);
                Some(Job {
                    acls,
                    hierarchical,
                    budget,
                })
            })
            .collect();
        // A job past the first over budget never runs: that one fails first.
        let runs = jobs
            .iter()
            .position(|j| j.budget.used > j.budget.limit)
            .unwrap_or(jobs.len());
        let jobs = jobs.get(..runs).unwrap_or(&[]);
        let max = cfg.string_len();
        let (built, hash) = build_all(jobs, &key, max, source);
        let mut tables = Vec::with_capacity(LIST_COUNT);
        let mut legacy_update = None;
        for (i, t) in built.into_iter().enumerate() {
            if i < LIST_COUNT {
                tables.push(t?);
            } else {
                legacy_update = Some(t?);
            }
        }
        let legacy_update = match legacy_update {
            Some(t) => t,
            // Only if a job before it failed, and so returned above.
            None => Table::empty(false),
        };
        Ok(CompiledAcls {
            key,
            permissive: source.permissive(),
            legacy_in_use: !source.acls(AclList::SetQuotas).is_empty()
                || !source.acls(AclList::RemoveQuotas).is_empty(),
            tables,
            legacy_update,
            max_string_len: max,
            rules: source.iter().count(),
            policy_hash: hash.into(),
        })
    }
}

/// One table to build: its ACLs and the budget left when it starts.
struct Job<'a> {
    acls: &'a [Acl],
    hierarchical: bool,
    budget: Budget,
}

/// How far ahead of the ACL it adds [`Table::build`] prefetches table slots.
const BUILD_AHEAD: usize = 8;

/// Policies of at least this many ACLs are compiled on two threads: below
/// it, starting a thread costs more than it saves.
const PARALLEL_FROM: usize = 8192;

/// Whether to compile on two threads: a large policy, and two cores.
fn parallel(acls: usize) -> bool {
    acls >= PARALLEL_FROM && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// One task of [`build_all`]: a job's table, or the policy hash.
#[derive(Clone, Copy)]
enum Task {
    Table(usize),
    Hash,
}

/// Builds every job's table (in job order) and the policy hash. The tables
/// are independent, so on a large policy this thread and one more take
/// them (and the hash) one at a time from a shared queue, largest first,
/// until none is left: a thread that finishes its task early takes the
/// next, so neither waits on the other while work remains (a split fixed
/// in advance left one thread idle for a quarter of a 1,000,000-ACL
/// compile: the lists' costs per ACL differ).
fn build_all(
    jobs: &[Job<'_>],
    key: &HashKey,
    max: usize,
    source: &AclSource,
) -> (Vec<Result<Table, AclError>>, String) {
    let total: usize = jobs.iter().map(|j| j.acls.len()).sum();
    // Largest first; the hash weighs about a sixth of a table build per
    // ACL (measured, 1,000,000 ACLs).
    let mut order: Vec<(usize, Task)> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.acls.len(), Task::Table(i)))
        .chain([(total / 6, Task::Hash)])
        .collect();
    order.sort_by_key(|&(w, _)| std::cmp::Reverse(w));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let run = || {
        let mut b = Builder {
            key,
            scratch: Vec::new(),
            pair_hashes: Vec::new(),
            max_string_len: max,
        };
        let mut tables: Vec<(usize, Result<Table, AclError>)> = Vec::new();
        let mut hash = None;
        while let Some(&(_, task)) =
            order.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        {
            match task {
                Task::Hash => hash = Some(policy_hash(source)),
                Task::Table(i) => {
                    if let Some(j) = jobs.get(i) {
                        let mut budget = j.budget;
                        tables.push((i, Table::build(j.acls, j.hierarchical, &mut b, &mut budget)));
                    }
                }
            }
        }
        (tables, hash)
    };
    let ((mut tables, hash), theirs) = if parallel(total) {
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("acl-compile".into())
                .spawn_scoped(scope, run)
                .ok();
            let ours = run();
            // A worker that could not start has taken nothing: this
            // thread has emptied the queue. One that panicked may have
            // lost tasks it took: they are redone below.
            let theirs = worker.and_then(|w| w.join().ok());
            (ours, theirs)
        })
    } else {
        (run(), None)
    };
    let mut hash = hash;
    if let Some((t, h)) = theirs {
        tables.extend(t);
        hash = hash.or(h);
    }
    let mut out: Vec<Option<Result<Table, AclError>>> = (0..jobs.len()).map(|_| None).collect();
    for (i, t) in tables {
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(t);
        }
    }
    let mut b = Builder {
        key,
        scratch: Vec::new(),
        pair_hashes: Vec::new(),
        max_string_len: max,
    };
    let out = out
        .into_iter()
        .zip(jobs)
        .map(|(t, j)| {
            t.unwrap_or_else(|| {
                let mut budget = j.budget;
                Table::build(j.acls, j.hierarchical, &mut b, &mut budget)
            })
        })
        .collect();
    (out, hash.unwrap_or_else(|| policy_hash(source)))
}

/// Value counts from which [`distinct_names`] estimates rather than
/// takes the count.
const ESTIMATE_FROM: usize = 4096;

/// About how many distinct strings the `n` values of `acls` that go to
/// the name table hold (on a hierarchical list, all but the `x/%` ones),
/// a little over, to size the name table once: counting every value
/// over-sizes it when values repeat (objects often do), and then the
/// table is built at up to twice its size (a large one is zeroed page by
/// page) and rehashed smaller when frozen. Linear counting: each value's
/// hash sets one bit of at least `2n` bits, and the share of bits left
/// clear gives the count. Never over `n`.
pub(super) fn distinct_names(acls: &[Acl], key: &HashKey, n: usize, hierarchical: bool) -> usize {
    if n < ESTIMATE_FROM {
        return n;
    }
    let bits = n.saturating_mul(2).next_power_of_two();
    let mask = bits - 1;
    let mut map = vec![0u64; bits / 64];
    for acl in acls {
        for e in [&acl.principals, &acl.object] {
            let Entity::Some(values) = e else { continue };
            for v in values {
                if hierarchical && recursive_prefix(v).is_some() {
                    continue;
                }
                // The high half: the low bits place the string in its table.
                let i = (key.hash(v.bytes()).hash >> 32) as usize & mask;
                if let Some(w) = map.get_mut(i / 64) {
                    *w |= 1 << (i % 64);
                }
            }
        }
    }
    let clear: u64 = map.iter().map(|w| u64::from(w.count_zeros())).sum();
    if clear == 0 {
        return n;
    }
    let m = bits as f64;
    let estimate = -m * (clear as f64 / m).ln();
    // Four standard errors over (linear counting's, at load `t`:
    // `sqrt(m (e^t - t - 1))`; Whang et al. 1990), so a table sized from
    // it is all but never just under the count, and then grown once: a
    // fixed share over (3% was) sized the tables of some policies twice
    // over when the count fell just under a power of two, where the
    // error is a fraction of a percent at these sizes.
    let t = estimate / m;
    let sd = (m * (t.exp() - t - 1.0)).max(0.0).sqrt();
    let padded = (estimate + 4.0 * sd) as usize + 16;
    padded.min(n)
}

/// The policy's fingerprint for audit records: SHA-256 over a canonical
/// encoding of what decides (`permissive`, then every ACL's list, index
/// and entities, each string length-prefixed), cut to its first 16 bytes
/// and written as 32 hex digits. Whitespace, key order and comments do not
/// change it; any change to a rule does. Computed once, here.
fn policy_hash(source: &AclSource) -> String {
    use sha2::{Digest, Sha256};
    /// The canonical bytes, hashed 64 KiB at a time: a few small
    /// `update` calls per ACL cost more than the hashing itself.
    struct Canon {
        h: Sha256,
        buf: Vec<u8>,
    }
    impl Canon {
        fn put(&mut self, bytes: &[u8]) {
            self.buf
                .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            self.buf.extend_from_slice(bytes);
        }
        fn entity(&mut self, e: &Entity) {
            match e {
                Entity::Any => self.buf.push(0),
                Entity::None => self.buf.push(1),
                Entity::Some(values) => {
                    self.buf.push(2);
                    self.buf
                        .extend_from_slice(&(values.len() as u64).to_le_bytes());
                    for v in values {
                        self.put(v.bytes());
                    }
                }
            }
        }
        fn flush(&mut self, at: usize) {
            if self.buf.len() >= at {
                self.h.update(&self.buf);
                self.buf.clear();
            }
        }
    }
    const CHUNK: usize = 1 << 16;
    let mut c = Canon {
        h: Sha256::new(),
        buf: Vec::with_capacity(CHUNK + 1024),
    };
    c.put(b"mesos-auth acl policy v1");
    c.buf.push(u8::from(source.permissive()));
    for acl in source.iter() {
        c.put(acl.list.key().as_bytes());
        c.buf.extend_from_slice(&acl.index.to_le_bytes());
        c.entity(&acl.principals);
        c.entity(&acl.object);
        c.flush(CHUNK);
    }
    c.flush(0);
    let digest = c.h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn acl_path(acl: &Acl) -> String {
    format!("$.{}[{}]", acl.list.key(), acl.index)
}

/// Checks every ACL against the limits (the first problem, in file list
/// order, is the error) and counts the index entries each list's ACLs take
/// from the budget (by list index, as [`Table::derive`] takes them). A
/// large policy is checked in two halves, one on another thread: the
/// first half's problem, if any, comes first.
fn check_all(source: &AclSource, cfg: &Config) -> Result<Vec<usize>, AclError> {
    let total: usize = source.lists.iter().map(Vec::len).sum();
    let (first, second) = if parallel(total) {
        let half = total / 2;
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("acl-check".into())
                .spawn_scoped(scope, || check_span(source, cfg, half, total))
                .ok();
            let first = check_span(source, cfg, 0, half);
            let second = worker
                .and_then(|w| w.join().ok())
                .unwrap_or_else(|| check_span(source, cfg, half, total));
            (first, second)
        })
    } else {
        (
            check_span(source, cfg, 0, total),
            Ok(vec![0; source.lists.len()]),
        )
    };
    let (mut needs, more) = (first?, second?);
    for (n, m) in needs.iter_mut().zip(more) {
        *n = n.saturating_add(m);
    }
    Ok(needs)
}

/// [`check_all`] on the ACLs at positions `from..to` of
/// [`AclSource::iter`]: the first problem there, or each list's index
/// entries there.
fn check_span(
    source: &AclSource,
    cfg: &Config,
    from: usize,
    to: usize,
) -> Result<Vec<usize>, AclError> {
    let mut needs = vec![0usize; source.lists.len()];
    let mut base = 0usize;
    for (list, need) in source.lists.iter().zip(needs.iter_mut()) {
        let (start, end) = (from.max(base), to.min(base + list.len()));
        if start < end {
            let acls = list.get(start - base..end - base).unwrap_or_default();
            for (n, acl) in (start..).zip(acls) {
                check_acl(acl, n, cfg)?;
                if let (Entity::Some(ss), Entity::Some(os)) = (&acl.principals, &acl.object) {
                    // Each `x/%` value takes `ss.len()` and the plain ones
                    // together `ss.len()` each: every object value,
                    // hierarchical or not.
                    *need = need.saturating_add(ss.len().saturating_mul(os.len()));
                }
            }
        }
        base += list.len();
    }
    Ok(needs)
}

/// The limits on one ACL, the `n`th of the policy (from 0).
fn check_acl(acl: &Acl, n: usize, cfg: &Config) -> Result<(), AclError> {
    let limit = |kind, limit, found, path: String, location| {
        Err(AclError::Limit(LimitError {
            kind,
            limit,
            found,
            path,
            location,
        }))
    };
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
            if v.bytes().len() > cfg.string_len() {
                return limit(
                    LimitKind::StringBytes,
                    cfg.string_len(),
                    v.bytes().len(),
                    format!("{}.{field}.values[{i}]", acl_path(acl)),
                    v.location,
                );
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Budget {
    left: usize,
    limit: usize,
    used: usize,
}

/// No rule: the `permissive` flag decides.
const NO_RULE: u32 = u32::MAX;

/// Side values of the `names` table ([`NameTable`]): rule positions for the string
/// as a SOME principal with an ANY/NONE object, and as a SOME object with
/// an ANY/NONE principal.
const AS_SUBJECT: usize = 0;
const AS_OBJECT: usize = 1;

/// A derived rule, 16 bytes (four to a cache line, or beside its pair's
/// key in a 32-byte pair slot): its [`RuleRef`] unpacked, and its verdict.
#[derive(Debug, Clone, Copy)]
struct RuleInfo {
    index: u32,
    line: u32,
    column: u32,
    list: AclList,
    allow: bool,
}

impl RuleInfo {
    fn new(rule: RuleRef, allow: bool) -> Self {
        Self {
            index: rule.index,
            line: rule.location.line,
            column: rule.location.column,
            list: rule.list,
            allow,
        }
    }

    /// As a pair slot holds it.
    fn pack(self) -> [u32; 4] {
        let list = self.list.index() as u32;
        [
            self.index,
            self.line,
            self.column,
            (list << 1) | u32::from(self.allow),
        ]
    }

    /// What [`pack`](Self::pack) made.
    #[inline(always)]
    fn unpack([index, line, column, tag]: [u32; 4]) -> Option<Self> {
        let list = *AclList::ALL.get((tag >> 1) as usize)?;
        Some(Self {
            index,
            line,
            column,
            list,
            allow: tag & 1 != 0,
        })
    }

    #[inline(always)]
    fn rule(&self) -> RuleRef {
        RuleRef {
            list: self.list,
            index: self.index,
            location: crate::span::Location {
                line: self.line,
                column: self.column,
            },
        }
    }
}

/// The index of one list.
#[derive(Debug, Clone)]
struct Table {
    hierarchical: bool,
    /// Derived rules in Mesos order; positions index this.
    rules: Vec<RuleInfo>,
    /// ANY/NONE principal and ANY/NONE object.
    any_any: u32,
    /// Principals and objects (one id space), with their single-sided rules.
    names: NameTable,
    /// `x/` of each `x/%`; value 0: rule with an ANY/NONE principal.
    prefixes: NameTable,
    /// (principal id, object id) of rules with SOME on both sides, with
    /// a copy of the rule (a hit then reads no rule from `rules`).
    pairs: PairTable,
    /// (principal id, prefix id) of `x/%` rules with SOME principals.
    prefix_pairs: PairTable,
    /// Whether any rule has SOME principals (else skip the principal probe).
    has_subjects: bool,
    /// Whether `pairs` holds anything.
    has_pairs: bool,
    /// The first ACL, if it is one principal × one object (rule 0).
    head: Option<Head>,
    /// Whether any rule has ANY/NONE principals (else a principal not
    /// named here, or none at all, matches nothing).
    open_subjects: bool,
    /// What lets a request that matches no pair and no single-sided rule
    /// be decided without reading `names` or `pairs`; `None` on a list
    /// with `x/%` values (whose prefixes need the tables).
    filters: Option<Filters>,
}

/// The keys a single-object decision can find in a [`Table`]'s `names`
/// and `pairs`, as filters that stay in cache ([`Filter`]).
#[derive(Debug, Clone)]
struct Filters {
    /// Every pair's slot hash.
    pairs: Filter,
    /// The hash of each string with a single-sided rule, tagged by side
    /// ([`side_key`]).
    sides: Filter,
}

/// The key of a string hashed to `hash` in [`Filters::sides`] as a
/// principal (`which` = [`AS_SUBJECT`]) or an object: a string with a
/// rule on one side only is not a candidate on the other.
#[inline(always)]
fn side_key(hash: u64, which: usize) -> u64 {
    const TAG: [u64; 2] = [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344];
    hash ^ TAG.get(which).copied().unwrap_or(0)
}

#[derive(Clone, Copy)]
enum Subj<'a> {
    All,
    Set(&'a [Value]),
}

#[derive(Clone, Copy)]
enum Obj<'a> {
    All,
    /// The values of a SOME entity, without the `x/%` ones when `bool`
    /// (hierarchical list).
    Set(&'a [Value], bool),
    Prefix(&'a [u8]),
}

/// The `x/` of an `x/%` value.
fn recursive_prefix(v: &Value) -> Option<&[u8]> {
    v.bytes()
        .strip_suffix(b"%")
        .filter(|prefix| prefix.ends_with(b"/"))
}

fn plain_values(values: &[Value], hierarchical: bool) -> impl Iterator<Item = &[u8]> {
    values
        .iter()
        .filter(move |v| !hierarchical || recursive_prefix(v).is_none())
        .map(Value::bytes)
}

/// A principal found in a table's `names`.
#[derive(Clone, Copy)]
struct Who {
    id: u32,
    /// Its single-sided rule (ANY/NONE object).
    rule: u32,
    hash: u64,
}

/// What a request names, hashed once.
#[derive(Clone, Copy)]
struct Probe<'a> {
    text: &'a str,
    hash: Hashed,
}

/// Where the compiler ran out of `u32` ids (unreachable in practice: it
/// takes more than four billion distinct strings).
fn ids_exhausted(acl: &Acl, budget: &Budget) -> AclError {
    AclError::Limit(LimitError {
        kind: LimitKind::IndexEntries,
        limit: budget.limit,
        found: budget.used,
        path: acl_path(acl),
        location: acl.location,
    })
}

struct Builder<'k> {
    key: &'k HashKey,
    /// Object ids and hashes of the current rule, reused across rules.
    scratch: Vec<(u32, u64)>,
    /// The slot hash of every pair the current table holds, for its
    /// [`Filters`].
    pair_hashes: Vec<u64>,
    max_string_len: usize,
}

/// The first ACL of a list, when it names one principal and one object:
/// a request for exactly those is decided by it without hashing, as fast
/// as Mesos's linear scan finds it. Both values were checked valid as
/// request strings when compiled, so an equal request is valid too.
#[derive(Debug, Clone)]
struct Head {
    principal: Box<str>,
    object: Box<str>,
}

impl Head {
    fn of(acl: &Acl, hierarchical: bool, max: usize) -> Option<Head> {
        let (Entity::Some(ps), Entity::Some(os)) = (&acl.principals, &acl.object) else {
            return None;
        };
        let ([p], [o]) = (ps.as_slice(), os.as_slice()) else {
            return None;
        };
        if hierarchical && recursive_prefix(o).is_some() {
            return None;
        }
        check_principal(p.as_str(), max).ok()?;
        check_object(o.as_str(), hierarchical, max).ok()?;
        Some(Head {
            principal: p.as_str().into(),
            object: o.as_str().into(),
        })
    }
}

impl Table {
    fn empty(hierarchical: bool) -> Table {
        Table {
            hierarchical,
            rules: Vec::new(),
            any_any: NO_RULE,
            names: NameTable::new(),
            prefixes: NameTable::new(),
            pairs: PairTable::new(),
            prefix_pairs: PairTable::new(),
            has_subjects: false,
            has_pairs: false,
            head: None,
            open_subjects: false,
            filters: None,
        }
    }

    fn build(
        acls: &[Acl],
        hierarchical: bool,
        b: &mut Builder<'_>,
        budget: &mut Budget,
    ) -> Result<Table, AclError> {
        let mut t = Table::empty(hierarchical);
        if acls.is_empty() {
            return Ok(t);
        }
        // Size the tables once: growing 10^5 keys is much of a compile.
        // On a hierarchical list an `x/%` value's pairs go to
        // `prefix_pairs`, the others' to `pairs`: counted apart, so
        // neither table is sized twice over and shrunk (a second large
        // table, zeroed page by page, then a rehash) nor grown.
        let (mut n, mut np, mut npp) = (0usize, 0usize, 0usize);
        for acl in acls {
            let a = match &acl.principals {
                Entity::Some(v) => v.len(),
                _ => 0,
            };
            let (plain, prefix) = match &acl.object {
                Entity::Some(v) if hierarchical => {
                    let p = v.iter().filter(|v| recursive_prefix(v).is_some()).count();
                    (v.len() - p, p)
                }
                Entity::Some(v) => (v.len(), 0),
                _ => (0, 0),
            };
            // `x/%` values go to `prefixes` (a few; grown as needed).
            n += a + plain;
            np = np.saturating_add(a.saturating_mul(plain));
            npp = npp.saturating_add(a.saturating_mul(prefix));
        }
        t.names
            .reserve(distinct_names(acls, b.key, n, hierarchical));
        t.pairs.reserve(np.min(budget.left));
        t.prefix_pairs.reserve(npp.min(budget.left));
        t.rules.reserve(acls.len());
        // The slots of ACL `i + BUILD_AHEAD` are prefetched (hashed ahead)
        // just before ACL `i` is added: on a large policy most of a
        // compile is waiting for table slots, and a sliding window keeps
        // a steady number of them in flight (as in `authorize_many`).
        for acl in acls.iter().take(BUILD_AHEAD) {
            t.touch_slots(acl, b.key);
        }
        b.pair_hashes.clear();
        for (i, acl) in acls.iter().enumerate() {
            if let Some(next) = acls.get(i + BUILD_AHEAD) {
                t.touch_slots(next, b.key);
            }
            t.add(acl, b, budget)?;
        }
        if t.prefixes.is_empty() {
            let sides = t.names.sided().flat_map(|(h, v)| {
                [AS_SUBJECT, AS_OBJECT]
                    .into_iter()
                    .filter(move |&w| v.get(w).is_some_and(|&d| d != NO_RULE))
                    .map(move |w| side_key(h, w))
            });
            let sides: Vec<u64> = sides.collect();
            t.filters = Some(Filters {
                pairs: Filter::new(&b.pair_hashes),
                sides: Filter::new(&sides),
            });
        }
        // Only building needs them.
        b.pair_hashes = Vec::new();
        t.names.freeze();
        t.prefixes.freeze();
        t.pairs.freeze();
        t.prefix_pairs.freeze();
        t.has_pairs = !t.pairs.is_empty();
        t.head = acls
            .first()
            .and_then(|a| Head::of(a, hierarchical, b.max_string_len));
        Ok(t)
    }

    /// Reads the slots that adding `acl` will probe first: its first
    /// principal's and first object's in `names`, and their pair's.
    #[inline(always)]
    fn touch_slots(&self, acl: &Acl, key: &HashKey) {
        let first = |e: &Entity| match e {
            Entity::Some(v) => v.first().map(|v| key.hash(v.bytes())),
            _ => None,
        };
        let p = first(&acl.principals);
        let o = first(&acl.object);
        if let Some(p) = &p {
            self.names.touch(p);
        }
        if let Some(o) = &o {
            self.names.touch(o);
            if let Some(p) = &p {
                self.pairs.touch(key.pair_hash(p.hash, o.hash));
            }
        }
    }

    /// Adds the rules `acl` derives.
    fn add(&mut self, acl: &Acl, b: &mut Builder<'_>, budget: &mut Budget) -> Result<(), AclError> {
        let hierarchical = self.hierarchical;
        let rule = RuleRef {
            list: acl.list,
            index: acl.index,
            location: acl.location,
        };
        let subj = match &acl.principals {
            Entity::Any | Entity::None => Subj::All,
            Entity::Some(v) => {
                self.has_subjects = true;
                Subj::Set(v)
            }
        };
        let subj_allows = !matches!(acl.principals, Entity::None);
        // createHierarchicalRoleACLs: each `x/%` value first, then the rest.
        match &acl.object {
            Entity::Any => self.derive(rule, subj, Obj::All, subj_allows, acl, b, budget)?,
            Entity::None => self.derive(rule, subj, Obj::All, false, acl, b, budget)?,
            Entity::Some(values) => {
                let mut plain = false;
                for v in values {
                    match recursive_prefix(v).filter(|_| hierarchical) {
                        Some(p) => {
                            self.derive(rule, subj, Obj::Prefix(p), subj_allows, acl, b, budget)?;
                        }
                        None => plain = true,
                    }
                }
                if plain {
                    let obj = Obj::Set(values, hierarchical);
                    self.derive(rule, subj, obj, subj_allows, acl, b, budget)?;
                }
            }
        }
        Ok(())
    }

    fn heap_bytes(&self) -> usize {
        self.head
            .as_ref()
            .map_or(0, |h| h.principal.len() + h.object.len())
            + self.rules.capacity() * size_of::<RuleInfo>()
            + self.names.heap_bytes()
            + self.prefixes.heap_bytes()
            + self.pairs.heap_bytes()
            + self.prefix_pairs.heap_bytes()
            + self
                .filters
                .as_ref()
                .map_or(0, |f| f.pairs.heap_bytes() + f.sides.heap_bytes())
    }

    /// Adds one derived rule at the next position.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per derived-rule shape; a struct would only rename them"
    )]
    fn derive(
        &mut self,
        rule: RuleRef,
        subj: Subj<'_>,
        obj: Obj<'_>,
        allow: bool,
        acl: &Acl,
        b: &mut Builder<'_>,
        budget: &mut Budget,
    ) -> Result<(), AclError> {
        let d = u32::try_from(self.rules.len())
            .ok()
            .filter(|&d| d < NO_RULE)
            .ok_or_else(|| ids_exhausted(acl, budget))?;
        let info = RuleInfo::new(rule, allow);
        self.rules.push(info);
        self.open_subjects |= matches!(subj, Subj::All);
        let key = b.key;
        // Objects of a role list are flagged when valid roles, so that a
        // request naming one skips the role check.
        let role = self.hierarchical;
        match (subj, obj) {
            (Subj::All, Obj::All) => self.any_any = self.any_any.min(d),
            (Subj::All, Obj::Set(os, h)) => {
                for o in plain_values(os, h) {
                    intern_side(&mut self.names, key, o, AS_OBJECT, d, role, acl, budget)?;
                }
            }
            (Subj::All, Obj::Prefix(p)) => {
                intern_side(&mut self.prefixes, key, p, 0, d, false, acl, budget)?;
            }
            (Subj::Set(ss), Obj::All) => {
                for s in ss {
                    let s = s.bytes();
                    intern_side(&mut self.names, key, s, AS_SUBJECT, d, false, acl, budget)?;
                }
            }
            (Subj::Set(ss), Obj::Set(os, h)) => {
                let n = ss.len().saturating_mul(plain_values(os, h).count());
                budget.take(n, acl)?;
                b.scratch.clear();
                for o in plain_values(os, h) {
                    let interned = self.names.intern_object(key, o, role);
                    b.scratch
                        .push(interned.ok_or_else(|| ids_exhausted(acl, budget))?);
                }
                for s in ss {
                    let (sid, sh) = intern(&mut self.names, key, s.bytes(), acl, budget)?;
                    for &(oid, oh) in &b.scratch {
                        let h = key.pair_hash(sh, oh);
                        self.pairs.insert_first(h, pair(sid, oid), d, info.pack());
                        b.pair_hashes.push(h);
                    }
                }
            }
            (Subj::Set(ss), Obj::Prefix(p)) => {
                budget.take(ss.len(), acl)?;
                let (pid, ph) = intern(&mut self.prefixes, key, p, acl, budget)?;
                for s in ss {
                    let (sid, sh) = intern(&mut self.names, key, s.bytes(), acl, budget)?;
                    self.prefix_pairs.insert_first(
                        key.pair_hash(sh, ph),
                        pair(sid, pid),
                        d,
                        info.pack(),
                    );
                }
            }
        }
        Ok(())
    }

    /// The principal as this table knows it, if it is named here.
    #[inline(always)]
    fn subject(&self, subject: Option<Probe<'_>>) -> Option<Who> {
        let p = subject.filter(|_| self.has_subjects)?;
        let (id, side) = self.names.find(p.text.as_bytes(), &p.hash)?;
        Some(Who {
            id,
            rule: side[AS_SUBJECT],
            hash: p.hash.hash,
        })
    }

    /// The first rule matching the principal (found by
    /// [`subject`](Self::subject)) and `object`.
    #[inline(always)]
    fn first(&self, key: &HashKey, who: Option<Who>, object: Option<Probe<'_>>) -> Best {
        let mut best = Best {
            d: self.any_any,
            rule: None,
            role_ok: false,
        };
        match who {
            Some(w) => best.side(w.rule),
            None if !self.open_subjects => return Best::NONE,
            None => {}
        }
        let Some(o) = object else { return best };
        if let Some((oid, side, role_ok)) = self.names.find_role(o.text.as_bytes(), &o.hash) {
            best.role_ok = role_ok;
            best.side(side[AS_OBJECT]);
            if let Some(w) = who
                && let Some((d, r)) = self
                    .pairs
                    .get_with(key.pair_hash(w.hash, o.hash.hash), pair(w.id, oid))
            {
                best.pair(d, r);
            }
        }
        if self.hierarchical && !self.prefixes.is_empty() {
            self.first_prefix(key, who, o.text, &mut best);
        }
        best
    }

    /// `x/%` matches objects starting with `x/`: exactly the prefixes of
    /// `o` that end at one of its slashes.
    fn first_prefix(&self, key: &HashKey, who: Option<Who>, o: &str, best: &mut Best) {
        let bytes = o.as_bytes();
        for (i, _) in bytes.iter().enumerate().filter(|(_, c)| **c == b'/') {
            let Some(prefix) = bytes.get(..=i) else {
                continue;
            };
            let h = key.hash(prefix);
            if let Some((pid, side)) = self.prefixes.find(prefix, &h) {
                best.side(side[0]);
                if let Some(w) = who
                    && let Some((d, r)) = self
                        .prefix_pairs
                        .get_with(key.pair_hash(w.hash, h.hash), pair(w.id, pid))
                {
                    best.pair(d, r);
                }
            }
        }
    }

    /// Starts the loads a decision on (principal, object) hashed as `p`,
    /// `o` will need: the principal's and the object's slots in `names`
    /// and the pair's slot, which holds the rule (a software prefetch:
    /// see [`NameTable::touch`]).
    #[inline(always)]
    fn touch(&self, key: &HashKey, p: Option<&Hashed>, o: &Hashed) {
        if let Some(p) = p.filter(|_| self.has_subjects) {
            self.names.touch(p);
        }
        self.names.touch(o);
        if let Some(p) = p.filter(|_| self.has_pairs) {
            self.pairs.touch(key.pair_hash(p.hash, o.hash));
        }
    }

    /// Whether this table's filters show that no pair and no
    /// single-sided rule can match a principal hashed as `p` (if any) and
    /// one object hashed as `o`: then only `any_any` or the default can
    /// decide, and no table line need be read. `false` when they might
    /// (or the table has no filters).
    #[inline(always)]
    fn is_quiet(&self, key: &HashKey, p: Option<&Hashed>, o: &Hashed) -> bool {
        let Some(f) = &self.filters else {
            return false;
        };
        let mut maybe = f.sides.may_hold(side_key(o.hash, AS_OBJECT));
        if let Some(p) = p.filter(|_| self.has_subjects) {
            // Not short-circuited: the loads go out together.
            maybe |= f.sides.may_hold(side_key(p.hash, AS_SUBJECT))
                | f.pairs.may_hold(key.pair_hash(p.hash, o.hash));
        }
        !maybe
    }

    /// Starts the loads [`is_quiet`](Self::is_quiet) reads.
    #[inline(always)]
    fn touch_filters(&self, key: &HashKey, p: Option<&Hashed>, o: &Hashed) {
        let Some(f) = &self.filters else { return };
        f.sides.touch(side_key(o.hash, AS_OBJECT));
        if let Some(p) = p.filter(|_| self.has_subjects) {
            f.sides.touch(side_key(p.hash, AS_SUBJECT));
            f.pairs.touch(key.pair_hash(p.hash, o.hash));
        }
    }

    /// The decision on object `o` when [`is_quiet`](Self::is_quiet): what
    /// the tables would give (a valid role checked, then `any_any` or
    /// the default), without reading them.
    #[inline(always)]
    fn decide_quiet(&self, o: &str, permissive: bool) -> Decision {
        if self.hierarchical && !valid_role(o) {
            return deny(RequestError::InvalidRole);
        }
        let best = Best {
            d: self.any_any,
            rule: None,
            role_ok: true,
        };
        self.verdict(best, permissive)
    }

    #[inline(always)]
    fn decide(
        &self,
        key: &HashKey,
        who: Option<Who>,
        object: Option<Probe<'_>>,
        permissive: bool,
    ) -> Decision {
        self.verdict(self.first(key, who, object), permissive)
    }

    /// The decision of the first matching rule `best`, or `permissive`.
    #[inline(always)]
    fn verdict(&self, best: Best, permissive: bool) -> Decision {
        match best.rule(&self.rules) {
            Some(r) => Decision::from_bool(r.allow, Reason::Rule(r.rule())),
            None => Decision::from_bool(permissive, Reason::NoMatch { permissive }),
        }
    }

    /// [`decide`](Self::decide) (or [`decide_role`](Self::decide_role) on a
    /// role list) on one object, for a table without `x/%` values, with
    /// no branch on what the table's slots hold (but for the rare: a long
    /// string, a probe past the home line, side values): the look-ups
    /// return values ([`NameTable::look`]) and the first rule is picked by
    /// comparison. In a batch, a branch that waits on a slot that missed
    /// the cache and is mispredicted (found or not is a coin toss on a
    /// stream of distinct requests) throws away the work the core has
    /// already started on the following requests.
    #[inline(always)]
    fn decide_one(
        &self,
        key: &HashKey,
        subject: Option<Probe<'_>>,
        o: Probe<'_>,
        permissive: bool,
    ) -> Decision {
        let p = subject.filter(|_| self.has_subjects);
        let pl = match p {
            Some(p) => self.names.look(p.text.as_bytes(), &p.hash),
            None => Look::NONE,
        };
        let ol = self.names.look(o.text.as_bytes(), &o.hash);
        let (pair_found, pair_d, pair_rule) = match p {
            Some(p) if self.has_pairs => self.pairs.look(
                key.pair_hash(p.hash.hash, o.hash.hash),
                pair(pl.id(), ol.id()),
            ),
            _ => (false, NO_RULE, [0; 4]),
        };
        let side = self
            .any_any
            .min(self.names.side_values(pl)[AS_SUBJECT])
            .min(self.names.side_values(ol)[AS_OBJECT]);
        // A principal this list does not name matches no rule unless
        // some rule has an ANY/NONE principal (without one, `any_any`
        // and the object's side are empty anyway: said here, not
        // assumed); no pair holds it either way.
        let side = if pl.found | self.open_subjects {
            side
        } else {
            NO_RULE
        };
        let pair_d = if pair_found & pl.found & ol.found {
            pair_d
        } else {
            NO_RULE
        };
        if self.hierarchical && !(ol.found & ol.role_ok()) && !valid_role(o.text) {
            return deny(RequestError::InvalidRole);
        }
        let best = if pair_d < side {
            Best {
                d: pair_d,
                rule: RuleInfo::unpack(pair_rule),
                role_ok: true,
            }
        } else {
            Best {
                d: side,
                rule: None,
                role_ok: true,
            }
        };
        self.verdict(best, permissive)
    }

    /// [`decide`](Self::decide) on one object of a role list, whose role
    /// check was left to this: an object this table holds flagged a valid
    /// role needs none (the check ran when the policy was compiled); any
    /// other is checked here, and refused if it is not a valid role.
    #[inline(always)]
    fn decide_role(
        &self,
        key: &HashKey,
        who: Option<Who>,
        object: Probe<'_>,
        permissive: bool,
    ) -> Decision {
        let best = self.first(key, who, Some(object));
        if !best.role_ok && !valid_role(object.text) {
            return deny(RequestError::InvalidRole);
        }
        self.verdict(best, permissive)
    }
}

/// The first matching rule found so far: its position, and a copy of it
/// when a pair slot supplied it (the common hit on a large policy: then
/// no read of the rule array waits on the pair's slot).
#[derive(Clone, Copy)]
struct Best {
    d: u32,
    rule: Option<RuleInfo>,
    /// Whether the object was found flagged a valid role.
    role_ok: bool,
}

impl Best {
    const NONE: Best = Best {
        d: NO_RULE,
        rule: None,
        role_ok: false,
    };

    /// A candidate from a string's side values or `any_any`.
    #[inline(always)]
    fn side(&mut self, d: u32) {
        if d < self.d {
            self.d = d;
            self.rule = None;
        }
    }

    /// A candidate from a pair slot, with its rule (packed).
    #[inline(always)]
    fn pair(&mut self, d: u32, r: [u32; 4]) {
        if d < self.d {
            self.d = d;
            self.rule = RuleInfo::unpack(r);
        }
    }

    #[inline(always)]
    fn rule(self, rules: &[RuleInfo]) -> Option<RuleInfo> {
        self.rule.or_else(|| rules.get(self.d as usize).copied())
    }
}

/// Interns `s`, with no rule yet on either side if new.
fn intern(
    table: &mut NameTable,
    key: &HashKey,
    s: &[u8],
    acl: &Acl,
    budget: &Budget,
) -> Result<(u32, u64), AclError> {
    table
        .intern(key, s)
        .ok_or_else(|| ids_exhausted(acl, budget))
}

/// Interns `s` and lowers its side value `which` to at most `d`.
#[expect(
    clippy::too_many_arguments,
    reason = "the table's arguments, then the error's context"
)]
fn intern_side(
    table: &mut NameTable,
    key: &HashKey,
    s: &[u8],
    which: usize,
    d: u32,
    role: bool,
    acl: &Acl,
    budget: &Budget,
) -> Result<(), AclError> {
    table
        .intern_side(key, s, which, d, role)
        .map(|_| ())
        .ok_or_else(|| ids_exhausted(acl, budget))
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
/// `Arc`. [`authorize`](Self::authorize) hashes each request string once,
/// does a fixed number of table probes per object and never allocates.
///
/// ```
/// use mesos_auth::acl::{self, AclList, Action, Compiler, Object, Request};
///
/// let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": true,
///     "run_tasks": [{"principals": {"type": "NONE"}, "users": {"values": ["root"]}}]}"#)?)?;
/// let d = policy.authorize(&Request::new(Action::RunTasks, Some("ops"), Object::One("root")));
/// assert!(!d.is_allowed());
/// assert_eq!(d.rule().map(|r| (r.list, r.index)), Some((AclList::RunTasks, 0)));
/// // Nothing matches: the permissive default.
/// assert!(policy.authorize(&Request::new(Action::RunTasks, Some("ops"), Object::One("svc"))).is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CompiledAcls {
    key: HashKey,
    permissive: bool,
    legacy_in_use: bool,
    tables: Vec<Table>,
    legacy_update: Table,
    max_string_len: usize,
    rules: usize,
    policy_hash: Box<str>,
}

/// How far ahead of the request it decides [`CompiledAcls::authorize_many`]
/// hashes a request and starts its loads (three slots' home lines, and
/// the line after each): enough to cover a memory latency, few enough
/// that the lines are still in cache when their decision runs (4, 8 and
/// 16 measured alike at 1,000,000 ACLs; 8 kept).
const AHEAD: usize = 8;
/// Requests hashed ahead in a batch: their filter words are prefetched
/// `RING - AHEAD` requests before they are checked.
const RING: usize = 2 * AHEAD;

/// A request's strings, hashed ahead by [`CompiledAcls::authorize_many`].
#[derive(Clone, Copy, Default)]
struct Hashes {
    principal: Option<Hashed>,
    object: Option<Hashed>,
    /// [`Table::is_quiet`] of these hashes, once checked.
    quiet: Option<bool>,
}

fn deny(e: RequestError) -> Decision {
    Decision::Deny(Reason::InvalidRequest(e))
}

/// [`check_principal`], answered from the byte screening done while
/// hashing: the full check runs only if a byte may start a control
/// character or the string is too long.
#[inline]
fn principal_ok(p: &str, suspicious: bool, max: usize) -> Result<(), RequestError> {
    if suspicious || p.len() > max {
        check_principal(p, max)
    } else {
        Ok(())
    }
}

/// [`check_object`], likewise.
#[inline]
fn object_ok(o: &str, suspicious: bool, role: bool, max: usize) -> Result<(), RequestError> {
    if suspicious || o.len() > max {
        check_object(o, role, max)
    } else if role && !valid_role(o) {
        Err(RequestError::InvalidRole)
    } else {
        Ok(())
    }
}

/// `a == b`, without a `memcmp` call up to 32 bytes (two overlapping
/// word or block compares) and, above, rejecting most unequal strings by
/// their last eight bytes first: the call was most of a [`Head`] check,
/// which runs on every request.
#[inline(always)]
pub(super) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 32
        && let (Some(x), Some(y), Some(z), Some(w)) = (
            a.first_chunk::<16>(),
            b.first_chunk::<16>(),
            a.last_chunk::<16>(),
            b.last_chunk::<16>(),
        )
    {
        return x == y && z == w;
    }
    if let (Some(x), Some(y), Some(z), Some(w)) = (
        a.first_chunk::<8>(),
        b.first_chunk::<8>(),
        a.last_chunk::<8>(),
        b.last_chunk::<8>(),
    ) {
        return x == y && z == w && (a.len() <= 16 || a == b);
    }
    a == b
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

    /// The policy's fingerprint, 32 hex digits: the first 16 bytes of a
    /// SHA-256 over the canonical rules (`permissive`, then each ACL's
    /// list, index and entities), so formatting does not change it and any
    /// rule change does. Audit records carry it as `policy_hash`.
    pub fn policy_hash(&self) -> &str {
        &self.policy_hash
    }

    fn table(&self, list: AclList) -> Option<&Table> {
        self.tables.get(list.index())
    }

    /// Bytes the compiled tables hold (allocated capacity): the policy's
    /// memory cost, apart from the few words of the struct itself. Tables
    /// of 2 MiB or more live in anonymous maps advised for transparent
    /// huge pages rather than on the heap; their slots count here all the
    /// same (not the up to 2 MiB of address space each map reserves to
    /// start on a huge-page boundary, which is never touched).
    pub fn heap_bytes(&self) -> usize {
        self.tables.capacity() * size_of::<Table>()
            + self
                .tables
                .iter()
                .chain([&self.legacy_update])
                .map(Table::heap_bytes)
                .sum::<usize>()
    }

    /// Hashes and validates one object, reusing `pre` if the caller has
    /// already hashed it.
    #[inline(always)]
    fn probe<'a>(
        &self,
        o: &'a str,
        role: bool,
        pre: Option<Hashed>,
    ) -> Result<Probe<'a>, RequestError> {
        let h = pre.unwrap_or_else(|| self.key.hash(o.as_bytes()));
        object_ok(o, h.suspicious, role, self.max_string_len)?;
        Ok(Probe { text: o, hash: h })
    }

    /// Decides `request` exactly as the Mesos local authorizer would (see
    /// the module docs for the deliberate divergences). Malformed requests
    /// are denied with [`Reason::InvalidRequest`], never given the
    /// permissive default.
    ///
    /// To decide many requests at once, [`authorize_many`](Self::authorize_many)
    /// is faster on large policies.
    #[inline]
    pub fn authorize(&self, request: &Request<'_>) -> Decision {
        self.decide_with(request, Hashes::default())
    }

    /// Decides `requests[i]` into `out[i]`, for as many as both slices
    /// hold (the count is returned), each exactly as
    /// [`authorize`](Self::authorize) would.
    ///
    /// On a large policy most of a decision is waiting for memory (table
    /// slots, then a rule). This hashes each request a few requests ahead
    /// of deciding it and starts the loads its decision will need, so the
    /// waits overlap instead of following one another.
    ///
    /// ```
    /// use mesos_auth::acl::{self, Action, Compiler, Decision, Object, Reason, Request};
    ///
    /// let policy = Compiler::new().compile(&acl::parse(r#"{"permissive": false,
    ///     "run_tasks": [{"principals": {"values": ["ops"]}, "users": {"values": ["root"]}}]}"#)?)?;
    /// let requests = [
    ///     Request::new(Action::RunTasks, Some("ops"), Object::One("root")),
    ///     Request::new(Action::RunTasks, Some("ops"), Object::One("nobody")),
    /// ];
    /// let mut out = [Decision::Deny(Reason::NoMatch { permissive: false }); 2];
    /// assert_eq!(policy.authorize_many(&requests, &mut out), 2);
    /// assert!(out[0].is_allowed() && !out[1].is_allowed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorize_many(&self, requests: &[Request<'_>], out: &mut [Decision]) -> usize {
        let n = requests.len().min(out.len());
        let requests = requests.get(..n).unwrap_or_default();
        // A sliding window in two steps, so that about `AHEAD` requests'
        // loads are always in flight (a steady stream, where deciding in
        // groups issued bursts that outran the processor's miss
        // buffers): just before request `i` is decided, request
        // `i + RING` is hashed and its filter words are prefetched, and
        // request `i + AHEAD`, whose words have come in meanwhile, is
        // checked against them and, unless they rule every table entry
        // out, has its table lines prefetched.
        let mut ring = [Hashes::default(); RING];
        for (h, r) in ring.iter_mut().zip(requests) {
            *h = self.hashes(r);
            self.touch_filters(r, h);
        }
        for (h, r) in ring.iter_mut().zip(requests).take(AHEAD) {
            self.sift(r, h);
        }
        for (i, (d, r)) in out.iter_mut().zip(requests).enumerate() {
            // (The slots always exist; without one the request is decided
            // unhashed, never skipped.)
            let h = ring.get_mut(i % RING).map_or_else(Hashes::default, |slot| {
                let h = *slot;
                if let Some(next) = requests.get(i + RING) {
                    *slot = self.hashes(next);
                    self.touch_filters(next, slot);
                }
                h
            });
            if let (Some(mid), Some(slot)) =
                (requests.get(i + AHEAD), ring.get_mut((i + AHEAD) % RING))
            {
                self.sift(mid, slot);
            }
            *d = self.decide_with(r, h);
        }
        n
    }

    /// The hashes of a single-object request ([`authorize_many`](Self::authorize_many));
    /// nothing for other requests, which decide as usual.
    #[inline(always)]
    fn hashes(&self, request: &Request<'_>) -> Hashes {
        let Object::One(o) = request.object else {
            return Hashes::default();
        };
        let action = request.action;
        if action.implicit_object() || request.legacy_quota_op.is_some() {
            return Hashes::default();
        }
        let key = &self.key;
        Hashes {
            principal: request.principal.map(|p| key.hash(p.as_bytes())),
            object: Some(key.hash(o.as_bytes())),
            quiet: None,
        }
    }

    /// Starts the loads of the filter words that tell whether the
    /// decision on `request`, hashed as `h`, needs its table lines.
    #[inline(always)]
    fn touch_filters(&self, request: &Request<'_>, h: &Hashes) {
        if let (Some(o), Some(table)) = (&h.object, self.table(request.action.list())) {
            table.touch_filters(&self.key, h.principal.as_ref(), o);
        }
    }

    /// Notes in `h` whether the decision on `request` (hashed as `h`)
    /// can be taken without the tables ([`Table::is_quiet`]); if not,
    /// starts the loads it will need: the principal's, the object's and
    /// the pair's slots.
    #[inline(always)]
    fn sift(&self, request: &Request<'_>, h: &mut Hashes) {
        let Some(o) = &h.object else { return };
        let Some(table) = self.table(request.action.list()) else {
            return;
        };
        let quiet = table.is_quiet(&self.key, h.principal.as_ref(), o);
        h.quiet = Some(quiet);
        if quiet {
            return;
        }
        table.touch(&self.key, h.principal.as_ref(), o);
    }

    /// The decision of a list's first ACL on a request that names exactly
    /// its principal and object ([`Head`]), if that is the request.
    #[inline(always)]
    fn by_head(&self, request: &Request<'_>) -> Option<Decision> {
        let (Some(p), Object::One(o)) = (request.principal, request.object) else {
            return None;
        };
        let action = request.action;
        if request.legacy_quota_op.is_some() || action.implicit_object() {
            return None;
        }
        let t = self.table(action.list())?;
        let h = t.head.as_ref()?;
        if !same(&h.principal, p) || !same(&h.object, o) {
            return None;
        }
        let r = t.rules.first()?;
        Some(Decision::from_bool(r.allow, Reason::Rule(r.rule())))
    }

    /// [`authorize`](Self::authorize), with the request's strings perhaps
    /// hashed already (`pre`: those of this very request, or none).
    #[inline(always)]
    fn decide_with(&self, request: &Request<'_>, pre: Hashes) -> Decision {
        if let Some(d) = self.by_head(request) {
            return d;
        }
        let max = self.max_string_len;
        let key = &self.key;
        let subject = match request.principal {
            None => None,
            Some(p) => {
                let h = pre.principal.unwrap_or_else(|| key.hash(p.as_bytes()));
                if let Err(e) = principal_ok(p, h.suspicious, max) {
                    return deny(e);
                }
                Some(Probe { text: p, hash: h })
            }
        };
        let action = request.action;
        let permissive = self.permissive;
        if action == Action::UpdateQuotas
            && let Some(op) = request.legacy_quota_op
        {
            let object = match request.object {
                Object::Absent => None,
                Object::One(o) => match self.probe(o, false, None) {
                    Ok(p) => Some(p),
                    Err(e) => return deny(e),
                },
                Object::Many(_) => return deny(RequestError::ObjectListNotAllowed),
            };
            let table = if !self.legacy_in_use {
                Some(&self.legacy_update)
            } else {
                self.table(match op {
                    LegacyQuotaOp::SetQuota => AclList::SetQuotas,
                    LegacyQuotaOp::RemoveQuota => AclList::RemoveQuotas,
                })
            };
            return match table {
                Some(t) => t.decide(key, t.subject(subject), object, permissive),
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
            Object::Absent => table.decide(key, table.subject(subject), None, permissive),
            Object::One(o) => {
                // The role check is left to the decision (below): an
                // object the table holds flagged a valid role needs none.
                let o = match self.probe(o, false, pre.object) {
                    Ok(o) => o,
                    Err(e) => return deny(e),
                };
                let ph = subject.as_ref().map(|s| &s.hash);
                // Start the three slots' loads together, before the
                // principal's look-up waits on its own: the pair's slot
                // follows from the two hashes alone. Before the filters
                // are read, too, so that a hit waits less for them
                // (measured at 1,000,000 ACLs with the filters read
                // first: hits 1.11x as long, misses 0.66x, the mix the
                // same).
                if pre.object.is_none() {
                    table.touch(key, ph, &o.hash);
                }
                // Most distinct requests on a large policy match no
                // pair: the filters, in cache, say so without waiting for
                // the table reads from memory that would.
                if pre
                    .quiet
                    .unwrap_or_else(|| table.is_quiet(key, ph, &o.hash))
                {
                    return table.decide_quiet(o.text, permissive);
                }
                // A batch's loads were started requests ago: decide
                // without branching on them. One by one, the branching
                // path measured faster at 1,000,000 ACLs (1.04-1.06x
                // slower through `decide_one`).
                if pre.object.is_some() && (!table.hierarchical || table.prefixes.is_empty()) {
                    return table.decide_one(key, subject, o, permissive);
                }
                let who = table.subject(subject);
                if who.is_none() && !table.open_subjects {
                    if role && !valid_role(o.text) {
                        return deny(RequestError::InvalidRole);
                    }
                    // No rule can match a principal this list does not name.
                    return Decision::from_bool(permissive, Reason::NoMatch { permissive });
                }
                if role {
                    table.decide_role(key, who, o, permissive)
                } else {
                    table.decide(key, who, Some(o), permissive)
                }
            }
            Object::Many(roles) => {
                if !action.takes_role_list() {
                    return deny(RequestError::ObjectListNotAllowed);
                }
                for r in roles.iter() {
                    if let Err(e) = check_object(r, role, max) {
                        return deny(e);
                    }
                }
                let mut rest = roles.iter();
                let Some(head) = rest.next() else {
                    return if action == Action::RegisterFrameworks {
                        Decision::from_bool(permissive, Reason::NoRoles { permissive })
                    } else {
                        Decision::Allow(Reason::NothingToAuthorize)
                    };
                };
                let who = table.subject(subject);
                let one = |r: &str| {
                    let o = Probe {
                        text: r,
                        hash: key.hash(r.as_bytes()),
                    };
                    table.decide(key, who, Some(o), permissive)
                };
                let first = one(head);
                if !first.is_allowed() {
                    return first;
                }
                for r in rest {
                    let d = one(r);
                    if !d.is_allowed() {
                        return d;
                    }
                }
                first
            }
        }
    }

    /// Whether a single-object `request` would be decided by its
    /// filters alone ([`Table::is_quiet`]); `None` for another request.
    #[cfg(test)]
    pub(super) fn is_quiet(&self, request: &Request<'_>) -> Option<bool> {
        let h = self.hashes(request);
        let table = self.table(request.action.list())?;
        Some(table.is_quiet(&self.key, h.principal.as_ref(), h.object.as_ref()?))
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
        let key = &self.key;
        let who = t.subject(subject.map(|s| Probe {
            text: s,
            hash: key.hash(s.as_bytes()),
        }));
        let object = object.map(|o| Probe {
            text: o,
            hash: key.hash(o.as_bytes()),
        });
        t.first(key, who, object).rule(&t.rules).map(|r| r.rule())
    }
}
