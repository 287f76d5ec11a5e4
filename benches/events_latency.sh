#!/usr/bin/env bash
# Does a receiver of upload events slow uploads? Small PUTs through the
# gateway on the embedded store, one after another, with four receivers
# side by side, alternating, in two rounds: none (`--notify-url` unset), a
# live one (answers 204 at once), a dead one (nothing listens: connection
# refused), and a black hole (accepts the connection and never answers, so
# every POST waits for its timeout). Run by hand, not in CI.
#
#   bash benches/events_latency.sh BIN [COUNT]   # default 200
set -euo pipefail
bin="$1"
count="${2:-200}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/presign-events.XXXXXX")"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT
head -c $((64 << 10)) /dev/urandom > "$scratch/small"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A receiver that answers every POST with 204.
live_port=$(free_port)
python3 - "$live_port" <<'EOF' 2>/dev/null &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Take(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Take).serve_forever()
EOF
# A black hole: listens, never accepts, never answers.
hole_port=$(free_port)
python3 -c 'import socket, sys, time; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1024); time.sleep(86400)' "$hole_port" &
dead_port=$(free_port)   # nothing listens here
sleep 0.5

start() { # notify-url or "" -> sets gateway
  rm -rf "$scratch/data" "$scratch/banner"
  local notify=()
  [ -n "$1" ] && notify=(--notify-url "$1")
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$scratch/data" "${notify[@]}" > "$scratch/banner" 2> "$scratch/log" &
  server=$!
  for _ in $(seq 1 100); do grep -q listening "$scratch/banner" 2>/dev/null && break; sleep 0.1; done
  gateway=$(head -1 "$scratch/banner" | sed 's/.* on //')
}
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }

seconds() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
small_puts() { for i in $(seq 1 "$count"); do curl -s --fail -L -T "$scratch/small" "$gateway/s/$i.bin" -o /dev/null; done; }

echo "== $count × 64 KiB PUTs one after another, by receiver"
for round in 1 2; do
  for receiver in none live dead blackhole; do
    case "$receiver" in
      none) url="" ;;
      live) url="http://127.0.0.1:$live_port/events" ;;
      dead) url="http://127.0.0.1:$dead_port/events" ;;
      blackhole) url="http://127.0.0.1:$hole_port/events" ;;
    esac
    start "$url"
    took=$(seconds small_puts)
    stop
    failures=$(grep -c "cannot deliver an upload event" "$scratch/log" || true)
    awk -v r="$round" -v n="$receiver" -v s="$took" -v c="$count" -v f="$failures" 'BEGIN {
      printf "round %d %-9s  %6.2f s  %6.1f PUT/s  %5.2f ms each   (delivery failures logged: %d)\n", r, n, s, c / s, s / c * 1000, f }'
  done
done
