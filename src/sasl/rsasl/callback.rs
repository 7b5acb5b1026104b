//! The store-backed server callback and the client configuration.

use std::borrow::Cow;
use std::sync::Arc;

use ::rsasl::callback::{Context, Request, SessionCallback, SessionData};
use ::rsasl::mechanisms::scram::properties::ScramStoredPassword;
use ::rsasl::prelude::{SASLConfig, SASLError, SessionError};
use ::rsasl::property::{AuthId, AuthzId, Password};
use ::rsasl::registry::Registry;
use ::rsasl::validate::{Validate, ValidationError};

use super::scram::{NAME as SCRAM_NAME, unescape};
use super::{AuditProperty, CramMd5ConfigProperty, MECHANISMS, PrincipalValidation, StoreProperty};
use crate::audit::{AuditSink, NullSink};
use crate::credentials::{CredentialStore, ScramSha256Keys, StoredSecret};
use crate::sasl::{AuthenticatorConfig, MECHANISM};
use crate::{Principal, Secret};

/// What SCRAM-SHA-256 does for a principal whose secret is stored as
/// plaintext (the Mesos default), which has no SCRAM keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PlaintextScram {
    /// Derive the keys during the exchange: PBKDF2-HMAC-SHA-256 over the
    /// password, with the salt and iteration count the store would show for
    /// that name anyway ([`CredentialStore::scram_sha256`]'s made-up keys:
    /// a salt fixed per name and store, the iteration count of the store's
    /// first SCRAM credential, else 4096).
    ///
    /// Cost: one PBKDF2 run per attempt (0.65 ms at 4096 iterations, one
    /// core of the build machine, release build), paid before the client
    /// has proved anything; with [`Refuse`](Self::Refuse) the server-first
    /// step takes a few microseconds.
    /// So that the timing does not tell a plaintext principal from an
    /// unknown or a SCRAM-stored one, every SCRAM attempt pays it while the
    /// store holds any plaintext credential. Throttle failures (see
    /// [`Throttle`](crate::sasl::Throttle)) and convert the file to
    /// `{SCRAM-SHA-256}` (`mesos-auth credentials convert FILE --to
    /// scram-sha-256`) to avoid it.
    #[default]
    Derive,
    /// Treat plaintext principals like unknown ones for SCRAM: made-up keys,
    /// the exchange fails. No PBKDF2 ever runs. CRAM-MD5 still works for
    /// them.
    Refuse,
}

/// An rsasl server callback answering from a [`CredentialStore`].
///
/// Serves [`CRAM_MD5`](super::CRAM_MD5) (it answers [`StoreProperty`] and
/// [`CramMd5ConfigProperty`]) and SCRAM-SHA-256 (it answers
/// `ScramStoredPassword` for every name, made-up keys included, so unknown
/// principals cannot be told apart), records [`AuditProperty`] events in its
/// [`AuditSink`], and validates sessions with [`PrincipalValidation`]. It
/// refuses to validate any other mechanism, and a SCRAM authorization
/// identity different from the authentication identity (no proxy login).
///
/// The store is fixed for the callback's life: after a reload
/// ([`CredentialsHandle`](crate::credentials::CredentialsHandle)), build a
/// new callback and config for new sessions (cheap: one pass over the store
/// to see whether it holds plaintext).
///
/// # Example: SCRAM-SHA-256 from a `{SCRAM-SHA-256}` credential
///
/// ```
/// use std::sync::Arc;
/// use mesos_auth::audit::MemorySink;
/// use mesos_auth::credentials::{self, Format, Options};
/// use mesos_auth::sasl::rsasl::{PrincipalValidation, ServerCallback, client_config};
/// use mesos_auth::{Principal, Secret};
/// use mesos_auth::sasl::AuthEvent;
/// use rsasl::prelude::{Mechname, SASLClient, SASLServer, State};
///
/// // RFC 7677's user: keys for the password "pencil", as `mesos-auth
/// // credentials convert` writes them.
/// let file = b"user {SCRAM-SHA-256}4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
///     WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\n";
/// let text = Options::new().format(Format::Text);
/// let store = Arc::new(credentials::parse(file, &text)?.into_store()?);
/// let audit = Arc::new(MemorySink::new());
/// let config = ServerCallback::new(store).audit(audit.clone()).peer("10.0.0.7:40112").config()?;
///
/// let client = SASLClient::new(client_config(Principal::new("user")?, Secret::new(b"pencil"))?);
/// let offered = [Mechname::parse(b"SCRAM-SHA-256")?, Mechname::parse(b"CRAM-MD5")?];
/// let mut client = client.start_suggested(&offered)?;
/// assert_eq!(client.get_mechname().as_str(), "SCRAM-SHA-256");
/// let mut server = SASLServer::<PrincipalValidation>::new(config)
///     .start_suggested(client.get_mechname())?;
///
/// // Client-first; every message goes to the other side until both finish.
/// let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
/// client.step(None, &mut to_server)?;
/// loop {
///     to_client.clear();
///     let server_state = server.step(Some(&to_server), &mut to_client)?;
///     to_server.clear();
///     let client_state = client.step(Some(&to_client), &mut to_server)?;
///     if server_state.is_finished() && client_state.is_finished() {
///         break;
///     }
/// }
/// assert_eq!(server.validation().ok_or("refused")?.as_str(), "user");
/// let events = audit.take();
/// assert!(matches!(&events[..], [e] if e.downcast_ref::<AuthEvent>().is_some_and(|e| e.peer.as_deref() == Some("10.0.0.7:40112"))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ServerCallback {
    store: Arc<CredentialStore>,
    audit: Arc<dyn AuditSink>,
    cram_md5: AuthenticatorConfig,
    peer: Option<String>,
    plaintext: PlaintextScram,
    /// Whether the store holds a plaintext credential (so `Derive` makes
    /// every SCRAM attempt pay for a PBKDF2 run).
    has_plain: bool,
    /// Stands in for a password when the PBKDF2 run is only for timing.
    dummy_password: Secret,
}

