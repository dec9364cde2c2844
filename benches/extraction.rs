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

#[path = "pages.rs"]
mod pages;

use pages::{EDITS, Rng, TEMPLATES, edited, seeds};

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
    let articles = seeds(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
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
