//! Any [`Storage`], with every call counted in [`Metrics`]: calls, errors
//! and time, by S3 operation.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::{Storage, StorageError};
use crate::core::completion::Part;
use crate::core::multipart::UploadId;
use crate::core::tenant::StorageKey;
use crate::core::{NewObject, Overwrite};
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
        parts: &[Part],
        overwrite: Overwrite,
    ) -> Result<String, StorageError> {
        self.timed("CompleteMultipartUpload", self.inner.complete(key, upload, parts, overwrite)).await
    }

    async fn abort(&self, key: &StorageKey, upload: &UploadId) -> Result<(), StorageError> {
        self.timed("AbortMultipartUpload", self.inner.abort(key, upload)).await
    }

    async fn probe(&self, key: &StorageKey) -> Result<(), StorageError> {
        self.timed("HeadObject", self.inner.probe(key)).await
    }
}
