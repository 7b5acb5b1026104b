//! ZooKeeper as the policy source (feature `zk`): a watch on a `zk://`
//! URL that swaps each valid version of the znode into an existing ACL,
//! credentials or TLS mapper handle, its staleness, and its end.
//!
//! The watch runs its own thread (and a small tokio runtime inside it): the
//! host needs no event loop. Decisions keep calling the ACL or credentials
//! handle as before; they see the old policy or the new one, never a mix.

use std::ffi::c_char;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use mesos_auth::audit::{AuditSink, NullSink};
use mesos_auth::zk::{
    ConnectOptions, PolicyKind, PolicyTarget, PolicyWatch, SaslDigest, StalePolicy, Startup,
    TlsSettings, WatchOptions, ZkError, ZkUrl,
};

use crate::acl::{Policy, mesos_auth_acl};
use crate::audit::{self, SharedSink, mesos_auth_audit};
use crate::credentials::{Served, mesos_auth_credentials};
use crate::handle::{self, Castable, Kind, Ownership, Tagged};
use crate::mesos_auth_str;
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, last_error_text, mesos_auth_result};
use crate::tls::{ServedRules, mesos_auth_tls_mapper};

/// How a watch connects and behaves. Zero values and empty strings mean
/// the default. Paths are read once, when the watch starts.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_zk_config {
    /// CA certificates (PEM) to trust: connect with TLS. Empty: plaintext.
    pub tls_ca_file: mesos_auth_str,
    /// Client certificate (PEM) for TLS; needs `tls_key_file`.
    pub tls_cert_file: mesos_auth_str,
    /// Client key (PEM) for TLS.
    pub tls_key_file: mesos_auth_str,
    /// SASL DIGEST-MD5 user. Empty: no SASL.
    pub sasl_user: mesos_auth_str,
    /// File whose first line is the SASL password.
    pub sasl_password_file: mesos_auth_str,
    /// ZooKeeper session timeout; 0: 10000 ms.
    pub session_timeout_ms: u32,
    /// Wait at most this long for a valid policy from ZooKeeper before the
    /// start call returns, and fail without one. 0: return at once, the
    /// handle's current policy (from its file) serving until ZooKeeper
    /// delivers a valid version.
    pub startup_timeout_ms: u32,
    /// Fail closed after this long without ZooKeeper
    /// (`mesos_auth_zk_watch_check_fresh` then fails). 0: keep serving the
    /// last good policy, however old.
    pub fail_closed_after_ms: u32,
    /// Kerberos principal to authenticate as by SASL GSSAPI
    /// (`mesos-master@EXAMPLE.ORG`; the library built with `gssapi`,
    /// `MESOS_AUTH_GSSAPI`). Empty: no GSSAPI. Not with `sasl_user`.
    pub sasl_gssapi_principal: mesos_auth_str,
    /// The principal's client keytab. MIT Kerberos reads it from
    /// `KRB5_CLIENT_KTNAME`, which must name the same file (the host sets
    /// the environment before it starts threads); a mismatch fails the
    /// start rather than authenticating as someone else.
    pub sasl_gssapi_keytab: mesos_auth_str,
    /// Instead of a keytab: the principal's ticket cache, which
    /// `KRB5CCNAME` must name.
    pub sasl_gssapi_ccache: mesos_auth_str,
    /// ZooKeeper's Kerberos service name. Empty: `zookeeper`.
    pub sasl_gssapi_service: mesos_auth_str,
    /// The host in ZooKeeper's principal (`<service>/<host>@REALM`).
    /// Empty: the server's host as written in the URL.
    pub sasl_gssapi_host: mesos_auth_str,
}

