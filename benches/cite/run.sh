#!/usr/bin/env bash
# Cite benchmark (issue 7): 1,000 quotes against 1,000 stored sources of ~50 KB, offline; and
# the approximate search on 100 sources of 10 KB, 100 KB and 1 MB (one quote each, altered or gone);
# and the part-by-part search of quotes with ellipses (issue 17) on 100 sources of 100 KB.
#
#   benches/cite/run.sh          # about 2 minutes on 2 cores
#
# Needs hyperfine (apt). Prints a markdown summary for docs/benchmarks.md; hyperfine's JSON and
# the stores stay in $BENCH_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/verbatim-cite-bench.XXXXXX)}
RUNS=${BENCH_RUNS:-5}
V="$ROOT/target/benchmark/verbatim"
command -v hyperfine >/dev/null || { echo "missing: hyperfine" >&2; exit 2; }
(cd "$ROOT" && cargo build --profile benchmark --locked --quiet)

corpus() { # name, sources, size, quotes, [fuzzy]
    local d="$DIR/$1"; shift
    rm -rf "$d"
    python3 "$ROOT/benches/cite/corpus.py" "$d" "$@"
    "$V" --store "$d/store" init >/dev/null
    "$V" --store "$d/store" add --quiet --no-learn --from "$d/files.txt" >/dev/null
}
echo "# corpora in $DIR" >&2
corpus mixed 1000 50000 1000
for size in 10000 100000 1000000; do
    corpus "fuzzy-$size" 100 "$size" 100 fuzzy
done
corpus ellipsis 100 100000 100 ellipsis

hyperfine -N -w 1 -r "$RUNS" --export-json "$DIR/mixed.json" -i \
    "$V --store $DIR/mixed/store cite check --offline $DIR/mixed/cites.toml --format json" >&2
for size in 10000 100000 1000000; do
    hyperfine -N -w 1 -r "$RUNS" --export-json "$DIR/fuzzy-$size.json" -i \
        "$V --store $DIR/fuzzy-$size/store cite check --offline $DIR/fuzzy-$size/cites.toml --format json" >&2
done
hyperfine -N -w 1 -r "$RUNS" --export-json "$DIR/ellipsis.json" -i \
    "$V --store $DIR/ellipsis/store cite check --offline $DIR/ellipsis/cites.toml --format json" >&2
"$V" --store "$DIR/mixed/store" cite check --offline "$DIR/mixed/cites.toml" --format json \
    >"$DIR/mixed.out" || true
"$V" --store "$DIR/ellipsis/store" cite check --offline "$DIR/ellipsis/cites.toml" --format json \
    >"$DIR/ellipsis.out" || true

python3 - "$DIR" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1])
def mean(name):
    r = json.loads((d / name).read_text())["results"][0]
    return r["mean"], r["stddev"]
counts = json.loads((d / "mixed.out").read_text())["counts"]
m, sd = mean("mixed.json")
print("| run | seconds | per quote |")
print("| --- | ---: | ---: |")
print(f"| 1,000 quotes, 1,000 sources of ~50 KB (40% exact, 30% retyped, 20% altered, 10% gone) | {m:.3f} ± {sd:.3f} | {m:.3f} ms |")
print(f"\nStatuses found: {', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}.\n")
print("| source size | 100 sources, one quote each, all altered or gone: seconds | per quote | per quote per MB |")
print("| --- | ---: | ---: | ---: |")
for size in [10000, 100000, 1000000]:
    m, sd = mean(f"fuzzy-{size}.json")
    per = m / 100 * 1000
    print(f"| {size // 1000} KB | {m:.3f} ± {sd:.3f} | {per:.2f} ms | {per / (size / 1e6):.1f} ms |")
m, sd = mean("ellipsis.json")
counts = json.loads((d / "ellipsis.out").read_text())["counts"]
print("\n| quotes with ellipses (issue 17) | seconds | per quote |")
print("| --- | ---: | ---: |")
print(f"| 100 sources of 100 KB, one quote each, a word changed after the ellipsis | {m:.3f} ± {sd:.3f} | {m * 10:.2f} ms |")
print(f"\nStatuses found: {', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}.")
PY
