//! The router driven in-process with `oneshot`: no socket, no store.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use axum::body::Body;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use presign_gateway::config::AllowedOrigins;
use presign_gateway::core::Policy;
use presign_gateway::gateway::{Gateway, app};
use presign_gateway::signing::{BucketEndpoint, CredentialsCache, Presigner};
use tower::ServiceExt;

fn gateway_with(credentials: Credentials, origins: AllowedOrigins) -> axum::Router {
    let policy = Policy::new(Duration::from_secs(300));
    let presigner = Presigner::new(BucketEndpoint {
        url: "https://files.s3.eu-west-1.amazonaws.com".into(),
        signing_region: "eu-west-1".into(),
    });
    app(Arc::new(Gateway::new(policy, presigner, CredentialsCache::new(credentials), origins)))
}

fn gateway() -> axum::Router {
    gateway_with(Credentials::new("AKIDEXAMPLE", "secret", None, None, "example"), AllowedOrigins::None)
}

async fn send(router: axum::Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = router.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
}

fn request(method: Method, uri: &str) -> http::request::Builder {
    Request::builder().method(method).uri(uri)
}

#[tokio::test]
async fn each_method_is_redirected_to_its_operation() {
    for method in [Method::GET, Method::HEAD, Method::PUT, Method::DELETE] {
        let (status, headers, body) =
            send(gateway(), request(method.clone(), "/dir/a%20b.txt").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "{method}");
        assert_eq!(body, "");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let location = headers[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with("https://files.s3.eu-west-1.amazonaws.com/dir/a%20b.txt?"), "{location}");
        assert!(location.contains("X-Amz-Signature="), "{location}");
    }
}

#[tokio::test]
async fn rejections_carry_their_status_and_reason() {
    let cases = [
        (Method::PATCH, "/f.txt", StatusCode::METHOD_NOT_ALLOWED, "PATCH is not supported"),
        (Method::GET, "/a//b", StatusCode::BAD_REQUEST, "empty path segment"),
        (Method::GET, "/%2e%2e/x", StatusCode::BAD_REQUEST, "`.` or `..`"),
        (Method::PUT, "/f.txt?download", StatusCode::BAD_REQUEST, "`download` applies to GET and HEAD only"),
        (Method::GET, "/f?download=a&download=b", StatusCode::BAD_REQUEST, "more than once"),
    ];
    for (method, uri, status, reason) in cases {
        let (got, headers, body) = send(gateway(), request(method.clone(), uri).body(Body::empty()).unwrap()).await;
        assert_eq!(got, status, "{method} {uri}");
        assert!(body.contains(reason), "{method} {uri}: {body}");
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(headers[header::ALLOW], "GET, HEAD, PUT, DELETE, OPTIONS");
        }
    }
}

#[tokio::test]
async fn chunked_uploads_are_refused_with_411() {
    let chunked = request(Method::PUT, "/f.bin")
        .header(header::TRANSFER_ENCODING, "chunked")
        .header(header::EXPECT, "100-continue");
    let (status, _, body) = send(gateway(), chunked.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::LENGTH_REQUIRED);
    assert!(body.contains("Content-Length"), "{body}");
}

/// A 4 KiB body that records whether anyone read it.
fn watched_body(read: Arc<AtomicBool>) -> Body {
    struct Chunks(Arc<AtomicBool>, u8);
    impl futures_core::Stream for Chunks {
        type Item = Result<bytes::Bytes, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.0.store(true, Ordering::SeqCst);
            if self.1 == 0 {
                return Poll::Ready(None);
            }
            self.1 -= 1;
            Poll::Ready(Some(Ok(bytes::Bytes::from_static(&[0u8; 1024]))))
        }
    }
    Body::from_stream(Chunks(read, 4))
}

#[tokio::test]
async fn a_client_expecting_100_continue_never_has_its_body_read() {
    let read = Arc::new(AtomicBool::new(false));
    let put =
        request(Method::PUT, "/f.bin").header(header::CONTENT_LENGTH, "4096").header(header::EXPECT, "100-Continue");
    let (status, _, _) = send(gateway(), put.body(watched_body(read.clone())).unwrap()).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert!(!read.load(Ordering::SeqCst), "the body was read, which makes the server send 100 Continue");
}

#[tokio::test]
async fn a_body_sent_without_expect_is_read_to_the_end() {
    let read = Arc::new(AtomicBool::new(false));
    let put = request(Method::PUT, "/f.bin").header(header::CONTENT_LENGTH, "4096");
    let (status, headers, _) = send(gateway(), put.body(watched_body(read.clone())).unwrap()).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert!(read.load(Ordering::SeqCst));
    assert!(headers.get(header::CONNECTION).is_none(), "a fully read body needs no close");
}

#[tokio::test]
async fn without_cors_settings_options_just_lists_the_methods() {
    let preflight = request(Method::OPTIONS, "/f.txt")
        .header(header::ORIGIN, "https://app.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT");
    let (status, headers, _) = send(gateway(), preflight.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers[header::ALLOW], "GET, HEAD, PUT, DELETE, OPTIONS");
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn preflights_are_answered_for_allowed_origins_only() {
    let origins = AllowedOrigins::List(vec![HeaderValue::from_static("https://app.example")]);
    let router = || gateway_with(Credentials::new("AK", "SK", None, None, "test"), origins.clone());
    let preflight = |origin: &str| {
        request(Method::OPTIONS, "/f.txt")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, _) = send(router(), preflight("https://app.example")).await;
    assert!(status.is_success());
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
    assert!(headers[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap().contains("PUT"));
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_HEADERS], "content-type");

    let (_, headers, _) = send(router(), preflight("https://evil.example")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    let get = request(Method::GET, "/f.txt").header(header::ORIGIN, "https://app.example").body(Body::empty()).unwrap();
    let (status, headers, _) = send(router(), get).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
}

#[tokio::test]
async fn request_ids_are_kept_or_made() {
    let given = request(Method::GET, "/f").header("x-request-id", "abc-123").body(Body::empty()).unwrap();
    let (_, headers, _) = send(gateway(), given).await;
    assert_eq!(headers["x-request-id"], "abc-123");
    let (_, headers, _) = send(gateway(), request(Method::GET, "/f").body(Body::empty()).unwrap()).await;
    assert_eq!(headers["x-request-id"].len(), 36);
}

#[tokio::test]
async fn expired_credentials_get_503_without_details() {
    let expired =
        Credentials::new("AK", "SK", Some("token".into()), Some(SystemTime::now() - Duration::from_secs(60)), "test");
    let (status, headers, body) =
        send(gateway_with(expired, AllowedOrigins::None), request(Method::GET, "/f").body(Body::empty()).unwrap())
            .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::LOCATION).is_none());
    assert_eq!(body, "the gateway cannot sign URLs right now; try again shortly\n");
}

#[tokio::test]
async fn urls_never_outlive_temporary_credentials() {
    let soon =
        Credentials::new("AK", "SK", Some("token".into()), Some(SystemTime::now() + Duration::from_secs(100)), "test");
    let (_, headers, _) =
        send(gateway_with(soon, AllowedOrigins::None), request(Method::GET, "/f").body(Body::empty()).unwrap()).await;
    let location = headers[header::LOCATION].to_str().unwrap();
    let expires: u64 = location.split("X-Amz-Expires=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
    assert!((98..=100).contains(&expires), "{expires}");
    assert!(location.contains("X-Amz-Security-Token=token"));
}
