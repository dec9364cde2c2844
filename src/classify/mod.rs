//! Deciding what happened to a source: the canonical text form that comparisons use, and the
//! verdicts a check can reach.
//!
//! Comparison never uses the raw text: typography, spacing and normalisation differences are
//! not edits. The canonical form folds them away so that `cosmetic` (bytes differ, meaning does
//! not) is told apart from `edited`.

pub mod summary;

use std::ops::Range;

use serde::{Deserialize, Serialize};
use unicode_normalization::{IsNormalized, UnicodeNormalization as _, is_nfc_quick};

pub use crate::model::verdict::{Verdict, continues};

/// The verdict an HTTP error status implies on its own, if any: `None` for statuses that need
/// the body or the previous state to judge (2xx, 3xx).
pub fn verdict_for_status(status: u16) -> Option<Verdict> {
    match status {
        404 | 410 | 451 => Some(Verdict::Retracted),
        401 | 403 | 429 => Some(Verdict::Blocked),
        500..=599 => Some(Verdict::Unreachable),
        400..=499 => Some(Verdict::Error),
        _ => None,
    }
}

/// Compares a new capture with the current version by their hashes: identical bytes are
/// `unchanged`, identical canonical text `cosmetic`, anything else `edited`.
pub fn compare(old_raw: &str, old_canonical: &str, new_raw: &str, new_canonical: &str) -> Verdict {
    if old_raw == new_raw {
        Verdict::Unchanged
    } else if old_canonical == new_canonical {
        Verdict::Cosmetic
    } else {
        Verdict::Edited
    }
}

/// The canonical form of extracted text: Unicode NFC; curly and straight quotes, dash variants,
/// non-breaking and other spaces, and the ellipsis character folded; invisible characters
/// dropped; whitespace collapsed within paragraphs; paragraphs separated by one blank line.
///
/// The characters folded are [`crate::text::typography::MARKS`] whose `canonical` is true. The
/// form is frozen: stored versions keep the SHA-256 of theirs, so folding one more character
/// would turn unchanged sources into edited ones.
pub fn canonical_text(text: &str) -> String {
    // Most text is NFC already; the quick check (ASCII is always yes) saves composing it again.
    let normalized = if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.nfc().collect::<String>())
    };
    let mut out = String::with_capacity(normalized.len());
    // Whitespace seen since the last visible character: a paragraph break (two line breaks or
    // more) or a space, written only before the next visible character.
    let mut pending_space = false;
    let mut newlines = 0;
    let separate = |out: &mut String, pending_space: &mut bool, newlines: &mut usize| {
        if !out.is_empty() {
            if *newlines >= 2 {
                out.push_str("\n\n");
            } else if *pending_space {
                out.push(' ');
            }
        }
        *newlines = 0;
        *pending_space = false;
    };
    let bytes = normalized.as_bytes();
    let mut dropped = false;
    let mut i = 0;
    while i < bytes.len() {
        // Runs of printable ASCII (all but the backtick, the one ASCII character the typography
        // table folds) are copied whole.
        let plain = |b: u8| b.is_ascii_graphic() && b != b'`';
        if plain(bytes[i]) {
            let start = i;
            while i < bytes.len() && plain(bytes[i]) {
                i += 1;
            }
            separate(&mut out, &mut pending_space, &mut newlines);
            out.push_str(&normalized[start..i]);
            continue;
        }
        let Some(c) = normalized[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        // The typography table's canonical fold; its marks are neither whitespace nor `\n`.
        let piece: &str = match crate::text::typography::canonical_fold(c) {
            // Invisible characters that editors and CMSs insert and remove at will.
            Some("") => {
                dropped = true;
                continue;
            }
            Some(piece) => piece,
            None if c == '\n' => {
                newlines += 1;
                pending_space = true;
                continue;
            }
            None if c.is_whitespace() => {
                pending_space = true;
                continue;
            }
            None => {
                separate(&mut out, &mut pending_space, &mut newlines);
                out.push(c);
                continue;
            }
        };
        separate(&mut out, &mut pending_space, &mut newlines);
        out.push_str(piece);
    }
    // Dropping invisible characters can bring a base letter and a combining mark together, so
    // normalise once more: the canonical form must be a fixed point. Folding alone never does
    // (it only puts ASCII in place of characters that do not compose).
    if !dropped || is_nfc_quick(out.chars()) == IsNormalized::Yes {
        out
    } else {
        out.nfc().collect()
    }
}

