#!/usr/bin/env bash
# Start-up, for BENCHMARKS.md: process start to the first 307 of `serve` on
# its embedded store (a new data folder each run, and one folder reused), and
# a Lambda cold start: the `--no-default-features` function started against
# `cargo lambda watch` (the runtime API emulator) to its first answered
# invocation. Runs alternate between the binaries named, so each sees the
# same load; compare the ratios, not the absolute numbers, on a busy machine.
#
#   bash benches/startup.sh [RUNS]                  # this checkout's release build
#   OLD=/path/to/older/presign-gateway bash benches/startup.sh   # and an older build beside it
#
# Needs cargo-lambda on the PATH (scripts/test puts it in its virtual
# environment) for the Lambda row. Binds 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
target="${CARGO_TARGET_DIR:-target}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cargo build --release --locked --quiet
cp "$target/release/presign-gateway" "$scratch/serve"
cargo build --release --locked --quiet --no-default-features
cp "$target/release/presign-gateway" "$scratch/lambda"
binaries=("new=$scratch/serve")
[ -n "${OLD:-}" ] && binaries+=("old=$OLD")

python3 - "$runs" "$scratch" "${binaries[@]}" <<'PY'
import shutil, socket, statistics, subprocess, sys, time
runs, scratch, named = int(sys.argv[1]), sys.argv[2], [b.split("=", 1) for b in sys.argv[3:]]
GET = b"GET /x.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def first_307(port, started, proc):
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(GET)
                if s.recv(12).startswith(b"HTTP/1.1 307"):
                    return (time.perf_counter() - started) * 1000
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"the server stopped: {proc.returncode}")
            time.sleep(0.0002)

def serve(binary, data):
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL)
    try:
        return first_307(port, started, proc)
    finally:
        proc.terminate(); proc.wait()

samples = {}
for run in range(runs):
    for name, binary in named:
        fresh = f"{scratch}/fresh-{name}-{run}"
        samples.setdefault((name, "serve, new data folder"), []).append(serve(binary, fresh))
        samples.setdefault((name, "serve, data folder reused"), []).append(serve(binary, f"{scratch}/reused-{name}"))
        shutil.rmtree(fresh, ignore_errors=True)

lambda_binary = f"{scratch}/lambda"
if shutil.which("cargo-lambda"):
    port = free_port()
    emulator = subprocess.Popen(["cargo-lambda", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
                                 "--invoke-port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        env = {"AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{port}/.rt", "AWS_LAMBDA_FUNCTION_NAME": "_",
               "AWS_LAMBDA_FUNCTION_VERSION": "1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
               "BUCKET_NAME": "presign-gateway", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9", "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "startup-bench", "AWS_SECRET_ACCESS_KEY": "startup-bench-secret", "PATH": "/usr/bin:/bin"}
        for run in range(runs):
            started = time.perf_counter()
            function = subprocess.Popen([lambda_binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                samples.setdefault(("lambda", "Lambda cold start to the first answered invocation"), []).append(
                    first_307(port, started, function))
            finally:
                function.kill(); function.wait()
    finally:
        emulator.terminate(); emulator.wait()
else:
    print("cargo-lambda is not on the PATH: no Lambda row (scripts/test installs it in its virtual environment)")

print(f"== process start to first answer, {runs} runs each, alternating")
for (name, what), values in samples.items():
    print(f"{name:7} {what:52} median {statistics.median(values):6.1f} ms   min {min(values):6.1f}   max {max(values):6.1f}")
PY
