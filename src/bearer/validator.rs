//! The compiled validator: one token in, a principal or a rejection out.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::principal::Principal;

use super::alg::Alg;
use super::config::ValidatorConfig;
use super::error::{BearerError, Part, Reason, Rejection};
use super::jwks::{Jwks, Verifier};
use super::rules::PrincipalRule;
use super::token::{self, Claims, Loose, Problem};

/// Longest `kid` copied into a rejection (the header is the sender's word).
const KID_ECHO: usize = 128;

/// A token accepted: who it is, and what vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    principal: Principal,
    claim: Arc<str>,
    rule: usize,
    // Shared with the key set and the configuration: an accepted token's
    // `kid` and `iss` equal theirs, so no copy is made per token.
    kid: Option<Arc<str>>,
    alg: Alg,
    iss: Arc<str>,
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
    /// The accepted issuers, shared by every `Validated`.
    issuers: Vec<Arc<str>>,
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
                issuers: config
                    .issuers
                    .iter()
                    .map(|i| Arc::from(i.as_str()))
                    .collect(),
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
        // Three parts. The header is short from the left and the signature
        // short from the right; a dot in the long middle (a fourth part) is
        // looked for only once the token is refused, since the claims'
        // decoding refuses a dot anyway. (A plain search of the whole
        // token cost as much as reading the header.)
        let not_three = || {
            malformed(
                Part::Token,
                "not three dot-separated parts (a JWS in compact form)",
            )
        };
        let bytes = token.as_bytes();
        let (Some(first), Some(last)) = (
            bytes.iter().position(|&b| b == b'.'),
            bytes.iter().rposition(|&b| b == b'.'),
        ) else {
            return Err(not_three());
        };
        let parts = (
            token.get(..first),
            token.get(first + 1..last),
            token.get(last + 1..),
        );
        let (Some(h64), Some(c64), Some(sig64)) = parts else {
            return Err(not_three());
        };
        if first == last {
            return Err(not_three());
        }
        self.validate_parts(token, [h64, c64, sig64], now)
            .map_err(|r| if c64.contains('.') { not_three() } else { r })
    }

    /// [`validate`](Self::validate) once the token is cut at its first and
    /// last dots.
    fn validate_parts(
        &self,
        token: &str,
        [h64, c64, sig64]: [&str; 3],
        now: SystemTime,
    ) -> Result<Validated, Rejection> {
        let s = &*self.settings;
        let malformed = |part, problem: &str| {
            Rejection::new(Reason::Malformed {
                part,
                problem: problem.to_owned(),
            })
        };
        let mut header_buf = Decoded::<256>::new();
        let header_bytes = header_buf
            .decode(h64)
            .ok_or_else(|| malformed(Part::Header, "not unpadded base64url"))?;
        let header = token::read_header(header_bytes)
            .map_err(|p| malformed(Part::Header, &p.message(&[])))?;

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
        if header.crit {
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
        let verified = if alg.is_hmac() {
            // Prepared at load; the tag decoded here (a bad encoding is a
            // malformed signature, as for the other algorithms).
            let mut tag_buf = Decoded::<72>::new();
            let tag = tag_buf.decode(sig64).ok_or_else(|| {
                rej(Reason::Malformed {
                    part: Part::Signature,
                    problem: "not unpadded base64url".to_owned(),
                })
            })?;
            key.verify_hmac(alg, signing_input.as_bytes(), tag)
        } else {
            match &key.verifier {
                Verifier::Public(k) => {
                    jsonwebtoken::crypto::verify(sig64, signing_input.as_bytes(), k, alg.to_jwt())
                        .map_err(|_| {
                        rej(Reason::Malformed {
                            part: Part::Signature,
                            problem: "not unpadded base64url".to_owned(),
                        })
                    })?
                }
                Verifier::Hmac(_) => false,
            }
        };
        if !verified {
            return Err(rej(Reason::BadSignature));
        }

        // Signed: from here on the claims are the issuer's word.
        let mut claims_buf = Decoded::<2048>::new();
        let claims_bytes = claims_buf.decode(c64).ok_or_else(|| {
            rej(Reason::Malformed {
                part: Part::Claims,
                problem: "not unpadded base64url".to_owned(),
            })
        })?;
        let claims = self.parse_claims(claims_bytes).map_err(|p| {
            rej(Reason::Malformed {
                part: Part::Claims,
                problem: p.message(&s.rule_claims),
            })
        })?;
        // The key was found by this very `kid`: its shared copy stands for
        // the header's (none when the header named none).
        let kid = header.kid.as_ref().and(key.kid.as_ref());
        self.check_claims(&claims, now, kid, alg)
    }

    /// Reads a token's claims (the decoded JSON) as `validate` does.
    pub(crate) fn parse_claims<'t>(&self, claims_bytes: &'t [u8]) -> Result<Claims<'t>, Problem> {
        token::read_claims(claims_bytes, &self.settings.rule_claims)
    }

    /// The distinct claims the rules read, in rule-slot order.
    pub(crate) fn rule_claims(&self) -> &[Arc<str>] {
        &self.settings.rule_claims
    }

    /// The claim checks and the mapping, once the signature holds and the
    /// claims are parsed: `iss`, `exp`/`nbf` with the leeway, `aud`, then
    /// the rules in order.
    pub(crate) fn check_claims(
        &self,
        claims: &Claims<'_>,
        now: SystemTime,
        kid: Option<&Arc<str>>,
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
            Some(Loose::Str(iss)) => iss.as_ref(),
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
        let nbf = match claims.nbf.as_ref() {
            // Configured optional: valid from the start; a present one is
            // checked all the same.
            None if !s.config.require_nbf => i64::MIN,
            v => numeric_date(v, "nbf").map_err(&mut rej)?,
        };
        if now > exp.saturating_add(s.leeway) {
            return Err(rej(Reason::Expired { exp, now }));
        }
        if nbf > now.saturating_add(s.leeway) {
            return Err(rej(Reason::NotYetValid { nbf, now }));
        }
        let Some(iss) = s.issuers.iter().find(|c| ***c == *iss) else {
            return Err(rej(Reason::WrongIssuer {
                expected: s.config.issuers.clone(),
            }));
        };
        let aud_ok = match &claims.aud {
            None => return Err(rej(Reason::ClaimMissing("aud"))),
            Some(Loose::Str(a)) => s.config.audiences.iter().any(|c| c == a),
            Some(Loose::Strs(list)) => list
                .iter()
                .any(|a| s.config.audiences.iter().any(|c| *c == *a)),
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
                kid: kid.cloned(),
                alg,
                iss: Arc::clone(iss),
                exp,
            });
        }
        Err(rej(Reason::NoRuleMatched))
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions
/// allowed and dropped.
pub(crate) fn numeric_date(v: Option<&Loose<'_>>, claim: &'static str) -> Result<i64, Reason> {
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
        let n = token::base64url_len(text.len())?;
        let out = if n <= N {
            self.stack.as_mut_slice()
        } else {
            self.heap = vec![0; n];
            self.heap.as_mut_slice()
        };
        let n = token::decode_base64url(text.as_bytes(), out)?;
        out.get(..n)
    }
}
