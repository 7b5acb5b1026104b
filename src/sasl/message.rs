//! The Mesos authentication messages, decoded (`authentication.proto`).

use std::borrow::Cow;

/// CRAM-MD5, the mechanism Mesos ships (the same as
/// [`CRAM_MD5`](super::CRAM_MD5)).
pub const MECHANISM: &str = super::mechanism::CRAM_MD5;

/// Largest `data` accepted in a start or step message, either side, in bytes
/// (Cyrus SASL's cap, threats.md SA-11, SC-3). GSSAPI's messages have their
/// own bound, `gssapi::MAX_TOKEN_LEN` (64 KiB, feature `gssapi`): Kerberos
/// tickets outgrow this one.
pub const MAX_MESSAGE_LEN: usize = 1024;

/// A message from the authenticator to the authenticatee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// `AuthenticationMechanismsMessage`.
    Mechanisms(MechanismList),
    /// `AuthenticationStepMessage` (the challenge).
    Step(StepData),
    /// `AuthenticationCompletedMessage`.
    Completed,
    /// `AuthenticationFailedMessage`: the one uniform refusal.
    Failed,
    /// `AuthenticationErrorMessage` with its `error` text.
    Error(String),
}

/// A message from the authenticatee to the authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `AuthenticationStartMessage`.
    Start {
        /// The chosen mechanism.
        mechanism: String,
        /// Initial response (must be empty for CRAM-MD5, which is
        /// server-first; OAUTHBEARER's GS2 message).
        data: Vec<u8>,
    },
    /// `AuthenticationStepMessage` (the response).
    Step(Vec<u8>),
}

/// The names in a [`ServerMessage::Mechanisms`], strongest first. An
/// authenticator's list is one of a few fixed ones (no allocation per
/// session: issue 14, item 3); a list read from the wire owns its names.
///
/// ```
/// use mesos_auth::sasl::MechanismList;
///
/// let list = MechanismList::from(vec!["OAUTHBEARER".to_owned(), "CRAM-MD5".to_owned()]);
/// assert!(list.contains("CRAM-MD5"));
/// assert_eq!(list.join(","), "OAUTHBEARER,CRAM-MD5");
/// assert_eq!(list, MechanismList::from(["OAUTHBEARER", "CRAM-MD5"]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MechanismList(Cow<'static, [Cow<'static, str>]>);

impl MechanismList {
    /// A list that borrows `names` (for the authenticator's fixed lists).
    pub(crate) const fn fixed(names: &'static [Cow<'static, str>]) -> Self {
        Self(Cow::Borrowed(names))
    }

    /// The names, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|n| &**n)
    }

    /// How many names there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `name` is in the list (exact, case-sensitive).
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }

    /// The names joined with `sep` (`,` is the C API's form).
    pub fn join(&self, sep: &str) -> String {
        self.0.join(sep)
    }

    /// The names as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl From<Vec<String>> for MechanismList {
    fn from(names: Vec<String>) -> Self {
        Self(Cow::Owned(names.into_iter().map(Cow::Owned).collect()))
    }
}

impl<const N: usize> From<[&str; N]> for MechanismList {
    fn from(names: [&str; N]) -> Self {
        names.into_iter().collect()
    }
}

impl<'a> FromIterator<&'a str> for MechanismList {
    fn from_iter<I: IntoIterator<Item = &'a str>>(names: I) -> Self {
        Self(Cow::Owned(
            names
                .into_iter()
                .map(|n| Cow::Owned(n.to_owned()))
                .collect(),
        ))
    }
}

impl FromIterator<String> for MechanismList {
    fn from_iter<I: IntoIterator<Item = String>>(names: I) -> Self {
        Self(Cow::Owned(names.into_iter().map(Cow::Owned).collect()))
    }
}

/// The data of a [`ServerMessage::Step`]: a challenge or a mechanism's
/// token, read as `[u8]` (it derefs to a slice). Up to
/// [`INLINE`](Self::INLINE) bytes (every CRAM-MD5 challenge this crate
/// makes) are kept inline, so a session queues its challenge without an
/// allocation (issue 14, item 3); longer data (Kerberos tokens) is on the
/// heap.
///
/// ```
/// use mesos_auth::sasl::StepData;
///
/// let data = StepData::from(b"<1896.697170952@postoffice.reston.mci.net>".as_slice());
/// assert_eq!(data.len(), 42);
/// assert_eq!(data, StepData::from(data.to_vec()));
/// assert_eq!(data.into_vec().len(), 42);
/// ```
#[derive(Clone)]
pub struct StepData(Repr);

#[derive(Clone)]
enum Repr {
    // INVARIANT: `len <= INLINE`; bytes past it are unspecified. `len` sits
    // beside the tag and the bytes start at offset 8, so a message is 64
    // bytes copied as four aligned 16-byte words: with the bytes at offset
    // 1, the outbox's writes and the caller's reads of a message used
    // different words, and each read stalled on them.
    Inline { len: u8, bytes: Buf },
    Heap(Vec<u8>),
}

/// Inline step data, 8-aligned (see [`Repr`]).
#[derive(Clone, Copy)]
#[repr(align(8))]
struct Buf([u8; StepData::INLINE]);

impl StepData {
    /// Most bytes kept inline: a challenge's whole buffer (55 bytes and a
    /// spare one, see `nonce::Challenge`).
    pub const INLINE: usize = 56;

    /// `bytes[..len]`, inline (a fixed-size copy of the whole buffer).
    pub(crate) fn inline(bytes: [u8; Self::INLINE], len: usize) -> Self {
        match u8::try_from(len) {
            Ok(n) if len <= Self::INLINE => Self(Repr::Inline {
                len: n,
                bytes: Buf(bytes),
            }),
            // Not reached (callers pass a challenge's length); keep what
            // there is rather than fail.
            _ => Self(Repr::Heap(bytes.to_vec())),
        }
    }

    /// The bytes as a slice.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => bytes.0.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Heap(v) => v,
        }
    }

    /// The bytes as a vector (no copy if they are on the heap already).
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { .. } => self.as_slice().to_vec(),
            Repr::Heap(v) => v,
        }
    }
}

impl Default for StepData {
    fn default() -> Self {
        Self(Repr::Heap(Vec::new()))
    }
}

impl std::ops::Deref for StepData {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for StepData {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<Vec<u8>> for StepData {
    fn from(v: Vec<u8>) -> Self {
        Self(Repr::Heap(v))
    }
}

impl From<&[u8]> for StepData {
    fn from(s: &[u8]) -> Self {
        let mut bytes = [0u8; Self::INLINE];
        match bytes.get_mut(..s.len()) {
            Some(dst) => {
                dst.copy_from_slice(s);
                Self::inline(bytes, s.len())
            }
            None => Self(Repr::Heap(s.to_vec())),
        }
    }
}

impl<const N: usize> From<&[u8; N]> for StepData {
    fn from(s: &[u8; N]) -> Self {
        Self::from(s.as_slice())
    }
}

impl From<StepData> for Vec<u8> {
    fn from(d: StepData) -> Self {
        d.into_vec()
    }
}

// By content: where the bytes are kept is not part of the value.
impl PartialEq for StepData {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for StepData {}

impl std::hash::Hash for StepData {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq<[u8]> for StepData {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<Vec<u8>> for StepData {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl std::fmt::Debug for StepData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StepData").field(&self.as_slice()).finish()
    }
}

#[cfg(test)]
mod test;
