//! GSSAPI (Kerberos V5) handshake: our RFC 4752 step machines (client and
//! server) against the raw GSS calls the same exchange needs
//! (`gss_init_sec_context` twice, `gss_accept_sec_context`, two wraps, two
//! unwraps, the initiator's name), in the same run, against a real MIT KDC
//! started here on loopback. Target (issue 15): the library's own overhead
//! at most 5 % of the handshake.
//!
//! MIT Kerberos reads its realm from the environment, which this process
//! must not change: it starts the realm, then runs itself again with the
//! realm's variables (`MESOS_AUTH_GSSAPI_BENCH_CHILD`). Without the Kerberos
//! tools it says so and measures nothing.
#![allow(
    missing_docs,
    reason = "criterion_group! makes undocumented items in some criterion versions"
)]
// `allow`, not `expect`: without the feature nothing here unwraps.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a failure must stop the run loudly"
)]

#[cfg(feature = "gssapi")]
#[path = "../tests/gssapi/kdc.rs"]
#[expect(
    dead_code,
    reason = "the tests' realm helper; the bench uses part of it"
)]
mod kdc;

#[cfg(feature = "gssapi")]
mod bench {
    use std::hint::black_box;
    use std::sync::Arc;

    use criterion::Criterion;
    use mesos_auth::Principal;
    use mesos_auth::internal::libgssapi::context::{
        ClientCtx, CtxFlags, SecurityContext, ServerCtx,
    };
    use mesos_auth::internal::libgssapi::name::Name;
    use mesos_auth::internal::libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE};
    use mesos_auth::sasl::gssapi::{
        AuthToLocal, GssStep, GssapiClient, GssapiClientConfig, GssapiServer, GssapiServerConfig,
        layer,
    };

    const SERVICE: &str = "mesos@localhost";

    fn ours(rules: &Arc<AuthToLocal>, principal: &Principal) -> Principal {
        let mut server = GssapiServer::new(GssapiServerConfig::new(rules.clone())).unwrap();
        let mut client =
            GssapiClient::new(GssapiClientConfig::new(principal.clone(), SERVICE)).unwrap();
        let GssStep::Continue(mut to_server) = client.step(&[]).unwrap() else {
            panic!()
        };
        loop {
            let GssStep::Continue(to_client) = server.step(&to_server).unwrap() else {
                panic!()
            };
            match client.step(&to_client).unwrap() {
                GssStep::Continue(t) => to_server = t,
                GssStep::Done { output, .. } => {
                    let GssStep::Done { principal, .. } = server.step(&output.unwrap()).unwrap()
                    else {
                        panic!()
                    };
                    return principal;
                }
            }
        }
    }

    fn raw() -> usize {
        let target = Name::new(SERVICE.as_bytes(), Some(GSS_NT_HOSTBASED_SERVICE)).unwrap();
        let flags = CtxFlags::GSS_C_MUTUAL_FLAG | CtxFlags::GSS_C_SEQUENCE_FLAG;
        let mut client = ClientCtx::new(None, target, flags, Some(GSS_MECH_KRB5));
        let mut server = ServerCtx::new(None);
        let ap_req = client.step(None, None).unwrap().unwrap();
        let ap_rep = server.step(&ap_req, None).unwrap().unwrap();
        assert!(client.step(Some(&ap_rep), None).unwrap().is_none());
        let offer = server.wrap(false, &[1, 0, 0, 0]).unwrap();
        let plain = client.unwrap(&offer).unwrap();
        let choice = client.wrap(false, &[plain[0], 0, 0, 0, b'a']).unwrap();
        let got = server.unwrap(&choice).unwrap();
        let name = server.source_name().unwrap().to_string();
        got.len() + name.len()
    }

    pub(crate) fn run(c: &mut Criterion) {
        let rules =
            Arc::new(AuthToLocal::parse(r"RULE:[1:$1@$0](.*@MESOS\.TEST)s/@.*//", None).unwrap());
        let alice = Principal::new("alice").unwrap();
        // Warm the ticket cache (the service ticket is fetched once).
        assert_eq!(ours(&rules, &alice).as_str(), "alice");
        let mut g = c.benchmark_group("gssapi_handshake");
        g.bench_function("raw_gss_calls", |b| b.iter(|| black_box(raw())));
        g.bench_function("mesos_auth", |b| b.iter(|| black_box(ours(&rules, &alice))));
        // What the library adds without the GSS calls it wraps: the framing
        // check, the name mapping, the layer messages (a noise-free bound on
        // the overhead, the handshakes above being I/O-bound and noisy).
        let ap_req = {
            let mut c = GssapiClient::new(GssapiClientConfig::new(alice.clone(), SERVICE)).unwrap();
            let GssStep::Continue(t) = c.step(&[]).unwrap() else {
                panic!()
            };
            t
        };
        g.bench_function("own_work_only", |b| {
            b.iter(|| {
                let framed = mesos_auth::internal::gssapi_krb5_framing(black_box(&ap_req));
                let (p, _) = rules.map(black_box("alice@MESOS.TEST")).unwrap();
                let choice = layer::client_choice(p.as_str());
                let authzid = layer::check_choice(black_box(&choice)).unwrap();
                let offer = layer::check_offer(black_box(&[1, 0, 0, 0])).unwrap();
                black_box((framed, authzid, offer))
            })
        });
        g.finish();
    }
}

#[cfg(feature = "gssapi")]
fn main() {
    if std::env::var("MESOS_AUTH_GSSAPI_BENCH_CHILD").as_deref() == Ok("1") {
        let mut c = criterion::Criterion::default().configure_from_args();
        bench::run(&mut c);
        c.final_summary();
        return;
    }
    if std::env::var("MESOS_AUTH_GSSAPI_TESTS").as_deref() == Ok("skip") {
        eprintln!("gssapi bench skipped (MESOS_AUTH_GSSAPI_TESTS=skip)");
        return;
    }
    // Cargo passes `--bench` (and filters); the child gets them as they are.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !std::path::Path::new("/usr/sbin/krb5kdc").exists() {
        eprintln!("gssapi bench: no krb5kdc (krb5-kdc); nothing measured");
        return;
    }
    let kdc = kdc::Kdc::start(&["alice"]);
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(&args);
    kdc.env(&mut cmd)
        .env(
            "KRB5CCNAME",
            format!("FILE:{}", kdc.ccache("alice").display()),
        )
        .env("MESOS_AUTH_GSSAPI_BENCH_CHILD", "1")
        // The replay cache costs both sides the same, but it grows over the
        // run, so whichever is measured second would pay more for it.
        .env("KRB5RCACHETYPE", "none");
    let status = cmd.status().unwrap();
    assert!(status.success(), "gssapi bench child: {status}");
}

#[cfg(not(feature = "gssapi"))]
fn main() {
    eprintln!("gssapi bench: built without the `gssapi` feature; nothing measured");
}
