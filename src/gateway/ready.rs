//! Whether the gateway can serve: it has credentials that live at least as
//! long as the URLs it signs, and storage answers them. Asked by the local
//! server's `/readyz`.

use std::time::{Duration, SystemTime};

use super::Gateway;
use crate::core::key::ObjectKey;
use crate::signing::CredentialsUnavailable;
use crate::storage::StorageError;

/// The key storage is asked about (under the key prefix, outside every
/// tenant's folder): whether it exists does not matter, only that storage
/// answers.
pub const PROBE_KEY: &str = "presign-gateway-readiness-probe";

/// Why the gateway is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// No credentials to sign with.
    #[error(transparent)]
    Credentials(#[from] CredentialsUnavailable),
    /// The credentials expire before a URL signed now would.
    #[error("the signing credentials expire in {left:?}, before a URL signed now ({needed:?})")]
    ExpireTooSoon {
        /// What the credentials have left.
        left: Duration,
        /// The URL lifetime.
        needed: Duration,
    },
    /// The probe key cannot be placed under the key prefix.
    #[error("the key prefix leaves no room for the readiness probe's key")]
    ProbeKey,
    /// Storage did not answer, or refused the gateway's credentials.
    #[error("storage did not answer the readiness probe")]
    Storage(#[from] StorageError),
}

impl Gateway {
    /// Checks the credentials, then asks storage about [`PROBE_KEY`] (a
    /// `HeadObject` the gateway's role may make; a 404 is an answer).
    pub async fn ready(&self) -> Result<(), NotReady> {
        let credentials = self.credentials.get().await?;
        let needed = self.policy.expires_in;
        if let Some(expiry) = credentials.expiry() {
            let left = expiry.duration_since(SystemTime::now()).unwrap_or_default();
            if left < needed {
                return Err(NotReady::ExpireTooSoon { left, needed });
            }
        }
        let probe = ObjectKey::new(PROBE_KEY.to_owned()).map_err(|_| NotReady::ProbeKey)?;
        let key = self.policy.scope(None).storage_key(&probe).map_err(|_| NotReady::ProbeKey)?;
        self.storage.probe(&key).await?;
        Ok(())
    }
}
