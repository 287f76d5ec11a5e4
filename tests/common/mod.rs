//! Starts the real `presign-gateway` binary on free ports with a fresh data
//! folder, and runs real clients against it.

#![allow(dead_code)] // Each test binary uses its own part of this module.

pub mod images;
pub mod memory_storage;
pub mod moto;
pub mod oidc;
pub mod proxy;

use proxy::{Proxy, Rules};
pub mod scripts;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A child process that announced its URL on the first line of standard
/// output, with its standard error collected; killed when dropped.
pub struct Server {
    child: Child,
    /// The URL from the first line.
    pub url: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// The process id, to read its memory from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Spawns `command` and reads its first line, which must start with `banner`.
    pub fn spawn(command: Command, banner: &str) -> Self {
        Self::try_spawn(command, banner).unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// The same, saying why when the process does not start.
    pub fn try_spawn(command: Command, banner: &str) -> Result<Self, String> {
        Self::try_spawn_until(command, banner, banner).map(|(server, _)| server)
    }

    /// Spawns `command` and reads its banner, from a first line starting
    /// with `banner` to a line starting with `last`: the server and the
    /// banner's lines.
    pub fn spawn_until(command: Command, banner: &str, last: &str) -> (Self, Vec<String>) {
        Self::try_spawn_until(command, banner, last).unwrap_or_else(|failure| panic!("{failure}"))
    }

    fn try_spawn_until(mut command: Command, banner: &str, last: &str) -> Result<(Self, Vec<String>), String> {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let reader = collect(child.stderr.take().expect("stderr"), stderr.clone());
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut lines: Vec<String> = Vec::new();
        let failure = loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                break "the banner ended early";
            }
            lines.push(line.trim_end().to_owned());
            let Some(url) = lines[0].strip_prefix(banner).map(str::to_owned) else {
                break "unexpected banner";
            };
            if lines.last().is_some_and(|line| line.starts_with(last)) {
                return Ok((Self { child, url, stderr }, lines));
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        // The reader has the whole of a process that ended once it ends.
        let _ = reader.join();
        Err(format!("{failure}: {lines:?}; stderr: {}", stderr.lock().unwrap()))
    }

    /// What the process logged so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether the process logs `needle` within `limit` (its standard error
    /// is read by a thread of its own, so a line may arrive a moment late).
    pub fn logged(&self, needle: &str, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while !self.logs().contains(needle) {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }

    /// Sends SIGKILL, as a crash or `kill -9` would, and reaps the process.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a test that needs `tool` can run. A plain `cargo test` on a
/// machine without it skips the test with a line saying so; `scripts/test`
/// installs every tool and sets `PRESIGN_GATEWAY_REQUIRE_ALL_TESTS=1`, under
/// which a missing tool fails the test instead, so CI never skips silently.
pub fn tool_available(tool: &str, mut command: Command) -> bool {
    let runs = command.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|status| status.success());
    if runs {
        return true;
    }
    assert!(
        std::env::var_os("PRESIGN_GATEWAY_REQUIRE_ALL_TESTS").is_none(),
        "{tool} is missing, and PRESIGN_GATEWAY_REQUIRE_ALL_TESTS is set"
    );
    println!("skipped: {tool} is missing; scripts/test installs it");
    false
}

/// The binary under test, with no Lambda environment leaking in.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_presign-gateway"));
    command.env_remove("AWS_LAMBDA_RUNTIME_API");
    command
}

/// A running gateway on the embedded store, or on a separate store process.
pub struct Gateway {
    /// The process.
    pub server: Server,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The data folder.
    pub data_dir: PathBuf,
    /// The store process, when the gateway runs on one (`--endpoint`).
    pub store: Option<Store>,
}

/// The credentials a test's `presign-gateway store` accepts.
pub const STORE_ACCESS_KEY: &str = "test-store-key";
/// Its secret.
pub const STORE_SECRET_KEY: &str = "test-store-secret-0123456789";

/// `presign-gateway store` with known credentials, so a test can look inside
/// with an S3 client (the embedded store's index is the store process's own).
pub struct Store {
    /// The process.
    pub server: Server,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Its data folder.
    pub data_dir: PathBuf,
}

impl Store {
    /// Starts a store in a fresh data folder.
    pub fn start(name: &str) -> Self {
        Self::start_in(scratch_dir(name).join("data"), &[])
    }

    /// Starts a store on `data_dir` with `extra` flags (on a free loopback
    /// port unless they say `--listen`).
    pub fn start_in(data_dir: PathBuf, extra: &[&str]) -> Self {
        let mut command = binary();
        command.arg("store");
        if !extra.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command
            .arg("--data-dir")
            .arg(&data_dir)
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", STORE_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", STORE_SECRET_KEY);
        let server = Server::spawn(command, "embedded store listening on ");
        Self { url: server.url.clone(), server, data_dir }
    }

