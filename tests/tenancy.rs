//! Two tenants side by side on one gateway (the real binary, `--auth jwt`, on
//! a store process whose contents the test lists with an S3 client), and tenant A attacking tenant B's objects every way
//! we could think of: path tricks for every method, forged and altered
//! tokens, `alg` tricks, swapped, altered, expired and revoked share links.
//! Every attempt must fail with the right status, and B's objects must be
//! untouched at the end.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Gateway, Store, curl, curl_status, random_file, scratch_dir, sha256};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const JWT_SECRET: &str = "tenancy test HS256 secret, 32 bytes or more";
const SHARE_KEY: &str = "k1:tenancy-test-share-key-0123456789abcdef";
const OTHER_SHARE_KEY: &str = "k2:another-share-key-for-rotation-0123456789";
const RSA_PRIVATE: &[u8] = include_bytes!("data/keys/rsa-private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("data/keys/rsa-public.pem");

fn start(name: &str, share_keys: &str) -> Gateway {
    start_on(Store::start(name), share_keys)
}

fn start_on(store: Store, share_keys: &str) -> Gateway {
    start_with(store, share_keys, &[])
}

fn start_with(store: Store, share_keys: &str, extra: &[&str]) -> Gateway {
    let public_key = format!("{}/tests/data/keys/rsa-public.pem", env!("CARGO_MANIFEST_DIR"));
    let mut args = vec![
        "--auth",
        "jwt",
        "--jwt-secret",
        JWT_SECRET,
        "--jwt-public-key",
        &public_key,
        "--jwt-issuer",
        "issuer.example",
        "--share-keys",
        share_keys,
    ];
    args.extend_from_slice(extra);
    Gateway::start_on(store, &args)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "iss": "issuer.example", "exp": now() + 600 })
}

fn rs256(claims: &Value) -> String {
    encode(&Header::new(Algorithm::RS256), claims, &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap()).unwrap()
}

fn token(sub: &str) -> String {
    rs256(&claims(sub))
}

/// `curl` as the holder of `token`, with `args` before the URL.
fn call(token: &str, args: &[&str], url: &str) -> (u16, String) {
    let auth = format!("Authorization: Bearer {token}");
    let mut all = vec!["--path-as-is", "--location", "-H", &auth];
    all.extend_from_slice(args);
    all.push(url);
    curl_status(&all)
}

fn upload(token: &str, gateway: &Gateway, path: &str, file: &Path) {
    let (status, body) = call(token, &["--upload-file", file.to_str().unwrap()], &gateway.at(path));
    assert_eq!(status, 200, "upload {path}: {body}");
}

/// Every key storage holds.
fn stored_files(gateway: &Gateway) -> Vec<String> {
    gateway.store.as_ref().expect("a store process").keys()
}

/// Tenant B with one secret file, tenant A with one file of its own.
struct TwoTenants {
    gateway: Gateway,
    a: String,
    b: String,
    secret: PathBuf,
    mine: PathBuf,
}

impl TwoTenants {
    fn new(name: &str) -> Self {
        let gateway = start(name, SHARE_KEY);
        let (a, b) = (token("tenant-a"), token("tenant-b"));
        let dir = scratch_dir(&format!("{name}-files"));
        let secret = dir.join("secret.txt");
        random_file(&secret, 4096, 31);
        let mine = dir.join("mine.txt");
        random_file(&mine, 100, 32);
        upload(&b, &gateway, "docs/secret.txt", &secret);
        upload(&a, &gateway, "docs/mine.txt", &mine);
        let tenants = Self { gateway, a, b, secret, mine };
        tenants.assert_b_untouched();
        tenants
    }

    /// B's object is exactly as it was, nothing else landed in B's folder,
    /// and nothing at all outside the tenants' folders.
    fn assert_b_untouched(&self) {
        assert_eq!(self.gateway.stored_sha256("tenants/tenant-b/docs/secret.txt"), Some(sha256(&self.secret)));
        let files = stored_files(&self.gateway);
        let b_files: Vec<&String> = files.iter().filter(|f| f.starts_with("tenants/tenant-b/")).collect();
        assert_eq!(b_files, ["tenants/tenant-b/docs/secret.txt"]);
        assert!(files.iter().all(|f| f.starts_with("tenants/")), "{files:?}");
    }
}

