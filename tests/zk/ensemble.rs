//! A three-server ensemble: the watcher follows a push across a leader
//! change.

use std::sync::Arc;
use std::time::Duration;

use mesos_auth::acl::{self, AclHandle, Action, Compiler, Object, Request};
use mesos_auth::audit::NullSink;
use mesos_auth::zk::{
    self, ConnectOptions, PolicyKind, PolicyWatch, PushOptions, WatchOptions, ZkUrl,
};

use super::server::{self, Extra, Server, free_port, wait_until};

#[test]
fn leader_change() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let ports: Vec<(u16, u16, u16)> = (0..3)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let mut servers: Vec<Server> = Vec::new();
    for (i, (client, quorum, election)) in ports.iter().enumerate() {
        let id = i + 1;
        let dir = root.path().join(format!("zk{id}"));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/myid"), format!("{id}\n")).unwrap();
        let mut cfg = format!(
            "tickTime=100\ninitLimit=100\nsyncLimit=20\ndataDir={}\nclientPort={client}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
             4lw.commands.whitelist=ruok,srvr,stat\n",
            dir.join("data").display()
        );
        for (j, (_, q, e)) in ports.iter().enumerate() {
            cfg.push_str(&format!("server.{}=127.0.0.1:{q}:{e}\n", j + 1));
        }
        let _ = (quorum, election);
        let path = dir.join("zoo.cfg");
        std::fs::write(&path, cfg).unwrap();
        let mut s = Server::member(dir, *client, path, &Extra::default());
        s.start();
        servers.push(s);
    }
    let modes: Vec<String> = servers.iter().map(Server::wait_serving).collect();
    let leader = modes.iter().position(|m| m == "leader").expect("a leader");
    let hosts = ports
        .iter()
        .map(|(c, _, _)| format!("127.0.0.1:{c}"))
        .collect::<Vec<_>>()
        .join(",");
    let url = ZkUrl::parse(&format!("zk://{hosts}/m/acls")).unwrap();
    let open = PushOptions::new(ConnectOptions::new()).insecure_open_acl(true);
    zk::push(&url, PolicyKind::Acls, br#"{"permissive": false}"#, &open).unwrap();

    let policy = Arc::new(
        AclHandle::from_str(
            r#"{"permissive": false}"#,
            Compiler::new(),
            acl::Options::new(),
        )
        .unwrap(),
    );
    let watch = PolicyWatch::start(
        url.clone(),
        policy.clone(),
        WatchOptions::new(ConnectOptions::new().session_timeout(Duration::from_secs(6)))
            .retry(Duration::from_millis(100))
            .resync(Duration::from_secs(60)),
        Arc::new(NullSink),
    )
    .unwrap();
    assert_eq!(watch.status().version, Some(0));

    // The leader dies; the other two elect a new one.
    servers[leader].kill();
    let others: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    assert!(
        wait_until(Duration::from_secs(30), || {
            others.iter().any(|&i| {
                server::four_letter(servers[i].port, "srvr")
                    .is_some_and(|o| o.contains("Mode: leader"))
            })
        }),
        "no new leader"
    );

    // A push through the surviving quorum reaches the master.
    let pushed = zk::push(&url, PolicyKind::Acls, br#"{"permissive": true}"#, &open).unwrap();
    assert_eq!(pushed.version, 1);
    assert!(
        wait_until(Duration::from_secs(20), || watch.status().version
            == Some(1)),
        "{:?}",
        watch.status()
    );
    let ask = Request::new(Action::RunTasks, Some("ops"), Object::One("root"));
    assert!(policy.authorize(&ask).is_allowed());
}
