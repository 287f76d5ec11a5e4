//! The router driven in-process with `oneshot`: no socket, no store
//! (multipart steps run against an in-memory storage double).

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use axum::body::Body;
use common::memory_storage::MemoryStorage;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use presign_gateway::config::AllowedOrigins;
use presign_gateway::core::Policy;
use presign_gateway::gateway::{Gateway, app};
use presign_gateway::signing::{BucketEndpoint, CredentialsCache, Presigner};
use tower::ServiceExt;

fn gateway_on(credentials: Credentials, origins: AllowedOrigins, storage: Arc<MemoryStorage>) -> axum::Router {
    let policy = Policy::new(Duration::from_secs(300));
    let presigner =
        Presigner::new(BucketEndpoint::new("https://files.s3.eu-west-1.amazonaws.com", "eu-west-1").unwrap());
    let gateway = Gateway::new(policy, presigner, CredentialsCache::new(credentials), storage);
    app(Arc::new(gateway.with_allowed_origins(origins)))
}

fn gateway_with(credentials: Credentials, origins: AllowedOrigins) -> axum::Router {
    gateway_on(credentials, origins, Arc::default())
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
    // At most the credentials' 100 s, with room for a slow machine.
    assert!((80..=100).contains(&expires), "{expires}");
    assert!(location.contains("X-Amz-Security-Token=token"));
}

fn on_storage(storage: &Arc<MemoryStorage>) -> axum::Router {
    let policy = Policy::new(Duration::from_secs(300));
    let presigner =
        Presigner::new(BucketEndpoint::new("https://files.s3.eu-west-1.amazonaws.com", "eu-west-1").unwrap());
    let credentials = CredentialsCache::new(Credentials::new("AK", "SK", None, None, "test"));
    app(Arc::new(Gateway::new(policy, presigner, credentials, storage.clone()).with_bucket("files".into())))
}

/// A refusal's reason, whichever form it came in: the multipart routes
/// answer S3's XML `<Error>`, or its fields as JSON when asked; others text.
fn reason(body: &str) -> String {
    if let Ok(error) = serde_json::from_str::<serde_json::Value>(body) {
        return error["message"].as_str().unwrap_or_default().to_owned();
    }
    match body.split_once("<Message>").and_then(|(_, rest)| rest.split_once("</Message>")) {
        Some((message, _)) => message.replace("&quot;", "\"").replace("&amp;", "&"),
        None => body.trim().to_owned(),
    }
}

