//! Bearer tokens against an issuer the test controls: keys generated per
//! run (ES256 and Ed25519 by ring, RSA by the openssl CLI), a JWKS document
//! served over loopback HTTP and fetched by a tiny GET, and tokens minted
//! for each case. Every refusal asserts its precise local reason.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test fixtures: a broken fixture must fail the test loudly"
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mesos_auth::Reloadable;
use mesos_auth::audit::{Event, to_json_line};
use mesos_auth::bearer::{
    Alg, BearerError, ErrorCode, Jwks, Part, PrincipalRule, Reason, Rejection, ValidationEvent,
    Validator, ValidatorConfig,
};
use ring::rand::SystemRandom;
use ring::signature::{
    self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair,
};
use serde_json::{Value, json};

pub(super) const ISS: &str = "https://idp.test";
pub(super) const AUD: &str = "mesos-master";

fn rsa_pkcs1(bits: u32) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
        .arg(format!("rsa_keygen_bits:{bits}"))
        .args(["-outform", "DER"])
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl genpkey failed");
    out.stdout
}

/// The keys of one run (openssl writes RSA keys as PKCS#1 DER).
pub(super) struct Keys {
    pub(super) rsa: RsaKeyPair,
    pub(super) rsa_next: RsaKeyPair,
    pub(super) ec: EcdsaKeyPair,
    pub(super) ed: Ed25519KeyPair,
}

pub(super) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let rng = SystemRandom::new();
        let ec8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let ed8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Keys {
            rsa: RsaKeyPair::from_der(&rsa_pkcs1(2048)).unwrap(),
            rsa_next: RsaKeyPair::from_der(&rsa_pkcs1(2048)).unwrap(),
            ec: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, ec8.as_ref(), &rng)
                .unwrap(),
            ed: Ed25519KeyPair::from_pkcs8(ed8.as_ref()).unwrap(),
        }
    })
}

pub(super) fn rsa_jwk(kid: &str, k: &RsaKeyPair) -> Value {
    let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(k.public());
    json!({"kty": "RSA", "kid": kid, "use": "sig", "n": B64.encode(&c.n), "e": B64.encode(&c.e)})
}

fn ec_jwk(kid: &str, k: &EcdsaKeyPair) -> Value {
    let p = k.public_key().as_ref();
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])})
}

fn ed_jwk(kid: &str, k: &Ed25519KeyPair) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": B64.encode(k.public_key().as_ref())})
}

pub(super) fn jwks_doc(keys: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "keys": keys })).unwrap()
}

/// The standard document: one key of each kind.
pub(super) fn standard_jwks() -> Vec<u8> {
    let k = keys();
    jwks_doc(&[
        rsa_jwk("rsa-1", &k.rsa),
        ec_jwk("ec-1", &k.ec),
        ed_jwk("ed-1", &k.ed),
    ])
}

pub(super) enum Signer<'a> {
    Rsa(&'a RsaKeyPair),
    Ec(&'a EcdsaKeyPair),
    Ed(&'a Ed25519KeyPair),
    Hmac(&'a [u8]),
    Unsigned,
}

fn sign(signer: &Signer<'_>, input: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    match signer {
        Signer::Rsa(k) => {
            let mut sig = vec![0; k.public().modulus_len()];
            k.sign(&signature::RSA_PKCS1_SHA256, &rng, input, &mut sig)
                .unwrap();
            sig
        }
        Signer::Ec(k) => k.sign(&rng, input).unwrap().as_ref().to_vec(),
        Signer::Ed(k) => k.sign(input).as_ref().to_vec(),
        Signer::Hmac(secret) => {
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
            ring::hmac::sign(&key, input).as_ref().to_vec()
        }
        Signer::Unsigned => Vec::new(),
    }
}

/// A compact JWS over raw part texts (so tests can break any part).
pub(super) fn mint_raw(header: &str, claims: &str, signer: &Signer<'_>) -> String {
    let input = format!("{header}.{claims}");
    let sig = sign(signer, input.as_bytes());
    format!("{input}.{}", B64.encode(sig))
}

pub(super) fn mint(header: &Value, claims: &Value, signer: &Signer<'_>) -> String {
    mint_raw(
        &B64.encode(serde_json::to_vec(header).unwrap()),
        &B64.encode(serde_json::to_vec(claims).unwrap()),
        signer,
    )
}

pub(super) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

pub(super) fn secs() -> i64 {
    1_800_000_000
}

pub(super) fn claims() -> Value {
    json!({"iss": ISS, "aud": AUD, "sub": "alice", "exp": secs() + 600, "nbf": secs() - 60, "iat": secs() - 60})
}

pub(super) fn with(mut base: Value, key: &str, v: Value) -> Value {
    base[key] = v;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

pub(super) fn rs(kid: &str) -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": kid})
}

pub(super) fn config() -> ValidatorConfig {
    ValidatorConfig::new().issuer(ISS).audience(AUD)
}

pub(super) fn validator() -> Validator {
    Validator::new(&config(), Jwks::from_json(&standard_jwks()).unwrap()).unwrap()
}

fn refused(v: &Validator, token: &str) -> Rejection {
    match v.validate(token, now()) {
        Ok(ok) => panic!("accepted as {}", ok.principal()),
        Err(r) => {
            // Never the token, nor any of its parts, in the reason.
            let text = r.to_string();
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(!text.contains(part), "reason shows a token part: {text}");
            }
            r
        }
    }
}

// ---- the loopback issuer ----

/// Serves whatever document is current at any path, one request per
/// connection, until dropped.
struct JwksServer {
    addr: std::net::SocketAddr,
    doc: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl JwksServer {
    fn start(doc: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let doc = Arc::new(Mutex::new(doc));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (Arc::clone(&doc), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut buf = [0u8; 2048];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let body = d.lock().unwrap().clone();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/jwk-set+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&body);
            }
        });
        Self {
            addr,
            doc,
            stop,
            thread: Some(thread),
        }
    }

    fn publish(&self, doc: Vec<u8>) {
        *self.doc.lock().unwrap() = doc;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// What a host does: GET the document, hand the body over.
fn http_get(addr: std::net::SocketAddr, path: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(resp.starts_with(b"HTTP/1.1 200 "));
    resp[split + 4..].to_vec()
}

// ---- accepted ----

#[test]
fn each_algorithm_accepted_from_a_fetched_jwks() {
    let server = JwksServer::start(standard_jwks());
    let jwks = Jwks::from_json(&http_get(server.addr, "/.well-known/jwks.json")).unwrap();
    assert_eq!(
        jwks.kids().collect::<Vec<_>>(),
        [Some("rsa-1"), Some("ec-1"), Some("ed-1")]
    );
    let v = Validator::new(&config(), jwks).unwrap();
    let k = keys();
    for (alg, kid, signer) in [
        ("RS256", "rsa-1", Signer::Rsa(&k.rsa)),
        ("ES256", "ec-1", Signer::Ec(&k.ec)),
        ("EdDSA", "ed-1", Signer::Ed(&k.ed)),
    ] {
        let t = mint(&json!({"alg": alg, "kid": kid}), &claims(), &signer);
        let ok = v
            .validate(&t, now())
            .unwrap_or_else(|r| panic!("{alg}: {r}"));
        assert_eq!(ok.principal().as_str(), "alice");
        assert_eq!(
            (ok.claim(), ok.kid(), ok.alg().as_str()),
            ("sub", Some(kid), alg)
        );
        assert_eq!((ok.iss(), ok.exp()), (ISS, secs() + 600));
    }
}

#[test]
fn audience_list_and_leeway() {
    let v = validator();
    let k = keys();
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "aud", json!(["other", AUD])),
        &Signer::Rsa(&k.rsa),
    );
    assert!(v.validate(&t, now()).is_ok());
    // 30 s past `exp` is inside the default 60 s leeway; 61 s is not.
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(secs() - 30)),
        &Signer::Rsa(&k.rsa),
    );
    assert!(v.validate(&t, now()).is_ok());
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(secs() - 61)),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(
        refused(&v, &t).reason(),
        &Reason::Expired {
            exp: secs() - 61,
            now: secs()
        }
    );
    // Fractional NumericDates are allowed.
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(secs() as f64 + 0.5)),
        &Signer::Rsa(&k.rsa),
    );
    assert!(v.validate(&t, now()).is_ok());
}

