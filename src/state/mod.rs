//! The gateway's own state (the upload log, rendition records, and later
//! keys, links and quotas) behind one small trait, with two engines that
//! pass one conformance suite: DynamoDB (`dynamo`) on AWS and wherever
//! several gateways share state, and a redb file (`local`) for one
//! process.
//!
//! The model is DynamoDB's single table, chosen so both engines answer every
//! access pattern with key lookups and one-partition range reads: an item is
//! found by a partition key `pk` and a sort key `sk`, carries its payload as
//! JSON (`data`), a `version` for optimistic concurrency (every write
//! may require the version it read, so two gateways cannot both win), and
//! an optional expiry. No secondary indexes: DynamoDB's are eventually
//! consistent, and every read here is a consistent read of the base table.
//! Expiry is enforced by readers: DynamoDB's TTL deletes lazily (and moto
//! never does), so an expired item is absent to every call, conditions
//! included, whether or not the engine has removed it yet.

use std::fmt;

use async_trait::async_trait;

pub mod dynamo;
#[cfg(feature = "embedded-store")]
pub mod local;
mod open;

pub use open::{LOCAL_FILE, describe, open};

/// Errors from an engine, kept whole for the log.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most bytes an item's `data` may hold: DynamoDB's item limit is
/// 400 KB, names and keys included; both engines refuse more alike.
pub const MAX_DATA_BYTES: usize = 350 * 1024;

/// The most bytes of a partition or sort key (DynamoDB: 2,048 and 1,024).
pub const MAX_PK_BYTES: usize = 2048;
/// See [`MAX_PK_BYTES`].
pub const MAX_SK_BYTES: usize = 1024;

/// Where an item lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    /// The partition: every item a range read returns shares it.
    pub pk: String,
    /// The order within the partition (byte order of UTF-8).
    pub sk: String,
}

impl ItemKey {
    /// The key of `pk` and `sk`.
    #[must_use]
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// An item as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Where it lives.
    pub key: ItemKey,
    /// Its payload, JSON.
    pub data: String,
    /// 1 when first written, one more on every write.
    pub version: u64,
    /// When it stops existing, in seconds since the Unix epoch.
    pub expires: Option<u64>,
}

/// An item to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Where it goes.
    pub key: ItemKey,
    /// Its payload, JSON.
    pub data: String,
    /// When it stops existing, in seconds since the Unix epoch.
    pub expires: Option<u64>,
}

/// What must hold for a write to happen; otherwise it fails with
/// [`StateError::ConditionFailed`] and changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Nothing: the write happens.
    None,
    /// No live item is there (an expired one counts as none).
    Absent,
    /// The live item there has this version.
    Version(u64),
}

/// Which items of a partition a range read returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Range {
    /// Only sort keys starting with this.
    pub prefix: String,
    /// Only sort keys strictly after this one in the read's order (the last
    /// key of the previous page).
    pub after: Option<String>,
    /// Newest first: descending sort keys.
    pub descending: bool,
}

/// Why the state store did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The write's [`Condition`] did not hold.
    #[error("the item changed meanwhile")]
    ConditionFailed,
    /// The engine could not be reached or failed: callers answer 503.
    #[error("the state store is unavailable")]
    Unavailable(#[source] BoxError),
    /// An item's data or key is larger than both engines take.
    #[error("a state item is too large ({0} bytes)")]
    TooLarge(usize),
    /// A partition or sort key is empty, which DynamoDB refuses.
    #[error("a state item's key is empty")]
    EmptyKey,
    /// The engine holds what is not an item of ours.
    #[error("a state item is unreadable: {0}")]
    Corrupt(String),
}

/// The state engines' one interface. Every read is consistent (it sees
/// every write that returned before it) and leaves out expired items.
#[async_trait]
pub trait StateStore: Send + Sync + fmt::Debug {
    /// The live item at `key`.
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StateError>;

    /// The live items at `keys` (any number; engines batch them, DynamoDB by
    /// 100), in no particular order; absent ones are left out.
    async fn get_many(&self, keys: &[ItemKey]) -> Result<Vec<Item>, StateError>;

    /// Writes `item` if `condition` holds, and answers its new version.
    async fn put(&self, item: NewItem, condition: Condition) -> Result<u64, StateError>;

    /// Removes the item at `key` if `condition` holds (removing nothing is fine
    /// with [`Condition::None`]).
    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<(), StateError>;

    /// Up to `limit` live items of partition `pk` within `range`, in sort-key
    /// order (descending if asked).
    async fn query(&self, pk: &str, range: &Range, limit: usize) -> Result<Vec<Item>, StateError>;

    /// Whether the engine answers, for readiness and start-up.
    async fn probe(&self) -> Result<(), StateError>;
}

/// Refuses keys and data larger than DynamoDB takes, so the local engine
/// fails where DynamoDB would.
pub fn check_size(key: &ItemKey, data: &str) -> Result<(), StateError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StateError::EmptyKey);
    }
    if key.pk.len() > MAX_PK_BYTES || key.sk.len() > MAX_SK_BYTES {
        return Err(StateError::TooLarge(key.pk.len() + key.sk.len()));
    }
    if data.len() > MAX_DATA_BYTES {
        return Err(StateError::TooLarge(data.len()));
    }
    Ok(())
}

/// `keys` checked as [`check_size`] does, sorted, each once (DynamoDB's
/// BatchGetItem refuses a key named twice; both engines read them alike).
pub fn distinct_keys(keys: &[ItemKey]) -> Result<Vec<ItemKey>, StateError> {
    for key in keys {
        check_size(key, "")?;
    }
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

/// Whether an item expiring at `expires` is gone at `now` (seconds since the epoch).
#[must_use]
pub fn expired(expires: Option<u64>, now: u64) -> bool {
    expires.is_some_and(|expires| expires <= now)
}

/// Seconds since the Unix epoch, now.
#[must_use]
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}
