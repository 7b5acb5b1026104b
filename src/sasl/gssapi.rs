//! SASL GSSAPI (Kerberos V5, RFC 4752) as Cyrus SASL's `gssapi` plugin
//! speaks it: a [`GssapiServer`] (the Mesos master) and a [`GssapiClient`]
//! (framework or agent), each a step machine fed the peer's token and
//! returning the next one to send ([`GssStep`]).
//!
//! ```text
//!  client                                      server
//!    ├── GSS_Init_sec_context token (AP-REQ) ──► │ accept: ticket, replay, skew
//!    │ ◄── GSS_Accept_sec_context token (AP-REP) ┤ (mutual authentication)
//!    ├── "" ───────────────────────────────────► │
//!    │ ◄── wrap([0x01, 0, 0, 0]) ─────────────── ┤ offer: no layer, max buffer 0
//!    ├── wrap([0x01, 0, 0, 0] + authzid) ──────► │ choice checked,
//!    │                                           │ Kerberos name → principal
//! ```
//!
//! The server maps the client's Kerberos name to a Mesos [`Principal`] with
//! [`AuthToLocal`] rules (Hadoop's `auth_to_local` notation); a name no rule
//! maps is refused. Failures are one [`GssapiError::Refused`] to send back
//! as Mesos's bare "authentication failed", carrying the precise local
//! reason ([`GssFailure`]: expired ticket, wrong service principal, replay,
//! clock skew, unmapped principal) for the audit log. GSSAPI's own messages
//! name principals and error codes, never keys.
//!
//! # Credentials
//!
//! The server reads its keys from the keytab named by `KRB5_KTNAME` (MIT's
//! default otherwise), restricted to one service principal
//! (`mesos/<host>@REALM`) when [`GssapiServerConfig::service`] is set. The
//! client uses the credentials cache named by `KRB5CCNAME`, or a client
//! keytab (`KRB5_CLIENT_KTNAME`) from which MIT Kerberos gets tickets
//! itself. An explicit keytab path per context would need
//! `gss_acquire_cred_from`, which the safe binding does not offer; the host
//! (or the C API) sets the environment before the first context.
//!
//! # Binding
//!
//! The `libgssapi` crate: a thin safe layer over the system's
//! `libgssapi_krb5` (MIT), so the core keeps `forbid(unsafe_code)`. rsasl's
//! GSSAPI mechanism was the alternative; it is an optional part of a
//! framework we use only for SCRAM, drives the same MIT library through the
//! same binding, and would hide the GSS major/minor codes the precise
//! failure reasons come from. What this module adds around the GSS calls
//! is measured in `benches/gssapi.rs` (2 shared cores, load average ~7,
//! no replay cache): the whole handshake 898 µs against 886 µs for the
//! bare GSS calls of the same exchange (+1.3 %, within the noise); the
//! library's own work alone (framing check, name mapping, layer messages)
//! 1.3 µs, 0.15 % of it.

mod error;
pub mod layer;
pub(crate) mod mech;
pub mod rules;

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext, ServerCtx};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE, GSS_NT_KRB5_PRINCIPAL, OidSet};

pub use error::{GssFailure, GssapiError};
pub use rules::{AuthToLocal, MapError, RuleError, RuleIndex, RulesError};

use std::sync::Arc;

use crate::Principal;

/// The SASL mechanism name.
pub const MECHANISM: &str = super::mechanism::GSSAPI;

/// Largest token accepted from a peer. Kerberos AP-REQs with a large PAC
/// reach tens of kilobytes; Mesos caps its messages well above this.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// What to do after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GssStep {
    /// Send this token to the peer (it may be empty) and feed its answer to
    /// the next `step`.
    Continue(Vec<u8>),
    /// Authenticated. On the server, `principal` is the mapped Mesos
    /// principal; on the client, the principal it asked to be known as.
    /// `output`, if any, is the last token to send (the client's wrapped
    /// security-layer choice).
    Done {
        /// The Mesos principal.
        principal: Principal,
        /// A last token for the peer.
        output: Option<Vec<u8>>,
    },
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct GssapiServerConfig {
    rules: Arc<AuthToLocal>,
    service: Option<String>,
}

