//! Starts and stops the real OpenID Provider (tests/oidc/provider.mjs over
//! node-oidc-provider) on loopback, and talks to it as a relying party
//! would: discovery, JWKS, client-credentials tokens.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mesos_auth::bearer::{Jwks, PrincipalRule, Validator, ValidatorConfig};
use ring::rand::{SecureRandom, SystemRandom};

use super::http;

/// The client the provider registers (client_secret_basic, client
/// credentials only). Its secret is random per provider.
pub(crate) const CLIENT_ID: &str = "mesos-scheduler";
/// The default resource: the token's `aud`, signed RS256.
pub(crate) const MASTER: &str = "urn:mesos:master";
/// The same audience family signed ES256 and EdDSA.
pub(crate) const MASTER_ES: &str = "urn:mesos:master:es";
pub(crate) const MASTER_ED: &str = "urn:mesos:master:ed";
/// The audience whose tokens are HS256 with [`Provider::hs256_secret`].
pub(crate) const MASTER_HS: &str = "urn:mesos:master:hs";
/// Another resource server's audience, which a master must refuse.
pub(crate) const OTHER: &str = "urn:other:service";

const SKIP_VAR: &str = "MESOS_AUTH_OIDC_TESTS";
const DIR_VAR: &str = "MESOS_AUTH_OIDC_PROVIDER_DIR";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/provider.mjs")
}

/// Where .ci/install-deps installs the pinned package.
fn modules() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_VAR) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    Path::new(&home).join(".cache/mesos-auth/oidc-provider")
}

/// Whether the tests may run: `false` only when node or the package is
/// missing and `MESOS_AUTH_OIDC_TESTS=skip` says to skip. Otherwise a
/// missing provider fails the test, saying how to install it.
pub(crate) fn available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let package = modules().join("node_modules/oidc-provider/package.json");
    if node && package.exists() {
        return true;
    }
    if std::env::var(SKIP_VAR).as_deref() == Ok("skip") {
        eprintln!("OpenID Provider tests skipped ({SKIP_VAR}=skip)");
        return false;
    }
    let what = if node {
        format!(
            "the npm package oidc-provider is not installed in {} (run .ci/install-deps, \
             or set {DIR_VAR} to a directory holding node_modules/oidc-provider)",
            modules().display()
        )
    } else {
        "Node.js (`node`) is not installed (Debian: apt-get install nodejs npm; \
         .ci/install-deps does it)"
            .to_owned()
    };
    panic!("{what}; or set {SKIP_VAR}=skip to skip these tests");
}

/// How to start one provider.
#[derive(Default, Clone)]
pub(crate) struct Options {
    /// 0: a free port.
    pub(crate) port: u16,
    /// Access-token lifetime in seconds (300 when 0).
    pub(crate) ttl: u64,
    /// Tokens without `nbf`, as the provider issues them by default (the
    /// other tests ask for one: see `tokens_without_nbf_are_accepted`).
    pub(crate) no_nbf: bool,
    /// The provider's encryption features on, with an encryption key
    /// (`use: enc`) in its JWKS.
    pub(crate) encryption: bool,
    /// Write this run's private keys here (for a restart that keeps them).
    pub(crate) keys_out: Option<PathBuf>,
    /// Keys of an earlier run, still published, no longer signing.
    pub(crate) old_keys: Option<PathBuf>,
}

/// The provider's discovery document, as far as a relying party needs it.
pub(crate) struct Discovery {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: String,
    pub(crate) token_endpoint: String,
}

