#!/usr/bin/env bash
# Browser uploads against curl (issue 19): the gateway's page uploading one
# file in headless Chromium and Firefox ESR, and curl's single presigned PUT
# of the same file, taking turns, on loopback and through a proxy throttled
# to 1 Gbit/s in front of the embedded store; then copies of the module with
# other part sizes and parallelism, to see where the page's time goes. Builds
# the release binary; benches/browser.py starts everything else on 127.0.0.1
# and prints the tables. Run by hand, not in CI.
#
#   bash benches/browser.sh [SIZE_MIB] [ROUNDS] [MORE browser.py ARGUMENTS]   # defaults 200 and 5
#   bash benches/browser.sh 200 5 --engines chromium --experiments none
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-200}"
rounds="${2:-5}"
shift $(($# > 2 ? 2 : $#))
source benches/lib.sh
release_gateway
target="${CARGO_TARGET_DIR:-target}"
# Selenium comes from the tests' virtualenv (scripts/test makes it), and so
# does geckodriver (built once into the target directory).
python="$target/test-venv/bin/python"
[ -x "$python" ] || python=python3
"$python" -c 'import selenium' 2>/dev/null || { echo "selenium is missing: run scripts/test once, or pip install selenium" >&2; exit 1; }
export GECKODRIVER="${GECKODRIVER:-$(realpath -m "$target/tools/bin/geckodriver")}"
"$python" benches/browser.py --bin "$(realpath "$bin")" --size-mib "$size_mib" --rounds "$rounds" "$@"