#[test]
fn each_tenant_sees_only_its_own_folder() {
    let t = TwoTenants::new("own-folder");
    assert_eq!(call(&t.b, &["-o", "/dev/null"], &t.gateway.at("docs/secret.txt")).0, 200);
    assert_eq!(call(&t.a, &[], &t.gateway.at("docs/secret.txt")).0, 404);
    assert_eq!(call(&t.a, &["-o", "/dev/null"], &t.gateway.at("docs/mine.txt")).0, 200);
    assert_eq!(call(&t.b, &[], &t.gateway.at("docs/mine.txt")).0, 404);
    t.assert_b_untouched();
}

#[test]
fn paths_cannot_climb_out_of_a_tenant() {
    let t = TwoTenants::new("paths");
    // Paths that try to climb out of A's folder: refused before any redirect.
    let climbing = [
        "/../tenant-b/docs/secret.txt",
        "/../../tenants/tenant-b/docs/secret.txt",
        "/%2e%2e/tenant-b/docs/secret.txt",
        "/%2E%2E/%2e%2e/tenants/tenant-b/docs/secret.txt",
        "/..%2ftenant-b%2fdocs%2fsecret.txt",
        "/docs/..%2F..%2F..%2Ftenants%2Ftenant-b%2Fdocs%2Fsecret.txt",
        "/./docs/secret.txt",
        "//tenants/tenant-b/docs/secret.txt",
        "/..\\tenant-b\\docs\\secret.txt",
        "/%5c..%5ctenant-b%5cdocs%5csecret.txt",
        "/docs/secret.txt%00",
    ];
    let long = format!("/{}", "x".repeat(1100));
    for method in ["GET", "HEAD", "PUT", "DELETE", "POST"] {
        for path in climbing.iter().copied().chain([long.as_str()]) {
            let query = if method == "POST" { "?share&ttl=60" } else { "" };
            // curl waits for a body after `-X HEAD`; `--head` is how it sends HEAD.
            let method_args: &[&str] = if method == "HEAD" { &["--head"] } else { &["-X", method] };
            let (status, body) = call(&t.a, method_args, &format!("{}{path}{query}", t.gateway.url));
            assert_eq!(status, 400, "{method} {path}: {body}");
        }
    }

    // Paths that only look like B's: valid keys, but inside A's own folder.
    let lookalikes = [
        "/%252e%252e/tenant-b/docs/secret.txt",
        "/%252e%252e%252ftenant-b%252fdocs%252fsecret.txt",
        "/tenants%2Ftenant-b%2Fdocs%2Fsecret.txt",
        "/%E2%80%A5/tenant-b/docs/secret.txt",
        "/%EF%BC%8E%EF%BC%8E/tenant-b/docs/secret.txt",
        "/tenant-b/docs/secret.txt",
    ];
    for path in lookalikes {
        let url = format!("{}{path}", t.gateway.url);
        assert_eq!(call(&t.a, &[], &url).0, 404, "GET {path}");
        assert_eq!(call(&t.a, &["-X", "DELETE"], &url).0, 204, "DELETE {path}");
        let (status, body) = call(&t.a, &["--upload-file", t.mine.to_str().unwrap()], &url);
        assert_eq!(status, 200, "PUT {path}: {body}");
    }
    t.assert_b_untouched();
}

