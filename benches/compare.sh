#!/usr/bin/env bash
# Compares two builds of verbatim on the check, diff, verify and cite benchmarks, runs
# alternated (benches/alternate.py), for "a change must not make anything slower":
#
#   benches/compare.sh OLD_BINARY NEW_BINARY
#
# Build both with the same profile (`cargo build --profile benchmark --locked`, fat LTO, binary
# at target/benchmark/verbatim; copy the old one aside first). Needs nginx (check) and python3.
# BENCH_RUNS (default 30) runs of each command per binary after 3 warm-ups; BENCH_SOURCES
# (default 1000) pages for check, files for verify. Prints one Markdown table of medians.
set -euo pipefail

OLD=$(realpath "$1")
NEW=$(realpath "$2")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_RUNS:-30}
N=${BENCH_SOURCES:-1000}
DIR=${BENCH_DIR:-$(mktemp -d /tmp/verbatim-compare.XXXXXX)}
command -v nginx >/dev/null || { echo "missing: nginx" >&2; exit 2; }
echo "# in $DIR" >&2

alternate() { # label, then the two commands
    local label=$1 old=$2 new=$3
    python3 "$ROOT/benches/alternate.py" --warmup 3 --runs "$RUNS" \
        --export-json "$DIR/$label.json" "$old" "$new" >/dev/null
    python3 - "$DIR/$label.json" "$label" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
o, n = r[0], r[1]
print(f"| {sys.argv[2]} | {o['median']*1000:.1f} ({o['mean']*1000:.1f} ± {o['stddev']*1000:.1f}) "
      f"| {n['median']*1000:.1f} ({n['mean']*1000:.1f} ± {n['stddev']*1000:.1f}) "
      f"| {n['median']/o['median']:.3f} |")
PY
}

# check: N pages on loopback nginx, nothing changed (conditional requests, the common case).
# Each binary checks its own copy of one store, so both record the same observations.
python3 "$ROOT/benches/check/pages.py" generate "$DIR/www" "$N"
. "$ROOT/benches/check/serve.sh"
seq -f "$BASE/p/%05g.html" 0 $((N - 1)) >"$DIR/urls.txt"
"$OLD" --store "$DIR/store-old" init >/dev/null
"$OLD" --store "$DIR/store-old" add --quiet --no-learn --from "$DIR/urls.txt" >/dev/null
cp -a "$DIR/store-old" "$DIR/store-new"

# diff: the diff benchmark's texts (1 MB and 5 MB, 1% of words changed).
for size in 1 5; do
    python3 "$ROOT/benches/diff/texts.py" edited "$DIR/${size}mb" "$size" 1 >/dev/null
done

# verify: the verify benchmark's store of N files of ~100 KB.
python3 "$ROOT/benches/verify/corpus.py" "$DIR/files" "$N" >/dev/null
"$NEW" --store "$DIR/vstore" init >/dev/null
"$NEW" --store "$DIR/vstore" add --quiet --no-learn --from "$DIR/files/files.txt" >/dev/null

# cite: 1,000 quotes against 1,000 sources of ~50 KB, offline (the cite benchmark's mixed case).
python3 "$ROOT/benches/cite/corpus.py" "$DIR/cite" 1000 50000 1000 >/dev/null
"$NEW" --store "$DIR/cite/store" init >/dev/null
"$NEW" --store "$DIR/cite/store" add --quiet --no-learn --from "$DIR/cite/files.txt" >/dev/null

echo "| command | old: ms median (mean ± sd) | new: ms median (mean ± sd) | new / old |"
echo "| --- | ---: | ---: | ---: |"
alternate check-unchanged \
    "$OLD --store $DIR/store-old check --jobs 10 --per-host 10 --color never" \
    "$NEW --store $DIR/store-new check --jobs 10 --per-host 10 --color never"
for size in 1 5; do
    alternate "diff-word-${size}mb" \
        "$OLD diff $DIR/${size}mb/old.txt $DIR/${size}mb/new.txt --color never" \
        "$NEW diff $DIR/${size}mb/old.txt $DIR/${size}mb/new.txt --color never"
    alternate "diff-unified-${size}mb" \
        "$OLD diff $DIR/${size}mb/old.txt $DIR/${size}mb/new.txt --format unified" \
        "$NEW diff $DIR/${size}mb/old.txt $DIR/${size}mb/new.txt --format unified"
done
alternate verify \
    "$OLD --store $DIR/vstore verify --color never" \
    "$NEW --store $DIR/vstore verify --color never"
alternate cite-offline \
    "$OLD --store $DIR/cite/store cite check --offline --format json $DIR/cite/cites.toml" \
    "$NEW --store $DIR/cite/store cite check --offline --format json $DIR/cite/cites.toml"
