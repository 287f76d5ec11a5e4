//! The local HTTP server: the gateway's router on a TCP listener, beside the
//! embedded store unless an endpoint is configured. Ctrl-C or SIGTERM stops
//! accepting connections and lets requests in flight finish.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::aws;
use crate::config::{Config, StoreConfig};
use crate::gateway::{Gateway, app};

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let signalled = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };

    let (gateway, store_note, store_task) = match &config.store {
        #[cfg(feature = "embedded-store")]
        StoreConfig::Embedded {
            data_dir,
            listen,
            bucket,
            public_url,
        } => {
            let store = crate::store::EmbeddedStore::open(
                data_dir,
                bucket,
                *listen,
                public_url.clone(),
                &config.allowed_origins,
            )
            .await?;
            let location = store.location().clone();
            let gateway = Gateway::build(
                &config,
                &location,
                crate::signing::CredentialsCache::new(store.credentials()),
            )
            .await?;
            let note = format!(
                "embedded store at {}, bucket `{bucket}`, files in {}",
                location.endpoint.unwrap_or_default(),
                data_dir.display()
            );
            (
                gateway,
                note,
                Some(tokio::spawn(store.serve(signalled(stopped.clone())))),
            )
        }
        #[cfg(not(feature = "embedded-store"))]
        StoreConfig::Embedded { .. } => anyhow::bail!(crate::config::ConfigError::NoEmbeddedStore),
        StoreConfig::External {
            endpoint,
            public_url,
            bucket,
            region,
        } => {
            let external = aws::load(
                endpoint.as_deref(),
                public_url.as_deref(),
                bucket,
                region.as_deref(),
            )
            .await?;
            let note = format!(
                "bucket `{bucket}` at {}",
                endpoint.as_deref().unwrap_or("AWS S3")
            );
            (
                Gateway::build(&config, &external.location, external.credentials).await?,
                note,
                None,
            )
        }
    };

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    // Tests and scripts read the first line for the address; a closed stdout is no reason to stop.
    let _ = writeln!(
        std::io::stdout().lock(),
        "presign-gateway listening on {base}\n  storage: {store_note}\n  upload:   curl -L --upload-file ./hello.txt {base}/hello.txt\n  download: curl -L {base}/hello.txt"
    );

    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stop.send(true);
    });
    let gateway_server = axum::serve(listener, app(Arc::new(gateway)))
        .with_graceful_shutdown(signalled(stopped.clone()));
    let servers = async {
        gateway_server.await.context("the gateway server failed")?;
        if let Some(store) = store_task {
            store
                .await
                .context("the embedded store stopped")?
                .context("the embedded store failed")?;
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

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
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