// ---- the case list ----

#[test]
fn expired() {
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(secs() - 3600)),
        &Signer::Rsa(&keys().rsa),
    );
    let r = refused(&validator(), &t);
    assert_eq!(
        r.reason(),
        &Reason::Expired {
            exp: secs() - 3600,
            now: secs()
        }
    );
    assert_eq!(r.code(), ErrorCode::InvalidToken);
    assert_eq!(r.iss(), Some(ISS));
    assert_eq!(r.kid(), Some("rsa-1"));
}

#[test]
fn not_yet_valid() {
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "nbf", json!(secs() + 3600)),
        &Signer::Rsa(&keys().rsa),
    );
    assert_eq!(
        refused(&validator(), &t).reason(),
        &Reason::NotYetValid {
            nbf: secs() + 3600,
            now: secs()
        }
    );
}

#[test]
fn wrong_audience() {
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "aud", json!("mesos-agent")),
        &Signer::Rsa(&keys().rsa),
    );
    let r = refused(&validator(), &t);
    assert_eq!(
        r.reason(),
        &Reason::WrongAudience {
            expected: vec![AUD.to_owned()]
        }
    );
    assert!(r.reason().to_string().contains("`mesos-master`"));
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "aud", json!(["a", 7])),
        &Signer::Rsa(&keys().rsa),
    );
    assert_eq!(refused(&validator(), &t).reason().tag(), "claim_type");
}

#[test]
fn wrong_issuer() {
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "iss", json!("https://evil.test")),
        &Signer::Rsa(&keys().rsa),
    );
    let r = refused(&validator(), &t);
    assert_eq!(
        r.reason(),
        &Reason::WrongIssuer {
            expected: vec![ISS.to_owned()]
        }
    );
}

#[test]
fn required_claims() {
    let v = validator();
    for claim in ["exp", "nbf", "iss", "aud"] {
        let t = mint(
            &rs("rsa-1"),
            &without(claims(), claim),
            &Signer::Rsa(&keys().rsa),
        );
        assert_eq!(
            refused(&v, &t).reason(),
            &Reason::ClaimMissing(claim),
            "{claim}"
        );
    }
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!("soon")),
        &Signer::Rsa(&keys().rsa),
    );
    assert_eq!(
        refused(&v, &t).reason(),
        &Reason::ClaimType {
            claim: "exp",
            expected: "a number"
        }
    );
}

/// `nbf` made optional (for providers whose access tokens carry none): a
/// token without it is valid, one with it is still checked, and nothing
/// else is relaxed.
#[test]
fn nbf_optional_by_configuration() {
    let set = || Jwks::from_json(&standard_jwks()).unwrap();
    let v = Validator::new(&config().require_nbf(false), set()).unwrap();
    let sign = |c: &Value| mint(&rs("rsa-1"), c, &Signer::Rsa(&keys().rsa));
    let ok = v.validate(&sign(&without(claims(), "nbf")), now()).unwrap();
    assert_eq!(ok.principal().as_str(), "alice");
    let early = with(claims(), "nbf", json!(secs() + 3600));
    assert!(matches!(
        refused(&v, &sign(&early)).reason(),
        Reason::NotYetValid { .. }
    ));
    for claim in ["exp", "iss", "aud"] {
        let t = sign(&without(without(claims(), "nbf"), claim));
        assert_eq!(refused(&v, &t).reason(), &Reason::ClaimMissing(claim));
    }
    let t = sign(&with(without(claims(), "exp"), "nbf", json!("soon")));
    assert_eq!(refused(&v, &t).reason(), &Reason::ClaimMissing("exp"));
    let t = sign(&with(claims(), "nbf", json!("soon")));
    assert_eq!(
        refused(&v, &t).reason(),
        &Reason::ClaimType {
            claim: "nbf",
            expected: "a number"
        }
    );
    // The JSON form.
    let c = ValidatorConfig::from_json(
        br#"{"issuers": ["https://idp.test"], "audiences": ["mesos-master"], "require_nbf": false}"#,
    )
    .unwrap();
    assert!(!c.nbf_required());
    assert!(ValidatorConfig::new().nbf_required());
    let e = ValidatorConfig::from_json(
        br#"{"issuers": ["i"], "audiences": ["a"], "require_nbf": "no"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("1:55: $.require_nbf: expected `true` or `false`, found a string"),
        "{e}"
    );
}

#[test]
fn extreme_dates_are_refused_not_panics() {
    let v = validator();
    let k = keys();
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(-1e300)),
        &Signer::Rsa(&k.rsa),
    );
    let r = refused(&v, &t);
    assert_eq!(
        r.reason(),
        &Reason::Expired {
            exp: i64::MIN,
            now: secs()
        }
    );
    assert!(r.to_string().contains("9223372036854775807s before now"));
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "nbf", json!(1e300)),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(refused(&v, &t).reason().tag(), "not_yet_valid");
    // A far-future `exp` is accepted (saturating, not wrapping).
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(i64::MAX)),
        &Signer::Rsa(&k.rsa),
    );
    assert!(v.validate(&t, now()).is_ok());
}