impl GssapiServerConfig {
    /// Maps client names with `rules`; accepts for any key in the keytab.
    pub fn new(rules: Arc<AuthToLocal>) -> Self {
        Self {
            rules,
            service: None,
        }
    }

    /// Accepts only for this service: `mesos@host` (host-based, as GSSAPI
    /// writes `mesos/host@REALM`) or a full Kerberos name with a `/`.
    #[must_use]
    pub fn service(mut self, service: &str) -> Self {
        self.service = Some(service.to_owned());
        self
    }
}

/// Proof that a [`GssapiServer`] completed an exchange: the context was
/// established, its source name mapped, and the client's wrapped layer
/// choice checked. Only [`GssapiServer::established`] builds one.
#[derive(Debug)]
pub(crate) struct Established(());

/// The client's configuration.
#[derive(Debug, Clone)]
pub struct GssapiClientConfig {
    principal: Principal,
    service: String,
    client_name: Option<String>,
    send_authzid: bool,
}

impl GssapiClientConfig {
    /// Authenticates to `service` (`mesos@master.example.org`, or a full
    /// Kerberos name with a `/`), expecting to be mapped to `principal`.
    pub fn new(principal: Principal, service: &str) -> Self {
        Self {
            principal,
            service: service.to_owned(),
            client_name: None,
            send_authzid: true,
        }
    }

    /// Uses this Kerberos name's credentials instead of the cache's default
    /// principal (`alice@EXAMPLE.ORG`).
    #[must_use]
    pub fn client_name(mut self, name: &str) -> Self {
        self.client_name = Some(name.to_owned());
        self
    }

    /// Whether to send `principal` as the authorization identity (default:
    /// yes, so a server mapping the name elsewhere refuses).
    #[must_use]
    pub fn send_authzid(mut self, send: bool) -> Self {
        self.send_authzid = send;
        self
    }

    /// The Mesos principal the client expects to be mapped to.
    pub(crate) fn principal(&self) -> &Principal {
        &self.principal
    }
}

fn import_name(name: &str) -> Result<Name, libgssapi::error::Error> {
    // A `/` means a Kerberos principal name; otherwise `service@host`.
    let kind = if name.contains('/') {
        &GSS_NT_KRB5_PRINCIPAL
    } else {
        &GSS_NT_HOSTBASED_SERVICE
    };
    Name::new(name.as_bytes(), Some(*kind))
}

fn krb5_only() -> Result<OidSet, libgssapi::error::Error> {
    let mut set = OidSet::new();
    set.add(GSS_MECH_KRB5)?;
    Ok(set)
}

/// The Kerberos V5 mechanism's DER object identifier (1.2.840.113554.1.2.2).
const KRB5_OID_DER: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];

/// Whether `token` is framed as RFC 2743 §3.1's initial context token of
/// the Kerberos V5 mechanism: `0x60`, a DER length covering the rest, then
/// the mechanism's OID.
pub(crate) fn is_krb5_initial_token(token: &[u8]) -> bool {
    let Some((&0x60, rest)) = token.split_first() else {
        return false;
    };
    let Some((&first, rest)) = rest.split_first() else {
        return false;
    };
    let (len, body) = match first {
        n @ 0..=0x7f => (usize::from(n), rest),
        0x81..=0x83 => {
            let k = usize::from(first - 0x80);
            let Some((bytes, body)) = rest.split_at_checked(k) else {
                return false;
            };
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, body)
        }
        _ => return false,
    };
    len == body.len() && body.starts_with(&KRB5_OID_DER)
}

/// The server (acceptor) side of one exchange.
pub struct GssapiServer {
    config: GssapiServerConfig,
    state: ServerState,
}

