//! Integration tests for `mesos_auth::tls`.
