//! What a user meets in the second hour with `presign-gateway upload` and
//! `download`, held to what it should be (issue 20): a resume keeps the
//! upload it was recorded with, a gateway that is down is named in one line
//! at once, a URL without a scheme gets the suggestion that fits it, and
//! every message names the program once.

mod common;

use std::process::Output;

use common::{binary, scratch_dir};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_command_names_the_program_once() {
    let dir = scratch_dir("prefix");
    let missing = dir.join("missing");
    let data = dir.join("data");
    let cases: [&[&str]; 4] = [
        &["share", "x", "--ttl", "1h", "--base-url", "http://h"],
        &["serve", "--share-keys", "nokid", "--data-dir", data.to_str().unwrap()],
        &["upload", missing.to_str().unwrap(), "http://127.0.0.1:9/x"],
        &["download", "--resume", "http://127.0.0.1:9/x", "-"],
    ];
    for args in cases {
        let output = binary().args(args).env_remove("SHARE_KEYS").output().unwrap();
        let message = stderr(&output);
        assert!(!output.status.success(), "{args:?}");
        assert!(message.starts_with("presign-gateway: "), "{args:?}: {message}");
        assert!(!message.contains("presign-gateway: presign-gateway"), "{args:?}: {message}");
    }
}
