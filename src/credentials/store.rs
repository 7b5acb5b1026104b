//! The compiled, immutable credential store.

use std::borrow::Cow;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use super::error::CredentialsError;
use super::format::ScramSha256Keys;
use crate::hmac_md5::HmacMd5Key;
use crate::{Principal, Secret};

mod cram_index;
use cram_index::{CramIndex, KeySource};

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
    ///
    /// Boxed, so that moving the credential (a `Vec` growing, a file's
    /// entries collected into a store) moves a pointer and leaves no copy of
    /// the states behind; wiped on drop.
    CramMd5State {
        /// MD5 state after compressing key ⊕ ipad.
        inner: Box<[u32; 4]>,
        /// MD5 state after compressing key ⊕ opad.
        outer: Box<[u32; 4]>,
    },
    /// SCRAM-SHA-256 salt, iteration count, `StoredKey` and `ServerKey`
    /// (RFC 5802/7677): enough to run SCRAM as a server, not to log in.
    ScramSha256(ScramSha256Keys),
}

// `Plain` and `ScramSha256` wipe themselves; the CRAM-MD5 states are plain
// arrays, as login-equivalent for CRAM-MD5 as the password (threats.md T4).
impl Drop for StoredSecret {
    fn drop(&mut self) {
        if let Self::CramMd5State { inner, outer } = self {
            (**inner).zeroize();
            (**outer).zeroize();
        }
    }
}

impl zeroize::ZeroizeOnDrop for StoredSecret {}

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

/// The result of looking up a principal's CRAM-MD5 key.
///
/// Always holds a key: for an unknown principal (or one without a
/// CRAM-MD5-capable secret) it is the store's dummy key, chosen without a
/// branch by a look-up that does the same work and touches the same amount
/// of memory for every name of a given length, so timing does not reveal who
/// exists (threats.md SA-8). Only [`known`](Self::known) and
/// [`credential`](Self::credential) tell the cases apart; ask them after
/// the decision and never let them reach the peer.
#[derive(Clone)]
pub struct CramMd5Lookup<'s> {
    key: HmacMd5Key,
    // 1 or 0 (see `cram_index::Found`).
    exists: u8,
    known: u8,
    index: u32,
    entries: &'s [Credential],
}

impl<'s> CramMd5Lookup<'s> {
    /// Whether the principal exists and has a CRAM-MD5-capable secret.
    pub fn known(&self) -> bool {
        self.known == 1
    }

    /// The stored credential, if the principal exists at all (it may still
    /// be unable to answer CRAM-MD5: an empty secret, or SCRAM keys only).
    /// Found by the same look-up as the key.
    pub fn credential(&self) -> Option<&'s Credential> {
        if self.exists == 1 {
            self.entries.get(self.index as usize)
        } else {
            None
        }
    }

    /// [`known`](Self::known) as a constant-time flag: 1 or 0.
    pub(crate) fn known_flag(&self) -> u8 {
        self.known
    }

    /// Whether the principal exists, as a constant-time flag: 1 or 0.
    pub(crate) fn exists_flag(&self) -> u8 {
        self.exists
    }

    /// HMAC-MD5 of `message` under this key.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 16] {
        self.key.mac(message)
    }
}

impl std::fmt::Debug for CramMd5Lookup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CramMd5Lookup")
            .field("known", &self.known())
            .finish_non_exhaustive()
    }
}

/// An immutable set of credentials with O(1) look-up.
///
/// `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct CredentialStore {
    /// In input order; `cram` points into it.
    entries: Vec<Credential>,
    // Names and CRAM-MD5 keys, in a table whose CRAM-MD5 look-up costs the
    // same for known and unknown names (see `cram_index`). Keyed SipHash
    // with a fresh OS-random key per store, so attacker chosen principals
    // cannot flood one bucket (threats.md CS-13).
    cram: CramIndex,
    // Keeps `verify_password` busy in an empty store.
    dummy_secret: Secret,
    // What made-up SCRAM keys look like: the store's most common iteration
    // count and salt length.
    profile: Profile,
}

/// How a store's typical SCRAM credential looks, computed once per store.
#[derive(Debug, Clone, Copy)]
struct Profile {
    /// The most common SCRAM iteration count.
    iterations: u32,
    /// The most common SCRAM salt length.
    salt_len: usize,
}

impl Profile {
    /// Most common values win; ties go to the larger count and the longer
    /// salt, so the answer does not depend on the order of the file.
    fn of(scram: &[&ScramSha256Keys]) -> Self {
        Self {
            iterations: mode(scram.iter().map(|k| k.iterations()))
                .unwrap_or(super::format::MIN_SCRAM_ITERATIONS),
            // The length `StoredSecret::scram_sha256_from` writes.
            salt_len: mode(scram.iter().map(|k| k.salt().len())).unwrap_or(16),
        }
    }
}

