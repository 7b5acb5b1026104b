//! Benchmarks for the credentials component (criterion).

fn main() {}
