//! Where API keys live in the state store's single table, and why. Two
//! access patterns, each a key lookup or a one-partition range read:
//!
//! - **Verifying a key**, on every request that carries one: `pk =
//!   key#<64 hex of the SHA-256 of the key>`, `sk = -`, holding the tenant,
//!   scope and expiry ([`Grant`]). One hash and one consistent read, so a
//!   revocation is seen by the next read on every gateway sharing the table
//!   (each gateway caches a read for at most [`super::CACHE_SECONDS`]).
//!   Only the hash is stored: the key is 256 random bits, so nobody can
//!   search the hashes for it, and a slow password hash (made for guessable
//!   secrets) would add cost to every request and no safety; whoever reads
//!   the table learns no key that works.
//! - **A tenant's keys**, to list and revoke: `pk = keys#<tenant id>`,
//!   `sk = k<id>` for each key's [`Entry`] (with the hash, to revoke it),
//!   and `sk = u<id>` for when it was last used, written at most once a
//!   minute per key and gateway ([`super::USE_EVERY_SECONDS`]) as an item
//!   of its own, so a write of the last use never races a revocation's
//!   read of the entry (no read-modify-write). A last use written by a
//!   request racing the key's revocation may outlive it; listings show only
//!   keys with an entry, so it is never shown.
//!
//! Every item of a key carries the key's expiry as the item's, so the store
//! drops an expired key from every read (conditions included) whether or
//! not its engine has removed it yet. A revocation deletes the verifying
//! item first: if it stops half-way, the key no longer works, and revoking
//! again removes the rest.

use serde::{Deserialize, Serialize};

use crate::state::ItemKey;

/// The sort key of an item alone in its partition.
const ONLY: &str = "-";

/// The verifying item of the key whose SHA-256 is `hash` (hex).
#[must_use]
pub fn grant(hash: &str) -> ItemKey {
    ItemKey::new(format!("key#{hash}"), ONLY)
}

/// The partition of `tenant`'s keys.
#[must_use]
pub fn tenant_partition(tenant: &str) -> String {
    format!("keys#{tenant}")
}

/// The sort-key prefix of entries in a tenant's partition.
pub const ENTRY: &str = "k";
/// The sort-key prefix of last uses in a tenant's partition.
pub const USED: &str = "u";

/// The entry of key `id` of `tenant`.
#[must_use]
pub fn entry(tenant: &str, id: &str) -> ItemKey {
    ItemKey::new(tenant_partition(tenant), format!("{ENTRY}{id}"))
}

/// When key `id` of `tenant` was last used.
#[must_use]
pub fn used(tenant: &str, id: &str) -> ItemKey {
    ItemKey::new(tenant_partition(tenant), format!("{USED}{id}"))
}

/// What verifying a key reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The key's id.
    pub id: String,
    /// The tenant it acts as.
    pub tenant: String,
    /// Whether it only reads.
    pub read_only: bool,
    /// The folder it is confined to.
    pub prefix: String,
    /// When it stops working, seconds since the epoch.
    pub expires: Option<u64>,
}

/// What listing a tenant's keys reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether it only reads.
    pub read_only: bool,
    /// The folder it is confined to.
    pub prefix: String,
    /// When it was made, seconds since the epoch.
    pub created: u64,
    /// When it stops working.
    pub expires: Option<u64>,
    /// The SHA-256 of the key (hex), to find its verifying item on revocation.
    pub hash: String,
}

/// When a key was last used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Used {
    /// Seconds since the epoch.
    pub at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenants_items_share_its_partition_and_nothing_else() {
        assert_eq!(entry("acme", "0123").pk, used("acme", "0123").pk);
        assert_ne!(entry("acme", "0123").sk, used("acme", "0123").sk);
        assert_ne!(tenant_partition("acme"), grant("acme").pk);
        assert!(grant(&"f".repeat(64)).pk.starts_with("key#"));
    }
}
