#!/usr/bin/env python3
"""Texts for the diff benchmark, built from the seed articles.

  texts.py edited DIR [MB] [PERCENT]   DIR/old.txt and DIR/new.txt: ~MB of article text, and the
                                       same with PERCENT of its words changed (substituted,
                                       inserted or deleted, spread over the whole text)
  texts.py unrelated DIR [MB]          DIR/x.txt and DIR/y.txt: two unrelated texts of ~MB each

Deterministic (fixed seeds), so every run compares the same files.
"""
import pathlib
import random
import sys

SEEDS = pathlib.Path(__file__).resolve().parents[2] / "seeds"


def paragraphs():
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        out += [p.strip() for p in path.read_text().split("\n\n") if p.strip()]
    return out


def article(size, rng):
    """About `size` bytes of paragraphs: seed paragraphs in random order, each with a few of its
    words swapped with words of other paragraphs, so that long documents do not repeat."""
    paras = paragraphs()
    vocab = " ".join(paras).split()
    out, total = [], 0
    while total < size:
        words = rng.choice(paras).split()
        for _ in range(max(1, len(words) // 10)):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        p = " ".join(words)
        out.append(p)
        total += len(p) + 2
    return out


def edited(paras, percent, rng):
    words = [p.split() for p in paras]
    vocab = [w for p in words for w in p]
    total = len(vocab)
    for _ in range(int(total * percent / 100)):
        p = rng.randrange(len(words))
        if not words[p]:
            continue
        i = rng.randrange(len(words[p]))
        kind = rng.random()
        if kind < 0.6:
            words[p][i] = rng.choice(vocab)
        elif kind < 0.8:
            words[p].insert(i, rng.choice(vocab))
        else:
            del words[p][i]
    return [" ".join(p) for p in words]


def main():
    mode, out = sys.argv[1], pathlib.Path(sys.argv[2])
    mb = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    out.mkdir(parents=True, exist_ok=True)
    size = int(mb * 1_000_000)
    if mode == "edited":
        percent = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
        rng = random.Random(1)
        old = article(size, rng)
        new = edited(old, percent, rng)
        (out / "old.txt").write_text("\n\n".join(old) + "\n")
        (out / "new.txt").write_text("\n\n".join(new) + "\n")
    elif mode == "unrelated":
        (out / "x.txt").write_text("\n\n".join(article(size, random.Random(2))) + "\n")
        (out / "y.txt").write_text("\n\n".join(article(size, random.Random(3))) + "\n")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