/// How much of a text changed, in words and paragraphs. A replaced run counts as changed up to
/// the shorter side and as added or removed beyond it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditStats {
    /// Words only in the new text.
    pub words_added: usize,
    /// Words only in the old text.
    pub words_removed: usize,
    /// Words replaced by others.
    pub words_changed: usize,
    /// Paragraphs only in the new text.
    pub paragraphs_added: usize,
    /// Paragraphs only in the old text.
    pub paragraphs_removed: usize,
    /// Paragraphs rewritten.
    pub paragraphs_changed: usize,
}

/// Counts the changes between two canonical texts.
///
/// Words are counted over [`crate::diff::TextDiff`]'s word diff (paragraphs first, then words
/// within the changed ones, under a 2 s deadline), so a long document costs what its changes
/// cost; each change counts the words on its two sides.
pub fn edit_stats(old: &str, new: &str) -> EditStats {
    let diff = crate::diff::TextDiff::words(old, new, std::time::Duration::from_secs(2));
    stats_of(&diff)
}

/// The counts of a word diff: its changes that fold away in canonical form are left out, and
/// paragraphs are counted over its paragraph-level runs, in canonical form, so that only the
/// changed paragraphs are ever made canonical.
pub(crate) fn stats_of(diff: &crate::diff::TextDiff<'_>) -> EditStats {
    let (old, new) = (diff.old(), diff.new_text());
    let (mut words_added, mut words_removed, mut words_changed) = (0, 0, 0);
    // Where changes folded away, by their start in the old text.
    let mut folded: Vec<Range<usize>> = Vec::new();
    for (o, n) in diff.changes() {
        let (a, b) = (&old[o.clone()], &new[n]);
        if folds_away(a, b) {
            folded.push(o);
            continue;
        }
        let removed = a.split_whitespace().count();
        let added = b.split_whitespace().count();
        let common = removed.min(added);
        words_changed += common;
        words_added += added - common;
        words_removed += removed - common;
    }
    // Paragraphs are compared raw, and in canonical form only in the runs where some change
    // folded away (so that a paragraph changed in typography alone is not counted).
    let (mut paragraphs_added, mut paragraphs_removed, mut paragraphs_changed) = (0, 0, 0);
    // Both lists are in text order: one pass over the folded changes.
    let mut next_folded = folded.iter().peekable();
    for run in diff.block_runs().iter().filter(|r| !r.equal) {
        let (a, b) = (&old[run.old.clone()], &new[run.new.clone()]);
        let end = run.old.end.max(run.old.start + 1);
        while next_folded.next_if(|f| f.start < run.old.start).is_some() {}
        let mut typography = false;
        while let Some(f) = next_folded.next_if(|f| f.start < end) {
            typography |= f.start >= run.old.start;
        }
        let (a, b) = if typography {
            (
                std::borrow::Cow::Owned(canonical_text(a)),
                std::borrow::Cow::Owned(canonical_text(b)),
            )
        } else {
            (std::borrow::Cow::Borrowed(a), std::borrow::Cow::Borrowed(b))
        };
        let paragraphs = |t: &'_ str| -> Vec<String> {
            t.split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let (a, b) = (paragraphs(&a), paragraphs(&b));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let (added, removed, changed) = count_ops(&a, &b);
        paragraphs_added += added;
        paragraphs_removed += removed;
        paragraphs_changed += changed;
    }
    EditStats {
        words_added,
        words_removed,
        words_changed,
        paragraphs_added,
        paragraphs_removed,
        paragraphs_changed,
    }
}

/// Whether a change is typography only: the same canonical text, and a paragraph break on both
/// sides or on neither (canonical form keeps paragraph breaks).
pub(crate) fn folds_away(a: &str, b: &str) -> bool {
    canonical_text(a) == canonical_text(b)
        && crate::diff::has_separator(a) == crate::diff::has_separator(b)
}

fn count_ops(old: &[&str], new: &[&str]) -> (usize, usize, usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let (mut added, mut removed, mut changed) = (0, 0, 0);
    for run in crate::diff::align(old, new, deadline) {
        if run.equal {
            continue;
        }
        let common = run.old.len().min(run.new.len());
        changed += common;
        added += run.new.len() - common;
        removed += run.old.len() - common;
    }
    (added, removed, changed)
}

