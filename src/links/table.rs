//! Where share links' records live in the state store's single table, and
//! why. One item per link, `pk = link#<owner>`, `sk = <link id>`, its
//! [`LinkRecord`] as the data, expiring with the link. Three access
//! patterns, each a key lookup or a one-partition range read of the base
//! table (consistent, unlike any secondary index):
//!
//! - **A use**, by the link's holder: the owner and id come out of the
//!   sealed token, so the item is read by key, checked, and written back
//!   with one more use conditioned on the version read. That compare-and-set
//!   is what makes `max_uses` exact: of two gateways reading the last use,
//!   one write fails its condition, reads again and finds none left. (A
//!   counter with DynamoDB's `ADD` would need an update call the local
//!   engine lacks; the conditional put is one both engines pass the
//!   conformance suite on.) Each round of contention lets one writer
//!   through, so a use tries again at most about as often as there are
//!   concurrent uses.
//! - **An owner's links, newest first**: the owner's partition read
//!   descending. Ids start with the second they were made, so sort-key
//!   order is creation order; the read stops at [`LIST_READ`] items.
//! - **A revocation**: the owner's partition and the id named, deleted.
//!   The record going is the revocation: a genuine, unexpired token whose
//!   record is absent was revoked (`410`); a used-up link keeps its record
//!   until it expires, so it is told apart and never counted again.
//!
//! Why the owner is in the partition key rather than a global id: the
//! partition of every call comes from what the gateway vouches for (the
//! tenant sealed in a token, or the caller's authenticated tenant), never
//! from text a client chose, so no id, forged or guessed, reaches another
//! tenant's link; and listing is a one-partition read. Ids are random
//! besides (88 bits), and only ever travel sealed in a token or in the
//! owner's own listing.
//!
//! Items expire with their links (DynamoDB's TTL, the local engine's
//! sweep; readers skip them before), so no dead link stays listed or kept.
//! Partition keys start with `link#`, which no catalog partition does.

use serde::{Deserialize, Serialize};

use crate::core::grant::LinkId;
use crate::core::tenant::TenantId;
use crate::state::ItemKey;

/// The most items an owner's listing reads.
pub const LIST_READ: usize = 1000;

/// The partition of `tenant`'s links (`None`: the single tenant of `--auth none`).
#[must_use]
pub fn partition(tenant: Option<&TenantId>) -> String {
    match tenant {
        None => "link#-".to_owned(),
        Some(tenant) => format!("link#t#{}", tenant.as_str()),
    }
}

/// The item of `tenant`'s link `id`.
#[must_use]
pub fn item(tenant: Option<&TenantId>, id: &LinkId) -> ItemKey {
    ItemKey::new(partition(tenant), id.as_str())
}

/// What a link's item holds. The tenant and id are its key; the rest is
/// what the owner sees when listing, and what a use checks and counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    /// The key it opens, or the folder (ending in `/`), as the owner names it.
    pub key: String,
    /// What it allows, such as `GET,HEAD`.
    pub methods: String,
    /// The largest upload it takes, for upload links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    /// Who made it: the token's `sub`, or `anonymous`.
    pub created_by: String,
    /// When, in seconds since the epoch.
    pub created_at: u64,
    /// When it stops working, in seconds since the epoch.
    pub expires_at: u64,
    /// How many uses it allows (`None`: any number until it expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    /// How many it has had.
    pub uses: u64,
    /// When it was last used, in seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_use: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_have_partitions_of_their_own() {
        let id = LinkId::new(1_800_000_000, [1; 11]);
        let acme = TenantId::new("acme").unwrap();
        let dash = TenantId::new("-").unwrap();
        assert_eq!(item(Some(&acme), &id), ItemKey::new("link#t#acme", id.as_str()));
        assert_eq!(item(None, &id).pk, "link#-");
        assert_ne!(partition(None), partition(Some(&dash)));
        let long = TenantId::new(&"x".repeat(128)).unwrap();
        assert!(partition(Some(&long)).len() <= crate::state::MAX_PK_BYTES);
    }
}
