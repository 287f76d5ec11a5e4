#!/usr/bin/env bash
# Large transfers through the gateway on the embedded store: the CLI
# (`presign-gateway upload` / `download`) against the same transfer done
# directly with curl on a presigned URL, side by side in one run, with the
# CLI's peak RSS. Run by hand, not in CI.
#
#   bash benches/transfer.sh [SIZE_MIB]        # default 5120 (5 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-5120}"
source benches/gateway.sh
file="$scratch/source.bin"
head -c "$((size_mib << 20))" /dev/urandom > "$file"
bytes=$(stat -c %s "$file")
echo "== $size_mib MiB ($bytes bytes), gateway $gateway, embedded store, loopback"

timed() { # label command... -> one line with seconds, throughput and peak RSS
  local label="$1"
  shift
  /usr/bin/time -f "%e %M" -o "$scratch/time" "$@" > "$scratch/out" 2> "$scratch/err" || { cat "$scratch/err" >&2; exit 1; }
  read -r secs rss < "$scratch/time"
  echo "$secs" > "$scratch/secs"
  awk -v s="$secs" -v b="$bytes" -v r="$rss" -v l="$label" 'BEGIN { printf "%-34s %7.1f s %8.1f MiB/s  peak RSS %7.1f MiB\n", l, s, b / s / 1048576, r / 1024 }' 
}

# Direct: one presigned PUT and GET, with curl, as fast as storage goes.
put_url=$(curl -s -X PUT -o /dev/null -w '%{redirect_url}' "$gateway/direct.bin")
direct_up=$( { /usr/bin/time -f "%e" curl -s --fail -T "$file" "$put_url" -o /dev/null; } 2>&1 | tail -1 )
get_url=$(curl -s -o /dev/null -w '%{redirect_url}' "$gateway/direct.bin")
direct_down=$( { /usr/bin/time -f "%e" curl -s --fail -o "$scratch/direct.down" "$get_url"; } 2>&1 | tail -1 )
rm -f "$scratch/direct.down" "$scratch/data/presign-gateway/direct.bin"

up=$(timed "cli upload (parts, SHA-256, MD5)" "$bin" upload "$file" "$gateway/cli.bin")
cli_up=$(cat "$scratch/secs")
down=$(timed "cli download" "$bin" download "$gateway/cli.bin" "$scratch/cli.down")
cli_down=$(cat "$scratch/secs")
cmp -s "$file" "$scratch/cli.down" && echo "round trip: byte-identical"
complete_us=$(grep -o 'operation="CompleteMultipartUpload" status=200 latency_us=[0-9]*' "$scratch/gateway.log" | tail -1 | sed 's/.*=//')
rm -f "$scratch/cli.down"
bare=$(timed "cli upload, --no-sha256" "$bin" upload --no-sha256 "$file" "$gateway/bare.bin")
rm -f "$scratch/data/presign-gateway/bare.bin"

awk -v s="$direct_up" -v b="$bytes" 'BEGIN { printf "%-34s %7.1f s %8.1f MiB/s\n", "curl direct upload (presigned PUT)", s, b / s / 1048576 }'
echo "$up"
echo "$bare"
awk -v s="$direct_down" -v b="$bytes" 'BEGIN { printf "%-34s %7.1f s %8.1f MiB/s\n", "curl direct download (presigned GET)", s, b / s / 1048576 }'
echo "$down"
awk -v du="$direct_up" -v cu="$cli_up" -v dd="$direct_down" -v cd="$cli_down" \
  'BEGIN { printf "CLI / direct throughput: upload %.0f%%, download %.0f%%\n", du / cu * 100, dd / cd * 100 }'
if [ -n "${complete_us:-}" ]; then awk -v c="$complete_us" -v cu="$cli_up" \
  'BEGIN { printf "of the CLI upload, the embedded store spent %.1f s completing (joining the parts into one file)\n", c / 1e6 }'; fi
