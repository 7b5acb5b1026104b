//! Benchmarks for the tls component: mapping one verified leaf (parse +
//! RFC 4514 render + rules), the cache on a hit, and rule compilation.
//! Targets (issue 14, item 4), as ratios to baselines in the same run:
//! mapping ≤ 1.3 × x509-parser's `parse_x509_certificate` on the same leaf;
//! a cache hit ≤ 100 ns including what keys it (wrapping the DER).
//!
//! `cargo bench --bench tls -- --warm-up-time 1 --measurement-time 3`
#![allow(
    missing_docs,
    reason = "criterion_group! makes undocumented items in some criterion versions"
)]
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up: a failure must stop the run loudly"
)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use mesos_auth::tls::{CachedMapper, Mapper, VerifiedLeaf};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};

const RULES_A: &str = include_str!("../tests/data/tls/rules-a.json");

/// A typical agent certificate: four RDNs, a DNS and an email SAN, signed
/// by a CA named like rule R5's issuer.
fn agent_leaf() -> VerifiedLeaf {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "Acme");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Ops CA");
    ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "US");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Acme");
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, "agents");
    params
        .distinguished_name
        .push(DnType::CommonName, "Agent-7");
    params.subject_alt_names = vec![
        SanType::DnsName("agent-7.agents.example.com".try_into().unwrap()),
        SanType::Rfc822Name("ops@example.org".try_into().unwrap()),
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    VerifiedLeaf::from_der_verified_elsewhere(cert.der().clone())
}

fn bench(c: &mut Criterion) {
    let mapper = Mapper::from_json(RULES_A).unwrap();
    let leaf = agent_leaf();
    // Rule R3 decides, after R1 (spiffe, empty) and R2 (subject.OU) ran.
    assert_eq!(mapper.map(&leaf).unwrap().as_str(), "agent:agent-7");
    let der = leaf.der().clone();

    c.bench_function("tls/map_verified_leaf", |b| {
        b.iter(|| mapper.map(black_box(&leaf)))
    });
    c.bench_function("tls/parse_and_render_only", |b| {
        b.iter(|| mesos_auth::tls::LeafFacts::parse(black_box(der.as_ref())))
    });
    // The baseline of issue 14: x509-parser's own entry point (full parse,
    // extensions parsed deeply).
    c.bench_function("tls/x509_parser_parse_x509_certificate", |b| {
        b.iter(|| x509_parser::parse_x509_certificate(black_box(der.as_ref())).is_ok())
    });
    c.bench_function("tls/x509_parser_only", |b| {
        use x509_parser::nom::Parser as _;
        b.iter(|| {
            x509_parser::certificate::X509CertificateParser::new()
                .with_deep_parse_extensions(false)
                .parse(black_box(der.as_ref()))
                .is_ok()
        })
    });
    c.bench_function("tls/map_fresh_leaf_incl_sha256", |b| {
        b.iter(|| {
            let leaf = VerifiedLeaf::from_der_verified_elsewhere(black_box(&der).clone());
            mapper.map(&leaf)
        })
    });
    c.bench_function("tls/sha256_only", |b| {
        use sha2::Digest as _;
        b.iter(|| sha2::Sha256::digest(black_box(der.as_ref())))
    });
    let cached = CachedMapper::new(Arc::new(Mapper::from_json(RULES_A).unwrap()), 1024);
    assert!(cached.map(&leaf).is_ok());
    c.bench_function("tls/cache_hit", |b| b.iter(|| cached.map(black_box(&leaf))));
    // What a server does per connection: wrap the peer's DER (a copy; no
    // digest any more), then look it up.
    c.bench_function("tls/cache_hit_incl_wrap", |b| {
        b.iter(|| {
            let leaf = VerifiedLeaf::from_der_verified_elsewhere(black_box(&der).clone());
            cached.map(&leaf)
        })
    });
    c.bench_function("tls/compile_rules_a", |b| {
        b.iter(|| Mapper::from_json(black_box(RULES_A)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
