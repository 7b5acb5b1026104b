//! The borrowed request view and the strict `Authorization` header parser.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::error::HttpError;

/// Longest `Authorization` header value read, in bytes. Mesos has no bound;
/// 4 KiB holds any Basic credential the store accepts and a large JWT.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// Largest decoded Basic credential (base64 gives 3 bytes per 4).
pub(crate) const MAX_DECODED_LEN: usize = MAX_AUTHORIZATION_LEN / 4 * 3;

/// One HTTP request, as far as authentication needs it: borrowed from the
/// host's own request object, never copied.
///
/// ```
/// use mesos_auth::http::Request;
///
/// let req = Request::new("GET", "/master/state?jsonp=x")
///     .authorization("Basic b3BzOnMzY3JldA==")
///     .peer("10.0.0.9:51234")
///     .user_agent("curl/8.5.0");
/// assert!(!format!("{req:?}").contains("b3Bz"));
/// ```
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) authorization: Option<&'a str>,
    pub(crate) authorization_count: usize,
    pub(crate) peer: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) audit_id: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with no `Authorization` header, peer or user agent yet.
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            authorization: None,
            authorization_count: 0,
            peer: None,
            user_agent: None,
            audit_id: None,
        }
    }

    /// Adds one `Authorization` header. Call it once per header the request
    /// carried: a second call makes the request carry two, which is refused.
    #[must_use]
    pub fn authorization(mut self, value: &'a str) -> Self {
        if self.authorization.is_none() {
            self.authorization = Some(value);
        }
        self.authorization_count = self.authorization_count.saturating_add(1);
        self
    }

    /// Sets the headers as a host that has already collected them reports
    /// them: the first value (if any) and how many there were.
    #[must_use]
    pub fn authorization_headers(mut self, first: Option<&'a str>, count: usize) -> Self {
        self.authorization = first;
        self.authorization_count = if first.is_some() { count.max(1) } else { count };
        self
    }

    /// The peer's address (for the failure throttle and the audit event).
    #[must_use]
    pub fn peer(mut self, peer: &'a str) -> Self {
        self.peer = (!peer.is_empty()).then_some(peer);
        self
    }

    /// The `User-Agent` header: recorded, marked untrusted, never used for
    /// a decision.
    #[must_use]
    pub fn user_agent(mut self, user_agent: &'a str) -> Self {
        self.user_agent = (!user_agent.is_empty()).then_some(user_agent);
        self
    }

    /// An audit ID chosen by the host (to match its own logs); without one,
    /// the authenticator draws 128 random bits when it has an audit sink.
    #[must_use]
    pub fn audit_id(mut self, id: &'a str) -> Self {
        self.audit_id = (!id.is_empty()).then_some(id);
        self
    }
}

// The Authorization value holds a password or a token.
impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &path_only(self.path))
            .field("authorization_count", &self.authorization_count)
            .field("peer", &self.peer)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

/// The path without its query string or fragment: a query may carry a
/// token or a password, so it is never recorded.
pub(crate) fn path_only(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

/// What the `Authorization` header of a request holds.
pub(crate) enum Presented<'a> {
    /// No header.
    Nothing,
    /// A header this parser refused (more than one, too long, malformed),
    /// with its scheme if it was readable.
    Refused(Scheme, HttpError),
    /// `Basic` with a base64 token (not decoded yet).
    Basic(&'a str),
    /// `Bearer` with its token.
    Bearer(&'a str),
    /// Another scheme: no authenticator here handles it.
    Other,
}

/// The scheme a refused header named, as far as it could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Basic,
    Bearer,
    Unknown,
}

/// Reads the request's `Authorization` header (RFC 7235 §2.1: the scheme is
/// case-insensitive; one or more spaces; one token68, nothing after it).
pub(crate) fn presented<'a>(req: &Request<'a>) -> Presented<'a> {
    if req.authorization_count > 1 {
        return Presented::Refused(
            Scheme::Unknown,
            HttpError::MultipleAuthorization {
                count: req.authorization_count,
            },
        );
    }
    let Some(value) = req.authorization else {
        return Presented::Nothing;
    };
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Presented::Refused(
            Scheme::Unknown,
            HttpError::TooLong {
                len: value.len(),
                max: MAX_AUTHORIZATION_LEN,
            },
        );
    }
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("basic") {
        Scheme::Basic
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else {
        return Presented::Other;
    };
    let token = rest.trim_start_matches(' ');
    let refuse = |what| Presented::Refused(scheme, HttpError::Malformed { what });
    if token.is_empty() {
        return refuse("no credentials after the scheme");
    }
    // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    if !body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
        || body.is_empty()
    {
        return refuse("the credentials are not one token68");
    }
    match scheme {
        Scheme::Basic => Presented::Basic(token),
        Scheme::Bearer => Presented::Bearer(token),
        Scheme::Unknown => Presented::Other,
    }
}

/// Decoded Basic credentials in a buffer that is wiped on drop.
pub(crate) struct BasicCredentials {
    buf: [u8; MAX_DECODED_LEN],
    len: usize,
    colon: usize,
}

impl BasicCredentials {
    /// Decodes `token` (RFC 7617): canonical base64 (padding required, no
    /// whitespace), UTF-8, split at the *first* `:` so a password may hold
    /// one (Mesos splits on every `:`), non-empty user-id.
    pub(crate) fn decode(token: &str) -> Result<Self, HttpError> {
        let mut me = Self {
            buf: [0; MAX_DECODED_LEN],
            // Until decoding succeeds the whole buffer counts as used, so a
            // failed decode's partial output is wiped too.
            len: MAX_DECODED_LEN,
            colon: 0,
        };
        me.len = STANDARD
            .decode_slice(token, &mut me.buf)
            .map_err(|_| HttpError::Base64)?;
        let text = std::str::from_utf8(me.decoded()).map_err(|_| HttpError::NotUtf8)?;
        me.colon = text.find(':').ok_or(HttpError::NoColon)?;
        if me.colon == 0 {
            return Err(HttpError::EmptyUser);
        }
        Ok(me)
    }

    fn decoded(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The user-id (UTF-8 checked in `decode`).
    pub(crate) fn user(&self) -> &str {
        let user = self.decoded().get(..self.colon).unwrap_or_default();
        std::str::from_utf8(user).unwrap_or_default()
    }

    /// The password bytes.
    pub(crate) fn password(&self) -> &[u8] {
        self.decoded()
            .get(self.colon.saturating_add(1)..)
            .unwrap_or_default()
    }
}

impl Drop for BasicCredentials {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        if let Some(used) = self.buf.get_mut(..self.len) {
            used.zeroize();
        }
    }
}
