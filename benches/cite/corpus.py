#!/usr/bin/env python3
"""The cite benchmark's corpus: N text sources of about SIZE bytes built from the seed articles,
and a TOML list of citations quoting them.

    corpus.py DIR N SIZE QUOTES [fuzzy|ellipsis]

writes DIR/src/00000.txt … (each sentence made distinct by a reference number) and
DIR/cites.toml with QUOTES citations spread over the sources: 40% quoted exactly, 30% retyped
(straight quotes, hyphens for dashes, other case), 20% altered (a word replaced: found only
approximately), 10% gone (a sentence from another source); with `fuzzy`, half altered and half
gone, so that every quote takes the approximate search; with `ellipsis`, every quote is the
start of one sentence, `…`, and the end of a sentence one to three sentences later, with a word
after the ellipsis replaced, so that every quote takes the part-by-part search (issue 17).
Deterministic.
"""
import random
import re
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def paragraphs():
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        out += [l.strip() for l in path.read_text(encoding="utf-8").splitlines() if len(l.strip()) > 80]
    return out


def sentences(text):
    out = []
    for para in text.split("\n\n"):
        out += [s.strip().rstrip(".") + "." for s in para.split(". ") if len(s.split()) >= 8]
    return out


def retype(s, rng):
    s = s.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').replace("\u2014", " - ")
    return s.upper() if rng.random() < 0.3 else s.lower()


def ellipsised(candidates, rng):
    """The start of a sentence, an ellipsis, and the end of one a little later, a word changed."""
    i = rng.randrange(len(candidates))
    j = min(i + rng.randint(1, 3), len(candidates) - 1)
    head = candidates[i].split()[:6]
    tail = re.sub(r"\s*\(ref [\d.]+\)\.$", "", candidates[j]).split()[-7:]
    tail[rng.randrange(len(tail))] = "notably"
    return " ".join(head) + " \u2026 " + " ".join(tail)


def main(root, n, size, quotes, mode):
    rng = random.Random(n * 7 + size)
    paras = paragraphs()
    root = Path(root)
    (root / "src").mkdir(parents=True, exist_ok=True)
    texts = []
    for i in range(n):
        body, k = [], 0
        length = 0
        while length < size:
            # Every sentence gets its own reference, so that a quote stands in one place only.
            para = " ".join(
                f"{s.rstrip('.')} (ref {i}.{k}.{j})." for j, s in enumerate(rng.choice(paras).split(". "))
            )
            body.append(para)
            length += len(para) + 2
            k += 1
        text = "\n\n".join(body) + "\n"
        path = root / "src" / f"{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        texts.append((path, text))
    lines = []
    for q in range(quotes):
        path, text = texts[q % n]
        candidates = sentences(text)
        quote = rng.choice(candidates)
        kind = 7 + q % 2 * 2 if mode == "fuzzy" else q % 10
        if mode == "ellipsis":
            quote = ellipsised(candidates, rng)
        elif kind < 4:
            pass
        elif kind < 7:
            quote = retype(quote, rng)
        elif kind < 9:
            words = quote.split()
            words[len(words) // 2] = "notably"
            quote = " ".join(words)
        else:
            other = texts[(q + 1) % n][1] if n > 1 else text
            quote = "Nothing like this " + rng.choice(sentences(other)).lower()
        quote = quote.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'[[citation]]\nurl = "file://{path}"\nquote = "{quote}"\n')
    (root / "cites.toml").write_text("\n".join(lines), encoding="utf-8")
    (root / "files.txt").write_text("\n".join(str(p) for p, _ in texts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), (sys.argv[5:] or [""])[0])
