//! JSON Web Key Sets (RFC 7517) read strictly and compiled into verification
//! keys by `kid`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use zeroize::Zeroizing;

use crate::json::{self, Json, JsonPath, Member};

use super::alg::{Alg, KeyKind};
use super::error::BearerError;
use super::hs::HmacKeys;
use super::read::Reader;

/// Most keys one set may hold (issuers publish a handful; rotation overlaps
/// two or three).
pub const MAX_KEYS: usize = 64;
/// Longest `kid` accepted, in bytes.
pub const MAX_KID_LEN: usize = 256;
/// Smallest RSA modulus accepted, in bits (RFC 7518 §3.3 says 2048).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (the backend's own limit).
pub const MAX_RSA_BITS: usize = 8192;
/// Shortest HMAC secret accepted, in bytes (RFC 7518 §3.2: at least the
/// hash size; 32 for HS256).
pub const MIN_SECRET_LEN: usize = 32;

/// Members that only a private or secret key has (RFC 7518 §6.2.2, §6.3.2,
/// §6.4.1; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

const KNOWN: [&str; 16] = [
    "kty", "kid", "alg", "use", "key_ops", "n", "e", "crv", "x", "y", "d", "p", "q", "dp", "dq",
    "qi",
];

/// One verification key.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) kid: Option<Arc<str>>,
    /// The key's own `alg`, if the document pinned one.
    pub(crate) alg: Option<Alg>,
    pub(crate) kind: KeyKind,
    pub(crate) verifier: Verifier,
}

/// What checks a signature: one form per key, so a shared secret is held
/// once (as the prepared HMAC keys), not also as a backend key no path
/// reads.
#[derive(Clone)]
pub(crate) enum Verifier {
    /// RSA, EC or Ed25519: the backend's key.
    Public(DecodingKey),
    /// A shared secret, prepared once for each HMAC algorithm (boxed: the
    /// three prepared states are several times a public key's size).
    Hmac(Box<HmacKeys>),
}

impl Key {
    /// Whether this key may verify `alg`: the key kind must fit, and a
    /// pinned `alg` must be that one (alg confusion, RFC 8725 §3.1).
    pub(crate) fn allows(&self, alg: Alg) -> bool {
        alg.key_kind() == self.kind && self.alg.is_none_or(|a| a == alg)
    }

    /// Whether `tag` is `alg`'s HMAC of `input` under this key; `false`
    /// for a public key or a non-HMAC `alg`.
    pub(crate) fn verify_hmac(&self, alg: Alg, input: &[u8], tag: &[u8]) -> bool {
        match &self.verifier {
            Verifier::Hmac(k) => k.verify(alg, input, tag),
            Verifier::Public(_) => false,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self.alg {
            Some(a) => format!("{} for {a}", self.kind.describe()),
            None => self.kind.describe().to_owned(),
        }
    }
}

/// A key set, compiled: keys by `kid`.
///
/// Either every key is public (RSA, EC P-256/P-384, Ed25519), read by
/// [`Jwks::from_json`], or every key is a shared secret (`oct`, for HS256
/// and friends), read by [`Jwks::shared_secrets_from_json`]: the two never
/// mix, so a public key can never be taken for an HMAC secret.
#[derive(Clone)]
pub struct Jwks {
    keys: Vec<Key>,
    by_kid: HashMap<Box<str>, usize>,
    shared_secret: bool,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only kids and kinds: a shared-secret set must not print its keys.
        f.debug_struct("Jwks")
            .field(
                "kids",
                &self
                    .keys
                    .iter()
                    .map(|k| k.kid.as_deref())
                    .collect::<Vec<_>>(),
            )
            .field("shared_secret", &self.shared_secret)
            .finish()
    }
}

