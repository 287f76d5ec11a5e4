//! What happens after an upload: storage's event becomes the object's
//! record, and an image's renditions are made and recorded. The same code
//! runs in-process beside the embedded store (fed by its event spool) and
//! as the processor function on AWS (fed by EventBridge), one event at a
//! time; an `Err` means "try this event again later" (storage or the state
//! store failed), while an image that cannot be rendered is a `failed`
//! record, not an error.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Applied, Catalog, CatalogError, Created, Record, RenditionRecord, SYNCED, Status};
use crate::render::{ImageLimits, Presets, RenderError, render};
use crate::storage::{ObjectHead, Objects, StorageError};
use crate::wire::events::{DetailType, ObjectEvent};

/// Renditions never change (their key names the original's ETag): browsers keep them.
pub const RENDITION_CACHE_CONTROL: &str = "private, max-age=31536000, immutable";

/// Why an event must be tried again.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The rendering task died.
    #[error("the rendering task failed: {0}")]
    Task(String),
}

/// Images rendered at once, each on a blocking thread with its pixels in
/// memory: more would only share the same cores and multiply the memory.
const RENDERS_AT_ONCE: usize = 2;

/// Where the processor tells of the renditions it made or could not make:
/// locally, the embedded store's event spool (so `--notify-url` receivers
/// get `Rendition Ready` / `Rendition Failed` in order, retried as
/// storage's events are); in the processor function, an EventBridge bus.
#[async_trait::async_trait]
pub trait Announce: Send + Sync + std::fmt::Debug {
    /// `rendition` of version `etag` of the object at `key` was made as `name`.
    async fn ready(&self, key: &str, etag: &str, name: &str, rendition: &RenditionRecord) -> Result<(), String>;
    /// The object's renditions could not be made, for `reason`.
    async fn failed(&self, key: &str, etag: &str, reason: &str) -> Result<(), String>;
}

/// Files events in the catalog and renders images.
#[derive(Debug, Clone)]
pub struct Processor {
    catalog: Catalog,
    objects: Arc<dyn Objects>,
    presets: Arc<Presets>,
    limits: ImageLimits,
    renders: Arc<tokio::sync::Semaphore>,
    background: bool,
    announce: Option<Arc<dyn Announce>>,
}

impl Processor {
    /// A processor writing to `catalog`, reading and writing objects with
    /// `objects`, rendering `presets` within `limits`.
    #[must_use]
    pub fn new(catalog: Catalog, objects: Arc<dyn Objects>, presets: Presets, limits: ImageLimits) -> Self {
        let renders = Arc::new(tokio::sync::Semaphore::new(RENDERS_AT_ONCE));
        Self { catalog, objects, presets: Arc::new(presets), limits, renders, background: false, announce: None }
    }

    /// Tells `announce` of every rendition made or failed.
    #[must_use]
    pub fn announcing(self, announce: Arc<dyn Announce>) -> Self {
        Self { announce: Some(announce), ..self }
    }

    /// Renders in the background, so filing the next event never waits for
    /// an image (a long-running server; a record whose rendering a crash cut
    /// short is claimed again after [`super::STUCK_SECONDS`]). In Lambda the
    /// handler renders before it returns.
    #[must_use]
    pub fn in_background(self) -> Self {
        Self { background: true, ..self }
    }

    /// The catalog it writes.
    #[must_use]
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Applies one of storage's events. Keys no caller can reach
    /// (renditions, keys outside the prefix) are ignored.
    pub async fn handle(&self, event: &ObjectEvent) -> Result<(), ProcessError> {
        let object = &event.detail.object;
        if self.catalog.layout().root(&object.key).is_none() {
            return Ok(());
        }
        // Storage says what is there now: an event about a version since
        // replaced or removed is only applied if it is still the truth.
        let head = self.objects.head(&object.key).await?;
        match event.detail_type {
            DetailType::ObjectCreated => {
                let Some(head) = head else { return Ok(()) };
                if object.etag.as_deref().is_some_and(|etag| etag.trim_matches('"') != head.etag) {
                    return Ok(()); // overwritten since: that upload's own event follows
                }
                let time = event_time(&event.time);
                self.created(&object.key, &object.sequencer, time, head).await
            }
            DetailType::ObjectDeleted => {
                // Still there: a noncurrent version expired, or a newer upload came first.
                if head.is_some() {
                    return Ok(());
                }
                let now = crate::state::now_seconds();
                if self.catalog.deleted(&object.key, &object.sequencer, now).await?.is_some() {
                    self.remove_renditions(&object.key, None).await?;
                }
                Ok(())
            }
        }
    }

