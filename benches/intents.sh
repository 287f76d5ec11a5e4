#!/usr/bin/env bash
# What the upload log's intent costs an upload redirect: two release
# gateways on one `presign-gateway store`, alike but for the upload log (one
# with a local state file, `--state-dir`; one without, so no intent is
# written), driven side by side with wrk: PUT redirects (each writes one
# intent, a redb commit, with the log on) and GET redirects (which write
# nothing, as a control).
#
#   bash benches/intents.sh [DURATION_SECONDS] [ROUNDS]
#
# Needs wrk and curl. Binds 127.0.0.1 only; every server it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
rounds="${2:-2}"
source benches/lib.sh
need_wrk
release_gateway

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true
"$bin" store --listen 127.0.0.1:3300 --data-dir "$scratch/store" --log-level warn >/dev/null &
wait_for http://127.0.0.1:3300/
serve() { # PORT [ARGS...]
  local port="$1"
  shift
  "$bin" serve --listen "127.0.0.1:$port" --endpoint http://127.0.0.1:3300 --bucket presign-gateway \
    --log-level warn "$@" >/dev/null &
}
serve 3301 --state-dir "$scratch/state"
with_log=$!
serve 3302
without_log=$!
wait_for http://127.0.0.1:3301/x && wait_for http://127.0.0.1:3302/x

# Every PUT declares 5 bytes (the intent is one per caller and size, so
# each replaces the last: one write, as for a user signing one upload).
cat >"$scratch/put.lua" <<'LUA'
wrk.method = "PUT"
wrk.body = "hello"
wrk.headers["Content-Type"] = "text/plain"
LUA
put() { # NAME URL PID
  local name="$1" url="$2" pid="$3" before after out
  before=$(cpu_ticks "$pid")
  out=$(wrk --threads 2 --connections 64 --duration "${duration}s" --latency --script "$scratch/put.lua" "$url")
  after=$(cpu_ticks "$pid")
  echo "$out" | awk -v name="$name" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /Requests\/sec/ {rps = $2} /^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2} / requests in / {n = $1}
    /Socket errors/ {errors = errors " socket errors:" $0} /Non-2xx or 3xx/ {errors = errors " non-3xx:" $NF}
    END { cpu = n > 0 ? ticks / hz * 1e6 / n : 0
          printf "%-24s %10s req/s   p50 %8s   p99 %8s   CPU %5.1f us/request%s\n", name, rps, p50, p99, cpu, errors }'
}

path=/bench/photo.txt
echo "== wrk --threads 2 --connections 64, ${duration}s a run, ${rounds} rounds alternating; the gateways' own CPU per request"
for round in $(seq 1 "$rounds"); do
  put "PUT, upload log on" "http://127.0.0.1:3301$path" "$with_log" | tee -a "$scratch/results"
  put "PUT, upload log off" "http://127.0.0.1:3302$path" "$without_log" | tee -a "$scratch/results"
  load "GET, upload log on" "http://127.0.0.1:3301$path" "$with_log" | tee -a "$scratch/results"
  load "GET, upload log off" "http://127.0.0.1:3302$path" "$without_log" | tee -a "$scratch/results"
done
summarise "$scratch/results" "PUT, upload log off" "PUT, upload log on" | sed 's/ceiling/without the log/; s/gateway/with the log/g; s/ (target[^)]*)//g'
echo "== intents written: the state file is $(du -h "$scratch/state" | cut -f1)"
