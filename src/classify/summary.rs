//! What a change means, computed from a diff: figures changed, quotations altered or removed,
//! the headline rewritten, paragraphs added or removed, a correction note appended, or only
//! typography touched. Every item is found by rule in the two texts, never guessed.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{EditStats, canonical_text, edit_stats};
use crate::diff::TextDiff;
use crate::text::typography;

/// The meaning of a change between two versions of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    /// Only typography changed (quotes, dashes, spaces, invisible characters): the canonical
    /// texts are equal.
    pub typographic_only: bool,
    /// The headline, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<Replacement>,
    /// Figures (numbers, amounts, percentages, dates) changed, added or removed within the
    /// paragraphs that changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<FigureChange>,
    /// Quotations altered, removed or added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotations: Vec<QuotationChange>,
    /// Paragraphs only in the new version.
    pub paragraphs_added: usize,
    /// Paragraphs only in the old version.
    pub paragraphs_removed: usize,
    /// Correction, update or editor's notes added, in full.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes_added: Vec<String>,
}

/// A text replaced by another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
}

/// A figure that changed: both sides for a change, one for an addition or removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureChange {
    /// The figure before (absent when added).
    pub old: Option<String>,
    /// The figure after (absent when removed).
    pub new: Option<String>,
}

/// What happened to a quotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotationKind {
    /// The quoted words changed.
    Altered,
    /// The quotation is gone.
    Removed,
    /// A new quotation.
    Added,
}

/// A quotation that changed, with its words (without the quotation marks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotationChange {
    /// What happened.
    pub kind: QuotationKind,
    /// The quoted words before (absent when added).
    pub old: Option<String>,
    /// The quoted words after (absent when removed).
    pub new: Option<String>,
}

impl ChangeSummary {
    /// Whether there is nothing beyond counts to say.
    pub fn is_plain(&self) -> bool {
        !self.typographic_only
            && self.headline.is_none()
            && self.figures.is_empty()
            && self.quotations.is_empty()
            && self.notes_added.is_empty()
    }
}

/// One version of a document as the summary reads it.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The title the document states, if any.
    pub title: Option<&'a str>,
    /// Its text.
    pub text: &'a str,
}

/// Compiles the summary's patterns now (they are compiled on first use otherwise), so that a
/// caller can do it on another thread while it reads its documents.
pub fn warm_up() {
    for pattern in [&FIGURE, &QUOTATION, &NOTE_HINT, &NOTE] {
        LazyLock::force(pattern);
    }
}

/// Summarises the change `diff` describes between `old` and `new` (whose texts it compared).
pub fn summarize(old: Side<'_>, new: Side<'_>, diff: &TextDiff<'_>) -> ChangeSummary {
    analyze(old, new, diff).0
}

/// As [`summarize`], with counts of the words and paragraphs changed, as [`edit_stats`] counts
/// them on the canonical texts: a word diff is counted directly, leaving out changes that are
/// typography only, rather than diffed a second time.
pub fn analyze(old: Side<'_>, new: Side<'_>, diff: &TextDiff<'_>) -> (ChangeSummary, EditStats) {
    Prepared::new(old, new).finish(diff)
}

/// The part of a summary that needs only the two texts, not their diff: it can be computed
/// while the diff is (on another thread), then [finished](Prepared::finish) with it.
#[derive(Debug)]
pub struct Prepared {
    headline: Option<Replacement>,
    quotations: Vec<QuotationChange>,
    notes_added: Vec<String>,
}

impl Prepared {
    /// Reads what the two texts say on their own.
    pub fn new(old: Side<'_>, new: Side<'_>) -> Prepared {
        Prepared {
            headline: headline_change(old, new),
            quotations: quotation_changes(old.text, new.text),
            notes_added: notes_added(old.text, new.text),
        }
    }

    /// The summary and counts, given the diff of the same two texts.
    pub fn finish(self, diff: &TextDiff<'_>) -> (ChangeSummary, EditStats) {
        let figures = figure_changes(diff);
        self.finish_with(diff, figures)
    }