    /// Files an object storage holds (from an event, or a sync), and renders it.
    pub async fn created(&self, key: &str, sequencer: &str, time: u64, head: ObjectHead) -> Result<(), ProcessError> {
        let renders = !self.presets.is_empty() && looks_like_an_image(head.content_type.as_deref(), key);
        let created = Created {
            key: key.to_owned(),
            size: head.size,
            etag: head.etag,
            sequencer: sequencer.to_owned(),
            time,
            content_type: head.content_type,
            metadata: head.metadata,
            status: if renders { Status::Processing } else { Status::Stored },
        };
        let etag = created.etag.clone();
        let Some(Applied { record, replaced }) = self.catalog.created(created).await? else {
            // Filed already: by this very event, if it failed half-way and is
            // tried again (storage or the state store failed while rendering
            // inline, as in Lambda), its rendering is still to do. (In the
            // background, a rendering cut short is claimed again when stuck.)
            return match self.catalog.record(key).await? {
                Some(record)
                    if renders && !self.background && record.etag == etag && record.status == Status::Processing =>
                {
                    self.render(&record).await
                }
                _ => Ok(()),
            };
        };
        if replaced.is_some_and(|old| !old.renditions.is_empty() && old.etag != record.etag) {
            self.remove_renditions(key, Some(&record.etag)).await?;
        }
        if renders {
            if self.background {
                let processor = self.clone();
                tokio::spawn(async move {
                    if let Err(error) = processor.render(&record).await {
                        tracing::warn!(error = %crate::telemetry::ErrorChain(&error), key = record.key, "cannot render");
                    }
                });
            } else {
                self.render(&record).await?;
            }
        }
        Ok(())
    }

    /// Makes and records every preset of `record`'s image.
    pub async fn render(&self, record: &Record) -> Result<(), ProcessError> {
        let outcome = self.make(record).await?;
        let change = |current: &mut Record| {
            current.processing_since = None;
            match &outcome {
                Ok(made) => {
                    current.status = Status::Ready;
                    current.reason = None;
                    current.renditions.clone_from(made);
                }
                Err(reason) => {
                    current.status = Status::Failed;
                    current.reason = Some(reason.clone());
                    current.renditions.clear();
                }
            }
        };
        // Told only while the record still describes this version: a newer upload's own follow.
        let current = self.catalog.update(&record.key, &record.etag, change).await?;
        match &outcome {
            Ok(made) => tracing::info!(key = record.key, renditions = made.len(), "renditions made"),
            Err(reason) => tracing::info!(key = record.key, reason, "renditions failed"),
        }
        if current.is_none()
            && let Ok(made) = &outcome
        {
            self.discard(&record.key, &record.etag, made).await?;
        }
        if let (Some(announce), Some(_)) = (&self.announce, current) {
            let told = match &outcome {
                Ok(made) => {
                    let mut told = Ok(());
                    for (name, rendition) in made {
                        told = told.and(announce.ready(&record.key, &record.etag, name, rendition).await);
                    }
                    told
                }
                Err(reason) => announce.failed(&record.key, &record.etag, reason).await,
            };
            if let Err(error) = told {
                tracing::warn!(key = record.key, error, "cannot spool a rendition's event");
            }
        }
        Ok(())
    }

