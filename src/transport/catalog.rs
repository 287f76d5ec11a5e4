//! The upload log wired in: its layout from the policy, the processor on
//! the storage the gateway signs for, fed by the embedded store's events
//! in-process, and the sync that lists storage into the log at start (when
//! the log is new) and every `--catalog-sync-every`.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::catalog::processor::{Processor, Synced};
use crate::catalog::{Catalog, Layout};
use crate::config::CatalogSettings;
use crate::core::Policy;
use crate::state::StateStore;
use crate::storage::Objects;

/// The upload log, and the processor that keeps it.
#[derive(Debug, Clone)]
pub struct Wired {
    /// The log the gateway reads and writes intents to.
    pub catalog: Catalog,
    /// What files storage's events in it and renders images.
    pub processor: Processor,
}

/// Where each scope's log is, from the policy: tenants' folders when
/// callers are tenants, else the one scope of `--auth none`.
#[must_use]
pub fn layout(policy: &Policy, tenants: bool) -> Layout {
    let folder = policy.tenants.as_str().to_owned();
    Layout {
        prefix: policy.prefix.as_str().to_owned(),
        hidden: (!tenants && !folder.is_empty()).then(|| format!("{}{folder}", policy.prefix.as_str())),
        tenants: tenants.then_some(folder),
    }
}

/// The log in `state` filed by `layout`, and its processor on `objects`.
#[must_use]
pub fn wire(
    state: Arc<dyn StateStore>,
    layout: Layout,
    objects: Arc<dyn Objects>,
    settings: &CatalogSettings,
) -> Wired {
    let catalog = Catalog::new(state, layout);
    let processor = Processor::new(catalog.clone(), objects, settings.presets.clone(), settings.limits);
    Wired { catalog, processor }
}

/// Lists storage into the log at start when the log is new (rendering the
/// images it finds), then every `every`; a failed sync is logged and tried
/// again at the next.
#[must_use]
pub fn keep_in_step(processor: Processor, every: Option<Duration>) -> JoinHandle<()> {
    tokio::spawn(async move {
        match processor.catalog().ever_synced().await {
            Ok(true) => {}
            Ok(false) => sync(&processor, true).await,
            Err(error) => tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "cannot read the upload log"),
        }
        let Some(every) = every else { return };
        loop {
            tokio::time::sleep(every).await;
            sync(&processor, false).await;
        }
    })
}

async fn sync(processor: &Processor, render: bool) {
    let now = crate::state::now_seconds();
    match processor.sync(render).await {
        Ok(synced) => {
            let Synced { seen, filed, rendered, removed } = synced;
            tracing::info!(seen, filed, rendered, removed, "storage listed into the upload log");
            if let Err(error) = processor.catalog().note_sync(now).await {
                tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "cannot note the sync");
            }
        }
        Err(error) => {
            tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "cannot list storage into the upload log");
        }
    }
}

/// The embedded store's spool, where the processor's rendition events go.
#[cfg(feature = "embedded-store")]
#[derive(Debug)]
pub struct SpoolAnnounce(pub crate::store::Notices);

#[cfg(feature = "embedded-store")]
#[async_trait::async_trait]
impl crate::catalog::processor::Announce for SpoolAnnounce {
    async fn ready(
        &self,
        key: &str,
        etag: &str,
        name: &str,
        rendition: &crate::catalog::RenditionRecord,
    ) -> Result<(), String> {
        let made = (name.to_owned(), rendition.key.clone(), rendition.width, rendition.height);
        self.0.rendition(key, etag, Some(made), None).await
    }

    async fn failed(&self, key: &str, etag: &str, reason: &str) -> Result<(), String> {
        self.0.rendition(key, etag, None, Some(reason.to_owned())).await
    }
}

/// The embedded store's in-process receiver: each event to the processor.
#[cfg(feature = "embedded-store")]
#[derive(Debug)]
pub struct CatalogSink(pub Processor);

#[cfg(feature = "embedded-store")]
impl CatalogSink {
    /// The sink of `processor`, rendering in the background so the events behind an image wait for none.
    #[must_use]
    pub fn of(processor: &Processor) -> Self {
        Self(processor.clone().in_background())
    }
}

#[cfg(feature = "embedded-store")]
#[async_trait::async_trait]
impl crate::store::EventSink for CatalogSink {
    async fn take(&self, event: &crate::wire::events::ObjectEvent) -> Result<(), String> {
        self.0.handle(event).await.map_err(|error| crate::telemetry::ErrorChain(&error).to_string())
    }
}
