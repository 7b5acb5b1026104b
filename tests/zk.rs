//! The ZooKeeper policy source against a real Apache ZooKeeper (Debian's
//! `zookeeper` package, 3.8) started by the tests on loopback. Built only
//! with `--features zk`. Without ZooKeeper installed the tests fail, naming
//! the package, unless `MESOS_AUTH_ZK_TESTS=skip` says to skip them.

mod zk {
    mod server;
    mod standalone;
}
