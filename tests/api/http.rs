//! HTTP authentication: Mesos's wire behaviour, the deliberate differences,
//! the throttle, rate limits, the combined schemes and the audit event.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mesos_auth::audit::MemorySink;
use mesos_auth::credentials::{
    self, Credential, CredentialStore, CredentialsHandle, Options, StoredSecret,
};
use mesos_auth::http::{
    AuthMethod, ErrorCode, HttpAuthenticator, HttpError, Outcome, Request, RequestEvent,
    TokenRejection, TokenValidator, ValidToken,
};
use mesos_auth::ratelimit::{RateLimiter, RateLimits};
use mesos_auth::sasl::{Throttle, ThrottleConfig};
use mesos_auth::{AuditEvent, Principal, Reloadable, Secret};

const REALM: &str = "mesos-master-readwrite";
const BASIC_CHALLENGE: &str = "Basic realm=\"mesos-master-readwrite\"";
const BEARER_CHALLENGE: &str = "Bearer realm=\"mesos-master-readwrite\"";

fn store(pairs: &[(&str, &str)]) -> CredentialStore {
    let creds: Vec<String> = pairs
        .iter()
        .map(|(p, s)| serde_json::json!({"principal": p, "secret": s}).to_string())
        .collect();
    let text = format!("{{\"credentials\": [{}]}}", creds.join(","));
    credentials::parse(text.as_bytes(), &Options::default())
        .unwrap()
        .into_store()
        .unwrap()
}

fn basic(user_pass: &str) -> String {
    format!("Basic {}", STANDARD.encode(user_pass))
}

fn now() -> (Instant, SystemTime) {
    (Instant::now(), SystemTime::now())
}

fn run(auth: &HttpAuthenticator, req: &Request<'_>) -> Outcome {
    let (i, w) = now();
    auth.authenticate(req, i, w)
}

fn with_header(auth: &HttpAuthenticator, value: &str) -> Outcome {
    run(
        auth,
        &Request::new("GET", "/master/state").authorization(value),
    )
}

fn basic_auth(pairs: &[(&str, &str)]) -> HttpAuthenticator {
    HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(pairs))))
        .build()
        .unwrap()
}

fn authenticated(o: &Outcome) -> Option<(&str, AuthMethod)> {
    match o {
        Outcome::Authenticated { principal, method } => Some((principal.as_str(), *method)),
        _ => None,
    }
}

fn events(sink: &MemorySink) -> Vec<RequestEvent> {
    sink.take()
        .iter()
        .map(|e: &AuditEvent| e.downcast_ref::<RequestEvent>().unwrap().clone())
        .collect()
}

/// A validator that knows a fixed set of tokens and counts its calls.
#[derive(Default)]
struct Tokens {
    known: HashMap<&'static str, Result<&'static str, ErrorCode>>,
    calls: AtomicUsize,
}

impl TokenValidator for Tokens {
    fn validate(&self, token: &str, _now: SystemTime) -> Result<ValidToken, TokenRejection> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match self.known.get(token) {
            Some(Ok(p)) => Ok(ValidToken::new(Principal::new(p).unwrap())),
            Some(Err(code)) => Err(TokenRejection::new(*code, "test: refused as configured")),
            None => Err(TokenRejection::new(
                ErrorCode::InvalidToken,
                "test: unknown token",
            )),
        }
    }
}

fn tokens() -> Arc<Tokens> {
    let mut known = HashMap::new();
    known.insert("good.token.1", Ok("svc"));
    known.insert("narrow.token", Err(ErrorCode::InsufficientScope));
    Arc::new(Tokens {
        known,
        calls: AtomicUsize::new(0),
    })
}

#[test]
fn mesos_wire_behaviour_every_failure_is_the_bare_basic_challenge() {
    let auth = basic_auth(&[("ops", "s3cret-pass")]);
    let ok = with_header(&auth, &basic("ops:s3cret-pass"));
    assert_eq!(authenticated(&ok), Some(("ops", AuthMethod::Basic)));
    assert_eq!(ok.status(), 0);
    for o in [
        run(&auth, &Request::new("GET", "/master/state")),
        with_header(&auth, &basic("ops:wrong")),
        with_header(&auth, &basic("nobody:s3cret-pass")),
        with_header(&auth, &basic("ops:")),
        with_header(&auth, "Digest username=\"ops\""),
        with_header(&auth, "Basic"),
    ] {
        assert_eq!(
            o,
            Outcome::Unauthorized {
                challenges: vec![BASIC_CHALLENGE.to_owned()]
            }
        );
        assert_eq!(o.status(), 401);
    }
    // Every realm Mesos uses is accepted as is.
    for realm in [
        "mesos-master-readonly",
        "mesos-master-readwrite",
        "mesos-master-scheduler",
        "mesos-agent-readonly",
        "mesos-agent-readwrite",
    ] {
        let a = HttpAuthenticator::builder(realm)
            .unwrap()
            .basic(Arc::new(Reloadable::new(store(&[("a", "bbbbbbbb")]))))
            .build()
            .unwrap();
        assert_eq!(
            run(&a, &Request::new("GET", "/")).challenges(),
            [format!("Basic realm=\"{realm}\"")]
        );
    }
}

