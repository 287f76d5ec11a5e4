//! Listing through the real binary, on its embedded store and on a separate
//! `presign-gateway store` at `--endpoint`: the same pages either way, with
//! cursors of the gateway's own that move only within the caller's folder.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Gateway, Store, curl, curl_status};

/// `b/\u{10FFFF}.txt` sorts past the `StartAfter` that skips folder `b/`, so
/// storage lists `b/` once more after a page that ended at it.
const KEYS: [&str; 8] =
    ["a.txt", "b/1.txt", "b/2.txt", "b/deep/3.txt", "b/\u{10FFFF}.txt", "c d.txt", "e/\u{e9}t\u{e9}.txt", "z.txt"];

/// Every entry of the top level, page by page of `limit`.
fn all_pages(gateway: &Gateway, limit: u16) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = String::new();
    for _ in 0..KEYS.len() + 2 {
        let (status, body) = curl_status(&[&gateway.at(&format!("%2F?limit={limit}{after}"))]);
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        seen.extend(page["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap().to_owned()));
        seen.extend(page["folders"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()));
        let Some(next) = page["next"].as_str() else { return seen };
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(next).unwrap()).unwrap();
        assert!(!decoded.contains("vault"), "the cursor names the key prefix: {decoded}");
        after = format!("&after={next}");
    }
    panic!("the pages never ended: {seen:?}")
}

fn lists_alike(gateway: &Gateway) {
    for key in KEYS {
        let path = common::encode_key(key);
        let output = curl(&["-L", "--fail", "-X", "PUT", "--data-binary", "x", &gateway.at(&path)]);
        assert!(output.status.success(), "{key}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let mut expected = vec!["a.txt", "c d.txt", "z.txt", "b/", "e/"];
    for limit in [1, 2, 3, 1000] {
        let mut seen = all_pages(gateway, limit);
        seen.sort_by_key(|entry| (entry.ends_with('/'), entry.clone()));
        expected.sort_by_key(|entry| (entry.ends_with('/'), (*entry).to_owned()));
        assert_eq!(seen, expected, "limit={limit}");
    }

    // A made-up cursor moves within the folder only: `../` names nothing above it,
    // so the page is all of `b/` (sorted after `vault/b/../`), and nothing outside it.
    let forged = URL_SAFE_NO_PAD.encode("p../");
    let (status, body) = curl_status(&[&gateway.at(&format!("b/?after={forged}"))]);
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut seen: Vec<_> = page["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap()).collect();
    seen.extend(page["folders"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()));
    assert_eq!(seen, ["b/1.txt", "b/2.txt", "b/\u{10FFFF}.txt", "b/deep/"], "{body}");
    let (status, body) = curl_status(&[&gateway.at("%2F?after=storage-token")]);
    assert_eq!(status, 400, "{body}");
}

#[test]
fn the_embedded_store_pages_with_the_gateways_cursors() {
    lists_alike(&Gateway::start("listing-embedded", &["--key-prefix", "vault"]));
}

#[test]
fn an_external_endpoint_pages_with_the_gateways_cursors() {
    let store = Store::start("listing-endpoint");
    lists_alike(&Gateway::start_on(store, &["--key-prefix", "vault"]));
}

/// A bucket a signed-in gateway served holds its tenants' files in
/// `tenants/`; a gateway with `--auth none` on it neither lists that folder
/// as the user's own nor reaches into it.
#[test]
fn auth_none_keeps_out_of_the_tenants_folder() {
    let data_dir = common::scratch_dir("listing-tenants").join("data");
    let secret = "a-jwt-secret-for-the-listing-test-0123456789";
    let signed_in = Gateway::start_in(data_dir.clone(), &["--auth", "jwt", "--jwt-secret", secret]);
    let claims = serde_json::json!({ "sub": "alice", "exp": 4_102_444_800_u64 });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let bearer = format!("Authorization: Bearer {token}");
    let (status, _) =
        curl_status(&["-L", "-X", "PUT", "-H", &bearer, "--data-binary", "alice's", &signed_in.at("notes.txt")]);
    assert_eq!(status, 200);
    drop(signed_in);

    let open = Gateway::start_in(data_dir, &[]);
    let (status, _) = curl_status(&["-L", "-X", "PUT", "--data-binary", "mine", &open.at("mine.txt")]);
    assert_eq!(status, 200);
    let top: serde_json::Value = serde_json::from_slice(&curl(&[&open.at("%2F")]).stdout).unwrap();
    assert_eq!(top["folders"], serde_json::json!([]), "{top}");
    assert_eq!(top["objects"].as_array().unwrap().len(), 1, "{top}");
    for path in ["tenants/alice/notes.txt", "tenants/", "tenants/alice/"] {
        let (status, body) = curl_status(&[&open.at(path)]);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("--auth none does not reach"), "{path}: {body}");
    }
}
