//! Stored forms of a secret (syntax in the [module docs](super#stored-forms))
//! and the writers for both file formats.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::error::{CredentialsError, Problem};
use super::store::{Credential, StoredSecret};
use crate::Secret;
use crate::hmac_md5::HmacMd5Key;

/// Prefix of a literal secret that starts with `{`.
pub const PLAIN_PREFIX: &str = "{PLAIN}";
/// Prefix of a stored CRAM-MD5 state.
pub const CRAM_MD5_PREFIX: &str = "{CRAM-MD5}";
/// Prefix of stored SCRAM-SHA-256 keys.
pub const SCRAM_SHA256_PREFIX: &str = "{SCRAM-SHA-256}";

/// Fewest PBKDF2 iterations accepted when building SCRAM keys (RFC 7677
/// recommends at least 4,096).
pub const MIN_SCRAM_ITERATIONS: u32 = 4096;
/// Most PBKDF2 iterations accepted: more would let a file stall every login.
pub const MAX_SCRAM_ITERATIONS: u32 = 10_000_000;
/// Salt lengths accepted, in bytes.
pub const SCRAM_SALT_LEN: std::ops::RangeInclusive<usize> = 8..=128;

/// The SCRAM-SHA-256 keys a server keeps for one principal (RFC 5802 §3).
///
/// Not the password, but `StoredKey` with one captured exchange, or
/// `ServerKey` alone, lets an attacker impersonate; so the keys are wiped on
/// drop and `Debug` shows only the iteration count and salt length.
///
/// One pointer wide (the parts are boxed together), so that every
/// [`StoredSecret`] and [`Credential`], whatever its form, stays small: a
/// store of a million credentials moves and reads 40 bytes for each, not 104.
#[derive(Clone)]
pub struct ScramSha256Keys(Box<ScramParts>);

/// The parts of [`ScramSha256Keys`], wiped on drop.
#[derive(Clone)]
struct ScramParts {
    salt: Box<[u8]>,
    iterations: u32,
    stored_key: [u8; 32],
    server_key: [u8; 32],
}

impl ScramSha256Keys {
    /// Keys from their parts.
    ///
    /// # Errors
    ///
    /// A reason if the salt length is outside [`SCRAM_SALT_LEN`] or
    /// `iterations` is 0 or above [`MAX_SCRAM_ITERATIONS`].
    pub fn new(
        salt: &[u8],
        iterations: u32,
        stored_key: [u8; 32],
        server_key: [u8; 32],
    ) -> Result<Self, &'static str> {
        if !SCRAM_SALT_LEN.contains(&salt.len()) {
            return Err("the salt must be 8 to 128 bytes long");
        }
        if iterations == 0 || iterations > MAX_SCRAM_ITERATIONS {
            return Err("the iteration count must be 1 to 10000000");
        }
        Ok(Self(Box::new(ScramParts {
            salt: Box::from(salt),
            iterations,
            stored_key,
            server_key,
        })))
    }

    /// Derives the keys from a password (RFC 5802 §3, raw bytes, no SASLprep).
    ///
    /// # Errors
    ///
    /// As [`ScramSha256Keys::new`], and if `iterations` is below
    /// [`MIN_SCRAM_ITERATIONS`].
    pub fn derive(password: &Secret, salt: &[u8], iterations: u32) -> Result<Self, &'static str> {
        if iterations < MIN_SCRAM_ITERATIONS {
            return Err("at least 4096 iterations are needed");
        }
        // Checks bounds before the expensive part.
        Self::new(salt, iterations, [0; 32], [0; 32])?;
        let (stored_key, server_key) = scram_keys(password.expose(), salt, iterations);
        Self::new(salt, iterations, stored_key, server_key)
    }

    /// Made-up keys for unknown principals; `iterations` comes from a
    /// credential that passed [`ScramSha256Keys::new`] (or is the minimum).
    pub(crate) fn dummy(
        salt: [u8; 16],
        iterations: u32,
        stored_key: [u8; 32],
        server_key: [u8; 32],
    ) -> Self {
        Self(Box::new(ScramParts {
            salt: Box::from(salt.as_slice()),
            iterations,
            stored_key,
            server_key,
        }))
    }

    /// The salt.
    pub fn salt(&self) -> &[u8] {
        &self.0.salt
    }

    /// The PBKDF2 iteration count.
    pub fn iterations(&self) -> u32 {
        self.0.iterations
    }

    /// `StoredKey = SHA-256(ClientKey)`.
    pub fn stored_key(&self) -> &[u8; 32] {
        &self.0.stored_key
    }

    /// `ServerKey = HMAC(SaltedPassword, "Server Key")`.
    pub fn server_key(&self) -> &[u8; 32] {
        &self.0.server_key
    }

    /// Whether `password` gives these keys (PBKDF2 at this iteration count,
    /// then a constant-time comparison of `StoredKey`).
    pub fn verify_password(&self, password: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        let (stored, mut server) = scram_keys(password, &self.0.salt, self.0.iterations);
        server.zeroize();
        bool::from(stored.ct_eq(&self.0.stored_key))
    }
}

