//! The README runs as written: every ```sh block, in order, in one bash
//! session, with the built binary on `PATH`, against the servers the blocks
//! themselves start. A block whose first line is `# needs: …` (an AWS
//! account, the Lambda emulator, nightly Rust) is skipped, and says so in the
//! README.
//!
//! Two commands are stood in for, because they would build or test the
//! project a second time: `cargo run --release [-- ARGS]` runs the binary
//! under test (`presign-gateway ARGS`) in the background, stopping the one
//! an earlier block started, and waits until it listens; `cargo install`,
//! `cargo build` and `scripts/test` print what they would do. The README's
//! `127.0.0.1:3000` becomes a free port, so the test never collides with
//! anything else on the machine.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use common::{scratch_dir, tool_available};

/// One ```sh block: where it starts in the README, and its text.
struct Block {
    line: usize,
    text: String,
}

fn shell_blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (number, line) in readme.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(Block { line: number + 1, text: String::new() }),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), line) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

fn skipped(block: &Block) -> bool {
    block.text.lines().next().unwrap_or_default().starts_with("# needs: ")
}

const PRELUDE: &str = r#"
set -euo pipefail
gateway_pid=
stop_gateway() { if [ -n "$gateway_pid" ]; then kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true; gateway_pid=; fi; }
trap stop_gateway EXIT
cargo() {
  case "$1" in
    run)
      shift
      while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done
      [ "$#" -gt 0 ] && shift
      stop_gateway
      presign-gateway "$@" > gateway.out 2> gateway.log &
      gateway_pid=$!
      for _ in $(seq 1 300); do
        grep -q "listening on" gateway.out 2>/dev/null && return 0
        kill -0 "$gateway_pid" 2>/dev/null || { cat gateway.log >&2; return 1; }
        sleep 0.1
      done
      echo "the gateway did not start" >&2; cat gateway.log >&2; return 1 ;;
    *) echo "(the README test stands in for: cargo $*)" ;;
  esac
}
scripts/test() { echo "(the README test stands in for: scripts/test, which runs this test)"; }
"#;

#[test]
fn the_readme_runs_as_written() {
    if !tool_available("curl", {
        let mut curl = Command::new("curl");
        curl.arg("--version");
        curl
    }) {
        return;
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = scratch_dir("readme");
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_presign-gateway"));
    let mut script = String::from(PRELUDE);
    let mut ran = Vec::new();
    for block in shell_blocks(&readme) {
        if skipped(&block) {
            continue;
        }
        writeln!(script, "echo '::: README line {}' >&2", block.line).unwrap();
        script.push_str(&block.text.replace("127.0.0.1:3000", &format!("127.0.0.1:{port}")));
        ran.push(block.line);
    }
    assert!(ran.len() >= 5, "the README has too few shell blocks to run: {ran:?}");
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("PATH", format!("{}:{}", binary.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default()))
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("PRESIGN_GATEWAY_STATE_DIR", dir.join("state"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failed_at = stderr.lines().rev().find_map(|l| l.strip_prefix("::: README line ")).unwrap_or("?");
    assert!(
        output.status.success(),
        "the README's block at line {failed_at} failed:\n--- stdout\n{}\n--- stderr\n{stderr}\n--- gateway log\n{}",
        String::from_utf8_lossy(&output.stdout),
        std::fs::read_to_string(dir.join("gateway.log")).unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
