#!/usr/bin/env bash
# Noisy check benchmark: pages whose furniture changes on every load, as real news pages do.
#
#   benches/check/noisy.sh                     # 10,000 pages of ~55 KB
#   BENCH_SOURCES=2000 benches/check/noisy.sh
#
# Every response of the loopback nginx carries a fresh time stamp and request id (sub_filter),
# with no ETag, no Last-Modified and so no 304: every check fetches and extracts every page.
# Measured: `add` (first capture, noise learning included), then `check`, each with its wall
# time and peak RSS (GNU time), and the verdicts of the check (no page may be `edited`). Peers in
# the same run: one Python process running trafilatura's `extract` over the same pages (files,
# no fetching: `BENCH_TRAFILATURA=0` skips it) and urlwatch over the same URLs
# (`BENCH_URLWATCH=0` skips it). Needs nginx with the sub module, GNU time, python3; urlwatch
# and trafilatura (pip) for the peers. VERBATIM (default target/benchmark/verbatim) is the
# binary measured.
set -euo pipefail

N=${BENCH_SOURCES:-10000}
JOBS=${BENCH_JOBS:-8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/verbatim-noisy-bench.XXXXXX)}
V=${VERBATIM:-$ROOT/target/benchmark/verbatim}
TIME=/usr/bin/time
for tool in nginx "$TIME" "$V"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

echo "# $N noisy pages in $DIR" >&2
python3 "$ROOT/benches/check/pages.py" generate "$DIR/www" "$N" >/dev/null

# nginx as serve.sh runs it, plus the noise: a stamp and a request id before </body>, and no
# validators, so no request is ever answered 304 (nginx's variables, not the shell's).
NGINX_SERVER='etag off;
        if_modified_since off;
        add_header Last-Modified "";
        sub_filter "</body>" "<div class=\"served\">Served at $time_iso8601 ($msec), request $request_id</div></body>";
        sub_filter_once on;'
. "$ROOT/benches/check/serve.sh"
seq -f "$BASE/p/%05g.html" 0 $((N - 1)) >"$DIR/urls.txt"

measure() { # label, command...: wall seconds and peak RSS (MiB) to results.tsv
    local label=$1; shift
    sync
    "$TIME" -f "%e %M" -o "$DIR/time.$label" "$@" >"$DIR/out.$label" 2>"$DIR/err.$label" || {
        local rc=$?
        if [ "$rc" -ne 1 ]; then echo "$label failed ($rc)" >&2; tail -5 "$DIR/err.$label" >&2; exit 1; fi
    }
    read -r secs kib < <(tail -n 1 "$DIR/time.$label")
    printf '%s\t%s\t%s\t%s\n' "$label" "$secs" "$((kib / 1024))" \
        "$(python3 -c "print(f'{$N / $secs:.0f}')")" | tee -a "$DIR/results.tsv" >&2
}
: >"$DIR/results.tsv"

export VERBATIM_STORE="$DIR/store"
"$V" init >/dev/null
measure verbatim-add "$V" add --quiet --allow-private --from "$DIR/urls.txt"
for round in 1 2; do
    measure "verbatim-check-$round" "$V" check --jobs "$JOBS" --per-host "$JOBS" --allow-private --format json
    python3 - "$DIR/out.verbatim-check-$round" <<'PY' >&2
import collections, json, sys
report = json.load(open(sys.argv[1]))
counts = collections.Counter(r["verdict"] for r in report["results"])
print("  verdicts:", dict(counts))
PY
done

if [ "${BENCH_TRAFILATURA:-1}" = 1 ]; then
    if [ ! -x "$DIR/venv/bin/python" ]; then
        python3 -m venv "$DIR/venv" &&
            "$DIR/venv/bin/pip" -q install -r "$ROOT/benches/realpages/requirements.txt" >&2
    fi
    # The pages as served (one fetched copy each), extracted by one Python process.
    mkdir -p "$DIR/served"
    python3 - "$BASE" "$N" "$DIR/served" <<'PY'
import sys, urllib.request
base, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    with urllib.request.urlopen(f"{base}/p/{i:05d}.html") as r, open(f"{out}/{i:05d}.html", "wb") as f:
        f.write(r.read())
PY
    cat >"$DIR/trafilatura.py" <<'PY'
import glob, sys, trafilatura
for path in sorted(glob.glob(sys.argv[1] + "/*.html")):
    with open(path, "rb") as f:
        trafilatura.extract(f.read().decode("utf-8", "replace"))
PY
    measure trafilatura-extract "$DIR/venv/bin/python" "$DIR/trafilatura.py" "$DIR/served"
fi

if [ "${BENCH_URLWATCH:-1}" = 1 ] && command -v urlwatch >/dev/null; then
    . "$ROOT/benches/check/urlwatch.sh"
    urlwatch_run >/dev/null
    measure urlwatch-check bash -c urlwatch_run
fi

echo
echo "| run | seconds | peak RSS, MiB | pages/s |"
echo "| --- | ---: | ---: | ---: |"
awk -F'\t' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}' "$DIR/results.tsv"
