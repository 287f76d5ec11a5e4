//! The state store in one redb file, `state.redb`, for a single process:
//! the default of `serve`, so the first command has a catalog with no setup.
//!
//! One table maps `(pk, sk)` to `(version, expires, data)`. redb orders
//! tuple keys element by element and strings bytewise, which is DynamoDB's
//! order for a partition and its sort keys, so a range read here returns
//! what a `Query` returns there. Writes run one at a time inside redb's
//! single write transaction: the condition is checked and the item written
//! with no other write in between, as DynamoDB's condition expressions do.
//! Writes that arrive while a commit is on the disk wait and go together in
//! the next transaction, each in its turn (a group commit): one `fsync` for
//! all of them, and each answered only once it is durable. Committed one
//! by one, an upload URL's intent cost a PUT redirect 18 times the CPU of a
//! GET (BENCHMARKS.md, *What the upload log costs an upload*).
//! Readers skip expired items, as they do on DynamoDB; [`LocalState::sweep`]
//! removes them (as DynamoDB's TTL does, lazily), at start-up and every hour,
//! so the file does not keep every upload URL's intent for good.
//!
//! redb locks its file: a second process on the same folder fails to open
//! it ([`LocalOpenError::InUse`]), so work on local state runs inside
//! `serve` or over HTTP.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{
    Condition, Item, ItemKey, LOCAL_FILE, NewItem, Range, StateError, StateStore, check_size, distinct_keys, expired,
    now_seconds,
};

/// `(pk, sk)` → `(version, expires, data)`.
const ITEMS: TableDefinition<(&str, &str), (u64, Option<u64>, &str)> = TableDefinition::new("items");

/// Why the state file cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum LocalOpenError {
    /// Another process holds the file.
    #[error(
        "{} is open in another process (a running `serve`?): stop it, or give this one a folder of \
         its own with --data-dir / DATA_DIR (or --state-dir / STATE_DIR)", .0.display()
    )]
    InUse(PathBuf),
    /// The folder cannot be created.
    #[error("cannot create the state folder {}", .0.display())]
    Folder(PathBuf, #[source] std::io::Error),
    /// The file cannot be opened or created.
    #[error("cannot open the state file {}", .0.display())]
    Engine(PathBuf, #[source] redb::Error),
}

/// The items table, open in a write transaction.
type ItemsTable<'t> = redb::Table<'t, (&'static str, &'static str), (u64, Option<u64>, &'static str)>;

/// A write waiting for the next commit: it runs in its turn (given the
/// time), answering the item's new version, or failing alone.
type Write = Box<dyn for<'t> FnOnce(&mut ItemsTable<'t>, u64) -> Result<u64, StateError> + Send>;

/// Writes waiting for a commit, and whether a committer is taking them.
#[derive(Default)]
struct Queue {
    waiting: Vec<(Write, tokio::sync::oneshot::Sender<Result<u64, StateError>>)>,
    committing: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("waiting", &self.waiting.len()).field("committing", &self.committing).finish()
    }
}

/// The state store in `state.redb` of a folder.
#[derive(Debug, Clone)]
pub struct LocalState {
    db: Arc<Database>,
    path: PathBuf,
    queue: Arc<Mutex<Queue>>,
}

