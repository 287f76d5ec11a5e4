//! A real OpenID provider for the tests: panva's `oidc-provider` from npm
//! (pinned in tests/oidc/package-lock.json, installed by scripts/test), run
//! by tests/oidc/provider.mjs on a free loopback port. The test talks to it
//! one line at a time: rotate its key, stop and start it, sign a user in
//! through its forms, or sign claims with its key.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The client the provider knows: public, Authorization Code with PKCE.
pub const CLIENT_ID: &str = "files-page";

/// A running provider; killed when dropped.
pub struct OidcProvider {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT`, the issuer exactly as tokens name it.
    pub issuer: String,
}

/// Whether Node and the provider's packages are here (a test is skipped
/// without them, or fails under `PRESIGN_GATEWAY_REQUIRE_ALL_TESTS`).
pub fn available() -> bool {
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/node_modules/oidc-provider").is_dir();
    if !installed {
        assert!(
            std::env::var_os("PRESIGN_GATEWAY_REQUIRE_ALL_TESTS").is_none(),
            "tests/oidc/node_modules is missing (scripts/test runs npm ci there), and PRESIGN_GATEWAY_REQUIRE_ALL_TESTS is set"
        );
        println!("skipped: tests/oidc/node_modules is missing; scripts/test installs it");
        return false;
    }
    super::tool_available("node", {
        let mut command = Command::new("node");
        command.arg("--version");
        command
    })
}

impl OidcProvider {
    /// Starts the provider and reads its issuer from its first line.
    pub fn start() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node");
        let input = child.stdin.take().expect("stdin");
        let mut output = BufReader::new(child.stdout.take().expect("stdout"));
        let mut banner = String::new();
        output.read_line(&mut banner).expect("the provider's banner");
        let issuer = banner
            .trim()
            .strip_prefix("oidc provider listening on ")
            .unwrap_or_else(|| panic!("unexpected banner: {banner:?}"))
            .to_owned();
        Self { child, input, output, issuer }
    }

    /// Sends one command and returns its answer, which must not be an error.
    pub fn ask(&mut self, command: &str) -> String {
        writeln!(self.input, "{command}").expect("write to the provider");
        self.input.flush().expect("flush");
        let mut answer = String::new();
        self.output.read_line(&mut answer).expect("the provider's answer");
        let answer = answer.trim().to_owned();
        assert!(!answer.starts_with("error") && !answer.is_empty(), "{command}: {answer:?}");
        answer
    }

    fn token(&mut self, command: &str) -> String {
        let answer = self.ask(command);
        answer.strip_prefix("token ").unwrap_or_else(|| panic!("{command}: {answer}")).to_owned()
    }

    /// An ID token for `sub`, through the provider's login and consent forms.
    pub fn login(&mut self, sub: &str) -> String {
        self.token(&format!("login {sub}"))
    }

    /// `claims` signed with the provider's current key.
    pub fn sign(&mut self, claims: &serde_json::Value) -> String {
        self.token(&format!("sign {claims}"))
    }

    /// `claims` signed with the provider's current key, the header naming `kid` instead of its own.
    pub fn sign_as(&mut self, kid: &str, claims: &serde_json::Value) -> String {
        self.token(&format!("sign-as {kid} {claims}"))
    }

    /// How many times the provider's JWKS was fetched so far.
    pub fn jwks_fetches(&mut self) -> u64 {
        self.ask("fetches").strip_prefix("ok ").and_then(|n| n.parse().ok()).expect("a count")
    }

    /// `claims` as HS256 "signed" with the provider's public key (algorithm confusion).
    pub fn hs256_with_public_key(&mut self, claims: &serde_json::Value) -> String {
        self.token(&format!("hs256 {claims}"))
    }

    /// `claims` with `alg: none`.
    pub fn unsigned(&mut self, claims: &serde_json::Value) -> String {
        self.token(&format!("none {claims}"))
    }

    /// Signs with a new key from now on; the old one leaves the JWKS. Returns the new `kid`.
    pub fn rotate(&mut self) -> String {
        self.ask("rotate").strip_prefix("ok ").expect("a kid").to_owned()
    }

    /// Closes the port: the provider is down.
    pub fn stop(&mut self) {
        self.ask("stop");
    }

    /// Opens the port again.
    pub fn restart(&mut self) {
        self.ask("start");
    }

    /// Accepts `uri` as the test client's redirect URI too.
    pub fn allow_redirect(&mut self, uri: &str) {
        self.ask(&format!("redirect {uri}"));
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