const NOT_FOUND: &[&str] = &[
    "page not found",
    "404 not found",
    "error 404",
    "page does not exist",
    "page you requested could not be found",
    "page you are looking for",
    "can't find the page",
    "cannot find the page",
];
const REMOVED: &[&str] = &[
    "has been retracted",
    "has been removed",
    "has been withdrawn",
    "was retracted",
    "was removed",
    "was withdrawn",
    "is no longer available",
    "has been taken down",
];
const BOT_WALL: &[&str] = &[
    "checking your browser",
    "verify you are human",
    "verify that you are human",
    "are you a robot",
    "captcha",
    "enable javascript and cookies to continue",
    "unusual traffic from your",
    "access denied",
    "request blocked",
];

/// Whether a page served with success says the article is gone: its text emptied, a "page not
/// found" page (soft 404), or a removal notice in its place. Returns the reason.
pub fn retraction_reason(old: &str, new: &str, title: Option<&str>) -> Option<String> {
    notice_reason(old, new, title).or_else(|| {
        (new.trim().is_empty() && !old.trim().is_empty()).then(|| "the text was emptied".to_owned())
    })
}

/// Whether the page says the article is gone: a "page not found" page (soft 404) or a removal
/// notice. Phrases count only when the text also collapsed to less than half, so an article that
/// merely mentions a retraction is not taken for one.
pub fn notice_reason(old: &str, new: &str, title: Option<&str>) -> Option<String> {
    let collapsed = new.len() * 2 < old.len();
    let head = head_lower(new, title);
    if collapsed && NOT_FOUND.iter().any(|p| head.contains(p)) {
        return Some("soft 404: the page says it was not found".to_owned());
    }
    if collapsed && REMOVED.iter().any(|p| head.contains(p)) {
        return Some("a removal notice replaced the article".to_owned());
    }
    None
}

/// Whether extraction, not the page, changed: the text fell below a quarter of what it was while
/// the page's bytes stayed at half or more (a redesign the extractor does not follow). Takes
/// (page bytes, text length) before and after; returns the reason.
pub fn extraction_collapse(old: (u64, usize), new: (u64, usize)) -> Option<String> {
    let ((old_page, old_text), (new_page, new_text)) = (old, new);
    let collapsed = old_text >= 200 && new_text * 4 < old_text;
    let page_kept = new_page * 2 >= old_page;
    (collapsed && page_kept).then(|| {
        format!(
            "the extracted text fell from {old_text} to {new_text} characters while the page kept its \
             size ({old_page} to {new_page} bytes): probably a redesign the extractor does not follow; \
             set a selector with `verbatim configure --selector`"
        )
    })
}

/// Whether a page is a bot wall or interstitial served instead of the article. Returns the reason.
pub fn block_reason(old: &str, new: &str, title: Option<&str>) -> Option<String> {
    let collapsed = new.len() * 2 < old.len();
    let head = head_lower(new, title);
    (collapsed && BOT_WALL.iter().any(|p| head.contains(p)))
        .then(|| "a bot wall or interstitial was served instead of the article".to_owned())
}

