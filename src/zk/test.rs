//! Unit tests of the parts that need no server (the rest is tests/zk.rs).

use super::*;
use crate::audit::Event;

#[test]
fn parses_servers_and_path() -> Result<(), ZkError> {
    let u = ZkUrl::parse("zk://a:1,b,[::1]:3/x/y")?;
    assert_eq!(u.connect_string(), "a:1,b:2181,[::1]:3");
    assert_eq!(u.path(), "/x/y");
    assert_eq!(u.to_string(), "zk://a:1,b:2181,[::1]:3/x/y");
    assert_eq!(u.with_path("/m")?.path(), "/m");
    Ok(())
}

#[test]
fn refuses_what_is_not_strictly_a_zk_url() {
    for (url, want) in [
        ("http://a/x", "must start with `zk://`"),
        ("zk://a", "no znode path"),
        ("zk:///x", "empty server"),
        ("zk://a,,b/x", "empty server"),
        ("zk://a:0/x", "port must be 1-65535"),
        ("zk://a:99999/x", "port must be 1-65535"),
        ("zk://a:+1/x", "port must be 1-65535"),
        ("zk://u:p@a/x", "user information"),
        ("zk://a/", "not `/`"),
        ("zk://a/x/", "trailing"),
        ("zk://a/x//y", "empty segment"),
        ("zk://a/x/../y", "`..` segment"),
        ("zk://a/x?y", "query"),
        ("zk://a b/x", "whitespace"),
        ("zk://[zz]/x", "not an IPv6"),
        ("zk://a/zookeeper/quota", "reserved"),
    ] {
        match ZkUrl::parse(url) {
            Err(ZkError::Url { reason, .. }) => {
                assert!(reason.contains(want), "{url}: {reason}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[test]
fn kinds_check_as_the_files_do() {
    assert!(PolicyKind::Acls.check(br#"{"permissive": false}"#).is_ok());
    let err = PolicyKind::Acls
        .check(br#"{"permissive": fals}"#)
        .unwrap_err();
    assert!(err.starts_with("1:"), "{err}");
    assert!(
        PolicyKind::Acls
            .check(&[0xff])
            .unwrap_err()
            .contains("not UTF-8")
    );
    let secret = "correct-horse-battery-staple";
    let creds = format!(
        r#"{{"credentials": [{{"principal": "a", "secret": "{secret}"}}, {{"principal": "a", "secret": "{secret}"}}]}}"#
    );
    let err = PolicyKind::Credentials.check(creds.as_bytes()).unwrap_err();
    assert!(!err.contains(secret), "{err}");
    assert!(PolicyKind::TlsRules.check(b"[").is_err());
    let big = vec![b' '; PolicyKind::TlsRules.max_bytes() + 1];
    assert!(
        PolicyKind::TlsRules
            .check(&big)
            .unwrap_err()
            .contains("more than the limit")
    );
    assert!(PolicyKind::Credentials.is_secret() && !PolicyKind::Acls.is_secret());
}

#[test]
fn refused_event_names_znode_and_version() {
    let e = ZkEvent::Refused {
        znode: "/m/acls".to_owned(),
        version: 7,
        serving: Some(6),
        reason: "1:19: invalid JSON".to_owned(),
    };
    assert_eq!(e.component(), "zk");
    let json = e.to_json();
    assert_eq!(json["event"], "refused");
    assert_eq!(json["version"], 7);
    assert_eq!(json["serving_version"], 6);
}

#[test]
fn errors_name_the_znode_and_version_never_the_password() {
    let e = ZkError::Invalid {
        path: "/m/acls".to_owned(),
        version: 3,
        kind: "ACLs",
        reason: "1:2: x".to_owned(),
    };
    assert_eq!(
        e.to_string(),
        "znode `/m/acls` version 3: invalid ACLs: 1:2: x"
    );
    let sasl = SaslDigest::new("master", "hunter2-secret");
    assert!(!format!("{sasl:?}").contains("hunter2"));
    let tls = TlsSettings::new("ca").identity("cert", "PRIVATE KEY BYTES");
    assert!(!format!("{tls:?}").contains("PRIVATE"));
}

#[test]
fn digest_matches_zookeeper() {
    // Known answers from ZooKeeper's own DigestAuthenticationProvider.
    assert_eq!(
        audit::zk_digest("super", "admin"),
        "xQJmxLMiHGwaqBvst5y6rkB6HQs="
    );
    assert_eq!(
        audit::zk_digest("mesos", "mesos"),
        "rlJGHx66jPIZAK8NKlbH6UR8rfQ="
    );
}

#[test]
fn weak_digest_passwords_are_found_and_strong_ones_are_not() {
    assert!(audit::weak_digest("super:xQJmxLMiHGwaqBvst5y6rkB6HQs="));
    // The user name as the password.
    assert!(audit::weak_digest("mesos:rlJGHx66jPIZAK8NKlbH6UR8rfQ="));
    let strong = format!(
        "ops:{}",
        audit::zk_digest("ops", "k7#Qv9!mZ2-long-and-random")
    );
    assert!(!audit::weak_digest(&strong));
    assert!(!audit::weak_digest("no-colon"));
    assert!(!audit::weak_digest("ops:not-base64"));
}

#[test]
fn mesos_znodes_are_classified() {
    use ZnodeRole as R;
    for (path, parent, want) in [
        (
            "/mesos/json.info_0000000001",
            Some(R::Other),
            R::ElectionMember,
        ),
        ("/mesos/info_0000000000", Some(R::Other), R::ElectionMember),
        ("/mesos/json.info_", Some(R::Other), R::Other),
        (
            "/mesos/log_replicas",
            Some(R::ElectionGroup),
            R::LogReplicas,
        ),
        (
            "/mesos/log_replicas/0000000003",
            Some(R::LogReplicas),
            R::LogReplicas,
        ),
        ("/mesos/0000000003", Some(R::ElectionGroup), R::Other),
        ("/mesos/registry", Some(R::ElectionGroup), R::Registry),
        ("/mesos-auth/credentials", Some(R::Other), R::Credentials),
        ("/mesos-auth/acls", None, R::Acls),
        ("/mesos-auth/tls-rules", None, R::TlsRules),
    ] {
        assert_eq!(audit::role_of(path, parent), want, "{path}");
    }
}
