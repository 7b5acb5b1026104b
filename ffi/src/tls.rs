//! The TLS identity mapper: verified client certificates to principals.

use std::ffi::c_char;

use mesos_auth::tls::Mapper;

use crate::audit::{self, mesos_auth_audit};
use crate::handle::{self, Castable, Kind, Ownership};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};

/// A compiled TLS mapping rule set.
///
/// Thread safety: shared, reference-counted and immutable: any number of
/// threads may map certificates through one mapper at once.
pub struct mesos_auth_tls_mapper {
    _private: [u8; 0],
}

impl Castable for mesos_auth_tls_mapper {
    type RustType = Mapper;
    const KIND: Kind = Kind::TlsMapper;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

impl mesos_auth_tls_mapper {
    /// Compiles a rule file (`len` bytes of UTF-8 JSON at `rules`, see
    /// tls-identity rules: `{"source": .., "match": .., "principal": ..}` or
    /// `"RULE:..."` strings). A bad rule gives `MESOS_AUTH_RESULT_PARSE_ERROR` and
    /// `mesos_auth_last_error` says where (line:column, JSON path).
    ///
    /// # Safety
    ///
    /// `rules` valid for `len` bytes; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_tls_mapper_new(
        rules: *const c_char,
        len: usize,
        out: *mut *const mesos_auth_tls_mapper,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                if len > mesos_auth::tls::MAX_RULE_FILE_LEN as usize {
                    return Err(fail(mesos_auth_result::LimitExceeded, "the rule file is too large"));
                }
                // SAFETY: forwarded caller contract.
                let text = unsafe { handle::string(rules, len, "rules")? };
                let mapper = Mapper::from_json(text)
                    .map_err(|e| fail(mesos_auth_result::ParseError, e))?;
                Ok(handle::to_arc::<mesos_auth_tls_mapper>(mapper))
            };
            match run() {
                // SAFETY: checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// How many rules the mapper has.
    ///
    /// # Safety
    ///
    /// `mapper` NULL or live; `out_n` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_tls_mapper_len(
        mapper: *const mesos_auth_tls_mapper,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(mapper, out_n, "out_n", |m| Ok(m.len())) }
        }
    }

    /// Maps a client leaf certificate (`der_len` bytes of DER) to a
    /// principal. The certificate must already have been verified by the
    /// caller's TLS stack (chain, dates, clientAuth usage): this function
    /// does not verify it. The issuer DN the rules see is the one in the
    /// leaf. On success the principal (at most 256 bytes; a 257-byte buffer
    /// always suffices) is written to `buf` as a NUL-terminated string and
    /// its length to `*out_n`. A certificate that maps to no principal gives
    /// `MESOS_AUTH_RESULT_REJECTED`, with the reason in `mesos_auth_last_error` (for the local
    /// log, not for the peer): close the connection. `audit` may be NULL;
    /// otherwise the outcome is recorded.
    ///
    /// # Safety
    ///
    /// `mapper` NULL or live; `der` valid for `der_len` bytes; `audit` NULL
    /// or live; `buf` valid for `len` bytes; `out_n` for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_tls_mapper_map_der(
        mapper: *const mesos_auth_tls_mapper,
        der: *const u8,
        der_len: usize,
        audit: *const mesos_auth_audit,
        buf: *mut c_char,
        len: usize,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get_text(mapper, buf, len, out_n, |m| {
                    let der = handle::bytes(der, der_len, "der")?;
                    if der.is_empty() {
                        return Err(fail(mesos_auth_result::InvalidParameter, "der is empty"));
                    }
                    let sink = audit::optional_sink(audit)?;
                    let leaf = mesos_auth::tls::VerifiedLeaf::from_der_verified_elsewhere(
                        der.to_vec().into(),
                    );
                    let result = match &sink {
                        Some(s) => m.map_audited(&leaf, &***s),
                        None => m.map(&leaf),
                    };
                    result
                        .map(|p| p.as_str().to_owned())
                        .map_err(|rejection| fail(mesos_auth_result::Rejected, rejection))
                })
            }
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free` (each reference is freed exactly once;
    /// a second `_free` of one returns `MESOS_AUTH_RESULT_WRONG_HANDLE`).
    ///
    /// # Safety
    ///
    /// `mapper` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_tls_mapper_up_ref(
        mapper: *const mesos_auth_tls_mapper,
        out: *mut *const mesos_auth_tls_mapper,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(mapper, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op. A reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE` (the object,
    /// which others may still hold, is untouched).
    ///
    /// # Safety
    ///
    /// `mapper` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_tls_mapper_free(
        mapper: *const mesos_auth_tls_mapper,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(mapper) }
        }
    }
}
