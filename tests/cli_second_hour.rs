//! What a user meets in the second hour with `presign-gateway upload` and
//! `download`, held to what it should be (issue 20): a resume keeps the
//! upload it was recorded with, a gateway that is down is named in one line
//! at once, a URL without a scheme gets the suggestion that fits it, and
//! every message names the program once.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::proxy::{Proxy, Rules};
use common::{Gateway, binary, random_file, scratch_dir, sha256, wait_until};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), stderr(output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `upload FILE URL ARGS…` with its state under `state`.
fn upload(file: &Path, url: &str, args: &[&str], state: &Path) -> Command {
    let mut command = binary();
    command.arg("upload").arg(file).arg(url).args(args).env("PRESIGN_GATEWAY_STATE_DIR", state);
    command
}

/// The recorded uploads in `state`.
fn recorded(state: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(state).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default();
    let json = |e: &&std::fs::DirEntry| e.path().extension().is_some_and(|x| x == "json");
    entries.iter().filter(json).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// Starts `command`, waits until the proxy has seen `parts` more parts
/// stored, kills it and waits for the proxy to finish what it began.
fn interrupt_after(mut command: Command, proxy: &Proxy, parts: usize) {
    let stored = || proxy.requests("partNumber=").iter().filter(|r| r.ends_with("200")).count();
    let before = stored();
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_until("parts stored", || stored() >= before + parts);
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("the proxy has finished the exchanges the killed upload began", || proxy.idle());
}

#[test]
fn a_resume_with_another_part_size_keeps_the_recorded_upload() {
    let rules = Rules { delay: Duration::from_millis(400), ..Rules::default() };
    let (gateway, proxy) = Gateway::behind_a_storage_proxy("resize", &rules);
    let dir = scratch_dir("resize-files");
    let state = dir.join("state");
    let file = dir.join("f");
    random_file(&file, 20 << 20, 91);
    let url = gateway.at("resized.bin");
    interrupt_after(upload(&file, &url, &["--part-size", "5MiB", "--concurrency", "1"], &state), &proxy, 2);
    assert_eq!(recorded(&state).len(), 1);

    let output = upload(&file, &url, &["--part-size", "8MiB", "--resume"], &state).output().unwrap();
    let report = ok(&output);
    let message = stderr(&output);
    assert!(report.contains("in 4 part(s)") && report.contains("already stored"), "{report}");
    assert!(message.contains("5 MiB"), "the recorded part size is named: {message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(!message.contains("starting afresh"), "{message}");
    assert_eq!(gateway.stored_sha256("resized.bin"), Some(sha256(&file)));
    assert!(recorded(&state).is_empty());

    // A file changed since cannot be resumed: said so, and the state is kept for the file as it was.
    interrupt_after(upload(&file, &url, &["--part-size", "5MiB", "--concurrency", "1"], &state), &proxy, 1);
    let kept = recorded(&state);
    assert_eq!(kept.len(), 1);
    std::fs::OpenOptions::new().append(true).open(&file).unwrap().set_len((20 << 20) + 1).unwrap();
    let output = upload(&file, &url, &["--part-size", "5MiB", "--resume"], &state).output().unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("changed") && message.contains("without --resume"), "{message}");
    assert_eq!(recorded(&state), kept, "the recorded upload is kept");
    // Without --resume it starts afresh, and the earlier upload's parts are aborted.
    ok(&upload(&file, &url, &["--part-size", "5MiB"], &state).output().unwrap());
    assert_eq!(gateway.stored_sha256("resized.bin"), Some(sha256(&file)));
    assert!(recorded(&state).is_empty());
    assert!(gateway.server.logged("AbortMultipartUpload", Duration::from_secs(10)), "{}", gateway.logs());
}

#[test]
fn a_gateway_that_is_down_is_named_at_once() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = scratch_dir("down");
    let file = dir.join("f");
    random_file(&file, 10, 92);
    let share = format!("{base}/x.bin?token=secret-token");
    let out = dir.join("out");
    let runs: [Vec<&str>; 3] = [
        vec!["upload", file.to_str().unwrap(), &share],
        vec!["upload", "-", &share],
        vec!["download", &share, out.to_str().unwrap()],
    ];
    for args in runs {
        let started = Instant::now();
        let output = binary().args(&args).env("PRESIGN_GATEWAY_STATE_DIR", &dir).stdin(Stdio::null()).output().unwrap();
        let message = stderr(&output);
        assert!(!output.status.success(), "{args:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "{args:?} took {:?}: {message}", started.elapsed());
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
        assert!(message.contains(&format!("cannot reach {base}: connection refused")), "{message}");
        assert!(message.contains("is the gateway running?"), "{message}");
        assert!(!message.contains("secret-token") && !message.contains("tcp connect"), "{message}");
    }
    assert!(!out.exists(), "a failed download creates no file");
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

#[test]
fn a_url_without_a_scheme_gets_the_suggestion_that_fits_it() {
    let dir = scratch_dir("suggest");
    let file = dir.join("f");
    random_file(&file, 10, 93);
    for (url, suggested) in [
        ("files.example.com/x", "https://files.example.com/x"),
        ("files.example.com:8443/a/b.bin", "https://files.example.com:8443/a/b.bin"),
        ("localhost:3000/x.bin", "http://localhost:3000/x.bin"),
        ("127.0.0.1:3000/x.bin", "http://127.0.0.1:3000/x.bin"),
        ("reports/q3.pdf", "http://127.0.0.1:3000/reports/q3.pdf"),
        ("/x.bin", "http://127.0.0.1:3000/x.bin"),
    ] {
        let output = upload(&file, url, &[], &dir).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{url}");
        let message = stderr(&output);
        assert!(message.contains(&format!("such as {suggested}\n")), "{url}: {message}");
    }
}
