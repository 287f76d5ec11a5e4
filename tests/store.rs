//! The embedded store keeps S3's promises, tried as an attacker and as an
//! unlucky user would, through the real binary and curl: a refused upload
//! changes nothing, parts are checked like objects, conditional writes are
//! atomic, completion works on a snapshot of the parts, keys take 1024
//! bytes and may be a file and a folder at once.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Gateway, curl, curl_status, random_file, scratch_dir, sha256, start_upload, wait_until};
use md5::{Digest, Md5};

/// `curl -L` through the gateway with `args`; (status, body).
fn call(args: &[&str], url: &str) -> (u16, String) {
    let mut all = vec!["-L"];
    all.extend_from_slice(args);
    all.push(url);
    curl_status(&all)
}

fn put(gateway: &Gateway, key: &str, file: &Path, headers: &[&str]) -> (u16, String) {
    let mut args = vec!["-T", file.to_str().unwrap()];
    for header in headers {
        args.extend(["-H", header]);
    }
    call(&args, &gateway.at(key))
}

/// The object's bytes, downloaded through the gateway, and its ETag.
fn get(gateway: &Gateway, key: &str, into: &Path) -> (u16, String) {
    let output = curl(&["-L", "-D", "-", "-o", into.to_str().unwrap(), "-w", "%{http_code}", &gateway.at(key)]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let etag = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("etag: "))
        .map(|e| e.trim().trim_matches('"').to_owned())
        .unwrap_or_default();
    let status = text.trim().rsplit('\n').next().and_then(|l| l.parse().ok()).unwrap_or(0);
    (status, etag)
}

fn md5_hex(file: &Path) -> String {
    hex::encode(Md5::digest(std::fs::read(file).unwrap()))
}

fn md5_b64(file: &Path) -> String {
    STANDARD.encode(Md5::digest(std::fs::read(file).unwrap()))
}

fn put_part(gateway: &Gateway, key: &str, upload: &str, number: u16, file: &Path, headers: &[&str]) -> (u16, String) {
    put(gateway, &format!("{key}?partNumber={number}&uploadId={upload}"), file, headers)
}

fn complete(gateway: &Gateway, key: &str, upload: &str, parts: &[(u16, String)]) -> (u16, String) {
    let mut document = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        let _ = write!(document, "<Part><PartNumber>{n}</PartNumber><ETag>\"{etag}\"</ETag></Part>");
    }
    document.push_str("</CompleteMultipartUpload>");
    curl_status(&["-X", "POST", "-d", &document, &gateway.at(&format!("{key}?uploadId={upload}"))])
}

fn files(name: &str, sizes: &[usize]) -> (PathBuf, Vec<PathBuf>) {
    let dir = scratch_dir(name);
    let made = sizes
        .iter()
        .enumerate()
        .map(|(i, size)| {
            let path = dir.join(format!("f{i}"));
            random_file(&path, *size, 1001 + 2 * i as u64);
            path
        })
        .collect();
    (dir, made)
}

#[test]
fn a_refused_upload_leaves_the_object_as_it_was() {
    let gateway = Gateway::start("refused", &[]);
    let (dir, made) = files("refused-files", &[3000, 5000]);
    let (old, new) = (&made[0], &made[1]);
    assert_eq!(put(&gateway, "doc.bin", old, &[]).0, 200);

    let wrong_md5 = format!("Content-MD5: {}", md5_b64(old));
    let (status, body) = put(&gateway, "doc.bin", new, &[&wrong_md5]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("BadDigest"), "{body}");
    let wrong_sha = format!("x-amz-checksum-sha256: {}", STANDARD.encode([7u8; 32]));
    let (status, body) = put(&gateway, "doc.bin", new, &[&wrong_sha]);
    assert_eq!(status, 400, "{body}");
    let wrong_crc = format!("x-amz-checksum-crc64nvme: {}", STANDARD.encode([7u8; 8]));
    let (status, body) = put(&gateway, "doc.bin", new, &[&wrong_crc]);
    assert_eq!(status, 400, "{body}");

    let down = dir.join("down");
    let (status, etag) = get(&gateway, "doc.bin", &down);
    assert_eq!(status, 200);
    assert_eq!(sha256(&down), sha256(old), "a refused upload replaced the object");
    assert_eq!(etag, md5_hex(old));
}

