//! The compiled validator: one token in, a principal or a rejection out.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::principal::Principal;

use super::alg::Alg;
use super::config::ValidatorConfig;
use super::error::{BearerError, Part, Reason, Rejection};
use super::jwks::Jwks;
use super::rules::PrincipalRule;

/// Longest `kid` copied into a rejection (the header is the sender's word).
const KID_ECHO: usize = 128;

/// A token accepted: who it is, and what vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    principal: Principal,
    claim: Arc<str>,
    rule: usize,
    kid: Option<String>,
    alg: Alg,
    iss: String,
    exp: i64,
}

impl Validated {
    /// The principal the rules produced.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The claim that gave the principal (`sub`, `client_id`, ...).
    pub fn claim(&self) -> &str {
        &self.claim
    }

    /// The index of the rule that matched.
    pub fn rule(&self) -> usize {
        self.rule
    }

    /// The header's `kid`, if it had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the signature was checked with.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The issuer.
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The expiry, seconds since the epoch.
    pub fn exp(&self) -> i64 {
        self.exp
    }
}

/// The parts of a configuration a validator reads per token.
#[derive(Debug)]
struct Settings {
    config: ValidatorConfig,
    algorithms: Vec<Alg>,
    rules: Vec<PrincipalRule>,
    /// The distinct claims the rules read; a rule refers to one by index.
    rule_claims: Vec<Arc<str>>,
    rule_slot: Vec<usize>,
    leeway: i64,
}

/// Checks bearer tokens (JWS compact JWTs) against one configuration and
/// one key set. Immutable and `Send + Sync`; to rotate keys, build a new
/// one with [`with_jwks`](Self::with_jwks) and swap it in a
/// [`Reloadable`](crate::Reloadable).
#[derive(Debug, Clone)]
pub struct Validator {
    settings: Arc<Settings>,
    jwks: Arc<Jwks>,
}

impl Validator {
    /// Compiles `config` with `jwks`.
    ///
    /// # Errors
    ///
    /// [`BearerError::Config`] when the configuration is inconsistent (no
    /// issuer or audience, leeway or size limit out of range) or does not
    /// fit the key set: HMAC algorithms need a shared-secret set, which then
    /// allows nothing else and must name its algorithms explicitly.
    pub fn new(config: &ValidatorConfig, jwks: Jwks) -> Result<Self, BearerError> {
        config.check()?;
        let algorithms = config.allowed_algorithms().to_vec();
        if jwks.is_shared_secret() {
            if config.algorithms.is_none() || algorithms.iter().any(|a| !a.is_hmac()) {
                return Err(BearerError::Config(
                    "a shared-secret key set needs `algorithms` listing only HS256, HS384 or HS512"
                        .to_owned(),
                ));
            }
        } else if let Some(a) = algorithms.iter().find(|a| a.is_hmac()) {
            return Err(BearerError::Config(format!(
                "`{a}` needs a shared-secret key set; it is never checked with public keys"
            )));
        }
        let rules = if config.rules.is_empty() {
            vec![PrincipalRule::claim("sub")]
        } else {
            config.rules.clone()
        };
        let mut rule_claims: Vec<Arc<str>> = Vec::new();
        let mut rule_slot = Vec::with_capacity(rules.len());
        for r in &rules {
            let slot = rule_claims
                .iter()
                .position(|c| *c == r.claim)
                .unwrap_or_else(|| {
                    rule_claims.push(Arc::clone(&r.claim));
                    rule_claims.len() - 1
                });
            rule_slot.push(slot);
        }
        let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(i64::MAX);
        Ok(Self {
            settings: Arc::new(Settings {
                config: config.clone(),
                algorithms,
                rules,
                rule_claims,
                rule_slot,
                leeway,
            }),
            jwks: Arc::new(jwks),
        })
    }

    /// The same configuration with another key set (a JWKS reload).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new): the new set must be of the same kind.
    pub fn with_jwks(&self, jwks: Jwks) -> Result<Self, BearerError> {
        Self::new(&self.settings.config, jwks)
    }

    /// The configuration.
    pub fn config(&self) -> &ValidatorConfig {
        &self.settings.config
    }

