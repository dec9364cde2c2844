#!/usr/bin/env bash
# Verify benchmark (issue 6): verify against openssl, verify --bagit against bagit.py, and the
# memory of export, on ~1 GB in 10,000 files.
#
#   benches/verify/run.sh                  # about 10 minutes on 2 cores, ~8 GB of disk
#   BENCH_FILES=1000 benches/verify/run.sh
#
# Needs openssl and GNU time (apt) and bagit (pip); installs nothing itself. Prints a markdown
# summary for docs/benchmarks.md; the timings' JSON and the stores stay in $BENCH_DIR. Runs
# alternate between the commands compared (benches/alternate.py), so that the machine's drift
# in speed falls on each alike.
# BENCH_DEFLATED=1 also builds a store whose blobs are deflated (git's level 1) and times
# verify on it.
set -euo pipefail

N=${BENCH_FILES:-10000}
RUNS=${BENCH_RUNS:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_DIR:-$(mktemp -d /tmp/verbatim-verify-bench.XXXXXX)}
V="$ROOT/target/benchmark/verbatim"
TIME=/usr/bin/time
for tool in openssl "$TIME" python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
python3 -c "import bagit" 2>/dev/null || { echo "missing: bagit (pip install bagit)" >&2; exit 2; }
(cd "$ROOT" && cargo build --profile benchmark --locked --quiet)

echo "# $N files in $DIR" >&2
python3 "$ROOT/benches/verify/corpus.py" "$DIR/corpus" "$N"
BYTES=$(find "$DIR/corpus" -name '*.html' -printf '%s\n' | awk '{s += $1} END {print s}')

build_store() { # store dir, loose compression
    rm -rf "$1"
    "$V" --store "$1" init >/dev/null
    git -C "$1" config core.looseCompression "$2"
    "$V" --store "$1" add --quiet --from "$DIR/corpus/files.txt" >/dev/null
}
build_store "$DIR/store" 0
[ "${BENCH_DEFLATED:-0}" = 1 ] && build_store "$DIR/store-deflated" 1

# openssl on one core over the same files (xargs batches them into a few processes, one at a
# time); verify with both cores.
find "$DIR/corpus" -name '*.html' -print0 | sort -z >"$DIR/files0"
cmds=("sh:taskset -c 0 xargs -0 openssl dgst -sha256 <$DIR/files0 >/dev/null"
      "$V --store $DIR/store verify --color never")
[ "${BENCH_DEFLATED:-0}" = 1 ] && cmds+=("$V --store $DIR/store-deflated verify --color never")
python3 "$ROOT/benches/alternate.py" --warmup 1 --runs "$RUNS" \
    --export-json "$DIR/verify.json" "${cmds[@]}"

# A bag of the store, validated by both.
rm -rf "$DIR/bag"
"$V" --store "$DIR/store" export --bagit "$DIR/bag" >/dev/null
python3 "$ROOT/benches/alternate.py" --warmup 1 --runs "$RUNS" --export-json "$DIR/bagit.json" \
    "$V verify --bagit $DIR/bag --color never" \
    "python3 -m bagit --validate --processes 2 $DIR/bag" >&2

# Export's peak memory, for a tenth of the sources and for all of them.
"$V" --store "$DIR/store" list --format json |
    python3 -c "import json,sys; print('\n'.join(s['id'] for s in json.load(sys.stdin)))" >"$DIR/ids"
head -n $((N / 10)) "$DIR/ids" >"$DIR/ids-tenth"
measure() { # label, command...
    local label=$1; shift
    "$TIME" -f "%e %M" -o "$DIR/time.$label" "$@" >/dev/null 2>&1
}
for what in bagit warc; do
    for part in tenth all; do
        rm -rf "$DIR/out.$what.$part" "$DIR/out.$what.$part.warc.gz"
        if [ $part = all ]; then ids=(); else mapfile -t ids <"$DIR/ids-tenth"; fi
        if [ $what = bagit ]; then dest=(--bagit "$DIR/out.$what.$part"); else dest=(--warc "$DIR/out.$what.$part.warc.gz"); fi
        measure "export-$what-$part" "$V" --store "$DIR/store" export "${dest[@]}" "${ids[@]}"
        rm -rf "$DIR/out.$what.$part" "$DIR/out.$what.$part.warc.gz"
    done
done

python3 - "$DIR" "$BYTES" "$N" <<'PY'
import json, sys, pathlib
d, size, n = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def results(name):
    return json.loads((d / name).read_text())["results"]
v = results("verify.json")
print(f"{n} files, {size / 1e6:.0f} MB; warm cache; runs alternated; median (mean ± sd)\n")
print("| command | seconds | throughput over the files (median) | of openssl's |")
print("| --- | ---: | ---: | ---: |")
labels = ["`openssl dgst -sha256`, one core", "`verbatim verify` (stored blobs), two cores",
          "`verbatim verify` (deflated blobs), two cores"]
def secs(r):
    return f"{r['median']:.3f} ({r['mean']:.3f} ± {r['stddev']:.3f})"
for label, r in zip(labels, v):
    rate = size / r["median"] / 1e6
    print(f"| {label} | {secs(r)} | {rate:.0f} MB/s "
          f"| {v[0]['median'] / r['median'] * 100:.0f}% |")
b = results("bagit.json")
print("\n| command | seconds | |")
print("| --- | ---: | ---: |")
print(f"| `verbatim verify --bagit` | {secs(b[0])} "
      f"| {b[1]['median'] / b[0]['median']:.2f}× faster |")
print(f"| `bagit.py --validate --processes 2` | {secs(b[1])} | |")
print("\n| export | sources | seconds | peak RSS |")
print("| --- | ---: | ---: | ---: |")
for what in ["bagit", "warc"]:
    for part, count in [("tenth", n // 10), ("all", n)]:
        secs, kb = (d / f"time.export-{what}-{part}").read_text().split()
        print(f"| `--{what}` | {count} | {float(secs):.1f} | {int(kb) / 1024:.0f} MiB |")
PY
