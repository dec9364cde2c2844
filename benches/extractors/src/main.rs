//! Compares article extractors by what matters to verbatim: on the templates of
//! `benches/pages.rs`, how often noise alone changes the compared text (false alarms), how
//! often a real edit does not (misses), and how long extraction takes. Every extractor's text
//! goes through the same canonical form `check` compares, with the document title it found in
//! front (a changed headline is an edit).

use std::time::{Duration, Instant};

#[path = "../../pages.rs"]
mod pages;

use pages::{EDITS, Rng, TEMPLATES, edited, seeds};
use verbatim::classify::canonical_text;

const LOADS: usize = 20;

type Extractor = fn(&str) -> String;

fn verbatim_pipeline(html: &str) -> String {
    verbatim::extract::extract_with(
        html.as_bytes(),
        Some("text/html; charset=utf-8"),
        None,
        &verbatim::extract::Rules::default(),
    )
    .text
}

fn trafilatura_plain(html: &str) -> String {
    let options = trafilatura::Options::default()
        .with_exclude_comments(true)
        .with_fallback(false);
    trafilatura::extract(html, &options)
        .map(|r| format!("{}\n\n{}", r.metadata.title, r.content_text))
        .unwrap_or_default()
}

fn rs_trafilatura(html: &str) -> String {
    rs_trafilatura::extract(html)
        .map(|r| {
            let title = r.metadata.title.unwrap_or_default();
            format!("{title}\n\n{}", r.content_text)
        })
        .unwrap_or_default()
}

fn dom_smoothie(html: &str) -> String {
    dom_smoothie::Readability::new(html, None, None)
        .and_then(|mut r| r.parse())
        .map(|a| format!("{}\n\n{}", a.title, a.text_content))
        .unwrap_or_default()
}

const EXTRACTORS: [(&str, Extractor); 4] = [
    (
        "verbatim (trafilatura 0.6 + furniture and link-density rules, no learning)",
        verbatim_pipeline,
    ),
    ("trafilatura 0.6 alone", trafilatura_plain),
    ("rs-trafilatura", rs_trafilatura),
    ("dom_smoothie (Readability)", dom_smoothie),
];

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let articles = seeds(&root.join("seeds"));
    println!("| extractor | false alarms | … per template | misses | ms/page |");
    println!("| --- | ---: | --- | ---: | ---: |");
    for (name, extract) in EXTRACTORS {
        let (mut alarms, mut loads, mut misses, mut edits) = (0, 0, 0, 0);
        let mut per_template = Vec::new();
        let mut time = Duration::ZERO;
        for (_template, template) in TEMPLATES {
            let before = alarms;
            for (n, article) in articles.iter().enumerate() {
                let mut rng = Rng(0x5eed + n as u64);
                let base = canonical_text(&extract(&template(article, &mut rng)));
                for _ in 0..LOADS {
                    let page = template(article, &mut rng);
                    let start = Instant::now();
                    let text = extract(&page);
                    time += start.elapsed();
                    loads += 1;
                    if canonical_text(&text) != base {
                        alarms += 1;
                    }
                }
                for edit in EDITS {
                    edits += 1;
                    let page = template(&edited(article, edit), &mut rng);
                    if canonical_text(&extract(&page)) == base {
                        misses += 1;
                    }
                }
            }
            per_template.push((alarms - before).to_string());
        }
        println!(
            "| {name} | {alarms}/{loads} ({:.0}%) | {} | {misses}/{edits} | {:.2} |",
            100.0 * f64::from(alarms) / f64::from(loads),
            per_template.join(" / "),
            time.as_secs_f64() * 1000.0 / f64::from(loads)
        );
    }
}
