//! Attacks on what the servers hold: memory for bodies and headers, and
//! connection slots. None needs a credential.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Gateway, curl_status, gateway_with_metrics, location};
use crate::{answer, send_partly, send_raw, send_raw_to};

/// A request head carrying one header of `bytes` bytes.
fn head_with_header_of(bytes: usize, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "a".repeat(bytes))
        .into_bytes()
}

fn address(url: &str) -> &str {
    url.trim_start_matches("http://").split('/').next().unwrap()
}

#[test]
fn headers_beyond_the_limit_get_431_on_every_port() {
    let (_server, gateway, metrics) = gateway_with_metrics("header-bytes", &[]);
    let store = location("GET", &format!("{gateway}/a.txt"));
    for (port, url, path) in
        [("gateway", &gateway, "/a.txt"), ("metrics", &metrics, "/healthz"), ("store", &store, "/")]
    {
        let refused = answer(send_raw_to(address(url), &head_with_header_of(100 << 10, path)));
        assert!(refused.starts_with("HTTP/1.1 431"), "{port}: a 100 KiB header: {refused}");
        let served = answer(send_raw_to(address(url), &head_with_header_of(60 << 10, path)));
        assert!(!served.starts_with("HTTP/1.1 431") && served.starts_with("HTTP/1.1 "), "{port}: 60 KiB: {served}");
    }
    let (_server, gateway, _) = gateway_with_metrics("header-bytes-set", &["--max-header-bytes", "16KiB"]);
    let refused = answer(send_raw_to(address(&gateway), &head_with_header_of(20 << 10, "/a.txt")));
    assert!(refused.starts_with("HTTP/1.1 431"), "{refused}");
}