    /// An S3 client for it.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let credentials =
            aws_credential_types::Credentials::new(STORE_ACCESS_KEY, STORE_SECRET_KEY, None, None, "test");
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .force_path_style(true)
            .credentials_provider(credentials)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Runs `future` to its end.
    pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
    }

    /// Every key in the bucket, in order, listed page by page with ListObjectsV2.
    pub fn keys(&self) -> Vec<String> {
        let client = self.client();
        Self::block_on(async {
            let mut keys = Vec::new();
            let mut token = None;
            loop {
                let page = client
                    .list_objects_v2()
                    .bucket("presign-gateway")
                    .max_keys(100)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .expect("ListObjectsV2");
                keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
                token = page.next_continuation_token().map(str::to_owned);
                if token.is_none() {
                    return keys;
                }
            }
        })
    }

    /// The SHA-256 of the object under `key`, or `None` when there is none.
    pub fn sha256(&self, key: &str) -> Option<String> {
        let client = self.client();
        Self::block_on(async {
            match client.get_object().bucket("presign-gateway").key(key).send().await {
                Ok(object) => {
                    let bytes = object.body.collect().await.expect("the object's body").into_bytes();
                    Some(format!("{:x}", Sha256::digest(&bytes)))
                }
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key) =>
                {
                    None
                }
                Err(error) => panic!("GetObject {key}: {error:?}"),
            }
        })
    }
}

/// A fresh folder under the target directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

impl Gateway {
    /// Starts `presign-gateway serve` on a free port with `extra` flags.
    pub fn start(name: &str, extra: &[&str]) -> Self {
        Self::launch(scratch_dir(name).join("data"), extra, &[])
    }

    /// The same, on the data folder `data_dir` (which may hold objects already).
    pub fn start_in(data_dir: PathBuf, extra: &[&str]) -> Self {
        Self::launch(data_dir, extra, &[])
    }

    /// Starts `presign-gateway serve` on a free port with `extra` flags and `env` variables.
    pub fn start_with_env(name: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::launch(scratch_dir(name).join("data"), extra, env)
    }

    fn launch(data_dir: PathBuf, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::try_launch(data_dir, extra, env).unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Starts `presign-gateway serve` with `extra` flags, saying why when it does not start.
    pub fn try_start(name: &str, extra: &[&str]) -> Result<Self, String> {
        Self::try_launch(scratch_dir(name).join("data"), extra, &[])
    }

    fn try_launch(data_dir: PathBuf, extra: &[&str], env: &[(&str, &str)]) -> Result<Self, String> {
        let mut command = binary();
        command.envs(env.iter().copied());
        command.arg("serve").args(["--listen", "127.0.0.1:0"]);
        if !extra.contains(&"--endpoint") {
            command.arg("--data-dir").arg(&data_dir);
        }
        command.args(extra);
        let server = Server::try_spawn(command, "presign-gateway listening on ")?;
        Ok(Self { url: server.url.clone(), server, data_dir, store: None })
    }

    /// A gateway whose presigned URLs lead through a proxy following `rules`
    /// to its embedded store.
    pub fn behind_a_storage_proxy(name: &str, rules: &Rules) -> (Self, Proxy) {
        Self::behind_a_storage_proxy_with(name, rules, &[])
    }

    /// The same, with `extra` flags.
    pub fn behind_a_storage_proxy_with(name: &str, rules: &Rules, extra: &[&str]) -> (Self, Proxy) {
        with_a_free_port(|store_port| {
            let store = format!("127.0.0.1:{store_port}");
            let proxy = Proxy::start(Rules { target: store.clone(), ..rules.clone() });
            let mut args = extra.to_vec();
            args.extend(["--store-listen", &store, "--store-url", &proxy.url]);
            Self::try_start(name, &args).map(|gateway| (gateway, proxy))
        })
    }

    /// Starts `presign-gateway serve --endpoint` on `store`, with `extra` flags.
    pub fn start_on(store: Store, extra: &[&str]) -> Self {
        let mut command = binary();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--endpoint", &store.url, "--bucket", "presign-gateway"])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", STORE_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", STORE_SECRET_KEY)
            .env("AWS_REGION", "us-east-1");
        let server = Server::spawn(command, "presign-gateway listening on ");
        Self { url: server.url.clone(), server, data_dir: store.data_dir.clone(), store: Some(store) }
    }

    /// The SHA-256 of what storage holds under `key` (the full storage key),
    /// or `None` when it holds nothing: read with an S3 client from a store
    /// process, or else downloaded through the gateway (whose keys are then
    /// the storage keys: no prefix, no tenants).
    pub fn stored_sha256(&self, key: &str) -> Option<String> {
        if let Some(store) = &self.store {
            return store.sha256(key);
        }
        let path = scratch_dir("stored").join("object");
        let status = curl(&["-L", "-o", path.to_str().unwrap(), "-w", "%{http_code}", &self.at(&encode_key(key))]);
        match String::from_utf8_lossy(&status.stdout).as_ref() {
            "200" => Some(sha256(&path)),
            "404" => None,
            other => panic!("reading {key} back answered {other}"),
        }
    }

    /// The gateway URL of `path` (already percent-encoded).
    pub fn at(&self, path: &str) -> String {
        format!("{}/{}", self.url, path.trim_start_matches('/'))
    }

    /// The embedded store's own folder for the bucket (`index.redb`, `data/`, `tmp/`).
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join("v2").join("presign-gateway")
    }

