//! Where the catalog's items live in the state store's single table, and
//! why. Three access patterns, each a key lookup or a one-partition range
//! read of the base table (consistent, unlike any secondary index):
//!
//! - **An object's record**, by its storage key: `pk = obj#<key>`, `sk = -`.
//!   Listings read a page's records with batch reads (100 keys a call, so
//!   ten for a page of 1,000); events read and replace one with a version
//!   condition.
//! - **A scope's log, newest first**: one pointer per upload in the
//!   partition of the scope it was uploaded into (`pk = log#<scope root>`,
//!   `sk = <uploaded_at, 11 digits>#<32 hex of the key's SHA-256>`, the key
//!   itself in the data: a key may take all of a sort key's 1,024 bytes),
//!   read descending. A pointer carries no copy of the record (status
//!   changes write the record only); readers fetch the records and skip
//!   pointers their record no longer names (overwritten or deleted since),
//!   so a stale pointer never shows.
//! - **The intents of one key**: `pk = intent#<key>`, one item per caller
//!   and declared size (`sk` = their hash), each expiring with the newest
//!   URL signed for them: signing again replaces it, so a partition holds
//!   at most one item per (caller, size), however many URLs are asked for.
//!
//! Every partition key starts with its kind, so no two patterns share a
//! partition, and storage keys (at most 1,024 bytes) fit DynamoDB's 2,048-byte
//! partition keys.

use crate::state::ItemKey;

/// The sort key of an item alone in its partition.
const ONLY: &str = "-";

/// When storage was last listed into the log (a new log has never been).
#[must_use]
pub fn last_sync() -> ItemKey {
    ItemKey::new("meta#sync", ONLY)
}

/// The partition naming every scope root that has a log, so a sync can walk
/// the logs for records of objects storage no longer holds.
pub const ROOTS: &str = "meta#roots";

/// The item recording that `root` has a log.
#[must_use]
pub fn root(root: &str) -> ItemKey {
    ItemKey::new(ROOTS, format!("r{root}"))
}

/// An object's record.
#[must_use]
pub fn record(storage_key: &str) -> ItemKey {
    ItemKey::new(format!("obj#{storage_key}"), ONLY)
}

/// The log partition of the scope whose root (key prefix and tenant folder) is `root`.
#[must_use]
pub fn log_partition(root: &str) -> String {
    format!("log#{root}")
}

/// An upload's pointer in its scope's log; its data is [`Pointer`].
#[must_use]
pub fn log_pointer(root: &str, uploaded_at: u64, storage_key: &str) -> ItemKey {
    ItemKey::new(log_partition(root), format!("{uploaded_at:011}#{}", super::sha256_hex(storage_key, 16)))
}

/// What a log pointer holds: the storage key it points at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pointer {
    /// The storage key.
    pub key: String,
}

/// The partition of `storage_key`'s intents.
#[must_use]
pub fn intent_partition(storage_key: &str) -> String {
    format!("intent#{storage_key}")
}

/// The intent of `uploaded_by` to upload `size` bytes (any, `None`) to `storage_key`.
#[must_use]
pub fn intent(storage_key: &str, uploaded_by: &str, size: Option<u64>) -> ItemKey {
    let who = format!("{uploaded_by}\n{}", size.map_or_else(|| "any".to_owned(), |size| size.to_string()));
    ItemKey::new(intent_partition(storage_key), super::sha256_hex(&who, 16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_sort_by_time_and_name_their_key() {
        let early = log_pointer("up/", 999, "up/b#c.jpg");
        let late = log_pointer("up/", 1_780_000_000, "up/a.jpg");
        assert!(early.sk < late.sk);
        assert_eq!(early.pk, "log#up/");
        assert_eq!(log_pointer("up/", 999, &"k".repeat(1024)).sk.len(), 11 + 1 + 32);
        assert_ne!(record("up/a.jpg").pk, intent_partition("up/a.jpg"));
        assert_eq!(intent("k", "alice", Some(7)), intent("k", "alice", Some(7)));
        assert_ne!(intent("k", "alice", Some(7)), intent("k", "alice", None));
    }
}