/// What a watch knows now.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_zk_status {
    /// ZooKeeper's data version of the znode serving now; -1: nothing from
    /// ZooKeeper yet (the handle's own policy serves).
    pub version: i64,
    /// Milliseconds since that version was applied; `UINT64_MAX` if none.
    pub policy_age_ms: u64,
    /// Milliseconds since ZooKeeper was last in contact (0 while connected).
    pub since_contact_ms: u64,
    /// Whether a ZooKeeper session is up now.
    pub connected: bool,
    /// Whether decisions must fail closed now.
    pub fail_closed: bool,
}

/// A running ZooKeeper watch feeding one ACL, credentials or TLS mapper
/// handle.
///
/// Thread safety: shared and reference-counted; every function taking a
/// `const mesos_auth_zk_watch *` may be called from any thread at once.
/// The watch keeps the handle it feeds alive; it stops (its thread joined,
/// within one connection timeout) when its last reference is freed.
pub struct mesos_auth_zk_watch {
    _private: [u8; 0],
}

pub(crate) struct Watch {
    watch: PolicyWatch,
}

impl Castable for mesos_auth_zk_watch {
    type RustType = Watch;
    const KIND: Kind = Kind::ZkWatch;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

/// An ACL handle as the watch's target.
struct AclTarget(Arc<Tagged<Policy>>);

impl PolicyTarget for AclTarget {
    fn kind(&self) -> PolicyKind {
        PolicyKind::Acls
    }

    fn apply(&self, bytes: &[u8]) -> Result<u64, String> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))?;
        self.0.reload_text(text).map_err(|_| last_error_text())
    }
}

/// A credentials handle as the watch's target.
struct CredentialsTarget(Arc<Tagged<Served>>);

impl PolicyTarget for CredentialsTarget {
    fn kind(&self) -> PolicyKind {
        PolicyKind::Credentials
    }

    fn apply(&self, bytes: &[u8]) -> Result<u64, String> {
        self.0.reload_bytes(bytes).map_err(|_| last_error_text())
    }
}

/// A TLS mapper handle as the watch's target.
struct TlsRulesTarget(Arc<Tagged<ServedRules>>);

impl PolicyTarget for TlsRulesTarget {
    fn kind(&self) -> PolicyKind {
        PolicyKind::TlsRules
    }

    fn apply(&self, bytes: &[u8]) -> Result<u64, String> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))?;
        self.0.reload_text(text).map_err(|_| last_error_text())
    }
}

/// The watches feeding one TLS mapper: while any of them is past its
/// fail-closed bound, the mapper refuses every certificate (a mapper has
/// no decision of its own the host could deny, so the gate sits inside).
///
/// The mapper holds them weakly: the watch holds the mapper, and freeing
/// the watch must end the gate.
#[derive(Default)]
pub(crate) struct FreshnessGate {
    /// Set once a watch is attached, so a mapper never watched (nearly
    /// all) takes no lock.
    any: AtomicBool,
    watches: Mutex<Vec<Weak<Tagged<Watch>>>>,
}

impl FreshnessGate {
    fn attach(&self, watch: Weak<Tagged<Watch>>) {
        let mut w = self.watches.lock().unwrap_or_else(|p| p.into_inner());
        w.retain(|w| w.strong_count() > 0);
        w.push(watch);
        self.any.store(true, Ordering::Release);
    }

    /// `MESOS_AUTH_RESULT_STALE` (the detail names the znode and the
    /// bound) while a watch feeding the mapper fails closed.
    #[inline(always)]
    pub(crate) fn check(&self) -> Result<(), mesos_auth_result> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        self.check_watches()
    }

    #[inline(never)]
    fn check_watches(&self) -> Result<(), mesos_auth_result> {
        let live: Vec<Arc<Tagged<Watch>>> = {
            let mut w = self.watches.lock().unwrap_or_else(|p| p.into_inner());
            w.retain(|w| w.strong_count() > 0);
            w.iter().filter_map(Weak::upgrade).collect()
        };
        let mut verdict = Ok(());
        for w in live {
            if verdict.is_ok() {
                verdict = w.watch.check_fresh().map_err(|e| zk_error(&e));
            }
            release(w);
        }
        verdict
    }
}

