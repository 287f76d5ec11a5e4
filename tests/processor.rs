//! The processor function's handler, fed S3's own EventBridge payloads
//! (`tests/data/eventbridge/`, with this test's bucket and keys) against a
//! real embedded store process and the local state engine: objects are
//! filed with their type, metadata and size; replayed and reordered events
//! change nothing; a delete marker removes the record; events for
//! renditions and keys outside the prefix are ignored; payloads of other
//! kinds are acknowledged. And on AWS's wiring, against moto's EventBridge
//! and SQS: the renditions it makes or fails are told on the bus, where
//! the template's rule for the upload events takes them to a queue.

#![cfg(feature = "embedded-store")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::primitives::ByteStream;
use common::moto::Moto;
use common::scripts::python;
use common::{STORE_ACCESS_KEY, STORE_SECRET_KEY, Store, scratch_dir};
use presign_gateway::catalog::processor::Processor;
use presign_gateway::catalog::{Catalog, Created, Layout, Status};
use presign_gateway::render::{ImageLimits, Presets};
use presign_gateway::state::local::LocalState;
use presign_gateway::storage::S3Storage;
use presign_gateway::transport::event_bus::EventBusAnnounce;
use presign_gateway::transport::processor::handle;
use serde_json::{Value, json};

const BUCKET: &str = "presign-gateway";
const CREATED: &str = include_str!("data/eventbridge/object-created.json");
const DELETED: &str = include_str!("data/eventbridge/object-deleted.json");

struct Setup {
    store: Store,
    processor: Processor,
    catalog: Catalog,
}

fn setup(name: &str) -> Setup {
    setup_with(name, "none", None)
}

/// A processor rendering `presets`, telling of them on `bus` when given.
fn setup_with(name: &str, presets: &str, bus: Option<EventBusAnnounce>) -> Setup {
    let store = Store::start(name);
    let state = LocalState::open(&scratch_dir(&format!("{name}-state"))).unwrap();
    let layout = Layout { prefix: "up/".into(), tenants: Some("tenants/".into()), hidden: None };
    let catalog = Catalog::new(Arc::new(state), layout);
    let credentials =
        SharedCredentialsProvider::new(Credentials::new(STORE_ACCESS_KEY, STORE_SECRET_KEY, None, None, "t"));
    let objects = S3Storage::new(credentials, "us-east-1", Some(&store.url), BUCKET, Duration::from_secs(10));
    let limits = ImageLimits { max_bytes: 1 << 20, max_pixels: 1 << 20 };
    let processor = Processor::new(catalog.clone(), Arc::new(objects), Presets::parse(presets).unwrap(), limits);
    let processor = match bus {
        Some(bus) => processor.announcing(Arc::new(bus)),
        None => processor,
    };
    Setup { store, processor, catalog }
}

impl Setup {
    /// Stores `body` at `key` and answers its ETag.
    fn put(&self, key: &str, body: &str) -> String {
        self.put_bytes(key, "text/plain", body.as_bytes())
    }

    fn put_bytes(&self, key: &str, content_type: &str, body: &[u8]) -> String {
        let client = self.store.client();
        Store::block_on(async {
            let put = client
                .put_object()
                .bucket(BUCKET)
                .key(key)
                .content_type(content_type)
                .metadata("title", "Notes")
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await
                .unwrap();
            put.e_tag().unwrap().trim_matches('"').to_owned()
        })
    }

    /// The keys under the renditions' folder.
    fn renditions(&self) -> Vec<String> {
        let client = self.store.client();
        Store::block_on(async {
            let listed = client.list_objects_v2().bucket(BUCKET).prefix("up/_renditions/").send().await.unwrap();
            listed.contents().iter().filter_map(|object| object.key().map(str::to_owned)).collect()
        })
    }

    fn delete(&self, key: &str) {
        let client = self.store.client();
        Store::block_on(async { client.delete_object().bucket(BUCKET).key(key).send().await.unwrap() });
    }

    /// Hands `event` to the handler, as Lambda would.
    fn play(&self, event: Value) {
        Store::block_on(handle(&self.processor, event)).expect("the handler takes the event");
    }

    fn record(&self, key: &str) -> Option<presign_gateway::catalog::Record> {
        Store::block_on(self.catalog.record(key)).unwrap()
    }
}

