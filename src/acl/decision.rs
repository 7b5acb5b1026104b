//! Requests, decisions and the reasons behind them.

use std::fmt;

use crate::span::Location;

use super::kind::{AclList, Action};

/// What a request names as its object.
///
/// ```
/// use mesos_auth::acl::{Object, Objects};
///
/// // Several roles, from whatever the host holds them in.
/// let owned: Vec<String> = vec!["web".into(), "web/frontend".into()];
/// let borrowed = ["web", "web/frontend"];
/// assert_eq!(Object::many(&owned), Object::many(&borrowed));
/// assert_eq!(Object::many(&owned), Object::Many(Objects::from(&borrowed[..])));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object<'a> {
    /// No object: Mesos treats it as ANY (all objects).
    Absent,
    /// One object: a role, user, principal, ...
    One(&'a str),
    /// Several roles (MULTI_ROLE `register_framework`, or the distinct roles
    /// of one RESERVE operation): every one must be allowed. Made with
    /// [`Object::many`].
    Many(Objects<'a>),
}

impl<'a> Object<'a> {
    /// Several objects, from `&[&str]`, `&[String]`, a `Vec` of either, or an
    /// array.
    pub fn many(objects: impl Into<Objects<'a>>) -> Self {
        Object::Many(objects.into())
    }
}

/// The objects of [`Object::Many`]: a borrowed list of `&str` or of
/// `String`, read the same way.
#[derive(Clone, Copy)]
pub struct Objects<'a>(ObjectList<'a>);

#[derive(Clone, Copy)]
enum ObjectList<'a> {
    Strs(&'a [&'a str]),
    Strings(&'a [String]),
}

impl<'a> Objects<'a> {
    /// How many objects.
    pub fn len(&self) -> usize {
        match self.0 {
            ObjectList::Strs(s) => s.len(),
            ObjectList::Strings(s) => s.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The objects, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a str> + Clone + 'a {
        let (strs, strings): (&'a [&'a str], &'a [String]) = match self.0 {
            ObjectList::Strs(s) => (s, &[]),
            ObjectList::Strings(s) => (&[], s),
        };
        // One of the two is empty; chaining keeps the iterator one type.
        ObjectsIter {
            strs: strs.iter(),
            strings: strings.iter(),
        }
    }
}

/// [`Objects::iter`]: both halves, one of them empty.
#[derive(Clone)]
struct ObjectsIter<'a> {
    strs: std::slice::Iter<'a, &'a str>,
    strings: std::slice::Iter<'a, String>,
}

impl<'a> Iterator for ObjectsIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self.strs.next() {
            Some(s) => Some(s),
            None => self.strings.next().map(String::as_str),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.strs.len() + self.strings.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for ObjectsIter<'_> {}

impl fmt::Debug for Objects<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Objects<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Objects<'_> {}

impl<'a> From<&'a [&'a str]> for Objects<'a> {
    fn from(s: &'a [&'a str]) -> Self {
        Objects(ObjectList::Strs(s))
    }
}

impl<'a> From<&'a [String]> for Objects<'a> {
    fn from(s: &'a [String]) -> Self {
        Objects(ObjectList::Strings(s))
    }
}

impl<'a> From<&'a Vec<&'a str>> for Objects<'a> {
    fn from(s: &'a Vec<&'a str>) -> Self {
        Objects(ObjectList::Strs(s))
    }
}

impl<'a> From<&'a Vec<String>> for Objects<'a> {
    fn from(s: &'a Vec<String>) -> Self {
        Objects(ObjectList::Strings(s))
    }
}

impl<'a, const N: usize> From<&'a [&'a str; N]> for Objects<'a> {
    fn from(s: &'a [&'a str; N]) -> Self {
        Objects(ObjectList::Strs(s))
    }
}

/// Which legacy (Mesos 1.0–1.2) quota call an `update_quota` request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyQuotaOp {
    /// `SetQuota`: checked against `set_quotas` when a legacy list is in use.
    SetQuota,
    /// `RemoveQuota`: checked against `remove_quotas` when a legacy list is in use.
    RemoveQuota,
}

