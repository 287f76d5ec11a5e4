//! API keys for external systems, kept in the state store ([`crate::state`])
//! in the layout [`table`] explains: a tenant creates, lists and revokes
//! them; a request carrying one (`Authorization: Bearer pgk_…`) acts as its
//! tenant within its scope, which [`crate::core::api_key::confine`] decides.
//!
//! A key is `pgk_` and 256 bits from the operating system's CSPRNG
//! (aws-lc's `SystemRandom`), base64url: shown once when made, never stored.
//! Verifying one is one SHA-256 and one read, cached for at most
//! [`CACHE_SECONDS`] in each gateway, so a revocation takes effect within
//! that on every gateway sharing the state store.

pub mod table;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::core::api_key::{KEY_PREFIX, KeyId, KeyScope, KeyTerms};
use crate::core::key::Folder;
use crate::core::tenant::TenantId;
use crate::state::{Condition, Item, NewItem, Range, StateError, StateStore, now_seconds};
use crate::wire::keys::{ApiKeyInfo, ApiKeyList, NewApiKey};

/// How long a gateway trusts what it read of a key (revoked or not), in seconds.
pub const CACHE_SECONDS: u64 = 5;
/// How often, at most, a key's last use is written (per key and gateway), in seconds.
pub const USE_EVERY_SECONDS: u64 = 60;
/// The most keys a tenant may hold at once.
pub const MAX_KEYS_PER_TENANT: usize = 100;
/// The most keys' reads a gateway caches; past it, the cache starts over.
const MAX_CACHED: usize = 10_000;
/// Random bytes in a key: 256 bits.
const KEY_BYTES: usize = 32;
/// The length of a key: `pgk_` and 43 base64url characters.
const KEY_CHARS: usize = KEY_PREFIX.len() + 43;

/// Why the keys could not be worked on.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A stored key item is not one.
    #[error("a stored API key is unreadable: {0}")]
    Corrupt(String),
    /// The tenant holds [`MAX_KEYS_PER_TENANT`] keys.
    #[error("you hold {MAX_KEYS_PER_TENANT} API keys, the most allowed: revoke one first")]
    TooMany,
    /// No key of the tenant has that id.
    #[error("you have no API key with that id")]
    NoSuchKey,
    /// The key is not one (unknown, revoked or expired).
    #[error("that API key is not valid (unknown, revoked or expired)")]
    Refused,
    /// The system's random generator failed.
    #[error("no random bytes for a new key")]
    Random,
}

impl KeysError {
    /// Whether the state store could not be reached (503, try later).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::State(StateError::Unavailable(_)))
    }
}

/// A key that checked out: who it acts as, and how far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedKey {
    /// Its id, naming it in the upload log (`key:<id>`).
    pub id: KeyId,
    /// The tenant it acts as.
    pub tenant: TenantId,
    /// What it may do.
    pub scope: KeyScope,
}

/// A key as stored, and when it stops working.
#[derive(Debug)]
struct LiveKey {
    key: VerifiedKey,
    expires: Option<u64>,
}

/// A key as read (`None`: no such key), and when.
#[derive(Debug, Clone)]
struct Cached {
    read: Instant,
    grant: Option<Arc<LiveKey>>,
}

/// The keys in a state store.
#[derive(Debug)]
pub struct ApiKeys {
    state: Arc<dyn StateStore>,
    random: SystemRandom,
    cache: Mutex<HashMap<String, Cached>>,
    used: Mutex<HashMap<KeyId, Instant>>,
}

impl ApiKeys {
    /// The keys kept in `state`.
    #[must_use]
    pub fn new(state: Arc<dyn StateStore>) -> Self {
        Self { state, random: SystemRandom::new(), cache: Mutex::default(), used: Mutex::default() }
    }