/// `(StoredKey, ServerKey)` for a password (RFC 5802 §3).
fn scram_keys(password: &[u8], salt: &[u8], iterations: u32) -> ([u8; 32], [u8; 32]) {
    let mut salted = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut *salted);
    let mut client_key = hmac_sha256(&*salted, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    client_key.zeroize();
    let server_key = hmac_sha256(&*salted, b"Server Key");
    (stored_key, server_key)
}

impl Drop for ScramParts {
    fn drop(&mut self) {
        self.salt.zeroize();
        self.stored_key.zeroize();
        self.server_key.zeroize();
    }
}

impl ZeroizeOnDrop for ScramParts {}
impl ZeroizeOnDrop for ScramSha256Keys {}

impl std::fmt::Debug for ScramSha256Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramSha256Keys")
            .field("iterations", &self.0.iterations)
            .field("salt_len", &self.0.salt.len())
            .finish_non_exhaustive()
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here;
    // the fallback only keeps the code panic-free.
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// Which stored form to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// The password itself.
    Plain,
    /// HMAC-MD5 inner and outer states (`{CRAM-MD5}`).
    CramMd5State,
    /// SCRAM-SHA-256 salt, iterations and keys (`{SCRAM-SHA-256}`).
    ScramSha256,
}

impl StoredSecret {
    /// The CRAM-MD5 state of a password.
    pub fn cram_md5_from(secret: &Secret) -> Self {
        let (inner, outer) = HmacMd5Key::from_secret(secret.expose()).states();
        Self::CramMd5State {
            inner: Box::new(inner),
            outer: Box::new(outer),
        }
    }

    /// SCRAM-SHA-256 keys of a password with a fresh random 16-byte salt.
    ///
    /// # Errors
    ///
    /// As [`ScramSha256Keys::derive`].
    pub fn scram_sha256_from(secret: &Secret, iterations: u32) -> Result<Self, &'static str> {
        use rand_core::{OsRng, RngCore};
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        Ok(Self::ScramSha256(ScramSha256Keys::derive(
            secret, &salt, iterations,
        )?))
    }

    /// Which form this is.
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::Plain(_) => Scheme::Plain,
            Self::CramMd5State { .. } => Scheme::CramMd5State,
            Self::ScramSha256(_) => Scheme::ScramSha256,
        }
    }
}

impl Credential {
    /// This credential with its secret in the form `to`, derived from the
    /// plaintext. A credential already in that form is copied unchanged.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Convert`] when the plaintext is not available (a
    /// stored form cannot be turned into another) or SCRAM parameters are bad.
    pub fn convert(
        &self,
        to: Scheme,
        scram_iterations: u32,
    ) -> Result<Credential, CredentialsError> {
        let fail = |reason| CredentialsError::Convert {
            principal: self.principal().clone(),
            reason,
        };
        let secret = match (self.secret(), to) {
            (StoredSecret::Plain(s), Scheme::Plain) => StoredSecret::Plain(Secret::new(s.expose())),
            (StoredSecret::Plain(s), Scheme::CramMd5State) => StoredSecret::cram_md5_from(s),
            (StoredSecret::Plain(s), Scheme::ScramSha256) => {
                StoredSecret::scram_sha256_from(s, scram_iterations).map_err(fail)?
            }
            (StoredSecret::CramMd5State { inner, outer }, Scheme::CramMd5State) => {
                StoredSecret::CramMd5State {
                    inner: inner.clone(),
                    outer: outer.clone(),
                }
            }
            (StoredSecret::ScramSha256(k), Scheme::ScramSha256) => {
                StoredSecret::ScramSha256(k.clone())
            }
            _ => return Err(fail("only a plaintext secret can be converted")),
        };
        Ok(Credential::new(self.principal().clone(), secret))
    }
}

