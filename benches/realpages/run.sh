#!/usr/bin/env bash
# Real-page evaluation of `check` (issue 17): false alarms on furniture-only reloads, misses of
# one-word / one-number article edits, article-text F1, beside trafilatura 2.3.1.
#
#   benches/realpages/get-corpora.sh            # once: builds /work/corpora (or $CORPORA)
#   benches/realpages/run.sh [CORPORA_DIR] [run.py options: --pages N, --edit-rounds N, ...]
#
# Builds the release binary (what `cargo install` builds) unless VERBATIM names one; run.py
# installs trafilatura and its pinned dependencies (requirements.txt) into a venv in the run
# directory (pip from PyPI). About 16 minutes on 2 cores for the 423 pages of the corpus.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${VERBATIM:-}" ]; then
    (cd "$ROOT" && cargo build --release --locked --quiet --bin verbatim)
    VERBATIM="${CARGO_TARGET_DIR:-$ROOT/target}/release/verbatim"
fi
exec python3 "$ROOT/benches/realpages/run.py" --verbatim "$VERBATIM" "$@"
