//! Headers slipped past a presigned URL's signature: metadata the gateway
//! never checked, a disposition or caching an uploader chose for the owner's
//! downloads, and (on a store that signs strictly, as Garage does) any
//! `x-amz-*` header left unsigned.

use serde_json::Value;

use crate::common::{Gateway, curl, curl_status};

/// `GET KEY?presign=METHOD` with `headers`: the URL and its signed headers
/// as `Name: value` lines.
fn presigned(gateway: &Gateway, key: &str, headers: &[&str]) -> (String, Vec<String>) {
    let url = gateway.at(key);
    let mut args: Vec<&str> = headers.iter().flat_map(|header| ["-H", *header]).collect();
    args.push(&url);
    let (status, body) = curl_status(&args);
    assert_eq!(status, 200, "{body}");
    let presigned: Value = serde_json::from_str(&body).unwrap();
    let signed = presigned["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| format!("{name}: {}", value.as_str().unwrap()))
        .collect();
    (presigned["url"].as_str().unwrap().to_owned(), signed)
}

/// curl `args`, the `signed` headers and `extra` ones, to `url`: (status, body).
fn send_presigned(args: &[&str], url: &str, signed: &[String], extra: &[&str]) -> (u16, String) {
    let mut all = args.to_vec();
    for header in signed.iter().map(String::as_str).chain(extra.iter().copied()) {
        all.extend(["-H", header]);
    }
    all.push(url);
    curl_status(&all)
}

#[test]
fn storage_refuses_headers_the_url_did_not_sign() {
    let gateway = Gateway::start("unsigned-headers", &[]);
    let (url, signed) = presigned(&gateway, "u.txt?presign=PUT", &["Upload-Length: 3", "x-amz-meta-title: t"]);
    let put = |extra: &[&str]| send_presigned(&["-X", "PUT", "--data-binary", "abc"], &url, &signed, extra);
    // Metadata the gateway never checked (a forged SHA-256 the CLI would trust, or kilobytes of it).
    for extra in ["x-amz-meta-sha256: 0000", "x-amz-meta-big: 1", "x-amz-tagging: a=b"] {
        let (status, body) = put(&[extra]);
        assert_eq!(status, 403, "{extra}: {body}");
        assert!(body.contains("HeadersNotSigned"), "{body}");
        assert_eq!(curl_status(&["-I", "-L", &gateway.at("u.txt")]).0, 404, "{extra} created the object");
    }
    // Exactly as signed, it goes through.
    assert_eq!(put(&[]).0, 200);
    let (_, headers) = curl_status(&["-I", "-L", &gateway.at("u.txt")]);
    assert!(headers.contains("x-amz-meta-title: t"), "{headers}");
}

const EXE: &str = "Content-Disposition: attachment; filename=\"Invoice-2026.pdf.exe\"";
const FOREVER: &str = "Cache-Control: public, max-age=31536000, immutable";

/// The holder of an upload URL cannot choose how the owner's downloads are
/// saved or cached: unsigned, storage refuses those headers; signed by the
/// gateway (the uploader asked it), they are kept, but every download pins
/// its own `Content-Disposition` and `Cache-Control`. The store's answers
/// are never sniffed.
#[test]
fn uploaders_cannot_choose_how_downloads_are_saved_or_cached() {
    let gateway = Gateway::start("stored-headers", &[]);
    let (url, signed) = presigned(&gateway, "report.pdf?presign=PUT", &["Upload-Length: 3"]);
    for extra in [EXE, FOREVER, "Expires: Thu, 01 Jan 2037 00:00:00 GMT"] {
        let (status, body) = send_presigned(&["-X", "PUT", "--data-binary", "abc"], &url, &signed, &[extra]);
        assert_eq!(status, 403, "{extra}: {body}");
        assert!(body.contains("<Code>AccessDenied</Code>") && body.contains("HeadersNotSigned"), "{body}");
        let name = extra.split(':').next().unwrap().to_ascii_lowercase();
        assert!(body.contains(&format!("<HeadersNotSigned>{name}</HeadersNotSigned>")), "{body}");
    }
    assert_eq!(curl_status(&["-I", "-L", &gateway.at("report.pdf")]).0, 404);
    // Sent to the gateway, they are signed in, on the JSON face as on the 307.
    let (url, signed) = presigned(&gateway, "report.pdf?presign=PUT", &["Upload-Length: 3", EXE, FOREVER]);
    let exe = "content-disposition: attachment; filename=\"Invoice-2026.pdf.exe\"";
    assert!(signed.iter().any(|header| header == exe), "{signed:?}");
    assert_eq!(send_presigned(&["-X", "PUT", "--data-binary", "abc"], &url, &signed, &[]).0, 200);
    let upload = ["-L", "-X", "PUT", "-H", EXE, "-H", FOREVER, "--data-binary", "abc", &gateway.at("page.html")];
    assert_eq!(curl_status(&upload).0, 200);
    // Downloads say how they are saved and cached, whatever was stored.
    let pinned = [
        ("report.pdf", "content-disposition: inline\r\n"),
        ("page.html", "content-disposition: attachment; filename=\"page.html\"\r\n"),
    ];
    for (key, disposition) in pinned {
        for method in ["-I", "-i"] {
            let output = curl(&["-sL", method, &gateway.at(key)]);
            let reply = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
            let stored = reply.rsplit("http/1.1 ").next().unwrap();
            assert!(stored.starts_with("200"), "{key} {method}: {reply}");
            assert!(stored.contains(disposition), "{key} {method}: {stored}");
            assert!(stored.contains("cache-control: private, no-cache\r\n"), "{key} {method}: {stored}");
            assert!(!stored.contains("exe") && !stored.contains("immutable"), "{key} {method}: {stored}");
            assert!(stored.contains("x-content-type-options: nosniff"), "{key} {method}: {stored}");
        }
    }
    // Values no header should carry are refused with the reason.
    let long = format!("Cache-Control: {}", "a".repeat(1025));
    for (bad, reason) in
        [("Content-Disposition: a\tb", "control characters"), (long.as_str(), "longer than 1024 bytes")]
    {
        let (status, body) = curl_status(&["-X", "PUT", "-H", bad, "--data-binary", "abc", &gateway.at("x.bin")]);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(reason), "{body}");
    }
}