#[test]
fn unknown_kid_and_missing_kid() {
    let v = validator();
    let t = mint(&rs("rsa-9"), &claims(), &Signer::Rsa(&keys().rsa));
    let r = refused(&v, &t);
    assert_eq!(r.reason(), &Reason::UnknownKid);
    assert_eq!(r.kid(), Some("rsa-9"));
    // Three keys: a header without `kid` names none of them.
    let t = mint(
        &json!({"alg": "RS256"}),
        &claims(),
        &Signer::Rsa(&keys().rsa),
    );
    assert_eq!(refused(&v, &t).reason(), &Reason::KidRequired);
    // One key: no `kid` needed.
    let one = Jwks::from_json(&jwks_doc(&[rsa_jwk("only", &keys().rsa)])).unwrap();
    let v = Validator::new(&config(), one).unwrap();
    assert!(v.validate(&t, now()).is_ok());
}

/// An identity provider publishes its encryption key beside its signing
/// keys (`use: enc`, an `alg` such as `RSA-OAEP` that no token may name):
/// that key is set aside, and the others still verify, each under its own
/// `kid` (the set-aside key shifts the document's indices, not the kids').
#[test]
fn encryption_keys_in_the_set_are_set_aside() {
    let k = keys();
    let mut enc = rsa_jwk("rsa-1", &k.rsa_next);
    enc["use"] = json!("enc");
    enc["alg"] = json!("RSA-OAEP");
    let mut ops = ec_jwk("ops-enc", &k.ec);
    ops["key_ops"] = json!(["deriveKey"]);
    let set = Jwks::from_json(&jwks_doc(&[
        enc,
        ops,
        rsa_jwk("rsa-1", &k.rsa),
        ed_jwk("ed-1", &k.ed),
    ]))
    .unwrap();
    assert_eq!(
        set.kids().collect::<Vec<_>>(),
        [Some("rsa-1"), Some("ed-1")]
    );
    let v = Validator::new(&config(), set).unwrap();
    let t = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&k.rsa));
    assert_eq!(v.validate(&t, now()).unwrap().kid(), Some("rsa-1"));
    let t = mint(
        &json!({"alg": "EdDSA", "kid": "ed-1"}),
        &claims(),
        &Signer::Ed(&k.ed),
    );
    assert_eq!(v.validate(&t, now()).unwrap().kid(), Some("ed-1"));
    // The encryption key's own key never verifies: same kid, its signature
    // is refused against the signing key.
    let t = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&k.rsa_next));
    assert_eq!(refused(&v, &t).reason(), &Reason::BadSignature);
    let t = mint(
        &json!({"alg": "ES256", "kid": "ops-enc"}),
        &claims(),
        &Signer::Ec(&k.ec),
    );
    assert_eq!(refused(&v, &t).reason(), &Reason::UnknownKid);
}

#[test]
fn rotated_key_served_over_loopback() {
    let k = keys();
    let server = JwksServer::start(jwks_doc(&[rsa_jwk("2026-01", &k.rsa)]));
    let fetch = || Jwks::from_json(&http_get(server.addr, "/jwks"));
    let live = Reloadable::new(Validator::new(&config(), fetch().unwrap()).unwrap());
    let old_token = mint(&rs("2026-01"), &claims(), &Signer::Rsa(&k.rsa));
    let new_token = mint(&rs("2026-02"), &claims(), &Signer::Rsa(&k.rsa_next));
    assert!(live.snapshot().validate(&old_token, now()).is_ok());
    assert_eq!(
        refused(&live.snapshot(), &new_token).reason(),
        &Reason::UnknownKid
    );
    let in_flight = live.snapshot();

    // Overlap: both keys published.
    server.publish(jwks_doc(&[
        rsa_jwk("2026-01", &k.rsa),
        rsa_jwk("2026-02", &k.rsa_next),
    ]));
    live.try_reload(|v| v.with_jwks(fetch()?)).unwrap();
    assert!(live.snapshot().validate(&old_token, now()).is_ok());
    assert!(live.snapshot().validate(&new_token, now()).is_ok());

    // The old key retired.
    server.publish(jwks_doc(&[rsa_jwk("2026-02", &k.rsa_next)]));
    assert_eq!(live.try_reload(|v| v.with_jwks(fetch()?)).unwrap(), 2);
    assert_eq!(
        refused(&live.snapshot(), &old_token).reason(),
        &Reason::UnknownKid
    );
    assert!(live.snapshot().validate(&new_token, now()).is_ok());

    // A broken document keeps the current keys serving.
    server.publish(b"{\"keys\": [".to_vec());
    let err = live.try_reload(|v| v.with_jwks(fetch()?)).unwrap_err();
    assert!(matches!(err, BearerError::Json { .. }), "{err}");
    assert_eq!(live.generation(), 2);
    assert!(live.snapshot().validate(&new_token, now()).is_ok());

    // A request that began before the rotation finishes with its keys.
    assert!(in_flight.validate(&old_token, now()).is_ok());
}

