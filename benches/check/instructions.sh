#!/usr/bin/env bash
# Instructions per page extraction (valgrind's callgrind), on pages given or on 20 pages of the
# noisy check benchmark (every 100th of benches/check/pages.py's 2,000, with noisy.sh's noise):
#
#   benches/check/instructions.sh [PAGE.html ...]
#
# Builds the extract_files benchmark (benchmark profile), runs it under callgrind with one pass
# and with three over the pages, and prints (three - one) / (2 × pages): the cost of one
# extraction without what the process pays once, which it prints too. Counts, unlike times,
# hold on a loaded machine. Needs valgrind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v valgrind >/dev/null || { echo "missing: valgrind" >&2; exit 2; }
(cd "$ROOT" && cargo build --profile benchmark --locked --bench extract_files --quiet)
BIN=$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/benchmark/deps/extract_files-* | grep -v '\.d$' | head -1)
if [ $# -eq 0 ]; then
    DIR=$(mktemp -d /tmp/verbatim-instructions.XXXXXX)
    trap 'rm -rf "$DIR"' EXIT
    python3 "$ROOT/benches/check/pages.py" generate "$DIR/www" 2000 >/dev/null
    for i in $(seq 0 100 1900); do
        f=$(printf '%s/www/p/%05d.html' "$DIR" "$i")
        # noisy.sh's noise, as nginx's sub_filter adds it
        sed -i "s|</body>|<div class=\"served\">Served at 2026-12-03T20:59:13+00:00 (1796331553.848), request 2013655e808e5087826cd69126e9d7f2</div></body>|" "$f"
        set -- "$@" "$f"
    done
fi
count() {
    PASSES=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "${@:2}" 2>&1 >/dev/null |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
one=$(count 1 "$@")
three=$(count 3 "$@")
echo "$# pages: $(( (three - one) / (2 * $#) )) instructions per extraction; $(( one - (three - one) / 2 )) once per process"
