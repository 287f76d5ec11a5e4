//! The real binary over its life: the metrics port it opens on request,
//! what a SIGTERM does to requests it has already read, and credentials that
//! rotate under it. Every wait here waits for a condition (a metric, a
//! status), never for an amount of time.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use common::{
    STORE_ACCESS_KEY, STORE_SECRET_KEY, Server, Store, binary, curl, curl_status, gateway_with_metrics, location,
    metrics_base, random_file, scratch_dir, sha256, wait_until,
};

fn series(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn the_metrics_port_serves_prometheus_text_health_and_readiness() {
    let (_server, url, metrics) = gateway_with_metrics("metrics-port", &[]);
    for _ in 0..3 {
        assert!(location("GET", &format!("{url}/reports/q3.pdf")).contains("X-Amz-Signature="));
    }
    let (status, _) = curl_status(&["-o", "/dev/null", &format!("{url}/a//b")]);
    assert_eq!(status, 400);

    let (status, text) = curl_status(&[&format!("{metrics}/metrics")]);
    assert_eq!(status, 200);
    let get = "presign_gateway_requests_total{method=\"GET\",operation=\"GetObject\",status=\"307\"}";
    assert_eq!(series(&text, get), Some(3.0), "{text}");
    assert_eq!(
        series(&text, "presign_gateway_requests_total{method=\"GET\",operation=\"none\",status=\"400\"}"),
        Some(1.0)
    );
    assert_eq!(series(&text, "presign_gateway_request_duration_seconds_count{operation=\"GetObject\"}"), Some(3.0));
    assert!(!text.contains("q3.pdf"), "keys never become labels");
    assert_eq!(curl_status(&[&format!("{metrics}/healthz")]), (200, "ok\n".to_owned()));
    // The embedded store answers the probe (404: no such key) with the gateway's credentials.
    assert_eq!(curl_status(&[&format!("{metrics}/readyz")]), (200, "ready\n".to_owned()));
    // On the gateway's own port, /metrics is an object key like any other.
    assert!(location("GET", &format!("{url}/metrics")).contains("/presign-gateway/metrics?"));
}

#[test]
fn without_the_flag_there_is_no_metrics_port() {
    let mut command = binary();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(scratch_dir("no-metrics-port").join("data"));
    let (gateway, banner) = Server::spawn_until(command, "presign-gateway listening on ", "  download:");
    let (status, _) = curl_status(&["-o", "/dev/null", &format!("{}/x", gateway.url)]);
    assert_eq!(status, 307);
    // The banner names the metrics port when there is one (see gateway_with_metrics).
    assert!(!banner.iter().any(|line| line.starts_with("  metrics:")), "{banner:?}");
}

/// An upload whose head and first half are sent: the gateway is reading
/// (draining) its body when the test lets go.
fn half_sent_upload(authority: &str, n: u16) -> TcpStream {
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(stream, "PUT /in-flight/{n}.bin HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 10\r\n\r\nhello").unwrap();
    stream
}

/// Reads one response to the end (the server closes the connection after it).
fn response(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

#[test]
fn sigterm_answers_every_request_already_read() {
    const UPLOADS: u16 = 8;
    let (mut server, url, metrics) = gateway_with_metrics("sigterm", &[]);
    let authority = url.trim_start_matches("http://").to_owned();
    let mut uploads: Vec<TcpStream> = (0..UPLOADS).map(|n| half_sent_upload(&authority, n)).collect();
    // Every request has been read and its handler is reading the body.
    wait_until("every upload's body to be in flight", || {
        let (_, text) = curl_status(&[&format!("{metrics}/metrics")]);
        series(&text, "presign_gateway_bodies_in_flight") == Some(f64::from(UPLOADS))
    });

    server.terminate();
    wait_until("/readyz to say the gateway is shutting down", || {
        curl_status(&[&format!("{metrics}/readyz")]) == (503, "not ready: shutting down\n".to_owned())
    });
    // No new connection is taken once shutdown has begun.
    wait_until("the gateway's port to refuse connections", || match TcpStream::connect(&authority) {
        Err(_) => true,
        Ok(mut late) => {
            let _ = write!(late, "GET /late HTTP/1.1\r\nHost: {authority}\r\n\r\n");
            !response(&mut late).starts_with("HTTP/1.1")
        }
    });

    for (n, upload) in uploads.iter_mut().enumerate() {
        upload.write_all(b"world").unwrap();
        let answer = response(upload);
        assert!(answer.starts_with("HTTP/1.1 307"), "upload {n} got {answer:?}");
        assert!(answer.to_ascii_lowercase().contains(&format!("/in-flight/{n}.bin?")), "{answer}");
    }
    let exit = server.wait(Duration::from_secs(60)).expect("the gateway did not stop");
    assert!(exit.success(), "{exit:?}");
}

/// Generation after generation of temporary credentials, served as the
/// container credentials endpoint (ECS, EKS Pod Identity) serves them.
#[derive(Default)]
struct Issued {
    /// How long the next credentials live.
    lifetime: Duration,
    /// Every token issued, with its expiry.
    tokens: Vec<(String, SystemTime)>,
}

fn credentials_endpoint(issued: Arc<Mutex<Issued>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/credentials", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let body = {
                let mut issued = issued.lock().unwrap();
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
                let expiry = UNIX_EPOCH + Duration::from_secs(now) + issued.lifetime;
                let token = format!("generation-{}", issued.tokens.len() + 1);
                issued.tokens.push((token.clone(), expiry));
                let expiration = DateTime::from(expiry).fmt(Format::DateTime).unwrap();
                format!(
                    r#"{{"AccessKeyId":"{STORE_ACCESS_KEY}","SecretAccessKey":"{STORE_SECRET_KEY}","Token":"{token}","Expiration":"{expiration}"}}"#
                )
            };
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// A presigned URL's token, and when it stops working.
fn signed(url: &str) -> (String, SystemTime) {
    let param = |name: &str| {
        url.split(['?', '&'])
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in the URL"))
            .to_owned()
    };
    let date = param("X-Amz-Date");
    let rfc3339 =
        format!("{}-{}-{}T{}:{}:{}Z", &date[..4], &date[4..6], &date[6..8], &date[9..11], &date[11..13], &date[13..15]);
    let signed_at = SystemTime::try_from(DateTime::from_str(&rfc3339, Format::DateTime).unwrap()).unwrap();
    let expires: u64 = param("X-Amz-Expires").parse().unwrap();
    (param("X-Amz-Security-Token"), signed_at + Duration::from_secs(expires))
}

/// A gateway on `store` whose credentials come from `issued` through the
/// container credentials endpoint, signing URLs of `expires` seconds: the
/// process, its URL and its metrics port's.
fn on_container_credentials(
    scratch: &std::path::Path,
    store: &Store,
    issued: &Arc<Mutex<Issued>>,
    expires: u64,
) -> (Server, String, String) {
    let endpoint = credentials_endpoint(issued.clone());
    let mut command = binary();
    command.args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"]);
    command.args(["--expires", &expires.to_string()]);
    command.args(["--endpoint", &store.url, "--bucket", "presign-gateway", "--region", "us-east-1"]);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ] {
        command.env_remove(name);
    }
    command.env("AWS_CONFIG_FILE", scratch.join("no-config")).env("AWS_SHARED_CREDENTIALS_FILE", scratch.join("none"));
    command.env("AWS_EC2_METADATA_DISABLED", "true").env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &endpoint);
    let (gateway, banner) = Server::spawn_until(command, "presign-gateway listening on ", "  download:");
    let url = banner[0].trim_start_matches("presign-gateway listening on ").to_owned();
    (gateway, url, metrics_base(&banner))
}

