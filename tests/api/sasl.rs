//! Integration tests for `mesos_auth::sasl`.