    /// The renditions made, or why there are none.
    async fn make(&self, record: &Record) -> Result<Result<BTreeMap<String, RenditionRecord>, String>, ProcessError> {
        if record.size > self.limits.max_bytes {
            return Ok(Err(format!(
                "image is {} bytes, more than the {} byte limit",
                record.size, self.limits.max_bytes
            )));
        }
        let bytes = match self.objects.get(&record.key, &record.etag, self.limits.max_bytes).await {
            Ok(bytes) => bytes,
            // Replaced since (412) or gone: its own event follows.
            Err(StorageError::Refused { status: 403 | 404 | 412, .. }) => {
                return Ok(Err("the original changed".into()));
            }
            Err(StorageError::TooLarge { size, limit }) => {
                return Ok(Err(format!("image is {size} bytes, more than the {limit} byte limit")));
            }
            Err(error) => return Err(error.into()),
        };
        let (presets, limits) = (self.presets.clone(), self.limits);
        let _turn = self.renders.acquire().await.map_err(|error| ProcessError::Task(error.to_string()))?;
        let rendered = tokio::task::spawn_blocking(move || render(&bytes, presets.as_slice(), &limits))
            .await
            .map_err(|error| ProcessError::Task(error.to_string()))?;
        let rendered = match rendered {
            Ok(rendered) => rendered,
            Err(error) => return Ok(Err(one_line(&error))),
        };
        let mut made = BTreeMap::new();
        for image in rendered {
            let key = rendition_key(
                &self.catalog.layout().renditions(),
                &record.key,
                &record.etag,
                &image.name,
                image.content_type,
            );
            self.objects.put(&key, image.bytes, image.content_type, RENDITION_CACHE_CONTROL).await?;
            made.insert(image.name, RenditionRecord { key, width: image.width, height: image.height });
        }
        Ok(Ok(made))
    }

    /// Removes `made`, the renditions of version `etag` of `key`, when that
    /// version was replaced or deleted while they were being made: the
    /// newer version's filing removed what was there then, and nothing
    /// else would remove these.
    async fn discard(
        &self,
        key: &str,
        etag: &str,
        made: &BTreeMap<String, RenditionRecord>,
    ) -> Result<(), ProcessError> {
        if self.catalog.record(key).await?.is_some_and(|now| now.etag == etag) {
            return Ok(()); // deleted and stored again with the same bytes: its own rendering keeps these
        }
        for rendition in made.values() {
            self.objects.delete(&rendition.key).await?;
        }
        Ok(())
    }

    /// Removes `key`'s renditions, all of them or all but those of `keep` (an ETag).
    async fn remove_renditions(&self, key: &str, keep: Option<&str>) -> Result<(), ProcessError> {
        let folder = renditions_folder(&self.catalog.layout().renditions(), key);
        let kept = keep.map(|etag| format!("{folder}{etag}/"));
        for stale in self.objects.objects(&folder).await? {
            if kept.as_ref().is_none_or(|kept| !stale.key.starts_with(kept.as_str())) {
                self.objects.delete(&stale.key).await?;
            }
        }
        Ok(())
    }

    /// Files every object under the prefix that the catalog lacks, or holds
    /// another version of while no events keep it (a backend that sends
    /// none, or a lost catalog), and renders them; with `render`, also
    /// renders stored images that lack a preset (objects stored before
    /// renditions were turned on, or a preset added since). Answers how many
    /// records it wrote.
    pub async fn sync(&self, render: bool) -> Result<Synced, ProcessError> {
        let mut synced = Synced::default();
        let prefix = self.catalog.layout().prefix.clone();
        let mut listed = std::collections::HashSet::new();
        for object in self.objects.objects(&prefix).await? {
            if self.catalog.layout().root(&object.key).is_none() {
                continue;
            }
            listed.insert(object.key.clone());
            synced.seen += 1;
            let current = self.catalog.record(&object.key).await?;
            match current {
                Some(record) if record.etag == object.etag => {
                    let missing = self.presets.iter().any(|preset| !record.renditions.contains_key(&preset.name));
                    let image = looks_like_an_image(record.content_type.as_deref(), &record.key);
                    let now = crate::state::now_seconds();
                    if render
                        && missing
                        && image
                        && let Some(claimed) = self.catalog.claim(&record.key, &record.etag, now).await?
                    {
                        self.render(&claimed).await?;
                        synced.rendered += 1;
                    }
                }
                // Events keep this record: the one for this version is on its way.
                Some(record) if record.sequencer != SYNCED => {}
                _ => {
                    let Some(head) = self.objects.head(&object.key).await? else { continue };
                    let time = object.last_modified.map_or_else(crate::state::now_seconds, seconds_of);
                    self.created(&object.key, SYNCED, time, head).await?;
                    synced.filed += 1;
                }
            }
        }
        // Records of objects storage no longer holds (deleted where no event
        // told of it): gone, if a HEAD agrees (an upload may have just landed).
        for key in self.catalog.filed_keys().await? {
            if !listed.contains(&key)
                && self.objects.head(&key).await?.is_none()
                && self.catalog.forget(&key).await?.is_some()
            {
                self.remove_renditions(&key, None).await?;
                synced.removed += 1;
            }
        }
        Ok(synced)
    }
}

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Synced {
    /// Objects looked at.
    pub seen: u64,
    /// Records written.
    pub filed: u64,
    /// Records rendered.
    pub rendered: u64,
    /// Records of objects storage no longer holds, removed.
    pub removed: u64,
}

