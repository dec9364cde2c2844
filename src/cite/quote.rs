//! Finding quoted words in a source's text: exactly, after folding typography, or approximately
//! (with a similarity score and the closest passage) — or not at all.
//!
//! Folding is what an editor's retyping changes and a reader does not: case, the style of
//! quotation marks and dashes (and the spaces around a dash), the ellipsis character, invisible
//! characters, and runs of whitespace. The characters are [`crate::text::typography`]'s, all of
//! them: unlike canonical text, which keeps single and double marks apart and is frozen by
//! stored hashes, matching folds every quotation mark (`‹ ›` too) to one. A quote with ellipses
//! (`…`, `...`, `[…]`) matches when its parts appear in order; a bracketed insertion
//! (`[the agency]`) stands for a few words of the source, whatever they are.
//!
//! The approximate search is linear in the source's length: the source's words are indexed once
//! per text, the quote's words vote for the places they could start, and only the few best
//! places are compared word by word. A quadratic scan of every window of the source would make
//! a 1 MB source take seconds for each quote.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization as _;

use crate::text::typography::{self, Kind};

/// An approximate match at or above this similarity is reported as the quote **altered**, with
/// the passage; below it the quote is **gone** (the closest passage is still shown). Similarity
/// is `2 × words in common / (words quoted + words in the passage)`: one word changed in ten is
/// 0.9; a sentence that shares half its words with the quote, 0.5 — a lookalike, not the
/// sentence cited.
pub const ALTERED_AT: f64 = 0.8;

/// The longest stretch of source text a bracketed insertion stands for, in folded bytes.
const INSERTION_GAP: usize = 120;
/// The longest stretch an ellipsis stands for, in folded bytes: quotes that skip from one
/// paragraph to a later one are common; from one end of a long article to the other, not.
const ELLIPSIS_GAP: usize = 20_000;
/// Words that occur more often than this in a source (the, of, said) do not vote: they say
/// nothing about where a quote is, and would make voting quadratic on long texts.
const COMMON_WORD: usize = 64;

/// How a quote was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    /// Character for character.
    Exact,
    /// After folding typography (case, quotation marks, dashes, whitespace, ellipses).
    Canonical,
    /// Approximately: the closest passage is at least [`ALTERED_AT`] similar.
    Approximate,
    /// Not found: nothing in the text is that similar.
    Gone,
}

/// Where and how a quote was found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuoteMatch {
    /// How it was found.
    pub found: Found,
    /// In how many places the quote stands (exact or canonical); more than one is ambiguous.
    pub occurrences: usize,
    /// 1 when found exactly or canonically; the closest passage's similarity otherwise.
    pub similarity: f64,
    /// The (first, or closest) passage: a byte range of the text.
    pub passage: Option<Range<usize>>,
}

/// A text, folded and indexed once, to look quotes up in.
pub struct Matcher<'a> {
    text: std::borrow::Cow<'a, str>,
    folded: Folded,
    words: OnceLock<WordIndex>,
}

impl<'a> Matcher<'a> {
    /// Prepares `text` (NFC-normalised first where it is not already) for quote look-ups.
    pub fn new(text: &'a str) -> Matcher<'a> {
        Matcher::prepare(std::borrow::Cow::Borrowed(text))
    }

    /// As [`Matcher::new`], owning the text (to keep a prepared text for many look-ups).
    pub fn owned(text: String) -> Matcher<'static> {
        Matcher::prepare(std::borrow::Cow::Owned(text))
    }

