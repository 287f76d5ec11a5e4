//! Opening the configured engine at start-up, and saying which it is.

use std::sync::Arc;

use aws_config::SdkConfig;

use super::StateStore;
use super::dynamo::DynamoState;
use crate::config::StateConfig;

/// How often the local engine removes expired items (DynamoDB's TTL does it there).
#[cfg(feature = "embedded-store")]
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The name of the local engine's file in its folder.
pub const LOCAL_FILE: &str = "state.redb";

/// The engine `config` names, or `None` when the catalog is off. A table is
/// reached with the AWS chain in `sdk` (loaded here when `None`); a local
/// file is created if missing.
///
/// # Errors
/// The local file is held by another process or cannot be created; the
/// build has no local engine; no region is configured for a table on AWS.
/// A table is not called here: an unreachable one fails the calls that
/// need it (answered 503), not the start.
pub async fn open(config: &StateConfig, sdk: Option<&SdkConfig>) -> anyhow::Result<Option<Arc<dyn StateStore>>> {
    match config {
        StateConfig::Off => Ok(None),
        StateConfig::Dynamo { table, endpoint } => {
            let loaded;
            let sdk = if let Some(sdk) = sdk {
                sdk
            } else {
                loaded = crate::aws::sdk_config(None).await;
                &loaded
            };
            Ok(Some(Arc::new(DynamoState::new(sdk, table, endpoint.as_deref())?)))
        }
        #[cfg(feature = "embedded-store")]
        StateConfig::Local { dir } => {
            use anyhow::Context as _;
            let dir = dir.clone();
            let local = tokio::task::spawn_blocking(move || super::local::LocalState::open(&dir))
                .await
                .context("opening the state file stopped")??;
            local.keep_swept(SWEEP_EVERY);
            Ok(Some(Arc::new(local)))
        }
        #[cfg(not(feature = "embedded-store"))]
        StateConfig::Local { .. } => Err(crate::config::ConfigError::NoLocalState.into()),
    }
}

/// The engine `config` names, in one line for the banner.
#[must_use]
pub fn describe(config: &StateConfig) -> String {
    match config {
        StateConfig::Off => "off (--state-table or --state-dir turns it on)".to_owned(),
        StateConfig::Local { dir } => format!("redb file {}", dir.join(LOCAL_FILE).display()),
        StateConfig::Dynamo { table, endpoint } => {
            format!("DynamoDB table {table} at {}", endpoint.as_deref().unwrap_or("AWS"))
        }
    }
}
