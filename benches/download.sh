#!/usr/bin/env bash
# Where a download's time goes: `presign-gateway download` against curl on a
# presigned GET, alternating, each to a file and to /dev/null, with the CPU
# each client used. Run by hand, not in CI.
#
#   bash benches/download.sh [SIZE_MIB] [ROUNDS]     # default 2048 MiB, 2 rounds
#
# BEFORE_BIN=path/to/an/earlier/presign-gateway adds that build's download to
# each round, for a before-and-after under the same load.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-2048}"
rounds="${2:-2}"
source benches/gateway.sh
head -c "$((size_mib << 20))" /dev/urandom > "$scratch/source.bin"
curl -s --fail -T "$scratch/source.bin" "$(curl -s -X PUT -o /dev/null -w '%{redirect_url}' "$gateway/x.bin")" -o /dev/null
rm -f "$scratch/source.bin"
echo "== $size_mib MiB from the embedded store, loopback"

timed() { # label command... -> seconds, user and system CPU
  local label="$1"
  shift
  /usr/bin/time -o "$scratch/time" -f "%e %U %S" "$@" > /dev/null 2>&1
  read -r secs user sys < "$scratch/time"
  printf '%-14s %7.2f s   cpu user %5.2f s  sys %5.2f s\n' "$label" "$secs" "$user" "$sys"
  rm -f "$scratch/out"
}
for _ in $(seq 1 "$rounds"); do
  timed "curl -> file" curl -s --fail -o "$scratch/out" "$(curl -s -o /dev/null -w '%{redirect_url}' "$gateway/x.bin")"
  timed "cli  -> file" "$bin" download "$gateway/x.bin" "$scratch/out"
  if [ -n "${BEFORE_BIN:-}" ]; then timed "before -> file" "$BEFORE_BIN" download "$gateway/x.bin" "$scratch/out"; fi
  timed "curl -> null" curl -s --fail -o /dev/null "$(curl -s -o /dev/null -w '%{redirect_url}' "$gateway/x.bin")"
  timed "cli  -> null" "$bin" download "$gateway/x.bin" -
  if [ -n "${BEFORE_BIN:-}" ]; then timed "before -> null" "$BEFORE_BIN" download "$gateway/x.bin" -; fi
done
