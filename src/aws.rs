//! AWS S3 or another S3-compatible endpoint, reached with credentials and
//! region from the standard AWS chain (environment, profile, web identity,
//! container and instance roles), and the share keys' Secrets Manager
//! secret. The chain is loaded once at start-up.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::links::{ShareKeys, ShareKeysError};
use crate::signing::{CredentialsCache, StoreLocation};
use crate::storage::S3Storage;

/// The region used with a custom endpoint when none is configured.
const DEFAULT_ENDPOINT_REGION: &str = "us-east-1";

/// Why external storage cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AwsSetupError {
    /// Neither configuration nor the AWS chain names a region.
    #[error("no region for bucket `{0}`: set --region / AWS_REGION")]
    NoRegion(String),
    /// The AWS chain has no credentials provider at all.
    #[error("no AWS credentials provider is configured")]
    NoCredentials,
    /// The share keys secret cannot be read.
    #[error("cannot read the share keys from secret {0}")]
    Secret(String, #[source] Box<aws_sdk_secretsmanager::Error>),
    /// The secret holds no text.
    #[error("secret {0} holds no share keys")]
    EmptySecret(String),
    /// The secret's share keys cannot be used.
    #[error("secret {0}")]
    ShareKeys(String, #[source] ShareKeysError),
}

/// The AWS chain's settings, with `region` when one is configured.
pub async fn sdk_config(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    loader.load().await
}

/// Reads share keys (`kid:secret,...`, or Secrets Manager's generated
/// `{"kid":...,"secret":...}`) from an AWS Secrets Manager secret.
pub async fn share_keys_from_secret(sdk: &SdkConfig, arn: &str) -> Result<ShareKeys, AwsSetupError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let secret = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| AwsSetupError::Secret(arn.to_owned(), Box::new(e.into())))?;
    let text = secret.secret_string().ok_or_else(|| AwsSetupError::EmptySecret(arn.to_owned()))?;
    ShareKeys::parse(text).map_err(|e| AwsSetupError::ShareKeys(arn.to_owned(), e))
}

/// A bucket on AWS S3 or an S3-compatible endpoint, ready to sign for.
#[derive(Debug)]
pub struct RemoteBucket {
    /// Where clients reach the bucket.
    pub location: StoreLocation,
    /// Credentials to sign with.
    pub credentials: CredentialsCache,
    /// The client for the gateway's own calls (multipart steps).
    pub storage: Arc<S3Storage>,
}

/// The bucket as the AWS chain in `sdk` reaches it, each of the gateway's own
/// calls within `timeout`. Clients are sent to
/// `public_url` when given, else to `endpoint`, else to AWS S3.
pub fn bucket(
    sdk: &SdkConfig,
    endpoint: Option<&str>,
    public_url: Option<&str>,
    bucket: &str,
    timeout: Duration,
) -> Result<RemoteBucket, AwsSetupError> {
    let region = match (sdk.region(), endpoint) {
        (Some(region), _) => region.to_string(),
        (None, Some(_)) => DEFAULT_ENDPOINT_REGION.to_owned(),
        (None, None) => return Err(AwsSetupError::NoRegion(bucket.to_owned())),
    };
    let credentials = sdk.credentials_provider().ok_or(AwsSetupError::NoCredentials)?;
    Ok(RemoteBucket {
        storage: Arc::new(S3Storage::new(credentials.clone(), &region, endpoint, bucket, timeout)),
        location: StoreLocation {
            bucket: bucket.to_owned(),
            region,
            endpoint: public_url.or(endpoint).map(str::to_owned),
        },
        credentials: CredentialsCache::new(credentials),
    })
}
