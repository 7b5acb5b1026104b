//! Benchmarks for the tls component (criterion).

fn main() {}
