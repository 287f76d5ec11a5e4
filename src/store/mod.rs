//! The embedded S3-compatible store: s3s for the protocol and SigV4 (a
//! tampered signature or an expired URL gets 403, as on S3), and our own
//! storage behind it, so everything can be run and tested with no AWS
//! account and the store keeps S3's promises.
//!
//! On disk, each bucket lives in `DATA_DIR/v2/BUCKET/`:
//! - `index.redb`: the keys, each object's attributes, ETag and checksum,
//!   and the state of multipart uploads, in a crash-safe database
//!   ([`index`]). Nothing on disk is named after a key, so keys take S3's
//!   1024 bytes of any UTF-8, `a` and `a/b` are two keys like any others,
//!   and listings and part lists are range reads, never a scan.
//! - `data/XX/<uuid>`: the bytes, in immutable files ([`blobs`]): one per
//!   PUT, one per part of a multipart object, which stays as its parts (the
//!   index lists them in order), so completing an upload copies nothing.
//! - `tmp/`: uploads in flight, written, digested and synced there before
//!   they are renamed into `data/` and committed to the index ([`disk`] has
//!   the order). A refused, interrupted or crashed upload never reaches the
//!   index, so the object it meant to replace stays as it was.
//!
//! Housekeeping ([`housekeeping`]) aborts stale multipart uploads and clears
//! what a crash left; a data folder in the old layout (s3s-fs's plain files
//! at `DATA_DIR/BUCKET/KEY`) is moved in on the first start ([`migrate`]).
//! With `--notify-url`, each object created or deleted spools an event in the
//! index, in the same commit, which [`notify`] POSTs to the receivers.

mod blobs;
mod bucket;
mod checksum;
mod conditions;
mod disk;
mod error;
mod fields;
mod housekeeping;
mod index;
mod listing;
mod migrate;
mod multipart;
mod notify;
pub use notify::EventSink;

mod objects;
mod records;
mod unsigned;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_credential_types::Credentials;
use axum::Router;
use axum::error_handling::HandleError;
use axum::response::IntoResponse;
use http::{HeaderName, HeaderValue, StatusCode, header};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

use crate::config::{AllowedOrigins, EmbeddedConfig};
use crate::http_server::ServerLimits;
use crate::signing::StoreLocation;
use crate::storage::S3Storage;
use aws_credential_types::provider::SharedCredentialsProvider;

/// The region the embedded store signs in.
pub const REGION: &str = "us-east-1";

/// A bound, ready-to-serve embedded store.
#[derive(Debug)]
pub struct EmbeddedStore {
    listeners: Vec<TcpListener>,
    router: Router,
    location: StoreLocation,
    credentials: Credentials,
    /// Where the gateway itself reaches the store: its first listen address.
    server_url: String,
    bucket: Arc<bucket::Bucket>,
    abort_uploads_after: Duration,
    deliveries: Option<notify::Deliveries>,
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

