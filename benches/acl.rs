//! ACL benchmarks: compile time and per-decision time at 10, 1,000 and
//! 100,000 ACLs, for a request decided by the first ACL, by the last, and by
//! none (permissive), compiled vs the reference interpreter; and a stream
//! of 1,000,000 distinct requests at 1,000, 100,000 and 1,000,000 ACLs
//! (`acl_stream`), one by one and through the batch API (and, at
//! 1,000,000, the stream's hits and misses apart).
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark setup: a broken fixture should stop the run; criterion macros generate undocumented items"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mesos_auth::acl::{self, AclSource, Action, Compiler, Decision, Object, Request};

const SIZES: &[usize] = &[10, 1_000, 100_000];

/// Keeps a decision alive in memory where it was built, without reading it
/// back: passing the `Decision` itself through `black_box` copies it field by
/// field and re-reads it, and the loads that straddle its byte-sized stores
/// stall on store forwarding (about 7 ns a call here, more than half of a
/// compiled decision). A caller reads `is_allowed()` and perhaps the reason,
/// which forward fine.
#[inline(always)]
fn consume(d: Decision) {
    black_box(&d);
}

/// `n` run_tasks ACLs, each one principal and one user, like a per-framework
/// policy; the last one grants a role subtree in register_frameworks too.
fn policy(n: usize) -> AclSource {
    let mut s = String::from("{\"permissive\": false, \"run_tasks\": [");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"principals\": {{\"values\": [\"fw-{i}\"]}}, \"users\": {{\"values\": [\"user-{i}\"]}}}}"
        ));
    }
    s.push_str("]}");
    acl::parse(&s).expect("valid policy")
}

fn bench(c: &mut Criterion) {
    let mut compile = c.benchmark_group("acl_compile");
    compile.sample_size(10);
    for &n in SIZES {
        let src = policy(n);
        compile.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
            b.iter(|| Compiler::new().compile(black_box(src)).expect("compiles"))
        });
    }
    compile.finish();

    let mut decide = c.benchmark_group("acl_authorize");
    for &n in SIZES {
        let src = policy(n);
        let compiled = Compiler::new().compile(&src).expect("compiles");
        let last_p = format!("fw-{}", n - 1);
        let last_u = format!("user-{}", n - 1);
        let cases = [
            ("first", "fw-0", "user-0"),
            ("last", last_p.as_str(), last_u.as_str()),
            ("none", "fw-unknown", "user-unknown"),
        ];
        for (name, p, u) in cases {
            let req = Request::new(Action::RunTasks, Some(p), Object::One(u));
            decide.bench_with_input(
                BenchmarkId::new(format!("compiled/{name}"), n),
                &req,
                |b, req| b.iter(|| consume(compiled.authorize(black_box(req)))),
            );
            if n <= 1_000 || name == "first" {
                decide.bench_with_input(
                    BenchmarkId::new(format!("reference/{name}"), n),
                    &req,
                    |b, req| {
                        b.iter(|| {
                            consume(acl::reference::authorize(black_box(&src), black_box(req)))
                        })
                    },
                );
            }
        }
    }
    // A hierarchical role three levels deep, matched by a `/%` ACL.
    let src = acl::parse(
        r#"{"permissive": false, "register_frameworks": [
            {"principals": {"values": ["a"]}, "roles": {"values": ["x"]}},
            {"principals": {"values": ["ops"]}, "roles": {"values": ["eng/%"]}}]}"#,
    )
    .expect("valid");
    let compiled = Compiler::new().compile(&src).expect("compiles");
    let req = Request::new(
        Action::RegisterFrameworks,
        Some("ops"),
        Object::One("eng/web/prod"),
    );
    decide.bench_function("compiled/role_subtree_depth3", |b| {
        b.iter(|| consume(compiled.authorize(black_box(&req))))
    });
    decide.finish();
}

/// SplitMix64: a fixed, seedable stream for the generated policies and
/// requests (the same on every run, so runs compare).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `n` ACLs over `register_frameworks` and `run_tasks` (alternating), one
/// principal and one object each, drawn from pools of `n / 2` principals
/// and `n / 2` objects; about 1 in 64 has an ANY principal and 1 in 64 a
/// NONE object. Returns the policy and the (principal, object) of each
/// ACL per action, for the hits of the request stream.
type Pairs = Vec<(String, String)>;