    fn prepare(text: std::borrow::Cow<'a, str>) -> Matcher<'a> {
        let text = if unicode_normalization::is_nfc_quick(text.chars())
            == unicode_normalization::IsNormalized::Yes
        {
            text
        } else {
            std::borrow::Cow::Owned(text.nfc().collect())
        };
        let folded = fold(&text);
        Matcher {
            text,
            folded,
            words: OnceLock::new(),
        }
    }

    /// The text looked in (NFC); passages are byte ranges of it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Finds `quote` in the text.
    pub fn find(&self, quote: &str) -> QuoteMatch {
        self.search(quote, true)
    }

    /// Finds `quote` only where it stands (exactly or canonically), without the approximate
    /// search: for looking back through a source's history.
    pub fn find_standing(&self, quote: &str) -> QuoteMatch {
        self.search(quote, false)
    }

    fn search(&self, quote: &str, approximate: bool) -> QuoteMatch {
        let quote: String = quote.nfc().collect();
        let parts = split_quote(&quote);
        if parts.is_empty() {
            return QuoteMatch {
                found: Found::Gone,
                occurrences: 0,
                similarity: 0.0,
                passage: None,
            };
        }
        let folded_parts: Vec<(String, usize)> = parts
            .iter()
            .map(|(p, gap)| (fold(p).text.trim().to_owned(), *gap))
            .filter(|(p, _)| !p.is_empty())
            .collect();
        let canonical = self.canonical(&folded_parts);
        if let Some((count, passage)) = self.exact(&parts) {
            // Ambiguity is judged on the folded text: the same words in another typography are
            // another place the quote stands.
            let count = canonical.as_ref().map_or(count, |(c, _)| count.max(*c));
            return QuoteMatch {
                found: Found::Exact,
                occurrences: count,
                similarity: 1.0,
                passage: Some(passage),
            };
        }
        if let Some((count, passage)) = canonical {
            return QuoteMatch {
                found: Found::Canonical,
                occurrences: count,
                similarity: 1.0,
                passage: Some(passage),
            };
        }
        let joined: Vec<&str> = folded_parts.iter().map(|(p, _)| p.as_str()).collect();
        let closest = if approximate {
            self.closest(&joined.join(" "))
        } else {
            None
        };
        match closest {
            Some((similarity, passage)) => QuoteMatch {
                found: if similarity >= ALTERED_AT {
                    Found::Approximate
                } else {
                    Found::Gone
                },
                occurrences: 0,
                similarity,
                passage: Some(passage),
            },
            None => QuoteMatch {
                found: Found::Gone,
                occurrences: 0,
                similarity: 0.0,
                passage: None,
            },
        }
    }

    /// Whether the quote's parts stand in the text as written, in order: how many places and
    /// the first passage.
    fn exact(&self, parts: &[(String, usize)]) -> Option<(usize, Range<usize>)> {
        let text = self.text.as_bytes();
        let parts: Vec<(&[u8], usize)> = parts
            .iter()
            .map(|(p, gap)| (p.trim().as_bytes(), *gap))
            .filter(|(p, _)| !p.is_empty())
            .collect();
        let (first, _) = parts.first()?;
        let mut count = 0;
        let mut passage = None;
        for start in memchr::memmem::find_iter(text, first) {
            if at_word_edges(&self.text, start, start + first.len())
                && let Some(end) = follow(&self.text, start + first.len(), &parts[1..])
            {
                count += 1;
                passage.get_or_insert(start..end);
            }
        }
        passage.map(|p| (count, p))
    }

    /// As [`Self::exact`], on the folded text: the passage mapped back to the text.
    fn canonical(&self, parts: &[(String, usize)]) -> Option<(usize, Range<usize>)> {
        let folded = self.folded.text.as_bytes();
        let parts: Vec<(&[u8], usize)> = parts.iter().map(|(p, g)| (p.as_bytes(), *g)).collect();
        let (first, _) = parts.first()?;
        let mut count = 0;
        let mut passage = None;
        for start in memchr::memmem::find_iter(folded, first) {
            if at_word_edges(&self.folded.text, start, start + first.len())
                && let Some(end) = follow(&self.folded.text, start + first.len(), &parts[1..])
            {
                count += 1;
                passage.get_or_insert_with(|| self.folded.source_range(start..end));
            }
        }
        passage.map(|p| (count, p))
    }

    /// The passage most like the (folded) quote: its similarity and byte range in the text.
    fn closest(&self, quote: &str) -> Option<(f64, Range<usize>)> {
        let index = self.words.get_or_init(|| WordIndex::new(&self.folded.text));
        let quoted: Vec<&str> = words(quote).map(|r| &quote[r]).collect();
        if quoted.is_empty() || index.words.is_empty() {
            return None;
        }
        // Each quoted word votes for the source position its occurrences put the quote's
        // start at; only the words rare enough to mean something vote.
        let mut votes: HashMap<isize, u32> = HashMap::new();
        for (j, word) in quoted.iter().enumerate() {
            let Some(places) = index.places.get(*word) else {
                continue;
            };
            if places.len() > COMMON_WORD {
                continue;
            }
            for &p in places {
                *votes.entry(p as isize - j as isize).or_default() += 1;
            }
        }
        let mut starts: Vec<(isize, u32)> = votes.into_iter().collect();
        starts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        // The best few starts, not within a few words of one already taken.
        let mut chosen: Vec<isize> = Vec::new();
        for (start, _) in starts {
            if chosen.iter().all(|c| (c - start).abs() > 8) {
                chosen.push(start);
            }
            if chosen.len() == 5 {
                break;
            }
        }
        let slack = quoted.len() / 2 + 5;
        let mut best: Option<(f64, Range<usize>)> = None;
        for start in chosen {
            let from = (start - slack as isize).max(0) as usize;
            let to = (start + (quoted.len() + slack) as isize).max(0) as usize;
            let to = to.min(index.words.len());
            if from >= to {
                continue;
            }
            let window: Vec<&str> = index.words[from..to]
                .iter()
                .map(|r| &self.folded.text[r.clone()])
                .collect();
            let Some((matched, first, last)) = common_words(&quoted, &window) else {
                continue;
            };
            let span = last - first + 1;
            let similarity = 2.0 * matched as f64 / (quoted.len() + span) as f64;
            if best.as_ref().is_none_or(|(s, _)| similarity > *s) {
                let folded = index.words[from + first].start..index.words[from + last].end;
                best = Some((similarity, self.folded.source_range(folded)));
            }
        }
        best
    }
}

/// Follows `parts` (each with the longest gap allowed before it) from `at`: where the last one
/// ends, if they all follow in order, each at word edges. Every place a part stands within its
/// gap is tried in turn (a later one may let the next part fit), so the search backtracks; the
/// gaps bound it.
fn follow(text: &str, at: usize, parts: &[(&[u8], usize)]) -> Option<usize> {
    let Some(((part, gap), rest)) = parts.split_first() else {
        return Some(at);
    };
    let bytes = text.as_bytes();
    let window_end = at
        .saturating_add(*gap)
        .saturating_add(part.len())
        .min(bytes.len());
    let window = bytes.get(at..window_end)?;
    for found in memchr::memmem::find_iter(window, part) {
        let (start, end) = (at + found, at + found + part.len());
        if at_word_edges(text, start, end)
            && let Some(last) = follow(text, end, rest)
        {
            return Some(last);
        }
    }
    None
}

/// Whether `start..end` of `text` neither begins nor ends inside a word — nor inside a figure:
/// `$1,000` is not a quote of `$1,000,000`, nor `3` of `3.5%`.
fn at_word_edges(text: &str, start: usize, end: usize) -> bool {
    let (Some(head), Some(tail)) = (text.get(..start), text.get(end..)) else {
        return false;
    };
    let Some(inner) = text.get(start..end) else {
        return false;
    };
    let joined = |before: &str, after: &str| {
        let mut back = before.chars().rev();
        let mut ahead = after.chars();
        match (back.next(), ahead.next()) {
            (Some(b), Some(a)) if b.is_alphanumeric() && a.is_alphanumeric() => true,
            // A digit, then a decimal point or thousands separator, then a digit.
            (Some(b), Some(a)) if b.is_ascii_digit() && matches!(a, '.' | ',') => {
                ahead.next().is_some_and(|c| c.is_ascii_digit())
            }
            (Some(b), Some(a)) if matches!(b, '.' | ',') && a.is_ascii_digit() => {
                back.next().is_some_and(|c| c.is_ascii_digit())
            }
            _ => false,
        }
    };
    !joined(head, inner) && !joined(inner, tail)
}

/// The words in common between `quoted` and `window` in order (a longest common subsequence,
/// by `similar`'s Myers diff), and the first and last window word matched.
fn common_words(quoted: &[&str], window: &[&str]) -> Option<(usize, usize, usize)> {
    // A deadline: a quote of thousands of words against its window would otherwise take
    // seconds (Myers is quadratic in the worst case); past it the diff is coarser, not wrong.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        quoted,
        window,
        Some(deadline),
    );
    let mut matched = 0;
    let (mut first, mut last) = (None, None);
    for op in ops {
        if let similar::DiffOp::Equal { new_index, len, .. } = op {
            matched += len;
            first.get_or_insert(new_index);
            last = Some(new_index + len - 1);
        }
    }
    Some((matched, first?, last?))
}

