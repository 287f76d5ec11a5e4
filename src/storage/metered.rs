//! Any [`Storage`], with every call counted in [`Metrics`]: calls, errors
//! and time, by S3 operation.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::{Listing, Storage, StorageError};
use crate::core::NewObject;
use crate::core::completion::{CompletedObject, Completion, Part};
use crate::core::multipart::UploadId;
use crate::core::tenant::{StorageKey, StoragePrefix};
use crate::metrics::Metrics;

/// `inner`, counted.
#[derive(Debug)]
pub struct Metered {
    inner: Arc<dyn Storage>,
    metrics: Arc<Metrics>,
}

impl Metered {
    /// Counts `inner`'s calls in `metrics`.
    #[must_use]
    pub fn new(inner: Arc<dyn Storage>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    async fn timed<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        let started = Instant::now();
        let result = call.await;
        self.metrics.storage_call(operation, result.is_err(), started.elapsed());
        result
    }
}

#[async_trait]
impl Storage for Metered {
    async fn create(&self, key: &StorageKey, object: &NewObject) -> Result<UploadId, StorageError> {
        self.timed("CreateMultipartUpload", self.inner.create(key, object)).await
    }

    async fn list_parts(&self, key: &StorageKey, upload: &UploadId) -> Result<Vec<Part>, StorageError> {
        self.timed("ListParts", self.inner.list_parts(key, upload)).await
    }

    async fn complete(
        &self,
        key: &StorageKey,
        upload: &UploadId,
        completion: &Completion,
    ) -> Result<CompletedObject, StorageError> {
        self.timed("CompleteMultipartUpload", self.inner.complete(key, upload, completion)).await
    }

    async fn abort(&self, key: &StorageKey, upload: &UploadId) -> Result<(), StorageError> {
        self.timed("AbortMultipartUpload", self.inner.abort(key, upload)).await
    }

    async fn list(
        &self,
        prefix: &StoragePrefix,
        start_after: Option<&str>,
        limit: u16,
    ) -> Result<Listing, StorageError> {
        self.timed("ListObjectsV2", self.inner.list(prefix, start_after, limit)).await
    }

    async fn metadata(&self, key: &str) -> Result<Vec<(String, String)>, StorageError> {
        self.timed("HeadObject", self.inner.metadata(key)).await
    }

    /// Counted as the answer it is: the probe's 404 is storage answering, not an error.
    async fn probe(&self, key: &StorageKey) -> Result<(), StorageError> {
        self.timed("HeadObject", self.inner.probe(key)).await
    }
}