#[tokio::test]
async fn multipart_steps_run_against_storage() {
    let storage = Arc::new(MemoryStorage::default());
    let json = |method: Method, uri: &str| request(method, uri).header(header::ACCEPT, "application/json");

    let (status, _, body) =
        send(on_storage(&storage), request(Method::POST, "/big.iso?uploads").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>files</Bucket><Key>big.iso</Key><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>\n"
    );
    let (_, _, body) =
        send(on_storage(&storage), json(Method::POST, "/a%26b.iso?uploads").body(Body::empty()).unwrap()).await;
    assert_eq!(body, r#"{"key":"a&b.iso","upload_id":"upload-2"}"#);

    storage.put_part("upload-1", 1, "e1", 5 << 20);
    storage.put_part("upload-1", 2, "e2", 3);
    let (status, _, body) =
        send(on_storage(&storage), json(Method::GET, "/big.iso?uploadId=upload-1").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"key":"big.iso","upload_id":"upload-1","parts":[{"part_number":1,"etag":"e1","size":5242880},{"part_number":2,"etag":"e2","size":3}],"is_truncated":false}"#
    );

    let completion = r#"{"parts":[{"part_number":1,"etag":"e1"},{"part_number":2,"etag":"\"e2\""}]}"#;
    let complete = |uri: &str| {
        json(Method::POST, uri).header(header::CONTENT_TYPE, "application/json").body(Body::from(completion)).unwrap()
    };
    let cases = [
        (complete("/other.iso?uploadId=upload-1"), StatusCode::NOT_FOUND, "NoSuchUpload"),
        (complete("/big.iso?uploadId=upload-1"), StatusCode::OK, r#"{"key":"big.iso","etag":"e1e2-2","size":5242883}"#),
        (complete("/big.iso?uploadId=upload-1"), StatusCode::NOT_FOUND, "NoSuchUpload"),
        (
            request(Method::POST, "/big.iso?uploadId=upload-2").body(Body::from("<nonsense")).unwrap(),
            StatusCode::BAD_REQUEST,
            "the part list",
        ),
        (
            request(Method::DELETE, "/a%26b.iso?uploadId=upload-2").body(Body::empty()).unwrap(),
            StatusCode::NO_CONTENT,
            "",
        ),
        (
            request(Method::DELETE, "/a%26b.iso?uploadId=upload-2").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
        ),
    ];
    for (sent, expected, reason) in cases {
        let line = format!("{} {}", sent.method(), sent.uri());
        let (status, _, body) = send(on_storage(&storage), sent).await;
        assert_eq!(status, expected, "{line}: {body}");
        assert!(body.contains(reason), "{line}: {body}");
    }
    assert_eq!(storage.object("big.iso").as_deref(), Some("e1e2-2"));

    // Overwrite protection is storage's: 412 passes through.
    let (_, _, body) =
        send(on_storage(&storage), json(Method::POST, "/big.iso?uploads").body(Body::empty()).unwrap()).await;
    assert!(body.contains("upload-3"), "{body}");
    storage.put_part("upload-3", 1, "e1", 1);
    let guarded = request(Method::POST, "/big.iso?uploadId=upload-3")
        .header(header::IF_NONE_MATCH, "*")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"parts":[{"part_number":1,"etag":"e1"}]}"#))
        .unwrap();
    assert_eq!(send(on_storage(&storage), guarded).await.0, StatusCode::PRECONDITION_FAILED);
}

