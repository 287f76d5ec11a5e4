#!/usr/bin/env bash
# A soak at full load: the release gateway (embedded store, metrics port on,
# access log written to a file) under wrk, 64 connections, minute after
# minute, with its requests per second, p99, CPU per request and resident
# memory each minute, and at the end every answer counted: the access log's
# lines, wrk's responses, and the 5xx the metrics saw.
#
#   bash benches/soak.sh [MINUTES]      # 10 for BENCHMARKS.md
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
duration=60
source benches/lib.sh
need_wrk

release_gateway
"$bin" serve --listen 127.0.0.1:3111 --metrics-listen 127.0.0.1:3112 --data-dir "$scratch/data" \
  >/dev/null 2>"$scratch/access.log" &
pid=$!
wait_for http://127.0.0.1:3111/x
echo "== soak: ${minutes} minutes of wrk --threads 2 --connections 64; RSS at start $(rss_kib "$pid") KiB"
total=0
for minute in $(seq 1 "$minutes"); do
  before=$(cpu_ticks "$pid")
  out=$(wrk --threads 2 --connections 64 --duration "${duration}s" --latency "http://127.0.0.1:3111/reports/2024/Q3%20summary.pdf")
  after=$(cpu_ticks "$pid")
  n=$(echo "$out" | awk '/ requests in / {print $1}')
  total=$((total + n))
  echo "$out" | awk -v m="$minute" -v rss="$(rss_kib "$pid")" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /Requests\/sec/ {rps = $2} /^ +99%/ {p99 = $2} / requests in / {n = $1}
    /Socket errors/ {e = e " " $0} /Non-2xx or 3xx/ {e = e " non-3xx: " $NF}
    END {printf "minute %2d: %9s req/s   p99 %8s   CPU %5.1f us/request   RSS %6d KiB%s\n", m, rps, p99, ticks / hz * 1e6 / n, rss, e}'
done
sleep 1
answered=$(grep -c 'key="reports/2024/Q3 summary.pdf"' "$scratch/access.log")
curl -s http://127.0.0.1:3112/metrics > "$scratch/metrics"
awk '/^presign_gateway_requests_total/ {
       split($0, parts, "status=\""); split(parts[2], s, "\""); by[s[1]] += $NF }
     END {for (status in by) printf "== answered with %s: %d\n", status, by[status]}' "$scratch/metrics"
echo "== wrk received $total responses; the access log has $answered lines ($(du -h "$scratch/access.log" | cut -f1))"
