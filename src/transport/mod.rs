//! The edges: how requests reach the gateway's router.

pub mod lambda;
pub mod local;

use crate::aws::{AwsSetupError, share_keys_from_secret};
use crate::gateway::{GatewaySettings, Links};

/// The settings with share links whose keys are read from `secret` (a
/// Secrets Manager ARN), when one is configured.
pub async fn with_secret_links(
    mut settings: GatewaySettings,
    secret: Option<&str>,
    base_url: Option<String>,
) -> Result<GatewaySettings, AwsSetupError> {
    if let Some(arn) = secret {
        settings.links = Some(Links { keys: share_keys_from_secret(arn).await?, base_url });
    }
    Ok(settings)
}
