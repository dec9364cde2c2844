#!/usr/bin/env bash
# Peak memory of verbatim on hostile single inputs, against the ceiling docs/reliability.md states:
# peak RSS <= 4 x --max-bytes + 64 MB for any single input. Builds the release binary (what
# `cargo install` builds); needs GNU time (apt: time) and python3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
V="${VERBATIM:-$ROOT/target/release/verbatim}"
[ -n "${VERBATIM:-}" ] || (cd "$ROOT" && cargo build --release --locked --quiet)
D="$(mktemp -d)"
trap 'rm -rf "$D"' EXIT
MAX=${BENCH_MAX_BYTES:-$((16 * 1024 * 1024))}
python3 - "$D" <<'PY'
import gzip, sys, os
d = sys.argv[1]
# 240,000 paragraphs, 15 MB: under the default limit.
ps = ''.join('<p>Paragraph %d says something about the matter at hand.</p>' % i for i in range(240000))
open(f'{d}/paragraphs.html', 'w').write('<html><head><title>Many</title></head><body><article>' + ps + '</article></body></html>')
# 20,000 nested divs, and 20,000 unclosed inline elements.
open(f'{d}/deep.html', 'w').write('<html><body>' + '<div>' * 20000 + '<p>Text.</p>' + '</div>' * 20000 + '</body></html>')
open(f'{d}/unclosed.html', 'w').write('<html><body>' + '<div><span><b><i>x' * 20000 + '</body></html>')
# A WARC of 200 records whose gzip bodies each inflate to 64 MiB of zeros (2.4 MB on disk).
bomb = gzip.compress(b'\0' * (64 << 20), 9)
with open(f'{d}/bombs.warc', 'wb') as w:
    for i in range(200):
        http = b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n' + bomb
        w.write(b'WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%d>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Target-URI: https://example.com/%d\r\nContent-Type: application/http;msgtype=response\r\nContent-Length: %d\r\n\r\n' % (i, i, len(http)) + http + b'\r\n\r\n')
# The same WARC's records with 15 MiB pages, under the limit: stored, in batches.
page = b'<p>' + b'word ' * (3 << 20) + b'</p>'
with open(f'{d}/large.warc', 'wb') as w:
    for i in range(40):
        http = b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n' + page
        w.write(b'WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:l%d>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Target-URI: https://example.com/large/%d\r\nContent-Type: application/http;msgtype=response\r\nContent-Length: %d\r\n\r\n' % (i, i, len(http)) + http + b'\r\n\r\n')
PY
"$V" --store "$D/s" init >/dev/null
measure() {
  local what="$1"; shift
  /usr/bin/time -f "%M %e" -o "$D/t" "$@" >/dev/null 2>&1 || true
  read -r kb secs < <(tail -n 1 "$D/t")
  printf '%-46s %8.1f MB %7.2f s\n' "$what" "$(echo "$kb / 1024" | bc -l)" "$secs"
}
echo "ceiling at --max-bytes $MAX: $(( (4 * MAX) / 1048576 + 64 )) MB"
measure "add 15 MB page of 240,000 paragraphs" "$V" --store "$D/s" add --max-bytes $MAX "$D/paragraphs.html"
measure "add 20,000 nested divs" "$V" --store "$D/s" add --max-bytes $MAX "$D/deep.html"
measure "add 20,000 unclosed inline elements" "$V" --store "$D/s" add --max-bytes $MAX "$D/unclosed.html"
measure "import 200 gzip bombs of 64 MiB (2.4 MB WARC)" "$V" --store "$D/s" import --max-bytes $MAX "$D/bombs.warc"
measure "import 40 records of 15 MiB pages" "$V" --store "$D/s" import --max-bytes $MAX "$D/large.warc"
measure "add --from /dev/zero" "$V" --store "$D/s" add --from /dev/zero
measure "check of the store" "$V" --store "$D/s" check --max-bytes $MAX
