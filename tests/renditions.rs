//! Renditions through the real binary: an image uploaded with curl gets its
//! presets, upright (EXIF orientation applied), without EXIF or GPS, served
//! by `?rendition=` and listed with `&renditions=`; an overwrite renders
//! again and retires the old renditions; a deletion takes them along; a
//! decompression bomb and a text file named `.jpg` fail with a reason and
//! bounded memory; tenants reach only their own renditions, and a share
//! link only its own file's.

mod common;

use std::time::{Duration, Instant};

use common::images::{decode_jpeg, exif_with_gps, halves, jpeg, near, png_claiming, rgb_at};
use common::{Gateway, curl_status, scratch_dir};
use serde_json::{Value, json};

const RED: [u8; 3] = [230, 20, 20];
const BLUE: [u8; 3] = [20, 20, 230];
const JWT_SECRET: &str = "renditions test HS256 secret, 32 bytes or more";
const SHARE_KEY: &str = "k1:renditions-test-share-key-0123456789abcdef";

fn token(sub: &str) -> String {
    common::hs256_token(JWT_SECRET, sub)
}

/// `curl` (not following redirects) as `sub`, or anonymous.
fn get(sub: Option<&str>, url: &str, args: &[&str]) -> (u16, String) {
    let auth = sub.map(|sub| format!("Authorization: Bearer {}", token(sub)));
    let mut all = vec!["--path-as-is"];
    if let Some(auth) = &auth {
        all.extend(["-H", auth.as_str()]);
    }
    all.extend_from_slice(args);
    all.push(url);
    curl_status(&all)
}

fn upload(gateway: &Gateway, sub: Option<&str>, key: &str, bytes: &[u8]) {
    let file = scratch_dir(&format!("renditions-upload-{}", key.replace('/', "-"))).join("f");
    std::fs::write(&file, bytes).unwrap();
    let (status, body) = get(sub, &gateway.at(key), &["-L", "--upload-file", file.to_str().unwrap()]);
    assert_eq!(status, 200, "upload {key}: {body}");
}

/// The record of `key` once its status is not `processing` (and, if given, its size is `size`).
fn settled(gateway: &Gateway, sub: Option<&str>, key: &str, size: Option<u64>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(sub, &gateway.at(&format!("{key}?status")), &[]);
        if status == 200 {
            let record: Value = serde_json::from_str(&body).unwrap();
            let done = record["status"] != "processing" && size.is_none_or(|size| record["size"] == size);
            if done {
                return record;
            }
        }
        assert!(Instant::now() < deadline, "{key} never settled: {status} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The bytes of the rendition `name` of `key`, following the 307.
fn rendition(gateway: &Gateway, sub: Option<&str>, key: &str, name: &str) -> Vec<u8> {
    let out = scratch_dir("renditions-download").join(name);
    let url = gateway.at(&format!("{key}?rendition={name}"));
    let (status, body) = get(sub, &url, &["-L", "-o", out.to_str().unwrap()]);
    assert_eq!(status, 200, "{url}: {body}");
    std::fs::read(out).unwrap()
}

#[test]
fn photos_get_upright_renditions_without_exif_or_gps() {
    let gateway = Gateway::start("renditions-photo", &["--renditions", "thumb=32x32,upside=64x64:rotate180"]);
    // Stored 200x100, red left and blue right, turned by EXIF orientation 6: upright it is 100x200, red on top.
    let photo = jpeg(200, 100, &halves(200, 100, RED, BLUE), Some(&exif_with_gps(6)));
    upload(&gateway, None, "/trip/beach.jpg", &photo);
    let record = settled(&gateway, None, "/trip/beach.jpg", None);
    assert_eq!(record["status"], "ready", "{record:#}");
    assert_eq!(record["renditions"]["thumb"], json!({"width": 16, "height": 32}), "{record:#}");
    assert_eq!(record["renditions"]["upside"], json!({"width": 32, "height": 64}));

    let thumb = rendition(&gateway, None, "/trip/beach.jpg", "thumb");
    assert!(!thumb.windows(4).any(|w| w == b"Exif"), "EXIF left in the thumbnail");
    let (w, h, pixels) = decode_jpeg(&thumb);
    assert_eq!((w, h), (16, 32));
    assert!(near(rgb_at(&pixels, w, 8, 2), RED, 40), "top: {:?}", rgb_at(&pixels, w, 8, 2));
    assert!(near(rgb_at(&pixels, w, 8, 29), BLUE, 40), "bottom: {:?}", rgb_at(&pixels, w, 8, 29));
    // rotate180 after the orientation: blue on top.
    let (w, _, pixels) = decode_jpeg(&rendition(&gateway, None, "/trip/beach.jpg", "upside"));
    assert!(near(rgb_at(&pixels, w, 16, 4), BLUE, 40), "top: {:?}", rgb_at(&pixels, w, 16, 4));

    // In a listing: a URL the browser can cache for good, and the size.
    let (status, page) = get(None, &gateway.at("/trip/?metadata&renditions=thumb"), &[]);
    assert_eq!(status, 200);
    let page: Value = serde_json::from_str(&page).unwrap();
    let listed = &page["objects"][0]["renditions"]["thumb"];
    assert_eq!(
        (&listed["width"], &listed["height"], &page["objects"][0]["status"]),
        (&json!(16), &json!(32), &json!("ready"))
    );
    let (status, headers) = curl_status(&["-s", "-D", "-", "-o", "/dev/null", listed["url"].as_str().unwrap()]);
    assert_eq!(status, 200);
    assert!(headers.to_ascii_lowercase().contains("cache-control: private, max-age=31536000, immutable"), "{headers}");
    // The same URL on the next listing (signed at a rounded time), so the browser's cache is used.
    let (_, again) = get(None, &gateway.at("/trip/?renditions=thumb"), &[]);
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["objects"][0]["renditions"]["thumb"]["url"], listed["url"]);

    // Unknown presets, and renditions of what is not an image.
    let (status, body) = get(None, &gateway.at("/trip/beach.jpg?rendition=huge"), &[]);
    let message = "no preset is called `huge`: the renditions made here are those --renditions / RENDITIONS names";
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).ok(),
        Some(json!({"error": "UnknownRendition", "message": message}))
    );
    let (status, body) = get(None, &gateway.at("/trip/?renditions=thumb,huge"), &[]);
    assert_eq!((status, body.trim()), (400, message));
    upload(&gateway, None, "/trip/notes.txt", b"not a picture");
    settled(&gateway, None, "/trip/notes.txt", None);
    let (status, body) = get(None, &gateway.at("/trip/notes.txt?rendition=thumb"), &[]);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("NotAnImage"), "{body}");
}