impl Jwks {
    /// Reads a JWKS of public keys. Refused: private key material (`d`,
    /// `p`, ...), `oct` keys, repeated `kid`s, two keys without a `kid`,
    /// unsupported `kty`/`crv`, RSA moduli under 2048 bits, an `alg` that
    /// does not fit the key, a set with no key for signatures. A key whose
    /// `use` is not `sig` or whose `key_ops` lacks `verify` (an identity
    /// provider's encryption key) is set aside, after the check for private
    /// material. Unknown members are ignored (RFC 7517 §4).
    ///
    /// # Errors
    ///
    /// The first problem, with its line:column and JSON path.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BearerError> {
        Self::read(bytes, false)
    }

    /// Reads a JWKS of shared secrets (`kty: oct`, the secret in `k`), for
    /// HS256/HS384/HS512. Every key must be `oct`, at least
    /// [`MIN_SECRET_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// As [`from_json`](Self::from_json).
    pub fn shared_secrets_from_json(bytes: &[u8]) -> Result<Self, BearerError> {
        Self::read(bytes, true)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty (never, for a parsed set).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid`s, in document order (`None` for a key without one).
    pub fn kids(&self) -> impl Iterator<Item = Option<&str>> {
        self.keys.iter().map(|k| k.kid.as_deref())
    }

    /// Whether this is a shared-secret set.
    pub fn is_shared_secret(&self) -> bool {
        self.shared_secret
    }

    /// The key a token names (`kid`), or the only key when it names none.
    pub(crate) fn find(&self, kid: Option<&str>) -> Result<&Key, super::error::Reason> {
        use super::error::Reason;
        match kid {
            // A handful of keys is the usual set: comparing the kids is
            // cheaper than hashing one (SipHash) for the map.
            Some(kid) if self.keys.len() <= 8 => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or(Reason::UnknownKid),
            Some(kid) => self
                .by_kid
                .get(kid)
                .and_then(|&i| self.keys.get(i))
                .ok_or(Reason::UnknownKid),
            None => match self.keys.as_slice() {
                [only] => Ok(only),
                _ => Err(Reason::KidRequired),
            },
        }
    }

    fn read(bytes: &[u8], shared_secret: bool) -> Result<Self, BearerError> {
        let (r, doc) = Reader::parse("JWKS", bytes)?;
        let root = JsonPath::root();
        let members = r.object(&doc, &root, &["keys"], false)?;
        let keys_json = json::first(members, "keys")
            .ok_or_else(|| r.error(doc.span, &root, "`keys` is missing".to_owned()))?;
        let path = root.key("keys");
        let list = r.array(&keys_json.value, &path)?;
        if list.is_empty() {
            return Err(r.error(keys_json.value.span, &path, "`keys` is empty".to_owned()));
        }
        if list.len() > MAX_KEYS {
            return Err(r.error(
                keys_json.value.span,
                &path,
                format!("{} keys, more than the limit of {MAX_KEYS}", list.len()),
            ));
        }
        let mut keys = Vec::with_capacity(list.len());
        let mut by_kid = HashMap::with_capacity(list.len());
        let mut unnamed = 0usize;
        let mut set_aside = 0usize;
        for (i, k) in list.iter().enumerate() {
            let p = path.index(i);
            let Some(key) = read_key(&r, k, &p, shared_secret)? else {
                set_aside += 1;
                continue;
            };
            match &key.kid {
                Some(kid) => {
                    if by_kid.insert(Box::from(&**kid), keys.len()).is_some() {
                        return Err(r.error(
                            k.span,
                            &p.key("kid"),
                            format!("`kid` `{}` is used by two keys", kid.escape_debug()),
                        ));
                    }
                }
                None => unnamed += 1,
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(r.error(
                keys_json.value.span,
                &path,
                format!(
                    "no key verifies signatures: all {set_aside} have a `use` other than `sig` or `key_ops` without `verify`"
                ),
            ));
        }
        if unnamed > 0 && keys.len() > 1 {
            // A token without a `kid` is only accepted against a set of one,
            // so a nameless key in a larger set could never be used.
            return Err(r.error(
                keys_json.value.span,
                &path,
                "every key needs a `kid` when the set holds more than one".to_owned(),
            ));
        }
        Ok(Self {
            keys,
            by_kid,
            shared_secret,
        })
    }
}

fn member<'j>(members: &'j [Member], name: &str) -> Option<&'j Json> {
    json::first(members, name).map(|m| &m.value)
}

fn read_key(
    r: &Reader<'_>,
    k: &Json,
    path: &JsonPath,
    shared_secret: bool,
) -> Result<Option<Key>, BearerError> {
    let mut known = KNOWN.to_vec();
    known.extend(["k", "oth"]);
    let members = r.object(k, path, &known, false)?;
    let text = |name: &str| -> Result<Option<&str>, BearerError> {
        member(members, name)
            .map(|j| r.str(j, &path.key(name)))
            .transpose()
    };
    let required = |name: &str| -> Result<&str, BearerError> {
        text(name)?.ok_or_else(|| r.error(k.span, path, format!("`{name}` is missing")))
    };
    let bytes = |name: &str| -> Result<Zeroizing<Vec<u8>>, BearerError> {
        let s = required(name)?;
        URL_SAFE_NO_PAD.decode(s).map(Zeroizing::new).map_err(|_| {
            let span = member(members, name).map_or(k.span, |j| j.span);
            r.error(
                span,
                &path.key(name),
                format!("`{name}` is not unpadded base64url"),
            )
        })
    };

    let kty = required("kty")?;
    let kty_span = member(members, "kty").map_or(k.span, |j| j.span);
    let kid = match text("kid")? {
        Some(kid) if kid.is_empty() || kid.len() > MAX_KID_LEN => {
            return Err(r.error(
                k.span,
                &path.key("kid"),
                format!("`kid` must be 1 to {MAX_KID_LEN} bytes"),
            ));
        }
        kid => kid.map(Arc::from),
    };
    // Private material first: a leaked private key in a public document is
    // worth refusing loudly, whatever else is wrong with it (and whatever
    // the key is for).
    if !shared_secret
        && let Some(m) = PRIVATE_MEMBERS
            .iter()
            .find_map(|&n| json::first(members, n))
    {
        return Err(r.error(
            m.key_span,
            &path.key(&m.key),
            format!(
                "`{}` is private key material; a JWKS for verification holds public keys only",
                m.key
            ),
        ));
    }
    // A key for something else (an identity provider's `use: enc` key for
    // encrypting to it, RFC 7517 §4.2-4.3) never verifies a signature: it
    // is set aside unread, so its own `alg` (`RSA-OAEP`, ...) does not make
    // the provider's whole set unusable.
    if text("use")?.is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if let Some(ops) = member(members, "key_ops") {
        let ops = r.strings(ops, &path.key("key_ops"))?;
        if !ops.iter().any(|o| o == "verify") {
            return Ok(None);
        }
    }
    let alg = match text("alg")? {
        None => None,
        Some(name) => Some(Alg::from_name(name).ok_or_else(|| {
            r.error(
                k.span,
                &path.key("alg"),
                format!("unsupported `alg` `{}`", name.escape_debug()),
            )
        })?),
    };

    let (kind, verifier) = match (kty, shared_secret) {
        ("oct", true) => {
            let secret = bytes("k")?;
            if secret.len() < MIN_SECRET_LEN {
                let span = member(members, "k").map_or(k.span, |j| j.span);
                return Err(r.error(
                    span,
                    &path.key("k"),
                    format!(
                        "the secret is {} bytes, fewer than {MIN_SECRET_LEN}",
                        secret.len()
                    ),
                ));
            }
            // HMAC takes a key of any length: never refused in practice.
            let keys = HmacKeys::new(&secret).ok_or_else(|| {
                r.error(
                    k.span,
                    &path.key("k"),
                    "the secret cannot key HMAC".to_owned(),
                )
            })?;
            (KeyKind::Secret, Verifier::Hmac(Box::new(keys)))
        }
        (_, true) => {
            return Err(r.error(
                kty_span,
                &path.key("kty"),
                format!(
                    "`kty` is `{}`; a shared-secret key set holds `oct` keys only",
                    kty.escape_debug()
                ),
            ));
        }
        ("RSA", false) => {
            let n = bytes("n")?;
            let e = bytes("e")?;
            let n = strip_zeros(&n);
            let bits = n
                .first()
                .map_or(0, |&b| n.len() * 8 - b.leading_zeros() as usize);
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return Err(r.error(
                    k.span,
                    &path.key("n"),
                    format!("the RSA modulus is {bits} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted"),
                ));
            }
            let e = strip_zeros(&e);
            let e_ok = e.len() <= 4 && e.last().is_some_and(|b| b & 1 == 1) && e != [1];
            if !e_ok {
                return Err(r.error(
                    k.span,
                    &path.key("e"),
                    "the RSA exponent is not an odd number from 3 to 2^32".to_owned(),
                ));
            }
            (
                KeyKind::Rsa,
                Verifier::Public(DecodingKey::from_rsa_raw_components(n, e)),
            )
        }
        ("EC", false) => {
            let crv = required("crv")?;
            let (kind, len) = match crv {
                "P-256" => (KeyKind::P256, 32),
                "P-384" => (KeyKind::P384, 48),
                other => {
                    return Err(r.error(
                        k.span,
                        &path.key("crv"),
                        format!(
                            "unsupported EC curve `{}` (P-256 and P-384 are)",
                            other.escape_debug()
                        ),
                    ));
                }
            };
            let x = bytes("x")?;
            let y = bytes("y")?;
            if x.len() != len || y.len() != len {
                return Err(r.error(
                    k.span,
                    path,
                    format!("`x` and `y` must be {len} bytes each for {crv}"),
                ));
            }
            // The uncompressed SEC1 point, as the backend expects it.
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (kind, Verifier::Public(DecodingKey::from_ec_der(&point)))
        }
        ("OKP", false) => {
            let crv = required("crv")?;
            if crv != "Ed25519" {
                return Err(r.error(
                    k.span,
                    &path.key("crv"),
                    format!(
                        "unsupported OKP curve `{}` (Ed25519 is)",
                        crv.escape_debug()
                    ),
                ));
            }
            let x = bytes("x")?;
            if x.len() != 32 {
                return Err(r.error(
                    k.span,
                    &path.key("x"),
                    "`x` must be 32 bytes for Ed25519".to_owned(),
                ));
            }
            (
                KeyKind::Ed25519,
                Verifier::Public(DecodingKey::from_ed_der(&x)),
            )
        }
        ("oct", false) => {
            return Err(r.error(
                kty_span,
                &path.key("kty"),
                "`oct` keys are shared secrets; read them with a shared-secret key set".to_owned(),
            ));
        }
        (other, false) => {
            return Err(r.error(
                kty_span,
                &path.key("kty"),
                format!(
                    "unsupported `kty` `{}` (RSA, EC and OKP are)",
                    other.escape_debug()
                ),
            ));
        }
    };
    if let Some(a) = alg
        && a.key_kind() != kind
    {
        return Err(r.error(
            k.span,
            &path.key("alg"),
            format!("`alg` `{a}` does not fit a {}", kind.describe()),
        ));
    }
    Ok(Some(Key {
        kid,
        alg,
        kind,
        verifier,
    }))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(first..).unwrap_or_default()
}