    /// As [`finish`](Prepared::finish), with the figures already found by [`figure_changes`]
    /// (on another thread, say, while the counts are made here).
    pub fn finish_with(
        self,
        diff: &TextDiff<'_>,
        figures: Vec<FigureChange>,
    ) -> (ChangeSummary, EditStats) {
        let (old, new) = (diff.old(), diff.new_text());
        let stats = if diff.granularity() == crate::diff::Granularity::Word {
            super::stats_of(diff)
        } else {
            edit_stats(&canonical_text(old), &canonical_text(new))
        };
        // No change counted means every change folded away; the whole canonical texts, the
        // definition, are compared only then.
        let typographic_only = old != new
            && stats == EditStats::default()
            && canonical_text(old) == canonical_text(new);
        let summary = ChangeSummary {
            typographic_only,
            headline: self.headline,
            figures,
            quotations: self.quotations,
            paragraphs_added: stats.paragraphs_added,
            paragraphs_removed: stats.paragraphs_removed,
            notes_added: self.notes_added,
        };
        (summary, stats)
    }
}

/// The document's headline: its stated title, else a first paragraph that reads as one (short,
/// without a sentence's closing punctuation).
fn headline(side: Side<'_>) -> Option<String> {
    if let Some(title) = side.title.filter(|t| !t.trim().is_empty()) {
        return Some(title.trim().to_owned());
    }
    let first = side
        .text
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty())?;
    let looks_like_headline = first.chars().count() <= 200
        && !first.contains('\n')
        && !first.ends_with(['.', '!', ':', ';', ',']);
    looks_like_headline.then(|| first.to_owned())
}

fn headline_change(old: Side<'_>, new: Side<'_>) -> Option<Replacement> {
    let (a, b) = (headline(old)?, headline(new)?);
    (canonical_text(&a) != canonical_text(&b)).then_some(Replacement { old: a, new: b })
}

static FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    const MONTH: &str = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";
    // ASCII word boundaries: figures and month names are ASCII, and a Unicode boundary would
    // keep the regex engine off its fast automaton.
    let pattern = format!(
        r"(?x)
        (?-u:\b){MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}(?-u:\b)     # September 5, 2020
        | (?-u:\b)\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH},?\s+\d{{4}}(?-u:\b)   # 5 September 2020
        | (?-u:\b){MONTH}\s+\d{{4}}(?-u:\b)                                 # September 2020
        | (?-u:\b)\d{{4}}-\d{{2}}-\d{{2}}(?-u:\b)                           # 2020-09-05
        | (?:[$€£¥₹]\s?|(?-u:\b)(?:US|USD|EUR|GBP)\s?\$?\s?)?         # an amount's currency
          (?:\d[\d,.\u{{a0}}\u{{202f}}]*\d|\d)                 # the number
          (?:\s?(?:%|percent(?-u:\b)|per\ cent(?-u:\b)|million(?-u:\b)|billion(?-u:\b)|trillion(?-u:\b)|thousand(?-u:\b)|bn(?-u:\b)|m(?-u:\b)|k(?-u:\b)))?
        "
    );
    Regex::new(&pattern).expect("the figure pattern is a constant that compiles")
});

/// Figures (numbers, amounts, percentages, dates) that the changes of `diff` touch, old paired
/// with new in order within each change.
pub fn figure_changes(diff: &TextDiff<'_>) -> Vec<FigureChange> {
    let (old, new) = (diff.old(), diff.new_text());
    let mut out = Vec::new();
    for (o, n) in diff.changes() {
        // A whole paragraph added or removed is reported as such, not as its every number.
        let whole = |text: &str, r: &Range<usize>| {
            r.is_empty() || text[r.clone()].contains("\n\n") || r.len() > 400
        };
        if (o.is_empty() && whole(new, &n)) || (n.is_empty() && whole(old, &o)) {
            continue;
        }
        let old_figs = figures_touching(old, &o);
        let new_figs = figures_touching(new, &n);
        let len = old_figs.len().max(new_figs.len());
        for i in 0..len {
            let a = old_figs.get(i).cloned();
            let b = new_figs.get(i).cloned();
            if a != b && !out.iter().any(|f: &FigureChange| f.old == a && f.new == b) {
                out.push(FigureChange { old: a, new: b });
            }
        }
    }
    out
}

