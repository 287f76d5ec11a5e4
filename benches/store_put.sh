#!/usr/bin/env bash
# The embedded store's own PUT throughput, for two builds side by side (the
# code before a change and after it), alternating: one large PUT, and many
# small ones one after another (where a durable write's syncs show), each
# with curl on presigned URLs over loopback. `dd` with and without
# `conv=fsync` on the same disk shows what syncing costs there.
# Run by hand, not in CI.
#
#   bash benches/store_put.sh BEFORE_BIN AFTER_BIN [LARGE_MIB] [SMALL_COUNT]   # defaults 1024 and 300
set -euo pipefail
before="$1"
after="$2"
large_mib="${3:-1024}"
count="${4:-300}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/presign-store-put.XXXXXX")"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT
head -c "$((large_mib << 20))" /dev/urandom > "$scratch/large"
head -c $((64 << 10)) /dev/urandom > "$scratch/small"

start() { # binary -> sets gateway
  rm -rf "$scratch/data" "$scratch/banner"
  "$1" serve --listen 127.0.0.1:0 --data-dir "$scratch/data" > "$scratch/banner" 2> /dev/null &
  server=$!
  for _ in $(seq 1 100); do grep -q listening "$scratch/banner" 2>/dev/null && break; sleep 0.1; done
  gateway=$(head -1 "$scratch/banner" | sed 's/.* on //')
}
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }

seconds() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
large_put() { curl -s --fail -T "$scratch/large" "$(curl -s -X PUT -o /dev/null -w '%{redirect_url}' "$gateway/large.bin")" -o /dev/null; }
small_puts() { for i in $(seq 1 "$count"); do curl -s --fail -L -T "$scratch/small" "$gateway/s/$i.bin" -o /dev/null; done; }

echo "== store PUT: $large_mib MiB once, then $count × 64 KiB one after another"
for round in 1 2; do
  for build in before after; do
    bin="$before"; [ "$build" = after ] && bin="$after"
    start "$bin"
    big=$(seconds large_put)
    small=$(seconds small_puts)
    stop
    awk -v r="$round" -v n="$build" -v b="$big" -v m="$large_mib" -v s="$small" -v c="$count" 'BEGIN {
      printf "round %d %-6s  large: %6.2f s %7.1f MiB/s   small: %6.2f s  %6.1f PUT/s  %5.2f ms each\n", r, n, b, m / b, s, c / s, s / c * 1000 }'
  done
done
rm -rf "$scratch/data"
dd_plain=$(seconds dd if="$scratch/large" of="$scratch/dd.out" bs=1M status=none)
rm -f "$scratch/dd.out"
dd_sync=$(seconds dd if="$scratch/large" of="$scratch/dd.out" bs=1M conv=fsync status=none)
rm -f "$scratch/dd.out"
awk -v p="$dd_plain" -v s="$dd_sync" -v m="$large_mib" 'BEGIN {
  printf "dd %d MiB on the same disk: %.2f s without a sync (%.0f MiB/s), %.2f s with conv=fsync (%.0f MiB/s)\n", m, p, m / p, s, m / s }'