#[test]
fn upload_part_checks_its_digests_like_a_put() {
    let gateway = Gateway::start("part-digests", &[]);
    let (_dir, made) = files("part-digests-files", &[6 << 20, 100]);
    let upload = start_upload(&gateway, "p.bin");
    let wrong_md5 = format!("Content-MD5: {}", md5_b64(&made[1]));
    let (status, body) = put_part(&gateway, "p.bin", &upload, 1, &made[0], &[&wrong_md5]);
    assert_eq!(status, 400, "a corrupted part was stored: {body}");
    assert!(body.contains("BadDigest"), "{body}");
    let wrong_crc = format!("x-amz-checksum-crc64nvme: {}", STANDARD.encode([7u8; 8]));
    let (status, body) = put_part(&gateway, "p.bin", &upload, 1, &made[0], &[&wrong_crc]);
    assert_eq!(status, 400, "a corrupted part was stored: {body}");
    let (status, listed) =
        curl_status(&["-H", "Accept: application/json", &gateway.at(&format!("p.bin?uploadId={upload}"))]);
    assert_eq!(status, 200);
    assert!(listed.contains("\"parts\":[]"), "{listed}");
}

/// Runs `count` curl processes at once, each with `args`, and returns their statuses.
fn at_once(count: usize, args: &[String]) -> Vec<u16> {
    let children: Vec<_> = (0..count)
        .map(|_| {
            Command::new("curl")
                .args(["--silent", "-o", "/dev/null", "-w", "%{http_code}"])
                .args(args)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn if_none_match_lets_exactly_one_of_many_writers_create() {
    let gateway = Gateway::start("create-once", &[]);
    let (_dir, made) = files("create-once-files", &[8 << 20]);
    let args: Vec<String> = ["-L", "-T", made[0].to_str().unwrap(), "-H", "If-None-Match: *", &gateway.at("once.bin")]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let statuses = at_once(8, &args);
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
}

#[test]
fn a_part_uploaded_again_during_completion_cannot_pass_the_size_limit() {
    let gateway = Gateway::start("snapshot", &["--max-object-size", "10MiB"]);
    let (dir, made) = files("snapshot-files", &[8 << 20, 1 << 20, 3 << 20]);
    let (first, last, bigger) = (&made[0], &made[1], &made[2]);
    for attempt in 0..16 {
        let key = format!("s{attempt}.bin");
        let upload = start_upload(&gateway, &key);
        let one = put_part(&gateway, &key, &upload, 1, first, &[]);
        let two = put_part(&gateway, &key, &upload, 2, last, &[]);
        assert_eq!((one.0, two.0), (200, 200));
        let parts = [(1, md5_hex(first)), (2, md5_hex(last))];
        // The last part is sent again and again, bigger, while the completion runs.
        // Each part alone is within 10 MiB, so the gateway lets it through.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let (url, bigger, done) =
                (gateway.at(&format!("{key}?partNumber=2&uploadId={upload}")), bigger.clone(), done.clone());
            thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    curl(&["-L", "-T", bigger.to_str().unwrap(), &url]);
                }
            })
        };
        thread::sleep(std::time::Duration::from_millis(12 + 2 * attempt));
        let (status, body) = complete(&gateway, &key, &upload, &parts);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        swapper.join().unwrap();
        let down = dir.join(format!("down{attempt}"));
        let (got, etag) = get(&gateway, &key, &down);
        if status != 200 {
            assert_eq!(got, 404, "a refused completion left an object: {body}");
            continue;
        }
        let size = std::fs::metadata(&down).unwrap().len();
        assert!(size <= 10 << 20, "attempt {attempt}: a {size}-byte object passed the 10 MiB limit");
        let mut expected = std::fs::read(first).unwrap();
        expected.extend(std::fs::read(last).unwrap());
        assert_eq!(std::fs::read(&down).unwrap(), expected, "attempt {attempt}: not the parts completed");
        let md5s: Vec<u8> = [first, last].iter().flat_map(|f| Md5::digest(std::fs::read(f).unwrap())).collect();
        assert_eq!(etag, format!("{}-2", hex::encode(Md5::digest(&md5s))));
    }
}