    /// The key set.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Checks `token` (the bearer token alone, without `Bearer `) at `now`.
    ///
    /// In order: size, structure, header (`alg` allowed, no `crit`), key
    /// (`kid`, and the key fits `alg`), signature; then, on signed claims
    /// only, `exp` and `nbf` (with the leeway), `iss`, `aud`, and the
    /// principal rules.
    ///
    /// # Errors
    ///
    /// A [`Rejection`]: its [`code`](Rejection::code) is for the peer, its
    /// [`reason`](Rejection::reason) for the audit log.
    pub fn validate(&self, token: &str, now: SystemTime) -> Result<Validated, Rejection> {
        let s = &*self.settings;
        if token.is_empty() {
            return Err(Rejection::new(Reason::Empty));
        }
        if token.len() > s.config.max_token_bytes {
            return Err(Rejection::new(Reason::TooLarge {
                len: token.len(),
                limit: s.config.max_token_bytes,
            }));
        }
        let malformed = |part, problem: &str| {
            Rejection::new(Reason::Malformed {
                part,
                problem: problem.to_owned(),
            })
        };
        let mut parts = token.splitn(4, '.');
        let (Some(h64), Some(c64), Some(sig64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(
                Part::Token,
                "not three dot-separated parts (a JWS in compact form)",
            ));
        };
        let mut header_buf = Decoded::<256>::new();
        let header_bytes = header_buf
            .decode(h64)
            .ok_or_else(|| malformed(Part::Header, "not unpadded base64url"))?;
        let header: Header = serde_json::from_slice(header_bytes)
            .map_err(|e| malformed(Part::Header, &json_problem(&e)))?;

        let rej = |reason| {
            let mut r = Rejection::new(reason);
            r.kid = header
                .kid
                .as_deref()
                .map(|k| k.chars().take(KID_ECHO).collect());
            r
        };
        let Some(alg) = Alg::from_name(&header.alg).filter(|a| s.algorithms.contains(a)) else {
            // Real names are short; anything longer is not echoed.
            let shown = if header.alg.len() <= 10 {
                header.alg.clone().into_owned()
            } else {
                format!("({} bytes)", header.alg.len())
            };
            return Err(rej(Reason::AlgNotAllowed(shown)));
        };
        let mut rej = |reason| {
            let mut r = rej(reason);
            r.alg = Some(alg);
            r
        };
        if header.crit.is_some() {
            return Err(rej(Reason::CriticalHeader));
        }
        let key = self.jwks.find(header.kid.as_deref()).map_err(&mut rej)?;
        if !key.allows(alg) {
            return Err(rej(Reason::AlgKeyMismatch {
                alg,
                key: key.describe(),
            }));
        }
        if sig64.is_empty() {
            return Err(rej(Reason::Malformed {
                part: Part::Signature,
                problem: "empty".to_owned(),
            }));
        }
        // The signing input is the first two parts and the dot between.
        let signing_input = token.get(..h64.len() + 1 + c64.len()).unwrap_or_default();
        match jsonwebtoken::crypto::verify(sig64, signing_input.as_bytes(), &key.key, alg.to_jwt())
        {
            Ok(true) => {}
            Ok(false) => return Err(rej(Reason::BadSignature)),
            Err(_) => {
                return Err(rej(Reason::Malformed {
                    part: Part::Signature,
                    problem: "not unpadded base64url".to_owned(),
                }));
            }
        }

        // Signed: from here on the claims are the issuer's word.
        let mut claims_buf = Decoded::<2048>::new();
        let claims_bytes = claims_buf.decode(c64).ok_or_else(|| {
            rej(Reason::Malformed {
                part: Part::Claims,
                problem: "not unpadded base64url".to_owned(),
            })
        })?;
        let claims = self.parse_claims(claims_bytes).map_err(|e| {
            rej(Reason::Malformed {
                part: Part::Claims,
                problem: json_problem(&e),
            })
        })?;
        self.check_claims(&claims, now, header.kid.as_deref(), alg)
    }

