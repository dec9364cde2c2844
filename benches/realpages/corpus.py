#!/usr/bin/env python3
"""Builds the corpus directory for benches/realpages/run.py (called by get-corpora.sh).

Layout written, one directory per page:
    OUT/<corpus>/<page>/source.html   the page as the corpus has it (bytes as they are)
    OUT/<corpus>/<page>/truth.txt     the ground-truth article text (UTF-8)
    OUT/<corpus>/<page>/meta.json     corpus, page, page_type, url and title (when known),
                                      origin, commit
    OUT/MANIFEST.json                 what was built, from where
"""
import argparse
import gzip
import hashlib
import html
import html.parser
import json
import os
import shutil
import sys

BLOCK = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl",
    "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "ul",
}
SKIP = {"script", "style", "template", "noscript", "head", "title"}


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skip += 1
        elif tag in BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in BLOCK:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_to_text(markup):
    """Visible text of an HTML fragment, one block per line (for Readability's expected.html)."""
    p = _Text()
    p.feed(markup)
    p.close()
    lines = (" ".join(line.split()) for line in "".join(p.out).split("\n"))
    return "\n".join(line for line in lines if line)


def _write(out, corpus, page, source_bytes, truth, meta):
    d = os.path.join(out, corpus, page)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "source.html"), "wb") as f:
        f.write(source_bytes)
    with open(os.path.join(d, "truth.txt"), "w", encoding="utf-8") as f:
        f.write(truth)
    with open(os.path.join(d, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)


def build(args):
    out = args.out
    manifest = {"corpora": {}}
    if args.readability:
        corpus = "readability"
        shutil.rmtree(os.path.join(out, corpus), ignore_errors=True)
        names = sorted(os.listdir(args.readability))
        n = 0
        for name in names:
            d = os.path.join(args.readability, name)
            src, exp = os.path.join(d, "source.html"), os.path.join(d, "expected.html")
            if not (os.path.isfile(src) and os.path.isfile(exp)):
                continue
            with open(src, "rb") as f:
                source = f.read()
            with open(exp, encoding="utf-8", errors="replace") as f:
                truth = html_to_text(f.read())
            title = None
            md = os.path.join(d, "expected-metadata.json")
            if os.path.isfile(md):
                with open(md, encoding="utf-8") as f:
                    title = json.load(f).get("title")
            _write(out, corpus, name, source, truth, {
                "corpus": corpus, "page": name, "page_type": "article", "url": None,
                "title": title,
                "origin": f"github.com/mozilla/readability test/test-pages/{name}/",
                "commit": args.readability_commit,
            })
            n += 1
        manifest["corpora"][corpus] = {
            "repo": "github.com/mozilla/readability", "commit": args.readability_commit,
            "paths": "test/test-pages/*/source.html, expected.html", "pages": n,
        }
    if args.wcxb:
        corpus = "wcxb"
        shutil.rmtree(os.path.join(out, corpus), ignore_errors=True)
        with open(os.path.join(args.wcxb, "metadata.json"), encoding="utf-8") as f:
            files = json.load(f)["files"]
        dev = {k: v for k, v in files.items() if v.get("split") == "dev"
               and os.path.isfile(os.path.join(args.wcxb, "dev", "html", f"{k}.html.gz"))}
        by_type = {}
        for k, v in dev.items():
            by_type.setdefault(v.get("page_type") or "unknown", []).append(k)
        total = len(dev)
        want = min(args.wcxb_pages, total)
        chosen = []
        # Stratified: each page type in proportion to the dev split (largest remainder), each
        # type's pages in the order of sha256(file id) -- deterministic, unrelated to content.
        quotas = {t: want * len(ks) / total for t, ks in by_type.items()}
        take = {t: int(q) for t, q in quotas.items()}
        rest = want - sum(take.values())
        for t in sorted(quotas, key=lambda t: (-(quotas[t] - take[t]), t))[:rest]:
            take[t] += 1
        for t, ks in sorted(by_type.items()):
            ks.sort(key=lambda k: hashlib.sha256(k.encode()).hexdigest())
            chosen += [(t, k) for k in ks[:take[t]]]
        for t, k in sorted(chosen, key=lambda x: x[1]):
            with gzip.open(os.path.join(args.wcxb, "dev", "html", f"{k}.html.gz"), "rb") as f:
                source = f.read()
            with open(os.path.join(args.wcxb, "dev", "ground-truth", f"{k}.json"), encoding="utf-8") as f:
                gt = json.load(f)
            truth = (gt.get("ground_truth") or {}).get("main_content") or ""
            _write(out, corpus, k, source, truth, {
                "corpus": corpus, "page": k, "page_type": t, "url": gt.get("url"),
                "title": (gt.get("ground_truth") or {}).get("title"),
                "origin": f"github.com/Murrough-Foley/web-content-extraction-benchmark dev/html/{k}.html.gz, dev/ground-truth/{k}.json",
                "commit": args.wcxb_commit,
            })
        manifest["corpora"][corpus] = {
            "repo": "github.com/Murrough-Foley/web-content-extraction-benchmark",
            "commit": args.wcxb_commit,
            "paths": "dev/html/NNNN.html.gz, dev/ground-truth/NNNN.json (ground_truth.main_content), metadata.json",
            "pages": len(chosen), "of_dev_pages": total,
            "per_type": {t: take[t] for t in sorted(take)},
        }
    with open(os.path.join(out, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    json.dump(manifest, sys.stdout, indent=1)
    print()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--readability")
    b.add_argument("--readability-commit", default="")
    b.add_argument("--wcxb")
    b.add_argument("--wcxb-commit", default="")
    b.add_argument("--wcxb-pages", type=int, default=300)
    b.add_argument("--out", required=True)
    args = ap.parse_args()
    build(args)


if __name__ == "__main__":
    main()
