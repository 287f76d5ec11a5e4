#!/usr/bin/env bash
# Load, memory, size and start-up numbers for BENCHMARKS.md, measured side by
# side in one run on loopback. Needs wrk (Debian package `wrk`).
#
#   bash benches/load.sh [DURATION_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
target="${CARGO_TARGET_DIR:-target}"
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet --bin presign-gateway --example constant_redirect
bin="$target/release/presign-gateway"
scratch="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT

wait_for() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }

load() { # name url
  wrk --threads 2 --connections 64 --duration "${duration}s" --latency "$2" \
    | awk -v name="$1" '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /^ +50%/ {p50=$2} END {printf "%-24s %10s req/s   p50 %8s   p99 %8s\n", name, rps, p50, p99}'
}

"$target/release/examples/constant_redirect" 127.0.0.1:3100 >/dev/null &
/usr/bin/time -f '%M' -o "$scratch/rss" "$bin" serve --listen 127.0.0.1:3101 --data-dir "$scratch/data" --log-level warn >/dev/null &
wait_for http://127.0.0.1:3100/x && wait_for http://127.0.0.1:3101/x

echo "== redirects per second, 64 connections, ${duration}s each (wrk on the same 2 cores)"
load "constant 307 (ceiling)" http://127.0.0.1:3100/reports/2024/Q3%20summary.pdf
load "presign-gateway" http://127.0.0.1:3101/reports/2024/Q3%20summary.pdf
load "constant 307 (again)" http://127.0.0.1:3100/reports/2024/Q3%20summary.pdf
load "presign-gateway (again)" http://127.0.0.1:3101/reports/2024/Q3%20summary.pdf

kill -INT "$(pgrep -f "^$bin serve --listen 127.0.0.1:3101")"
wait %2 2>/dev/null || true
echo "== peak RSS of the gateway after the load above: $(cat "$scratch/rss") KiB"

echo "== release binary size"
ls -l "$bin" | awk '{printf "presign-gateway (with the embedded store): %.1f MiB\n", $5 / 1048576}'

echo "== process start to first 307, 20 runs"
python3 - "$bin" "$scratch" <<'PY'
import socket, statistics, subprocess, sys, time
binary, scratch = sys.argv[1], sys.argv[2]
request = b"GET /x.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
samples = []
for run in range(20):
    port = 3200 + run
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", f"{scratch}/s{run}",
                             "--log-level", "warn"], stdout=subprocess.DEVNULL)
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request)
                if s.recv(12).startswith(b"HTTP/1.1 307"):
                    break
        except OSError:
            time.sleep(0.0005)
    samples.append((time.perf_counter() - started) * 1000)
    proc.terminate(); proc.wait()
print(f"median {statistics.median(samples):.1f} ms, max {max(samples):.1f} ms")
PY