/// Lets go of a watch a mapping held for its check. If the host freed the
/// watch meanwhile, this is the last reference, and dropping it joins the
/// watch thread: done on a thread of its own, so no mapping waits for it.
fn release(watch: Arc<Tagged<Watch>>) {
    if let Some(last) = Arc::into_inner(watch) {
        // If no thread can be started, the closure (and the watch) is
        // dropped here instead.
        let _ = std::thread::Builder::new()
            .name("mesos-auth-zk-stop".to_owned())
            .spawn(move || drop(last));
    }
}

fn sink_of(sink: &SharedSink) -> Arc<dyn AuditSink> {
    match sink {
        Some(s) => Arc::clone(s) as Arc<dyn AuditSink>,
        None => Arc::new(NullSink),
    }
}

/// The result code and message of a ZooKeeper error (never a secret).
fn zk_error(e: &ZkError) -> mesos_auth_result {
    let code = match e {
        ZkError::Url { .. } => mesos_auth_result::InvalidParameter,
        ZkError::Config { .. } => mesos_auth_result::FileError,
        ZkError::Stale { .. } => mesos_auth_result::Stale,
        _ => mesos_auth_result::ZkUnavailable,
    };
    fail(code, e)
}

/// Reads an optional string field of the configuration.
///
/// # Safety
///
/// The view valid for `len` bytes (or NULL with `len` 0).
unsafe fn field<'a>(s: mesos_auth_str, what: &str) -> Result<Option<&'a str>, mesos_auth_result> {
    // SAFETY: the caller's contract.
    let s = unsafe { handle::string(s.data, s.len, what)? };
    Ok((!s.is_empty()).then_some(s))
}

/// The watch options from the C configuration.
///
/// # Safety
///
/// `config` NULL or valid, its views valid.
unsafe fn watch_options(
    config: *const mesos_auth_zk_config,
) -> Result<WatchOptions, mesos_auth_result> {
    if config.is_null() {
        return Ok(WatchOptions::new(ConnectOptions::new()).startup(Startup::Fallback));
    }
    // SAFETY: non-null, valid by the caller's contract.
    let c = unsafe { *config };
    let mut connect = ConnectOptions::new();
    if c.session_timeout_ms > 0 {
        connect = connect.session_timeout(Duration::from_millis(u64::from(c.session_timeout_ms)));
    }
    // SAFETY: the views are valid by the caller's contract.
    let ca = unsafe { field(c.tls_ca_file, "tls_ca_file")? };
    // SAFETY: as above.
    let cert = unsafe { field(c.tls_cert_file, "tls_cert_file")? };
    // SAFETY: as above.
    let key = unsafe { field(c.tls_key_file, "tls_key_file")? };
    // SAFETY: as above.
    let user = unsafe { field(c.sasl_user, "sasl_user")? };
    // SAFETY: as above.
    let password = unsafe { field(c.sasl_password_file, "sasl_password_file")? };
    // SAFETY: the views are valid by the caller's contract.
    let gssapi = unsafe { gssapi_fields(&c)? };
    if gssapi.principal.is_some() && user.is_some() {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            "sasl_gssapi_principal and sasl_user exclude each other: a session has one SASL identity",
        ));
    }
    match (ca, cert, key) {
        (None, None, None) => {}
        (Some(ca), None, None) => {
            let tls = TlsSettings::from_ca_file(Path::new(ca)).map_err(|e| zk_error(&e))?;
            connect = connect.tls(tls);
        }
        (Some(ca), Some(cert), Some(key)) => {
            let tls = TlsSettings::from_ca_file(Path::new(ca))
                .and_then(|t| t.identity_files(Path::new(cert), Path::new(key)))
                .map_err(|e| zk_error(&e))?;
            connect = connect.tls(tls);
        }
        _ => {
            return Err(fail(
                mesos_auth_result::InvalidParameter,
                "tls_cert_file and tls_key_file go together, and need tls_ca_file",
            ));
        }
    }
    match (user, password) {
        (None, None) => {}
        (Some(user), Some(file)) => {
            let sasl =
                SaslDigest::from_password_file(user, Path::new(file)).map_err(|e| zk_error(&e))?;
            connect = connect.sasl(sasl);
        }
        _ => {
            return Err(fail(
                mesos_auth_result::InvalidParameter,
                "sasl_user and sasl_password_file go together",
            ));
        }
    }
    connect = gssapi.apply(connect)?;
    let mut options = WatchOptions::new(connect);
    options = options.startup(match c.startup_timeout_ms {
        0 => Startup::Fallback,
        ms => Startup::RequireZk(Duration::from_millis(u64::from(ms))),
    });
    if c.fail_closed_after_ms > 0 {
        options = options.stale(StalePolicy::FailClosed {
            after: Duration::from_millis(u64::from(c.fail_closed_after_ms)),
        });
    }
    Ok(options)
}

