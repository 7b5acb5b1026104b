//! A throw-away MIT Kerberos realm on loopback: database, principals and
//! keytabs made with `kdb5_util`/`kadmin.local`, `krb5kdc` in the
//! foreground on a free port, killed on drop. Everything lives in a temp
//! dir; the process environment is never changed (scenarios run in child
//! processes with the realm's variables, see `Kdc::run_child`).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const REALM: &str = "MESOS.TEST";

/// Skip with a loud message only when the environment says so.
pub(crate) fn skip() -> bool {
    if std::env::var("MESOS_AUTH_GSSAPI_TESTS").as_deref() == Ok("skip") {
        eprintln!("!!! GSSAPI/Kerberos tests SKIPPED (MESOS_AUTH_GSSAPI_TESTS=skip) !!!");
        return true;
    }
    false
}

pub(crate) struct Kdc {
    dir: tempfile::TempDir,
    kdc: Child,
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.kdc.kill();
        let _ = self.kdc.wait();
    }
}

fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{name}` not found: install krb5-kdc, krb5-admin-server and krb5-user \
         (.ci/install-deps), or set MESOS_AUTH_GSSAPI_TESTS=skip"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Kdc {
    /// A realm with `mesos/localhost` (in `mesos.keytab`), `mesos/otherhost`
    /// (in the KDC only) and the client principals `clients` (in
    /// `clients.keytab`), each with a ticket cache `cc-<name>`.
    pub(crate) fn start(clients: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        std::fs::write(
            d.join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n\
                 [realms]\n {REALM} = {{\n  database_name = {db}\n  key_stash_file = {stash}\n  \
                 acl_file = {acl}\n  max_life = 1h\n  max_renewable_life = 0\n  \
                 supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n }}\n\
                 [logging]\n kdc = FILE:{log}\n",
                db = d.join("principal").display(),
                stash = d.join("stash").display(),
                acl = d.join("kadm5.acl").display(),
                log = d.join("kdc.log").display(),
            ),
        )
        .unwrap();
        std::fs::write(d.join("kadm5.acl"), "").unwrap();
        std::fs::create_dir(d.join("rcache")).unwrap();
        // clockskew 2 s: an expired ticket or a skewed clock shows within
        // seconds, not the default five minutes.
        std::fs::write(
            d.join("krb5.conf"),
            format!(
                "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n \
                 dns_lookup_realm = false\n dns_canonicalize_hostname = false\n rdns = false\n \
                 clockskew = 2\n udp_preference_limit = 1\n\
                 [realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n\
                 [domain_realm]\n localhost = {REALM}\n otherhost = {REALM}\n"
            ),
        )
        .unwrap();
        let mut me = Self {
            kdc: Command::new("true").spawn().unwrap(),
            dir,
        };
        me.run(Command::new(tool("kdb5_util")).args([
            "create",
            "-s",
            "-r",
            REALM,
            "-P",
            "not-a-secret-master-key",
        ]));
        let mut q = vec![
            "addprinc -randkey mesos/localhost".to_owned(),
            "addprinc -randkey mesos/otherhost".to_owned(),
            format!(
                "ktadd -k {} mesos/localhost",
                me.path("mesos.keytab").display()
            ),
        ];
        for c in clients {
            q.push(format!("addprinc -randkey {c}"));
            q.push(format!(
                "ktadd -k {} {c}",
                me.path("clients.keytab").display()
            ));
        }
        for query in q {
            me.run(Command::new(tool("kadmin.local")).args(["-r", REALM, "-q", &query]));
        }
        me.kdc = me
            .env(Command::new(tool("krb5kdc")).args(["-n", "-r", REALM]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "krb5kdc did not listen on {port}"
            );
            if let Some(status) = me.kdc.try_wait().unwrap() {
                panic!("krb5kdc exited: {status}; log: {}", me.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for c in clients {
            me.kinit(c, None);
        }
        me
    }

    /// Adds `principal` with a random key and writes it to the keytab
    /// `file` (in the realm's directory); again for the same principal, a
    /// new key (the older keytab goes stale).
    #[allow(dead_code, reason = "used by tests/zk's Kerberos tests only")]
    pub(crate) fn keytab(&self, principal: &str, file: &str) -> PathBuf {
        let keytab = self.path(file);
        // Already there (a second keytab): kadmin.local says so and goes on.
        let _ = self
            .env(Command::new(tool("kadmin.local")).args(["-r", REALM, "-q"]))
            .arg(format!("addprinc -randkey {principal}"))
            .output()
            .unwrap();
        self.run(Command::new(tool("kadmin.local")).args([
            "-r",
            REALM,
            "-q",
            &format!("ktadd -k {} {principal}", keytab.display()),
        ]));
        keytab
    }

    /// Removes `principal` from the KDC (its keytabs stay).
    #[allow(dead_code, reason = "used by tests/zk's Kerberos tests only")]
    pub(crate) fn delete(&self, principal: &str) {
        self.run(Command::new(tool("kadmin.local")).args([
            "-r",
            REALM,
            "-q",
            &format!("delprinc -force {principal}"),
        ]));
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The ticket cache `cc-<principal>` (slashes made dashes).
    pub(crate) fn ccache(&self, principal: &str) -> PathBuf {
        self.path(&format!("cc-{}", principal.replace('/', "-")))
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.path("kdc.log")).unwrap_or_default()
    }

    /// The realm's variables: config, KDC profile, the server keytab, the
    /// replay cache directory.
    pub(crate) fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("KRB5_CONFIG", self.path("krb5.conf"))
            .env("KRB5_KDC_PROFILE", self.path("kdc.conf"))
            .env(
                "KRB5_KTNAME",
                format!("FILE:{}", self.path("mesos.keytab").display()),
            )
            .env("KRB5RCACHEDIR", self.path("rcache"))
            .env_remove("KRB5CCNAME")
            .env_remove("KRB5_CLIENT_KTNAME")
    }

    fn run(&self, cmd: &mut Command) -> Output {
        let out = self.env(cmd).output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Gets `principal` a ticket from the clients' keytab into its cache,
    /// with the given lifetime (`3s`) or the realm's maximum.
    pub(crate) fn kinit(&self, principal: &str, lifetime: Option<&str>) -> PathBuf {
        let cc = self.ccache(principal);
        let mut cmd = Command::new(tool("kinit"));
        cmd.arg("-k")
            .arg("-t")
            .arg(self.path("clients.keytab"))
            .arg("-c")
            .arg(format!("FILE:{}", cc.display()));
        if let Some(l) = lifetime {
            cmd.args(["-l", l]);
        }
        cmd.arg(principal);
        self.run(&mut cmd);
        cc
    }

    /// Puts a service ticket for `service` into `principal`'s cache (so a
    /// later client needs no TGS exchange).
    pub(crate) fn kvno(&self, principal: &str, service: &str) {
        let cc = self.ccache(principal);
        self.run(
            Command::new(tool("kvno"))
                .arg("-c")
                .arg(format!("FILE:{}", cc.display()))
                .arg(service),
        );
    }

    /// Runs the ignored test `name` of this binary in a child process with
    /// the realm's environment, `KRB5CCNAME=cc` and `extra`; returns its
    /// output, failing with it if the child failed.
    pub(crate) fn run_child(&self, name: &str, cc: &Path, extra: &[(&str, &str)]) -> String {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
        self.env(&mut cmd)
            .env("KRB5CCNAME", format!("FILE:{}", cc.display()))
            .env("MESOS_AUTH_GSSAPI_CHILD", "1")
            .env("MESOS_AUTH_GSSAPI_DIR", self.dir.path());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "child {name} failed:\n{text}\nKDC log:\n{}",
            self.log()
        );
        assert!(
            text.contains("1 passed"),
            "child {name} ran no test:\n{text}"
        );
        text
    }
}

/// In a child: the realm's directory (fails outside `Kdc::run_child`).
pub(crate) fn child_dir() -> PathBuf {
    assert_eq!(
        std::env::var("MESOS_AUTH_GSSAPI_CHILD").as_deref(),
        Ok("1"),
        "run by its parent test in a prepared Kerberos realm, not on its own"
    );
    PathBuf::from(std::env::var("MESOS_AUTH_GSSAPI_DIR").unwrap())
}
