//! The element of a page that holds most of its prose: where a reader finds the article when
//! the extractor keeps a short block instead (chapters in `<div>`s without `<p>`, a blog post
//! beside a blogroll, a guide in list items).

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::reader::{is_skipped, leads_away};
use crate::text::html;

/// Fewest words outside links a run of text needs to count as prose: menus, buttons, dates
/// and captions of one line are not.
const MIN_PROSE_WORDS: usize = 6;

/// Fewest words of prose a page needs for its prose to be looked for at all.
const MIN_PAGE_PROSE_WORDS: usize = 80;

/// The element of a page that holds most of its prose.
#[derive(Debug, Clone, Copy)]
pub(super) struct MainBlock {
    pub id: NodeId,
    /// Words of prose inside.
    pub words: usize,
}

/// The innermost element holding two thirds of the page's prose (runs of text between block
/// boundaries with [`MIN_PROSE_WORDS`] words outside links, less than half of them links).
/// `None` when the page has little prose.
pub(super) fn main_block(document: &Html) -> Option<MainBlock> {
    let mut open: Vec<MainBlock> = Vec::new();
    let mut run = Run::default();
    let mut in_link = 0usize;
    let mut skipping = None;
    let mut closed: Vec<MainBlock> = Vec::new();
    for edge in document.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(element) => {
                        let name = element.name();
                        if is_skipped(name) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if html::starts_paragraph_in_extraction(name) {
                            run.end(open.last_mut());
                        }
                        in_link += usize::from(
                            name == "a" && element.attr("href").is_some_and(leads_away),
                        );
                        open.push(MainBlock {
                            id: node.id(),
                            words: 0,
                        });
                    }
                    Node::Text(text) => run.add(text, in_link > 0),
                    _ => {}
                }
            }
            Edge::Close(node) => {
                let Node::Element(element) = node.value() else {
                    continue;
                };
                if skipping.is_some() {
                    if skipping == Some(node.id()) {
                        skipping = None;
                    }
                    continue;
                }
                let name = element.name();
                if html::starts_paragraph_in_extraction(name) {
                    run.end(open.last_mut());
                }
                if name == "a" && element.attr("href").is_some_and(leads_away) {
                    in_link = in_link.saturating_sub(1);
                }
                let Some(block) = open.pop() else {
                    continue;
                };
                closed.push(block);
                if let Some(parent) = open.last_mut() {
                    parent.words += block.words;
                }
            }
        }
    }
    let page = closed.last()?.words;
    if page < MIN_PAGE_PROSE_WORDS {
        return None;
    }
    // Elements close innermost first, so among equals the first is the deepest.
    closed
        .into_iter()
        .filter(|block| block.words * 3 >= page * 2)
        .fold(None, |best: Option<MainBlock>, block| match best {
            Some(least) if least.words <= block.words => best,
            _ => Some(block),
        })
}

/// Text between two block boundaries.
#[derive(Default)]
struct Run {
    plain_words: usize,
    plain_bytes: usize,
    link_bytes: usize,
}

impl Run {
    fn add(&mut self, text: &str, in_link: bool) {
        if in_link {
            self.link_bytes += text.trim().len();
        } else {
            self.plain_bytes += text.trim().len();
            self.plain_words += text.split_whitespace().count();
        }
    }

    /// Credits the run to the element it is in, when it is prose, and starts the next.
    fn end(&mut self, element: Option<&mut MainBlock>) {
        if self.plain_words >= MIN_PROSE_WORDS
            && self.link_bytes < self.plain_bytes
            && let Some(block) = element
        {
            block.words += self.plain_words;
        }
        *self = Run::default();
    }
}

/// Whether the extractor's `text` dropped the page's main block of prose (`main`, read, of
/// `main_words` words of prose): it holds less than half of the block's words, and either the
/// block holds three times as many words (the extractor kept a byline, notes, a blogroll or a
/// contact form beside it) or the text is almost all from the block (it kept one part of
/// it). A page whose article is shorter than a list of teasers beside it is neither: the
/// extractor's text is not a third of the list and lies outside it.
pub(super) fn dropped(text: &str, main: &str, main_words: usize) -> bool {
    let words = text.split_whitespace().count();
    coverage(main, text) < HELD && (main_words >= words * 3 || coverage(text, main) >= PART)
}

/// Share of the main block's words the extractor's text holds when it kept the block.
const HELD: f64 = 0.5;

/// Share of the extractor's words found in the main block when its text is part of the block.
const PART: f64 = 0.9;

