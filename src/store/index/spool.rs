//! The upload events' spool, in the bucket's index: each change that makes
//! or removes an object writes its event in the same transaction, under the
//! next sequence number of the bucket (kept with it, so numbers only grow,
//! across restarts too). Each receiver has a cursor, the last number it
//! acknowledged, kept under the SHA-256 of its URL so that no secret in a URL
//! reaches the disk; an event goes once every receiver has it.
//!
//! The spool holds at most `limit` events: past it, the oldest of the tenant
//! holding the most go ([`super::fair`]), in the same transaction, and are
//! counted (in the index) and logged. A receiver's
//! cursor is committed without a sync of its own (it rides on the next
//! durable commit, or on the flush at shutdown): after a crash a receiver may
//! be sent a few events again, which at-least-once delivery allows, and an
//! upload never waits for a receiver's bookkeeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redb::{Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use uuid::Uuid;

use super::fair::{TenantFolder, Tenants};
use super::{Index, decode, encode};
use crate::store::error::StoreError;
use crate::store::records::{ObjectRecord, now_ns};

const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("event_counters");
const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("event_cursors");
/// The next sequence number.
const NEXT: &str = "next";
/// Events dropped from a full spool, ever.
const DROPPED: &str = "dropped";

/// A full spool is logged at once, then at most this often.
const DROP_LOG_EVERY: Duration = Duration::from_secs(60);

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// Created by a single PUT.
    Put,
    /// Created by completing a multipart upload.
    Complete,
    /// Deleted.
    Delete,
    /// The gateway made the object's renditions.
    RenditionReady,
    /// The gateway could not make them.
    RenditionFailed,
}

/// An event waiting for its receivers; its sequence number is its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpooledEvent {
    /// The same on every delivery.
    pub id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// The storage key.
    pub key: String,
    /// The object's size (the deleted one's, for a deletion).
    pub size: u64,
    /// The object's ETag, without quotes.
    pub etag: String,
    /// Nanoseconds since the epoch.
    pub time_ns: u64,
    /// For a rendition's event: what was made, or why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendition: Option<SpooledRendition>,
}

/// What a rendition's event tells, besides the original.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpooledRendition {
    /// The preset (none when the rendering failed as a whole).
    pub name: Option<String>,
    /// The rendition's storage key.
    pub key: Option<String>,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Why it failed.
    pub reason: Option<String>,
}

/// A change to spool the event of.
pub(in crate::store) struct Change<'a> {
    kind: EventKind,
    key: &'a str,
    record: &'a ObjectRecord,
}

impl<'a> Change<'a> {
    /// `record` was made under `key`.
    pub fn created(kind: EventKind, key: &'a str, record: &'a ObjectRecord) -> Self {
        Self { kind, key, record }
    }

    /// `record` was removed from `key`.
    pub fn deleted(key: &'a str, record: &'a ObjectRecord) -> Self {
        Self { kind: EventKind::Delete, key, record }
    }
}

/// The spool's bound, and the signal that wakes the deliveries.
#[derive(Debug)]
pub struct Spool {
    limit: u64,
    tenants: TenantFolder,
    /// Keys whose changes spool no event: the gateway's renditions.
    quiet: Option<String>,
    committed: watch::Sender<u64>,
    drops: Mutex<DropLog>,
}

#[derive(Debug, Default)]
struct DropLog {
    logged_at: Option<Instant>,
    unlogged: u64,
}

/// What a commit spooled.
pub(in crate::store) struct Spooled {
    seq: u64,
    dropped: u64,
    dropped_ever: u64,
}

/// The receivers' cursors at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    /// Each receiver's cursor, in the order asked.
    pub cursors: Vec<u64>,
    /// Events left for receivers no longer configured, now gone.
    pub abandoned: u64,
}

impl Index {
    /// Turns upload events on: from now on each change spools its event, and
    /// at most `limit` wait; `tenants` is where the tenants' folders are.
    /// Keys under `quiet` (the gateway's renditions) spool nothing: no
    /// receiver hears of them, and the processor never triggers itself.
    pub fn spool_events(&mut self, limit: u64, tenants: TenantFolder, quiet: Option<String>) {
        let (committed, _) = watch::channel(0);
        self.spool = Some(Spool { limit, tenants, quiet, committed, drops: Mutex::new(DropLog::default()) });
    }