#[test]
fn keys_of_1024_bytes_work_for_puts_and_multipart() {
    let gateway = Gateway::start("long-keys", &[]);
    let (dir, made) = files("long-keys-files", &[100, 6 << 20]);
    // 1024 bytes of UTF-8, with folders, spaces and a four-byte character.
    let mut key = String::from("deep/folder with space/\u{1F600}/");
    while key.len() < 1024 {
        key.push(if key.len() % 50 == 0 { '/' } else { 'k' });
    }
    key.truncate(1024);
    assert_eq!(key.len(), 1024);
    let encoded =
        percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC).to_string().replace("%2F", "/");
    let (status, body) = put(&gateway, &encoded, &made[0], &[]);
    assert_eq!(status, 200, "{body}");
    let down = dir.join("down");
    assert_eq!(get(&gateway, &encoded, &down).0, 200);
    assert_eq!(sha256(&down), sha256(&made[0]));

    let multipart = format!("{}m", &encoded[..encoded.len() - 1]);
    let upload = start_upload(&gateway, &multipart);
    let (status, etag) = {
        let (status, _) = put_part(&gateway, &multipart, &upload, 1, &made[1], &[]);
        (status, md5_hex(&made[1]))
    };
    assert_eq!(status, 200);
    let (status, body) = complete(&gateway, &multipart, &upload, &[(1, etag)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&gateway, &multipart, &down).0, 200);
    assert_eq!(sha256(&down), sha256(&made[1]));
    let (status, _) = call(&["-X", "DELETE"], &gateway.at(&encoded));
    assert_eq!(status, 204);
    assert_eq!(get(&gateway, &encoded, &down).0, 404);
}

#[test]
fn a_key_may_be_a_file_and_a_folder_at_once() {
    let gateway = Gateway::start("file-and-folder", &[]);
    let (dir, made) = files("file-and-folder-files", &[10, 20, 30, 40, 6 << 20]);
    let down = dir.join("down");
    for (key, file) in [("a", &made[0]), ("a/b", &made[1]), ("f/g", &made[2]), ("f", &made[3])] {
        let (status, body) = put(&gateway, key, file, &[]);
        assert_eq!(status, 200, "{key}: {body}");
    }
    for (key, file) in [("a", &made[0]), ("a/b", &made[1]), ("f/g", &made[2]), ("f", &made[3])] {
        assert_eq!(get(&gateway, key, &down).0, 200, "{key}");
        assert_eq!(sha256(&down), sha256(file), "{key}");
    }
    // A completion into a key that is also a folder.
    let upload = start_upload(&gateway, "a/b/c");
    assert_eq!(put_part(&gateway, "a/b/c", &upload, 1, &made[4], &[]).0, 200);
    let (status, body) = complete(&gateway, "a/b/c", &upload, &[(1, md5_hex(&made[4]))]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&gateway, "a/b/c", &down).0, 200);
    assert_eq!(sha256(&down), sha256(&made[4]));
    assert_eq!(get(&gateway, "a/b", &down).0, 200);
    assert_eq!(sha256(&down), sha256(&made[1]));
    // Deleting the file leaves the folder's objects.
    assert_eq!(call(&["-X", "DELETE"], &gateway.at("a")).0, 204);
    assert_eq!(get(&gateway, "a", &down).0, 404);
    assert_eq!(get(&gateway, "a/b", &down).0, 200);
}

