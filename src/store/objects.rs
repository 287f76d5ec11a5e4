//! The S3 operations the gateway and its clients use, on one [`Bucket`]:
//! PutObject, GetObject and HeadObject (ranges, conditions, `response-*`
//! overrides, checksum mode), DeleteObject, the multipart calls and
//! ListObjectsV2. Each maps s3s's request to the bucket's steps and the
//! result back; the rules live in the bucket, its index and its blobs.
//! (Near 400 lines: ten operations' request and response fields are spelled
//! out one by one; the conversions they share are in [`super::fields`].)

use std::sync::Arc;

use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, ChecksumAlgorithm, ChecksumType, CommonPrefix,
    CompleteMultipartUploadInput, CompleteMultipartUploadOutput, CreateMultipartUploadInput,
    CreateMultipartUploadOutput, DeleteObjectInput, DeleteObjectOutput, ETag, GetObjectInput, GetObjectOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListObjectsV2Input, ListObjectsV2Output,
    ListPartsInput, ListPartsOutput, Object, ObjectStorageClass, Part, PutObjectInput, PutObjectOutput, StreamingBlob,
    Timestamp, UploadPartInput, UploadPartOutput,
};
use s3s::stream::DynByteStream;
use s3s::{S3, S3Request, S3Response, S3Result};

use super::bucket::{Bucket, check_key};
use super::checksum::{Algorithm, Kind};
use super::conditions::Conditions;
use super::error::StoreError;
use super::fields::{
    DEFAULT_CONTENT_TYPE, attributes, body, check_conditions, checksum_mode, checksums_of, claims, described, etag,
    int, length, metadata_within_limit, precondition, set_checksum,
};
use super::index::Precondition;
use super::listing::{self, ListRequest, Marker};
use super::multipart::{Expected, Listed};

/// One bucket, answered as S3 answers.
#[derive(Debug, Clone)]
pub struct Objects {
    bucket: Arc<Bucket>,
}

impl Objects {
    /// Serves `bucket`.
    pub fn new(bucket: Arc<Bucket>) -> Self {
        Self { bucket }
    }

    fn check(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.bucket.check(bucket)?;
        check_key(key)
    }
}

