//! The index: one redb database per bucket, `index.redb`, mapping each key
//! to its [`ObjectRecord`], each multipart upload id to its
//! [`UploadRecord`], and each (upload id, part number) to its
//! [`PartRecord`]. Keys are ordered bytewise, as S3 lists them, so a listing
//! or a part list is a range read, never a scan of the store; a key is any
//! UTF-8 text of up to 1024 bytes and nothing on disk is named after it, so
//! `a` and `a/b` are simply two keys. Every change is one write transaction,
//! which redb serializes and commits durably: a conditional write compares
//! and swaps atomically, and a completion reads its parts and replaces them
//! with the object in one step, so no concurrent upload can change what it
//! completes. With upload events on, the same transaction also spools the
//! event the change causes ([`spool`]), so an event is never lost nor
//! invented: it exists exactly when the change does.

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use uuid::Uuid;

use super::disk::Disk;
use super::error::StoreError;
use super::records::{ObjectRecord, PartRecord, UploadRecord};

mod fair;
mod spool;

pub use fair::TenantFolder;
use spool::Change;
pub use spool::{EventKind, Spool, SpooledEvent, SpooledRendition};

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const UPLOADS: TableDefinition<&str, &[u8]> = TableDefinition::new("uploads");
const PARTS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("parts");

/// What a write may replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    /// Anything, or nothing.
    #[default]
    None,
    /// `If-None-Match: *`: only if no object is there.
    Absent,
    /// `If-Match`: only the object with this ETag (without quotes), or `*`: any object.
    Matches(String),
}

impl Precondition {
    /// Whether a write may replace `current`.
    pub fn check(&self, current: Option<&ObjectRecord>) -> Result<(), StoreError> {
        match (self, current) {
            (Self::None, _) | (Self::Absent, None) => Ok(()),
            (Self::Matches(_), None) => Err(StoreError::NoSuchKey),
            (Self::Matches(etag), Some(current)) if etag == "*" || *etag == current.etag => Ok(()),
            (Self::Absent | Self::Matches(_), Some(_)) => Err(StoreError::PreconditionFailed),
        }
    }
}

/// A completion's plan, made inside its transaction from the upload, all its
/// stored parts and the object it would replace.
pub type Plan<'a> =
    dyn FnOnce(&UploadRecord, &[(u32, PartRecord)], Option<&ObjectRecord>) -> Result<ObjectRecord, StoreError> + 'a;

/// A completion's outcome: the new record, the one it replaced, and every part the upload had.
pub type CompletionOutcome = (ObjectRecord, Option<ObjectRecord>, Vec<(u32, PartRecord)>);

/// The bucket's index.
#[derive(Debug)]
pub struct Index {
    db: Database,
    disk: Arc<dyn Disk>,
    /// Where upload events wait, when they are on.
    spool: Option<Spool>,
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Io("a record in the index cannot be read", std::io::Error::other(e)))
}

fn encode<T: serde::Serialize>(record: &T) -> Vec<u8> {
    // Plain structs of strings and numbers always serialize.
    serde_json::to_vec(record).unwrap_or_default()
}

fn part_range(upload: &str) -> std::ops::RangeInclusive<(&str, u32)> {
    (upload, 0)..=(upload, u32::MAX)
}

