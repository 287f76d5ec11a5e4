//! The embedded store's S3 semantics: s3s-fs, plus the parts of S3 that
//! s3s-fs leaves out and that browsers and curl rely on through the gateway:
//! `response-*` overrides on HEAD, conditional GET and HEAD (304 and 412), a
//! default `Content-Type`, refusing uploads whose length is unknown, and
//! binding each multipart upload to its key (s3s-fs accepts any key with any
//! upload id, which would let one tenant's key complete another's upload),
//! and completing multipart uploads without reading them again.

use std::path::{Path, PathBuf};

use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
    CreateMultipartUploadInput, CreateMultipartUploadOutput, DeleteObjectInput, DeleteObjectOutput, ETag,
    ETagCondition, GetObjectInput, GetObjectOutput, HeadObjectInput, HeadObjectOutput, ListObjectsV2Input,
    ListObjectsV2Output, ListPartsInput, ListPartsOutput, PutObjectInput, PutObjectOutput, Timestamp, UploadPartInput,
    UploadPartOutput,
};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;

use super::complete::Completion;

/// The type S3 gives objects uploaded without one.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The longest file name Linux and macOS file systems take.
const NAME_MAX: usize = 255;

/// s3s-fs keeps each object's attributes in a file named
/// `.bucket-{base64 bucket}.object-{base64 key}.metadata.json`; this is the
/// longest key for which that name fits in [`NAME_MAX`].
#[must_use]
pub fn max_key_bytes(bucket: &str) -> usize {
    longest_key_beside(bucket, "")
}

/// A multipart upload's attributes file adds `.upload-{uuid}` to the name.
#[must_use]
pub fn max_multipart_key_bytes(bucket: &str) -> usize {
    longest_key_beside(bucket, ".upload-00000000-0000-0000-0000-000000000000")
}

/// The longest key whose attributes file name, with `extra` in it, fits in [`NAME_MAX`].
fn longest_key_beside(bucket: &str, extra: &str) -> usize {
    let fixed = ".bucket-".len() + base64_len(bucket.len()) + ".object-".len() + extra.len() + ".metadata.json".len();
    // base64 turns every 3 bytes into 4 characters.
    NAME_MAX.saturating_sub(fixed) / 4 * 3
}

fn base64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// Refuses, as S3 would refuse an over-long key, what s3s-fs cannot store,
/// rather than failing half-way with an object and no attributes.
fn check_fits(bucket: &str, key: &str) -> S3Result<()> {
    let limit = max_key_bytes(bucket);
    if key.len() > limit {
        return Err(s3_error!(
            KeyTooLongError,
            "The embedded store keeps keys of up to {limit} bytes; AWS S3 takes 1024."
        ));
    }
    Ok(())
}

/// Objects on local disk, answered as S3 answers.
#[derive(Debug)]
pub struct Objects {
    fs: FileSystem,
    /// The folder `fs` keeps its buckets and files in.
    root: PathBuf,
    /// One file per multipart upload in progress, naming its bucket and key.
    uploads: PathBuf,
}

impl Objects {
    /// Serves the buckets under `root`, which `fs` was opened on.
    pub fn new(fs: FileSystem, root: &Path) -> Self {
        Self { fs, root: root.to_owned(), uploads: root.join(".uploads") }
    }

    fn upload_record(&self, upload_id: &str) -> S3Result<PathBuf> {
        Ok(self.uploads.join(upload_uuid(upload_id)?.to_string()))
    }

    /// Refuses an upload id that was not started for this bucket and key.
    async fn check_upload(&self, upload_id: &str, bucket: &str, key: &str) -> S3Result<PathBuf> {
        let record = self.upload_record(upload_id)?;
        match tokio::fs::read_to_string(&record).await {
            Ok(owner) if owner == format!("{bucket}/{key}") => Ok(record),
            _ => Err(s3_error!(NoSuchUpload, "The specified upload does not exist.")),
        }
    }
}

