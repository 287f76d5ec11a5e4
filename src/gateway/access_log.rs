//! One structured line per request (method, key, operation, status,
//! latency, request id) and the request's counts in [`crate::metrics`]:
//! always the Prometheus counters, and in Lambda the line itself written in
//! CloudWatch Embedded Metric Format. Never the query string or the
//! `Location`: both can carry signatures and tokens.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http_body::{Frame, SizeHint};
use tower_http::request_id::{MakeRequestId, RequestId};

use super::{Gateway, REQUEST_ID};
use crate::metrics::emf::{self, Namespace};
use crate::metrics::{BodyInFlight, Metrics, Served, noted};

/// The key the handler acted on, for the log line. (Its operation is the
/// one [`Gateway::decide`] noted, [`crate::metrics::note_operation`].)
#[derive(Debug, Clone)]
pub struct Logged {
    /// The key, in storage (tenant folder included) or as the link names it.
    pub key: String,
}

/// Marks the answer to a request that carried a share link's `token`, as
/// the handler read the query, for the link counters.
#[derive(Debug, Clone, Copy)]
pub struct CarriedLink;

/// The platform's own id for a request (Lambda's), which transports insert
/// as a request extension so the logs of both sides match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRequestId(pub String);

/// Request ids: the platform's own where there is one, a fresh UUID otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, request: &http::Request<B>) -> Option<RequestId> {
        let id = match request.extensions().get::<PlatformRequestId>() {
            Some(PlatformRequestId(id)) => HeaderValue::try_from(id.as_str()),
            // A thread-local generator (uuid's `fast-rng`): no system call per request.
            None => {
                HeaderValue::from_str(uuid::Uuid::new_v4().hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()))
            }
        };
        id.ok().map(RequestId::new)
    }
}

/// Where the access log line goes in Lambda: CloudWatch Embedded Metric
/// Format, in `namespace`, written by `out` (standard error in Lambda).
#[derive(Clone)]
pub struct EmfLog {
    namespace: Namespace,
    out: Arc<dyn Fn(&str) + Send + Sync>,
}

impl EmfLog {
    /// Lines in `namespace`, each handed to `out` without its newline.
    #[must_use]
    pub fn new(namespace: Namespace, out: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self { namespace, out: Arc::new(out) }
    }

    /// Lines in `namespace`, on standard error with the other logs.
    #[must_use]
    pub fn to_stderr(namespace: Namespace) -> Self {
        Self::new(namespace, |line| {
            use std::io::Write;
            // One write per line, under the lock the other log lines take too.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        })
    }
}

impl std::fmt::Debug for EmfLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmfLog").field("namespace", &self.namespace).finish_non_exhaustive()
    }
}

/// Writes the access log line and counts the request once the response is ready.
pub async fn log(State(gateway): State<Arc<Gateway>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let request_id = request.headers().get(REQUEST_ID).cloned();
    let request = counting_body(request, &gateway.metrics);
    let (response, notes) = noted(next.run(request)).await;
    let logged = response.extensions().get::<Logged>();
    let link = response.extensions().get::<CarriedLink>().is_some();
    let served = Served {
        method: &method,
        operation: notes.operation,
        status: response.status(),
        elapsed: started.elapsed(),
        link,
    };
    gateway.metrics.served(&served);
    let request_id = request_id.as_ref().and_then(|id| id.to_str().ok()).unwrap_or("-");
    let key = logged.map(|l| l.key.as_str());
    if let Some(emf) = &gateway.emf {
        let request = emf::Request { served, key, request_id, storage: notes.storage };
        (emf.out)(&emf::line(&emf.namespace, &request, SystemTime::now()));
    } else {
        tracing::info!(
            method = %method,
            key,
            operation = served.operation,
            status = served.status.as_u16(),
            latency_us = u64::try_from(served.elapsed.as_micros()).unwrap_or(u64::MAX),
            request_id,
            "request"
        );
    }
    response
}

/// The request, its body (if it has one) counted in flight while it is read.
fn counting_body(request: Request, metrics: &Arc<Metrics>) -> Request {
    if request.body().is_end_stream() {
        return request;
    }
    let metrics = metrics.clone();
    request.map(|inner| Body::new(Counted { inner, metrics, reading: None }))
}

/// A body that counts itself in `presign_gateway_bodies_in_flight` from its
/// first read to its end (or until it is dropped unread to the end).
struct Counted {
    inner: Body,
    metrics: Arc<Metrics>,
    reading: Option<BodyInFlight>,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.reading.is_none() && !self.inner.is_end_stream() {
            self.reading = Some(self.metrics.body_in_flight());
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.reading = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