/// A quote's parts, each with the longest gap of source text allowed before it (0 for the
/// first): split at ellipses (`…`, `...`, `. . .`, `[…]`, `[...]`) and bracketed insertions.
fn split_quote(quote: &str) -> Vec<(String, usize)> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut gap = 0;
    let mut push = |current: &mut String, gap: &mut usize, next_gap: usize| {
        if !current.trim().is_empty() {
            parts.push((
                std::mem::take(current),
                if parts.is_empty() { 0 } else { *gap },
            ));
            *gap = next_gap;
        } else {
            current.clear();
            *gap = (*gap).max(next_gap);
        }
    };
    let mut rest = quote;
    while let Some(c) = rest.chars().next() {
        let ellipsis = ["[…]", "[...]", "…", "...", ". . ."]
            .iter()
            .find(|e| rest.starts_with(**e));
        if let Some(e) = ellipsis {
            push(&mut current, &mut gap, ELLIPSIS_GAP);
            rest = &rest[e.len()..];
            continue;
        }
        if c == '['
            && let Some(close) = rest.find(']')
        {
            push(&mut current, &mut gap, INSERTION_GAP);
            rest = &rest[close + 1..];
            continue;
        }
        current.push(c);
        rest = &rest[c.len_utf8()..];
    }
    push(&mut current, &mut gap, 0);
    // Quotation marks around the whole quote are the citing document's, not the source's.
    for (part, _) in parts.iter_mut() {
        let trimmed = part.trim().trim_matches(typography::is_quote_mark).trim();
        *part = trimmed.to_owned();
    }
    parts.retain(|(p, _)| !p.is_empty());
    parts
}

