//! `mesos_auth::bearer` against the provider's real tokens and key sets:
//! acceptance and principal mapping, audience, issuer, expiry, key
//! rotation, and each signing algorithm the provider uses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use mesos_auth::bearer::{
    Alg, DEFAULT_LEEWAY, ErrorCode, Jwks, PrincipalRule, Reason, Validator, ValidatorConfig,
};

use super::provider::{
    self, CLIENT_ID, MASTER, MASTER_ED, MASTER_ES, MASTER_HS, OTHER, Options, Provider, claims,
    header, merge, validator,
};

fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

fn refused(v: &Validator, token: &str, now: SystemTime) -> Reason {
    let r = v.validate(token, now).expect_err("the token is refused");
    assert_eq!(r.code(), ErrorCode::InvalidToken, "{r}");
    r.reason().clone()
}

#[test]
fn client_credentials_token_is_accepted_and_mapped() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options::default());
    let d = p.discover();
    let jwks_bytes = p.jwks();
    let jwks = Jwks::from_json(&jwks_bytes).unwrap();
    // The provider publishes its RSA, P-256 and Ed25519 keys, each by kid.
    assert_eq!(jwks.len(), 3);
    assert!(jwks.kids().all(|k| k.is_some()));

    let token = p.token(MASTER);
    let h = header(&token);
    assert_eq!(
        (h["alg"].as_str(), h["typ"].as_str()),
        (Some("RS256"), Some("at+jwt"))
    );
    let c = claims(&token);
    assert_eq!(c["client_id"], CLIENT_ID);
    assert_eq!(c["aud"], MASTER);

    let v = validator(&d.issuer, &jwks_bytes, MASTER);
    let ok = v.validate(&token, SystemTime::now()).unwrap();
    assert_eq!(ok.principal().as_str(), CLIENT_ID);
    assert_eq!(ok.claim(), "client_id");
    assert_eq!(ok.alg(), Alg::RS256);
    assert_eq!(ok.kid(), h["kid"].as_str());
    assert_eq!(ok.iss(), d.issuer);
    assert_eq!(ok.exp(), c["exp"].as_i64().unwrap());

    // The same token through a rule on `sub` (the client, for this grant),
    // and through a prefix rule as a service-account mapping would use.
    for (rule, principal) in [
        (PrincipalRule::claim("sub"), CLIENT_ID),
        (
            PrincipalRule::claim("client_id").strip_prefix("mesos-"),
            "scheduler",
        ),
    ] {
        let config = ValidatorConfig::new()
            .issuer(&d.issuer)
            .audience(MASTER)
            .rule(rule);
        let v = Validator::new(&config, Jwks::from_json(&jwks_bytes).unwrap()).unwrap();
        let ok = v.validate(&token, SystemTime::now()).unwrap();
        assert_eq!(ok.principal().as_str(), principal);
    }

    // The provider really authenticates the client: a wrong secret gets
    // no token.
    let r = p.token_request(MASTER, "not-the-secret");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
}

#[test]
fn es256_and_eddsa_tokens_are_accepted() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options::default());
    let issuer = p.discover().issuer;
    let jwks = p.jwks();
    for (resource, alg) in [(MASTER_ES, Alg::ES256), (MASTER_ED, Alg::EdDSA)] {
        let token = p.token(resource);
        assert_eq!(header(&token)["alg"], alg.to_string());
        let ok = validator(&issuer, &jwks, resource)
            .validate(&token, SystemTime::now())
            .unwrap_or_else(|r| panic!("{alg}: {r}"));
        assert_eq!((ok.alg(), ok.principal().as_str()), (alg, CLIENT_ID));

        // A master that allows RS256 only refuses it.
        let config = ValidatorConfig::new()
            .issuer(&issuer)
            .audience(resource)
            .algorithms(&[Alg::RS256])
            .rule(PrincipalRule::claim("client_id"));
        let rs_only = Validator::new(&config, Jwks::from_json(&jwks).unwrap()).unwrap();
        assert_eq!(
            refused(&rs_only, &token, SystemTime::now()),
            Reason::AlgNotAllowed(alg.to_string())
        );
    }
}

#[test]
fn token_for_another_resource_is_wrong_audience() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options::default());
    let v = validator(&p.discover().issuer, &p.jwks(), MASTER);
    let token = p.token(OTHER);
    assert_eq!(claims(&token)["aud"], OTHER);
    assert_eq!(
        refused(&v, &token, SystemTime::now()),
        Reason::WrongAudience {
            expected: vec![MASTER.to_owned()]
        }
    );
    // The provider itself refuses a resource it does not know.
    let r = p.token_request("urn:unknown:service", &p.secret);
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_target"))
    );
}

