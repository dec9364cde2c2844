//! Finding quoted words in a source's text: exactly, after folding typography, or approximately
//! (with a similarity score and the closest passage) — or not at all.
//!
//! Folding is what an editor's retyping changes and a reader does not: case, the style of
//! quotation marks and dashes (and the spaces around a dash), the ellipsis character, invisible
//! characters, and runs of whitespace. The characters are [`crate::text::typography`]'s, all of
//! them: unlike canonical text, which keeps single and double marks apart and is frozen by
//! stored hashes, matching folds every quotation mark (`‹ ›` too) to one. A quote with ellipses
//! (`…`, `...`, `. . .`, `[…]`, `[...]`, `[. . .]`) matches when its parts appear in order, an
//! ellipsis standing for up to 20,000 bytes; a bracketed insertion (`[the agency]`) stands for a
//! few words of the source, whatever they are.
//!
//! The approximate search is linear in the source's length: the source's words are indexed once
//! per text, the quote's words vote for the places they could start, and only the few best
//! places are compared word by word. A quadratic scan of every window of the source would make
//! a 1 MB source take seconds for each quote. A quote with ellipses is matched part by part
//! (issue 17): its rarer words point at the few stretches of text, of a bounded length, where
//! most of them occur, and in each its parts are aligned with the text in order, each
//! approximately, the words between them free; the similarity counts the quoted parts and their
//! passages only, never the words an ellipsis stands for.

use std::cmp::Reverse;
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
/// sentence cited. For a quote with ellipses, the passage is its parts' passages: the words an
/// ellipsis stands for are in neither count. Such a quote is altered only if each of its parts
/// is found, with at least half of its words: a part missing is not an alteration, and the
/// quote is gone, whatever the similarity of the rest.
pub const ALTERED_AT: f64 = 0.8;

/// The longest stretch of source text a bracketed insertion stands for, in folded bytes.
const INSERTION_GAP: usize = 120;
/// The longest stretch an ellipsis stands for, in folded bytes: quotes that skip from one
/// paragraph to a later one are common; from one end of a long article to the other, not.
const ELLIPSIS_GAP: usize = 20_000;
/// Words that occur more often than this in a source (the, of, said) do not vote: they say
/// nothing about where a quote is, and would make voting quadratic on long texts.
const COMMON_WORD: usize = 64;
/// An approximate match of a quote with ellipses spans at most this many times the quote's
/// words of the text ([`passage_bound`]) …
const PASSAGE_TIMES: usize = 4;
/// … and never less than the quote's words and this many more: a few paragraphs.
const PASSAGE_EXTRA: usize = 400;
/// The most cells an alignment of a quote's parts with a stretch of text ([`align`]) may have,
/// `(words quoted + 1) × (words of text + 1)`: about 2 MB of way back, a few milliseconds. A
/// longer quote with ellipses (some 700 words and more) is compared as one run of words.
const ALIGN_CELLS: usize = 1 << 21;
/// How many stretches of text an approximate search compares the quote with, the best first.
const REGIONS: usize = 5;
/// A word of the text that the quote does not have, in an alignment.
const NOT_QUOTED: u32 = u32::MAX;
/// How much a search for a quote's parts where they stand may read after its first part
/// ([`stands`]), in times the text's length (plus 64 KiB): each part reads at most the
/// text once, so a quote of a few dozen ellipses fits, whatever the text.
const STANDING_WORK: usize = 64;
/// What a place found for a part costs of that work (it is kept, and compared with the next
/// part's), in bytes read: the places kept take at most four bytes for each of the text's.
const PLACE_WORK: usize = 64;

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
    /// The (first, or closest) passage: a byte range of the text (for a quote with ellipses,
    /// from its first part's passage to its last's).
    pub passage: Option<Range<usize>>,
    /// For an approximate match of a quote with ellipses (or insertions): each part's passage
    /// found, in order, with the quote's own ellipsis before it; empty otherwise (the passage
    /// is one piece). [`Matcher::passage`] writes them out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pieces: Vec<Piece>,
    /// How many of a quote's parts (between its ellipses) the closest passage lacks, when it
    /// does not stand: a quote with a part missing is gone, whatever its similarity.
    pub parts_missing: usize,
}

impl QuoteMatch {
    fn standing(found: Found, occurrences: usize, passage: Range<usize>) -> QuoteMatch {
        QuoteMatch {
            found,
            occurrences,
            similarity: 1.0,
            passage: Some(passage),
            pieces: Vec::new(),
            parts_missing: 0,
        }
    }

    fn gone() -> QuoteMatch {
        QuoteMatch {
            found: Found::Gone,
            occurrences: 0,
            similarity: 0.0,
            passage: None,
            pieces: Vec::new(),
            parts_missing: 0,
        }
    }
}

/// One part's passage in an approximate match of a quote with ellipses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Piece {
    /// A byte range of the text.
    pub range: Range<usize>,
    /// What stands before it in the passage shown: the quote's own ellipsis or insertion as
    /// written, with the spaces and punctuation around it (` … ` where a part between is
    /// missing); empty for the first.
    pub mark: String,
}

