//! The upload log: a record per stored object (who uploaded it, when, its
//! type, metadata and processing status), kept in the state store
//! ([`crate::state`]) in the layout [`table`] explains.
//!
//! Records are written from storage's events, which arrive at least once and
//! out of order: every change is a read, then a write conditioned on the
//! version read (retried when another writer came first), and an event
//! older than the record (by S3's `sequencer`) changes nothing, so replays
//! and reorderings leave the log as the newest event made it. Who uploaded
//! an object comes from the intent the gateway wrote when it signed the
//! upload ([`Catalog::intend`]).

pub mod processor;
pub mod record;
pub mod table;

#[cfg(all(test, feature = "embedded-store"))]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use crate::state::{Condition, Item, NewItem, Range, StateError, StateStore};
use crate::wire::events::sequencer_order;
pub use record::{Intent, Record, RenditionRecord, Status, UNKNOWN_UPLOADER, Uploader};

/// How long a rendering may take before it is taken for cut short (a crash)
/// and may be claimed again.
pub const STUCK_SECONDS: u64 = 600;
/// How long a tombstone keeps an older event from bringing a deleted record back.
const TOMBSTONE_SECONDS: u64 = 7 * 24 * 3600;
/// How many times a change is tried again when another writer came first.
const ATTEMPTS: usize = 16;
/// The most intents of one key looked at to attribute an upload (one per
/// caller and size whose URL is still live).
const INTENTS_READ: usize = 100;
/// The most log pointers one page reads, filtered or not.
const POINTERS_READ: usize = 1000;

/// The reserved folder renditions live in, beside the tenants' folders.
pub const RENDITIONS_FOLDER: &str = "_renditions";

/// The sequencer of a record a sync wrote, which has none from storage:
/// below every event's, so any event of the key replaces it.
pub const SYNCED: &str = "0";

/// Whether `new` may replace `old`: a later event (unless a sync already
/// filed that very version, racing its event), or a sync that found another
/// version than the one a sync filed before.
fn supersedes(new: &Record, old: &Record) -> bool {
    match sequencer_order(&old.sequencer, &new.sequencer) {
        std::cmp::Ordering::Less => !(old.sequencer == SYNCED && old.etag == new.etag),
        std::cmp::Ordering::Equal => new.sequencer == SYNCED && old.etag != new.etag,
        std::cmp::Ordering::Greater => false,
    }
}

/// The first `bytes` bytes of the SHA-256 of `text`, in hex.
fn sha256_hex(text: &str, bytes: usize) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().take(bytes).fold(String::with_capacity(2 * bytes), |mut hex, byte| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// Why the catalog could not answer.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A stored record is not one.
    #[error("a catalog record is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// Writers kept coming first.
    #[error("the record of {0} kept changing")]
    Contended(String),
}

impl CatalogError {
    /// Whether the state store could not be reached (503, try later).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::State(StateError::Unavailable(_)) | Self::Contended(_))
    }
}

/// Where scopes begin in the bucket, to file each object in its scope's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `--key-prefix`: every key the gateway signs is under it.
    pub prefix: String,
    /// The tenants' folder (`tenants/`), when callers are tenants.
    pub tenants: Option<String>,
    /// The tenants' folder to keep out of the single scope of `--auth none`.
    pub hidden: Option<String>,
}

impl Layout {
    /// Where renditions are stored: `<prefix>_renditions/`.
    #[must_use]
    pub fn renditions(&self) -> String {
        format!("{}{RENDITIONS_FOLDER}/", self.prefix)
    }

    /// The root of the scope `storage_key` belongs to, or `None` when no
    /// caller can reach it (outside the prefix, or a rendition).
    #[must_use]
    pub fn root(&self, storage_key: &str) -> Option<String> {
        let rest = storage_key.strip_prefix(&self.prefix)?;
        if rest.starts_with(&format!("{RENDITIONS_FOLDER}/")) {
            return None;
        }
        match &self.tenants {
            Some(tenants) => {
                let inside = rest.strip_prefix(tenants.as_str())?;
                let (folder, name) = inside.split_once('/')?;
                (!folder.is_empty() && !name.is_empty()).then(|| format!("{}{tenants}{folder}/", self.prefix))
            }
            None => match &self.hidden {
                Some(hidden) if rest.starts_with(hidden.as_str()) => None,
                _ => Some(self.prefix.clone()),
            },
        }
    }
}

/// What storage reported of a new object, with what a `HEAD` of it added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The storage key.
    pub key: String,
    /// Bytes.
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    /// S3's order of this key's events.
    pub sequencer: String,
    /// When it was stored, seconds since the epoch.
    pub time: u64,
    /// The object's `Content-Type`.
    pub content_type: Option<String>,
    /// Its `x-amz-meta-*`.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Where its record starts: `Stored`, or `Processing` when renditions follow.
    pub status: Status,
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The record as written.
    pub record: Record,
    /// The record it replaced, whose renditions are now stale.
    pub replaced: Option<Record>,
}