#[test]
fn token_from_another_issuer_is_wrong_issuer() {
    if !provider::available() {
        return;
    }
    let a = Provider::start(&Options::default());
    let b = Provider::start(&Options::default());
    let (ia, ib) = (a.discover().issuer, b.discover().issuer);
    assert_ne!(ia, ib);
    let (ka, kb) = (a.jwks(), b.jwks());
    // A master holding both providers' keys but trusting only `a`: `b`'s
    // token verifies, and is refused for its issuer.
    let v = validator(&ia, &merge(&[&ka, &kb]), MASTER);
    let token = b.token(MASTER);
    let r = v.validate(&token, SystemTime::now()).unwrap_err();
    assert_eq!(
        r.reason(),
        &Reason::WrongIssuer {
            expected: vec![ia.clone()]
        }
    );
    assert_eq!(r.iss(), Some(ib.as_str()));
    assert!(v.validate(&a.token(MASTER), SystemTime::now()).is_ok());
    // Holding `a`'s keys only, `b`'s key is unknown.
    let v = validator(&ia, &ka, MASTER);
    assert_eq!(refused(&v, &token, SystemTime::now()), Reason::UnknownKid);
}

#[test]
fn short_lived_token_expires() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options {
        ttl: 2,
        ..Options::default()
    });
    let v = validator(&p.discover().issuer, &p.jwks(), MASTER);
    let token = p.token(MASTER);
    let c = claims(&token);
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    // The provider's TTL (it reads the clock twice: `iat` may be a second
    // later than the start of the lifetime).
    assert!((1..=2).contains(&(exp - iat)), "iat {iat}, exp {exp}");
    assert!(v.validate(&token, at(iat)).is_ok());
    // Past `exp` but within the leeway: still accepted (clock skew) ...
    let leeway = i64::try_from(DEFAULT_LEEWAY.as_secs()).unwrap();
    assert!(v.validate(&token, at(exp + leeway - 1)).is_ok());
    // ... and refused beyond it, no sleeping needed.
    let now = exp + leeway + 1;
    assert_eq!(refused(&v, &token, at(now)), Reason::Expired { exp, now });
}

#[test]
fn key_rotation_old_token_unknown_new_token_accepted() {
    if !provider::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = |n: u8| dir.path().join(format!("keys-{n}.json"));
    let first = Provider::start(&Options {
        keys_out: Some(keys(1)),
        ..Options::default()
    });
    let (port, issuer) = (first.port, first.discover().issuer);
    let v1 = validator(&issuer, &first.jwks(), MASTER);
    let old = first.token(MASTER);
    assert!(v1.validate(&old, SystemTime::now()).is_ok());
    drop(first);

    // Restarted on the same address (same issuer) with fresh keys only:
    // the key set is swapped in as a host would after refetching it.
    let second = Provider::start(&Options {
        port,
        keys_out: Some(keys(2)),
        ..Options::default()
    });
    assert_eq!(second.discover().issuer, issuer);
    let v2 = v1
        .with_jwks(Jwks::from_json(&second.jwks()).unwrap())
        .unwrap();
    let new = second.token(MASTER);
    assert_ne!(header(&new)["kid"], header(&old)["kid"]);
    assert_eq!(refused(&v2, &old, SystemTime::now()), Reason::UnknownKid);
    assert_eq!(
        v2.validate(&new, SystemTime::now())
            .unwrap()
            .principal()
            .as_str(),
        CLIENT_ID
    );
    // The old validator does not know the new key either.
    assert_eq!(refused(&v1, &new, SystemTime::now()), Reason::UnknownKid);
    drop(second);

    // Rotation with overlap: the previous keys stay published (they no
    // longer sign), so tokens issued before the rotation keep working.
    let third = Provider::start(&Options {
        port,
        old_keys: Some(keys(2)),
        ..Options::default()
    });
    let jwks3 = Jwks::from_json(&third.jwks()).unwrap();
    assert_eq!(jwks3.len(), 6);
    let v3 = v2.with_jwks(jwks3).unwrap();
    let newest = third.token(MASTER);
    assert_ne!(header(&newest)["kid"], header(&new)["kid"]);
    assert!(v3.validate(&new, SystemTime::now()).is_ok());
    assert!(v3.validate(&newest, SystemTime::now()).is_ok());
    assert_eq!(refused(&v3, &old, SystemTime::now()), Reason::UnknownKid);
}