/// Parses the secret syntax of the module docs. `Ok((secret, true))` means
/// the secret had an unknown `{NAME}` prefix and was kept as plaintext
/// (allowed only when `lenient`).
pub(crate) fn decode_secret(text: &str, lenient: bool) -> Result<(StoredSecret, bool), Problem> {
    if let Some(rest) = text.strip_prefix(PLAIN_PREFIX) {
        return Ok((StoredSecret::Plain(Secret::new(rest.as_bytes())), false));
    }
    if let Some(rest) = text.strip_prefix(CRAM_MD5_PREFIX) {
        return decode_cram(rest).map(|s| (s, false));
    }
    if let Some(rest) = text.strip_prefix(SCRAM_SHA256_PREFIX) {
        return decode_scram(rest).map(|s| (s, false));
    }
    if has_scheme_prefix(text) {
        if lenient {
            return Ok((StoredSecret::Plain(Secret::new(text.as_bytes())), true));
        }
        return Err(Problem::UnknownScheme);
    }
    Ok((StoredSecret::Plain(Secret::new(text.as_bytes())), false))
}

/// `{NAME}` at the start, with `NAME` of 1 to 32 `A-Z0-9-` characters.
fn has_scheme_prefix(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('{') else {
        return false;
    };
    let name_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'-')
        .count();
    (1..=32).contains(&name_len) && rest.as_bytes().get(name_len) == Some(&b'}')
}

fn decode_cram(hex: &str) -> Result<StoredSecret, Problem> {
    let bad = |reason| Problem::StoredForm {
        scheme: "CRAM-MD5",
        reason,
    };
    if hex.len() != 64 {
        return Err(bad("expected 64 hex digits"));
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    for (out, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let (Some(&hi), Some(&lo)) = (pair.first(), pair.get(1)) else {
            return Err(bad("expected 64 hex digits"));
        };
        match (hex_val(hi), hex_val(lo)) {
            (Some(h), Some(l)) => *out = (h << 4) | l,
            _ => return Err(bad("expected 64 hex digits")),
        }
    }
    let mut words = [0u32; 8];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        let mut b = [0u8; 4];
        b.copy_from_slice(chunk);
        *w = u32::from_le_bytes(b);
    }
    let [i0, i1, i2, i3, o0, o1, o2, o3] = words;
    words.zeroize();
    Ok(StoredSecret::CramMd5State {
        inner: Box::new([i0, i1, i2, i3]),
        outer: Box::new([o0, o1, o2, o3]),
    })
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode_scram(text: &str) -> Result<StoredSecret, Problem> {
    let bad = |reason| Problem::StoredForm {
        scheme: "SCRAM-SHA-256",
        reason,
    };
    let (params, keys) = text.split_once('$').ok_or(bad(
        "expected `<iterations>:<salt>$<StoredKey>:<ServerKey>`",
    ))?;
    let (iterations, salt) = params
        .split_once(':')
        .ok_or(bad("expected `<iterations>:<salt>` before `$`"))?;
    let (stored, server) = keys
        .split_once(':')
        .ok_or(bad("expected `<StoredKey>:<ServerKey>` after `$`"))?;
    if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("the iteration count is not a decimal number"));
    }
    let iterations: u32 = iterations
        .parse()
        .map_err(|_| bad("the iteration count is too large"))?;
    let salt = Zeroizing::new(
        B64.decode(salt)
            .map_err(|_| bad("the salt is not base64"))?,
    );
    let key = |s: &str| -> Result<[u8; 32], Problem> {
        let v = Zeroizing::new(B64.decode(s).map_err(|_| bad("a key is not base64"))?);
        <[u8; 32]>::try_from(v.as_slice()).map_err(|_| bad("a key is not 32 bytes long"))
    };
    let stored_key = key(stored)?;
    let server_key = key(server)?;
    ScramSha256Keys::new(&salt, iterations, stored_key, server_key)
        .map(StoredSecret::ScramSha256)
        .map_err(bad)
}

/// The secret in the syntax of the module docs.
///
/// # Errors
///
/// A reason if a plaintext secret is not UTF-8.
pub(crate) fn encode_secret(secret: &StoredSecret) -> Result<Zeroizing<String>, &'static str> {
    match secret {
        StoredSecret::Plain(s) => {
            let text = std::str::from_utf8(s.expose()).map_err(|_| "the secret is not UTF-8")?;
            let needs_prefix = text.starts_with('{');
            let prefix = if needs_prefix { PLAIN_PREFIX } else { "" };
            let mut out = Zeroizing::new(String::with_capacity(prefix.len() + text.len()));
            out.push_str(prefix);
            out.push_str(text);
            Ok(out)
        }
        StoredSecret::CramMd5State { inner, outer } => {
            let mut out = Zeroizing::new(String::with_capacity(CRAM_MD5_PREFIX.len() + 64));
            out.push_str(CRAM_MD5_PREFIX);
            for w in inner.iter().chain(outer.iter()) {
                for b in w.to_le_bytes() {
                    push_hex(&mut out, b);
                }
            }
            Ok(out)
        }
        StoredSecret::ScramSha256(k) => {
            let salt = B64.encode(k.salt());
            let stored = B64.encode(k.stored_key());
            let server = B64.encode(k.server_key());
            let iterations = k.iterations().to_string();
            let mut out = Zeroizing::new(String::with_capacity(
                SCRAM_SHA256_PREFIX.len()
                    + iterations.len()
                    + salt.len()
                    + stored.len()
                    + server.len()
                    + 3,
            ));
            out.push_str(SCRAM_SHA256_PREFIX);
            out.push_str(&iterations);
            out.push(':');
            out.push_str(&salt);
            out.push('$');
            out.push_str(&stored);
            out.push(':');
            out.push_str(&server);
            // The base64 temporaries hold key material: wipe them too.
            let (mut a, mut b) = (stored, server);
            a.zeroize();
            b.zeroize();
            Ok(out)
        }
    }
}

