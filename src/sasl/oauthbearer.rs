//! OAUTHBEARER (RFC 7628): the client sends a bearer token in a GS2-style
//! message; the server checks it with a [`bearer::Validator`].
//!
//! ```text
//!  client ── Start{"OAUTHBEARER", "n,a=<authzid>,^Aauth=Bearer <jwt>^A^A"} ──► server
//!         ◄── Completed                                    (token accepted)
//!         ◄── Step({"status":"invalid_token"}) ── ^A ──► Failed  (refused)
//! ```
//!
//! Every refusal looks the same to the peer (the one error document, then
//! `Failed`); why is only in the local audit event. Malformed messages are
//! protocol errors with a message naming what was wrong, never its content.
//!
//! The whole message is bounded by [`MAX_MESSAGE_LEN`] (16 KiB): identity
//! providers' access tokens (groups, roles, an RS4096 signature) pass the
//! 1 KiB that bounds CRAM-MD5 messages. A larger message is refused as too
//! long before it is parsed; the validator then holds the token to its own
//! `max_token_bytes`.

use std::sync::Arc;

use super::error::{ApiMisuse, PeerMisbehaved, SaslError};
use super::event::FailureReason;
use super::mechanism::{
    ClientMechanism, OAUTHBEARER, ServerMechanism, ServerStep, StepCtx, Verified,
};
use crate::bearer::Validator;
use crate::{Principal, Secret};

/// Largest OAUTHBEARER message accepted from a client, in bytes.
pub(crate) const MAX_MESSAGE_LEN: usize = 16 * 1024;

/// RFC 7628 §3.1: the separator between key/value pairs.
const KVSEP: u8 = 0x01;

/// The one error document the server sends (RFC 7628 §3.2.2), whatever the
/// reason: the peer learns nothing about which check failed.
pub(crate) const ERROR_DOCUMENT: &[u8] = br#"{"status":"invalid_token"}"#;

/// Longest `status` kept from a server's error document.
const MAX_STATUS_LEN: usize = 64;

/// A parsed client initial response, borrowed from the message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InitialResponse<'a> {
    /// The authorization identity, unescaped, if the client gave one.
    pub(crate) authzid: Option<String>,
    /// The bearer token (b64token syntax checked).
    pub(crate) token: &'a str,
}