impl std::fmt::Debug for ServerCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCallback")
            .field("principals", &self.store.len())
            .field("cram_md5", &self.cram_md5)
            .field("peer", &self.peer)
            .field("plaintext", &self.plaintext)
            .finish_non_exhaustive()
    }
}

impl ServerCallback {
    /// A callback over `store`, with no audit sink, the default CRAM-MD5
    /// settings and [`PlaintextScram::Derive`].
    pub fn new(store: Arc<CredentialStore>) -> Self {
        let has_plain = store
            .iter()
            .any(|c| matches!(c.secret(), StoredSecret::Plain(s) if !s.is_empty()));
        Self {
            store,
            audit: Arc::new(NullSink),
            cram_md5: AuthenticatorConfig::default(),
            peer: None,
            plaintext: PlaintextScram::default(),
            has_plain,
            dummy_password: Secret::new(b"not a password: timing only"),
        }
    }

    /// Where audit events go.
    #[must_use]
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = sink;
        self
    }

    /// Settings of the CRAM-MD5 authenticator (challenge host, timeout).
    #[must_use]
    pub fn cram_md5(mut self, config: AuthenticatorConfig) -> Self {
        self.cram_md5 = match &self.peer {
            Some(peer) => config.peer(peer.clone()),
            None => config,
        };
        self
    }

    /// The peer's name (for example its address), copied into every audit
    /// event; for a callback made per connection.
    #[must_use]
    pub fn peer(mut self, peer: impl Into<String>) -> Self {
        let peer = peer.into();
        self.cram_md5 = self.cram_md5.peer(peer.clone());
        self.peer = Some(peer);
        self
    }

    /// What SCRAM does for plaintext credentials.
    #[must_use]
    pub fn plaintext_scram(mut self, policy: PlaintextScram) -> Self {
        self.plaintext = policy;
        self
    }

    /// An rsasl configuration serving [`MECHANISMS`] (SCRAM-SHA-256, then
    /// CRAM-MD5) with this callback.
    ///
    /// # Errors
    ///
    /// rsasl's [`SASLError`], which it does not raise for this registry.
    pub fn config(self) -> Result<Arc<SASLConfig>, SASLError> {
        self.config_with(Registry::with_mechanisms(MECHANISMS))
    }

    /// As [`config`](Self::config), with another set of mechanisms, e.g.
    /// `static MESOS: &[Mechanism] = &[CRAM_MD5];` for a Mesos-only server. Mechanisms other than
    /// CRAM-MD5 and SCRAM-SHA-256 will never validate.
    ///
    /// # Errors
    ///
    /// As for `config`.
    pub fn config_with(self, registry: Registry) -> Result<Arc<SASLConfig>, SASLError> {
        SASLConfig::builder()
            .with_registry(registry)
            .with_callback(self)
    }

    /// Answers rsasl's request for SCRAM keys for the (escaped) name.
    fn satisfy_scram(&self, escaped: &str, request: &mut Request<'_>) -> Result<(), SessionError> {
        // A name that is not valid SCRAM escaping is looked up as "", which
        // no principal can be: it gets made-up keys like any unknown name.
        let name = unescape(escaped).unwrap_or(Cow::Borrowed(""));
        let lookup = self.store.scram_sha256(&name);
        let derived = self.plaintext_keys(&name, lookup.keys(), lookup.known());
        let keys = derived.as_ref().unwrap_or(lookup.keys());
        request.satisfy::<ScramStoredPassword>(&ScramStoredPassword::new(
            keys.iterations(),
            keys.salt(),
            keys.stored_key(),
            keys.server_key(),
        ))?;
        Ok(())
    }

    /// Keys derived from a plaintext credential under
    /// [`PlaintextScram::Derive`]; `None` otherwise. Pays for one PBKDF2
    /// run whenever the store holds plaintext, whoever `name` is.
    fn plaintext_keys(
        &self,
        name: &str,
        made_up: &ScramSha256Keys,
        known: bool,
    ) -> Option<ScramSha256Keys> {
        if self.plaintext != PlaintextScram::Derive || !self.has_plain {
            return None;
        }
        let plain = match self.store.get(name).map(|c| c.secret()) {
            Some(StoredSecret::Plain(s)) if !known && !s.is_empty() => Some(s),
            _ => None,
        };
        let password = plain.unwrap_or(&self.dummy_password);
        // Fails only when the store's iteration count is below 4096; the
        // principal then gets the made-up keys and cannot log in by SCRAM.
        let keys = ScramSha256Keys::derive(password, made_up.salt(), made_up.iterations()).ok();
        keys.filter(|_| plain.is_some())
    }
}

