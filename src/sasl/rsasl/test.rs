use super::scram::unescape;

#[test]
fn unescape_follows_rfc_5802() {
    assert_eq!(unescape("tim").as_deref(), Some("tim"));
    assert_eq!(unescape("a=2Cb=3Dc").as_deref(), Some("a,b=c"));
    assert_eq!(unescape("=3D=2C").as_deref(), Some("=,"));
    assert_eq!(unescape("a=2").as_deref(), None);
    assert_eq!(unescape("a=").as_deref(), None);
    assert_eq!(unescape("a=41").as_deref(), None);
}
