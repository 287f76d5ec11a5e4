//! Blobs: the immutable files that hold objects' bytes, `data/XX/<uuid>`
//! (up to 256 folders, so none grows huge, each made when its first blob
//! comes: making all 256 at start cost a new store 20 to 40 ms of `mkdir`s
//! here, BENCHMARKS.md). An upload streams into `tmp/<uuid>`
//! while it is hashed; only a verified, synced file is renamed into `data/`.
//! A blob is never changed after that, only deleted once no index record and
//! no reader needs it: readers hold a [`Lease`] on the object version they
//! stream, and a replaced version's blobs go when its last reader is done.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use s3s::StdError;
use s3s::stream::{ByteStream, RemainingLength};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::checksum::{BodyDigest, Digests};
use super::disk::Disk;
use super::error::StoreError;
use super::records::BlobRef;

/// Bytes per chunk read from a blob for a download.
const READ_CHUNK: usize = 512 << 10;

/// The blob files of one bucket.
#[derive(Debug)]
pub struct Blobs {
    root: PathBuf,
    disk: Arc<dyn Disk>,
    leases: Arc<Leases>,
    /// The `data/XX` folders known to exist durably (their entry in `data/` synced).
    folders: Mutex<HashSet<String>>,
}

/// A verified upload, still in `tmp/`.
#[derive(Debug)]
pub struct Received {
    /// The blob's name.
    pub id: Uuid,
    /// What was computed over it.
    pub digests: Digests,
}

impl Blobs {
    /// The blobs under `root` (`data/` and `tmp/`), created if needed.
    pub fn open(root: &Path, disk: Arc<dyn Disk>) -> io::Result<Self> {
        let data = root.join("data");
        fs::create_dir_all(&data)?;
        fs::create_dir_all(root.join("tmp"))?;
        disk.sync_dir(root)?;
        // The folders there now are made durable once, so the first blob
        // into each of them need not sync `data/` again.
        let folders: HashSet<String> =
            fs::read_dir(&data)?.flatten().filter_map(|entry| entry.file_name().into_string().ok()).collect();
        if !folders.is_empty() {
            disk.sync_dir(&data)?;
        }
        let leases = Arc::new(Leases { state: Mutex::default(), root: root.to_owned() });
        Ok(Self { root: root.to_owned(), disk, leases, folders: Mutex::new(folders) })
    }

    /// Makes blob `id`'s folder, durably, if it was not there: a blob's
    /// entry is only as durable as its folder's entry in `data/`.
    pub fn prepare_folder(&self, id: Uuid) -> io::Result<()> {
        let name = fanout(id);
        if self.folders.lock().unwrap_or_else(PoisonError::into_inner).contains(&name) {
            return Ok(());
        }
        match fs::create_dir(self.data_dir().join(&name)) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
        // Made by this call or by another one still on its way: synced before
        // any blob goes in, whichever made it.
        self.disk.sync_dir(&self.data_dir())?;
        self.folders.lock().unwrap_or_else(PoisonError::into_inner).insert(name);
        Ok(())
    }

    /// Where a blob lives once installed.
    pub fn data_path(&self, id: Uuid) -> PathBuf {
        data_path(&self.root, id)
    }

    /// Where an upload is written before it is verified.
    pub fn tmp_path(&self, id: Uuid) -> PathBuf {
        self.root.join("tmp").join(id.to_string())
    }

