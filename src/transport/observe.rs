//! The local server's second port (`--metrics-listen`): Prometheus text at
//! `/metrics`, `/healthz` (the process answers) and `/readyz` (the gateway
//! has credentials that outlive its URLs, storage answers them, and it is
//! not shutting down). A port of its own, because every path of the
//! gateway's port is an object key.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::gateway::Gateway;
use crate::http_server::{self, ServerLimits};
use crate::metrics::CONTENT_TYPE;
use crate::telemetry::ErrorChain;

#[derive(Clone)]
struct Observed {
    gateway: Arc<Gateway>,
    stopping: watch::Receiver<bool>,
}

/// Connections the metrics port serves at once: a scraper and a load
/// balancer's health checks need a few; a client holding more gives way or
/// waits in the accept queue instead of taking the file descriptors the
/// gateway needs.
const MAX_CONNECTIONS: usize = 16;

/// How long a health check may take to send its headers, or wait idle: its
/// own, short, so that sockets held open by anyone cannot keep a load
/// balancer's check waiting past its own timeout of a few seconds.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a new connection is safe from giving way to another: a health
/// check or a scrape sends its request the moment it connects, and a short
/// grace lets a flood of sockets cycle through the few slots quickly, so the
/// check waits little behind them.
const GRACE: Duration = Duration::from_millis(100);

/// Listens on `address` and serves the metrics and health checks of
/// `gateway` until the runtime stops, within the gateway's header limit;
/// `/readyz` fails once `stopping` is raised. Returns the address it listens on.
pub async fn serve(
    address: SocketAddr,
    gateway: Arc<Gateway>,
    stopping: watch::Receiver<bool>,
    gateway_limits: ServerLimits,
) -> anyhow::Result<SocketAddr> {
    let listener =
        TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address} for metrics"))?;
    let bound = listener.local_addr()?;
    let limits = ServerLimits {
        header_timeout: gateway_limits.header_timeout.min(HEADER_TIMEOUT),
        max_connections: MAX_CONNECTIONS,
        max_connections_per_address: 0,
        grace: GRACE,
        ..gateway_limits
    };
    let app = router(gateway, stopping);
    tokio::spawn(http_server::serve(vec![listener], app, limits, std::future::pending()));
    Ok(bound)
}

/// The routes, for a listener or for `oneshot`.
pub fn router(gateway: Arc<Gateway>, stopping: watch::Receiver<bool>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .layer(axum::middleware::from_fn_with_state(gateway.clone(), crate::gateway::check_host))
        .with_state(Observed { gateway, stopping })
}

async fn metrics(State(observed): State<Observed>) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], observed.gateway.metrics().encode()).into_response()
}

async fn ready(State(observed): State<Observed>) -> Response {
    if *observed.stopping.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready: shutting down\n").into_response();
    }
    match observed.gateway.ready().await {
        Ok(()) => "ready\n".into_response(),
        Err(reason) => {
            // The cause can name the account; it goes to the log, not to the caller.
            tracing::warn!(error = %ErrorChain(&reason), "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")).into_response()
        }
    }
}
