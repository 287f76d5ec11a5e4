//! Housekeeping, like S3's lifecycle rule for incomplete multipart uploads:
//! uploads started longer ago than the configured age are aborted, and the
//! files a crash left behind are removed. At start-up nothing is in flight,
//! so every temporary file goes, and so does every blob no index record
//! names (a crash between installing a blob and committing the index).
//! While serving, it runs periodically and removes only temporary files
//! nobody has written to for an hour.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use uuid::Uuid;

use super::bucket::Bucket;
use super::error::StoreError;
use super::records::now_ns;

/// A temporary file unwritten for this long belongs to no live upload.
const IDLE_TMP: Duration = Duration::from_secs(60 * 60);

/// What one round removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Incomplete uploads aborted.
    pub uploads: usize,
    /// Temporary files removed.
    pub tmp_files: usize,
    /// Blobs no record names, removed.
    pub orphans: usize,
}

/// The round run before the store serves.
pub fn at_start(bucket: &Bucket, abort_after: Duration) -> Result<Swept, StoreError> {
    let tmp_files = remove_tmp(&bucket.blobs().tmp_dir(), None);
    let in_use = bucket.index().blobs_in_use()?;
    let orphans = remove_orphans(&bucket.blobs().data_dir(), &in_use);
    let uploads = abort_stale(bucket, abort_after)?;
    Ok(Swept { uploads, tmp_files, orphans })
}

/// One periodic round.
pub fn periodic(bucket: &Bucket, abort_after: Duration) -> Result<Swept, StoreError> {
    let tmp_files = remove_tmp(&bucket.blobs().tmp_dir(), Some(IDLE_TMP));
    let uploads = abort_stale(bucket, abort_after)?;
    Ok(Swept { uploads, tmp_files, orphans: 0 })
}

/// How often the periodic round runs: half the age, between a second and an hour.
pub fn interval(abort_after: Duration) -> Duration {
    (abort_after / 2).clamp(Duration::from_secs(1), Duration::from_secs(60 * 60))
}

/// Runs [`periodic`] every [`interval`] until the task is dropped.
pub async fn run(bucket: Arc<Bucket>, abort_after: Duration) {
    let mut ticks = tokio::time::interval(interval(abort_after));
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let result = bucket.blocking(move |b| periodic(b, abort_after)).await;
        report(bucket.name(), &result);
    }
}

/// Logs what a round did, or why it failed.
pub fn report(bucket: &str, result: &Result<Swept, StoreError>) {
    match result {
        Ok(swept) if *swept == Swept::default() => {}
        Ok(swept) => tracing::info!(
            bucket,
            aborted_uploads = swept.uploads,
            tmp_files = swept.tmp_files,
            orphan_blobs = swept.orphans,
            "housekeeping removed leftovers"
        ),
        Err(error) => tracing::warn!(bucket, error = %crate::telemetry::ErrorChain(error), "housekeeping failed"),
    }
}

fn abort_stale(bucket: &Bucket, abort_after: Duration) -> Result<usize, StoreError> {
    let age = u64::try_from(abort_after.as_nanos()).unwrap_or(u64::MAX);
    let stale = bucket.index().uploads_before(now_ns().saturating_sub(age))?;
    let mut aborted = 0;
    for id in stale {
        match bucket.abort(&id, None) {
            Ok(()) => aborted += 1,
            Err(StoreError::NoSuchUpload) => {} // Completed or aborted meanwhile.
            Err(error) => return Err(error),
        }
    }
    Ok(aborted)
}

/// Removes the temporary files, or only those idle for longer than `idle`.
fn remove_tmp(dir: &Path, idle: Option<Duration>) -> usize {
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let stale = idle.is_none_or(|idle| {
            let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(now);
            now.duration_since(modified).is_ok_and(|age| age > idle)
        });
        if stale && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn remove_orphans(data: &Path, in_use: &HashSet<Uuid>) -> usize {
    let mut removed = 0;
    for folder in fs::read_dir(data).into_iter().flatten().flatten() {
        for entry in fs::read_dir(folder.path()).into_iter().flatten().flatten() {
            let named = entry.file_name().to_str().and_then(|name| Uuid::parse_str(name).ok());
            if named.is_none_or(|id| !in_use.contains(&id)) && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}