/// The closest passage to a quote that does not stand.
struct Closest {
    similarity: f64,
    passage: Range<usize>,
    pieces: Vec<Piece>,
    /// How many of the quote's parts it lacks (fewer than half their words found).
    parts_missing: usize,
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
            return QuoteMatch::gone();
        }
        let folded_parts: Vec<Part> = parts
            .iter()
            .map(|p| Part {
                text: fold(&p.text).text.trim().to_owned(),
                gap: p.gap,
                mark: p.mark.clone(),
            })
            .filter(|p| !p.text.is_empty())
            .collect();
        let canonical = self.canonical(&folded_parts);
        if let Some((count, passage)) = self.exact(&parts) {
            // Ambiguity is judged on the folded text: the same words in another typography are
            // another place the quote stands.
            let count = canonical.as_ref().map_or(count, |(c, _)| count.max(*c));
            return QuoteMatch::standing(Found::Exact, count, passage);
        }
        if let Some((count, passage)) = canonical {
            return QuoteMatch::standing(Found::Canonical, count, passage);
        }
        let closest = if approximate {
            self.approximate(&folded_parts)
        } else {
            None
        };
        match closest {
            Some(c) => QuoteMatch {
                found: if c.similarity >= ALTERED_AT && c.parts_missing == 0 {
                    Found::Approximate
                } else {
                    Found::Gone
                },
                occurrences: 0,
                similarity: c.similarity,
                passage: Some(c.passage),
                pieces: c.pieces,
                parts_missing: c.parts_missing,
            },
            None => QuoteMatch::gone(),
        }
    }

    /// Whether the quote's parts stand in the text as written, in order: how many places and
    /// the first passage.
    fn exact(&self, parts: &[Part]) -> Option<(usize, Range<usize>)> {
        let parts: Vec<(&[u8], usize)> = parts
            .iter()
            .map(|p| (p.text.trim().as_bytes(), p.gap))
            .filter(|(p, _)| !p.is_empty())
            .collect();
        stands(&self.text, &parts)
    }

    /// As [`Self::exact`], on the folded text: the passage mapped back to the text.
    fn canonical(&self, parts: &[Part]) -> Option<(usize, Range<usize>)> {
        let parts: Vec<(&[u8], usize)> = parts.iter().map(|p| (p.text.as_bytes(), p.gap)).collect();
        stands(&self.folded.text, &parts)
            .map(|(count, passage)| (count, self.folded.source_range(passage)))
    }

    /// The closest passage to a quote that does not stand (its folded parts): for a quote of
    /// one part, the passage most like it ([`Self::closest`]); for a quote of several, the
    /// passage that holds its parts in order, most like them ([`Self::closest_parts`]).
    fn approximate(&self, parts: &[Part]) -> Option<Closest> {
        let worded: Vec<(Vec<&str>, &Part)> = parts
            .iter()
            .map(|p| (words(&p.text).map(|r| &p.text[r]).collect::<Vec<_>>(), p))
            .filter(|(w, _)| !w.is_empty())
            .collect();
        let whole = || {
            let joined: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
            self.closest(&joined.join(" "))
                .map(|(similarity, passage)| Closest {
                    similarity,
                    passage,
                    pieces: Vec::new(),
                    parts_missing: 0,
                })
        };
        if worded.len() < 2 {
            return whole();
        }
        let quoted: usize = worded.iter().map(|(w, _)| w.len()).sum();
        let index = self.words.get_or_init(|| WordIndex::new(&self.folded.text));
        let region = passage_bound(quoted).min(index.words.len());
        if (quoted + 1).saturating_mul(region + 1) > ALIGN_CELLS {
            // Too long a quote to align part by part within its bound: compared as one run of
            // words, as a quote without ellipses is.
            return whole();
        }
        self.closest_parts(index, &worded)
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

    /// The passage that holds a quote's parts (each a part's words, with its gap and mark)
    /// in order, most like them: each part matched approximately, the words between the parts
    /// free. The quote's rarer words point at the stretches of the text of
    /// [`passage_bound`] words where most of them occur; in each of the few best, the parts are
    /// aligned with the text ([`align`]); the closest alignment wins.
    fn closest_parts(&self, index: &WordIndex, parts: &[(Vec<&str>, &Part)]) -> Option<Closest> {
        // The quote's words as small numbers; a text word that is no quoted word is `NOT_QUOTED`.
        let mut ids: HashMap<&str, u32, foldhash::fast::RandomState> = HashMap::default();
        let mut times: Vec<u32> = Vec::new();
        let mut quote: Vec<u32> = Vec::new();
        let mut starts: Vec<usize> = Vec::with_capacity(parts.len());
        for (words, _) in parts {
            starts.push(quote.len());
            for word in words {
                let next = ids.len() as u32;
                let id = *ids.entry(word).or_insert(next);
                if id == next {
                    times.push(0);
                }
                times[id as usize] += 1;
                quote.push(id);
            }
        }
        let bound = passage_bound(quote.len());
        // Where the quote's rarer words occur, in text order.
        let mut hits: Vec<(usize, u32)> = Vec::new();
        for (word, &id) in &ids {
            if let Some(places) = index.places.get(*word)
                && places.len() <= COMMON_WORD
            {
                hits.extend(places.iter().map(|&p| (p, id)));
            }
        }
        hits.sort_unstable();
        // Every stretch of `bound` words that begins at a hit, scored by how many of the quote's
        // words it holds (a word quoted twice counts twice only if it occurs twice).
        let mut held = vec![0u32; times.len()];
        let mut stretches: Vec<(u32, usize, usize)> = Vec::new();
        let (mut score, mut right) = (0u32, 0);
        for left in 0..hits.len() {
            while right < hits.len() && hits[right].0 < hits[left].0 + bound {
                let id = hits[right].1 as usize;
                if held[id] < times[id] {
                    score += 1;
                }
                held[id] += 1;
                right += 1;
            }
            stretches.push((score, hits[left].0, hits[right - 1].0));
            let id = hits[left].1 as usize;
            held[id] -= 1;
            if held[id] < times[id] {
                score -= 1;
            }
        }
        // The most words held first; of those, the tightest (a stretch that begins at an earlier
        // occurrence of the quote's first words may reach the passage only at its far end, and
        // cut it off).
        stretches.sort_unstable_by(|a, b| {
            b.0.cmp(&a.0)
                .then((a.2 - a.1).cmp(&(b.2 - b.1)))
                .then(a.1.cmp(&b.1))
        });
        // The best few, each apart from those already taken.
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        for (_, first, last) in stretches {
            if chosen.iter().all(|&(f, l)| last < f || first > l) {
                chosen.push((first, last));
            }
            if chosen.len() == REGIONS {
                break;
            }
        }
        // The parts aligned with the `bound` words around `first..=last` (word indices of the
        // text), as evenly as the text's ends allow: the closest passage there, and the words
        // it spans.
        let place = |first: usize, last: usize| {
            let margin = bound.saturating_sub(last - first + 1) / 2;
            let to = (first.saturating_sub(margin) + bound).min(index.words.len());
            (to.saturating_sub(bound), to)
        };
        let aligned = |(from, to): (usize, usize)| {
            let region: Vec<u32> = index.words[from..to]
                .iter()
                .map(|r| {
                    ids.get(&self.folded.text[r.clone()])
                        .copied()
                        .unwrap_or(NOT_QUOTED)
                })
                .collect();
            let byte_at = |t: usize| match index.words.get(from + t) {
                Some(w) if t < region.len() => w.start,
                _ => index.words[to - 1].end,
            };
            let byte_after = |t: usize| match t.checked_sub(1) {
                Some(last) => index.words[from + last].end,
                None => index.words[from].start,
            };
            // A gap from the end of one part's span to the start of the next part's, within what
            // the quote's ellipsis or insertion stands for.
            let fits = |end: usize, start: usize, part: usize| {
                end == start || byte_at(start).saturating_sub(byte_after(end)) <= parts[part].1.gap
            };
            let placed = align(&quote, &starts, &region, &fits);
            let spanned = placed
                .iter()
                .flatten()
                .next()
                .zip(placed.iter().flatten().last())
                .map(|(a, b)| (from + a.first, from + b.last));
            (
                self.closest_of(index, parts, &starts, from, &placed),
                spanned,
            )
        };
        let mut best: Option<Closest> = None;
        for (first, last) in chosen {
            let stretch = place(first, last);
            let (mut candidate, spanned) = aligned(stretch);
            // The stretch was placed by the quote's rarer words; the passage may reach past them
            // (where its words are common ones): a passage found within the quote's length of an
            // end of the stretch (not the text's) is looked for again around it, once.
            let (from, to) = stretch;
            let cut = |(a, b): (usize, usize)| {
                (from > 0 && a < from + quote.len())
                    || (to < index.words.len() && b + quote.len() >= to)
            };
            if let Some((a, b)) = spanned
                && cut((a, b))
                && place(a, b) != stretch
            {
                let (again, _) = aligned(place(a, b));
                if closer(&again, &candidate) {
                    candidate = again;
                }
            }
            if closer(&candidate, &best) {
                best = candidate;
            }
        }
        best
    }

    /// An alignment of a quote's parts ([`align`]) as the passage shown: each part found, from
    /// its first word matched to its last, widened beside an ellipsis over the text's words that
    /// stand where the part's unmatched first or last words would be (a figure changed just
    /// after an ellipsis is shown, not left in the gap); its similarity over the parts alone;
    /// how many parts are missing.
    fn closest_of(
        &self,
        index: &WordIndex,
        parts: &[(Vec<&str>, &Part)],
        starts: &[usize],
        from: usize,
        placed: &[Option<Placed>],
    ) -> Option<Closest> {
        let quoted = starts.last().copied().unwrap_or(0) + parts.last().map_or(0, |(w, _)| w.len());
        // The found parts' spans in the text's words, widened where the neighbours allow.
        let found: Vec<(usize, &Placed)> = placed
            .iter()
            .enumerate()
            .filter_map(|(p, placed)| placed.as_ref().map(|pl| (p, pl)))
            .collect();
        let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(found.len());
        for (n, &(p, pl)) in found.iter().enumerate() {
            // Only beside an ellipsis: at the quote's ends, as for a quote of one part, the
            // passage runs from the first word matched to the last.
            let lead = if p == 0 {
                0
            } else {
                pl.quote_first - starts[p]
            };
            let trail = if p + 1 == parts.len() {
                0
            } else {
                starts[p] + parts[p].0.len() - 1 - pl.quote_last
            };
            let floor = spans.last().map_or(0, |&(_, _, last)| last + 1);
            let ceiling = found
                .get(n + 1)
                .map_or(index.words.len() - 1, |(_, next)| from + next.first - 1);
            let first = (from + pl.first).saturating_sub(lead).max(floor);
            let last = (from + pl.last + trail).min(ceiling);
            spans.push((p, first, last));
        }
        let (&(_, first, _), &(_, _, last)) = (spans.first()?, spans.last()?);
        let matched: usize = found.iter().map(|(_, pl)| pl.matched).sum();
        let shown: usize = spans.iter().map(|&(_, f, l)| l - f + 1).sum();
        let similarity = 2.0 * matched as f64 / (quoted + shown) as f64;
        let parts_missing = placed
            .iter()
            .zip(parts)
            .filter(|(pl, (words, _))| 2 * pl.as_ref().map_or(0, |pl| pl.matched) < words.len())
            .count();
        let mut pieces = Vec::with_capacity(spans.len());
        let mut previous: Option<usize> = None;
        for &(p, f, l) in &spans {
            let mark = match previous {
                None => String::new(),
                Some(before) if before + 1 == p => parts[p].1.mark.clone(),
                Some(_) => " \u{2026} ".to_owned(),
            };
            let range = self
                .folded
                .source_range(index.words[f].start..index.words[l].end);
            pieces.push(Piece { range, mark });
            previous = Some(p);
        }
        Some(Closest {
            similarity,
            passage: self
                .folded
                .source_range(index.words[first].start..index.words[last].end),
            pieces,
            parts_missing,
        })
    }

    /// The passage of a match as shown: the text's own words for a quote that stands or a
    /// passage found in one piece; for an approximate match of a quote with ellipses, each
    /// part's passage with the quote's own ellipsis (or insertion) between them.
    pub fn passage(&self, m: &QuoteMatch) -> Option<String> {
        if m.pieces.len() < 2 {
            return m.passage.clone().map(|r| self.text[r].to_owned());
        }
        let mut out = String::new();
        for (n, piece) in m.pieces.iter().enumerate() {
            if n > 0 {
                out.push_str(if piece.mark.is_empty() {
                    " \u{2026} "
                } else {
                    &piece.mark
                });
            }
            out.push_str(&self.text[piece.range.clone()]);
        }
        Some(out)
    }
}

