#!/usr/bin/env bash
# Check benchmark: verbatim check against urlwatch and wrk on the same loopback nginx.
#
#   benches/check/run.sh            # 10,000 pages of ~50 KB (about 10 minutes on 2 cores)
#   BENCH_SOURCES=1000 benches/check/run.sh
#
# Needs nginx, wrk and GNU time (apt) and urlwatch (pip); installs nothing itself.
# Prints a markdown summary for docs/benchmarks.md; raw outputs stay in $BENCH_DIR.
set -euo pipefail

N=${BENCH_SOURCES:-10000}
JOBS=${BENCH_JOBS:-10}   # urlwatch runs 10 worker threads; verbatim gets the same
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/verbatim-check-bench.XXXXXX)}
V="$ROOT/target/benchmark/verbatim"
TIME=/usr/bin/time

for tool in nginx wrk urlwatch "$TIME"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
(cd "$ROOT" && cargo build --profile benchmark --locked --quiet)

echo "# $N pages in $DIR" >&2
python3 "$ROOT/benches/check/pages.py" generate "$DIR/www" "$N"

. "$ROOT/benches/check/serve.sh"

seq -f "$BASE/p/%05g.html" 0 $((N - 1)) >"$DIR/urls.txt"
. "$ROOT/benches/check/urlwatch.sh"

# One measured command: wall seconds and peak RSS (MiB) appended to $DIR/results.tsv.
measure() {
    local label=$1; shift
    sync  # no tool pays for flushing the previous one's writes
    "$TIME" -f "%e %M" -o "$DIR/time.$label" "$@" >"$DIR/out.$label" 2>"$DIR/err.$label" || {
        local rc=$?
        # check exits 1 when it found edits; urlwatch exits 0. Anything else is a failure.
        if [ "$rc" -ne 1 ]; then echo "$label failed ($rc)" >&2; tail -5 "$DIR/err.$label" >&2; exit 1; fi
    }
    read -r secs kib < <(tail -n 1 "$DIR/time.$label")
    printf '%s\t%s\t%s\n' "$label" "$secs" "$((kib / 1024))" | tee -a "$DIR/results.tsv" >&2
}

: >"$DIR/results.tsv"

export VERBATIM_STORE="$DIR/store"
"$V" init >/dev/null
measure verbatim-add "$V" add --quiet --from "$DIR/urls.txt"
measure urlwatch-first bash -c urlwatch_run

# Each tool is measured on a warm cache, its own runs back to back: right after urlwatch's run
# (2 GB of memory) the first verbatim check pays about 2 s to read its store back from disk.
"$V" check --jobs "$JOBS" --per-host "$JOBS" >/dev/null || true
# Nothing changed: both answer from conditional requests (nginx sends ETag and Last-Modified).
measure verbatim-unchanged "$V" check --jobs "$JOBS" --per-host "$JOBS"
python3 "$ROOT/benches/check/pages.py" change "$DIR/www" "$N" 1 >/dev/null
measure verbatim-1pct "$V" check --jobs "$JOBS" --per-host "$JOBS"
python3 "$ROOT/benches/check/pages.py" change "$DIR/www" "$N" 1 >/dev/null
measure verbatim-1pct-b "$V" check --jobs "$JOBS" --per-host "$JOBS"
# A steadier figure for the unchanged case: hyperfine's mean over 10 runs (each run records its
# observations, as a real check does).
if command -v hyperfine >/dev/null; then
    hyperfine -N -w 1 -r 10 --export-json "$DIR/hyperfine.json" \
        "$V check --jobs $JOBS --per-host $JOBS" >&2 || true
fi

# urlwatch first sees the two rounds of changes above at once, then nothing, then 1%.
urlwatch_run >/dev/null
measure urlwatch-unchanged bash -c urlwatch_run
python3 "$ROOT/benches/check/pages.py" change "$DIR/www" "$N" 1 >/dev/null
measure urlwatch-1pct bash -c urlwatch_run

# wrk on the same URLs with the same number of connections: plain GETs (full ~50 KB bodies),
# and conditional GETs carrying each page's current ETag, as check sends, so nginx answers 304.
python3 - "$DIR/www" "$N" >"$DIR/etags.lua" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
print("etags = {")
for i in range(n):
    st = os.stat(f"{root}/p/{i:05d}.html")
    print(f'  "\\"{int(st.st_mtime):x}-{st.st_size:x}\\"",')
print("}")
PY
cat >"$DIR/wrk.lua" <<LUA
dofile("$DIR/etags.lua")
local n, i, conditional = 0, 0, false
init = function(args) n = tonumber(args[1]); conditional = args[2] == "conditional" end
request = function()
    i = (i + 1) % n
    local headers = {}
    if conditional then headers["If-None-Match"] = etags[i + 1] end
    return wrk.format(nil, string.format("/p/%05d.html", i), headers)
end
LUA
for mode in plain conditional; do
    wrk -t2 -c"$JOBS" -d10s -s "$DIR/wrk.lua" "$BASE" -- "$N" "$mode" >"$DIR/wrk-$mode.txt"
    echo "wrk $mode: $(grep Requests/sec "$DIR/wrk-$mode.txt")" >&2
done
curl -s -o /dev/null -w "conditional GET check: %{http_code}\n" -H "If-None-Match: $(sed -n 2p "$DIR/etags.lua" | sed 's/^ *"\\"//; s/\\"",$//; s/^/"/; s/$/"/')" "$BASE/p/00000.html" >&2

echo >&2
echo "| run | seconds | peak RSS (MiB) | requests/s |"
echo "| --- | ---: | ---: | ---: |"
while IFS=$'\t' read -r label secs mib; do
    echo "| $label | $secs | $mib | $(python3 -c "print(round($N/$secs))") |"
done <"$DIR/results.tsv"
if [ -f "$DIR/hyperfine.json" ]; then
    python3 - "$DIR/hyperfine.json" "$N" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"| verbatim-unchanged, hyperfine mean ± sd of 10 | {r['mean']:.2f} ± {r['stddev']:.2f} | — | {round(int(sys.argv[2]) / r['mean'])} |")
PY
fi
for mode in plain conditional; do
    echo "| wrk, $mode GET, $JOBS connections, 10 s | — | — | $(awk '/Requests\/sec/ {print int($2)}' "$DIR/wrk-$mode.txt") |"
done