impl Index {
    /// Opens (or creates) the index at `path`. Fails if another process holds it.
    pub fn open(path: &Path, disk: Arc<dyn Disk>) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(|error| match error {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::IndexInUse(path.to_owned()),
            other => other.into(),
        })?;
        let transaction = db.begin_write()?;
        transaction.open_table(OBJECTS)?;
        transaction.open_table(UPLOADS)?;
        transaction.open_table(PARTS)?;
        disk.commit(transaction)?;
        Ok(Self { db, disk, spool: None })
    }

    /// The object under `key`.
    pub fn object(&self, key: &str) -> Result<Option<ObjectRecord>, StoreError> {
        let transaction = self.db.begin_read()?;
        let table = transaction.open_table(OBJECTS)?;
        table.get(key)?.map(|v| decode(v.value())).transpose()
    }

    /// Puts `record` under `key` if `condition` holds for what is there now;
    /// returns the record it replaced.
    pub fn put(
        &self,
        key: &str,
        record: &ObjectRecord,
        condition: &Precondition,
    ) -> Result<Option<ObjectRecord>, StoreError> {
        let transaction = self.db.begin_write()?;
        let replaced = {
            let mut table = transaction.open_table(OBJECTS)?;
            let current: Option<ObjectRecord> = table.get(key)?.map(|v| decode(v.value())).transpose()?;
            condition.check(current.as_ref())?;
            table.insert(key, encode(record).as_slice())?;
            current
        };
        let spooled = self.spool_change(&transaction, &Change::created(EventKind::Put, key, record))?;
        self.disk.commit(transaction)?;
        self.announce(spooled);
        Ok(replaced)
    }

    /// Removes the object under `key` if `condition` holds; returns it.
    pub fn delete(&self, key: &str, condition: &Precondition) -> Result<Option<ObjectRecord>, StoreError> {
        let transaction = self.db.begin_write()?;
        let removed = {
            let mut table = transaction.open_table(OBJECTS)?;
            let current: Option<ObjectRecord> = table.get(key)?.map(|v| decode(v.value())).transpose()?;
            condition.check(current.as_ref())?;
            if current.is_some() {
                table.remove(key)?;
            }
            current
        };
        let spooled = match &removed {
            Some(record) => self.spool_change(&transaction, &Change::deleted(key, record))?,
            None => None,
        };
        self.disk.commit(transaction)?;
        self.announce(spooled);
        Ok(removed)
    }

    /// Records a new multipart upload.
    pub fn create_upload(&self, id: &str, record: &UploadRecord) -> Result<(), StoreError> {
        let transaction = self.db.begin_write()?;
        transaction.open_table(UPLOADS)?.insert(id, encode(record).as_slice())?;
        self.disk.commit(transaction)?;
        Ok(())
    }

    /// The upload `id`, if it is one for `key`.
    pub fn upload(&self, id: &str, key: &str) -> Result<UploadRecord, StoreError> {
        let transaction = self.db.begin_read()?;
        let table = transaction.open_table(UPLOADS)?;
        let record: Option<UploadRecord> = table.get(id)?.map(|v| decode(v.value())).transpose()?;
        record.filter(|r| r.key == key).ok_or(StoreError::NoSuchUpload)
    }

    /// Stores part `number` of upload `id` (for `key`), replacing any earlier
    /// one, which it returns. Fails if the upload is gone (completed or aborted).
    pub fn put_part(
        &self,
        id: &str,
        key: &str,
        number: u32,
        part: &PartRecord,
    ) -> Result<Option<PartRecord>, StoreError> {
        let transaction = self.db.begin_write()?;
        let replaced = {
            let uploads = transaction.open_table(UPLOADS)?;
            let upload: Option<UploadRecord> = uploads.get(id)?.map(|v| decode(v.value())).transpose()?;
            if upload.is_none_or(|u| u.key != key) {
                return Err(StoreError::NoSuchUpload);
            }
            let mut parts = transaction.open_table(PARTS)?;
            parts.insert((id, number), encode(part).as_slice())?.map(|v| decode(v.value())).transpose()?
        };
        self.disk.commit(transaction)?;
        Ok(replaced)
    }

    /// Up to `max` parts of upload `id` numbered above `after`, in order.
    pub fn parts(&self, id: &str, after: u32, max: usize) -> Result<Vec<(u32, PartRecord)>, StoreError> {
        let transaction = self.db.begin_read()?;
        let table = transaction.open_table(PARTS)?;
        let mut parts = Vec::new();
        for entry in table.range((id, after.saturating_add(1))..=(id, u32::MAX))?.take(max) {
            let (key, value) = entry?;
            parts.push((key.value().1, decode(value.value())?));
        }
        Ok(parts)
    }

    /// Completes upload `id` into `key` with the record `plan` makes, in one
    /// transaction; returns the new record, the one it replaced, and every
    /// part of the upload (their blobs not in the new record go).
    pub fn complete(&self, id: &str, key: &str, plan: Box<Plan<'_>>) -> Result<CompletionOutcome, StoreError> {
        let transaction = self.db.begin_write()?;
        let outcome = {
            let mut uploads = transaction.open_table(UPLOADS)?;
            let upload: Option<UploadRecord> = uploads.get(id)?.map(|v| decode(v.value())).transpose()?;
            let upload = upload.filter(|u| u.key == key).ok_or(StoreError::NoSuchUpload)?;
            let mut parts_table = transaction.open_table(PARTS)?;
            let mut parts = Vec::new();
            for entry in parts_table.range(part_range(id))? {
                let (k, v) = entry?;
                parts.push((k.value().1, decode::<PartRecord>(v.value())?));
            }
            let mut objects = transaction.open_table(OBJECTS)?;
            let current: Option<ObjectRecord> = objects.get(key)?.map(|v| decode(v.value())).transpose()?;
            let record = plan(&upload, &parts, current.as_ref())?;
            objects.insert(key, encode(&record).as_slice())?;
            uploads.remove(id)?;
            parts_table.retain_in(part_range(id), |_, _| false)?;
            (record, current, parts)
        };
        let spooled = self.spool_change(&transaction, &Change::created(EventKind::Complete, key, &outcome.0))?;
        self.disk.commit(transaction)?;
        self.announce(spooled);
        Ok(outcome)
    }

    /// Removes upload `id` (for `key`, if given) and its parts; returns the parts.
    pub fn abort(&self, id: &str, key: Option<&str>) -> Result<Vec<PartRecord>, StoreError> {
        let transaction = self.db.begin_write()?;
        let parts = {
            let mut uploads = transaction.open_table(UPLOADS)?;
            let upload: Option<UploadRecord> = uploads.get(id)?.map(|v| decode(v.value())).transpose()?;
            if upload.is_none_or(|u| key.is_some_and(|key| key != u.key)) {
                return Err(StoreError::NoSuchUpload);
            }
            uploads.remove(id)?;
            let mut table = transaction.open_table(PARTS)?;
            let mut parts = Vec::new();
            for entry in table.extract_from_if(part_range(id), |_, _| true)? {
                parts.push(decode(entry?.1.value())?);
            }
            parts
        };
        self.disk.commit(transaction)?;
        Ok(parts)
    }

    /// The ids of uploads started before `created_before_ns`.
    pub fn uploads_before(&self, created_before_ns: u64) -> Result<Vec<String>, StoreError> {
        let transaction = self.db.begin_read()?;
        let table = transaction.open_table(UPLOADS)?;
        let mut stale = Vec::new();
        for entry in table.iter()? {
            let (id, value) = entry?;
            let record: UploadRecord = decode(value.value())?;
            if record.created_ns < created_before_ns {
                stale.push(id.value().to_owned());
            }
        }
        Ok(stale)
    }

    /// Every blob an object or a part names, for finding orphans at start-up.
    pub fn blobs_in_use(&self) -> Result<HashSet<Uuid>, StoreError> {
        let transaction = self.db.begin_read()?;
        let mut used = HashSet::new();
        for entry in transaction.open_table(OBJECTS)?.iter()? {
            let record: ObjectRecord = decode(entry?.1.value())?;
            used.extend(record.blobs.iter().map(|b| b.id));
        }
        for entry in transaction.open_table(PARTS)?.iter()? {
            let record: PartRecord = decode(entry?.1.value())?;
            used.insert(record.blob.id);
        }
        Ok(used)
    }

    /// Calls `visit` with each object from `start` in key order until it says stop.
    pub fn scan(
        &self,
        start: Bound<&str>,
        mut visit: impl FnMut(&str, ObjectRecord) -> Scan,
    ) -> Result<(), StoreError> {
        let transaction = self.db.begin_read()?;
        let table = transaction.open_table(OBJECTS)?;
        let mut from: Bound<String> = start.map(str::to_owned);
        'seek: loop {
            let range = table.range::<&str>((from.as_ref().map(String::as_str), Bound::Unbounded))?;
            for entry in range {
                let (key, value) = entry?;
                match visit(key.value(), decode(value.value())?) {
                    Scan::Next => {}
                    Scan::Stop => return Ok(()),
                    Scan::SkipPast(past) => {
                        from = Bound::Excluded(past);
                        continue 'seek;
                    }
                }
            }
            return Ok(());
        }
    }
}

/// What a [`Index::scan`] does after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Go on with the next key.
    Next,
    /// Jump past every key up to this one.
    SkipPast(String),
    /// Done.
    Stop,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::disk::RealDisk;

    #[test]
    fn a_second_opener_is_told_which_folder_and_flag() {
        let dir = std::env::temp_dir().join(format!("pgw-index-in-use-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.redb");
        let _first = Index::open(&path, Arc::new(RealDisk)).unwrap();
        let Err(error) = Index::open(&path, Arc::new(RealDisk)) else { panic!("a second open succeeded") };
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("--data-dir"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