#[test]
fn an_overwrite_renders_again_and_a_deletion_takes_the_renditions_along() {
    let gateway = Gateway::start("renditions-overwrite", &["--renditions", "thumb=16x16"]);
    upload(&gateway, None, "/a.jpg", &jpeg(32, 32, &halves(32, 32, RED, RED), None));
    let red = settled(&gateway, None, "/a.jpg", None);
    let (status, old) = get(None, &gateway.at("/a.jpg?rendition=thumb&presign"), &[]);
    assert_eq!(status, 200, "{old}");
    let old_url = serde_json::from_str::<Value>(&old).unwrap()["url"].as_str().unwrap().to_owned();

    let blue = jpeg(40, 40, &halves(40, 40, BLUE, BLUE), None);
    upload(&gateway, None, "/a.jpg", &blue);
    let record = settled(&gateway, None, "/a.jpg", Some(blue.len() as u64));
    assert_ne!(record["size"], red["size"]);
    let (w, _, pixels) = decode_jpeg(&rendition(&gateway, None, "/a.jpg", "thumb"));
    assert!(near(rgb_at(&pixels, w, 8, 8), BLUE, 40), "the old thumbnail served: {:?}", rgb_at(&pixels, w, 8, 8));
    let gone = |url: &str| curl_status(&["-s", "-o", "/dev/null", url]).0 == 404;
    common::wait_until("the stale rendition is removed", || gone(&old_url));

    let (_, current) = get(None, &gateway.at("/a.jpg?rendition=thumb&presign"), &[]);
    let current_url = serde_json::from_str::<Value>(&current).unwrap()["url"].as_str().unwrap().to_owned();
    let (status, _) = get(None, &gateway.at("/a.jpg"), &["-X", "DELETE", "-L"]);
    assert_eq!(status, 204);
    common::wait_until("the rendition is removed with its original", || gone(&current_url));
    let (status, body) = get(None, &gateway.at("/a.jpg?rendition=thumb"), &[]);
    assert_eq!(status, 404, "{body}");
}

#[test]
fn a_bomb_and_a_text_file_fail_with_a_reason_in_bounded_memory() {
    let gateway = Gateway::start("renditions-bomb", &[]);
    upload(&gateway, None, "/bomb.png", &png_claiming(100_000, 100_000));
    upload(&gateway, None, "/notes.jpg", b"this is text, whatever its name says\n");
    let bomb = settled(&gateway, None, "/bomb.png", None);
    assert_eq!(bomb["status"], "failed", "{bomb:#}");
    assert!(bomb["reason"].as_str().unwrap().contains("megapixel"), "{bomb:#}");
    let text = settled(&gateway, None, "/notes.jpg", None);
    assert_eq!((&text["status"], &text["reason"]), (&json!("failed"), &json!("not a supported image")));
    let (status, body) = get(None, &gateway.at("/bomb.png?rendition=thumb"), &[]);
    assert_eq!(status, 404);
    assert!(body.contains("megapixel") && body.contains("\"status\":\"failed\""), "{body}");
    let (status, failed) = get(None, &gateway.at("/?log&status=failed"), &[]);
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&failed).unwrap()["entries"].as_array().unwrap().len(), 2);
    // 100,000 x 100,000 pixels would take 30 GB to decode: the header was enough.
    let status = std::fs::read_to_string(format!("/proc/{}/status", gateway.server.pid())).unwrap();
    let peak_kib: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap();
    assert!(peak_kib < 300 * 1024, "the gateway peaked at {peak_kib} KiB");
}

