use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{AuditEvent, AuditSink, Event, JsonLinesSink, MemorySink, NullSink, to_json_line};

/// An event from a component the audit layer has never heard of: what the
/// HTTP, token, rate-limit and ZooKeeper events will be.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct HttpEvent {
    path: String,
    status: u16,
}

impl Event for HttpEvent {
    fn component(&self) -> &'static str {
        "http"
    }

    fn to_json(&self) -> serde_json::Value {
        super::json_of(self)
    }

    fn to_audit_event(&self) -> AuditEvent {
        AuditEvent::new(self.clone())
    }
}

fn http() -> HttpEvent {
    HttpEvent {
        path: "/master/teardown".to_owned(),
        status: 403,
    }
}

#[test]
fn a_new_component_needs_nothing_from_the_audit_layer() {
    let sink = MemorySink::new();
    sink.record(&http());
    NullSink.record(&http());
    let events = sink.take();
    assert_eq!(events.len(), 1);
    let event = events.first().unwrap();
    assert_eq!(event.component(), "http");
    assert_eq!(event.downcast_ref::<HttpEvent>(), Some(&http()));
    assert!(event.downcast_ref::<crate::acl::DecisionEvent>().is_none());
    assert!(event.as_event().is::<HttpEvent>());

    let json = JsonLinesSink::new(Vec::new());
    json.record(event);
    let out = String::from_utf8(json.into_inner()).unwrap();
    assert!(out.ends_with('\n') && out.lines().count() == 1, "{out}");
    assert!(
        out.starts_with(r#"{"component":"http","path":"/master/teardown","status":403,"time":"#),
        "{out}"
    );
}

#[test]
fn json_lines_keep_their_shape() {
    let t = UNIX_EPOCH + Duration::from_millis(1500);
    assert_eq!(
        to_json_line(&http(), t),
        r#"{"component":"http","path":"/master/teardown","status":403,"time":1.5}"#
    );
    // A component's own tag (here the reload's `outcome`) sits beside
    // `component`, as before the events moved out of this module.
    let refused = crate::credentials::ReloadEvent::Refused {
        source: "/etc/mesos/credentials".to_owned(),
        generation: 3,
        reason: "line 2:7: duplicate principal `alice`".to_owned(),
    };
    assert_eq!(
        to_json_line(&refused, UNIX_EPOCH),
        r#"{"component":"credentials","generation":3,"outcome":"refused","reason":"line 2:7: duplicate principal `alice`","source":"/etc/mesos/credentials","time":0.0}"#
    );
    // The owned form renders the same line.
    assert_eq!(
        to_json_line(&refused.to_audit_event(), UNIX_EPOCH),
        to_json_line(&refused, UNIX_EPOCH)
    );
    assert!(to_json_line(&http(), SystemTime::now()).contains(r#""time":"#));
    // An owned event serializes as its line without the time.
    assert_eq!(
        serde_json::to_string(&AuditEvent::new(http())).unwrap(),
        r#"{"component":"http","path":"/master/teardown","status":403}"#
    );
}

/// The tie is one-way: outside its doc comments and tests, the audit layer
/// names no component.
#[test]
fn the_audit_layer_names_no_component() {
    let code: String = include_str!("../audit.rs")
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for component in ["sasl", "tls", "acl", "credentials", "reload"] {
        assert!(
            !code.contains(&format!("crate::{component}"))
                && !code.contains(&format!("{component}::")),
            "audit.rs names `{component}`"
        );
    }
}

mod sinks {
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::os::unix::net::UnixDatagram;
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::{HttpEvent, http};
    use crate::audit::{
        AsyncSink, AuditError, AuditId, AuditSink, Event, FileSink, FileSinkConfig, FsyncPolicy,
        SyslogConfig, SyslogFormat, SyslogSink,
    };

    fn numbered(n: u16) -> HttpEvent {
        HttpEvent {
            path: format!("/e/{n}"),
            status: n,
        }
    }

    fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn audit_ids_are_unique_32_hex_digits_and_round_trip() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| AuditId::new()).collect();
        assert_eq!(ids.len(), 10_000);
        let id = AuditId::new();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(text.parse::<AuditId>().unwrap(), id);
        assert_eq!(
            AuditId::from_u128(0xab).to_string(),
            "000000000000000000000000000000ab"
        );
        assert!("xyz".parse::<AuditId>().is_err());
        assert!(
            "+0000000000000000000000000000000"
                .parse::<AuditId>()
                .is_err()
        );
        assert_eq!(
            serde_json::to_string(&AuditId::from_u128(1)).unwrap(),
            r#""00000000000000000000000000000001""#
        );
    }

    #[test]
    fn file_sink_writes_one_line_per_event_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink = FileSink::open(&path, FileSinkConfig::new()).unwrap();
        sink.record(&numbered(1));
        sink.try_record(&numbered(2)).unwrap();
        let got = lines(&path);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1]["status"], 2);
        assert_eq!(got[0]["component"], "http");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{mode:o}");
        assert_eq!(sink.errors(), 0);
    }

    #[test]
    fn file_sink_refuses_unsafe_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.log");
        std::fs::write(&target, "").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.log");
        symlink(&target, &link).unwrap();
        let e = FileSink::open(&link, FileSinkConfig::new()).unwrap_err();
        assert!(matches!(e, AuditError::Symlink { .. }), "{e}");
        assert!(e.to_string().contains("link.log"), "{e}");

        let open = dir.path().join("open.log");
        std::fs::write(&open, "").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o622)).unwrap();
        let e = FileSink::open(&open, FileSinkConfig::new()).unwrap_err();
        assert!(
            matches!(e, AuditError::Permissions { mode: 0o622, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("0622"), "{e}");

        let e = FileSink::open(dir.path(), FileSinkConfig::new()).unwrap_err();
        assert!(
            matches!(e, AuditError::Io { .. } | AuditError::NotRegularFile { .. }),
            "{e}"
        );
        let e = FileSink::open(dir.path().join("no/such/dir.log"), FileSinkConfig::new());
        assert!(matches!(e, Err(AuditError::Io { .. })));
    }

    #[test]
    fn file_sink_ends_a_torn_last_line_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "{\"component\":\"http\"}\n{\"compo").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let sink = FileSink::open(&path, FileSinkConfig::new()).unwrap();
        sink.write_event(&numbered(7)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let all: Vec<&str> = text.lines().collect();
        assert_eq!(all.len(), 3, "{text}");
        assert_eq!(all[1], "{\"compo");
        let last: serde_json::Value = serde_json::from_str(all[2]).unwrap();
        assert_eq!(last["status"], 7);
    }

    #[test]
    fn file_sink_rotates_by_size_keeping_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let one = super::to_json_line(&numbered(100), std::time::SystemTime::now()).len() as u64;
        // Two events per file.
        let cfg = FileSinkConfig::new()
            .max_bytes(2 * (one + 1) + 5)
            .keep(2)
            .fsync(FsyncPolicy::Never);
        let sink = FileSink::open(&path, cfg).unwrap();
        for n in 100..107 {
            sink.write_event(&numbered(n)).unwrap();
        }
        let status = |p: &std::path::Path| -> Vec<u64> {
            lines(p)
                .iter()
                .map(|v| v["status"].as_u64().unwrap())
                .collect()
        };
        assert_eq!(status(&path), [106]);
        assert_eq!(status(&dir.path().join("audit.log.1")), [104, 105]);
        assert_eq!(status(&dir.path().join("audit.log.2")), [102, 103]);
        assert!(!dir.path().join("audit.log.3").exists());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0);

        // keep 0: the full file is discarded.
        let path0 = dir.path().join("zero.log");
        let sink = FileSink::open(&path0, cfg.keep(0)).unwrap();
        for n in 100..105 {
            sink.write_event(&numbered(n)).unwrap();
        }
        assert_eq!(status(&path0), [104]);
        assert!(!dir.path().join("zero.log.1").exists());
    }

    #[test]
    fn file_sink_flush_and_interval_policy_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let cfg = FileSinkConfig::new().fsync(FsyncPolicy::Interval(Duration::ZERO));
        let sink = FileSink::open(&path, cfg).unwrap();
        sink.write_event(&http()).unwrap();
        sink.flush().unwrap();
        assert_eq!(lines(&path).len(), 1);
    }

    /// A sink that blocks in `try_record` until released, saying when it
    /// has entered.
    struct Gate {
        entered: Mutex<mpsc::Sender<()>>,
        release: Mutex<mpsc::Receiver<()>>,
        seen: Mutex<Vec<u16>>,
    }

    impl AuditSink for Gate {
        fn record(&self, _event: &dyn Event) {}

        fn try_record(&self, event: &dyn Event) -> Result<(), AuditError> {
            let _ = self.entered.lock().unwrap().send(());
            let _ = self.release.lock().unwrap().recv();
            let e = event.downcast_ref::<crate::AuditEvent>().map_or_else(
                || event.downcast_ref::<HttpEvent>().map(|h| h.status),
                |a| a.downcast_ref::<HttpEvent>().map(|h| h.status),
            );
            self.seen.lock().unwrap().extend(e);
            Ok(())
        }
    }

    #[test]
    fn async_sink_never_blocks_and_counts_drops() {
        let (etx, erx) = mpsc::channel();
        let (rtx, rrx) = mpsc::channel();
        let gate = Gate {
            entered: Mutex::new(etx),
            release: Mutex::new(rrx),
            seen: Mutex::new(Vec::new()),
        };
        let sink = AsyncSink::new(gate, 3).unwrap();
        sink.record(&numbered(0));
        // The writer holds event 0; the queue takes three more.
        erx.recv_timeout(Duration::from_secs(5)).unwrap();
        let start = std::time::Instant::now();
        for n in 1..=10 {
            sink.record(&numbered(n));
        }
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(sink.recorded(), 11);
        assert_eq!(sink.dropped(), 7);
        assert!(matches!(
            sink.try_record(&numbered(11)),
            Err(AuditError::QueueFull)
        ));
        assert_eq!(sink.dropped(), 8);
        for _ in 0..4 {
            rtx.send(()).unwrap();
        }
        sink.flush(Duration::from_secs(5)).unwrap();
        assert_eq!(sink.written(), 4);
        assert_eq!(sink.acknowledged(), 4);
        assert_eq!(sink.failed(), 0);
        assert_eq!(*sink.inner().seen.lock().unwrap(), [0, 1, 2, 3]);
        // A waiting record times out while the writer is held, and is
        // acknowledged once released.
        let sink = Arc::new(sink);
        let s2 = Arc::clone(&sink);
        let t = std::thread::spawn(move || s2.record_acked(&numbered(20), Duration::from_secs(5)));
        erx.recv_timeout(Duration::from_secs(5)).unwrap();
        rtx.send(()).unwrap();
        t.join().unwrap().unwrap();
        assert_eq!(sink.acknowledged(), 5);
        assert!(format!("{sink:?}").contains("dropped: 8"));
    }

    struct Failing;

    impl AuditSink for Failing {
        fn record(&self, _event: &dyn Event) {}

        fn try_record(&self, _event: &dyn Event) -> Result<(), AuditError> {
            Err(AuditError::Config("test"))
        }
    }

    #[test]
    fn async_sink_reports_failed_writes_and_drains_on_drop() {
        let sink = AsyncSink::new(Failing, 4).unwrap();
        assert!(matches!(
            sink.record_acked(&http(), Duration::from_secs(5)),
            Err(AuditError::Rejected)
        ));
        assert_eq!(
            (sink.written(), sink.acknowledged(), sink.failed()),
            (1, 0, 1)
        );
        assert!(matches!(
            AsyncSink::new(Failing, 0),
            Err(AuditError::Config(_))
        ));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let file = FileSink::open(&path, FileSinkConfig::new()).unwrap();
        let sink = AsyncSink::new(file, 1000).unwrap();
        for n in 0..200 {
            sink.record(&numbered(n));
        }
        let dropped = sink.dropped();
        drop(sink);
        assert_eq!(lines(&path).len() as u64, 200 - dropped);
    }

    #[test]
    fn syslog_sink_sends_one_datagram_per_event() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("log");
        let rx = UnixDatagram::bind(&sock).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let recv = || {
            let mut buf = vec![0u8; 65536];
            let n = rx.recv(&mut buf).unwrap();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        };
        let sink = SyslogSink::connect(SyslogConfig::new().socket(&sock).app_name("mesos auth:x"))
            .unwrap();
        sink.record(&http());
        let msg = recv();
        // authpriv.info = 10 * 8 + 6.
        assert!(msg.starts_with("<86>"), "{msg}");
        let tag = format!(" mesos_auth_x[{}]: {{", std::process::id());
        assert!(msg.contains(&tag), "{msg}");
        let json = &msg[msg.find(": {").unwrap() + 2..];
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["path"], "/master/teardown");

        let sink = SyslogSink::connect(
            SyslogConfig::new()
                .socket(&sock)
                .format(SyslogFormat::Rfc5424)
                .facility(16)
                .unwrap(),
        )
        .unwrap();
        sink.try_record(&http()).unwrap();
        let msg = recv();
        assert!(msg.starts_with("<134>1 20"), "{msg}");
        assert!(
            msg.contains(&format!("Z - mesos-auth {} audit - {{", std::process::id())),
            "{msg}"
        );

        // The receiver restarts: the sink reconnects.
        drop(rx);
        std::fs::remove_file(&sock).unwrap();
        let rx2 = UnixDatagram::bind(&sock).unwrap();
        rx2.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        sink.try_record(&http()).unwrap();
        let mut buf = [0u8; 4096];
        assert!(rx2.recv(&mut buf).unwrap() > 0);
        // No receiver: an error naming the socket, counted by `record`.
        drop(rx2);
        std::fs::remove_file(&sock).unwrap();
        let e = sink.try_record(&http()).unwrap_err();
        assert!(e.to_string().contains("syslog socket"), "{e}");
        sink.record(&http());
        assert_eq!(sink.errors(), 1);
        assert!(SyslogConfig::new().facility(24).is_err());
        assert!(SyslogSink::connect(SyslogConfig::new().socket(&sock)).is_err());
    }

    #[test]
    fn civil_dates() {
        use std::time::UNIX_EPOCH;
        let civil = crate::audit::syslog::civil_for_test;
        assert_eq!(civil(UNIX_EPOCH), (1970, 1, 1, 0, 0, 0, 0));
        // 2000-02-29T12:34:56.789Z
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(civil(t), (2000, 2, 29, 12, 34, 56, 789_000));
        // 2026-12-31T23:59:59Z
        let t = UNIX_EPOCH + Duration::from_secs(1_798_761_599);
        assert_eq!(civil(t), (2026, 12, 31, 23, 59, 59, 0));
    }
}

/// A timeout past the clock's range (as C may pass `UINT64_MAX` ms) waits,
/// it does not panic.
#[test]
fn huge_timeouts_do_not_overflow() {
    let sink = crate::audit::AsyncSink::new(MemorySink::new(), 4).unwrap();
    sink.record_acked(&http(), Duration::MAX).unwrap();
    sink.flush(Duration::from_millis(u64::MAX)).unwrap();
    assert_eq!(sink.inner().take().len(), 1);
}
