//! Extraction benchmark: how often noise alone makes verbatim see a change (false alarms), and
//! how often a real edit goes unseen under the same noise (misses), on news-page templates built
//! around the seed articles.
//!
//! Each template is a common layout of public news sites, filled with the kinds of boilerplate
//! that change on every load of a real page: rotating related-story and most-read lists (outside
//! and inside the article), "Updated N minutes ago" stamps, share and comment counts, sponsored
//! blocks, "Read more" links between paragraphs, tickers, newsletter promos, photo credits.
//! For every template and seed, load 0 is the stored version; loads 1..=LOADS are noise only and
//! must compare equal to it; each edit (a reworded sentence, a changed figure, a deleted
//! paragraph, an appended correction, a new headline) is applied to a fresh noisy load and must
//! compare different. Comparison is exactly check's: extraction, ignore rules, canonical text.
//!
//! Run: `cargo bench --bench extraction` (prints a markdown table for docs/benchmarks.md);
//! `BENCH_NO_LEARN=1` leaves out what `add` learns from loading a page twice.

use std::time::Instant;

use verbatim::classify::canonical_text;
use verbatim::extract::{Rules, extract_with};

const LOADS: usize = 20;

/// A deterministic generator, so every run builds the same pages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const HEADLINES: &[&str] = &[
    "Markets rally as inflation cools for a third month",
    "Storm leaves thousands without power across the coast",
    "Court blocks new rules on gig workers pending appeal",
    "City council approves budget after marathon session",
    "Researchers find microplastics in deep-sea sediment",
    "Union and rail operator reach tentative agreement",
    "Heatwave warnings issued for much of the south",
    "Tech giant faces new antitrust complaint in Europe",
    "School districts struggle to fill teaching vacancies",
    "Election officials prepare for record turnout",
    "Drought forces farmers to cut planting",
    "Hospital waiting lists hit new high",
];
const SPONSORS: &[&str] = &[
    "Sponsored: The smarter way to save for retirement starts today.",
    "Sponsored: Discover the trip of a lifetime with our partners.",
    "Sponsored: This mattress has 40,000 five-star reviews.",
    "Sponsored: Homeowners are switching insurers in record numbers.",
    "Sponsored: Learn a language in 10 minutes a day.",
];
const PROMOS: &[&str] = &[
    "Sign up for our morning briefing and get the news that matters in your inbox.",
    "Get our weekend newsletter: the best long reads, every Saturday.",
    "Support independent journalism. Subscribe from just 1 a week.",
    "Never miss a story: follow us on all your favourite platforms.",
];
const CREDITS: &[&str] = &[
    "Photograph: Reuters",
    "Photograph: Getty Images",
    "Photograph: AP",
    "Photograph: AFP",
];

struct Article {
    title: String,
    paragraphs: Vec<String>,
}

/// An edit a reader would care about, applied to the article before it is wrapped in a page.
#[derive(Clone, Copy, Debug)]
enum Edit {
    Reword,
    Figure,
    DeleteParagraph,
    Correction,
    Headline,
}

const EDITS: [Edit; 5] = [
    Edit::Reword,
    Edit::Figure,
    Edit::DeleteParagraph,
    Edit::Correction,
    Edit::Headline,
];

fn edited(article: &Article, edit: Edit) -> Article {
    let mut title = article.title.clone();
    let mut paragraphs = article.paragraphs.clone();
    let middle = paragraphs.len() / 2;
    match edit {
        Edit::Reword => {
            let p = &mut paragraphs[middle];
            // Swap the paragraph's first two words: a reworded sentence, same length.
            let mut words: Vec<&str> = p.split(' ').collect();
            if words.len() > 2 {
                words.swap(0, 1);
            }
            *p = words.join(" ");
        }
        Edit::Figure => {
            // Change the first figure in the text, or add one where there is none.
            let at = paragraphs
                .iter()
                .position(|p| p.chars().any(|c| c.is_ascii_digit()));
            match at {
                Some(i) => {
                    let p = &paragraphs[i];
                    let d = p.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
                    let digit = p.as_bytes()[d];
                    let new = if digit == b'9' {
                        '8'
                    } else {
                        (digit + 1) as char
                    };
                    paragraphs[i] = format!("{}{new}{}", &p[..d], &p[d + 1..]);
                }
                None => paragraphs[middle].push_str(" The total was 12 percent."),
            }
        }
        Edit::DeleteParagraph => {
            paragraphs.remove(middle);
        }
        Edit::Correction => paragraphs.push(
            "Correction: an earlier version of this article misstated the year of the contract."
                .to_owned(),
        ),
        Edit::Headline => title.push_str(", officials say"),
    }
    Article { title, paragraphs }
}

fn links(rng: &mut Rng, n: usize) -> Vec<(u64, &'static str)> {
    (0..n)
        .map(|_| (rng.next() % 100_000, rng.pick(HEADLINES)))
        .collect()
}

