#!/usr/bin/env python3
"""Real-page evaluation of `verbatim check` (issue 17): false alarms on furniture-only reloads,
misses of one-word / one-number article edits, article-text F1 of what `add` stores, each beside
trafilatura 2.3.1 in the same run.

    benches/realpages/run.py [CORPORA_DIR] [--pages N] [--noise-rounds 3] [--edit-rounds 5]
                             [--seed 1] [--run-dir DIR] [--verbatim BIN] [--learn both|on|off]
                             [--no-trafilatura]

CORPORA_DIR (default $CORPORA or /work/corpora) is what get-corpora.sh builds. The pages are
served over loopback HTTP by a server inside this script (127.0.0.1, a free port); each round
rewrites what every path serves. Prints a markdown summary; the run directory keeps
results.json (every page, round and verdict), failures.tsv (one line per false alarm or miss),
the pages of each failure (failures/), and the stores.

Flow: serve the pages as they are -> `verbatim init` -> `verbatim add --from urls.txt` (with
learning: add's second load of each page gets a noisy reload of its own seed; and with
--no-learn, in a second store) -> `verbatim show` of each source for F1 -> for each noise round:
every page re-served with furniture noise, a copy of the pristine store checked
(`check --format json`), `edited` counted as a false alarm -> for each edit round: every page
re-served with fresh noise and one word or number of the article changed, a fresh copy checked,
anything but `edited` counted as a miss, and so is an `edited` whose new version does not show
the edit (check saw only the noise of the same reload: `edited, not this edit`). For each page that false-alarmed, the noise kinds of
that round are served one at a time to see which one(s) trigger it.
"""
import argparse
import collections
import hashlib
import html
import http.server
import json
import os
import random
import re
import shutil
import socketserver
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import mutate  # noqa: E402

WORD = re.compile(r"\w+")


def tokens(text):
    """Lowercase \\w+ tokens: the tokenisation of WCXB's evaluate.py (re.findall(r'\\w+'))."""
    return WORD.findall((text or "").lower())


def f1(pred, ref):
    """Bag-of-tokens F1 (multiset overlap of lowercase \\w+ tokens), as WCXB's word_f1."""
    p, r = tokens(pred), tokens(ref)
    if not r:
        return 1.0 if not p else 0.0
    if not p:
        return 0.0
    cp, cr = collections.Counter(p), collections.Counter(r)
    ov = sum((cp & cr).values())
    if not ov:
        return 0.0
    prec, rec = ov / len(p), ov / len(r)
    return 2 * prec * rec / (prec + rec)


def canon(text):
    return " ".join((text or "").split())


def shows_edit(info, before, after):
    """Whether the text after the edit shows it, not only the furniture noise of the same reload:
    the words around the edit (mutate's key tokens) occur there more often than before -- or,
    for a word of 4+ letters, the new word does (an extractor that glues two table cells,
    "InternationalCost", still shows the edited word)."""
    if canon(before) == canon(after):
        return False
    w = " " + info["new_window"] + " "
    kb = " " + " ".join(mutate.key_tokens(before or "")) + " "
    ka = " " + " ".join(mutate.key_tokens(after or "")) + " "
    if ka.count(w) > kb.count(w):
        return True
    new = info["new"].lower()
    if info["kind"] == "word" and len(new) >= 4:
        return (after or "").lower().count(new) > (before or "").lower().count(new)
    return False


# --- the server ---------------------------------------------------------------------------------

class Content:
    """What each path serves. mode 'round': www/<round>/<path> if present, else www/base/<path>;
    mode 'add': the first request of a path gets base, later ones www/learn/<path>."""

    def __init__(self, www):
        self.www = www
        self.round = "base"
        self.mode = "round"
        self.hits = collections.Counter()
        self.lock = threading.Lock()
        self.types = {}

    def body(self, path):
        with self.lock:
            self.hits[path] += 1
            n = self.hits[path]
            rnd, mode = self.round, self.mode
        rel = path.lstrip("/")
        if ".." in rel or not rel:
            return None
        if mode == "add":
            cands = ["base"] if n == 1 else ["learn", "base"]
        else:
            cands = [rnd, "base"]
        for c in cands:
            fp = os.path.join(self.www, c, rel)
            if os.path.isfile(fp):
                with open(fp, "rb") as f:
                    return f.read()
        return None


