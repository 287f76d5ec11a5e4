//! The upload log through the real binary on its default state store (a
//! redb file in the data folder): uploads by two tenants, by single PUT, in
//! parts with the CLI, and through a share link, appear in each one's log
//! with who uploaded them, never in the other's; `?status` reads one
//! record; a delete removes it; listings take metadata and status from the
//! log; the reserved renditions folder is refused as a key.

mod common;

use std::time::{Duration, Instant};

use common::{Gateway, binary, random_file, scratch_dir};
use serde_json::{Value, json};

const JWT_SECRET: &str = "catalog test HS256 secret, 32 bytes or more";
const SHARE_KEY: &str = "k1:catalog-test-share-key-0123456789abcdef";

fn token(sub: &str) -> String {
    common::hs256_token(JWT_SECRET, sub)
}

fn start(name: &str, extra: &[&str]) -> Gateway {
    let mut args = vec!["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY, "--renditions", "none"];
    args.extend_from_slice(extra);
    Gateway::start(name, &args)
}

/// `curl -L` as `sub` (anonymous with `None`), `args` before the URL.
fn call(sub: Option<&str>, args: &[&str], url: &str) -> (u16, String) {
    common::curl_as(sub.map(token).as_deref(), args, url)
}

fn json_of(sub: Option<&str>, url: &str) -> (u16, Value) {
    let (status, body) = call(sub, &[], url);
    (status, serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON ({status}): {body}")))
}

/// The log of `sub`, once it holds `count` entries (the processor runs after the upload returns).
fn log_of(gateway: &Gateway, sub: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, page) = json_of(Some(sub), &gateway.at("/%2F?log"));
        assert_eq!(status, 200, "{page}");
        let entries = page["entries"].as_array().unwrap().clone();
        if entries.len() >= count || Instant::now() > deadline {
            assert_eq!(entries.len(), count, "{sub}'s log: {page:#}");
            return entries;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn uploads_appear_in_their_tenants_log_with_who_uploaded_them_and_nowhere_else() {
    let gateway = start("catalog-two-tenants", &[]);
    let dir = scratch_dir("catalog-two-tenants-files");
    let small = dir.join("small.txt");
    std::fs::write(&small, "hello from alice\n").unwrap();
    let big = dir.join("big.bin");
    random_file(&big, 12 << 20, 7);

    // Alice: one PUT with a title.
    let args = ["-H", "X-Amz-Meta-Title: Beach", "--upload-file", small.to_str().unwrap()];
    let (status, body) = call(Some("alice"), &args, &gateway.at("/notes/hello.txt"));
    assert_eq!(status, 200, "{body}");

    // Bob: in parts, with the CLI.
    let output = binary()
        .args([
            "upload",
            "--part-size",
            "5MiB",
            "--token",
            &token("bob"),
            big.to_str().unwrap(),
            &gateway.at("/big.bin"),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // Someone with alice's upload link.
    let (status, link) = call(Some("alice"), &["-X", "POST"], &gateway.at("/dropbox/in.txt?share&ttl=10m&methods=PUT"));
    assert_eq!(status, 201, "{link}");
    let link = link.trim();
    let (status, body) = call(None, &["--upload-file", small.to_str().unwrap()], link);
    assert_eq!(status, 200, "{body}");
    let link_token = link.split("token=").nth(1).unwrap();
    let link_hash = {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, link_token.as_bytes());
        hex::encode(&digest.as_ref()[..8])
    };

    let alice = log_of(&gateway, "alice", 2);
    let bob = log_of(&gateway, "bob", 1);
    let by_key = |log: &[Value], key: &str| log.iter().find(|e| e["key"] == key).cloned().unwrap_or_default();
    let hello = by_key(&alice, "notes/hello.txt");
    assert_eq!(hello["uploaded_by"], "alice", "{hello:#}");
    assert_eq!(hello["title"], "Beach");
    assert_eq!(hello["size"], 17);
    assert_eq!(hello["status"], "stored");
    assert!(hello["uploaded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(by_key(&alice, "dropbox/in.txt")["uploaded_by"], format!("link:{link_hash}"));
    assert_eq!(by_key(&bob, "big.bin")["uploaded_by"], "bob");
    assert_eq!(by_key(&bob, "big.bin")["size"], 12 << 20);
    assert!(alice.iter().all(|entry| entry["key"] != "big.bin"), "bob's upload in alice's log");

    // One record; another tenant's is not there for them.
    let (status, record) = json_of(Some("alice"), &gateway.at("/notes/hello.txt?status"));
    assert_eq!((status, &record["key"]), (200, &json!("notes/hello.txt")), "{record}");
    let (status, refused) = json_of(Some("bob"), &gateway.at("/notes/hello.txt?status"));
    assert_eq!((status, &refused["error"]), (404, &json!("NoSuchKey")), "{refused}");

    // A listing with metadata reads it from the log.
    let (status, page) = json_of(Some("alice"), &gateway.at("/notes/?metadata"));
    assert_eq!(status, 200);
    assert_eq!(page["objects"][0]["metadata"]["title"], "Beach", "{page:#}");
    assert_eq!(page["objects"][0]["status"], "stored");

    // A delete removes the record.
    let (status, _) = call(Some("alice"), &["-X", "DELETE"], &gateway.at("/notes/hello.txt"));
    assert_eq!(status, 204);
    let alice = log_of(&gateway, "alice", 1);
    assert_eq!(alice[0]["key"], "dropbox/in.txt");
    let (status, _) = json_of(Some("alice"), &gateway.at("/notes/hello.txt?status"));
    assert_eq!(status, 404);
}

#[test]
fn the_log_pages_newest_first_and_filters_failed_uploads() {
    let gateway = start("catalog-pages", &[]);
    let file = scratch_dir("catalog-pages-files").join("f.txt");
    std::fs::write(&file, "x").unwrap();
    for n in 0..5 {
        let (status, body) =
            call(Some("carol"), &["--upload-file", file.to_str().unwrap()], &gateway.at(&format!("/f{n}.txt")));
        assert_eq!(status, 200, "{body}");
        std::thread::sleep(Duration::from_millis(1100)); // uploads a second apart: the log orders by second
    }
    log_of(&gateway, "carol", 5);
    let (_, first) = json_of(Some("carol"), &gateway.at("/%2F?log&limit=2"));
    let keys = |page: &Value| {
        page["entries"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(keys(&first), ["f4.txt", "f3.txt"], "{first:#}");
    let next = first["next"].as_str().expect("a next cursor");
    let (_, second) = json_of(Some("carol"), &gateway.at(&format!("/%2F?log&limit=2&after={next}")));
    assert_eq!(keys(&second), ["f2.txt", "f1.txt"]);
    let (_, failed) = json_of(Some("carol"), &gateway.at("/?log&status=failed"));
    assert_eq!(failed["entries"], json!([]));
    for (url, reason) in
        [("/photos/?log", "top level"), ("/?log&status=done", "status=failed"), ("/?log&status", "status=failed")]
    {
        let (status, refused) = json_of(Some("carol"), &gateway.at(url));
        assert_eq!(status, 400, "{url}: {refused}");
        assert!(refused["message"].as_str().unwrap().contains(reason), "{url}: {refused}");
    }
}

#[test]
fn the_renditions_folder_is_no_key_in_any_auth_mode() {
    let file = scratch_dir("catalog-reserved-files").join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let tenants = start("catalog-reserved-tenants", &[]);
    let open = Gateway::start("catalog-reserved-open", &["--renditions", "none"]);
    for (gateway, sub) in [(&tenants, Some("dave")), (&open, None)] {
        for method in ["PUT", "GET", "DELETE"] {
            let (status, body) = call(sub, &["-X", method], &gateway.at("/_renditions/x/thumb.jpg"));
            assert_eq!(status, 400, "{method}: {body}");
            assert!(body.contains("_renditions/"), "{body}");
        }
        let (status, _) = call(sub, &[], &gateway.at("/_renditions/"));
        assert_eq!(status, 400);
    }
}

/// The log in DynamoDB (moto's server): uploads are filed there; with the
/// server stopped, uploads get 503 and Retry-After (nothing is signed
/// without its record), as do links with a record there, while downloads
/// and listings go on.
#[test]
fn with_the_log_in_dynamodb_only_uploads_wait_for_it() {
    let Some((moto, table)) = moto_with_a_table() else { return };
    let env = common::moto::MOTO_ENV;
    let args = ["--state-table", table.as_str(), "--state-endpoint", moto.endpoint.as_str()];
    let mut all = vec!["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY, "--renditions", "none"];
    all.extend(args);
    let gateway = Gateway::start_with_env("catalog-dynamodb", &all, &env);
    let file = scratch_dir("catalog-dynamodb-files").join("f.txt");
    std::fs::write(&file, "kept in DynamoDB\n").unwrap();
    let (status, body) = call(Some("erin"), &["--upload-file", file.to_str().unwrap()], &gateway.at("/a.txt"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(log_of(&gateway, "erin", 1)[0]["uploaded_by"], "erin");
    let (status, link) = call(Some("erin"), &["-X", "POST"], &gateway.at("/a.txt?share&ttl=10m"));
    assert_eq!(status, 201, "{link}");

    drop(moto);
    let (status, body) = call(Some("erin"), &["-i", "--upload-file", file.to_str().unwrap()], &gateway.at("/b.txt"));
    assert_eq!(status, 503, "{body}");
    assert!(body.to_ascii_lowercase().contains("retry-after: 2"), "{body}");
    assert!(body.contains("upload log is unreachable"), "{body}");
    let (status, body) = call(Some("erin"), &[], &gateway.at("/a.txt"));
    assert_eq!((status, body.as_str()), (200, "kept in DynamoDB\n"));
    // The link has its record in the table: it fails closed (tests/links.rs).
    let (status, body) = call(None, &[], link.trim());
    assert_eq!(status, 503, "{body}");
    let (status, page) = json_of(Some("erin"), &gateway.at("/"));
    assert_eq!((status, &page["objects"][0]["key"]), (200, &json!("a.txt")), "{page}");
    let (status, refused) = json_of(Some("erin"), &gateway.at("/%2F?log"));
    assert_eq!(status, 503, "{refused}");
}

/// moto's server with a fresh state table, or `None` where moto cannot run (the test is skipped).
fn moto_with_a_table() -> Option<(common::moto::Moto, String)> {
    if !common::moto::Moto::available() {
        return None;
    }
    let moto = common::moto::Moto::start();
    let table = common::Store::block_on(moto.create_table());
    Some((moto, table))
}

/// Runs `presign-gateway catalog sync` on the store at `store` and the table in moto; what it printed.
fn catalog_sync(store: &str, moto: &common::moto::Moto, table: &str, extra: &[&str]) -> String {
    let output = binary()
        .args(["catalog", "sync", "--endpoint", store, "--bucket", "presign-gateway", "--auth", "authorizer"])
        .args(["--state-table", table, "--state-endpoint", &moto.endpoint])
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", common::STORE_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", common::STORE_SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    said
}

/// Puts `body` at `key` in `store` straight with an S3 client (no gateway, so no intent and no event for it).
fn put_in_store(store: &common::Store, key: &str, body: Vec<u8>) {
    let client = store.client();
    common::Store::block_on(async {
        client
            .put_object()
            .bucket("presign-gateway")
            .key(key)
            .metadata("title", "Old")
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
            .await
            .unwrap();
    });
}

/// Storage that sends no events (a store process behind `--endpoint`): `serve`
/// lists what it holds into a new log at start, by `--state-dir`.
#[test]
fn a_gateway_on_storage_without_events_lists_it_into_a_new_log() {
    let store = common::Store::start("catalog-sync-serve");
    put_in_store(&store, "old.txt", b"from before".to_vec());
    put_in_store(&store, "_renditions/x/e/thumb.jpg", b"not ours to list".to_vec());
    let state = scratch_dir("catalog-sync-serve-state");
    let gateway = Gateway::start_on(store, &["--state-dir", state.to_str().unwrap(), "--renditions", "none"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let entries = loop {
        let (status, page) = json_of(None, &gateway.at("/%2F?log"));
        assert_eq!(status, 200, "{page}");
        if page["entries"].as_array().is_some_and(|e| !e.is_empty()) || Instant::now() > deadline {
            break page["entries"].clone();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries:#}");
    assert_eq!((&entries[0]["key"], &entries[0]["uploaded_by"]), (&json!("old.txt"), &json!("unknown")));
    assert_eq!(entries[0]["title"], "Old");
}

/// `presign-gateway catalog sync` rebuilds a log in a DynamoDB table from the
/// bucket, rendering images with `--render`; a gateway on that table reads it.
#[test]
fn catalog_sync_rebuilds_a_log_in_dynamodb() {
    let Some((moto, table)) = moto_with_a_table() else { return };
    let store = common::Store::start("catalog-sync-command");
    let photo = common::images::jpeg(32, 16, &common::images::halves(32, 16, [200, 0, 0], [0, 0, 200]), None);
    put_in_store(&store, "tenants/frank/photo.jpg", photo);
    put_in_store(&store, "tenants/frank/notes.txt", b"notes".to_vec());
    let said = catalog_sync(&store.url, &moto, &table, &["--render", "--renditions", "thumb=16x16"]);
    assert!(said.contains("2 objects listed, 2 filed"), "{said}");

    let gateway = Gateway::start_on(
        store,
        &["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--state-table", &table, "--state-endpoint", &moto.endpoint],
    );
    let log = log_of(&gateway, "frank", 2);
    let photo = log.iter().find(|e| e["key"] == "photo.jpg").expect("the photo in the log");
    assert_eq!(
        (&photo["status"], &photo["renditions"]["thumb"]),
        (&json!("ready"), &json!({"width": 16, "height": 8}))
    );
    let notes = log.iter().find(|e| e["key"] == "notes.txt").unwrap();
    assert_eq!(notes["status"], "stored");

    // Deleted where no event tells of it: the next sync removes the record.
    let client = gateway.store.as_ref().unwrap().client();
    common::Store::block_on(async {
        client.delete_object().bucket("presign-gateway").key("tenants/frank/notes.txt").send().await.unwrap();
    });
    let said = catalog_sync(&gateway.store.as_ref().unwrap().url, &moto, &table, &[]);
    assert!(said.contains("1 objects listed, 0 filed in the upload log, 0 rendered, 1 removed"), "{said}");
    let log = log_of(&gateway, "frank", 1);
    assert_eq!(log[0]["key"], "photo.jpg");
}