/// The figures of `text` that overlap `range`, widened to the whole figure.
fn figures_touching(text: &str, range: &Range<usize>) -> Vec<String> {
    // Look a little around the change: a figure it touches starts or ends near it.
    let from = floor_boundary(text, range.start.saturating_sub(40));
    let to = ceil_boundary(text, (range.end + 40).min(text.len()));
    // Most changes have no digit near them; the figure pattern is not cheap.
    if !text.as_bytes()[from..to].iter().any(u8::is_ascii_digit) {
        return Vec::new();
    }
    FIGURE
        .find_iter(&text[from..to])
        .map(|m| (from + m.start())..(from + m.end()))
        .filter(|m| {
            if range.is_empty() {
                m.start < range.start && range.start < m.end
            } else {
                m.start < range.end && range.start < m.end
            }
        })
        .map(|m| text[m].trim().to_owned())
        .filter(|f| f.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Quotations: text between the marks of a pair of [`typography::PAIRS`], on one line. Pairs
/// that share an opening mark are one branch (`„…“` or `„…”`, the words holding neither
/// closing mark); a closing apostrophe (`‘…’`) closes only where no letter follows it (`it’s`).
/// Mirrored pairs (`»…«`) are left out: scanning both directions pairs the end of one
/// quotation with the start of the next.
static QUOTATION: LazyLock<Regex> = LazyLock::new(|| {
    let mut branches: Vec<String> = Vec::new();
    let mut opens: Vec<char> = Vec::new();
    for pair in typography::PAIRS.iter().filter(|p| !p.mirrored) {
        if !opens.contains(&pair.open) {
            opens.push(pair.open);
        }
    }
    for open in opens {
        let closes: String = closers(open).collect();
        let closes = regex::escape(&closes);
        let open = regex::escape(&open.to_string());
        branches.push(if closes == typography::APOSTROPHE.to_string() {
            format!(r"{open}([^\n]+?){closes}(?:[^\p{{L}}]|$)")
        } else {
            format!(r"{open}([^{closes}\n]+)[{closes}]")
        });
    }
    Regex::new(&branches.join("|")).expect("the quotation pattern is built from constant pairs")
});

/// The closing marks of the pairs `open` opens that [`QUOTATION`] reads.
fn closers(open: char) -> impl Iterator<Item = char> {
    typography::PAIRS
        .iter()
        .filter(move |p| p.open == open && !p.mirrored)
        .map(|p| p.close)
}

/// The quoted words of `text`, in order.
pub(crate) fn quotations(text: &str) -> Vec<&str> {
    // Finding is several times faster than capturing, and every branch of the pattern is an
    // opening mark, the words, and a closing mark (after an apostrophe, one more character
    // that is not a letter), so the words are the match up to its last closing mark.
    QUOTATION
        .find_iter(text)
        .filter_map(|m| {
            let found = m.as_str();
            let mut chars = found.chars();
            let opener = chars.next()?;
            let rest = chars.as_str();
            let close = rest.rfind(|c: char| closers(opener).any(|close| close == c))?;
            Some(&rest[..close])
        })
        .map(str::trim)
        .filter(|q| q.chars().any(char::is_alphanumeric))
        .collect()
}

/// Quotations only in the old text (removed, or altered when a new one resembles them) and
/// only in the new text (added), compared in canonical form.
fn quotation_changes(old: &str, new: &str) -> Vec<QuotationChange> {
    // Each quotation with its canonical form, made once.
    let keyed = |text| -> Vec<(&str, String)> {
        quotations(text)
            .into_iter()
            .map(|q| (q, canonical_text(q)))
            .collect()
    };
    let (old_q, new_q) = (keyed(old), keyed(new));
    fn count<'k>(qs: &'k [(&str, String)]) -> HashMap<&'k str, usize> {
        let mut m: HashMap<&str, usize> = HashMap::new();
        for (_, key) in qs {
            *m.entry(key.as_str()).or_default() += 1;
        }
        m
    }
    let (mut in_old, mut in_new) = (count(&old_q), count(&new_q));
    let only = |qs: &[(&str, String)], other: &mut HashMap<&str, usize>| -> Vec<String> {
        qs.iter()
            .filter(|(_, key)| match other.get_mut(key.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            })
            .map(|(q, _)| (*q).to_owned())
            .collect()
    };
    let removed = only(&old_q, &mut in_new);
    let mut added = only(&new_q, &mut in_old);
    let mut out = Vec::new();
    // Both lists are in document order, so an altered quotation's new form is near its place:
    // each removed one is compared with the few added ones around the same relative position,
    // which keeps a text with thousands of changed quotations linear.
    let mut taken = vec![false; added.len()];
    let total = removed.len().max(1);
    for (i, q) in removed.into_iter().enumerate() {
        let at = i * added.len() / total;
        let window = at.saturating_sub(PAIR_WINDOW)..(at + PAIR_WINDOW + 1).min(added.len());
        let best = window
            .filter(|&j| !taken[j])
            .map(|j| (j, similarity(&q, &added[j])))
            .filter(|(_, s)| *s >= 0.5)
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .map(|(j, _)| j);
        match best {
            Some(j) => {
                taken[j] = true;
                out.push(QuotationChange {
                    kind: QuotationKind::Altered,
                    old: Some(q),
                    new: Some(added[j].clone()),
                });
            }
            None => out.push(QuotationChange {
                kind: QuotationKind::Removed,
                old: Some(q),
                new: None,
            }),
        }
    }
    added.retain({
        let mut j = 0;
        move |_| {
            j += 1;
            !taken[j - 1]
        }
    });
    out.extend(added.into_iter().map(|q| QuotationChange {
        kind: QuotationKind::Added,
        old: None,
        new: Some(q),
    }));
    out
}