def serve(content):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            data = content.body(path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", content.types.get(path, "text/html; charset=utf-8"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = S(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


# --- pages --------------------------------------------------------------------------------------

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)


def decode(raw):
    """The page's text and the encoding it is served in (its own, so the bytes stay as they are)."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    m = META_CHARSET.search(raw[:4096])
    enc = m.group(1).decode("ascii", "replace").lower() if m else "windows-1252"
    try:
        "".encode(enc)
    except LookupError:
        enc = "windows-1252"
    return raw.decode(enc, "replace"), enc


def looks_html(text):
    head = text[:20000].lower()
    return bool(re.search(r"<(html|body|head|div|p|article|!doctype html)[\s>]", head))


class P:
    pass


def load_pages(corpora, n, seed):
    pages, skipped = [], collections.Counter()
    names = []
    for corpus in sorted(os.listdir(corpora)):
        cd = os.path.join(corpora, corpus)
        if corpus.startswith(".") or not os.path.isdir(cd):
            continue
        for name in sorted(os.listdir(cd)):
            d = os.path.join(cd, name)
            if os.path.isfile(os.path.join(d, "source.html")):
                names.append((corpus, name, d))
    if n and n < len(names):
        by = collections.defaultdict(list)
        for x in names:
            by[x[0]].append(x)
        keep = []
        for corpus, xs in sorted(by.items()):
            k = max(1, round(n * len(xs) / len(names)))
            xs.sort(key=lambda x: hashlib.sha256(f"{seed}:{x[0]}/{x[1]}".encode()).hexdigest())
            keep += xs[:k]
        names = sorted(keep)
    for corpus, name, d in names:
        with open(os.path.join(d, "source.html"), "rb") as f:
            raw = f.read()
        with open(os.path.join(d, "truth.txt"), encoding="utf-8") as f:
            truth = f.read()
        meta = {}
        if os.path.isfile(os.path.join(d, "meta.json")):
            with open(os.path.join(d, "meta.json"), encoding="utf-8") as f:
                meta = json.load(f)
        if not tokens(truth):
            skipped[(corpus, "empty ground truth")] += 1
            continue
        text, enc = decode(raw)
        if not looks_html(text):
            skipped[(corpus, "source not HTML")] += 1
            continue
        p = P()
        p.corpus, p.name, p.raw, p.src, p.enc, p.truth = corpus, name, raw, text, enc, truth
        p.type = meta.get("page_type") or "article"
        p.key = f"{corpus}/{name}"
        p.path = f"/{corpus}/{name}.html"
        t0 = time.time()
        # The headline is article text too, though WCXB's main_content and Readability's
        # expected.html may leave it out: it is protected from noise and may be edited (F1 is
        # scored against the ground truth alone).
        p.title = meta.get("title") or ""
        p.page = mutate.Page(text).classify(truth + "\n\n" + p.title)
        p.vocab = mutate.vocabulary(truth)
        p.lex_s = time.time() - t0
        p.eligible = p.page.editable_tokens > 0
        pages.append(p)
    return pages, skipped


def encode(p, text):
    return text.encode(p.enc, "xmlcharrefreplace")


def rng_for(seed, what, p):
    return random.Random(f"{seed}:{what}:{p.key}")


def vseed(args, p):
    return f"{args.seed}:volatile:{p.key}"


# --- verbatim -----------------------------------------------------------------------------------

def vb(args, store, *cmd, check=True, capture=True):
    full = [args.verbatim, "--store", store, *cmd]
    r = subprocess.run(full, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE, text=True)
    if check and r.returncode not in (0, 1):
        sys.stderr.write(f"{' '.join(full)} exited {r.returncode}\n{r.stderr[-2000:]}\n")
        raise SystemExit(2)
    return r


def fetch_args(args):
    return ["--jobs", str(args.jobs), "--per-host", str(args.jobs), "--allow-private"]


def check_round(args, pristine, work, only=None):
    if os.path.exists(work):
        shutil.rmtree(work)
    subprocess.run(["cp", "-a", pristine, work], check=True)
    cmd = ["check", "--format", "json", *fetch_args(args)]
    r = vb(args, work, *cmd, *(only or []))
    try:
        out = json.loads(r.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(f"check gave no JSON: {r.stderr[-2000:]}\n")
        raise SystemExit(2)
    return {x["locator"]: x for x in out["results"]}, work


def changed_text(args, store, source):
    """What verbatim saw change, from `diff` of the version check stored against the one before."""
    r = vb(args, store, "diff", source, "--format", "json", check=False)
    try:
        d = json.loads(r.stdout)
    except json.JSONDecodeError:
        return r.stderr.strip()[-300:]
    out = []
    for op in d.get("ops", []):
        if op["op"] != "equal":
            out.append(("-" if op["op"] == "delete" else "+") + canon(op["text"])[:120])
        if len(out) >= 6:
            break
    return " | ".join(out)


# --- trafilatura --------------------------------------------------------------------------------

def traf_setup(args):
    venv = args.venv or os.path.join(args.run_dir, "venv")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "-r",
                        os.path.join(HERE, "requirements.txt")], check=True)
    freeze = subprocess.run([py, "-m", "pip", "freeze"], stdout=subprocess.PIPE, text=True).stdout
    with open(os.path.join(args.run_dir, "trafilatura-freeze.txt"), "w") as f:
        f.write(freeze)
    return py


def traf_extract(py, jobs, procs):
    if not jobs:
        return {}
    r = subprocess.run([py, os.path.join(HERE, "traf_worker.py"), str(procs)],
                       input=json.dumps(jobs), stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(r.stdout)


# --- main ---------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="?", default=os.environ.get("CORPORA", "/work/corpora"))
    ap.add_argument("--pages", type=int, default=0, help="sample N pages (over all corpora)")
    ap.add_argument("--noise-rounds", type=int, default=3)
    ap.add_argument("--edit-rounds", type=int, default=5, help="edits sampled per page")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--run-dir")
    ap.add_argument("--verbatim", default=os.environ.get("VERBATIM"))
    ap.add_argument("--learn", choices=["both", "on", "off"], default="both")
    ap.add_argument("--no-trafilatura", action="store_true")
    ap.add_argument("--venv", help="reuse this venv for trafilatura (made if missing)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report", metavar="RUN_DIR", help="print the summary of a finished run again")
    args = ap.parse_args()
    if args.report:
        return reprint(args.report)
    if not args.verbatim:
        for c in (os.path.join(ROOT, "target", "release", "verbatim"),):
            if os.path.exists(c):
                args.verbatim = c
    if not args.verbatim:
        sys.exit("no verbatim binary: build it (cargo build --release) or pass --verbatim")
    args.run_dir = os.path.abspath(args.run_dir or time.strftime("/tmp/realpages-%Y%m%d-%H%M%S"))
    os.makedirs(args.run_dir, exist_ok=True)
    T0 = time.time()
    log = lambda *a: print(f"[{time.time() - T0:6.0f}s]", *a, file=sys.stderr, flush=True)
    version = subprocess.run([args.verbatim, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    log(f"{version}; run dir {args.run_dir}")

    pages, skipped = load_pages(args.corpora, args.pages, args.seed)
    log(f"{len(pages)} pages ({sum(p.eligible for p in pages)} with article text found), "
        f"skipped {sum(skipped.values())}: {dict(skipped)}")
    www = os.path.join(args.run_dir, "www")
    shutil.rmtree(www, ignore_errors=True)
    content = Content(www)
    for p in pages:
        content.types[p.path] = f"text/html; charset={p.enc}"

    def write_round(rnd, bodies):
        d = os.path.join(www, rnd)
        shutil.rmtree(d, ignore_errors=True)
        for p, data in bodies.items():
            fp = os.path.join(d, p.path.lstrip("/"))
            os.makedirs(os.path.dirname(fp), exist_ok=True)
            with open(fp, "wb") as f:
                f.write(data)
        return d

    write_round("base", {p: p.raw for p in pages})
    # add's second load (learning) gets a noisy reload of its own seed, as a real site would.
    learn_noise = {}
    for p in pages:
        if p.eligible:
            # The second load changes every volatile part (all kinds): learning's best case.
            spans, kinds = mutate.noise_spans(p.page, rng_for(args.seed, "learn", p),
                                              kinds_wanted=mutate.KINDS, volatile_seed=vseed(args, p))
            learn_noise[p] = encode(p, mutate.apply(p.src, spans))
    write_round("learn", learn_noise)
    srv = serve(content)
    base_url = f"http://127.0.0.1:{srv.server_address[1]}"
    with open(os.path.join(args.run_dir, "urls.txt"), "w") as f:
        for p in pages:
            f.write(base_url + p.path + "\n")
    url_of = {p: base_url + p.path for p in pages}

    modes = {"both": ["learn", "no-learn"], "on": ["learn"], "off": ["no-learn"]}[args.learn]
    stores, add_secs, sources = {}, {}, {}
    for m in modes:
        st = os.path.join(args.run_dir, f"store-{m}")
        shutil.rmtree(st, ignore_errors=True)
        vb(args, st, "init")
        content.mode, content.hits = "add", collections.Counter()
        t = time.time()
        r = vb(args, st, "add", "--from", os.path.join(args.run_dir, "urls.txt"), *fetch_args(args),
               *(["--no-learn"] if m == "no-learn" else []))
        add_secs[m] = time.time() - t
        content.mode = "round"
        lst = json.loads(vb(args, st, "list", "--format", "json").stdout)
        sources[m] = {x["locator"]: x["id"] for x in lst}
        stores[m] = st
        log(f"add ({m}): {len(lst)} sources in {add_secs[m]:.0f}s"
            + (f"; failures: {r.stderr.strip()[-500:]}" if r.returncode else ""))

    # F1 of what add stored.
    m0 = modes[0]
    results = {p.key: {"corpus": p.corpus, "page": p.name, "type": p.type, "eligible": p.eligible,
                       "editable_tokens": p.page.editable_tokens, "truth_tokens": len(tokens(p.truth)),
                       "noise": [], "edits": []} for p in pages}
    stored = {}
    for p in pages:
        sid = sources[m0].get(url_of[p])
        if sid is None:
            results[p.key]["add_failed"] = True
            continue
        text = vb(args, stores[m0], "show", sid, check=False).stdout
        stored[p] = text
        results[p.key]["verbatim_f1"] = f1(text, p.truth)
    log(f"verbatim show: {len(stored)} texts")

    traf = not args.no_trafilatura
    if traf:
        py = traf_setup(args)
        base_tr = traf_extract(py, [[p.key, os.path.join(www, "base", p.path.lstrip("/")), p.enc]
                                    for p in pages], args.jobs)
        for p in pages:
            results[p.key]["trafilatura_f1"] = f1(base_tr.get(p.key) or "", p.truth)
        log("trafilatura base extraction done")

    failures = []
    fail_dir = os.path.join(args.run_dir, "failures")
    shutil.rmtree(fail_dir, ignore_errors=True)
    os.makedirs(fail_dir)
    elig = [p for p in pages if p.eligible and url_of[p] in sources[m0]]

    def save_failure(p, rnd, data):
        fp = os.path.join(fail_dir, f"{p.corpus}-{p.name}-{rnd}.html")
        if not os.path.exists(fp):
            with open(fp, "wb") as f:
                f.write(data)
        return os.path.relpath(fp, args.run_dir)

    def run_round(rnd, variants):
        """Serves the variants, checks a fresh copy of each store; returns verdicts per mode."""
        write_round(rnd, {p: v[0] for p, v in variants.items()})
        content.round = rnd
        out = {}
        for m in modes:
            res, work = check_round(args, stores[m], os.path.join(args.run_dir, f"work-{m}"))
            out[m] = (res, work)
        tr = {}
        if traf:
            tr = traf_extract(py, [[p.key, os.path.join(www, rnd, p.path.lstrip("/")), p.enc]
                                   for p in variants], args.jobs)
        return out, tr

    # Noise rounds.
    noise_kinds_of = {}
    for r in range(args.noise_rounds):
        rnd = f"noise{r}"
        variants = {}
        for p in elig:
            spans, kinds = mutate.noise_spans(p.page, rng_for(args.seed, rnd, p),
                                              volatile_seed=vseed(args, p))
            variants[p] = (encode(p, mutate.apply(p.src, spans)), spans, kinds)
        out, tr = run_round(rnd, variants)
        fa_pages = collections.defaultdict(list)
        for p, (data, spans, kinds) in variants.items():
            rec = {"round": r, "kinds": kinds}
            for m in modes:
                res, work = out[m]
                x = res.get(url_of[p], {})
                rec[m] = x.get("verdict")
                if x.get("verdict") == "edited":
                    fa_pages[m].append(p)
                    rec[m + "_changes"] = x.get("changes")
                    rec[m + "_diff"] = changed_text(args, work, x["source"])
            if traf:
                rec["trafilatura_changed"] = canon(tr.get(p.key)) != canon(base_tr.get(p.key))
            results[p.key]["noise"].append(rec)
            noise_kinds_of[(p, r)] = (spans, kinds)
        # Which noise kind(s) trigger each false alarm: serve them one at a time.
        for m in modes:
            if not fa_pages[m]:
                continue
            kinds_all = sorted({k for p in fa_pages[m] for k in noise_kinds_of[(p, r)][1]})
            for k in kinds_all:
                sub = {p: noise_kinds_of[(p, r)][0] for p in fa_pages[m]
                       if k in noise_kinds_of[(p, r)][1]}
                arnd = f"{rnd}-{m}-{k}"
                write_round(arnd, {p: encode(p, mutate.apply(p.src, [s for s in sp if s[3] == k]))
                                   for p, sp in sub.items()})
                content.round = arnd
                res, _ = check_round(args, stores[m], os.path.join(args.run_dir, f"work-{m}"),
                                     only=[sources[m][url_of[p]] for p in sub])
                for p in sub:
                    rec = results[p.key]["noise"][-1]
                    if res.get(url_of[p], {}).get("verdict") == "edited":
                        rec.setdefault(m + "_triggers", []).append(k)
            for p in fa_pages[m]:
                rec = results[p.key]["noise"][-1]
                failures.append({
                    "page": p.key, "type": p.type, "failure": "false_alarm", "mode": m, "round": r,
                    "kinds": ",".join(rec["kinds"]),
                    "trigger": ",".join(rec.get(m + "_triggers", [])) or "only together",
                    "element": "", "edit": "", "verdict": "edited",
                    "seen_changed": rec.get(m + "_diff", ""),
                    "file": save_failure(p, rnd, variants[p][0]),
                })
        log(f"{rnd}: false alarms " + ", ".join(f"{m} {len(fa_pages[m])}" for m in modes)
            + (f", trafilatura {sum(results[p.key]['noise'][-1]['trafilatura_changed'] for p in elig)}" if traf else ""))

    # Edit rounds.
    for r in range(args.edit_rounds):
        rnd = f"edit{r}"
        variants = {}
        for p in elig:
            rng = rng_for(args.seed, rnd, p)
            spans, kinds = mutate.noise_spans(p.page, rng, volatile_seed=vseed(args, p))
            e = mutate.edit_span(p.page, rng, p.vocab)
            if e is None:
                continue
            a, b, new, info = e
            spans = [s for s in spans if s[1] <= a or s[0] >= b] + [(a, b, new, "edit")]
            variants[p] = (encode(p, mutate.apply(p.src, spans)), info, kinds)
        out, tr = run_round(rnd, variants)
        misses = collections.Counter()
        for p, (data, info, kinds) in variants.items():
            rec = {"round": r, "edit": info, "kinds": kinds}
            # Was the edited passage in the text verbatim stored at add?
            window = tokens(info["context"])
            if len(window) >= 4:
                window = window[1:-1]  # the context is cut at characters: its ends may be partial
            rec["in_stored_text"] = (" " + " ".join(window) + " ") in (" " + " ".join(tokens(stored.get(p, ""))) + " ")
            for m in modes:
                res, work = out[m]
                x = res.get(url_of[p], {})
                v = x.get("verdict")
                if v == "edited" and not shows_edit(info, stored.get(p, ""),
                                                    vb(args, work, "show", x["source"], check=False).stdout):
                    # Reported, but the new version does not hold the edit: the furniture noise
                    # of the same reload was what check saw.
                    v = "edited, not this edit"
                rec[m] = v
                if v != "edited":
                    misses[m] += 1
                    failures.append({
                        "page": p.key, "type": p.type, "failure": "miss", "mode": m, "round": r,
                        "kinds": ",".join(kinds), "trigger": "",
                        "element": f"{info['element']} (block {info['block']}; {info['path']})",
                        "edit": f"{info['old']} -> {info['new']} @{info['position']}: …{info['context']}…",
                        "verdict": v or "missing",
                        "seen_changed": "passage in stored text" if rec["in_stored_text"]
                        else "passage not in stored text",
                        "file": save_failure(p, rnd, data),
                    })
            if traf:
                rec["trafilatura_changed"] = shows_edit(info, base_tr.get(p.key), tr.get(p.key))
            results[p.key]["edits"].append(rec)
        log(f"{rnd}: {len(variants)} edits, misses " + ", ".join(f"{m} {misses[m]}" for m in modes)
            + (f", trafilatura {sum(not results[p.key]['edits'][-1]['trafilatura_changed'] for p in variants)}" if traf else ""))
        # Only the failures' pages are kept.
        shutil.rmtree(os.path.join(www, rnd), ignore_errors=True)
    for r in range(args.noise_rounds):
        shutil.rmtree(os.path.join(www, f"noise{r}"), ignore_errors=True)
    srv.shutdown()
    total_s = time.time() - T0

    with open(os.path.join(args.run_dir, "results.json"), "w") as f:
        json.dump({"verbatim": version, "seed": args.seed, "corpora": args.corpora,
                   "modes": modes, "trafilatura": traf, "noise_rounds": args.noise_rounds,
                   "edit_rounds": args.edit_rounds,
                   "skipped": {f"{c}: {why}": n for (c, why), n in skipped.items()},
                   "add_seconds": add_secs, "total_seconds": total_s, "pages": results},
                  f, indent=1, ensure_ascii=False)
    cols = ["page", "type", "failure", "mode", "round", "kinds", "trigger", "element", "edit",
            "verdict", "seen_changed", "file"]
    with open(os.path.join(args.run_dir, "failures.tsv"), "w") as f:
        f.write("\t".join(cols) + "\n")
        for x in failures:
            f.write("\t".join(str(x[c]).replace("\t", " ").replace("\n", " ") for c in cols) + "\n")
    print(report(results, pages, skipped, modes, traf, version, args, total_s, add_secs))
    print()
    print(failure_classes(failures, results, modes[0]))


def report(results, pages, skipped, modes, traf, version, args, total_s, add_secs):
    groups = collections.OrderedDict()
    for p in pages:
        groups.setdefault(p.corpus, []).append(p)
    by_type = collections.OrderedDict()
    for p in sorted(pages, key=lambda p: p.type):
        if p.corpus == "wcxb":
            by_type.setdefault(f"wcxb: {p.type}", []).append(p)

    def row(label, ps):
        rs = [results[p.key] for p in ps]
        noise = [n for r in rs for n in r["noise"]]
        edits = [e for r in rs for e in r["edits"]]
        vf = [r["verbatim_f1"] for r in rs if "verbatim_f1" in r]
        cells = [label, f"{len(ps)} ({sum(r['eligible'] for r in rs)})", str(len(noise))]
        for m in modes:
            fa = sum(n.get(m) == "edited" for n in noise)
            cells.append(f"{fa} ({fa / max(1, len(noise)):.3f})")
        cells.append(str(len(edits)))
        for m in modes:
            mi = sum(e.get(m) != "edited" for e in edits)
            cells.append(f"{mi} ({100 * mi / max(1, len(edits)):.1f}%)")
        cells.append(f"{statistics.mean(vf):.3f} / {statistics.median(vf):.3f}" if vf else "–")
        if traf:
            tf = [r["trafilatura_f1"] for r in rs if "trafilatura_f1" in r]
            tfa = sum(n.get("trafilatura_changed") for n in noise)
            tmi = sum(not e.get("trafilatura_changed") for e in edits)
            cells += [f"{statistics.mean(tf):.3f} / {statistics.median(tf):.3f}" if tf else "–",
                      f"{tfa} ({tfa / max(1, len(noise)):.3f})",
                      f"{tmi} ({100 * tmi / max(1, len(edits)):.1f}%)"]
        return "| " + " | ".join(cells) + " |"

    names = {"learn": "verbatim", "no-learn": "verbatim --no-learn"}
    head = ["corpus", "pages (with article found)", "noise reloads"]
    head += [f"false alarms, {names[m]}" for m in modes]
    head += ["edits"]
    head += [f"misses, {names[m]}" for m in modes]
    head += ["verbatim F1 mean / median"]
    if traf:
        head += ["trafilatura F1 mean / median", "trafilatura false alarms", "trafilatura misses"]
    lines = [f"verbatim: {version}; seed {args.seed}; {args.noise_rounds} noise reloads and "
             f"{args.edit_rounds} edits per page; run {total_s / 60:.1f} min; add "
             + ", ".join(f"{names[m]} {s:.0f}s" for m, s in add_secs.items()), ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(head) - 1)) + "|")
    for c, ps in groups.items():
        lines.append(row(c, ps))
    lines.append(row("**all**", pages))
    if by_type:
        lines += ["", "| " + " | ".join(head) + " |",
                  "|" + "|".join([" --- "] + [" ---: "] * (len(head) - 1)) + "|"]
        for c, ps in by_type.items():
            lines.append(row(c, ps))
    if skipped:
        lines += ["", "Skipped: " + ", ".join(f"{c}: {n} ({why})" for (c, why), n in sorted(skipped.items()))]
    noart = [p.key for p in pages if not p.eligible]
    if noart:
        lines += [f"No article text found in the page for its ground truth (F1 only, no noise "
                  f"or edits): {len(noart)}: {', '.join(noart)}"]
    lines += ["", f"Details: {args.run_dir}/failures.tsv, results.json"]
    return "\n".join(lines)


def reprint(run_dir):
    with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as f:
        d = json.load(f)
    results = d["pages"]
    pages = []
    for key, r in results.items():
        p = P()
        p.key, p.corpus, p.type, p.eligible = key, r["corpus"], r["type"], r["eligible"]
        pages.append(p)
    recs = [n for r in results.values() for n in r["noise"]]
    modes = d.get("modes") or [m for m in ("learn", "no-learn") if recs and m in recs[0]]
    traf = d.get("trafilatura", any("trafilatura_f1" in r for r in results.values()))
    skipped = {}
    for k, n in d.get("skipped", {}).items():
        c, why = k.split(": ", 1)
        skipped[(c, why)] = n
    args = argparse.Namespace(seed=d["seed"], run_dir=os.path.abspath(run_dir),
                              noise_rounds=d.get("noise_rounds", max((len(r["noise"]) for r in results.values()), default=0)),
                              edit_rounds=d.get("edit_rounds", max((len(r["edits"]) for r in results.values()), default=0)))
    with open(os.path.join(run_dir, "failures.tsv"), encoding="utf-8") as f:
        rows = f.read().splitlines()
    cols = rows[0].split("\t")
    failures = [dict(zip(cols, line.split("\t"))) for line in rows[1:]]
    print(report(results, pages, skipped, modes, traf, d["verbatim"], args, d["total_seconds"],
                 d["add_seconds"]))
    print()
    print(failure_classes(failures, results, modes[0]))


def failure_classes(failures, results, mode):
    """Counts of the failures of one mode: false alarms by the noise kind that triggers them,
    misses by the element the edit was in and whether the passage was in the stored text."""
    fa = collections.Counter()
    fa_pages = collections.defaultdict(set)
    mi = collections.Counter()
    mi_pages = collections.defaultdict(set)
    for x in failures:
        if x["mode"] != mode:
            continue
        if x["failure"] == "false_alarm":
            fa[x["trigger"]] += 1
            fa_pages[x["trigger"]].add(x["page"])
        else:
            block = x["element"].split("(block ")[1].split(";")[0] if "(block " in x["element"] else "?"
            k = (block, x["seen_changed"])
            mi[k] += 1
            mi_pages[k].add(x["page"])
    lines = [f"False alarms ({mode}) by the noise kind that alone triggers them:", "",
             "| trigger | false alarms | pages | e.g. |", "| --- | ---: | ---: | --- |"]
    for k, n in fa.most_common():
        lines.append(f"| {k} | {n} | {len(fa_pages[k])} | {', '.join(sorted(fa_pages[k])[:4])} |")
    sampled = collections.Counter()
    missed = collections.Counter()
    for r in results.values():
        for e in r["edits"]:
            for k in (e["edit"]["block"] or "?", "second half" if e["edit"]["position"] >= 0.5 else "first half"):
                sampled[k] += 1
                missed[k] += e.get(mode) != "edited"
    lines += ["", f"Edits ({mode}) by the block they were in, and by their place in the article:", "",
              "| block | edits | missed |", "| --- | ---: | ---: |"]
    for k, n in sampled.most_common():
        lines.append(f"| {k} | {n} | {missed[k]} ({100 * missed[k] / n:.0f}%) |")
    lines += ["", f"Misses ({mode}) by the block the edit was in:", "",
              "| block | where | misses | pages | e.g. |", "| --- | --- | ---: | ---: | --- |"]
    for (b, w), n in mi.most_common():
        lines.append(f"| {b} | {w} | {n} | {len(mi_pages[(b, w)])} | {', '.join(sorted(mi_pages[(b, w)])[:4])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
