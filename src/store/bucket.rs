//! One bucket on disk: its index and its blobs, and the steps every write
//! takes. A write receives its body into a temporary file, checks every
//! digest the request named, syncs and installs the file, and only then
//! commits the index (with its condition checked inside that commit). Any
//! failure before the commit removes the file and leaves the bucket as it was.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use http::HeaderMap;
use s3s::StdError;
use uuid::Uuid;

use super::blobs::{Blobs, Lease, Received};
use super::checksum::{Algorithm, BodyDigest, Digests, Kind};
use super::disk::Disk;
use super::error::StoreError;
use super::index::{Index, Precondition, TenantFolder};
use super::records::{Attributes, BlobRef, ObjectRecord, StoredChecksum, now_ns};

/// S3's longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// A bucket of the embedded store.
#[derive(Debug)]
pub struct Bucket {
    name: String,
    index: Index,
    blobs: Blobs,
}

/// The digests a request names for its body: `Content-MD5`, and
/// `x-amz-checksum-*` in headers or trailers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// `Content-MD5`, decoded.
    pub md5: Option<[u8; 16]>,
    /// `x-amz-checksum-<algorithm>`, base64 as sent.
    pub checksums: Vec<(Algorithm, String)>,
    /// `x-amz-sdk-checksum-algorithm`: a checksum to come in a trailer.
    pub algorithm: Option<Algorithm>,
}

impl Claims {
    /// What the body must be digested with.
    pub fn digest(&self, also: Option<Algorithm>) -> BodyDigest {
        BodyDigest::new(self.checksums.iter().map(|(a, _)| *a).chain(self.algorithm).chain(also))
    }

    /// Adds the checksums an `aws-chunked` body sent as trailers.
    pub fn add_trailers(&mut self, trailers: &HeaderMap) {
        for algorithm in Algorithm::ALL {
            let name = format!("x-amz-checksum-{}", algorithm.name().to_ascii_lowercase());
            if let Some(value) = trailers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
                self.checksums.push((algorithm, value.trim().to_owned()));
            }
        }
    }

    /// Refuses a body that does not match every digest named.
    pub fn verify(&self, digests: &Digests) -> Result<(), StoreError> {
        if self.md5.is_some_and(|md5| md5 != digests.md5) {
            return Err(StoreError::BadDigest("Content-MD5"));
        }
        for (algorithm, claimed) in &self.checksums {
            if digests.value(*algorithm).as_deref() != Some(claimed.as_str()) {
                return Err(StoreError::BadDigest(algorithm.header()));
            }
        }
        Ok(())
    }

    /// The algorithm an object records: the one the request named, else CRC64NVME.
    pub fn recorded(&self) -> Algorithm {
        self.checksums.first().map(|(a, _)| *a).or(self.algorithm).unwrap_or(Algorithm::Crc64Nvme)
    }
}

/// Refuses keys S3 would refuse.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreError::KeyTooLong);
    }
    if key.is_empty() {
        return Err(StoreError::InvalidRequest("An object key must not be empty.".into()));
    }
    Ok(())
}