/// `text` with the paragraphs of `main` (the main block, read) that it dropped between two it
/// kept put back in their place: headings, captions, `<div>` and list paragraphs inside the
/// article that the extractor left out, whose edits went unseen. What lies before the first
/// or after the last paragraph the extractor kept is left out: that is where furniture is.
///
/// The `headline` never anchors a gap: a photo's credit or a byline stands between it and
/// the body.
pub(super) fn with_gaps_filled(text: String, main: &str, headline: Option<&str>) -> String {
    let kept: Vec<&str> = text.split("\n\n").collect();
    // For each paragraph of `main`: the paragraph of `text` holding it, or `None`.
    let mut cursor = 0;
    let mut found: Vec<(&str, Option<usize>)> = Vec::new();
    for paragraph in main.split("\n\n") {
        let at = kept[cursor..]
            .iter()
            .position(|k| *k == paragraph)
            .map(|i| cursor + i);
        // A short paragraph inside a longer one is no place in the text ("News" in a
        // sentence): it neither anchors nor counts as dropped.
        let long = paragraph
            .split_whitespace()
            .nth(MIN_PROSE_WORDS - 1)
            .is_some();
        let at = at.or_else(|| {
            long.then(|| kept[cursor..].iter().position(|k| holds(k, paragraph)))
                .flatten()
                .map(|i| cursor + i)
        });
        // Held earlier in the text (the extractor moved it, or matched it twice): no gap.
        if at.is_none()
            && kept[..cursor]
                .iter()
                .chain(kept.get(cursor..).into_iter().flatten().filter(|_| !long))
                .any(|k| {
                    if long {
                        holds(k, paragraph)
                    } else {
                        k.contains(paragraph)
                    }
                })
        {
            continue;
        }
        if let Some(at) = at {
            cursor = at;
            // Only prose anchors a gap: a short line the extractor kept may stand apart
            // from the body, as the headline does.
            if !long || headline == Some(paragraph) {
                continue;
            }
        }
        found.push((paragraph, at));
    }
    // Paragraphs to put after each kept paragraph, in order.
    let mut after: Vec<Vec<&str>> = vec![Vec::new(); kept.len()];
    let mut previous: Option<usize> = None;
    let mut pending: Vec<&str> = Vec::new();
    for (paragraph, at) in found {
        match at {
            Some(at) => {
                // A long run of dropped paragraphs is a block the extractor left out whole
                // (teasers, a player's menus), not a paragraph it missed.
                if let Some(previous) = previous
                    && pending.len() <= MAX_GAP
                {
                    after[previous].append(&mut pending);
                }
                pending.clear();
                previous = Some(at);
            }
            None if previous.is_some() && is_worded(paragraph) && !is_stamp(paragraph) => {
                pending.push(paragraph)
            }
            None => {}
        }
    }
    if after.iter().all(Vec::is_empty) {
        return text;
    }
    let mut out = String::with_capacity(text.len() * 2);
    for (paragraph, extra) in kept.iter().zip(after) {
        for p in std::iter::once(*paragraph).chain(extra) {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(p);
        }
    }
    out
}

/// Whether a paragraph is a short line with figures: a date, a time, a counter ("Dec 17,
/// 2025", "12 comments"), which change between loads on their own and are left out.
fn is_stamp(paragraph: &str) -> bool {
    paragraph
        .split_whitespace()
        .nth(MIN_PROSE_WORDS - 1)
        .is_none()
        && paragraph.chars().any(|c| c.is_ascii_digit())
}

/// Most paragraphs put back in one gap.
const MAX_GAP: usize = 4;

/// Bytes of a paragraph's start and end looked for in the extractor's text: it may drop a
/// link or a word inside a paragraph it keeps, which does not make the paragraph dropped.
const ENDS: usize = 40;

/// Whether the extractor's paragraph `kept` holds `paragraph` (or its start or end).
fn holds(kept: &str, paragraph: &str) -> bool {
    if kept.contains(paragraph) {
        return true;
    }
    if paragraph.len() <= ENDS {
        return false;
    }
    let mut start = ENDS;
    while !paragraph.is_char_boundary(start) {
        start += 1;
    }
    let mut end = paragraph.len() - ENDS;
    while !paragraph.is_char_boundary(end) {
        end -= 1;
    }
    kept.contains(&paragraph[..start]) || kept.contains(&paragraph[end..])
}

/// Whether a paragraph has words to read (three letters or more), not only figures or marks.
fn is_worded(paragraph: &str) -> bool {
    paragraph
        .chars()
        .filter(|c| c.is_alphabetic())
        .take(3)
        .count()
        == 3
}

/// How much of `main`'s words `text` holds, from 0 to 1, each occurrence counted. Words are
/// compared as they are: both texts are read from the same page.
fn coverage(main: &str, text: &str) -> f64 {
    // foldhash, seeded per process (the words are a page's): std's SipHash made this a seventh
    // of extracting a page.
    let mut held = std::collections::HashSet::with_capacity_and_hasher(
        text.len() / 6,
        foldhash::fast::RandomState::default(),
    );
    held.extend(text.split_whitespace());
    let (mut found, mut all) = (0usize, 0usize);
    for word in main.split_whitespace() {
        all += 1;
        found += usize::from(held.contains(word));
    }
    if all == 0 {
        1.0
    } else {
        found as f64 / all as f64
    }
}