    /// The folder of temporary files.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The folder of installed blobs.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Streams `body` into a new temporary file, digesting it with
    /// `digest`, then syncs it. Exactly `length` bytes must arrive. On any
    /// failure the file is removed.
    pub async fn receive<S>(&self, mut body: S, length: u64, digest: BodyDigest) -> Result<Received, StoreError>
    where
        S: Stream<Item = Result<Bytes, StdError>> + Unpin,
    {
        let id = Uuid::new_v4();
        let path = self.tmp_path(id);
        let file = File::create_new(&path).map_err(|e| StoreError::io("cannot create a temporary file", e))?;
        // Removes the file if this future is dropped half-way (the client went away).
        let mut guard = Discard(Some(path.clone()));
        let (chunks, mut arriving) = mpsc::channel::<Bytes>(8);
        let disk = self.disk.clone();
        // One blocking task hashes and writes, so the network keeps reading meanwhile.
        let writer = tokio::task::spawn_blocking(move || -> io::Result<(File, BodyDigest)> {
            let (mut file, mut digest) = (file, digest);
            while let Some(chunk) = arriving.blocking_recv() {
                digest.update(&chunk);
                disk.write(&mut file, &chunk)?;
            }
            Ok((file, digest))
        });
        let mut received = 0u64;
        let mut cut_off = false;
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else {
                cut_off = true;
                break;
            };
            received += chunk.len() as u64;
            if received > length || chunks.send(chunk).await.is_err() {
                // Too long, or the writer failed (it says why below).
                cut_off = received > length;
                break;
            }
        }
        drop(chunks);
        let written = writer.await.unwrap_or_else(|e| Err(io::Error::other(e)));
        let result = match written {
            Err(error) => Err(StoreError::io("cannot write an upload", error)),
            Ok(_) if cut_off || received != length => Err(StoreError::IncompleteBody),
            Ok((file, digest)) => {
                let disk = self.disk.clone();
                let synced = tokio::task::spawn_blocking(move || disk.sync_file(&file)).await;
                match synced.unwrap_or_else(|e| Err(io::Error::other(e))) {
                    Ok(()) => Ok(Received { id, digests: digest.finish() }),
                    Err(error) => Err(StoreError::io("cannot sync an upload", error)),
                }
            }
        };
        if result.is_ok() {
            guard.0 = None;
        }
        result
    }

    /// Makes the entries of blob `id`'s folder durable.
    pub fn sync_folder(&self, id: Uuid) -> io::Result<()> {
        self.disk.sync_dir(&self.data_dir().join(fanout(id)))
    }

    /// Moves a verified upload into `data/` and makes the move durable.
    pub fn install(&self, id: Uuid) -> Result<(), StoreError> {
        let to = self.data_path(id);
        let result = self
            .prepare_folder(id)
            .and_then(|()| self.disk.rename(&self.tmp_path(id), &to))
            .and_then(|()| self.sync_folder(id));
        result.map_err(|e| StoreError::io("cannot install an upload", e))
    }

    /// Removes a blob wherever it is (a refused upload, a replaced part).
    pub fn discard(&self, id: Uuid) {
        let _ = fs::remove_file(self.tmp_path(id));
        let _ = fs::remove_file(self.data_path(id));
    }

    /// Holds `version`'s blobs until the lease is dropped.
    pub fn lease(&self, version: Uuid) -> Lease {
        self.leases.acquire(version)
    }

    /// `version` is no longer current: its blobs go now, or when its last reader is done.
    pub fn retire(&self, version: Uuid, blobs: Vec<Uuid>) {
        self.leases.retire(version, blobs);
    }

    /// The bytes `start..end` of `blobs` laid end to end, read on a blocking
    /// task while the lease keeps them.
    pub fn stream(&self, blobs: Vec<BlobRef>, start: u64, end: u64, lease: Lease) -> BlobStream {
        let (sender, receiver) = mpsc::channel(4);
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let _lease = lease;
            if let Err(error) = read_range(&root, &blobs, start, end, &sender) {
                let _ = sender.blocking_send(Err(error));
            }
        });
        BlobStream { receiver, remaining: end.saturating_sub(start) }
    }
}

/// A temporary file that goes unless it is kept.
struct Discard(Option<PathBuf>);

impl Drop for Discard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

fn data_path(root: &Path, id: Uuid) -> PathBuf {
    root.join("data").join(fanout(id)).join(id.to_string())
}

/// The `data/` folder of blob `id`: the first two hex digits of its name.
fn fanout(id: Uuid) -> String {
    id.simple().to_string()[..2].to_owned()
}