/// S3's example event for `key`, with `etag`, `size` and `sequencer`.
fn created(key: &str, etag: &str, size: usize, sequencer: &str) -> Value {
    let mut event: Value = serde_json::from_str(CREATED).unwrap();
    event["detail"]["bucket"]["name"] = json!(BUCKET);
    event["detail"]["object"]["key"] = json!(key);
    event["detail"]["object"]["etag"] = json!(etag);
    event["detail"]["object"]["size"] = json!(size);
    event["detail"]["object"]["sequencer"] = json!(sequencer);
    event
}

fn deleted(key: &str, sequencer: &str) -> Value {
    let mut event: Value = serde_json::from_str(DELETED).unwrap();
    event["detail"]["bucket"]["name"] = json!(BUCKET);
    event["detail"]["object"]["key"] = json!(key);
    event["detail"]["object"]["sequencer"] = json!(sequencer);
    event
}

#[test]
fn s3_events_file_records_once_in_order() {
    let setup = setup("processor-events");
    let key = "up/tenants/acme/notes.txt";
    let first = setup.put(key, "first");
    setup.play(created(key, &first, 5, "617f08299329d189"));
    let record = setup.record(key).expect("filed");
    assert_eq!((record.size, record.content_type.as_deref(), record.status), (5, Some("text/plain"), Status::Stored));
    assert_eq!(record.metadata.get("title").map(String::as_str), Some("Notes"));
    assert_eq!(record.uploaded_at, 1_636_675_200, "the event's time: 2021-11-12T00:00:00Z");

    // Overwritten: the old version's event, replayed late, changes nothing.
    let second = setup.put(key, "second!");
    setup.play(created(key, &second, 7, "617f08299329d190"));
    setup.play(created(key, &first, 5, "617f08299329d189"));
    assert_eq!(setup.record(key).unwrap().etag, second);
    // An older deletion arriving late, while the object is there: nothing.
    setup.play(deleted(key, "617f08299329d100"));
    assert_eq!(setup.record(key).unwrap().etag, second);

    // Deleted (a delete marker, on a versioned bucket): the record goes, and a late create cannot bring it back.
    setup.delete(key);
    setup.play(deleted(key, "617f0837b476e463"));
    assert_eq!(setup.record(key), None);
    setup.play(created(key, &second, 7, "617f08299329d190"));
    assert_eq!(setup.record(key), None);
}

#[test]
fn events_the_processor_does_not_own_are_acknowledged_and_ignored() {
    let setup = setup("processor-ignored");
    for key in ["up/_renditions/abc/e/thumb.jpg", "elsewhere/a.txt", "up/tenants/acme/gone.txt"] {
        setup.play(created(key, "0123", 3, "01"));
        assert_eq!(setup.record(key), None, "{key}");
    }
    let mut ec2: Value = serde_json::from_str(CREATED).unwrap();
    ec2["detail-type"] = json!("EC2 Instance State-change Notification");
    ec2["source"] = json!("aws.ec2");
    setup.play(ec2);
    setup.play(json!({"not": "an event"}));
}

#[test]
fn renditions_of_a_version_replaced_while_they_were_made_are_removed() {
    let setup = setup_with("processor-late-render", "thumb=32x32", None);
    let key = "up/tenants/acme/late.jpg";
    let jpeg = common::images::jpeg(64, 48, &common::images::halves(64, 48, [0, 255, 0], [0, 0, 0]), None);
    let etag = setup.put_bytes(key, "image/jpeg", &jpeg);
    setup.play(created(key, &etag, jpeg.len(), "01"));
    let first = setup.record(key).unwrap();
    assert_eq!((first.status, first.renditions.len()), (Status::Ready, 1));
    assert_eq!(setup.renditions().len(), 1);

    // Another version is filed (its event came while the original was
    // still being rendered), then that rendering finishes: its renditions
    // describe no filed version, and are removed.
    let newer = Created {
        key: key.into(),
        size: 9,
        etag: "f".repeat(32),
        sequencer: "02".into(),
        time: 1,
        content_type: Some("image/jpeg".into()),
        metadata: std::collections::BTreeMap::new(),
        status: Status::Stored,
    };
    Store::block_on(setup.catalog.created(newer)).unwrap().expect("filed");
    Store::block_on(setup.processor.render(&first)).unwrap();
    assert_eq!(setup.renditions(), Vec::<String>::new(), "no rendition outlives its version");
    assert_eq!(setup.record(key).unwrap().etag, "f".repeat(32));
}

/// `UploadEventsRule`'s pattern with the catalog on and `KeyPrefix` `up/`,
/// as CloudFormation resolves it (tests/template checks the template's).
fn upload_events_pattern() -> Value {
    json!({
        "source": ["aws.s3", "presign-gateway"],
        "detail-type": ["Object Created", "Object Deleted", "Rendition Ready", "Rendition Failed"],
        "detail": {
            "bucket": {"name": [BUCKET]},
            "object": {"key": [{"anything-but": {"prefix": "up/_renditions/"}}]}
        }
    })
}