#[test]
fn password_with_colon_is_accepted_split_at_the_first_colon() {
    // Mesos splits on every ':' and wants two parts, so this user could
    // never log in over Basic there.
    let auth = basic_auth(&[("ops", "pa:ss:word")]);
    let o = with_header(&auth, &basic("ops:pa:ss:word"));
    assert_eq!(authenticated(&o), Some(("ops", AuthMethod::Basic)));
    // The first colon ends the user-id: "ops:pa" is not a user-id.
    assert_eq!(with_header(&auth, &basic("ops:pa")).status(), 401);
    assert_eq!(with_header(&auth, &basic("ops:pa:ss")).status(), 401);
}

#[test]
fn scheme_is_case_insensitive_and_strictly_formed() {
    let auth = basic_auth(&[("ops", "s3cret-pass1")]);
    let token = STANDARD.encode("ops:s3cret-pass1");
    for good in [
        format!("Basic {token}"),
        format!("basic {token}"),
        format!("BASIC {token}"),
        format!("Basic   {token}"),
    ] {
        assert_eq!(with_header(&auth, &good).status(), 0, "{good}");
    }
    let unpadded = token.trim_end_matches('=');
    assert_ne!(unpadded, token, "the test token must need padding");
    for bad in [
        format!("Basic {unpadded}"),
        format!("Basic {token} "),
        format!("Basic {token} extra"),
        format!("Basic\t{token}"),
        format!("Basic {} {}", &token[..4], &token[4..]),
        format!("Basic {}", token.replace('=', "%3D")),
        format!(" Basic {token}"),
        format!("Basic {}", STANDARD.encode(b"ops\xff:s3cret-pass1")),
        format!("Basic {}", STANDARD.encode("ops-s3cret-pass")),
        format!("Basic {}", STANDARD.encode(":s3cret-pass")),
        format!(
            "Basic {token}{}",
            "A".repeat(mesos_auth::http::MAX_AUTHORIZATION_LEN)
        ),
    ] {
        assert_eq!(
            with_header(&auth, &bad).challenges(),
            [BASIC_CHALLENGE],
            "{bad:.60}"
        );
    }
}

#[test]
fn bad_input_reasons_go_to_the_audit_log_only() {
    let sink = Arc::new(MemorySink::new());
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(&[("ops", "s3cret-pass")]))))
        .audit(sink.clone())
        .build()
        .unwrap();
    let cases = [
        ("Basic b3BzOg", "not canonical base64"),
        ("Basic b3BzOnMzY3JldA", "not canonical base64"),
        (&*basic(":pw"), "user-id is empty"),
        (&*basic("nocolon"), "no `:`"),
        ("Basic", "no credentials after the scheme"),
        ("Basic a b", "not one token68"),
    ];
    for (header, _) in &cases {
        assert_eq!(with_header(&auth, header).status(), 401);
    }
    let evs = events(&sink);
    assert_eq!(evs.len(), cases.len());
    for (ev, (header, want)) in evs.iter().zip(cases) {
        let reason = ev.reason.as_deref().unwrap();
        assert!(reason.contains(want), "{header}: {reason}");
        assert_eq!((ev.outcome, ev.status), ("unauthorized", 401));
    }
}

