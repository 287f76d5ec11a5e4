//! [`Storage`] over `aws-sdk-s3`: AWS S3, or any S3-compatible endpoint
//! addressed path-style. One client, built once, at the first call: building
//! it loads the system's TLS roots (every file of `/etc/ssl/certs`), a few
//! milliseconds that a redirect, which never calls storage, need not wait for
//! at start-up (BENCHMARKS.md, start-up).

use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    ChecksumAlgorithm as SdkAlgorithm, ChecksumType as SdkType, CompletedMultipartUpload, CompletedPart,
};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::{ListedObject, Listing, Storage, StorageError};
use crate::core::checksum::{Checksum, ChecksumAlgorithm, ChecksumType};
use crate::core::completion::{CompletedObject, Completion, Part};
use crate::core::multipart::UploadId;
use crate::core::tenant::{StorageKey, StoragePrefix};
use crate::core::{NewObject, Overwrite};

/// An S3 client for one bucket.
#[derive(Debug)]
pub struct S3Storage {
    config: aws_sdk_s3::Config,
    client: OnceLock<aws_sdk_s3::Client>,
    bucket: String,
    timeout: Duration,
}

impl S3Storage {
    /// A client for `bucket` in `region`, at `endpoint` (path-style) or AWS
    /// S3, whose every call (retries included) ends within `timeout`.
    #[must_use]
    pub fn new(
        credentials: SharedCredentialsProvider,
        region: &str,
        endpoint: Option<&str>,
        bucket: &str,
        timeout: Duration,
    ) -> Self {
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials)
            .timeout_config(TimeoutConfig::builder().operation_timeout(timeout).build())
            // Only what S3 requires: S3-compatible stores differ on the newer checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint).force_path_style(true);
        }
        Self { config: config.build(), client: OnceLock::new(), bucket: bucket.to_owned(), timeout }
    }

    /// The client, built at the first call.
    fn client(&self) -> &aws_sdk_s3::Client {
        self.client.get_or_init(|| aws_sdk_s3::Client::from_conf(self.config.clone()))
    }

    /// What storage's answer means for the gateway.
    fn error<E>(&self, error: SdkError<E, HttpResponse>) -> StorageError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &error {
            SdkError::ServiceError(service) => StorageError::Refused {
                status: service.raw().status().as_u16(),
                code: service.err().code().unwrap_or("Unknown").to_owned(),
                message: service.err().message().unwrap_or_default().to_owned(),
            },
            SdkError::TimeoutError(_) => StorageError::TimedOut(self.timeout),
            _ => StorageError::Unreachable(Box::new(error)),
        }
    }
}

#[async_trait]
impl Storage for S3Storage {
    async fn create(&self, key: &StorageKey, object: &NewObject) -> Result<UploadId, StorageError> {
        let mut request = self
            .client()
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .set_content_type(object.content_type.clone());
        for (name, value) in &object.metadata {
            request = request.metadata(name, value);
        }
        for (name, value) in &object.headers {
            let value = value.clone();
            request = match *name {
                "cache-control" => request.cache_control(value),
                "content-disposition" => request.content_disposition(value),
                "content-encoding" => request.content_encoding(value),
                "content-language" => request.content_language(value),
                // Not an HTTP date: left out rather than failing the upload's start.
                "expires" => request.set_expires(DateTime::from_str(&value, Format::HttpDate).ok()),
                _ => request,
            };
        }
        if let Some(spec) = &object.checksum {
            request = request.checksum_algorithm(SdkAlgorithm::from(spec.algorithm.name()));
            if let Some(kind) = spec.kind {
                request = request.checksum_type(SdkType::from(kind.name()));
            }
        }
        let output = request.send().await.map_err(|e| self.error(e))?;
        let id = output.upload_id().unwrap_or_default();
        UploadId::new(id).map_err(|_| StorageError::BadUploadId(id.to_owned()))
    }

    async fn list_parts(&self, key: &StorageKey, upload: &UploadId) -> Result<Vec<Part>, StorageError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client()
                .list_parts()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(upload.as_str())
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(|e| self.error(e))?;
            for part in page.parts() {
                let (Some(number), Some(etag)) = (part.part_number(), part.e_tag()) else { continue };
                let Ok(number) = u16::try_from(number) else { continue };
                let size = part.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
                let values = [
                    part.checksum_crc32(),
                    part.checksum_crc32_c(),
                    part.checksum_crc64_nvme(),
                    part.checksum_sha1(),
                    part.checksum_sha256(),
                ];
                let checksum = Checksum::one_of(values).ok().flatten();
                parts.push(Part { number, etag: etag.trim_matches('"').to_owned(), size, checksum });
            }
            match (page.is_truncated(), page.next_part_number_marker()) {
                (Some(true), Some(next)) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        parts.sort_by_key(|part| part.number);
        Ok(parts)
    }

