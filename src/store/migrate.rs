//! Moving a data folder written by earlier versions (s3s-fs's layout: each
//! object a plain file at `DATA_DIR/BUCKET/KEY`, its attributes in
//! `DATA_DIR/.bucket-….object-….metadata.json` and its ETag in
//! `….internal.json`) into the store, on the first start that finds one.
//! Each file is hard-linked into `data/` (no copy on the same file system),
//! its record committed, and only then the old file removed: a crash at any
//! point leaves every object in one layout or the other, and the next start
//! carries on. Multipart uploads in progress in the old layout are dropped.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use uuid::Uuid;

use super::bucket::Bucket;
use super::checksum::{Algorithm, BodyDigest, Kind};
use super::error::StoreError;
use super::index::Precondition;
use super::records::{Attributes, BlobRef, ObjectRecord, StoredChecksum};

/// What a migration moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// Objects moved.
    pub objects: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// Moves the objects of `bucket` found in the old layout under `data_dir`.
pub fn from_old_layout(data_dir: &Path, bucket: &Bucket) -> Result<Migrated, StoreError> {
    let old = data_dir.join(bucket.name());
    let mut migrated = Migrated::default();
    if !old.is_dir() {
        return Ok(migrated);
    }
    let mut files = Vec::new();
    walk(&old, &mut files).map_err(|e| StoreError::io("cannot read the old data folder", e))?;
    for path in files {
        let Some(key) = path.strip_prefix(&old).ok().and_then(Path::to_str).map(|k| k.replace('\\', "/")) else {
            tracing::warn!(path = %path.display(), "left in place: the file name is not UTF-8");
            continue;
        };
        let bytes = migrate_one(data_dir, bucket, &path, &key)?;
        migrated.objects += 1;
        migrated.bytes += bytes;
    }
    remove_empty_dirs(&old);
    for entry in fs::read_dir(data_dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".upload_id-") || name.starts_with(".upload-") || name.starts_with(".tmp.") {
            let _ = fs::remove_file(entry.path());
        }
    }
    let _ = fs::remove_dir_all(data_dir.join(".uploads"));
    Ok(migrated)
}

fn migrate_one(data_dir: &Path, bucket: &Bucket, path: &Path, key: &str) -> Result<u64, StoreError> {
    let io = |e| StoreError::io("cannot migrate an object", e);
    let (bucket64, key64) = (URL_SAFE_NO_PAD.encode(bucket.name()), URL_SAFE_NO_PAD.encode(key));
    let attributes_path = data_dir.join(format!(".bucket-{bucket64}.object-{key64}.metadata.json"));
    let info_path = data_dir.join(format!(".bucket-{bucket64}.object-{key64}.internal.json"));
    if bucket.index().object(key)?.is_none() {
        let attributes = read_json(&attributes_path).map(|a| attributes(&a)).unwrap_or_default();
        let stored_etag = read_json(&info_path).and_then(|i| i.get("e_tag").and_then(Value::as_str).map(str::to_owned));
        let mut digest = BodyDigest::new([]);
        let mut file = File::open(path).map_err(io)?;
        let mut buffer = vec![0; 1 << 20];
        loop {
            let n = file.read(&mut buffer).map_err(io)?;
            if n == 0 {
                break;
            }
            digest.update(&buffer[..n]);
        }
        let digests = digest.finish();
        let id = Uuid::new_v4();
        let blob = bucket.blobs().data_path(id);
        bucket.blobs().prepare_folder(id).map_err(io)?;
        fs::hard_link(path, &blob).or_else(|_| fs::copy(path, &blob).map(drop)).map_err(io)?;
        // The blob and its entry in its folder are durable before the index
        // names it, and so before the old file goes.
        File::open(&blob).and_then(|f| f.sync_all()).map_err(io)?;
        bucket.blobs().sync_folder(id).map_err(io)?;
        let record = ObjectRecord {
            version: Uuid::new_v4(),
            size: digests.size,
            etag: stored_etag.unwrap_or_else(|| digests.etag()),
            modified_ns: modified_ns(path),
            attributes,
            checksum: StoredChecksum {
                algorithm: Algorithm::Crc64Nvme,
                kind: Kind::FullObject,
                value: digests.value(Algorithm::Crc64Nvme).unwrap_or_default(),
            },
            parts: None,
            blobs: vec![BlobRef { id, size: digests.size }],
        };
        if let Err(error) = bucket.index().put(key, &record, &Precondition::Absent) {
            let _ = fs::remove_file(&blob);
            return Err(error);
        }
    }
    let size = fs::metadata(path).map_or(0, |m| m.len());
    fs::remove_file(path).map_err(io)?;
    let _ = fs::remove_file(attributes_path);
    let _ = fs::remove_file(info_path);
    Ok(size)
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

fn attributes(value: &Value) -> Attributes {
    let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let metadata = value
        .get("user_metadata")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    Attributes {
        content_type: text("content_type"),
        content_encoding: text("content_encoding"),
        content_disposition: text("content_disposition"),
        content_language: text("content_language"),
        cache_control: text("cache_control"),
        metadata,
    }
}

fn modified_ns(path: &Path) -> u64 {
    let modified = fs::metadata(path).and_then(|m| m.modified()).ok();
    let since = modified.and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
    u64::try_from(since.as_nanos()).unwrap_or(0)
}

/// Every regular file under `dir`.
fn walk(dir: &Path, into: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), into)?;
        } else if kind.is_file() {
            into.push(entry.path());
        }
    }
    Ok(())
}

/// Removes the folders the old files left, deepest first.
fn remove_empty_dirs(dir: &Path) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_empty_dirs(&entry.path());
        }
    }
    let _ = fs::remove_dir(dir);
}
