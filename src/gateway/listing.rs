//! Listing a folder for its owner: one `ListObjectsV2` page by the gateway's
//! own role, keys given back as the client names them, and with `&metadata`
//! each object's `x-amz-meta-*` (a `HEAD` each, a few at a time).

use std::collections::BTreeMap;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures_util::{StreamExt, TryStreamExt, stream};

use super::GatewayError;
use crate::core::ListOrder;
use crate::storage::Storage;
use crate::wire;

/// `HEAD`s in flight at once for `&metadata`.
const METADATA_CONCURRENCY: usize = 8;

/// The page of `order`'s folder.
pub async fn list(storage: &dyn Storage, order: &ListOrder) -> Result<wire::FolderPage, GatewayError> {
    let listing = storage.list(&order.prefix, order.after.as_deref(), order.limit).await?;
    let name = |key: &str| order.prefix.client_name(key).map(str::to_owned);
    let listed: Vec<_> = listing.objects.into_iter().filter_map(|object| Some((name(&object.key)?, object))).collect();
    let metadata: Vec<Option<BTreeMap<String, String>>> = if order.metadata {
        let keys: Vec<String> = listed.iter().map(|(_, object)| object.key.clone()).collect();
        stream::iter(keys)
            .map(|key| async move { storage.metadata(&key).await.map(|m| Some(m.into_iter().collect())) })
            .buffered(METADATA_CONCURRENCY)
            .try_collect()
            .await?
    } else {
        vec![None; listed.len()]
    };
    let objects = listed
        .into_iter()
        .zip(metadata)
        .map(|((key, object), metadata)| wire::FolderObject {
            key,
            size: object.size,
            last_modified: object.last_modified.and_then(|t| DateTime::from(t).fmt(Format::DateTime).ok()),
            etag: object.etag,
            metadata,
        })
        .collect();
    let folders = listing.folders.iter().filter_map(|folder| name(folder)).collect();
    Ok(wire::FolderPage { objects, folders, next: listing.next })
}
