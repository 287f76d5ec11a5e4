//! The local HTTP server both `serve` (the gateway, and the embedded store
//! beside it) and `store` run: hyper's HTTP/1 connection on a Tokio accept
//! loop, because `axum::serve` sets no header-read timeout and no cap on
//! connections, and a client that sends half its headers, or thousands of
//! clients at once, must not hold the server's memory or its slots.
//!
//! At most `--max-connections` are served at once, `--max-connections-per-address`
//! from one address; when they run out, the connection idle longest gives
//! way ([`slots`]), and only when all are busy do new ones wait in the
//! kernel's accept queue. A new connection's first request must arrive within
//! [`FIRST_REQUEST`] (or `--header-timeout`, if shorter); later ones' headers
//! within `--header-timeout`, which is also how long a kept-alive connection
//! waits idle. Headers beyond `--max-header-bytes` get `431`. A client that
//! moves a body either way slower than `--min-body-rate` while the server
//! waits on it is cut off ([`progress`]). On shutdown the listener closes and
//! requests in flight finish.
//!
//! Both bind with [`bind`]: a host name listens on every address it resolves
//! to, so `localhost` answers on IPv4 and IPv6 alike.

mod paced;
mod progress;
mod slots;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use paced::{PacedBody, PacedStream};
use slots::{Connection, Slot, Slots};

/// The longest a new connection may take to send its first request's
/// headers: a client that means to talk does so at once, and one that does
/// not holds a slot for nothing.
pub const FIRST_REQUEST: Duration = Duration::from_secs(5);

/// How long a new (or newly idle) connection is safe from giving way to
/// another (`serve`'s and `store`'s ports): enough for a real client's
/// request to arrive, however many connections a flood opens meanwhile.
pub const GRACE: Duration = Duration::from_millis(500);

/// hyper's smallest read buffer; `--max-header-bytes` may not be below it.
pub const MIN_HEADER_BYTES: usize = 8192;

/// What a local HTTP server allows its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
    /// The most connections served at once from one address (0: no limit).
    pub max_connections_per_address: usize,
    /// The most bytes of a request's line and headers; more get `431`.
    pub max_header_bytes: usize,
    /// Bytes a second a client must move while the server waits on it (0: any).
    pub min_rate: u64,
    /// How long a new or newly idle connection is safe from giving way to another.
    pub grace: Duration,
}

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
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES));
    let first_request = limits.header_timeout.min(FIRST_REQUEST);
    let slots = Slots::new(limits.max_connections, limits.max_connections_per_address, limits.grace);
    let graceful = GracefulShutdown::new();
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::channel(1);
    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|listener| tokio::spawn(accept(listener, slots.clone(), accepted_tx.clone())))
        .collect();
    drop(accepted_tx);
    tokio::pin!(shutdown);
    loop {
        let (stream, slot) = tokio::select! {
            Some(next) = accepted.recv() => next,
            () = &mut shutdown => break,
            else => break,
        };
        let service = hyper::service::service_fn(answer_on(router.clone(), slot.connection().clone(), limits.min_rate));
        let stream = PacedStream::new(stream, limits.min_rate, progress::WINDOW);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or times out ends only its own connection.
            tokio::select! {
                _ = connection => {}
                () = slot.closed() => {}
                () = first_request_late(&slot, first_request) => {}
            }
        });
    }
    for task in accepting {
        task.abort();
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
}

/// An answer on its way.
type Answer = std::pin::Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// The service for one connection: `router`, with each request marked busy
/// until its answer's body is sent, so the connection is not closed for
/// another meanwhile, and its body paced ([`progress`]).
fn answer_on(
    router: Router,
    connection: Connection,
    min_rate: u64,
) -> impl Fn(http::Request<hyper::body::Incoming>) -> Answer + Clone {
    move |request| {
        let (router, connection) = (router.clone(), connection.clone());
        Box::pin(async move {
            let Some(busy) = connection.begin() else {
                // Closed to free its slot while this request's headers arrived.
                let mut refused = (StatusCode::SERVICE_UNAVAILABLE, "the server is busy; try again\n").into_response();
                refused.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                return Ok(refused);
            };
            let request = request.map(|body| Body::new(PacedBody::new(body, min_rate, progress::WINDOW)));
            let Ok(response) = router.oneshot(request).await;
            Ok(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _ = &busy;
                    frame
                }))
            }))
        })
    }
}

/// Completes when `slot`'s connection has not begun a request within `deadline`.
async fn first_request_late(slot: &Slot, deadline: Duration) {
    tokio::time::sleep(deadline).await;
    if slot.has_begun() {
        std::future::pending::<()>().await;
    }
}

/// The address a client is counted by: an IPv6 client by its /64, which
/// one host is routinely given whole.
fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        IpAddr::V6(v6) => v6.to_canonical(),
        IpAddr::V4(_) => address,
    }
}

/// Accepts connections on `listener`, each once it has a slot; one whose
/// address holds all it may is closed at once.
async fn accept(listener: TcpListener, slots: Arc<Slots>, accepted: tokio::sync::mpsc::Sender<(TcpStream, Slot)>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let Some(slot) = slots.admit(client_of(peer.ip())).await else {
                    tracing::debug!(address = %peer.ip(), "closing a connection: its address holds all it may");
                    continue;
                };
                if accepted.send((stream, slot)).await.is_err() {
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

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let client = |text: &str| client_of(text.parse().unwrap()).to_string();
        assert_eq!(client("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(client("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::");
        assert_eq!(client("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(client("10.0.0.1"), "10.0.0.1");
    }

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
