//! Our hand-written hashes against the crates that now do the same
//! (issue 13, item 18), side by side on the same inputs:
//!
//! - a CRAM-MD5 HMAC from stored chaining states: `hmac_md5.rs` (our own
//!   MD5 compression; why it stays is in benches/README.md) against the
//!   same HMAC written here straight on `md-5` 0.11's `block_api::compress`;
//! - SipHash-1-3-128: ours (`siphash.rs`, the credential index's tag)
//!   against `siphasher`'s `SipHasher13`;
//! - the ACL pair table (`acl/index.rs`: open addressing, linear probing,
//!   precomputed hashes) against `hashbrown::HashTable` given the same
//!   hashes, for hits and misses.
//!
//! Each pair is checked to give the same answer before it is timed.
//!
//! `cargo bench --bench hashes -- --warm-up-time 1 --measurement-time 2`
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hashbrown::HashTable;
use md5::block_api::compress as crate_compress;
use mesos_auth::internal::{AclPairTable, cram_md5_states, hmac_md5_from_states, siphash13_128};
use siphasher::sip128::SipHasher13;

/// A challenge as the authenticator makes them (two 20-digit fields, a host).
const CHALLENGE: &[u8] = b"<12345678901234567890.09876543210987654321@master.example.org>";

/// HMAC-MD5 from stored chaining states with `md-5` 0.11's compression
/// function: the same algorithm as `HmacMd5Key::mac`, bytes instead of words.
fn crate_mac(inner: [u32; 4], outer: [u32; 4], message: &[u8]) -> [u8; 16] {
    let mut state = inner;
    let mut blocks = message.chunks_exact(64);
    for block in &mut blocks {
        crate_compress(&mut state, &[block.try_into().unwrap()]);
    }
    let rest = blocks.remainder();
    let mut tail = [[0u8; 64]; 2];
    let n = if rest.len() < 56 { 1 } else { 2 };
    let flat = tail.as_flattened_mut();
    flat[..rest.len()].copy_from_slice(rest);
    flat[rest.len()] = 0x80;
    let bits = ((64 + message.len()) as u64) * 8;
    flat[n * 64 - 8..n * 64].copy_from_slice(&bits.to_le_bytes());
    crate_compress(&mut state, &tail[..n]);
    let mut block = [0u8; 64];
    for (d, w) in block.chunks_exact_mut(4).zip(state) {
        d.copy_from_slice(&w.to_le_bytes());
    }
    block[16] = 0x80;
    block[56..64].copy_from_slice(&(80u64 * 8).to_le_bytes());
    let mut out = outer;
    crate_compress(&mut out, &[block]);
    let mut digest = [0u8; 16];
    for (d, w) in digest.chunks_exact_mut(4).zip(out) {
        d.copy_from_slice(&w.to_le_bytes());
    }
    digest
}

fn md5(c: &mut Criterion) {
    let (inner, outer) = cram_md5_states(b"tanstaaftanstaaf");
    assert_eq!(
        hmac_md5_from_states(inner, outer, CHALLENGE),
        crate_mac(inner, outer, CHALLENGE),
        "the two HMACs disagree"
    );
    let mut g = c.benchmark_group("hmac_md5_from_states");
    g.bench_function("ours", |b| {
        b.iter(|| hmac_md5_from_states(black_box(inner), black_box(outer), black_box(CHALLENGE)));
    });
    g.bench_function("md-5 0.11", |b| {
        b.iter(|| crate_mac(black_box(inner), black_box(outer), black_box(CHALLENGE)));
    });
    g.finish();
}

fn siphash(c: &mut Criterion) {
    let key = [0x0706_0504_0302_0100_u64, 0x0f0e_0d0c_0b0a_0908];
    for name in ["framework-42", "spiffe-prod-analytics-batch-scheduler-07"] {
        let h = SipHasher13::new_with_keys(key[0], key[1]).hash(name.as_bytes());
        assert_eq!(
            siphash13_128(&key, name.as_bytes()),
            [h.h1, h.h2],
            "SipHash disagrees"
        );
        let mut g = c.benchmark_group(format!("siphash13_128/{}B", name.len()));
        g.bench_function("ours", |b| {
            b.iter(|| siphash13_128(black_box(&key), black_box(name.as_bytes())));
        });
        g.bench_function("siphasher", |b| {
            b.iter(|| {
                let h = SipHasher13::new_with_keys(black_box(key[0]), black_box(key[1]))
                    .hash(black_box(name.as_bytes()));
                [h.h1, h.h2]
            });
        });
        g.finish();
    }
}

/// A fixed 64-bit mixer (splitmix64's finaliser) standing in for the
/// policy's keyed pair hash: both tables get the same hashes.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pair_tables(c: &mut Criterion) {
    for n in [1_000u64, 100_000] {
        // Keys as the compiler makes them: (principal id << 32) | object id.
        let pairs: Vec<(u64, u64, u32)> = (0..n)
            .map(|i| {
                let k = ((i % 97) << 32) | (i / 97);
                (mix(k), k, i as u32)
            })
            .collect();
        let ours = AclPairTable::from_pairs(&pairs);
        let mut theirs: HashTable<(u64, u64, u32)> = HashTable::with_capacity(pairs.len());
        for &(h, k, v) in &pairs {
            if theirs.find(h, |e| e.1 == k).is_none() {
                theirs.insert_unique(h, (h, k, v), |e| e.0);
            }
        }
        // 1,024 probes per iteration: half hits spread over the table, half
        // misses (ids the policy never assigned).
        let probes: Vec<(u64, u64)> = (0..1024u64)
            .map(|j| {
                let k = if j % 2 == 0 {
                    pairs[(mix(j) % n) as usize].1
                } else {
                    ((1000 + j) << 32) | j
                };
                (mix(k), k)
            })
            .collect();
        for &(h, k) in &probes {
            assert_eq!(ours.get(h, k), theirs.find(h, |e| e.1 == k).map(|e| e.2));
        }
        let mut g = c.benchmark_group(format!("pair_table/{n}"));
        g.bench_function("ours", |b| {
            b.iter(|| {
                let mut found = 0u32;
                for &(h, k) in black_box(&probes) {
                    found = found.wrapping_add(ours.get(h, k).unwrap_or(0));
                }
                found
            });
        });
        g.bench_function("hashbrown", |b| {
            b.iter(|| {
                let mut found = 0u32;
                for &(h, k) in black_box(&probes) {
                    found = found.wrapping_add(theirs.find(h, |e| e.1 == k).map_or(0, |e| e.2));
                }
                found
            });
        });
        g.finish();
    }
}

criterion_group!(benches, md5, siphash, pair_tables);
criterion_main!(benches);
