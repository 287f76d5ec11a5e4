//! Clients other than curl: Python `requests` and a real Chromium, each
//! driven by a script under `tests/clients/` against the real binary.
//! `scripts/test` installs them; run alone, these tests say what is missing.

mod common;

use std::process::Command;

use common::{Gateway, scratch_dir, tool_available};

/// The interpreter with `requests` and `selenium`: `scripts/test` points
/// `PRESIGN_GATEWAY_TEST_PYTHON` at its virtual environment.
fn python() -> String {
    std::env::var("PRESIGN_GATEWAY_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether Python with `modules` can run here (see [`tool_available`]).
fn python_with(modules: &str) -> bool {
    let mut check = Command::new(python());
    check.args(["-c", &format!("import {modules}")]);
    tool_available(&format!("Python with {modules}"), check)
}

fn run_script(script: &str, args: &[&str]) {
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let output =
        Command::new(python()).arg(&path).args(args).output().unwrap_or_else(|e| {
            panic!("cannot run {}: {e}; run scripts/test, which installs the test clients", python())
        });
    assert!(
        output.status.success(),
        "{script} failed (run scripts/test to install its clients):\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn python_requests_uploads_and_downloads() {
    if !python_with("requests") {
        return;
    }
    let gateway = Gateway::start("requests", &[]);
    let scratch = scratch_dir("requests-files");
    run_script("requests_roundtrip.py", &[&gateway.url, scratch.to_str().unwrap()]);
}

#[test]
fn a_browser_uploads_across_origins_and_downloads() {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
    let mut driver = Command::new(chromedriver);
    driver.arg("--version");
    if !python_with("selenium") || !tool_available("ChromeDriver (Debian's chromium-driver)", driver) {
        return;
    }
    let scratch = scratch_dir("browser");
    run_script("browser_roundtrip.py", &[env!("CARGO_BIN_EXE_presign-gateway"), scratch.to_str().unwrap()]);
}