/// With `--strict-signing` the store refuses any `x-amz-*` header a
/// presigned request carries unsigned, as Garage does; a download that asks
/// the gateway for checksums gets `x-amz-checksum-mode` signed in.
#[test]
fn a_strict_store_wants_every_amz_header_signed() {
    let gateway = Gateway::start("strict-signing", &["--strict-signing"]);
    let put = ["-L", "-X", "PUT", "--data-binary", "abc", &gateway.at("s.txt")];
    assert_eq!(curl_status(&put).0, 200);
    let mode = "x-amz-checksum-mode: ENABLED";
    let (url, signed) = presigned(&gateway, "s.txt?presign=GET", &[]);
    let (status, body) = send_presigned(&["-I"], &url, &signed, &[mode]);
    assert_eq!(status, 400, "{body}");
    let (status, body) = send_presigned(&[], &url, &signed, &[mode]);
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidRequest</Code><Message>Header x-amz-checksum-mode should be signed"), "{body}");
    let (url, signed) = presigned(&gateway, "s.txt?presign=GET", &[mode]);
    assert_eq!(send_presigned(&[], &url, &signed, &[]), (200, "abc".to_owned()));
    // As S3 signs, the store takes the mode unsigned.
    let lenient = Gateway::start("lenient-signing", &[]);
    assert_eq!(curl_status(&["-L", "-X", "PUT", "--data-binary", "abc", &lenient.at("s.txt")]).0, 200);
    let (url, signed) = presigned(&lenient, "s.txt?presign=GET", &[]);
    assert_eq!(send_presigned(&[], &url, &signed, &[mode]), (200, "abc".to_owned()));
}
