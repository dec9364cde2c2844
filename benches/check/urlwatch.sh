# Sourced by the check benchmarks: urlwatch set up on "$DIR/urls.txt" as verbatim's peer. Writes
# its jobs, configuration and (empty) hooks in $DIR and defines `urlwatch_run`, exported with
# DIR so that `measure ... bash -c urlwatch_run` can time it.
python3 - "$DIR/urls.txt" "$DIR/urlwatch-jobs.yaml" <<'PY'
import sys
urls = open(sys.argv[1]).read().split()
with open(sys.argv[2], "w") as f:
    f.write("\n---\n".join(f"url: {u}" for u in urls) + "\n")
PY
cat >"$DIR/urlwatch-config.yaml" <<'CONF'
display: {new: true, error: true, unchanged: false}
report:
  text: {line_length: 75, details: true, footer: false, minimal: false, separate: false}
  stdout: {enabled: true, color: false}
  html: {diff: unified, separate: false}
  markdown: {details: true, footer: false, minimal: false, separate: false}
  email: {enabled: false}
CONF
touch "$DIR/hooks.py"
urlwatch_run() {
    urlwatch --urls "$DIR/urlwatch-jobs.yaml" --config "$DIR/urlwatch-config.yaml" \
        --cache "$DIR/urlwatch-cache.db" --hooks "$DIR/hooks.py"
}
export -f urlwatch_run
export DIR
