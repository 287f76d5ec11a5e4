//! The real binary on the embedded store, driven by curl as users drive it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    Gateway, Store, curl, curl_status, location, random_file, scratch_dir, sha256, wait_until, with_a_free_port,
};

#[test]
fn files_of_every_size_round_trip_byte_for_byte() {
    let gateway = Gateway::start("sizes", &[]);
    let dir = scratch_dir("sizes-files");
    for (size, name) in
        [(0, "empty.bin"), (1, "one.bin"), (10 << 10, "ten-k.bin"), (5 << 20, "five-m.bin"), (200 << 20, "big.bin")]
    {
        let upload = dir.join(name);
        random_file(&upload, size, size as u64 + 7);
        let (status, _) =
            curl_status(&["--location", "--fail", "--upload-file", upload.to_str().unwrap(), &gateway.at(name)]);
        assert_eq!(status, 200, "upload {name}");

        let download = dir.join(format!("{name}.down"));
        let (status, _) =
            curl_status(&["--location", "--fail", "--output", download.to_str().unwrap(), &gateway.at(name)]);
        assert_eq!(status, 200, "download {name}");
        assert_eq!(sha256(&download), sha256(&upload), "{name} came back different");
        assert_eq!(gateway.stored_sha256(name), Some(sha256(&upload)));
    }
}

