//! Clients other than curl: Python `requests` and a real Chromium, each
//! driven by a script under `tests/clients/` against the real binary.
//! `scripts/test` installs them; run alone, these tests say what is missing.

mod common;

use common::scripts::{chromium_available, python_with, run_script};
use common::{Gateway, scratch_dir};

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
    if !chromium_available() {
        return;
    }
    let scratch = scratch_dir("browser");
    run_script("browser_roundtrip.py", &[env!("CARGO_BIN_EXE_presign-gateway"), scratch.to_str().unwrap()]);
}
