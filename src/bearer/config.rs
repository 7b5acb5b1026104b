//! What a validator accepts: built in code or read from JSON.

use std::time::Duration;

use crate::json::{self, JsonPath};

use super::alg::Alg;
use super::error::BearerError;
use super::read::Reader;
use super::rules::{MAX_RULES, PrincipalRule};

/// The clock skew allowed by default on `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The most clock skew a configuration may allow.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The longest token accepted by default, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The most a configuration may raise the token size limit to.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// The algorithms accepted when a configuration names none.
pub const DEFAULT_ALGORITHMS: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

/// A validator's settings. Issuers and audiences are required; the rest
/// have defaults: algorithms [`DEFAULT_ALGORITHMS`], leeway
/// [`DEFAULT_LEEWAY`], size limit [`DEFAULT_MAX_TOKEN_BYTES`], principal
/// from `sub`, `exp` and `nbf` both required.
///
/// The JSON form (unknown fields refused):
///
/// ```json
/// {
///   "issuers": ["https://idp.example.org"],
///   "audiences": ["mesos-master"],
///   "algorithms": ["RS256", "ES256"],
///   "leeway_secs": 30,
///   "max_token_bytes": 8192,
///   "require_nbf": true,
///   "principal_rules": [{"claim": "client_id", "strip_prefix": "svc-"}, {"claim": "sub"}]
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorConfig {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Option<Vec<Alg>>,
    pub(crate) leeway: Duration,
    pub(crate) max_token_bytes: usize,
    pub(crate) rules: Vec<PrincipalRule>,
    pub(crate) require_nbf: bool,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl ValidatorConfig {
    /// No issuer, no audience (add them), the defaults for the rest.
    pub fn new() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            algorithms: None,
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            rules: Vec::new(),
            require_nbf: true,
        }
    }

    /// Accepts tokens whose `iss` is `issuer` (exact comparison).
    #[must_use]
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuers.push(issuer.to_owned());
        self
    }

    /// Accepts tokens whose `aud` holds `audience`.
    #[must_use]
    pub fn audience(mut self, audience: &str) -> Self {
        self.audiences.push(audience.to_owned());
        self
    }

    /// The algorithms accepted, replacing the default. HMAC ones need a
    /// shared-secret key set, and then only HMAC ones may be listed.
    #[must_use]
    pub fn algorithms(mut self, algs: &[Alg]) -> Self {
        self.algorithms = Some(algs.to_vec());
        self
    }

    /// The clock skew allowed on `exp` and `nbf` (at most [`MAX_LEEWAY`]).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest token accepted, in bytes (at most [`MAX_TOKEN_BYTES`]).
    #[must_use]
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// Adds a claims → principal rule (tried in the order added). With
    /// none, the principal is `sub`.
    #[must_use]
    pub fn rule(mut self, rule: PrincipalRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Whether a token without `nbf` is refused (the default, `true`).
    /// Many identity providers issue access tokens without it (RFC 9068
    /// does not ask for it); with `false`, such a token is valid from the
    /// moment it is issued, and an `nbf` that is present is still checked.
    /// `exp` is always required.
    #[must_use]
    pub fn require_nbf(mut self, required: bool) -> Self {
        self.require_nbf = required;
        self
    }

    /// Whether `nbf` is required.
    pub fn nbf_required(&self) -> bool {
        self.require_nbf
    }

    /// The longest token accepted, in bytes.
    pub fn token_limit(&self) -> usize {
        self.max_token_bytes
    }

    /// The algorithms in force.
    pub fn allowed_algorithms(&self) -> &[Alg] {
        self.algorithms.as_deref().unwrap_or(&DEFAULT_ALGORITHMS)
    }

    /// Checks what the JSON form checks, for a configuration built in code.
    pub(crate) fn check(&self) -> Result<(), BearerError> {
        let bad = |m: &str| Err(BearerError::Config(m.to_owned()));
        if self.issuers.is_empty() {
            return bad("no issuer is configured");
        }
        if self.audiences.is_empty() {
            return bad("no audience is configured");
        }
        if self.allowed_algorithms().is_empty() {
            return bad("no algorithm is allowed");
        }
        if self.leeway > MAX_LEEWAY {
            return Err(BearerError::Config(format!(
                "the leeway is {}s, more than the limit of {}s",
                self.leeway.as_secs(),
                MAX_LEEWAY.as_secs()
            )));
        }
        if !(1..=MAX_TOKEN_BYTES).contains(&self.max_token_bytes) {
            return Err(BearerError::Config(format!(
                "the token size limit must be 1 to {MAX_TOKEN_BYTES} bytes"
            )));
        }
        if self.rules.len() > MAX_RULES {
            return Err(BearerError::Config(format!(
                "{} principal rules, more than the limit of {MAX_RULES}",
                self.rules.len()
            )));
        }
        if self.rules.iter().any(|r| r.claim.is_empty()) {
            return bad("a principal rule names an empty claim");
        }
        // These are checked as themselves and never reach the rules.
        if let Some(r) = self
            .rules
            .iter()
            .find(|r| ["iss", "aud", "exp", "nbf"].contains(&&*r.claim))
        {
            return Err(BearerError::Config(format!(
                "a principal rule cannot read `{}` (use `sub`, `client_id` or another claim)",
                r.claim
            )));
        }
        Ok(())
    }

    /// Reads the JSON form (see the type's docs).
    ///
    /// # Errors
    ///
    /// The first problem, with its line:column and JSON path.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BearerError> {
        const FIELDS: [&str; 7] = [
            "issuers",
            "audiences",
            "algorithms",
            "leeway_secs",
            "max_token_bytes",
            "require_nbf",
            "principal_rules",
        ];
        let (r, doc) = Reader::parse("configuration", bytes)?;
        let root = JsonPath::root();
        let members = r.object(&doc, &root, &FIELDS, true)?;
        let mut config = Self::new();
        for m in members {
            let path = root.key(&m.key);
            let v = &m.value;
            match m.key.as_str() {
                "issuers" => config.issuers = r.strings(v, &path)?,
                "audiences" => config.audiences = r.strings(v, &path)?,
                "algorithms" => {
                    let names = r.array(v, &path)?;
                    let mut algs = Vec::with_capacity(names.len());
                    for (i, n) in names.iter().enumerate() {
                        let p = path.index(i);
                        let name = r.str(n, &p)?;
                        let alg = Alg::from_name(name).ok_or_else(|| {
                            let why = if name.eq_ignore_ascii_case("none") {
                                "unsigned tokens (`none`) are never accepted".to_owned()
                            } else {
                                format!("unsupported algorithm `{}`", name.escape_debug())
                            };
                            r.error(n.span, &p, why)
                        })?;
                        algs.push(alg);
                    }
                    config.algorithms = Some(algs);
                }
                "require_nbf" => {
                    config.require_nbf = v.as_bool().ok_or_else(|| {
                        r.error(
                            v.span,
                            &path,
                            format!("expected `true` or `false`, found {}", v.kind()),
                        )
                    })?;
                }
                "leeway_secs" => config.leeway = Duration::from_secs(r.uint(v, &path)?),
                "max_token_bytes" => {
                    config.max_token_bytes =
                        usize::try_from(r.uint(v, &path)?).unwrap_or(usize::MAX);
                }
                "principal_rules" => {
                    for (i, rule) in r.array(v, &path)?.iter().enumerate() {
                        let p = path.index(i);
                        let fields = r.object(rule, &p, &["claim", "strip_prefix"], true)?;
                        let claim = json::first(fields, "claim").ok_or_else(|| {
                            r.error(rule.span, &p, "`claim` is missing".to_owned())
                        })?;
                        let mut pr = PrincipalRule::claim(r.str(&claim.value, &p.key("claim"))?);
                        if let Some(s) = json::first(fields, "strip_prefix") {
                            pr = pr.strip_prefix(r.str(&s.value, &p.key("strip_prefix"))?);
                        }
                        config.rules.push(pr);
                    }
                }
                _ => {}
            }
            // Each field's own limits, located at the field.
            if let Err(BearerError::Config(message)) = config.check_field(&m.key) {
                return Err(r.error(v.span, &path, message));
            }
        }
        for (field, missing) in [
            ("issuers", config.issuers.is_empty()),
            ("audiences", config.audiences.is_empty()),
        ] {
            if missing {
                let span = json::first(members, field).map_or(doc.span, |m| m.value.span);
                return Err(r.error(
                    span,
                    &root.key(field),
                    format!("`{field}` must name at least one value"),
                ));
            }
        }
        Ok(config)
    }

    fn check_field(&self, field: &str) -> Result<(), BearerError> {
        match field {
            "algorithms" | "leeway_secs" | "max_token_bytes" | "principal_rules" => {
                let mut probe = self.clone();
                probe.issuers = vec![String::new()];
                probe.audiences = vec![String::new()];
                probe.check()
            }
            _ => Ok(()),
        }
    }
}
