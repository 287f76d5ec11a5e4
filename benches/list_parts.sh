#!/usr/bin/env bash
# Does one tenant's data slow another's uploads? ListParts of one small
# upload, timed before and after another key prefix fills with many small
# objects, for two builds side by side. Run by hand, not in CI.
#
#   bash benches/list_parts.sh BEFORE_BIN AFTER_BIN [OBJECTS]     # default 10000
set -euo pipefail
before="$1"
after="$2"
objects="${3:-10000}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/presign-list-parts.XXXXXX")"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT
head -c 1000 /dev/urandom > "$scratch/small"
head -c $((5 << 20)) /dev/urandom > "$scratch/part"

median_ms() { # url -> median of 21 ListParts through the gateway, in ms
  for _ in $(seq 1 21); do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done | sort -n | sed -n 11p | awk '{ printf "%.2f", $1 * 1000 }'
}

echo "== ListParts of one upload, before and after $objects other objects are stored"
for build in before after; do
  bin="$before"; [ "$build" = after ] && bin="$after"
  rm -rf "$scratch/data" "$scratch/banner"
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$scratch/data" > "$scratch/banner" 2> /dev/null &
  server=$!
  for _ in $(seq 1 100); do grep -q listening "$scratch/banner" 2>/dev/null && break; sleep 0.1; done
  gateway=$(head -1 "$scratch/banner" | sed 's/.* on //')
  id=$(curl -s -X POST -H 'Accept: application/json' "$gateway/mine/big.bin?uploads" | sed 's/.*"upload_id":"\([^"]*\)".*/\1/')
  curl -s -L -T "$scratch/part" "$gateway/mine/big.bin?partNumber=1&uploadId=$id" -o /dev/null
  empty=$(median_ms "$gateway/mine/big.bin?uploadId=$id")
  seq 1 "$objects" | xargs -P 8 -I{} curl -s -L -T "$scratch/small" "$gateway/others/{}.bin" -o /dev/null
  full=$(median_ms "$gateway/mine/big.bin?uploadId=$id")
  kill "$server"; wait "$server" 2>/dev/null || true
  echo "$build: ListParts median $empty ms alone, $full ms beside $objects objects"
done