/// One authorization question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request<'a> {
    /// What is asked.
    pub action: Action,
    /// Who asks; `None` when the caller did not authenticate (Mesos: ANY).
    /// An empty string is a real principal, as in Mesos.
    pub principal: Option<&'a str>,
    /// On what.
    pub object: Object<'a>,
    /// For `update_quota` from a Mesos 1.0–1.2 master: which legacy call.
    pub legacy_quota_op: Option<LegacyQuotaOp>,
}

impl<'a> Request<'a> {
    /// A request for `action` by `principal` on `object`.
    pub fn new(action: Action, principal: Option<&'a str>, object: Object<'a>) -> Self {
        Self {
            action,
            principal,
            object,
            legacy_quota_op: None,
        }
    }

    /// The request as the legacy (Mesos 1.0–1.2) quota call `op`.
    #[must_use]
    pub fn legacy_quota_op(mut self, op: LegacyQuotaOp) -> Self {
        self.legacy_quota_op = Some(op);
        self
    }
}

/// Why a request was refused before any ACL was consulted (always a deny,
/// never the permissive default: threats.md AC-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestError {
    /// The principal holds a NUL or other control character (AC-16).
    PrincipalControlCharacter,
    /// The principal is longer than the longest value a policy may hold.
    PrincipalTooLong,
    /// An object holds a control character.
    ObjectControlCharacter,
    /// An object is longer than the longest value a policy may hold.
    ObjectTooLong,
    /// A role is not a valid Mesos role (`a/../b`, `a//b`, `/a`, `a/`, `.`; AC-12).
    InvalidRole,
    /// A list of objects for an action that takes one.
    ObjectListNotAllowed,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestError::PrincipalControlCharacter => "the principal holds a control character",
            RequestError::PrincipalTooLong => "the principal is too long",
            RequestError::ObjectControlCharacter => "the object holds a control character",
            RequestError::ObjectTooLong => "the object is too long",
            RequestError::InvalidRole => "the role is not a valid Mesos role",
            RequestError::ObjectListNotAllowed => "this action takes a single object, not a list",
        })
    }
}

/// The ACL that decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub struct RuleRef {
    /// Its list.
    pub list: AclList,
    /// Its position in the list, from 0.
    pub index: u32,
    /// Where its JSON object starts.
    pub location: Location,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] (line {})",
            self.list, self.index, self.location.line
        )
    }
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The first ACL whose subject and object matched.
    Rule(RuleRef),
    /// No ACL matched; the policy's `permissive` flag decided.
    NoMatch {
        /// The flag.
        permissive: bool,
    },
    /// A MULTI_ROLE framework with no roles: Mesos answers `permissive`
    /// regardless of any ACL (mesos-reference.md §2.6).
    NoRoles {
        /// The flag.
        permissive: bool,
    },
    /// A RESERVE with no roles: nothing to authorize, so not refused.
    NothingToAuthorize,
    /// The request itself is malformed: denied.
    InvalidRequest(RequestError),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Rule(r) => write!(f, "decided by ACL {r}"),
            Reason::NoMatch { permissive } => {
                write!(f, "no ACL matched, permissive = {permissive}")
            }
            Reason::NoRoles { permissive } => {
                write!(f, "framework has no roles, permissive = {permissive}")
            }
            Reason::NothingToAuthorize => f.write_str("no roles to reserve, nothing to authorize"),
            Reason::InvalidRequest(e) => write!(f, "invalid request: {e}"),
        }
    }
}

/// The answer: allow or deny, and why. Exhaustive on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Allowed.
    Allow(Reason),
    /// Denied.
    Deny(Reason),
}

impl Decision {
    pub(crate) const fn from_bool(allowed: bool, reason: Reason) -> Self {
        if allowed {
            Decision::Allow(reason)
        } else {
            Decision::Deny(reason)
        }
    }

    /// Whether the request is allowed.
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// Why.
    pub const fn reason(&self) -> &Reason {
        match self {
            Decision::Allow(r) | Decision::Deny(r) => r,
        }
    }