    /// Makes a key for `tenant` on `terms`, and answers it (the only time it is shown).
    pub async fn create(&self, tenant: &TenantId, terms: &KeyTerms) -> Result<NewApiKey, KeysError> {
        let held = self
            .state
            .query(&table::tenant_partition(tenant.as_str()), &prefix(table::ENTRY), MAX_KEYS_PER_TENANT)
            .await?;
        if held.len() >= MAX_KEYS_PER_TENANT {
            return Err(KeysError::TooMany);
        }
        let mut secret = [0u8; KEY_BYTES];
        self.random.fill(&mut secret).map_err(|_| KeysError::Random)?;
        let key = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
        let mut id = [0u8; 8];
        self.random.fill(&mut id).map_err(|_| KeysError::Random)?;
        let id = hex(&id);
        let created = now_seconds();
        let expires = terms.ttl.map(|ttl| created.saturating_add(ttl.as_secs()));
        let entry = table::Entry {
            id: id.clone(),
            name: terms.name.clone(),
            read_only: terms.scope.read_only,
            prefix: terms.scope.prefix.as_str().to_owned(),
            created,
            expires,
            hash: sha256_hex(&key),
        };
        let grant = table::Grant {
            id: id.clone(),
            tenant: tenant.as_str().to_owned(),
            read_only: entry.read_only,
            prefix: entry.prefix.clone(),
            expires,
        };
        // The entry first: a key that works is always listed, so it can be revoked.
        let item = |key, data: String| NewItem { key, data, expires };
        self.state.put(item(table::entry(tenant.as_str(), &id), json(&entry)?), Condition::Absent).await?;
        self.state.put(item(table::grant(&entry.hash), json(&grant)?), Condition::Absent).await?;
        Ok(NewApiKey { key, info: info(entry, None) })
    }

    /// `tenant`'s keys, oldest first.
    pub async fn list(&self, tenant: &TenantId) -> Result<ApiKeyList, KeysError> {
        let items = self
            .state
            .query(&table::tenant_partition(tenant.as_str()), &Range::default(), 2 * MAX_KEYS_PER_TENANT)
            .await?;
        let mut used = HashMap::new();
        let mut entries = Vec::new();
        for item in items {
            if let Some(id) = item.key.sk.strip_prefix(table::USED) {
                used.insert(id.to_owned(), read::<table::Used>(&item)?.at);
            } else if item.key.sk.starts_with(table::ENTRY) {
                entries.push(read::<table::Entry>(&item)?);
            }
        }
        entries.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        let keys = entries
            .into_iter()
            .map(|entry| {
                let last = used.get(&entry.id).copied();
                info(entry, last)
            })
            .collect();
        Ok(ApiKeyList { keys })
    }

    /// Revokes `tenant`'s key `id`: it stops working here at once, and on
    /// other gateways within [`CACHE_SECONDS`].
    pub async fn revoke(&self, tenant: &TenantId, id: &KeyId) -> Result<(), KeysError> {
        let at = table::entry(tenant.as_str(), id.as_str());
        let item = self.state.get(&at).await?.ok_or(KeysError::NoSuchKey)?;
        let entry = read::<table::Entry>(&item)?;
        // The verifying item first: once it is gone, the key works nowhere.
        self.state.delete(&table::grant(&entry.hash), Condition::None).await?;
        self.state.delete(&table::used(tenant.as_str(), id.as_str()), Condition::None).await?;
        self.state.delete(&at, Condition::None).await?;
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).remove(&entry.hash);
        Ok(())
    }

    /// The key `secret` is, if it is one: one hash, and one read unless one
    /// made within [`CACHE_SECONDS`] is at hand. Notes its use.
    ///
    /// # Errors
    /// [`KeysError::Refused`] for anything but a live key; the state store's failure.
    pub async fn verify(&self, secret: &str) -> Result<VerifiedKey, KeysError> {
        let well_formed = secret.len() == KEY_CHARS
            && secret.starts_with(KEY_PREFIX)
            && secret[KEY_PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(KeysError::Refused);
        }
        let hash = sha256_hex(secret);
        let grant = if let Some(cached) = self.cached(&hash) {
            cached.grant
        } else {
            let grant = match self.state.get(&table::grant(&hash)).await? {
                Some(item) => Some(Arc::new(granted(&read::<table::Grant>(&item)?)?)),
                None => None,
            };
            self.remember(hash, grant.clone());
            grant
        };
        let live = grant.ok_or(KeysError::Refused)?;
        // A cached key expires on time, whatever the cache.
        if crate::state::expired(live.expires, now_seconds()) {
            return Err(KeysError::Refused);
        }
        self.note_use(&live.key, live.expires).await;
        Ok(live.key.clone())
    }

    /// What was read of `hash` within [`CACHE_SECONDS`], if anything.
    fn cached(&self, hash: &str) -> Option<Cached> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.get(hash).filter(|cached| cached.read.elapsed() < Duration::from_secs(CACHE_SECONDS)).cloned()
    }

    fn remember(&self, hash: String, grant: Option<Arc<LiveKey>>) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, cached| cached.read.elapsed() < Duration::from_secs(CACHE_SECONDS));
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(hash, Cached { read: Instant::now(), grant });
    }

    /// Writes when `key` was used, unless this gateway did within [`USE_EVERY_SECONDS`].
    async fn note_use(&self, key: &VerifiedKey, expires: Option<u64>) {
        {
            let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
            if used.get(&key.id).is_some_and(|at| at.elapsed() < Duration::from_secs(USE_EVERY_SECONDS)) {
                return;
            }
            if used.len() >= MAX_CACHED {
                used.clear();
            }
            used.insert(key.id.clone(), Instant::now());
        }
        let at = now_seconds();
        let item = NewItem {
            key: table::used(key.tenant.as_str(), key.id.as_str()),
            data: serde_json::json!({ "at": at }).to_string(),
            expires,
        };
        if let Err(error) = self.state.put(item, Condition::None).await {
            // The use goes unrecorded; the request goes on.
            tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "cannot note an API key's last use");
        }
    }
}

