//! The ZooKeeper policy source against a real Apache ZooKeeper (Debian's
//! `zookeeper` package, 3.8) started by the tests on loopback. Built only
//! with `--features zk`. Without ZooKeeper installed the tests fail, naming
//! the package, unless `MESOS_AUTH_ZK_TESTS=skip` says to skip them.

// `cfg(test)` marks the helpers as test code for clippy (unwrap allowed).
mod zk {
    #[cfg(test)]
    #[cfg(feature = "cli")]
    mod cli;
    #[cfg(test)]
    mod ensemble;
    // The throw-away MIT KDC of the GSSAPI tests, shared.
    #[cfg(test)]
    #[cfg(feature = "gssapi")]
    #[allow(dead_code, reason = "the ZooKeeper tests use part of the KDC helper")]
    #[path = "../gssapi/kdc.rs"]
    pub(crate) mod kdc;
    #[cfg(test)]
    #[cfg(feature = "gssapi")]
    mod kerberos;
    #[cfg(test)]
    mod secured;
    #[cfg(test)]
    mod server;
    #[cfg(test)]
    mod standalone;
}