fn mixed_policy(n: usize) -> (AclSource, [Pairs; 2]) {
    let mut rng = Mix(n as u64);
    let pool = (n / 2).max(1);
    let mut lists = [String::new(), String::new()];
    let mut pairs: [Pairs; 2] = [Vec::new(), Vec::new()];
    for i in 0..n {
        let which = i % 2;
        let p = format!("framework-principal-{}", rng.below(pool));
        let o = if which == 0 {
            format!("team-{}/svc-{}", rng.below(64), rng.below(pool))
        } else {
            format!("user-{}", rng.below(pool))
        };
        let field = if which == 0 { "roles" } else { "users" };
        // The first ACL of each list names one principal and one object
        // (the repeated request's).
        let subj = if i >= 2 && rng.below(64) == 0 {
            "{\"type\": \"ANY\"}".to_string()
        } else {
            format!("{{\"values\": [\"{p}\"]}}")
        };
        let obj = if i >= 2 && rng.below(64) == 0 {
            "{\"type\": \"NONE\"}".to_string()
        } else {
            format!("{{\"values\": [\"{o}\"]}}")
        };
        let l = &mut lists[which];
        if !l.is_empty() {
            l.push(',');
        }
        l.push_str(&format!("{{\"principals\": {subj}, \"{field}\": {obj}}}"));
        pairs[which].push((p, o));
    }
    let s = format!(
        "{{\"permissive\": false, \"register_frameworks\": [{}], \"run_tasks\": [{}]}}",
        lists[0], lists[1]
    );
    (acl::parse(&s).expect("valid policy"), pairs)
}

/// `len` requests, half `register_framework` and half `run_task`: half of
/// them an ACL's own (principal, object), the other half a principal and
/// an object drawn independently (mostly no pair ACL: a miss, decided by a
/// single-sided rule or by `permissive`), a few with names no ACL has.
fn stream(pairs: &[Pairs; 2], len: usize) -> Vec<(Action, String, String)> {
    let mut rng = Mix(0x5eed);
    (0..len)
        .map(|i| {
            let which = rng.below(2);
            let action = [Action::RegisterFrameworks, Action::RunTasks][which];
            let list = &pairs[which];
            let (p, o) = match i % 4 {
                0 | 1 => list[rng.below(list.len())].clone(),
                2 => (
                    list[rng.below(list.len())].0.clone(),
                    list[rng.below(list.len())].1.clone(),
                ),
                _ => (
                    format!("framework-principal-x{}", rng.below(1 << 30)),
                    list[rng.below(list.len())].1.clone(),
                ),
            };
            (action, p, o)
        })
        .collect()
}

/// A random cycle through the 64-byte lines of `bytes` of memory, mapped
/// and advised for huge pages as a large policy's tables are: each line's
/// first word is the index of the next. Following it is one dependent
/// memory round trip per step, the physical floor under a decision that
/// must read a table line nothing has cached.
struct Chain {
    map: memmap2::MmapMut,
    start: usize,
    lines: usize,
}

impl Chain {
    fn new(bytes: usize) -> Chain {
        const HUGE: usize = 2 << 20;
        let lines = bytes / 64;
        let mut map = memmap2::MmapMut::map_anon(lines * 64 + HUGE).expect("anonymous map");
        let _ = map.advise(memmap2::Advice::HugePage);
        let start = (map.as_ptr() as usize).next_multiple_of(HUGE) - map.as_ptr() as usize;
        let mut order: Vec<u64> = (0..lines as u64).collect();
        let mut rng = Mix(0xc4a1);
        for i in (1..lines).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let words: &mut [u64] = bytemuck::cast_slice_mut(&mut map[start..start + lines * 64]);
        for (i, &at) in order.iter().enumerate() {
            words[at as usize * 8] = order[(i + 1) % lines];
        }
        Chain { map, start, lines }
    }

    /// `K` places spread over the cycle, to start following from.
    fn starts<const K: usize>(&self) -> [u64; K] {
        std::array::from_fn(|k| (k * self.lines / K) as u64)
    }

    /// Follows the `K` chains at `at` for `steps` steps each (going on
    /// from where the last call stopped, so no line is read twice soon).
    fn follow<const K: usize>(&self, at: &mut [u64; K], steps: usize) -> u64 {
        let words: &[u64] =
            bytemuck::cast_slice(&self.map[self.start..self.start + self.lines * 64]);
        for _ in 0..steps {
            for p in at.iter_mut() {
                *p = words[*p as usize * 8];
            }
        }
        at[0]
    }
}

/// Requests decided per timed iteration of the stream benchmarks.
const CHUNK: usize = 1024;
/// Length of the request stream.
const STREAM: usize = 1_000_000;

