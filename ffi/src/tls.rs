//! The TLS identity mapper: verified client certificates to principals,
//! with rule sets swapped in whole while in use.

use std::ffi::c_char;

use mesos_auth::Reloadable;
use mesos_auth::tls::{MAX_RULE_FILE_LEN, Mapper};

use crate::audit::{self, mesos_auth_audit};
use crate::handle::{self, Castable, Kind, Ownership};
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result};

/// A compiled TLS mapping rule set being served, reloadable while in use.
///
/// Thread safety: shared and reference-counted. Every function taking a
/// `const mesos_auth_tls_mapper *` may be called from any number of threads
/// at once, reloads included: a reload compiles the new rule set first and
/// swaps it in atomically, so each mapping sees the old rule set or the new
/// one, never a mix; an invalid rule set is refused and the old one keeps
/// serving. Mappings never block on a reload.
pub struct mesos_auth_tls_mapper {
    _private: [u8; 0],
}

/// The rule set a mapper handle serves, and what may stop it serving.
pub(crate) struct ServedRules {
    rules: Reloadable<Mapper>,
    /// The ZooKeeper watches feeding this mapper: any of them past its
    /// fail-closed bound makes every mapping fail.
    #[cfg(feature = "zk")]
    watches: crate::zk::FreshnessGate,
}

impl ServedRules {
    fn new(mapper: Mapper) -> Self {
        Self {
            rules: Reloadable::new(mapper),
            #[cfg(feature = "zk")]
            watches: crate::zk::FreshnessGate::default(),
        }
    }

    /// Compiles `text` and swaps it in, returning the new generation; an
    /// invalid or oversized rule set is refused and the old one kept.
    pub(crate) fn reload_text(&self, text: &str) -> Result<u64, mesos_auth_result> {
        if text.len() as u64 > MAX_RULE_FILE_LEN {
            return Err(fail(
                mesos_auth_result::LimitExceeded,
                format_args!(
                    "the rule file is too large: {} bytes, more than the limit of {MAX_RULE_FILE_LEN}",
                    text.len()
                ),
            ));
        }
        self.rules
            .try_reload(|_| Mapper::from_json(text))
            .map_err(|e| fail(mesos_auth_result::ParseError, e))
    }

    /// The watches gating this mapper (the ZooKeeper watch attaches itself).
    #[cfg(feature = "zk")]
    pub(crate) fn watches(&self) -> &crate::zk::FreshnessGate {
        &self.watches
    }

    /// Whether mappings may be made now: always, unless a ZooKeeper watch
    /// feeding this mapper fails closed.
    #[inline(always)]
    fn check_fresh(&self) -> Result<(), mesos_auth_result> {
        #[cfg(feature = "zk")]
        self.watches.check()?;
        Ok(())
    }
}

impl Castable for mesos_auth_tls_mapper {
    type RustType = ServedRules;
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
                Ok(handle::to_arc::<mesos_auth_tls_mapper>(ServedRules::new(mapper)))
            };
            match run() {
                // SAFETY: checked non-null; writable by contract.
                Ok(h) => unsafe { handle::write_out(out, h) },
                Err(e) => e,
            }
        }
    }

    /// How many rules the rule set being served has.
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
            unsafe { handle::get(mapper, out_n, "out_n", |m| Ok(m.rules.with(|r, _| r.len()))) }
        }
    }

    /// Compiles a new rule file (`len` bytes of UTF-8 JSON at `rules`, as
    /// `mesos_auth_tls_mapper_new`) and swaps it in whole: mappings already
    /// running finish with the old rule set, later ones use the new one.
    /// `*out_generation` gets the new generation. An invalid rule file gives
    /// `MESOS_AUTH_RESULT_PARSE_ERROR` (`mesos_auth_last_error` says where:
    /// line:column, JSON path), one over the size limit
    /// `MESOS_AUTH_RESULT_LIMIT_EXCEEDED`; either way the old rule set keeps
    /// serving and nothing is written. The text may be freed as soon as the
    /// call returns.
    ///
    /// # Safety
    ///
    /// `mapper` NULL or live; `rules` valid for `len` bytes;
    /// `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_tls_mapper_reload_buffer(
        mapper: *const mesos_auth_tls_mapper,
        rules: *const c_char,
        len: usize,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(mapper, out_generation, "out_generation", |m| {
                    m.reload_text(handle::string(rules, len, "rules")?)
                })
            }
        }
    }

    /// The generation of the rule set being served (0 for the first, +1 per
    /// successful reload).
    ///
    /// # Safety
    ///
    /// `mapper` NULL or live; `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_tls_mapper_generation(
        mapper: *const mesos_auth_tls_mapper,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(mapper, out_generation, "out_generation", |m| Ok(m.rules.generation()))
            }
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
    /// otherwise the outcome is recorded. One call maps against one whole
    /// rule set (the one served when it started), whatever reloads run
    /// meanwhile. While a ZooKeeper watch feeding this mapper
    /// (`mesos_auth_zk_watch_tls_rules`) is past its fail-closed bound,
    /// every certificate is refused with `MESOS_AUTH_RESULT_STALE`: close
    /// the connection.
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
                    m.check_fresh()?;
                    let leaf = mesos_auth::tls::VerifiedLeaf::from_der_verified_elsewhere(
                        der.to_vec().into(),
                    );
                    // One snapshot for the whole mapping: a reload meanwhile
                    // cannot mix two rule sets.
                    let result = m.rules.with(|rules, _| match &sink {
                        Some(s) => rules.map_audited(&leaf, &***s),
                        None => rules.map(&leaf),
                    });
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