/// The title and the first 3,000 characters of the text, lower-cased, where notices appear.
fn head_lower(text: &str, title: Option<&str>) -> String {
    let mut head: String = title.unwrap_or_default().to_lowercase();
    head.push('\n');
    head.extend(text.chars().take(3000).flat_map(char::to_lowercase));
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typography_folds_away() {
        let a = "\u{201C}We condemn it,\u{201D} Mijente said\u{2014}twice\u{2026}\u{00A0}It\u{2019}s over.";
        let b = "\"We condemn it,\" Mijente said-twice... It's over.";
        assert_eq!(canonical_text(a), canonical_text(b));
        assert_eq!(canonical_text(b), b);
    }

    #[test]
    fn nfc_and_invisible_characters() {
        assert_eq!(canonical_text("Cafe\u{0301}"), "Caf\u{00E9}");
        assert_eq!(canonical_text("data\u{00AD}base\u{200B}"), "database");
    }

    #[test]
    fn whitespace_collapses_but_paragraphs_stay() {
        let text = "  First   line\nstill first.\r\n\n\n  Second\tparagraph.  \n";
        assert_eq!(
            canonical_text(text),
            "First line still first.\n\nSecond paragraph."
        );
        assert_ne!(canonical_text("a\n\nb"), canonical_text("a b"));
    }

    #[test]
    fn canonical_form_is_idempotent() {
        for text in [
            "x \u{2014} y\n\n\n z\u{2026}",
            "",
            "\n\n",
            "\u{FEFF}only",
            "e\u{200B}\u{0301}",
        ] {
            let once = canonical_text(text);
            assert_eq!(canonical_text(&once), once);
        }
    }

    #[test]
    fn real_edits_are_not_folded() {
        assert_ne!(canonical_text("until 2020."), canonical_text("until 2021."));
        assert_ne!(
            canonical_text("Palantir said"),
            canonical_text("Palantir denied")
        );
    }

    #[test]
    fn edit_stats_count_words_and_paragraphs() {
        let old = "The contract runs until 2020.\n\nSecond paragraph stays.\n\nThird goes.";
        let new = "The contract runs until 2021.\n\nSecond paragraph stays.\n\nA new fourth.";
        let s = edit_stats(&canonical_text(old), &canonical_text(new));
        assert_eq!(s.paragraphs_changed, 2);
        assert_eq!((s.paragraphs_added, s.paragraphs_removed), (0, 0));
        assert_eq!(s.words_changed, 3, "{s:?}");
        assert_eq!(s.words_added, 1, "{s:?}");
        assert_eq!(edit_stats("a b", "a b"), EditStats::default());
    }

    #[test]
    fn gone_pages_are_recognised_only_when_the_text_collapses() {
        let article = "Long article text. ".repeat(100);
        assert!(retraction_reason(&article, "", None).is_some());
        assert!(retraction_reason(&article, "Sorry, page not found.", Some("Oops")).is_some());
        assert!(
            retraction_reason(
                &article,
                "This article has been removed by the editors.",
                None
            )
            .is_some()
        );
        let mentions = format!("{article} The earlier story was retracted last year.");
        assert_eq!(retraction_reason(&article, &mentions, None), None);
        assert!(block_reason(&article, "Checking your browser before accessing", None).is_some());
        let about = format!("{article} The site added a captcha.");
        assert_eq!(block_reason(&article, &about, None), None);
    }

    #[test]
    fn extraction_collapse_needs_the_page_to_stay() {
        assert!(extraction_collapse((50_000, 8_000), (48_000, 300)).is_some());
        assert!(
            extraction_collapse((50_000, 8_000), (5_000, 300)).is_none(),
            "the page shrank too"
        );
        assert!(
            extraction_collapse((50_000, 8_000), (50_000, 6_000)).is_none(),
            "a real cut"
        );
        assert!(
            extraction_collapse((500, 100), (500, 0)).is_none(),
            "too little text to judge"
        );
    }

    #[test]
    fn verdicts_from_status_and_hashes() {
        assert_eq!(verdict_for_status(404), Some(Verdict::Retracted));
        assert_eq!(verdict_for_status(451), Some(Verdict::Retracted));
        assert_eq!(verdict_for_status(429), Some(Verdict::Blocked));
        assert_eq!(verdict_for_status(503), Some(Verdict::Unreachable));
        assert_eq!(verdict_for_status(200), None);
        assert_eq!(compare("a", "x", "a", "x"), Verdict::Unchanged);
        assert_eq!(compare("a", "x", "b", "x"), Verdict::Cosmetic);
        assert_eq!(compare("a", "x", "b", "y"), Verdict::Edited);
        assert_eq!(
            serde_json::to_string(&Verdict::Unreachable).unwrap(),
            "\"unreachable\""
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::canonical_text;

    /// Text mixing any Unicode with the characters the canonical form treats specially.
    fn messy_text() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            "\u{201C}",
            "\u{2019}",
            "\u{2014}",
            "\u{2026}",
            "\u{00A0}",
            "\u{200B}",
            "\u{00AD}",
            "\n",
            "\n\n",
            "\r\n",
            " ",
            "\t",
            "e\u{0301}",
            "\u{FEFF}",
            "'",
            "\"",
            "-",
        ]);
        prop::collection::vec(
            prop_oneof![any::<String>(), special.prop_map(str::to_owned)],
            0..20,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn canonical_form_is_a_fixed_point(text in messy_text()) {
            let once = canonical_text(&text);
            prop_assert_eq!(canonical_text(&once), once.clone());
            prop_assert!(!once.starts_with(char::is_whitespace) && !once.ends_with(char::is_whitespace));
            prop_assert!(!once.contains("\n\n\n"));
        }

        #[test]
        fn typography_never_changes_the_canonical_form(words in prop::collection::vec("[a-z]{1,8}", 1..12)) {
            let plain = words.join(" - ");
            let fancy = words.join("\u{00A0}\u{2014}\u{2009}");
            prop_assert_eq!(canonical_text(&plain), canonical_text(&fancy));
        }
    }
}

/// Canonical text is stored (as the SHA-256 of each version's), so the typography table must
/// fold exactly what the code before it folded: this module keeps that code, unchanged, and
/// compares.
#[cfg(test)]
mod frozen {
    use proptest::prelude::*;
    use unicode_normalization::{IsNormalized, UnicodeNormalization as _, is_nfc_quick};