fn tmp_files(gateway: &Gateway) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(gateway.store_dir().join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| (e.path(), e.metadata().map_or(0, |m| m.len())))
        .collect()
}

fn blob_count(gateway: &Gateway) -> usize {
    std::fs::read_dir(gateway.store_dir().join("data"))
        .unwrap()
        .flatten()
        .map(|folder| std::fs::read_dir(folder.path()).unwrap().count())
        .sum()
}

#[test]
fn a_server_killed_mid_upload_keeps_the_old_object_and_shows_no_partial() {
    let data_dir = scratch_dir("crash").join("data");
    let (dir, made) = files("crash-files", &[5000, 16 << 20]);
    let (old, new) = (&made[0], &made[1]);
    let mut gateway = Gateway::start_in(data_dir.clone(), &[]);
    assert_eq!(put(&gateway, "doc.bin", old, &[]).0, 200);

    // A slow upload of a new version, killed with the server half-way.
    let upload = Command::new("curl")
        .args(["--silent", "-L", "--limit-rate", "2M", "-T", new.to_str().unwrap(), "-o", "/dev/null"])
        .arg(gateway.at("doc.bin"))
        .spawn()
        .unwrap();
    wait_until("part of the upload is on disk", || tmp_files(&gateway).iter().any(|(_, size)| *size > 1 << 20));
    gateway.server.kill();
    upload.wait_with_output().unwrap();
    let partial = tmp_files(&gateway);
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert!(partial[0].1 < 16 << 20, "the upload finished before the kill: {partial:?}");

    let restarted = Gateway::start_in(data_dir, &[]);
    let down = dir.join("down");
    let (status, etag) = get(&restarted, "doc.bin", &down);
    assert_eq!(status, 200);
    assert_eq!(sha256(&down), sha256(old), "the old object is not intact");
    assert_eq!(etag, md5_hex(old));
    assert!(tmp_files(&restarted).is_empty(), "the partial upload is still on disk");
    assert_eq!(blob_count(&restarted), 1, "only the old object's bytes remain");
}

#[test]
fn stale_multipart_uploads_are_aborted_by_housekeeping() {
    let gateway = Gateway::start("housekeeping", &["--abort-incomplete-uploads-after", "1s"]);
    let (_dir, made) = files("housekeeping-files", &[1000]);
    let upload = start_upload(&gateway, "stale.bin");
    assert_eq!(put_part(&gateway, "stale.bin", &upload, 1, &made[0], &[]).0, 200);
    assert_eq!(blob_count(&gateway), 1);
    let parts = gateway.at(&format!("stale.bin?uploadId={upload}"));
    wait_until("the stale upload is aborted", || curl_status(&[&parts]).0 == 404);
    // The round logs once it has finished, so after the log its parts are gone.
    assert!(gateway.server.logged("aborted_uploads=1", Duration::from_secs(60)), "{}", gateway.logs());
    assert_eq!(blob_count(&gateway), 0, "the aborted upload's parts are still on disk");
}