/// How many added quotations on each side of a removed one's place are candidates for its new
/// form.
const PAIR_WINDOW: usize = 3;

/// The share of words two texts have in common, from 0 to 1: the words both hold (counted with
/// repetition) over the words of the longer. Order is not weighed; for telling an altered
/// quotation from an unrelated one, sharing most words is what matters, and it is linear.
fn similarity(a: &str, b: &str) -> f32 {
    let mut counts: foldhash::HashMap<&str, i32> = foldhash::HashMap::default();
    let mut len_a = 0;
    for w in a.split_whitespace() {
        *counts.entry(w).or_default() += 1;
        len_a += 1;
    }
    let (mut common, mut len_b) = (0, 0);
    for w in b.split_whitespace() {
        len_b += 1;
        if let Some(n) = counts.get_mut(w)
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    let longer = len_a.max(len_b);
    if longer == 0 {
        return 0.0;
    }
    common as f32 / longer as f32
}

static NOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        ^\W{0,3}(?:correction|corrections|clarification|update|updated|editor'?s?\ note|editors'\ note|note\ from\ the\ editor|erratum)\b
        | an\ earlier\ version\ of\ this\ (?:article|story|report|post|piece)
        | this\ (?:article|story|report|post|piece)\ (?:has\ been|was)\ (?:updated|corrected|amended|changed)
        | (?:we|has\ been|have\ been)\ corrected\b
        ",
    )
    .expect("the note pattern is a constant that compiles")
});

/// Words one of which any note holds, lower-cased: a cheap test before the note pattern, which
/// needs the paragraph's canonical form.
static NOTE_HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)correct|clarif|updat|editor|erratum|note|earlier version")
        .expect("the note hint is a constant that compiles")
});