fn read_range(
    root: &Path,
    blobs: &[BlobRef],
    start: u64,
    end: u64,
    sender: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let mut offset = 0u64;
    for blob in blobs {
        let (from, to) = (start.max(offset), end.min(offset + blob.size));
        offset += blob.size;
        if from >= to {
            continue;
        }
        let mut file = File::open(data_path(root, blob.id))?;
        file.seek(SeekFrom::Start(from - (offset - blob.size)))?;
        let mut left = to - from;
        while left > 0 {
            let mut buffer = vec![0; READ_CHUNK.min(usize::try_from(left).unwrap_or(READ_CHUNK))];
            file.read_exact(&mut buffer)?;
            left -= buffer.len() as u64;
            if sender.blocking_send(Ok(Bytes::from(buffer))).is_err() {
                return Ok(()); // The client went away.
            }
        }
    }
    Ok(())
}

/// A download's body: chunks from the reading task, of a known length.
#[derive(Debug)]
pub struct BlobStream {
    receiver: mpsc::Receiver<io::Result<Bytes>>,
    remaining: u64,
}

impl Stream for BlobStream {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx).map(|item| {
            item.map(|chunk| match chunk {
                Ok(bytes) => {
                    self.remaining = self.remaining.saturating_sub(bytes.len() as u64);
                    Ok(bytes)
                }
                Err(error) => Err(Box::new(error) as StdError),
            })
        })
    }
}

impl ByteStream for BlobStream {
    fn remaining_length(&self) -> RemainingLength {
        RemainingLength::new_exact(usize::try_from(self.remaining).unwrap_or(usize::MAX))
    }
}

/// Readers per object version, and the blobs of retired versions that wait
/// for their last reader.
#[derive(Debug)]
struct Leases {
    state: Mutex<LeaseState>,
    root: PathBuf,
}

#[derive(Debug, Default)]
struct LeaseState {
    readers: HashMap<Uuid, usize>,
    retired: HashMap<Uuid, Vec<Uuid>>,
}

impl Leases {
    fn acquire(self: &Arc<Self>, version: Uuid) -> Lease {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state.readers.entry(version).or_default() += 1;
        Lease { leases: self.clone(), version }
    }

    fn retire(&self, version: Uuid, blobs: Vec<Uuid>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.readers.contains_key(&version) {
            state.retired.insert(version, blobs);
        } else {
            drop(state);
            self.delete(&blobs);
        }
    }

    fn release(&self, version: Uuid) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(count) = state.readers.get_mut(&version) else { return };
        *count -= 1;
        if *count > 0 {
            return;
        }
        state.readers.remove(&version);
        let doomed = state.retired.remove(&version);
        drop(state);
        if let Some(blobs) = doomed {
            self.delete(&blobs);
        }
    }

    fn delete(&self, blobs: &[Uuid]) {
        for blob in blobs {
            let _ = fs::remove_file(data_path(&self.root, *blob));
        }
    }
}

/// Keeps an object version's blobs on disk while it is read.
#[derive(Debug)]
pub struct Lease {
    leases: Arc<Leases>,
    version: Uuid,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.leases.release(self.version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::disk::RealDisk;

    fn blobs(name: &str) -> (Blobs, PathBuf) {
        let root = std::env::temp_dir().join(format!("pgw-blobs-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        (Blobs::open(&root, Arc::new(RealDisk)).unwrap(), root)
    }

    #[test]
    fn a_retired_version_stays_while_it_is_read() {
        let (blobs, root) = blobs("lease");
        let (version, blob) = (Uuid::new_v4(), Uuid::new_v4());
        blobs.prepare_folder(blob).unwrap();
        fs::write(blobs.data_path(blob), b"x").unwrap();
        let lease = blobs.lease(version);
        let second = blobs.lease(version);
        blobs.retire(version, vec![blob]);
        assert!(blobs.data_path(blob).exists());
        drop(lease);
        assert!(blobs.data_path(blob).exists());
        drop(second);
        assert!(!blobs.data_path(blob).exists());
        // A version nobody reads goes at once.
        let other = Uuid::new_v4();
        blobs.prepare_folder(other).unwrap();
        fs::write(blobs.data_path(other), b"y").unwrap();
        blobs.retire(Uuid::new_v4(), vec![other]);
        assert!(!blobs.data_path(other).exists());
        fs::remove_dir_all(root).unwrap();
    }
}
