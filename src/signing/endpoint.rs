//! The bucket's base URL, resolved once by the SDK's own S3 endpoint rules
//! (virtual-hosted or path-style, partitions, FIPS), so the request path only
//! appends a key.

use aws_sdk_s3::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_smithy_types::Document;

use super::sigv4::Target;

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

/// The resolved base URL of a bucket and the region that signs for it. The
/// URL is split once, here, as SigV4 reads it; the signer and the page's CSP
/// take their parts from that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEndpoint {
    target: Target,
    signing_region: String,
}

/// A bucket URL SigV4 cannot sign for.
#[derive(Debug, thiserror::Error)]
#[error("the bucket's URL `{0}` cannot be signed for: it needs a scheme and a host, and no query")]
pub struct UnsignableUrl(pub String);

impl BucketEndpoint {
    /// The bucket at `url` (scheme, host and, path-style, the bucket), signed
    /// for in `signing_region`.
    ///
    /// # Errors
    /// [`UnsignableUrl`] if `url` has no scheme or host, or has a query or a fragment.
    pub fn new(url: &str, signing_region: &str) -> Result<Self, UnsignableUrl> {
        let target = Target::parse(url).ok_or_else(|| UnsignableUrl(url.to_owned()))?;
        Ok(Self { target, signing_region: signing_region.to_owned() })
    }

    /// Scheme, host and, path-style, the bucket; no trailing `/`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.target.base
    }

    /// Where presigned URLs lead, `scheme://host[:port]`.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.target.base[..self.target.path_start]
    }

    /// The SigV4 region.
    #[must_use]
    pub fn signing_region(&self) -> &str {
        &self.signing_region
    }

    /// The URL as the signer needs it.
    pub(super) fn target(&self) -> &Target {
        &self.target
    }
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
        BucketEndpoint::new(url, field("signingRegion").unwrap_or(&self.region))
            .map_err(|_| unresolvable(format!("`{url}` has no host to sign for")))
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
        assert_eq!(resolved.url(), "https://my-files.s3.eu-west-1.amazonaws.com");
        assert_eq!(resolved.signing_region(), "eu-west-1");
    }

    #[tokio::test]
    async fn custom_endpoints_are_path_style() {
        let resolved = location("local", "us-east-1", Some("http://127.0.0.1:9000")).resolve().await.unwrap();
        assert_eq!(resolved.url(), "http://127.0.0.1:9000/local");
    }

    #[tokio::test]
    async fn dotted_buckets_fall_back_to_path_style() {
        let resolved = location("my.files", "eu-west-1", None).resolve().await.unwrap();
        assert_eq!(resolved.url(), "https://s3.eu-west-1.amazonaws.com/my.files");
    }

    #[test]
    fn origins_are_the_scheme_and_the_authority() {
        let cases = [
            ("https://files.s3.eu-west-1.amazonaws.com", "https://files.s3.eu-west-1.amazonaws.com"),
            ("http://127.0.0.1:9000/bucket", "http://127.0.0.1:9000"),
            ("https://h:443/b/", "https://h:443"),
            ("https://store.example:8443/nested/path/b", "https://store.example:8443"),
        ];
        for (url, origin) in cases {
            assert_eq!(BucketEndpoint::new(url, "r").unwrap().origin(), origin, "{url}");
        }
        assert!(BucketEndpoint::new("http://h/b?x=1", "r").is_err());
    }

    #[tokio::test]
    async fn unknown_regions_are_refused() {
        assert!(location("files", "", None).resolve().await.is_err());
    }
}
