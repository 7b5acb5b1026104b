//! GSSAPI (Kerberos V5) in the negotiated SASL sessions: an acceptor
//! configuration for the authenticator's mechanism set, and a GSSAPI
//! authenticatee. Built with the `gssapi` feature.

use std::ffi::{CString, c_char};

use mesos_auth::sasl::gssapi::{GssapiClientConfig, GssapiServerConfig};
use mesos_auth::sasl::{Authenticatee, AuthenticatorConfig, SaslError};

use super::{
    ClientSession, mechanisms_session, mesos_auth_authenticatee, mesos_auth_authenticator,
};
use crate::audit::{self, mesos_auth_audit};
use crate::bearer::mesos_auth_bearer;
use crate::credentials::mesos_auth_credentials;
use crate::handle::{self, Castable, Kind, Ownership};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};

// MIT Kerberos's extension (gssapi/gssapi_krb5.h): the keytab acceptors use
// from now on, process-wide. The library copies the name under its own lock.
#[link(name = "gssapi_krb5")]
unsafe extern "C" {
    fn krb5_gss_register_acceptor_identity(keytab: *const c_char) -> u32;
}

/// What an authenticator needs to offer GSSAPI: the `auth_to_local`
/// mapping rules (parsed once) and the service whose key accepts.
///
/// Thread safety: immutable once made; several calls may read it at once.
/// Sessions keep their own copy, so it may be freed after the last
/// `_new_mechanisms_gssapi`.
pub struct mesos_auth_gssapi_acceptor {
    _private: [u8; 0],
}

impl Castable for mesos_auth_gssapi_acceptor {
    type RustType = GssapiServerConfig;
    const KIND: Kind = Kind::GssapiAcceptor;
    const OWNERSHIP: Ownership = Ownership::Box;
}

/// The keytab's file, without MIT's `FILE:` / `WRFILE:` prefix.
fn keytab_file(name: &str) -> &str {
    name.strip_prefix("FILE:")
        .or_else(|| name.strip_prefix("WRFILE:"))
        .unwrap_or(name)
}

impl mesos_auth_gssapi_acceptor {
    /// Makes an acceptor configuration. `keytab` (may be empty: the one
    /// `KRB5_KTNAME` names, else MIT's default) is the master's keytab;
    /// giving one makes it the keytab of every GSSAPI acceptor in the
    /// process (MIT's `krb5_gss_register_acceptor_identity`). `service`
    /// (may be empty: any key in the keytab) is `mesos@host` or a full
    /// Kerberos name. `rules` (UTF-8) are the `auth_to_local` rules;
    /// `default_realm` (may be empty) is the realm `DEFAULT` maps.
    ///
    /// Bad rules return `MESOS_AUTH_RESULT_PARSE_ERROR` with the rule's
    /// number and line:column in `mesos_auth_last_error`; a keytab that
    /// does not exist `MESOS_AUTH_RESULT_FILE_ERROR` naming it. A keytab
    /// without the service's key shows when a client starts GSSAPI: it gets
    /// the uniform `FAILED`, the audit event says `kerberos_unavailable`.
    ///
    /// # Safety
    ///
    /// Each string valid for its length; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_acceptor_new(
        keytab: *const c_char,
        keytab_len: usize,
        service: *const c_char,
        service_len: usize,
        rules: *const c_char,
        rules_len: usize,
        default_realm: *const c_char,
        default_realm_len: usize,
        out: *mut *mut mesos_auth_gssapi_acceptor,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let keytab = unsafe { handle::string(keytab, keytab_len, "keytab")? };
                // SAFETY: forwarded caller contract.
                let service = unsafe { handle::string(service, service_len, "service")? };
                // SAFETY: forwarded caller contract.
                let rules = unsafe { handle::string(rules, rules_len, "rules")? };
                // SAFETY: forwarded caller contract.
                let realm = unsafe { handle::string(default_realm, default_realm_len, "default_realm")? };
                let config = crate::gssapi::server_config(rules, realm, service)?;
                if !keytab.is_empty() {
                    let file = keytab_file(keytab);
                    if let Err(e) = std::fs::metadata(file) {
                        return Err(fail(
                            mesos_auth_result::FileError,
                            format_args!("keytab `{file}`: {e}"),
                        ));
                    }
                    // `handle::string` refused NUL bytes already.
                    let name = CString::new(keytab)
                        .map_err(|_| fail(mesos_auth_result::InvalidUtf8, "keytab holds a NUL byte"))?;
                    // SAFETY: a NUL-terminated string MIT copies before
                    // returning.
                    let major = unsafe { krb5_gss_register_acceptor_identity(name.as_ptr()) };
                    if major != 0 {
                        return Err(fail(
                            mesos_auth_result::FileError,
                            format_args!("keytab `{file}`: MIT Kerberos refused it (major status {major:#x})"),
                        ));
                    }
                }
                Ok(handle::to_box::<mesos_auth_gssapi_acceptor>(config))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// Frees an acceptor configuration (sessions made with it keep
    /// working). NULL is accepted.
    ///
    /// # Safety
    ///
    /// `acceptor` NULL or live, not in use by another call.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_gssapi_acceptor_free(
        acceptor: *mut mesos_auth_gssapi_acceptor,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(acceptor.cast_const()) }
        }
    }
}

