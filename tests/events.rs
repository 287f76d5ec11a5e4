//! Upload events from the real binary to a receiver in the test: the
//! EventBridge JSON S3 sends, for PUTs, multipart uploads and deletions, in
//! order, signed, and delivered at least once across a receiver that is down
//! and a gateway that restarts meanwhile; a tenant that floods a full spool
//! loses its own events first.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;
use common::{Gateway, Store, curl_status, random_file, scratch_dir};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

const SECRET: &str = "an-events-secret-of-at-least-32-bytes";
const BUCKET: &str = "presign-gateway";
/// How long a test waits for events: more than the longest retry delay
/// (30 s, plus up to 30 s of jitter) after a receiver comes back.
const PATIENCE: Duration = Duration::from_secs(120);

/// One POST the receiver took.
#[derive(Debug, Clone)]
struct Delivery {
    signature: Option<String>,
    body: Bytes,
}

impl Delivery {
    fn event(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// An HTTP server on its own runtime that keeps every POST; stopping it drops
/// the runtime, so the port refuses connections until it starts again.
struct Receiver {
    runtime: Option<tokio::runtime::Runtime>,
    address: SocketAddr,
    got: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    fn start() -> Self {
        Self::listen("127.0.0.1:0".parse().unwrap(), Arc::default())
    }

    fn listen(address: SocketAddr, got: Arc<Mutex<Vec<Delivery>>>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::net::TcpListener::bind(address).await {
                    Ok(listener) => return listener,
                    Err(error) if Instant::now() > deadline => panic!("bind {address}: {error}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        let address = listener.local_addr().unwrap();
        let app = Router::new().route("/hooks/{token}", post(take)).with_state(got.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self { runtime: Some(runtime), address, got }
    }

    /// The URL events go to; its path carries a token the logs must not show.
    fn url(&self) -> String {
        format!("http://{}/hooks/s3cr3t-token", self.address)
    }

    fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }

    fn restart(&mut self) {
        self.stop();
        *self = Self::listen(self.address, self.got.clone());
    }

    /// The deliveries so far, one per event id (the first of each), in the
    /// order they came, once there are at least `n` distinct events.
    fn wait_for(&self, n: usize) -> Vec<Delivery> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let distinct = first_of_each(&self.got.lock().unwrap());
            if distinct.len() >= n {
                return distinct;
            }
            assert!(Instant::now() < deadline, "{} of {n} events came: {distinct:#?}", distinct.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn take(State(got): State<Arc<Mutex<Vec<Delivery>>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature =
        headers.get("x-presign-gateway-signature").map(|value| value.to_str().unwrap_or_default().to_owned());
    got.lock().unwrap().push(Delivery { signature, body });
    StatusCode::NO_CONTENT
}

fn first_of_each(deliveries: &[Delivery]) -> Vec<Delivery> {
    let mut seen = std::collections::HashSet::new();
    deliveries.iter().filter(|d| seen.insert(d.event()["id"].as_str().unwrap().to_owned())).cloned().collect()
}

/// What a receiver does: checks `t=<t>,v1=<hmac>` against the body and refuses a stale `t`.
fn verify(delivery: &Delivery, secret: &str) -> bool {
    let Some(header) = &delivery.signature else { return false };
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<u64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    if now.abs_diff(t) > 300 {
        return false;
    }
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(&delivery.body);
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), &signed, &v1).is_ok()
}

/// `(detail-type, reason, key)` of each event.
fn summary(deliveries: &[Delivery]) -> Vec<(String, String, String)> {
    deliveries
        .iter()
        .map(|d| {
            let event = d.event();
            let text = |v: &Value| v.as_str().unwrap().to_owned();
            (text(&event["detail-type"]), text(&event["detail"]["reason"]), text(&event["detail"]["object"]["key"]))
        })
        .collect()
}

fn sequencers_rise(deliveries: &[Delivery]) {
    let sequencers: Vec<u64> = deliveries
        .iter()
        .map(|d| u64::from_str_radix(d.event()["detail"]["object"]["sequencer"].as_str().unwrap(), 16).unwrap())
        .collect();
    assert!(sequencers.is_sorted(), "{sequencers:?}");
}

/// Waits for as many events as `expected` lists as `(detail-type, reason,
/// key)`, checks they are those, in that order and with rising sequencers,
/// and returns them.
fn expect_events(receiver: &Receiver, expected: &[(&str, &str, &str)]) -> Vec<Delivery> {
    let events = receiver.wait_for(expected.len());
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(kind, reason, key)| ((*kind).to_owned(), (*reason).to_owned(), (*key).to_owned()))
        .collect();
    assert_eq!(summary(&events), expected);
    sequencers_rise(&events);
    events
}

#[test]
fn put_multipart_and_delete_each_send_s3s_event_signed_and_in_order() {
    let receiver = Receiver::start();
    let url = receiver.url();
    let store =
        Store::start_in(scratch_dir("events-store").join("data"), &["--notify-url", &url, "--notify-secret", SECRET]);
    let client = store.client();
    let part_one = vec![7u8; 5 << 20];
    let (put_etag, multipart_etag) = Store::block_on(async {
        let put = client
            .put_object()
            .bucket(BUCKET)
            .key("tenants/acme/q3 report.pdf")
            .body(ByteStream::from_static(b"7 bytes"))
            .send()
            .await
            .unwrap();
        let upload = client.create_multipart_upload().bucket(BUCKET).key("tenants/acme/big.bin").send().await.unwrap();
        let id = upload.upload_id().unwrap();
        let mut parts = Vec::new();
        for (number, body) in [(1, part_one.clone()), (2, b"tail".to_vec())] {
            let part = client
                .upload_part()
                .bucket(BUCKET)
                .key("tenants/acme/big.bin")
                .upload_id(id)
                .part_number(number)
                .body(ByteStream::from(body))
                .send()
                .await
                .unwrap();
            parts.push(CompletedPart::builder().part_number(number).e_tag(part.e_tag().unwrap()).build());
        }
        let done = client
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key("tenants/acme/big.bin")
            .upload_id(id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .unwrap();
        client.delete_object().bucket(BUCKET).key("tenants/acme/q3 report.pdf").send().await.unwrap();
        (put.e_tag().unwrap().trim_matches('"').to_owned(), done.e_tag().unwrap().trim_matches('"').to_owned())
    });

    let events = expect_events(
        &receiver,
        &[
            ("Object Created", "PutObject", "tenants/acme/q3 report.pdf"),
            ("Object Created", "CompleteMultipartUpload", "tenants/acme/big.bin"),
            ("Object Deleted", "DeleteObject", "tenants/acme/q3 report.pdf"),
        ],
    );
    let [put, multipart, deleted] = [events[0].event(), events[1].event(), events[2].event()];
    assert_eq!(put["source"], "aws.s3");
    assert_eq!(put["version"], "0");
    assert_eq!(put["region"], "us-east-1");
    assert_eq!(put["resources"][0], "arn:aws:s3:::presign-gateway");
    assert_eq!(put["detail"]["bucket"]["name"], BUCKET);
    assert_eq!(put["detail"]["object"]["size"], 7);
    assert_eq!(put["detail"]["object"]["etag"], put_etag.as_str());
    assert_eq!(multipart["detail"]["object"]["size"], (5 << 20) + 4);
    assert_eq!(multipart["detail"]["object"]["etag"], multipart_etag.as_str());
    assert!(multipart_etag.ends_with("-2"), "{multipart_etag}");
    assert_eq!(deleted["detail"]["object"]["etag"], put_etag.as_str());
    assert_eq!(deleted["detail"]["deletion-type"], "Permanently Deleted");
    assert!(deleted["detail"]["object"].get("size").is_none());
    for delivery in &events {
        assert!(verify(delivery, SECRET), "the signature does not verify: {:?}", delivery.signature);
        let mut forged = delivery.clone();
        forged.body = Bytes::from(String::from_utf8(delivery.body.to_vec()).unwrap().replace("acme", "evil"));
        assert!(!verify(&forged, SECRET), "a changed body verified");
        assert!(!verify(delivery, "another-secret-of-at-least-32-bytes!!"), "another secret verified");
    }
}

#[test]
fn a_receiver_that_was_down_gets_every_event_after_a_gateway_restart() {
    let mut receiver = Receiver::start();
    let url = receiver.url();
    let host = receiver.address.to_string();
    receiver.stop();

    let data_dir = scratch_dir("events-restart").join("data");
    let files = scratch_dir("events-restart-files");
    let (one, two) = (files.join("one.txt"), files.join("two.bin"));
    random_file(&one, 1000, 1);
    random_file(&two, 2000, 2);

    let mut gateway = Gateway::start_in(data_dir.clone(), &["--notify-url", &url]);
    let (status, _) = curl_status(&["-L", "--fail", "-T", one.to_str().unwrap(), &gateway.at("one.txt")]);
    assert_eq!(status, 200, "the upload waits for no receiver");
    assert!(gateway.server.logged("cannot deliver an upload event", PATIENCE), "{}", gateway.logs());
    let logs = gateway.logs();
    assert!(logs.contains(&host), "the log names the receiver's host: {logs}");
    assert!(!logs.contains("s3cr3t"), "the log shows the receiver's path: {logs}");
    // A crash: whatever was not delivered is still in the spool.
    gateway.server.kill();

    let gateway = Gateway::start_in(data_dir, &["--notify-url", &url]);
    let (status, _) = curl_status(&["-L", "--fail", "-T", two.to_str().unwrap(), &gateway.at("two.bin")]);
    assert_eq!(status, 200);
    let (status, _) = curl_status(&["-L", "-X", "DELETE", &gateway.at("one.txt")]);
    assert_eq!(status, 204);

    receiver.restart();
    let events = expect_events(
        &receiver,
        &[
            ("Object Created", "PutObject", "one.txt"),
            ("Object Created", "PutObject", "two.bin"),
            ("Object Deleted", "DeleteObject", "one.txt"),
        ],
    );
    assert_eq!(events[0].event()["detail"]["object"]["size"], 1000);
    assert_eq!(events[1].event()["detail"]["object"]["size"], 2000);
    assert!(events.iter().all(|d| d.signature.is_none()), "signed without a secret");
}

#[test]
fn a_tenant_flooding_a_full_spool_loses_its_own_events_first() {
    let mut receiver = Receiver::start();
    let url = receiver.url();
    receiver.stop();
    let extra = ["--notify-url", url.as_str(), "--notify-spool-limit", "4"];
    let store = Store::start_in(scratch_dir("events-fair").join("data"), &extra);
    let client = store.client();
    let put = |key: String| {
        let request = client.put_object().bucket(BUCKET).key(key).body(ByteStream::from_static(b"x"));
        Store::block_on(request.send()).unwrap();
    };
    put("tenants/bob/a".to_owned());
    // The delivery now holds bob's event and retries it; the rest wait in the spool.
    assert!(store.server.logged("cannot deliver an upload event", PATIENCE), "{}", store.server.logs());
    put("tenants/carol/a".to_owned());
    for n in 0..5 {
        put(format!("tenants/mallory/{n}"));
    }
    receiver.restart();
    let created = ("Object Created", "PutObject");
    expect_events(
        &receiver,
        &[
            (created.0, created.1, "tenants/bob/a"),
            (created.0, created.1, "tenants/carol/a"),
            (created.0, created.1, "tenants/mallory/3"),
            (created.0, created.1, "tenants/mallory/4"),
        ],
    );
}

#[test]
fn each_url_of_notify_url_gets_every_event_whatever_the_others_do() {
    let live = Receiver::start();
    let mut down = Receiver::start();
    down.stop();
    let urls = format!("{},{}", down.url(), live.url());
    let store = Store::start_in(scratch_dir("events-two").join("data"), &["--notify-url", &urls]);
    let client = store.client();
    Store::block_on(async {
        for n in 0..5 {
            let body = ByteStream::from(format!("object {n}").into_bytes());
            client.put_object().bucket(BUCKET).key(format!("k/{n}")).body(body).send().await.unwrap();
        }
    });
    // The live receiver is not held up by the one that is down.
    let created = |key| ("Object Created", "PutObject", key);
    let events = expect_events(&live, &["k/0", "k/1", "k/2", "k/3", "k/4"].map(created));

    down.restart();
    let late = down.wait_for(5);
    let ids = |d: &[Delivery]| d.iter().map(|d| d.event()["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&late), ids(&events), "the same events, in the same order, with the same ids");
}

/// The gateway tells of the renditions it made (one `Rendition Ready` per
/// preset) or could not make (`Rendition Failed` with the reason), in the
/// same envelope, signed, after the object's own event; renditions' keys
/// send no event of their own.
#[test]
fn renditions_made_and_failed_are_told_after_the_upload() {
    let receiver = Receiver::start();
    let gateway = Gateway::start(
        "events-renditions",
        &["--notify-url", &receiver.url(), "--notify-secret", SECRET, "--renditions", "thumb=16x16,big=32x32"],
    );
    let dir = scratch_dir("events-renditions-files");
    let photo = dir.join("photo.jpg");
    std::fs::write(
        &photo,
        common::images::jpeg(64, 32, &common::images::halves(64, 32, [200, 0, 0], [0, 0, 200]), None),
    )
    .unwrap();
    let text = dir.join("notes.jpg");
    std::fs::write(&text, "not a picture\n").unwrap();
    for (file, key) in [(&photo, "photo.jpg"), (&text, "notes.jpg")] {
        let (status, body) =
            curl_status(&["-L", "--upload-file", file.to_str().unwrap(), &gateway.at(&format!("/{key}"))]);
        assert_eq!(status, 200, "{body}");
    }
    let events = receiver.wait_for(5);
    assert!(events.iter().all(|event| verify(event, SECRET)), "an unsigned event");
    let told: Vec<Value> = events.iter().map(Delivery::event).collect();
    let kinds: Vec<(&str, &str)> = told
        .iter()
        .map(|e| (e["detail-type"].as_str().unwrap(), e["detail"]["object"]["key"].as_str().unwrap()))
        .collect();
    let position = |kind: &str, key: &str| {
        kinds.iter().position(|k| *k == (kind, key)).unwrap_or_else(|| panic!("{kind} {key}: {kinds:?}"))
    };
    assert!(position("Object Created", "photo.jpg") < position("Rendition Ready", "photo.jpg"), "{kinds:?}");
    let ready: Vec<&Value> = told.iter().filter(|e| e["detail-type"] == "Rendition Ready").collect();
    let mut sizes: Vec<(String, u64, u64)> = ready
        .iter()
        .map(|e| {
            let made = &e["detail"]["rendition"];
            (
                made["name"].as_str().unwrap().to_owned(),
                made["width"].as_u64().unwrap(),
                made["height"].as_u64().unwrap(),
            )
        })
        .collect();
    sizes.sort();
    // A gateway whose log is new lists storage at start: an upload racing that sync may be
    // rendered (and told) twice, which at-least-once delivery allows.
    sizes.dedup();
    assert_eq!(sizes, [("big".to_owned(), 32, 16), ("thumb".to_owned(), 16, 8)]);
    assert!(ready.iter().all(|e| e["source"] == "presign-gateway"
        && e["detail"]["rendition"]["key"].as_str().unwrap().starts_with("_renditions/")));
    let failed = told.iter().find(|e| e["detail-type"] == "Rendition Failed").expect("a failure told");
    assert_eq!(
        (&failed["detail"]["object"]["key"], &failed["detail"]["reason"]),
        (&json!("notes.jpg"), &json!("not a supported image"))
    );
    assert!(failed["detail"]["rendition"].is_null());
    assert!(!kinds.iter().any(|(_, key)| key.starts_with("_renditions/")), "a rendition's own key told: {kinds:?}");
}