#[test]
fn tenants_reach_their_own_renditions_and_a_link_its_own_file_s() {
    let gateway = Gateway::start(
        "renditions-tenants",
        &["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--share-keys", SHARE_KEY, "--renditions", "thumb=16x16"],
    );
    let photo = jpeg(32, 32, &halves(32, 32, RED, BLUE), None);
    upload(&gateway, Some("alice"), "/me.jpg", &photo);
    upload(&gateway, Some("alice"), "/other.jpg", &photo);
    settled(&gateway, Some("alice"), "/me.jpg", None);
    settled(&gateway, Some("alice"), "/other.jpg", None);
    assert!(!rendition(&gateway, Some("alice"), "/me.jpg", "thumb").is_empty());
    // Bob names the same key: his own scope, where there is nothing.
    let (status, body) = get(Some("bob"), &gateway.at("/me.jpg?rendition=thumb"), &[]);
    assert_eq!(status, 404, "{body}");
    let (status, body) = get(None, &gateway.at("/me.jpg?rendition=thumb"), &[]);
    assert_eq!(status, 401, "{body}");
    // A link to me.jpg opens me.jpg's thumbnail, and nothing of other.jpg.
    let (status, link) = get(Some("alice"), &gateway.at("/me.jpg?share&ttl=10m"), &["-X", "POST"]);
    assert_eq!(status, 201, "{link}");
    let token = link.trim().split("token=").nth(1).unwrap().to_owned();
    let (status, _) = get(None, &gateway.at(&format!("/me.jpg?rendition=thumb&token={token}")), &[]);
    assert_eq!(status, 307);
    let (status, body) = get(None, &gateway.at(&format!("/other.jpg?rendition=thumb&token={token}")), &[]);
    assert_eq!(status, 403, "{body}");
    // A record names who uploaded the file: not for a link's holder, nor the log.
    for read in [format!("/me.jpg?status&token={token}"), format!("/%2F?log&token={token}")] {
        let (status, body) = get(None, &gateway.at(&read), &[]);
        assert_eq!(status, 403, "{read}: {body}");
        assert!(!body.contains("alice") && body.contains("owner's"), "{body}");
    }
}

#[test]
fn presets_added_later_are_made_when_first_asked_for() {
    let data = scratch_dir("renditions-later").join("data");
    let photo = jpeg(64, 32, &halves(64, 32, RED, BLUE), None);
    {
        let gateway = Gateway::start_in(data.clone(), &["--renditions", "none"]);
        upload(&gateway, None, "/old.jpg", &photo);
        assert_eq!(settled(&gateway, None, "/old.jpg", None)["status"], "stored");
        gateway.server.terminate();
    }
    let gateway = Gateway::start_in(data.clone(), &["--renditions", "thumb=16x16,large=48x48"]);
    let (status, body) = get(None, &gateway.at("/old.jpg?rendition=large"), &["-i"]);
    assert_eq!(status, 404, "{body}");
    assert!(body.to_ascii_lowercase().contains("retry-after: 2") && body.contains("RenditionNotReady"), "{body}");
    let record = settled(&gateway, None, "/old.jpg", None);
    assert_eq!(record["renditions"]["large"], json!({"width": 48, "height": 24}), "{record:#}");
    let (w, h, _) = decode_jpeg(&rendition(&gateway, None, "/old.jpg", "large"));
    assert_eq!((w, h), (48, 24));
    drop(gateway);

    // A preset added to those made: the ones made are served while it is made.
    let gateway = Gateway::start_in(data, &["--renditions", "thumb=16x16,large=48x48,small=24x24"]);
    let (status, body) = get(None, &gateway.at("/old.jpg?rendition=small"), &[]);
    assert_eq!(status, 404, "{body}");
    let (status, body) = get(None, &gateway.at("/old.jpg?rendition=thumb"), &[]);
    assert_eq!(status, 307, "{body}");
    let record = settled(&gateway, None, "/old.jpg", None);
    assert_eq!(record["renditions"]["small"], json!({"width": 24, "height": 12}), "{record:#}");
}
