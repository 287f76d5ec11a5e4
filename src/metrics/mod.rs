//! The gateway's counts, kept once and shown two ways: Prometheus text on the
//! local server's own metrics port (`--metrics-listen`, see
//! `transport::observe`), and CloudWatch Embedded Metric Format in Lambda's
//! access log line ([`emf`]). Every name starts with `presign_gateway_`;
//! labels are bounded sets (a method, an S3 operation, a status, an event),
//! never a tenant or a key.
//!
//! Recording costs a few atomic adds and one read-locked hash lookup per
//! request: the access log layer records requests and share links, the
//! storage decorator (`storage::Metered`) records storage calls, and the
//! body wrapper of the access log layer the bodies being read. What a
//! request turned out to be (its operation, its storage calls) is noted in
//! a task-local the access log layer reads back ([`noted`]), so a request
//! that fails is still counted under its operation.

pub mod emf;

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use http::{Method, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    operation: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkLabel {
    event: &'static str,
}

/// Every count the gateway keeps, in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<OperationLabel, Histogram, fn() -> Histogram>,
    share_links: Family<LinkLabel, Counter>,
    storage_calls: Family<OperationLabel, Counter>,
    storage_errors: Family<OperationLabel, Counter>,
    storage_duration: Family<OperationLabel, Histogram, fn() -> Histogram>,
    bodies_in_flight: Gauge,
}

/// One request, as the access log saw it.
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    /// Its method.
    pub method: &'a Method,
    /// The S3 operation (or `CreateShareLink`) it was decided to be, if any
    /// ([`note_operation`]).
    pub operation: Option<&'static str>,
    /// The status it was answered with.
    pub status: StatusCode,
    /// From the request's arrival to its answer.
    pub elapsed: Duration,
    /// Whether it came with a share link's token.
    pub link: bool,
}

impl Served<'_> {
    /// The operation label: the S3 operation, or `none` for a request that
    /// was refused before it had one.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.operation.unwrap_or("none")
    }

    /// What happened to a share link, if one was minted or used.
    #[must_use]
    pub fn link_event(&self) -> Option<&'static str> {
        if self.operation == Some(crate::core::action::CREATE_SHARE_LINK) && self.status.is_success() {
            Some("minted")
        } else if self.link && self.status.is_redirection() {
            Some("opened")
        } else if self.link && self.status.is_client_error() {
            Some("refused")
        } else {
            None
        }
    }
}

fn request_buckets() -> Histogram {
    // 25 µs to 0.6 s: a presigned redirect takes tens of microseconds, a
    // multipart completion waits on storage.
    Histogram::new(exponential_buckets(25e-6, 2.5, 12))
}

fn storage_buckets() -> Histogram {
    // 1 ms to 6 s, then +Inf: completing thousands of parts can take longer.
    Histogram::new(exponential_buckets(1e-3, 2.5, 12))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry with every metric registered.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("presign_gateway");
        let requests = Family::default();
        let request_duration = Family::new_with_constructor(request_buckets as fn() -> Histogram);
        let share_links = Family::default();
        let storage_calls = Family::default();
        let storage_errors = Family::default();
        let storage_duration = Family::new_with_constructor(storage_buckets as fn() -> Histogram);
        let bodies_in_flight = Gauge::default();
        registry.register("requests", "Requests answered, by method, operation and status", requests.clone());
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its answer, by operation",
            request_duration.clone(),
        );
        registry.register(
            "share_links",
            "Share links minted, opened (redirected) and refused (4xx)",
            share_links.clone(),
        );
        registry.register("storage_calls", "The gateway's own calls to storage, by operation", storage_calls.clone());
        registry.register(
            "storage_errors",
            "Storage calls that failed or were refused, by operation",
            storage_errors.clone(),
        );
        registry.register(
            "storage_call_duration_seconds",
            "Time storage took to answer the gateway's calls, by operation",
            storage_duration.clone(),
        );
        registry.register(
            "bodies_in_flight",
            "Request bodies being read right now (drained uploads, multipart part lists)",
            bodies_in_flight.clone(),
        );
        Self {
            registry,
            requests,
            request_duration,
            share_links,
            storage_calls,
            storage_errors,
            storage_duration,
            bodies_in_flight,
        }
    }

    /// Counts a request.
    pub fn served(&self, served: &Served<'_>) {
        let operation = served.operation();
        let labels = RequestLabels { method: method_label(served.method), operation, status: served.status.as_u16() };
        self.requests.get_or_create(&labels).inc();
        self.request_duration.get_or_create(&OperationLabel { operation }).observe(served.elapsed.as_secs_f64());
        if let Some(event) = served.link_event() {
            self.share_links.get_or_create(&LinkLabel { event }).inc();
        }
    }

    /// Counts a storage call, and notes it for the request being served ([`noted`]).
    pub fn storage_call(&self, operation: &'static str, failed: bool, elapsed: Duration) {
        let label = OperationLabel { operation };
        self.storage_calls.get_or_create(&label).inc();
        if failed {
            self.storage_errors.get_or_create(&label).inc();
        }
        self.storage_duration.get_or_create(&label).observe(elapsed.as_secs_f64());
        note_storage_call(failed, elapsed);
    }

    /// Counts a body being read until the guard is dropped.
    #[must_use]
    pub fn body_in_flight(&self) -> BodyInFlight {
        self.bodies_in_flight.inc();
        BodyInFlight(self.bodies_in_flight.clone())
    }

    /// Everything, in the Prometheus text format ([`CONTENT_TYPE`]).
    #[must_use]
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// A body counted in `presign_gateway_bodies_in_flight` while it lives.
#[derive(Debug)]
pub struct BodyInFlight(Gauge);