    /// The deciding ACL, if one decided.
    pub const fn rule(&self) -> Option<RuleRef> {
        match self.reason() {
            Reason::Rule(r) => Some(*r),
            _ => None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allow(r) => write!(f, "allow: {r}"),
            Decision::Deny(r) => write!(f, "deny: {r}"),
        }
    }
}

/// An audit record of one decision. Building it allocates; the caller
/// chooses when (the decision itself never allocates).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct DecisionEvent {
    /// The action asked.
    pub action: Action,
    /// The principal, or `None` for an unauthenticated request.
    pub principal: Option<String>,
    /// The object(s); empty for no object.
    pub objects: Vec<String>,
    /// Whether it was allowed.
    pub allowed: bool,
    /// The deciding ACL, if one decided.
    pub rule: Option<RuleRef>,
    /// The reason in words.
    pub reason: String,
    /// The generation of the policy that decided, if the host said
    /// ([`with_generation`](Self::with_generation)); omitted if not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_generation: Option<u64>,
    /// The deciding policy's [`policy_hash`](super::CompiledAcls::policy_hash),
    /// if the host said ([`with_policy`](Self::with_policy)); omitted if not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_hash: Option<String>,
    /// The request this decision belongs to, if the host gave one; omitted
    /// if not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<crate::audit::AuditId>,
}

impl DecisionEvent {
    /// Records `decision` for `request`. Principals and objects holding
    /// control characters are escaped so logs stay one line per event.
    pub fn new(request: &Request<'_>, decision: &Decision) -> Self {
        let clean = |s: &str| s.escape_debug().to_string();
        let objects = match request.object {
            Object::Absent => Vec::new(),
            Object::One(o) => vec![clean(o)],
            Object::Many(os) => os.iter().map(clean).collect(),
        };
        Self {
            action: request.action,
            principal: request.principal.map(clean),
            objects,
            allowed: decision.is_allowed(),
            rule: decision.rule(),
            reason: decision.reason().to_string(),
            policy_generation: None,
            policy_hash: None,
            audit_id: None,
        }
    }

    /// The event naming the policy that decided (its hash).
    #[must_use]
    pub fn with_policy(mut self, policy: &super::CompiledAcls) -> Self {
        self.policy_hash = Some(policy.policy_hash().to_owned());
        self
    }

    /// The event naming the policy's generation (from a
    /// [`Snapshot`](crate::Snapshot) or the reloadable handle).
    #[must_use]
    pub fn with_generation(mut self, generation: u64) -> Self {
        self.policy_generation = Some(generation);
        self
    }

    /// The event tagged with the request's audit id.
    #[must_use]
    pub fn with_audit_id(mut self, id: crate::audit::AuditId) -> Self {
        self.audit_id = Some(id);
        self
    }
}

/// Checks a request's strings; `max_len` is the policy's longest value.
pub(crate) fn check_principal(p: &str, max_len: usize) -> Result<(), RequestError> {
    if p.len() > max_len {
        return Err(RequestError::PrincipalTooLong);
    }
    if has_control(p) {
        return Err(RequestError::PrincipalControlCharacter);
    }
    Ok(())
}

/// Checks one object; roles (hierarchical lists) must be valid Mesos roles.
pub(crate) fn check_object(o: &str, role: bool, max_len: usize) -> Result<(), RequestError> {
    if o.len() > max_len {
        return Err(RequestError::ObjectTooLong);
    }
    if has_control(o) {
        return Err(RequestError::ObjectControlCharacter);
    }
    if role && !valid_role(o) {
        return Err(RequestError::InvalidRole);
    }
    Ok(())
}

/// Whether `s` holds a control character (Unicode Cc: U+0000–U+001F,
/// U+007F–U+009F). Byte scan first: the C1 range needs a 0xC2 lead byte.
#[inline]
pub(crate) fn has_control(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().any(|&x| x < 0x20 || x == 0x7f)
        || (b.contains(&0xC2) && s.chars().any(char::is_control))
}

