#!/usr/bin/env bash
# Renditions against libvips (issue 21), for BENCHMARKS.md: the `thumb`
# preset (320x320, JPEG q82) made by `render::render` (through
# examples/thumbnail.rs, a process per thumbnail) and by `vipsthumbnail`
# (Debian's libvips-tools, which shrinks a JPEG while decoding it), side by
# side in one run, runs alternating so both see the same load:
# - time per thumbnail (process start to exit, median of RUNS) from a
#   12-megapixel JPEG and a 4000x3000 PNG;
# - throughput with 2 processes at once (thumbnails per second on 2 cores);
# - peak RSS (/usr/bin/time's maximum resident set) per megapixel.
# Also our in-process time per thumbnail (no process start, no file I/O).
#
#   bash benches/renditions.sh [RUNS]
#
# The inputs are made here by libvips: per-channel Perlin noise (soft shapes
# and gradients) plus Gaussian grain, saved as JPEG q90 (4.1 MB, like a
# phone photo) and PNG. Installs libvips-tools when it may. CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
target="${CARGO_TARGET_DIR:-target}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if ! command -v vipsthumbnail >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y -qq libvips-tools >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq libvips-tools >/dev/null; }
  else
    echo "vipsthumbnail is missing: apt-get install libvips-tools" >&2; exit 1
  fi
fi
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

cargo build --release --locked --quiet --no-default-features --example thumbnail
cp "$target/release/examples/thumbnail" "$scratch/thumbnail"

(
  cd "$scratch"
  for seed in 1 2 3; do vips perlin "p$seed.v" 4000 3000 --cell-size 384 --seed "$seed"; done
  vips bandjoin "p1.v p2.v p3.v" rgb.v
  vips linear rgb.v shaded.v 110 128
  vips gaussnoise grain.v 4000 3000 --sigma 12
  vips add shaded.v grain.v sum.v
  vips cast sum.v photo.v uchar
  vips copy photo.v photo.jpg[Q=90]
  vips copy photo.v photo.png
  rm -f ./*.v
)
echo "vips $(vips --version | cut -d- -f2), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
ls -l "$scratch/photo.jpg" "$scratch/photo.png" | awk '{print $NF ": " $5 " bytes"}'

python3 - "$runs" "$scratch" <<'PY'
import os, statistics, subprocess, sys, threading, time
runs, scratch = int(sys.argv[1]), sys.argv[2]
ours = os.path.join(scratch, "thumbnail")
megapixels = 12.0

def command(tool, src, n):
    out = os.path.join(scratch, f"out-{tool}-{n}.jpg")
    if tool == "ours":
        return [ours, src, out, "320x320"]
    # strip: no metadata in the thumbnail, as ours.
    return ["vipsthumbnail", src, "--size", "320x320", "-o", out + "[Q=82,strip]"]

def timed(argv, env=None):
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{argv}: {done.stderr}")
    return elapsed, int(done.stderr.strip().splitlines()[-1])

vips1 = dict(os.environ, VIPS_CONCURRENCY="1")
tools = [("ours", None), ("vips", None), ("vips1", vips1)]
label = {"ours": "render (ours)", "vips": "vipsthumbnail", "vips1": "vipsthumbnail, 1 thread"}
for kind in ["jpg", "png"]:
    src = os.path.join(scratch, f"photo.{kind}")
    times = {t: [] for t, _ in tools}
    rss = {t: [] for t, _ in tools}
    for n in range(runs):
        for tool, env in tools:
            elapsed, kib = timed(command(tool, src, 0), env)
            times[tool].append(elapsed)
            rss[tool].append(kib)
    # Throughput: two processes at once, each making `runs` thumbnails in turn.
    rate = {}
    for tool, env in tools[:2]:
        def loop(w, tool=tool, env=env):
            for _ in range(runs):
                subprocess.run(command(tool, src, w), env=env, check=True, capture_output=True)
        workers = [threading.Thread(target=loop, args=(w,)) for w in range(2)]
        started = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        rate[tool] = 2 * runs / (time.perf_counter() - started)
    inproc = subprocess.run([ours, src, os.path.join(scratch, "inproc.jpg"), "320x320", str(max(runs, 10))], capture_output=True, text=True, check=True).stdout.strip()
    base = statistics.median(times["vips"])
    print(f"\n{kind.upper()} 4000x3000 -> 320x240")
    print(f"{'':26} {'median':>9} {'min':>9} {'max':>9} {'vs vips':>8} {'2 procs':>12} {'peak RSS':>10} {'per MP':>9}")
    for tool, _ in tools:
        t = times[tool]
        peak = max(rss[tool]) / 1024
        r = f"{rate[tool]:7.1f} /s" if tool in rate else ""
        print(f"{label[tool]:26} {statistics.median(t)*1000:7.1f}ms {min(t)*1000:7.1f}ms {max(t)*1000:7.1f}ms {statistics.median(t)/base:7.2f}x {r:>12} {peak:7.1f} MB {peak/megapixels:6.2f} MB")
    print(f"render (ours) in-process: {inproc}")
PY