fn push_hex(out: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for nibble in [b >> 4, b & 0xf] {
        if let Some(&d) = DIGITS.get(usize::from(nibble)) {
            out.push(char::from(d));
        }
    }
}

/// Writes credentials in the text format, one `principal secret` per line.
///
/// # Errors
///
/// [`CredentialsError::Convert`] for a credential the text format cannot
/// express: a principal with a space or starting with `#`, a secret with a
/// blank or control character, or a non-UTF-8 secret.
pub fn to_text<'c>(
    credentials: impl IntoIterator<Item = &'c Credential>,
) -> Result<Zeroizing<String>, CredentialsError> {
    let mut lines: Vec<(String, Zeroizing<String>)> = Vec::new();
    for c in credentials {
        let fail = |reason| CredentialsError::Convert {
            principal: c.principal().clone(),
            reason,
        };
        let name = c.principal().as_str();
        if name.contains(' ') || name.starts_with('#') {
            return Err(fail("the text format cannot hold this principal; use JSON"));
        }
        let secret = encode_secret(c.secret()).map_err(fail)?;
        if secret.is_empty() || secret.chars().any(|ch| ch == ' ' || ch.is_control()) {
            return Err(fail("the text format cannot hold this secret; use JSON"));
        }
        lines.push((name.to_owned(), secret));
    }
    let len = lines.iter().map(|(p, s)| p.len() + s.len() + 2).sum();
    let mut out = Zeroizing::new(String::with_capacity(len));
    for (p, s) in &lines {
        out.push_str(p);
        out.push(' ');
        out.push_str(s);
        out.push('\n');
    }
    Ok(out)
}

/// Writes credentials in the JSON format Mesos reads
/// (`{"credentials": [{"principal": .., "secret": ..}, ..]}`).
///
/// # Errors
///
/// [`CredentialsError::Convert`] for a non-UTF-8 plaintext secret.
pub fn to_json<'c>(
    credentials: impl IntoIterator<Item = &'c Credential>,
) -> Result<Zeroizing<String>, CredentialsError> {
    let mut items: Vec<(String, Zeroizing<String>)> = Vec::new();
    for c in credentials {
        let secret = encode_secret(c.secret()).map_err(|reason| CredentialsError::Convert {
            principal: c.principal().clone(),
            reason,
        })?;
        let escaped = json_escape(&secret);
        items.push((json_escape(c.principal().as_str()).to_string(), escaped));
    }
    const HEAD: &str = "{\n  \"credentials\": [\n";
    const TAIL: &str = "  ]\n}\n";
    let per_item = "    {\"principal\": , \"secret\": },\n".len();
    let len = HEAD.len()
        + TAIL.len()
        + items
            .iter()
            .map(|(p, s)| p.len() + s.len() + per_item)
            .sum::<usize>();
    let mut out = Zeroizing::new(String::with_capacity(len));
    out.push_str(HEAD);
    let last = items.len().saturating_sub(1);
    for (i, (p, s)) in items.iter().enumerate() {
        out.push_str("    {\"principal\": ");
        out.push_str(p);
        out.push_str(", \"secret\": ");
        out.push_str(s);
        out.push_str(if i == last { "}\n" } else { "},\n" });
    }
    out.push_str(TAIL);
    Ok(out)
}

/// `s` as a quoted JSON string, in a buffer sized once.
fn json_escape(s: &str) -> Zeroizing<String> {
    let escaped_len = |c: char| match c {
        '"' | '\\' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 || c == '\u{7f}' => 6,
        c => c.len_utf8(),
    };
    let len = 2 + s.chars().map(escaped_len).sum::<usize>();
    let mut out = Zeroizing::new(String::with_capacity(len));
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str("\\u00");
                let b = c as u8;
                push_hex(&mut out, b);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
