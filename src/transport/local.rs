//! The local HTTP server: the gateway's router on a TCP listener, beside the
//! embedded store unless an endpoint is configured. Ctrl-C or SIGTERM stops
//! accepting connections and lets requests in flight finish.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::with_secret_links;
use crate::aws;
#[cfg(feature = "embedded-store")]
use crate::config::StoreOnlyConfig;
use crate::config::{Config, StoreConfig};
use crate::gateway::{Gateway, app};
#[cfg(feature = "embedded-store")]
use crate::signing::CredentialsCache;
#[cfg(feature = "embedded-store")]
use crate::store::EmbeddedStore;

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The storage side, once started.
struct Storage {
    gateway: Gateway,
    /// One line for the banner.
    description: String,
    /// The embedded store's server, if there is one.
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let listen = config.listen;
    let storage = start_storage(config, signalled(stopped.clone())).await?;

    let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let base = format!("http://{}", listener.local_addr()?);
    // Tests and scripts read the first line for the address; a closed stdout is no reason to stop.
    let _ = writeln!(
        std::io::stdout().lock(),
        "presign-gateway listening on {base}\n  storage: {}\n  upload:   curl -L --upload-file ./hello.txt {base}/hello.txt\n  download: curl -L {base}/hello.txt",
        storage.description
    );

    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stop.send(true);
    });
    let gateway_server =
        axum::serve(listener, app(Arc::new(storage.gateway))).with_graceful_shutdown(signalled(stopped.clone()));
    let servers = async {
        gateway_server.await.context("the gateway server failed")?;
        if let Some(store) = storage.server {
            store.await.context("the embedded store stopped")?.context("the embedded store failed")?;
        }
        anyhow::Ok(())
    };
    tokio::select! {
        result = servers => result,
        () = async { signalled(stopped).await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
            Ok(())
        }
    }
}

/// Serves the embedded store alone until Ctrl-C or SIGTERM.
#[cfg(feature = "embedded-store")]
pub async fn serve_store(config: StoreOnlyConfig) -> anyhow::Result<()> {
    let store = EmbeddedStore::open(&config.store, config.credentials, &config.allowed_origins).await?;
    let _ = writeln!(
        std::io::stdout().lock(),
        "embedded store listening on {}\n  bucket `{}`, files in {}",
        store.location().endpoint.as_deref().unwrap_or_default(),
        config.store.bucket,
        config.store.data_dir.display()
    );
    store.serve(shutdown_signal()).await.context("the embedded store failed")
}

/// Starts the embedded store, or loads the AWS settings for external storage,
/// and builds the gateway that signs for it.
async fn start_storage(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<Storage> {
    let settings = with_secret_links(config.gateway, config.share_keys_secret.as_deref(), config.base_url).await?;
    match &config.store {
        #[cfg(feature = "embedded-store")]
        StoreConfig::Embedded(embedded) => {
            let credentials = EmbeddedStore::random_credentials();
            let store = EmbeddedStore::open(embedded, credentials.clone(), &settings.allowed_origins).await?;
            let location = store.location().clone();
            let description = format!(
                "embedded store at {}, bucket `{}`, files in {}",
                location.endpoint.as_deref().unwrap_or_default(),
                embedded.bucket,
                embedded.data_dir.display()
            );
            Ok(Storage {
                gateway: Gateway::build(
                    settings,
                    &location,
                    CredentialsCache::new(credentials.clone()),
                    store.storage(),
                )
                .await?,
                description,
                server: Some(tokio::spawn(store.serve(shutdown))),
            })
        }
        #[cfg(not(feature = "embedded-store"))]
        StoreConfig::Embedded(_) => {
            drop((shutdown, settings));
            Err(crate::config::ConfigError::NoEmbeddedStore.into())
        }
        StoreConfig::External { endpoint, public_url, bucket, region } => {
            let external = aws::load(endpoint.as_deref(), public_url.as_deref(), bucket, region.as_deref()).await?;
            Ok(Storage {
                gateway: Gateway::build(settings, &external.location, external.credentials, external.storage).await?,
                description: format!("bucket `{bucket}` at {}", endpoint.as_deref().unwrap_or("AWS S3")),
                server: None,
            })
        }
    }
}

/// Completes once the stop flag is raised.
async fn signalled(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot watch for SIGTERM; only Ctrl-C stops the server");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
