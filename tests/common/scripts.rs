//! Python scripts under `tests/clients/` that drive real clients (`requests`,
//! Selenium with Chromium) against the binary. `scripts/test` installs them;
//! run alone, the tests that need them say what is missing.

use std::process::Command;

use super::tool_available;

/// The interpreter with `requests` and `selenium`: `scripts/test` points
/// `PRESIGN_GATEWAY_TEST_PYTHON` at its virtual environment.
pub fn python() -> String {
    std::env::var("PRESIGN_GATEWAY_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether Python with `modules` can run here (see [`tool_available`]).
pub fn python_with(modules: &str) -> bool {
    let mut check = Command::new(python());
    check.args(["-c", &format!("import {modules}")]);
    tool_available(&format!("Python with {modules}"), check)
}

/// Whether Selenium, Chromium and its driver can run here.
pub fn chromium_available() -> bool {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
    let mut driver = Command::new(chromedriver);
    driver.arg("--version");
    python_with("selenium") && tool_available("ChromeDriver (Debian's chromium-driver)", driver)
}

/// Runs `tests/clients/{script}` with `args`, failing the test if it fails;
/// returns what it printed.
pub fn run_script(script: &str, args: &[&str]) -> String {
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let output =
        Command::new(python()).arg(&path).args(args).output().unwrap_or_else(|e| {
            panic!("cannot run {}: {e}; run scripts/test, which installs the test clients", python())
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} {args:?} failed (run scripts/test to install its clients):\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