#[test]
fn alg_confusion_rs256_to_hs256() {
    let k = keys();
    // The classic attack: HS256 keyed with the RSA public key's bytes (its
    // DER, and the JWK text, both tried).
    let der = k.rsa.public().as_ref().to_vec();
    let jwk_text = serde_json::to_vec(&rsa_jwk("rsa-1", &k.rsa)).unwrap();
    for secret in [der.as_slice(), jwk_text.as_slice()] {
        let t = mint(
            &json!({"alg": "HS256", "kid": "rsa-1"}),
            &claims(),
            &Signer::Hmac(secret),
        );
        let r = refused(&validator(), &t);
        assert_eq!(r.reason(), &Reason::AlgNotAllowed("HS256".to_owned()));
    }
    // HMAC cannot even be configured with a public key set.
    let err = Validator::new(
        &config().algorithms(&[Alg::RS256, Alg::HS256]),
        Jwks::from_json(&standard_jwks()).unwrap(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("HS256` needs a shared-secret key set"),
        "{err}"
    );
    // With RS256 and ES256 allowed, ES256 against the RSA key is refused by
    // the key's kind, before any signature check.
    let v = Validator::new(
        &config().algorithms(&[Alg::RS256, Alg::ES256]),
        Jwks::from_json(&standard_jwks()).unwrap(),
    )
    .unwrap();
    let t = mint(
        &json!({"alg": "ES256", "kid": "rsa-1"}),
        &claims(),
        &Signer::Ec(&k.ec),
    );
    assert_eq!(
        refused(&v, &t).reason(),
        &Reason::AlgKeyMismatch {
            alg: Alg::ES256,
            key: "RSA key".to_owned()
        }
    );
    // A key pinned to RS256 refuses PS256 (same kind, other algorithm).
    let mut pinned = rsa_jwk("rsa-1", &k.rsa);
    pinned["alg"] = json!("RS256");
    let v = Validator::new(
        &config().algorithms(&[Alg::RS256, Alg::PS256]),
        Jwks::from_json(&jwks_doc(&[pinned])).unwrap(),
    )
    .unwrap();
    let t = mint(
        &json!({"alg": "PS256", "kid": "rsa-1"}),
        &claims(),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(refused(&v, &t).reason().tag(), "alg_key_mismatch");
}

#[test]
fn alg_none() {
    let v = validator();
    for alg in ["none", "None", "NONE"] {
        let t = mint(
            &json!({"alg": alg, "kid": "rsa-1"}),
            &claims(),
            &Signer::Unsigned,
        );
        assert!(t.ends_with('.'));
        assert_eq!(
            refused(&v, &t).reason(),
            &Reason::AlgNotAllowed(alg.to_owned())
        );
    }
    let err = ValidatorConfig::from_json(
        br#"{"issuers": ["a"], "audiences": ["b"], "algorithms": ["none"]}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("1:55: $.algorithms[0]: unsigned tokens (`none`) are never accepted"),
        "{err}"
    );
}

#[test]
fn oversized_token() {
    let big = with(claims(), "pad", json!("x".repeat(9000)));
    let t = mint(&rs("rsa-1"), &big, &Signer::Rsa(&keys().rsa));
    let r = refused(&validator(), &t);
    assert_eq!(
        r.reason(),
        &Reason::TooLarge {
            len: t.len(),
            limit: 8192
        }
    );
    assert_eq!(r.code(), ErrorCode::InvalidRequest);
    assert_eq!(refused(&validator(), "").reason(), &Reason::Empty);
}

#[test]
fn bad_base64_and_structure() {
    let v = validator();
    let k = keys();
    let good = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&k.rsa));
    let parts: Vec<&str> = good.split('.').collect();
    let malformed = |t: &str| match refused(&v, t).reason().clone() {
        Reason::Malformed { part, .. } => part,
        other => panic!("{other}"),
    };
    // Padding, the standard alphabet, a bad character: all refused.
    assert_eq!(
        malformed(&format!("{}=.{}.{}", parts[0], parts[1], parts[2])),
        Part::Header
    );
    assert_eq!(
        malformed(&format!("e+J.{}.{}", parts[1], parts[2])),
        Part::Header
    );
    assert_eq!(
        malformed(&format!("{}.{}.{}*", parts[0], parts[1], parts[2])),
        Part::Signature
    );
    assert_eq!(
        malformed(&format!("{}.{}", parts[0], parts[1])),
        Part::Token
    );
    assert_eq!(malformed(&format!("{good}.x.y")), Part::Token);
    assert_eq!(
        malformed(&format!("{}.{}.", parts[0], parts[1])),
        Part::Signature
    );
    // A header that is not JSON, or JSON without `alg`.
    assert_eq!(
        malformed(&format!("{}.{}.{}", B64.encode("{"), parts[1], parts[2])),
        Part::Header
    );
    assert_eq!(
        malformed(&format!("{}.{}.{}", B64.encode("{}"), parts[1], parts[2])),
        Part::Header
    );
    // serde's messages can quote input; the reason never does.
    let quoted = B64.encode(r#""secret-looking-header-text""#);
    let r = refused(&v, &format!("{quoted}.{}.{}", parts[1], parts[2]));
    assert_eq!(
        r.reason(),
        &Reason::Malformed {
            part: Part::Header,
            problem: "not a JSON object of the expected shape".to_owned()
        }
    );
    let long_alg = mint(
        &json!({"alg": "secret-looking-alg", "kid": "rsa-1"}),
        &claims(),
        &Signer::Unsigned,
    );
    assert_eq!(
        refused(&v, &long_alg).reason(),
        &Reason::AlgNotAllowed("(18 bytes)".to_owned())
    );
    // Signed claims that do not decode: refused after the signature.
    let t = mint_raw(
        &B64.encode(serde_json::to_vec(&rs("rsa-1")).unwrap()),
        "e30=",
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(malformed(&t), Part::Claims);
    let t = mint_raw(
        &B64.encode(serde_json::to_vec(&rs("rsa-1")).unwrap()),
        &B64.encode("[1]"),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(malformed(&t), Part::Claims);
}

#[test]
fn bad_signature() {
    let k = keys();
    let good = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&k.rsa));
    let parts: Vec<&str> = good.split('.').collect();
    let forged = B64.encode(serde_json::to_vec(&with(claims(), "sub", json!("root"))).unwrap());
    let r = refused(&validator(), &format!("{}.{forged}.{}", parts[0], parts[2]));
    assert_eq!(r.reason(), &Reason::BadSignature);
    assert_eq!(r.iss(), None, "unsigned claims are not reported");
    // Signed by another key under this kid.
    let t = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&k.rsa_next));
    assert_eq!(refused(&validator(), &t).reason(), &Reason::BadSignature);
}