enum ServerState {
    /// Feeding client tokens to GSS_Accept_sec_context (the first one yet?).
    Accepting(Box<ServerCtx>, bool),
    /// Context established with a last token sent; waiting for the
    /// client's empty answer before the offer.
    AwaitingEmpty(Box<ServerCtx>, Principal),
    /// Offer sent; waiting for the client's wrapped choice.
    AwaitingChoice(Box<ServerCtx>, Principal),
    Done,
    Failed(GssapiError),
}

impl std::fmt::Debug for GssapiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            ServerState::Accepting(..) => "accepting",
            ServerState::AwaitingEmpty(..) => "awaiting_empty",
            ServerState::AwaitingChoice(..) => "awaiting_choice",
            ServerState::Done => "done",
            ServerState::Failed(_) => "failed",
        };
        f.debug_struct("GssapiServer")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl GssapiServer {
    /// A server ready for the client's first token.
    ///
    /// # Errors
    /// [`GssapiError::Setup`] if the service's keys cannot be found.
    pub fn new(config: GssapiServerConfig) -> Result<Self, GssapiError> {
        let cred = match &config.service {
            None => None,
            Some(service) => {
                let name = import_name(service)
                    .map_err(|e| GssapiError::setup("importing the service name", &e))?;
                let mechs = krb5_only()
                    .map_err(|e| GssapiError::setup("building the mechanism set", &e))?;
                Some(
                    Cred::acquire(Some(&name), None, CredUsage::Accept, Some(&mechs)).map_err(
                        |e| GssapiError::setup(&format!("acquiring keys for `{service}`"), &e),
                    )?,
                )
            }
        };
        Ok(Self {
            config,
            state: ServerState::Accepting(Box::new(ServerCtx::new(cred)), true),
        })
    }

    /// The proof of a completed exchange, once `step` has returned
    /// [`GssStep::Done`]; `None` before and after a failure.
    pub(crate) fn established(&self) -> Option<Established> {
        // `Done` is only ever left in place by the successful last step: a
        // failing step stores `Failed`.
        matches!(self.state, ServerState::Done).then_some(Established(()))
    }

    /// Feeds the client's next token.
    ///
    /// # Errors
    /// [`GssapiError::Refused`] (send the peer a bare failure, log the
    /// reason), [`GssapiError::Protocol`], or [`GssapiError::Misuse`] after
    /// the exchange ended. Errors are sticky.
    pub fn step(&mut self, input: &[u8]) -> Result<GssStep, GssapiError> {
        let state = std::mem::replace(&mut self.state, ServerState::Done);
        match self.advance(state, input) {
            Ok((next, step)) => {
                self.state = next;
                Ok(step)
            }
            Err(e) => {
                self.state = ServerState::Failed(e.clone());
                Err(e)
            }
        }
    }

    fn advance(
        &self,
        state: ServerState,
        input: &[u8],
    ) -> Result<(ServerState, GssStep), GssapiError> {
        if input.len() > MAX_TOKEN_LEN {
            return Err(GssapiError::protocol(format!(
                "token of {} bytes exceeds {MAX_TOKEN_LEN}",
                input.len()
            )));
        }
        match state {
            ServerState::Accepting(mut ctx, first) => {
                if input.is_empty() {
                    return Err(GssapiError::protocol(
                        "empty token where a GSSAPI token was expected",
                    ));
                }
                // RFC 4752 is Kerberos V5 only. Checked on the framing, before
                // any crypto: an acceptor with the default credential would
                // also take SPNEGO (and whatever else the system has).
                if first && !is_krb5_initial_token(input) {
                    return Err(GssapiError::refused(
                        GssFailure::BadToken,
                        "the initial token is not a Kerberos V5 (RFC 4121) token".to_owned(),
                    ));
                }
                let out = ctx
                    .step(input, None)
                    .map_err(|e| GssapiError::refused_gss(&e))?;
                if !ctx.is_complete() {
                    let out = out.map(|b| b.to_vec()).unwrap_or_default();
                    return Ok((ServerState::Accepting(ctx, false), GssStep::Continue(out)));
                }
                // And on the result (MIT reports Kerberos inside SPNEGO as
                // Kerberos: the framing check above is the one that bites).
                // One inquiry for both the mechanism and the client's name:
                // each `gss_inquire_context` costs MIT's mechanism glue a
                // look at its configuration.
                let info = ctx.info().map_err(|e| GssapiError::refused_gss(&e))?;
                if info.mechanism != GSS_MECH_KRB5 {
                    return Err(GssapiError::refused(
                        GssFailure::BadToken,
                        format!(
                            "the context's mechanism is {}, not Kerberos V5",
                            info.mechanism
                        ),
                    ));
                }
                let principal = self.map_source(&info.source_name)?;
                match out {
                    Some(tok) if !tok.is_empty() => Ok((
                        ServerState::AwaitingEmpty(ctx, principal),
                        GssStep::Continue(tok.to_vec()),
                    )),
                    _ => Self::offer(ctx, principal),
                }
            }
            ServerState::AwaitingEmpty(ctx, principal) => {
                if !input.is_empty() {
                    return Err(GssapiError::protocol(
                        "non-empty response after the context was established",
                    ));
                }
                Self::offer(ctx, principal)
            }
            ServerState::AwaitingChoice(mut ctx, principal) => {
                let plain = ctx
                    .unwrap(input)
                    .map_err(|e| GssapiError::refused_gss(&e))?;
                let authzid = layer::check_choice(&plain)
                    .map_err(|e| GssapiError::protocol(e.to_string()))?;
                if !authzid.is_empty() && authzid != principal.as_str() {
                    return Err(GssapiError::refused(
                        GssFailure::AuthzidMismatch,
                        format!(
                            "authorization identity `{authzid}` is not the mapped principal `{principal}`"
                        ),
                    ));
                }
                Ok((
                    ServerState::Done,
                    GssStep::Done {
                        principal,
                        output: None,
                    },
                ))
            }
            ServerState::Done => Err(GssapiError::misuse("step after the exchange completed")),
            ServerState::Failed(e) => Err(e),
        }
    }

    fn map_source(&self, name: &Name) -> Result<Principal, GssapiError> {
        let display = name.to_string();
        self.config
            .rules
            .map(&display)
            .map(|(p, _)| p)
            .map_err(|e| GssapiError::refused(GssFailure::UnmappedPrincipal, e.to_string()))
    }

    fn offer(
        mut ctx: Box<ServerCtx>,
        principal: Principal,
    ) -> Result<(ServerState, GssStep), GssapiError> {
        // Integrity only, as Cyrus: the offer is public, it must be unforged.
        let wrapped = ctx
            .wrap(false, &layer::SERVER_OFFER)
            .map_err(|e| GssapiError::refused_gss(&e))?;
        Ok((
            ServerState::AwaitingChoice(ctx, principal),
            GssStep::Continue(wrapped.to_vec()),
        ))
    }
}

