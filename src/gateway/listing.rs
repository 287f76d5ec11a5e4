//! Listing a folder for its owner: one `ListObjectsV2` page by the gateway's
//! own role, keys given back as the client names them, and with `&metadata`
//! each object's `x-amz-meta-*` (a `HEAD` each, a few at a time). The next
//! page's cursor is the gateway's own ([`Cursor`]), never storage's token.

use std::collections::{BTreeMap, HashMap};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures_util::{StreamExt, TryStreamExt, stream};

use super::GatewayError;
use crate::catalog::{Catalog, RenditionRecord};
use crate::core::ListOrder;
use crate::core::cursor::Cursor;
use crate::storage::{Listing, Storage};
use crate::wire;

/// `HEAD`s in flight at once for `&metadata`.
const METADATA_CONCURRENCY: usize = 8;

/// A folder's page, and the renditions made of its objects (by the client's name).
#[derive(Debug)]
pub struct Listed {
    /// The page.
    pub page: wire::FolderPage,
    /// Each object's renditions, when the upload log has them and they were asked for.
    pub made: HashMap<String, BTreeMap<String, RenditionRecord>>,
}

/// The page of `order`'s folder; with `&metadata`, metadata and status from
/// `catalog` when there is one (a batch read per 100 objects), else a `HEAD`
/// per object.
pub async fn list(storage: &dyn Storage, catalog: Option<&Catalog>, order: &ListOrder) -> Result<Listed, GatewayError> {
    let start_after = order.after.as_ref().map(|cursor| cursor.start_after(&order.prefix));
    // A folder the page before ended at is not listed again. Storage lists it
    // once more when a key in it sorts past `StartAfter` (one with U+10FFFF
    // after the folder), so one entry more is asked for, and the page is cut
    // back to the limit once that folder is dropped.
    let ended_at = order.after.as_ref().and_then(|cursor| cursor.folder_under(&order.prefix));
    let asked = order.limit.saturating_add(u16::from(ended_at.is_some()));
    let mut listing = storage.list(&order.prefix, start_after.as_deref(), asked).await?;
    listing.folders.retain(|folder| Some(folder) != ended_at.as_ref());
    if listing.objects.len() + listing.folders.len() > usize::from(order.limit) {
        drop_last_entry(&mut listing);
        listing.truncated = true;
    }
    let next = listing.truncated.then(|| next_cursor(&listing, order)).flatten();
    let name = |key: &str| order.prefix.client_name(key).map(str::to_owned);
    let listed: Vec<_> = listing.objects.into_iter().filter_map(|object| Some((name(&object.key)?, object))).collect();
    let mut records = match catalog {
        Some(catalog) if order.metadata || !order.renditions.is_empty() => {
            let keys: Vec<&str> = listed.iter().map(|(_, object)| object.key.as_str()).collect();
            catalog.records(&keys).await?
        }
        _ => HashMap::new(),
    };
    // A record of another version than the one listed is not this object's.
    let etags: HashMap<&str, &str> =
        listed.iter().map(|(_, object)| (object.key.as_str(), object.etag.as_str())).collect();
    records.retain(|key, record| etags.get(key.as_str()) == Some(&record.etag.as_str()));
    let metadata: Vec<Option<BTreeMap<String, String>>> = if order.metadata {
        let unrecorded = listed.iter().filter(|(_, object)| !records.contains_key(&object.key));
        let keys: Vec<String> = unrecorded.map(|(_, object)| object.key.clone()).collect();
        let headed = stream::iter(keys.clone())
            .map(|key| async move { storage.metadata(&key).await.map(|m| Some(m.into_iter().collect())) })
            .buffered(METADATA_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        let mut headed = keys.into_iter().zip(headed).collect::<HashMap<_, _>>();
        let from = |key: &str| records.get(key).map(|record| Some(record.metadata.clone()));
        listed
            .iter()
            .map(|(_, object)| from(&object.key).unwrap_or_else(|| headed.remove(&object.key).flatten()))
            .collect()
    } else {
        vec![None; listed.len()]
    };
    let mut made = HashMap::new();
    let objects = listed
        .into_iter()
        .zip(metadata)
        .map(|((key, object), metadata)| {
            let record = records.remove(&object.key);
            let shown = record.as_ref().filter(|_| order.metadata);
            let status = shown.map(|record| record.status.as_str().to_owned());
            let reason = shown.and_then(|record| record.reason.clone());
            if let Some(record) = record.filter(|record| !record.renditions.is_empty() && !order.renditions.is_empty())
            {
                made.insert(key.clone(), record.renditions);
            }
            wire::FolderObject {
                key,
                size: object.size,
                last_modified: object.last_modified.and_then(|t| DateTime::from(t).fmt(Format::DateTime).ok()),
                etag: object.etag,
                metadata,
                status,
                reason,
                renditions: None,
            }
        })
        .collect();
    let folders = listing.folders.iter().filter_map(|folder| name(folder)).collect();
    Ok(Listed { page: wire::FolderPage { objects, folders, next }, made })
}

/// The page's last entry in storage's order: its key, and whether it is a folder.
fn last_entry(listing: &Listing) -> Option<(&str, bool)> {
    let object = listing.objects.last().map(|object| (object.key.as_str(), false));
    let folder = listing.folders.last().map(|folder| (folder.as_str(), true));
    object.into_iter().chain(folder).max_by(|a, b| a.0.cmp(b.0))
}

/// Drops the page's last entry, object or folder.
fn drop_last_entry(listing: &mut Listing) {
    match last_entry(listing).map(|(_, folder)| folder) {
        Some(true) => drop(listing.folders.pop()),
        Some(false) => drop(listing.objects.pop()),
        None => {}
    }
}

/// The cursor after the page's last entry.
fn next_cursor(listing: &Listing, order: &ListOrder) -> Option<String> {
    let (entry, folder) = last_entry(listing)?;
    Some(Cursor::after(entry, &order.prefix, folder).token())
}