/// A text with its typography folded, and where each folded byte came from.
struct Folded {
    text: String,
    /// For each byte of `text`, the offset in the source of the character it came from.
    from: Vec<u32>,
    /// The source's length, for ranges that end at its end.
    source_len: usize,
}

impl Folded {
    /// The source's byte range for a range of the folded text.
    fn source_range(&self, folded: Range<usize>) -> Range<usize> {
        let start = self
            .from
            .get(folded.start)
            .map_or(self.source_len, |&s| s as usize);
        let end = match folded.end.checked_sub(1).and_then(|i| self.from.get(i)) {
            // The end of the character the last folded byte came from.
            Some(&last) => {
                let last = last as usize;
                last + self.char_len_at(last)
            }
            None => start,
        };
        start..end.max(start)
    }

    fn char_len_at(&self, at: usize) -> usize {
        // The source character's length is the distance to the next source offset recorded
        // (offsets never decrease), or to the end.
        let next = self.from.partition_point(|&s| s as usize <= at);
        let next = self.from.get(next).map_or(self.source_len, |&s| s as usize);
        next.saturating_sub(at).max(1)
    }
}

/// Folds `text`: see the module's documentation.
fn fold(text: &str) -> Folded {
    let mut out = String::with_capacity(text.len());
    let mut from: Vec<u32> = Vec::with_capacity(text.len());
    let mut pending_space: Option<usize> = None;
    let mut after_dash = false;
    let push = |out: &mut String, from: &mut Vec<u32>, c: char, at: usize| {
        out.push(c);
        from.extend(std::iter::repeat_n(at as u32, c.len_utf8()));
    };
    for (at, c) in text.char_indices() {
        // ASCII, most of most texts, first: the same rules as below without the Unicode tables
        // (the fold was a third of a citation check).
        if c.is_ascii() {
            match c {
                '-' => {
                    pending_space = None;
                    if !after_dash {
                        out.push('-');
                        from.push(at as u32);
                    }
                    after_dash = true;
                }
                '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' => {
                    if !after_dash && !out.is_empty() {
                        pending_space.get_or_insert(at);
                    }
                }
                c => {
                    if let Some(space) = pending_space.take() {
                        out.push(' ');
                        from.push(space as u32);
                    }
                    after_dash = false;
                    out.push(match c {
                        '"' | '\'' | '`' => '\'',
                        c => c.to_ascii_lowercase(),
                    });
                    from.push(at as u32);
                }
            }
            continue;
        }
        // Every mark of the typography table folds here, canonical text's or not.
        let kind = typography::mark(c).map(|m| m.kind);
        match kind {
            Some(Kind::Dash | Kind::LongDash) => {
                // The spaces around a dash, and how many hyphens type it (`--`, `---`), are
                // typography too.
                pending_space = None;
                if !after_dash {
                    push(&mut out, &mut from, '-', at);
                }
                after_dash = true;
                continue;
            }
            Some(Kind::Invisible) => continue,
            _ if c.is_whitespace() => {
                if !after_dash && !out.is_empty() {
                    pending_space.get_or_insert(at);
                }
                continue;
            }
            _ => {}
        }
        if let Some(space) = pending_space.take() {
            push(&mut out, &mut from, ' ', space);
        }
        after_dash = false;
        match c {
            _ if kind.is_some_and(Kind::is_quote) => push(&mut out, &mut from, '\'', at),
            _ if kind == Some(Kind::Ellipsis) => {
                for dot in Kind::Ellipsis.folded().chars() {
                    push(&mut out, &mut from, dot, at);
                }
            }
            // Final sigma is sigma, and a dotted capital I is an i (its lowercase would add a
            // combining dot that no retyped quote has).
            '\u{03C2}' => push(&mut out, &mut from, '\u{03C3}', at),
            '\u{0130}' => push(&mut out, &mut from, 'i', at),
            c => {
                for lower in c.to_lowercase() {
                    push(
                        &mut out,
                        &mut from,
                        if lower == '\u{03C2}' {
                            '\u{03C3}'
                        } else {
                            lower
                        },
                        at,
                    );
                }
            }
        }
    }
    Folded {
        text: out,
        from,
        source_len: text.len(),
    }
}

