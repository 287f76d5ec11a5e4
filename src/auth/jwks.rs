//! The sign-in provider's public keys, fetched over HTTPS from a JWKS URL
//! (`--jwks-url`) or from the `jwks_uri` of an issuer's OpenID configuration
//! (`--oidc-issuer`), and kept fresh while the gateway runs.
//!
//! - A background task fetches them at start, then again before they age
//!   out: at three quarters of the response's `Cache-Control: max-age`, kept
//!   between 5 minutes and a day (an hour when none is given).
//! - A token naming a `kid` the gateway does not hold makes it fetch at
//!   once (a provider that rotated), at most once per [`ON_DEMAND_EVERY`]
//!   whatever tokens arrive, and never two fetches at a time: requests that
//!   need a fetch wait for the one in flight.
//! - A failed fetch changes nothing: the keys held stay in use (a provider
//!   that is down does not lock out holders of valid tokens), and a token no
//!   key held verifies is refused. Before any fetch succeeded, tokens are
//!   answered 503 and `/readyz` says not ready.
//! - Each request is bounded ([`FETCH_TIMEOUT`]), its answer too
//!   ([`MAX_DOCUMENT_BYTES`]); redirects are followed only to URLs the same
//!   rules allow, so HTTPS everywhere, plain HTTP to a loopback host only.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use reqwest::Url;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::keys::{JwtKeyError, Key, jwks_key};

/// The longest one request to the provider may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The most a discovery document or key set may weigh.
pub const MAX_DOCUMENT_BYTES: usize = 512 << 10;
/// How often tokens naming unknown keys may make the gateway fetch.
pub const ON_DEMAND_EVERY: Duration = Duration::from_secs(10);
/// How long keys are kept before a refresh without `Cache-Control: max-age`.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
/// `max-age` is honoured within these bounds.
const MAX_AGE_BOUNDS: (Duration, Duration) = (Duration::from_secs(300), Duration::from_secs(86_400));
/// After a failed background fetch, the next one waits this long, doubled
/// each time up to [`RETRY_AT_MOST`].
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_AT_MOST: Duration = Duration::from_secs(300);

/// Where the keys come from, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUrl {
    /// A JWKS document.
    Jwks(Url),
    /// An OpenID provider, whose `/.well-known/openid-configuration` names its `jwks_uri`.
    Issuer {
        /// The issuer exactly as tokens and the discovery document name it.
        issuer: String,
        /// Its discovery document.
        discovery: Url,
    },
}

impl KeyUrl {
    /// `--jwks-url`, when it is HTTPS (or HTTP to a loopback host).
    pub fn jwks(url: &str) -> Result<Self, JwtKeyError> {
        fetchable(url).map(Self::Jwks).ok_or_else(|| JwtKeyError::Url("--jwks-url / JWKS_URL", url.to_owned()))
    }

    /// `--oidc-issuer`, when it is HTTPS (or HTTP to a loopback host).
    pub fn issuer(issuer: &str) -> Result<Self, JwtKeyError> {
        let bad = || JwtKeyError::Url("--oidc-issuer / OIDC_ISSUER", issuer.to_owned());
        let base = fetchable(issuer).filter(|url| url.query().is_none()).ok_or_else(bad)?;
        let path = format!("{}/.well-known/openid-configuration", base.path().trim_end_matches('/'));
        let mut discovery = base;
        discovery.set_path(&path);
        Ok(Self::Issuer { issuer: issuer.to_owned(), discovery })
    }
}

/// `url` parsed, if the gateway may fetch keys from it: HTTPS, or plain HTTP
/// to a loopback host; no credentials or fragment in it.
fn fetchable(url: &str) -> Option<Url> {
    let url = Url::parse(url).ok()?;
    let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']');
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|address| address.is_loopback());
    let scheme = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    (scheme && url.username().is_empty() && url.password().is_none() && url.fragment().is_none()).then_some(url)
}

/// Why a fetch of the keys failed (the keys held stay in use).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer, a timeout, or a redirect to a URL the rules refuse.
    #[error("cannot reach {0}")]
    Request(String, #[source] reqwest::Error),
    /// An answer other than 200.
    #[error("{url} answered {status}")]
    Status {
        /// What was asked.
        url: String,
        /// What it answered.
        status: u16,
    },
    /// An answer over [`MAX_DOCUMENT_BYTES`].
    #[error("{0} answered more than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge(String),
    /// An answer that is not the JSON expected.
    #[error("{0} did not answer a {1}")]
    NotJson(String, &'static str, #[source] serde_json::Error),
    /// A discovery document of another issuer.
    #[error(
        "the OpenID configuration at {url} names the issuer `{found}`, not `{expected}` (--oidc-issuer must be exactly the tokens' `iss`)"
    )]
    OtherIssuer {
        /// The document's URL.
        url: String,
        /// The configured issuer.
        expected: String,
        /// The document's.
        found: String,
    },
    /// A `jwks_uri` the rules refuse.
    #[error("the OpenID configuration's jwks_uri `{0}` is not HTTPS (or HTTP to a loopback host)")]
    JwksUri(String),
    /// A key set with no key this gateway may verify with.
    #[error("{0} holds no signing key the gateway may use (with --jwt-algorithms, of those algorithms)")]
    NoUsableKeys(String),
}

