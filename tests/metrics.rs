//! The gateway's counts, driven in-process: the metrics port's routes
//! (`/metrics`, `/healthz`, `/readyz`) after requests through the router,
//! and the CloudWatch Embedded Metric Format lines Lambda writes.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use axum::body::Body;
use common::memory_storage::MemoryStorage;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use presign_gateway::config::Links;
use presign_gateway::core::Policy;
use presign_gateway::gateway::{EmfLog, Gateway, app};
use presign_gateway::links::ShareKeys;
use presign_gateway::metrics::emf::Namespace;
use presign_gateway::signing::{BucketEndpoint, CredentialsCache, Presigner};
use presign_gateway::transport::observe;
use serde_json::Value;
use tokio::sync::watch;
use tower::ServiceExt;

const SHARE_KEYS: &str = "k1:0123456789abcdef0123456789abcdef";

fn gateway_on(credentials: Credentials, storage: Arc<MemoryStorage>) -> Gateway {
    let presigner =
        Presigner::new(BucketEndpoint::new("https://files.s3.eu-west-1.amazonaws.com", "eu-west-1").unwrap());
    let links = Links { keys: ShareKeys::parse(SHARE_KEYS).unwrap() };
    Gateway::new(Policy::new(Duration::from_secs(300)), presigner, CredentialsCache::new(credentials), storage)
        .with_links(Some(links))
        .with_base_url(Some("https://g.example".into()))
}

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "secret", None, None, "test")
}

