//! Uppy 6 as a client (issue 19): `@uppy/core` and `@uppy/aws-s3` from npm
//! (`tests/web/package.json`), configured as the README's "Uppy" section
//! says (`tests/web/uppy/setup.js`) and bundled with esbuild, run in headless
//! Chromium by an app on another origin than the gateway's, through a front
//! door that refuses request bodies over 6 MB, as API Gateway and Lambda do.
//! The browser work is in `tests/clients/uppy.py`; these tests start the
//! servers around it and check what the door saw.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::proxy::{Proxy, Rules};
use common::scripts::{browser_turn, chromium_available, run_script};
use common::{Gateway, scratch_dir, tool_available, wait_until};

const JWT_SECRET: &str = "a-jwt-secret-for-the-uppy-tests-0123456789";
/// The rules the uploads that succeed run under: with a size limit, every
/// presigned upload must declare its size, so the setup's `Upload-Length` counts.
const RULES: [&str; 4] = ["--allowed-types", "image/*", "--max-object-size", "64MiB"];
const TYPE_REFUSED: &str = "`text/plain` is not accepted here: uploads must be one of: image/*";

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// The app (`index.html` and `app.js` bundled with Uppy), built once a run;
/// `None` when Chromium or the npm packages are missing.
fn app() -> Option<&'static Path> {
    static APP: OnceLock<Option<PathBuf>> = OnceLock::new();
    APP.get_or_init(|| {
        let esbuild = web_dir().join("node_modules/.bin/esbuild");
        let mut version = Command::new(&esbuild);
        version.arg("--version");
        if !chromium_available() || !tool_available("esbuild and Uppy from npm (`npm ci` in tests/web)", version) {
            return None;
        }
        let dir = scratch_dir("uppy-app");
        let output = Command::new(&esbuild)
            .current_dir(web_dir())
            .args(["uppy/app.js", "--bundle", "--format=esm", "--log-level=warning"])
            .arg(format!("--outfile={}", dir.join("app.js").display()))
            .output()
            .expect("run esbuild");
        assert!(output.status.success(), "esbuild: {}", String::from_utf8_lossy(&output.stderr));
        std::fs::copy(web_dir().join("uppy/index.html"), dir.join("index.html")).expect("copy index.html");
        Some(dir)
    })
    .as_deref()
}

/// The gateway (`--auth jwt`, letting the app's origin in) behind a front
/// door refusing bodies over 6 MB, and a port for the app's own origin.
struct Site {
    door: Proxy,
    gateway: Gateway,
    app_port: String,
    scratch: PathBuf,
}

impl Site {
    fn start(name: &str, rules: &[&str]) -> Self {
        let app_port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
        let app_origin = format!("http://127.0.0.1:{app_port}");
        let mut args = vec!["--auth", "jwt", "--jwt-secret", JWT_SECRET, "--allowed-origins", &app_origin];
        args.extend(rules);
        let gateway = Gateway::start(name, &args);
        let door = Proxy::start(Rules {
            target: gateway.url.trim_start_matches("http://").to_owned(),
            max_body: Some(6_000_000),
            ..Rules::default()
        });
        Self { door, gateway, app_port, scratch: scratch_dir(&format!("{name}-browser")) }
    }

    /// Runs `scenario` of uppy.py with the app at the door; returns its `result:` line's JSON.
    fn run(&self, app: &Path, scenario: &str) -> serde_json::Value {
        let (scratch, app) = (self.scratch.to_str().unwrap(), app.to_str().unwrap());
        let printed = run_script("uppy.py", &[scenario, scratch, app, &self.app_port, &self.door.url, JWT_SECRET]);
        print!("{printed}");
        let line = printed.lines().find_map(|line| line.strip_prefix("result: ")).expect("a result line");
        serde_json::from_str(line).expect("the result is JSON")
    }

    /// The door's requests whose line contains `needle` (`METHOD path?query status`).
    fn asked(&self, needle: &str) -> Vec<String> {
        self.door.requests(needle)
    }

    /// No upload came to the door: every file's bytes went straight to storage.
    fn assert_no_body_at_the_door(&self) {
        assert!(self.asked("PUT /").is_empty(), "an upload came to the door: {:?}", self.asked(""));
        assert!(self.asked(" 413").is_empty(), "{:?}", self.asked(""));
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
        let _ = std::fs::remove_dir_all(self.gateway.data_dir.parent().unwrap_or(&self.gateway.data_dir));
    }
}

