//! The bucket's base URL, resolved once by the SDK's own S3 endpoint rules
//! (virtual-hosted or path-style, partitions, FIPS), so the request path only
//! appends a key.

use aws_sdk_s3::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_smithy_types::Document;

/// Where the bucket lives, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLocation {
    /// The bucket.
    pub bucket: String,
    /// The bucket's region.
    pub region: String,
    /// The base URL clients reach storage at; `None` means AWS S3.
    /// A custom endpoint is addressed path-style (`endpoint/bucket/key`), as
    /// MinIO, Garage and the embedded store expect.
    pub endpoint: Option<String>,
}

/// The resolved base URL of a bucket and the region that signs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEndpoint {
    /// Scheme, host and, path-style, the bucket; no trailing `/`.
    pub url: String,
    /// The SigV4 region.
    pub signing_region: String,
}

/// Why the bucket's endpoint could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The SDK refused the bucket, region or endpoint.
    #[error("cannot address bucket `{bucket}` in region `{region}`: {reason}")]
    Unresolvable {
        /// The bucket.
        bucket: String,
        /// The region.
        region: String,
        /// The SDK's explanation.
        reason: String,
    },
    /// S3 Express and multi-region access points need other signers.
    #[error("bucket `{0}` needs the `{1}` signing scheme; only plain SigV4 buckets are supported")]
    UnsupportedScheme(String, String),
}

impl StoreLocation {
    /// Resolves the bucket's base URL with the SDK's endpoint rules.
    pub async fn resolve(&self) -> Result<BucketEndpoint, EndpointError> {
        let unresolvable = |reason: String| EndpointError::Unresolvable {
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            reason,
        };
        let params = Params::builder()
            .bucket(&self.bucket)
            .region(&self.region)
            .set_endpoint(self.endpoint.clone())
            .force_path_style(self.endpoint.is_some())
            .build()
            .map_err(|e| unresolvable(e.to_string()))?;
        let endpoint =
            DefaultResolver::new().resolve_endpoint(&params).await.map_err(|e| unresolvable(e.to_string()))?;

        let scheme = endpoint.properties().get("authSchemes").and_then(|schemes| match schemes {
            Document::Array(schemes) => schemes.first().and_then(|s| s.as_object()),
            _ => None,
        });
        let field = |name: &str| scheme.and_then(|s| s.get(name)).and_then(Document::as_string);
        if let Some(name) = field("name").filter(|name| *name != "sigv4") {
            return Err(EndpointError::UnsupportedScheme(self.bucket.clone(), name.to_owned()));
        }
        let url = endpoint.url().trim_end_matches('/');
        if super::sigv4::Target::parse(url).is_none() {
            return Err(unresolvable(format!("`{url}` has no host to sign for")));
        }
        Ok(BucketEndpoint {
            url: url.to_owned(),
            signing_region: field("signingRegion").unwrap_or(&self.region).to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(bucket: &str, region: &str, endpoint: Option<&str>) -> StoreLocation {
        StoreLocation { bucket: bucket.into(), region: region.into(), endpoint: endpoint.map(str::to_owned) }
    }

    #[tokio::test]
    async fn aws_buckets_are_virtual_hosted() {
        let resolved = location("my-files", "eu-west-1", None).resolve().await.unwrap();
        assert_eq!(resolved.url, "https://my-files.s3.eu-west-1.amazonaws.com");
        assert_eq!(resolved.signing_region, "eu-west-1");
    }

    #[tokio::test]
    async fn custom_endpoints_are_path_style() {
        let resolved = location("local", "us-east-1", Some("http://127.0.0.1:9000")).resolve().await.unwrap();
        assert_eq!(resolved.url, "http://127.0.0.1:9000/local");
    }

    #[tokio::test]
    async fn dotted_buckets_fall_back_to_path_style() {
        let resolved = location("my.files", "eu-west-1", None).resolve().await.unwrap();
        assert_eq!(resolved.url, "https://s3.eu-west-1.amazonaws.com/my.files");
    }

    #[tokio::test]
    async fn unknown_regions_are_refused() {
        assert!(location("files", "", None).resolve().await.is_err());
    }
}