#[test]
fn bad_tokens_get_401_and_no_redirect() {
    let t = TwoTenants::new("tokens");
    let secret_key = EncodingKey::from_secret(JWT_SECRET.as_bytes());
    let hs256 = |claims: &Value, key: &EncodingKey| encode(&Header::new(Algorithm::HS256), claims, key).unwrap();
    let mut expired = claims("tenant-b");
    expired["exp"] = json!(now() - 300);
    let mut other_issuer = claims("tenant-b");
    other_issuer["iss"] = json!("evil.example");
    let (head, rest) = t.a.split_once('.').unwrap();
    let signature = rest.split_once('.').unwrap().1;
    let altered = format!("{head}.{}.{signature}", URL_SAFE_NO_PAD.encode(claims("tenant-b").to_string()));
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let bad_tokens = [
        (
            "forged with another secret",
            hs256(&claims("tenant-b"), &EncodingKey::from_secret(b"a guessed secret of thirty-two bytes!")),
        ),
        ("altered claims", altered),
        ("alg none", format!("{none_header}.{}.", URL_SAFE_NO_PAD.encode(claims("tenant-b").to_string()))),
        ("HS256 signed with the public key", hs256(&claims("tenant-b"), &EncodingKey::from_secret(RSA_PUBLIC))),
        ("expired", hs256(&expired, &secret_key)),
        ("other issuer", rs256(&other_issuer)),
        ("garbage", "garbage".to_owned()),
    ];
    for (what, bad) in &bad_tokens {
        for method in ["GET", "PUT", "DELETE"] {
            let bearer = format!("Authorization: Bearer {bad}");
            let output = curl(&["-i", "-X", method, "-H", &bearer, &t.gateway.at("docs/secret.txt")]);
            let text = String::from_utf8_lossy(&output.stdout).to_lowercase();
            assert!(text.starts_with("http/1.1 401"), "{what} {method}: {text}");
            assert!(
                text.contains("www-authenticate: bearer realm=\"presign-gateway\", error=\"invalid_token\""),
                "{text}"
            );
            assert!(!text.contains("location:"), "{text}");
        }
    }
    // The reason is in words for whoever pasted the token; the verifier's own stays in the log.
    for (bad, told) in [
        ("garbage", "that does not look like a sign-in token (a JWT)"),
        (bad_tokens[4].1.as_str(), "that sign-in token has expired"),
        (bad_tokens[0].1.as_str(), "that sign-in token is not valid"),
    ] {
        let output = curl(&["-H", &format!("Authorization: Bearer {bad}"), &t.gateway.at("docs/secret.txt")]);
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), told);
    }
    common::wait_until("the log's detail", || {
        t.gateway.logs().contains("a bearer token was refused detail=InvalidToken")
    });
    let anonymous = String::from_utf8_lossy(&curl(&["-i", &t.gateway.at("docs/secret.txt")]).stdout).to_lowercase();
    assert!(
        anonymous.starts_with("http/1.1 401") && anonymous.contains("www-authenticate: bearer realm"),
        "{anonymous}"
    );
    t.assert_b_untouched();
}

#[test]
fn claims_cannot_name_another_tenant() {
    let t = TwoTenants::new("claims");
    // Claims that cannot name a tenant: authenticated, but not allowed.
    let mut no_sub = claims("x");
    no_sub.as_object_mut().unwrap().remove("sub");
    for bad in [rs256(&no_sub), token(".."), token("")] {
        assert_eq!(call(&bad, &[], &t.gateway.at("docs/secret.txt")).0, 403);
    }
    // A claim shaped like a path is one tenant of its own, not a way out.
    let sly = token("../tenant-b");
    assert_eq!(call(&sly, &[], &t.gateway.at("docs/secret.txt")).0, 404);
    upload(&sly, &t.gateway, "docs/x.txt", &t.mine);
    assert!(t.gateway.stored_sha256("tenants/..%2Ftenant-b/docs/x.txt").is_some());
    t.assert_b_untouched();
}

fn share(token: &str, gateway: &Gateway, path: &str, query: &str) -> String {
    let (status, body) = call(token, &["-X", "POST"], &gateway.at(&format!("{path}?share&{query}")));
    assert_eq!(status, 201, "share {path}?{query}: {body}");
    body.trim().to_owned()
}

