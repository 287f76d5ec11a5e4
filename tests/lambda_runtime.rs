//! The real Lambda runtime loop, offline: `cargo lambda watch
//! --only-lambda-apis` emulates the Lambda runtime API and turns HTTP
//! requests into payload 2.0 events, the gateway binary runs as the function
//! against it, and `presign-gateway store` is the bucket. curl then uploads
//! and downloads through it, and `cargo lambda invoke` plays the real event
//! payloads of tests/data.
//!
//! `scripts/test` installs `cargo-lambda` (`pip install cargo-lambda`) into
//! its virtual environment and puts it on the PATH.

mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    STORE_ACCESS_KEY, STORE_SECRET_KEY, Store, binary, curl, curl_status, random_file, scratch_dir, sha256,
    tool_available,
};

fn cargo_lambda() -> Command {
    Command::new(std::env::var("CARGO_LAMBDA").unwrap_or_else(|_| "cargo-lambda".to_owned()))
}

/// Whether cargo-lambda can run here (see [`tool_available`]).
fn emulator_available() -> bool {
    let mut version = cargo_lambda();
    version.args(["lambda", "--version"]);
    tool_available("cargo-lambda", version)
}

/// Kills the child when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The emulator, the store, and the function polling the emulator.
struct Emulated {
    _emulator: Guard,
    store: Store,
    _function: Guard,
    port: u16,
    /// The function's standard error: its log lines.
    log: std::path::PathBuf,
}

fn start(name: &str) -> Emulated {
    let port = free_port();
    let emulator = cargo_lambda()
        .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port"])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo-lambda is installed (scripts/test installs it with pip)");
    let emulator = Guard(emulator);
    wait_for_port(port);

    let store = Store::start(name);
    let log = store.data_dir.with_file_name("function.log");

    let function = binary()
        .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("BUCKET_NAME", "presign-gateway")
        .env("AWS_ENDPOINT_URL_S3", &store.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", STORE_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", STORE_SECRET_KEY)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("the function's log file"))
        .spawn()
        .expect("start the function");
    Emulated { _emulator: emulator, store, _function: Guard(function), port, log }
}

/// 3 MiB of text: the emulator answers 500 to bodies that are not UTF-8,
/// where API Gateway would base64-encode them.
fn text_file(path: &std::path::Path) {
    let line = "presign-gateway through the Lambda runtime loop, 0123456789\n";
    std::fs::write(path, line.repeat((3 << 20) / line.len())).unwrap();
}

#[test]
fn curl_uploads_and_downloads_through_the_lambda_runtime() {
    if !emulator_available() {
        return;
    }
    let lambda = start("lambda-curl");
    let url = format!("http://127.0.0.1:{}/dir/via%20lambda%2Bruntime.txt", lambda.port);
    let file = scratch_dir("lambda-curl-files").join("up.txt");
    text_file(&file);

    let (status, body) = curl_status(&["--location", "--upload-file", file.to_str().unwrap(), &url]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(lambda.store.sha256("dir/via lambda+runtime.txt"), Some(sha256(&file)));

    let down = file.with_extension("down");
    let (status, _) = curl_status(&["--location", "--output", down.to_str().unwrap(), &url]);
    assert_eq!(status, 200);
    assert_eq!(sha256(&down), sha256(&file));

    let head = String::from_utf8(curl(&["--location", "--head", &url]).stdout).unwrap().to_lowercase();
    assert!(head.contains(&format!("content-length: {}", std::fs::metadata(&file).unwrap().len())), "{head}");
    assert!(head.contains("content-type: text/plain"), "{head}");
    assert_eq!(curl_status(&["--location", "-X", "DELETE", &url]).0, 204);
    assert_eq!(curl_status(&["--location", &url]).0, 404);

    // Each access log line is CloudWatch Embedded Metric Format, written before the answer.
    let log = std::fs::read_to_string(&lambda.log).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    let operations: Vec<(&str, u64)> =
        lines.iter().map(|l| (l["operation"].as_str().unwrap(), l["status"].as_u64().unwrap())).collect();
    for expected in [("PutObject", 307), ("GetObject", 307), ("HeadObject", 307), ("DeleteObject", 307)] {
        assert!(operations.contains(&expected), "no EMF line for {expected:?} in {log}");
    }
    for line in &lines {
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "presign-gateway", "{line}");
        assert_eq!((line["requests"].as_u64(), line["status_class"].as_str()), (Some(1), Some("3xx")), "{line}");
        assert!(!line.to_string().contains("X-Amz-Signature"), "{line}");
    }
}

#[test]
fn asking_for_the_location_first_keeps_the_body_off_the_front_door() {
    if !emulator_available() {
        return;
    }
    let lambda = start("lambda-two-step");
    let url = format!("http://127.0.0.1:{}/big.bin", lambda.port);
    let file = scratch_dir("lambda-two-step-files").join("big.bin");
    random_file(&file, 12 << 20, 22);

    let output = curl(&["--request", "PUT", "--output", "/dev/null", "--write-out", "%{redirect_url}", &url]);
    let location = String::from_utf8(output.stdout).unwrap();
    assert!(location.contains("X-Amz-Signature="), "{location:?}");
    let (status, body) = curl_status(&["--upload-file", file.to_str().unwrap(), &location]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(lambda.store.sha256("big.bin"), Some(sha256(&file)));
}

#[test]
fn real_event_payloads_run_through_the_runtime_loop() {
    if !emulator_available() {
        return;
    }
    let lambda = start("lambda-invoke");
    // The ALB fixture is a browser's GET / (Accept: text/html): the page.
    let expected = [("rest-api", 307), ("http-api", 405), ("function-url", 307), ("alb", 200)];
    for (fixture, status) in expected {
        let output = cargo_lambda()
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(lambda.port.to_string())
            .arg("--data-file")
            .arg(format!("{}/tests/data/{fixture}.json", env!("CARGO_MANIFEST_DIR")))
            .arg("_")
            .output()
            .expect("cargo-lambda invoke");
        assert!(output.status.success(), "{fixture}: {}", String::from_utf8_lossy(&output.stderr));
        let response: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON response");
        assert_eq!(response["statusCode"], status, "{fixture}: {response:#}");
    }
}
