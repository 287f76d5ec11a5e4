//! Two gateways, one store: the gateway keeps no state of its own, so any
//! replica answers for any other. A share link minted by one opens on the
//! other, and a multipart upload started on one completes on the other
//! (README, "Running several gateways").

mod common;

use common::{
    STORE_ACCESS_KEY, STORE_SECRET_KEY, Server, Store, binary, curl, curl_status, random_file, scratch_dir, sha256,
};
use serde_json::Value;

const SHARE_KEYS: &str = "k1:0123456789abcdef0123456789abcdef";

fn gateway(store: &str) -> Server {
    let mut command = binary();
    command.args(["serve", "--listen", "127.0.0.1:0", "--endpoint", store, "--bucket", "presign-gateway"]);
    command.env("AWS_ACCESS_KEY_ID", STORE_ACCESS_KEY).env("AWS_SECRET_ACCESS_KEY", STORE_SECRET_KEY);
    command.env("AWS_REGION", "us-east-1").env("SHARE_KEYS", SHARE_KEYS).env_remove("AWS_SESSION_TOKEN");
    command.env("AWS_CONFIG_FILE", "/nonexistent").env("AWS_EC2_METADATA_DISABLED", "true");
    Server::spawn(command, "presign-gateway listening on ")
}

fn json(args: &[&str]) -> Value {
    let mut all = vec!["--fail", "-H", "Accept: application/json"];
    all.extend_from_slice(args);
    let output = curl(&all);
    assert!(output.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn any_replica_answers_for_any_other() {
    let scratch = scratch_dir("replicas");
    let store = Store::start_in(scratch.join("data"), &[]);
    let (a, b) = (gateway(&store.url), gateway(&store.url));

    // A share link minted by A opens on B.
    let file = scratch.join("report.pdf");
    random_file(&file, 300_000, 21);
    let (status, body) =
        curl_status(&["-L", "--upload-file", file.to_str().unwrap(), &format!("{}/report.pdf", a.url)]);
    assert_eq!(status, 200, "{body}");
    let link = json(&["-X", "POST", &format!("{}/report.pdf?share&ttl=1h", a.url)]);
    let link = link["url"].as_str().unwrap();
    let on_b = link.replacen(&a.url, &b.url, 1);
    assert_ne!(on_b, link, "the link names A's address: {link}");
    let shared = scratch.join("shared.pdf");
    let output = curl(&["--fail", "-L", "-o", shared.to_str().unwrap(), &on_b]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(sha256(&shared), sha256(&file));

    // A multipart upload started on A, its parts sent through both, listed and completed on B.
    let started = json(&["-X", "POST", &format!("{}/big.bin?uploads", a.url)]);
    let upload = started["upload_id"].as_str().unwrap().to_owned();
    let parts = [scratch.join("part1"), scratch.join("part2")];
    random_file(&parts[0], 5 << 20, 22);
    random_file(&parts[1], 1 << 20, 23);
    for (number, (part, gateway)) in parts.iter().zip([&a, &b]).enumerate() {
        let url = format!("{}/big.bin?partNumber={}&uploadId={upload}", gateway.url, number + 1);
        let output = curl(&["--fail", "-L", "--upload-file", part.to_str().unwrap(), "-o", "/dev/null", &url]);
        assert!(output.status.success(), "part {}: {}", number + 1, String::from_utf8_lossy(&output.stderr));
    }
    let listed = json(&[&format!("{}/big.bin?uploadId={upload}", b.url)]);
    let listed: Vec<(u64, String)> = listed["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["part_number"].as_u64().unwrap(), p["etag"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(listed.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 2]);
    let completion = serde_json::json!({
        "parts": listed.iter().map(|(n, etag)| serde_json::json!({"part_number": n, "etag": etag})).collect::<Vec<_>>()
    });
    let done = json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &completion.to_string(),
        &format!("{}/big.bin?uploadId={upload}", b.url),
    ]);
    assert_eq!(done["size"].as_u64(), Some(6 << 20), "{done}");

    let whole = scratch.join("whole.bin");
    let mut expected = std::fs::read(&parts[0]).unwrap();
    expected.extend(std::fs::read(&parts[1]).unwrap());
    std::fs::write(scratch.join("expected.bin"), &expected).unwrap();
    let output = curl(&["--fail", "-L", "-o", whole.to_str().unwrap(), &format!("{}/big.bin", a.url)]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(sha256(&whole), sha256(&scratch.join("expected.bin")));
}