/// One page of a scope's log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogPage {
    /// Newest first.
    pub records: Vec<Record>,
    /// Where the next page starts (a pointer's sort key), if there may be one.
    pub next: Option<String>,
}

/// The upload log.
#[derive(Debug, Clone)]
pub struct Catalog {
    state: Arc<dyn StateStore>,
    layout: Layout,
}

impl Catalog {
    /// The log in `state`, filed by `layout`.
    #[must_use]
    pub fn new(state: Arc<dyn StateStore>, layout: Layout) -> Self {
        Self { state, layout }
    }

    /// Where scopes begin.
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The state store, for readiness.
    #[must_use]
    pub fn state(&self) -> &dyn StateStore {
        self.state.as_ref()
    }

    /// Records that `intent.uploaded_by` was given a URL to upload
    /// `storage_key`, valid until `expires` (seconds since the epoch): one
    /// write per upload URL.
    pub async fn intend(&self, storage_key: &str, intent: &Intent, expires: u64) -> Result<(), CatalogError> {
        let item = NewItem {
            key: table::intent(storage_key, &intent.uploaded_by, intent.size),
            data: serde_json::to_string(intent)?,
            expires: Some(expires),
        };
        self.state.put(item, Condition::None).await?;
        Ok(())
    }

    /// Who uploaded `size` bytes to `storage_key`: the live intent of that
    /// size (or of any size) signed last, else [`UNKNOWN_UPLOADER`].
    async fn uploader(&self, storage_key: &str, size: u64) -> Result<String, CatalogError> {
        let intents = self.state.query(&table::intent_partition(storage_key), &Range::default(), INTENTS_READ).await?;
        let mut newest: Option<(u64, Intent)> = None;
        for item in intents {
            let intent: Intent = serde_json::from_str(&item.data)?;
            let expires = item.expires.unwrap_or_default();
            if intent.size.is_none_or(|declared| declared == size)
                && newest.as_ref().is_none_or(|(at, _)| expires > *at)
            {
                newest = Some((expires, intent));
            }
        }
        Ok(newest.map_or_else(|| UNKNOWN_UPLOADER.to_owned(), |(_, intent)| intent.uploaded_by))
    }

    /// Files a new object, unless the record already reflects a newer (or
    /// the same) event. `None` when nothing changed.
    pub async fn created(&self, created: Created) -> Result<Option<Applied>, CatalogError> {
        let Some(root) = self.layout.root(&created.key) else { return Ok(None) };
        let uploaded_by = self.uploader(&created.key, created.size).await?;
        let record = Record {
            key: created.key.clone(),
            size: created.size,
            etag: created.etag,
            sequencer: created.sequencer,
            content_type: created.content_type,
            metadata: created.metadata,
            uploaded_by,
            uploaded_at: created.time,
            status: created.status,
            reason: None,
            renditions: std::collections::BTreeMap::new(),
            processing_since: (created.status == Status::Processing).then(crate::state::now_seconds),
        };
        let applied = self.replace(&record.key, None, |_| Some(record.clone())).await?;
        if let Some(applied) = &applied {
            let pointer = NewItem {
                key: table::log_pointer(&root, record.uploaded_at, &record.key),
                data: serde_json::to_string(&table::Pointer { key: record.key.clone() })?,
                expires: None,
            };
            self.state.put(pointer, Condition::None).await?;
            if applied.replaced.is_none() {
                self.note_root(&root).await?;
            }
            // The replaced upload's pointer would only be skipped by readers from now on.
            if let Some(old) = applied.replaced.as_ref().filter(|old| old.uploaded_at != record.uploaded_at) {
                self.state.delete(&table::log_pointer(&root, old.uploaded_at, &record.key), Condition::None).await?;
            }
        }
        Ok(applied)
    }

    /// Removes `storage_key`'s record (leaving a tombstone), unless it
    /// reflects a newer event. The record removed, if any.
    pub async fn deleted(&self, storage_key: &str, sequencer: &str, now: u64) -> Result<Option<Record>, CatalogError> {
        let tombstone = |current: Option<&Record>| Record {
            key: storage_key.to_owned(),
            size: 0,
            etag: String::new(),
            sequencer: sequencer.to_owned(),
            content_type: None,
            metadata: std::collections::BTreeMap::new(),
            uploaded_by: String::new(),
            uploaded_at: current.map_or(0, |record| record.uploaded_at),
            status: Status::Deleted,
            reason: None,
            renditions: std::collections::BTreeMap::new(),
            processing_since: None,
        };
        let expires = Some(now + TOMBSTONE_SECONDS);
        let applied = self.replace(storage_key, expires, |current| Some(tombstone(current))).await?;
        if let Some(Applied { replaced: Some(old), .. }) = &applied
            && old.status != Status::Deleted
            && let Some(root) = self.layout.root(storage_key)
        {
            self.state.delete(&table::log_pointer(&root, old.uploaded_at, storage_key), Condition::None).await?;
        }
        Ok(applied.and_then(|applied| applied.replaced).filter(|old| old.status != Status::Deleted))
    }