/// Parses `gs2-header kvsep *kvpair kvsep` strictly (RFC 7628 §3.1, GS2
/// header from RFC 5801 §4). Errors name the problem, never the bytes.
pub(crate) fn parse_initial(data: &[u8]) -> Result<InitialResponse<'_>, &'static str> {
    // GS2 header: cb flag, authzid, then a comma.
    let (flag, rest) = match data {
        [b'n', b',', rest @ ..] | [b'y', b',', rest @ ..] => (true, rest),
        [b'p', b'=', ..] => return Err("channel binding (gs2 flag `p=`) is not supported"),
        _ => (false, data),
    };
    if !flag {
        return Err("the gs2 header must start with `n,` or `y,`");
    }
    let comma = rest
        .iter()
        .position(|&b| b == b',')
        .ok_or("the gs2 header has no closing `,`")?;
    let (authzid_field, rest) = rest.split_at(comma);
    let rest = rest.get(1..).unwrap_or_default();
    let authzid = match authzid_field {
        [] => None,
        [b'a', b'=', name @ ..] => Some(unescape_saslname(name)?),
        _ => return Err("the gs2 header's second field must be empty or `a=<authzid>`"),
    };
    let Some((&KVSEP, mut pairs)) = rest.split_first() else {
        return Err("the gs2 header must be followed by 0x01");
    };
    let mut token = None;
    let mut seen_host = false;
    let mut seen_port = false;
    loop {
        match pairs {
            [KVSEP] => break,
            [] => return Err("the message must end with 0x01 0x01"),
            _ => {}
        }
        let end = pairs
            .iter()
            .position(|&b| b == KVSEP)
            .ok_or("a key/value pair is not terminated by 0x01")?;
        let (pair, tail) = pairs.split_at(end);
        pairs = tail.get(1..).unwrap_or_default();
        let eq = pair
            .iter()
            .position(|&b| b == b'=')
            .ok_or("a key/value pair has no `=`")?;
        let (key, value) = pair.split_at(eq);
        let value = value.get(1..).unwrap_or_default();
        if key.is_empty() || !key.iter().all(u8::is_ascii_alphabetic) {
            return Err("a key must be one or more ASCII letters");
        }
        if !value
            .iter()
            .all(|&b| matches!(b, 0x20..=0x7e | b'\t' | b'\r' | b'\n'))
        {
            return Err("a value holds a byte outside VCHAR, SP, HTAB, CR, LF");
        }
        match key {
            b"auth" => {
                if token.is_some() {
                    return Err("the `auth` key appears twice");
                }
                token = Some(bearer_token(value)?);
            }
            b"host" => {
                if std::mem::replace(&mut seen_host, true) {
                    return Err("the `host` key appears twice");
                }
                if value.is_empty() || !value.iter().all(u8::is_ascii_graphic) {
                    return Err("`host` must be one or more visible characters");
                }
            }
            b"port" => {
                if std::mem::replace(&mut seen_port, true) {
                    return Err("the `port` key appears twice");
                }
                if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                    return Err("`port` must be one or more digits");
                }
            }
            // RFC 7628 §3.1 lets clients add keys; their values were checked.
            _ => {}
        }
    }
    let token = token.ok_or("the `auth` key is missing")?;
    Ok(InitialResponse { authzid, token })
}

/// `saslname` (RFC 5801): UTF-8 with `,` written `=2C` and `=` written
/// `=3D`; any other `=` is malformed.
fn unescape_saslname(name: &[u8]) -> Result<String, &'static str> {
    if name.is_empty() {
        return Err("`a=` must name an authorization identity");
    }
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while let Some(&b) = name.get(i) {
        if b == b'=' {
            match name.get(i + 1..i + 3) {
                Some(b"2C") => out.push(b','),
                Some(b"3D") => out.push(b'='),
                _ => return Err("the authzid has an `=` that is not `=2C` or `=3D`"),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the authzid is not UTF-8")
}

/// `saslname` escaping, the inverse of [`unescape_saslname`].
fn escape_saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// `auth` value: `Bearer 1*SP b64token` (RFC 6750 §2.1; scheme
/// case-insensitive).
fn bearer_token(value: &[u8]) -> Result<&str, &'static str> {
    let (scheme, rest) = value.split_at(value.len().min(6));
    if !scheme.eq_ignore_ascii_case(b"Bearer") {
        return Err("`auth` must be `Bearer <token>`");
    }
    let token = rest.trim_ascii_start();
    if token.len() == rest.len() {
        return Err("`auth` must be `Bearer <token>`");
    }
    check_b64token(token)?;
    std::str::from_utf8(token).map_err(|_| "the token is not ASCII")
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/" ) *"="`.
fn check_b64token(token: &[u8]) -> Result<(), &'static str> {
    let body_len = token.iter().rposition(|&b| b != b'=').map_or(0, |p| p + 1);
    let (body, pad) = token.split_at(body_len);
    if body.is_empty() {
        return Err("the token is empty");
    }
    let ok = body.iter().all(|&b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
    }) && pad.iter().all(|&b| b == b'=');
    if ok {
        Ok(())
    } else {
        Err("the token has a character outside the b64token syntax")
    }
}

fn malformed(problem: &'static str) -> SaslError {
    PeerMisbehaved::MalformedOAuthBearer(problem).into()
}