impl Bucket {
    /// Opens the bucket kept in `root` (`index.redb`, `data/`, `tmp/`).
    pub fn open(name: &str, root: &Path, disk: Arc<dyn Disk>) -> Result<Self, StoreError> {
        std::fs::create_dir_all(root).map_err(|e| StoreError::io("cannot create the bucket's folder", e))?;
        let blobs = Blobs::open(root, disk.clone()).map_err(|e| StoreError::io("cannot create the blob folders", e))?;
        let index = Index::open(&root.join("index.redb"), disk)?;
        Ok(Self { name: name.to_owned(), index, blobs })
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Turns upload events on: each change spools its event, at most `limit`
    /// wait, and a full spool drops from the tenant (under `tenants`) holding the most.
    pub fn spool_events(&mut self, limit: u64, tenants: TenantFolder, quiet: Option<String>) {
        self.index.spool_events(limit, tenants, quiet);
    }

    /// Its index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Its blobs.
    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// Refuses any other bucket.
    pub fn check(&self, bucket: &str) -> Result<(), StoreError> {
        if bucket == self.name { Ok(()) } else { Err(StoreError::NoSuchBucket) }
    }

    /// Runs `work` on the blocking pool (the index and the disk block).
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Self) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let bucket = self.clone();
        tokio::task::spawn_blocking(move || work(&bucket))
            .await
            .unwrap_or_else(|e| Err(StoreError::Io("a store task stopped", std::io::Error::other(e))))
    }

    /// The object under `key` and a lease on its blobs, consistent: the
    /// lease is taken before the record is read again, so the version read
    /// cannot be deleted while it is streamed.
    pub async fn read(self: &Arc<Self>, key: String) -> Result<(ObjectRecord, Lease), StoreError> {
        loop {
            let key = key.clone();
            let found = self
                .blocking(move |bucket| {
                    let record = bucket.index.object(&key)?.ok_or(StoreError::NoSuchKey)?;
                    let lease = bucket.blobs.lease(record.version);
                    let still = bucket.index.object(&key)?;
                    Ok(still.is_some_and(|s| s.version == record.version).then_some((record, lease)))
                })
                .await?;
            if let Some(found) = found {
                return Ok(found);
            }
        }
    }

    /// Receives a body of `length` bytes into a temporary file.
    pub async fn receive<S>(&self, body: S, length: u64, digest: BodyDigest) -> Result<Received, StoreError>
    where
        S: Stream<Item = Result<Bytes, StdError>> + Unpin,
    {
        self.blobs.receive(body, length, digest).await
    }

    /// Makes a received body the object under `key`, if it matches `claims`
    /// and `condition` holds when the index commits. On any failure the
    /// body is discarded and the bucket is as it was.
    pub fn store(
        &self,
        key: &str,
        received: &Received,
        claims: &Claims,
        condition: &Precondition,
        attributes: Attributes,
    ) -> Result<ObjectRecord, StoreError> {
        let result = claims.verify(&received.digests).and_then(|()| {
            let algorithm = claims.recorded();
            let record = ObjectRecord {
                version: Uuid::new_v4(),
                size: received.digests.size,
                etag: received.digests.etag(),
                modified_ns: now_ns(),
                attributes,
                checksum: StoredChecksum {
                    algorithm,
                    kind: Kind::FullObject,
                    value: received.digests.value(algorithm).unwrap_or_default(),
                },
                parts: None,
                blobs: vec![BlobRef { id: received.id, size: received.digests.size }],
            };
            self.blobs.install(received.id)?;
            let replaced = self.index.put(key, &record, condition)?;
            Ok((record, replaced))
        });
        match result {
            Ok((record, replaced)) => {
                if let Some(old) = replaced {
                    self.retire(&old);
                }
                Ok(record)
            }
            Err(error) => {
                self.blobs.discard(received.id);
                Err(error)
            }
        }
    }

    /// Removes the object under `key`, if `condition` holds.
    pub fn delete(&self, key: &str, condition: &Precondition) -> Result<(), StoreError> {
        if let Some(old) = self.index.delete(key, condition)? {
            self.retire(&old);
        }
        Ok(())
    }

    /// `record` is no longer current: its blobs go once no reader needs them.
    pub fn retire(&self, record: &ObjectRecord) {
        self.blobs.retire(record.version, record.blobs.iter().map(|b| b.id).collect());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::store::disk::testing::{RecordingDisk, Step};

    fn bucket(name: &str, disk: &Arc<RecordingDisk>) -> (Arc<Bucket>, std::path::PathBuf) {
        let root = std::env::temp_dir().join(format!("pgw-bucket-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let bucket = Bucket::open("b", &root, disk.clone()).unwrap();
        disk.take();
        (Arc::new(bucket), root)
    }

    fn body(bytes: &'static [u8]) -> impl Stream<Item = Result<Bytes, StdError>> + Unpin {
        futures_util::stream::iter(bytes.chunks(3).map(|c| Ok(Bytes::from_static(c))).collect::<Vec<_>>())
    }

    async fn put(bucket: &Bucket, bytes: &'static [u8], claims: &Claims) -> Result<ObjectRecord, StoreError> {
        let received = bucket.receive(body(bytes), bytes.len() as u64, claims.digest(None)).await?;
        bucket.store("k", &received, claims, &Precondition::None, Attributes::default())
    }

    fn files(dir: &Path) -> usize {
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            count += if entry.path().is_dir() { files(&entry.path()) } else { 1 };
        }
        count
    }

    #[tokio::test]
    async fn a_write_is_synced_and_installed_before_the_index_commits() {
        let disk = Arc::new(RecordingDisk::new(u64::MAX));
        let (bucket, root) = bucket("order", &disk);
        put(&bucket, b"hello, durable world", &Claims::default()).await.unwrap();
        let installed = [Step::SyncFile, Step::Rename("data".into()), Step::SyncDir("data".into()), Step::Commit];
        // The first blob into a `data/XX` folder makes the folder, and syncs `data/` before the blob goes in.
        let into_a_new_folder = [
            Step::SyncFile,
            Step::SyncDir("data".into()),
            Step::Rename("data".into()),
            Step::SyncDir("data".into()),
            Step::Commit,
        ];
        assert_eq!(disk.take(), into_a_new_folder);

        // A part takes the same steps; completing it moves no bytes: one commit.
        let id = bucket.create_upload("m", Attributes::default(), None, None).unwrap();
        assert_eq!(disk.take(), [Step::Commit]);
        let upload = bucket.index().upload(&id, "m").unwrap();
        let received =
            bucket.receive(body(b"part"), 4, Claims::default().digest(Some(upload.algorithm))).await.unwrap();
        let part = bucket.store_part(&upload, &id, 1, &received, &Claims::default()).unwrap();
        let steps = disk.take();
        assert!(steps == installed || steps == into_a_new_folder, "{steps:?}");
        let listed = [crate::store::multipart::Listed { number: 1, etag: part.md5, checksum: None }];
        bucket.complete(&id, "m", &listed, &crate::store::multipart::Expected::default()).unwrap();
        assert_eq!(disk.take(), [Step::Commit]);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn a_full_disk_or_a_bad_digest_leaves_the_object_as_it_was() {
        let disk = Arc::new(RecordingDisk::new(u64::MAX));
        let (bucket, root) = bucket("full", &disk);
        let first = put(&bucket, b"the first version", &Claims::default()).await.unwrap();

        disk.space.store(10, Ordering::SeqCst);
        let error = put(&bucket, b"a second version, too long for the disk", &Claims::default()).await.unwrap_err();
        assert!(matches!(error, StoreError::DiskFull(_)), "{error:?}");
        let s3 = s3s::S3Error::from(error);
        assert_eq!(s3.status_code(), Some(http::StatusCode::INSUFFICIENT_STORAGE));
        assert!(s3.message().unwrap_or_default().contains("disk is full"));

        disk.space.store(u64::MAX, Ordering::SeqCst);
        let wrong = Claims { md5: Some([0; 16]), ..Claims::default() };
        assert!(matches!(put(&bucket, b"a third", &wrong).await, Err(StoreError::BadDigest("Content-MD5"))));
        let crc = Claims { checksums: vec![(Algorithm::Crc64Nvme, "AAAAAAAAAAA=".into())], ..Claims::default() };
        assert!(matches!(put(&bucket, b"a fourth", &crc).await, Err(StoreError::BadDigest(_))));

        assert_eq!(bucket.index().object("k").unwrap(), Some(first));
        assert_eq!(files(&root.join("tmp")), 0, "a half-written file was left");
        assert_eq!(files(&root.join("data")), 1, "only the first version's bytes remain");
        std::fs::remove_dir_all(root).unwrap();
    }
}
