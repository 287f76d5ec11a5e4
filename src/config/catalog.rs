//! The settings of what happens after an upload: the rendition presets,
//! the limits an image is rendered within, and how often the upload log is
//! reconciled with storage.

use std::time::Duration;

use super::{ConfigError, Runtime};
use crate::cli::CatalogArgs;
use crate::render::{ImageLimits, Presets};

/// The presets `serve` makes when none are named: a thumbnail for the page.
pub const LOCAL_RENDITIONS: &str = "thumb=320x320";

/// Validated settings of the catalog's processing.
#[derive(Debug, Clone)]
pub struct CatalogSettings {
    /// The renditions made of every image (none: empty).
    pub presets: Presets,
    /// What an image may be.
    pub limits: ImageLimits,
    /// How often to reconcile the log with storage, beyond the start.
    pub sync_every: Option<Duration>,
}

impl CatalogSettings {
    /// Reads `args`; without `--renditions`, a thumbnail locally and none in Lambda.
    pub fn from_args(args: &CatalogArgs, runtime: Runtime) -> Result<Self, ConfigError> {
        let spec = args.renditions.as_deref().unwrap_or(match runtime {
            Runtime::Local => LOCAL_RENDITIONS,
            Runtime::Lambda => "none",
        });
        let presets = Presets::parse(spec).map_err(|error| ConfigError::Renditions(error.to_string()))?;
        if args.max_image_pixels == 0 || args.max_image_bytes == 0 {
            return Err(ConfigError::ImageLimits);
        }
        if args.catalog_sync_every.is_some_and(|every| every < Duration::from_secs(60)) {
            return Err(ConfigError::CatalogSyncEvery);
        }
        Ok(Self {
            presets,
            limits: ImageLimits { max_bytes: args.max_image_bytes, max_pixels: args.max_image_pixels },
            sync_every: args.catalog_sync_every,
        })
    }

    /// The presets' names, which `?rendition=` takes.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.presets.iter().map(|preset| preset.name.clone()).collect()
    }
}
