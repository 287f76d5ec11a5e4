#!/usr/bin/env bash
# Load, CPU, memory, size and start-up numbers for BENCHMARKS.md, measured
# side by side in one run on loopback: the release gateway (embedded store,
# metrics port on, access log written to a file as in production) against
# examples/constant_redirect.rs, an axum server on the same stack that
# answers every request with one fixed 307 and signs nothing (the ceiling).
#
#   bash benches/load.sh [DURATION_SECONDS] [ROUNDS]
#
# Needs wrk (Debian package `wrk`; installed here when run as root or with
# sudo) and curl. Binds 127.0.0.1 only; every server it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
rounds="${2:-2}"
target="${CARGO_TARGET_DIR:-target}"
source benches/lib.sh
need_wrk

release_gateway --example constant_redirect
path=/reports/2024/Q3%20summary.pdf

"$target/release/examples/constant_redirect" 127.0.0.1:3100 >/dev/null &
ceiling_pid=$!
/usr/bin/time -f '%M' -o "$scratch/rss" "$bin" serve --listen 127.0.0.1:3101 --metrics-listen 127.0.0.1:3102 \
  --data-dir "$scratch/data" >/dev/null 2>"$scratch/access.log" &
wait_for http://127.0.0.1:3100/x && wait_for http://127.0.0.1:3101/x
gateway_pid=$(pgrep -P $! presign-gateway)

echo "== redirects per second: wrk --threads 2 --connections 64, ${duration}s a run, ${rounds} rounds alternating"
echo "   (wrk shares the 2 cores; CPU is the server's own, user + system, per request answered)"
for round in $(seq 1 "$rounds"); do
  load "constant 307 (ceiling)" "http://127.0.0.1:3100$path" "$ceiling_pid" | tee -a "$scratch/results"
  load "presign-gateway" "http://127.0.0.1:3101$path" "$gateway_pid" | tee -a "$scratch/results"
  echo "   gateway RSS after round $round: $(rss_kib "$gateway_pid") KiB"
done
summarise "$scratch/results" "constant 307 (ceiling)" "presign-gateway"

answered=$(grep -c 'key="reports/2024/Q3 summary.pdf"' "$scratch/access.log")
errors=$(curl -s http://127.0.0.1:3102/metrics | awk '/^presign_gateway_requests_total/ && /status="5/ {n += $2} END {print n + 0}')
echo "== access log: $answered lines written to a file during the load ($(du -h "$scratch/access.log" | cut -f1)); 5xx answers: $errors"

kill -TERM "$gateway_pid"
wait %2 2>/dev/null || true
echo "== peak RSS of the gateway (embedded store included), over the whole run: $(cat "$scratch/rss") KiB"

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
