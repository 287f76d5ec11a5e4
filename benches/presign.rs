//! What one request costs: the pure decision, the signature, and a whole
//! request through the router (without and with the access log written to a
//! file, as in production: directly, or queued for the writer thread), plus `aws-sigv4` called directly (the gateway's
//! signer until issue 13, now the tests' reference) and the AWS SDK's own
//! presigner for comparison.
//!
//! Run with `cargo bench --bench presign`; see BENCHMARKS.md.

#[path = "../tests/common/sigv4_reference.rs"]
mod sigv4_reference;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::presigning::PresigningConfig;
use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Method, Request};
use presign_gateway::cli::LogFormat;
use presign_gateway::config::{LogConfig, LogWriter};
use presign_gateway::core::query::Query;
use presign_gateway::core::{Action, BodySize, Caller, Incoming, KeyPath, Policy, UploadHeaders, decide};
use presign_gateway::gateway::{Gateway, app};
use presign_gateway::signing::{BucketEndpoint, CredentialsCache, Presigner};
use presign_gateway::storage::S3Storage;
use presign_gateway::telemetry;
use tower::ServiceExt;

const KEY_PATH: &str = "/reports/2024/Q3%20summary.pdf";

fn policy() -> Policy {
    Policy::new(Duration::from_secs(300))
}

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "bench")
}

fn endpoint() -> BucketEndpoint {
    BucketEndpoint::new("https://files.s3.eu-west-1.amazonaws.com", "eu-west-1").unwrap()
}

fn incoming() -> Incoming<'static> {
    Incoming {
        method: &Method::GET,
        path: KeyPath::Encoded(KEY_PATH),
        body: BodySize::Absent,
        upload: UploadHeaders::default(),
    }
}

fn benches(c: &mut Criterion) {
    let policy = policy();
    c.bench_function("decide", |b| {
        b.iter(|| decide(black_box(&incoming()), &Query::default(), Caller::Owner(None), &policy));
    });

    let Ok(Action::Presign(order)) = decide(&incoming(), &Query::default(), Caller::Owner(None), &policy) else {
        panic!("a valid request")
    };
    let presigner = Presigner::new(endpoint());
    let credentials = credentials();
    c.bench_function("presign/gateway", |b| {
        b.iter(|| presigner.presign(black_box(&order), &credentials, SystemTime::now()));
    });
    let mut upload = order.clone();
    upload.operation = presign_gateway::core::Operation::Put;
    upload.response = presign_gateway::core::ResponseOverrides::default();
    upload.signed_headers =
        vec![("content-length", "1048576".into()), ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==".into())];
    c.bench_function("presign/gateway-put-signed-headers", |b| {
        b.iter(|| presigner.presign(black_box(&upload), &credentials, SystemTime::now()));
    });
    let session = Credentials::new("ASIAEXAMPLE", "secret", Some("IQoJb3JpZ2luX2VjE".repeat(50)), None, "bench");
    c.bench_function("presign/gateway-session-token", |b| {
        b.iter(|| presigner.presign(black_box(&order), &session, SystemTime::now()));
    });
    let endpoint = endpoint();
    c.bench_function("presign/aws-sigv4", |b| {
        b.iter(|| sigv4_reference::reference(&endpoint, black_box(&order), &credentials, SystemTime::now()));
    });

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new("eu-west-1"))
        .credentials_provider(credentials.clone())
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let presigning = PresigningConfig::expires_in(Duration::from_secs(300)).expect("lifetime");
    c.bench_function("presign/aws-sdk-s3-presigner", |b| {
        b.to_async(&runtime).iter(|| async {
            client
                .get_object()
                .bucket("files")
                .key("reports/2024/Q3 summary.pdf")
                .response_content_type("application/pdf")
                .presigned(presigning.clone())
                .await
        });
    });

    // A GET never calls storage; the client is only built.
    let storage = Arc::new(S3Storage::new(
        SharedCredentialsProvider::new(credentials.clone()),
        "eu-west-1",
        None,
        "files",
        Duration::from_secs(20),
    ));
    let router = app(Arc::new(Gateway::new(policy, presigner, CredentialsCache::new(credentials), storage)));
    let get = || Request::get(KEY_PATH).body(Body::empty()).expect("request");
    // No subscriber: the access log line is a disabled event.
    c.bench_function("request/router", |b| b.to_async(&runtime).iter(|| router.clone().oneshot(get())));

    // The access log written to a file: formatted on the request's thread,
    // then written by it (Lambda's way) or gathered and written in batches
    // (the local server's way).
    let logs = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    for (name, writer) in
        [("request/router+log-direct", LogWriter::Direct), ("request/router+log-batched", LogWriter::Batched)]
    {
        let file = std::fs::File::create(logs.join(format!("bench-access-{writer:?}.log"))).expect("log file");
        let log = LogConfig { format: LogFormat::Text, filter: "info".into(), writer };
        let (subscriber, guard) = telemetry::subscriber(&log, file, false);
        tracing::subscriber::with_default(subscriber, || {
            c.bench_function(name, |b| b.to_async(&runtime).iter(|| router.clone().oneshot(get())));
        });
        drop(guard);
    }
}

criterion_group!(presign, benches);
criterion_main!(presign);
