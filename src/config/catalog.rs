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
    /// The EventBridge bus the processor function tells of renditions on.
    pub event_bus: Option<String>,
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
        let event_bus = args.event_bus.as_deref().map(|bus| check_event_bus(bus, runtime)).transpose()?;
        Ok(Self {
            event_bus,
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

/// `bus` when it can name an EventBridge bus: a name, or an ARN (a bus of
/// another account). EventBridge itself checks the rest.
fn check_event_bus(bus: &str, runtime: Runtime) -> Result<String, ConfigError> {
    if runtime == Runtime::Local {
        return Err(ConfigError::EventBusLocally);
    }
    let name = bus.strip_prefix("arn:").map_or(bus, |arn| arn.rsplit_once(":event-bus/").map_or("", |(_, name)| name));
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/".contains(c);
    if bus.len() > 1600 || name.is_empty() || name.len() > 256 || !name.chars().all(allowed) {
        return Err(ConfigError::EventBus(bus.to_owned()));
    }
    Ok(bus.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_bus_is_a_name_or_an_arn_and_not_for_serve() {
        for bus in ["default", "photos.events-1_a/b", "arn:aws:events:eu-west-1:123456789012:event-bus/photos"] {
            assert_eq!(check_event_bus(bus, Runtime::Lambda).ok().as_deref(), Some(bus));
        }
        for bus in ["", "a b", "arn:aws:events:eu-west-1:123456789012:rule/x", "bus?", &"b".repeat(257)] {
            assert!(matches!(check_event_bus(bus, Runtime::Lambda), Err(ConfigError::EventBus(_))), "{bus:?}");
        }
        assert!(matches!(check_event_bus("default", Runtime::Local), Err(ConfigError::EventBusLocally)));
    }
}