#[test]
fn objects_of_the_old_layout_are_moved_in_on_start() {
    let data_dir = scratch_dir("migrate").join("data");
    let (dir, made) = files("migrate-files", &[3000, 10]);
    let old = data_dir.join("presign-gateway");
    std::fs::create_dir_all(old.join("docs")).unwrap();
    std::fs::copy(&made[0], old.join("docs/readme")).unwrap();
    std::fs::copy(&made[1], old.join("a")).unwrap();
    let b64 = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let named = |key: &str, suffix: &str| {
        data_dir.join(format!(".bucket-{}.object-{}{suffix}", b64("presign-gateway"), b64(key)))
    };
    std::fs::write(
        named("docs/readme", ".metadata.json"),
        r#"{"content_type":"text/x-old","user_metadata":{"sha256":"ab"}}"#,
    )
    .unwrap();
    std::fs::write(named("docs/readme", ".internal.json"), format!(r#"{{"e_tag":"{}"}}"#, md5_hex(&made[0]))).unwrap();

    let gateway = Gateway::start_in(data_dir.clone(), &[]);
    let down = dir.join("down");
    let (status, etag) = get(&gateway, "docs/readme", &down);
    assert_eq!((status, etag), (200, md5_hex(&made[0])));
    assert_eq!(sha256(&down), sha256(&made[0]));
    let head = String::from_utf8(curl(&["-sIL", &gateway.at("docs/readme")]).stdout).unwrap();
    assert!(head.contains("content-type: text/x-old"), "{head}");
    assert!(head.contains("x-amz-meta-sha256: ab"), "{head}");
    assert_eq!(get(&gateway, "a", &down).0, 200);
    assert_eq!(sha256(&down), sha256(&made[1]));
    assert!(!old.exists(), "the old layout's folder is still there");
    assert!(!named("docs/readme", ".metadata.json").exists());
    // `a` can now be a folder as well.
    assert_eq!(put(&gateway, "a/b", &made[1], &[]).0, 200);
}

/// S3's base64 CRC64NVME of `bytes`.
fn crc(bytes: &[u8]) -> String {
    STANDARD.encode(crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, bytes).to_be_bytes())
}

fn head_with_checksum(gateway: &Gateway, key: &str, extra: &[&str]) -> String {
    let mut args = vec!["-sIL", "-H", "x-amz-checksum-mode: ENABLED"];
    args.extend_from_slice(extra);
    args.push(Box::leak(gateway.at(key).into_boxed_str()));
    String::from_utf8(curl(&args).stdout).unwrap().to_lowercase()
}

#[test]
fn checksums_are_checked_combined_and_reported_as_s3_does() {
    let gateway = Gateway::start("checksums", &[]);
    let (_dir, made) = files("checksums-files", &[6 << 20, 1 << 20]);
    let (one, two) = (std::fs::read(&made[0]).unwrap(), std::fs::read(&made[1]).unwrap());

    // A single PUT signs its checksum in; HEAD and GET in checksum mode report it.
    let header = format!("x-amz-checksum-crc64nvme: {}", crc(&one));
    assert_eq!(put(&gateway, "single.bin", &made[0], &[&header]).0, 200);
    let head = head_with_checksum(&gateway, "single.bin", &[]);
    assert!(head.contains(&format!("x-amz-checksum-crc64nvme: {}", crc(&one).to_lowercase())), "{head}");
    assert!(head.contains("x-amz-checksum-type: full_object"), "{head}");
    let ranged = head_with_checksum(&gateway, "single.bin", &["-X", "GET", "-r", "0-9"]);
    assert!(!ranged.contains("x-amz-checksum-crc64nvme:"), "a range carries no whole-object checksum: {ranged}");
    let plain = String::from_utf8(curl(&["-sIL", &gateway.at("single.bin")]).stdout).unwrap().to_lowercase();
    assert!(!plain.contains("x-amz-checksum-crc64nvme:"), "only in checksum mode: {plain}");

    // Multipart with a full-object CRC64NVME: each part checked, the whole combined and checked.
    let (status, body) = curl_status(&[
        "-X",
        "POST",
        "-H",
        "Accept: application/json",
        "-H",
        "x-amz-checksum-algorithm: CRC64NVME",
        "-H",
        "x-amz-checksum-type: FULL_OBJECT",
        &gateway.at("whole.bin?uploads"),
    ]);
    assert_eq!(status, 200, "{body}");
    let upload = serde_json::from_str::<serde_json::Value>(&body).unwrap()["upload_id"].as_str().unwrap().to_owned();
    for (number, (file, bytes)) in [(1, (&made[0], &one)), (2, (&made[1], &two))] {
        let header = format!("x-amz-checksum-crc64nvme: {}", crc(bytes));
        let (status, body) = put_part(&gateway, "whole.bin", &upload, number, file, &[&header]);
        assert_eq!(status, 200, "{body}");
    }
    let (_, listed) =
        curl_status(&["-H", "Accept: application/json", &gateway.at(&format!("whole.bin?uploadId={upload}"))]);
    assert!(listed.contains(&format!("\"checksum_crc64nvme\":\"{}\"", crc(&two))), "{listed}");
    let parts = serde_json::json!({"parts": [
        {"part_number": 1, "etag": hex::encode(Md5::digest(&one)), "checksum_crc64nvme": crc(&one)},
        {"part_number": 2, "etag": hex::encode(Md5::digest(&two)), "checksum_crc64nvme": crc(&two)},
    ]})
    .to_string();
    let whole = crc(&[one.clone(), two.clone()].concat());
    let url = gateway.at(&format!("whole.bin?uploadId={upload}"));
    let complete = |value: &str| {
        let header = format!("x-amz-checksum-crc64nvme: {value}");
        let json = ["-H", "Content-Type: application/json", "-H", "Accept: application/json"];
        curl_status(&[json[0], json[1], json[2], json[3], "-X", "POST", "-H", &header, "-d", &parts, &url])
    };
    let (status, body) = complete(&crc(b"not the object"));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("BadDigest"), "{body}");
    let (status, body) = complete(&whole);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("\"checksum_crc64nvme\":\"{whole}\"")), "{body}");
    assert!(body.contains("\"checksum_type\":\"FULL_OBJECT\""), "{body}");
    let head = head_with_checksum(&gateway, "whole.bin", &[]);
    assert!(head.contains(&format!("x-amz-checksum-crc64nvme: {}", whole.to_lowercase())), "{head}");
    assert!(head.contains("x-amz-checksum-type: full_object"), "{head}");
}

