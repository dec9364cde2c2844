//! The article of a news page: furniture removed, the extractor (trafilatura) run, its output
//! read into paragraphs, with a fallback when it finds too little.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::reader::{BODY, collapse, html_to_text, read_document, text_without_tree};
use super::{LARGE_PAGE, MAX_PAGE_NESTING, html_nesting_exceeds};

/// The article of an HTML page: trafilatura finds the main content and drops navigation, ads,
/// related links, comments and other furniture; its cleaned HTML is then read into paragraphs
/// (its plain text joins them all into one line). Pages where it finds too little fall back to
/// [`html_to_text`].
pub fn article_text(html: &str) -> (Option<String>, String) {
    if html.len() > LARGE_PAGE || html_nesting_exceeds(html, MAX_PAGE_NESTING).is_some() {
        return text_without_tree(html);
    }
    let options = trafilatura::Options::default()
        .with_exclude_comments(true)
        // Links are kept so that the reader below can drop paragraphs that are mostly links.
        .with_links(true)
        .with_fallback(false);
    // Page furniture that changes on every load (sponsored blocks, promos, related and
    // recommended stories, share bars, tickers) is removed before extraction: measured on the
    // templates in benches/extraction.rs, trafilatura kept it in the article on 3 layouts of 4.
    let mut document = Html::parse_document(html);
    remove_furniture(&mut document);
    let (page_title, fallback) = read_document(&document, None);
    // The extractor walks the page recursively: a page nested deeper than any real one (a
    // hostile one, 20,000 `<div>`s deep) would overflow the stack and take the whole run down.
    // Such a page is read by the reader below, which keeps no stack.
    if depth(&document) > MAX_EXTRACTOR_DEPTH {
        return (page_title, fallback);
    }
    let cleaned = document.html();
    match trafilatura::extract(&cleaned, &options) {
        Ok(result) if !result.content_html.trim().is_empty() => {
            let (_, text) = html_to_text(&result.content_html);
            // The extractor's date is left out: it guesses one from a copyright line ("(c) 2024"
            // became 2024-01-01), which would change every New Year.
            let byline = byline(&result.metadata.author);
            let title = Some(result.metadata.title)
                .filter(|t| !t.trim().is_empty())
                .or(page_title);
            let text = if text.is_empty() || whole_page_fallback(&text, &fallback) {
                fallback
            } else {
                text
            };
            (title.clone(), with_byline(text, title.as_deref(), byline))
        }
        _ => (page_title, fallback),
    }
}

/// The byline the extractor found in the page's metadata ("By <author>"): trafilatura keeps it
/// out of the article text, but a changed author is a change worth reporting.
fn byline(author: &str) -> Option<String> {
    let author = collapse(author);
    (!author.is_empty()).then(|| format!("By {author}"))
}

/// Puts the byline after the headline when the text starts with it, else first.
fn with_byline(text: String, title: Option<&str>, byline: Option<String>) -> String {
    let Some(byline) = byline else { return text };
    if text.contains(&byline) {
        return text;
    }
    match text.split_once("\n\n") {
        Some((first, rest)) if title.is_some_and(|t| t.contains(first) || first.contains(t)) => {
            format!("{first}\n\n{byline}\n\n{rest}")
        }
        _ if text.is_empty() => byline,
        _ => format!("{byline}\n\n{text}"),
    }
}

/// Words that, as a part of an element's class or id (split on `-` and `_`), mark furniture
/// rather than article: the names sites and ad networks give these blocks.
const FURNITURE: &[&str] = &[
    "ad",
    "ads",
    "adslot",
    "advert",
    "adverts",
    "advertisement",
    "advertising",
    "banner",
    "breadcrumb",
    "breadcrumbs",
    "comment",
    "comments",
    "consent",
    "cookie",
    "cookies",
    "mostread",
    "newsletter",
    "outbrain",
    "paywall",
    "popular",
    "popup",
    "promo",
    "promoted",
    "promotion",
    "readmore",
    "recommendations",
    "recommended",
    "related",
    "share",
    "sharing",
    "signup",
    "social",
    "sponsor",
    "sponsored",
    "subscribe",
    "subscription",
    "taboola",
    "teaser",
    "teasers",
    "ticker",
    "trending",
];

/// Elements never removed as furniture, whatever their class: they hold the article itself.
const KEPT: &[&str] = &["html", "body", "main", "article", "h1"];

fn is_furniture(element: &scraper::node::Element) -> bool {
    if KEPT.contains(&element.name()) {
        return false;
    }
    let names = element
        .attr("class")
        .into_iter()
        .flat_map(str::split_whitespace)
        .chain(element.id());
    names.into_iter().any(|name| {
        let name = name.to_ascii_lowercase();
        // "most-read" and "read-more" only mean furniture whole; their parts are common words.
        FURNITURE.contains(&name.replace(['-', '_'], "").as_str())
            || name.split(['-', '_']).any(|part| FURNITURE.contains(&part))
    })
}

/// Deepest nesting handed to the article extractor. Real pages measured in the extraction
/// benchmark nest under 40 deep; the extractor's recursion holds far more than this on a
/// worker thread's stack.
const MAX_EXTRACTOR_DEPTH: usize = 512;

/// How deep the document's elements nest, found without recursion.
fn depth(document: &Html) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for edge in document.tree.root().traverse() {
        match edge {
            Edge::Open(_) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Edge::Close(_) => depth = depth.saturating_sub(1),
        }
    }
    deepest
}

/// Detaches furniture elements, except any holding most of the page's text (a whole article
/// marked "sponsored" is still the article).
fn remove_furniture(document: &mut Html) {
    let total = document
        .select(&BODY)
        .next()
        .map_or(0, |e| e.text().map(str::len).sum::<usize>());
    // Every element's text length in one pass (the text of each open element is summed as it
    // closes): asking each furniture element for its text was quadratic in the nesting depth.
    let mut open: Vec<usize> = Vec::new();
    let mut doomed = Vec::new();
    for edge in document.root_element().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(_) => open.push(0),
                Node::Text(text) => {
                    if let Some(top) = open.last_mut() {
                        *top += text.len();
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(element) = node.value() {
                    let len = open.pop().unwrap_or(0);
                    if let Some(parent) = open.last_mut() {
                        *parent += len;
                    }
                    if is_furniture(element) && len * 5 < total * 2 {
                        doomed.push(node.id());
                    }
                }
            }
        }
    }
    for id in doomed {
        if let Some(mut node) = document.tree.get_mut(id) {
            node.detach();
        }
    }
}

/// Whether the extractor gave up and returned the whole page as one block: a single paragraph,
/// where reading the page without its furniture finds more paragraphs, or fewer words (so
/// navigation or footer text leaked in).
fn whole_page_fallback(extracted: &str, furniture_free: &str) -> bool {
    let paragraphs = |t: &str| t.split("\n\n").filter(|p| !p.trim().is_empty()).count();
    let words = |t: &str| t.split_whitespace().count();
    paragraphs(extracted) <= 1
        && (paragraphs(furniture_free) > 1 || words(extracted) > words(furniture_free))
}