/// Readiness asks the signer's own rule: with credentials that live exactly
/// as long as a URL (one hour each, as Lambda's and ECS's do), every URL is
/// signed (shortened to fit), so `/readyz` says ready throughout, while the
/// credentials are refreshed under it.
#[test]
fn readiness_holds_while_credentials_as_long_as_a_url_rotate() {
    let scratch = scratch_dir("ready-rotation");
    let store = Store::start_in(scratch.join("data"), &[]);
    for lifetime in [3600, 300] {
        let issued = Arc::new(Mutex::new(Issued { lifetime: Duration::from_secs(lifetime), tokens: Vec::new() }));
        let (_gateway, url, metrics) = on_container_credentials(&scratch, &store, &issued, lifetime);
        for _ in 0..5 {
            assert_eq!(curl_status(&[&format!("{metrics}/readyz")]), (200, "ready\n".to_owned()), "{lifetime} s");
            let (token, ends) = signed(&location("GET", &format!("{url}/any.txt")));
            let expiry = issued.lock().unwrap().tokens.iter().find(|(t, _)| *t == token).map(|(_, e)| *e);
            assert!(expiry.is_some_and(|expiry| ends <= expiry), "a URL outlives {token}");
        }
        // Credentials of five minutes with five-minute URLs are due at every request: they rotated.
        if lifetime == 300 {
            assert!(issued.lock().unwrap().tokens.len() > 2, "credentials were not refreshed");
        }
    }
}

