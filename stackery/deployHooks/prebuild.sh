#!/usr/bin/env bash
# Pre-build hook: builds the Lambda artifact (arm64 Linux, release) into
# target/lambda/presign-gateway/bootstrap, so a missing toolchain or a compile
# error stops the deployment before anything is packaged.
#
# cargo-lambda cross-compiles with zig, so no Docker is needed. Cargo.toml's
# [package.metadata.lambda.build] leaves the embedded store out of this build.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v cargo >/dev/null 2>&1 || ! cargo lambda --version >/dev/null 2>&1; then
  cat >&2 <<'EOF'
prebuild: `cargo lambda` is not available.
  Install it with:   pip install cargo-lambda
  (the wheel brings zig, which cross-compiles to arm64 Linux; no Docker needed).
  It also needs a Rust toolchain: https://rustup.rs
EOF
  exit 1
fi

cargo lambda build --release --arm64

artifact="${CARGO_TARGET_DIR:-target}/lambda/presign-gateway/bootstrap"
if [ ! -f "$artifact" ]; then
  echo "prebuild: expected $artifact, but the build did not produce it" >&2
  exit 1
fi
echo "prebuild: built $artifact"