#[test]
fn half_sent_requests_give_way_to_new_connections() {
    let gateway = Gateway::start("slots-idle", &["--max-connections", "2", "--header-timeout", "60s"]);
    let held: Vec<TcpStream> = (0..4).map(|_| send_raw(&gateway, b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n")).collect();
    // Each of these took the slot of one before it; the newest still holds one.
    let reply = answer(send_raw(&gateway, b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    assert!(reply.starts_with("HTTP/1.1 307"), "{reply}");
    drop(held);
}

/// A connection busy with a PUT whose announced body the gateway drains.
fn busy_draining(gateway: &Gateway) -> TcpStream {
    send_partly(gateway, "PUT /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n", 1000)
}

#[test]
fn connections_with_a_request_in_service_are_not_closed_for_new_ones() {
    let flags = ["--max-connections", "2", "--header-timeout", "60s", "--min-body-rate", "0"];
    let gateway = Gateway::start("slots-busy", &flags);
    let held = [busy_draining(&gateway), busy_draining(&gateway)];
    std::thread::sleep(Duration::from_millis(300));
    let mut third = send_raw(&gateway, b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    third.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 64];
    assert!(third.read(&mut buf).is_err(), "a third connection was served while two were busy");
    for mut busy in held {
        let mut probe = [0u8; 1];
        busy.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        assert!(busy.read(&mut probe).is_err(), "a busy connection was closed");
    }
    third.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let reply = answer(third);
    assert!(reply.starts_with("HTTP/1.1 307"), "{reply}");
}

#[test]
fn one_address_holds_no_more_connections_than_it_may() {
    let flags = ["--max-connections-per-address", "2", "--min-body-rate", "0", "--header-timeout", "60s"];
    let gateway = Gateway::start("slots-per-address", &flags);
    let held = [busy_draining(&gateway), busy_draining(&gateway)];
    std::thread::sleep(Duration::from_millis(300));
    let mut third = send_raw(&gateway, b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let mut buf = [0u8; 64];
    // Closed at once: an empty read or a reset, never an answer.
    assert!(matches!(third.read(&mut buf), Ok(0) | Err(_)), "a third connection from one address was served");
    drop(held);
    let (status, _) = curl_status(&["-o", "/dev/null", &gateway.at("a.txt")]);
    assert_eq!(status, 307, "its slots are free again");
}

#[test]
fn a_new_connection_must_send_its_first_request_at_once() {
    let gateway = Gateway::start("first-request", &["--header-timeout", "60s"]);
    // Nothing at all, then half a request: both closed long before the header timeout.
    for sent in [&b""[..], b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "] {
        let reply = answer(send_raw(&gateway, sent));
        assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 408"), "{reply}");
    }
}

#[test]
fn a_body_sent_with_a_get_head_or_delete_is_never_waited_for() {
    let gateway = Gateway::start("bodiless", &["--body-timeout", "600s", "--min-body-rate", "0"]);
    for method in ["GET", "HEAD", "DELETE"] {
        let head = format!("{method} /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n");
        let reply = answer(send_raw(&gateway, head.as_bytes()));
        assert!(reply.starts_with("HTTP/1.1 307"), "{method}: {reply}");
        assert!(reply.to_ascii_lowercase().contains("connection: close"), "{method}: {reply}");
    }
    // Without a body the connection stays open for the next request.
    let mut stream = send_raw(&gateway, b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let mut first = [0u8; 4096];
    let n = stream.read(&mut first).unwrap();
    assert!(!String::from_utf8_lossy(&first[..n]).to_ascii_lowercase().contains("connection: close"));
    stream.write_all(b"GET /b.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    assert!(answer(stream).starts_with("HTTP/1.1 307"));
}

/// A connection that announces a part list of 2 MiB, sends all but 100 KiB of it and stalls.
fn stalled_completion(gateway: &Gateway) -> TcpStream {
    let head = "POST /x.bin?uploadId=not-a-real-upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2097152\r\n\r\n";
    send_partly(gateway, head, (2 << 20) - (100 << 10))
}

#[test]
fn bodies_held_in_memory_share_a_budget_and_stalled_ones_are_dropped() {
    let flags = ["--max-body-memory", "4MiB", "--min-body-rate", "64KiB", "--body-timeout", "600s"];
    let gateway = Gateway::start("body-budget", &flags);
    let stalled = [stalled_completion(&gateway), stalled_completion(&gateway)];
    std::thread::sleep(Duration::from_millis(500));
    // The budget is taken: another waits a second, then is told to come back.
    let refused = answer(stalled_completion(&gateway));
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.to_ascii_lowercase().contains("retry-after:"), "{refused}");
    // The stalled ones fall below the minimum rate and are let go, long before the body timeout.
    for stream in stalled {
        let reply = answer(stream);
        assert!(reply.starts_with("HTTP/1.1 400") && reply.contains("too slow"), "{reply}");
    }
    let (status, body) = curl_status(&["-X", "POST", "--data-binary", "<x/>", &gateway.at("x.bin?uploadId=abc")]);
    assert_ne!(status, 503, "the budget is free again: {body}");
}

#[test]
fn health_checks_answer_while_the_metrics_port_is_flooded() {
    let (_server, _gateway, metrics) = gateway_with_metrics("metrics-flood", &["--header-timeout", "60s"]);
    let flood: Vec<TcpStream> =
        (0..40).map(|_| send_raw_to(address(&metrics), b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n")).collect();
    let (status, body) = curl_status(&["--max-time", "20", &format!("{metrics}/readyz")]);
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    drop(flood);
}

/// A raw connection to the store at a presigned `url`, having sent `head_extra` after its request line.
fn to_store(url: &str, method: &str, head_extra: &str) -> TcpStream {
    let rest = url.trim_start_matches("http://");
    let (address, target) = rest.split_at(rest.find('/').unwrap());
    let request = format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\n{head_extra}\r\n");
    send_raw_to(address, request.as_bytes())
}

#[test]
fn store_clients_that_stop_reading_or_trickle_are_let_go() {
    let gateway = Gateway::start("store-slow-clients", &["--min-body-rate", "64KiB"]);
    let file = crate::common::scratch_dir("store-slow-clients-files").join("big.bin");
    crate::common::random_file(&file, 40 << 20, 7);
    let (status, _) =
        curl_status(&["-L", "-o", "/dev/null", "--upload-file", file.to_str().unwrap(), &gateway.at("big.bin")]);
    assert_eq!(status, 200);
    // A download nobody reads: the store's send buffer fills, and it stops waiting.
    let mut unread = to_store(&location("GET", &gateway.at("big.bin")), "GET", "");
    let unread_since = std::time::Instant::now();
    // An upload sent a byte at a time.
    let (status, json) = curl_status(&["-H", "Upload-Length: 1000000", &gateway.at("slow.bin?presign=PUT")]);
    assert_eq!(status, 200, "{json}");
    let put_url = serde_json::from_str::<serde_json::Value>(&json).unwrap()["url"].as_str().unwrap().to_owned();
    let mut trickle = to_store(&put_url, "PUT", "Content-Length: 1000000\r\n");
    let mut cut_off = false;
    for _ in 0..60 {
        std::thread::sleep(Duration::from_millis(500));
        if trickle.write_all(b"x").is_err() {
            cut_off = true;
            break;
        }
    }
    assert!(cut_off, "the store still waits for a body at two bytes a second after 30 s");
    // The unread download was cut off too: the first window of waiting still
    // averages in the burst that filled the socket's buffers, the second sees
    // nothing move. Reading after both ends before the whole object.
    std::thread::sleep((Duration::from_secs(25)).saturating_sub(unread_since.elapsed()));
    let mut received = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    while let Ok(n) = unread.read(&mut buf) {
        if n == 0 {
            break;
        }
        received += n;
    }
    assert!(received < 40 << 20, "the store kept a download nobody read: {received} bytes");
}