#[async_trait::async_trait]
impl S3 for Objects {
    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        check_fits(&req.input.bucket, &req.input.key)?;
        let conditions = Conditions {
            matching: req.input.if_match.clone(),
            none_matching: req.input.if_none_match.clone(),
            modified_since: req.input.if_modified_since.clone(),
            unmodified_since: req.input.if_unmodified_since.clone(),
        };
        let mut response = self.fs.get_object(req).await?;
        conditions.check(response.output.e_tag.as_ref(), response.output.last_modified.as_ref())?;
        response.output.content_type.get_or_insert_with(|| DEFAULT_CONTENT_TYPE.to_owned());
        Ok(response)
    }

    async fn head_object(&self, mut req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        check_fits(&req.input.bucket, &req.input.key)?;
        let input = &mut req.input;
        let conditions = Conditions {
            matching: input.if_match.take(),
            none_matching: input.if_none_match.take(),
            modified_since: input.if_modified_since.take(),
            unmodified_since: input.if_unmodified_since.take(),
        };
        let content_type = input.response_content_type.take();
        let content_disposition = input.response_content_disposition.take();
        let mut response = self.fs.head_object(req).await?;
        let output = &mut response.output;
        conditions.check(output.e_tag.as_ref(), output.last_modified.as_ref())?;
        output.content_type = content_type.or(output.content_type.take()).or_else(|| Some(DEFAULT_CONTENT_TYPE.into()));
        output.content_disposition = content_disposition.or(output.content_disposition.take());
        Ok(response)
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        check_fits(&req.input.bucket, &req.input.key)?;
        if req.input.content_length.is_none() {
            return Err(s3_error!(MissingContentLength, "You must provide the Content-Length HTTP header."));
        }
        self.fs.put_object(req).await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.fs.list_objects_v2(req).await
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        check_fits(&req.input.bucket, &req.input.key)?;
        self.fs.delete_object(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let limit = max_multipart_key_bytes(&bucket);
        if key.len() > limit {
            return Err(s3_error!(KeyTooLongError, "The embedded store keeps multipart keys of up to {limit} bytes."));
        }
        let response = self.fs.create_multipart_upload(req).await?;
        let record = self.upload_record(response.output.upload_id.as_deref().unwrap_or_default())?;
        try_io(tokio::fs::create_dir_all(&self.uploads).await)?;
        try_io(tokio::fs::write(&record, format!("{bucket}/{key}")).await)?;
        Ok(response)
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let record = self.check_upload(&req.input.upload_id, &req.input.bucket, &req.input.key).await?;
        let number = req.input.part_number;
        let response = self.fs.upload_part(req).await?;
        // s3s-fs lists parts without their ETags; keep them for ListParts.
        if let Some(ETag::Strong(etag)) = &response.output.e_tag {
            let parts = parts_dir(&record);
            try_io(tokio::fs::create_dir_all(&parts).await)?;
            try_io(tokio::fs::write(parts.join(number.to_string()), etag).await)?;
        }
        Ok(response)
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let record = self.check_upload(&req.input.upload_id, &req.input.bucket, &req.input.key).await?;
        let mut response = self.fs.list_parts(req).await?;
        for part in response.output.parts.iter_mut().flatten() {
            let Some(number) = part.part_number else { continue };
            if let Ok(etag) = tokio::fs::read_to_string(parts_dir(&record).join(number.to_string())).await {
                part.e_tag = Some(ETag::Strong(etag));
            }
        }
        if let Some(parts) = response.output.parts.as_mut() {
            parts.sort_by_key(|part| part.part_number);
        }
        Ok(response)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let record = self.check_upload(&input.upload_id, &input.bucket, &input.key).await?;
        let upload_id = upload_uuid(&input.upload_id)?;
        if input.if_match.is_some() {
            return Err(s3_error!(NotImplemented, "The embedded store does not take If-Match on completion."));
        }
        // Claimed by renaming its record, so a second completion at the same time finds no upload.
        let claimed = record.with_extension("completing");
        if tokio::fs::rename(&record, &claimed).await.is_err() {
            return Err(s3_error!(NoSuchUpload, "The specified upload does not exist."));
        }
        let completion = Completion {
            root: self.root.clone(),
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            upload_id,
            part_etags: parts_dir(&record),
            if_none_match: input.if_none_match.as_ref().is_some_and(ETagCondition::is_any),
        };
        let parts = input.multipart_upload.and_then(|upload| upload.parts).unwrap_or_default();
        let completed = tokio::task::spawn_blocking(move || completion.run(&parts))
            .await
            .unwrap_or_else(|error| Err(s3_error!(InternalError, "the completion stopped: {error}")));
        match completed {
            Ok(etag) => {
                forget(&claimed).await;
                let output = CompleteMultipartUploadOutput {
                    bucket: Some(input.bucket),
                    key: Some(input.key),
                    e_tag: Some(ETag::Strong(etag)),
                    ..Default::default()
                };
                Ok(S3Response::new(output))
            }
            Err(error) => {
                let _ = tokio::fs::rename(&claimed, &record).await;
                Err(error)
            }
        }
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let record = self.check_upload(&req.input.upload_id, &req.input.bucket, &req.input.key).await?;
        let response = self.fs.abort_multipart_upload(req).await?;
        forget(&record).await;
        Ok(response)
    }
}

