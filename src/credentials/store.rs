//! The compiled, immutable credential store.

use std::collections::HashMap;

use std::borrow::Cow;

use subtle::ConstantTimeEq;

use super::error::CredentialsError;
use super::format::ScramSha256Keys;
use crate::hmac_md5::HmacMd5Key;
use crate::{Principal, Secret};

/// How a credential's secret is kept.
///
/// `Debug` shows the form only: the CRAM-MD5 states and SCRAM keys are
/// login-equivalent for their mechanism and are redacted like the plaintext.
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
    /// SCRAM-SHA-256 salt, iteration count, `StoredKey` and `ServerKey`
    /// (RFC 5802/7677): enough to run SCRAM as a server, not to log in.
    ScramSha256(ScramSha256Keys),
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain(s) => f.debug_tuple("Plain").field(s).finish(),
            Self::CramMd5State { .. } => f.write_str("CramMd5State(<redacted>)"),
            Self::ScramSha256(k) => f.debug_tuple("ScramSha256").field(k).finish(),
        }
    }
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
    /// Position in the input, for the duplicate error.
    position: usize,
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
    credential: Option<&'s Credential>,
}

impl<'s> CramMd5Lookup<'s> {
    /// Whether the principal exists and has a CRAM-MD5-capable secret.
    pub fn known(&self) -> bool {
        self.known
    }

    /// The stored credential, if the principal exists at all (it may still
    /// be unable to answer CRAM-MD5: an empty secret, or SCRAM keys only).
    /// Found by the same single probe as the key.
    pub fn credential(&self) -> Option<&'s Credential> {
        self.credential
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
    // Stands in for unknown principals in `verify_password` and
    // `scram_sha256`, so they do the same work as for a known one.
    dummy_secret: Secret,
    // Iteration count the made-up SCRAM keys claim: the first real SCRAM
    // credential's, so unknown principals do not stand out by it.
    dummy_iterations: u32,
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
        use std::collections::hash_map::Entry as Slot;
        let credentials = credentials.into_iter();
        // Sized once: growing would rehash and move every entry.
        let mut entries: HashMap<Principal, Entry> =
            HashMap::with_capacity(credentials.size_hint().0);
        for (i, credential) in credentials.enumerate() {
            let slot = match entries.entry(credential.principal.clone()) {
                Slot::Occupied(first) => {
                    return Err(CredentialsError::DuplicatePrincipal {
                        principal: credential.principal.clone(),
                        first: first.get().position,
                        second: i,
                    });
                }
                Slot::Vacant(slot) => slot,
            };
            let cram_md5 = match &credential.secret {
                // An empty secret never authenticates (Cyrus refuses it too).
                StoredSecret::Plain(s) if s.is_empty() => None,
                StoredSecret::Plain(s) => Some(HmacMd5Key::from_secret(s.expose())),
                StoredSecret::CramMd5State { inner, outer } => {
                    Some(HmacMd5Key::from_states(*inner, *outer))
                }
                StoredSecret::ScramSha256(_) => None,
            };
            slot.insert(Entry {
                position: i,
                credential,
                cram_md5,
            });
        }
        let dummy_iterations = entries
            .values()
            .find_map(|e| match e.credential.secret() {
                StoredSecret::ScramSha256(k) => Some(k.iterations()),
                _ => None,
            })
            .unwrap_or(super::format::MIN_SCRAM_ITERATIONS);
        let dummy_secret = random_secret();
        Ok(Self {
            entries,
            dummy: HmacMd5Key::from_secret(dummy_secret.expose()),
            dummy_secret,
            dummy_iterations,
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

    /// The SCRAM-SHA-256 keys of `principal`, or made-up keys if it has none
    /// (unknown, or stored in another form).
    ///
    /// Plaintext credentials get no keys here: deriving them costs a PBKDF2
    /// run per principal; convert the file to `{SCRAM-SHA-256}` instead.
    pub fn scram_sha256(&self, principal: &str) -> ScramLookup<'_> {
        match self.entries.get(principal).map(|e| e.credential.secret()) {
            Some(StoredSecret::ScramSha256(keys)) => ScramLookup {
                keys: Cow::Borrowed(keys),
                known: true,
            },
            _ => ScramLookup {
                keys: Cow::Owned(dummy_scram(
                    &self.dummy_secret,
                    self.dummy_iterations,
                    principal,
                )),
                known: false,
            },
        }
    }

    /// Checks a password as HTTP Basic does, in constant time (threats.md
    /// CS-14).
    ///
    /// An unknown principal is checked against a random dummy secret, so it
    /// costs the same as a wrong password for a plaintext credential. An
    /// empty stored secret never matches (Mesos let `user:` in). For a
    /// `{CRAM-MD5}` credential the password's HMAC-MD5 states are compared;
    /// for `{SCRAM-SHA-256}` PBKDF2 runs at the stored iteration count, which
    /// is slow by design.
    pub fn verify_password(&self, principal: &str, password: &[u8]) -> bool {
        let Some(entry) = self.entries.get(principal) else {
            // Same work as the plaintext path; the result is ignored.
            let _ = self.dummy_secret.verify(password);
            return false;
        };
        match entry.credential.secret() {
            StoredSecret::Plain(s) => {
                let matches = s.verify(password);
                matches && !s.is_empty()
            }
            StoredSecret::CramMd5State { inner, outer } => {
                let (i2, o2) = HmacMd5Key::from_secret(password).states();
                states_eq((inner, outer), (&i2, &o2))
            }
            StoredSecret::ScramSha256(keys) => keys.verify_password(password),
        }
    }

    /// The CRAM-MD5 key of `principal`, or the dummy key if it has none.
    pub fn cram_md5_key(&self, principal: &str) -> CramMd5Lookup<'_> {
        // One probe answers everything, so a known name does not cost extra
        // look-ups that an unknown one skips.
        let entry = self.entries.get(principal);
        match entry.and_then(|e| e.cram_md5.as_ref()) {
            Some(key) => CramMd5Lookup {
                key,
                known: true,
                credential: entry.map(|e| &e.credential),
            },
            None => CramMd5Lookup {
                key: &self.dummy,
                known: false,
                credential: entry.map(|e| &e.credential),
            },
        }
    }
}

