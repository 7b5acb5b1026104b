//! Heap while loading big files (issue 14, item 2): the peak while reading,
//! parsing and compiling 1,000,000 ACLs stays within twice what the
//! compiled policy keeps, which stays under 200 MiB; and the same figures
//! for 1,000,000 credentials. A counting global allocator; its own test
//! binary, because the allocator is process-wide. The figures are printed
//! (`--nocapture`) for benches/README.md.
#![allow(missing_docs, clippy::unwrap_used, reason = "test binary")]

use std::sync::atomic::Ordering;

use mesos_auth::acl::{self, Compiler};
use mesos_auth::credentials::{self, Format, Options};
use mesos_auth::internal::set_acl_map_observer;
use mesos_auth_zeroize_test::{Counting, LIVE, PEAK, reset_peak};

#[path = "../../../benches/support/gen.rs"]
mod generate;

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: f64 = (1 << 20) as f64;

fn private_file(dir: &std::path::Path, name: &str, text: String) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Large compiled ACL tables live in anonymous maps, which the allocator
/// does not see: the crate reports each map here, counted as if allocated.
fn count_map(delta: isize) {
    if delta >= 0 {
        let now = LIVE.fetch_add(delta.unsigned_abs(), Ordering::SeqCst) + delta.unsigned_abs();
        PEAK.fetch_max(now, Ordering::SeqCst);
    } else {
        LIVE.fetch_sub(delta.unsigned_abs(), Ordering::SeqCst);
    }
}

/// Loads with `load`, returning what it built, its retained bytes and the
/// peak above the bytes live before it started (maps included).
fn measure<T>(load: impl FnOnce() -> T) -> (T, usize, usize) {
    set_acl_map_observer(count_map);
    let before = LIVE.load(Ordering::SeqCst);
    reset_peak();
    let built = load();
    let retained = LIVE.load(Ordering::SeqCst) - before;
    let peak = PEAK.load(Ordering::SeqCst) - before;
    (built, retained, peak)
}

// One test, so the measurements never overlap (the counters are global).
#[test]
fn loading_a_million_acls_or_credentials_peaks_within_twice_what_it_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1_000_000;
    let path = private_file(dir.path(), "acls.json", generate::acl_json(n));
    let (src, src_retained, src_peak) =
        measure(|| acl::read_file(&path, acl::Options::new()).unwrap());
    let (c2, _, c_peak) = measure(|| Compiler::new().compile(&src).unwrap());
    println!(
        "parse: source {:.1} MiB, peak {:.1} MiB; compile peak {:.1} MiB",
        src_retained as f64 / MIB,
        src_peak as f64 / MIB,
        c_peak as f64 / MIB
    );
    drop((src, c2));
    let (compiled, retained, peak) = measure(|| {
        let src = acl::read_file(&path, acl::Options::new()).unwrap();
        Compiler::new().compile(&src).unwrap()
    });
    println!(
        "1,000,000 ACLs: retained {:.1} MiB (heap_bytes {:.1} MiB), peak {:.1} MiB ({:.2}x)",
        retained as f64 / MIB,
        compiled.heap_bytes() as f64 / MIB,
        peak as f64 / MIB,
        peak as f64 / retained as f64
    );
    assert_eq!(compiled.rule_count(), n);
    drop(compiled);
    assert!(retained <= 200 << 20, "{retained} bytes retained");
    assert!(peak <= 2 * retained, "peak {peak} for {retained} retained");

    for (name, text, options) in [
        (
            "text",
            generate::credentials_text(n),
            Options::new().format(Format::Text),
        ),
        ("json", generate::credentials_json(n), Options::new()),
    ] {
        let path = private_file(dir.path(), name, text);
        let (store, retained, peak) = measure(|| credentials::load_store(&path, &options).unwrap());
        println!(
            "1,000,000 credentials ({name}): retained {:.1} MiB, peak {:.1} MiB ({:.2}x)",
            retained as f64 / MIB,
            peak as f64 / MIB,
            peak as f64 / retained as f64
        );
        assert_eq!(store.len(), n);
        assert!(peak <= 2 * retained, "peak {peak} for {retained} retained");
    }
}
