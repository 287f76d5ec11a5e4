//! Fairness in a full spool: the event dropped is the oldest of the tenant
//! holding the most, so a flood while the receivers are down costs the
//! flooder first, and other tenants' events wait. A tenant is the folder an
//! event's key is in under `<key prefix><tenant folder>/`; keys elsewhere
//! (`--auth none`, the operator's own) count as one tenant.
//!
//! Three tables, written in the spool's own transactions: `event_tenants`
//! lists each tenant's events in order, `event_loads` holds each tenant's
//! count and oldest event, and `event_ranks` orders tenants by count, ties
//! going to the tenant with the older event (so with one tenant, or all
//! tied, the oldest event overall goes, as before). Counting or forgetting
//! an event costs a fixed handful of B-tree reads and writes (three inserts
//! and two removals at most, each O(log n)), never a scan of the spool.

use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};

use crate::store::error::StoreError;

const TENANT_EVENTS: TableDefinition<(&str, u64), ()> = TableDefinition::new("event_tenants");
/// Tenant → (events waiting, the oldest one's sequence number).
const LOADS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("event_loads");
/// (events waiting, `u64::MAX` − the oldest one's number, tenant): the last is dropped from first.
const RANKS: TableDefinition<(u64, u64, &str), ()> = TableDefinition::new("event_ranks");

/// Where the tenants' folders are: `<key prefix><tenant folder>/`, such as `tenants/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFolder(String);

impl TenantFolder {
    /// `folder` ends in `/` (empty: every key is one tenant).
    #[must_use]
    pub fn new(folder: impl Into<String>) -> Self {
        Self(folder.into())
    }

    /// The tenant `key` belongs to: its folder's name under this one, or `""`.
    #[must_use]
    pub fn tenant_of<'k>(&self, key: &'k str) -> &'k str {
        if self.0.is_empty() {
            return "";
        }
        key.strip_prefix(self.0.as_str()).and_then(|rest| rest.split_once('/')).map_or("", |(tenant, _)| tenant)
    }
}

/// The spool's count by tenant, open in one write transaction.
pub(super) struct Tenants<'t> {
    events: Table<'t, (&'static str, u64), ()>,
    loads: Table<'t, &'static str, (u64, u64)>,
    ranks: Table<'t, (u64, u64, &'static str), ()>,
}

