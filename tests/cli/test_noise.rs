//! The noisy news layouts of `benches/pages.rs` (the extraction benchmark's) as a test: a few
//! noise-only loads of each must compare equal to the stored one, and every kind of real edit
//! must not, through the comparison `check` makes, with what `add` learns from two loads.

#[path = "../../benches/pages.rs"]
#[allow(dead_code)]
mod pages;

use pages::{EDITS, Rng, TEMPLATES, edited, seeds};
use verbatim::classify::canonical_text;
use verbatim::extract::{Rules, extract_with, learn_noise};

fn text(html: &str) -> String {
    extract_with(html.as_bytes(), Some("text/html"), None, &Rules::default()).text
}

#[test]
fn noisy_layouts_give_no_false_alarms_and_miss_no_edit() {
    let articles = seeds(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let mut failures = Vec::new();
    for (name, template) in TEMPLATES {
        for (n, article) in articles.iter().enumerate() {
            let mut rng = Rng(0x7e57 + n as u64);
            let first = template(article, &mut rng);
            let learned = learn_noise(&text(&first), &text(&template(article, &mut rng)));
            let rules = Rules::new(None, &learned).expect("learned patterns compile");
            let compare = |html: &str| canonical_text(&rules.strip_ignored(&text(html)));
            let base = compare(&first);
            for load in 0..3 {
                if compare(&template(article, &mut rng)) != base {
                    failures.push(format!(
                        "{name}, seed {n}: noise load {load} seen as a change"
                    ));
                }
            }
            for edit in EDITS {
                if compare(&template(&edited(article, edit), &mut rng)) == base {
                    failures.push(format!("{name}, seed {n}: {edit:?} missed"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