/// The most common value, the largest among equally common ones.
fn mode<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts = std::collections::BTreeMap::new();
    for v in values {
        *counts.entry(v).or_insert(0usize) += 1;
    }
    // `max_by_key` keeps the last maximum: the largest value among ties.
    counts.into_iter().max_by_key(|&(_, n)| n).map(|(v, _)| v)
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
        let entries: Vec<Credential> = credentials.into_iter().collect();
        // One pass over the entries for the names and the SCRAM profile.
        let mut names: Vec<(&Principal, bool)> = Vec::with_capacity(entries.len());
        let mut scram = Vec::new();
        for c in &entries {
            names.push((&c.principal, has_cram_md5_key(&c.secret)));
            if let StoredSecret::ScramSha256(k) = &c.secret {
                scram.push(k);
            }
        }
        let profile = Profile::of(&scram);
        drop(scram);
        let dummy_secret = random_secret();
        let dummy = HmacMd5Key::from_secret(dummy_secret.expose());
        // One table answers both the CRAM-MD5 and the by-name look-up, and
        // finds the duplicates: one hash per name.
        let cram = CramIndex::build(
            &names,
            |i| {
                entries
                    .get(i)
                    .map_or(KeySource::None, |c| key_source(&c.secret))
            },
            &dummy,
        )
        .map_err(|d| CredentialsError::DuplicatePrincipal {
            principal: d.principal,
            first: d.first,
            second: d.second,
        })?;
        drop(names);
        Ok(Self {
            entries,
            cram,
            dummy_secret,
            profile,
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
    ///
    /// A plain hash-map look-up: quicker for a miss than for a hit. Checks
    /// that must not reveal who exists use [`cram_md5_key`](Self::cram_md5_key),
    /// [`verify_password`](Self::verify_password) or
    /// [`scram_sha256`](Self::scram_sha256).
    pub fn get(&self, principal: &str) -> Option<&Credential> {
        let entry = self.entries.get(self.cram.position(principal)?)?;
        // The tags matched; a different name with the same tag is
        // infeasible, but a plain look-up can afford to be exact.
        (entry.principal.as_str() == principal).then_some(entry)
    }

    /// Every credential, in no particular order (the table's, which is
    /// randomly keyed: callers must not rely on any order).
    pub fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.cram.positions().filter_map(|i| self.entries.get(i))
    }

    /// The SCRAM-SHA-256 keys of `principal`, or made-up keys if it has none
    /// (unknown, or stored in another form).
    ///
    /// Made-up keys look like the store's own (RFC 5802 §5.1): the most
    /// common iteration count and salt length among its SCRAM credentials,
    /// and a salt that is the same for a given name on every call and every
    /// reload, derived from the name under a key drawn once per process.
    ///
    /// Plaintext credentials get no keys here: deriving them costs a PBKDF2
    /// run per principal; convert the file to `{SCRAM-SHA-256}` instead.
    pub fn scram_sha256(&self, principal: &str) -> ScramLookup<'_> {
        match self.find(principal).map(Credential::secret) {
            Some(StoredSecret::ScramSha256(keys)) => ScramLookup {
                keys: Cow::Borrowed(keys),
                known: true,
            },
            _ => ScramLookup {
                keys: Cow::Owned(self.dummy_scram(principal)),
                known: false,
            },
        }
    }

    /// Checks a password as HTTP Basic does, in constant time (threats.md
    /// CS-14).
    ///
    /// The principal is found by the look-up CRAM-MD5 uses, which costs the
    /// same whether it exists. An unknown name then pays for the check of a
    /// real principal picked by the name's keyed hash (always the same one
    /// for a given name): that principal's form and, for `{SCRAM-SHA-256}`,
    /// its PBKDF2 iteration count, on memory as warm as any principal's. The
    /// outcome is discarded, so it costs what a wrong password for a known
    /// principal costs. An empty stored secret never matches (Mesos let
    /// `user:` in). For a `{CRAM-MD5}` credential the password's HMAC-MD5
    /// states are compared; for `{SCRAM-SHA-256}` PBKDF2 runs at the stored
    /// iteration count, which is slow by design.
    pub fn verify_password(&self, principal: &str, password: &[u8]) -> bool {
        let found = self.cram.find(principal);
        // On a miss `index` is the tag-picked stand-in, always in bounds.
        let verified = match self.entries.get(found.index as usize) {
            Some(entry) => password_matches(entry.secret(), password),
            // Only an empty store has no stand-in.
            None => {
                let _ = self.dummy_secret.verify(password);
                false
            }
        };
        bool::from(Choice::from(u8::from(verified) & found.exists))
    }

    /// The credential of `principal` by the constant-time look-up (the same
    /// work whether it exists; matched by keyed tag, see `cram_index`).
    fn find(&self, principal: &str) -> Option<&Credential> {
        let found = self.cram.find(principal);
        if found.exists == 1 {
            self.entries.get(found.index as usize)
        } else {
            None
        }
    }

    /// Made-up SCRAM keys for `principal`, shaped like the store's own.
    fn dummy_scram(&self, principal: &str) -> ScramSha256Keys {
        dummy_scram(
            process_key(),
            self.profile.iterations,
            self.profile.salt_len,
            principal,
        )
    }

    /// The CRAM-MD5 key of `principal`, or the dummy key if it has none.
    ///
    /// Constant time with respect to whether `principal` exists or has a
    /// CRAM-MD5 key: the cost depends on the name's length only.
    pub fn cram_md5_key(&self, principal: &str) -> CramMd5Lookup<'_> {
        let found = self.cram.find(principal);
        CramMd5Lookup {
            key: found.key,
            exists: found.exists,
            known: found.known,
            index: found.index,
            entries: &self.entries,
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

/// Whether `password` matches a stored secret: the same work whatever the
/// outcome.
fn password_matches(secret: &StoredSecret, password: &[u8]) -> bool {
    match secret {
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

/// Whether a stored secret can answer CRAM-MD5.
fn has_cram_md5_key(secret: &StoredSecret) -> bool {
    match secret {
        // An empty secret never authenticates (Cyrus refuses it too).
        StoredSecret::Plain(s) => !s.is_empty(),
        StoredSecret::CramMd5State { .. } => true,
        StoredSecret::ScramSha256(_) => false,
    }
}

/// Where the CRAM-MD5 key of a stored secret comes from, if [it has
/// one](has_cram_md5_key).
fn key_source(secret: &StoredSecret) -> KeySource<'_> {
    match secret {
        StoredSecret::Plain(s) if !s.is_empty() => KeySource::Secret(s.expose()),
        StoredSecret::CramMd5State { inner, outer } => {
            KeySource::Key(HmacMd5Key::from_states(**inner, **outer))
        }
        StoredSecret::Plain(_) | StoredSecret::ScramSha256(_) => KeySource::None,
    }
}

/// Whether two pairs of HMAC-MD5 chaining states are equal, in constant time.
fn states_eq(a: (&[u32; 4], &[u32; 4]), b: (&[u32; 4], &[u32; 4])) -> bool {
    let eq =
        a.0.iter()
            .chain(a.1)
            .zip(b.0.iter().chain(b.1))
            .fold(Choice::from(1), |acc, (x, y)| acc & x.ct_eq(y));
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

/// A key drawn from the OS once per process, for values that must stay the
/// same across reloads but be unpredictable: the made-up SCRAM salts. A new
/// one per store would give an unknown name a new salt at every reload,
/// while real principals keep theirs.
fn process_key() -> &'static [u8; 32] {
    use rand_core::{OsRng, RngCore};
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        key
    })
}