fn seconds_of(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// `<renditions>/<32 hex of SHA-256 of the original's key>/`: a fixed length
/// whatever the original's key, one folder per original.
#[must_use]
pub fn renditions_folder(renditions: &str, original: &str) -> String {
    format!("{renditions}{}/", super::sha256_hex(original, 16))
}

/// Where the rendition `name` of the version `etag` of `original` is stored.
#[must_use]
pub fn rendition_key(renditions: &str, original: &str, etag: &str, name: &str, content_type: &str) -> String {
    let extension = if content_type == "image/png" { "png" } else { "jpg" };
    format!("{}{etag}/{name}.{extension}", renditions_folder(renditions, original))
}

/// Whether to try rendering: an image type, or no type and an image's name.
#[must_use]
pub fn looks_like_an_image(content_type: Option<&str>, key: &str) -> bool {
    let by_name = || mime_guess::from_path(key).first().is_some_and(|guess| guess.type_() == mime_guess::mime::IMAGE);
    match content_type.map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()) {
        Some(kind) if kind.starts_with("image/") => true,
        Some(kind) if kind == "application/octet-stream" || kind.is_empty() => by_name(),
        Some(_) => false,
        None => by_name(),
    }
}

/// An error as one line for the record.
fn one_line(error: &RenderError) -> String {
    error.to_string().lines().next().unwrap_or_default().to_owned()
}

/// An event's RFC 3339 time in seconds since the epoch (now, if unreadable).
fn event_time(time: &str) -> u64 {
    aws_smithy_types::DateTime::from_str(time, aws_smithy_types::date_time::Format::DateTime)
        .ok()
        .and_then(|time| u64::try_from(time.secs()).ok())
        .unwrap_or_else(crate::state::now_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renditions_are_keyed_by_a_hash_of_the_original_and_its_etag() {
        let key = rendition_key("up/_renditions/", "up/tenants/acme/a.jpg", "abc", "thumb", "image/jpeg");
        assert!(key.starts_with("up/_renditions/"));
        assert!(key.ends_with("/abc/thumb.jpg"));
        assert_eq!(key.len(), "up/_renditions/".len() + 33 + "abc/thumb.jpg".len());
        assert_ne!(renditions_folder("r/", "a"), renditions_folder("r/", "b"));
    }

    #[test]
    fn images_are_known_by_type_or_by_name() {
        assert!(looks_like_an_image(Some("image/heic"), "x.heic"));
        assert!(looks_like_an_image(Some("image/jpeg; charset=x"), "x"));
        assert!(looks_like_an_image(None, "x.PNG"));
        assert!(looks_like_an_image(Some("application/octet-stream"), "x.webp"));
        assert!(!looks_like_an_image(Some("application/pdf"), "x.jpg"));
        assert!(!looks_like_an_image(None, "notes.txt"));
    }

    #[test]
    fn event_times_are_read_to_the_second() {
        assert_eq!(event_time("2026-12-01T10:00:00Z"), 1_796_119_200);
    }
}