impl SessionCallback for ServerCallback {
    fn callback(
        &self,
        session_data: &SessionData,
        context: &Context<'_>,
        request: &mut Request<'_>,
    ) -> Result<(), SessionError> {
        if let Some(event) = request.get_action::<AuditProperty>() {
            let event = match (&event.peer, &self.peer) {
                (None, Some(peer)) => {
                    let mut event = event.clone();
                    event.peer = Some(peer.clone());
                    event
                }
                _ => event.clone(),
            };
            self.audit.record(&event);
            return Ok(());
        }
        let mechanism = session_data.mechanism().mechanism.as_str();
        if mechanism == MECHANISM {
            request
                .satisfy::<StoreProperty>(&self.store)?
                .satisfy::<CramMd5ConfigProperty>(&self.cram_md5)?;
        } else if mechanism == SCRAM_NAME && request.is::<ScramStoredPassword<'static>>() {
            let name = context.get_ref::<AuthId>().unwrap_or_default();
            self.satisfy_scram(name, request)?;
        } else if mechanism == SCRAM_NAME {
            // The audit wrapper asks for the store to name a failure's reason.
            request.satisfy::<StoreProperty>(&self.store)?;
        }
        Ok(())
    }

    fn validate(
        &self,
        session_data: &SessionData,
        context: &Context<'_>,
        validate: &mut Validate<'_>,
    ) -> Result<(), ValidationError> {
        let mechanism = session_data.mechanism().mechanism.as_str();
        let authid = context
            .get_ref::<AuthId>()
            .ok_or(ValidationError::MissingRequiredProperty)?;
        let name = if mechanism == MECHANISM {
            // The authenticator passes the stored principal itself.
            Cow::Borrowed(authid)
        } else if mechanism == SCRAM_NAME {
            let name = unescape(authid).ok_or_else(|| refused("invalid user name"))?;
            // rsasl hands over the escaped authzid as sent; anything but
            // "none" or the same name would be a login as someone else.
            if let Some(authzid) = context.get_ref::<AuthzId>()
                && unescape(authzid).as_deref() != Some(&*name)
            {
                return Err(refused("authorization identity differs"));
            }
            name
        } else {
            // Fail closed: only our two mechanisms check against the store.
            return Err(refused("mechanism not served by this callback"));
        };
        let principal = Principal::new(&name).map_err(|e| ValidationError::Boxed(Box::new(e)))?;
        validate.finalize::<PrincipalValidation>(principal);
        Ok(())
    }
}

/// A validation refusal with a fixed reason (no user input in it).
fn refused(reason: &'static str) -> ValidationError {
    ValidationError::Boxed(reason.into())
}

/// The client side's callback: one principal and its secret.
struct ClientCallback {
    principal: Principal,
    secret: Secret,
}

impl SessionCallback for ClientCallback {
    fn callback(
        &self,
        _session_data: &SessionData,
        _context: &Context<'_>,
        request: &mut Request<'_>,
    ) -> Result<(), SessionError> {
        request
            .satisfy::<AuthId>(self.principal.as_str())?
            .satisfy::<Password>(self.secret.expose())?;
        Ok(())
    }
}

/// An rsasl client configuration that authenticates as `principal` with
/// `secret` by SCRAM-SHA-256 or [`CRAM_MD5`](super::CRAM_MD5), preferring
/// SCRAM when the server offers both; any other offer fails with
/// `NoSharedMechanism` (no downgrade to `PLAIN`). The secret is kept until
/// the config is dropped, then wiped.
///
/// # Errors
///
/// rsasl's [`SASLError`], which it does not raise for this registry.
pub fn client_config(principal: Principal, secret: Secret) -> Result<Arc<SASLConfig>, SASLError> {
    SASLConfig::builder()
        .with_registry(Registry::with_mechanisms(MECHANISMS))
        .with_callback(ClientCallback { principal, secret })
}