#[test]
fn duplicate_claims_and_crit() {
    let k = keys();
    let header = B64.encode(serde_json::to_vec(&rs("rsa-1")).unwrap());
    let dup = format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"alice","sub":"root","exp":{},"nbf":0}}"#,
        secs() + 60
    );
    let r = refused(
        &validator(),
        &mint_raw(&header, &B64.encode(dup), &Signer::Rsa(&k.rsa)),
    );
    assert_eq!(
        r.reason(),
        &Reason::Malformed {
            part: Part::Claims,
            problem: "claim `sub` is given twice".to_owned()
        }
    );
    let dup_alg = B64.encode(r#"{"alg":"RS256","alg":"none","kid":"rsa-1"}"#);
    let r = refused(
        &validator(),
        &mint_raw(&dup_alg, &B64.encode("{}"), &Signer::Rsa(&k.rsa)),
    );
    assert!(
        matches!(
            r.reason(),
            Reason::Malformed {
                part: Part::Header,
                ..
            }
        ),
        "{r}"
    );
    let t = mint(
        &json!({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1}),
        &claims(),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(refused(&validator(), &t).reason(), &Reason::CriticalHeader);
}

#[test]
fn principal_rules() {
    let k = keys();
    let config = config()
        .rule(PrincipalRule::claim("client_id").strip_prefix("svc-"))
        .rule(PrincipalRule::claim("sub"));
    let v = Validator::new(&config, Jwks::from_json(&standard_jwks()).unwrap()).unwrap();
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "client_id", json!("svc-marathon")),
        &Signer::Rsa(&k.rsa),
    );
    let ok = v.validate(&t, now()).unwrap();
    assert_eq!(
        (ok.principal().as_str(), ok.claim(), ok.rule()),
        ("marathon", "client_id", 0)
    );
    // Without the prefix, the next rule decides.
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "client_id", json!("marathon")),
        &Signer::Rsa(&k.rsa),
    );
    let ok = v.validate(&t, now()).unwrap();
    assert_eq!(
        (ok.principal().as_str(), ok.claim(), ok.rule()),
        ("alice", "sub", 1)
    );
    // No rule produces a principal.
    let t = mint(
        &rs("rsa-1"),
        &without(claims(), "sub"),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(refused(&v, &t).reason(), &Reason::NoRuleMatched);
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "sub", json!(42)),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(refused(&v, &t).reason(), &Reason::NoRuleMatched);
    // A prefix alone leaves an empty principal: refused, not mapped.
    let t = mint(
        &rs("rsa-1"),
        &with(claims(), "client_id", json!("svc-")),
        &Signer::Rsa(&k.rsa),
    );
    assert_eq!(refused(&v, &t).reason().tag(), "invalid_principal");
}

