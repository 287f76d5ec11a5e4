//! The README runs as written: every ```sh block, in order, with the built
//! binary on `PATH`, against the servers the blocks themselves start. A block
//! whose first line is `# needs: …` (an AWS account, the Lambda emulator,
//! nightly Rust) is skipped, and says so in the README.
//!
//! Each block runs as a reader would run it, in a fresh `bash` with a clean
//! environment (only `PATH` and a `HOME` of its own), in one folder: a block
//! that starts the gateway (`cargo run`) in a shell of its own, as after a
//! Ctrl-C; a block whose first line is `# in another shell…` in a new shell;
//! any other block in the shell of the block before it, which must then be
//! such a shell. So a block that uses `G`, a secret or a token another shell
//! set fails here, as it would for the reader.
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
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
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

fn first_line(block: &Block) -> &str {
    block.text.lines().next().unwrap_or_default()
}

/// The shells the blocks run in, in order: each a script and whether it starts the gateway.
fn shells(blocks: &[Block]) -> Vec<(String, bool)> {
    let mut shells: Vec<(String, bool)> = Vec::new();
    for block in blocks.iter().filter(|block| !first_line(block).starts_with("# needs: ")) {
        let server = block.text.contains("cargo run");
        let another = first_line(block).starts_with("# in another shell");
        let marked = format!("echo '::: README line {}' >&2\n{}", block.line, block.text);
        match shells.last_mut() {
            Some((script, false)) if !server && !another => script.push_str(&marked),
            _ if server || another => shells.push((marked, server)),
            _ => panic!(
                "the README's block at line {} continues the shell of a block that starts the gateway, which \
                 that gateway holds: start it with `# in another shell…`",
                block.line
            ),
        }
    }
    shells
}

/// Writes the stand-ins for `cargo` (in `dir/bin`) and `scripts/test`.
fn stand_ins(dir: &Path, port: u16) -> PathBuf {
    let cargo = format!(
        r#"#!/usr/bin/env bash
# The README test's stand-in for cargo (tests/readme.rs).
set -euo pipefail
cd '{dir}'
case "${{1:-}}" in
  run)
    shift
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done
    [ "$#" -gt 0 ] && shift
    if [ -s gateway.pid ]; then
      old=$(cat gateway.pid)
      kill "$old" 2>/dev/null || true
      while kill -0 "$old" 2>/dev/null; do sleep 0.1; done
    fi
    LISTEN_ADDR=127.0.0.1:{port} presign-gateway "$@" > gateway.out 2> gateway.log < /dev/null &
    pid=$!
    echo "$pid" > gateway.pid
    for _ in $(seq 1 300); do
      grep -q "listening on" gateway.out 2>/dev/null && exit 0
      kill -0 "$pid" 2>/dev/null || {{ cat gateway.log >&2; exit 1; }}
      sleep 0.1
    done
    echo "the gateway did not start" >&2; cat gateway.log >&2; exit 1 ;;
  *) echo "(the README test stands in for: cargo $*)" ;;
esac
"#,
        dir = dir.display()
    );
    let test = "#!/bin/sh\necho '(the README test stands in for: scripts/test, which runs this test)'\n";
    let bin = dir.join("bin");
    for (path, text) in [(bin.join("cargo"), cargo.as_str()), (dir.join("scripts/test"), test)] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// Stops the gateway the last `cargo run` started.
struct StopGateway(PathBuf);

impl Drop for StopGateway {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.0.join("gateway.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

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
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let stand_ins = stand_ins(&dir, port);
    let stop = StopGateway(dir.clone());
    let binary = Path::new(env!("CARGO_BIN_EXE_presign-gateway"));
    let path = format!(
        "{}:{}:{}",
        stand_ins.display(),
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let shells = shells(&shell_blocks(&readme));
    assert!(shells.len() >= 5, "the README has too few shells to run: {}", shells.len());
    let mut transcript = String::new();
    for (script, _) in &shells {
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c"])
            .arg(script.replace("127.0.0.1:3000", &format!("127.0.0.1:{port}")))
            .current_dir(&dir)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        write!(transcript, "{stdout}{stderr}").unwrap();
        let failed_at = stderr.lines().rev().find_map(|l| l.strip_prefix("::: README line ")).unwrap_or("?");
        assert!(
            output.status.success(),
            "the README's block at line {failed_at} failed in a fresh shell:\n--- stdout\n{stdout}\n--- stderr\n\
             {stderr}\n--- gateway log\n{}",
            std::fs::read_to_string(dir.join("gateway.log")).unwrap_or_default()
        );
    }
    assert!(transcript.contains("upload events are signed with the secret: "), "{transcript}");
    // Alice's notes, read through the link she minted and through the one minted offline.
    assert_eq!(transcript.matches("alice's notes").count(), 2, "{transcript}");
    // Links an owner manages: used up, not bob's to revoke, revoked by alice.
    for said in ["has been used as many times as it allows", "\"error\":\"NoSuchLink\"", "was revoked by its owner"] {
        assert!(transcript.contains(said), "{said}: {transcript}");
    }
    drop(stop);
    let _ = std::fs::remove_dir_all(&dir);
}
