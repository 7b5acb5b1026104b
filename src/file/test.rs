//! The checked reader refuses what is not a regular file before reading,
//! promptly, for every loader that uses it.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::{FileError, Follow, read_regular};

/// Runs `f` on its own thread; `None` if it has not returned within 10 s,
/// so a regression that blocks fails the test instead of hanging it.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10)).ok()
}

fn fifo(dir: &Path) -> PathBuf {
    let path = dir.join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .ok();
    assert!(status.is_some_and(|s| s.success()), "mkfifo failed");
    path
}

#[test]
fn fifo_device_and_directory_are_refused_before_reading() {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = fifo(dir.path());
    for follow in [Follow::Yes, Follow::No] {
        let p = path.clone();
        let got = within(move || read_regular(&p, follow, 1024));
        assert!(
            matches!(got, Some(Err(FileError::NotRegularFile))),
            "{got:?}"
        );
    }
    // /dev/zero would otherwise be read until memory runs out.
    let got = within(|| read_regular(Path::new("/dev/zero"), Follow::Yes, u64::MAX));
    assert!(
        matches!(got, Some(Err(FileError::NotRegularFile))),
        "{got:?}"
    );
    let d = dir.path().to_path_buf();
    let got = within(move || read_regular(&d, Follow::Yes, 1024));
    assert!(
        matches!(got, Some(Err(FileError::NotRegularFile))),
        "{got:?}"
    );
}

#[test]
fn symlinks_follow_only_when_asked() {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let target = dir.path().join("target");
    let link = dir.path().join("link");
    assert!(std::fs::write(&target, b"text").is_ok());
    assert!(std::os::unix::fs::symlink(&target, &link).is_ok());
    assert!(matches!(
        read_regular(&link, Follow::No, 1024),
        Err(FileError::Symlink)
    ));
    assert!(matches!(
        read_regular(&link, Follow::Yes, 1024)
            .as_deref()
            .map(Vec::as_slice),
        Ok(b"text")
    ));
    assert!(matches!(
        read_regular(&target, Follow::Yes, 3),
        Err(FileError::TooLarge { size: 4, limit: 3 })
    ));
}

#[test]
fn tls_and_acl_loaders_refuse_a_fifo_promptly() {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = fifo(dir.path());
    let p = path.clone();
    let got = within(move || crate::tls::read_pem_file(&p).map_err(|e| e.to_string()));
    assert!(
        matches!(&got, Some(Err(m)) if m.contains("not a regular file")),
        "{got:?}"
    );
    let p = path.clone();
    let got = within(move || crate::tls::Mapper::from_file(&p).map_err(|e| e.to_string()));
    assert!(
        matches!(&got, Some(Err(m)) if m.contains("not a regular file")),
        "{got:?}"
    );
    let p = path;
    let got = within(move || {
        crate::acl::read_file(&p, crate::acl::Options::new()).map_err(|e| e.to_string())
    });
    assert!(
        matches!(&got, Some(Err(m)) if m.contains("not a regular file")),
        "{got:?}"
    );
}