/// Drives moto's EventBridge and SQS with boto3: `setup PATTERN` makes a
/// queue and a rule on the default bus sending what matches to it, and
/// prints the queue's URL; `receive URL N` prints the first N messages'
/// bodies as a JSON list (within a minute, or what came).
const EVENTS_SCRIPT: &str = r#"
import json, sys, time, boto3
endpoint, command = sys.argv[1], sys.argv[2]
session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
sqs, events = session.client("sqs", endpoint_url=endpoint), session.client("events", endpoint_url=endpoint)
if command == "setup":
    url = sqs.create_queue(QueueName="upload-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="upload-events", EventPattern=sys.argv[3], State="ENABLED")
    events.put_targets(Rule="upload-events", Targets=[{"Id": "upload-events", "Arn": arn}])
    print(url)
else:
    url, want, bodies, until = sys.argv[3], int(sys.argv[4]), [], time.time() + 60
    while len(bodies) < want and time.time() < until:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        bodies += [json.loads(m["Body"]) for m in got]
    print(json.dumps(bodies))
"#;

fn events_script(moto: &Moto, args: &[&str]) -> String {
    let out = std::process::Command::new(python())
        .args(["-c", EVENTS_SCRIPT, &moto.endpoint])
        .args(args)
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn renditions_are_told_on_the_event_bus_and_reach_the_upload_events_target() {
    if !Moto::available() {
        return;
    }
    let moto = Moto::start();
    let queue = events_script(&moto, &["setup", &upload_events_pattern().to_string()]);
    let sdk = Store::block_on(async {
        let sdk = Moto::sdk_config().await;
        sdk.into_builder().endpoint_url(&moto.endpoint).build()
    });
    let bus = EventBusAnnounce::new(&sdk, "default", BUCKET);
    let setup = setup_with("processor-event-bus", "thumb=32x32", Some(bus));

    let photo = "up/tenants/acme/photo.jpg";
    let jpeg = common::images::jpeg(64, 48, &common::images::halves(64, 48, [255, 0, 0], [0, 0, 255]), None);
    let photo_etag = setup.put_bytes(photo, "image/jpeg", &jpeg);
    setup.play(created(photo, &photo_etag, jpeg.len(), "01"));
    let fake = "up/tenants/acme/fake.jpg";
    let fake_etag = setup.put_bytes(fake, "image/jpeg", b"not a picture at all");
    setup.play(created(fake, &fake_etag, 20, "02"));
    assert_eq!(setup.record(photo).unwrap().status, Status::Ready);
    assert_eq!(setup.record(fake).unwrap().status, Status::Failed);

    let told: Vec<Value> = serde_json::from_str(&events_script(&moto, &["receive", &queue, "2"])).unwrap();
    let of = |key: &str| told.iter().find(|event| event["detail"]["object"]["key"] == key).cloned();
    let ready = of(photo).unwrap_or_else(|| panic!("no event about {photo}: {told:?}"));
    assert_eq!(
        (ready["source"].as_str(), ready["detail-type"].as_str()),
        (Some("presign-gateway"), Some("Rendition Ready"))
    );
    assert_eq!(ready["resources"], json!([format!("arn:aws:s3:::{BUCKET}")]));
    let detail = &ready["detail"];
    assert_eq!(
        (detail["bucket"]["name"].as_str(), detail["object"]["etag"].as_str()),
        (Some(BUCKET), Some(&*photo_etag))
    );
    let made = &detail["rendition"];
    assert_eq!(
        (made["name"].as_str(), made["width"].as_u64(), made["height"].as_u64()),
        (Some("thumb"), Some(32), Some(24))
    );
    let rendition_key = made["key"].as_str().unwrap();
    assert!(rendition_key.starts_with("up/_renditions/") && rendition_key.ends_with("/thumb.jpg"), "{rendition_key}");
    let failed = of(fake).unwrap_or_else(|| panic!("no event about {fake}: {told:?}"));
    assert_eq!(failed["detail-type"], "Rendition Failed");
    assert_eq!(
        (failed["detail"]["object"]["etag"].as_str(), &failed["detail"]["rendition"]),
        (Some(&*fake_etag), &Value::Null)
    );
    assert_eq!(failed["detail"]["reason"], "not a supported image");
    assert_eq!(told.len(), 2, "one event per rendition made or failed: {told:?}");
}