/// The provider's tokens as it issues them by default carry no `nbf`
/// (RFC 9068 §2.2 does not list it; `iat` is there). The validator's
/// default requires one (`claim_missing`); `require_nbf(false)` accepts
/// them, for such providers.
#[test]
fn tokens_without_nbf_need_nbf_made_optional() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options {
        no_nbf: true,
        ..Options::default()
    });
    let issuer = p.discover().issuer;
    let token = p.token(MASTER);
    assert!(claims(&token).get("nbf").is_none());
    let strict = validator(&issuer, &p.jwks(), MASTER);
    assert_eq!(
        refused(&strict, &token, SystemTime::now()),
        Reason::ClaimMissing("nbf")
    );
    let config = ValidatorConfig::new()
        .issuer(&issuer)
        .audience(MASTER)
        .require_nbf(false)
        .rule(PrincipalRule::claim("client_id"));
    let lenient = Validator::new(&config, Jwks::from_json(&p.jwks()).unwrap()).unwrap();
    let ok = lenient
        .validate(&token, SystemTime::now())
        .unwrap_or_else(|r| panic!("refused: {r}"));
    assert_eq!(ok.principal().as_str(), CLIENT_ID);
    // `exp` still holds without `nbf`.
    let exp = claims(&token)["exp"].as_u64().unwrap();
    let late = UNIX_EPOCH + Duration::from_secs(exp + 3600);
    assert!(matches!(
        refused(&lenient, &token, late),
        Reason::Expired { .. }
    ));
}

#[test]
fn hs256_token_checks_against_the_shared_secret_set() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options::default());
    let issuer = p.discover().issuer;
    let token = p.token(MASTER_HS);
    assert_eq!(header(&token)["alg"], "HS256");
    // The provider's HMAC key is the secret's bytes; a host holds it as a
    // one-key `oct` set, and allows HS256 explicitly.
    let k = URL_SAFE_NO_PAD.encode(p.hs256_secret.as_bytes());
    let set = format!(r#"{{"keys": [{{"kty": "oct", "k": "{k}"}}]}}"#);
    let config = ValidatorConfig::new()
        .issuer(&issuer)
        .audience(MASTER_HS)
        .algorithms(&[Alg::HS256])
        .rule(PrincipalRule::claim("client_id"));
    let v = Validator::new(
        &config,
        Jwks::shared_secrets_from_json(set.as_bytes()).unwrap(),
    )
    .unwrap();
    let ok = v.validate(&token, SystemTime::now()).unwrap();
    assert_eq!((ok.alg(), ok.principal().as_str()), (Alg::HS256, CLIENT_ID));
    // The published key set cannot check it: the default algorithms leave
    // HMAC out, whatever key the header would pick.
    let public = validator(&issuer, &p.jwks(), MASTER_HS);
    assert_eq!(
        refused(&public, &token, SystemTime::now()),
        Reason::AlgNotAllowed("HS256".to_owned())
    );
    // A different secret: the signature does not verify.
    let wrong = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let set = format!(r#"{{"keys": [{{"kty": "oct", "k": "{wrong}"}}]}}"#);
    let v = v
        .with_jwks(Jwks::shared_secrets_from_json(set.as_bytes()).unwrap())
        .unwrap();
    assert_eq!(refused(&v, &token, SystemTime::now()), Reason::BadSignature);
}

/// A provider with its encryption features on publishes an encryption key
/// (`use: enc`) next to its signing keys, as many do (RFC 7517 §4.2 lets a
/// set mix them). `Jwks::from_json` sets that key aside and verifies with
/// the rest (it refused the whole set before, so no token of such a
/// provider could be checked).
#[test]
fn key_set_with_an_encryption_key_is_usable() {
    if !provider::available() {
        return;
    }
    let p = Provider::start(&Options {
        encryption: true,
        ..Options::default()
    });
    let jwks = p.jwks();
    let doc: serde_json::Value = serde_json::from_slice(&jwks).unwrap();
    assert!(
        doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["use"] == "enc")
    );
    let set = Jwks::from_json(&jwks).unwrap_or_else(|e| panic!("refused: {e}"));
    let config = ValidatorConfig::new()
        .issuer(&p.discover().issuer)
        .audience(MASTER)
        .rule(PrincipalRule::claim("client_id"));
    let v = Validator::new(&config, set).unwrap();
    assert!(v.validate(&p.token(MASTER), SystemTime::now()).is_ok());
}
