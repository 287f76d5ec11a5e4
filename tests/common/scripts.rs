//! Python scripts under `tests/clients/` that drive real clients (`requests`,
//! Selenium with Chromium, Firefox ESR and WebKitGTK) against the binary.
//! `scripts/test` installs them; run alone, the tests that need them say what
//! is missing.

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

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

/// geckodriver: `GECKODRIVER`, else where `scripts/test` builds it, `<target dir>/tools/bin`.
pub fn geckodriver() -> String {
    std::env::var("GECKODRIVER").unwrap_or_else(|_| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target directory");
        target.join("tools/bin/geckodriver").to_string_lossy().into_owned()
    })
}

/// Whether Selenium, Firefox ESR and geckodriver can run here.
pub fn firefox_available() -> bool {
    let mut firefox = Command::new(std::env::var("FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".to_owned()));
    firefox.arg("--version");
    let mut driver = Command::new(geckodriver());
    driver.arg("--version");
    python_with("selenium")
        && tool_available("Firefox ESR (Debian's firefox-esr)", firefox)
        && tool_available("geckodriver (built from crates.io)", driver)
}

/// Whether Selenium, WebKitGTK's WebDriver and `xvfb-run` (WebKitGTK needs a display) can run here.
pub fn webkit_available() -> bool {
    let mut driver =
        Command::new(std::env::var("WEBKITDRIVER").unwrap_or_else(|_| "/usr/bin/WebKitWebDriver".to_owned()));
    driver.arg("--help");
    let mut xvfb = Command::new("xvfb-run");
    xvfb.arg("--help");
    python_with("selenium")
        && tool_available("WebKitWebDriver (Debian's webkit2gtk-driver)", driver)
        && tool_available("xvfb-run (Debian's xvfb)", xvfb)
}

/// Runs `tests/clients/{script}` with `args`, failing the test if it fails;
/// returns what it printed.
pub fn run_script(script: &str, args: &[&str]) -> String {
    run_script_with(script, args, &[])
}

/// [`run_script`] with `env` added to the script's environment. Selenium is
/// always given its drivers' paths and kept offline (`SE_OFFLINE`): it never
/// downloads a driver or a browser.
pub fn run_script_with(script: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(python())
        .arg(&path)
        .args(args)
        .env("SE_OFFLINE", "true")
        .env("GECKODRIVER", geckodriver())
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; run scripts/test, which installs the test clients", python()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} {args:?} failed (run scripts/test to install its clients):\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// One browser at a time in a test binary: browsers share two cores, and the
/// upload timings the page tests print should be fair.
pub fn browser_turn() -> MutexGuard<'static, ()> {
    static BROWSER: Mutex<()> = Mutex::new(());
    BROWSER.lock().unwrap_or_else(PoisonError::into_inner)
}
