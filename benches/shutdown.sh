#!/usr/bin/env bash
# SIGTERM under load: wrk drives the release gateway (access log to a file)
# and the gateway gets SIGTERM half way. Every request it read must get its
# answer: the access log (one line per answer, written before the answer
# leaves) must have exactly as many lines as wrk received responses, and the
# gateway must exit cleanly. wrk's errors after the signal are connections
# the gateway no longer accepts, or idle keep-alive connections it closed.
#
#   bash benches/shutdown.sh [DURATION_SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-6}"
rounds="${2:-5}"
source benches/lib.sh
need_wrk

release_gateway
for round in $(seq 1 "$rounds"); do
  "$bin" serve --listen 127.0.0.1:3121 --data-dir "$scratch/data" >/dev/null 2>"$scratch/access-$round.log" &
  pid=$!
  wait_for http://127.0.0.1:3121/x
  wrk --threads 2 --connections 64 --duration "${duration}s" "http://127.0.0.1:3121/reports/q3.pdf" > "$scratch/wrk-$round" &
  wrk_pid=$!
  sleep "$((duration / 2))"
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  wait "$wrk_pid" || true
  answered=$(grep -c 'key="reports/q3.pdf"' "$scratch/access-$round.log")
  received=$(awk '/ requests in / {print $1}' "$scratch/wrk-$round")
  errors=$(awk '/Socket errors/ {sub(/^ +/, ""); print}' "$scratch/wrk-$round")
  verdict=$([ "$answered" -eq "$received" ] && [ "$status" -eq 0 ] && echo "no answer lost" || echo "MISMATCH")
  echo "round $round: gateway answered $answered, wrk received $received, exit status $status: $verdict${errors:+ ($errors)}"
done