/// The multipart routes answer what S3's API reference says, so S3 clients
/// (Uppy's AWS S3 plugin) read them: every element, S3's paging of parts,
/// and refusals as S3's `<Error>`, or its fields as JSON when asked.
#[tokio::test]
async fn multipart_routes_speak_s3() {
    let storage = Arc::new(MemoryStorage::default());
    let at_host = |method: Method, uri: &str| request(method, uri).header(header::HOST, "files.example:8080");
    let (_, _, body) =
        send(on_storage(&storage), at_host(Method::POST, "/a%20b/big.iso?uploads").body(Body::empty()).unwrap()).await;
    assert!(body.contains("<Bucket>files</Bucket><Key>a b/big.iso</Key><UploadId>upload-1</UploadId>"), "{body}");
    for n in 1..=3 {
        storage.put_part("upload-1", n, &format!("e{n}"), 5 << 20);
    }

    let list = |query: &str| {
        at_host(Method::GET, &format!("/a%20b/big.iso?uploadId=upload-1{query}")).body(Body::empty()).unwrap()
    };
    let (status, _, body) = send(on_storage(&storage), list("&max-parts=2")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>files</Bucket><Key>a b/big.iso</Key><UploadId>upload-1</UploadId><StorageClass>STANDARD</StorageClass><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber>"), "{body}");
    assert_eq!(body.matches("<Part>").count(), 2, "{body}");
    let (_, _, body) = send(on_storage(&storage), list("&max-parts=2&part-number-marker=2")).await;
    assert!(body.contains("<PartNumberMarker>2</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>false</IsTruncated><Part><PartNumber>3</PartNumber>"), "{body}");
    assert_eq!(body.matches("<Part>").count(), 1, "{body}");
    let (_, _, body) = send(on_storage(&storage), list("")).await;
    assert!(body.contains("<MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>"), "{body}");
    let paged = at_host(Method::GET, "/a%20b/big.iso?uploadId=upload-1&max-parts=1&part-number-marker=1")
        .header(header::ACCEPT, "application/json");
    let (_, _, body) = send(on_storage(&storage), paged.body(Body::empty()).unwrap()).await;
    assert_eq!(
        body,
        r#"{"key":"a b/big.iso","upload_id":"upload-1","parts":[{"part_number":2,"etag":"e2","size":5242880}],"is_truncated":true,"next_part_number_marker":2}"#
    );

    let completion = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag></Part></CompleteMultipartUpload>";
    let (status, _, body) = send(
        on_storage(&storage),
        at_host(Method::POST, "/a%20b/big.iso?uploadId=upload-1").body(Body::from(completion)).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>http://files.example:8080/a%20b/big.iso</Location><Bucket>files</Bucket><Key>a b/big.iso</Key><ETag>&quot;e1e2e3-3&quot;</ETag></CompleteMultipartUploadResult>\n"
    );

    // Refusals: S3's <Error> with the gateway's reason and the request's id; JSON when asked.
    let cases = [
        (Method::POST, "/a%20b/big.iso?uploadId=upload-1", StatusCode::NOT_FOUND, "NoSuchUpload"),
        (Method::GET, "/a%20b/big.iso?uploadId=upload-1&max-parts=0", StatusCode::BAD_REQUEST, "InvalidArgument"),
        (Method::PUT, "/x?partNumber=0&uploadId=u", StatusCode::BAD_REQUEST, "InvalidArgument"),
        (Method::POST, "/a/../b?uploads", StatusCode::BAD_REQUEST, "InvalidRequest"),
    ];
    for (method, uri, status, code) in cases {
        for json in [false, true] {
            let mut sent = at_host(method.clone(), uri).header("x-request-id", "req-1");
            if json {
                sent = sent.header(header::ACCEPT, "application/json");
            }
            let (got, headers, body) = send(on_storage(&storage), sent.body(Body::from(completion)).unwrap()).await;
            assert_eq!(got, status, "{method} {uri}: {body}");
            if json {
                let error: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(
                    (error["code"].as_str(), error["request_id"].as_str()),
                    (Some(code), Some("req-1")),
                    "{body}"
                );
                assert!(!reason(&body).is_empty(), "{body}");
            } else {
                assert_eq!(headers[header::CONTENT_TYPE], "application/xml", "{method} {uri}");
                assert!(body.contains(&format!("<Error><Code>{code}</Code><Message>")), "{method} {uri}: {body}");
                assert!(body.ends_with("</Message><RequestId>req-1</RequestId></Error>\n"), "{method} {uri}: {body}");
            }
        }
    }
    // Elsewhere a refusal stays one line of text.
    let (status, _, body) =
        send(on_storage(&storage), at_host(Method::GET, "/a/../b").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "the key has a `.` or `..` segment\n"));
}

#[tokio::test]
async fn storage_that_cannot_be_reached_is_a_503_to_retry() {
    let down = Arc::new(MemoryStorage::down());
    let (status, headers, body) =
        send(on_storage(&down), request(Method::POST, "/f?uploads").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers[header::RETRY_AFTER], "2");
    assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
    assert_eq!(reason(&body), "storage is unreachable or slow; try again shortly");
}

