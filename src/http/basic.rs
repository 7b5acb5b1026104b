//! HTTP Basic (RFC 7617) on the credential store.

use crate::credentials::CredentialStore;
use crate::principal::Principal;
use crate::reload::Reloadable;

use super::Shared;
use super::request::BasicCredentials;

/// The Basic scheme over a hot-reloadable credential store.
pub(crate) struct Basic {
    pub(crate) store: std::sync::Arc<dyn Shared<Reloadable<CredentialStore>>>,
}

/// The result of one Basic check.
pub(crate) struct Checked {
    pub(crate) principal: Option<Principal>,
    pub(crate) generation: u64,
}

impl Basic {
    /// Checks the password in constant time. For an unknown user-id the
    /// store does the same work against a stand-in credential, so the
    /// answer's timing does not say who exists.
    pub(crate) fn check(&self, creds: &BasicCredentials) -> Checked {
        (*self.store).shared().with(|store, generation| {
            let ok = store.verify_password(creds.user(), creds.password());
            Checked {
                // After a match the name is known to exist, so the plain
                // look-up reveals nothing.
                principal: ok
                    .then(|| store.get(creds.user()).map(|c| c.principal().clone()))
                    .flatten(),
                generation,
            }
        })
    }
}

/// The `WWW-Authenticate` value Mesos sends on every Basic failure.
pub(crate) fn challenge(realm: &str) -> String {
    format!("Basic realm=\"{realm}\"")
}

// A host's reloadable credentials handle serves Basic directly.
impl Shared<Reloadable<CredentialStore>> for crate::credentials::CredentialsHandle {
    fn shared(&self) -> &Reloadable<CredentialStore> {
        self.reloadable()
    }
}
