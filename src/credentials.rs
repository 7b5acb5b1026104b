//! Credentials: the principals and secrets that CRAM-MD5 checks against.
//!
//! A [`CredentialStore`] is built once from a list of [`Credential`]s and never
//! changes; rotation builds a new store and swaps it in whole.

mod store;

pub use store::{CramMd5Lookup, Credential, CredentialStore, CredentialsError, StoredSecret};
