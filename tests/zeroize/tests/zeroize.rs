//! T4 (threats.md): no secret survives in freed heap memory.
//!
//! A wrapping `#[global_allocator]` scans every block as it is freed (and,
//! through `GlobalAlloc`'s default `realloc`, every block a reallocation
//! moves away from) for a 32-byte canary secret and for its first 16 bytes,
//! and for the canary's CRAM-MD5 inner state (`{CRAM-MD5}`, as login-
//! equivalent for CRAM-MD5 as the password), both as the 16 bytes it has in
//! memory and as the first 16 hex digits of its stored form.
//! The scenario loads text and JSON files holding the canary, runs 1,000
//! authentications and 100 reloads (some refused), formats `Debug` output,
//! errors and audit lines, converts stored forms, and drops everything: the
//! scan must find the canary zero times. A control in the same test frees a
//! deliberately unwiped copy and must be caught, so the scan is known to work.
//!
//! The test's own buffers holding the canary are `Zeroizing` and sized once;
//! passwords are passed from the stack. Stack copies are out of reach here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use mesos_auth::credentials::{self, CredentialsHandle, Options, Scheme};
use mesos_auth::{Principal, Secret};
use zeroize_buf::Buf;

const CANARY_LEN: usize = 32;
const NEEDLE_LEN: usize = CANARY_LEN / 2;
static CANARY: [AtomicU8; CANARY_LEN] = [const { AtomicU8::new(0) }; CANARY_LEN];
/// The canary's HMAC-MD5 inner state as in memory (native-endian words),
/// then the first 16 hex digits of its `{CRAM-MD5}` form.
static STATE: [[AtomicU8; NEEDLE_LEN]; 2] = [const { [const { AtomicU8::new(0) }; NEEDLE_LEN] }; 2];
static SCANNING: AtomicBool = AtomicBool::new(false);
static HITS: AtomicUsize = AtomicUsize::new(0);
static LAST_SIZE: AtomicUsize = AtomicUsize::new(0);

struct ScanningAlloc;

// SAFETY: every call is forwarded to `System` with the caller's arguments;
// `dealloc` only reads the block it is about to free, which the caller
// guarantees is live, allocated by us with `layout`, and `layout.size()`
// bytes long.
unsafe impl GlobalAlloc for ScanningAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if SCANNING.load(Ordering::Relaxed) && layout.size() >= CANARY_LEN / 2 {
            // SAFETY: `ptr` is live and `layout.size()` bytes long (see above).
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if holds_canary(block) {
                HITS.fetch_add(1, Ordering::Relaxed);
                LAST_SIZE.store(layout.size(), Ordering::Relaxed);
            }
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    // `realloc` keeps the default: alloc + copy + `self.dealloc(old)`, so the
    // block left behind by a move is scanned too.
}

#[global_allocator]
static GLOBAL: ScanningAlloc = ScanningAlloc;

/// Whether `block` holds the canary's first 16 bytes (and so also whenever
/// it holds the whole canary), or one of the [`STATE`] needles once set.
/// Allocation-free: it runs inside `dealloc`.
fn holds_canary(block: &[u8]) -> bool {
    let load = |from: &[AtomicU8]| {
        let mut needle = [0u8; NEEDLE_LEN];
        for (n, c) in needle.iter_mut().zip(from) {
            *n = c.load(Ordering::Relaxed);
        }
        needle
    };
    let needles = [load(&CANARY), load(&STATE[0]), load(&STATE[1])];
    needles
        .iter()
        .filter(|n| **n != [0; NEEDLE_LEN])
        .any(|n| block.windows(NEEDLE_LEN).any(|w| w == n))
}

/// A canary of 32 alphanumeric characters, made on the stack from the clock
/// and the address space layout, so no other test run shares it.
fn make_canary() -> [u8; CANARY_LEN] {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ (&ALPHABET as *const _ as u64)
        | 1;
    let mut out = [0u8; CANARY_LEN];
    for b in &mut out {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = ALPHABET[(x % ALPHABET.len() as u64) as usize];
    }
    out
}

/// Exact-size wiping buffers for the test's own file contents.
mod zeroize_buf {
    pub struct Buf(Vec<u8>);

    impl Buf {
        pub fn concat(parts: &[&[u8]]) -> Self {
            let mut v = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
            for p in parts {
                v.extend_from_slice(p);
            }
            Self(v)
        }

