//! Benchmarks for the sasl component (criterion).

fn main() {}
