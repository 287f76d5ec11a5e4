//! A small HTTP proxy for tests: a front door that refuses large bodies, or
//! a flaky or slow road to storage. It keeps the `Host` header, so SigV4
//! signatures made for the proxy's address still verify behind it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// How the proxy treats requests.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `host:port` to forward to.
    pub target: String,
    /// Refuse with 413, without reading it, a body declared larger than this.
    pub max_body: Option<u64>,
    /// Answer 503 to the first request whose path and query contain this.
    pub fail_once: Option<String>,
    /// Wait this long before forwarding each request.
    pub delay: Duration,
}

#[derive(Default)]
struct Shared {
    rules: Rules,
    failed: Mutex<bool>,
    /// `METHOD path?query status` for each request answered.
    log: Mutex<Vec<String>>,
    /// Requests taken in and not yet logged or given up.
    in_flight: AtomicUsize,
}

/// Counts a request as in flight for as long as it lives.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running proxy; stops with the test.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy on `listener` (bound by the caller, so its port can be known first).
    pub fn start_on(listener: std::net::TcpListener, rules: Rules) -> Self {
        let shared = Arc::new(Shared { rules, ..Shared::default() });
        let url = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let app = Router::new().fallback(forward).with_state(shared.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Self { url, shared }
    }

    /// Starts a proxy on a free port.
    pub fn start(rules: Rules) -> Self {
        Self::start_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), rules)
    }

    /// The requests answered so far whose line contains `needle`.
    pub fn requests(&self, needle: &str) -> Vec<String> {
        self.shared.log.lock().unwrap().iter().filter(|line| line.contains(needle)).cloned().collect()
    }

    /// Whether every request taken in so far is logged or given up: a client
    /// that went away can leave an exchange with storage still running.
    pub fn idle(&self) -> bool {
        self.shared.in_flight.load(Ordering::SeqCst) == 0
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let in_flight = InFlight::new(&shared);
    let rules = &shared.rules;
    let target = request.uri().path_and_query().map(ToString::to_string).unwrap_or_default();
    let line = format!("{} {target}", request.method());
    let answer = |status: StatusCode| {
        shared.log.lock().unwrap().push(format!("{line} {}", status.as_u16()));
    };
    let declared: Option<u64> =
        request.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    if let (Some(max), Some(declared)) = (rules.max_body, declared)
        && declared > max
    {
        answer(StatusCode::PAYLOAD_TOO_LARGE);
        let mut response = (StatusCode::PAYLOAD_TOO_LARGE, "request entity too large\n").into_response();
        response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
        return response;
    }
    if let Some(needle) = &rules.fail_once {
        let mut failed = shared.failed.lock().unwrap();
        if !*failed && target.contains(needle.as_str()) {
            *failed = true;
            drop(failed);
            answer(StatusCode::SERVICE_UNAVAILABLE);
            let body = "<Error><Code>ServiceUnavailable</Code><Message>injected by the test proxy</Message></Error>";
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
            response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
            return response;
        }
    }
    tokio::time::sleep(rules.delay).await;

    // On its own task, so that a client that goes away (a page reloaded) does
    // not stop the exchange with storage half-way, as a real network would
    // not: what storage answered is logged even when nobody is left to read it.
    let (parts, body) = request.into_parts();
    let (shared, upstream) = (shared.clone(), format!("http://{}{target}", rules.target));
    let exchange = tokio::spawn(async move {
        let _in_flight = in_flight;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut outgoing = client.request(parts.method, upstream);
        let has_body = declared.is_some() || parts.headers.contains_key(http::header::TRANSFER_ENCODING);
        if has_body {
            outgoing = outgoing.body(reqwest::Body::wrap_stream(body.into_data_stream()));
        }
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let response = outgoing.send().await.ok();
        let status = response.as_ref().map_or(StatusCode::BAD_GATEWAY, reqwest::Response::status);
        shared.log.lock().unwrap().push(format!("{line} {}", status.as_u16()));
        response
    });
    let Ok(Some(response)) = exchange.await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut back = Response::builder().status(response.status());
    for (name, value) in response.headers() {
        back = back.header(name, value);
    }
    back.body(Body::from_stream(response.bytes_stream())).unwrap()
}