/// The GSSAPI fields of the configuration.
struct GssapiFields<'a> {
    principal: Option<&'a str>,
    keytab: Option<&'a str>,
    ccache: Option<&'a str>,
    service: Option<&'a str>,
    host: Option<&'a str>,
}

/// Reads the GSSAPI fields.
///
/// # Safety
///
/// The views of `c` valid.
unsafe fn gssapi_fields(c: &mesos_auth_zk_config) -> Result<GssapiFields<'_>, mesos_auth_result> {
    // SAFETY: the caller's contract, for each view.
    unsafe {
        Ok(GssapiFields {
            principal: field(c.sasl_gssapi_principal, "sasl_gssapi_principal")?,
            keytab: field(c.sasl_gssapi_keytab, "sasl_gssapi_keytab")?,
            ccache: field(c.sasl_gssapi_ccache, "sasl_gssapi_ccache")?,
            service: field(c.sasl_gssapi_service, "sasl_gssapi_service")?,
            host: field(c.sasl_gssapi_host, "sasl_gssapi_host")?,
        })
    }
}

impl GssapiFields<'_> {
    /// Adds SASL GSSAPI to `connect` if a principal is given.
    fn apply(&self, connect: ConnectOptions) -> Result<ConnectOptions, mesos_auth_result> {
        let Some(principal) = self.principal else {
            if self.keytab.is_some()
                || self.ccache.is_some()
                || self.service.is_some()
                || self.host.is_some()
            {
                return Err(fail(
                    mesos_auth_result::InvalidParameter,
                    "the sasl_gssapi_* fields need sasl_gssapi_principal",
                ));
            }
            return Ok(connect);
        };
        #[cfg(feature = "gssapi")]
        {
            use mesos_auth::zk::SaslGssapi;
            let mut gssapi = match (self.keytab, self.ccache) {
                (Some(keytab), None) => SaslGssapi::with_keytab(principal, keytab),
                (None, Some(ccache)) => SaslGssapi::with_ccache(principal, ccache),
                _ => {
                    return Err(fail(
                        mesos_auth_result::InvalidParameter,
                        "sasl_gssapi_principal needs one of sasl_gssapi_keytab and sasl_gssapi_ccache",
                    ));
                }
            };
            if let Some(service) = self.service {
                gssapi = gssapi.service(service);
            }
            if let Some(host) = self.host {
                gssapi = gssapi.host(host);
            }
            Ok(connect.sasl_gssapi(gssapi))
        }
        #[cfg(not(feature = "gssapi"))]
        Err(fail(
            mesos_auth_result::InvalidParameter,
            format_args!(
                "sasl_gssapi_principal `{principal}`: this library was built without GSSAPI (feature `gssapi`)"
            ),
        ))
    }
}

