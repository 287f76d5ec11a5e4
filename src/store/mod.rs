//! The embedded S3-compatible store: s3s with s3s-fs on local disk. It checks
//! SigV4 presigned URLs as S3 does (a tampered signature or an expired URL
//! gets 403), so everything can be run and tested with no AWS account.

mod complete;
mod objects;

use std::future::Future;

use anyhow::Context;
use aws_credential_types::Credentials;
use axum::Router;
use axum::error_handling::HandleError;
use axum::response::IntoResponse;
use http::{HeaderValue, StatusCode, header};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

use crate::config::{AllowedOrigins, EmbeddedConfig, ServerLimits};
use crate::signing::StoreLocation;
use crate::storage::S3Storage;
use aws_credential_types::provider::SharedCredentialsProvider;

/// The region the embedded store signs in.
pub const REGION: &str = "us-east-1";

/// A bound, ready-to-serve embedded store.
#[derive(Debug)]
pub struct EmbeddedStore {
    listener: TcpListener,
    router: Router,
    location: StoreLocation,
    credentials: Credentials,
    /// Where the gateway itself reaches the store: its listen address.
    server_url: String,
}

impl EmbeddedStore {
    /// Fresh random credentials, so that only the process holding them can
    /// sign for the store.
    #[must_use]
    pub fn random_credentials() -> Credentials {
        let access_key = format!("PGW{}", uuid::Uuid::new_v4().simple()).to_uppercase();
        let secret_key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        Credentials::new(access_key, secret_key, None, None, "embedded-store")
    }

    /// Creates `data_dir/bucket` if needed and binds the listener. The store
    /// accepts signatures made with `credentials` only, and browser pages
    /// from `allowed_origins` and `page_origins` (the gateway's own, whose
    /// page uploads straight to the store).
    pub async fn open(
        config: &EmbeddedConfig,
        credentials: Credentials,
        allowed_origins: &AllowedOrigins,
        page_origins: &[HeaderValue],
    ) -> anyhow::Result<Self> {
        let EmbeddedConfig { data_dir, listen, bucket, public_url } = config;
        let bucket_dir = data_dir.join(bucket);
        tokio::fs::create_dir_all(&bucket_dir)
            .await
            .with_context(|| format!("cannot create the store's folder {}", bucket_dir.display()))?;
        let fs = s3s_fs::FileSystem::new(data_dir)
            .map_err(|e| anyhow::anyhow!("cannot open the store in {}: {e:?}", data_dir.display()))?;

        let mut builder = S3ServiceBuilder::new(objects::Objects::new(fs, data_dir));
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id().to_owned(),
            credentials.secret_access_key().to_owned(),
        ));
        let service = HandleError::new(builder.build(), |error: s3s::HttpError| async move {
            tracing::error!(error = ?error, "the embedded store failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        });
        let mut router = Router::new().fallback_service(service);
        // Browsers reach the store after a cross-origin redirect, which makes
        // their `Origin` `null`; the store allows that besides the origins
        // configured for the gateway.
        let mut origins = page_origins.to_vec();
        if *allowed_origins != AllowedOrigins::None {
            origins.push(HeaderValue::from_static("null"));
        }
        let exposed = [header::ETAG, header::CONTENT_LENGTH, header::CONTENT_RANGE];
        if let Some(cors) = crate::cors::layer(allowed_origins, &origins, exposed) {
            router = router.layer(cors);
        }

        let listener =
            TcpListener::bind(listen).await.with_context(|| format!("the embedded store cannot listen on {listen}"))?;
        let server_url = format!("http://{}", listener.local_addr()?);
        let url = public_url.clone().unwrap_or_else(|| server_url.clone());
        Ok(Self {
            listener,
            router,
            location: StoreLocation { bucket: bucket.to_owned(), region: REGION.to_owned(), endpoint: Some(url) },
            credentials,
            server_url,
        })
    }

    /// Where clients reach the bucket.
    #[must_use]
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// A client for the gateway's own calls to this store, each within `timeout`.
    #[must_use]
    pub fn storage(&self, timeout: std::time::Duration) -> S3Storage {
        let credentials = SharedCredentialsProvider::new(self.credentials.clone());
        S3Storage::new(credentials, REGION, Some(&self.server_url), &self.location.bucket, timeout)
    }

    /// The credentials URLs for this store are signed with.
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    /// Uploads are written to a temporary file and renamed when complete, so
    /// an interrupted one never shows as an object.
    pub async fn serve(self, limits: ServerLimits, shutdown: impl Future<Output = ()> + Send + 'static) {
        crate::http_server::serve(vec![self.listener], self.router, limits, shutdown).await;
    }
}
