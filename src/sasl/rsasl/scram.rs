//! rsasl's SCRAM-SHA-256, wrapped so the server side reports its outcome as
//! an audit event (rsasl itself tells the callback only about successes),
//! and so that neither side hands rsasl 2.3's parsers input they panic on
//! (an attribute shorter than `x=`, e.g. the 4-byte client message `n,,n`)
//! or steps it again after it ended.

use std::borrow::Cow;
use std::io::Write;

use ::rsasl::mechanism::{Authentication, EmptyProvider, MechanismData, State};
use ::rsasl::mechname::Mechname;
use ::rsasl::prelude::{SASLConfig, SASLError, SessionError};
use ::rsasl::registry::{Matches, Mechanism, Named, Side};

use super::StoreProperty;
use super::cram_md5::send_event;
use crate::credentials::StoredSecret;
use crate::sasl::{AuthEvent, AuthResult, FailureReason};

/// The name, as rsasl and the registry spell it.
pub(super) const NAME: &str = "SCRAM-SHA-256";

/// SCRAM-SHA-256 (RFC 5802, RFC 7677): rsasl's own client and server.
///
/// The server side is rsasl's server, unchanged in what it sends, with an
/// audit event per finished exchange handed to the callback through
/// [`AuditProperty`](super::AuditProperty): completed, or failed with the
/// reason (unknown principal, wrong proof), or an error. Its keys come from
/// the callback ([`ServerCallback`](super::ServerCallback) takes them from
/// the credential store). Channel binding (`-PLUS`) is not offered.
///
/// Both sides check each message's attribute syntax before rsasl parses it:
/// rsasl 2.3.1 indexes attributes without a length check and panics on
/// input as short as `n,,n` from an unauthenticated peer. Such a message is
/// refused with a protocol error instead, as is a message over 4,096 bytes,
/// and any step after the exchange ended returns `MechanismDone` (rsasl
/// would panic there too).
pub static SCRAM_SHA256: Mechanism = Mechanism::build(
    Mechname::const_new_unchecked(NAME.as_bytes()),
    600,
    Some(start_client),
    Some(start_server),
    Side::Client,
    |_channel_binding| Some(Matches::<Select>::name()),
    |_channel_binding| true,
);

struct Select;

impl Named for Select {
    fn mech() -> &'static Mechanism {
        &SCRAM_SHA256
    }
}

fn start_client() -> Result<Box<dyn Authentication>, SASLError> {
    let inner = ::rsasl::mechanisms::scram::SCRAM_SHA256
        .client()
        .unwrap_or(Err(SASLError::NoSharedMechanism))?;
    Ok(Box::new(GuardedClient {
        inner,
        steps: 0,
        done: false,
    }))
}

fn start_server(config: &SASLConfig) -> Result<Box<dyn Authentication>, SASLError> {
    let inner = ::rsasl::mechanisms::scram::SCRAM_SHA256
        .server(config)
        .unwrap_or(Err(SASLError::NoSharedMechanism))?;
    Ok(Box::new(AuditedServer {
        inner,
        claimed: None,
        received: 0,
        done: false,
    }))
}

/// Longest SCRAM message accepted, either side, in bytes: room for a
/// 256-byte principal fully escaped, as authentication and authorization
/// identity, a long nonce and channel-binding data; rsasl has no limit.
const MAX_MESSAGE_LEN: usize = 4096;

/// A SCRAM message refused before rsasl's parser saw it.
#[derive(Debug, thiserror::Error)]
#[error("malformed SCRAM message")]
struct Malformed;

impl ::rsasl::mechanism::MechanismError for Malformed {
    fn kind(&self) -> ::rsasl::mechanism::MechanismErrorKind {
        ::rsasl::mechanism::MechanismErrorKind::Parse
    }
}

/// Whether `message` is at most [`MAX_MESSAGE_LEN`] bytes and every
/// attribute of it that rsasl 2.3 slices is at least `x=` long. In a client-first message the first field is the GS2 flag
/// (`n`, `y` or `p=..`, which rsasl checks safely) and the second the
/// optional authorization identity (empty, or `a=..`).
fn attributes_ok(message: &[u8], client_first: bool) -> bool {
    message.len() <= MAX_MESSAGE_LEN
        && message
            .split(|&b| b == b',')
            .enumerate()
            .all(|(i, field)| match i {
                0 if client_first => true,
                1 if client_first => field.is_empty() || field.starts_with(b"a="),
                _ => field.len() >= 2 && field.get(1) == Some(&b'='),
            })
}

/// rsasl's client, fed only well-formed server messages and never stepped
/// after it ended. rsasl drops its state when it returns an error, even
/// `InputDataRequired`, so the next step would panic: those calls stop here.
struct GuardedClient {
    inner: Box<dyn Authentication>,
    steps: usize,
    done: bool,
}