#[test]
fn more_than_one_authorization_header_is_refused() {
    let auth = basic_auth(&[("ops", "s3cret-pass")]);
    let good = basic("ops:s3cret-pass");
    let req = Request::new("GET", "/")
        .authorization(&good)
        .authorization(&good);
    assert_eq!(run(&auth, &req).challenges(), [BASIC_CHALLENGE]);
    let req = Request::new("GET", "/").authorization_headers(Some(&good), 2);
    assert_eq!(run(&auth, &req).status(), 401);
    let req = Request::new("GET", "/").authorization_headers(Some(&good), 1);
    assert_eq!(run(&auth, &req).status(), 0);
    // A Bearer-only authenticator answers invalid_request (RFC 6750 §3.1).
    let bearer = HttpAuthenticator::builder(REALM)
        .unwrap()
        .bearer(tokens())
        .build()
        .unwrap();
    let req = Request::new("GET", "/")
        .authorization("Bearer good.token.1")
        .authorization("Bearer good.token.1");
    let o = run(&bearer, &req);
    assert_eq!(o.status(), 400);
    assert_eq!(
        o.challenges(),
        [format!("{BEARER_CHALLENGE}, error=\"invalid_request\"")]
    );
}

/// Median time of `n` runs of `f`.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..n)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[n / 2]
}

#[test]
fn unknown_user_costs_what_a_wrong_password_costs() {
    // With PBKDF2-stored secrets a real check costs milliseconds; a skipped
    // one would cost microseconds, so a coarse ratio is a reliable test.
    let secret = StoredSecret::scram_sha256_from(&Secret::new(b"s3cret-pass"), 4096).unwrap();
    let store = CredentialStore::from_credentials([Credential::new(
        Principal::new("ops").unwrap(),
        secret,
    )])
    .unwrap();
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store)))
        .build()
        .unwrap();
    assert_eq!(with_header(&auth, &basic("ops:s3cret-pass")).status(), 0);
    let wrong = basic("ops:wrong-pass");
    let unknown = basic("someone-else:wrong-pass");
    let malformed = "Basic !!!!";
    let t_wrong = median(7, || assert_eq!(with_header(&auth, &wrong).status(), 401));
    let t_unknown = median(7, || assert_eq!(with_header(&auth, &unknown).status(), 401));
    let t_malformed = median(7, || {
        assert_eq!(with_header(&auth, malformed).status(), 401)
    });
    assert!(
        t_unknown * 3 > t_wrong && t_wrong * 3 > t_unknown,
        "unknown {t_unknown:?} vs wrong {t_wrong:?}"
    );
    // The ratio test has teeth: work that is skipped shows.
    assert!(t_malformed * 20 < t_wrong, "{t_malformed:?} vs {t_wrong:?}");
}

#[test]
fn failures_are_throttled_per_principal_and_per_peer() {
    let throttle = Arc::new(Mutex::new(Throttle::new(
        ThrottleConfig::new()
            .free_failures(1)
            .base(Duration::from_millis(1500))
            .max(Duration::from_secs(10)),
    )));
    let sink = Arc::new(MemorySink::new());
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(&[
            ("ops", "s3cret-pass"),
            ("dev", "other-pass"),
        ]))))
        .throttle(throttle.clone())
        .audit(sink.clone())
        .build()
        .unwrap();
    let t0 = Instant::now();
    let w = SystemTime::now();
    let wrong = basic("ops:wrong");
    let right = basic("ops:s3cret-pass");
    let at = |h: &str, peer: &str, t: Instant| {
        auth.authenticate(&Request::new("GET", "/").authorization(h).peer(peer), t, w)
    };
    assert_eq!(at(&wrong, "10.0.0.1", t0).status(), 401);
    assert_eq!(at(&wrong, "10.0.0.1", t0).status(), 401);
    // Held back: 429 even with the right password, which is not checked.
    let o = at(&right, "10.0.0.2", t0);
    assert_eq!(o.status(), 429);
    assert_eq!(o.retry_after_secs(), Some(2));
    assert_eq!(o.principal(), None);
    // The peer is held back too, for any principal.
    assert_eq!(at(&basic("dev:other-pass"), "10.0.0.1", t0).status(), 429);
    // Another principal from another peer is not.
    assert_eq!(at(&basic("dev:other-pass"), "10.0.0.3", t0).status(), 0);
    let evs = events(&sink);
    let held = &evs[2];
    assert_eq!((held.outcome, held.status), ("throttled", 429));
    assert_eq!(held.credentials_generation, None, "no password check");
    assert_eq!(held.retry_after_ms, Some(1500));
    // After the delay the right password works, and clears the principal.
    let later = t0 + Duration::from_secs(2);
    assert_eq!(
        authenticated(&at(&right, "10.0.0.2", later)),
        Some(("ops", AuthMethod::Basic))
    );
    assert_eq!(at(&wrong, "10.0.0.2", later).status(), 401);
    assert_eq!(at(&right, "10.0.0.2", later).status(), 0);
    // A request without credentials is a challenge, never a failure.
    for _ in 0..5 {
        let o = auth.authenticate(&Request::new("GET", "/").peer("10.0.0.9"), later, w);
        assert_eq!(o.status(), 401);
    }
    assert_eq!(at(&basic("dev:other-pass"), "10.0.0.9", later).status(), 0);
}