/// The words of a folded text: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &text[at..];
        let start = at + rest.find(|c: char| c.is_alphanumeric())?;
        let len = text[start..]
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(text.len() - start);
        at = start + len;
        Some(start..start + len)
    })
}

/// A folded text's words, and where each word occurs.
struct WordIndex {
    words: Vec<Range<usize>>,
    places: HashMap<String, Vec<usize>, foldhash::fast::RandomState>,
}

impl WordIndex {
    fn new(folded: &str) -> WordIndex {
        let words: Vec<Range<usize>> = words(folded).collect();
        // foldhash (seeded per process): SipHash was a tenth of indexing a long source.
        let mut places: HashMap<String, Vec<usize>, foldhash::fast::RandomState> =
            HashMap::default();
        for (i, r) in words.iter().enumerate() {
            let word = &folded[r.clone()];
            match places.get_mut(word) {
                Some(list) => list.push(i),
                None => {
                    places.insert(word.to_owned(), vec![i]);
                }
            }
        }
        WordIndex { words, places }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "The agency said on Tuesday that it had \u{201C}no plans\u{201D} to expand the programme \u{2014} a claim its critics dispute.\n\nIn March, 41% of the applications were refused. Officials declined to comment further on the figures.";

    fn find(quote: &str) -> QuoteMatch {
        Matcher::new(TEXT).find(quote)
    }

    #[test]
    fn exact_quotes_are_found_with_their_passage() {
        let m = find("it had \u{201C}no plans\u{201D} to expand the programme");
        assert_eq!((m.found, m.occurrences), (Found::Exact, 1));
        let passage = m.passage.expect("passage");
        assert_eq!(
            &TEXT[passage],
            "it had \u{201C}no plans\u{201D} to expand the programme"
        );
    }

    #[test]
    fn retyped_quotes_are_found_canonically() {
        for quote in [
            "it had \"no plans\" to expand the programme - a claim",
            "IT HAD 'NO PLANS' TO EXPAND THE PROGRAMME",
            "the programme--a claim its critics dispute",
            "dispute.  In March,",
        ] {
            let m = find(quote);
            assert_eq!(m.found, Found::Canonical, "{quote}");
            assert_eq!(m.occurrences, 1, "{quote}");
        }
        // The citing document's own quotation marks around the quote are not part of it.
        assert_eq!(
            find("\u{201C}The agency said on Tuesday\u{201D}").found,
            Found::Exact
        );
        let m = find("it had \"no plans\" to expand");
        assert_eq!(
            &TEXT[m.passage.expect("passage")],
            "it had \u{201C}no plans\u{201D} to expand"
        );
    }

    #[test]
    fn ellipses_and_insertions_match_parts_in_order() {
        for quote in [
            "The agency said \u{2026} it had \u{201C}no plans\u{201D}",
            "The agency said [...] a claim its critics dispute",
            "[The agency] said on Tuesday that it had",
            "The agency said on Tuesday that [ICE] had \u{201C}no plans\u{201D}",
            "41% of the applications . . . declined to comment",
        ] {
            let m = find(quote);
            assert!(
                matches!(m.found, Found::Exact | Found::Canonical),
                "{quote}: {m:?}"
            );
        }
        // In the wrong order, they do not.
        assert_eq!(
            find("declined to comment \u{2026} The agency said").found,
            Found::Gone
        );
    }

    #[test]
    fn a_quote_in_two_places_is_counted_twice() {
        let text = "He said it was fine. Later, he said it was fine again.";
        let m = Matcher::new(text).find("he said it was fine");
        assert_eq!(m.occurrences, 2);
    }

    #[test]
    fn words_are_not_matched_inside_words() {
        assert_eq!(find("gency said").found, Found::Gone);
        // Nor any part of a quote with ellipses or insertions.
        let text = "The agency said nothing about the programme on Tuesday.";
        for quote in [
            "The agency said no \u{2026} programme",
            "said no [x] Tuesday",
            "agency \u{2026} no \u{2026} Tuesday",
        ] {
            let m = Matcher::new(text).find(quote);
            assert!(
                !matches!(m.found, Found::Exact | Found::Canonical),
                "{quote}: {m:?}"
            );
        }
    }

    #[test]
    fn figures_are_not_cut_short() {
        let text = "The contract was worth $1,000,000 and grew 3.5% a year.";
        for quote in ["The contract was worth $1,000", "and grew 3"] {
            let m = Matcher::new(text).find(quote);
            assert!(
                !matches!(m.found, Found::Exact | Found::Canonical),
                "{quote}: {m:?}"
            );
        }
        assert_eq!(
            Matcher::new(text).find("worth $1,000,000").found,
            Found::Exact
        );
    }

    #[test]
    fn ellipsis_parts_backtrack_to_a_later_place() {
        let filler = "word ".repeat(30);
        let text = format!("Alpha beta gamma. {filler}then beta delta epsilon.");
        let m = Matcher::new(&text).find("Alpha \u{2026} beta [x] epsilon");
        assert_eq!(m.found, Found::Exact, "{m:?}");
    }

    #[test]
    fn greek_and_turkish_capitals_fold() {
        assert_eq!(
            Matcher::new("\u{03A3}\u{0391}\u{03A3}")
                .find("\u{03C3}\u{03B1}\u{03C2}")
                .found,
            Found::Canonical
        );
        assert_eq!(
            Matcher::new("\u{0130}stanbul").find("istanbul").found,
            Found::Canonical
        );
    }

    #[test]
    fn an_altered_quote_is_approximate_and_a_lookalike_is_gone() {
        let m = find("it had no intention to expand the programme, a claim its critics dispute");
        assert_eq!(m.found, Found::Approximate, "{m:?}");
        assert!(m.similarity >= ALTERED_AT && m.similarity < 1.0);
        let passage = &TEXT[m.passage.expect("passage")];
        assert!(passage.contains("to expand the programme"), "{passage}");
        let m = find("the ministry said on Friday it had every plan to cut the scheme");
        assert_eq!(m.found, Found::Gone, "{m:?}");
        assert_eq!(find("entirely unrelated words here").found, Found::Gone);
    }

    #[test]
    fn folding_maps_back_to_the_source() {
        let text = "A \u{201C}B\u{201D}  C\u{2014}D \u{2026} E";
        let folded = fold(text);
        assert_eq!(folded.text, "a 'b' c-d ... e");
        assert_eq!(&text[folded.source_range(2..5)], "\u{201C}B\u{201D}");
        assert_eq!(&text[folded.source_range(0..folded.text.len())], text);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "the",
            "agency",
            "said",
            "it",
            "had",
            "no",
            "plans",
            "café",
            "naïve",
            "Zürich",
            "東京",
            "41%",
            "2024",
            "officials",
            "declined",
            "to",
            "comment",
            "ÉCOLE",
            "programme",
        ];
        const JOINS: &[&str] = &[
            " ",
            " ",
            " ",
            ", ",
            ". ",
            " \u{2014} ",
            "\u{2013}",
            " \u{201C}",
            "\u{201D} ",
            " \u{2018}",
            "\u{2019} ",
            "\n\n",
            " \u{2026} ",
        ];

        /// Retypes a quote as a citing author might: other quotation marks and dashes, other
        /// spacing, ASCII case changed.
        fn retype(quote: &str, seed: u64) -> String {
            let mut out = String::new();
            for (i, c) in quote.chars().enumerate() {
                let flip = (seed >> (i % 60)) & 1 == 1;
                match c {
                    '\u{201C}' | '\u{201D}' => out.push('"'),
                    '\u{2018}' | '\u{2019}' => out.push('\''),
                    '\u{2014}' => out.push_str(if flip { "--" } else { " - " }),
                    '\u{2013}' => out.push('-'),
                    '\u{2026}' => out.push_str("..."),
                    '\n' => out.push(' '),
                    ' ' if flip => out.push_str("  "),
                    c if c.is_ascii_lowercase() && flip => out.push(c.to_ascii_uppercase()),
                    c => out.push(c),
                }
            }
            out
        }

        proptest! {
            #[test]
            fn any_passage_retyped_is_found(
                words in proptest::collection::vec((0..WORDS.len(), 0..JOINS.len()), 8..60),
                from in 0usize..100,
                len in 2usize..12,
                seed in any::<u64>(),
            ) {
                let mut text = String::new();
                let mut starts = Vec::new();
                let mut ends = Vec::new();
                for (w, j) in &words {
                    starts.push(text.len());
                    text.push_str(WORDS[*w]);
                    ends.push(text.len());
                    text.push_str(JOINS[*j]);
                }
                let first = from % words.len();
                let last = (first + len).min(words.len() - 1);
                let quote = &text[starts[first]..ends[last]];
                let retyped = retype(quote, seed);
                let m = Matcher::new(&text).find(&retyped);
                prop_assert!(
                    matches!(m.found, Found::Exact | Found::Canonical),
                    "{retyped:?} (from {quote:?}) not found in {text:?}: {m:?}"
                );
            }
        }
    }
}
