//! The audit record of one exchange.

use crate::Name;

use serde::Serialize;

/// Which side produced an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The server (Mesos master).
    Authenticator,
    /// The client (framework or agent).
    Authenticatee,
}

/// How an exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthResult {
    /// Authenticated.
    Completed,
    /// Credentials refused.
    Failed,
    /// Broke off (protocol error, timeout, discard).
    Error,
}

/// Why credentials were refused. Local only: the peer always sees the same
/// bare `Failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureReason {
    /// No such principal (or it has no CRAM-MD5-capable secret).
    UnknownPrincipal,
    /// The digest did not match.
    BadDigest,
    /// The digest was not exactly 32 lowercase hex digits.
    MalformedDigest,
    /// The claimed name cannot be a principal (not UTF-8, too long, control
    /// characters).
    InvalidPrincipal,
    /// The principal exists but its stored secret cannot answer CRAM-MD5: it
    /// is empty (Cyrus refuses these too) or holds SCRAM keys only.
    NoCramMd5Secret,
    /// The server said `Failed` (client side).
    RefusedByServer,
    /// OAUTHBEARER: the bearer validator refused the token (the event's
    /// `detail` says why).
    TokenRejected,
    /// OAUTHBEARER: the authzid is not the principal the token maps to.
    AuthzidMismatch,
    /// Client side: the server does not offer the configured mechanism, and
    /// falling back to another one would be a downgrade.
    MechanismNotOffered,
    /// GSSAPI: Kerberos refused the exchange (expired ticket, wrong service
    /// principal, replay, clock skew, unmapped principal, ...; the event's
    /// `detail` names the `gssapi::GssFailure` and GSSAPI's message).
    KerberosRefused,
    /// GSSAPI: the server could not set up its own Kerberos credentials (no
    /// keytab, no key for the service); a local fault, the `detail` says
    /// which. The peer still sees the uniform `Failed`.
    KerberosUnavailable,
}

/// One audit record: every exchange that ends produces exactly one, on the
/// side that saw it end. It is an [`audit::Event`](crate::audit::Event):
/// hand it to an [`AuditSink`](crate::AuditSink) as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthEvent {
    /// Which side this is.
    pub side: Side,
    /// The principal claimed (server) or used (client), if known. On the
    /// server this is the peer's claim, lossily decoded, at most 256 bytes.
    /// A [`Name`]: a completed session names the stored principal without
    /// an allocation (issue 14, item 3).
    pub principal: Option<Name>,
    /// The peer, as the host named it.
    pub peer: Option<String>,
    /// The mechanism (`CRAM-MD5`, `OAUTHBEARER`, `GSSAPI`); `CRAM-MD5` when the
    /// session ended before one was chosen.
    pub mechanism: &'static str,
    /// The outcome.
    pub result: AuthResult,
    /// Why the credentials were refused, for `Failed`.
    pub reason: Option<FailureReason>,
    /// The error, for `Error`.
    pub error: Option<String>,
    /// Finer local detail on a refusal (a token rejection's reason, what the
    /// server's OAUTHBEARER error said); omitted from JSON if none. Never a
    /// token or a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request this exchange belongs to, if the host gave one
    /// ([`with_audit_id`](Self::with_audit_id)); omitted from JSON if not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<crate::audit::AuditId>,
}

impl AuthEvent {
    /// How the principal authenticated: the mechanism, lowercase
    /// (`cram-md5`, or `scram-sha-256` through rsasl). The JSON record's
    /// `auth_method`.
    pub fn auth_method(&self) -> String {
        self.mechanism.to_ascii_lowercase()
    }

    /// The peer's address as the host named it: the JSON record's `source`
    /// (the key the HTTP events use), the same text as `peer`. Untrusted:
    /// the peer chose it.
    pub fn source(&self) -> Option<&str> {
        self.peer.as_deref()
    }

    /// The event with `detail` set (or cleared).
    #[must_use]
    pub(crate) fn with_detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail;
        self
    }

    /// The event tagged with the request's audit id.
    #[must_use]
    pub fn with_audit_id(mut self, id: crate::audit::AuditId) -> Self {
        self.audit_id = Some(id);
        self
    }
}

impl crate::audit::Event for AuthEvent {
    fn component(&self) -> &'static str {
        "sasl"
    }

    fn to_json(&self) -> serde_json::Value {
        // `auth_method` and `source` are derived, not stored: the event
        // sits in the SASL state machine's output, which stays small.
        let mut v = crate::audit::json_of(self);
        if let serde_json::Value::Object(map) = &mut v {
            map.insert("auth_method".to_owned(), self.auth_method().into());
            map.insert("source".to_owned(), self.source().into());
        }
        v
    }

    fn to_audit_event(&self) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(self.clone())
    }
}
