//! Listing a folder for its owner: one `ListObjectsV2` page by the gateway's
//! own role, keys given back as the client names them, and with `&metadata`
//! each object's `x-amz-meta-*` (a `HEAD` each, a few at a time). The next
//! page's cursor is the gateway's own ([`Cursor`]), never storage's token.

use std::collections::BTreeMap;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures_util::{StreamExt, TryStreamExt, stream};

use super::GatewayError;
use crate::core::ListOrder;
use crate::core::cursor::Cursor;
use crate::storage::{Listing, Storage};
use crate::wire;

/// `HEAD`s in flight at once for `&metadata`.
const METADATA_CONCURRENCY: usize = 8;

/// The page of `order`'s folder.
pub async fn list(storage: &dyn Storage, order: &ListOrder) -> Result<wire::FolderPage, GatewayError> {
    let start_after = order.after.as_ref().map(|cursor| cursor.start_after(&order.prefix));
    let mut listing = storage.list(&order.prefix, start_after.as_deref(), order.limit).await?;
    // A folder the page before ended at is not listed again, whatever storage
    // makes of `StartAfter` past it.
    let ended_at = order.after.as_ref().and_then(|cursor| cursor.folder_under(&order.prefix));
    listing.folders.retain(|folder| Some(folder) != ended_at.as_ref());
    let next = listing.truncated.then(|| next_cursor(&listing, order)).flatten();
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
    Ok(wire::FolderPage { objects, folders, next })
}

/// The cursor after the page's last entry, object or folder, in storage's order.
fn next_cursor(listing: &Listing, order: &ListOrder) -> Option<String> {
    let last_object = listing.objects.last().map(|object| object.key.as_str());
    let last_folder = listing.folders.last().map(String::as_str);
    let cursor = match (last_object, last_folder) {
        (Some(object), Some(folder)) if folder > object => Cursor::after(folder, &order.prefix, true),
        (Some(object), _) => Cursor::after(object, &order.prefix, false),
        (None, Some(folder)) => Cursor::after(folder, &order.prefix, true),
        // Only the folder already listed came back: nothing is left to move on to.
        (None, None) => return None,
    };
    Some(cursor.token())
}
