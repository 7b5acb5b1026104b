use std::time::Duration;

use super::request::{BasicCredentials, Presented, Request, path_only, presented};
use super::{HttpError, ceil_ms, ceil_secs};

#[test]
fn retry_after_rounds_up_to_whole_seconds_at_least_one() {
    assert_eq!(ceil_secs(Duration::ZERO), 1);
    assert_eq!(ceil_secs(Duration::from_nanos(1)), 1);
    assert_eq!(ceil_secs(Duration::from_secs(1)), 1);
    assert_eq!(ceil_secs(Duration::from_millis(1001)), 2);
    assert_eq!(ceil_secs(Duration::MAX), u64::MAX);
    assert_eq!(ceil_ms(Duration::from_nanos(1)), 1);
    assert_eq!(ceil_ms(Duration::MAX), u64::MAX);
}

#[test]
fn the_recorded_path_drops_query_and_fragment() {
    assert_eq!(path_only("/a/b?token=x"), "/a/b");
    assert_eq!(path_only("/a#frag?x"), "/a");
    assert_eq!(path_only("/plain"), "/plain");
}

fn shown(value: &str) -> &'static str {
    match presented(&Request::new("GET", "/").authorization(value)) {
        Presented::Nothing => "nothing",
        Presented::Refused(..) => "refused",
        Presented::Basic(_) => "basic",
        Presented::Bearer(_) => "bearer",
        Presented::Other => "other",
    }
}

#[test]
fn header_parser_is_strict_about_token68() {
    assert_eq!(shown("Basic YTpi"), "basic");
    assert_eq!(shown("bEaReR a.b-c_d~e+f/g=="), "bearer");
    assert_eq!(shown("Negotiate abc"), "other");
    assert_eq!(shown("Basic"), "refused");
    assert_eq!(shown("Basic "), "refused");
    assert_eq!(shown("Basic ==="), "refused");
    assert_eq!(shown("Basic a=b"), "refused");
    assert_eq!(shown("Basic a b"), "refused");
    assert_eq!(shown("Basic a\tb"), "refused");
    assert_eq!(shown("Bearer tok,en"), "refused");
    let long = format!("Basic {}", "A".repeat(super::MAX_AUTHORIZATION_LEN));
    assert_eq!(shown(&long), "refused");
    assert!(matches!(
        presented(&Request::new("GET", "/")),
        Presented::Nothing
    ));
}

#[test]
fn basic_credentials_split_at_the_first_colon() {
    // "a:b:c"
    let c = BasicCredentials::decode("YTpiOmM=").unwrap();
    assert_eq!((c.user(), c.password()), ("a", &b"b:c"[..]));
    // "a:" has an empty password, which the store never matches.
    let c = BasicCredentials::decode("YTo=").unwrap();
    assert_eq!((c.user(), c.password()), ("a", &b""[..]));
    assert!(matches!(
        BasicCredentials::decode("OmI="),
        Err(HttpError::EmptyUser)
    ));
    assert!(matches!(
        BasicCredentials::decode("YWI="),
        Err(HttpError::NoColon)
    ));
    assert!(matches!(
        BasicCredentials::decode("YTpi="),
        Err(HttpError::Base64)
    ));
    assert!(matches!(
        BasicCredentials::decode("/zpi"),
        Err(HttpError::NotUtf8)
    ));
}
