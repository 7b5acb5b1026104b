//! Starts and stops real ZooKeeper servers for the tests: each with its own
//! data directory and configuration on free loopback ports, killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package puts the server (its manifest names the rest of
/// the class path).
const ZK_JAR: &str = "/usr/share/java/zookeeper.jar";
const JAVA: &str = "/usr/bin/java";

/// Whether the tests may run; `false` only when ZooKeeper is missing and
/// the environment says to skip. Otherwise a missing ZooKeeper fails.
pub(crate) fn available() -> bool {
    if Path::new(ZK_JAR).exists() && Path::new(JAVA).exists() {
        return true;
    }
    if std::env::var("MESOS_AUTH_ZK_TESTS").as_deref() == Ok("skip") {
        eprintln!("ZooKeeper tests skipped (MESOS_AUTH_ZK_TESTS=skip)");
        return false;
    }
    panic!(
        "ZooKeeper not found ({ZK_JAR}, {JAVA}): install the Debian package `zookeeper` \
         (apt-get install zookeeper default-jre-headless; .ci/install-deps does), \
         or set MESOS_AUTH_ZK_TESTS=skip"
    );
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Extra configuration for one server.
#[derive(Default, Clone)]
pub(crate) struct Extra {
    /// Lines appended to zoo.cfg.
    pub(crate) cfg: Vec<String>,
    /// `-D` system properties.
    pub(crate) props: Vec<String>,
}

/// One ZooKeeper server process.
pub(crate) struct Server {
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
    cfg: PathBuf,
    props: Vec<String>,
    child: Option<Child>,
    main: &'static str,
}

impl Server {
    /// A standalone server on a fresh port (tick 100 ms: sessions may be
    /// as short as 200 ms).
    pub(crate) fn standalone(root: &Path, extra: &Extra) -> Self {
        let mut s = Self::configured(root, free_port(), extra);
        s.start();
        s
    }

    /// A standalone server on a chosen port.
    pub(crate) fn standalone_on(root: &Path, port: u16) -> Self {
        let mut s = Self::configured(root, port, &Extra::default());
        s.start();
        s
    }

    fn configured(root: &Path, port: u16, extra: &Extra) -> Self {
        let dir = root.join(format!("zk-{port}"));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let mut cfg = format!(
            "tickTime=100\ninitLimit=50\nsyncLimit=20\ndataDir={}\nclientPort={port}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
             4lw.commands.whitelist=ruok,srvr,stat\nmaxSessionTimeout=20000\n",
            dir.join("data").display()
        );
        for line in &extra.cfg {
            cfg.push_str(line);
            cfg.push('\n');
        }
        let path = dir.join("zoo.cfg");
        std::fs::write(&path, cfg).unwrap();
        Self {
            dir,
            port,
            cfg: path,
            props: extra.props.clone(),
            child: None,
            main: "org.apache.zookeeper.server.ZooKeeperServerMain",
        }
    }

    /// One member of an ensemble, configured by the caller (`myid` and the
    /// `server.N` lines).
    pub(crate) fn member(dir: PathBuf, port: u16, cfg: PathBuf, extra: &Extra) -> Self {
        Self {
            dir,
            port,
            cfg,
            props: extra.props.clone(),
            child: None,
            main: "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        }
    }

    pub(crate) fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        let mut cmd = Command::new(JAVA);
        cmd.arg("-Xmx128m")
            .arg("-XX:+UseSerialGC")
            .arg("-XX:TieredStopAtLevel=1")
            .arg("-Dzookeeper.admin.enableServer=false")
            .arg(format!("-Dzookeeper.log.dir={}", self.dir.display()));
        for p in &self.props {
            cmd.arg(format!("-D{p}"));
        }
        // slf4j-simple (from libslf4j-java, a dependency of the package)
        // puts the server's log in server.log, for failing tests to show.
        // The package's manifest leaves out the Netty codec and resolver
        // the TLS port (NettyServerCnxnFactory) needs; libnetty-java has them.
        let mut class_path = ZK_JAR.to_owned();
        for extra in [
            "/usr/share/java/slf4j-simple.jar",
            "/usr/share/java/netty-codec.jar",
            "/usr/share/java/netty-resolver.jar",
            "/usr/share/java/netty-transport-native-unix-common.jar",
        ] {
            if Path::new(extra).exists() {
                class_path.push(':');
                class_path.push_str(extra);
            }
        }
        cmd.arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
            .arg("-cp")
            .arg(class_path)
            .arg(self.main)
            .arg(&self.cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(cmd.spawn().expect("java starts"));
    }

    /// Waits until the server serves requests (`ruok` answers `imok`
    /// before that).
    pub(crate) fn wait_ready(&self) {
        self.wait_serving();
    }

    /// Waits until the server serves requests (`srvr` answers with a mode).
    pub(crate) fn wait_serving(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(out) = four_letter(self.port, "srvr")
                && let Some(mode) = out.lines().find_map(|l| l.strip_prefix("Mode: "))
            {
                return mode.trim().to_owned();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "ZooKeeper on port {} not serving after 30 s; log:\n{}",
            self.port,
            self.log()
        );
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Kills the process (SIGKILL: a crash, not a clean shutdown).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("zk://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends a four-letter command, returns the answer.
pub(crate) fn four_letter(port: u16, cmd: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(cmd.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Polls `f` every 5 ms until it is true or `within` passes.
pub(crate) fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
