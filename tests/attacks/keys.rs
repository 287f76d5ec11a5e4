//! API keys held by an external system that turns hostile: a key confined
//! to a folder tries to step out of it (dot segments, percent-encoding, a
//! sibling whose name starts like the folder, other letter case, multipart
//! and `?presign` side doors); a read-only key tries every way to write; a
//! key is slipped in where the gateway must not read one (the query, another
//! header, another scheme); a key tries to make itself more keys or a link
//! that would outlive it; a tenant reaches for another's key by its id.
//! Every attempt is refused, and the files outside stay as they were.

use serde_json::Value;

use crate::common::{Gateway, curl_status, scratch_dir};
use crate::{bearer, tenanted};

/// `curl --path-as-is` with `headers`, `args` before the URL.
fn call(headers: &[String], args: &[&str], url: &str) -> (u16, String) {
    let mut all = vec!["--path-as-is"];
    for header in headers {
        all.extend(["-H", header.as_str()]);
    }
    all.extend_from_slice(args);
    all.push(url);
    curl_status(&all)
}

/// A key of `sub` made with `query` (`&prefix=a`...): its JSON.
fn key_of(gateway: &Gateway, sub: &str, query: &str) -> Value {
    let (status, body) = call(&[bearer(sub)], &["-X", "POST"], &gateway.at(&format!("/%2F?keys{query}")));
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn with_key(key: &Value) -> Vec<String> {
    vec![format!("Authorization: Bearer {}", key["key"].as_str().unwrap())]
}

#[test]
fn a_folder_key_never_steps_out_of_its_folder() {
    let gateway = tenanted("attack-keys-folder", &["--renditions", "thumb=16x16"]);
    let file = scratch_dir("attack-keys-folder-files").join("f.txt");
    std::fs::write(&file, "the owner's\n").unwrap();
    let upload = ["--upload-file", file.to_str().unwrap()];
    for path in ["/b.txt", "/ab/x.txt", "/A/x.txt"] {
        let (status, body) = call(&[bearer("alice")], &["-L", upload[0], upload[1]], &gateway.at(path));
        assert_eq!(status, 200, "{path}: {body}");
    }
    let key = with_key(&key_of(&gateway, "alice", "&prefix=a"));

    let reads = [
        "/a/../b.txt",
        "/a/%2e%2e/b.txt",
        "/a/%2E%2E%2Fb.txt",
        "/a%2F..%2Fb.txt",
        "/a/./../b.txt",
        "/a//../b.txt",
        "/ab/x.txt",
        "/A/x.txt",
        "/a",
        "/b.txt?rendition=thumb",
        "/b.txt?status",
        "/ab/",
        "/%2F?log",
        "/?after=",
    ];
    for path in reads {
        let (status, body) = call(&key, &[], &gateway.at(path));
        assert!(matches!(status, 400 | 403), "{path}: {status} {body}");
    }
    let writes: [(&[&str], &str); 7] = [
        (&upload, "/ab/x.txt"),
        (&upload, "/a/../b.txt"),
        (&["-X", "DELETE"], "/b.txt"),
        (&["-X", "DELETE"], "/a%2F..%2Fb.txt"),
        (&[], "/b.txt?presign=PUT"),
        (&["-X", "POST"], "/ab/x.txt?uploads"),
        (&["-X", "PUT", "--data", "x"], "/b.txt?partNumber=1&uploadId=made-up"),
    ];
    for (args, path) in writes {
        let (status, body) = call(&key, args, &gateway.at(path));
        assert!(matches!(status, 400 | 403), "{path}: {status} {body}");
    }
    // Inside, all is as for the owner; outside, nothing changed.
    let (status, body) = call(&key, &["-L", upload[0], upload[1]], &gateway.at("/a/in.txt"));
    assert_eq!(status, 200, "{body}");
    for path in ["/b.txt", "/ab/x.txt", "/A/x.txt"] {
        let (status, body) = call(&[bearer("alice")], &["-L"], &gateway.at(path));
        assert_eq!((status, body.as_str()), (200, "the owner's\n"), "{path}");
    }
}

#[test]
fn a_read_only_key_writes_nothing_and_no_key_outgrows_itself() {
    let gateway = tenanted("attack-keys-scope", &[]);
    let reader = with_key(&key_of(&gateway, "alice", "&read_only"));
    let file = scratch_dir("attack-keys-scope-files").join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let upload = ["--upload-file", file.to_str().unwrap()];
    let writes: [(&[&str], &str); 7] = [
        (&upload, "/x.txt"),
        (&["-X", "DELETE"], "/x.txt"),
        (&[], "/x.txt?presign=PUT"),
        (&[], "/x.txt?presign=DELETE"),
        (&["-X", "PUT", "-H", "Upload-Length: 1"], "/x.txt?presign"),
        (&["-X", "POST"], "/x.txt?uploads"),
        (&["-X", "DELETE"], "/x.txt?uploadId=made-up"),
    ];
    for (args, path) in writes {
        let (status, body) = call(&reader, args, &gateway.at(path));
        assert_eq!(status, 403, "{path}: {body}");
    }
    // More power: new keys (even read-only ones), a list of the others, a
    // revocation of the owner's others, a link that would outlive the key.
    let full = key_of(&gateway, "alice", "");
    let full_id = full["id"].as_str().unwrap();
    for key in [&reader, &with_key(&full)] {
        for (method, query) in [
            ("POST", "keys"),
            ("POST", "keys&read_only"),
            ("GET", "keys"),
            ("DELETE", &format!("keys={full_id}") as &str),
            // Nor the owner's share links: listed, they would show what is shared; revoked, cut it off.
            ("GET", "links"),
            ("DELETE", &format!("links={}", "0".repeat(32)) as &str),
        ] {
            let (status, body) = call(key, &["-X", method], &gateway.at(&format!("/%2F?{query}")));
            assert_eq!(status, 403, "{method} ?{query}: {body}");
        }
        let (status, body) = call(key, &["-X", "POST"], &gateway.at("/x.txt?share&ttl=60"));
        assert_eq!(status, 403, "{body}");
    }
    let (status, _) = call(&with_key(&full), &[], &gateway.at("/"));
    assert_eq!(status, 200, "the full key was revoked by another key");
}

#[test]
fn keys_open_nothing_where_the_gateway_does_not_read_them() {
    let gateway = tenanted("attack-keys-smuggled", &[]);
    let made = key_of(&gateway, "alice", "");
    let key = made["key"].as_str().unwrap();
    let places = [
        (vec![format!("X-Api-Key: {key}")], "/".to_owned()),
        (vec![format!("Authorization: {key}")], "/".to_owned()),
        (vec![format!("Authorization: Basic {key}")], "/".to_owned()),
        (vec![format!("Authorization: Token {key}")], "/".to_owned()),
        (vec![], format!("/?key={key}")),
        (vec![], format!("/x.txt?token={key}")),
        (vec![format!("Cookie: key={key}")], "/".to_owned()),
    ];
    for (headers, path) in places {
        let (status, body) = call(&headers, &[], &gateway.at(&path));
        assert!(matches!(status, 401 | 403), "{headers:?} {path}: {status} {body}");
    }
    // Another tenant names alice's key by its id, or an id that is a path.
    let id = made["id"].as_str().unwrap();
    let (status, body) = call(&[bearer("mallory")], &["-X", "DELETE"], &gateway.at(&format!("/%2F?keys={id}")));
    assert_eq!(status, 404, "{body}");
    for id in ["..%2F..%2Fx", "0123456789ABCDEF", "%00", "0123456789abcdef0"] {
        let (status, body) = call(&[bearer("mallory")], &["-X", "DELETE"], &gateway.at(&format!("/%2F?keys={id}")));
        assert_eq!(status, 400, "{id}: {body}");
    }
    let (status, _) = call(&with_key(&made), &[], &gateway.at("/"));
    assert_eq!(status, 200, "alice's key stopped working");
    // A body too large for any terms.
    let big = scratch_dir("attack-keys-smuggled-files").join("big.json");
    std::fs::write(&big, "x".repeat(4 << 20)).unwrap();
    let data = format!("@{}", big.display());
    let (status, body) = call(&[bearer("alice")], &["-X", "POST", "--data-binary", &data], &gateway.at("/%2F?keys"));
    assert!(matches!(status, 400 | 413), "{status} {body}");
}
