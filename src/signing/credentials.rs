//! Credentials resolved once and reused until they near their expiry, so a
//! request never waits on the credential chain (IMDS, STS, a profile file).
//!
//! "Near" means: closer to expiry than a URL signed now would live, so URLs
//! are not cut short by credentials about to expire (the signer caps a URL's
//! lifetime at its credentials' expiry either way). Credentials that cannot
//! last that long are refreshed at half their lifetime instead, so a source
//! of short-lived credentials is not asked on every request; and always at
//! least five minutes before they expire.

use std::sync::{PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, error::CredentialsError};

/// Credentials are refreshed at least this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// No credentials could be had to sign with.
#[derive(Debug, thiserror::Error)]
#[error("no AWS credentials to sign with")]
pub struct CredentialsUnavailable(#[from] CredentialsError);

/// Credentials, and when they were fetched.
#[derive(Debug, Clone)]
struct Fetched {
    credentials: Credentials,
    at: SystemTime,
}

/// A cache in front of any credentials provider.
#[derive(Debug)]
pub struct CredentialsCache {
    source: SharedCredentialsProvider,
    current: RwLock<Option<Fetched>>,
    refreshing: tokio::sync::Mutex<()>,
    url_lifetime: Duration,
}

impl CredentialsCache {
    /// Caches what `source` provides, for URLs of up to five minutes.
    pub fn new(source: impl ProvideCredentials + 'static) -> Self {
        Self {
            source: SharedCredentialsProvider::new(source),
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            url_lifetime: REFRESH_BEFORE,
        }
    }

    /// Refreshes early enough to sign URLs that live `url_lifetime`.
    #[must_use]
    pub fn for_urls_of(self, url_lifetime: Duration) -> Self {
        Self { url_lifetime, ..self }
    }

    /// Credentials valid for a while yet; refreshed by one caller at a time.
    /// If a refresh fails, credentials that have not yet expired are still used.
    pub async fn get(&self) -> Result<Credentials, CredentialsUnavailable> {
        if let Some(fresh) = self.cached(true) {
            return Ok(fresh);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(fresh) = self.cached(true) {
            return Ok(fresh);
        }
        match self.source.provide_credentials().await {
            Ok(credentials) => {
                let fetched = Fetched { credentials: credentials.clone(), at: SystemTime::now() };
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(fetched);
                Ok(credentials)
            }
            Err(error) => {
                let still_valid = self.cached(false);
                if still_valid.is_some() {
                    tracing::warn!(error = %error, "refreshing AWS credentials failed; using the current ones until they expire");
                }
                still_valid.ok_or(CredentialsUnavailable(error))
            }
        }
    }

    /// The cached credentials if they are not due for a refresh (`fresh`),
    /// or merely not expired.
    fn cached(&self, fresh: bool) -> Option<Credentials> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let fetched = current.as_ref()?;
        let Some(expiry) = fetched.credentials.expiry() else { return Some(fetched.credentials.clone()) };
        let margin = if fresh { self.margin(fetched, expiry) } else { Duration::ZERO };
        (expiry > SystemTime::now() + margin).then(|| fetched.credentials.clone())
    }

    /// How long before `expiry` credentials fetched as `fetched` are refreshed.
    fn margin(&self, fetched: &Fetched, expiry: SystemTime) -> Duration {
        let lifetime = expiry.duration_since(fetched.at).unwrap_or_default();
        REFRESH_BEFORE.max(self.url_lifetime.min(lifetime / 2))
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
    async fn credentials_are_refreshed_before_urls_would_outlive_them() {
        let hour = Duration::from_secs(3600);
        // Six-hour credentials for one-hour URLs: kept while they have an hour left.
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(Counting { calls: calls.clone(), lifetime: 6 * hour }).for_urls_of(hour);
        cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Fifty-minute credentials cannot cover one-hour URLs: refreshed at half their life, not on every request.
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(Counting { calls: calls.clone(), lifetime: Duration::from_secs(3000) })
            .for_urls_of(hour);
        cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Week-long URLs do not make hour-long credentials be fetched again and again.
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialsCache::new(Counting { calls: calls.clone(), lifetime: hour }).for_urls_of(168 * hour);
        cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Thirty-minute credentials for one-hour URLs, with twenty minutes left: due in five.
        let now = SystemTime::now();
        let minutes = |n: u64| Duration::from_secs(60 * n);
        let fetched = Fetched {
            credentials: Credentials::new("AK", "SK", None, Some(now + minutes(20)), "t"),
            at: now - minutes(10),
        };
        let cache = CredentialsCache::new(Counting { calls: Arc::default(), lifetime: hour }).for_urls_of(hour);
        assert_eq!(cache.margin(&fetched, now + minutes(20)), minutes(15));
        *cache.current.write().unwrap() = Some(fetched);
        assert!(cache.cached(true).is_some(), "fifteen minutes before expiry is the refresh point");
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
