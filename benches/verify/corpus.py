#!/usr/bin/env python3
"""The verify benchmark's corpus: N news-style pages of ~100 KB (about 1 GB for 10,000).

    corpus.py DIR N     write DIR/00000.html … and DIR/files.txt (their paths)

Each file is one of the check benchmark's pages (benches/check/pages.py, built from the seed
articles) carrying the articles of five more: distinct bytes in every file, with the markup,
scripts and text of a real page. Deterministic.
"""
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "check"))
import pages  # noqa: E402


def main(root, count):
    articles = pages.seed_articles()
    out = Path(root)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for n in range(count):
        first = pages.page(n, articles, random.Random(n))
        # The articles of five more pages join the first's, so the file is one document.
        more = "".join(
            pages.page(n * 5 + k + 1_000_003, articles, random.Random(-n * 5 - k - 1))
            .split("<main>", 1)[1]
            .split("</main>", 1)[0]
            for k in range(5)
        )
        html = first.replace("</main>", more + "</main>", 1)
        path = out / f"{n:05d}.html"
        path.write_text(html, encoding="utf-8")
        names.append(str(path))
    (out / "files.txt").write_text("\n".join(names) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