/// The keys held now.
#[derive(Default)]
struct Held {
    keys: Arc<[Key]>,
    /// Whether a fetch ever succeeded.
    loaded: bool,
}

/// When on-demand fetches last ran; held while a fetch is in flight.
#[derive(Default)]
struct Fetching {
    last_on_demand: Option<Instant>,
}

struct Inner {
    from: KeyUrl,
    client: reqwest::Client,
    allowed: Option<Vec<Algorithm>>,
    held: RwLock<Held>,
    /// Bumped by each successful fetch, so a request that waited for
    /// another's fetch does not fetch again.
    generation: AtomicU64,
    fetching: Mutex<Fetching>,
    /// The origin of the provider's token endpoint, from its discovery
    /// document: the page's Content-Security-Policy must let it connect there
    /// (Cognito's is on the user pool's domain, not the issuer's).
    token_origin: RwLock<Option<String>>,
}

/// The provider's keys, shared by every request; cloning shares them.
#[derive(Clone)]
pub struct RemoteKeys(Arc<Inner>);

impl std::fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeys").field("from", &self.0.from).field("ready", &self.ready()).finish()
    }
}

/// What a fetch found.
struct Fetched {
    keys: Vec<Key>,
    max_age: Option<Duration>,
    url: Url,
}

impl RemoteKeys {
    /// Keys from `from`, verifying only `allowed` algorithms (each key's own
    /// when `None`). Nothing is fetched until [`Self::keep_fresh`] or a token asks.
    pub fn new(from: KeyUrl, allowed: Option<Vec<Algorithm>>) -> Result<Self, JwtKeyError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT / 2)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() >= 5 || fetchable(attempt.url().as_str()).is_none() {
                    attempt.error("a redirect the gateway does not follow for keys")
                } else {
                    attempt.follow()
                }
            }))
            .user_agent(concat!("presign-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| JwtKeyError::Client(error.to_string()))?;
        Ok(Self(Arc::new(Inner {
            from,
            client,
            allowed,
            held: RwLock::new(Held::default()),
            generation: AtomicU64::new(0),
            fetching: Mutex::new(Fetching::default()),
            token_origin: RwLock::new(None),
        })))
    }

    /// Where the keys come from.
    #[must_use]
    pub fn source(&self) -> &KeyUrl {
        &self.0.from
    }

    /// The keys held now (none before the first fetch).
    #[must_use]
    pub(super) fn keys(&self) -> Arc<[Key]> {
        self.0.held.read().map_or_else(|poisoned| poisoned.into_inner().keys.clone(), |held| held.keys.clone())
    }

    /// Whether a fetch has ever succeeded, so tokens can be checked.
    #[must_use]
    pub fn ready(&self) -> bool {
        self.0.held.read().map_or_else(|poisoned| poisoned.into_inner().loaded, |held| held.loaded)
    }

    /// The origin of the provider's token endpoint, once its discovery document was read.
    #[must_use]
    pub fn token_endpoint_origin(&self) -> Option<String> {
        self.0.token_origin.read().map_or_else(|poisoned| poisoned.into_inner().clone(), |origin| origin.clone())
    }

    /// Whether `self` and `other` are the same keys (clones of one another).
    #[must_use]
    pub fn same_as(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether a key with this `kid` is held.
    pub(super) fn holds(&self, kid: &str) -> bool {
        self.keys().iter().any(|key| key.id.as_deref() == Some(kid))
    }

    /// Fetches now, because a token named a key not held (or none is held
    /// yet): waits for a fetch already in flight instead of starting
    /// another, and fetches at most once per [`ON_DEMAND_EVERY`].
    pub(super) async fn fetch_on_demand(&self) {
        let seen = self.0.generation.load(Ordering::Acquire);
        let mut fetching = self.0.fetching.lock().await;
        if self.0.generation.load(Ordering::Acquire) != seen {
            return; // Another request's fetch finished while this one waited.
        }
        if fetching.last_on_demand.is_some_and(|last| last.elapsed() < ON_DEMAND_EVERY) {
            return;
        }
        fetching.last_on_demand = Some(Instant::now());
        if let Err(error) = self.fetch_and_keep().await {
            tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "cannot fetch the sign-in provider's keys; the keys held stay in use");
        }
    }

    /// Runs until the process ends: fetches the keys, and fetches them again
    /// before they age out, or sooner after a failure.
    pub async fn keep_fresh(self) {
        let mut retry = RETRY_FIRST;
        loop {
            let outcome = {
                let _in_flight = self.0.fetching.lock().await;
                self.fetch_and_keep().await
            };
            let wait = match outcome {
                Ok(max_age) => {
                    retry = RETRY_FIRST;
                    max_age * 3 / 4
                }
                Err(error) => {
                    tracing::warn!(error = %crate::telemetry::ErrorChain(&error), retry_in = ?retry, "cannot fetch the sign-in provider's keys; the keys held stay in use");
                    let wait = retry;
                    retry = (retry * 2).min(RETRY_AT_MOST);
                    wait
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One fetch; on success the keys found replace those held. The caller
    /// holds `fetching`. Returns how long the keys may be kept.
    async fn fetch_and_keep(&self) -> Result<Duration, FetchError> {
        let Fetched { keys, max_age, url } = self.fetch().await?;
        let max_age = max_age.unwrap_or(DEFAULT_MAX_AGE).clamp(MAX_AGE_BOUNDS.0, MAX_AGE_BOUNDS.1);
        let ids: Vec<_> = keys.iter().map(|key| key.id.clone().unwrap_or_default()).collect();
        {
            let mut held = self.0.held.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            *held = Held { keys: keys.into(), loaded: true };
        }
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        tracing::info!(%url, kids = ?ids, refresh_in = ?(max_age * 3 / 4), "fetched the sign-in provider's keys");
        Ok(max_age)
    }

    async fn fetch(&self) -> Result<Fetched, FetchError> {
        let jwks_url = match &self.0.from {
            KeyUrl::Jwks(url) => url.clone(),
            KeyUrl::Issuer { issuer, discovery } => {
                let (body, _) = self.get(discovery).await?;
                let document: Discovery = serde_json::from_slice(&body)
                    .map_err(|e| FetchError::NotJson(discovery.to_string(), "OpenID configuration", e))?;
                if document.issuer != *issuer {
                    return Err(FetchError::OtherIssuer {
                        url: discovery.to_string(),
                        expected: issuer.clone(),
                        found: document.issuer,
                    });
                }
                if let Some(origin) = document.token_endpoint.as_deref().and_then(fetchable) {
                    let origin = origin.origin().ascii_serialization();
                    *self.0.token_origin.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(origin);
                }
                fetchable(&document.jwks_uri).ok_or(FetchError::JwksUri(document.jwks_uri))?
            }
        };
        let (body, max_age) = self.get(&jwks_url).await?;
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| FetchError::NotJson(jwks_url.to_string(), "JWKS", e))?;
        let keys: Vec<Key> = set.keys.iter().filter_map(|jwk| jwks_key(jwk, self.0.allowed.as_deref())).collect();
        if keys.is_empty() {
            return Err(FetchError::NoUsableKeys(jwks_url.to_string()));
        }
        Ok(Fetched { keys, max_age, url: jwks_url })
    }

    /// The body of a 200 answer to `GET url`, at most [`MAX_DOCUMENT_BYTES`],
    /// and its `Cache-Control: max-age`.
    async fn get(&self, url: &Url) -> Result<(Vec<u8>, Option<Duration>), FetchError> {
        let failed = |error| FetchError::Request(url.to_string(), error);
        let mut response = self
            .0
            .client
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(failed)?;
        if response.status() != http::StatusCode::OK {
            return Err(FetchError::Status { url: url.to_string(), status: response.status().as_u16() });
        }
        let max_age =
            response.headers().get(http::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge(url.to_string()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, max_age))
    }
}

/// The fields of an OpenID configuration the gateway reads.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    token_endpoint: Option<String>,
}

/// A `Cache-Control` header's `max-age` (`no-store` and `no-cache` read as 0,
/// which the bounds then raise).
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').map(str::trim).find_map(|directive| {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        let seconds = lower.strip_prefix("max-age=")?.trim_matches('"');
        seconds.parse().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_over_https_or_from_loopback() {
        for good in [
            "https://login.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9/jwks",
            "http://127.8.9.10/jwks",
        ] {
            assert!(KeyUrl::jwks(good).is_ok(), "{good}");
        }
        for bad in [
            "http://login.example.com/jwks",
            "http://10.0.0.1/jwks",
            "ftp://127.0.0.1/jwks",
            "https://user:pass@login.example.com/jwks",
            "https://login.example.com/jwks#frag",
            "/jwks.json",
            "http://localhost.evil.example/jwks",
        ] {
            assert!(KeyUrl::jwks(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_discovery_document_sits_under_the_issuer() {
        let discovery = |issuer| match KeyUrl::issuer(issuer).unwrap() {
            KeyUrl::Issuer { discovery, issuer: kept } => {
                assert_eq!(kept, issuer, "the issuer is kept as given, to compare with `iss`");
                discovery.to_string()
            }
            KeyUrl::Jwks(_) => unreachable!(),
        };
        assert_eq!(discovery("https://tenant.auth0.com/"), "https://tenant.auth0.com/.well-known/openid-configuration");
        assert_eq!(
            discovery("https://kc.example/realms/files"),
            "https://kc.example/realms/files/.well-known/openid-configuration"
        );
        assert!(KeyUrl::issuer("https://kc.example/realms?x=1").is_err());
        assert!(KeyUrl::issuer("http://kc.example/realms/files").is_err());
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=600, must-revalidate"), Some(Duration::from_secs(600)));
        assert_eq!(max_age("Max-Age=\"30\""), Some(Duration::from_secs(30)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
