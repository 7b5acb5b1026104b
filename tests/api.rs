//! Integration tests of the public API, one binary for faster linking
//! (STYLE.md §8). Each component has its own submodule in tests/api/.

mod api {
    mod acl;
    mod bearer;
    mod credentials;
    mod http;
    mod oauthbearer;
    #[cfg(feature = "rsasl")]
    mod rsasl;
    mod sasl;
    mod tls;
}
