# Sourced by the transfer benchmarks: builds the release binary, starts it on
# the embedded store in a scratch folder removed on exit, and sets `bin`,
# `scratch` and `gateway` (the base URL).
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --bin presign-gateway
bin="$PWD/$target/release/presign-gateway"
case "$target" in /*) bin="$target/release/presign-gateway" ;; esac
scratch="$(mktemp -d "${TMPDIR:-/tmp}/presign-bench.XXXXXX")"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT

"$bin" serve --listen 127.0.0.1:0 --data-dir "$scratch/data" > "$scratch/banner" 2> "$scratch/gateway.log" &
for _ in $(seq 1 100); do grep -q listening "$scratch/banner" 2>/dev/null && break; sleep 0.1; done
gateway=$(head -1 "$scratch/banner" | sed 's/.* on //')