/// RFC 9110 §13.2.2 preconditions, evaluated the way S3 does for reads.
struct Conditions {
    matching: Option<ETagCondition>,
    none_matching: Option<ETagCondition>,
    modified_since: Option<Timestamp>,
    unmodified_since: Option<Timestamp>,
}

impl Conditions {
    fn check(&self, e_tag: Option<&ETag>, last_modified: Option<&Timestamp>) -> S3Result<()> {
        let matches = |condition: &ETagCondition, strong: bool| match (condition, e_tag) {
            (ETagCondition::Any, _) => true,
            (ETagCondition::ETag(wanted), Some(actual)) => {
                if strong {
                    wanted.strong_cmp(actual)
                } else {
                    wanted.weak_cmp(actual)
                }
            }
            (ETagCondition::ETag(_), None) => false,
        };
        let modified_after = |since: &Timestamp| last_modified.is_none_or(|m| seconds(m) > seconds(since));

        if let Some(condition) = &self.matching {
            if !matches(condition, true) {
                return Err(s3_error!(
                    PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold"
                ));
            }
        } else if let Some(since) = &self.unmodified_since
            && modified_after(since)
        {
            return Err(s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold"));
        }
        if let Some(condition) = &self.none_matching {
            if matches(condition, false) {
                return Err(s3_error!(NotModified));
            }
        } else if let Some(since) = &self.modified_since
            && !modified_after(since)
        {
            return Err(s3_error!(NotModified));
        }
        Ok(())
    }
}

fn upload_uuid(upload_id: &str) -> S3Result<uuid::Uuid> {
    uuid::Uuid::parse_str(upload_id).map_err(|_| s3_error!(NoSuchUpload, "The specified upload does not exist."))
}

fn parts_dir(record: &Path) -> PathBuf {
    record.with_extension("parts")
}

async fn forget(record: &Path) {
    let _ = tokio::fs::remove_dir_all(parts_dir(record)).await;
    let _ = tokio::fs::remove_file(record).await;
}

fn try_io<T>(result: std::io::Result<T>) -> S3Result<T> {
    result.map_err(|error| s3_error!(InternalError, "the embedded store cannot record the upload: {error}"))
}

/// HTTP dates have whole seconds; file times do not.
fn seconds(timestamp: &Timestamp) -> i64 {
    time::OffsetDateTime::from(timestamp.clone()).unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_key_fills_the_metadata_file_name() {
        let bucket = "presign-gateway";
        let limit = max_key_bytes(bucket);
        assert_eq!(limit, 153);
        let name = |key_len| {
            format!(
                ".bucket-{}.object-{}.metadata.json",
                "b".repeat(base64_len(bucket.len())),
                "k".repeat(base64_len(key_len))
            )
        };
        assert!(name(limit).len() <= NAME_MAX);
        assert!(name(limit + 1).len() > NAME_MAX);
    }

    #[test]
    fn multipart_keys_leave_room_for_the_upload_id() {
        let bucket = "presign-gateway";
        let limit = max_multipart_key_bytes(bucket);
        let name = format!(
            ".bucket-{}.object-{}.upload-{}.metadata.json",
            "b".repeat(base64_len(bucket.len())),
            "k".repeat(base64_len(limit)),
            "u".repeat(36)
        );
        assert!(name.len() <= NAME_MAX, "{limit}: {}", name.len());
        assert_eq!(limit, 120);
    }

    #[test]
    fn long_keys_are_refused() {
        assert!(check_fits("presign-gateway", &"k".repeat(153)).is_ok());
        assert!(check_fits("presign-gateway", &"k".repeat(154)).is_err());
    }
}