#[test]
fn credential_reloads_are_seen_by_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds.json");
    let write = |secret: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(
            &path,
            format!(r#"{{"credentials": [{{"principal": "ops", "secret": "{secret}"}}]}}"#),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    write("first-password");
    let handle = Arc::new(CredentialsHandle::open(&path, Options::default()).unwrap());
    let sink = Arc::new(MemorySink::new());
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(handle.clone())
        .audit(sink.clone())
        .build()
        .unwrap();
    assert_eq!(with_header(&auth, &basic("ops:first-password")).status(), 0);
    write("second-password");
    handle.reload().unwrap();
    assert_eq!(
        with_header(&auth, &basic("ops:first-password")).status(),
        401
    );
    assert_eq!(
        with_header(&auth, &basic("ops:second-password")).status(),
        0
    );
    let gens: Vec<_> = events(&sink)
        .iter()
        .map(|e| e.credentials_generation)
        .collect();
    assert_eq!(gens, [Some(0), Some(1), Some(1)]);
}

#[test]
fn rate_limit_gives_429_with_retry_after_after_authentication() {
    let limits = RateLimits::from_json(
        r#"{"limits": [{"principal": "ops", "qps": 0.5, "capacity": 1},
                       {"principal": "dev"}]}"#,
    )
    .unwrap();
    let limiter = Arc::new(RateLimiter::new(&limits));
    let sink = Arc::new(MemorySink::new());
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(&[
            ("ops", "s3cret-pass"),
            ("dev", "other-pass"),
        ]))))
        .rate_limiter(limiter.clone())
        .audit(sink.clone())
        .build()
        .unwrap();
    let t = Instant::now();
    let w = SystemTime::now();
    let ops = basic("ops:s3cret-pass");
    let go = |h: &str| auth.authenticate(&Request::new("GET", "/").authorization(h), t, w);
    assert_eq!(go(&ops).status(), 0); // allowed
    assert_eq!(go(&ops).status(), 0); // 2 s ahead, within the capacity: served now
    let o = go(&ops);
    assert_eq!(o.status(), 429);
    assert_eq!(o.principal().map(Principal::as_str), Some("ops"));
    assert_eq!(o.retry_after_secs(), Some(2));
    // A wrong password is a 401, never a 429 from the limiter.
    assert_eq!(go(&basic("ops:nope")).status(), 401);
    assert_eq!(go(&basic("dev:other-pass")).status(), 0);
    let evs = events(&sink);
    let summary: Vec<_> = evs
        .iter()
        .map(|e| (e.outcome, e.rate_limit, e.retry_after_ms, e.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("authenticated", "allowed", None, 0),
            ("authenticated", "allowed", None, 0),
            ("rate_limited", "limited", Some(2000), 429),
            ("unauthorized", "unlimited", None, 401),
            ("authenticated", "unlimited", None, 0),
        ]
    );
    // Reloads of the limiter are seen.
    limiter.reload(&RateLimits::from_json(r#"{"limits": [{"principal": "ops"}]}"#).unwrap());
    assert_eq!(go(&ops).status(), 0);
}

/// Without a capacity Mesos queues without bound; an HTTP request cannot
/// wait, so a principal gets one second's worth of its rate as a burst,
/// then 429, and over time exactly its rate.
#[test]
fn a_limit_without_capacity_still_limits_http() {
    let limits = RateLimits::from_json(r#"{"limits": [{"principal": "ops", "qps": 2}]}"#).unwrap();
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(&[("ops", "s3cret-pass")]))))
        .rate_limiter(Arc::new(RateLimiter::new(&limits)))
        .build()
        .unwrap();
    let (t, w) = now();
    let h = basic("ops:s3cret-pass");
    let req = Request::new("GET", "/").authorization(&h);
    // At one instant: now, +0.5 s and +1 s ahead are within the burst.
    let burst: Vec<u16> = (0..5)
        .map(|_| auth.authenticate(&req, t, w).status())
        .collect();
    assert_eq!(burst, [0, 0, 0, 429, 429]);
    // Ten seconds of a client pushing every 10 ms: 2 a second get through.
    let admitted = (1..=1000)
        .filter(|i| {
            let at = t + Duration::from_millis(10 * i);
            auth.authenticate(&req, at, w).status() == 0
        })
        .count();
    assert!(
        (19..=21).contains(&admitted),
        "{admitted} admitted in 10 s at qps 2"
    );
}

