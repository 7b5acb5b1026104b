//! Loading big files (issue 14, item 2): read + parse + compile 100,000 and
//! 1,000,000 ACLs (and the same through the full reader, which every file
//! took before the fast path), and read + build 1,000,000 credentials (text
//! and JSON), each next to `serde_json::from_slice::<serde_json::Value>` of the same
//! bytes (read from the same file), the baseline measured in the same run.
//! `parse_only` measures read + parse without the compile or store build,
//! so one run splits the time. Large credentials files are read by up to
//! `min(available_parallelism, 8)` threads (`credentials::parse`).
//! The files are generated once, deterministically, in a temporary
//! directory (benches/support/gen.rs).
#![allow(
    clippy::expect_used,
    missing_docs,
    reason = "benchmark setup: a broken fixture should stop the run; criterion macros generate undocumented items"
)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mesos_auth::acl::{self, Compiler};
use mesos_auth::credentials::{self, Format, Options};

#[path = "support/gen.rs"]
mod generate;

fn serde_baseline(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).expect("readable");
    serde_json::from_slice(&bytes).expect("valid JSON")
}

fn private_file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writable temp dir");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

fn acls(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("load/acl");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    for (n, label) in [(100_000usize, "100k"), (1_000_000, "1m")] {
        let text = generate::acl_json(n);
        let path = private_file(dir.path(), &format!("acls-{label}.json"), &text);
        group.throughput(Throughput::Bytes(text.len() as u64));
        drop(text);
        let compiled = acl::read_file(&path, acl::Options::new())
            .and_then(|src| Compiler::new().compile(&src))
            .expect("the generated policy compiles");
        assert_eq!(compiled.rule_count(), n);
        drop(compiled);
        // Dropping what was built is not part of loading.
        group.bench_with_input(BenchmarkId::new("ours", label), &path, |b, path| {
            b.iter_with_large_drop(|| {
                let src = acl::read_file(black_box(path), acl::Options::new()).expect("parses");
                Compiler::new().compile(&src).expect("compiles")
            })
        });
        // Read + parse alone, so a run splits the time between the parse
        // and the compile (the compile is `ours` minus this).
        group.bench_with_input(BenchmarkId::new("parse_only", label), &path, |b, path| {
            b.iter_with_large_drop(|| {
                acl::read_file(black_box(path), acl::Options::new()).expect("parses")
            })
        });
        // The full reader alone (what every file cost before the fast path).
        group.bench_with_input(BenchmarkId::new("full_reader", label), &path, |b, path| {
            b.iter_with_large_drop(|| {
                let text = std::fs::read_to_string(black_box(path)).expect("readable");
                let src = mesos_auth::internal::acl_parse_full_reader(&text, acl::Options::new())
                    .expect("parses");
                Compiler::new().compile(&src).expect("compiles")
            })
        });
        group.bench_with_input(BenchmarkId::new("serde_json", label), &path, |b, path| {
            b.iter_with_large_drop(|| serde_baseline(black_box(path)))
        });
    }
    group.finish();
}

fn creds(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("load/credentials");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    let n = 1_000_000;
    let text = private_file(dir.path(), "creds.txt", &generate::credentials_text(n));
    let json = private_file(dir.path(), "creds.json", &generate::credentials_json(n));
    let as_text = Options::new().format(Format::Text);
    let as_json = Options::new();
    for (path, options) in [(&text, &as_text), (&json, &as_json)] {
        let store = credentials::load_store(path, options).expect("loads");
        assert_eq!(store.len(), n);
    }
    group.bench_function("ours/text_1m", |b| {
        b.iter_with_large_drop(|| credentials::load_store(black_box(&text), &as_text))
    });
    group.bench_function("ours/json_1m", |b| {
        b.iter_with_large_drop(|| credentials::load_store(black_box(&json), &as_json))
    });
    // Read + parse alone (the store build is `ours` minus this).
    group.bench_function("parse_only/text_1m", |b| {
        b.iter_with_large_drop(|| credentials::load(black_box(&text), &as_text))
    });
    group.bench_function("parse_only/json_1m", |b| {
        b.iter_with_large_drop(|| credentials::load(black_box(&json), &as_json))
    });
    group.bench_function("serde_json/json_1m", |b| {
        b.iter_with_large_drop(|| serde_baseline(black_box(&json)))
    });
    group.finish();
}

criterion_group!(benches, acls, creds);
criterion_main!(benches);
