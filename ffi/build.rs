//! Link arguments for the shared library (issue 13 item 17): a SONAME, so
//! programs record `libmesos_auth.so.0` rather than the build's file name,
//! and versioned symbols: every exported C API symbol gets the version node
//! `libmesos_auth.so.0`.
//!
//! Why `--default-symver` and not a version script of our own: rustc
//! already passes the linker an anonymous version script (the export
//! list), and a second, named script cannot be combined with it (GNU ld
//! refuses; rust-lld, rustc's default linker here, silently keeps the
//! anonymous one, leaving the symbols unversioned). `--default-symver`
//! versions exactly what that list exports; rust-lld lacks it, so the
//! shared library is linked with the system's GNU ld.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // GNU toolchains on Linux; other platforms keep the linker's defaults.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux")
        || std::env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("gnu")
    {
        return;
    }
    // The SONAME carries the major version (0 until 1.0; ffi/install.sh
    // makes the matching link).
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    println!("cargo:rustc-cdylib-link-arg=-fuse-ld=bfd");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmesos_auth.so.{major}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--default-symver");
}