#[tokio::test]
async fn checksums_and_conditions_reach_storage() {
    let storage = Arc::new(MemoryStorage::default());
    let json = |method: Method, uri: &str| request(method, uri).header(header::ACCEPT, "application/json");
    let started = json(Method::POST, "/c.bin?uploads")
        .header("x-amz-checksum-algorithm", "CRC64NVME")
        .header("x-amz-checksum-type", "FULL_OBJECT")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(on_storage(&storage), started).await.0, StatusCode::OK);
    let refused = json(Method::POST, "/c.bin?uploads").header("x-amz-checksum-algorithm", "MD5").body(Body::empty());
    let (status, _, body) = send(on_storage(&storage), refused.unwrap()).await;
    assert_eq!(
        (status, reason(&body).as_str()),
        (StatusCode::BAD_REQUEST, "x-amz-checksum-algorithm must be CRC32, CRC32C, CRC64NVME, SHA1 or SHA256")
    );

    storage.put_part("upload-1", 1, "e1", 10);
    let completion = r#"{"parts":[{"part_number":1,"etag":"e1","checksum_crc64nvme":"AAAAAAAAAAE="}]}"#;
    let complete = |checksum: &str| {
        json(Method::POST, "/c.bin?uploadId=upload-1")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-amz-checksum-crc64nvme", checksum)
            .header("x-amz-checksum-type", "FULL_OBJECT")
            .body(Body::from(completion))
            .unwrap()
    };
    let (status, _, body) = send(on_storage(&storage), complete("short")).await;
    assert_eq!(
        (status, reason(&body).as_str()),
        (StatusCode::BAD_REQUEST, "x-amz-checksum-crc64nvme must be the base64 of a checksum of that algorithm")
    );
    let (status, _, body) = send(on_storage(&storage), complete("AAAAAAAAAAE=")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        r#"{"key":"c.bin","etag":"e1-1","size":10,"checksum_crc64nvme":"AAAAAAAAAAE=","checksum_type":"FULL_OBJECT"}"#
    );

    // A download's checksum mode is checked and signed in: S3 reads it either
    // way, strict servers (Garage) only signed. Uploads sign their checksum and If-Match.
    let (status, headers, _) = send(
        on_storage(&storage),
        request(Method::GET, "/c.bin").header("x-amz-checksum-mode", "ENABLED").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(location.contains("X-Amz-SignedHeaders=host%3Bx-amz-checksum-mode&"), "{location}");
    let bad_mode = request(Method::GET, "/c.bin").header("x-amz-checksum-mode", "on").body(Body::empty()).unwrap();
    assert_eq!(send(on_storage(&storage), bad_mode).await.0, StatusCode::BAD_REQUEST);
    let put = request(Method::PUT, "/c.bin")
        .header(header::CONTENT_LENGTH, "0")
        .header("x-amz-checksum-crc64nvme", "AAAAAAAAAAA=")
        .header(header::IF_MATCH, "\"e1-1\"")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(on_storage(&storage), put).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(
        location.contains("X-Amz-SignedHeaders=content-length%3Bhost%3Bif-match%3Bx-amz-checksum-crc64nvme"),
        "{location}"
    );
}

fn on(storage: &Arc<MemoryStorage>, policy: Policy) -> axum::Router {
    let presigner =
        Presigner::new(BucketEndpoint::new("https://files.s3.eu-west-1.amazonaws.com", "eu-west-1").unwrap());
    let credentials = CredentialsCache::new(Credentials::new("AK", "SK", None, None, "test"));
    app(Arc::new(Gateway::new(policy, presigner, credentials, storage.clone())))
}

async fn json(router: axum::Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let (status, headers, body) = send(router, request).await;
    let value = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    (status, headers, value)
}