#[test]
fn audit_event_never_holds_the_token() {
    let v = validator();
    let t = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&keys().rsa));
    let bad = mint(
        &rs("rsa-1"),
        &with(claims(), "aud", json!("x")),
        &Signer::Rsa(&keys().rsa),
    );
    let ok = ValidationEvent::new(&v.validate(&t, now()));
    let no = ValidationEvent::new(&v.validate(&bad, now()));
    assert_eq!(ok.component(), "bearer");
    let (ok, no) = (to_json_line(&ok, now()), to_json_line(&no, now()));
    assert!(
        ok.contains(r#""outcome":"accepted""#) && ok.contains(r#""principal":"alice""#),
        "{ok}"
    );
    assert!(
        ok.contains(r#""kid":"rsa-1""#) && ok.contains(r#""alg":"RS256""#),
        "{ok}"
    );
    assert!(
        no.contains(r#""reason_tag":"wrong_audience""#) && no.contains(r#""code":"invalid_token""#),
        "{no}"
    );
    for (line, token) in [(&ok, &t), (&no, &bad)] {
        for part in token.split('.') {
            assert!(!line.contains(part), "{line}");
        }
    }
}

// ---- the key set and the configuration ----

fn jwks_err(doc: &str) -> String {
    Jwks::from_json(doc.as_bytes()).unwrap_err().to_string()
}

#[test]
fn jwks_is_strict() {
    let k = keys();
    let rsa = rsa_jwk("a", &k.rsa);
    let mut private = rsa.clone();
    private["d"] = json!("AAAA");
    let doc = format!(
        "{{\"keys\": [\n  {}\n]}}",
        serde_json::to_string(&private).unwrap()
    );
    let e = jwks_err(&doc);
    assert!(
        e.starts_with("JWKS: 2:") && e.contains("$.keys[0].d: `d` is private key material"),
        "{e}"
    );
    assert!(!e.contains("AAAA"));

    let e = jwks_err(&serde_json::to_string(&json!({"keys": [rsa, rsa]})).unwrap());
    assert!(
        e.contains("$.keys[1].kid: `kid` `a` is used by two keys"),
        "{e}"
    );

    let e = jwks_err(r#"{"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}"#);
    assert!(
        e.contains("$.keys[0].k: `k` is private key material"),
        "{e}"
    );
    let e = jwks_err(r#"{"keys": [{"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}]}"#);
    assert!(
        e.contains("$.keys[0].crv: unsupported EC curve `P-521`"),
        "{e}"
    );
    let e = jwks_err(r#"{"keys": [{"kty": "XYZ"}]}"#);
    assert!(
        e.contains("1:19: $.keys[0].kty: unsupported `kty` `XYZ`"),
        "{e}"
    );
    let e = jwks_err(r#"{"keys": []}"#);
    assert!(e.contains("`keys` is empty"), "{e}");
    // Only keys for something else: nothing would ever verify.
    let e = jwks_err(r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA", "use": "enc"}]}"#);
    assert!(
        e.contains("$.keys: no key verifies signatures: all 1 have a `use` other than `sig`"),
        "{e}"
    );
    let e =
        jwks_err(r#"{"keys": [{"kty": "RSA", "n": "AA", "e": "AQAB", "key_ops": ["encrypt"]}]}"#);
    assert!(e.contains("no key verifies signatures"), "{e}");
    // Private material is refused even in a key that would be set aside.
    let e = jwks_err(
        r#"{"keys": [{"kty": "RSA", "use": "enc", "n": "AA", "e": "AQAB", "d": "AA"}, {"kty": "OKP", "crv": "Ed25519", "x": "AA"}]}"#,
    );
    assert!(
        e.contains("$.keys[0].d: `d` is private key material"),
        "{e}"
    );
    let mut wrong_alg = ed_jwk("e", &k.ed);
    wrong_alg["alg"] = json!("RS256");
    let e = jwks_err(&serde_json::to_string(&json!({"keys": [wrong_alg]})).unwrap());
    assert!(
        e.contains("`alg` `RS256` does not fit a Ed25519 key"),
        "{e}"
    );
    let nameless = json!({"keys": [without(rsa_jwk("a", &k.rsa), "kid"), ed_jwk("e", &k.ed)]});
    let e = jwks_err(&nameless.to_string());
    assert!(
        e.contains("$.keys: every key needs a `kid` when the set holds more than one"),
        "{e}"
    );
    let many: Vec<Value> = (0..65).map(|i| ed_jwk(&format!("k{i}"), &k.ed)).collect();
    let e = jwks_err(&json!({ "keys": many }).to_string());
    assert!(e.contains("65 keys, more than the limit of 64"), "{e}");
    let e = jwks_err(r#"{"keys": [{"kty": "RSA", "n": "AQAB=", "e": "AQAB"}]}"#);
    assert!(
        e.contains("$.keys[0].n: `n` is not unpadded base64url"),
        "{e}"
    );
}

#[test]
fn jwks_refuses_short_rsa() {
    let small = RsaKeyPair::from_der(&rsa_pkcs1(1024));
    // ring itself refuses to load 1024-bit keys; build the JWK from the
    // openssl text output instead when it does.
    let n = match small {
        Ok(k) => signature::RsaPublicKeyComponents::<Vec<u8>>::from(k.public()).n,
        Err(_) => {
            let mut n = vec![0xC5u8; 128];
            n[127] |= 1;
            n
        }
    };
    let doc = json!({"keys": [{"kty": "RSA", "kid": "small", "n": B64.encode(&n), "e": "AQAB"}]});
    let e = jwks_err(&doc.to_string());
    assert!(
        e.contains("the RSA modulus is 1024 bits; 2048 to 8192 are accepted"),
        "{e}"
    );
}

#[test]
fn shared_secret_set_is_separate() {
    let secret = b"0123456789abcdef0123456789abcdef";
    let doc = json!({"keys": [{"kty": "oct", "kid": "h1", "k": B64.encode(secret)}]}).to_string();
    let set = Jwks::shared_secrets_from_json(doc.as_bytes()).unwrap();
    assert!(
        format!("{set:?}").find("MDEy").is_none(),
        "Debug shows no secret"
    );
    // The default algorithms are refused with a shared-secret set.
    let err = Validator::new(&config(), set.clone()).unwrap_err();
    assert!(err.to_string().contains("listing only HS256"), "{err}");
    let v = Validator::new(&config().algorithms(&[Alg::HS256]), set).unwrap();
    let t = mint(
        &json!({"alg": "HS256", "kid": "h1"}),
        &claims(),
        &Signer::Hmac(secret),
    );
    assert_eq!(v.validate(&t, now()).unwrap().principal().as_str(), "alice");
    let t = mint(
        &json!({"alg": "HS256", "kid": "h1"}),
        &claims(),
        &Signer::Hmac(b"wrong-secret-wrong-secret-wrong!"),
    );
    assert_eq!(refused(&v, &t).reason(), &Reason::BadSignature);
    // A public key in a shared-secret document is refused.
    let e = Jwks::shared_secrets_from_json(&standard_jwks())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a shared-secret key set holds `oct` keys only"),
        "{e}"
    );
    let short = json!({"keys": [{"kty": "oct", "k": B64.encode(b"short")}]}).to_string();
    let e = Jwks::shared_secrets_from_json(short.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("the secret is 5 bytes, fewer than 32"), "{e}");
}

#[test]
fn config_from_json() {
    let c = ValidatorConfig::from_json(
        br#"{"issuers": "https://idp.test", "audiences": ["mesos-master"], "algorithms": ["ES256"],
             "leeway_secs": 5, "max_token_bytes": 2048,
             "principal_rules": [{"claim": "client_id", "strip_prefix": "svc-"}]}"#,
    )
    .unwrap();
    assert_eq!(c.allowed_algorithms(), [Alg::ES256]);
    let v = Validator::new(&c, Jwks::from_json(&standard_jwks()).unwrap()).unwrap();
    let t = mint(
        &json!({"alg": "ES256", "kid": "ec-1"}),
        &with(claims(), "client_id", json!("svc-spark")),
        &Signer::Ec(&keys().ec),
    );
    assert_eq!(v.validate(&t, now()).unwrap().principal().as_str(), "spark");
    let t = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&keys().rsa));
    assert_eq!(
        refused(&v, &t).reason(),
        &Reason::AlgNotAllowed("RS256".to_owned())
    );

    for (doc, want) in [
        (
            r#"{"issuers": ["a"], "audiences": ["b"], "leeway_secs": 3600}"#,
            "1:55: $.leeway_secs: the leeway is 3600s, more than the limit of 300s",
        ),
        (
            r#"{"issuers": ["a"], "audiences": []}"#,
            "$.audiences: `audiences` must name at least one value",
        ),
        (
            r#"{"issuers": ["a"], "audiences": ["b"], "audience": "c"}"#,
            "$.audience: unknown field `audience`",
        ),
        (
            r#"{"issuers": ["a"], "issuers": ["b"], "audiences": ["b"]}"#,
            "$.issuers: `issuers` is given twice",
        ),
        (
            r#"{"issuers": ["a"], "audiences": ["b"], "algorithms": ["HS257"]}"#,
            "unsupported algorithm `HS257`",
        ),
        (
            r#"{"issuers": ["a"], "audiences": ["b"], "principal_rules": [{"claim": 1}]}"#,
            "$.principal_rules[0].claim: expected a string, found a number",
        ),
        (
            r#"{"issuers": ["a"], "audiences": ["b"], "max_token_bytes": 0}"#,
            "the token size limit must be 1 to 65536 bytes",
        ),
        (
            r#"{"issuers": ["a"],"#,
            "configuration: 1:19: unexpected end of text",
        ),
        (
            r#"{"issuers": ["a"], "audiences": ["b"], "principal_rules": [{"claim": "iss"}]}"#,
            "a principal rule cannot read `iss`",
        ),
    ] {
        let e = ValidatorConfig::from_json(doc.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{doc}: {e}");
    }
    let e = Validator::new(
        &config().leeway(Duration::from_secs(301)),
        Jwks::from_json(&standard_jwks()).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "configuration: the leeway is 301s, more than the limit of 300s"
    );
}

#[test]
fn validator_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Validator>();
    check::<Rejection>();
}

#[cfg(feature = "cli")]
#[test]
fn cli_token_check() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    let cfg = dir.path().join("bearer.json");
    std::fs::write(&jwks, standard_jwks()).unwrap();
    std::fs::write(
        &cfg,
        format!(r#"{{"issuers": ["{ISS}"], "audiences": ["{AUD}"]}}"#),
    )
    .unwrap();
    let k = keys();
    let good = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&k.rsa));
    let expired = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(secs() - 3600)),
        &Signer::Rsa(&k.rsa),
    );
    let run = |token: &str, extra: &[&str], stdin: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mesos-auth"));
        cmd.args(["token", "check", "--jwks"])
            .arg(&jwks)
            .args(["--now", "1800000000"]);
        cmd.args(extra).arg(token);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let input = stdin.unwrap_or("").to_owned();
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || pipe.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for t in [&good, &expired] {
            for part in t.split('.') {
                assert!(!text.contains(part), "the token is printed: {text}");
            }
        }
        (out.status.code(), text)
    };
    let cfg_args = ["--config", cfg.to_str().unwrap()];
    let (code, text) = run(&good, &cfg_args, None);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("ACCEPTED as principal \"alice\" (claim `sub`, rule 0)"),
        "{text}"
    );
    let (code, text) = run(
        "-",
        &["--issuer", ISS, "--audience", AUD],
        Some(&format!("Bearer {expired}\n")),
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("REJECTED (peer is told `invalid_token`)")
            && text.contains("reason:    expired"),
        "{text}"
    );
    let (code, text) = run(&expired, &[&cfg_args[..], &["--json"]].concat(), None);
    assert_eq!(code, Some(1));
    assert!(
        text.contains(r#""component":"bearer""#) && text.contains(r#""reason_tag":"expired""#),
        "{text}"
    );
    // A configuration error is exit 2, located.
    std::fs::write(
        &cfg,
        r#"{"issuers": ["x"], "audiences": ["y"], "leeway": 1}"#,
    )
    .unwrap();
    let (code, text) = run(&good, &cfg_args, None);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("bearer.json: configuration: 1:40: $.leeway: unknown field `leeway`"),
        "{text}"
    );
    let (code, text) = run(&good, &[], None);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("give --config, or --issuer and --audience"),
        "{text}"
    );
}