    /// Sees the sequence number of each event committed from now on.
    pub fn watch_events(&self) -> Option<watch::Receiver<u64>> {
        self.spool.as_ref().map(|spool| spool.committed.subscribe())
    }

    /// Writes the event of `change` in `transaction`, dropping past the limit
    /// the oldest events of the tenants holding the most. Besides the event
    /// and the counter, each costs the tenant count's few B-tree operations
    /// ([`super::fair`]), and each event dropped as many again.
    pub(super) fn spool_change(
        &self,
        transaction: &WriteTransaction,
        change: &Change<'_>,
    ) -> Result<Option<Spooled>, StoreError> {
        let Some(spool) = &self.spool else { return Ok(None) };
        if spool.quiet.as_deref().is_some_and(|quiet| change.key.starts_with(quiet)) {
            return Ok(None);
        }
        let event = SpooledEvent {
            id: Uuid::new_v4(),
            kind: change.kind,
            key: change.key.to_owned(),
            size: change.record.size,
            etag: change.record.etag.clone(),
            time_ns: if change.kind == EventKind::Delete { now_ns() } else { change.record.modified_ns },
            rendition: None,
        };
        Self::spool_event(transaction, spool, &event).map(Some)
    }

    /// Spools an event the gateway itself tells of an object (a rendition
    /// made or failed), in a commit of its own, and wakes the deliveries.
    pub fn spool_notice(&self, event: &SpooledEvent) -> Result<(), StoreError> {
        let Some(spool) = &self.spool else { return Ok(()) };
        let transaction = self.db.begin_write()?;
        let spooled = Self::spool_event(&transaction, spool, event)?;
        self.disk.commit(transaction)?;
        self.announce(Some(spooled));
        Ok(())
    }

    /// Writes `event` under the next number, dropping past the limit.
    fn spool_event(transaction: &WriteTransaction, spool: &Spool, event: &SpooledEvent) -> Result<Spooled, StoreError> {
        let mut counters = transaction.open_table(COUNTERS)?;
        let seq = counters.get(NEXT)?.map_or(1, |v| v.value());
        counters.insert(NEXT, seq + 1)?;
        let mut events = transaction.open_table(EVENTS)?;
        events.insert(seq, encode(event).as_slice())?;
        let mut tenants = Tenants::open(transaction)?;
        tenants.add(spool.tenants.tenant_of(&event.key), seq)?;
        let mut dropped = 0;
        while events.len()? > spool.limit {
            if let Some((tenant, oldest)) = tenants.heaviest()? {
                events.remove(oldest)?;
                tenants.remove(&tenant, oldest)?;
            } else {
                // No counts (cannot happen once `subscribe` has counted): the oldest overall.
                events.pop_first()?;
            }
            dropped += 1;
        }
        // The running total is read only when it changes (never on a spool with room).
        let mut dropped_ever = 0;
        if dropped > 0 {
            dropped_ever = counters.get(DROPPED)?.map_or(0, |v| v.value()) + dropped;
            counters.insert(DROPPED, dropped_ever)?;
        }
        Ok(Spooled { seq, dropped, dropped_ever })
    }

    /// After the commit: wakes the deliveries, and logs a full spool.
    pub(super) fn announce(&self, spooled: Option<Spooled>) {
        let (Some(spool), Some(spooled)) = (&self.spool, spooled) else { return };
        spool.committed.send_replace(spooled.seq);
        if spooled.dropped == 0 {
            return;
        }
        let mut log = spool.drops.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        log.unlogged += spooled.dropped;
        if log.logged_at.is_none_or(|at| at.elapsed() >= DROP_LOG_EVERY) {
            tracing::warn!(
                dropped = log.unlogged,
                dropped_ever = spooled.dropped_ever,
                limit = spool.limit,
                "the upload event spool is full (--notify-spool-limit / NOTIFY_SPOOL_LIMIT): the oldest undelivered events of the tenants holding the most were dropped"
            );
            *log = DropLog { logged_at: Some(Instant::now()), unlogged: 0 };
        }
    }