        pub fn bytes(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Buf {
        fn drop(&mut self) {
            for b in self.0.iter_mut() {
                // Volatile so the wipe is not optimised away.
                unsafe_free_wipe(b);
            }
        }
    }

    fn unsafe_free_wipe(b: &mut u8) {
        // SAFETY: `b` is a valid, exclusive reference.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
}

/// Overwrites the dead stack below the caller with zeros.
///
/// Stack copies are out of scope (threats.md T4), but they do not stay on the
/// stack: hash and HMAC states (RustCrypto's sha2/hmac/pbkdf2 do not wipe
/// themselves, and debug builds move them between frames) leave secret bytes
/// in dead stack, and a later value with uninitialised padding (an enum of
/// mixed-size variants, say) that is built there and moved into a heap block
/// carries them along. Without scrubbing between operations this showed up
/// as one 544-byte `Vec<Diagnostic>` holding 16 canary bytes in padding. The
/// scenario therefore scrubs between operations: every heap buffer an
/// operation itself fills with the secret is still checked, which the
/// sabotage experiments (dropping the wipe in `Secret` or in the file
/// buffer) confirmed are caught.
#[inline(never)]
fn scrub_stack() {
    let mut zeros = [0u8; 64 * 1024];
    std::hint::black_box(&mut zeros);
}

fn write_private(path: &std::path::Path, content: &Buf) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content.bytes()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn hmac_md5(key: &[u8], msg: &[u8]) -> [u8; 16] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<md5::Md5> as Mac>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

#[test]
fn no_secret_survives_in_freed_memory() {
    let canary = make_canary();
    scrub_stack();
    for (slot, b) in CANARY.iter().zip(canary) {
        slot.store(b, Ordering::Relaxed);
    }
    // The `{CRAM-MD5}` form of the canary, before scanning starts: its hex
    // digits, and the inner state's words as they lie in memory.
    let cram_line = {
        let c = credentials::Credential::new(
            Principal::new("carol").unwrap(),
            credentials::StoredSecret::cram_md5_from(&Secret::new(&canary)),
        );
        Buf::concat(&[credentials::to_text([&c]).unwrap().as_bytes()])
    };
    let hex = {
        let line = cram_line.bytes();
        let at = line.windows(10).position(|w| w == b"{CRAM-MD5}").unwrap() + 10;
        Buf::concat(&[&line[at..at + 64]])
    };
    let mut inner = [0u8; NEEDLE_LEN];
    for (i, word) in inner.chunks_exact_mut(4).enumerate() {
        let digits = std::str::from_utf8(&hex.bytes()[i * 8..i * 8 + 8]).unwrap();
        let le = u32::from_str_radix(digits, 16).unwrap().swap_bytes();
        word.copy_from_slice(&le.to_ne_bytes());
    }
    for (needle, value) in STATE.iter().zip([&inner[..], &hex.bytes()[..NEEDLE_LEN]]) {
        for (slot, b) in needle.iter().zip(value) {
            slot.store(*b, Ordering::Relaxed);
        }
    }
    scrub_stack();
    SCANNING.store(true, Ordering::SeqCst);

    // Control: an unwiped heap copy is caught when freed.
    let before = HITS.load(Ordering::SeqCst);
    drop(std::hint::black_box(canary.to_vec()));
    let leaked = std::hint::black_box(String::from_utf8(canary[..20].to_vec()).unwrap());
    drop(leaked);
    assert_eq!(
        HITS.load(Ordering::SeqCst),
        before + 2,
        "the scan must detect plain copies"
    );
    // So are the CRAM-MD5 state, in memory and as hex.
    drop(std::hint::black_box(inner.to_vec()));
    drop(std::hint::black_box(hex.bytes()[..20].to_vec()));
    assert_eq!(
        HITS.load(Ordering::SeqCst),
        before + 4,
        "the scan must detect CRAM-MD5 states"
    );
    // And a wiped one is not.
    drop(Buf::concat(&[&canary]));
    drop(Buf::concat(&[&inner]));
    assert_eq!(HITS.load(Ordering::SeqCst), before + 4);
    HITS.store(0, Ordering::SeqCst);

    let dir = tempfile::tempdir().unwrap();
    let text_path = dir.path().join("creds.txt");
    let json_path = dir.path().join("creds.json");
    let text = Buf::concat(&[b"alice ", &canary, b"\nbob other-secret-value-0001\n"]);
    let json = Buf::concat(&[
        br#"{"credentials": [{"principal": "alice", "secret": ""#,
        &canary,
        br#""}, {"principal": "carol", "secret": "third-secret-value-02"}]}"#,
    ]);
    // Invalid: a duplicate principal, canary included, so the error path and
    // its message are scanned too.
    let invalid = Buf::concat(&[b"alice ", &canary, b"\nalice ", &canary, b"\n"]);
    let bad_json = Buf::concat(&[
        br#"{"credentials": [{"principal": "alice", "secret": "#,
        &canary,
        b"}]}",
    ]);
    // The JSON fast path: a secret with an escape (decoded into its own
    // buffer), and a file it reads part-way before handing over to the full
    // reader (an unknown key in the second credential).
    let escaped_json = Buf::concat(&[
        br#"{"credentials": [{"principal": "alice", "secret": ""#,
        &canary,
        br#"\u0041"}]}"#,
    ]);
    let fallback_json = Buf::concat(&[
        br#"{"credentials": [{"principal": "alice", "secret": ""#,
        &canary,
        br#"\u0041"}, {"principal": "bob", "secret": ""#,
        &canary,
        br#"", "note": 1}]}"#,
    ]);
    // A `{CRAM-MD5}` state among the plaintext.
    let cram_text = Buf::concat(&[b"alice ", &canary, b"\n", cram_line.bytes()]);
    write_private(&text_path, &text);
    write_private(&json_path, &json);

    // The text format is read only when asked for; JSON is detected.
    let text_handle =
        CredentialsHandle::open(&text_path, Options::new().format(credentials::Format::Text))
            .unwrap();
    let json_handle = CredentialsHandle::open(&json_path, Options::new()).unwrap();
    let sink = mesos_auth::audit::MemorySink::new();
    let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
    let expected = hmac_md5(&canary, challenge);
    scrub_stack();
    for round in 0..100usize {
        // Reload: text, JSON, then every fifth an invalid file.
        let (handle, path, next) = match round % 5 {
            4 => (&text_handle, &text_path, &invalid),
            3 => (&text_handle, &text_path, &cram_text),
            r if r % 2 == 0 => (&json_handle, &json_path, &json),
            _ => (&text_handle, &text_path, &text),
        };
        write_private(path, next);
        scrub_stack();
        let result = handle.reload_audited(&sink);
        assert_eq!(result.is_err(), round % 5 == 4);
        let snap = handle.snapshot();
        scrub_stack();
        for _ in 0..10 {
            // 1,000 authentications: HTTP Basic style and CRAM-MD5.
            assert!(snap.verify_password("alice", &canary));
            assert!(!snap.verify_password("alice", &canary[..31]));
            assert!(!snap.verify_password("nobody", &canary));
            let (mac, known) =
                mesos_auth::internal::credentials_cram_md5(&snap, "alice", challenge);
            assert!(known);
            assert_eq!(mac, expected);
            if round % 5 == 3 {
                assert!(snap.verify_password("carol", &canary));
                let (mac, known) =
                    mesos_auth::internal::credentials_cram_md5(&snap, "carol", challenge);
                assert!(known);
                assert_eq!(mac, expected);
            }
            scrub_stack();
        }
        // Debug output and errors are formatted (and freed, so scanned).
        let shown = format!("{:?} {:?}", *snap, snap.get("alice"));
        assert!(!shown.is_empty());
        if let Err(e) = result {
            let shown = format!("{e} {e:?}");
            assert!(shown.contains("alice"));
        }
    }
    for event in sink.take() {
        let line = mesos_auth::audit::to_json_line(&event, std::time::SystemTime::now());
        assert!(line.contains("credentials"));
    }

    // Parsing in both modes, errors with the canary in a bad JSON value, the
    // findings and every conversion and writer.
    for lenient in [false, true] {
        scrub_stack();
        let options = Options::new().lenient(lenient);
        scrub_stack();
        let file = credentials::parse(json.bytes(), &options).unwrap();
        scrub_stack();
        let found = credentials::findings(&file);
        scrub_stack();
        let _ = format!("{found:?} {file:?}");
        scrub_stack();
        let converted: Vec<_> = file
            .credentials()
            .map(|c| c.convert(Scheme::CramMd5State, 0).unwrap())
            .collect();
        scrub_stack();
        let scram: Vec<_> = file
            .credentials()
            .map(|c| c.convert(Scheme::ScramSha256, 4096).unwrap())
            .collect();
        scrub_stack();
        let plain_json = credentials::to_json(file.credentials()).unwrap();
        scrub_stack();
        let plain_text = credentials::to_text(file.credentials()).unwrap();
        scrub_stack();
        assert!(!credentials::to_text(&converted).unwrap().is_empty());
        scrub_stack();
        assert!(!credentials::to_json(&scram).unwrap().is_empty());
        scrub_stack();
        let again = credentials::parse(plain_json.as_bytes(), &options)
            .unwrap()
            .into_store()
            .unwrap();
        scrub_stack();
        assert!(again.verify_password("alice", &canary));
        scrub_stack();
        drop((plain_json, plain_text));
        scrub_stack();
        let err = credentials::parse(bad_json.bytes(), &options).unwrap_err();
        scrub_stack();
        let _ = format!("{err} {err:?}");
        scrub_stack();
        let with_escape = Buf::concat(&[&canary, b"A"]);
        let escaped = credentials::parse(escaped_json.bytes(), &options)
            .unwrap()
            .into_store()
            .unwrap();
        scrub_stack();
        assert!(escaped.verify_password("alice", with_escape.bytes()));
        drop((escaped, with_escape));
        scrub_stack();
        let fallback = credentials::parse(fallback_json.bytes(), &options);
        scrub_stack();
        assert_eq!(fallback.is_ok(), lenient);
        let _ = format!("{fallback:?}");
        drop(fallback);
        scrub_stack();
        let store = file.into_store().unwrap();
        scrub_stack();
        let handle = CredentialsHandle::from_store(store, options);
        scrub_stack();
        handle.reload_from_bytes(json.bytes()).unwrap();
        scrub_stack();
        assert!(handle.reload_from_bytes(invalid.bytes()).is_err());
    }
    scrub_stack();
    let built = credentials::CredentialStore::from_credentials([credentials::Credential::plain(
        Principal::new("dave").unwrap(),
        Secret::new(&canary),
    )])
    .unwrap();
    assert!(built.verify_password("dave", &canary));
    drop(built);
    scrub_stack();
    // A store holding a `{CRAM-MD5}` state, built directly, and its
    // conversion back to text.
    let state = credentials::StoredSecret::cram_md5_from(&Secret::new(&canary));
    scrub_stack();
    let built = credentials::CredentialStore::from_credentials([credentials::Credential::new(
        Principal::new("frank").unwrap(),
        state,
    )])
    .unwrap();
    scrub_stack();
    assert!(built.verify_password("frank", &canary));
    assert!(built.cram_md5_key("frank").known());
    let shown = credentials::to_text(built.iter()).unwrap();
    assert!(!shown.is_empty());
    drop((shown, built));
    scrub_stack();
    // A large store (4,096 or more) computes its key schedules on a second
    // thread: that path must not leave the secret behind either.
    let mut big = Vec::new();
    for i in 0..4200 {
        big.extend_from_slice(format!("p{i:05} secret-value-{i:05}\n").as_bytes());
    }
    let big = Buf::concat(&[&big, b"erin ", &canary, b"\n"]);
    for lenient in [false, true] {
        let options = Options::new()
            .lenient(lenient)
            .format(credentials::Format::Text);
        let store = credentials::parse(big.bytes(), &options)
            .unwrap()
            .into_store()
            .unwrap();
        scrub_stack();
        assert_eq!(store.len(), 4201);
        assert!(store.verify_password("erin", &canary));
        assert!(store.cram_md5_key("erin").known());
        drop(store);
        scrub_stack();
    }
    drop(big);

    drop((text_handle, json_handle));
    drop((text, json, invalid, bad_json, escaped_json, fallback_json));
    drop((cram_text, cram_line, hex));
    drop(dir);
    SCANNING.store(false, Ordering::SeqCst);
    assert_eq!(
        HITS.load(Ordering::SeqCst),
        0,
        "freed blocks held the canary secret (last block: {} bytes)",
        LAST_SIZE.load(Ordering::SeqCst)
    );
}