/// Made-up SCRAM keys for an unknown principal: salt and keys are keyed
/// hashes of the name, so asking twice, or after a reload, gives the same
/// answer (RFC 5802 §5.1 advice against revealing who exists). No PBKDF2
/// runs here; random-looking keys are all a dummy needs.
fn dummy_scram(
    key: &[u8; 32],
    iterations: u32,
    salt_len: usize,
    principal: &str,
) -> ScramSha256Keys {
    let part = |label: &[u8], block: u8| {
        let mut msg = Vec::with_capacity(label.len() + 1 + principal.len());
        msg.extend_from_slice(label);
        msg.push(block);
        msg.extend_from_slice(principal.as_bytes());
        hmac_sha256(key, &msg)
    };
    let stored = part(b"mesos-auth dummy StoredKey\0", 0);
    let server = part(b"mesos-auth dummy ServerKey\0", 0);
    let salt: Vec<u8> = (0..=u8::MAX)
        .flat_map(|block| part(b"mesos-auth dummy salt\0", block))
        .take(salt_len)
        .collect();
    // The profile's values come from credentials that passed `new`; the
    // fallback (a 16-byte salt) only keeps this panic-free.
    ScramSha256Keys::new(&salt, iterations, stored, server).unwrap_or_else(|_| {
        let mut short = [0u8; 16];
        for (d, s) in short.iter_mut().zip(&salt) {
            *d = *s;
        }
        ScramSha256Keys::dummy(short, iterations, stored, server)
    })
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
    #[cfg(target_pointer_width = "64")]
    fn a_credential_is_six_words() {
        // What a store of a million moves and reads: every form's secret
        // is behind one pointer (two for the CRAM-MD5 states), and the
        // principal is three words, its name inline up to 23 bytes (a
        // word more than a shared pointer, but no allocation of its own).
        assert_eq!(size_of::<StoredSecret>(), 24);
        assert_eq!(size_of::<Principal>(), 24);
        assert_eq!(size_of::<Credential>(), 48);
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