/// The result of looking up a principal's SCRAM-SHA-256 keys.
///
/// Always holds keys: for an unknown principal (or one stored in another
/// form) they are made up, with a salt that stays the same for that name, so
/// a SCRAM server can run the exchange to its end and fail it uniformly.
#[derive(Debug, Clone)]
pub struct ScramLookup<'s> {
    keys: Cow<'s, ScramSha256Keys>,
    known: bool,
}

impl ScramLookup<'_> {
    /// Whether the principal exists and has SCRAM-SHA-256 keys.
    pub fn known(&self) -> bool {
        self.known
    }

    /// The keys (made up when [`known`](Self::known) is false).
    pub fn keys(&self) -> &ScramSha256Keys {
        &self.keys
    }
}

/// Whether two pairs of HMAC-MD5 chaining states are equal, in constant time.
fn states_eq(a: (&[u32; 4], &[u32; 4]), b: (&[u32; 4], &[u32; 4])) -> bool {
    let eq =
        a.0.iter()
            .chain(a.1)
            .zip(b.0.iter().chain(b.1))
            .fold(subtle::Choice::from(1), |acc, (x, y)| acc & x.ct_eq(y));
    bool::from(eq)
}

/// Whether two stored secrets are the same (constant time within a form).
pub(crate) fn same_secret(a: &StoredSecret, b: &StoredSecret) -> bool {
    match (a, b) {
        // Direct comparison, no hashing: hash states would leave the secret
        // in dead stack. Only the lengths show in the timing.
        (StoredSecret::Plain(x), StoredSecret::Plain(y)) => {
            bool::from(x.expose().ct_eq(y.expose()))
        }
        (
            StoredSecret::CramMd5State { inner, outer },
            StoredSecret::CramMd5State {
                inner: i2,
                outer: o2,
            },
        ) => states_eq((inner, outer), (i2, o2)),
        (StoredSecret::ScramSha256(x), StoredSecret::ScramSha256(y)) => {
            x.iterations() == y.iterations()
                && bool::from(
                    x.salt().ct_eq(y.salt())
                        & x.stored_key().ct_eq(y.stored_key())
                        & x.server_key().ct_eq(y.server_key()),
                )
        }
        _ => false,
    }
}

/// A secret nobody knows, made fresh for every store.
fn random_secret() -> Secret {
    use rand_core::{OsRng, RngCore};
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut *bytes);
    Secret::new(&*bytes)
}

/// Made-up SCRAM keys for an unknown principal. The salt depends on the
/// name, so asking twice gives the same answer (RFC 5802 §5.1 advice against
/// revealing who exists); no PBKDF2 runs, random keys are all a dummy needs.
fn dummy_scram(seed: &Secret, iterations: u32, principal: &str) -> ScramSha256Keys {
    let stored = hmac_sha256(seed.expose(), b"dummy StoredKey");
    let server = hmac_sha256(seed.expose(), b"dummy ServerKey");
    let mut salt = [0u8; 16];
    let full = hmac_sha256(seed.expose(), principal.as_bytes());
    for (d, s) in salt.iter_mut().zip(full) {
        *d = s;
    }
    ScramSha256Keys::dummy(salt, iterations, stored, server)
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    match <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
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