    /// Opens the bucket in `data_dir/v2/bucket` (moving in a data folder of
    /// the old layout, clearing what a crash left) and binds a listener on
    /// each of its listen addresses.
    /// The store accepts signatures made with `credentials` only, and browser
    /// pages from `allowed_origins` and `page_origins` (the gateway's own,
    /// whose page uploads straight to the store).
    /// With `quiet` (the renditions' prefix, when the catalog is on), every
    /// change but those under it is also handed to an in-process receiver
    /// ([`EmbeddedStore::serve`]'s sink).
    pub async fn open(
        config: &EmbeddedConfig,
        credentials: Credentials,
        allowed_origins: &AllowedOrigins,
        page_origins: &[HeaderValue],
        quiet: Option<&str>,
    ) -> anyhow::Result<Self> {
        let EmbeddedConfig {
            data_dir,
            listen,
            bucket,
            public_url,
            abort_uploads_after,
            notify,
            allow_null_origin,
            strict_signing,
        } = config;
        let opened = {
            let (data_dir, name, abort_after) = (data_dir.clone(), bucket.clone(), *abort_uploads_after);
            tokio::task::spawn_blocking(move || open_bucket(&data_dir, &name, abort_after)).await?
        };
        let mut opened = opened.with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
        let deliveries = notify::prepare(&mut opened, notify, quiet).context("cannot start the upload events")?;
        let opened = Arc::new(opened);

        let mut builder = S3ServiceBuilder::new(objects::Objects::new(opened.clone()));
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id().to_owned(),
            credentials.secret_access_key().to_owned(),
        ));
        let service = HandleError::new(builder.build(), |error: s3s::HttpError| async move {
            tracing::error!(error = ?error, "the embedded store failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        });
        let signing = if *strict_signing { unsigned::Signing::Strict } else { unsigned::Signing::AsS3 };
        let router = Router::new()
            .fallback_service(service)
            .layer(axum::middleware::from_fn_with_state(signing, unsigned::refuse));
        // A page from another origin that follows the gateway's 307 here
        // arrives with `Origin: null`, as does any sandboxed iframe anywhere,
        // so `null` is let in only when asked for (configuration checks that
        // other origins are allowed then).
        let mut origins = page_origins.to_vec();
        if *allow_null_origin {
            origins.push(HeaderValue::from_static("null"));
        }
        let exposed = [
            header::ETAG,
            header::CONTENT_LENGTH,
            header::CONTENT_RANGE,
            HeaderName::from_static("x-amz-checksum-crc64nvme"),
            HeaderName::from_static("x-amz-checksum-type"),
        ];
        let router = crate::cors::apply(router, "the embedded store", allowed_origins, &origins, exposed)
            .layer(axum::middleware::map_response(no_sniffing));

        let listeners = crate::http_server::bind(listen).await.context("the embedded store")?;
        // Every address serves the same port; the first (IPv4 before IPv6) names the store.
        let first = listeners.first().context("the embedded store has no address to listen on")?;
        let server_url = format!("http://{}", first.local_addr()?);
        let url = public_url.clone().unwrap_or_else(|| server_url.clone());
        Ok(Self {
            listeners,
            router,
            location: StoreLocation { bucket: bucket.to_owned(), region: REGION.to_owned(), endpoint: Some(url) },
            credentials,
            server_url,
            bucket: opened,
            abort_uploads_after: *abort_uploads_after,
            deliveries,
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

    /// Where the gateway spools its own events about objects (renditions),
    /// beside storage's, for the same receivers.
    #[must_use]
    pub fn notices(&self) -> Notices {
        Notices(self.bucket.clone())
    }

    /// The credentials URLs for this store are signed with.
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in
    /// flight; housekeeping and the delivery of upload events (to `sink`
    /// too, if the store was opened for one) run meanwhile.
    pub async fn serve(
        self,
        limits: ServerLimits,
        shutdown: impl Future<Output = ()> + Send + 'static,
        sink: Option<Arc<dyn EventSink>>,
    ) {
        let housekeeping = tokio::spawn(housekeeping::run(self.bucket.clone(), self.abort_uploads_after));
        let deliveries = self.deliveries.map(|d| d.spawn(&self.bucket, sink)).unwrap_or_default();
        crate::http_server::serve(self.listeners, self.router, limits, shutdown).await;
        housekeeping.abort();
        if !deliveries.is_empty() {
            for delivery in deliveries {
                delivery.abort();
            }
            if let Err(error) = self.bucket.blocking(|b| b.index().flush_events()).await {
                tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "cannot record the upload events delivered");
            }
        }
    }
}

/// The spool of the gateway's own events about the store's objects.
#[derive(Debug, Clone)]
pub struct Notices(Arc<bucket::Bucket>);

/// A rendition, as its event names it: preset, storage key, width, height.
pub type MadeRendition = (String, String, u32, u32);

impl Notices {
    /// Spools a rendition's event about `key` (its version `etag`): `made`, or failed for `reason`.
    pub async fn rendition(
        &self,
        key: &str,
        etag: &str,
        made: Option<MadeRendition>,
        reason: Option<String>,
    ) -> Result<(), String> {
        let kind = if made.is_some() { index::EventKind::RenditionReady } else { index::EventKind::RenditionFailed };
        let (name, rendition_key, width, height) =
            made.map_or((None, None, 0, 0), |(n, k, w, h)| (Some(n), Some(k), w, h));
        let event = index::SpooledEvent {
            id: uuid::Uuid::new_v4(),
            kind,
            key: key.to_owned(),
            size: 0,
            etag: etag.to_owned(),
            time_ns: records::now_ns(),
            rendition: Some(index::SpooledRendition { name, key: rendition_key, width, height, reason }),
        };
        self.0
            .blocking(move |bucket| bucket.index().spool_notice(&event))
            .await
            .map_err(|error| crate::telemetry::ErrorChain(&error).to_string())
    }
}

/// Every answer says its type is the one to use: a browser must not guess
/// `text/html` for an upload that only looks like a page.
async fn no_sniffing(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Opens a bucket: moves in the old layout's objects, then clears leftovers.
fn open_bucket(data_dir: &Path, name: &str, abort_after: Duration) -> Result<bucket::Bucket, error::StoreError> {
    let root = data_dir.join("v2").join(name);
    let opened = bucket::Bucket::open(name, &root, Arc::new(disk::RealDisk))?;
    let migrated = migrate::from_old_layout(data_dir, &opened)?;
    if migrated.objects > 0 {
        tracing::info!(
            objects = migrated.objects,
            bytes = migrated.bytes,
            "moved the objects of the old layout ({}/{name}/KEY) into {}",
            data_dir.display(),
            root.display()
        );
    }
    housekeeping::report(name, &housekeeping::at_start(&opened, abort_after));
    Ok(opened)
}