impl Drop for BodyInFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The method label: the methods the gateway answers, or `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::POST => "POST",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The storage calls one request made, for its EMF line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageTally {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed or were refused.
    pub errors: u64,
    /// Their time, summed, in microseconds.
    pub micros: u64,
}

/// What the layers below the access log noted about one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notes {
    /// The operation it was decided to be, whether or not it then succeeded.
    pub operation: Option<&'static str>,
    /// The storage calls it made.
    pub storage: StorageTally,
}

tokio::task_local! {
    static NOTES: Cell<Notes>;
}

/// Runs `work` (one request), collecting what is noted while it runs.
pub async fn noted<F: Future>(work: F) -> (F::Output, Notes) {
    NOTES
        .scope(Cell::new(Notes::default()), async move {
            let output = work.await;
            (output, NOTES.with(Cell::get))
        })
        .await
}

/// Notes the operation the request being served was decided to be, so a
/// failure is counted under it too.
pub fn note_operation(operation: &'static str) {
    let _ = NOTES.try_with(|notes| {
        let mut noted = notes.get();
        noted.operation = Some(operation);
        notes.set(noted);
    });
}

fn note_storage_call(failed: bool, elapsed: Duration) {
    let _ = NOTES.try_with(|notes| {
        let mut noted = notes.get();
        noted.storage.calls += 1;
        noted.storage.errors += u64::from(failed);
        noted.storage.micros += u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        notes.set(noted);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served<'a>(method: &'a Method, operation: Option<&'static str>, status: u16, link: bool) -> Served<'a> {
        Served {
            method,
            operation,
            status: StatusCode::from_u16(status).unwrap(),
            elapsed: Duration::from_micros(40),
            link,
        }
    }

    #[test]
    fn requests_links_storage_and_bodies_are_counted() {
        let metrics = Metrics::new();
        metrics.served(&served(&Method::GET, Some("GetObject"), 307, false));
        metrics.served(&served(&Method::GET, Some("GetObject"), 307, true));
        metrics.served(&served(&Method::GET, None, 403, true));
        metrics.served(&served(&Method::POST, Some("CreateShareLink"), 201, false));
        metrics.served(&served(&Method::from_bytes(b"BREW").unwrap(), None, 405, false));
        metrics.storage_call("ListParts", true, Duration::from_millis(3));
        let body = metrics.body_in_flight();
        let text = metrics.encode();
        for line in [
            "presign_gateway_requests_total{method=\"GET\",operation=\"GetObject\",status=\"307\"} 2",
            "presign_gateway_requests_total{method=\"GET\",operation=\"none\",status=\"403\"} 1",
            "presign_gateway_requests_total{method=\"other\",operation=\"none\",status=\"405\"} 1",
            "presign_gateway_request_duration_seconds_count{operation=\"GetObject\"} 2",
            "presign_gateway_share_links_total{event=\"minted\"} 1",
            "presign_gateway_share_links_total{event=\"opened\"} 1",
            "presign_gateway_share_links_total{event=\"refused\"} 1",
            "presign_gateway_storage_calls_total{operation=\"ListParts\"} 1",
            "presign_gateway_storage_errors_total{operation=\"ListParts\"} 1",
            "presign_gateway_storage_call_duration_seconds_count{operation=\"ListParts\"} 1",
            "presign_gateway_bodies_in_flight 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        drop(body);
        assert!(metrics.encode().lines().any(|l| l == "presign_gateway_bodies_in_flight 0"));
    }

    #[tokio::test]
    async fn the_operation_and_storage_calls_are_noted_per_request() {
        let metrics = Metrics::new();
        let ((), notes) = noted(async {
            note_operation("CompleteMultipartUpload");
            metrics.storage_call("ListParts", false, Duration::from_micros(300));
            metrics.storage_call("CompleteMultipartUpload", true, Duration::from_micros(700));
        })
        .await;
        assert_eq!(notes.operation, Some("CompleteMultipartUpload"));
        assert_eq!(notes.storage, StorageTally { calls: 2, errors: 1, micros: 1000 });
        // Outside a request, calls are still counted, and nothing fails.
        metrics.storage_call("AbortMultipartUpload", false, Duration::ZERO);
        note_operation("GetObject");
    }
}
