//! The calls the gateway makes to storage itself: the multipart steps that
//! carry no bytes (create, list parts, complete, abort). Everything with a
//! body goes straight from the client to storage on a presigned URL.

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::core::multipart::{Part, UploadId};
use crate::core::tenant::StorageKey;

/// What storage answered, when it was not a success.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Storage refused the call: its status, S3 error code and message.
    #[error("storage answered {status} {code}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// S3's error code, such as `NoSuchUpload`.
        code: String,
        /// S3's message.
        message: String,
    },
    /// Storage could not be reached, or answered nonsense.
    #[error("storage could not be reached: {0}")]
    Unreachable(String),
}

impl<E: ProvideErrorMetadata + std::error::Error + 'static> From<SdkError<E, HttpResponse>> for StorageError {
    fn from(error: SdkError<E, HttpResponse>) -> Self {
        match &error {
            SdkError::ServiceError(service) => Self::Refused {
                status: service.raw().status().as_u16(),
                code: service.err().code().unwrap_or("Unknown").to_owned(),
                message: service.err().message().unwrap_or_default().to_owned(),
            },
            _ => Self::Unreachable(crate::gateway::ErrorChain(&error).to_string()),
        }
    }
}

/// A finished multipart object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// Its ETag, without quotes.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An S3 client for one bucket, built once at start-up.
#[derive(Debug, Clone)]
pub struct Storage {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl Storage {
    /// A client for `bucket` in `region`, at `endpoint` (path-style) or AWS S3.
    #[must_use]
    pub fn new(credentials: SharedCredentialsProvider, region: &str, endpoint: Option<&str>, bucket: &str) -> Self {
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials)
            // Only what S3 requires: S3-compatible stores differ on the newer checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint).force_path_style(true);
        }
        Self { client: aws_sdk_s3::Client::from_conf(config.build()), bucket: bucket.to_owned() }
    }

    /// `CreateMultipartUpload`.
    pub async fn create(
        &self,
        key: &StorageKey,
        content_type: Option<&str>,
        sha256: Option<&str>,
    ) -> Result<UploadId, StorageError> {
        let mut request = self.client.create_multipart_upload().bucket(&self.bucket).key(key.as_str());
        if let Some(content_type) = content_type {
            request = request.content_type(content_type);
        }
        if let Some(sha256) = sha256 {
            request = request.metadata("sha256", sha256);
        }
        let output = request.send().await?;
        let id = output.upload_id().unwrap_or_default();
        UploadId::new(id).map_err(|_| StorageError::Unreachable(format!("storage returned the upload id {id:?}")))
    }

    /// `ListParts`, every page of it.
    pub async fn list_parts(&self, key: &StorageKey, upload: &UploadId) -> Result<Vec<Part>, StorageError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(upload.as_str())
                .set_part_number_marker(marker.take())
                .send()
                .await?;
            for part in page.parts() {
                let (Some(number), Some(etag)) = (part.part_number(), part.e_tag()) else { continue };
                let Ok(number) = u16::try_from(number) else { continue };
                let size = part.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
                parts.push(Part { number, etag: etag.trim_matches('"').to_owned(), size });
            }
            match (page.is_truncated(), page.next_part_number_marker()) {
                (Some(true), Some(next)) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        parts.sort_by_key(|part| part.number);
        Ok(parts)
    }

    /// `CompleteMultipartUpload` with `parts`, of `size` bytes in all.
    pub async fn complete(
        &self,
        key: &StorageKey,
        upload: &UploadId,
        parts: &[Part],
        size: u64,
        if_none_match: bool,
    ) -> Result<Completed, StorageError> {
        let completed = parts
            .iter()
            .map(|p| CompletedPart::builder().part_number(i32::from(p.number)).e_tag(format!("\"{}\"", p.etag)).build())
            .collect();
        let mut request = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload.as_str())
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build());
        if if_none_match {
            request = request.if_none_match("*");
        }
        let output = request.send().await?;
        Ok(Completed { etag: output.e_tag().unwrap_or_default().trim_matches('"').to_owned(), size })
    }

    /// `AbortMultipartUpload`.
    pub async fn abort(&self, key: &StorageKey, upload: &UploadId) -> Result<(), StorageError> {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload.as_str())
            .send()
            .await?;
        Ok(())
    }
}