    /// Registers the receivers `ids` at start-up: a new one starts after the
    /// last event spooled, a known one where it stopped; the cursors of
    /// receivers no longer configured go, and so do the events only they
    /// still needed. The events left are counted by tenant afresh (one read
    /// of the spool per start), so a spool from an older version or another
    /// tenant folder is counted right.
    pub fn subscribe(&self, ids: &[String]) -> Result<Subscribed, StoreError> {
        let transaction = self.db.begin_write()?;
        let subscribed = {
            let head = transaction.open_table(COUNTERS)?.get(NEXT)?.map_or(1, |v| v.value()) - 1;
            let mut cursors = transaction.open_table(CURSORS)?;
            let mut gone = Vec::new();
            for entry in cursors.iter()? {
                let id = entry?.0.value().to_owned();
                if !ids.contains(&id) {
                    gone.push(id);
                }
            }
            for id in &gone {
                cursors.remove(id.as_str())?;
            }
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                let cursor = cursors.get(id.as_str())?.map(|v| v.value());
                let cursor = if let Some(cursor) = cursor {
                    cursor
                } else {
                    cursors.insert(id.as_str(), head)?;
                    head
                };
                found.push(cursor);
            }
            let oldest_needed = found.iter().min().copied().unwrap_or(head);
            // What is left at or below every cursor was needed by receivers now gone.
            let mut events = transaction.open_table(EVENTS)?;
            let before = events.len()?;
            events.retain_in(..=oldest_needed, |_, _| false)?;
            if let Some(spool) = &self.spool {
                Tenants::clear(&transaction)?;
                let mut tenants = Tenants::open(&transaction)?;
                for entry in events.iter()? {
                    let (seq, value) = entry?;
                    let event: SpooledEvent = decode(value.value())?;
                    tenants.add(spool.tenants.tenant_of(&event.key), seq.value())?;
                }
            }
            Subscribed { cursors: found, abandoned: before - events.len()? }
        };
        self.disk.commit(transaction)?;
        Ok(subscribed)
    }

    /// Up to `max` events numbered above `after`, in order.
    pub fn events_after(&self, after: u64, max: usize) -> Result<Vec<(u64, SpooledEvent)>, StoreError> {
        let transaction = self.db.begin_read()?;
        let table = match transaction.open_table(EVENTS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        };
        let mut events = Vec::new();
        for entry in table.range(after.saturating_add(1)..)?.take(max) {
            let (seq, value) = entry?;
            events.push((seq.value(), decode(value.value())?));
        }
        Ok(events)
    }

    /// Receiver `id` has every event up to `seq`; events every receiver has go.
    pub fn delivered(&self, id: &str, seq: u64) -> Result<(), StoreError> {
        let mut transaction = self.db.begin_write()?;
        transaction.set_durability(Durability::None)?;
        {
            let mut cursors = transaction.open_table(CURSORS)?;
            cursors.insert(id, seq)?;
            let mut oldest_needed = seq;
            for entry in cursors.iter()? {
                oldest_needed = oldest_needed.min(entry?.1.value());
            }
            self.forget_through(&transaction, oldest_needed)?;
        }
        self.disk.commit(transaction)?;
        Ok(())
    }

    /// Removes the events numbered up to `last`, and their tenants' counts:
    /// each costs a read of its key and the count's few B-tree operations.
    fn forget_through(&self, transaction: &WriteTransaction, last: u64) -> Result<(), StoreError> {
        let mut events = transaction.open_table(EVENTS)?;
        let Some(spool) = &self.spool else { return Ok(events.retain_in(..=last, |_, _| false)?) };
        let mut tenants = Tenants::open(transaction)?;
        for entry in events.extract_from_if(..=last, |_, _| true)? {
            let (seq, value) = entry?;
            let event: SpooledEvent = decode(value.value())?;
            tenants.remove(spool.tenants.tenant_of(&event.key), seq.value())?;
        }
        Ok(())
    }

    /// Makes the receivers' cursors durable (at shutdown).
    pub fn flush_events(&self) -> Result<(), StoreError> {
        self.disk.commit(self.db.begin_write()?)?;
        Ok(())
    }

    /// Events waiting, and events ever dropped from a full spool.
    pub fn spool_counts(&self) -> Result<(u64, u64), StoreError> {
        let transaction = self.db.begin_read()?;
        let waiting = match transaction.open_table(EVENTS) {
            Ok(table) => table.len()?,
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(error) => return Err(error.into()),
        };
        let dropped = match transaction.open_table(COUNTERS) {
            Ok(table) => table.get(DROPPED)?.map_or(0, |v| v.value()),
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(error) => return Err(error.into()),
        };
        Ok((waiting, dropped))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::store::checksum::{Algorithm, Kind};
    use crate::store::disk::RealDisk;
    use crate::store::index::Precondition;
    use crate::store::records::{Attributes, StoredChecksum};

    pub(in crate::store::index) fn index(name: &str, limit: u64) -> (Index, PathBuf) {
        let dir = std::env::temp_dir().join(format!("pgw-spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (reopen(&dir, limit), dir)
    }

    pub(in crate::store::index) fn reopen(dir: &std::path::Path, limit: u64) -> Index {
        let mut index = Index::open(&dir.join("index.redb"), Arc::new(RealDisk)).unwrap();
        index.spool_events(limit, TenantFolder::new("tenants/"), Some("_renditions/".into()));
        index
    }

    pub(in crate::store::index) fn record(size: u64) -> ObjectRecord {
        ObjectRecord {
            version: Uuid::new_v4(),
            size,
            etag: format!("etag-{size}"),
            modified_ns: now_ns(),
            attributes: Attributes::default(),
            checksum: StoredChecksum { algorithm: Algorithm::Crc64Nvme, kind: Kind::FullObject, value: String::new() },
            parts: None,
            blobs: Vec::new(),
        }
    }

    pub(in crate::store::index) fn pending(index: &Index, after: u64) -> Vec<(u64, EventKind, String)> {
        let events = index.events_after(after, 100).unwrap();
        events.into_iter().map(|(seq, e)| (seq, e.kind, e.key)).collect()
    }

    #[test]
    fn each_change_spools_one_event_in_order_and_refused_ones_none() {
        let (index, dir) = index("order", 100);
        let ids = ["receiver".to_owned()];
        assert_eq!(index.subscribe(&ids).unwrap().cursors, [0]);
        index.put("a", &record(1), &Precondition::None).unwrap();
        assert!(index.put("a", &record(2), &Precondition::Absent).is_err());
        index.delete("missing", &Precondition::None).unwrap();
        index.delete("a", &Precondition::None).unwrap();
        assert_eq!(pending(&index, 0), [(1, EventKind::Put, "a".into()), (2, EventKind::Delete, "a".into())]);
        let deleted = &index.events_after(1, 1).unwrap()[0].1;
        assert_eq!((deleted.size, deleted.etag.as_str()), (1, "etag-1"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_counts_them() {
        let (index, dir) = index("full", 3);
        index.subscribe(&["r".to_owned()]).unwrap();
        for n in 0..5 {
            index.put(&format!("k{n}"), &record(n), &Precondition::None).unwrap();
        }
        let seqs: Vec<u64> = pending(&index, 0).into_iter().map(|(seq, ..)| seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(index.spool_counts().unwrap(), (3, 2));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn events_go_once_every_receiver_has_them_and_cursors_survive_a_restart() {
        let (index, dir) = index("cursors", 100);
        let ids = ["one".to_owned(), "two".to_owned()];
        index.subscribe(&ids).unwrap();
        for n in 0..3 {
            index.put(&format!("k{n}"), &record(n), &Precondition::None).unwrap();
        }
        index.delivered("one", 3).unwrap();
        index.delivered("two", 1).unwrap();
        assert_eq!(index.spool_counts().unwrap().0, 2, "events 2 and 3 wait for `two`");
        index.flush_events().unwrap();
        drop(index);

        let index = reopen(&dir, 100);
        let subscribed = index.subscribe(&["two".to_owned(), "three".to_owned()]).unwrap();
        assert_eq!(subscribed, Subscribed { cursors: vec![1, 3], abandoned: 0 });
        index.put("k3", &record(3), &Precondition::None).unwrap();
        assert_eq!(pending(&index, 1).iter().map(|(seq, ..)| *seq).collect::<Vec<_>>(), [2, 3, 4]);

        // `two` goes from the configuration: what only it needed goes with it.
        drop(index);
        let index = reopen(&dir, 100);
        let subscribed = index.subscribe(&["three".to_owned()]).unwrap();
        assert_eq!(subscribed.cursors, [3]);
        assert_eq!(subscribed.abandoned, 2, "events 2 and 3");
        assert_eq!(pending(&index, 0).iter().map(|(seq, ..)| *seq).collect::<Vec<_>>(), [4]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