fn link_list(rng: &mut Rng, n: usize) -> String {
    links(rng, n)
        .iter()
        .map(|(id, h)| format!("<li><a href=\"/story/{id}\">{h}</a></li>"))
        .collect()
}

fn nav() -> &'static str {
    "<nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/world\">World</a></li>\
     <li><a href=\"/politics\">Politics</a></li><li><a href=\"/business\">Business</a></li>\
     <li><a href=\"/tech\">Technology</a></li><li><a href=\"/opinion\">Opinion</a></li></ul></nav>"
}

/// Site layouts. Each takes the article and a generator for this load's noise.
type Template = fn(&Article, &mut Rng) -> String;

/// `<article>` with a byline that says how long ago it was updated, share counts, and a
/// rotating "related" list inside the article; most-read list and footer outside.
fn classic(a: &Article, rng: &mut Rng) -> String {
    let body: String = a.paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<!DOCTYPE html><html><head><title>{t} | The Record</title></head><body>\
         <header><a href=\"/\">The Record</a>{nav}</header><main><article><h1>{t}</h1>\
         <p class=\"byline\">By Staff Reporter. Updated {m} minutes ago</p>\
         <div class=\"share\">{s} shares</div>{body}\
         <aside class=\"related\"><h2>Related</h2><ul>{rel}</ul></aside></article>\
         <aside class=\"most-read\"><h2>Most read</h2><ol>{most}</ol></aside></main>\
         <footer><p>© The Record</p>{nav}</footer></body></html>",
        t = a.title,
        nav = nav(),
        m = 1 + rng.below(59),
        s = rng.below(5000),
        rel = link_list(rng, 4),
        most = link_list(rng, 8),
    )
}

/// No semantic elements: a story body div among sidebars, with sponsored blocks and a newsletter
/// promo between paragraphs.
fn div_soup(a: &Article, rng: &mut Rng) -> String {
    let mut body = String::new();
    for (i, p) in a.paragraphs.iter().enumerate() {
        body.push_str(&format!("<div class=\"para\">{p}</div>"));
        if i == 2 {
            body.push_str(&format!(
                "<div class=\"ad-slot\"><span>Advertisement</span><div>{}</div></div>",
                rng.pick(SPONSORS)
            ));
        }
        if i == 4 {
            body.push_str(&format!("<div class=\"promo\">{}</div>", rng.pick(PROMOS)));
        }
    }
    format!(
        "<html><head><title>{t}</title></head><body><div id=\"top\">{nav}</div>\
         <div class=\"wrap\"><div class=\"left\"><ul>{side}</ul></div>\
         <div class=\"story\"><div class=\"headline\">{t}</div>{body}</div>\
         <div class=\"right\"><div class=\"trending\"><ul>{trend}</ul></div></div></div>\
         <div id=\"foot\">Copyright {y}</div></body></html>",
        t = a.title,
        nav = nav(),
        side = link_list(rng, 6),
        trend = link_list(rng, 5),
        y = 2024,
    )
}

/// "Read more" links between paragraphs and a comment count, inside `<main>`.
fn read_more(a: &Article, rng: &mut Rng) -> String {
    let mut body = String::new();
    for (i, p) in a.paragraphs.iter().enumerate() {
        body.push_str(&format!("<p>{p}</p>"));
        if i % 3 == 1 {
            let (id, h) = links(rng, 1)[0];
            body.push_str(&format!(
                "<p><strong>Read more:</strong> <a href=\"/story/{id}\">{h}</a></p>"
            ));
        }
    }
    format!(
        "<html><head><title>{t}</title></head><body>{nav}<main><h1>{t}</h1>\
         <div class=\"ticker\">Live: {tick}</div>{body}\
         <p class=\"comments\"><a href=\"#comments\">{c} comments</a></p></main>\
         <footer>{nav}</footer></body></html>",
        t = a.title,
        nav = nav(),
        tick = rng.pick(HEADLINES),
        c = rng.below(900),
    )
}

/// A figure with a rotating credit and "recommended" cards (headline link plus summary text)
/// inside the article.
fn cards(a: &Article, rng: &mut Rng) -> String {
    let body: String = a.paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let cards: String = (0..3)
        .map(|_| {
            let (id, h) = links(rng, 1)[0];
            format!(
                "<div class=\"card\"><h3><a href=\"/story/{id}\">{h}</a></h3>\
                 <p>{}</p></div>",
                rng.pick(PROMOS)
            )
        })
        .collect();
    format!(
        "<html><head><title>{t}</title></head><body><header>{nav}</header><article>\
         <h1>{t}</h1><figure><img src=\"/i/{img}.jpg\"><figcaption>{credit}</figcaption></figure>\
         {body}<section class=\"recommended\"><h2>Recommended for you</h2>{cards}</section>\
         </article><footer>{nav}</footer></body></html>",
        t = a.title,
        nav = nav(),
        img = rng.next(),
        credit = rng.pick(CREDITS),
    )
}

