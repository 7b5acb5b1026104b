//! Integration tests for `mesos_auth::acl`.