fn prefix(text: &str) -> Range {
    Range { prefix: text.to_owned(), ..Range::default() }
}

fn json(value: &impl serde::Serialize) -> Result<String, KeysError> {
    serde_json::to_string(value).map_err(|e| KeysError::Corrupt(e.to_string()))
}

fn read<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, KeysError> {
    serde_json::from_str(&item.data).map_err(|e| KeysError::Corrupt(format!("{}/{}: {e}", item.key.pk, item.key.sk)))
}

/// A stored grant, checked again as the request's own input would be.
fn granted(grant: &table::Grant) -> Result<LiveKey, KeysError> {
    let corrupt = |what: &str| KeysError::Corrupt(format!("key {}: {what}", grant.id));
    let id = KeyId::parse(&grant.id).map_err(|_| corrupt("id"))?;
    let tenant = TenantId::new(&grant.tenant).map_err(|_| corrupt("tenant"))?;
    let prefix = Folder::new(grant.prefix.clone()).map_err(|_| corrupt("prefix"))?;
    let key = VerifiedKey { id, tenant, scope: KeyScope { read_only: grant.read_only, prefix } };
    Ok(LiveKey { key, expires: grant.expires })
}

fn info(entry: table::Entry, last_used: Option<u64>) -> ApiKeyInfo {
    ApiKeyInfo {
        id: entry.id,
        name: entry.name,
        read_only: entry.read_only,
        prefix: entry.prefix,
        created: rfc3339(entry.created),
        expires: entry.expires.map(rfc3339),
        last_used: last_used.map(rfc3339),
    }
}

fn rfc3339(seconds: u64) -> String {
    use aws_smithy_types::date_time::{DateTime, Format};
    DateTime::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX)).fmt(Format::DateTime).unwrap_or_default()
}

fn sha256_hex(text: &str) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(2 * bytes.len()), |mut hex, byte| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'abc').hexdigest())"
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn stored_grants_are_checked_again() {
        let grant = |tenant: &str, prefix: &str| table::Grant {
            id: "0123456789abcdef".into(),
            tenant: tenant.into(),
            read_only: false,
            prefix: prefix.into(),
            expires: None,
        };
        assert!(granted(&grant("acme", "a/")).is_ok());
        assert!(matches!(granted(&grant("", "")), Err(KeysError::Corrupt(_))));
        assert!(matches!(granted(&grant("acme", "../")), Err(KeysError::Corrupt(_))));
    }
}
