//! The compiled, immutable credential store.

use std::collections::HashMap;

use crate::hmac_md5::HmacMd5Key;
use crate::{Principal, Secret};

/// How a credential's secret is kept.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoredSecret {
    /// The password itself, as Mesos keeps it.
    Plain(Secret),
    /// The HMAC-MD5 inner and outer chaining states (Dovecot's `CRAM-MD5`
    /// scheme): enough to check CRAM-MD5, not enough to log in elsewhere.
    CramMd5State {
        /// MD5 state after compressing key ⊕ ipad.
        inner: [u32; 4],
        /// MD5 state after compressing key ⊕ opad.
        outer: [u32; 4],
    },
}

/// One principal and its secret.
#[derive(Debug)]
pub struct Credential {
    principal: Principal,
    secret: StoredSecret,
}

impl Credential {
    /// A credential with a plaintext secret.
    pub fn plain(principal: Principal, secret: Secret) -> Self {
        Self {
            principal,
            secret: StoredSecret::Plain(secret),
        }
    }

    /// A credential in any stored form.
    pub fn new(principal: Principal, secret: StoredSecret) -> Self {
        Self { principal, secret }
    }

    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The stored secret.
    pub fn secret(&self) -> &StoredSecret {
        &self.secret
    }
}

/// A store entry, compiled for fast checks.
#[derive(Debug)]
struct Entry {
    credential: Credential,
    /// Present for every form that can answer CRAM-MD5.
    cram_md5: Option<HmacMd5Key>,
}

/// The result of looking up a principal's CRAM-MD5 key.
///
/// Always holds a key: for an unknown principal it is the store's dummy key,
/// so the caller does exactly the same work either way and timing does not
/// reveal who exists. Only `known` tells them apart; it must not reach the
/// peer.
#[derive(Debug, Clone, Copy)]
pub struct CramMd5Lookup<'s> {
    key: &'s HmacMd5Key,
    known: bool,
}

impl CramMd5Lookup<'_> {
    /// Whether the principal exists and has a CRAM-MD5-capable secret.
    pub fn known(&self) -> bool {
        self.known
    }

    /// HMAC-MD5 of `message` under this key.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 16] {
        self.key.mac(message)
    }
}

/// An immutable set of credentials with O(1) look-up.
///
/// `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct CredentialStore {
    // std's HashMap uses SipHash with per-process random keys, so attacker
    // chosen principals cannot flood one bucket (threats.md CS-13).
    entries: HashMap<Principal, Entry>,
    dummy: HmacMd5Key,
}

/// Why credentials could not be loaded or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The same principal appears twice.
    #[error("duplicate principal `{principal}` (entries {first} and {second})")]
    DuplicatePrincipal {
        /// The principal.
        principal: Principal,
        /// Position (0-based) of the first entry.
        first: usize,
        /// Position (0-based) of the repeated entry.
        second: usize,
    },
}

impl CredentialStore {
    /// Builds a store, refusing duplicate principals.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::DuplicatePrincipal`] naming both positions.
    pub fn from_credentials(
        credentials: impl IntoIterator<Item = Credential>,
    ) -> Result<Self, CredentialsError> {
        let mut entries: HashMap<Principal, (usize, Entry)> = HashMap::new();
        for (i, credential) in credentials.into_iter().enumerate() {
            if let Some((first, _)) = entries.get(&credential.principal) {
                return Err(CredentialsError::DuplicatePrincipal {
                    principal: credential.principal.clone(),
                    first: *first,
                    second: i,
                });
            }
            let cram_md5 = match &credential.secret {
                StoredSecret::Plain(s) => Some(HmacMd5Key::from_secret(s.expose())),
                StoredSecret::CramMd5State { inner, outer } => {
                    Some(HmacMd5Key::from_states(*inner, *outer))
                }
            };
            entries.insert(
                credential.principal.clone(),
                (
                    i,
                    Entry {
                        credential,
                        cram_md5,
                    },
                ),
            );
        }
        Ok(Self {
            entries: entries.into_iter().map(|(k, (_, e))| (k, e)).collect(),
            dummy: dummy_key(),
        })
    }

    /// Number of principals.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The credential of `principal`, if any.
    pub fn get(&self, principal: &str) -> Option<&Credential> {
        self.entries.get(principal).map(|e| &e.credential)
    }

    /// Every credential, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.entries.values().map(|e| &e.credential)
    }

    /// The CRAM-MD5 key of `principal`, or the dummy key if it has none.
    pub fn cram_md5_key(&self, principal: &str) -> CramMd5Lookup<'_> {
        match self
            .entries
            .get(principal)
            .and_then(|e| e.cram_md5.as_ref())
        {
            Some(key) => CramMd5Lookup { key, known: true },
            None => CramMd5Lookup {
                key: &self.dummy,
                known: false,
            },
        }
    }
}

/// A key nobody knows, made fresh for every store.
fn dummy_key() -> HmacMd5Key {
    use rand_core::{OsRng, RngCore};
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut *bytes);
    HmacMd5Key::from_secret(&*bytes)
}

// INVARIANT: the store is shared across threads by reference.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CredentialStore>();
};

#[cfg(test)]
mod test {
    use super::*;

    fn p(s: &str) -> Principal {
        Principal::new(s).unwrap()
    }

    #[test]
    fn lookups() {
        let store = CredentialStore::from_credentials([
            Credential::plain(p("tim"), Secret::new(b"tanstaaftanstaaf")),
            Credential::plain(p("bob"), Secret::new(b"x")),
        ])
        .unwrap();
        assert_eq!(store.len(), 2);
        let tim = store.cram_md5_key("tim");
        assert!(tim.known());
        let mac = tim.mac(b"<1896.697170952@postoffice.reston.mci.net>");
        assert_eq!(mac[..4], [0xb9, 0x13, 0xa6, 0x02]);
        let nobody = store.cram_md5_key("nobody");
        assert!(!nobody.known());
        assert_ne!(
            nobody.mac(b"<1@x>"),
            store.cram_md5_key("bob").mac(b"<1@x>")
        );
    }

    #[test]
    fn duplicates_are_refused() {
        let err = CredentialStore::from_credentials([
            Credential::plain(p("a"), Secret::new(b"1")),
            Credential::plain(p("b"), Secret::new(b"2")),
            Credential::plain(p("a"), Secret::new(b"3")),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            CredentialsError::DuplicatePrincipal {
                principal: p("a"),
                first: 0,
                second: 2
            }
        );
        assert!(!err.to_string().contains('3'));
    }
}