/// Held out: written after the furniture rules, with names they do not know — a live
/// "Last updated" time inside the article and a widget of story summaries with unlinked text.
fn widgets(a: &Article, rng: &mut Rng) -> String {
    let body: String = a.paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let picks: String = (0..2)
        .map(|_| {
            format!(
                "<div class=\"w-item\"><b>{}</b> {}</div>",
                rng.pick(HEADLINES),
                rng.pick(PROMOS)
            )
        })
        .collect();
    format!(
        "<html><head><title>{t}</title></head><body><div class=\"masthead\">{nav}</div>\
         <div class=\"content\"><h1>{t}</h1><p class=\"dateline\">Last updated {h:02}:{m:02} GMT</p>\
         {body}<div class=\"widget-area\"><h4>Editors' picks</h4>{picks}</div></div>\
         <div class=\"bottom\">{nav}</div></body></html>",
        t = a.title,
        nav = nav(),
        h = rng.below(24),
        m = rng.below(60),
    )
}

const TEMPLATES: [(&str, Template); 5] = [
    ("article, byline stamp, related list inside", classic),
    ("div soup, sponsored blocks, promo", div_soup),
    ("read-more links, ticker, comment count", read_more),
    ("figure credit, recommended cards inside", cards),
    ("held out: live time stamp, summary widget", widgets),
];

fn seeds() -> Vec<Article> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("seeds directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("seed text");
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let title = lines.next().unwrap_or("Untitled").to_owned();
            Article {
                title,
                paragraphs: lines.map(str::to_owned).collect(),
            }
        })
        .collect()
}

fn extracted(html: &str) -> String {
    extract_with(
        html.as_bytes(),
        Some("text/html; charset=utf-8"),
        None,
        &Rules::default(),
    )
    .text
}

fn comparison(html: &str, rules: &Rules) -> String {
    canonical_text(&rules.strip_ignored(&extracted(html)))
}

fn main() {
    let articles = seeds();
    let learning = std::env::var_os("BENCH_NO_LEARN").is_none();
    println!(
        "Noise learned at add (two loads): {}",
        if learning { "yes" } else { "no" }
    );
    println!();
    println!(
        "| template | false alarms (noise-only loads seen as changed) | misses (edits not seen) | extraction, ms/page |"
    );
    println!("| --- | ---: | ---: | ---: |");
    let (mut all_alarms, mut all_loads, mut all_misses, mut all_edits) = (0, 0, 0, 0);
    for (name, template) in TEMPLATES {
        let (mut alarms, mut loads, mut misses, mut edits) = (0, 0, 0, 0);
        let mut extract_time = std::time::Duration::ZERO;
        let mut pages = 0u32;
        let mut missed_kinds = Vec::new();
        for (n, article) in articles.iter().enumerate() {
            let mut rng = Rng(0x5eed + n as u64);
            // As add does: the stored load, and a second load to learn from.
            let first = template(article, &mut rng);
            let learned = if learning {
                verbatim::extract::learn_noise(
                    &extracted(&first),
                    &extracted(&template(article, &mut rng)),
                )
            } else {
                Vec::new()
            };
            let rules = Rules::new(None, &learned).expect("learned patterns compile");
            let base = comparison(&first, &rules);
            for _ in 0..LOADS {
                let page = template(article, &mut rng);
                let start = Instant::now();
                let text = comparison(&page, &rules);
                extract_time += start.elapsed();
                pages += 1;
                loads += 1;
                if text != base {
                    alarms += 1;
                    if std::env::var_os("BENCH_SHOW").is_some() && alarms == 1 && n == 0 {
                        let old: Vec<&str> = base.split("\n\n").collect();
                        for p in text.split("\n\n").filter(|p| !old.contains(p)) {
                            eprintln!("{name}: noise seen: {p}");
                        }
                    }
                }
            }
            for edit in EDITS {
                let page = template(&edited(article, edit), &mut rng);
                edits += 1;
                if comparison(&page, &rules) == base {
                    misses += 1;
                    missed_kinds.push(format!("{edit:?} on seed {n}"));
                }
            }
        }
        println!(
            "| {name} | {alarms}/{loads} | {misses}/{edits} | {:.2} |",
            extract_time.as_secs_f64() * 1000.0 / f64::from(pages)
        );
        if !missed_kinds.is_empty() {
            eprintln!("{name}: missed {}", missed_kinds.join(", "));
        }
        all_alarms += alarms;
        all_loads += loads;
        all_misses += misses;
        all_edits += edits;
    }
    println!(
        "| **all** | **{all_alarms}/{all_loads} ({:.1}%)** | **{all_misses}/{all_edits} ({:.1}%)** | |",
        100.0 * f64::from(all_alarms) / f64::from(all_loads),
        100.0 * f64::from(all_misses) / f64::from(all_edits)
    );
}
