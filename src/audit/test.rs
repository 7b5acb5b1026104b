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
