//! Clients other than curl: Python `requests` and a real Chromium, each
//! driven by a script under `tests/clients/` against the real binary.
//! `scripts/test` installs them; run alone, these tests say what is missing.
//! Each runs on the embedded store as S3 signs, and as strict servers
//! (Garage) do: every `x-amz-*` header of a presigned request signed.

mod common;

use common::scripts::{chromium_available, python_with, run_script};
use common::{Gateway, scratch_dir};

#[test]
fn python_requests_uploads_and_downloads() {
    if !python_with("requests") {
        return;
    }
    for flags in [&[][..], &["--strict-signing"]] {
        let gateway = Gateway::start("requests", flags);
        let scratch = scratch_dir("requests-files");
        run_script("requests_roundtrip.py", &[&gateway.url, scratch.to_str().unwrap()]);
    }
}

#[test]
fn a_browser_uploads_across_origins_and_downloads() {
    if !chromium_available() {
        return;
    }
    for flags in [&[][..], &["--strict-signing"]] {
        let scratch = scratch_dir("browser");
        let mut args = vec![env!("CARGO_BIN_EXE_presign-gateway"), scratch.to_str().unwrap()];
        args.extend_from_slice(flags);
        run_script("browser_roundtrip.py", &args);
    }
}
