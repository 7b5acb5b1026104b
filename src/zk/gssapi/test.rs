//! The checks around the client's GSSAPI exchange that need no KDC.

use std::ffi::OsStr;

use super::*;

#[test]
fn environment_must_name_the_configured_keytab_or_cache() {
    let dir = tempfile::tempdir().unwrap();
    let keytab = dir.path().join("client.keytab");
    std::fs::write(&keytab, b"").unwrap();
    let k = SaslGssapi::with_keytab("master@R", &keytab);
    let file = format!("FILE:{}", keytab.display());
    assert!(k.check_environment(Some(OsStr::new(&file)), None).is_ok());
    assert!(k.check_environment(Some(keytab.as_os_str()), None).is_ok());
    let err = k.check_environment(None, None).unwrap_err().to_string();
    assert!(
        err.contains("KRB5_CLIENT_KTNAME, which is not set"),
        "{err}"
    );
    let err = k
        .check_environment(Some(OsStr::new("/elsewhere.keytab")), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("names `/elsewhere.keytab`"), "{err}");

    let c = SaslGssapi::with_ccache("master@R", &keytab);
    assert!(c.check_environment(None, Some(OsStr::new(&file))).is_ok());
    let err = c
        .check_environment(Some(OsStr::new(&file)), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("KRB5CCNAME, which is not set"), "{err}");

    let missing = SaslGssapi::with_keytab("master@R", dir.path().join("nope"));
    let err = missing
        .check_environment(Some(OsStr::new("nope")), None)
        .unwrap_err();
    assert!(matches!(err, ZkError::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("not found"), "{err}");
}

#[test]
fn whoami_must_show_the_principal_over_sasl() {
    let g = SaslGssapi::with_keytab("master@MESOS.TEST", "k");
    let user = |scheme: &str, user: &str| zkc::AuthUser::new(scheme, user);
    assert!(g.is_authenticated_in(&[user("ip", "127.0.0.1"), user("sasl", "master@MESOS.TEST")]));
    assert!(g.is_authenticated_in(&[user("sasl", "master")]));
    assert!(!g.is_authenticated_in(&[user("sasl", "other@MESOS.TEST")]));
    assert!(!g.is_authenticated_in(&[user("digest", "master@MESOS.TEST")]));
    assert!(!g.is_authenticated_in(&[]));
}
