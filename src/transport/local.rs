//! The local HTTP server: the gateway's router on a TCP listener, beside the
//! embedded store unless an endpoint is configured, and the metrics port if
//! asked for ([`super::observe`]). Ctrl-C or SIGTERM stops accepting
//! connections and lets requests in flight finish (`/readyz` fails meanwhile).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::observe;
use crate::config::Config;
#[cfg(feature = "embedded-store")]
use crate::config::StoreOnlyConfig;
use crate::gateway::app;
#[cfg(feature = "embedded-store")]
use crate::store::EmbeddedStore;

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let (listen, metrics_listen) = (config.listen, config.metrics_listen);
    let started = super::start(config, signalled(stopped.clone())).await?;
    let gateway = Arc::new(started.gateway);

    let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let metrics = match metrics_listen {
        Some(address) => {
            let bound = observe::serve(address, gateway.clone(), stopped.clone()).await?;
            format!("\n  metrics:  http://{bound}/metrics (and /healthz, /readyz)")
        }
        None => String::new(),
    };
    // Tests and scripts read the first line for the address; a closed stdout is no reason to stop.
    let _ = writeln!(
        std::io::stdout().lock(),
        "presign-gateway listening on {base}\n  storage: {}{metrics}\n  upload:   curl -L --upload-file ./hello.txt {base}/hello.txt\n  download: curl -L {base}/hello.txt",
        started.storage
    );

    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stop.send(true);
    });
    let gateway_server = axum::serve(listener, app(gateway)).with_graceful_shutdown(signalled(stopped.clone()));
    let servers = async {
        gateway_server.await.context("the gateway server failed")?;
        if let Some(store) = started.store {
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
