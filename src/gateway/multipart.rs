//! The multipart steps the gateway performs against storage itself.

use super::{CompletionBody, GatewayError};
use crate::core::checksum::{Checksum, ChecksumType};
use crate::core::completion::{self, BodyFormat, Completion, Part};
use crate::core::multipart::UploadId;
use crate::core::{MultipartOrder, MultipartStep, Policy};
use crate::storage::Storage;

/// What a multipart step produced.
#[derive(Debug)]
pub enum MultipartDone {
    /// A new upload.
    Created(UploadId),
    /// The parts stored so far.
    Parts(Vec<Part>),
    /// The finished object.
    Completed {
        /// Its ETag, without quotes.
        etag: String,
        /// Its size in bytes.
        size: u64,
        /// Its checksum, as storage computed and checked it.
        checksum: Option<Checksum>,
        /// What the checksum covers.
        checksum_type: Option<ChecksumType>,
    },
    /// The upload is gone.
    Aborted,
}

/// Performs `order`; `completion` is the completion's part list.
pub async fn perform(
    storage: &dyn Storage,
    order: &MultipartOrder,
    completion: Option<CompletionBody<'_>>,
    policy: &Policy,
) -> Result<MultipartDone, GatewayError> {
    let key = &order.key;
    Ok(match &order.step {
        MultipartStep::Create(object) => MultipartDone::Created(storage.create(key, object).await?),
        MultipartStep::ListParts(upload) => MultipartDone::Parts(storage.list_parts(key, upload).await?),
        MultipartStep::Complete { upload, overwrite, checksum, checksum_type } => {
            let body = completion.unwrap_or(CompletionBody { bytes: &[], format: BodyFormat::Xml });
            let parts = completion::parse_completion(body.bytes, body.format)?;
            let stored = storage.list_parts(key, upload).await?;
            let size = completion::check_completion(&parts, &stored, policy.max_object_size)?;
            let asked = Completion {
                parts,
                overwrite: overwrite.clone(),
                checksum: checksum.clone(),
                checksum_type: *checksum_type,
                size,
            };
            let done = storage.complete(key, upload, &asked).await?;
            MultipartDone::Completed {
                etag: done.etag,
                size,
                checksum: done.checksum,
                checksum_type: done.checksum_type,
            }
        }
        MultipartStep::Abort(upload) => {
            storage.abort(key, upload).await?;
            MultipartDone::Aborted
        }
    })
}