impl LocalState {
    /// Opens (or creates) `dir/state.redb`, creating `dir` if needed. This
    /// blocks: call it at start-up or on the blocking pool.
    pub fn open(dir: &Path) -> Result<Self, LocalOpenError> {
        std::fs::create_dir_all(dir).map_err(|e| LocalOpenError::Folder(dir.to_owned(), e))?;
        let path = dir.join(LOCAL_FILE);
        let engine = |e: redb::Error| LocalOpenError::Engine(path.clone(), e);
        let db = Database::create(&path).map_err(|error| match error {
            redb::DatabaseError::DatabaseAlreadyOpen => LocalOpenError::InUse(path.clone()),
            other => engine(other.into()),
        })?;
        let transaction = db.begin_write().map_err(|e| engine(e.into()))?;
        transaction.open_table(ITEMS).map_err(|e| engine(e.into()))?;
        transaction.commit().map_err(|e| engine(e.into()))?;
        Ok(Self { db: Arc::new(db), path, queue: Arc::default() })
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes every item expired by `now`, in one write transaction; answers how many.
    pub fn sweep(&self, now: u64) -> Result<u64, StateError> {
        let transaction = self.db.begin_write().map_err(engine)?;
        let removed = {
            let mut table = transaction.open_table(ITEMS).map_err(engine)?;
            let before = table.len().map_err(engine)?;
            table.retain(|_, (_, expires, _)| !expired(expires, now)).map_err(engine)?;
            before - table.len().map_err(engine)?
        };
        transaction.commit().map_err(engine)?;
        Ok(removed)
    }

    /// Sweeps expired items now and every `every`, on the blocking pool, for as long as the runtime runs.
    pub fn keep_swept(&self, every: std::time::Duration) {
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                let sweeper = state.clone();
                match tokio::task::spawn_blocking(move || sweeper.sweep(now_seconds())).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(removed)) => tracing::debug!(removed, "expired state items removed"),
                    Ok(Err(error)) => {
                        tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "cannot remove expired state items");
                    }
                    Err(error) => tracing::warn!(%error, "the state sweep stopped"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Runs `write` in the next commit, and answers once that commit is
    /// durable. The first write to find no committer becomes one, on the
    /// blocking pool, until no write waits.
    async fn write(&self, write: Write) -> Result<u64, StateError> {
        let (told, answer) = tokio::sync::oneshot::channel();
        let start = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.waiting.push((write, told));
            !std::mem::replace(&mut queue.committing, true)
        };
        if start {
            let (db, queue) = (self.db.clone(), self.queue.clone());
            tokio::task::spawn_blocking(move || commit_waiting(&db, &queue));
        }
        answer.await.map_err(|e| StateError::Unavailable(Box::new(e)))?
    }

    /// Runs `work` on the blocking pool: redb reads and commits block on the disk.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StateError> + Send + 'static,
    ) -> Result<T, StateError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db)).await.map_err(|e| StateError::Unavailable(Box::new(e)))?
    }
}

/// Commits the waiting writes, all that wait in one transaction, until
/// none wait. A committer that panicked (a bug) leaves the queue to the
/// next write, its own batch failing as unavailable.
fn commit_waiting(db: &Database, queue: &Mutex<Queue>) {
    struct Stopped<'q>(&'q Mutex<Queue>);
    impl Drop for Stopped<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.lock().unwrap_or_else(PoisonError::into_inner).committing = false;
            }
        }
    }
    let _stopped = Stopped(queue);
    loop {
        let batch = {
            let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            if queue.waiting.is_empty() {
                queue.committing = false;
                return;
            }
            std::mem::take(&mut queue.waiting)
        };
        let (writes, told): (Vec<Write>, Vec<_>) = batch.into_iter().unzip();
        match commit(db, writes) {
            Ok(results) => {
                for (told, result) in told.into_iter().zip(results) {
                    let _ = told.send(result);
                }
            }
            Err(error) => {
                let reason = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(": ");
                for told in told {
                    let _ = told.send(Err(StateError::Unavailable(reason.clone().into())));
                }
            }
        }
    }
}

/// Applies `writes` in order in one write transaction and commits it:
/// each write's own result, or the transaction's failure for all.
fn commit(db: &Database, writes: Vec<Write>) -> Result<Vec<Result<u64, StateError>>, StateError> {
    let transaction = db.begin_write().map_err(engine)?;
    let results = {
        let mut table = transaction.open_table(ITEMS).map_err(engine)?;
        let now = now_seconds();
        writes.into_iter().map(|write| write(&mut table, now)).collect()
    };
    transaction.commit().map_err(engine)?;
    Ok(results)
}

/// The engine failed (a disk error, mostly): callers answer 503.
fn engine(error: impl Into<redb::Error>) -> StateError {
    StateError::Unavailable(Box::new(error.into()))
}

/// The live item of a stored row, or `None` if it expired by `now`.
fn live(pk: &str, sk: &str, (version, expires, data): (u64, Option<u64>, &str), now: u64) -> Option<Item> {
    (!expired(expires, now)).then(|| Item { key: ItemKey::new(pk, sk), data: data.to_owned(), version, expires })
}

/// Whether `condition` holds for the live item's version (`None`: no live item).
fn check(condition: Condition, current: Option<u64>) -> Result<(), StateError> {
    match (condition, current) {
        (Condition::None, _) | (Condition::Absent, None) => Ok(()),
        (Condition::Version(wanted), Some(version)) if wanted == version => Ok(()),
        (Condition::Absent | Condition::Version(_), _) => Err(StateError::ConditionFailed),
    }
}

