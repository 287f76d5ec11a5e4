//! The multipart steps the gateway performs against storage itself.

use super::{CompletionBody, GatewayError};
use crate::core::checksum::{Checksum, ChecksumType};
use crate::core::completion::{self, BodyFormat, Completion, Part};
use crate::core::multipart::{PartPage, UploadId};
use crate::core::{MultipartOrder, MultipartStep};
use crate::storage::Storage;

/// What a multipart step produced.
#[derive(Debug)]
pub enum MultipartDone {
    /// A new upload.
    Created(UploadId),
    /// One page of the parts stored so far.
    Parts {
        /// The upload.
        upload: UploadId,
        /// The page's parts, in part-number order.
        parts: Vec<Part>,
        /// The page asked for.
        page: PartPage,
        /// Whether more parts follow it.
        truncated: bool,
    },
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
) -> Result<MultipartDone, GatewayError> {
    let key = &order.key;
    Ok(match &order.step {
        MultipartStep::Create(object) => MultipartDone::Created(storage.create(key, object).await?),
        MultipartStep::ListParts(upload, page) => {
            let (parts, truncated) = one_page(storage.list_parts(key, upload).await?, *page);
            MultipartDone::Parts { upload: upload.clone(), parts, page: *page, truncated }
        }
        MultipartStep::Complete { upload, overwrite, checksum, checksum_type } => {
            let body = completion.unwrap_or(CompletionBody { bytes: &[], format: BodyFormat::Xml });
            let parts = completion::parse_completion(body.bytes, body.format)?;
            let stored = storage.list_parts(key, upload).await?;
            let size = completion::check_completion(&parts, &stored, order.max_size)?;
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

/// The parts of `page` among all `stored` (in part-number order), and
/// whether more follow.
fn one_page(stored: Vec<Part>, page: PartPage) -> (Vec<Part>, bool) {
    let mut after = stored.into_iter().filter(|part| part.number > page.after);
    let parts: Vec<Part> = after.by_ref().take(usize::from(page.max_parts)).collect();
    (parts, after.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_lists_are_paged_as_s3_pages_them() {
        let stored = |numbers: &[u16]| -> Vec<Part> {
            numbers.iter().map(|&number| Part { number, etag: format!("e{number}"), size: 5, checksum: None }).collect()
        };
        let numbers =
            |(parts, truncated): (Vec<Part>, bool)| (parts.iter().map(|p| p.number).collect::<Vec<_>>(), truncated);
        let page = |after, max_parts| PartPage { after, max_parts };
        assert_eq!(numbers(one_page(stored(&[1, 2, 3, 5]), page(0, 1000))), (vec![1, 2, 3, 5], false));
        assert_eq!(numbers(one_page(stored(&[1, 2, 3, 5]), page(0, 2))), (vec![1, 2], true));
        assert_eq!(numbers(one_page(stored(&[1, 2, 3, 5]), page(2, 2))), (vec![3, 5], false));
        assert_eq!(numbers(one_page(stored(&[1, 2, 3, 5]), page(3, 1))), (vec![5], false));
        assert_eq!(numbers(one_page(stored(&[1, 2, 3, 5]), page(5, 1))), (vec![], false));
        assert_eq!(numbers(one_page(stored(&[]), page(0, 1000))), (vec![], false));
    }
}
