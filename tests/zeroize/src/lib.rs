//! Empty: this package exists only for its `zeroize` test binary, which
//! installs a scanning `#[global_allocator]` (unsafe code, which the
//! `mesos-auth` package forbids in all of its targets).