/// Mesos `roles::validate`: `*`, or `/`-separated components, none empty,
/// `.`, `..` or `*`, none starting with `-`, no whitespace or DEL.
#[inline]
pub(crate) fn valid_role(role: &str) -> bool {
    if role == "*" {
        return true;
    }
    match ascii_role_bits(role.as_bytes()) {
        Some(valid) => valid,
        None => !role.is_empty() && valid_role_components(role),
    }
}

/// The components rule of [`valid_role`], character by character.
pub(crate) fn valid_role_components(role: &str) -> bool {
    role.split('/').all(|c| {
        !c.is_empty()
            && c != "."
            && c != ".."
            && c != "*"
            && !c.starts_with('-')
            && !c.chars().any(|ch| ch.is_whitespace() || ch.is_control())
    })
}

/// [`valid_role_components`] for an ASCII role, as the role's own test
/// (for a caller that has bytes): ASCII whitespace and control characters
/// are the bytes ≤ 0x20 and 0x7f.
#[cfg(test)]
pub(crate) fn valid_ascii_role(role: &[u8]) -> bool {
    match ascii_role_bits(role) {
        Some(valid) => valid,
        None => std::str::from_utf8(role).is_ok_and(valid_role_components),
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// One bit per byte of `w` (bit `i` for byte `i`) from a mask holding
/// each byte's verdict in its high bit: the multiply gathers bit `8i + 7`
/// into bit `56 + i`, and no two partial products meet (so none carries).
#[inline(always)]
fn gather(high_bits: u64) -> u64 {
    ((high_bits & HI) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// The high bit of each byte of `w` that equals `c` (exact: no borrow
/// crosses bytes).
#[inline(always)]
fn eq_bytes(w: u64, c: u8) -> u64 {
    let x = w ^ (LO * u64::from(c));
    !(((x & !HI).wrapping_add(!HI)) | x) & HI
}

/// Whether `role` (not `*`) is a valid Mesos role, if it is ASCII and at
/// most 63 bytes long; `None` if not (the caller falls back to the
/// character check).
///
/// Word at a time rather than byte by byte: a role is checked on every
/// request naming one, and the byte loop's branches at each `/` were a
/// sixth of a decision, measured. Bit `i` of each mask is byte `i`; with
/// a separator assumed before the first byte and after the last, the rule
/// is: no component starts at a separator (empty), or with `-`, and none
/// is exactly `.`, `*` or `..`.
#[inline(always)]
fn ascii_role_bits(role: &[u8]) -> Option<bool> {
    let n = role.len();
    if n == 0 || n > 63 {
        return None;
    }
    let (mut slash, mut dash, mut dot, mut star, mut bad, mut high) = (0, 0, 0, 0, 0, 0);
    for at in (0..n).step_by(8) {
        // Zero past the end: a byte only `bad` selects, masked off below.
        let (w, _) = crate::strtable::word_at(role, at);
        high |= w & HI;
        slash |= gather(eq_bytes(w, b'/')) << at;
        dash |= gather(eq_bytes(w, b'-')) << at;
        dot |= gather(eq_bytes(w, b'.')) << at;
        star |= gather(eq_bytes(w, b'*')) << at;
        // ASCII bytes ≤ 0x20 are those that do not reach the high bit
        // when 0x5f is added (no carry leaves a byte below 0x80); DEL.
        bad |= gather(!w.wrapping_add(LO * 0x5f) | eq_bytes(w, 0x7f)) << at;
    }
    bad &= (1 << n) - 1;
    if high != 0 {
        return None;
    }
    let seps = slash | (1 << n);
    let starts = (slash << 1) | 1;
    let empty = starts & seps;
    let one = starts & (dot | star) & (seps >> 1);
    let two = starts & dot & (dot >> 1) & (seps >> 2);
    Some((empty | starts & dash | one | two | bad) == 0)
}

impl crate::audit::Event for DecisionEvent {
    fn component(&self) -> &'static str {
        "acl"
    }

    fn to_json(&self) -> serde_json::Value {
        crate::audit::json_of(self)
    }

    fn to_audit_event(&self) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(self.clone())
    }
}
