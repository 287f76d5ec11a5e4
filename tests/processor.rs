//! The processor function's handler, fed S3's own EventBridge payloads
//! (`tests/data/eventbridge/`, with this test's bucket and keys) against a
//! real embedded store process and the local state engine: objects are
//! filed with their type, metadata and size; replayed and reordered events
//! change nothing; a delete marker removes the record; events for
//! renditions and keys outside the prefix are ignored; payloads of other
//! kinds are acknowledged.

#![cfg(feature = "embedded-store")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::primitives::ByteStream;
use common::{STORE_ACCESS_KEY, STORE_SECRET_KEY, Store, scratch_dir};
use presign_gateway::catalog::processor::Processor;
use presign_gateway::catalog::{Catalog, Layout, Status};
use presign_gateway::render::{ImageLimits, Presets};
use presign_gateway::state::local::LocalState;
use presign_gateway::storage::S3Storage;
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
    let store = Store::start(name);
    let state = LocalState::open(&scratch_dir(&format!("{name}-state"))).unwrap();
    let layout = Layout { prefix: "up/".into(), tenants: Some("tenants/".into()), hidden: None };
    let catalog = Catalog::new(Arc::new(state), layout);
    let credentials =
        SharedCredentialsProvider::new(Credentials::new(STORE_ACCESS_KEY, STORE_SECRET_KEY, None, None, "t"));
    let objects = S3Storage::new(credentials, "us-east-1", Some(&store.url), BUCKET, Duration::from_secs(10));
    let limits = ImageLimits { max_bytes: 1 << 20, max_pixels: 1 << 20 };
    let processor = Processor::new(catalog.clone(), Arc::new(objects), Presets::parse("none").unwrap(), limits);
    Setup { store, processor, catalog }
}

impl Setup {
    /// Stores `body` at `key` and answers its ETag.
    fn put(&self, key: &str, body: &str) -> String {
        let client = self.store.client();
        Store::block_on(async {
            let put = client
                .put_object()
                .bucket(BUCKET)
                .key(key)
                .content_type("text/plain")
                .metadata("title", "Notes")
                .body(ByteStream::from(body.as_bytes().to_vec()))
                .send()
                .await
                .unwrap();
            put.e_tag().unwrap().trim_matches('"').to_owned()
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