#[derive(Debug)]
enum ServerState {
    /// Waiting for the initial response (in `Start`, or in the first step
    /// after an empty challenge).
    AwaitingResponse,
    /// Sent the error document; waiting for the client's `0x01`.
    AwaitingErrorAck {
        reason: FailureReason,
        claimed: Option<crate::Name>,
        detail: Option<String>,
    },
    Done,
}

/// OAUTHBEARER as a server mechanism.
#[derive(Debug)]
pub(crate) struct Server {
    validator: Arc<Validator>,
    state: ServerState,
    started: bool,
}

impl Server {
    pub(crate) fn new(validator: Arc<Validator>) -> Self {
        Self {
            validator,
            state: ServerState::AwaitingResponse,
            started: false,
        }
    }

    fn check(&mut self, data: &[u8], ctx: StepCtx) -> Result<ServerStep, SaslError> {
        let initial = parse_initial(data).map_err(malformed)?;
        let claimed: Option<crate::Name> = initial.authzid.as_deref().map(Into::into);
        let refusal = match self.validator.validate(initial.token, ctx.wall) {
            Ok(validated) => match &initial.authzid {
                // RFC 7628 §3.1: an authzid other than the token's identity
                // is refused (no impersonation through the authzid).
                Some(a) if a != validated.principal().as_str() => (
                    FailureReason::AuthzidMismatch,
                    Some(format!("token maps to `{}`", validated.principal())),
                ),
                _ => {
                    self.state = ServerState::Done;
                    return Ok(ServerStep::Success {
                        principal: validated.principal().clone(),
                        proof: Verified::token(&validated),
                        claimed,
                    });
                }
            },
            Err(rejection) => (
                FailureReason::TokenRejected,
                Some(format!("{}: {}", rejection.reason().tag(), rejection)),
            ),
        };
        self.state = ServerState::AwaitingErrorAck {
            reason: refusal.0,
            claimed,
            detail: refusal.1,
        };
        Ok(ServerStep::Challenge(ERROR_DOCUMENT.into()))
    }
}

impl ServerMechanism for Server {
    fn name(&self) -> &'static str {
        OAUTHBEARER
    }

    fn start(&mut self, data: &[u8], ctx: StepCtx) -> Result<ServerStep, SaslError> {
        self.started = true;
        if data.is_empty() {
            // No initial response: an empty challenge asks for it (RFC 4422
            // §5, client-first mechanism over a protocol that allows it).
            return Ok(ServerStep::Challenge(Vec::new().into()));
        }
        self.check(data, ctx)
    }

    fn step(&mut self, data: &[u8], ctx: StepCtx) -> Result<ServerStep, SaslError> {
        if !self.started {
            return Err(PeerMisbehaved::UnexpectedStep.into());
        }
        match std::mem::replace(&mut self.state, ServerState::Done) {
            ServerState::AwaitingResponse => self.check(data, ctx),
            ServerState::AwaitingErrorAck {
                reason,
                claimed,
                detail,
            } => {
                if data != [KVSEP] {
                    return Err(malformed(
                        "after the error document the client must send 0x01",
                    ));
                }
                Ok(ServerStep::Failure {
                    reason,
                    claimed,
                    detail,
                })
            }
            ServerState::Done => Err(PeerMisbehaved::UnexpectedStep.into()),
        }
    }
}

/// OAUTHBEARER as a client mechanism.
#[derive(Debug)]
pub(crate) struct Client {
    // Dropped (and wiped) once the initial response is built.
    token: Option<Secret>,
    sent: bool,
    server_status: Option<String>,
}

impl Client {
    /// Checks the token's syntax here, so a bad token is the caller's error
    /// before anything is sent.
    pub(crate) fn new(token: &Secret) -> Result<Self, SaslError> {
        check_b64token(token.expose()).map_err(ApiMisuse::BadToken)?;
        Ok(Self {
            token: Some(Secret::new(token.expose())),
            sent: false,
            server_status: None,
        })
    }
}

