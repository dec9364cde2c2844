#!/usr/bin/env python3
"""Pages for the check benchmark: N news-style pages of ~50 KB built from the seed articles.

    pages.py generate DIR N     write DIR/p/00000.html … and DIR/urls.txt-ready names
    pages.py change DIR N PCT   reword one sentence in PCT% of the pages (a new figure each time)

Each page carries a site header, navigation, a most-read list, related links, inline scripts and
a footer around one seed article, so that extraction does the work it does on real news pages.
Pages differ from each other (their number is in the headline and body), and they are static:
the server answers conditional requests with 304 until a page is changed.
"""
import os
import random
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed_articles():
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [l.strip() for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
        out.append((lines[0], lines[1:]))
    return out


def page(n, articles, rng):
    title, paras = articles[n % len(articles)]
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in
                  ["world", "politics", "business", "technology", "science", "health", "sport",
                   "culture", "opinion", "climate", "investigations", "video", "podcasts"])
    most_read = "".join(
        f'<li><a href="/story/{rng.randrange(10**6)}">Most read story number {i} about '
        f'{rng.choice(["markets", "elections", "storms", "courts", "schools"])}</a></li>'
        for i in range(10))
    related = "".join(
        f'<article class="teaser"><a href="/story/{rng.randrange(10**6)}"><h3>Related: '
        f'{articles[(n + i) % len(articles)][0]}</h3></a><p>{articles[(n + i) % len(articles)][1][0][:160]}…</p></article>'
        for i in range(1, 9))
    body = "".join(f"<p>{p}</p>" for p in paras)
    script = "<script>window.dataLayer=window.dataLayer||[];" + ";".join(
        f"dataLayer.push({{event:'slot{i}',id:'{rng.randrange(16**12):012x}'}})" for i in range(60)) + "</script>"
    style = "<style>" + "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:06x}}}" for i in range(800)) + "</style>"
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Page {n}</title>
<meta name="description" content="{paras[0][:150]}">{style}{script}</head>
<body><header class="site-header"><a href="/">The Daily Record</a><nav><ul>{nav}</ul></nav>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div></header>
<main><article><h1>{title} (report {n})</h1><p class="byline">By Staff Reporter · 12 March 2024</p>
{body}<p>This is report number {n} in the series, filed with reference {n * 7919 % 100003}.</p>
</article><aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>
<section class="related"><h2>More on this story</h2>{related}</section></main>
<footer><p>© 2024 The Daily Record. All rights reserved.</p><ul>{nav}</ul>{script}</footer></body></html>
"""
    return html


def generate(root, count):
    articles = seed_articles()
    out = Path(root) / "p"
    out.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        rng = random.Random(n)
        (out / f"{n:05d}.html").write_text(page(n, articles, rng), encoding="utf-8")


def change(root, count, pct):
    """Rewords the filing sentence of a random pct% of the pages, so each change is a real edit."""
    rng = random.Random()
    pages = rng.sample(range(count), max(1, count * pct // 100))
    for n in pages:
        path = Path(root) / "p" / f"{n:05d}.html"
        text = path.read_text(encoding="utf-8")
        text = text.replace("in the series, filed with reference",
                            f"in the series (revised {rng.randrange(10**6)}), filed with reference", 1)
        path.write_text(text, encoding="utf-8")
    return len(pages)


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "change":
        print(change(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