/// Parses the URL and the configuration, then starts the watch.
///
/// # Safety
///
/// `url` valid for `url_len` bytes; `config` NULL or valid.
unsafe fn start(
    url: *const c_char,
    url_len: usize,
    config: *const mesos_auth_zk_config,
    target: Arc<dyn PolicyTarget>,
    sink: Arc<dyn AuditSink>,
) -> Result<Watch, mesos_auth_result> {
    // SAFETY: the caller's contract.
    let url = unsafe { handle::string(url, url_len, "url")? };
    let url = ZkUrl::parse(url).map_err(|e| zk_error(&e))?;
    // SAFETY: the caller's contract.
    let options = unsafe { watch_options(config)? };
    let watch = PolicyWatch::start(url, target, options, sink).map_err(|e| zk_error(&e))?;
    Ok(Watch { watch })
}

/// Milliseconds, saturating.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl mesos_auth_zk_watch {
    /// Starts watching the znode at `url` (`zk://host:port[,...]/path`, as
    /// `mesos-auth zk push` writes it) and swaps each valid version into
    /// `acl` (compiled with the handle's own flags). An invalid version is
    /// refused, recorded in the handle's audit sink with the znode and its
    /// version, and the last good policy keeps serving. With
    /// `config->startup_timeout_ms`, waits that long for a first valid
    /// version and fails (`MESOS_AUTH_RESULT_ZK_UNAVAILABLE`) without one.
    /// `config` may be NULL: plaintext, no authentication, start at once,
    /// keep serving when stale.
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `url` valid for `url_len` bytes; `config` NULL
    /// or valid (its views valid); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_acl(
        acl: *const mesos_auth_acl,
        url: *const c_char,
        url_len: usize,
        config: *const mesos_auth_zk_config,
        out: *mut *const mesos_auth_zk_watch,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let policy = match unsafe { handle::clone_arc(acl) } {
                Ok(p) => p,
                Err(e) => return e,
            };
            let sink = sink_of(policy.sink());
            // SAFETY: forwarded caller contract; `out` checked above.
            unsafe {
                handle::finish_arc(start(url, url_len, config, Arc::new(AclTarget(policy)), sink), out)
            }
        }
    }

    /// As `mesos_auth_zk_watch_acl`, for a credentials handle (a text or
    /// JSON credentials file in the znode, read with the handle's flags).
    ///
    /// # Safety
    ///
    /// `credentials` NULL or live; `url` valid for `url_len` bytes;
    /// `config` NULL or valid; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_credentials(
        credentials: *const mesos_auth_credentials,
        url: *const c_char,
        url_len: usize,
        config: *const mesos_auth_zk_config,
        out: *mut *const mesos_auth_zk_watch,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // SAFETY: forwarded caller contract.
            let served = match unsafe { handle::clone_arc(credentials) } {
                Ok(s) => s,
                Err(e) => return e,
            };
            let sink = sink_of(served.sink());
            // SAFETY: forwarded caller contract; `out` checked above.
            unsafe {
                handle::finish_arc(
                    start(url, url_len, config, Arc::new(CredentialsTarget(served)), sink),
                    out,
                )
            }
        }
    }

    /// As `mesos_auth_zk_watch_acl`, for a TLS mapper handle: the znode
    /// holds a TLS mapping rule file (as `mesos_auth_tls_mapper_new` reads
    /// it), and each valid version is swapped into `mapper` whole (as
    /// `mesos_auth_tls_mapper_reload_buffer`). An invalid version is
    /// refused, recorded in `audit` (may be NULL) with the znode and its
    /// version, and the last good rule set keeps serving. With
    /// `config->fail_closed_after_ms`, once ZooKeeper has been out of reach
    /// that long, `mesos_auth_tls_mapper_map_der` on `mapper` refuses every
    /// certificate with `MESOS_AUTH_RESULT_STALE` until contact is back
    /// (or the watch is freed: the mapper then serves its last rule set).
    ///
    /// # Safety
    ///
    /// `mapper` NULL or live; `url` valid for `url_len` bytes; `config`
    /// NULL or valid; `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_tls_rules(
        mapper: *const mesos_auth_tls_mapper,
        url: *const c_char,
        url_len: usize,
        config: *const mesos_auth_zk_config,
        audit: *const mesos_auth_audit,
        out: *mut *const mesos_auth_zk_watch,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let rules = unsafe { handle::clone_arc(mapper)? };
                // SAFETY: forwarded caller contract.
                let sink = sink_of(&unsafe { audit::optional_sink(audit)? });
                let target = Arc::new(TlsRulesTarget(Arc::clone(&rules)));
                // SAFETY: forwarded caller contract.
                let watch = unsafe { start(url, url_len, config, target, sink)? };
                let c = handle::to_arc::<mesos_auth_zk_watch>(watch);
                // SAFETY: `c` was just made, and is live.
                match unsafe { handle::clone_arc(c) } {
                    Ok(w) => rules.watches().attach(Arc::downgrade(&w)),
                    Err(e) => {
                        // SAFETY: `c` is ours, freed once.
                        let _ = unsafe { handle::free(c) };
                        return Err(e);
                    }
                }
                Ok(c)
            };
            match run() {
                // SAFETY: checked non-null; writable by contract.
                Ok(c) => unsafe { handle::write_out(out, c) },
                Err(e) => e,
            }
        }
    }

    /// The version serving, its age and the contact with ZooKeeper.
    ///
    /// # Safety
    ///
    /// `watch` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_status(
        watch: *const mesos_auth_zk_watch,
        out: *mut mesos_auth_zk_status,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(watch, out, "out", |w| {
                    let s = w.watch.status();
                    Ok(mesos_auth_zk_status {
                        version: s.version.map_or(-1, i64::from),
                        policy_age_ms: s.policy_age.map_or(u64::MAX, ms),
                        since_contact_ms: ms(s.since_contact),
                        connected: s.connected,
                        fail_closed: s.fail_closed,
                    })
                })
            }
        }
    }

    /// Whether decisions may be made now: `MESOS_AUTH_RESULT_OK`, or
    /// `MESOS_AUTH_RESULT_STALE` once ZooKeeper has been out of reach for
    /// longer than `fail_closed_after_ms` (then deny every request until it
    /// is back). Cheap; call it before each decision.
    ///
    /// # Safety
    ///
    /// `watch` NULL or live.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_check_fresh(
        watch: *const mesos_auth_zk_watch,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            handle::code(unsafe {
                handle::with_ref(watch, |w| w.watch.check_fresh().map_err(|e| zk_error(&e)))
            })
        }
    }

    /// The last refusal or connection error, NUL-terminated in `buf` (empty
    /// if none; never a secret).
    ///
    /// # Safety
    ///
    /// `watch` NULL or live; `buf` valid for `len` bytes; `out_n` for one
    /// write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_last_error(
        watch: *const mesos_auth_zk_watch,
        buf: *mut c_char,
        len: usize,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get_text(watch, buf, len, out_n, |w| {
                    Ok(w.watch.status().last_error.unwrap_or_default())
                })
            }
        }
    }

    /// Another reference to the same watch, freed on its own.
    ///
    /// # Safety
    ///
    /// `watch` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_up_ref(
        watch: *const mesos_auth_zk_watch,
        out: *mut *const mesos_auth_zk_watch,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(watch, out) }
        }
    }

    /// Releases a reference; the last one stops the watch (waiting for its
    /// thread, at most about one connection timeout). The handle it fed
    /// keeps serving its last policy. NULL is a no-op.
    ///
    /// # Safety
    ///
    /// `watch` NULL or a reference not freed before.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_zk_watch_free(
        watch: *const mesos_auth_zk_watch,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(watch) }
        }
    }
}

#[cfg(test)]
mod test;