impl ClientMechanism for Client {
    fn name(&self) -> &'static str {
        OAUTHBEARER
    }

    /// `principal` is sent as the authzid (the server refuses the token
    /// unless it maps to the same principal).
    fn start(&mut self, principal: &Principal) -> Result<Vec<u8>, SaslError> {
        let Some(token) = self.token.take() else {
            return Err(ApiMisuse::Finished.into());
        };
        let authzid = escape_saslname(principal.as_str());
        let mut out = Vec::with_capacity(authzid.len() + token.len() + 24);
        // A principal is never empty, so there is always an authzid.
        out.extend_from_slice(b"n,a=");
        out.extend_from_slice(authzid.as_bytes());
        out.extend_from_slice(b",\x01auth=Bearer ");
        out.extend_from_slice(token.expose());
        out.extend_from_slice(b"\x01\x01");
        self.sent = true;
        Ok(out)
    }

    fn step(&mut self, _principal: &Principal, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !self.sent {
            return Err(PeerMisbehaved::UnexpectedStep.into());
        }
        if self.server_status.is_some() {
            return Err(PeerMisbehaved::UnexpectedStep.into());
        }
        if challenge.is_empty() {
            // The server asks for the initial response again: it had it.
            return Err(PeerMisbehaved::EmptyChallenge.into());
        }
        let status = serde_json::from_slice::<serde_json::Value>(challenge)
            .ok()
            .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_owned))
            .ok_or_else(|| malformed("the server's challenge is not an error document"))?;
        let status: String = status
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_STATUS_LEN)
            .collect();
        self.server_status = Some(status);
        // RFC 7628 §3.2.3: answer the error with a lone 0x01 and wait for
        // the failure.
        Ok(vec![KVSEP])
    }

    fn may_complete(&self) -> bool {
        self.sent && self.server_status.is_none()
    }

    fn failure_detail(&self) -> Option<String> {
        self.server_status
            .as_ref()
            .map(|s| format!("server status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_example_shape() {
        let msg = b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";
        let parsed = parse_initial(msg);
        assert_eq!(
            parsed,
            Ok(InitialResponse {
                authzid: Some("user@example.com".to_owned()),
                token: "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
            })
        );
    }

    #[test]
    fn saslname_round_trips() {
        let name = "a=b,c";
        assert_eq!(escape_saslname(name), "a=3Db=2Cc");
        assert_eq!(
            unescape_saslname(escape_saslname(name).as_bytes()),
            Ok(name.to_owned())
        );
        assert!(unescape_saslname(b"a=2").is_err());
    }

    #[test]
    fn strictness() {
        for (msg, want) in [
            (
                &b"p=tls-unique,,\x01auth=Bearer x\x01\x01"[..],
                "channel binding",
            ),
            (b"x,,\x01auth=Bearer x\x01\x01", "must start"),
            (b"n,,auth=Bearer x\x01\x01", "followed by 0x01"),
            (b"n,,\x01auth=Bearer x\x01", "must end"),
            (b"n,,\x01\x01", "missing"),
            (b"n,,\x01auth=Bearer x\x01auth=Bearer y\x01\x01", "twice"),
            (b"n,,\x01auth=Basic x\x01\x01", "Bearer <token>"),
            (b"n,,\x01auth=Bearerx\x01\x01", "Bearer <token>"),
            (b"n,,\x01auth=Bearer a b\x01\x01", "b64token"),
            (b"n,,\x01port=x\x01auth=Bearer x\x01\x01", "digits"),
            (b"n,,\x01k-y=v\x01auth=Bearer x\x01\x01", "ASCII letters"),
            (b"n,,\x01auth=Bearer x\x01\x01\x01", "no `=`"),
            (b"n,b=x,\x01auth=Bearer x\x01\x01", "second field"),
        ] {
            let err = parse_initial(msg).err().unwrap_or_default();
            assert!(err.contains(want), "{msg:?}: {err}");
        }
    }
}
