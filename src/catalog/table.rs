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
//!   `sk = <uploaded_at, 11 digits>#<key>`), read descending. A pointer
//!   carries no copy of the record (status changes write the record only);
//!   readers fetch the records and skip pointers their record no longer
//!   names (overwritten or deleted since), so a stale pointer never shows.
//! - **The intents of one key**, newest first: `pk = intent#<key>`,
//!   `sk = <expiry, 11 digits>#<random>`, each expiring with its URL.
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

/// An upload's pointer in its scope's log.
#[must_use]
pub fn log_pointer(root: &str, uploaded_at: u64, storage_key: &str) -> ItemKey {
    ItemKey::new(log_partition(root), format!("{uploaded_at:011}#{storage_key}"))
}

/// The storage key a log pointer's sort key names.
#[must_use]
pub fn pointed_key(sort_key: &str) -> Option<&str> {
    sort_key.split_once('#').map(|(_, key)| key)
}

/// The partition of `storage_key`'s intents.
#[must_use]
pub fn intent_partition(storage_key: &str) -> String {
    format!("intent#{storage_key}")
}

/// One intent of `storage_key`, expiring at `expires`.
#[must_use]
pub fn intent(storage_key: &str, expires: u64) -> ItemKey {
    ItemKey::new(intent_partition(storage_key), format!("{expires:011}#{}", uuid::Uuid::new_v4().simple()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_sort_by_time_and_name_their_key() {
        let early = log_pointer("up/", 999, "up/b#c.jpg");
        let late = log_pointer("up/", 1_780_000_000, "up/a.jpg");
        assert!(early.sk < late.sk);
        assert_eq!(pointed_key(&early.sk), Some("up/b#c.jpg"));
        assert_eq!(early.pk, "log#up/");
        assert_ne!(record("up/a.jpg").pk, intent_partition("up/a.jpg"));
    }
}
