//! Benchmarks for the credentials component (criterion): look-up hit and
//! miss at 10 and 100,000 principals, and loading a 100,000-credential file
//! in the text and JSON formats (JSON through the fast path and through the
//! full reader).
#![allow(
    clippy::unwrap_used,
    reason = "benchmark setup: bad data should stop the run"
)]
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mesos_auth::credentials::{self, CredentialStore, Format, Options};

fn text_file(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| format!("principal-{i:06} secret-value-{i:08}-xyz\n"))
        .collect::<String>()
        .into_bytes()
}

fn json_file(n: usize) -> Vec<u8> {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"    {{"principal": "principal-{i:06}", "secret": "secret-value-{i:08}-xyz"}}"#
            )
        })
        .collect();
    format!("{{\n  \"credentials\": [\n{}\n  ]\n}}\n", items.join(",\n")).into_bytes()
}

fn store(n: usize) -> CredentialStore {
    credentials::parse(&text_file(n), &Options::new().format(Format::Text))
        .and_then(|f| f.into_store())
        .unwrap()
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("credentials/lookup");
    for n in [10usize, 100_000] {
        let s = store(n);
        let hit = format!("principal-{:06}", n / 2);
        let miss = "principal-absent";
        group.bench_with_input(BenchmarkId::new("cram_md5_key_hit", n), &hit, |b, name| {
            b.iter(|| black_box(s.cram_md5_key(black_box(name)).known()))
        });
        group.bench_with_input(
            BenchmarkId::new("cram_md5_key_miss", n),
            &miss,
            |b, name| b.iter(|| black_box(s.cram_md5_key(black_box(name)).known())),
        );
        group.bench_with_input(BenchmarkId::new("get_hit", n), &hit, |b, name| {
            b.iter(|| black_box(s.get(black_box(name)).is_some()))
        });
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("credentials/load_100k");
    group.sample_size(10);
    let text = text_file(100_000);
    let json = json_file(100_000);
    // The text format is read only when asked for (else a quick error).
    let as_text = Options::new().format(Format::Text);
    assert!(credentials::parse(&text, &as_text).is_ok());
    // Dropping the store (wiping 100,000 secrets) is not part of loading.
    group.bench_function("text", |b| {
        b.iter_with_large_drop(|| {
            let f = credentials::parse(black_box(&text), &as_text);
            black_box(f.and_then(|f| f.into_store()))
        })
    });
    group.bench_function("json", |b| {
        b.iter_with_large_drop(|| {
            let f = credentials::parse(black_box(&json), &Options::new());
            black_box(f.and_then(|f| f.into_store()))
        })
    });
    // The same JSON through the full reader (a JSON tree), as any file not
    // of the plain shape is read (an extra key, lenient quirks, errors).
    group.bench_function("json_full_reader", |b| {
        b.iter_with_large_drop(|| {
            black_box(mesos_auth::internal::credentials_load_full_reader(
                black_box(&json),
                &Options::new(),
            ))
        })
    });
    // From a file: open, fstat checks, read, parse, build.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    std::fs::write(&path, &json).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // 100,000 JSON credentials take about 7 MiB, over the default 4 MiB cap.
    let options = Options::new().max_file_size(16 << 20);
    assert!(credentials::load_store(&path, &options).is_ok());
    group.bench_function("json_file", |b| {
        b.iter_with_large_drop(|| black_box(credentials::load_store(&path, &options)))
    });
    group.finish();
}

criterion_group!(benches, lookup, load);
criterion_main!(benches);
