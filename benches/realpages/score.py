#!/usr/bin/env python3
"""Article-text F1 of extracted texts against a corpus' ground truth, without a `check` run.

    DUMP_IN=/work/corpora DUMP_OUT=DIR cargo test --lib dump_corpus -- --ignored
    python3 benches/realpages/score.py [--corpora /work/corpora] DIR [OLD.json]

Writes DIR.json (page -> [page type, F1]) and prints the mean F1 per corpus; given the JSON of
an earlier dump, also the pages whose F1 moved. F1 is run.py's (WCXB's word_f1).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import f1  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", default="/work/corpora")
    ap.add_argument("dump")
    ap.add_argument("old", nargs="?")
    a = ap.parse_args()
    out = {}
    for corpus in ("readability", "wcxb"):
        for page in sorted(os.listdir(os.path.join(a.corpora, corpus))):
            text_file = os.path.join(a.dump, f"{corpus}-{page}.txt")
            base = os.path.join(a.corpora, corpus, page)
            if not os.path.exists(text_file):
                continue
            truth = open(os.path.join(base, "truth.txt"), encoding="utf-8").read()
            if not truth.strip():
                continue
            meta = json.load(open(os.path.join(base, "meta.json"), encoding="utf-8"))
            kind = meta.get("page_type", "article")
            text = open(text_file, encoding="utf-8").read()
            out[f"{corpus}/{page}"] = (kind, f1(text, truth))
    json.dump(out, open(a.dump.rstrip("/") + ".json", "w"))
    if a.old:
        old = json.load(open(a.old))
        for key, (kind, score) in sorted(out.items()):
            if key in old and abs(old[key][1] - score) > 0.005:
                print(f"{key:30} {kind:12} {old[key][1]:.3f} -> {score:.3f}")
    groups = [
        ("readability", lambda k, t: k.startswith("readability/")),
        ("wcxb articles", lambda k, t: k.startswith("wcxb/") and t == "article"),
        ("wcxb", lambda k, t: k.startswith("wcxb/")),
        ("all", lambda k, t: True),
    ]
    for name, keep in groups:
        scores = [s for k, (t, s) in out.items() if keep(k, t)]
        if scores:
            print(f"{name}: {len(scores)} pages, F1 mean {sum(scores) / len(scores):.4f}")


if __name__ == "__main__":
    main()
