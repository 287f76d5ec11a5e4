//! Whether the gateway can serve: it can sign a URL now, by the signer's own
//! rule (credentials, not expired: the signer shortens a URL to fit them),
//! and storage answers them; and tokens can be checked (the sign-in
//! provider's keys were fetched, when they come from one). Asked by the local server's `/readyz`.
//!
//! Readiness asks no more than the signer does: the credentials cache
//! refreshes short-lived credentials at half their lifetime, so credentials
//! always outlived by `--expires` (one-hour credentials, `--expires 3600`)
//! still sign every request, and a load balancer must keep sending traffic.

use std::time::SystemTime;

use super::Gateway;
use crate::core::key::ObjectKey;
use crate::signing::{self, CredentialsUnavailable, SignError};
use crate::storage::StorageError;

/// The key storage is asked about (under the key prefix, outside every
/// tenant's folder): whether it exists does not matter, only that storage
/// answers.
pub const PROBE_KEY: &str = "presign-gateway-readiness-probe";

/// Why the gateway is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// The sign-in provider's keys have never been fetched: no token can be checked.
    #[error("the sign-in provider's keys have not been fetched yet")]
    SignInKeys,
    /// No credentials to sign with.
    #[error(transparent)]
    Credentials(#[from] CredentialsUnavailable),
    /// No URL could be signed now: the credentials have expired and could not be refreshed.
    #[error(transparent)]
    Signing(#[from] SignError),
    /// The probe key cannot be placed under the key prefix.
    #[error("the key prefix leaves no room for the readiness probe's key")]
    ProbeKey,
    /// Storage did not answer, or refused the gateway's credentials.
    #[error("storage did not answer the readiness probe")]
    Storage(#[from] StorageError),
}

impl Gateway {
    /// Checks that a URL could be signed now, then asks storage about
    /// [`PROBE_KEY`] (a `HeadObject` the gateway's role may make; a 404 is an answer).
    pub async fn ready(&self) -> Result<(), NotReady> {
        if !self.auth.ready() {
            return Err(NotReady::SignInKeys);
        }
        let credentials = self.credentials.get().await?;
        signing::lifetime(self.policy.expires_in, &credentials, SystemTime::now())?;
        let probe = ObjectKey::new(PROBE_KEY.to_owned()).map_err(|_| NotReady::ProbeKey)?;
        let key = self.policy.scope(None).storage_key(&probe).map_err(|_| NotReady::ProbeKey)?;
        self.storage.probe(&key).await?;
        Ok(())
    }
}
