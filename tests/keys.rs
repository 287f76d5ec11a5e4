//! API keys through the real binary, on both state engines (the redb file
//! of `serve`, and DynamoDB as moto's server with `--state-table`): a
//! signed-in tenant creates, lists and revokes keys over HTTP; a key acts
//! as its tenant only (files, listings, the log, renditions), within its
//! scope (read-only) and folder (prefix); it cannot manage keys or mint
//! links; revoked, expired and unknown keys get 401; `presign-gateway keys`
//! does the same against a DynamoDB table, and its keys work on a gateway.

mod common;

use std::time::{Duration, Instant};

use common::moto::{MOTO_ENV, Moto};
use common::{Gateway, binary, scratch_dir};
use serde_json::{Value, json};

const JWT_SECRET: &str = "keys test HS256 secret, 32 bytes or more";
const SHARE_KEY: &str = "k1:keys-test-share-key-0123456789abcdefghij";

fn token(sub: &str) -> String {
    common::hs256_token(JWT_SECRET, sub)
}

/// Who calls: a signed-in tenant, the holder of an API key, or nobody.
#[derive(Clone, Copy)]
enum As<'a> {
    Tenant(&'a str),
    Key(&'a str),
    Nobody,
}

/// `curl` as `who`, `args` before the URL; redirects followed.
fn call(who: As<'_>, args: &[&str], url: &str) -> (u16, String) {
    let bearer = match who {
        As::Tenant(sub) => Some(token(sub)),
        As::Key(key) => Some(key.to_owned()),
        As::Nobody => None,
    };
    common::curl_as(bearer.as_deref(), args, url)
}

fn json_of(who: As<'_>, args: &[&str], url: &str) -> (u16, Value) {
    let (status, body) = call(who, args, url);
    (status, serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON ({status}): {body}")))
}

/// A new key of `sub`, created with `args` (a body or a query in `query`); its JSON.
fn create(gateway: &Gateway, sub: &str, query: &str, args: &[&str]) -> Value {
    let mut all = vec!["-X", "POST"];
    all.extend_from_slice(args);
    let (status, created) = json_of(As::Tenant(sub), &all, &gateway.at(&format!("/%2F?keys{query}")));
    assert_eq!(status, 201, "{created}");
    assert!(created["key"].as_str().unwrap().starts_with("pgk_"), "{created}");
    created
}

/// Calls as `key` until it is refused (401), for a revocation or an expiry
/// to be seen; gives up (failing the test) after a minute, never asserting
/// how soon.
fn until_refused(gateway: &Gateway, key: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = call(As::Key(key), &[], &gateway.at("/"));
        if status == 401 {
            return body;
        }
        assert!(Instant::now() < deadline, "the key was never refused");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The entries of `who`'s log once it holds `count` (the processor files uploads after they return).
fn log_of(gateway: &Gateway, who: As<'_>, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, page) = json_of(who, &[], &gateway.at("/%2F?log"));
        assert_eq!(status, 200, "{page}");
        let entries = page["entries"].as_array().unwrap().clone();
        if entries.len() >= count || Instant::now() > deadline {
            assert_eq!(entries.len(), count, "{page:#}");
            return entries;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The rendition `thumb` of `path` as `who`, once made; its status and body.
fn thumb(gateway: &Gateway, who: As<'_>, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = call(who, &[], &gateway.at(&format!("{path}?rendition=thumb")));
        if !body.contains("being made") || Instant::now() > deadline {
            return (status, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The names of the keys in a list, sorted (keys made within a second list in no set order).
fn names_in(list: &Value) -> Vec<String> {
    let mut names: Vec<_> =
        list["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

fn keys_args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = vec!["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY];
    args.extend_from_slice(&["--renditions", "thumb=16x16"]);
    args.extend_from_slice(extra);
    args
}

fn on_redb(name: &str) -> Gateway {
    Gateway::start(name, &keys_args(&[]))
}

/// A gateway on a fresh table of `moto`.
fn on_dynamodb(name: &str, moto: &Moto) -> (Gateway, String) {
    let table = common::Store::block_on(moto.create_table());
    let mut args = keys_args(&[]);
    let extra = ["--state-table", table.as_str(), "--state-endpoint", moto.endpoint.as_str()];
    args.extend_from_slice(&extra);
    (Gateway::start_with_env(name, &args, &MOTO_ENV), table)
}

/// Alice's keys (full, read-only, confined to a/) and one of bob's.
struct Keys {
    full: Value,
    reader: Value,
    folder: Value,
    bob: Value,
}

fn secret(key: &Value) -> &str {
    key["key"].as_str().unwrap()
}

/// The whole life of keys on `gateway`.
fn keys_work(gateway: &Gateway) {
    let dir = scratch_dir("keys-files");
    let file = dir.join("f.txt");
    std::fs::write(&file, "alice's notes\n").unwrap();
    let upload = ["--upload-file", file.to_str().unwrap()];
    let photo = dir.join("photo.jpg");
    std::fs::write(
        &photo,
        common::images::jpeg(32, 16, &common::images::halves(32, 16, [200, 0, 0], [0, 0, 200]), None),
    )
    .unwrap();
    let keys = made_and_listed(gateway);
    act_as_their_tenant(gateway, &keys, &upload, photo.to_str().unwrap());
    stay_in_their_scope(gateway, &keys, &upload);
    manage_nothing(gateway, &keys);
    are_refused_once_revoked_or_expired(gateway, &keys);
}

/// Alice makes keys, by a JSON body and by the query; the list names them, never the keys or their hashes.
fn made_and_listed(gateway: &Gateway) -> Keys {
    let json_body = ["-H", "Content-Type: application/json", "--data", r#"{"name": "backup"}"#];
    let full = create(gateway, "alice", "", &json_body);
    let reader = create(gateway, "alice", "&read_only&name=reader", &[]);
    let folder = create(gateway, "alice", "&prefix=a&name=folder", &[]);
    assert_eq!((&full["name"], &full["read_only"], &full["prefix"]), (&json!("backup"), &json!(false), &json!("")));
    assert_eq!((&reader["read_only"], &folder["prefix"]), (&json!(true), &json!("a/")));
    assert_eq!(full["expires"], Value::Null);
    let bob = create(gateway, "bob", "", &[]);
    // A misspelt term is refused, not ignored into a key with full access.
    let (status, refused) = json_of(As::Tenant("alice"), &["-X", "POST"], &gateway.at("/%2F?keys&readonly=true"));
    assert_eq!(status, 400, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("`readonly` is not a key's term"), "{refused}");

    let (status, body) = call(As::Tenant("alice"), &[], &gateway.at("/%2F?keys"));
    assert_eq!(status, 200, "{body}");
    for key in [&full, &reader, &folder, &bob] {
        assert!(!body.contains(secret(key)) && !body.contains(&secret(key)[4..]), "a key in the list: {body}");
    }
    assert!(!body.contains("hash"), "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(names_in(&list), ["backup", "folder", "reader"], "{list:#}");
    assert!(list["keys"][0]["created"].as_str().unwrap().ends_with('Z'));
    Keys { full, reader, folder, bob }
}

/// A key acts as its tenant: uploads, downloads, listings, the log,
/// renditions; bob's key is bob, and sees none of alice's.
fn act_as_their_tenant(gateway: &Gateway, keys: &Keys, upload: &[&str], photo: &str) {
    let Keys { full, bob, .. } = keys;
    let (full_key, bob_key) = (secret(full), secret(bob));
    let (status, body) = call(As::Key(full_key), upload, &gateway.at("/notes.txt"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(As::Key(full_key), &["--upload-file", photo], &gateway.at("/a/photo.jpg"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(As::Tenant("alice"), &[], &gateway.at("/notes.txt"));
    assert_eq!((status, body.as_str()), (200, "alice's notes\n"), "the key wrote into alice's folder");
    let (status, body) = call(As::Key(full_key), &[], &gateway.at("/notes.txt"));
    assert_eq!((status, body.as_str()), (200, "alice's notes\n"));
    let log = log_of(gateway, As::Key(full_key), 2);
    let id = full["id"].as_str().unwrap();
    assert!(log.iter().all(|entry| entry["uploaded_by"] == format!("key:{id}")), "{log:#?}");
    let (status, _) = thumb(gateway, As::Key(full_key), "/a/photo.jpg");
    assert_eq!(status, 200);
    let (status, page) = json_of(As::Key(full_key), &[], &gateway.at("/a/?renditions=thumb"));
    assert_eq!(status, 200, "{page}");
    assert!(page["objects"][0]["renditions"]["thumb"]["url"].is_string(), "{page:#}");

    // Bob's key is bob: none of alice's files, listings, log or renditions.
    let (status, _) = call(As::Key(bob_key), &[], &gateway.at("/notes.txt"));
    assert_eq!(status, 404);
    let (status, page) = json_of(As::Key(bob_key), &[], &gateway.at("/"));
    assert_eq!((status, &page["objects"], &page["folders"]), (200, &json!([]), &json!([])), "{page:#}");
    let (status, page) = json_of(As::Key(bob_key), &[], &gateway.at("/a/?renditions=thumb"));
    assert_eq!((status, &page["objects"]), (200, &json!([])), "{page:#}");
    log_of(gateway, As::Key(bob_key), 0);
    let (status, body) = thumb(gateway, As::Key(bob_key), "/a/photo.jpg");
    assert_eq!(status, 404, "{body}");
    let (status, _) = call(As::Key(bob_key), &[], &gateway.at("/notes.txt?status"));
    assert_eq!(status, 404);
}

/// Read-only: reads, never writes; a prefix is a folder: a/ and under it, nothing beside it.
fn stay_in_their_scope(gateway: &Gateway, keys: &Keys, upload: &[&str]) {
    let (reader_key, folder_key) = (secret(&keys.reader), secret(&keys.folder));
    let (status, body) = call(As::Key(reader_key), &[], &gateway.at("/notes.txt"));
    assert_eq!((status, body.as_str()), (200, "alice's notes\n"));
    for (args, path) in [
        (upload, "/notes.txt"),
        (&["-X", "DELETE"][..], "/notes.txt"),
        (&[][..], "/notes.txt?presign=PUT"),
        (&["-X", "POST"][..], "/big.bin?uploads"),
    ] {
        let (status, body) = call(As::Key(reader_key), args, &gateway.at(path));
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("read-only"), "{body}");
    }
    let (status, body) = call(As::Tenant("alice"), &[], &gateway.at("/notes.txt"));
    assert_eq!((status, body.as_str()), (200, "alice's notes\n"), "a read-only key changed a file");

    // A prefix is a folder: a/ and under it, nothing beside it.
    let (status, body) = call(As::Key(folder_key), upload, &gateway.at("/a/x.txt"));
    assert_eq!(status, 200, "{body}");
    let (status, page) = json_of(As::Key(folder_key), &[], &gateway.at("/a/"));
    assert_eq!(status, 200, "{page}");
    for path in ["/ab/x.txt", "/a", "/notes.txt", "/", "/%2F?log"] {
        let (status, body) = call(As::Key(folder_key), &[], &gateway.at(path));
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("confined to the folder `a/`"), "{path}: {body}");
    }
    let (status, body) = call(As::Key(folder_key), upload, &gateway.at("/ab/x.txt"));
    assert_eq!(status, 403, "{body}");
}

/// No key manages keys or mints links; keys are read from the bearer token only, and only ones that exist.
fn manage_nothing(gateway: &Gateway, keys: &Keys) {
    let full_key = secret(&keys.full);
    let id = keys.full["id"].as_str().unwrap();
    for (method, query) in [("GET", "keys"), ("POST", "keys"), ("DELETE", &format!("keys={id}") as &str)] {
        let (status, body) = call(As::Key(full_key), &["-X", method], &gateway.at(&format!("/%2F?{query}")));
        assert_eq!(status, 403, "{method} ?{query}: {body}");
        assert!(body.contains("cannot create, list or revoke"), "{body}");
    }
    let (status, body) = call(As::Key(full_key), &["-X", "POST"], &gateway.at("/notes.txt?share&ttl=60"));
    assert_eq!(status, 403, "{body}");

    // Only as a bearer token, and only a key that exists.
    let header = format!("X-Api-Key: {full_key}");
    let (status, _) = call(As::Nobody, &["-H", &header], &gateway.at("/notes.txt"));
    assert_eq!(status, 401);
    let made_up = format!("pgk_{}", "A".repeat(43));
    for key in [made_up.as_str(), "pgk_short", &full_key[..full_key.len() - 1]] {
        let (status, body) = call(As::Key(key), &[], &gateway.at("/notes.txt"));
        assert_eq!(status, 401, "{key}: {body}");
    }
}

/// Revoked (by their own tenant only) and expired keys are refused.
fn are_refused_once_revoked_or_expired(gateway: &Gateway, keys: &Keys) {
    let Keys { full, reader, bob, .. } = keys;
    let (reader_key, bob_key) = (secret(reader), secret(bob));
    let id = full["id"].as_str().unwrap();
    let bob_id = bob["id"].as_str().unwrap();
    let (status, body) = call(As::Tenant("alice"), &["-X", "DELETE"], &gateway.at(&format!("/%2F?keys={bob_id}")));
    assert_eq!(status, 404, "{body}");
    let (status, _) = call(As::Key(bob_key), &[], &gateway.at("/"));
    assert_eq!(status, 200);
    let reader_id = reader["id"].as_str().unwrap();
    let (status, body) = call(As::Tenant("alice"), &["-X", "DELETE"], &gateway.at(&format!("/%2F?keys={reader_id}")));
    assert_eq!(status, 204, "{body}");
    let refused = until_refused(gateway, reader_key);
    assert!(refused.contains("not valid"), "{refused}");
    let (status, list) = json_of(As::Tenant("alice"), &[], &gateway.at("/%2F?keys"));
    assert_eq!(status, 200);
    assert_eq!(list["keys"].as_array().unwrap().len(), 2, "{list:#}");
    let used = list["keys"].as_array().unwrap().iter().find(|k| k["id"] == id).unwrap();
    assert!(used["last_used"].is_string(), "{list:#}");

    // An expired key is refused.
    let short = create(gateway, "alice", "&ttl=1s", &[]);
    assert!(short["expires"].is_string(), "{short}");
    until_refused(gateway, short["key"].as_str().unwrap());
}

#[test]
fn keys_on_the_local_state_file() {
    keys_work(&on_redb("keys-redb"));
}

#[test]
fn keys_on_dynamodb() {
    let Some(moto) = Moto::shared() else { return };
    let (gateway, _) = on_dynamodb("keys-dynamodb", moto);
    keys_work(&gateway);
}

/// Without a state store (external storage, no table) the routes say why; and
/// without `--auth jwt` there are no tenants to hold keys.
#[test]
fn keys_need_a_state_store_and_signed_in_tenants() {
    let store = common::Store::start("keys-no-state");
    let gateway = Gateway::start_on(store, &["--auth", "jwt", "--jwt-secret", JWT_SECRET]);
    let (status, refused) = json_of(As::Tenant("alice"), &["-X", "POST"], &gateway.at("/%2F?keys"));
    assert_eq!(status, 404, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("state store"), "{refused}");
    let (status, _) = call(As::Key(&format!("pgk_{}", "A".repeat(43))), &[], &gateway.at("/"));
    assert_eq!(status, 404);

    let open = Gateway::start("keys-auth-none", &[]);
    let (status, refused) = json_of(As::Nobody, &[], &open.at("/%2F?keys"));
    assert_eq!(status, 403, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("--auth jwt"), "{refused}");
}

/// `presign-gateway keys` with `args`, against `table` in `moto`; what it printed.
fn keys_command(moto: &Moto, table: &str, args: &[&str]) -> String {
    let output = binary()
        .arg("keys")
        .args(args)
        .args(["--state-table", table, "--state-endpoint", &moto.endpoint])
        .envs(MOTO_ENV)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    said
}

#[test]
fn the_keys_command_works_on_a_dynamodb_table_and_its_keys_on_the_gateway() {
    let Some(moto) = Moto::shared() else { return };
    let (gateway, table) = on_dynamodb("keys-cli", moto);
    let created = keys_command(moto, &table, &["create", "--tenant", "carol", "--prefix", "in", "--name", "cli"]);
    let created: Value = serde_json::from_str(&created).unwrap();
    let key = created["key"].as_str().unwrap();
    assert_eq!((&created["prefix"], &created["name"]), (&json!("in/"), &json!("cli")));

    let file = scratch_dir("keys-cli-files").join("f.txt");
    std::fs::write(&file, "from a cron job\n").unwrap();
    let (status, body) = call(As::Key(key), &["--upload-file", file.to_str().unwrap()], &gateway.at("/in/f.txt"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(As::Tenant("carol"), &[], &gateway.at("/in/f.txt"));
    assert_eq!((status, body.as_str()), (200, "from a cron job\n"));
    let (status, _) = call(As::Key(key), &[], &gateway.at("/out.txt"));
    assert_eq!(status, 403);

    // The gateway lists what the command made, and the command what the gateway made.
    let (status, list) = json_of(As::Tenant("carol"), &[], &gateway.at("/%2F?keys"));
    assert_eq!((status, &list["keys"][0]["name"]), (200, &json!("cli")), "{list:#}");
    create(&gateway, "carol", "&name=web", &[]);
    let listed: Value = serde_json::from_str(&keys_command(moto, &table, &["list", "--tenant", "carol"])).unwrap();
    assert_eq!(names_in(&listed), ["cli", "web"], "{listed:#}");
    assert!(!serde_json::to_string(&listed).unwrap().contains(key));

    let id = created["id"].as_str().unwrap();
    let said = keys_command(moto, &table, &["revoke", id, "--tenant", "carol"]);
    assert!(said.contains(&format!("revoked {id}")), "{said}");
    until_refused(&gateway, key);

    // The local state file is the running serve's: the command says to go over HTTP.
    let output = binary()
        .args(["keys", "list", "--tenant", "carol", "--state-dir"])
        .arg(scratch_dir("keys-cli-local"))
        .env_remove("STATE_TABLE")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("over HTTP") && said.contains("/%2F?keys"), "{said}");
}