async fn call(router: &axum::Router, method: Method, uri: &str, body: Body) -> (StatusCode, String) {
    let request = Request::builder().method(method).uri(uri).body(body).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A few requests of every kind: redirects, a refusal, a share link minted,
/// opened and forged, and multipart steps that call storage.
async fn traffic(router: &axum::Router) {
    for _ in 0..3 {
        assert_eq!(call(router, Method::GET, "/a.txt", Body::empty()).await.0, StatusCode::TEMPORARY_REDIRECT);
    }
    assert_eq!(call(router, Method::GET, "/a//b", Body::empty()).await.0, StatusCode::BAD_REQUEST);
    let (status, link) = call(router, Method::POST, "/a.txt?share&ttl=1h", Body::empty()).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = link.trim().split("token=").nth(1).unwrap().to_owned();
    let opened = format!("/a.txt?token={token}");
    assert_eq!(call(router, Method::GET, &opened, Body::empty()).await.0, StatusCode::TEMPORARY_REDIRECT);
    let forged = format!("/a.txt?token={}x", &token[..token.len() - 1]);
    assert_eq!(call(router, Method::GET, &forged, Body::empty()).await.0, StatusCode::FORBIDDEN);
    let (status, started) = call(router, Method::POST, "/big.iso?uploads", Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    let upload = started.split("<UploadId>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let parts = format!("/big.iso?uploadId={upload}");
    assert_eq!(call(router, Method::GET, &parts, Body::empty()).await.0, StatusCode::OK);
    assert_eq!(call(router, Method::DELETE, &parts, Body::empty()).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(router, Method::DELETE, &parts, Body::empty()).await.0, StatusCode::NOT_FOUND);
    // A body sent without `Expect` is read (and counted in flight while it is).
    assert_eq!(
        call(router, Method::PUT, "/up.bin", Body::from(vec![7u8; 4096])).await.0,
        StatusCode::TEMPORARY_REDIRECT
    );
}

fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in\n{metrics}"))
}

#[tokio::test]
async fn the_metrics_port_counts_requests_links_storage_and_bodies() {
    let gateway = Arc::new(gateway_on(credentials(), Arc::default()));
    let router = app(gateway.clone());
    traffic(&router).await;
    let (_stop, stopping) = watch::channel(false);
    let observed = observe::router(gateway, stopping);
    let response = observed.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain; version=0.0.4; charset=utf-8");
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let counts = [
        ("presign_gateway_requests_total{method=\"GET\",operation=\"GetObject\",status=\"307\"}", 4.0),
        ("presign_gateway_requests_total{method=\"GET\",operation=\"none\",status=\"400\"}", 1.0),
        ("presign_gateway_requests_total{method=\"GET\",operation=\"none\",status=\"403\"}", 1.0),
        ("presign_gateway_requests_total{method=\"POST\",operation=\"CreateShareLink\",status=\"201\"}", 1.0),
        ("presign_gateway_requests_total{method=\"POST\",operation=\"CreateMultipartUpload\",status=\"200\"}", 1.0),
        ("presign_gateway_requests_total{method=\"PUT\",operation=\"PutObject\",status=\"307\"}", 1.0),
        ("presign_gateway_request_duration_seconds_count{operation=\"GetObject\"}", 4.0),
        ("presign_gateway_share_links_total{event=\"minted\"}", 1.0),
        ("presign_gateway_share_links_total{event=\"opened\"}", 1.0),
        ("presign_gateway_share_links_total{event=\"refused\"}", 1.0),
        ("presign_gateway_storage_calls_total{operation=\"CreateMultipartUpload\"}", 1.0),
        ("presign_gateway_storage_calls_total{operation=\"ListParts\"}", 1.0),
        ("presign_gateway_storage_calls_total{operation=\"AbortMultipartUpload\"}", 2.0),
        ("presign_gateway_storage_errors_total{operation=\"AbortMultipartUpload\"}", 1.0),
        ("presign_gateway_storage_call_duration_seconds_count{operation=\"ListParts\"}", 1.0),
        ("presign_gateway_bodies_in_flight", 0.0),
    ];
    for (series, expected) in counts {
        assert!((value(&text, series) - expected).abs() < f64::EPSILON, "{series}: {}", value(&text, series));
    }
    // Bounded labels only: no key, no tenant, no token.
    for secret in ["a.txt", "big.iso", "token", "tenants"] {
        assert!(!text.contains(secret), "{secret} leaked into the metrics:\n{text}");
    }
    assert!(text.lines().filter(|l| !l.starts_with('#')).all(|l| l.starts_with("presign_gateway_")), "{text}");

    let (status, body) = call(&observed, Method::GET, "/healthz", Body::empty()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok\n"));
    let (status, body) = call(&observed, Method::GET, "/readyz", Body::empty()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));
    assert_eq!(call(&observed, Method::GET, "/a.txt", Body::empty()).await.0, StatusCode::NOT_FOUND);
    // The readiness probe's 404 is storage answering: a call, not an error.
    let (_, text) = call(&observed, Method::GET, "/metrics", Body::empty()).await;
    assert!(text.contains("presign_gateway_storage_calls_total{operation=\"HeadObject\"} 1"), "{text}");
    assert!(!text.contains("presign_gateway_storage_errors_total{operation=\"HeadObject\"}"), "{text}");
}

#[tokio::test]
async fn readiness_needs_storage_long_lived_credentials_and_no_shutdown() {
    let (stop, stopping) = watch::channel(false);
    let ready = |gateway: Gateway, stopping| {
        let observed = observe::router(Arc::new(gateway), stopping);
        async move { call(&observed, Method::GET, "/readyz", Body::empty()).await }
    };

    let (status, body) = ready(gateway_on(credentials(), Arc::new(MemoryStorage::down())), stopping.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "not ready: storage did not answer the readiness probe\n");

    // Credentials that expire before a URL signed now (300 s) would still
    // sign URLs (shortened to fit them): ready, by the signer's own rule.
    let soon = SystemTime::now() + Duration::from_secs(200);
    let short = Credentials::new("AK", "SK", Some("t".into()), Some(soon), "test");
    assert_eq!(ready(gateway_on(short, Arc::default()), stopping.clone()).await.0, StatusCode::OK);
    // Credentials already expired, which the source cannot replace, sign nothing.
    let gone = SystemTime::now() - Duration::from_secs(1);
    let expired = Credentials::new("AK", "SK", Some("t".into()), Some(gone), "test");
    let (status, body) = ready(gateway_on(expired, Arc::default()), stopping.clone()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: the signing credentials have expired\n")
    );

    let later = SystemTime::now() + Duration::from_secs(3600);
    let long = Credentials::new("AK", "SK", Some("t".into()), Some(later), "test");
    assert_eq!(ready(gateway_on(long.clone(), Arc::default()), stopping.clone()).await.0, StatusCode::OK);

    stop.send(true).unwrap();
    let (status, body) = ready(gateway_on(long, Arc::default()), stopping).await;
    assert_eq!((status, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "not ready: shutting down\n"));
}

#[tokio::test]
async fn lambda_lines_are_embedded_metric_format() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let emf =
        EmfLog::new(Namespace::new("files-prod").unwrap(), move |line| sink.lock().unwrap().push(line.to_owned()));
    let router = app(Arc::new(gateway_on(credentials(), Arc::default()).with_emf(emf)));
    traffic(&router).await;

    let lines: Vec<Value> =
        lines.lock().unwrap().iter().map(|l| serde_json::from_str(l).expect("one JSON object")).collect();
    assert_eq!(lines.len(), 12, "one line per request");
    for line in &lines {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "files-prod");
        assert_eq!(directive["Dimensions"], serde_json::json!([["operation", "status_class"], ["status_class"], []]));
        assert!(line["_aws"]["Timestamp"].is_u64());
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_u64(), "metric {name} has no value at the root of {line}");
        }
        for dimension in ["operation", "status_class"] {
            assert!(line[dimension].is_string(), "{dimension} missing from {line}");
        }
        let text = line.to_string();
        assert!(!text.contains("X-Amz-Signature") && !text.contains("token="), "{text}");
    }
    let find = |operation: &str, status: u64| {
        lines
            .iter()
            .find(|l| l["operation"] == operation && l["status"] == status)
            .unwrap_or_else(|| panic!("no {operation} {status}"))
    };
    let get = find("GetObject", 307);
    assert_eq!((get["status_class"].as_str(), get["requests"].as_u64()), (Some("3xx"), Some(1)));
    assert!(get["latency_us"].is_u64() && get["request_id"].as_str().is_some_and(|id| id.len() == 36));
    assert_eq!(find("CreateShareLink", 201)["share_links_minted"], 1);
    assert_eq!(find("none", 403)["share_links_refused"], 1);
    let created = find("CreateMultipartUpload", 200);
    assert_eq!((created["storage_calls"].as_u64(), created["storage_errors"].as_u64()), (Some(1), Some(0)));
    let gone = find("AbortMultipartUpload", 404);
    assert_eq!((gone["storage_calls"].as_u64(), gone["storage_errors"].as_u64()), (Some(1), Some(1)));
    assert_eq!(gone["status_class"], "4xx");
}
