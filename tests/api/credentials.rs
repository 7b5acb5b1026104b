//! Integration tests for `mesos_auth::credentials`.