/// The client (initiator) side of one exchange.
pub struct GssapiClient {
    config: GssapiClientConfig,
    state: ClientState,
}

enum ClientState {
    /// Nothing sent yet.
    Start(Box<ClientCtx>),
    /// Feeding server tokens to GSS_Init_sec_context.
    Initiating(Box<ClientCtx>),
    /// Context established; waiting for the wrapped offer.
    AwaitingOffer(Box<ClientCtx>),
    Done,
    Failed(GssapiError),
}

impl std::fmt::Debug for GssapiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            ClientState::Start(_) => "start",
            ClientState::Initiating(_) => "initiating",
            ClientState::AwaitingOffer(_) => "awaiting_offer",
            ClientState::Done => "done",
            ClientState::Failed(_) => "failed",
        };
        f.debug_struct("GssapiClient")
            .field("principal", &self.config.principal)
            .field("service", &self.config.service)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl GssapiClient {
    /// A client; the first [`step`](Self::step) (with empty input) yields
    /// the initial token.
    ///
    /// # Errors
    /// [`GssapiError::Setup`] if the service name is invalid or the named
    /// client credentials cannot be found.
    pub fn new(config: GssapiClientConfig) -> Result<Self, GssapiError> {
        let target = import_name(&config.service)
            .map_err(|e| GssapiError::setup("importing the service name", &e))?;
        let cred = match &config.client_name {
            None => None,
            Some(client) => {
                let name = Name::new(client.as_bytes(), Some(GSS_NT_KRB5_PRINCIPAL))
                    .map_err(|e| GssapiError::setup("importing the client name", &e))?;
                let mechs = krb5_only()
                    .map_err(|e| GssapiError::setup("building the mechanism set", &e))?;
                Some(
                    Cred::acquire(Some(&name), None, CredUsage::Initiate, Some(&mechs)).map_err(
                        |e| {
                            GssapiError::setup(&format!("acquiring credentials for `{client}`"), &e)
                        },
                    )?,
                )
            }
        };
        // Mutual authentication and sequencing, as Cyrus asks for.
        let flags = CtxFlags::GSS_C_MUTUAL_FLAG | CtxFlags::GSS_C_SEQUENCE_FLAG;
        let ctx = ClientCtx::new(cred, target, flags, Some(GSS_MECH_KRB5));
        Ok(Self {
            config,
            state: ClientState::Start(Box::new(ctx)),
        })
    }

    /// Feeds the server's next token (empty for the first step).
    ///
    /// # Errors
    /// [`GssapiError::Refused`] (no usable ticket, the server failed mutual
    /// authentication), [`GssapiError::Protocol`], or
    /// [`GssapiError::Misuse`] after the exchange ended. Errors are sticky.
    pub fn step(&mut self, input: &[u8]) -> Result<GssStep, GssapiError> {
        let state = std::mem::replace(&mut self.state, ClientState::Done);
        match self.advance(state, input) {
            Ok((next, step)) => {
                self.state = next;
                Ok(step)
            }
            Err(e) => {
                self.state = ClientState::Failed(e.clone());
                Err(e)
            }
        }
    }

    fn advance(
        &self,
        state: ClientState,
        input: &[u8],
    ) -> Result<(ClientState, GssStep), GssapiError> {
        if input.len() > MAX_TOKEN_LEN {
            return Err(GssapiError::protocol(format!(
                "token of {} bytes exceeds {MAX_TOKEN_LEN}",
                input.len()
            )));
        }
        match state {
            ClientState::Start(mut ctx) => {
                if !input.is_empty() {
                    return Err(GssapiError::protocol(
                        "the server spoke before the client's first token",
                    ));
                }
                let out = ctx
                    .step(None, None)
                    .map_err(|e| GssapiError::refused_gss(&e))?;
                let out = out.map(|b| b.to_vec()).unwrap_or_default();
                let next = if ctx.is_complete() {
                    ClientState::AwaitingOffer(ctx)
                } else {
                    ClientState::Initiating(ctx)
                };
                Ok((next, GssStep::Continue(out)))
            }
            ClientState::Initiating(mut ctx) => {
                let out = ctx
                    .step(Some(input), None)
                    .map_err(|e| GssapiError::refused_gss(&e))?;
                let out = out.map(|b| b.to_vec()).unwrap_or_default();
                let next = if ctx.is_complete() {
                    ClientState::AwaitingOffer(ctx)
                } else {
                    ClientState::Initiating(ctx)
                };
                Ok((next, GssStep::Continue(out)))
            }
            ClientState::AwaitingOffer(mut ctx) => {
                let plain = ctx
                    .unwrap(input)
                    .map_err(|e| GssapiError::refused_gss(&e))?;
                layer::check_offer(&plain).map_err(|e| GssapiError::protocol(e.to_string()))?;
                let authzid = if self.config.send_authzid {
                    self.config.principal.as_str()
                } else {
                    ""
                };
                let wrapped = ctx
                    .wrap(false, &layer::client_choice(authzid))
                    .map_err(|e| GssapiError::refused_gss(&e))?;
                Ok((
                    ClientState::Done,
                    GssStep::Done {
                        principal: self.config.principal.clone(),
                        output: Some(wrapped.to_vec()),
                    },
                ))
            }
            ClientState::Done => Err(GssapiError::misuse("step after the exchange completed")),
            ClientState::Failed(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod test;