#[test]
fn if_match_replaces_only_the_version_it_names() {
    let gateway = Gateway::start("if-match", &[]);
    let (_dir, made) = files("if-match-files", &[1 << 20; 9]);
    assert_eq!(put(&gateway, "cas.bin", &made[0], &[]).0, 200);
    let first = format!("If-Match: \"{}\"", md5_hex(&made[0]));
    // Eight writers, each with other bytes, swap from the same version: one wins.
    let children: Vec<_> = made[1..]
        .iter()
        .map(|file| {
            Command::new("curl")
                .args(["--silent", "-L", "-o", "/dev/null", "-w", "%{http_code}", "-T", file.to_str().unwrap()])
                .args(["-H", &first, &gateway.at("cas.bin")])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let statuses: Vec<u16> = children
        .into_iter()
        .map(|c| String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap().parse().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
    assert_eq!(put(&gateway, "cas.bin", &made[0], &[&first]).0, 412, "a stale If-Match was accepted");
    assert_eq!(put(&gateway, "absent.bin", &made[0], &[&first]).0, 404);

    // A completion takes If-Match too.
    let winner = statuses.iter().position(|s| *s == 200).unwrap() + 1;
    let upload = start_upload(&gateway, "cas.bin");
    assert_eq!(put_part(&gateway, "cas.bin", &upload, 1, &made[0], &[]).0, 200);
    let document = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"{}\"</ETag></Part></CompleteMultipartUpload>",
        md5_hex(&made[0])
    );
    let url = gateway.at(&format!("cas.bin?uploadId={upload}"));
    let stale = curl_status(&["-X", "POST", "-H", &first, "-d", &document, &url]);
    assert_eq!(stale.0, 412, "{}", stale.1);
    let current = format!("If-Match: \"{}\"", md5_hex(&made[winner]));
    let (status, body) = curl_status(&["-X", "POST", "-H", &current, "-d", &document, &url]);
    assert_eq!(status, 200, "{body}");
}