impl<'t> Tenants<'t> {
    pub(super) fn open(transaction: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            events: transaction.open_table(TENANT_EVENTS)?,
            loads: transaction.open_table(LOADS)?,
            ranks: transaction.open_table(RANKS)?,
        })
    }

    /// Forgets every count, to count again from the events (at start-up: a
    /// spool written before these tables, or under another tenant folder).
    pub(super) fn clear(transaction: &WriteTransaction) -> Result<(), StoreError> {
        transaction.delete_table(TENANT_EVENTS)?;
        transaction.delete_table(LOADS)?;
        transaction.delete_table(RANKS)?;
        Ok(())
    }

    /// Counts event `seq`, the newest, for `tenant`.
    pub(super) fn add(&mut self, tenant: &str, seq: u64) -> Result<(), StoreError> {
        self.events.insert((tenant, seq), ())?;
        let load = self.load(tenant)?;
        let (count, oldest) = load.unwrap_or((0, seq));
        self.set(tenant, load, Some((count + 1, oldest)))
    }

    /// Forgets event `seq` of `tenant`, delivered or dropped.
    pub(super) fn remove(&mut self, tenant: &str, seq: u64) -> Result<(), StoreError> {
        if self.events.remove((tenant, seq))?.is_none() {
            return Ok(());
        }
        let load = self.load(tenant)?;
        let next = self.events.range((tenant, 0)..=(tenant, u64::MAX))?.next().transpose()?;
        let next = next.map(|(key, _)| key.value().1);
        let count = load.map_or(0, |(count, _)| count.saturating_sub(1));
        self.set(tenant, load, next.filter(|_| count > 0).map(|oldest| (count, oldest)))
    }

    /// The tenant holding the most events (the one with the older event
    /// among equals), and its oldest event.
    pub(super) fn heaviest(&self) -> Result<Option<(String, u64)>, StoreError> {
        let last = self.ranks.last()?;
        Ok(last.map(|(key, _)| {
            let (_, newness, tenant) = key.value();
            (tenant.to_owned(), u64::MAX - newness)
        }))
    }

    fn load(&self, tenant: &str) -> Result<Option<(u64, u64)>, StoreError> {
        Ok(self.loads.get(tenant)?.map(|v| v.value()))
    }

    fn set(&mut self, tenant: &str, old: Option<(u64, u64)>, new: Option<(u64, u64)>) -> Result<(), StoreError> {
        if let Some((count, oldest)) = old {
            self.ranks.remove((count, u64::MAX - oldest, tenant))?;
        }
        if let Some((count, oldest)) = new {
            self.loads.insert(tenant, (count, oldest))?;
            self.ranks.insert((count, u64::MAX - oldest, tenant), ())?;
        } else {
            self.loads.remove(tenant)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::index::Index;
    use crate::store::index::Precondition;
    use crate::store::index::spool::tests::{index, pending, record, reopen};

    #[test]
    fn a_key_belongs_to_the_folder_under_the_tenant_folder() {
        let folder = TenantFolder::new("uploads/tenants/");
        assert_eq!(folder.tenant_of("uploads/tenants/alice/a/b.txt"), "alice");
        assert_eq!(folder.tenant_of("uploads/tenants/auth0%7C42/x"), "auth0%7C42");
        assert_eq!(folder.tenant_of("uploads/tenants/loose-file"), "");
        assert_eq!(folder.tenant_of("uploads/other/alice/x"), "");
        assert_eq!(TenantFolder::new("").tenant_of("tenants/alice/x"), "");
    }

    fn seqs(index: &Index) -> Vec<u64> {
        pending(index, 0).into_iter().map(|(seq, ..)| seq).collect()
    }

    #[test]
    fn a_full_spool_drops_from_the_tenant_holding_the_most() {
        let (index, dir) = index("fair", 4);
        index.subscribe(&["r".to_owned()]).unwrap();
        index.put("tenants/bob/1", &record(1), &Precondition::None).unwrap();
        index.put("tenants/carol/1", &record(1), &Precondition::None).unwrap();
        for n in 0..10 {
            index.put(&format!("tenants/mallory/{n}"), &record(n), &Precondition::None).unwrap();
        }
        let keys: Vec<String> = pending(&index, 0).into_iter().map(|(.., key)| key).collect();
        assert_eq!(keys, ["tenants/bob/1", "tenants/carol/1", "tenants/mallory/8", "tenants/mallory/9"]);
        assert_eq!(index.spool_counts().unwrap(), (4, 8));

        // Delivered events leave the counts too: bob's place goes to mallory,
        // and a restart counts again from the events.
        index.delivered("r", 1).unwrap();
        index.flush_events().unwrap();
        drop(index);
        let index = reopen(&dir, 4);
        index.subscribe(&["r".to_owned()]).unwrap();
        index.put("tenants/mallory/10", &record(10), &Precondition::None).unwrap();
        index.put("tenants/mallory/11", &record(11), &Precondition::None).unwrap();
        let keys: Vec<String> = pending(&index, 0).into_iter().map(|(.., key)| key).collect();
        assert_eq!(keys, ["tenants/carol/1", "tenants/mallory/9", "tenants/mallory/10", "tenants/mallory/11"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn among_tenants_holding_as_many_the_oldest_event_goes() {
        let spooled = |name: &str, keys: &[&str]| {
            let (index, dir) = index(name, 4);
            index.subscribe(&["r".to_owned()]).unwrap();
            for key in keys {
                index.put(key, &record(1), &Precondition::None).unwrap();
            }
            let seqs = seqs(&index);
            std::fs::remove_dir_all(dir).unwrap();
            seqs
        };
        // One each (a key outside the tenant folder too): the oldest overall.
        assert_eq!(
            spooled("fair-ones", &["tenants/a/1", "tenants/b/1", "outside", "tenants/c/1", "tenants/d/1"]),
            [2, 3, 4, 5]
        );
        // a and b hold two each, c one: a's older event goes, not c's, older still.
        let keys = ["tenants/c/1", "tenants/a/1", "tenants/b/1", "tenants/a/2", "tenants/b/2"];
        assert_eq!(spooled("fair-ties", &keys), [1, 3, 4, 5]);
    }
}
