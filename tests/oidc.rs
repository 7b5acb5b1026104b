//! Bearer tokens from a real OpenID Provider: node-oidc-provider (OpenID
//! Certified, the npm package pinned in tests/oidc/package.json), started
//! by the tests on loopback with keys generated per run. Over real HTTP the
//! tests discover the JWKS, fetch it, obtain tokens with the
//! client-credentials grant and check them with `mesos_auth::bearer`, the
//! `mesos-auth token check` CLI and the SASL OAUTHBEARER pair.
//!
//! The package is installed by .ci/install-deps into
//! `~/.cache/mesos-auth/oidc-provider` (or where
//! `MESOS_AUTH_OIDC_PROVIDER_DIR` says). Without Node.js or the package the
//! tests fail, saying how to install them, unless
//! `MESOS_AUTH_OIDC_TESTS=skip` says to skip them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod oidc {
    #[cfg(feature = "cli")]
    mod cli;
    mod http;
    pub(crate) mod provider;
    mod sasl;
    mod tokens;
}