/// Paragraphs of `new` that are not in the old text and read as a correction or update note.
fn notes_added(old: &str, new: &str) -> Vec<String> {
    let mut old_canonical: Option<String> = None;
    let mut out: Vec<String> = Vec::new();
    let mut last_paragraph = usize::MAX;
    // The hint is searched in the whole text at once; only the paragraphs it hits are read.
    for hit in NOTE_HINT.find_iter(new) {
        let start = new[..hit.start()].rfind("\n\n").map_or(0, |i| i + 2);
        if start == last_paragraph {
            continue;
        }
        last_paragraph = start;
        let end = new[start..].find("\n\n").map_or(new.len(), |i| start + i);
        let p = new[start..end].trim();
        let canonical = canonical_text(p);
        if p.is_empty() || !NOTE.is_match(&canonical) {
            continue;
        }
        let old = old_canonical.get_or_insert_with(|| canonical_text(old));
        if !old.split("\n\n").any(|q| q == canonical) {
            out.push(p.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Options;

    fn summary(old: &str, new: &str) -> ChangeSummary {
        let diff = TextDiff::new(old, new, &Options::default());
        summarize(
            Side {
                title: None,
                text: old,
            },
            Side {
                title: None,
                text: new,
            },
            &diff,
        )
    }

    fn fig(old: Option<&str>, new: Option<&str>) -> FigureChange {
        FigureChange {
            old: old.map(str::to_owned),
            new: new.map(str::to_owned),
        }
    }

    #[test]
    fn the_patterns_compile() {
        // They are constants; this makes their `expect` a test failure, never a user's crash.
        warm_up();
    }

    #[test]
    fn amounts_dates_and_percentages() {
        let s = summary(
            "Headline\n\nThe contract is worth $49,874,018.14 and runs until September 5, 2020.\n\nTurnout rose 12%.",
            "Headline\n\nThe contract is worth $51,000,000.00 and runs until September 5, 2021.\n\nTurnout rose 15 percent.",
        );
        assert_eq!(
            s.figures,
            vec![
                fig(Some("$49,874,018.14"), Some("$51,000,000.00")),
                fig(Some("September 5, 2020"), Some("September 5, 2021")),
                fig(Some("12%"), Some("15 percent")),
            ]
        );
        assert!(s.headline.is_none() && s.quotations.is_empty() && !s.typographic_only);
    }

    #[test]
    fn a_removed_paragraph_is_not_a_list_of_removed_figures() {
        let s = summary("A.\n\nIn 2019, 680 people were arrested.\n\nC.", "A.\n\nC.");
        assert!(s.figures.is_empty());
        assert_eq!(s.paragraphs_removed, 1);
    }

    #[test]
    fn quotations_altered_removed_and_added() {
        let s = summary(
            "He said \u{201C}we will not comply with this order\u{201D} on Monday. She said \"never again\".",
            "He said \u{201C}we will comply with this order\u{201D} on Monday. They said \u{00AB}new words\u{00BB}.",
        );
        assert_eq!(
            s.quotations,
            vec![
                QuotationChange {
                    kind: QuotationKind::Altered,
                    old: Some("we will not comply with this order".into()),
                    new: Some("we will comply with this order".into()),
                },
                QuotationChange {
                    kind: QuotationKind::Removed,
                    old: Some("never again".into()),
                    new: None,
                },
                QuotationChange {
                    kind: QuotationKind::Added,
                    old: None,
                    new: Some("new words".into()),
                },
            ]
        );
    }

    #[test]
    fn curly_for_straight_quotes_is_typographic_only() {
        let s = summary(
            "He said \"no\" - twice.",
            "He said \u{201C}no\u{201D} \u{2014} twice.",
        );
        assert!(s.typographic_only);
        assert!(s.quotations.is_empty());
    }

    #[test]
    fn apostrophes_are_not_quotations() {
        assert!(quotations("It\u{2019}s the company\u{2019}s view").is_empty());
        assert_eq!(quotations("\u{2018}Fine\u{2019}, he said"), vec!["Fine"]);
    }

    #[test]
    fn headline_from_title_or_first_line() {
        let diff = TextDiff::new(
            "Old head\n\nBody.",
            "New head\n\nBody.",
            &Options::default(),
        );
        let s = summarize(
            Side {
                title: None,
                text: "Old head\n\nBody.",
            },
            Side {
                title: None,
                text: "New head\n\nBody.",
            },
            &diff,
        );
        assert_eq!(
            s.headline,
            Some(Replacement {
                old: "Old head".into(),
                new: "New head".into()
            })
        );
        assert!(
            headline(Side {
                title: None,
                text: "A first sentence that ends like one."
            })
            .is_none()
        );
    }

    #[test]
    fn correction_notes() {
        let s = summary(
            "Body.",
            "Body.\n\nCorrection: An earlier version of this article misstated the amount.",
        );
        assert_eq!(
            s.notes_added,
            vec!["Correction: An earlier version of this article misstated the amount."]
        );
        assert_eq!(s.paragraphs_added, 1);
        let s = summary("Body.", "Body.\n\nUpdate, May 3: the company responded.");
        assert_eq!(s.notes_added.len(), 1);
        let s = summary("Body.", "Body.\n\nAn unrelated new paragraph.");
        assert!(s.notes_added.is_empty());
    }
}