#[async_trait::async_trait]
impl S3 for Objects {
    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.bucket.check(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        if input.part_number.is_some() {
            return Err(StoreError::NotImplemented("The embedded store does not read single parts.").into());
        }
        let (record, lease) = self.bucket.read(input.key.clone()).await?;
        check_conditions!(input, record)?;
        let (start, end, content_range) = match &input.range {
            None => (0, record.size, None),
            Some(range) => {
                let range = range.check(record.size)?;
                let shown = format!("bytes {}-{}/{}", range.start, range.end - 1, record.size);
                (range.start, range.end, Some(shown))
            }
        };
        let whole = content_range.is_none();
        let stream = self.bucket.blobs().stream(record.blobs.clone(), start, end, lease);
        let attributes = record.attributes.clone();
        let output = described!(
            GetObjectOutput {
                body: Some(StreamingBlob::from(Box::pin(stream) as DynByteStream)),
                content_length: Some(int(end - start)),
                content_range: content_range,
                content_type: attributes.content_type.or_else(|| Some(DEFAULT_CONTENT_TYPE.into())),
                content_disposition: attributes.content_disposition,
            },
            record,
            attributes,
            whole && checksum_mode(input.checksum_mode.as_ref())
        );
        Ok(S3Response::new(output))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        let (record, _lease) = self.bucket.read(input.key.clone()).await?;
        check_conditions!(input, record)?;
        let attributes = record.attributes.clone();
        let checksum = checksum_mode(input.checksum_mode.as_ref());
        let mut output = described!(
            HeadObjectOutput {
                content_length: Some(int(record.size)),
                content_type: input
                    .response_content_type
                    .or(attributes.content_type)
                    .or_else(|| Some(DEFAULT_CONTENT_TYPE.into())),
                content_disposition: input.response_content_disposition.or(attributes.content_disposition),
            },
            record,
            attributes,
            checksum
        );
        // GetObject's overrides are s3s's to apply; HeadObject's are ours.
        output.cache_control = input.response_cache_control.or(output.cache_control);
        Ok(S3Response::new(output))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        metadata_within_limit(input.metadata.as_ref())?;
        let length = length(input.content_length)?;
        let condition = precondition(input.if_none_match.as_ref(), input.if_match.as_ref())?;
        let mut claims = claims(input.content_md5.as_ref(), checksums_of!(input), input.checksum_algorithm.as_ref())?;
        if condition != Precondition::None {
            // Refused before the body is read when it already cannot hold; checked again at the commit.
            let (key, early) = (input.key.clone(), condition.clone());
            self.bucket.blocking(move |b| early.check(b.index().object(&key)?.as_ref())).await?;
        }
        let received = self.bucket.receive(body(input.body), length, claims.digest(None)).await?;
        if let Some(trailers) = req.trailing_headers.as_ref().and_then(s3s::TrailingHeaders::take) {
            claims.add_trailers(&trailers);
        }
        let attributes = attributes(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.metadata,
        );
        let key = input.key;
        let record = self.bucket.blocking(move |b| b.store(&key, &received, &claims, &condition, attributes)).await?;
        let mut output =
            PutObjectOutput { e_tag: Some(etag(&record)), size: Some(int(record.size)), ..Default::default() };
        set_checksum!(output, record.checksum.algorithm, record.checksum.value.clone());
        output.checksum_type = Some(ChecksumType::from(Kind::FullObject.name().to_owned()));
        Ok(S3Response::new(output))
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        let condition = precondition(None, input.if_match.as_ref())?;
        let key = input.key;
        self.bucket.blocking(move |b| b.delete(&key, &condition)).await?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        self.bucket.check(&input.bucket)?;
        let max = input.max_keys.map_or(listing::MAX_KEYS, |n| usize::try_from(n).unwrap_or(0).min(listing::MAX_KEYS));
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = match (&input.continuation_token, &input.start_after) {
            (Some(token), _) => Some(Marker::parse(token, &prefix)?),
            (None, Some(key)) => Some(Marker::Key(key.clone())),
            (None, None) => None,
        };
        let request = ListRequest { prefix: prefix.clone(), delimiter: input.delimiter.clone(), after, max };
        let page = self.bucket.blocking(move |b| listing::list(b.index(), &request)).await?;
        let contents: Vec<Object> = page
            .objects
            .into_iter()
            .map(|(key, record)| Object {
                e_tag: Some(etag(&record)),
                size: Some(int(record.size)),
                last_modified: Some(Timestamp::from(record.modified())),
                storage_class: Some(ObjectStorageClass::from(ObjectStorageClass::STANDARD.to_owned())),
                checksum_algorithm: Some(vec![ChecksumAlgorithm::from(record.checksum.algorithm.name().to_owned())]),
                checksum_type: Some(ChecksumType::from(record.checksum.kind.name().to_owned())),
                key: Some(key),
                ..Default::default()
            })
            .collect();
        let common_prefixes: Vec<CommonPrefix> =
            page.prefixes.into_iter().map(|prefix| CommonPrefix { prefix: Some(prefix) }).collect();
        let count = contents.len() + common_prefixes.len();
        let output = ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: input.prefix,
            delimiter: input.delimiter,
            max_keys: Some(i32::try_from(max).unwrap_or(i32::MAX)),
            key_count: Some(i32::try_from(count).unwrap_or(i32::MAX)),
            is_truncated: Some(page.next.is_some()),
            next_continuation_token: page.next.map(|marker| marker.token(&prefix)),
            continuation_token: input.continuation_token,
            start_after: input.start_after,
            contents: Some(contents),
            common_prefixes: Some(common_prefixes),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        metadata_within_limit(input.metadata.as_ref())?;
        self.check(&input.bucket, &input.key)?;
        let algorithm = match &input.checksum_algorithm {
            Some(a) => Some(
                Algorithm::parse(a.as_str())
                    .ok_or(StoreError::NotImplemented("That checksum algorithm is not supported."))?,
            ),
            None => None,
        };
        let kind = match &input.checksum_type {
            Some(k) => {
                Some(Kind::parse(k.as_str()).ok_or(StoreError::InvalidRequest("Unknown x-amz-checksum-type.".into()))?)
            }
            None => None,
        };
        let attributes = attributes(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.metadata,
        );
        let key = input.key.clone();
        let id = self.bucket.blocking(move |b| b.create_upload(&key, attributes, algorithm, kind)).await?;
        let output = CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id),
            checksum_algorithm: algorithm.map(|a| ChecksumAlgorithm::from(a.name().to_owned())),
            checksum_type: kind
                .or(algorithm.map(Algorithm::default_type))
                .map(|k| ChecksumType::from(k.name().to_owned())),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        let number = u32::try_from(input.part_number).ok().filter(|n| (1..=10_000).contains(n));
        let number = number.ok_or(StoreError::InvalidRequest("Part numbers go from 1 to 10000.".into()))?;
        let length = length(input.content_length)?;
        let mut claims = claims(input.content_md5.as_ref(), checksums_of!(input), input.checksum_algorithm.as_ref())?;
        let (id, key) = (input.upload_id.clone(), input.key.clone());
        let upload = self.bucket.blocking(move |b| b.index().upload(&id, &key)).await?;
        let received = self.bucket.receive(body(input.body), length, claims.digest(Some(upload.algorithm))).await?;
        if let Some(trailers) = req.trailing_headers.as_ref().and_then(s3s::TrailingHeaders::take) {
            claims.add_trailers(&trailers);
        }
        let (id, algorithm) = (input.upload_id, upload.algorithm);
        let part = self.bucket.blocking(move |b| b.store_part(&upload, &id, number, &received, &claims)).await?;
        let mut output = UploadPartOutput { e_tag: Some(ETag::Strong(part.md5.clone())), ..Default::default() };
        set_checksum!(output, algorithm, part.checksum);
        Ok(S3Response::new(output))
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        let max = input.max_parts.map_or(1000, |n| usize::try_from(n).unwrap_or(0).clamp(1, 1000));
        let after = input.part_number_marker.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        let (id, key) = (input.upload_id.clone(), input.key.clone());
        let (upload, mut parts) = self
            .bucket
            .blocking(move |b| Ok((b.index().upload(&id, &key)?, b.index().parts(&id, after, max + 1)?)))
            .await?;
        let truncated = parts.len() > max;
        parts.truncate(max);
        let next = parts.last().map(|(n, _)| i32::try_from(*n).unwrap_or(i32::MAX));
        let listed = parts
            .into_iter()
            .map(|(number, record)| {
                let mut part = Part {
                    part_number: Some(i32::try_from(number).unwrap_or(i32::MAX)),
                    e_tag: Some(ETag::Strong(record.md5)),
                    size: Some(int(record.blob.size)),
                    last_modified: Some(Timestamp::from(
                        std::time::UNIX_EPOCH + std::time::Duration::from_nanos(record.modified_ns),
                    )),
                    ..Default::default()
                };
                set_checksum!(part, upload.algorithm, record.checksum);
                part
            })
            .collect();
        let output = ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            parts: Some(listed),
            is_truncated: Some(truncated),
            next_part_number_marker: if truncated { next } else { None },
            max_parts: Some(i32::try_from(max).unwrap_or(1000)),
            checksum_algorithm: Some(ChecksumAlgorithm::from(upload.algorithm.name().to_owned())),
            checksum_type: Some(ChecksumType::from(upload.kind.name().to_owned())),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        let mut listed = Vec::new();
        for part in input.multipart_upload.and_then(|upload| upload.parts).unwrap_or_default() {
            let number = part.part_number.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
            let etag = part.e_tag.as_ref().map(|e| e.value().to_owned()).unwrap_or_default();
            let checksum = checksums_of!(part).into_iter().next().map(|(_, value)| value);
            listed.push(Listed { number, etag, checksum });
        }
        let expected = Expected {
            checksum: checksums_of!(input).into_iter().next(),
            kind: match &input.checksum_type {
                Some(k) => Some(
                    Kind::parse(k.as_str()).ok_or(StoreError::InvalidRequest("Unknown x-amz-checksum-type.".into()))?,
                ),
                None => None,
            },
            size: input.mpu_object_size.and_then(|n| u64::try_from(n).ok()),
            condition: precondition(input.if_none_match.as_ref(), input.if_match.as_ref())?,
        };
        let (id, key) = (input.upload_id, input.key.clone());
        let record = self.bucket.blocking(move |b| b.complete(&id, &key, &listed, &expected)).await?;
        let mut output = CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(etag(&record)),
            checksum_type: Some(ChecksumType::from(record.checksum.kind.name().to_owned())),
            ..Default::default()
        };
        set_checksum!(output, record.checksum.algorithm, record.checksum.value);
        Ok(S3Response::new(output))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.check(&input.bucket, &input.key)?;
        let (id, key) = (input.upload_id, input.key);
        self.bucket.blocking(move |b| b.abort(&id, Some(&key))).await?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}