#[test]
fn share_links_work_for_their_life_and_no_further() {
    let gateway = start("links", SHARE_KEY);
    let b = token("tenant-b");
    let dir = scratch_dir("links-files");
    let secret = dir.join("secret.txt");
    random_file(&secret, 2048, 41);
    upload(&b, &gateway, "docs/secret.txt", &secret);
    upload(&b, &gateway, "docs/other.txt", &secret);

    // A download link works for anyone, with no Authorization, for GET and HEAD only.
    let link = share(&b, &gateway, "docs/secret.txt", "ttl=1h");
    assert!(link.starts_with(&format!("{}/docs/secret.txt?token=", gateway.url)), "{link}");
    let down = dir.join("down.txt");
    assert_eq!(curl_status(&["-L", "-o", down.to_str().unwrap(), &link]).0, 200);
    assert_eq!(sha256(&down), sha256(&secret));
    assert_eq!(curl_status(&["-L", "-I", &link]).0, 200);
    for (method, status) in [("PUT", 403), ("DELETE", 403)] {
        let (got, body) = curl_status(&["-X", method, &link]);
        assert_eq!(got, status, "{method}: {body}");
    }
    // Links cannot mint links, nor reach another key, even the same tenant's.
    assert_eq!(curl_status(&["-X", "POST", &format!("{link}&share&ttl=60")]).0, 403);
    let swapped = link.replace("docs/secret.txt", "docs/other.txt");
    assert_eq!(curl_status(&["-L", &swapped]).0, 403);
    let token_param = link.split_once("?token=").unwrap().1;
    let with_a_token = format!("{}?token={token_param}", gateway.at("docs/secret.txt"));
    assert_eq!(
        call(&token("tenant-a"), &["-o", "/dev/null"], &with_a_token).0,
        200,
        "the link opens B's file, as it should"
    );

    // The token shows nothing of the grant, and altered tokens are refused.
    let sealed = token_param.strip_prefix("v2.k1.").expect("an opaque token naming its key id");
    let mut bytes = URL_SAFE_NO_PAD.decode(sealed).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("tenant-b"));
    bytes[20] ^= 1;
    let altered = format!("{}?token=v2.k1.{}", gateway.at("docs/secret.txt"), URL_SAFE_NO_PAD.encode(&bytes));
    assert_eq!(curl_status(&[&altered]).0, 403);
    let flipped = format!("{}{}", &link[..link.len() - 1], if link.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(curl_status(&[&flipped]).0, 403);

    // An upload-only link with a size limit: storage is told the exact size.
    let drop_box = share(&b, &gateway, "inbox/upload.bin", "ttl=600&methods=PUT&max_size=4KiB");
    let small = dir.join("small.bin");
    random_file(&small, 3000, 42);
    assert_eq!(curl_status(&["-L", "-T", small.to_str().unwrap(), &drop_box]).0, 200);
    assert_eq!(gateway.stored_sha256("tenants/tenant-b/inbox/upload.bin"), Some(sha256(&small)));
    let big = dir.join("big.bin");
    random_file(&big, 5000, 43);
    assert_eq!(curl_status(&["-L", "-T", big.to_str().unwrap(), &drop_box]).0, 413);
    assert_eq!(curl_status(&["-L", &drop_box]).0, 403, "an upload link does not download");

    // Expiry: a link with a one-second life dies.
    let brief = share(&b, &gateway, "docs/secret.txt", "ttl=1");
    std::thread::sleep(Duration::from_millis(2100));
    let (status, body) = curl_status(&["-L", &brief]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("expired"), "{body}");

    // JSON on request.
    let (status, json) =
        call(&b, &["-X", "POST", "-H", "Accept: application/json"], &gateway.at("docs/secret.txt?share&ttl=30d"));
    assert_eq!(status, 201);
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["methods"], "GET,HEAD");
    assert!(json["url"].as_str().unwrap().contains("?token="));
    assert_eq!(gateway.stored_sha256("tenants/tenant-b/docs/secret.txt"), Some(sha256(&secret)));
}

#[test]
fn rotating_keys_keeps_links_and_removing_a_key_revokes_them() {
    let dir = scratch_dir("rotation-files");
    let file = dir.join("f.txt");
    random_file(&file, 100, 51);
    // The same storage, under gateways with different share keys.
    let store = Store::start("rotation-store");
    let store_dir = store.data_dir.clone();
    let link = {
        let gateway = start_on(store, SHARE_KEY);
        upload(&token("t"), &gateway, "f.txt", &file);
        let link = share(&token("t"), &gateway, "f.txt", "ttl=1d");
        link.split_once(&gateway.url).unwrap().1.to_owned()
    };
    let reopen = |keys: &str| start_on(Store::start_in(store_dir.clone(), &[]), keys);
    let rotated = reopen(&format!("{OTHER_SHARE_KEY},{SHARE_KEY}"));
    assert_eq!(curl_status(&["-L", "-o", "/dev/null", &format!("{}{link}", rotated.url)]).0, 200);
    let fresh = share(&token("t"), &rotated, "f.txt", "ttl=1d");
    assert_eq!(curl_status(&["-L", "-o", "/dev/null", &fresh]).0, 200);
    drop(rotated);
    let revoked = reopen(OTHER_SHARE_KEY);
    let (status, body) = curl_status(&["-L", &format!("{}{link}", revoked.url)]);
    assert_eq!(status, 403, "{body}");
}