/// Whether `a` is a closer passage than `b`: fewer parts missing, then more similar.
fn closer(a: &Option<Closest>, b: &Option<Closest>) -> bool {
    match (a, b) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(a), Some(b)) => {
            (Reverse(a.parts_missing), a.similarity) > (Reverse(b.parts_missing), b.similarity)
        }
    }
}

/// The most words of the text an approximate match of a quote of `quoted` words with ellipses
/// may span, from its first part's first word to its last part's last, the words its
/// ellipses stand for included: four times the quote, and never less than the quote and 400
/// words (a few paragraphs) more.
fn passage_bound(quoted: usize) -> usize {
    quoted
        .saturating_mul(PASSAGE_TIMES)
        .max(quoted.saturating_add(PASSAGE_EXTRA))
}

/// Where a quote's parts stand (each with the longest gap allowed before it) in `text`, in
/// order and each at word edges: in how many places (places of the first part from which the
/// others follow) and the first passage.
///
/// The first part's places are found in the whole text; each next part's only in the gaps
/// after the places of the one before it. Then, last part first, the places from which the
/// next part cannot follow within its gap are dropped; what is left of the first part's are
/// the quote's places, and the first passage takes each next part's earliest place. Each
/// part reads the text at most once, whatever the number of places: a search that tried
/// every place of every part in turn took exponential time (a dozen `a …` in a text of `a a
/// a …` did not finish). A search that would read more than [`STANDING_WORK`] times the text
/// after its first part (thousands of parts found all over a long text) stops, and the quote
/// does not stand.
fn stands(text: &str, parts: &[(&[u8], usize)]) -> Option<(usize, Range<usize>)> {
    let ((first, _), rest) = parts.split_first()?;
    let bytes = text.as_bytes();
    let mut work = STANDING_WORK
        .saturating_mul(bytes.len())
        .saturating_add(STANDING_WORK << 16);
    let mut spend = |n: usize| -> Option<()> {
        work = work.checked_sub(n)?;
        Some(())
    };
    // Offsets as u32, as `Folded` keeps them: a text is far shorter than 4 GiB.
    let mut places: Vec<Vec<u32>> = Vec::with_capacity(parts.len());
    places.push(
        memchr::memmem::find_iter(bytes, first)
            .filter(|&s| at_word_edges(text, s, s + first.len()))
            .map(|s| s as u32)
            .collect(),
    );
    for (i, (part, gap)) in rest.iter().enumerate() {
        let (before, before_len) = (&places[i], parts[i].0.len());
        if before.is_empty() {
            return None;
        }
        let finder = memchr::memmem::Finder::new(part);
        let mut found = Vec::new();
        let mut k = 0;
        while k < before.len() {
            // The gaps after the places before, those that overlap merged: the part may start
            // anywhere in `lo..=hi`.
            let lo = before[k] as usize + before_len;
            let mut hi = lo.saturating_add(*gap);
            k += 1;
            while let Some(&next) = before.get(k) {
                let end = next as usize + before_len;
                if end > hi {
                    break;
                }
                hi = hi.max(end.saturating_add(*gap));
                k += 1;
            }
            let end = hi.saturating_add(part.len()).min(bytes.len());
            let Some(window) = bytes.get(lo..end) else {
                continue;
            };
            spend(window.len())?;
            // Every place, overlapping ones too (`a a` stands twice in `a a a`).
            let mut at = 0;
            while let Some(f) = finder.find(&window[at..]) {
                let start = lo + at + f;
                if at_word_edges(text, start, start + part.len()) {
                    spend(PLACE_WORK)?;
                    found.push(start as u32);
                }
                at += f + 1;
            }
        }
        places.push(found);
    }
    // Last part first: keep the places from which the next part follows within its gap.
    for i in (0..places.len() - 1).rev() {
        let (len, gap) = (parts[i].0.len(), parts[i + 1].1);
        let (head, tail) = places.split_at_mut(i + 1);
        let next = &tail[0];
        head[i].retain(|&s| {
            let end = s as usize + len;
            let j = next.partition_point(|&n| (n as usize) < end);
            next.get(j)
                .is_some_and(|&n| n as usize <= end.saturating_add(gap))
        });
    }
    let start = *places[0].first()? as usize;
    let mut end = start + first.len();
    for (i, next) in places.iter().enumerate().skip(1) {
        let j = next.partition_point(|&n| (n as usize) < end);
        end = *next.get(j)? as usize + parts[i].0.len();
    }
    Some((places[0].len(), start..end))
}

