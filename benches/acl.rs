//! Benchmarks for the acl component (criterion).

fn main() {}