#[test]
fn rotating_credentials_are_refreshed_and_never_outlived() {
    let scratch = scratch_dir("rotation");
    let store = Store::start_in(scratch.join("data"), &[]);

    // Credentials that live four minutes: less than a URL (five), inside the refresh margin.
    let issued = Arc::new(Mutex::new(Issued { lifetime: Duration::from_secs(240), tokens: Vec::new() }));
    let (_gateway, url, metrics) = on_container_credentials(&scratch, &store, &issued, 300);
    let expiry_of = |token: &str| {
        let issued = issued.lock().unwrap();
        issued.tokens.iter().find(|(t, _)| t == token).unwrap_or_else(|| panic!("{token} was never issued")).1
    };

    let file = scratch.join("notes.txt");
    random_file(&file, 100_000, 13);
    let (status, body) = curl_status(&["-L", "--upload-file", file.to_str().unwrap(), &format!("{url}/notes.txt")]);
    assert_eq!(status, 200, "{body}");

    // Short-lived credentials are due for a refresh at every request: each URL
    // is signed with a newer generation, and none outlives its credentials.
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (token, ends) = signed(&location("GET", &format!("{url}/notes.txt")));
        assert!(ends <= expiry_of(&token), "a URL signed with {token} outlives it");
        tokens.push(token);
    }
    let numbers: Vec<usize> = tokens.iter().map(|t| t.trim_start_matches("generation-").parse().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "credentials were not refreshed: {tokens:?}");
    // URLs are shortened to fit the credentials, so the gateway serves: ready.
    assert_eq!(curl_status(&[&format!("{metrics}/readyz")]), (200, "ready\n".to_owned()));

    // The source now hands out hour-long credentials: the next request takes
    // them, and later ones keep them (no fetch per request), with full-length URLs.
    issued.lock().unwrap().lifetime = Duration::from_secs(3600);
    let (fresh, _) = signed(&location("GET", &format!("{url}/notes.txt")));
    let fetched = issued.lock().unwrap().tokens.len();
    for _ in 0..3 {
        let url = location("GET", &format!("{url}/notes.txt"));
        let (token, _) = signed(&url);
        assert_eq!(token, fresh, "hour-long credentials are kept");
        assert!(url.contains("X-Amz-Expires=300&"), "{url}");
    }
    assert_eq!(issued.lock().unwrap().tokens.len(), fetched, "no fetch while the credentials are fresh");
    assert_eq!(curl_status(&[&format!("{metrics}/readyz")]), (200, "ready\n".to_owned()));

    // The URLs work: the store checks their signatures.
    let back = scratch.join("back.txt");
    let output = curl(&["--fail", "-L", "-o", back.to_str().unwrap(), &format!("{url}/notes.txt")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(sha256(&back), sha256(&file));
}
