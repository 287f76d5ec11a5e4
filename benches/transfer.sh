#!/usr/bin/env bash
# Large transfers through the gateway on the embedded store: the CLI
# (`presign-gateway upload` / `download`, CRC64NVME checked end to end)
# against the same transfer done directly with curl on a presigned URL, side
# by side in one run, with the CLI's CPU time and peak RSS, and how long the
# store took to complete the multipart upload. Run by hand, not in CI.
#
#   bash benches/transfer.sh [SIZE_MIB]        # default 5120 (5 GiB); needs about 3 × SIZE free
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-5120}"
source benches/gateway.sh
file="$scratch/source.bin"
head -c "$((size_mib << 20))" /dev/urandom > "$file"
bytes=$(stat -c %s "$file")
echo "== $size_mib MiB ($bytes bytes), gateway $gateway, embedded store, loopback"

timed() { # label command... -> one line: seconds, MiB/s, CPU seconds per GiB, peak RSS
  local label="$1"
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$scratch/time" "$@" > "$scratch/out" 2> "$scratch/err" || { cat "$scratch/err" >&2; exit 1; }
  read -r secs user sys rss < "$scratch/time"
  echo "$secs" > "$scratch/secs"
  awk -v s="$secs" -v u="$user" -v y="$sys" -v b="$bytes" -v r="$rss" -v l="$label" 'BEGIN {
    printf "%-38s %7.1f s %8.1f MiB/s  CPU %5.2f s/GiB  peak RSS %7.1f MiB\n", l, s, b / s / 1048576, (u + y) / (b / 1073741824), r / 1024 }'
}

# Direct: one presigned PUT and GET, with curl, as fast as the store goes.
put_url=$(curl -s -X PUT -o /dev/null -w '%{redirect_url}' "$gateway/direct.bin")
direct_up=$(timed "curl, direct presigned PUT" curl -s --fail -T "$file" "$put_url" -o /dev/null)
d_up=$(cat "$scratch/secs")
curl -s -L -X DELETE "$gateway/direct.bin"

up=$(timed "CLI upload (parts, CRC64NVME)" "$bin" upload "$file" "$gateway/cli.bin")
cli_up=$(cat "$scratch/secs")
complete_us=$(grep -o 'operation="CompleteMultipartUpload" status=200 latency_us=[0-9]*' "$scratch/gateway.log" | tail -1 | sed 's/.*=//')

get_url=$(curl -s -o /dev/null -w '%{redirect_url}' "$gateway/cli.bin")
direct_down=$(timed "curl, direct presigned GET" curl -s --fail -o "$scratch/direct.down" "$get_url")
d_down=$(cat "$scratch/secs")
rm -f "$scratch/direct.down"
down=$(timed "CLI download (CRC64NVME checked)" "$bin" download "$gateway/cli.bin" "$scratch/cli.down")
cli_down=$(cat "$scratch/secs")
cmp -s "$file" "$scratch/cli.down" && identical="byte-identical" || identical="DIFFERENT"
rm -f "$scratch/cli.down"
curl -s -L -X DELETE "$gateway/cli.bin"
sha=$(timed "CLI upload, --sha256" "$bin" upload --sha256 "$file" "$gateway/sha.bin")
curl -s -L -X DELETE "$gateway/sha.bin"

echo "$direct_up"
echo "$up"
echo "$sha"
echo "$direct_down"
echo "$down"
echo "round trip: $identical"
awk -v du="$d_up" -v cu="$cli_up" -v dd="$d_down" -v cd="$cli_down" \
  'BEGIN { printf "CLI / direct throughput: upload %.0f%%, download %.0f%%\n", du / cu * 100, dd / cd * 100 }'
if [ -n "${complete_us:-}" ]; then awk -v c="$complete_us" \
  'BEGIN { printf "completing the multipart upload (gateway and store): %.1f ms\n", c / 1e3 }'; fi