#[test]
fn retry_after_is_whole_seconds_rounded_up_at_least_one() {
    let limits =
        RateLimits::from_json(r#"{"limits": [{"principal": "ops", "qps": 4, "capacity": 1}]}"#)
            .unwrap();
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(&[("ops", "s3cret-pass")]))))
        .rate_limiter(Arc::new(RateLimiter::new(&limits)))
        .build()
        .unwrap();
    let (t, w) = now();
    let h = basic("ops:s3cret-pass");
    let req = Request::new("GET", "/").authorization(&h);
    assert_eq!(auth.authenticate(&req, t, w).status(), 0);
    assert_eq!(auth.authenticate(&req, t, w).status(), 0);
    let o = auth.authenticate(&req, t, w);
    // 250 ms to wait: the header says 1, never 0.
    assert!(
        matches!(o, Outcome::TooManyRequests { retry_after, .. } if retry_after <= Duration::from_millis(250))
    );
    assert_eq!(o.retry_after_secs(), Some(1));
}

#[test]
fn combined_schemes_in_order_with_merged_challenges() {
    let validator = tokens();
    let sink = Arc::new(MemorySink::new());
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(&[("ops", "s3cret-pass")]))))
        .bearer(validator.clone())
        .audit(sink.clone())
        .build()
        .unwrap();
    let plain = [BASIC_CHALLENGE.to_owned(), BEARER_CHALLENGE.to_owned()];
    assert_eq!(run(&auth, &Request::new("GET", "/")).challenges(), plain);
    // Basic credentials never reach the token validator.
    assert_eq!(with_header(&auth, &basic("ops:wrong")).challenges(), plain);
    assert_eq!(
        authenticated(&with_header(&auth, &basic("ops:s3cret-pass"))),
        Some(("ops", AuthMethod::Basic))
    );
    assert_eq!(validator.calls.load(Ordering::Relaxed), 0);
    // A token never reaches the credential store.
    let o = with_header(&auth, "Bearer good.token.1");
    assert_eq!(authenticated(&o), Some(("svc", AuthMethod::Bearer)));
    let o = with_header(&auth, "Bearer forged.token");
    assert_eq!(o.status(), 401);
    assert_eq!(
        o.challenges(),
        [
            BASIC_CHALLENGE.to_owned(),
            format!("{BEARER_CHALLENGE}, error=\"invalid_token\"")
        ]
    );
    // 401 wins over the bearer's 403, as in Mesos's combined authenticator.
    let o = with_header(&auth, "bearer narrow.token");
    assert_eq!(o.status(), 401);
    assert_eq!(validator.calls.load(Ordering::Relaxed), 3);
    let gens: Vec<_> = events(&sink)
        .iter()
        .map(|e| e.credentials_generation)
        .collect();
    assert_eq!(gens, [None, Some(0), Some(0), None, None, None]);

    // The other order: Bearer first, and its challenge first.
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .bearer(tokens())
        .basic(Arc::new(Reloadable::new(store(&[("ops", "s3cret-pass")]))))
        .build()
        .unwrap();
    assert_eq!(
        run(&auth, &Request::new("GET", "/")).challenges(),
        [BEARER_CHALLENGE, BASIC_CHALLENGE]
    );
}

#[test]
fn bearer_alone_follows_rfc_6750() {
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .bearer(tokens())
        .build()
        .unwrap();
    let o = run(&auth, &Request::new("GET", "/"));
    assert_eq!(
        (o.status(), o.challenges()),
        (401, &[BEARER_CHALLENGE.to_owned()][..])
    );
    let err = |e: &str| vec![format!("{BEARER_CHALLENGE}, error=\"{e}\"")];
    let o = with_header(&auth, "Bearer unknown");
    assert_eq!(
        o,
        Outcome::Unauthorized {
            challenges: err("invalid_token")
        }
    );
    let o = with_header(&auth, "Bearer narrow.token");
    assert_eq!(
        o,
        Outcome::Forbidden {
            challenges: err("insufficient_scope")
        }
    );
    assert_eq!(o.status(), 403);
    for malformed in ["Bearer", "Bearer a b", "Bearer a=b", "Bearer tok\u{e9}n"] {
        let o = with_header(&auth, malformed);
        assert_eq!(
            o,
            Outcome::BadRequest {
                challenges: err("invalid_request")
            },
            "{malformed}"
        );
    }
    // Basic credentials to a Bearer-only authenticator: the bare challenge.
    assert_eq!(
        with_header(&auth, &basic("ops:pw")).challenges(),
        [BEARER_CHALLENGE]
    );
}

