#!/usr/bin/env bash
# Diff benchmark: verbatim diff against git's word diff and GNU diff on the same files.
#
#   benches/diff/run.sh          # about 2 minutes on 2 cores
#
# Needs git and GNU diff (apt: git diffutils) and python3. Builds the release binary, writes
# the texts (benches/diff/texts.py, from the seeds; deterministic), and prints a markdown table
# for docs/benchmarks.md. Runs alternate between verbatim and its peer (benches/alternate.py),
# so that the machine's drift in speed falls on both alike; the JSON stays in $BENCH_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/verbatim-diff-bench.XXXXXX)}
RUNS=${BENCH_RUNS:-100}
V="$ROOT/target/benchmark/verbatim"
for tool in git diff python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
(cd "$ROOT" && cargo build --profile benchmark --locked --quiet)

python3 "$ROOT/benches/diff/texts.py" edited "$DIR/1mb" 1 1
python3 "$ROOT/benches/diff/texts.py" edited "$DIR/5mb" 5 1
python3 "$ROOT/benches/diff/texts.py" unrelated "$DIR/unrelated" 5
echo "# texts in $DIR" >&2

# One comparison: label, then commands (both exit 1 on differences).
compare() {
    local label=$1; shift
    python3 "$ROOT/benches/alternate.py" --warmup 5 --runs "$RUNS" \
        --export-json "$DIR/$label.json" "$@"
}

for size in 1mb 5mb; do
    cd "$DIR/$size"
    compare "word-$size" \
        "$V diff old.txt new.txt --color never" \
        "git diff --no-index --word-diff=porcelain old.txt new.txt"
    compare "line-$size" \
        "$V diff old.txt new.txt --format unified" \
        "diff -u old.txt new.txt"
done
cd "$DIR/unrelated"
RUNS=10 compare "unrelated" \
    "$V diff x.txt y.txt --color never" \
    "git diff --no-index --word-diff=porcelain x.txt y.txt"
"$V" diff x.txt y.txt --stat | tail -2 >"$DIR/unrelated.stat" || true

python3 - "$DIR" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1])
print("| files | verbatim | ms: median (mean ± sd) | peer | ms: median (mean ± sd) | verbatim / peer, medians |")
print("| --- | --- | ---: | --- | ---: | ---: |")
names = {"word-1mb": "1 MB, 1% of words changed", "line-1mb": "1 MB, 1% of words changed",
         "word-5mb": "5 MB, 1% of words changed", "line-5mb": "5 MB, 1% of words changed",
         "unrelated": "two unrelated 5 MB texts"}
for label in ["word-1mb", "word-5mb", "line-1mb", "line-5mb", "unrelated"]:
    r = json.loads((d / f"{label}.json").read_text())["results"]
    ours, peer = r[0], r[1]
    def cmd(c):
        return "`" + c["command"].split("/")[-1].replace("verbatim diff", "verbatim diff") + "`"
    def ms(r):
        return f"{r['median']*1000:.1f} ({r['mean']*1000:.1f} ± {r['stddev']*1000:.1f})"
    print(f"| {names[label]} | {cmd(ours)} | {ms(ours)} | {cmd(peer)} | {ms(peer)} "
          f"| {ours['median']/peer['median']:.2f} |")
PY
echo >&2
cat "$DIR/unrelated.stat" >&2
