//! Share links an owner manages, through the real binary against both state
//! engines (a redb file in the data folder, and moto's DynamoDB server with
//! `--state-table`): each tenant lists and revokes its own links and no
//! other's; `max_uses` holds under concurrent clients (on DynamoDB, split
//! between two gateways sharing the table), with `HEAD` free; a revoked or
//! used-up link answers `410`; a stopped state store fails state-backed
//! links closed (`503`) while stateless links work on; `share --max-uses`
//! writes the record a gateway then counts in.

mod common;

use common::moto::{MOTO_ENV, Moto};
use common::{Gateway, binary, curl, curl_status, scratch_dir};
use serde_json::{Value, json};

const JWT_SECRET: &str = "links test HS256 secret, 32 bytes or more";
const SHARE_KEY: &str = "k1:links-test-share-key-0123456789abcdefgh";

fn token(sub: &str) -> String {
    common::hs256_token(JWT_SECRET, sub)
}

/// Where the gateways keep their state.
#[derive(Debug, Clone, Copy)]
enum Engine {
    /// The default of `serve`: `state.redb` in the data folder.
    Redb,
    /// A table in moto's DynamoDB.
    Dynamo,
}

/// Gateways on one state store (and the moto server holding it).
struct Setup {
    gateways: Vec<Gateway>,
    /// Kept so the server lives as long as the gateways.
    _moto: Option<Moto>,
}