/// One provider process, killed on drop.
pub(crate) struct Provider {
    pub(crate) port: u16,
    pub(crate) secret: String,
    /// The shared secret of the HS256 resource (random per provider).
    pub(crate) hs256_secret: String,
    child: Child,
    // Held so the provider sees end-of-file (and exits) if the test dies.
    _stdin: ChildStdin,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Provider {
    pub(crate) fn start(options: &Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("provider.log");
        let random = || {
            let mut bytes = [0u8; 32];
            SystemRandom::new().fill(&mut bytes).unwrap();
            URL_SAFE_NO_PAD.encode(bytes)
        };
        let (secret, hs256_secret) = (random(), random());
        let mut cmd = Command::new("node");
        cmd.arg(script())
            .arg("--modules")
            .arg(modules())
            .args(["--port", &options.port.to_string()])
            .args(["--client-id", CLIENT_ID])
            .args(["--nbf", if options.no_nbf { "no" } else { "yes" }])
            .args([
                "--encryption",
                if options.encryption { "yes" } else { "no" },
            ])
            .args([
                "--ttl",
                &(if options.ttl == 0 { 300 } else { options.ttl }).to_string(),
            ]);
        if let Some(p) = &options.keys_out {
            cmd.arg("--keys-out").arg(p);
        }
        if let Some(p) = &options.old_keys {
            cmd.arg("--old-keys").arg(p);
        }
        cmd.env("OIDC_CLIENT_SECRET", &secret)
            .env("OIDC_HS256_SECRET", &hs256_secret)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        let mut child = cmd.spawn().expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut provider = Self {
            port: 0,
            secret,
            hs256_secret,
            child,
            _stdin: stdin,
            log,
            _dir: dir,
        };
        // Key generation (RSA 2048) and start-up take well under a second
        // on an idle machine; the margin is for a loaded CI host.
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.starts_with("ready ") => {
                provider.port = line["ready ".len()..].trim().parse().unwrap();
            }
            other => panic!(
                "the OpenID Provider did not start ({other:?}); its log:\n{}",
                provider.log()
            ),
        }
        if options.port != 0 {
            assert_eq!(provider.port, options.port);
        }
        provider
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Reads `/.well-known/openid-configuration` (OpenID Connect Discovery
    /// 1.0 §4), checking the issuer it states is the one asked (§4.3).
    pub(crate) fn discover(&self) -> Discovery {
        let r = http::get(&format!("{}/.well-known/openid-configuration", self.base()));
        assert_eq!(r.status, 200, "discovery; log:\n{}", self.log());
        let doc = r.json();
        let field = |k: &str| {
            doc[k]
                .as_str()
                .unwrap_or_else(|| panic!("discovery has no `{k}`: {doc}"))
                .to_owned()
        };
        let d = Discovery {
            issuer: field("issuer"),
            jwks_uri: field("jwks_uri"),
            token_endpoint: field("token_endpoint"),
        };
        assert_eq!(d.issuer, self.base());
        let grants = doc["grant_types_supported"].as_array().unwrap();
        assert!(grants.iter().any(|g| g == "client_credentials"), "{doc}");
        d
    }

    /// The JWKS bytes, fetched from the discovered `jwks_uri`.
    pub(crate) fn jwks(&self) -> Vec<u8> {
        let r = http::get(&self.discover().jwks_uri);
        assert_eq!(r.status, 200, "jwks; log:\n{}", self.log());
        r.body
    }

    /// A token for `resource` through the client-credentials grant
    /// (RFC 6749 §4.4, RFC 8707), authenticated with client_secret_basic.
    pub(crate) fn token(&self, resource: &str) -> String {
        let r = self.token_request(resource, &self.secret);
        let doc = r.json();
        assert_eq!(r.status, 200, "token request: {doc}; log:\n{}", self.log());
        assert_eq!(doc["token_type"], "Bearer", "{doc}");
        doc["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) fn token_request(&self, resource: &str, secret: &str) -> http::Response {
        http::post_form(
            &self.discover().token_endpoint,
            (CLIENT_ID, secret),
            &[
                ("grant_type", "client_credentials"),
                ("resource", resource),
                ("scope", "mesos"),
            ],
        )
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The decoded claims of a token (no verification: for assertions on what
/// the provider issued).
pub(crate) fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The decoded JOSE header of a token.
pub(crate) fn header(token: &str) -> serde_json::Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

/// One key set holding the keys of several (for a validator that knows
/// two issuers' keys).
pub(crate) fn merge(sets: &[&[u8]]) -> Vec<u8> {
    let mut keys = Vec::new();
    for s in sets {
        let doc: serde_json::Value = serde_json::from_slice(s).unwrap();
        keys.extend(doc["keys"].as_array().unwrap().iter().cloned());
    }
    serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
}

/// A validator as a master would configure it for this provider: its
/// issuer, one audience, the principal from `client_id`.
pub(crate) fn validator(issuer: &str, jwks: &[u8], audience: &str) -> Validator {
    let config = ValidatorConfig::new()
        .issuer(issuer)
        .audience(audience)
        .rule(PrincipalRule::claim("client_id"));
    Validator::new(&config, Jwks::from_json(jwks).unwrap()).unwrap()
}