/// The version of the live item at `key` in `table`.
fn live_version(
    table: &impl ReadableTable<(&'static str, &'static str), (u64, Option<u64>, &'static str)>,
    key: &ItemKey,
    now: u64,
) -> Result<Option<u64>, StateError> {
    let current = table.get((key.pk.as_str(), key.sk.as_str())).map_err(engine)?;
    Ok(current.and_then(|row| {
        let (version, expires, _) = row.value();
        (!expired(expires, now)).then_some(version)
    }))
}

/// The smallest string greater than every string starting with `prefix`,
/// if there is one (there is none for `""`): the end of a prefix's range.
fn after_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            last => char::from_u32(u32::from(last) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// One end of a range read: an owned `(pk, sk)`.
type RowBound = Bound<(String, String)>;

/// The bounds of a range read of `pk`, as owned `(pk, sk)` pairs, or `None`
/// when the range is empty.
fn bounds(pk: &str, range: &Range) -> Option<(RowBound, RowBound)> {
    let mut lower = Bound::Included((pk.to_owned(), range.prefix.clone()));
    // The partition ends before `pk` followed by NUL, the next string after `pk`.
    let mut upper = Bound::Excluded(match after_prefix(&range.prefix) {
        Some(end) => (pk.to_owned(), end),
        None => (format!("{pk}\0"), String::new()),
    });
    if let Some(after) = &range.after {
        let after = (pk.to_owned(), after.clone());
        if range.descending {
            if matches!(&upper, Bound::Excluded(end) if after < *end) {
                upper = Bound::Excluded(after);
            }
        } else if matches!(&lower, Bound::Included(start) if after >= *start) {
            lower = Bound::Excluded(after);
        }
    }
    // redb, like a BTreeMap, refuses a range that ends before it starts.
    let (Bound::Included(start) | Bound::Excluded(start)) = &lower else { return None };
    let (Bound::Included(end) | Bound::Excluded(end)) = &upper else { return None };
    (start < end).then_some((lower, upper))
}

fn borrowed(bound: &RowBound) -> Bound<(&str, &str)> {
    match bound {
        Bound::Included((pk, sk)) => Bound::Included((pk.as_str(), sk.as_str())),
        Bound::Excluded((pk, sk)) => Bound::Excluded((pk.as_str(), sk.as_str())),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[async_trait]
impl StateStore for LocalState {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StateError> {
        check_size(key, "")?;
        let key = key.clone();
        self.blocking(move |db| {
            let transaction = db.begin_read().map_err(engine)?;
            let table = transaction.open_table(ITEMS).map_err(engine)?;
            let row = table.get((key.pk.as_str(), key.sk.as_str())).map_err(engine)?;
            Ok(row.and_then(|row| live(&key.pk, &key.sk, row.value(), now_seconds())))
        })
        .await
    }

    async fn get_many(&self, keys: &[ItemKey]) -> Result<Vec<Item>, StateError> {
        let keys = distinct_keys(keys)?;
        self.blocking(move |db| {
            let now = now_seconds();
            let transaction = db.begin_read().map_err(engine)?;
            let table = transaction.open_table(ITEMS).map_err(engine)?;
            let mut items = Vec::with_capacity(keys.len());
            for key in &keys {
                if let Some(row) = table.get((key.pk.as_str(), key.sk.as_str())).map_err(engine)? {
                    items.extend(live(&key.pk, &key.sk, row.value(), now));
                }
            }
            Ok(items)
        })
        .await
    }

    async fn put(&self, item: NewItem, condition: Condition) -> Result<u64, StateError> {
        check_size(&item.key, &item.data)?;
        self.write(Box::new(move |table, now| {
            let current = live_version(&*table, &item.key, now)?;
            check(condition, current)?;
            let version = current.map_or(1, |version| version.saturating_add(1));
            table
                .insert((item.key.pk.as_str(), item.key.sk.as_str()), (version, item.expires, item.data.as_str()))
                .map_err(engine)?;
            Ok(version)
        }))
        .await
    }

    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<(), StateError> {
        check_size(key, "")?;
        let key = key.clone();
        self.write(Box::new(move |table, now| {
            check(condition, live_version(&*table, &key, now)?)?;
            table.remove((key.pk.as_str(), key.sk.as_str())).map_err(engine)?;
            Ok(0)
        }))
        .await
        .map(|_| ())
    }

    async fn query(&self, pk: &str, range: &Range, limit: usize) -> Result<Vec<Item>, StateError> {
        if pk.is_empty() {
            return Err(StateError::EmptyKey);
        }
        let Some((lower, upper)) = bounds(pk, range).filter(|_| limit > 0) else {
            return Ok(Vec::new());
        };
        let (pk, prefix, descending) = (pk.to_owned(), range.prefix.clone(), range.descending);
        self.blocking(move |db| {
            let now = now_seconds();
            let transaction = db.begin_read().map_err(engine)?;
            let table = transaction.open_table(ITEMS).map_err(engine)?;
            let rows = table.range::<(&str, &str)>((borrowed(&lower), borrowed(&upper))).map_err(engine)?;
            let rows: Box<dyn Iterator<Item = _>> = if descending { Box::new(rows.rev()) } else { Box::new(rows) };
            let mut items = Vec::new();
            for row in rows {
                let (key, value) = row.map_err(engine)?;
                let (row_pk, sk) = key.value();
                if row_pk != pk || !sk.starts_with(&prefix) {
                    break;
                }
                items.extend(live(row_pk, sk, value.value(), now));
                if items.len() == limit {
                    break;
                }
            }
            Ok(items)
        })
        .await
    }

    async fn probe(&self) -> Result<(), StateError> {
        self.blocking(|db| {
            let transaction = db.begin_read().map_err(engine)?;
            transaction.open_table(ITEMS).map_err(engine)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_sweep_removes_expired_items_only() {
        let dir = std::env::temp_dir().join(format!("pgw-state-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let state = LocalState::open(&dir).unwrap();
        let item = |sk: &str, expires| NewItem { key: ItemKey::new("p", sk), data: "{}".into(), expires };
        state.put(item("gone", Some(10)), Condition::None).await.unwrap();
        state.put(item("later", Some(now_seconds() + 600)), Condition::None).await.unwrap();
        state.put(item("kept", None), Condition::None).await.unwrap();
        assert_eq!(state.sweep(now_seconds()).unwrap(), 1);
        assert_eq!(state.sweep(now_seconds()).unwrap(), 0);
        let left = state.query("p", &Range::default(), 10).await.unwrap();
        assert_eq!(left.iter().map(|item| item.key.sk.as_str()).collect::<Vec<_>>(), ["kept", "later"]);
    }

    use super::*;

    /// Writes that arrive together are committed together, each in its
    /// turn: of fifty creations of one item one wins, and fifty of
    /// different items all land, each answered after its commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writes_committed_together_keep_their_own_outcomes() {
        let dir = std::env::temp_dir().join(format!("pgw-state-group-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let state = LocalState::open(&dir).unwrap();
        let item = |sk: String| NewItem { key: ItemKey::new("p", &sk), data: "{}".into(), expires: None };
        let tasks: Vec<_> = (0..50)
            .map(|n| {
                let state = state.clone();
                tokio::spawn(async move {
                    let same = state.put(item("same".into()), Condition::Absent).await;
                    let own = state.put(item(format!("own{n:02}")), Condition::Absent).await;
                    (same, own)
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            let (same, own) = task.await.unwrap();
            match same {
                Ok(1) => created += 1,
                Err(StateError::ConditionFailed) => {}
                other => panic!("a creation answered {other:?}"),
            }
            assert_eq!(own.unwrap(), 1);
        }
        assert_eq!(created, 1, "one creation of the same item wins");
        assert_eq!(state.query("p", &Range::default(), 100).await.unwrap().len(), 51);
        let gone = state.delete(&ItemKey::new("p", "same"), Condition::Version(1)).await;
        assert!(gone.is_ok() && state.get(&ItemKey::new("p", "same")).await.unwrap().is_none());
    }

    #[test]
    fn a_prefix_ends_before_the_next_string() {
        assert_eq!(after_prefix(""), None);
        assert_eq!(after_prefix("a"), Some("b".to_owned()));
        assert_eq!(after_prefix("a/"), Some("a0".to_owned()));
        assert_eq!(after_prefix("a\u{10FFFF}"), Some("b".to_owned()));
        assert_eq!(after_prefix("\u{D7FF}"), Some("\u{E000}".to_owned()));
        assert_eq!(after_prefix("\u{10FFFF}"), None);
    }

    #[test]
    fn an_after_outside_the_prefix_narrows_or_empties_the_range() {
        let range = |after: &str, descending| Range { prefix: "m".into(), after: Some(after.into()), descending };
        assert!(bounds("p", &range("z", false)).is_none());
        assert!(bounds("p", &range("a", true)).is_none());
        let (lower, _) = bounds("p", &range("a", false)).expect("the whole prefix");
        assert_eq!(lower, Bound::Included(("p".into(), "m".into())));
        let (_, upper) = bounds("p", &range("z", true)).expect("the whole prefix");
        assert_eq!(upper, Bound::Excluded(("p".into(), "n".into())));
    }
}
