#!/usr/bin/env bash
# Check memory against the number of sources: peak RSS of `verbatim check` on stores of
# 1,000, 10,000 and 50,000 loopback pages (~50 KB each), nothing changed and 1% changed.
#
#   benches/check/memory.sh                    # about 6 minutes on 2 cores
#   BENCH_SIZES="1000 5000" benches/check/memory.sh
#
# Needs nginx and GNU time (apt). Prints a markdown table for docs/benchmarks.md.
set -euo pipefail

SIZES=${BENCH_SIZES:-1000 10000 50000}
JOBS=${BENCH_JOBS:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/verbatim-memory-bench.XXXXXX)}
V="$ROOT/target/benchmark/verbatim"
TIME=/usr/bin/time
for tool in nginx "$TIME"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
(cd "$ROOT" && cargo build --profile benchmark --locked --quiet)

MAX=0
for n in $SIZES; do [ "$n" -gt "$MAX" ] && MAX=$n; done
echo "# $MAX pages in $DIR" >&2
python3 "$ROOT/benches/check/pages.py" generate "$DIR/www" "$MAX"
. "$ROOT/benches/check/serve.sh"

# Seconds and peak RSS (MiB) of one command, on stdout as "secs mib".
measure() {
    "$TIME" -f "%e %M" -o "$DIR/time" "$@" >/dev/null 2>"$DIR/err" || {
        local rc=$?
        if [ "$rc" -ne 1 ]; then echo "failed ($rc): $*" >&2; tail -5 "$DIR/err" >&2; exit 1; fi
    }
    read -r secs kib < <(tail -n 1 "$DIR/time")
    echo "$secs $((kib / 1024))"
}

echo "| sources | check, nothing changed: s / peak MiB | check, 1% changed: s / peak MiB |"
echo "| ---: | ---: | ---: |"
for n in $SIZES; do
    export VERBATIM_STORE="$DIR/store-$n"
    "$V" init >/dev/null
    seq -f "$BASE/p/%05g.html" 0 $((n - 1)) >"$DIR/urls-$n.txt"
    "$V" add --quiet --no-learn --from "$DIR/urls-$n.txt" >/dev/null
    # Two warm-up checks: the first after add begins every source's "unchanged" state.
    for _ in 1 2; do "$V" check --jobs "$JOBS" --per-host "$JOBS" >/dev/null || true; done
    sync
    read -r us um < <(measure "$V" check --jobs "$JOBS" --per-host "$JOBS")
    python3 "$ROOT/benches/check/pages.py" change "$DIR/www" "$n" 1 >/dev/null
    sync
    read -r cs cm < <(measure "$V" check --jobs "$JOBS" --per-host "$JOBS")
    echo "| $n | $us / $um | $cs / $cm |"
    rm -rf "$VERBATIM_STORE"
done
