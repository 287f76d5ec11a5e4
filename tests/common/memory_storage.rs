//! A [`Storage`] double that keeps uploads in memory and answers as S3 does
//! (404 `NoSuchUpload`, 412 on `If-None-Match: *`), so the router's
//! multipart steps are tested with `oneshot`, no store and no socket.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use presign_gateway::core::completion::{CompletedObject, Completion, Part};
use presign_gateway::core::multipart::UploadId;
use presign_gateway::core::tenant::{StorageKey, StoragePrefix};
use presign_gateway::core::{NewObject, Overwrite};
use presign_gateway::storage::{ListedObject, Listing, Storage, StorageError};

/// Uploads and objects in memory.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
    /// Answer every call as an unreachable store would.
    down: bool,
}

#[derive(Debug, Default)]
struct State {
    next: u32,
    /// Upload id → (key, parts by number).
    uploads: HashMap<String, (String, BTreeMap<u16, Part>)>,
    /// Key → the object, in key order as S3 lists them.
    objects: BTreeMap<String, Stored>,
}

/// An object: ETag, size, metadata.
type Stored = (String, u64, Vec<(String, String)>);

impl MemoryStorage {
    /// A storage that cannot be reached.
    pub fn down() -> Self {
        Self { down: true, ..Self::default() }
    }

    /// Records part `number` of `upload` as if the client had PUT it.
    pub fn put_part(&self, upload: &str, number: u16, etag: &str, size: u64) {
        let mut state = self.state.lock().unwrap();
        let (_, parts) = state.uploads.get_mut(upload).expect("a started upload");
        parts.insert(number, Part { number, etag: etag.to_owned(), size, checksum: None });
    }

    /// The ETag stored under `key`, if any.
    pub fn object(&self, key: &str) -> Option<String> {
        self.state.lock().unwrap().objects.get(key).map(|(etag, ..)| etag.clone())
    }

    /// Stores an object as if the client had PUT it.
    pub fn put_object(&self, key: &str, size: u64, metadata: &[(&str, &str)]) {
        let metadata = metadata.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
        self.state.lock().unwrap().objects.insert(key.to_owned(), (format!("etag-{key}"), size, metadata));
    }

    fn check(&self) -> Result<(), StorageError> {
        if self.down {
            return Err(StorageError::Unreachable("connection refused".into()));
        }
        Ok(())
    }
}

fn refused(status: u16, code: &str) -> StorageError {
    StorageError::Refused { status, code: code.to_owned(), message: format!("{code} (memory storage)") }
}

fn no_such_upload() -> StorageError {
    refused(404, "NoSuchUpload")
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn create(&self, key: &StorageKey, _object: &NewObject) -> Result<UploadId, StorageError> {
        self.check()?;
        let mut state = self.state.lock().unwrap();
        state.next += 1;
        let id = format!("upload-{}", state.next);
        state.uploads.insert(id.clone(), (key.as_str().to_owned(), BTreeMap::new()));
        Ok(UploadId::new(&id).unwrap())
    }

    async fn list_parts(&self, key: &StorageKey, upload: &UploadId) -> Result<Vec<Part>, StorageError> {
        self.check()?;
        let state = self.state.lock().unwrap();
        match state.uploads.get(upload.as_str()) {
            Some((owner, parts)) if owner == key.as_str() => Ok(parts.values().cloned().collect()),
            _ => Err(no_such_upload()),
        }
    }

    async fn complete(
        &self,
        key: &StorageKey,
        upload: &UploadId,
        completion: &Completion,
    ) -> Result<CompletedObject, StorageError> {
        self.check()?;
        let mut state = self.state.lock().unwrap();
        let Some((owner, stored)) = state.uploads.get(upload.as_str()) else { return Err(no_such_upload()) };
        if owner != key.as_str() {
            return Err(no_such_upload());
        }
        let total: u64 = completion.parts.iter().filter_map(|p| stored.get(&p.number)).map(|p| p.size).sum();
        if total != completion.size {
            return Err(refused(400, "InvalidRequest"));
        }
        let current = state.objects.get(key.as_str());
        let holds = match &completion.overwrite {
            Overwrite::Allowed => true,
            Overwrite::Refused => current.is_none(),
            Overwrite::IfMatches(etag) => current.is_some_and(|(stored, ..)| stored == etag),
        };
        if !holds {
            return Err(refused(412, "PreconditionFailed"));
        }
        state.uploads.remove(upload.as_str());
        let parts = &completion.parts;
        let etag = format!("{}-{}", parts.iter().map(|p| p.etag.as_str()).collect::<String>(), parts.len());
        state.objects.insert(key.as_str().to_owned(), (etag.clone(), completion.size, Vec::new()));
        Ok(CompletedObject { etag, checksum: completion.checksum.clone(), checksum_type: completion.checksum_type })
    }

    async fn abort(&self, key: &StorageKey, upload: &UploadId) -> Result<(), StorageError> {
        self.check()?;
        let mut state = self.state.lock().unwrap();
        match state.uploads.get(upload.as_str()) {
            Some((owner, _)) if owner == key.as_str() => {
                state.uploads.remove(upload.as_str());
                Ok(())
            }
            _ => Err(no_such_upload()),
        }
    }

    /// Lists as S3 does with the delimiter `/`, paging by the last entry's
    /// name (`after`), and only under `prefix`.
    async fn list(
        &self,
        prefix: &StoragePrefix,
        start_after: Option<&str>,
        limit: u16,
    ) -> Result<Listing, StorageError> {
        self.check()?;
        let state = self.state.lock().unwrap();
        let mut entries: Vec<(String, Option<ListedObject>)> = Vec::new();
        for (key, (etag, size, _)) in state.objects.range(prefix.as_str().to_owned()..) {
            let Some(rest) = key.strip_prefix(prefix.as_str()) else { break };
            let entry = if let Some(slash) = rest.find('/') {
                (format!("{}{}", prefix.as_str(), &rest[..=slash]), None)
            } else {
                let object = ListedObject { key: key.clone(), size: *size, last_modified: None, etag: etag.clone() };
                (key.clone(), Some(object))
            };
            if entries.last().is_none_or(|(last, _)| *last != entry.0)
                && start_after.is_none_or(|after| key.as_str() > after)
            {
                entries.push(entry);
            }
        }
        let truncated = entries.len() > usize::from(limit);
        entries.truncate(usize::from(limit));
        let mut listing = Listing { truncated, ..Listing::default() };
        for (name, object) in entries {
            match object {
                Some(object) => listing.objects.push(object),
                None => listing.folders.push(name),
            }
        }
        Ok(listing)
    }

    async fn metadata(&self, key: &str) -> Result<Vec<(String, String)>, StorageError> {
        self.check()?;
        let state = self.state.lock().unwrap();
        state.objects.get(key).map(|(_, _, metadata)| metadata.clone()).ok_or_else(|| refused(404, "NotFound"))
    }
}