    /// Parses a token's claims (the decoded JSON) as `validate` does.
    pub(crate) fn parse_claims<'t>(
        &self,
        claims_bytes: &'t [u8],
    ) -> Result<Claims<'t>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(claims_bytes);
        ClaimsSeed {
            rule_claims: &self.settings.rule_claims,
        }
        .deserialize(&mut de)
        .and_then(|c| de.end().map(|()| c))
    }

    /// The claim checks and the mapping, once the signature holds and the
    /// claims are parsed: `iss`, `exp`/`nbf` with the leeway, `aud`, then
    /// the rules in order.
    pub(crate) fn check_claims(
        &self,
        claims: &Claims<'_>,
        now: SystemTime,
        kid: Option<&str>,
        alg: Alg,
    ) -> Result<Validated, Rejection> {
        let s = &*self.settings;
        let rej = |reason| {
            let mut r = Rejection::new(reason);
            r.kid = kid.map(|k| k.chars().take(KID_ECHO).collect());
            r.alg = Some(alg);
            r
        };
        let iss = match &claims.iss {
            None => return Err(rej(Reason::ClaimMissing("iss"))),
            Some(Loose::Str(iss)) => iss.as_ref().to_owned(),
            Some(_) => {
                return Err(rej(Reason::ClaimType {
                    claim: "iss",
                    expected: "a string",
                }));
            }
        };
        let mut rej = |reason| {
            let mut r = rej(reason);
            r.iss = Some(iss.chars().take(KID_ECHO).collect());
            r
        };
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let exp = numeric_date(claims.exp.as_ref(), "exp").map_err(&mut rej)?;
        let nbf = numeric_date(claims.nbf.as_ref(), "nbf").map_err(&mut rej)?;
        if now > exp.saturating_add(s.leeway) {
            return Err(rej(Reason::Expired { exp, now }));
        }
        if nbf > now.saturating_add(s.leeway) {
            return Err(rej(Reason::NotYetValid { nbf, now }));
        }
        if !s.config.issuers.contains(&iss) {
            return Err(rej(Reason::WrongIssuer {
                expected: s.config.issuers.clone(),
            }));
        }
        let aud_ok = match &claims.aud {
            None => return Err(rej(Reason::ClaimMissing("aud"))),
            Some(Loose::Str(a)) => s.config.audiences.iter().any(|c| c == a),
            Some(Loose::Strs(list)) => list
                .iter()
                .any(|a| s.config.audiences.iter().any(|c| c == a)),
            Some(_) => {
                return Err(rej(Reason::ClaimType {
                    claim: "aud",
                    expected: "a string or an array of strings",
                }));
            }
        };
        if !aud_ok {
            return Err(rej(Reason::WrongAudience {
                expected: s.config.audiences.clone(),
            }));
        }
        for (i, (rule, &slot)) in s.rules.iter().zip(&s.rule_slot).enumerate() {
            let Some(Some(Loose::Str(v))) = claims.rule_values.get(slot) else {
                continue;
            };
            let Some(name) = rule.apply(v) else {
                continue;
            };
            let principal = Principal::new(name).map_err(|e| {
                rej(Reason::InvalidPrincipal {
                    rule: i,
                    problem: e.to_string(),
                })
            })?;
            return Ok(Validated {
                principal,
                claim: Arc::clone(&rule.claim),
                rule: i,
                kid: kid.map(str::to_owned),
                alg,
                iss,
                exp,
            });
        }
        Err(rej(Reason::NoRuleMatched))
    }
}

/// What is wrong with a part's JSON, never quoting it: serde's messages
/// can hold input text ("invalid type: string \"...\""), so only those
/// naming a member alone are kept.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io | Category::Eof => "truncated JSON".to_owned(),
        Category::Syntax => "not JSON".to_owned(),
        Category::Data => {
            let m = e.to_string();
            let m = m.find(" at line ").and_then(|i| m.get(..i)).unwrap_or(&m);
            let named = ["missing field `", "duplicate field `", "claim `"]
                .iter()
                .any(|p| m.starts_with(p));
            if named {
                m.to_owned()
            } else {
                "not a JSON object of the expected shape".to_owned()
            }
        }
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions
/// allowed and dropped.
fn numeric_date(v: Option<&Loose<'_>>, claim: &'static str) -> Result<i64, Reason> {
    match v.ok_or(Reason::ClaimMissing(claim))? {
        Loose::Int(i) => Ok(*i),
        // `as` saturates: 1e300 becomes i64::MAX, which is what it means.
        #[expect(clippy::cast_possible_truncation, reason = "saturating is intended")]
        Loose::Float(f) if f.is_finite() => Ok(f.floor() as i64),
        _ => Err(Reason::ClaimType {
            claim,
            expected: "a number",
        }),
    }
}

/// The JOSE header members we read; the others are ignored (`typ`, `cty`,
/// and `jku`/`jwk`/`x5u`/`x5c`, which never pick the key: RFC 8725 §3.10).
/// serde refuses a repeated `alg`, `kid` or `crit`.
#[derive(serde::Deserialize)]
struct Header<'a> {
    // Borrowed when the text has no escapes: no allocation per token.
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    crit: Option<IgnoredAny>,
}

