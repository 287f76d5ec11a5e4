//! The local HTTP server both `serve` (the gateway, and the embedded store
//! beside it) and `store` run: hyper's HTTP/1 connection on a Tokio accept
//! loop, because `axum::serve` sets no header-read timeout and no cap on
//! connections, and a client that sends half its headers, or thousands of
//! clients at once, must not hold the server's memory.
//!
//! Connections beyond `--max-connections` wait in the kernel's accept queue
//! until one closes. Headers must arrive within `--header-timeout` (also the
//! longest a kept-alive connection waits idle for its next request). On
//! shutdown the listener closes and requests in flight finish.
//!
//! Both bind with [`bind`]: a host name listens on every address it resolves
//! to, so `localhost` answers on IPv4 and IPv6 alike.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::ServerLimits;

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A pause after the accept queue fails (out of file descriptors, say), so
/// the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Listeners on `addresses`; a port of 0 picks one free port for them all,
/// so every address serves on the same port and one URL's port fits all.
///
/// # Errors
/// When an address cannot be bound (taken, or not this machine's).
pub async fn bind(addresses: &[SocketAddr]) -> anyhow::Result<Vec<TcpListener>> {
    let mut listeners: Vec<TcpListener> = Vec::new();
    for address in addresses {
        let mut address = *address;
        if let (0, Some(first)) = (address.port(), listeners.first()) {
            address.set_port(first.local_addr()?.port());
        }
        listeners.push(TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?);
    }
    Ok(listeners)
}

/// Serves `router` on `listeners` within `limits` until `shutdown`
/// completes, then lets requests in flight finish (within [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listeners: Vec<TcpListener>,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::channel(1);
    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|listener| tokio::spawn(accept(listener, connections.clone(), accepted_tx.clone())))
        .collect();
    drop(accepted_tx);
    tokio::pin!(shutdown);
    loop {
        let (stream, permit) = tokio::select! {
            Some(next) = accepted.recv() => next,
            () = &mut shutdown => break,
            else => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or times out ends only its own connection.
            let _ = connection.await;
            drop(permit);
        });
    }
    for task in accepting {
        task.abort();
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
}

/// Accepts connections on `listener`, each once a connection slot is free.
async fn accept(
    listener: TcpListener,
    connections: Arc<Semaphore>,
    accepted: tokio::sync::mpsc::Sender<(tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)>,
) {
    loop {
        let Ok(permit) = connections.clone().acquire_owned().await else { return };
        match listener.accept().await {
            Ok((stream, _)) => {
                if accepted.send((stream, permit)).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn port_0_picks_one_free_port_for_every_address() {
        let mut addresses: Vec<SocketAddr> = vec!["127.0.0.1:0".parse().unwrap()];
        if std::net::TcpListener::bind("[::1]:0").is_ok() {
            addresses.push("[::1]:0".parse().unwrap());
        }
        let listeners = bind(&addresses).await.unwrap();
        let bound: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        assert_eq!(bound.len(), addresses.len());
        assert!(bound[0].port() != 0 && bound.iter().all(|b| b.port() == bound[0].port()), "{bound:?}");
    }
}