impl mesos_auth_authenticator {
    /// As `mesos_auth_authenticator_new_mechanisms`, also offering GSSAPI
    /// (first in the list: `GSSAPI,OAUTHBEARER,CRAM-MD5`, those given) with
    /// `acceptor` (NULL: GSSAPI off). At least one of `creds`, `bearer`,
    /// `acceptor` must be given. The session's GSS context is made when
    /// the client starts GSSAPI; a Kerberos refusal (bad ticket, unmapped
    /// principal, ...) is the uniform `FAILED` to the client, with
    /// `kerberos_refused` and the reason in the audit event's `detail`.
    ///
    /// # Safety
    ///
    /// `creds`, `bearer` and `acceptor` NULL or live; `peer` valid for
    /// `peer_len` bytes; `audit` NULL or live; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticator_new_mechanisms_gssapi(
        creds: *const mesos_auth_credentials,
        bearer: *const mesos_auth_bearer,
        acceptor: *const mesos_auth_gssapi_acceptor,
        timeout_ms: u64,
        peer: *const c_char,
        peer_len: usize,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticator,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                if creds.is_null() && bearer.is_null() && acceptor.is_null() {
                    return Err(fail(
                        mesos_auth_result::InvalidParameter,
                        "no mechanism: give creds (CRAM-MD5), bearer (OAUTHBEARER), acceptor (GSSAPI) or several",
                    ));
                }
                let mut config = AuthenticatorConfig::new();
                if !acceptor.is_null() {
                    // SAFETY: forwarded caller contract.
                    let gss = unsafe { handle::with_ref(acceptor, |a| Ok(a.clone()))? };
                    config = config.gssapi(gss);
                }
                // SAFETY: forwarded caller contract.
                unsafe {
                    mechanisms_session(
                        config,
                        !acceptor.is_null(),
                        creds,
                        bearer,
                        timeout_ms,
                        peer,
                        peer_len,
                        audit,
                    )
                }
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }
}

impl mesos_auth_authenticatee {
    /// Starts a GSSAPI (Kerberos V5) authenticatee session for the Mesos
    /// `principal` (UTF-8, 1..=256 bytes; sent as the authzid, so the
    /// server refuses it unless its rules map the Kerberos name to it),
    /// to the service `service` at `host` (`mesos` and
    /// `master.example.org` name `mesos/master.example.org@REALM`; with an
    /// empty `host`, `service` is the whole name: `mesos@host` or a
    /// Kerberos name with a `/`). `client_name` (may be empty: the ticket
    /// cache's default principal) picks the Kerberos credentials; tickets
    /// come from the cache `KRB5CCNAME` names, or from the client keytab
    /// `KRB5_CLIENT_KTNAME` names. Only GSSAPI is used: if the server does
    /// not offer it, feeding its `MECHANISMS` returns
    /// `MESOS_AUTH_RESULT_PROTOCOL_ERROR` with the status `FAILED` and
    /// nothing to send (no fallback to CRAM-MD5). `audit` may be NULL.
    ///
    /// Credentials named by `client_name` that cannot be found return
    /// `MESOS_AUTH_RESULT_FILE_ERROR`; a bad `service` or `principal`
    /// `MESOS_AUTH_RESULT_INVALID_PARAMETER`.
    ///
    /// # Safety
    ///
    /// Each string valid for its length; `audit` NULL or live; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_authenticatee_new_gssapi(
        principal: *const c_char,
        principal_len: usize,
        service: *const c_char,
        service_len: usize,
        host: *const c_char,
        host_len: usize,
        client_name: *const c_char,
        client_name_len: usize,
        audit: *const mesos_auth_audit,
        out: *mut *mut mesos_auth_authenticatee,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let principal = unsafe { handle::string(principal, principal_len, "principal")? };
                // SAFETY: forwarded caller contract.
                let service = unsafe { handle::string(service, service_len, "service")? };
                // SAFETY: forwarded caller contract.
                let host = unsafe { handle::string(host, host_len, "host")? };
                // SAFETY: forwarded caller contract.
                let client_name = unsafe { handle::string(client_name, client_name_len, "client_name")? };
                let principal = super::client_principal(principal)?;
                if service.is_empty() {
                    return Err(fail(mesos_auth_result::InvalidParameter, "service is empty"));
                }
                if !host.is_empty() && (service.contains(['@', '/']) || host.contains(['@', '/'])) {
                    return Err(fail(
                        mesos_auth_result::InvalidParameter,
                        "with a host, service must be a bare name (`mesos`) and host a host name",
                    ));
                }
                let target = if host.is_empty() {
                    service.to_owned()
                } else {
                    format!("{service}@{host}")
                };
                let mut config = GssapiClientConfig::new(principal, &target);
                if !client_name.is_empty() {
                    config = config.client_name(client_name);
                }
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let inner = Authenticatee::gssapi(config).map_err(|e| match e {
                    SaslError::Kerberos(_) => fail(mesos_auth_result::FileError, e),
                    e => fail(mesos_auth_result::InvalidParameter, e),
                })?;
                Ok(ClientSession::handle(inner, sink))
            };
            match run() {
                // SAFETY: out checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }
}