/// The whole `CHUNK`s of `reqs`, one per call, in turn.
fn chunks_of<'r, 'a>(reqs: &'r [Request<'a>]) -> impl FnMut() -> &'r [Request<'a>] {
    let chunks: Vec<&[Request<'_>]> = reqs.chunks(CHUNK).filter(|c| c.len() == CHUNK).collect();
    let mut at = 0usize;
    move || {
        at = (at + 1) % chunks.len();
        chunks[at]
    }
}

/// Distinct requests at 100,000 and 1,000,000 ACLs (issue 14, item 1): the
/// stream decided one by one and in batches, and, in the same run, the
/// baselines (the stream walked without deciding, one request repeated,
/// the reference linear scan and the compiled policy when the first ACL
/// decides). At 1,000 ACLs the tables fit in cache: that run is the
/// decision's own work, without the waits for memory. At 1,000,000 ACLs,
/// the machine's own limits: one dependent memory round trip
/// (`memory_round_trip`) and the cost per line with 16 loads in flight
/// (`memory_16_chains`), over as much memory as the policy's tables.
fn bench_stream(c: &mut Criterion) {
    let mut group = c.benchmark_group("acl_stream");
    group.throughput(Throughput::Elements(CHUNK as u64));
    for n in [1_000, 100_000, 1_000_000] {
        let (src, pairs) = mixed_policy(n);
        let compiled = Compiler::new().compile(&src).expect("compiles");
        eprintln!(
            "acl_stream: {n} ACLs, compiled policy holds {} heap bytes",
            compiled.heap_bytes()
        );
        let owned = stream(&pairs, STREAM);
        // The request strings in one buffer, in stream order, as a host's
        // decoded messages hold them (not scattered over a heap the
        // policy's build has fragmented).
        let mut arena = String::new();
        let mut spans = Vec::with_capacity(owned.len());
        for (a, p, o) in &owned {
            let at = arena.len();
            arena.push_str(p);
            arena.push_str(o);
            spans.push((*a, at, at + p.len(), at + p.len() + o.len()));
        }
        drop(owned);
        let reqs: Vec<Request<'_>> = spans
            .iter()
            .map(|&(a, s, m, e)| Request::new(a, Some(&arena[s..m]), Object::One(&arena[m..e])))
            .collect();
        let mut next = chunks_of(&reqs);
        group.bench_function(BenchmarkId::new("walk", n), |b| {
            b.iter(|| {
                for r in next() {
                    black_box(r);
                }
            })
        });
        group.bench_function(BenchmarkId::new("distinct", n), |b| {
            b.iter(|| {
                for r in next() {
                    consume(compiled.authorize(r));
                }
            })
        });
        let mut out = vec![Decision::Allow(acl::Reason::NothingToAuthorize); CHUNK];
        group.bench_function(BenchmarkId::new("distinct_batch", n), |b| {
            b.iter(|| {
                compiled.authorize_many(next(), &mut out);
                black_box(&out);
            })
        });
        if n == 1_000_000 {
            // The stream's halves apart (`stream`: requests 0 and 1 of
            // every 4 name an ACL's own pair, 2 and 3 mostly none), since
            // a mix's figure hangs on its share of hits.
            for (name, hit) in [("hits", true), ("misses", false)] {
                let part: Vec<Request<'_>> = reqs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (i % 4 < 2) == hit)
                    .map(|(_, r)| *r)
                    .collect();
                let mut next = chunks_of(&part);
                group.bench_function(BenchmarkId::new(format!("distinct_{name}"), n), |b| {
                    b.iter(|| {
                        for r in next() {
                            consume(compiled.authorize(r));
                        }
                    })
                });
                group.bench_function(BenchmarkId::new(format!("batch_{name}"), n), |b| {
                    b.iter(|| {
                        compiled.authorize_many(next(), &mut out);
                        black_box(&out);
                    })
                });
            }
            // The memory baselines, over as many bytes as the policy's
            // tables: one round trip per step (what one request decided
            // alone must wait for at least once), and 16 chains followed
            // together (the most loads this machine keeps in flight: a
            // batch's per-line cost).
            let chain = Chain::new(compiled.heap_bytes());
            let mut one = chain.starts::<1>();
            group.bench_function(BenchmarkId::new("memory_round_trip", n), |b| {
                b.iter(|| black_box(chain.follow(&mut one, black_box(CHUNK))))
            });
            // The same over 16 MiB, about what this VM's share of the
            // last-level cache holds: what a decision's round trip would
            // cost if the tables fit there.
            let small = Chain::new(16 << 20);
            let mut one_small = small.starts::<1>();
            group.bench_function(BenchmarkId::new("memory_round_trip_16mib", n), |b| {
                b.iter(|| black_box(small.follow(&mut one_small, black_box(CHUNK))))
            });
            let mut sixteen = chain.starts::<16>();
            group.bench_function(BenchmarkId::new("memory_16_chains", n), |b| {
                b.iter(|| black_box(chain.follow(&mut sixteen, black_box(CHUNK / 16))))
            });
        }
        let first = &pairs[1][0];
        let repeated = Request::new(Action::RunTasks, Some(&first.0), Object::One(&first.1));
        group.bench_function(BenchmarkId::new("repeated", n), |b| {
            b.iter(|| {
                for _ in 0..CHUNK {
                    consume(compiled.authorize(black_box(&repeated)));
                }
            })
        });
        group.bench_function(BenchmarkId::new("reference_first", n), |b| {
            b.iter(|| {
                for _ in 0..CHUNK {
                    consume(acl::reference::authorize(
                        black_box(&src),
                        black_box(&repeated),
                    ));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, bench_stream);
criterion_main!(benches);