#[tokio::test]
async fn presign_answers_with_the_request_to_make() {
    let storage = Arc::new(MemoryStorage::default());
    let router = || on(&storage, Policy::new(Duration::from_secs(300)));
    let (status, headers, get) =
        json(router(), request(Method::GET, "/a%20b.txt?presign").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{get}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(get["method"], "GET");
    assert!(get["url"].as_str().unwrap().starts_with("https://files.s3.eu-west-1.amazonaws.com/a%20b.txt?"), "{get}");
    assert_eq!(get["headers"], serde_json::json!({}));
    assert!(get["expires_at"].as_str().unwrap().ends_with('Z'), "{get}");

    let put = request(Method::GET, "/photos/cat.jpg?presign=PUT")
        .header("upload-length", "1234")
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header("x-amz-meta-title", "%C3%89t%C3%A9%202024")
        .header(header::IF_NONE_MATCH, "*")
        .body(Body::empty())
        .unwrap();
    let (status, _, put) = json(router(), put).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["method"], "PUT");
    assert_eq!(
        put["headers"],
        serde_json::json!({
            "content-length": "1234",
            "content-type": "image/jpeg",
            "if-none-match": "*",
            "x-amz-meta-title": "%C3%89t%C3%A9%202024",
        })
    );
    let url = put["url"].as_str().unwrap();
    assert!(
        url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match%3Bx-amz-meta-title"),
        "{url}"
    );

    let part = request(Method::GET, "/big.iso?partNumber=3&uploadId=u-1&presign=PUT").header("upload-length", "5");
    let (status, _, part) = json(router(), part.body(Body::empty()).unwrap()).await;
    assert_eq!((status, part["method"].as_str()), (StatusCode::OK, Some("PUT")), "{part}");
    assert!(part["url"].as_str().unwrap().contains("partNumber=3&uploadId=u-1"), "{part}");
    let (_, _, head) = json(router(), request(Method::GET, "/f?presign=head").body(Body::empty()).unwrap()).await;
    assert_eq!(head["method"], "HEAD");
    let (_, _, delete) = json(router(), request(Method::DELETE, "/f?presign").body(Body::empty()).unwrap()).await;
    assert_eq!(delete["method"], "DELETE");

    let refused = [
        (Method::GET, "/f?presign=POST", "presign=METHOD"),
        (Method::PUT, "/f?presign=GET", "presign=METHOD"),
        (Method::POST, "/f?uploads&presign", "presign applies"),
        (Method::GET, "/?presign", "presign applies"),
    ];
    for (method, uri, reason) in refused {
        let (status, _, body) = send(router(), request(method.clone(), uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {uri}: {body}");
        assert!(body.contains(reason), "{method} {uri}: {body}");
    }
}

#[tokio::test]
async fn uploads_keep_ascii_metadata_and_follow_the_type_rules() {
    let storage = Arc::new(MemoryStorage::default());
    let allowed = presign_gateway::core::media::MediaTypes::parse(&["image/*".to_owned()]).unwrap();
    let typed = || on(&storage, Policy { allowed_types: allowed.clone(), ..Policy::new(Duration::from_secs(300)) });
    let put = |content_type: Option<&str>| {
        let mut builder = request(Method::PUT, "/p.png").header(header::CONTENT_LENGTH, "0");
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        builder.body(Body::empty()).unwrap()
    };
    let (status, _, body) = send(typed(), put(None)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert!(body.contains("image/*"), "{body}");
    let (status, _, body) = send(typed(), put(Some("text/plain"))).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, headers, _) = send(typed(), put(Some("image/png"))).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    assert!(headers[header::LOCATION].to_str().unwrap().contains("content-type%3Bhost"));
    let start = request(Method::POST, "/big.png?uploads").header(header::CONTENT_TYPE, "text/html");
    assert_eq!(send(typed(), start.body(Body::empty()).unwrap()).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let any = || on(&storage, Policy::new(Duration::from_secs(300)));
    let raw = request(Method::PUT, "/t.txt")
        .header(header::CONTENT_LENGTH, "0")
        .header("x-amz-meta-title", HeaderValue::from_bytes("Été".as_bytes()).unwrap());
    let (status, _, body) = send(any(), raw.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("percent-encode"), "{body}");
    let big =
        request(Method::PUT, "/t.txt").header(header::CONTENT_LENGTH, "0").header("x-amz-meta-notes", "n".repeat(2100));
    assert_eq!(send(any(), big.body(Body::empty()).unwrap()).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn folders_are_listed_page_by_page_as_the_client_names_them() {
    let storage = Arc::new(MemoryStorage::default());
    storage.put_object("a.txt", 3, &[("title", "A")]);
    storage.put_object("photos/1.jpg", 10, &[("title", "%C3%89t%C3%A9")]);
    storage.put_object("photos/2.jpg", 20, &[]);
    storage.put_object("photos/2024/x.jpg", 30, &[]);
    storage.put_object("z/deep/file", 1, &[]);
    let router = || on(&storage, Policy::new(Duration::from_secs(300)));
    let (status, headers, top) = json(router(), request(Method::GET, "/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{top}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(top["folders"], serde_json::json!(["photos/", "z/"]));
    assert_eq!(top["objects"][0]["key"], "a.txt");
    assert_eq!(top["objects"][0]["size"], 3);
    assert!(top["objects"][0].get("metadata").is_none());
    assert_eq!(top["next"], serde_json::Value::Null);
    let (_, _, root_again) = json(router(), request(Method::GET, "/%2F").body(Body::empty()).unwrap()).await;
    assert_eq!(root_again, top, "/%2F spells the top level");

    let (_, _, first) =
        json(router(), request(Method::GET, "/photos/?limit=2&metadata").body(Body::empty()).unwrap()).await;
    let keys: Vec<_> = first["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["photos/1.jpg", "photos/2.jpg"]);
    assert_eq!(first["objects"][0]["metadata"], serde_json::json!({ "title": "%C3%89t%C3%A9" }));
    let next = first["next"].as_str().expect("a cursor");
    let uri = format!(
        "/photos/?limit=2&after={}",
        percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
    );
    let (_, _, second) = json(router(), request(Method::GET, &uri).body(Body::empty()).unwrap()).await;
    assert_eq!(second["folders"], serde_json::json!(["photos/2024/"]));
    assert_eq!(second["objects"], serde_json::json!([]));
    assert_eq!(second["next"], serde_json::Value::Null);

    let (status, _, body) = send(router(), request(Method::GET, "/?limit=5000").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) =
        send(router(), request(Method::GET, "/?after=not-ours!").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "after= takes the `next` cursor of the page before, as the gateway gave it\n")
    );
}

/// The cursor is the gateway's own: where the page ended, relative to the
/// folder, never storage's token (which may carry the key prefix, as this
/// storage double's does), and it pages past a folder without listing it twice.
#[tokio::test]
async fn listing_cursors_name_nothing_above_the_folder() {
    let storage = Arc::new(MemoryStorage::default());
    for key in ["hidden-prefix/a.txt", "hidden-prefix/b/1.txt", "hidden-prefix/b/2.txt", "hidden-prefix/c.txt"] {
        storage.put_object(key, 1, &[]);
    }
    let mut policy = Policy::new(Duration::from_secs(300));
    policy.prefix = presign_gateway::core::key::KeyPrefix::new("hidden-prefix").unwrap();
    let router = || on(&storage, policy.clone());
    let mut seen = Vec::new();
    let mut uri = "/?limit=1".to_owned();
    loop {
        let (status, _, page) = json(router(), request(Method::GET, &uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap().to_owned()));
        seen.extend(page["folders"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()));
        let Some(next) = page["next"].as_str() else { break };
        let decoded = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, next).unwrap();
        assert!(!String::from_utf8_lossy(&decoded).contains("hidden"), "the cursor names the prefix: {next}");
        uri = format!("/?limit=1&after={next}");
    }
    assert_eq!(seen, ["a.txt", "b/", "c.txt"]);
}

#[tokio::test]
async fn browsers_get_the_page_and_apps_the_module() {
    let storage = Arc::new(MemoryStorage::default());
    let router = || on(&storage, Policy::new(Duration::from_secs(300)));
    let navigate = request(Method::GET, "/photos/").header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8");
    let (status, headers, page) = send(router(), navigate.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe"), "{policy}");
    assert!(policy.contains("connect-src 'self' https://files.s3.eu-west-1.amazonaws.com"), "{policy}");
    assert!(page.contains("data-folder=\"photos/\""), "{page}");
    let (status, headers, module) = send(router(), request(Method::GET, "/?module").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(!module.is_empty());
}