    async fn complete(
        &self,
        key: &StorageKey,
        upload: &UploadId,
        completion: &Completion,
    ) -> Result<CompletedObject, StorageError> {
        let completed = completion
            .parts
            .iter()
            .map(|p| {
                let part = CompletedPart::builder().part_number(i32::from(p.number)).e_tag(format!("\"{}\"", p.etag));
                match &p.checksum {
                    Some(checksum) => with_part_checksum(part, checksum),
                    None => part,
                }
                .build()
            })
            .collect();
        let mut request = self
            .client()
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload.as_str())
            .mpu_object_size(i64::try_from(completion.size).unwrap_or(i64::MAX))
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build());
        request = match &completion.overwrite {
            Overwrite::Allowed => request,
            Overwrite::Refused => request.if_none_match("*"),
            Overwrite::IfMatches(etag) => request.if_match(format!("\"{etag}\"")),
        };
        if let Some(checksum) = &completion.checksum {
            let value = checksum.value.clone();
            request = match checksum.algorithm {
                ChecksumAlgorithm::Crc32 => request.checksum_crc32(value),
                ChecksumAlgorithm::Crc32c => request.checksum_crc32_c(value),
                ChecksumAlgorithm::Crc64Nvme => request.checksum_crc64_nvme(value),
                ChecksumAlgorithm::Sha1 => request.checksum_sha1(value),
                ChecksumAlgorithm::Sha256 => request.checksum_sha256(value),
            };
        }
        if let Some(kind) = completion.checksum_type {
            request = request.checksum_type(SdkType::from(kind.name()));
        }
        let output = request.send().await.map_err(|e| self.error(e))?;
        let values = [
            output.checksum_crc32(),
            output.checksum_crc32_c(),
            output.checksum_crc64_nvme(),
            output.checksum_sha1(),
            output.checksum_sha256(),
        ];
        // A composite checksum (`…-N`) is reported as it is, not checked for shape.
        let checksum = ChecksumAlgorithm::ALL
            .into_iter()
            .zip(values)
            .find_map(|(algorithm, value)| Some(Checksum { algorithm, value: value?.to_owned() }));
        Ok(CompletedObject {
            etag: output.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
            checksum,
            checksum_type: output.checksum_type().and_then(|t| ChecksumType::parse(t.as_str())),
        })
    }

    async fn abort(&self, key: &StorageKey, upload: &UploadId) -> Result<(), StorageError> {
        self.client()
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload.as_str())
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn list(
        &self,
        prefix: &StoragePrefix,
        start_after: Option<&str>,
        limit: u16,
    ) -> Result<Listing, StorageError> {
        let page = self
            .client()
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix.as_str())
            .delimiter("/")
            .max_keys(i32::from(limit))
            .set_start_after(start_after.map(str::to_owned))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        let objects = page.contents().iter().filter_map(listed).collect();
        let folders = page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_owned)).collect();
        Ok(Listing { objects, folders, truncated: page.is_truncated().unwrap_or(false) })
    }

    async fn metadata(&self, key: &str) -> Result<Vec<(String, String)>, StorageError> {
        let head = self.client().head_object().bucket(&self.bucket).key(key).send().await.map_err(|e| self.error(e))?;
        let mut metadata: Vec<_> =
            head.metadata().into_iter().flatten().map(|(name, value)| (name.clone(), value.clone())).collect();
        metadata.sort();
        Ok(metadata)
    }
}

/// An object of a `ListObjectsV2` page, if it names its key.
fn listed(object: &aws_sdk_s3::types::Object) -> Option<ListedObject> {
    Some(ListedObject {
        key: object.key()?.to_owned(),
        size: object.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        last_modified: object.last_modified().and_then(|t| std::time::SystemTime::try_from(*t).ok()),
        etag: object.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
    })
}

fn with_part_checksum(
    part: aws_sdk_s3::types::builders::CompletedPartBuilder,
    checksum: &Checksum,
) -> aws_sdk_s3::types::builders::CompletedPartBuilder {
    let value = checksum.value.clone();
    match checksum.algorithm {
        ChecksumAlgorithm::Crc32 => part.checksum_crc32(value),
        ChecksumAlgorithm::Crc32c => part.checksum_crc32_c(value),
        ChecksumAlgorithm::Crc64Nvme => part.checksum_crc64_nvme(value),
        ChecksumAlgorithm::Sha1 => part.checksum_sha1(value),
        ChecksumAlgorithm::Sha256 => part.checksum_sha256(value),
    }
}

#[async_trait]
impl super::Objects for S3Storage {
    async fn head(&self, key: &str) -> Result<Option<super::ObjectHead>, StorageError> {
        let head = match self.client().head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => head,
            Err(error) => {
                return match self.error(error) {
                    StorageError::Refused { status: 403 | 404, .. } => Ok(None),
                    other => Err(other),
                };
            }
        };
        Ok(Some(super::ObjectHead {
            size: head.content_length().and_then(|length| u64::try_from(length).ok()).unwrap_or_default(),
            etag: head.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
            content_type: head.content_type().map(str::to_owned),
            metadata: head.metadata().into_iter().flatten().map(|(n, v)| (n.clone(), v.clone())).collect(),
        }))
    }

    async fn get(&self, key: &str, etag: &str, max_bytes: u64) -> Result<Vec<u8>, StorageError> {
        let request = self.client().get_object().bucket(&self.bucket).key(key).if_match(format!("\"{etag}\""));
        let object = request.send().await.map_err(|e| self.error(e))?;
        let length = object.content_length().and_then(|length| u64::try_from(length).ok()).unwrap_or_default();
        if length > max_bytes {
            return Err(StorageError::TooLarge { size: length, limit: max_bytes });
        }
        let mut body = object.body;
        let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or_default());
        while let Some(chunk) = body.try_next().await.map_err(|e| StorageError::Unreachable(Box::new(e)))? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(StorageError::TooLarge { size: (bytes.len() + chunk.len()) as u64, limit: max_bytes });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str, cache_control: &str) -> Result<(), StorageError> {
        let request = self.client().put_object().bucket(&self.bucket).key(key);
        let request = request.content_type(content_type).cache_control(cache_control).body(body.into());
        request.send().await.map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client().delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn objects(&self, prefix: &str) -> Result<Vec<ListedObject>, StorageError> {
        let mut objects = Vec::new();
        let mut pages = self.client().list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error(e))?;
            objects.extend(page.contents().iter().filter_map(listed));
        }
        Ok(objects)
    }
}