    /// Claims the rendering of `storage_key`'s version `etag`: marks it
    /// `Processing` if it may be rendered now (stored while renditions were
    /// off, ready but lacking a preset, or processing for longer than
    /// [`STUCK_SECONDS`]), in one conditional write that exactly one of
    /// several claimants wins. The record claimed, if this caller won.
    pub async fn claim(&self, storage_key: &str, etag: &str, now: u64) -> Result<Option<Record>, CatalogError> {
        let Some((mut record, version)) = self.read(storage_key).await? else { return Ok(None) };
        let stuck = record.processing_since.is_none_or(|since| now.saturating_sub(since) > STUCK_SECONDS);
        let claimable = match record.status {
            Status::Stored | Status::Ready => true,
            Status::Processing => stuck,
            Status::Failed | Status::Deleted => false,
        };
        if record.etag != etag || !claimable {
            return Ok(None);
        }
        record.status = Status::Processing;
        record.processing_since = Some(now);
        let item = NewItem { key: table::record(storage_key), data: serde_json::to_string(&record)?, expires: None };
        match self.state.put(item, Condition::Version(version)).await {
            Ok(_) => Ok(Some(record)),
            Err(StateError::ConditionFailed) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Changes the record of `storage_key` with `change` while it still
    /// describes the object with `etag` (a newer upload leaves it alone).
    pub async fn update(
        &self,
        storage_key: &str,
        etag: &str,
        change: impl Fn(&mut Record),
    ) -> Result<Option<Record>, CatalogError> {
        let mut attempts = 0;
        loop {
            let Some((mut record, version)) = self.read(storage_key).await? else { return Ok(None) };
            if record.etag != etag || record.status == Status::Deleted {
                return Ok(None);
            }
            change(&mut record);
            let item =
                NewItem { key: table::record(storage_key), data: serde_json::to_string(&record)?, expires: None };
            match self.state.put(item, Condition::Version(version)).await {
                Ok(_) => return Ok(Some(record)),
                Err(StateError::ConditionFailed) if attempts < ATTEMPTS => attempts += 1,
                Err(StateError::ConditionFailed) => return Err(CatalogError::Contended(storage_key.to_owned())),
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Writes `next(current)` in place of the record, if its sequencer is
    /// newer than the current one's.
    async fn replace(
        &self,
        storage_key: &str,
        expires: Option<u64>,
        next: impl Fn(Option<&Record>) -> Option<Record>,
    ) -> Result<Option<Applied>, CatalogError> {
        let mut attempts = 0;
        loop {
            let current = self.read(storage_key).await?;
            let Some(record) = next(current.as_ref().map(|(record, _)| record)) else { return Ok(None) };
            if let Some((old, _)) = &current
                && !supersedes(&record, old)
            {
                return Ok(None);
            }
            let condition = current.as_ref().map_or(Condition::Absent, |(_, version)| Condition::Version(*version));
            let item = NewItem { key: table::record(storage_key), data: serde_json::to_string(&record)?, expires };
            match self.state.put(item, condition).await {
                Ok(_) => return Ok(Some(Applied { record, replaced: current.map(|(old, _)| old) })),
                Err(StateError::ConditionFailed) if attempts < ATTEMPTS => attempts += 1,
                Err(StateError::ConditionFailed) => return Err(CatalogError::Contended(storage_key.to_owned())),
                Err(error) => return Err(error.into()),
            }
        }
    }

    async fn read(&self, storage_key: &str) -> Result<Option<(Record, u64)>, CatalogError> {
        match self.state.get(&table::record(storage_key)).await? {
            Some(item) => Ok(Some((serde_json::from_str(&item.data)?, item.version))),
            None => Ok(None),
        }
    }

    /// Records that `root` has a log (once: later writes find it there).
    async fn note_root(&self, root: &str) -> Result<(), CatalogError> {
        let item = NewItem { key: table::root(root), data: "{}".to_owned(), expires: None };
        match self.state.put(item, Condition::Absent).await {
            Ok(_) | Err(StateError::ConditionFailed) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Every storage key the logs point at, each once: for a sync to find
    /// records of objects storage no longer holds.
    pub async fn filed_keys(&self) -> Result<std::collections::BTreeSet<String>, CatalogError> {
        let mut keys = std::collections::BTreeSet::new();
        for root in self.all(table::ROOTS).await? {
            let Some(root) = root.key.sk.strip_prefix('r') else { continue };
            for pointer in self.all(&table::log_partition(root)).await? {
                keys.insert(serde_json::from_str::<table::Pointer>(&pointer.data)?.key);
            }
        }
        Ok(keys)
    }

    /// Every live item of partition `pk`, page by page.
    async fn all(&self, pk: &str) -> Result<Vec<Item>, CatalogError> {
        const PAGE: usize = 1000;
        let mut items = Vec::new();
        let mut range = Range::default();
        loop {
            let page = self.state.query(pk, &range, PAGE).await?;
            let done = page.len() < PAGE;
            range.after = page.last().map(|item| item.key.sk.clone());
            items.extend(page);
            if done {
                return Ok(items);
            }
        }
    }

    /// Removes the record of `storage_key` (and its pointer) when storage
    /// no longer holds it and no event said so (a sync found it gone):
    /// conditioned on the version read, so an upload filed meanwhile stays.
    pub async fn forget(&self, storage_key: &str) -> Result<Option<Record>, CatalogError> {
        let Some((record, version)) = self.read(storage_key).await? else { return Ok(None) };
        if record.status == Status::Deleted {
            return Ok(None);
        }
        match self.state.delete(&table::record(storage_key), Condition::Version(version)).await {
            Ok(()) => {}
            Err(StateError::ConditionFailed) => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        if let Some(root) = self.layout.root(storage_key) {
            self.state.delete(&table::log_pointer(&root, record.uploaded_at, storage_key), Condition::None).await?;
        }
        Ok(Some(record))
    }

    /// Whether storage was ever listed into this log.
    pub async fn ever_synced(&self) -> Result<bool, CatalogError> {
        Ok(self.state.get(&table::last_sync()).await?.is_some())
    }

    /// Notes that storage was listed into this log at `now`.
    pub async fn note_sync(&self, now: u64) -> Result<(), CatalogError> {
        let item = NewItem { key: table::last_sync(), data: format!("{{\"at\":{now}}}"), expires: None };
        self.state.put(item, Condition::None).await?;
        Ok(())
    }

    /// The record of `storage_key`, if the object is stored.
    pub async fn record(&self, storage_key: &str) -> Result<Option<Record>, CatalogError> {
        let record = self.read(storage_key).await?.map(|(record, _)| record);
        Ok(record.filter(|record| record.status != Status::Deleted))
    }

    /// The records of `storage_keys` that exist, by key (batch reads).
    pub async fn records(&self, storage_keys: &[&str]) -> Result<HashMap<String, Record>, CatalogError> {
        let keys: Vec<_> = storage_keys.iter().map(|key| table::record(key)).collect();
        let items = self.state.get_many(&keys).await?;
        let mut records = HashMap::with_capacity(items.len());
        for Item { data, .. } in items {
            let record: Record = serde_json::from_str(&data)?;
            if record.status != Status::Deleted {
                records.insert(record.key.clone(), record);
            }
        }
        Ok(records)
    }

    /// Up to `limit` records of the scope at `root`, newest first, after the
    /// pointer `after`; only failed ones with `failed_only`. A page reads at
    /// most [`POINTERS_READ`] pointers, so a filtered page may come back
    /// short with a `next` to go on from.
    pub async fn log(
        &self,
        root: &str,
        after: Option<String>,
        limit: usize,
        failed_only: bool,
    ) -> Result<LogPage, CatalogError> {
        let mut page = LogPage::default();
        let mut range = Range { prefix: String::new(), after, descending: true };
        let mut read = 0;
        while page.records.len() < limit && read < POINTERS_READ {
            let want = (limit - page.records.len()).min(POINTERS_READ - read).max(1);
            let pointers = self.state.query(&table::log_partition(root), &range, want).await?;
            read += pointers.len();
            let exhausted = pointers.len() < want;
            let pointed = pointers
                .iter()
                .map(|item| Ok((serde_json::from_str::<table::Pointer>(&item.data)?.key, item.key.sk.as_str())))
                .collect::<Result<Vec<_>, serde_json::Error>>()?;
            let keys: Vec<&str> = pointed.iter().map(|(key, _)| key.as_str()).collect();
            let mut records = self.records(&keys).await?;
            for (key, sort_key) in &pointed {
                let current = records.get(key).is_some_and(|record| {
                    table::log_pointer(root, record.uploaded_at, key).sk == *sort_key
                        && (!failed_only || record.status == Status::Failed)
                });
                if current && let Some(record) = records.remove(key) {
                    page.records.push(record);
                }
            }
            range.after = pointers.last().map(|item| item.key.sk.clone());
            if exhausted {
                range.after = None;
                break;
            }
        }
        page.next = range.after;
        Ok(page)
    }
}
