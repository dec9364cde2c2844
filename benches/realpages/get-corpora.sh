#!/usr/bin/env bash
# Builds the corpus directory that benches/realpages/run.py reads (default /work/corpora or
# $CORPORA). Nothing of it is committed: the pages belong to their publishers and benchmarks.
#
#   benches/realpages/get-corpora.sh [CORPORA_DIR]
#
# Sources, each pinned to a commit (the layout below is what was measured in docs/benchmarks.md):
#   readability  github.com/mozilla/readability
#                commit ab4027a8b37669745016869a37a504727992b2ba
#                test/test-pages/*/source.html (the page) and expected.html (Readability's
#                expected article, the ground truth; its text is taken by corpus.py)
#   wcxb         github.com/Murrough-Foley/web-content-extraction-benchmark (WCXB, CC-BY-4.0)
#                commit c039d5ee9f5a3a984a0e167e63aacd04e76e78a9
#                dev/html/NNNN.html.gz and dev/ground-truth/NNNN.json (ground_truth.main_content),
#                page types from metadata.json; the dev split only (its held-out test split is
#                left alone), a deterministic sample of $WCXB_PAGES pages (default 300),
#                stratified by page type (corpus.py).
# Not used, on purpose: the Zyte/ScrapingHub article-extraction-benchmark pages, nor any copy of
# them (the `scrapinghub` dataset of chatnoir-eu/web-content-extraction-benchmark): they are kept
# aside to judge the result. The chatnoir-eu benchmark's own datasets (CleanEval, Dragnet, L3S-GN1,
# Google-Trends-2017, CETD…) are Git LFS objects in that repository (datasets/combined.tar.xz),
# not reachable from the machines this was written on; seomoz/dragnet_data holds the Dragnet
# ground truth but not its HTML.
#
# Each repository is read from a git directory: READABILITY_GIT and WCXB_GIT name one (a bare
# mirror or a clone); when unset, the script clones it from GitHub into $CORPORA/.git-cache.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-${CORPORA:-/work/corpora}}
READABILITY_COMMIT=ab4027a8b37669745016869a37a504727992b2ba
WCXB_COMMIT=c039d5ee9f5a3a984a0e167e63aacd04e76e78a9
mkdir -p "$OUT"

gitdir() {  # name url commit var -> prints a git dir holding commit
    local name=$1 url=$2 commit=$3 given=$4
    if [ -n "$given" ]; then echo "$given"; return; fi
    local dir="$OUT/.git-cache/$name.git"
    if [ ! -d "$dir" ]; then git clone --bare --quiet "$url" "$dir"; fi
    git --git-dir="$dir" cat-file -e "$commit^{commit}" 2>/dev/null \
        || git --git-dir="$dir" fetch --quiet origin "$commit"
    echo "$dir"
}

R=$(gitdir readability https://github.com/mozilla/readability "$READABILITY_COMMIT" "${READABILITY_GIT:-}")
W=$(gitdir wcxb https://github.com/Murrough-Foley/web-content-extraction-benchmark "$WCXB_COMMIT" "${WCXB_GIT:-}")

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/readability" "$TMP/wcxb"
git --git-dir="$R" archive "$READABILITY_COMMIT" test/test-pages | tar -x -C "$TMP/readability"
git --git-dir="$W" archive "$WCXB_COMMIT" metadata.json dev/ground-truth dev/html | tar -x -C "$TMP/wcxb"

python3 "$HERE/corpus.py" build \
    --readability "$TMP/readability/test/test-pages" --readability-commit "$READABILITY_COMMIT" \
    --wcxb "$TMP/wcxb" --wcxb-commit "$WCXB_COMMIT" --wcxb-pages "${WCXB_PAGES:-300}" \
    --out "$OUT"