impl Setup {
    /// `count` gateways (one on redb, whose file one process holds) on a
    /// fresh state store of `engine`, or `None` where moto cannot run.
    fn start(engine: Engine, name: &str, count: usize, extra: &[&str]) -> Option<Self> {
        let mut args = vec!["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY];
        args.extend(["--renditions", "none"]);
        args.extend_from_slice(extra);
        match engine {
            Engine::Redb => Some(Self { gateways: vec![Gateway::start(name, &args)], _moto: None }),
            Engine::Dynamo => {
                if !Moto::available() {
                    return None;
                }
                let moto = Moto::start();
                let table = common::Store::block_on(moto.create_table());
                args.extend(["--state-table", &table, "--state-endpoint", &moto.endpoint]);
                let gateways =
                    (0..count).map(|n| Gateway::start_with_env(&format!("{name}-{n}"), &args, &MOTO_ENV)).collect();
                Some(Self { gateways, _moto: Some(moto) })
            }
        }
    }

    fn gateway(&self) -> &Gateway {
        &self.gateways[0]
    }
}

/// `curl` as `sub` (anonymous with `None`), `args` before the URL: status and body, redirects not followed.
fn call(sub: Option<&str>, args: &[&str], url: &str) -> (u16, String) {
    let auth = sub.map(|sub| format!("Authorization: Bearer {}", token(sub)));
    let mut all = vec!["--path-as-is", "-s"];
    if let Some(auth) = &auth {
        all.extend(["-H", auth.as_str()]);
    }
    all.extend_from_slice(args);
    all.push(url);
    curl_status(&all)
}

/// A new link to `path` (with its query's terms) minted by `sub`, as JSON.
fn share(gateway: &Gateway, sub: &str, path_and_terms: &str) -> Value {
    let (status, body) =
        call(Some(sub), &["-X", "POST", "-H", "Accept: application/json"], &gateway.at(path_and_terms));
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn links_of(gateway: &Gateway, sub: &str) -> Vec<Value> {
    let (status, body) = call(Some(sub), &[], &gateway.at("/%2F?links"));
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    list["links"].as_array().unwrap().clone()
}

fn put(gateway: &Gateway, sub: &str, key: &str, body: &str) {
    static PUTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PUTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let file = scratch_dir(&format!("links-put-{n}")).join("f");
    std::fs::write(&file, body).unwrap();
    let (status, answer) = call(Some(sub), &["-L", "--upload-file", file.to_str().unwrap()], &gateway.at(key));
    assert_eq!(status, 200, "{answer}");
}

/// The status a `method` on `url` is answered with by the gateway (no redirect followed).
fn status_of(method: &str, url: &str) -> u16 {
    let how = if method == "HEAD" { "--head" } else { "--get" };
    let output = curl(&["-s", "-o", "/dev/null", how, "--write-out", "%{http_code}", url]);
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap()
}

fn owners_list_and_revoke_their_own_links_only(engine: Engine) {
    let Some(setup) = Setup::start(engine, &format!("links-owners-{engine:?}"), 1, &[]) else { return };
    let gateway = setup.gateway();
    put(gateway, "alice", "/notes.txt", "alice's notes\n");
    put(gateway, "bob", "/notes.txt", "bob's notes\n");
    let first = share(gateway, "alice", "/notes.txt?share&ttl=1h");
    let second = share(gateway, "alice", "/notes.txt?share&ttl=2h&max_uses=5");
    let bobs = share(gateway, "bob", "/notes.txt?share&ttl=1h");
    for link in [&first, &second, &bobs] {
        let id = link["id"].as_str().unwrap();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
        // The token shows neither the tenant nor the key (nor the id).
        let token = link["url"].as_str().unwrap().split("token=").nth(1).unwrap();
        assert!(!token.contains("alice") && !token.contains("bob") && !token.contains(id), "{token}");
    }
    assert_eq!(second["max_uses"], 5);

    let alices = links_of(gateway, "alice");
    // Newest first, to the second (ids start with it): both, in some order within one second.
    let mut ids: Vec<&str> = alices.iter().map(|l| l["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut minted = [second["id"].as_str().unwrap(), first["id"].as_str().unwrap()];
    minted.sort_unstable();
    assert_eq!(ids, minted, "{alices:#?}");
    let listed = alices.iter().find(|l| l["id"] == second["id"]).unwrap();
    assert_eq!(
        (&listed["key"], &listed["methods"], &listed["created_by"]),
        (&json!("notes.txt"), &json!("GET,HEAD"), &json!("alice"))
    );
    assert_eq!((&listed["max_uses"], &listed["uses"], &listed["last_use"]), (&json!(5), &json!(0), &Value::Null));
    assert!(listed["expires_at"].as_str().unwrap().ends_with('Z') && listed.get("url").is_none(), "{listed}");
    let bob_sees = links_of(gateway, "bob");
    assert_eq!(bob_sees.len(), 1);
    assert_eq!(bob_sees[0]["id"], bobs["id"]);
    assert!(links_of(gateway, "carol").is_empty());

    // A use is counted and shown.
    let (status, body) = call(None, &["-L"], second["url"].as_str().unwrap());
    assert_eq!((status, body.as_str()), (200, "alice's notes\n"));
    let after = links_of(gateway, "alice");
    let used = after.iter().find(|l| l["id"] == second["id"]).unwrap();
    assert_eq!(used["uses"], 1);
    assert!(used["last_use"].as_str().unwrap().ends_with('Z'), "{after:#?}");

    // Bob cannot revoke alice's link by its id: it is not among his.
    let alice_id = first["id"].as_str().unwrap();
    let (status, body) = call(Some("bob"), &["-X", "DELETE"], &gateway.at(&format!("/%2F?links={alice_id}")));
    assert_eq!(status, 404, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "NoSuchLink");
    let (status, body) = call(None, &["-L"], first["url"].as_str().unwrap());
    assert_eq!((status, body.as_str()), (200, "alice's notes\n"));

    // Alice revokes it: its holder is told it is gone; it is listed no more.
    let (status, body) = call(Some("alice"), &["-X", "DELETE"], &gateway.at(&format!("/%2F?links={alice_id}")));
    assert_eq!((status, body.as_str()), (204, ""));
    let (status, body) = call(None, &["-L"], first["url"].as_str().unwrap());
    assert_eq!(status, 410, "{body}");
    assert!(body.contains("revoked"), "{body}");
    assert_eq!(status_of("HEAD", first["url"].as_str().unwrap()), 410);
    assert_eq!(links_of(gateway, "alice").len(), 1);
    let (status, _) = call(Some("alice"), &["-X", "DELETE"], &gateway.at(&format!("/%2F?links={alice_id}")));
    assert_eq!(status, 404, "revoked twice");
    // Bob's link and alice's other one are untouched.
    let (status, body) = call(None, &["-L"], bobs["url"].as_str().unwrap());
    assert_eq!((status, body.as_str()), (200, "bob's notes\n"));

    // A link holder cannot list or revoke links.
    let token = second["url"].as_str().unwrap().split("token=").nth(1).unwrap();
    let (status, body) = call(None, &[], &gateway.at(&format!("/%2F?links&token={token}")));
    assert_eq!(status, 403, "{body}");
    // Without a token, nobody is listed.
    let (status, _) = call(None, &[], &gateway.at("/%2F?links"));
    assert_eq!(status, 401);
}

#[test]
fn owners_list_and_revoke_their_own_links_only_redb() {
    owners_list_and_revoke_their_own_links_only(Engine::Redb);
}

#[test]
fn owners_list_and_revoke_their_own_links_only_dynamodb() {
    owners_list_and_revoke_their_own_links_only(Engine::Dynamo);
}

/// `clients` concurrent requests, each a download through `url` (half of
/// them as `?presign`), split between `gateways`: their statuses.
fn concurrent_uses(gateways: &[Gateway], path_and_token: &str, clients: usize) -> Vec<u16> {
    let urls: Vec<String> = (0..clients)
        .map(|n| {
            let gateway = &gateways[n % gateways.len()];
            let presign = if n % 2 == 0 { "" } else { "&presign" };
            gateway.at(&format!("{path_and_token}{presign}"))
        })
        .collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(clients));
    let threads: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                status_of("GET", &url)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn max_uses_hold_under_concurrent_clients(engine: Engine) {
    let gateways = match engine {
        Engine::Redb => 1,
        Engine::Dynamo => 2,
    };
    let Some(setup) = Setup::start(engine, &format!("links-max-uses-{engine:?}"), gateways, &[]) else { return };
    let gateway = setup.gateway();
    put(gateway, "alice", "/photo.txt", "a photo\n");
    let link = share(gateway, "alice", "/photo.txt?share&ttl=1h&max_uses=3");
    let url = link["url"].as_str().unwrap();
    let path_and_token = &url[url.find("/photo.txt").unwrap()..];

    // HEADs are free, however many.
    for _ in 0..5 {
        assert_eq!(status_of("HEAD", url), 307);
    }
    let clients = 16;
    let statuses = concurrent_uses(&setup.gateways, path_and_token, clients);
    let served = statuses.iter().filter(|s| matches!(s, 200 | 307)).count();
    let gone = statuses.iter().filter(|s| **s == 410).count();
    assert_eq!((served, gone), (3, clients - 3), "{statuses:?}");
    // Used up: every gateway says so, for a HEAD too, and the owner no longer lists it.
    for gateway in &setup.gateways {
        let (status, body) = call(None, &[], &gateway.at(path_and_token));
        assert_eq!(status, 410, "{body}");
        assert!(body.contains("used as many times as it allows"), "{body}");
        assert_eq!(status_of("HEAD", &gateway.at(path_and_token)), 410);
    }
    assert!(links_of(gateway, "alice").is_empty());

    // An upload link of one use takes one upload.
    let upload = share(gateway, "alice", "/inbox/one.txt?share&ttl=1h&methods=PUT&max_uses=1");
    let file = scratch_dir(&format!("links-max-uses-{engine:?}-files")).join("one.txt");
    std::fs::write(&file, "one\n").unwrap();
    let url = upload["url"].as_str().unwrap();
    let (status, body) = call(None, &["-L", "--upload-file", file.to_str().unwrap()], url);
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(None, &["-L", "--upload-file", file.to_str().unwrap()], url);
    assert_eq!(status, 410, "{body}");
}

#[test]
fn max_uses_hold_under_concurrent_clients_redb() {
    max_uses_hold_under_concurrent_clients(Engine::Redb);
}

#[test]
fn max_uses_hold_under_concurrent_clients_on_two_gateways_sharing_dynamodb() {
    max_uses_hold_under_concurrent_clients(Engine::Dynamo);
}

/// `presign-gateway share` with the state store named: its `--max-uses` is
/// counted by the gateway; without one, a stateless link.
fn share_command(key: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let output = binary()
        .args([
            "share",
            key,
            "--ttl",
            "1h",
            "--tenant",
            "alice",
            "--auth",
            "jwt",
            "--base-url",
            "http://unused.example",
        ])
        .args(extra)
        .envs(env.iter().copied())
        .env("SHARE_KEYS", SHARE_KEY)
        .env_remove("STATE_TABLE")
        .env_remove("STATE_DIR")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let url = String::from_utf8(output.stdout).unwrap();
    url.trim().strip_prefix("http://unused.example").unwrap().to_owned()
}

#[test]
fn the_share_command_writes_the_record_in_a_local_state_file() {
    let data = scratch_dir("links-share-command-redb").join("data");
    std::fs::create_dir_all(&data).unwrap();
    let counted = share_command("notes.txt", &["--max-uses", "1", "--state-dir", data.to_str().unwrap()], &[]);
    let folder = share_command("docs/", &["--state-dir", data.to_str().unwrap()], &[]);
    assert!(folder.starts_with("/docs/?token="), "{folder}");
    let args = ["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY, "--renditions", "none"];
    let gateway = Gateway::start_in(data, &args);
    put(&gateway, "alice", "/notes.txt", "noted\n");
    let listed = links_of(&gateway, "alice");
    assert_eq!(listed.len(), 2, "{listed:#?}");
    assert!(listed.iter().all(|l| l["created_by"] == "presign-gateway share"), "{listed:#?}");
    assert_eq!(call(None, &["-L"], &gateway.at(&counted)), (200, "noted\n".to_owned()));
    assert_eq!(call(None, &["-L"], &gateway.at(&counted)).0, 410);
    // The folder link, minted offline, lists its folder.
    put(&gateway, "alice", "/docs/a.txt", "a\n");
    let (status, body) = call(None, &[], &gateway.at(&folder));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("docs/a.txt"), "{body}");
    assert_eq!(links_of(&gateway, "alice").len(), 1, "the used-up link is not listed; the folder link is");
}

/// The state store stopped: state-backed links fail closed with `503` and
/// `Retry-After`; a stateless link (minted without a state store) works on.
#[test]
fn a_stopped_state_store_fails_state_backed_links_closed_and_stateless_ones_work_on() {
    if !Moto::available() {
        return;
    }
    let moto = Moto::start();
    let table = common::Store::block_on(moto.create_table());
    let state = ["--state-table", table.as_str(), "--state-endpoint", moto.endpoint.as_str()];
    let counted = share_command("notes.txt", &[&state[..], &["--max-uses", "2"]].concat(), &MOTO_ENV);
    let stateless = share_command("notes.txt", &[], &[]);
    let mut args = vec!["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY];
    args.extend(["--renditions", "none"]);
    args.extend(state);
    let gateway = Gateway::start_with_env("links-stopped-gateway", &args, &MOTO_ENV);
    put(&gateway, "alice", "/notes.txt", "still here\n");
    let minted = share(&gateway, "alice", "/notes.txt?share&ttl=1h");
    let minted = minted["url"].as_str().unwrap().to_owned();

    assert_eq!(call(None, &["-L"], &gateway.at(&counted)), (200, "still here\n".to_owned()));
    assert_eq!(call(None, &["-L"], &minted), (200, "still here\n".to_owned()));
    assert_eq!(call(None, &["-L"], &gateway.at(&stateless)), (200, "still here\n".to_owned()));

    drop(moto);
    for url in [gateway.at(&counted), minted.clone()] {
        let (status, body) = call(None, &["-i"], &url);
        assert_eq!(status, 503, "{body}");
        assert!(body.to_ascii_lowercase().contains("retry-after: 2"), "{body}");
        assert_eq!(status_of("HEAD", &url), 503, "a HEAD checks the record too");
    }
    // The stateless link needs no state store.
    assert_eq!(call(None, &["-L"], &gateway.at(&stateless)), (200, "still here\n".to_owned()));
    // Minting needs one: no link goes out without its record.
    let (status, body) = call(Some("alice"), &["-X", "POST"], &gateway.at("/notes.txt?share&ttl=1h"));
    assert_eq!(status, 503, "{body}");
}

/// `max_uses` needs records: a gateway without a state store refuses it,
/// and mints stateless links as before, which list nothing.
#[test]
fn without_a_state_store_links_stay_stateless() {
    let store = common::Store::start("links-stateless-store");
    let gateway = Gateway::start_on(
        store,
        &["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY, "--renditions", "none"],
    );
    put(&gateway, "alice", "/n.txt", "n\n");
    let link = share(&gateway, "alice", "/n.txt?share&ttl=1h");
    assert_eq!(link["id"], Value::Null);
    for _ in 0..3 {
        assert_eq!(call(None, &["-L"], link["url"].as_str().unwrap()), (200, "n\n".to_owned()));
    }
    let (status, body) = call(Some("alice"), &["-X", "POST"], &gateway.at("/n.txt?share&ttl=1h&max_uses=1"));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("state store"), "{body}");
    let (status, body) = call(Some("alice"), &[], &gateway.at("/%2F?links"));
    assert_eq!(status, 404, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "LinkRecordsOff");
}

/// A folder link: its holder lists the folder and those under it, downloads
/// and uploads (in one PUT, and in parts with the CLI) there, and reaches
/// nothing beside it: not the parent, not a sibling sharing its name's
/// start, not through `..` or encoded slashes, and no metadata.
fn folder_links_open_their_folder_and_nothing_beside(engine: Engine) {
    let Some(setup) = Setup::start(engine, &format!("links-folder-{engine:?}"), 1, &[]) else { return };
    let gateway = setup.gateway();
    for (key, body) in [
        ("/photos/2024/a.txt", "a\n"),
        ("/photos/2024/trip/b.txt", "b\n"),
        ("/photos/2024-old/c.txt", "c\n"),
        ("/photos/d.txt", "d\n"),
        ("/secret.txt", "secret\n"),
    ] {
        put(gateway, "alice", key, body);
    }
    put(gateway, "bob", "/photos/2024/bobs.txt", "bob's\n");
    let link = share(gateway, "alice", "/photos/2024/?share&ttl=1h&methods=GET,PUT&max_size=64MiB");
    let url = link["url"].as_str().unwrap();
    assert!(url.contains("/photos/2024/?token="), "{url}");
    assert_eq!(link["key"], "photos/2024/");
    let link_token = url.split("token=").nth(1).unwrap();
    let at =
        |path: &str| gateway.at(&format!("{path}{}token={link_token}", if path.contains('?') { "&" } else { "?" }));

    // Listing: the folder and those under it; alice's files only (bob's are his).
    let (status, body) = call(None, &[], url);
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["objects"].as_array().unwrap().len(), 1, "{page:#}");
    assert_eq!(page["objects"][0]["key"], "photos/2024/a.txt");
    assert_eq!(page["folders"], json!(["photos/2024/trip/"]));
    let (status, body) = call(None, &[], &at("/photos/2024/trip/"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("photos/2024/trip/b.txt"), "{body}");
    for outside in ["/photos/", "/photos/2024-old/", "/%2F", "/photos/2024/?metadata"] {
        let (status, body) = call(None, &[], &at(outside));
        assert_eq!(status, 403, "{outside}: {body}");
    }

    // Downloads inside; nothing outside, however spelled.
    assert_eq!(call(None, &["-L"], &at("/photos/2024/a.txt")), (200, "a\n".to_owned()));
    assert_eq!(call(None, &["-L"], &at("/photos/2024/trip/b.txt")), (200, "b\n".to_owned()));
    assert_eq!(call(None, &["-L"], &at("/photos%2F2024%2Fa.txt")), (200, "a\n".to_owned()));
    for (outside, expected) in [
        ("/photos/2024-old/c.txt", 403),
        ("/photos/d.txt", 403),
        ("/secret.txt", 403),
        ("/photos/2024", 403),
        ("/photos/2024/../d.txt", 400),
        ("/photos/2024/%2E%2E/d.txt", 400),
        ("/photos/2024%2F..%2Fd.txt", 400),
        ("/photos/2024/%2e%2e%2fd.txt", 400),
        ("/photos/2024/a.txt?status", 403),
    ] {
        let (status, body) = call(None, &["-L"], &at(outside));
        assert_eq!(status, expected, "{outside}: {body}");
    }

    // An upload in one PUT, inside; refused outside.
    let file = scratch_dir(&format!("links-folder-{engine:?}-files")).join("new.txt");
    std::fs::write(&file, "new\n").unwrap();
    let (status, body) = call(None, &["-L", "--upload-file", file.to_str().unwrap()], &at("/photos/2024/new.txt"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(call(Some("alice"), &["-L"], &gateway.at("/photos/2024/new.txt")), (200, "new\n".to_owned()));
    for outside in ["/photos/2024-old/new.txt", "/photos/new.txt", "/photos/2024/../new.txt"] {
        let (status, body) = call(None, &["-L", "--upload-file", file.to_str().unwrap()], &at(outside));
        assert!(matches!(status, 400 | 403), "{outside}: {status} {body}");
    }

    // A large file in parts, with the CLI, inside the folder; not beside it.
    let big = file.with_file_name("big.bin");
    common::random_file(&big, 11 << 20, 3);
    let output = binary()
        .args(["upload", "--part-size", "5MiB", big.to_str().unwrap(), &at("/photos/2024/big.bin")])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stored = curl(&[
        "-s",
        "-L",
        "-H",
        &format!("Authorization: Bearer {}", token("alice")),
        &gateway.at("/photos/2024/big.bin"),
    ]);
    assert_eq!(stored.stdout, std::fs::read(&big).unwrap(), "the object is the file");
    let output = binary()
        .args(["upload", "--part-size", "5MiB", big.to_str().unwrap(), &at("/photos/2024-old/big.bin")])
        .output()
        .unwrap();
    assert!(!output.status.success(), "an upload beside the folder");
    let (status, _) = call(Some("alice"), &["-L", "-I"], &gateway.at("/photos/2024-old/big.bin"));
    assert_eq!(status, 404, "nothing was stored beside the folder");
}

#[test]
fn folder_links_open_their_folder_and_nothing_beside_redb() {
    folder_links_open_their_folder_and_nothing_beside(Engine::Redb);
}

#[test]
fn folder_links_open_their_folder_and_nothing_beside_dynamodb() {
    folder_links_open_their_folder_and_nothing_beside(Engine::Dynamo);
}
