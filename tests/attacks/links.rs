//! Share links with records (issue 22), attacked: an id altered inside a
//! token, another tenant's link named by its id, ids that try to leave the
//! caller's partition, a link holder listing or revoking links, and a link
//! used past its last use or after its revocation by any method.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{bearer, tenanted};
use crate::common::{Gateway, curl_status, scratch_dir};

/// `sub`'s link to `path_and_terms`, as the JSON answer.
fn mint(gateway: &Gateway, sub: &str, path_and_terms: &str) -> Value {
    let auth = bearer(sub);
    let args = ["-X", "POST", "-H", &auth, "-H", "Accept: application/json"];
    let (status, body) = curl_status(&[&args[..], &[gateway.at(path_and_terms).as_str()]].concat());
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn stored(gateway: &Gateway, sub: &str, key: &str) {
    let file = scratch_dir("attack-links-files").join("f.txt");
    std::fs::write(&file, format!("{sub}'s file\n")).unwrap();
    let auth = bearer(sub);
    let (status, body) = curl_status(&["-L", "-H", &auth, "-T", file.to_str().unwrap(), &gateway.at(key)]);
    assert_eq!(status, 200, "{body}");
}

/// Every byte of a link's sealed part flipped in turn (a sample of them):
/// not one opens, and none reaches a record (a `410` would say it did).
#[test]
fn an_altered_id_reaches_no_record() {
    let gateway = tenanted("attack-links-altered", &["--renditions", "none"]);
    stored(&gateway, "alice", "f.txt");
    let link = mint(&gateway, "alice", "f.txt?share&ttl=1h");
    let revoked = mint(&gateway, "alice", "f.txt?share&ttl=1h");
    let auth = bearer("alice");
    let (status, _) = curl_status(&[
        "-X",
        "DELETE",
        "-H",
        &auth,
        &gateway.at(&format!("%2F?links={}", revoked["id"].as_str().unwrap())),
    ]);
    assert_eq!(status, 204);
    for url in [link["url"].as_str().unwrap(), revoked["url"].as_str().unwrap()] {
        let (base, token) = url.split_once("token=v2.k1.").unwrap();
        let sealed = URL_SAFE_NO_PAD.decode(token).unwrap();
        for at in (0..sealed.len()).step_by(7) {
            let mut altered = sealed.clone();
            altered[at] ^= 0x20;
            let forged = format!("{base}token=v2.k1.{}", URL_SAFE_NO_PAD.encode(&altered));
            assert_eq!(curl_status(&[&forged]), (403, "the share link is not valid\n".to_owned()), "byte {at}");
        }
    }
}

/// Ids that are not an id, or try to leave the caller's partition, and
/// other tenants' ids: refused or not found, and nothing of theirs changes.
#[test]
fn one_tenant_cannot_reach_anothers_links() {
    let gateway = tenanted("attack-links-tenants", &["--renditions", "none"]);
    stored(&gateway, "alice", "f.txt");
    let alices = mint(&gateway, "alice", "f.txt?share&ttl=1h");
    let id = alices["id"].as_str().unwrap();
    let mallory = bearer("mallory");
    // Alice's id, named by mallory: not found, and the link still works.
    let (status, body) = curl_status(&["-X", "DELETE", "-H", &mallory, &gateway.at(&format!("%2F?links={id}"))]);
    assert_eq!(status, 404, "{body}");
    assert_eq!(curl_status(&["-L", alices["url"].as_str().unwrap()]), (200, "alice's file\n".to_owned()));
    // A tenant named like alice's partition reaches nothing of hers.
    for sub in ["t#alice", "-", "alice/", "link#t#alice"] {
        let (status, body) = curl_status(&["-H", &bearer(sub), &gateway.at("%2F?links")]);
        assert_eq!((status, body.as_str()), (200, "{\"links\":[]}"), "{sub}");
    }
    let hostile = [
        ("DELETE", "%2F?links=..%2F..%2Flink%23t%23alice", 400),
        ("DELETE", &format!("%2F?links={}", id.to_uppercase()), 400),
        ("DELETE", &format!("%2F?links={id}%00"), 400),
        ("DELETE", &format!("%2F?links={id}&links={id}"), 400),
        ("DELETE", &format!("photos/?links={id}"), 400),
        ("DELETE", &format!("f.txt?links={id}"), 400),
        ("GET", &format!("%2F?links={id}"), 400),
        ("POST", "%2F?links", 400),
        ("DELETE", "%2F?links", 400),
    ];
    for (method, path, expected) in hostile {
        let (status, body) = curl_status(&["-X", method, "-H", &mallory, "--path-as-is", &gateway.at(path)]);
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert!(body.starts_with('{'), "refusals on the links routes are JSON: {body}");
    }
    // A link's holder lists and revokes nothing, with the link's own token or alongside a bearer.
    let token = alices["url"].as_str().unwrap().split("token=").nth(1).unwrap();
    for (method, path) in [("GET", "%2F?links".to_owned()), ("DELETE", format!("%2F?links={id}"))] {
        let (status, body) = curl_status(&["-X", method, &gateway.at(&format!("{path}&token={token}"))]);
        assert_eq!(status, 403, "{method} {path}: {body}");
    }
    assert_eq!(curl_status(&["-L", alices["url"].as_str().unwrap()]).0, 200);
}

/// A used-up or revoked link opens for no method, and says only that it is gone.
#[test]
fn a_link_that_is_gone_opens_for_nothing() {
    let gateway = tenanted("attack-links-gone", &["--renditions", "none"]);
    stored(&gateway, "alice", "f.txt");
    let once = mint(&gateway, "alice", "f.txt?share&ttl=1h&methods=GET,PUT,DELETE&max_uses=1");
    let url = once["url"].as_str().unwrap();
    assert_eq!(curl_status(&["-o", "/dev/null", url]).0, 307);
    let file = scratch_dir("attack-links-gone").join("x");
    std::fs::write(&file, "x").unwrap();
    let cases: [(&[&str], u16); 5] = [
        (&[], 410),
        (&["-I"], 410),
        (&["-X", "DELETE"], 410),
        (&["-T", file.to_str().unwrap()], 410),
        // A link never mints a link, gone or not.
        (&["-X", "POST", "-H", "Accept: application/json"], 405),
    ];
    for (args, expected) in cases {
        let (status, body) = curl_status(&[args, &[url]].concat());
        assert_eq!(status, expected, "{args:?}: {body}");
        assert!(!body.contains("alice"), "{body}");
    }
    // Alice's file is still there: the gone link deleted nothing.
    assert_eq!(curl_status(&["-L", "-H", &bearer("alice"), &gateway.at("f.txt")]), (200, "alice's file\n".to_owned()));
}

/// A folder link, pushed at its edges: its parent, a sibling whose name
/// starts alike, the same path without its slash, `..` and encoded slashes
/// and dots, the reserved renditions folder, the upload log, a listing that
/// asks for metadata, a made-up cursor; and a file link used to list its
/// folder.
#[test]
fn a_folder_link_reaches_nothing_beside_its_folder() {
    let gateway = tenanted("attack-links-folder", &["--renditions", "none"]);
    for key in ["shared/in.txt", "shared-not/x.txt", "other/y.txt", "z.txt"] {
        stored(&gateway, "alice", key);
    }
    let album = mint(&gateway, "alice", "shared/?share&ttl=1h&methods=GET,PUT,DELETE");
    let token = album["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    let with_token = |path: &str| {
        let joint = if path.contains('?') { '&' } else { '?' };
        gateway.at(&format!("{path}{joint}token={token}"))
    };
    assert_eq!(curl_status(&["-L", &with_token("shared/in.txt")]), (200, "alice's file\n".to_owned()));
    let hostile = [
        ("GET", "shared-not/x.txt", 403),
        ("GET", "shared", 403),
        ("GET", "shared-not/", 403),
        ("GET", "%2F", 403),
        ("GET", "z.txt", 403),
        ("GET", "shared/../z.txt", 400),
        ("GET", "shared/%2e%2e/z.txt", 400),
        ("GET", "shared%2F..%2Fz.txt", 400),
        ("GET", "shared/%2E%2E%2Fother/y.txt", 400),
        ("GET", "shared/..%5Cz.txt", 400),
        ("GET", "_renditions/x", 400),
        ("GET", "shared/?metadata", 403),
        ("GET", "shared/?after=not-a-cursor", 400),
        ("GET", "%2F?log", 403),
        ("GET", "shared/in.txt?status", 403),
        ("POST", "shared/in.txt?share&ttl=60", 403),
        ("DELETE", "z.txt", 403),
        ("PUT", "other/new.txt", 403),
        ("POST", "other/new.txt?uploads", 403),
    ];
    for (method, path, expected) in hostile {
        let (status, body) = curl_status(&["-X", method, "--path-as-is", "-H", "Content-Length: 0", &with_token(path)]);
        assert_eq!(status, expected, "{method} {path}: {body}");
    }
    // Everything beside the folder is as it was.
    let alice = bearer("alice");
    for key in ["shared-not/x.txt", "other/y.txt", "z.txt"] {
        assert_eq!(curl_status(&["-L", "-H", &alice, &gateway.at(key)]), (200, "alice's file\n".to_owned()), "{key}");
    }
    let (status, _) = curl_status(&["-L", "-I", "-H", &alice, &gateway.at("other/new.txt")]);
    assert_eq!(status, 404);
    // A file link lists nothing, not even its own folder.
    let one = mint(&gateway, "alice", "shared/in.txt?share&ttl=1h");
    let one_token = one["url"].as_str().unwrap().split("token=").nth(1).unwrap();
    let (status, _) = curl_status(&[&gateway.at(&format!("shared/?token={one_token}"))]);
    assert_eq!(status, 403);
}

/// A link for one upload (`max_uses=1`, PUT) whose use starts a multipart
/// upload: the upload is finished through it (its parts, the parts' list and
/// the completion spend no use), yet the link starts no second upload and
/// hands out no other URL; revoked, it takes not even a part.
#[test]
fn a_multipart_upload_its_last_use_started_is_finished() {
    let gateway = tenanted("attack-links-last-upload", &["--renditions", "none"]);
    let file = scratch_dir("attack-links-last-upload").join("part");
    std::fs::write(&file, "the only part\n").unwrap();
    let part = file.to_str().unwrap();
    let start = |url: &str| {
        let (status, body) = curl_status(&["-X", "POST", url]);
        assert_eq!(status, 200, "{body}");
        body.split("<UploadId>").nth(1).and_then(|rest| rest.split('<').next()).unwrap().to_owned()
    };
    let once = mint(&gateway, "alice", "inbox/?share&ttl=1h&methods=PUT&max_uses=1");
    let token = once["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    let at = |query: &str| gateway.at(&format!("inbox/big.bin?{query}&token={token}"));
    let upload = start(&at("uploads"));
    let put_part = ["-L", "-T", part, "-o", "/dev/null", "--write-out", "%{http_code} %header{etag}"];
    let output =
        crate::common::curl(&[&put_part[..], &[at(&format!("partNumber=1&uploadId={upload}")).as_str()]].concat());
    let sent = String::from_utf8(output.stdout).unwrap();
    let (status, etag) = sent.split_once(' ').unwrap();
    assert_eq!(status, "200", "the part of the upload the last use started: {sent}");
    let (status, body) = curl_status(&[&at(&format!("uploadId={upload}"))]);
    assert_eq!(status, 200, "its parts: {body}");
    let list = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let (status, body) = curl_status(&["-X", "POST", "--data", &list, &at(&format!("uploadId={upload}"))]);
    assert_eq!(status, 200, "its completion: {body}");
    let alice = bearer("alice");
    assert_eq!(curl_status(&["-L", "-H", &alice, &gateway.at("inbox/big.bin")]), (200, "the only part\n".to_owned()));
    // Used up: no second upload, no single PUT.
    assert_eq!(curl_status(&["-X", "POST", &at("uploads")]).0, 410);
    assert_eq!(curl_status(&["-T", part, &gateway.at(&format!("inbox/other.bin?token={token}"))]).0, 410);

    // Revoked, the link takes no step of an upload it started.
    let revoked = mint(&gateway, "alice", "inbox/?share&ttl=1h&methods=PUT&max_uses=1");
    let token = revoked["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    let at = |query: &str| gateway.at(&format!("inbox/late.bin?{query}&token={token}"));
    let upload = start(&at("uploads"));
    let id = revoked["id"].as_str().unwrap();
    assert_eq!(curl_status(&["-X", "DELETE", "-H", &alice, &gateway.at(&format!("%2F?links={id}"))]).0, 204);
    let (status, _) = curl_status(&["-T", part, &at(&format!("partNumber=1&uploadId={upload}"))]);
    assert_eq!(status, 410);
    assert_eq!(curl_status(&["-X", "DELETE", &at(&format!("uploadId={upload}"))]).0, 410);
}