#[cfg(test)]
mod tests {
    use scraper::Html;

    use super::{dropped, main_block, with_gaps_filled};

    /// A sentence of fifteen words, none of them in another sentence.
    fn sentence(i: usize) -> String {
        let words: Vec<String> = (0..15).map(|j| format!("w{i}x{j}")).collect();
        format!("{}. ", words.join(" "))
    }

    #[test]
    fn the_main_block_is_the_innermost_element_with_most_of_the_prose() {
        let chapter: String = (0..40)
            .map(|i| format!("<div>{}</div>", sentence(i)))
            .collect();
        let html = format!(
            r#"<html><body><nav><a href="/a">Home</a> <a href="/b">Chapters</a></nav>
<div id="page"><div class="notes"><p>A short note from the author before the chapter.</p></div>
<div id="chapter">{chapter}</div><ul><li><a href="/next">Next chapter</a></li></ul></div></body></html>"#
        );
        let document = Html::parse_document(&html);
        let block = main_block(&document).expect("a page of prose");
        let element = document
            .tree
            .get(block.id)
            .and_then(|n| n.value().as_element().map(|e| e.id()));
        assert_eq!(element, Some(Some("chapter")));
        // Runs of a few words (the note above has 9, so it counts) and links are not prose.
        assert_eq!(block.words, 40 * 15);
        let little = Html::parse_document(
            "<html><body><p>Too little prose here to look for.</p></body></html>",
        );
        assert!(main_block(&little).is_none());
    }

    #[test]
    fn a_text_that_kept_a_short_block_dropped_the_main_one() {
        let main: String = (0..30).map(sentence).collect();
        let words = main.split_whitespace().count();
        // A byline and a note, outside the chapter.
        assert!(dropped(
            "By Jane Doe. A note from the author.",
            &main,
            words
        ));
        // Part of the block: the first of two chunks.
        let part: String = (0..12).map(sentence).collect();
        assert!(dropped(&part, &main, words));
        // The whole block, or most of it.
        let most: String = (0..25).map(sentence).collect();
        assert!(!dropped(&most, &main, words));
        // An article of its own beside a longer list of teasers: more than a third of the
        // list's words, and outside it.
        let article = "Officials said on Tuesday that the bridge would reopen in May, after a \
            survey found the damage to its piers smaller than feared, and traffic would return \
            to both lanes within weeks. "
            .repeat(12);
        assert!(!dropped(&article, &main, words));
    }

    /// Issue 17: headings, captions and `<div>` paragraphs inside the article that the
    /// extractor left out (readability/dev418's `<h2>`s, heise's `<figcaption>`s) are put
    /// back between the paragraphs it kept; furniture before and after is not.
    #[test]
    fn paragraphs_dropped_between_kept_ones_are_put_back() {
        let (one, two, three) = (sentence(1), sentence(2), sentence(3));
        let main = format!(
            "Share this story\n\n{one}\n\nA heading of the article\n\nA photo caption, credit \
             Jane Doe\n\n{two}\n\n{three}\n\nRead more stories"
        );
        let text = format!("{one}\n\n{two}\n\n{three}");
        assert_eq!(
            with_gaps_filled(text.clone(), &main, None),
            format!(
                "{one}\n\nA heading of the article\n\nA photo caption, credit Jane Doe\n\n{two}\n\n{three}"
            )
        );
        // The headline anchors nothing: a photo's credit after it is no gap (the noisy
        // layouts of benches/pages.rs rotate it).
        let headline = "A headline of seven words for the story";
        let main = format!("{headline}\n\nPhotograph: AP\n\n{one}\n\n{two}");
        let kept = format!("{headline}\n\n{one}\n\n{two}");
        assert_eq!(with_gaps_filled(kept.clone(), &main, Some(headline)), kept);
        // A long run dropped whole is a block the extractor meant to leave out.
        let teasers: Vec<String> = (0..5).map(|i| format!("Teaser number {i}")).collect();
        let main = format!("{one}\n\n{}\n\n{two}", teasers.join("\n\n"));
        let text = format!("{one}\n\n{two}");
        assert_eq!(with_gaps_filled(text.clone(), &main, None), text);
        // Figures, a date line (as on WCXB 0083), and a short paragraph that a kept one
        // holds, are no gap.
        let main = format!("{one}\n\n12 | 34\n\nDec 17, 2025\n\nw2x3 w2x4\n\n{two}");
        assert_eq!(with_gaps_filled(text.clone(), &main, None), text);
    }
}