    /// What the process logged so far.
    pub fn logs(&self) -> String {
        self.server.logs()
    }
}

fn collect(stream: ChildStderr, into: Arc<Mutex<String>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

/// `key` as a URL path: every segment percent-encoded, `/` kept.
pub fn encode_key(key: &str) -> String {
    key.split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs curl with `args`, failing the test if curl itself cannot run.
pub fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["--silent", "--show-error"])
        .args(args)
        .output()
        .expect("curl is installed (scripts/test installs it)")
}

/// Runs `start` with a port that was free a moment ago, for a server that
/// must be told its port before it starts (to name it in another setting).
/// Another process may take the port in between: then `start` fails with
/// "Address already in use" and runs again with another port.
pub fn with_a_free_port<T>(mut start: impl FnMut(u16) -> Result<T, String>) -> T {
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        match start(port) {
            Ok(started) => return started,
            Err(failure) if failure.contains("Address already in use") => {}
            Err(failure) => panic!("{failure}"),
        }
    }
    panic!("no free port after five tries")
}

/// A gateway on the embedded store with its metrics port on a port of its
/// own choosing: the server, its URL and the metrics port's base URL.
pub fn gateway_with_metrics(name: &str, extra: &[&str]) -> (Server, String, String) {
    let data_dir = scratch_dir(name).join("data");
    let mut command = binary();
    command.args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--data-dir"]);
    command.arg(&data_dir).args(extra);
    let (server, banner) = Server::spawn_until(command, "presign-gateway listening on ", "  download:");
    let url = server.url.clone();
    (server, url, metrics_base(&banner))
}

/// `http://ADDR` from the banner's `  metrics:  http://ADDR/metrics ...` line.
pub fn metrics_base(banner: &[String]) -> String {
    let line = banner.iter().find_map(|l| l.strip_prefix("  metrics:  ")).expect("a metrics line in the banner");
    line.split("/metrics").next().unwrap().to_owned()
}

/// Polls `ready` until it holds; gives up (failing the test) after a minute.
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a multipart upload of `key` through `gateway` (`POST ?uploads`), returning its id.
pub fn start_upload(gateway: &Gateway, key: &str) -> String {
    let (status, body) =
        curl_status(&["-X", "POST", "-H", "Accept: application/json", &gateway.at(&format!("{key}?uploads"))]);
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["upload_id"].as_str().unwrap().to_owned()
}

/// Runs curl and returns (HTTP status of the last response, body).
pub fn curl_status(args: &[&str]) -> (u16, String) {
    let mut all = args.to_vec();
    all.extend(["--write-out", "\n%{http_code}"]);
    let output = curl(&all);
    assert!(output.status.success(), "curl {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    (code.trim().parse().expect("status code"), body.to_owned())
}

/// The `Location` a request to `url` is redirected to, without following it.
pub fn location(method: &str, url: &str) -> String {
    let output = curl(&["--request", method, "--output", "/dev/null", "--write-out", "%{redirect_url}", url]);
    String::from_utf8(output.stdout).expect("utf-8 location")
}

/// Writes `size` bytes of repeatable pseudo-random data to `path`.
pub fn random_file(path: &Path, size: usize, seed: u64) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create file"));
    let mut state = seed | 1;
    let mut written = 0;
    let mut block = [0u8; 8];
    while written < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        block.copy_from_slice(&state.to_le_bytes());
        let n = (size - written).min(8);
        file.write_all(&block[..n]).expect("write");
        written += n;
    }
    file.flush().expect("flush");
}

/// The SHA-256 of a file, hex-encoded.
pub fn sha256(path: &Path) -> String {
    let mut file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).expect("hash");
    format!("{:x}", hasher.finalize())
}

/// An HS256 token for `sub` under `secret` (the tests' `--auth jwt
/// --jwt-secret`), good for ten minutes.
pub fn hs256_token(secret: &str, sub: &str) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
    let claims = serde_json::json!({ "sub": sub, "exp": exp });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// `curl -L --path-as-is` with `Authorization: Bearer <bearer>` when one is
/// given, `args` before `url`: the final status and the body.
pub fn curl_as(bearer: Option<&str>, args: &[&str], url: &str) -> (u16, String) {
    let auth = bearer.map(|bearer| format!("Authorization: Bearer {bearer}"));
    let mut all = vec!["--path-as-is", "--location"];
    if let Some(auth) = &auth {
        all.extend(["-H", auth.as_str()]);
    }
    all.extend_from_slice(args);
    all.push(url);
    curl_status(&all)
}