    use super::canonical_text;
    use crate::text::typography::MARKS;

    /// `canonical_text` as it was when it kept its own copy of the typography table.
    fn canonical_text_before_the_table(text: &str) -> String {
        // Most text is NFC already; the quick check (ASCII is always yes) saves composing it again.
        let normalized = if is_nfc_quick(text.chars()) == IsNormalized::Yes {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(text.nfc().collect::<String>())
        };
        let mut out = String::with_capacity(normalized.len());
        // Whitespace seen since the last visible character: a paragraph break (two line breaks or
        // more) or a space, written only before the next visible character.
        let mut pending_space = false;
        let mut newlines = 0;
        let separate = |out: &mut String, pending_space: &mut bool, newlines: &mut usize| {
            if !out.is_empty() {
                if *newlines >= 2 {
                    out.push_str("\n\n");
                } else if *pending_space {
                    out.push(' ');
                }
            }
            *newlines = 0;
            *pending_space = false;
        };
        let bytes = normalized.as_bytes();
        let mut dropped = false;
        let mut i = 0;
        while i < bytes.len() {
            // Runs of printable ASCII (all but the backtick, folded below) are copied whole.
            let plain = |b: u8| b.is_ascii_graphic() && b != b'`';
            if plain(bytes[i]) {
                let start = i;
                while i < bytes.len() && plain(bytes[i]) {
                    i += 1;
                }
                separate(&mut out, &mut pending_space, &mut newlines);
                out.push_str(&normalized[start..i]);
                continue;
            }
            let Some(c) = normalized[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            let piece: &str = match c {
                '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{0060}'
                | '\u{00B4}' => "'",
                '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
                | '\u{00BB}' => "\"",
                '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
                | '\u{2212}' => "-",
                '\u{2026}' => "...",
                // Invisible characters that editors and CMSs insert and remove at will.
                '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {
                    dropped = true;
                    continue;
                }
                '\n' => {
                    newlines += 1;
                    pending_space = true;
                    continue;
                }
                c if c.is_whitespace() => {
                    pending_space = true;
                    continue;
                }
                c => {
                    separate(&mut out, &mut pending_space, &mut newlines);
                    out.push(c);
                    continue;
                }
            };
            separate(&mut out, &mut pending_space, &mut newlines);
            out.push_str(piece);
        }
        // Dropping invisible characters can bring a base letter and a combining mark together, so
        // normalise once more: the canonical form must be a fixed point. Folding alone never does
        // (it only puts ASCII in place of characters that do not compose).
        if !dropped || is_nfc_quick(out.chars()) == IsNormalized::Yes {
            out
        } else {
            out.nfc().collect()
        }
    }

    /// Every mark in the table, in a few contexts, and the texts stored versions are made of.
    fn text_with_marks() -> impl Strategy<Value = String> {
        let mut special: Vec<String> = MARKS.iter().map(|m| m.ch.to_string()).collect();
        special.extend(
            [
                "\n",
                "\n\n",
                " ",
                "\u{00A0}",
                "e\u{0301}",
                "'",
                "\"",
                "-",
                "`",
                "\u{300C}",
            ]
            .map(str::to_owned),
        );
        prop::collection::vec(
            prop_oneof![any::<String>(), "[a-z]{1,6}", prop::sample::select(special),],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        #[test]
        fn stored_texts_canonicalise_as_before(text in text_with_marks()) {
            prop_assert_eq!(canonical_text(&text), canonical_text_before_the_table(&text));
        }
    }

    #[test]
    fn every_mark_canonicalises_as_before() {
        for m in MARKS {
            for text in [
                format!("{}", m.ch),
                format!("a{}b", m.ch),
                format!("a {} b", m.ch),
                format!("x\n\n{}\n\ny", m.ch),
                format!("e{}\u{0301}", m.ch),
            ] {
                assert_eq!(
                    canonical_text(&text),
                    canonical_text_before_the_table(&text),
                    "{text:?}"
                );
            }
        }
        // The canonical text (and so the stored hash) of a text holding every mark, pinned.
        let all: String = MARKS.iter().map(|m| format!("a{} ", m.ch)).collect();
        assert_eq!(
            canonical_text(&all),
            "a' a\" a a' a\" a a a a- a- a- a- a- a- a' a' a' a' a\" a\" a\" a\" a... a' a\" a\u{2039} a\u{203A} a a- a"
        );
    }
}