#[test]
fn a_small_file_goes_up_in_one_presigned_put() {
    let Some(app) = app() else { return };
    let _turn = browser_turn();
    let site = Site::start("uppy-small", &RULES);
    let result = site.run(app, "small");
    assert_eq!(site.asked("GET /uppy/small.png?presign=PUT 200").len(), 1, "{:?}", site.asked(""));
    assert!(site.asked("?uploads").is_empty(), "{:?}", site.asked(""));
    // Uppy's location for a single PUT is the presigned URL without its query: storage's URL.
    assert!(result["location"].as_str().unwrap().ends_with("/uppy/small.png"), "{result}");
    site.assert_no_body_at_the_door();
}

#[test]
fn a_20_mib_file_goes_up_in_parts_and_completes() {
    let Some(app) = app() else { return };
    let _turn = browser_turn();
    let site = Site::start("uppy-multipart", &RULES);
    let result = site.run(app, "multipart");
    assert_eq!(site.asked("POST /uppy/big.jpg?uploads 200").len(), 1, "{:?}", site.asked(""));
    let parts = site.asked("GET /uppy/big.jpg?partNumber=");
    assert_eq!(parts.len(), 3, "one presign request per 8 MiB part: {parts:?}");
    assert!(parts.iter().all(|l| l.contains("&presign=PUT ") && l.ends_with(" 200")), "{parts:?}");
    assert_eq!(site.asked("POST /uppy/big.jpg?uploadId=").len(), 1, "{:?}", site.asked(""));
    assert_eq!(result["location"], format!("{}/uppy/big.jpg", site.door.url), "{result}");
    site.assert_no_body_at_the_door();
}

#[test]
fn a_cancel_aborts_the_multipart_upload() {
    let Some(app) = app() else { return };
    let _turn = browser_turn();
    let site = Site::start("uppy-cancel", &RULES);
    let result = site.run(app, "cancel");
    let upload = result["upload_id"].as_str().unwrap();
    assert_eq!(site.asked("GET /uppy/cancel.jpg?partNumber=").len(), 1, "{:?}", site.asked(""));
    // uppy.py waited for storage to forget the upload; the door logs the abort as its answer passes.
    let abort = format!("DELETE /uppy/cancel.jpg?uploadId={upload} 204");
    wait_until("the abort at the door", || site.asked(&abort).len() == 1);
    assert!(site.asked("POST /uppy/cancel.jpg?uploadId=").is_empty(), "{:?}", site.asked(""));
    site.assert_no_body_at_the_door();
}

#[test]
fn refusals_reach_uppy_with_the_gateway_s_reason() {
    let Some(app) = app() else { return };
    let _turn = browser_turn();
    let site = Site::start("uppy-refused", &["--allowed-types", "image/*", "--max-object-size", "1MiB"]);
    let result = site.run(app, "refused");
    // A single PUT is refused when the setup asks for its URL: the reason is Uppy's message.
    assert_eq!(result["notes.txt"]["message"], TYPE_REFUSED, "{result}");
    assert_eq!(site.asked("GET /uppy/notes.txt?presign=PUT 415").len(), 1, "{:?}", site.asked(""));
    assert_eq!(result["wide.png"]["message"], "uploads here take at most 1048576 bytes", "{result}");
    assert_eq!(site.asked("GET /uppy/wide.png?presign=PUT 413").len(), 1, "{:?}", site.asked(""));
    // A multipart upload is refused at its start, which Uppy sends itself: its message says
    // `S3 returned 415`, and the gateway's reason is in the error's body, S3's `<Error>` XML.
    assert!(result["long.txt"]["message"].as_str().unwrap().starts_with("S3 returned 415"), "{result}");
    assert_eq!(result["long.txt"]["reason"], TYPE_REFUSED, "{result}");
    assert_eq!(site.asked("POST /uppy/long.txt?uploads 415").len(), 1, "{:?}", site.asked(""));
    assert!(site.asked("?partNumber=").is_empty(), "{:?}", site.asked(""));
}

/// The README's Uppy section shows the setup these tests run, as it is.
#[test]
fn the_readme_shows_the_tested_setup() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let setup = std::fs::read_to_string(web_dir().join("uppy/setup.js")).unwrap();
    assert!(readme.contains(&format!("```js\n{setup}```\n")), "README.md must show tests/web/uppy/setup.js as it is");
}
