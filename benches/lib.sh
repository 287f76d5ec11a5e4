# Shared by benches/load.sh, soak.sh and shutdown.sh (sourced, not run).

# wrk comes from Debian; install it when we may, else say how.
need_wrk() {
  command -v wrk >/dev/null && return 0
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  elif command -v sudo >/dev/null; then
    sudo apt-get install -y -qq wrk >/dev/null
  fi
  command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
}

wait_for() { for _ in $(seq 1 400); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }

# Resident memory of a process, in KiB.
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# User + system CPU of a process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# load NAME URL PID: one wrk run; prints name, requests/s, p50, p99, the
# server's CPU per request in µs, and any errors wrk saw.
load() {
  local name="$1" url="$2" pid="$3" before after out
  before=$(cpu_ticks "$pid")
  out=$(wrk --threads 2 --connections 64 --duration "${duration}s" --latency "$url")
  after=$(cpu_ticks "$pid")
  echo "$out" | awk -v name="$name" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /Requests\/sec/ {rps = $2}
    /^ +50%/ {p50 = $2}
    /^ +99%/ {p99 = $2}
    / requests in / {n = $1}
    /Socket errors/ {errors = errors " socket errors:" $0}
    /Non-2xx or 3xx/ {errors = errors " non-3xx:" $NF}
    END {
      cpu = n > 0 ? ticks / hz * 1e6 / n : 0
      printf "%-24s %10s req/s   p50 %8s   p99 %8s   CPU %5.1f us/request%s\n", name, rps, p50, p99, cpu, errors
    }'
}

# summarise FILE CEILING GATEWAY: means over the rounds, and the ratios.
summarise() {
  local file="$1" ceiling="$2" gateway="$3"
  awk -v c="$ceiling" -v g="$gateway" '
    function us(t) { if (t ~ /us$/) return t + 0; if (t ~ /ms$/) return t * 1000; if (t ~ /s$/) return t * 1e6; return t }
    {
      name = substr($0, 1, 24); sub(/ +$/, "", name)
      for (i = 1; i <= NF; i++) {
        if ($i == "req/s") rps[name] += $(i - 1)
        if ($i == "p99") p99[name] += us($(i + 1))
        if ($i == "CPU") cpu[name] += $(i + 1)
      }
      runs[name]++
    }
    END {
      printf "== means: ceiling %.0f req/s, p99 %.0f us, CPU %.1f us/request; gateway %.0f req/s, p99 %.0f us, CPU %.1f us/request\n",
        rps[c] / runs[c], p99[c] / runs[c], cpu[c] / runs[c], rps[g] / runs[g], p99[g] / runs[g], cpu[g] / runs[g]
      printf "== gateway / ceiling: %.0f%% of the requests per second (target: at least 50%%), p99 %.2f times (target: at most 1.5)\n",
        100 * rps[g] / rps[c], p99[g] / p99[c]
    }' "$file"
}

# Builds the release gateway (with any more `cargo build` arguments), sets
# $bin to it and $scratch to a fresh folder; on exit every server the script
# started is stopped and the folder removed.
release_gateway() {
  cargo build --release --quiet --bin presign-gateway "$@"
  bin="${CARGO_TARGET_DIR:-target}/release/presign-gateway"
  scratch="$(mktemp -d)"
  trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT
}