/// The claims we read. A repeated one is refused (RFC 7519 §4: a JWT with
/// duplicate claim names may be rejected; taking either copy would let the
/// token mean two things).
pub(crate) struct Claims<'a> {
    iss: Option<Loose<'a>>,
    aud: Option<Loose<'a>>,
    exp: Option<Loose<'a>>,
    nbf: Option<Loose<'a>>,
    rule_values: Vec<Option<Loose<'a>>>,
}

/// A claim's value as far as the checks need it: strings borrowed from the
/// decoded claims when they have no escapes, so a typical token allocates
/// nothing here (a `serde_json::Value` allocated every string and array).
#[derive(Debug)]
enum Loose<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    /// An array of strings only (`aud`).
    Strs(Vec<Cow<'a, str>>),
    /// Anything else: a type no check accepts.
    Other,
}

impl<'de> de::Deserialize<'de> for Loose<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a claim value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        #[expect(clippy::cast_precision_loss, reason = "saturated by numeric_date")]
        Ok(i64::try_from(v).map_or(Loose::Float(v as f64), Loose::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Float(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut strs = Vec::new();
        let mut only_strings = true;
        while let Some(item) = seq.next_element::<Loose<'de>>()? {
            match item {
                Loose::Str(s) if only_strings => strs.push(s),
                _ => only_strings = false,
            }
        }
        Ok(if only_strings {
            Loose::Strs(strs)
        } else {
            Loose::Other
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

/// Base64url decoded into a stack buffer of `N` bytes when it fits (every
/// part of a usual token does), on the heap otherwise.
struct Decoded<const N: usize> {
    stack: [u8; N],
    heap: Vec<u8>,
}

impl<const N: usize> Decoded<N> {
    fn new() -> Self {
        Self {
            stack: [0; N],
            heap: Vec::new(),
        }
    }

    /// The decoded bytes, or `None` if `text` is not unpadded base64url.
    fn decode(&mut self, text: &str) -> Option<&[u8]> {
        if base64::decoded_len_estimate(text.len()) <= N {
            let n = URL_SAFE_NO_PAD.decode_slice(text, &mut self.stack).ok()?;
            self.stack.get(..n)
        } else {
            self.heap = URL_SAFE_NO_PAD.decode(text).ok()?;
            Some(&self.heap)
        }
    }
}

struct ClaimsSeed<'a> {
    rule_claims: &'a [Arc<str>],
}

enum Slot {
    Iss,
    Aud,
    Exp,
    Nbf,
    Rule(usize),
    Other,
}

struct KeySeed<'a>(&'a [Arc<str>]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Slot;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Slot;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Slot, E> {
        // Standard claims first: a rule may read `iss` or `aud` too, but
        // they are checked as themselves (and a rule on them sees nothing).
        Ok(match v {
            "iss" => Slot::Iss,
            "aud" => Slot::Aud,
            "exp" => Slot::Exp,
            "nbf" => Slot::Nbf,
            _ => self
                .0
                .iter()
                .position(|c| &**c == v)
                .map_or(Slot::Other, Slot::Rule),
        })
    }
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = Claims<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Claims<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = Claims<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims<'de>, A::Error> {
        let mut c = Claims {
            iss: None,
            aud: None,
            exp: None,
            nbf: None,
            rule_values: std::iter::repeat_with(|| None)
                .take(self.rule_claims.len())
                .collect(),
        };
        fn put<'v, E: de::Error>(
            slot: &mut Option<Loose<'v>>,
            v: Loose<'v>,
            name: &str,
        ) -> Result<(), E> {
            if slot.replace(v).is_some() {
                return Err(E::custom(format!("claim `{name}` is given twice")));
            }
            Ok(())
        }
        while let Some(slot) = map.next_key_seed(KeySeed(self.rule_claims))? {
            match slot {
                Slot::Iss => put(&mut c.iss, map.next_value()?, "iss")?,
                Slot::Aud => put(&mut c.aud, map.next_value()?, "aud")?,
                Slot::Exp => put(&mut c.exp, map.next_value()?, "exp")?,
                Slot::Nbf => put(&mut c.nbf, map.next_value()?, "nbf")?,
                Slot::Rule(i) => {
                    let name = self.rule_claims.get(i).map_or("", |n| &**n);
                    match c.rule_values.get_mut(i) {
                        Some(s) => put(s, map.next_value()?, name)?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Slot::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(c)
    }
}