#[test]
fn the_audit_event_has_what_responders_need_and_no_secret() {
    let sink = Arc::new(MemorySink::new());
    let auth = HttpAuthenticator::builder(REALM)
        .unwrap()
        .basic(Arc::new(Reloadable::new(store(&[("ops", "s3cret-pass")]))))
        .bearer(tokens())
        .audit(sink.clone())
        .build()
        .unwrap();
    let good = basic("ops:s3cret-pass");
    let bad = basic("ops:guess-one");
    let req =
        |h: &'static str| Request::new("POST", "/api/v1?token=query-secret#frag").authorization(h);
    let (t, w) = now();
    let good: &'static str = Box::leak(good.into_boxed_str());
    let bad: &'static str = Box::leak(bad.into_boxed_str());
    let outcomes = [
        auth.authenticate(&req(good).peer("10.1.2.3:4567").user_agent("curl/8"), t, w),
        auth.authenticate(&req(bad), t, w),
        auth.authenticate(&req("Bearer good.token.1").audit_id("host-id-7"), t, w),
        auth.authenticate(&req("Bearer forged.token.zz"), t, w),
    ];
    let evs = events(&sink);
    assert_eq!(evs.len(), 4);
    let json: Vec<serde_json::Value> = sink.take().iter().map(|e| e.as_event().to_json()).collect();
    assert!(json.is_empty(), "take() drains");
    let first = &evs[0];
    assert_eq!(first.audit_id.len(), 32);
    assert!(first.audit_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(first.audit_id, evs[1].audit_id);
    assert_eq!(evs[2].audit_id, "host-id-7");
    assert_eq!(first.stage, "authentication");
    assert_eq!(first.source.as_deref(), Some("10.1.2.3:4567"));
    assert_eq!(first.user_agent.as_deref(), Some("curl/8"));
    assert!(!first.user_agent_trusted);
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/api/v1")
    );
    assert_eq!(first.principal.as_ref().map(Principal::as_str), Some("ops"));
    assert_eq!(first.auth_method, Some("basic"));
    assert_eq!(evs[2].auth_method, Some("bearer"));
    assert_eq!(
        evs[3].reason.as_deref(),
        Some("bearer: test: unknown token")
    );
    // The JSON keys, as the audit schema names them.
    let line = mesos_auth::audit::to_json_line(&evs[0], SystemTime::UNIX_EPOCH);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["component"], "http");
    for key in [
        "audit_id",
        "stage",
        "source",
        "user_agent",
        "user_agent_trusted",
        "method",
        "path",
        "principal",
        "auth_method",
        "outcome",
        "reason",
        "credentials_generation",
        "rate_limit",
        "retry_after_ms",
        "status",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {line}");
    }
    // No password, token, base64 of either, or query string anywhere.
    let secrets = [
        "s3cret-pass",
        "guess-one",
        good.trim_start_matches("Basic "),
        bad.trim_start_matches("Basic "),
        "good.token.1",
        "forged.token.zz",
        "query-secret",
    ];
    let mut texts: Vec<String> = evs
        .iter()
        .map(|e| mesos_auth::audit::to_json_line(e, SystemTime::UNIX_EPOCH))
        .collect();
    texts.extend(evs.iter().map(|e| format!("{e:?}")));
    texts.extend(outcomes.iter().map(|o| format!("{o:?}")));
    texts.push(format!("{:?}", req(good)));
    texts.push(format!("{auth:?}"));
    for s in secrets {
        for t in &texts {
            assert!(!t.contains(s), "{s} leaked in {t}");
        }
    }
}

#[test]
fn errors_name_the_problem_without_the_header() {
    for (realm, want) in [
        ("", "empty"),
        ("a\"b", "quote"),
        ("a\\b", "backslash"),
        ("a\nb", "control"),
    ] {
        let e = HttpAuthenticator::builder(realm).unwrap_err();
        assert!(matches!(e, HttpError::BadRealm { .. }), "{e}");
        assert!(e.to_string().contains(want), "{e}");
    }
    let e = HttpAuthenticator::builder(REALM)
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(e, HttpError::NoScheme);
}
