//! The upload log's face: the intent written before an upload URL is
//! handed out, the log and one object's record as JSON, renditions by
//! redirect, and what a listing adds from the catalog (metadata, status
//! and thumbnail URLs).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::GatewayError;
use crate::catalog::processor::{Processor, RENDITION_CACHE_CONTROL, looks_like_an_image};
use crate::catalog::{Catalog, Intent, Record, Status, Uploader};
use crate::core::cursor::Cursor;
use crate::core::query::RenditionName;
use crate::core::tenant::StorageKey;
use crate::core::{LogOrder, PresignOrder, ResponseOverrides};
use crate::wire;

/// Rendition URLs are signed at the time rounded down to this, so a page
/// shown again within it gets the same URLs, and the browser's cached
/// images; they live `--expires` and this long, so each is good for at
/// least `--expires` after it is handed out.
pub const RENDITION_URL_STEP: Duration = Duration::from_secs(600);
/// How long a client should wait before asking again for a rendition being made.
pub const RETRY_RENDITION_SECONDS: u64 = 2;

/// Records that `uploader` was given a URL to upload `key` with `size`
/// bytes (any size when `None`), valid for `lifetime`.
pub async fn intend(
    catalog: &Catalog,
    key: &StorageKey,
    uploader: &Uploader,
    size: Option<u64>,
    lifetime: Duration,
) -> Result<(), GatewayError> {
    let expires = crate::state::now_seconds() + lifetime.as_secs().max(1);
    let intent = Intent { uploaded_by: uploader.text(), size };
    catalog.intend(key.as_str(), &intent, expires).await?;
    Ok(())
}

/// One page of the log.
pub async fn log(catalog: &Catalog, order: &LogOrder) -> Result<wire::LogPage, GatewayError> {
    let root = order.root.root();
    let page = catalog.log(root, order.after.clone(), usize::from(order.limit), order.failed_only).await?;
    let entries =
        page.records.iter().filter_map(|record| Some(entry(record, record.key.strip_prefix(root)?))).collect();
    let next = page.next.map(|pointer| Cursor::Object(pointer).token());
    Ok(wire::LogPage { entries, next })
}

/// The record of the object `order` would download.
pub async fn status(catalog: &Catalog, order: &PresignOrder) -> Result<wire::LogEntry, GatewayError> {
    let key = order.key.as_str();
    let record = catalog.record(key).await?.ok_or(GatewayError::NoRecord)?;
    let root = catalog.layout().root(key).unwrap_or_default();
    Ok(entry(&record, key.strip_prefix(root.as_str()).unwrap_or(key)))
}

/// `order` turned to the rendition `name` of its object, if it is made. A
/// preset added since the object was rendered is made now, by `processor`
/// when this gateway has one (the local server), else by the next
/// `catalog sync --render`.
pub async fn rendition(
    catalog: &Catalog,
    presets: &[String],
    processor: Option<&Processor>,
    order: PresignOrder,
    name: &RenditionName,
) -> Result<PresignOrder, GatewayError> {
    if !presets.iter().any(|preset| preset == name.as_str()) {
        return Err(GatewayError::UnknownRendition(name.as_str().to_owned()));
    }
    let record = catalog.record(order.key.as_str()).await?.ok_or(GatewayError::NoRecord)?;
    // Made already for this very version (a record's renditions are its ETag's): served even
    // while another preset is being made.
    if let Some(made) = record.renditions.get(name.as_str()).filter(|_| record.status != Status::Failed) {
        return Ok(turned_to(order, &made.key));
    }
    let made = match record.status {
        Status::Failed => {
            return Err(GatewayError::RenditionFailed(record.reason.unwrap_or_else(|| "unknown".to_owned())));
        }
        // Stored while renditions were off: made now.
        Status::Stored if looks_like_an_image(record.content_type.as_deref(), &record.key) => {
            render_later(catalog, processor, &record).await?;
            return Err(GatewayError::RenditionNotReady);
        }
        Status::Stored => return Err(GatewayError::NotAnImage),
        Status::Processing => {
            render_later(catalog, processor, &record).await?;
            return Err(GatewayError::RenditionNotReady);
        }
        Status::Deleted => return Err(GatewayError::RenditionNotReady),
        Status::Ready => {
            let Some(made) = record.renditions.get(name.as_str()) else {
                render_later(catalog, processor, &record).await?;
                return Err(GatewayError::RenditionNotReady);
            };
            made
        }
    };
    Ok(turned_to(order, &made.key))
}

/// Renders `record` again in the background, if this gateway renders and
/// this request wins the claim ([`Catalog::claim`]: one of any number).
async fn render_later(catalog: &Catalog, processor: Option<&Processor>, record: &Record) -> Result<(), GatewayError> {
    let Some(processor) = processor else { return Ok(()) };
    let claimed = catalog.claim(&record.key, &record.etag, crate::state::now_seconds()).await?;
    if let Some(claimed) = claimed {
        let processor = processor.clone();
        tokio::spawn(async move {
            if let Err(error) = processor.render(&claimed).await {
                tracing::warn!(error = %crate::telemetry::ErrorChain(&error), key = claimed.key, "cannot render");
            }
        });
    }
    Ok(())
}

/// What storage should answer a rendition with: its type, shown inline, cached for good.
fn rendition_headers(key: &str) -> ResponseOverrides {
    let png = key.rsplit_once('.').is_some_and(|(_, extension)| extension.eq_ignore_ascii_case("png"));
    let content_type = if png { "image/png" } else { "image/jpeg" };
    ResponseOverrides {
        cache_control: Some(RENDITION_CACHE_CONTROL.to_owned()),
        content_type: Some(content_type.to_owned()),
        content_disposition: Some("inline".to_owned()),
    }
}

/// The signing time of rendition URLs: now, rounded down to [`RENDITION_URL_STEP`].
#[must_use]
pub fn rendition_signing_time(now: SystemTime) -> SystemTime {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    UNIX_EPOCH + Duration::from_secs(since - since % RENDITION_URL_STEP.as_secs())
}

/// `order` (a download the caller may make) turned to the rendition at
/// `key`, which the catalog recorded for that very object.
#[must_use]
pub fn turned_to(mut order: PresignOrder, key: &str) -> PresignOrder {
    order.key = StorageKey::rendition(key.to_owned());
    order.response = rendition_headers(key);
    order.expires_in += RENDITION_URL_STEP;
    order
}

/// A record as the API shows it, under the client's `name` for it.
#[must_use]
pub fn entry(record: &Record, name: &str) -> wire::LogEntry {
    let uploaded_at = i64::try_from(record.uploaded_at).unwrap_or(i64::MAX);
    let renditions: BTreeMap<_, _> = record
        .renditions
        .iter()
        .map(|(name, made)| (name.clone(), wire::RenditionSize { width: made.width, height: made.height }))
        .collect();
    wire::LogEntry {
        key: name.to_owned(),
        size: record.size,
        content_type: record.content_type.clone(),
        title: record.metadata.get("title").cloned(),
        metadata: record.metadata.clone(),
        uploaded_by: record.uploaded_by.clone(),
        uploaded_at: DateTime::from_secs(uploaded_at).fmt(Format::DateTime).unwrap_or_default(),
        status: record.status.as_str().to_owned(),
        reason: record.reason.clone(),
        renditions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendition_urls_are_signed_at_the_same_moment_for_ten_minutes() {
        let at = |seconds| rendition_signing_time(UNIX_EPOCH + Duration::from_secs(seconds));
        assert_eq!(at(1_800_000_000), at(1_800_000_599));
        assert_ne!(at(1_800_000_599), at(1_800_000_600));
    }
}