#[test]
fn uploads_from_standard_input_fail_clearly_and_store_nothing() {
    let gateway = Gateway::start("stdin", &[]);
    let mut child = Command::new("curl")
        .args(["--silent", "--show-error", "--location", "--upload-file", "-", "--write-out", "\n%{http_code}"])
        .arg(gateway.at("piped.txt"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"some piped bytes\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.ends_with("411"), "{text}");
    assert!(text.contains("Content-Length"), "{text}");
    assert!(gateway.stored_sha256("piped.txt").is_none(), "an object was stored");
}

#[test]
fn head_shows_length_and_type() {
    let gateway = Gateway::start("head", &[]);
    let file = scratch_dir("head-files").join("notes.txt");
    random_file(&file, 10 << 10, 1);
    let path = file.to_str().unwrap();
    curl_status(&["-L", "--fail", "-T", path, &gateway.at("notes.txt")]);
    curl_status(&["-L", "--fail", "-T", path, &gateway.at("README")]);
    curl_status(&["-L", "--fail", "-T", path, "-H", "Content-Type: image/png", &gateway.at("photo")]);

    let head = |key: &str| {
        String::from_utf8(curl(&["-L", "--fail", "--head", &gateway.at(key)]).stdout).unwrap().to_lowercase()
    };
    let notes = head("notes.txt");
    assert!(notes.contains("content-length: 10240"), "{notes}");
    assert!(notes.contains("content-type: text/plain"), "{notes}");
    assert!(head("README").contains("content-type: application/octet-stream"));
    assert!(head("photo").contains("content-type: image/png"), "an explicit upload type was replaced");
}

#[test]
fn delete_then_get_is_404_from_storage() {
    let gateway = Gateway::start("delete", &[]);
    let file = scratch_dir("delete-files").join("gone.txt");
    random_file(&file, 100, 2);
    curl_status(&["-L", "--fail", "-T", file.to_str().unwrap(), &gateway.at("gone.txt")]);
    let (status, _) = curl_status(&["-L", "-X", "DELETE", &gateway.at("gone.txt")]);
    assert_eq!(status, 204);
    let (status, body) = curl_status(&["-L", &gateway.at("gone.txt")]);
    assert_eq!(status, 404);
    assert!(body.contains("NoSuchKey"), "{body}");
}

#[test]
fn awkward_keys_round_trip() {
    // On a store process, so the key storage holds is read back with an S3 client.
    let gateway = Gateway::start_on(Store::start("keys-store"), &[]);
    let dir = scratch_dir("keys-files");
    let keys = [
        ("with%20space.txt", "with space.txt"),
        ("plus+sign.txt", "plus+sign.txt"),
        ("100%25%20sure.txt", "100% sure.txt"),
        ("hash%23tag.txt", "hash#tag.txt"),
        ("q%3Fmark%26amp%3Dx.txt", "q?mark&amp=x.txt"),
        ("caf%C3%A9/%E6%97%A5%E6%9C%AC.txt", "café/日本.txt"),
        ("emoji-%F0%9F%98%80.txt", "emoji-😀.txt"),
        ("deep/a/b/c/d/e/f/g/file.bin", "deep/a/b/c/d/e/f/g/file.bin"),
        ("lit%2520eral.txt", "lit%20eral.txt"),
    ];
    for (n, (encoded, key)) in keys.into_iter().enumerate() {
        let upload = dir.join(format!("{n}.up"));
        random_file(&upload, 1000 + n, n as u64);
        let (status, body) = curl_status(&["-L", "-T", upload.to_str().unwrap(), &gateway.at(encoded)]);
        assert_eq!(status, 200, "{key}: {body}");
        assert_eq!(gateway.stored_sha256(key), Some(sha256(&upload)), "{key} stored under another name");
        let download = dir.join(format!("{n}.down"));
        curl_status(&["-L", "--fail", "-o", download.to_str().unwrap(), &gateway.at(encoded)]);
        assert_eq!(sha256(&download), sha256(&upload), "{key}");
    }
}

#[test]
fn tampered_and_expired_urls_are_refused_by_the_store() {
    // URLs that live long enough for the tampering checks on a busy machine,
    // and, from a second gateway on the same store folder, ones that expire at once.
    let gateway = Gateway::start("tamper", &[]);
    let file = scratch_dir("tamper-files").join("secret.txt");
    random_file(&file, 64, 3);
    curl_status(&["-L", "--fail", "-T", file.to_str().unwrap(), &gateway.at("secret.txt")]);

    let url = location("GET", &gateway.at("secret.txt"));
    let flipped = if url.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{flipped}", &url[..url.len() - 1]);
    let (status, body) = curl_status(&[&tampered]);
    assert_eq!((status, body.contains("SignatureDoesNotMatch")), (403, true), "{body}");
    let other_key = url.replace("secret.txt", "other.txt");
    assert_eq!(curl_status(&[&other_key]).0, 403);
    let longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=400");
    assert_ne!(longer, url);
    assert_eq!(curl_status(&[&longer]).0, 403);
    let data_dir = gateway.data_dir.clone();
    drop(gateway);

    let short_lived = Gateway::start_in(data_dir, &["--expires", "1"]);
    let url = location("GET", &short_lived.at("secret.txt"));
    std::thread::sleep(Duration::from_millis(2100));
    let (status, body) = curl_status(&[&url]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("AccessDenied"), "{body}");
}

#[test]
fn bad_keys_get_400_with_a_reason_and_touch_nothing() {
    let gateway = Gateway::start("badkeys", &[]);
    let long = "k".repeat(1025);
    let cases = [
        ("/", "empty"),
        ("/a//b", "empty path segment"),
        ("/a/", "empty path segment"),
        ("/../escape", "`.` or `..`"),
        ("/a/%2e%2e/%2e%2e/escape", "`.` or `..`"),
        ("/..%2f..%2fescape", "`.` or `..`"),
        ("/a/./b", "`.` or `..`"),
        ("/back%5cslash", "backslash"),
        ("/nul%00", "control character"),
        ("/bad%ff", "UTF-8"),
        ("/100%", "malformed percent-escape"),
        (long.as_str(), "1025 bytes"),
    ];
    for (path, reason) in cases {
        // A GET on a folder (`/`, `/a/`) lists it; no other method takes one.
        let folder = path == "/" || path == "/a/";
        for method in ["GET", "PUT", "DELETE"].into_iter().filter(|m| !(folder && *m == "GET")) {
            let url =
                format!("{}{}", gateway.url, if path.starts_with('/') { path.to_owned() } else { format!("/{path}") });
            let (status, body) = curl_status(&["--path-as-is", "-X", method, "-L", &url]);
            assert_eq!(status, 400, "{method} {path}: {body}");
            assert!(body.contains(reason), "{method} {path}: {body}");
            assert_eq!(body.lines().count(), 1, "{body}");
        }
    }
    let outside = gateway.data_dir.parent().unwrap().join("escape");
    assert!(!outside.exists());
    for folder in ["/", "/a/"] {
        let (status, body) = curl_status(&[&format!("{}{folder}", gateway.url)]);
        assert_eq!(status, 200, "GET {folder} lists: {body}");
        assert!(body.starts_with("{\"objects\":"), "{body}");
    }
}

#[test]
fn keys_of_s3s_length_are_stored_and_longer_ones_refused() {
    let gateway = Gateway::start("longkey", &[]);
    let file = scratch_dir("longkey-files").join("f");
    random_file(&file, 10, 4);
    let (status, body) = curl_status(&["-L", "-T", file.to_str().unwrap(), &gateway.at(&"k".repeat(1024))]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(gateway.stored_sha256(&"k".repeat(1024)), Some(sha256(&file)));
    let (status, body) = curl_status(&["-L", "-T", file.to_str().unwrap(), &gateway.at(&"k".repeat(1025))]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("the limit is 1024"), "{body}");
}

#[test]
fn other_methods_get_405_with_allow() {
    let gateway = Gateway::start("methods", &[]);
    for method in ["PATCH", "POST", "PROPFIND"] {
        let output = curl(&["-i", "-X", method, &gateway.at("f.txt")]);
        let text = String::from_utf8_lossy(&output.stdout).to_lowercase();
        assert!(text.starts_with("http/1.1 405"), "{method}: {text}");
        assert!(text.contains("allow: get, head, put, delete, options"), "{text}");
    }
}

#[test]
fn an_authorization_header_does_not_break_the_redirected_request() {
    let gateway = Gateway::start("auth", &[]);
    let file = scratch_dir("auth-files").join("a.txt");
    random_file(&file, 500, 5);
    let bearer = "Authorization: Bearer some.jwt.token";
    let (status, body) = curl_status(&["-L", "-H", bearer, "-T", file.to_str().unwrap(), &gateway.at("a.txt")]);
    assert_eq!(status, 200, "{body}");
    let down = file.with_extension("down");
    let (status, _) = curl_status(&["-L", "-H", bearer, "-o", down.to_str().unwrap(), &gateway.at("a.txt")]);
    assert_eq!(status, 200);
    assert_eq!(sha256(&down), sha256(&file));
}

fn raw_exchange(gateway: &Gateway, request: &[u8]) -> String {
    let address = gateway.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request).unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn expect_100_continue_gets_the_redirect_before_any_body() {
    let gateway = Gateway::start("expect", &[]);
    let head = "PUT /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n";
    let answer = raw_exchange(&gateway, head.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 307"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
}

#[test]
fn bodies_sent_without_expect_are_read_before_the_answer() {
    let gateway = Gateway::start("drain", &[]);
    let body = vec![b'x'; 3 << 20];
    let mut request =
        format!("PUT /d.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    request.extend_from_slice(&body);
    let answer = raw_exchange(&gateway, &request);
    assert!(answer.starts_with("HTTP/1.1 307"), "{answer}");

    let file = scratch_dir("drain-files").join("d.bin");
    random_file(&file, 20 << 20, 6);
    let (status, body) = curl_status(&["-L", "-H", "Expect:", "-T", file.to_str().unwrap(), &gateway.at("d.bin")]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(gateway.stored_sha256("d.bin"), Some(sha256(&file)));
}

#[test]
fn downloads_can_name_the_saved_file() {
    let gateway = Gateway::start("download", &[]);
    let file = scratch_dir("download-files").join("r.pdf");
    random_file(&file, 100, 7);
    curl_status(&["-L", "--fail", "-T", file.to_str().unwrap(), &gateway.at("reports/q3.pdf")]);
    let headers = |query: &str| {
        let output =
            curl(&["-L", "--fail", "-D", "-", "-o", "/dev/null", &gateway.at(&format!("reports/q3.pdf{query}"))]);
        String::from_utf8(output.stdout).unwrap().to_lowercase()
    };
    assert!(headers("?download").contains("content-disposition: attachment; filename=\"q3.pdf\""));
    assert!(headers("?download=Q3%20final.pdf").contains("content-disposition: attachment; filename=\"q3 final.pdf\""));
    let unicode = headers("?download=r%C3%A9sum%C3%A9.pdf");
    assert!(unicode.contains("filename*=utf-8''r%c3%a9sum%c3%a9.pdf"), "{unicode}");
    assert!(headers("").contains("content-type: application/pdf"));
    assert!(headers("").contains("content-disposition: inline\r\n"));
}

#[test]
fn range_and_conditional_requests_reach_storage() {
    let gateway = Gateway::start("range", &[]);
    let file = scratch_dir("range-files").join("r.bin");
    random_file(&file, 1000, 8);
    curl_status(&["-L", "--fail", "-T", file.to_str().unwrap(), &gateway.at("r.bin")]);

    let output = curl(&[
        "-L",
        "-H",
        "Range: bytes=0-9",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download}",
        &gateway.at("r.bin"),
    ]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "206 10");

    let heads = String::from_utf8(curl(&["-L", "-I", &gateway.at("r.bin")]).stdout).unwrap();
    let etag = heads.lines().find_map(|l| l.strip_prefix("etag: ")).expect("an ETag").trim().to_owned();
    let (status, _) = curl_status(&["-L", "-H", &format!("If-None-Match: {etag}"), &gateway.at("r.bin")]);
    assert_eq!(status, 304);
    let (status, _) = curl_status(&["-L", "-H", "If-Match: \"nope\"", &gateway.at("r.bin")]);
    assert_eq!(status, 412);
}

/// No log level brings a presigned URL, a signature or an upload id back:
/// not `trace`, and not the directives that once did (the store's request
/// URIs at `s3s::service=debug`, the SDK's query strings at trace).
#[test]
fn redirects_are_not_cached_and_logs_hold_no_secrets() {
    let directives = [
        "trace",
        "info,s3s::service=debug",
        "info,s3s=trace,s3s::service=trace,aws_sigv4=trace",
        "trace,aws_smithy_runtime=trace,aws_smithy_runtime_api=trace,aws_sdk_s3=trace,hyper=trace",
    ];
    for directive in directives {
        let gateway = Gateway::start("logs", &["--log-level", directive]);
        let output = curl(&["-i", &gateway.at("x/y.txt?download=z.txt&X-Amz-Security-Token=abc")]);
        let text = String::from_utf8_lossy(&output.stdout).to_lowercase();
        assert!(text.starts_with("http/1.1 307"), "{text}");
        assert!(text.contains("cache-control: no-store"), "{text}");
        let url = location("GET", &gateway.at("x/y.txt"));
        let file = scratch_dir("logs-files").join("f");
        random_file(&file, 10, 9);
        curl_status(&["-L", "-T", file.to_str().unwrap(), &gateway.at("x/y.txt")]);
        curl_status(&[&url]);
        // The gateway's own calls to storage: the SDK's requests carry the upload id in their query.
        let upload = common::start_upload(&gateway, "m.bin");
        assert_eq!(
            curl_status(&["-H", "Accept: application/json", &gateway.at(&format!("m.bin?uploadId={upload}"))]).0,
            200
        );

        // Lines reach the log a moment late: wait for one asked for last.
        location("GET", &gateway.at("zz-last"));
        assert!(gateway.server.logged("key=\"zz-last\"", Duration::from_secs(60)), "{}", gateway.logs());
        let logs = gateway.logs();
        assert!(logs.contains("operation=\"GetObject\""), "{logs}");
        for secret in ["X-Amz-Signature", "X-Amz-Credential", "Security-Token=abc", &url[url.len() - 64..], &upload] {
            assert!(!logs.contains(secret), "at {directive}, the log shows {secret}");
        }
    }
}

#[test]
fn the_store_url_setting_names_the_host_clients_use() {
    let (gateway, store_url) = with_a_free_port(|port| {
        let store_url = format!("http://localhost:{port}");
        let store_listen = format!("127.0.0.1:{port}");
        Gateway::try_start("storeurl", &["--store-listen", &store_listen, "--store-url", &store_url])
            .map(|gateway| (gateway, store_url))
    });
    let file = scratch_dir("storeurl-files").join("f.txt");
    random_file(&file, 10, 10);
    assert!(location("PUT", &gateway.at("f.txt")).starts_with(&format!("{store_url}/presign-gateway/f.txt?")));
    let (status, body) = curl_status(&["-L", "-T", file.to_str().unwrap(), &gateway.at("f.txt")]);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn shutdown_finishes_uploads_in_flight() {
    let mut gateway = Gateway::start("shutdown", &[]);
    let file = scratch_dir("shutdown-files").join("slow.bin");
    random_file(&file, 8 << 20, 11);
    let upload = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--location", "--limit-rate", "4M", "--upload-file"])
        .arg(&file)
        .arg(gateway.at("slow.bin"))
        .spawn()
        .unwrap();
    let tmp = gateway.store_dir().join("tmp");
    wait_until("the upload's body reaches the store", || {
        std::fs::read_dir(&tmp).unwrap().flatten().any(|f| f.metadata().is_ok_and(|m| m.len() > 0))
    });
    gateway.server.terminate();
    let status = upload.wait_with_output().unwrap().status;
    assert!(status.success(), "the upload in flight was cut off");
    let exit = gateway.server.wait(Duration::from_secs(20)).expect("the gateway did not stop");
    assert!(exit.success(), "{exit:?}");
    let leftovers: Vec<_> = std::fs::read_dir(gateway.store_dir().join("tmp")).unwrap().flatten().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let reopened = Gateway::start_in(gateway.data_dir.clone(), &[]);
    assert_eq!(reopened.stored_sha256("slow.bin"), Some(sha256(&file)));
}

#[test]
fn an_upload_cut_off_half_way_leaves_no_object() {
    let gateway = Gateway::start("cutoff", &[]);
    let url = location("PUT", &gateway.at("half.bin"));
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let path = &url[url.find(&authority).unwrap() + authority.len()..];
    let mut stream = TcpStream::connect(&authority).unwrap();
    write!(stream, "PUT {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 1000000\r\n\r\n").unwrap();
    stream.write_all(&vec![b'h'; 400_000]).unwrap();
    drop(stream);
    std::thread::sleep(Duration::from_millis(500));
    assert!(gateway.stored_sha256("half.bin").is_none(), "a half-written object is visible");
}

/// `?presign` sizes an upload by `Upload-Length` alone: the `Content-Length:
/// 0` that front doors add to a bodiless GET, and that `fetch` sends with a
/// bodiless PUT, must not sign an upload that only takes an empty body.
#[test]
fn presigned_upload_urls_asked_without_a_size_take_any_size() {
    let gateway = Gateway::start("presign-size", &[]);
    let put_to = |answer: &str, body: &str| -> u16 {
        let signed: serde_json::Value = serde_json::from_str(answer).unwrap_or_else(|_| panic!("{answer}"));
        assert_eq!(signed["headers"].get("content-length"), None, "{answer}");
        let url = signed["url"].as_str().unwrap();
        curl_status(&["-X", "PUT", "--data-binary", body, "-o", "/dev/null", url]).0
    };
    let (status, answer) = curl_status(&["-H", "Content-Length: 0", &gateway.at("get.txt?presign=PUT")]);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(put_to(&answer, "five!"), 200);
    let (status, answer) = curl_status(&["-X", "PUT", "-H", "Content-Length: 0", &gateway.at("put.txt?presign")]);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(put_to(&answer, "seven!!"), 200);
    assert_eq!(curl_status(&["-L", &gateway.at("put.txt")]), (200, "seven!!".to_owned()));

    let upload = common::start_upload(&gateway, "parts.bin");
    let part = gateway.at(&format!("parts.bin?partNumber=1&uploadId={upload}&presign=PUT"));
    let (status, answer) = curl_status(&["-H", "Content-Length: 0", &part]);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(put_to(&answer, "a part"), 200);

    // Under a size limit the size must be declared, and `Upload-Length: 0` is an empty file.
    let limited = Gateway::start("presign-size-limited", &["--max-object-size", "100"]);
    let (status, answer) = curl_status(&["-H", "Content-Length: 0", &limited.at("e.txt?presign=PUT")]);
    assert_eq!(status, 411, "{answer}");
    let (status, answer) =
        curl_status(&["-H", "Content-Length: 0", "-H", "Upload-Length: 0", &limited.at("e.txt?presign=PUT")]);
    assert_eq!(status, 200, "{answer}");
    let signed: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(signed["headers"]["content-length"], "0", "{answer}");
    let url = signed["url"].as_str().unwrap();
    assert_eq!(curl_status(&["-X", "PUT", "-H", "Content-Length: 0", "-o", "/dev/null", url]).0, 200);
    assert_eq!(curl_status(&["-X", "PUT", "--data-binary", "x", "-o", "/dev/null", url]).0, 403);
}
