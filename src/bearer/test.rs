use super::*;

#[test]
fn reason_codes() {
    assert_eq!(Reason::Empty.code(), ErrorCode::InvalidRequest);
    assert_eq!(
        Reason::TooLarge { len: 9, limit: 8 }.code().as_str(),
        "invalid_request"
    );
    assert_eq!(Reason::BadSignature.code().as_str(), "invalid_token");
    assert_eq!(
        ErrorCode::InsufficientScope.to_string(),
        "insufficient_scope"
    );
}

#[test]
fn alg_names_round_trip() {
    for a in Alg::ALL {
        assert_eq!(Alg::from_name(a.as_str()), Some(a));
    }
    assert_eq!(Alg::from_name("none"), None);
    assert_eq!(Alg::from_name("rs256"), None, "names are case-sensitive");
}

#[test]
fn reasons_read_well() {
    let r = Reason::Expired { exp: 100, now: 160 };
    assert_eq!(r.to_string(), "expired: `exp` 100 is 60s before now (160)");
    let r = Reason::WrongAudience {
        expected: vec!["a".into(), "b\n".into()],
    };
    assert_eq!(
        r.to_string(),
        "claim `aud` names no accepted audience (expected `a`, `b\\n`)"
    );
}

#[test]
fn config_defaults() {
    let c = ValidatorConfig::new();
    assert_eq!(c.allowed_algorithms(), DEFAULT_ALGORITHMS);
    assert!(matches!(c.check(), Err(BearerError::Config(_))));
}

#[test]
fn extreme_dates_display_without_overflow() {
    // A signed token may carry `exp: -1e300` (saturated to i64::MIN).
    let r = Reason::Expired {
        exp: i64::MIN,
        now: 1_800_000_000,
    };
    assert!(r.to_string().contains(&format!("{}s before", i64::MAX)));
    let r = Reason::NotYetValid {
        nbf: i64::MAX,
        now: -5,
    };
    assert!(r.to_string().contains(&format!("{}s after", i64::MAX)));
}
