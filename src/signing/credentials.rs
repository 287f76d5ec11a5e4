//! Credentials resolved once and reused until they near their expiry, so a
//! request never waits on the credential chain (IMDS, STS, a profile file).

use std::sync::{PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, error::CredentialsError};

/// Credentials are refreshed this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// No credentials could be had to sign with.
#[derive(Debug, thiserror::Error)]
#[error("no AWS credentials to sign with")]
pub struct CredentialsUnavailable(#[from] CredentialsError);

/// A cache in front of any credentials provider.
#[derive(Debug)]
pub struct CredentialsCache {
    source: SharedCredentialsProvider,
    current: RwLock<Option<Credentials>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl CredentialsCache {
    /// Caches what `source` provides.
    pub fn new(source: impl ProvideCredentials + 'static) -> Self {
        Self {
            source: SharedCredentialsProvider::new(source),
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Credentials valid for a while yet; refreshed by one caller at a time.
    /// If a refresh fails, credentials that have not yet expired are still used.
    pub async fn get(&self) -> Result<Credentials, CredentialsUnavailable> {
        if let Some(fresh) = self.cached(REFRESH_BEFORE) {
            return Ok(fresh);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(fresh) = self.cached(REFRESH_BEFORE) {
            return Ok(fresh);
        }
        match self.source.provide_credentials().await {
            Ok(credentials) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(credentials.clone());
                Ok(credentials)
            }
            Err(error) => {
                let still_valid = self.cached(Duration::ZERO);
                if still_valid.is_some() {
                    tracing::warn!(error = %error, "refreshing AWS credentials failed; using the current ones until they expire");
                }
                still_valid.ok_or(CredentialsUnavailable(error))
            }
        }
    }

    fn cached(&self, margin: Duration) -> Option<Credentials> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().filter(|c| c.expiry().is_none_or(|expiry| expiry > SystemTime::now() + margin)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_credential_types::provider::future;

    use super::*;

    #[derive(Debug, Clone)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + self.lifetime;
            future::ProvideCredentials::ready(Ok(Credentials::new("AK", "SK", Some("t".into()), Some(expiry), "test")))
        }
    }

    #[tokio::test]
    async fn long_lived_credentials_are_fetched_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(Counting { calls: calls.clone(), lifetime: Duration::from_secs(3600) });
        for _ in 0..5 {
            cache.get().await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_near_expiry_are_refreshed() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(Counting { calls: calls.clone(), lifetime: Duration::from_secs(60) });
        cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