impl Authentication for GuardedClient {
    fn step(
        &mut self,
        session: &mut MechanismData,
        input: Option<&[u8]>,
        writer: &mut dyn Write,
    ) -> Result<State, SessionError> {
        if self.done {
            return Err(SessionError::MechanismDone);
        }
        // The first step writes the client-first message and reads nothing.
        let result = match input {
            _ if self.steps == 0 => self.inner.step(session, None, writer),
            None => return Err(SessionError::InputDataRequired),
            Some(message) if !attributes_ok(message, false) => Err(Malformed.into()),
            Some(_) => self.inner.step(session, input, writer),
        };
        self.steps += 1;
        self.done = !matches!(result, Ok(State::Running));
        result
    }
}

struct AuditedServer {
    inner: Box<dyn Authentication>,
    /// The user name from the client-first message, unescaped.
    claimed: Option<String>,
    /// Client messages handed to rsasl so far.
    received: usize,
    done: bool,
}

impl Authentication for AuditedServer {
    fn step(
        &mut self,
        session: &mut MechanismData,
        input: Option<&[u8]>,
        writer: &mut dyn Write,
    ) -> Result<State, SessionError> {
        if self.done {
            return Err(SessionError::MechanismDone);
        }
        // SCRAM is client-first: the server always needs input. Answered
        // here, as rsasl would lose its state.
        let Some(message) = input else {
            return Err(SessionError::InputDataRequired);
        };
        let first = self.received == 0;
        if first {
            self.claimed = claimed_name(message);
        }
        let mut out = Vec::new();
        let result = if attributes_ok(message, first) {
            self.inner.step(session, input, &mut out)
        } else {
            Err(Malformed.into())
        };
        self.received += 1;
        self.done = !matches!(result, Ok(State::Running));
        if result.is_ok() {
            writer.write_all(&out)?;
        }
        let event = |result, reason, error| AuthEvent {
            side: crate::sasl::Side::Authenticator,
            principal: self.claimed.as_deref().map(|n| audit_name(n).into()),
            peer: None,
            mechanism: NAME,
            result,
            reason,
            error,
            detail: None,
            audit_id: None,
        };
        match &result {
            Ok(State::Finished(_)) if out.starts_with(b"v=") => {
                send_event(session, &event(AuthResult::Completed, None, None));
            }
            Ok(State::Finished(_)) => {
                let reason = failure_reason(session, self.claimed.as_deref());
                send_event(session, &event(AuthResult::Failed, Some(reason), None));
            }
            Ok(State::Running) => {}
            Err(e) => {
                send_event(
                    session,
                    &event(AuthResult::Error, None, Some(e.to_string())),
                );
            }
        }
        result
    }
}

/// Why a finished exchange failed, from what the store holds for the name.
/// The peer saw `e=invalid-proof` either way.
fn failure_reason(session: &MechanismData, claimed: Option<&str>) -> FailureReason {
    let Some(name) = claimed.filter(|n| crate::Principal::new(n).is_ok()) else {
        return FailureReason::InvalidPrincipal;
    };
    let held = session.maybe_need_with::<StoreProperty, _, _>(&EmptyProvider, |store| {
        Ok(match store.get(name).map(|c| c.secret()) {
            Some(StoredSecret::ScramSha256(_)) => FailureReason::BadDigest,
            Some(StoredSecret::Plain(s)) if !s.is_empty() => FailureReason::BadDigest,
            // Absent, or a form SCRAM cannot use.
            _ => FailureReason::UnknownPrincipal,
        })
    });
    match held {
        Ok(Some(reason)) => reason,
        _ => FailureReason::BadDigest,
    }
}

/// The `n=` user name of a client-first message, unescaped; `None` if the
/// message does not have one.
fn claimed_name(client_first: &[u8]) -> Option<String> {
    // gs2-cbind-flag "," [authzid] "," "n=" saslname "," ...
    let mut parts = client_first.splitn(4, |&b| b == b',');
    let _flag = parts.next()?;
    let _authzid = parts.next()?;
    let user = parts.next()?.strip_prefix(b"n=")?;
    let user = std::str::from_utf8(user).ok()?;
    unescape(user).map(Cow::into_owned)
}

/// Undoes SCRAM's `saslname` escaping (`=2C` is `,`, `=3D` is `=`); `None`
/// for any other `=`, which RFC 5802 §5.1 forbids.
pub(super) fn unescape(name: &str) -> Option<Cow<'_, str>> {
    if !name.contains('=') {
        return Some(Cow::Borrowed(name));
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('=') {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        if let Some(after) = tail.strip_prefix("=2C") {
            out.push(',');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("=3D") {
            out.push('=');
            rest = after;
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// The claimed name for the audit log: at most 256 bytes, on a character
/// boundary, no control characters.
fn audit_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .scan(0usize, |len, c| {
            *len += c.len_utf8();
            (*len <= crate::MAX_PRINCIPAL_LEN).then_some(c)
        })
        .collect()
}
