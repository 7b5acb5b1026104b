//! The secured connection: SASL DIGEST-MD5 (right and wrong password, and
//! a credentials znode only the masters' identity can read) and TLS on the
//! secure client port (right CA, wrong CA, expired client certificate).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mesos_auth::audit::NullSink;
use mesos_auth::credentials::{self, CredentialsHandle};
use mesos_auth::zk::{
    self, ConnectOptions, PolicyKind, PolicyWatch, PushOptions, SaslDigest, Startup, TlsSettings,
    WatchOptions, ZkError, ZkUrl,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use super::server::{self, Extra, Server, free_port};

const CREDS: &[u8] =
    br#"{"credentials": [{"principal": "ops", "secret": "correct-horse-battery-staple"}]}"#;

fn sasl_server(root: &Path) -> Server {
    let jaas = root.join("jaas.conf");
    std::fs::write(
        &jaas,
        "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  \
         user_master=\"master-pass-1\"\n  user_other=\"other-pass-2\";\n};\n",
    )
    .unwrap();
    let extra = Extra {
        cfg: vec![],
        props: vec![
            format!("java.security.auth.login.config={}", jaas.display()),
            "zookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
                .to_owned(),
        ],
    };
    Server::standalone(root, &extra)
}

#[test]
fn sasl_digest_right_and_wrong_password_and_private_credentials() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let zk = sasl_server(root.path());
    zk.wait_ready();
    let url = ZkUrl::parse(&zk.url("/secure/credentials")).unwrap();
    let master = ConnectOptions::new().sasl(SaslDigest::new("master", "master-pass-1"));

    // The masters' identity writes the credentials, readable by it alone.
    let pushed = zk::push(
        &url,
        PolicyKind::Credentials,
        CREDS,
        &PushOptions::new(master.clone()),
    )
    .unwrap();
    assert_eq!(pushed.version, 0);
    assert_eq!(zk::get(&url, &master).unwrap().data, CREDS);
    for (who, options) in [
        ("anonymous", ConnectOptions::new()),
        (
            "other",
            ConnectOptions::new().sasl(SaslDigest::new("other", "other-pass-2")),
        ),
    ] {
        match zk::get(&url, &options) {
            Err(ZkError::Denied { path, .. }) => assert_eq!(path, "/secure/credentials", "{who}"),
            other => panic!("{who}: {other:?}"),
        }
    }

    // A master reads them through the watch.
    let handle = Arc::new(CredentialsHandle::from_store(
        credentials::parse(
            br#"{"credentials": [{"principal": "old", "secret": "an-old-secret-of-length"}]}"#,
            &credentials::Options::default(),
        )
        .unwrap()
        .into_store()
        .unwrap(),
        credentials::Options::default(),
    ));
    let watch = PolicyWatch::start(
        url.clone(),
        handle.clone(),
        WatchOptions::new(master.clone()).startup(Startup::RequireZk(Duration::from_secs(20))),
        Arc::new(NullSink),
    )
    .unwrap();
    assert_eq!(watch.status().version, Some(0));
    assert_eq!(handle.snapshot().len(), 1);

    // A wrong password: refused clearly, nothing read or applied; the
    // message never holds the password.
    let wrong = ConnectOptions::new().sasl(SaslDigest::new("master", "not-the-password"));
    let err = zk::get(&url, &wrong).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ZkError::Connect { .. }), "{err:?}");
    assert!(text.contains("authentication failed"), "{text}");
    assert!(!text.contains("not-the-password"));
    let err = PolicyWatch::start(
        url,
        handle.clone(),
        WatchOptions::new(wrong).startup(Startup::RequireZk(Duration::from_secs(3))),
        Arc::new(NullSink),
    )
    .unwrap_err();
    assert!(err.to_string().contains("authentication failed"), "{err}");
    assert_eq!(handle.snapshot().generation(), 1);
}

struct Pki {
    ca: (CertificateParams, KeyPair, String),
}

impl Pki {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            ca: (params, key, pem),
        }
    }

    /// A leaf for `127.0.0.1`/`localhost`: (certificate PEM, key PEM).
    fn leaf(&self, cn: &str, server: bool, expired: bool) -> (String, String) {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.ca.0, &self.ca.1);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn ca_pem(&self) -> &str {
        &self.ca.2
    }
}

#[test]
fn tls_right_ca_wrong_ca_expired_client() {
    if !server::available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let pki = Pki::new("zk test CA");
    let (server_cert, server_key) = pki.leaf("zk-server", true, false);
    let keystore = root.path().join("server.pem");
    std::fs::write(&keystore, format!("{server_key}{server_cert}")).unwrap();
    let truststore = root.path().join("ca.pem");
    std::fs::write(&truststore, pki.ca_pem()).unwrap();
    let secure = free_port();
    let extra = Extra {
        cfg: vec![format!("secureClientPort={secure}")],
        props: vec![
            "zookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory".to_owned(),
            format!("zookeeper.ssl.keyStore.location={}", keystore.display()),
            "zookeeper.ssl.keyStore.type=PEM".to_owned(),
            format!("zookeeper.ssl.trustStore.location={}", truststore.display()),
            "zookeeper.ssl.trustStore.type=PEM".to_owned(),
            "zookeeper.ssl.clientAuth=need".to_owned(),
            "zookeeper.authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider".to_owned(),
        ],
    };
    let zk = Server::standalone(root.path(), &extra);
    zk.wait_ready();
    let url = ZkUrl::parse(&format!("zk://127.0.0.1:{secure}/tls/acls")).unwrap();
    let (client_cert, client_key) = pki.leaf("mesos-master", false, false);
    let good = ConnectOptions::new()
        .tls(TlsSettings::new(pki.ca_pem()).identity(client_cert.clone(), client_key.clone()));

    // The right CA and a valid client certificate: push and watch.
    let acls = br#"{"permissive": false}"#;
    let pushed = zk::push(
        &url,
        PolicyKind::Acls,
        acls,
        &PushOptions::new(good.clone()),
    )
    .unwrap();
    assert_eq!(pushed.version, 0);
    assert_eq!(zk::get(&url, &good).unwrap().data, acls);

    // A CA that did not sign the server: refused clearly.
    let other = Pki::new("another CA");
    let wrong_ca = ConnectOptions::new()
        .tls(TlsSettings::new(other.ca_pem()).identity(client_cert, client_key));
    let err = zk::get(&url, &wrong_ca).unwrap_err();
    assert!(matches!(err, ZkError::Connect { .. }), "{err:?}");
    eprintln!("wrong CA: {err}");
    assert!(
        err.to_string()
            .contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );

    // An expired client certificate: the server refuses it.
    let (old_cert, old_key) = pki.leaf("mesos-master", false, true);
    let expired =
        ConnectOptions::new().tls(TlsSettings::new(pki.ca_pem()).identity(old_cert, old_key));
    let err = zk::get(&url, &expired).unwrap_err();
    eprintln!("expired client certificate: {err}");
    assert!(matches!(err, ZkError::Connect { .. }), "{err:?}");
    assert!(
        err.to_string().contains("TLS handshake with 127.0.0.1")
            && err.to_string().contains("fatal alert"),
        "{err}"
    );

    // Garbage where a CA should be: a setting error, before any connection.
    let err = zk::get(
        &url,
        &ConnectOptions::new().tls(TlsSettings::new("not a PEM")),
    )
    .unwrap_err();
    assert!(matches!(err, ZkError::Config { .. }), "{err:?}");
}
