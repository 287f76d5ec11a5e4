//! The hostile review's findings, kept as attacks on the real binary: a
//! client that holds the server's resources before it is authenticated, a
//! link that outlives what it says, a token that means more than it should,
//! a `Host` that writes the link, a download that runs script on storage's
//! origin, storage that is down or slow, and a metrics port that holds idle
//! connections. Each attack must fail, and each test failed on the code
//! before its fix. The attacks on the servers' memory and connections are in
//! [`resources`], DNS rebinding in [`rebinding`], and headers a presigned
//! URL did not sign (or an uploader chose for the owner's downloads) in
//! [`signing`]; API keys that try to reach past their scope in [`keys`];
//! share links with records (revoked, used up, another tenant's) in [`links`].

#[path = "../common/mod.rs"]
mod common;
mod keys;
mod links;
mod rebinding;
mod resources;
mod signing;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::proxy::{Proxy, Rules};
use common::{Gateway, binary, curl, curl_status, gateway_with_metrics, location, random_file, scratch_dir};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const JWT_SECRET: &str = "attack test HS256 secret, 32 bytes or more";
const SHARE_KEY: &str = "k1:attack-test-share-key-0123456789abcdefgh";

/// A gateway whose callers are tenants, with share links.
fn tenanted(name: &str, extra: &[&str]) -> Gateway {
    let mut args = vec!["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY];
    args.extend_from_slice(extra);
    Gateway::start(name, &args)
}

fn hs(alg: Algorithm, sub: &Value) -> String {
    let claims = json!({ "sub": sub, "exp": in_ten_minutes() });
    encode(&Header::new(alg), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap()
}

fn bearer(sub: &str) -> String {
    format!("Authorization: Bearer {}", hs(Algorithm::HS256, &json!(sub)))
}

/// A raw connection to `gateway` that has sent `request` (and nothing more).
fn send_raw(gateway: &Gateway, request: &[u8]) -> TcpStream {
    send_raw_to(gateway.url.trim_start_matches("http://"), request)
}

/// A raw connection to `gateway` that has sent `head` and `body_bytes` of the body it announces.
fn send_partly(gateway: &Gateway, head: &str, body_bytes: usize) -> TcpStream {
    let mut request = head.as_bytes().to_vec();
    request.resize(request.len() + body_bytes, b'<');
    send_raw(gateway, &request)
}

fn send_raw_to(address: &str, request: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    // Long enough for any answer on loopback; a server that waits for more gets caught.
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request).unwrap();
    stream
}

/// What the server says back, read until it closes the connection or stops sending.
fn answer(mut stream: TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && n < buf.len() {
                    break;
                }
            }
            Err(error) => {
                assert!(!answer.is_empty(), "no answer: {error}");
                break;
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn no_body_is_read_before_the_caller_is_authenticated() {
    let gateway = tenanted("before-auth", &[]);
    // A completion body of almost 2 MiB, announced, of which 64 KiB are sent:
    // the 401 comes without waiting for the rest.
    let head = "POST /big.iso?uploadId=abc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2097151\r\n\r\n";
    let reply = answer(send_partly(&gateway, head, 64 << 10));
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    assert!(reply.to_ascii_lowercase().contains("connection: close"), "{reply}");

    // The same for a PUT sent without Expect: no draining before authentication.
    let head = "PUT /big.iso HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n";
    let reply = answer(send_partly(&gateway, head, 64 << 10));
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");

    // A small body sent unasked, as `requests` sends it, is read: the client sees the answer, not a reset.
    let file = scratch_dir("before-auth-files").join("small");
    random_file(&file, 2000, 1);
    let (status, body) =
        curl_status(&["-X", "POST", "--data-binary", &format!("@{}", file.display()), &gateway.at("x?uploadId=abc")]);
    assert_eq!(status, 401, "{body}");
    // A share link is verified before any body too.
    let (status, _) = curl_status(&[
        "-X",
        "PUT",
        "-H",
        "Expect:",
        "--data-binary",
        &format!("@{}", file.display()),
        &gateway.at("x?token=v2.k1.bogus"),
    ]);
    assert_eq!(status, 403);
}

#[test]
fn headers_must_arrive_in_time() {
    let gateway = Gateway::start("header-timeout", &["--header-timeout", "1s"]);
    let half = send_raw(&gateway, b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    // The server closes the connection (an empty read, or a 408) instead of waiting for the rest.
    let reply = answer(half);
    assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 408"), "{reply}");
}

#[test]
fn urls_from_a_share_link_never_outlive_it() {
    let gateway = tenanted("link-lifetime", &["--expires", "3600"]);
    let file = scratch_dir("link-lifetime-files").join("f.txt");
    random_file(&file, 100, 2);
    let auth = bearer("acme");
    assert_eq!(curl_status(&["-L", "-H", &auth, "-T", file.to_str().unwrap(), &gateway.at("f.txt")]).0, 200);
    // Far shorter than --expires, yet long enough for a loaded machine to use.
    let (status, link) = curl_status(&["-X", "POST", "-H", &auth, &gateway.at("f.txt?share&ttl=60")]);
    assert_eq!(status, 201, "{link}");
    let url = location("GET", link.trim());
    let expires: u64 = url.split("X-Amz-Expires=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
    assert!((1..=60).contains(&expires), "a URL for a 60 s link lives {expires} s");
}

#[test]
fn tenant_less_links_do_not_open_on_a_gateway_with_tenants() {
    let gateway = tenanted("tenantless", &[]);
    let file = scratch_dir("tenantless-files").join("f.txt");
    random_file(&file, 100, 3);
    // Minted offline without --tenant: refused by the share command unless AUTH_MODE is none...
    let mint = |auth_mode: &str| {
        binary()
            .args(["share", "f.txt", "--ttl", "1h", "--base-url", &gateway.url])
            .env("SHARE_KEYS", SHARE_KEY)
            .env("AUTH_MODE", auth_mode)
            .output()
            .unwrap()
    };
    let refused = mint("jwt");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--tenant"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // ...and a link made for a single-tenant gateway with the same keys reaches nothing here.
    let link = String::from_utf8(mint("none").stdout).unwrap();
    let (status, body) = curl_status(&["-L", link.trim()]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("names no tenant"), "{body}");
}

#[test]
fn every_bad_token_gets_the_same_answer() {
    let gateway = tenanted("one-answer", &[]);
    let other = binary()
        .args(["share", "f.txt", "--ttl", "1h", "--tenant", "acme", "--base-url", &gateway.url])
        .env("SHARE_KEYS", "k7:a-key-this-gateway-does-not-have-0123456789")
        .output()
        .unwrap();
    let unknown_kid = String::from_utf8(other.stdout).unwrap();
    let mine = binary()
        .args(["share", "f.txt", "--ttl", "1h", "--tenant", "acme", "--base-url", &gateway.url])
        .env("SHARE_KEYS", SHARE_KEY)
        .output()
        .unwrap();
    let mine = String::from_utf8(mine.stdout).unwrap();
    let forged = format!("{}{}", &mine.trim()[..mine.trim().len() - 2], "AA");
    let malformed = format!("{}?token=garbage", gateway.at("f.txt"));
    let answers: Vec<(u16, String)> =
        [unknown_kid.trim(), &forged, &malformed].iter().map(|link| curl_status(&["-L", link])).collect();
    for (status, body) in &answers {
        assert_eq!((*status, body.as_str()), (403, "the share link is not valid\n"));
    }
}

#[test]
fn links_are_built_from_a_host_and_nothing_else() {
    let gateway = tenanted("host", &["--allowed-hosts", "evil.example,files.example"]);
    let auth = bearer("acme");
    for host in ["evil.example/steal?", "a@evil.example", "evil.example:99999", "exa mple", "unlisted.example"] {
        let (status, body) = curl_status(&[
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            &format!("Host: {host}"),
            &gateway.at("f.txt?share&ttl=60"),
        ]);
        // Refused as no host to answer to (421), or none to build a link from (400).
        assert!(matches!(status, 400 | 421), "Host: {host}: {status} {body}");
    }
    let (status, link) =
        curl_status(&["-X", "POST", "-H", &auth, "-H", "Host: files.example:8443", &gateway.at("f.txt?share&ttl=60")]);
    assert_eq!(status, 201);
    assert!(link.starts_with("http://files.example:8443/f.txt?token="), "{link}");
    // HTTP/1.0 has no Host: a 400 that says so, not a 500.
    let token = hs(Algorithm::HS256, &json!("acme"));
    let request = format!("POST /f.txt?share&ttl=60 HTTP/1.0\r\nAuthorization: Bearer {token}\r\n\r\n");
    let reply = answer(send_raw(&gateway, request.as_bytes()));
    assert!(reply.starts_with("HTTP/1.0 400") || reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(reply.contains("no Host header"), "{reply}");
}

#[test]
fn tokens_mean_one_thing() {
    let gateway = tenanted("tokens", &[]);
    let file = scratch_dir("tokens-files").join("f.txt");
    random_file(&file, 100, 4);
    // Only HS256 verifies against the secret.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let auth = format!("Authorization: Bearer {}", hs(alg, &json!("acme")));
        assert_eq!(curl_status(&["-H", &auth, "-o", "/dev/null", &gateway.at("f.txt")]).0, 401, "{alg:?}");
    }
    // A numeric subject names the same tenant as its decimal text: what one uploads, the other reads.
    let as_number = format!("Authorization: Bearer {}", hs(Algorithm::HS256, &json!(42)));
    let as_text = bearer("42");
    assert_eq!(curl_status(&["-L", "-H", &as_number, "-T", file.to_str().unwrap(), &gateway.at("n.txt")]).0, 200);
    assert_eq!(curl_status(&["-L", "-H", &as_text, "-o", "/dev/null", &gateway.at("n.txt")]).0, 200);
    // Numbers past 64 bits are one float to serde_json: 2^64 and 2^64 + 1 would
    // share a folder, so a numeric subject that is not a whole 64-bit number names none.
    for sub in ["18446744073709551616", "18446744073709551617", "4.2e1"] {
        let auth =
            format!("Authorization: Bearer {}", hs_raw(&format!(r#"{{"sub":{sub},"exp":{}}}"#, in_ten_minutes())));
        let (status, body) = curl_status(&["-L", "-H", &auth, "-T", file.to_str().unwrap(), &gateway.at("big.txt")]);
        assert_eq!(status, 403, "{sub}: {body}");
        assert!(body.contains("not a whole one within 64 bits"), "{body}");
    }
}

fn in_ten_minutes() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 600
}

/// An HS256 token whose claims are `payload` as written (JSON numbers that
/// serde_json would not write back the same).
fn hs_raw(payload: &str) -> String {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let signed = format!("{}.{}", b64(br#"{"alg":"HS256","typ":"JWT"}"#), b64(payload.as_bytes()));
    let key = EncodingKey::from_secret(JWT_SECRET.as_bytes());
    let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{signed}.{signature}")
}

#[test]
fn downloads_that_could_run_script_are_saved_not_shown() {
    let gateway = Gateway::start("active-types", &[]);
    let page = scratch_dir("active-types-files").join("page");
    std::fs::write(&page, "<script>alert(document.domain)</script>").unwrap();
    for key in ["page", "page.html", "logo.svg"] {
        let upload = ["-L", "-H", "Content-Type: text/html", "-T", page.to_str().unwrap(), &gateway.at(key)];
        assert_eq!(curl_status(&upload).0, 200);
        let head = String::from_utf8(curl(&["-L", "-I", &gateway.at(key)]).stdout).unwrap().to_ascii_lowercase();
        assert!(head.contains("content-disposition: attachment"), "{key}: {head}");
    }
    let photo = ["-L", "-H", "Content-Type: text/html", "-T", page.to_str().unwrap(), &gateway.at("photo.jpg")];
    assert_eq!(curl_status(&photo).0, 200);
    let head = String::from_utf8(curl(&["-L", "-I", &gateway.at("photo.jpg")]).stdout).unwrap().to_ascii_lowercase();
    assert!(head.contains("content-type: image/jpeg") && head.contains("content-disposition: inline\r\n"), "{head}");
    // The operator may allow a type inline.
    let allowed = Gateway::start("inline-types", &["--inline-types", "text/html"]);
    let upload = ["-L", "-T", page.to_str().unwrap(), &allowed.at("page.html")];
    assert_eq!(curl_status(&upload).0, 200);
    let head = String::from_utf8(curl(&["-L", "-I", &allowed.at("page.html")]).stdout).unwrap().to_ascii_lowercase();
    assert!(head.contains("content-disposition: inline\r\n"), "{head}");
}

#[test]
fn storage_that_is_down_or_slow_gets_a_503_to_retry() {
    // Port 1 (tcpmux) is privileged and refuses connections on any test machine.
    let dead = "http://127.0.0.1:1".to_owned();
    let store = common::Store::start("slow-store");
    let slow = Proxy::start(Rules {
        target: store.url.trim_start_matches("http://").to_owned(),
        delay: Duration::from_secs(5),
        ..Rules::default()
    });
    for (name, endpoint) in [("dead", dead.as_str()), ("slow", slow.url.as_str())] {
        let gateway = Gateway::start_with_env(
            &format!("storage-{name}"),
            &["--endpoint", endpoint, "--bucket", "presign-gateway", "--storage-timeout", "1s"],
            &[
                ("AWS_ACCESS_KEY_ID", common::STORE_ACCESS_KEY),
                ("AWS_SECRET_ACCESS_KEY", common::STORE_SECRET_KEY),
                ("AWS_REGION", "us-east-1"),
            ],
        );
        let output = curl(&["-X", "POST", "-D", "-", &gateway.at("f.bin?uploads")]);
        let reply = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
        assert!(reply.starts_with("http/1.1 503"), "{name}: {reply}");
        assert!(reply.contains("retry-after: 2"), "{name}: {reply}");
        assert!(gateway.server.logged("storage", Duration::from_secs(10)), "{name}: the cause is logged");
    }
}

#[test]
fn the_metrics_port_lets_go_of_idle_connections_too() {
    let (_gateway, _, metrics) = gateway_with_metrics("metrics-idle", &["--header-timeout", "1s"]);
    // Every connection costs the process a file descriptor, the gateway's and the store's included.
    let half =
        send_raw_to(metrics.trim_start_matches("http://"), b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    let reply = answer(half);
    assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 408"), "{reply}");
}

/// `--allowed-types 'image/*'` admits one media type of that kind, read as
/// RFC 9110 writes it, not any text that starts with `image/`.
#[test]
fn only_a_real_media_type_passes_the_type_rule() {
    let gateway = Gateway::start("types-exactly", &["--allowed-types", "image/*"]);
    for declared in ["image/png, text/html", "image/../../text/html", "image/", "image/png; x=\"open"] {
        let header = format!("Content-Type: {declared}");
        let (status, body) =
            curl_status(&["-X", "PUT", "-H", &header, "--data-binary", "abc", "-o", "/dev/null", &gateway.at("p.png")]);
        assert_eq!(status, 415, "{declared}: {body}");
    }
    let fine =
        ["-X", "PUT", "-H", "Content-Type: image/png; name=\"a;b\"", "--data-binary", "abc", &gateway.at("p.png")];
    assert_eq!(curl_status(&fine).0, 307);
}