/// HTTP Bearer through the JWT validator, next to Basic, as a master's
/// HTTP authenticator runs them: a valid token authenticates its `sub`, an
/// expired one gets RFC 6750's `invalid_token` (the reason only in the
/// audit event), Basic keeps working, and a rotated key set is seen by the
/// next request.
#[test]
fn http_bearer_through_the_jwt_validator() {
    use mesos_auth::audit::MemorySink;
    use mesos_auth::credentials::{self, Options};
    use mesos_auth::http::{AuthMethod, HttpAuthenticator, Outcome, Request};

    let store = credentials::parse(
        br#"{"credentials": [{"principal": "ops", "secret": "ops-secret"}]}"#,
        &Options::default(),
    )
    .unwrap()
    .into_store()
    .unwrap();
    let live = Arc::new(Reloadable::new(validator()));
    let sink = Arc::new(MemorySink::new());
    let auth = HttpAuthenticator::builder("mesos-master-readonly")
        .unwrap()
        .basic(Arc::new(Reloadable::new(store)))
        .bearer(live.clone())
        .audit(sink.clone())
        .build()
        .unwrap();
    let at = std::time::Instant::now();
    let go = |header: &str| {
        auth.authenticate(
            &Request::new("GET", "/state").authorization(header),
            at,
            now(),
        )
    };

    let good = mint(&rs("rsa-1"), &claims(), &Signer::Rsa(&keys().rsa));
    match go(&format!("Bearer {good}")) {
        Outcome::Authenticated { principal, method } => {
            assert_eq!(principal.as_str(), "alice");
            assert_eq!(method, AuthMethod::Bearer);
        }
        other => panic!("valid token refused: {other:?}"),
    }
    let expired = mint(
        &rs("rsa-1"),
        &with(claims(), "exp", json!(secs() - 3600)),
        &Signer::Rsa(&keys().rsa),
    );
    let refused = go(&format!("Bearer {expired}"));
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.challenges(),
        [
            r#"Basic realm="mesos-master-readonly""#,
            r#"Bearer realm="mesos-master-readonly", error="invalid_token""#
        ]
    );
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("ops:ops-secret")
    );
    assert_eq!(go(&basic).status(), 0);

    // The reason is local: in the audit record, never the token.
    let lines: Vec<String> = sink
        .take()
        .iter()
        .map(|e| to_json_line(e.as_event(), UNIX_EPOCH))
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains("expired"), "{}", lines[1]);
    assert!(
        lines
            .iter()
            .all(|l| !l.contains(&expired[..40]) && !l.contains(&good[..40]))
    );

    // Keys rotated away: the same valid token is now refused.
    live.replace(
        Validator::new(
            &config(),
            Jwks::from_json(&jwks_doc(&[ec_jwk("ec-9", &keys().ec)])).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(go(&format!("Bearer {good}")).status(), 401);
}

#[test]
fn claim_values_of_every_shape() {
    let v = validator();
    let signer = Signer::Rsa(&keys().rsa);
    let type_of = |claim: &str, value: Value| {
        let t = mint(&rs("rsa-1"), &with(claims(), claim, value), &signer);
        refused(&v, &t).reason().clone()
    };
    let aud_type = Reason::ClaimType {
        claim: "aud",
        expected: "a string or an array of strings",
    };
    assert_eq!(type_of("aud", json!(7)), aud_type);
    assert_eq!(type_of("aud", json!([AUD, 7])), aud_type);
    assert_eq!(type_of("aud", json!({"a": AUD})), aud_type);
    assert_eq!(
        type_of("iss", json!([ISS])),
        Reason::ClaimType {
            claim: "iss",
            expected: "a string"
        }
    );
    assert_eq!(
        type_of("nbf", json!(null)),
        Reason::ClaimType {
            claim: "nbf",
            expected: "a number"
        }
    );
    assert!(matches!(
        type_of("aud", json!([])),
        Reason::WrongAudience { .. }
    ));

    // Escaped strings (not borrowable from the claims text) compare as
    // their values; a fractional date is floored; a date past i64 saturates.
    let escaped = format!(
        r#"{{"iss": {}, "aud": ["other", {}], "sub": "al\u0069ce", "exp": 18446744073709551615, "nbf": {}.75}}"#,
        serde_json::to_string(ISS).unwrap().replace('/', "\\/"),
        serde_json::to_string(AUD).unwrap().replace('/', "\\/"),
        secs() - 60,
    );
    let t = mint_raw(
        &B64.encode(rs("rsa-1").to_string()),
        &B64.encode(escaped),
        &signer,
    );
    let ok = v.validate(&t, now()).unwrap();
    assert_eq!(ok.principal().as_str(), "alice");

    // Claims too long for the stack buffer take the heap path.
    let big = with(claims(), "padding", json!("x".repeat(4096)));
    let t = mint(&rs("rsa-1"), &big, &signer);
    assert_eq!(v.validate(&t, now()).unwrap().principal().as_str(), "alice");
}

#[test]
fn hmac_keys_prepared_at_load_for_each_length() {
    // HS256/384/512 against the key prepared when the set was read,
    // including a pinned `alg` and the tag's exact length.
    let secret = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let doc = json!({"keys": [
        {"kty": "oct", "kid": "h1", "k": B64.encode(secret)},
        {"kty": "oct", "kid": "h5", "alg": "HS512", "k": B64.encode(secret)},
    ]})
    .to_string();
    let set = Jwks::shared_secrets_from_json(doc.as_bytes()).unwrap();
    let v = Validator::new(
        &config().algorithms(&[Alg::HS256, Alg::HS384, Alg::HS512]),
        set,
    )
    .unwrap();
    let hmac = |alg: ring::hmac::Algorithm, name: &str, kid: &str| {
        let header = B64.encode(json!({"alg": name, "kid": kid}).to_string());
        let input = format!("{header}.{}", B64.encode(claims().to_string()));
        let key = ring::hmac::Key::new(alg, secret);
        let tag = ring::hmac::sign(&key, input.as_bytes());
        (input, tag.as_ref().to_vec())
    };
    for (alg, name) in [
        (ring::hmac::HMAC_SHA256, "HS256"),
        (ring::hmac::HMAC_SHA384, "HS384"),
        (ring::hmac::HMAC_SHA512, "HS512"),
    ] {
        let (input, tag) = hmac(alg, name, "h1");
        let t = format!("{input}.{}", B64.encode(&tag));
        assert_eq!(v.validate(&t, now()).unwrap().alg().as_str(), name);
        // A tag cut short, or one bit off: refused.
        let t = format!("{input}.{}", B64.encode(&tag[..tag.len() - 1]));
        assert_eq!(refused(&v, &t).reason(), &Reason::BadSignature, "{name}");
        let mut bad = tag.clone();
        bad[0] ^= 1;
        let t = format!("{input}.{}", B64.encode(&bad));
        assert_eq!(refused(&v, &t).reason(), &Reason::BadSignature, "{name}");
        // A tag that is not base64url is malformed, as for every
        // algorithm (the backend's HMAC path called it a bad signature).
        let t = format!("{input}.{}*", B64.encode(&tag));
        assert_eq!(
            refused(&v, &t).reason(),
            &Reason::Malformed {
                part: Part::Signature,
                problem: "not unpadded base64url".to_owned()
            },
            "{name}"
        );
    }
    // The key pinned to HS512 refuses HS256.
    let (input, tag) = hmac(ring::hmac::HMAC_SHA256, "HS256", "h5");
    let t = format!("{input}.{}", B64.encode(&tag));
    assert_eq!(refused(&v, &t).reason().tag(), "alg_key_mismatch");
    let (input, tag) = hmac(ring::hmac::HMAC_SHA512, "HS512", "h5");
    let t = format!("{input}.{}", B64.encode(&tag));
    assert_eq!(v.validate(&t, now()).unwrap().principal().as_str(), "alice");
}

#[test]
fn strict_reader_on_signed_tokens() {
    let k = keys();
    let signer = Signer::Rsa(&k.rsa);
    let header = B64.encode(rs("rsa-1").to_string());
    let claims_of = |json: &str| mint_raw(&header, &B64.encode(json), &signer);
    let problem = |t: &str| match refused(&validator(), t).reason().clone() {
        Reason::Malformed { part, problem } => (part, problem),
        other => panic!("{other}"),
    };
    let base = format!(
        r#""iss":"{ISS}","aud":"{AUD}","sub":"alice","exp":{},"nbf":0"#,
        secs() + 60
    );
    // Accepted: surrounding whitespace, an unread repeated claim, escapes.
    let ok = claims_of(&format!(
        " {{{base},\"jti\":1,\"jti\":2,\"x\":\"\\ud83d\\ude00\"}}\n"
    ));
    assert_eq!(
        validator()
            .validate(&ok, now())
            .unwrap()
            .principal()
            .as_str(),
        "alice"
    );
    // Refused, never quoting the input.
    for (json, want) in [
        (format!("{{{base},}}"), "not JSON"),
        (format!("{{{base}}} x"), "not JSON"),
        (format!("\u{feff}{{{base}}}"), "not JSON"),
        (format!("{{{base},\"x\":\"\\udead\"}}"), "not JSON"),
        (format!("{{{base},\"x\":01}}"), "not JSON"),
        (format!("{{{base},\"x\":1e999}}"), "not JSON"),
        (
            format!("{{{base},\"x\":{}}}", "[".repeat(40)),
            "JSON nested deeper than 32 levels",
        ),
        (
            format!("{{{base},\"nbf\":0}}"),
            "claim `nbf` is given twice",
        ),
        (format!("{{{base}"), "truncated JSON"),
    ] {
        assert_eq!(
            problem(&claims_of(&json)),
            (Part::Claims, want.to_owned()),
            "{json}"
        );
    }
    let mut bad_utf8 = format!("{{{base},\"x\":\"").into_bytes();
    bad_utf8.extend_from_slice(b"\xff\"}");
    let t = mint_raw(&header, &B64.encode(&bad_utf8), &signer);
    assert_eq!(problem(&t), (Part::Claims, "not JSON".to_owned()));
    // Any `crit`, `null` included, is refused.
    let t = mint(
        &json!({"alg": "RS256", "kid": "rsa-1", "crit": null}),
        &claims(),
        &signer,
    );
    assert_eq!(refused(&validator(), &t).reason(), &Reason::CriticalHeader);
    // An escaped `alg` is read by its value.
    let t = mint_raw(
        &B64.encode(r#"{"alg":"RS\u0032\u00356","kid":"rsa-1"}"#),
        &B64.encode(claims().to_string()),
        &signer,
    );
    assert_eq!(validator().validate(&t, now()).unwrap().alg(), Alg::RS256);
}

#[test]
fn kid_lookup_in_small_and_large_sets() {
    // Up to 8 keys the kids are compared one by one, beyond that a map is
    // used: both find the right key and refuse an unknown kid alike.
    for size in [1usize, 8, 9, 40] {
        let keys: Vec<Value> = (0..size)
            .map(|i| {
                json!({"kty": "oct", "kid": format!("h{i}"),
                       "k": B64.encode(format!("secret-{i:02}-0123456789abcdef0123456789"))})
            })
            .collect();
        let set = Jwks::shared_secrets_from_json(&jwks_doc(&keys)).unwrap();
        let v = Validator::new(&config().algorithms(&[Alg::HS256]), set).unwrap();
        let last = size - 1;
        let secret = format!("secret-{last:02}-0123456789abcdef0123456789");
        let t = mint(
            &json!({"alg": "HS256", "kid": format!("h{last}")}),
            &claims(),
            &Signer::Hmac(secret.as_bytes()),
        );
        assert_eq!(
            v.validate(&t, now()).unwrap().kid(),
            Some(format!("h{last}").as_str())
        );
        // The right secret under another key's kid: a bad signature.
        if size > 1 {
            let t = mint(
                &json!({"alg": "HS256", "kid": "h0"}),
                &claims(),
                &Signer::Hmac(secret.as_bytes()),
            );
            assert_eq!(refused(&v, &t).reason(), &Reason::BadSignature, "{size}");
        }
        let t = mint(
            &json!({"alg": "HS256", "kid": "nope"}),
            &claims(),
            &Signer::Hmac(secret.as_bytes()),
        );
        assert_eq!(refused(&v, &t).reason(), &Reason::UnknownKid, "{size}");
    }
}
