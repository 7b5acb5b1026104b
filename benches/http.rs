//! HTTP authentication (criterion): a Basic success and a Basic failure for
//! an unknown user against a store of 1,000 plaintext principals, and a
//! header refused by the parser (parse and challenge only, no store work).
//!
//! `cargo bench --bench http -- --warm-up-time 1 --measurement-time 2`
#![allow(clippy::unwrap_used, missing_docs, reason = "benchmark harness")]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use mesos_auth::Reloadable;
use mesos_auth::credentials::{self, Options};
use mesos_auth::http::{HttpAuthenticator, Request};

fn authenticator() -> HttpAuthenticator {
    let entries: Vec<String> = (0..1000)
        .map(|i| format!(r#"{{"principal": "framework-{i}", "secret": "secret-number-{i}-xyz"}}"#))
        .collect();
    let text = format!(r#"{{"credentials": [{}]}}"#, entries.join(","));
    let store = credentials::parse(text.as_bytes(), &Options::default())
        .unwrap()
        .into_store()
        .unwrap();
    HttpAuthenticator::builder("mesos-master-readwrite")
        .unwrap()
        .basic(Arc::new(Reloadable::new(store)))
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    use base64::Engine as _;
    let enc = |s: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    let auth = authenticator();
    let good = enc("framework-777:secret-number-777-xyz");
    let unknown = enc("framework-nobody:secret-number-777-xyz");
    let malformed = "Basic ZnJhbWV3b3JrLTc3Nzpz!";
    let now = Instant::now();
    let wall = SystemTime::now();
    let mut g = c.benchmark_group("http");
    for (name, header) in [
        ("basic_success", good.as_str()),
        ("basic_failure_unknown_user", unknown.as_str()),
        ("header_refused_by_parser", malformed),
    ] {
        let req = Request::new("GET", "/master/state")
            .authorization(header)
            .peer("10.0.0.9:51234");
        assert_eq!(
            auth.authenticate(&req, now, wall).status(),
            if name == "basic_success" { 0 } else { 401 }
        );
        g.bench_function(name, |b| {
            b.iter(|| black_box(auth.authenticate(black_box(&req), now, wall)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