#[test]
fn the_share_command_mints_links_offline() {
    let gateway = start("offline", SHARE_KEY);
    let file = scratch_dir("offline-files").join("q3.pdf");
    random_file(&file, 300, 61);
    upload(&token("acme"), &gateway, "reports/q3%20final.pdf", &file);
    let output = common::binary()
        .args(["share", "reports/q3 final.pdf", "--ttl", "30d", "--tenant", "acme", "--base-url", &gateway.url])
        .env("SHARE_KEYS", SHARE_KEY)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let link = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(link.starts_with(&format!("{}/reports/q3%20final.pdf?token=", gateway.url)), "{link}");
    let down = file.with_extension("down");
    assert_eq!(curl_status(&["-L", "-o", down.to_str().unwrap(), &link]).0, 200);
    assert_eq!(sha256(&down), sha256(&file));

    let refused = common::binary()
        .args(["share", "../x", "--ttl", "1d", "--base-url", &gateway.url])
        .env("SHARE_KEYS", SHARE_KEY)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`.` or `..`"));

    // A lifetime past what the clock can hold is refused, not a crash.
    let forever = ["share", "x", "--ttl", "200000000000000d", "--share-max-ttl", "200000000000000d"];
    let refused = common::binary()
        .args(forever)
        .args(["--base-url", &gateway.url])
        .env("SHARE_KEYS", SHARE_KEY)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("100 years"));
}

/// The statuses of `count` requests for `url` as `token`'s holder, sent one
/// after another on one connection by one curl, so they come faster than
/// any allowance refills.
fn statuses(token: &str, url: &str, count: usize) -> Vec<u16> {
    let auth = format!("Authorization: Bearer {token}");
    let mut args = vec!["-H", auth.as_str(), "-w", "%{http_code}\n"];
    for _ in 0..count {
        args.extend(["-o", "/dev/null", url]);
    }
    let output = curl(&args);
    String::from_utf8_lossy(&output.stdout).lines().map(|line| line.parse().unwrap()).collect()
}

#[test]
fn each_tenant_is_paced_by_its_own_rate_limit() {
    let gateway = start_with(Store::start("rate-limit"), SHARE_KEY, &["--rate-limit", "1", "--rate-burst", "3"]);
    let (a, b) = (token("tenant-a"), token("tenant-b"));
    let url = gateway.at("/notes.txt");

    let answered = statuses(&a, &url, 20);
    assert_eq!(answered[..3], [307, 307, 307], "the burst passes: {answered:?}");
    assert!(answered.contains(&429), "then the tenant is paced: {answered:?}");
    assert!(answered.iter().all(|status| [307, 429].contains(status)), "{answered:?}");
    // Another tenant's allowance is its own.
    assert_eq!(statuses(&b, &url, 3), [307, 307, 307]);

    // The refusal says why and when to come back.
    let refused = (0..50).find_map(|_| {
        let (status, answer) = call(&a, &["--include"], &url);
        let (headers, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        (status == 429).then(|| (headers.to_ascii_lowercase(), body.to_owned()))
    });
    let (headers, body) = refused.expect("a tenant sending 50 requests at once is paced");
    assert!(headers.contains("\r\nretry-after: 1"), "{headers}");
    assert!(body.contains("too many requests for this tenant (--rate-limit)"), "{body}");

    // A listing with metadata costs the whole burst: after it, nothing is left.
    // (It waits for B's allowance to fill again: three seconds at one a second.)
    let listing = gateway.at("/?metadata");
    let costly = (0..100).find_map(|_| {
        let answered = statuses(&b, &listing, 2);
        std::thread::sleep(Duration::from_millis(200));
        (answered[0] == 200).then_some(answered)
    });
    assert_eq!(costly, Some(vec![200, 429]), "the listing took the burst");
}