/// Where one part of a quote was placed by [`align`]: its first and last word matched in the
/// region (indices of the region's words) and in the quote, and how many words matched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placed {
    first: usize,
    last: usize,
    quote_first: usize,
    quote_last: usize,
    matched: usize,
}

/// Aligns a quote's words (`quote`, cut into parts that begin at `starts`) with a region of
/// a text's words: each part at most once, in order, the parts' spans apart. Inside a part's
/// span (from its first word matched to its last) a word of the text that is not matched
/// costs, a word quoted that is not matched does not (the similarity's quoted words are
/// fixed); between the spans, the text's words are free, as far as `fits(end, start, part)`
/// lets the gap between a span ending before region word `end` and part `part`'s span
/// starting at word `start` reach (it must hold for `end == start`, and fail for a wider gap
/// when it fails for a narrower one). Before the first span and after the last, the text's
/// words are free: the passage is wherever in the region it is best.
///
/// The score is 3 for a word matched and -2 for a text word in a span not matched: a text word
/// weighs 0.8 / (2 - 0.8) = 2/3 of a match, the trade-off at [`ALTERED_AT`] (widening a span
/// over `k` more words to match one more is worth it when `k ≤ 1.5`, just when it keeps a
/// similarity of 0.8 from falling). One pass over the quote's words by the region's,
/// `(quote + 1) × (region + 1)` cells, with a byte for each to find the way back; a part found
/// nowhere in the region, or only at a loss, is `None`.
fn align(
    quote: &[u32],
    starts: &[usize],
    region: &[u32],
    fits: &dyn Fn(usize, usize, usize) -> bool,
) -> Vec<Option<Placed>> {
    const MATCH: i32 = 3;
    const EXTRA: i32 = 2;
    const NONE: i32 = i32::MIN / 2;
    // How a span's cell was reached.
    const SKIP_QUOTED: u8 = 1;
    const SKIP_TEXT: u8 = 2;
    const MATCH_IN_SPAN: u8 = 3;
    const MATCH_FIRST: u8 = 4;
    let (parts, width) = (starts.len(), region.len() + 1);
    let end_of = |p: usize| starts.get(p + 1).copied().unwrap_or(quote.len());
    let mut how = vec![0u8; (quote.len() + 1) * width];
    // For each part after the first, for each place its span may start: where the gap before
    // it began (shifted left one), and whether a span ended there (the low bit) or the part
    // before was missing.
    let mut came: Vec<Vec<u32>> = Vec::with_capacity(parts.saturating_sub(1));
    // `gap[t]`: the best score with the parts before placed (or missing) and the current
    // part's span free to start at region word `t`. `span[t]`: inside the current part's span,
    // at word `t`.
    let mut gap = vec![0i32; width];
    let mut span = vec![NONE; width];
    let mut next = vec![NONE; width];
    let mut window: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    for (p, &start) in starts.iter().enumerate() {
        if p > 0 {
            // The part before ended at `t` (its span, or the part missing), and this one may
            // start anywhere its gap reaches from there.
            let ends: Vec<(i32, bool)> = (0..width)
                .map(|t| {
                    if span[t] > NONE && span[t] >= gap[t] {
                        (span[t], true)
                    } else {
                        (gap[t], false)
                    }
                })
                .collect();
            let mut from = vec![0u32; width];
            window.clear();
            for t in 0..width {
                while window.back().is_some_and(|&b| ends[b].0 <= ends[t].0) {
                    window.pop_back();
                }
                window.push_back(t);
                while let Some(&f) = window.front() {
                    if f < t && !fits(f, t, p) {
                        window.pop_front();
                    } else {
                        break;
                    }
                }
                let f = window.front().copied().unwrap_or(t);
                gap[t] = ends[f].0;
                from[t] = (f as u32) << 1 | u32::from(ends[f].1);
            }
            came.push(from);
            span.fill(NONE);
        }
        for j in start..end_of(p) {
            let row = &mut how[(j + 1) * width..(j + 2) * width];
            for t in 0..width {
                let (mut best, mut code) = (span[t], SKIP_QUOTED);
                if t > 0 && quote[j] == region[t - 1] {
                    let (inside, fresh) = (span[t - 1], gap[t - 1]);
                    if inside > fresh && inside + MATCH > best {
                        (best, code) = (inside + MATCH, MATCH_IN_SPAN);
                    } else if fresh + MATCH > best {
                        (best, code) = (fresh + MATCH, MATCH_FIRST);
                    }
                }
                if t > 0 && next[t - 1] > NONE && next[t - 1] - EXTRA > best {
                    (best, code) = (next[t - 1] - EXTRA, SKIP_TEXT);
                }
                next[t] = best;
                row[t] = if best > NONE { code } else { 0 };
            }
            std::mem::swap(&mut span, &mut next);
        }
    }
    // After the last part, the text's words are free: the best end anywhere.
    let mut end = (0, false, i32::MIN);
    for t in 0..width {
        let (score, in_span) = if span[t] > NONE && span[t] >= gap[t] {
            (span[t], true)
        } else {
            (gap[t], false)
        };
        if score > end.2 {
            end = (t, in_span, score);
        }
    }
    let (mut t, mut in_span) = (end.0, end.1);
    let mut placed = vec![None; parts];
    for p in (0..parts).rev() {
        if in_span {
            let mut j = end_of(p);
            let mut found: Option<Placed> = None;
            while j > starts[p] && t > 0 {
                match how[j * width + t] {
                    SKIP_QUOTED => j -= 1,
                    SKIP_TEXT => t -= 1,
                    code @ (MATCH_IN_SPAN | MATCH_FIRST) => {
                        j -= 1;
                        t -= 1;
                        let f = found.get_or_insert(Placed {
                            first: t,
                            last: t,
                            quote_first: j,
                            quote_last: j,
                            matched: 0,
                        });
                        (f.first, f.quote_first) = (t, j);
                        f.matched += 1;
                        if code == MATCH_FIRST {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            placed[p] = found;
        }
        if p == 0 {
            break;
        }
        let from = came[p - 1][t];
        (t, in_span) = ((from >> 1) as usize, from & 1 == 1);
    }
    placed
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

/// The ellipses a quote may skip words with, longest first: `[…]`, `[...]`, `[. . .]`, `…`,
/// `...`, `. . .`.
const ELLIPSES: [&str; 6] = ["[\u{2026}]", "[...]", "[. . .]", "\u{2026}", "...", ". . ."];

/// A part of a quote: what stands between its ellipses and insertions.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    /// Its words as quoted (quotation marks around the whole quote trimmed).
    text: String,
    /// The longest stretch of source text allowed before it, in bytes (0 for the first).
    gap: usize,
    /// The quote's own text between the last word of the part before (with words) and this
    /// one's first word, as written: the ellipses and insertions it follows, with their spaces
    /// and punctuation (empty for the first, and for a part without words).
    mark: String,
}

/// A quote's parts: split at ellipses ([`ELLIPSES`]) and bracketed insertions.
fn split_quote(quote: &str) -> Vec<Part> {
    // Each part's range of the quote, trimmed, and the gap before it.
    let mut found: Vec<(Range<usize>, usize)> = Vec::new();
    let mut gap = 0;
    // Ends the part `from..to` at a separator that stands for up to `next_gap` bytes.
    let mut push = |from: usize, to: usize, gap: &mut usize, next_gap: usize| {
        // Quotation marks around the whole quote are the citing document's, not the source's.
        let raw = &quote[from..to];
        let trimmed = raw.trim().trim_matches(typography::is_quote_mark).trim();
        if trimmed.is_empty() {
            *gap = (*gap).max(next_gap);
        } else {
            let at = from + (trimmed.as_ptr() as usize - raw.as_ptr() as usize);
            let gap_before = if found.is_empty() { 0 } else { *gap };
            found.push((at..at + trimmed.len(), gap_before));
            *gap = next_gap;
        }
    };
    // Whether a `]` is still ahead: once none is, a `[` is not looked past again (a quote of
    // thousands of `[` would make that quadratic).
    let mut closing = true;
    let (mut start, mut at) = (0, 0);
    while let Some(c) = quote[at..].chars().next() {
        let rest = &quote[at..];
        if let Some(e) = ELLIPSES.iter().find(|e| rest.starts_with(**e)) {
            push(start, at, &mut gap, ELLIPSIS_GAP);
            at += e.len();
            start = at;
            continue;
        }
        if c == '[' && closing {
            match rest.find(']') {
                Some(close) => {
                    push(start, at, &mut gap, INSERTION_GAP);
                    at += close + 1;
                    start = at;
                    continue;
                }
                None => closing = false,
            }
        }
        at += c.len_utf8();
    }
    push(start, quote.len(), &mut gap, 0);
    // A part's mark runs from the last word of the part before with words to its own first
    // word: the punctuation at a part's ends is the quote's, shown as written beside the
    // ellipsis (passages run from word to word).
    let mut parts = Vec::with_capacity(found.len());
    let mut end: Option<usize> = None;
    for (range, gap) in found {
        let text = &quote[range.clone()];
        let said = words(text).next().zip(words(text).last());
        let mark = match (end, &said) {
            (Some(end), Some((first, _))) => quote[end..range.start + first.start].to_owned(),
            _ => String::new(),
        };
        if let Some((_, last)) = said {
            end = Some(range.start + last.end);
        }
        parts.push(Part {
            text: text.to_owned(),
            gap,
            mark,
        });
    }
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

    /// Issue 17: a figure changed after an ellipsis. The words the ellipsis stands for do not
    /// count against the quote (they made it 67% similar, and gone); the passage shows each
    /// part's text with the quote's own ellipsis between them, the changed figure included.
    #[test]
    fn an_ellipsised_quote_with_a_figure_changed_is_altered_part_by_part() {
        let matcher = Matcher::new(TEXT);
        let quote = "The agency said on Tuesday \u{2026} 45% of the applications were refused";
        let m = matcher.find(quote);
        assert_eq!((m.found, m.parts_missing), (Found::Approximate, 0), "{m:?}");
        // 10 words of 11 in common, the passage's parts 11 words: 20 / 22.
        assert!((m.similarity - 20.0 / 22.0).abs() < 1e-9, "{m:?}");
        assert_eq!(
            matcher.passage(&m).as_deref(),
            Some("The agency said on Tuesday \u{2026} 41% of the applications were refused")
        );
        let passage = &TEXT[m.passage.clone().expect("passage")];
        assert!(passage.starts_with("The agency said on Tuesday that it had"));
        assert!(passage.ends_with("41% of the applications were refused"));
        assert_eq!(
            crate::cite::assess::word_diff(quote, &matcher.passage(&m).expect("passage")),
            "The agency said on Tuesday \u{2026} [-45-]{+41+}% of the applications were refused"
        );
        // The figure changed in the first part, before the ellipsis, alike.
        let m = matcher.find("In March, 45% of the applications \u{2026} declined to comment");
        assert_eq!(m.found, Found::Approximate, "{m:?}");
        assert_eq!(
            matcher.passage(&m).as_deref(),
            Some("In March, 41% of the applications \u{2026} declined to comment")
        );
    }

    #[test]
    fn ellipsis_parts_are_matched_in_order() {
        let forward = "The agency said on Tuesday \u{2026} 45% of the applications were refused";
        assert_eq!(find(forward).found, Found::Approximate);
        for quote in [
            "45% of the applications were refused \u{2026} The agency said on Tuesday",
            "Officials declined to comment further \u{2026} said on Tuesday that it had no plans",
        ] {
            let m = find(quote);
            assert_eq!(m.found, Found::Gone, "{quote}: {m:?}");
            assert!(m.parts_missing > 0, "{quote}: {m:?}");
        }
    }

    /// A part missing entirely is no alteration: the quote is gone, though the rest of it
    /// stands (joined up, its words were 91% of the passage's).
    #[test]
    fn an_ellipsised_quote_with_a_part_missing_is_gone() {
        let matcher = Matcher::new(TEXT);
        let m =
            matcher.find("The agency said on Tuesday that it had no plans \u{2026} zebra crossing");
        assert_eq!((m.found, m.parts_missing), (Found::Gone, 1), "{m:?}");
        assert!(m.similarity >= ALTERED_AT, "{m:?}");
        assert_eq!(
            matcher.passage(&m).as_deref(),
            Some("The agency said on Tuesday that it had \u{201C}no plans")
        );
        // A part with fewer than half of its words is missing too.
        let m = matcher.find(
            "The agency said on Tuesday that it had no plans \u{2026} officials praised the sweeping reforms",
        );
        assert_eq!((m.found, m.parts_missing), (Found::Gone, 1), "{m:?}");
    }

    /// An approximate match of a quote with ellipses spans at most `passage_bound` words; a
    /// bracketed insertion stands for at most `INSERTION_GAP` bytes, in an approximate match
    /// as in an exact one.
    #[test]
    fn the_words_an_ellipsis_stands_for_are_bounded() {
        let quote =
            "Alpha beta gamma delta epsilon \u{2026} the rate was 45 percent of zeta eta theta";
        let quoted = 15;
        assert_eq!(passage_bound(quoted), 415);
        let text = |filler: usize| {
            format!(
                "Alpha beta gamma delta epsilon. {}The rate was 41 percent of zeta eta theta.",
                "more words here. ".repeat(filler / 3)
            )
        };
        // 5 + 390 + 10 words: within the bound.
        let m = Matcher::new(&text(390)).find(quote);
        assert_eq!(m.found, Found::Approximate, "{m:?}");
        // 5 + 600 + 10: beyond it, though the quote as cited stands (exactly, an ellipsis may
        // stand for 20,000 bytes).
        let far = text(600);
        let m = Matcher::new(&far).find(quote);
        assert_eq!((m.found, m.parts_missing), (Found::Gone, 1), "{m:?}");
        assert_eq!(
            Matcher::new(&far).find(&quote.replace("45", "41")).found,
            Found::Canonical
        );
        // An insertion stands for a few words, not for a paragraph.
        let quote = "Alpha beta gamma delta [the agency] rate was 45 percent of zeta eta theta";
        let near = "Alpha beta gamma delta said the rate was 41 percent of zeta eta theta.";
        assert_eq!(Matcher::new(near).find(quote).found, Found::Approximate);
        let wide = format!(
            "Alpha beta gamma delta {}the rate was 41 percent of zeta eta theta.",
            "more words here. ".repeat(10)
        );
        assert_eq!(Matcher::new(&wide).find(quote).found, Found::Gone);
    }

    /// The stretch of text a quote is aligned with is placed by its rarer words; a passage that
    /// begins with common words before them, near the bound, is looked for again around it.
    #[test]
    fn a_passage_beginning_with_common_words_is_found_whole() {
        let filler: String = (0..392).map(|i| format!("w{i} ")).collect();
        let text = format!(
            "{}Many of these workers, many of these workers, many of these were hired in March. {filler}Zeta eta theta iota kappa. {filler}",
            "Many of these workers were said to be there. ".repeat(70)
        );
        let quote = "many of these workers, many of these workers, many of these were hired \u{2026} zeta eta notably iota kappa";
        let matcher = Matcher::new(&text);
        let m = matcher.find(quote);
        assert_eq!(m.found, Found::Approximate, "{m:?}");
        assert_eq!(
            matcher.passage(&m).as_deref(),
            Some(
                "Many of these workers, many of these workers, many of these were hired \u{2026} Zeta eta theta iota kappa"
            )
        );
        // 17 words of 18 in common, the parts' passages 18 words.
        assert!((m.similarity - 34.0 / 36.0).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn every_form_of_ellipsis_is_recognised() {
        let filler = "more words here. ".repeat(20);
        let text = format!("Alpha beta gamma delta. {filler}The rate was 41 percent of zeta eta.");
        let matcher = Matcher::new(&text);
        for form in ELLIPSES {
            let quote =
                format!("Alpha beta gamma delta {form} the rate was 41 percent of zeta eta");
            let m = matcher.find(&quote);
            assert!(
                matches!(m.found, Found::Exact | Found::Canonical),
                "{form}: {m:?}"
            );
            let altered = quote.replace("41", "45");
            let m = matcher.find(&altered);
            assert_eq!(m.found, Found::Approximate, "{form}: {m:?}");
            assert_eq!(
                matcher.passage(&m),
                Some(format!(
                    "Alpha beta gamma delta {form} The rate was 41 percent of zeta eta"
                )),
                "{form}"
            );
        }
        // Several marks in a row are one gap, shown as written.
        let m = matcher
            .find("Alpha beta gamma delta \u{2026} [and] the rate was 45 percent of zeta eta");
        assert_eq!(
            matcher.passage(&m).as_deref(),
            Some("Alpha beta gamma delta \u{2026} [and] The rate was 41 percent of zeta eta")
        );
    }

    /// Hostile quotes: a dozen ellipses whose parts stand everywhere (the search tried every
    /// place of every part in turn, and did not finish), thousands of ellipses, a quote of a
    /// thousand words with ellipses, thousands of unclosed brackets.
    #[test]
    fn many_ellipses_stay_bounded() {
        let begun = std::time::Instant::now();
        let text = "a ".repeat(3000);
        let quote = format!("{}zzz", "a \u{2026} ".repeat(12));
        assert_eq!(Matcher::new(&text).find(&quote).found, Found::Gone);
        // Every `a` but the last eleven begins the quote.
        let quote = "a \u{2026} ".repeat(12);
        let m = Matcher::new(&text).find(&quote);
        assert_eq!((m.found, m.occurrences), (Found::Exact, 2989), "{m:?}");

        let source: String = (0..50_000).map(|i| format!("w{} ", i % 5000)).collect();
        let matcher = Matcher::new(&source);
        let many: Vec<String> = (0..3000).map(|i| format!("w{}", (i * 7) % 5000)).collect();
        let m = matcher.find(&many.join(" \u{2026} "));
        assert!(matches!(m.found, Found::Gone | Found::Approximate), "{m:?}");
        // Each part stands in ten places, each in a gap of 20,000 bytes after the part before.
        let stands: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
        assert_eq!(matcher.find(&stands.join(" \u{2026} ")).found, Found::Exact);
        let long: Vec<String> = (0..1000).map(|i| format!("w{} x{i}", i * 3)).collect();
        let m = matcher.find(&long.join(" \u{2026} "));
        assert_eq!(m.found, Found::Gone, "{m:?}");
        assert_eq!(split_quote(&"[".repeat(100_000)).len(), 1);
        assert!(
            begun.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            begun.elapsed()
        );
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

        /// The search for parts in order before issue 17: every place of each part within its
        /// gap tried in turn (every place: overlapping ones too).
        fn backtracking(text: &str, parts: &[(&[u8], usize)]) -> Option<(usize, Range<usize>)> {
            fn places(hay: &[u8], needle: &[u8]) -> Vec<usize> {
                (0..hay.len())
                    .filter(|&i| hay[i..].starts_with(needle))
                    .collect()
            }
            fn follow(text: &str, at: usize, parts: &[(&[u8], usize)]) -> Option<usize> {
                let Some(((part, gap), rest)) = parts.split_first() else {
                    return Some(at);
                };
                let end = (at + gap + part.len()).min(text.len());
                for found in places(text.as_bytes().get(at..end)?, part) {
                    let (start, end) = (at + found, at + found + part.len());
                    if at_word_edges(text, start, end)
                        && let Some(last) = follow(text, end, rest)
                    {
                        return Some(last);
                    }
                }
                None
            }
            let ((first, _), rest) = parts.split_first()?;
            let mut count = 0;
            let mut passage = None;
            for start in memchr::memmem::find_iter(text.as_bytes(), first) {
                if at_word_edges(text, start, start + first.len())
                    && let Some(end) = follow(text, start + first.len(), rest)
                {
                    count += 1;
                    passage.get_or_insert(start..end);
                }
            }
            passage.map(|p| (count, p))
        }

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

        /// The text of `words` (indices into `vocabulary` and `joins`, each word followed by
        /// its join), with where each word starts and ends.
        fn joined(
            words: &[(usize, usize)],
            vocabulary: &[&str],
            joins: &[&str],
        ) -> (String, Vec<usize>, Vec<usize>) {
            let mut text = String::new();
            let (mut starts, mut ends) = (Vec::new(), Vec::new());
            for &(w, j) in words {
                starts.push(text.len());
                text.push_str(vocabulary[w]);
                ends.push(text.len());
                text.push_str(joins[j]);
            }
            (text, starts, ends)
        }

        proptest! {
            /// A quote cut from a text's passage with an ellipsis (any form) stands; with one
            /// word changed after the ellipsis, it is altered, however many words the ellipsis
            /// stands for (within its bound), and the passage shows the changed part.
            #[test]
            fn a_passage_cut_with_an_ellipsis_stands_and_altered_is_altered(
                words in proptest::collection::vec((0..WORDS.len(), 0..JOINS.len()), 40..64),
                from in 0usize..100,
                (before, skipped, after) in (4usize..8, 0usize..20, 4usize..8),
                changed in 0usize..100,
                form in 0..ELLIPSES.len(),
            ) {
                // The text's own ellipses would cut the quote into more parts.
                let joins: Vec<String> = JOINS.iter().map(|j| j.replace('\u{2026}', ";")).collect();
                let joins: Vec<&str> = joins.iter().map(String::as_str).collect();
                let (text, starts, ends) = joined(&words, WORDS, &joins);
                let first = from % (words.len() - (before + skipped + after));
                let resumed = first + before + skipped;
                let last = resumed + after - 1;
                let head = &text[starts[first]..ends[first + before - 1]];
                let tail = &text[starts[resumed]..ends[last]];
                let ellipsis = ELLIPSES[form];
                let quote = format!("{head} {ellipsis} {tail}");
                let matcher = Matcher::new(&text);
                let m = matcher.find(&quote);
                prop_assert!(
                    matches!(m.found, Found::Exact | Found::Canonical),
                    "{quote:?} not found in {text:?}: {m:?}"
                );
                // One word after the ellipsis changed to one the text does not have.
                let at = resumed + changed % after;
                let altered = format!(
                    "{head} {ellipsis} {}zebra{}",
                    &text[starts[resumed]..starts[at]],
                    &text[ends[at]..ends[last]],
                );
                let m = matcher.find(&altered);
                prop_assert_eq!(m.found, Found::Approximate, "{:?} in {:?}: {:?}", altered, text, m);
                prop_assert!(m.similarity >= ALTERED_AT);
                let passage = matcher.passage(&m).unwrap_or_default();
                prop_assert!(passage.contains(ellipsis), "{:?}: {:?}", altered, passage);
            }

            /// The search for parts where they stand finds what trying every place of every
            /// part in turn finds (the search before issue 17, exponential on hostile quotes):
            /// the same count of places and the same first passage.
            #[test]
            fn parts_stand_where_a_backtracking_search_finds_them(
                words in proptest::collection::vec((0..6usize, 0..3usize), 1..40),
                parts in proptest::collection::vec((0usize..40, 1usize..3, 0..5usize), 1..5),
            ) {
                let vocabulary = ["a", "b", "the", "41", "41.5", "c"];
                let (text, starts, ends) = joined(&words, &vocabulary, &[" ", ", ", ". "]);
                let parts: Vec<(&[u8], usize)> = parts
                    .iter()
                    .map(|&(at, len, gap)| {
                        let at = at % words.len();
                        let last = (at + len - 1).min(words.len() - 1);
                        (
                            &text.as_bytes()[starts[at]..ends[last]],
                            [0, 2, 6, 20, ELLIPSIS_GAP][gap],
                        )
                    })
                    .collect();
                let mut parts = parts;
                parts[0].1 = 0;
                prop_assert_eq!(stands(&text, &parts), backtracking(&text, &parts));
            }

            #[test]
            fn any_passage_retyped_is_found(
                words in proptest::collection::vec((0..WORDS.len(), 0..JOINS.len()), 8..60),
                from in 0usize..100,
                len in 2usize..12,
                seed in any::<u64>(),
            ) {
                let (text, starts, ends) = joined(&words, WORDS, JOINS);
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
