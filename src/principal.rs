//! The `Principal` newtype: an authenticated identity as Mesos names it.

use std::fmt;

/// Longest principal accepted anywhere in the library, in bytes.
///
/// Cyrus SASL caps a whole CRAM-MD5 message at 1,024 bytes; 256 leaves room
/// for the digest and matches the credential-file limit (threats.md §0).
pub const MAX_PRINCIPAL_LEN: usize = 256;

/// An identity: a framework, an agent or an operator.
///
/// A `Principal` is never empty, at most [`MAX_PRINCIPAL_LEN`] bytes, and holds
/// no NUL or other control character, so it can never match a rule by
/// truncation in a C caller. Cloning is cheap: a name of up to 23 bytes is
/// held inline (see [`Name`]).
///
/// It is made with [`Principal::new`], `str::parse`, `TryFrom<&str>` or
/// serde (the same checks each way):
///
/// ```
/// use mesos_auth::{Principal, PrincipalError};
///
/// let p: Principal = "marathon".parse()?;
/// assert_eq!(p, Principal::try_from("marathon")?);
/// assert_eq!("".parse::<Principal>(), Err(PrincipalError::Empty));
///
/// #[derive(serde::Deserialize)]
/// struct Config {
///     principal: Principal,
/// }
/// let c: Config = serde_json::from_str(r#"{"principal": "spark"}"#)?;
/// assert_eq!(c.principal.as_str(), "spark");
/// assert!(serde_json::from_str::<Config>(r#"{"principal": "a\u0000b"}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Principal(Name);

impl Principal {
    /// Checks `name` and makes it a principal.
    ///
    /// # Errors
    ///
    /// [`PrincipalError`] if `name` is empty, too long, or holds a control character.
    pub fn new(name: &str) -> Result<Self, PrincipalError> {
        if name.is_empty() {
            return Err(PrincipalError::Empty);
        }
        if name.len() > MAX_PRINCIPAL_LEN {
            return Err(PrincipalError::TooLong { len: name.len() });
        }
        if let Some(pos) = name.char_indices().find(|(_, c)| c.is_control()) {
            return Err(PrincipalError::ControlCharacter { offset: pos.0 });
        }
        Ok(Self(Name::new(name)))
    }

    /// The principal's name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The name as a [`Name`], for an audit event: a copy of at most 24
    /// bytes, or a shared reference for a long one.
    pub(crate) fn name(&self) -> Name {
        self.0.clone()
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Principal({:?})", self.0.as_str())
    }
}

// Hash and Eq of `Principal` are those of the string, so maps keyed by
// principal can be searched with a `&str`.
impl std::borrow::Borrow<str> for Principal {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Principal {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl serde::Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl std::str::FromStr for Principal {
    type Err = PrincipalError;

    fn from_str(name: &str) -> Result<Self, PrincipalError> {
        Self::new(name)
    }
}

impl TryFrom<&str> for Principal {
    type Error = PrincipalError;

    fn try_from(name: &str) -> Result<Self, PrincipalError> {
        Self::new(name)
    }
}

impl<'de> serde::Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::new(&name).map_err(serde::de::Error::custom)
    }
}

/// A name as audit events hold it: a principal's, or the name a peer
/// claimed (any text, lossily decoded). Up to 23 bytes it is held inline,
/// longer behind a shared pointer: a clone never allocates, and a short
/// one touches no reference count (a completed CRAM-MD5 session names its
/// principal twice, in its state and its event; two atomic count changes
/// each were a measured part of the session, issue 14 item 3).
///
/// Compares, orders and hashes as its text; reads as `&str`:
///
/// ```
/// use mesos_auth::Name;
///
/// let n = Name::new("marathon");
/// assert_eq!(n, "marathon");
/// assert_eq!(n.len(), 8);
/// assert_eq!(serde_json::to_string(&n)?, r#""marathon""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(smol_str::SmolStr);

impl Name {
    /// `text`, held inline if it is at most 23 bytes.
    pub fn new(text: &str) -> Self {
        Self(smol_str::SmolStr::new(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Self {
        Self(smol_str::SmolStr::from(text))
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why a string is not a valid [`Principal`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrincipalError {
    /// The name is empty.
    #[error("principal is empty")]
    Empty,
    /// The name is longer than [`MAX_PRINCIPAL_LEN`].
    #[error("principal is {len} bytes long, more than the limit of {MAX_PRINCIPAL_LEN}")]
    TooLong {
        /// The length that was offered.
        len: usize,
    },
    /// The name holds a NUL or another control character.
    #[error("principal holds a control character at byte {offset}")]
    ControlCharacter {
        /// Byte offset of the first control character.
        offset: usize,
    },
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        assert_eq!(
            Principal::new("framework-1").unwrap().as_str(),
            "framework-1"
        );
        assert_eq!(
            Principal::new("with space@realm").unwrap().as_str(),
            "with space@realm"
        );
        assert!(Principal::new(&"a".repeat(MAX_PRINCIPAL_LEN)).is_ok());
    }

    #[test]
    fn refuses_empty_long_and_control() {
        assert_eq!(Principal::new(""), Err(PrincipalError::Empty));
        assert_eq!(
            Principal::new(&"a".repeat(MAX_PRINCIPAL_LEN + 1)),
            Err(PrincipalError::TooLong {
                len: MAX_PRINCIPAL_LEN + 1
            })
        );
        assert_eq!(
            Principal::new("ali\0ce"),
            Err(PrincipalError::ControlCharacter { offset: 3 })
        );
        assert!(Principal::new("bob\r").is_err());
        assert!(Principal::new("bob\u{85}").is_err());
    }

    #[test]
    fn parse_try_from_and_serde_check_like_new() {
        assert_eq!("ops".parse::<Principal>().unwrap().as_str(), "ops");
        assert_eq!(Principal::try_from("ops").unwrap().as_str(), "ops");
        assert_eq!("a\0b".parse::<Principal>(), Principal::new("a\0b"));
        assert_eq!(Principal::try_from(""), Err(PrincipalError::Empty));

        let p: Principal = serde_json::from_str(r#""ops\u0020team""#).unwrap();
        assert_eq!(p.as_str(), "ops team");
        let p: Principal = serde_json::from_str(r#""ops""#).unwrap();
        assert_eq!(p.as_str(), "ops");
        for bad in [r#""""#, r#""a\u0000b""#, "17"] {
            assert!(serde_json::from_str::<Principal>(bad).is_err(), "{bad}");
        }
        let long = format!("\"{}\"", "a".repeat(MAX_PRINCIPAL_LEN + 1));
        let e = serde_json::from_str::<Principal>(&long).unwrap_err();
        assert!(e.to_string().contains("more than the limit"), "{e}");
    }
}
