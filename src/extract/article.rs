//! The article of a news page: furniture removed, the extractor (trafilatura) run, its output
//! read into paragraphs, with a fallback when it finds too little.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::prose;
use super::reader::{
    MAX_PLAIN_WORDS, collapse, leads_away, page_title, read_document, read_element, reads_as_url,
    text_without_tree,
};
use super::{LARGE_PAGE, MAX_PAGE_NESTING, html_nesting_exceeds};
use crate::text::html;

/// The article of an HTML page: trafilatura finds the main content and drops navigation, ads,
/// related links, comments and other furniture; the tree of what it kept is then read into
/// paragraphs (its plain text joins them all into one line). Pages where it finds too little
/// fall back to the whole page read as [`super::reader::html_to_text`] reads it.
pub fn article_text(html: &str) -> (Option<String>, String) {
    if html.len() > LARGE_PAGE || html_nesting_exceeds(html, MAX_PAGE_NESTING).is_some() {
        return text_without_tree(html);
    }
    let options = trafilatura::Options::default()
        .with_exclude_comments(true)
        // Links are left out: with them, the extractor lost the text after a link inside a
        // `<div>` paragraph and moved linked names between sentences. Blocks that are mostly
        // links are found on the page's own markup instead (`remove_furniture`).
        .with_links(false)
        .with_fallback(false)
        // Only the title and the author are read (vendor/trafilatura/PATCHES.md, 5): the date,
        // site name, categories, tags and licence were a sixth of extracting a news page.
        .with_lean_metadata(true);
    // Page furniture that changes on every load (sponsored blocks, promos, related and
    // recommended stories, share bars, tickers) is removed before extraction: measured on the
    // templates in benches/extraction.rs, trafilatura kept it in the article on 3 layouts of 4.
    let cleaned = || {
        let mut document = Html::parse_document(html);
        remove_furniture(&mut document);
        document
    };
    let mut document = cleaned();
    let page_title = page_title(&document);
    // The extractor walks the page recursively: a page nested deeper than any real one (a
    // hostile one, 20,000 `<div>`s deep) would overflow the stack and take the whole run down.
    // Such a page is read by the reader below, which keeps no stack.
    if depth(&document) > MAX_EXTRACTOR_DEPTH {
        return (
            page_title,
            without_legal_tail(read_document(&document, None).1),
        );
    }
    // The page read without its furniture, for when the extractor finds nothing or gives up:
    // read only then (from the page parsed and cleaned again, as the extractor takes this
    // tree), since reading it for every page was a tenth of extracting one.
    let furniture_free = || read_document(&cleaned(), None).1;
    // Handed over as a tree: serialising the cleaned page and parsing it again was a sixth of
    // extracting it.
    merge_adjacent_text(&mut document);
    // Where most of the page's prose is, read now: the extractor takes the tree.
    let headline = headline(&document);
    let main = prose::main_block(&document).and_then(|block| {
        let element = scraper::ElementRef::wrap(document.tree.get(block.id)?)?;
        Some((read_element(element), block.words))
    });
    let tree = trafilatura::dom::Document::from_html(document);
    match trafilatura::extract_document_tree(tree, &options) {
        Ok((result, content)) if !content.body_is_blank() => {
            // Read as the tree the extractor built: serialising it and parsing it again was a
            // fifth of extracting a page, for the same text.
            let (_, text) = read_document(&content.into_html(), None);
            // No date is taken from the extractor (lean metadata does not even look for one):
            // it guessed one from a copyright line ("(c) 2024" became 2024-01-01), which would
            // change every New Year.
            let byline = byline(&result.metadata.author);
            let title = Some(result.metadata.title)
                .filter(|t| !t.trim().is_empty())
                .or(page_title);
            let text = if text.is_empty() {
                furniture_free()
            } else if may_be_whole_page(&text) {
                let fallback = furniture_free();
                if whole_page_fallback(&text, &fallback) {
                    fallback
                } else {
                    text
                }
            } else {
                text
            };
            let text = match main {
                Some((main, words)) if prose::dropped(&text, &main, words) => main,
                Some((main, _)) => prose::with_gaps_filled(text, &main, headline.as_deref()),
                None => text,
            };
            let text = with_headline(without_legal_tail(text), headline);
            (title.clone(), with_byline(text, title.as_deref(), byline))
        }
        _ => (page_title, without_legal_tail(furniture_free())),
    }
}

/// The byline the extractor found in the page's metadata ("By <author>"): trafilatura keeps it
/// out of the article text, but a changed author is a change worth reporting.
fn byline(author: &str) -> Option<String> {
    let author = collapse(author);
    (!author.is_empty()).then(|| format!("By {author}"))
}

/// Longest headline put before the text: a longer `<h1>` is a page that marks up more than
/// its headline as one.
const MAX_HEADLINE: usize = 300;

/// The text of the page's first `<h1>` outside navigation, side content and footers (those
/// removed as furniture are gone already).
fn headline(document: &Html) -> Option<String> {
    static H1: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| {
        scraper::Selector::parse("h1").unwrap_or_else(|_| unreachable!())
    });
    document
        .select(&H1)
        .find(|h1| {
            !h1.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| matches!(e.name(), "nav" | "aside" | "footer"))
            })
        })
        .map(|h1| collapse(&h1.text().collect::<String>()))
        .filter(|h| !h.is_empty() && h.len() <= MAX_HEADLINE)
}

/// Puts the headline first when the text does not hold it: the extractor keeps it out as
/// metadata, and an edited headline is an edit.
fn with_headline(text: String, headline: Option<String>) -> String {
    match headline {
        Some(headline) if !text.contains(&headline) => {
            if text.is_empty() {
                headline
            } else {
                format!("{headline}\n\n{text}")
            }
        }
        _ => text,
    }
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
    "dropdown",
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

/// ARIA landmark roles of page furniture: site navigation, the site's banner and footer, side
/// content, search, menus.
const FURNITURE_ROLES: &[&str] = &[
    "banner",
    "complementary",
    "contentinfo",
    "menu",
    "menubar",
    "navigation",
    "search",
];

/// Words that, before a furniture word in a class or id, say it is not furniture:
/// `non-ad-column`, `no-ads`.
const NEGATIONS: &[&str] = &["non", "no", "not", "without"];

fn is_furniture(element: &scraper::node::Element) -> bool {
    if KEPT.contains(&element.name()) {
        return false;
    }
    if element
        .attr("role")
        .is_some_and(|role| FURNITURE_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()))
    {
        return true;
    }
    let names = element
        .attr("class")
        .into_iter()
        .flat_map(str::split_whitespace)
        .chain(element.id());
    names.into_iter().any(|name| {
        let name = name.to_ascii_lowercase();
        // "most-read" and "read-more" only mean furniture whole; their parts are common words.
        if FURNITURE.contains(&name.replace(['-', '_'], "").as_str()) {
            return true;
        }
        let parts: Vec<&str> = name.split(['-', '_']).collect();
        parts.iter().enumerate().any(|(i, part)| {
            FURNITURE.contains(part) && !(i > 0 && NEGATIONS.contains(&parts[i - 1]))
        })
    })
}

/// Whether an element is hidden from readers by its markup: `hidden`, `aria-hidden="true"`,
/// or an inline style of `display: none` or `visibility: hidden` (pop-up cards, menus, text
/// for scripts to show). Such text is not what a reader of the page reads.
fn is_hidden(element: &scraper::node::Element) -> bool {
    if element.attr("hidden").is_some()
        || element
            .attr("aria-hidden")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    element.attr("style").is_some_and(|style| {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

/// Whether an element names the article's author: a byline is often a link to the author's
/// page ("By <a>Jane Doe</a>"), and a changed author is a change.
fn is_byline(element: &scraper::node::Element) -> bool {
    element.attr("rel").is_some_and(|r| r.contains("author"))
        || element
            .attr("itemprop")
            .is_some_and(|p| p.contains("author"))
        || element
            .attr("class")
            .into_iter()
            .flat_map(str::split_whitespace)
            .chain(element.id())
            .any(|name| {
                let name = name.to_ascii_lowercase();
                name.contains("byline") || name.contains("author")
            })
}

/// Phrases of a company's registration in the small print, which come with its numbers.
const REGISTRATION: &[&str] = &[
    "company number",
    "company registration",
    "registered in england",
    "registered office",
];

/// Names of the links of a page's foot ("Privacy Policy | Terms of Use").
const FOOT_LINKS: &[&str] = &[
    "cookie policy",
    "privacy policy",
    "terms and conditions",
    "terms of service",
    "terms of use",
];

/// Whether a paragraph is legal small print: a copyright line with its year, "all rights
/// reserved", an ISSN, a company's registration with its number, or a row of the foot's links.
/// Their years and numbers change on their own (every January, with a reprint), so at the end
/// of a page's text they are furniture, even outside a `<footer>`. A sentence that only
/// mentions copyright or a privacy policy ("Copyright lawyers said …") is not.
fn is_legal(paragraph: &str) -> bool {
    static YEAR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(19|20)\d\d\b").unwrap_or_else(|_| unreachable!())
    });
    static ISSN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\bissn\b[^0-9]{0,12}\d{4}-\d{3}[\dx]\b")
            .unwrap_or_else(|_| unreachable!())
    });
    if paragraph.len() > 400 {
        return false;
    }
    let lower = paragraph.to_lowercase();
    let head: String = lower.chars().take(40).collect();
    let copyright_line = (lower.starts_with('©')
        || lower.starts_with("(c)")
        || lower.starts_with("copyright ©")
        || lower.starts_with("copyright (c)"))
        && YEAR.is_match(&head)
        || lower.starts_with("copyright") && YEAR.is_match(&head) && !lower.contains(". ");
    let foot_links = lower.split_whitespace().count() <= 12
        && !lower.contains(['.', '?', '!'])
        && FOOT_LINKS.iter().any(|name| lower.contains(name));
    copyright_line
        || lower.contains("all rights reserved")
        || ISSN.is_match(paragraph)
        || REGISTRATION.iter().any(|phrase| lower.contains(phrase))
            && paragraph.chars().any(|c| c.is_ascii_digit())
        || foot_links
}

/// `text` without the legal small print at its end (it keeps at least one paragraph).
fn without_legal_tail(text: String) -> String {
    let mut paragraphs: Vec<&str> = text.split("\n\n").collect();
    let whole = paragraphs.len();
    while paragraphs.len() > 1 && paragraphs.last().is_some_and(|p| is_legal(p)) {
        paragraphs.pop();
    }
    if paragraphs.len() == whole {
        text
    } else {
        paragraphs.join("\n\n")
    }
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

/// What an element holds, summed as the document is walked (each element's tally is added to
/// its parent's as it closes, so the walk is linear whatever the nesting).
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Bytes of visible text.
    text: usize,
    /// Bytes of visible text inside `<p>` elements.
    paragraph_text: usize,
    /// Bytes of text inside links to other pages.
    link_text: usize,
    /// Bytes of link text that reads as a URL (a cited source, not a link to a story).
    url_text: usize,
    /// Words of text outside links.
    plain_words: usize,
    /// Links to other pages.
    links: usize,
    /// Block elements inside.
    blocks: usize,
    /// Holds the headline (`<h1>`) or the marked article body (`itemprop="articleBody"`).
    holds_article: bool,
}

impl Tally {
    fn add(&mut self, child: &Tally) {
        self.text += child.text;
        self.paragraph_text += child.paragraph_text;
        self.link_text += child.link_text;
        self.url_text += child.url_text;
        self.plain_words += child.plain_words;
        self.links += child.links;
        self.blocks += child.blocks;
        self.holds_article |= child.holds_article;
    }
}

/// Elements a link list is made of: a paragraph, a list item, a heading other than the
/// headline, a division or a definition, with no block inside.
const LINK_BLOCKS: &[&str] = &[
    "dd", "div", "dt", "h2", "h3", "h4", "h5", "h6", "li", "p", "section",
];

/// Whether an element is a link and little else: most of its text is links to other pages and
/// at most three words are not ("Read more: …", a list item that is a story's headline, a row
/// of related links). A sentence whose subject is a link is not, nor a cited URL.
fn is_link_block(name: &str, tally: &Tally) -> bool {
    LINK_BLOCKS.contains(&name)
        && tally.blocks == 0
        && tally.links > 0
        && !tally.holds_article
        && tally.link_text * 2 > tally.text
        && tally.plain_words <= MAX_PLAIN_WORDS
        && tally.url_text * 2 <= tally.link_text
}

/// Detaches what a reader of the page does not read as the article: furniture (by role,
/// class or id), hidden elements, and blocks that are links and little else. An element that
/// holds the headline or the marked article body, or most of the page's text or paragraphs,
/// is never furniture (a whole article marked "sponsored", or a paywalled article whose body
/// has the class `paywall`, is still the article).
fn remove_furniture(document: &mut Html) {
    let mut open: Vec<Tally> = Vec::new();
    // Open links to other pages, and open `<p>`s, around the current node.
    let (mut in_link, mut in_paragraph) = (0usize, 0usize);
    // An element whose text is never seen (a script), until it closes.
    let mut unseen = None;
    let mut all = Vec::new();
    for edge in document.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if unseen.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(element) => {
                        let name = element.name();
                        if html::is_unseen(name) {
                            unseen = Some(node.id());
                            continue;
                        }
                        in_link += usize::from(
                            name == "a" && element.attr("href").is_some_and(leads_away),
                        );
                        in_paragraph += usize::from(name == "p");
                        open.push(Tally::default());
                    }
                    Node::Text(text) => {
                        if let Some(top) = open.last_mut() {
                            top.text += text.len();
                            if in_paragraph > 0 {
                                top.paragraph_text += text.len();
                            }
                            if in_link > 0 {
                                top.link_text += text.len();
                                if reads_as_url(text) {
                                    top.url_text += text.len();
                                }
                            } else {
                                top.plain_words += text.split_whitespace().count();
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                let Node::Element(element) = node.value() else {
                    continue;
                };
                if unseen.is_some() {
                    if unseen == Some(node.id()) {
                        unseen = None;
                    }
                    continue;
                }
                let name = element.name();
                let mut tally = open.pop().unwrap_or_default();
                if name == "a" && element.attr("href").is_some_and(leads_away) {
                    in_link = in_link.saturating_sub(1);
                    tally.links += 1;
                }
                if name == "p" {
                    in_paragraph = in_paragraph.saturating_sub(1);
                }
                tally.holds_article |= name == "h1"
                    || element
                        .attr("itemprop")
                        .is_some_and(|p| p.split_whitespace().any(|p| p == "articleBody"));
                let link_block = is_link_block(name, &tally) && !is_byline(element);
                all.push(Seen {
                    id: node.id(),
                    tally,
                    furniture: is_furniture(element) || is_hidden(element),
                    link_block,
                    prose_with_links: !link_block
                        && tally.links > 0
                        && tally.blocks == 0
                        && PROSE_BLOCKS.contains(&name),
                });
                if html::is_block(name) {
                    tally.blocks += 1;
                }
                if let Some(parent) = open.last_mut() {
                    parent.add(&tally);
                }
            }
        }
    }
    let Some(page) = all.last().map(|seen| seen.tally) else {
        return;
    };
    let mut doomed = Vec::new();
    let mut unwrap = Vec::new();
    for seen in all {
        let tally = seen.tally;
        let article = tally.holds_article
            || tally.text * 5 >= page.text * 2
            || tally.paragraph_text * 2 > page.paragraph_text;
        if (seen.furniture && !article) || seen.link_block {
            doomed.push(seen.id);
        } else if seen.prose_with_links
            && let Some(block) = document.tree.get(seen.id)
        {
            unwrap.extend(
                block
                    .descendants()
                    .filter(|node| {
                        node.value().as_element().is_some_and(|e| {
                            e.name() == "a" && e.attr("href").is_some_and(leads_away)
                        })
                    })
                    .map(|node| node.id()),
            );
        }
    }
    for id in doomed {
        if let Some(mut node) = document.tree.get_mut(id) {
            node.detach();
        }
    }
    // The links of sentences are unwrapped, their text kept in place: the extractor's own
    // link-density test, which cannot tell a sentence from a list of links, dropped
    // sentences whose subject is a link and paragraphs citing a URL.
    for id in unwrap {
        let children: Vec<_> = document
            .tree
            .get(id)
            .map(|a| a.children().map(|c| c.id()).collect())
            .unwrap_or_default();
        // A link removed above (hidden, or furniture itself) has no parent to unwrap into.
        if let Some(mut a) = document.tree.get_mut(id)
            && a.parent().is_some()
        {
            for child in children {
                a.insert_id_before(child);
            }
            a.detach();
        }
    }
}

/// An element as [`remove_furniture`] saw it.
struct Seen {
    id: ego_tree::NodeId,
    tally: Tally,
    /// Furniture by role, class or id, or hidden.
    furniture: bool,
    /// Links and little else ([`is_link_block`]).
    link_block: bool,
    /// A paragraph (or the like, with no block inside) that holds links and is not a link
    /// block: a sentence, whose links are unwrapped.
    prose_with_links: bool,
}

/// Elements whose links are unwrapped when they read as prose. List items are not: a related
/// story's headline with a line of summary reads as prose too, and the extractor's link
/// density is what keeps such lists out.
const PROSE_BLOCKS: &[&str] = &[
    "blockquote",
    "dd",
    "div",
    "dt",
    "figcaption",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "section",
    "td",
];

/// Merges each run of adjacent text nodes into one, as a parser leaves a page: removing an
/// element between two texts, or unwrapping a link, leaves them side by side, and the
/// extractor reads an element's text (and the text after it) as one node each.
fn merge_adjacent_text(document: &mut Html) {
    let parents: Vec<ego_tree::NodeId> = document
        .tree
        .root()
        .descendants()
        .filter(|n| n.has_children())
        .map(|n| n.id())
        .collect();
    for parent in parents {
        let Some(node) = document.tree.get(parent) else {
            continue;
        };
        // Runs of two or more text children: the first, and those to fold into it.
        let mut runs: Vec<(ego_tree::NodeId, Vec<ego_tree::NodeId>)> = Vec::new();
        let mut previous_text = false;
        for child in node.children() {
            let is_text = child.value().is_text();
            if is_text && previous_text {
                if let Some((_, rest)) = runs.last_mut() {
                    rest.push(child.id());
                }
            } else if is_text {
                runs.push((child.id(), Vec::new()));
            }
            previous_text = is_text;
        }
        for (first, rest) in runs.into_iter().filter(|(_, rest)| !rest.is_empty()) {
            let mut joined = String::new();
            for id in &rest {
                if let Some(Node::Text(text)) = document.tree.get(*id).map(|n| n.value()) {
                    joined.push_str(text);
                }
                if let Some(mut node) = document.tree.get_mut(*id) {
                    node.detach();
                }
            }
            if let Some(mut node) = document.tree.get_mut(first)
                && let Node::Text(text) = node.value()
            {
                text.text.push_slice(&joined);
            }
        }
    }
}

/// Whether the extractor gave up and returned the whole page as one block: a single paragraph,
/// where reading the page without its furniture finds more paragraphs, or fewer words (so
/// navigation or footer text leaked in).
fn whole_page_fallback(extracted: &str, furniture_free: &str) -> bool {
    let words = |t: &str| t.split_whitespace().count();
    // An empty reading of the page is no better than what the extractor found.
    words(furniture_free) > 0
        && may_be_whole_page(extracted)
        && (paragraphs(furniture_free) > 1 || words(extracted) > words(furniture_free))
}

/// Whether [`whole_page_fallback`] could hold of `extracted`, before the page is read for it.
fn may_be_whole_page(extracted: &str) -> bool {
    paragraphs(extracted) <= 1
}

/// How many paragraphs a text has.
fn paragraphs(text: &str) -> usize {
    text.split("\n\n").filter(|p| !p.trim().is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::article_text;

    /// A news page around `body` (the article's own markup): a site header and navigation, a
    /// sidebar of story links and a footer, as real templates have them.
    fn page(body: &str) -> String {
        format!(
            r#"<!doctype html><html><head><title>Bridge plan flawed, engineers say</title></head>
<body><header><a href="/">Daily Example</a><nav><a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<div class="layout"><div class="sidebar-widget"><ul><li><a href="/a">Another story</a></li><li><a href="/b">A third story</a></li></ul></div>
<article><h1>Bridge plan flawed, engineers say</h1>
<p>The plan to rebuild the old river bridge is flawed, three engineering firms told the council on Monday, and the work should stop until a new survey is made.</p>
{body}
<p>The council will meet again on Thursday to decide whether the work goes on, a spokesman said after the meeting ended late in the evening.</p>
</article></div>
<div class="site-info">© 2024 Example News Ltd. All rights reserved. Registered in England, company number 01234567.</div>
</body></html>"#
        )
    }

    fn text_of(body: &str) -> String {
        article_text(&page(body)).1
    }

    #[test]
    fn a_sentence_whose_subject_is_a_link_is_kept() {
        let text = text_of(
            r#"<p><a href="/people/jane-doe">Jane Doe</a>, the council's chief engineer, said the reports had been ignored for two years.</p>"#,
        );
        assert!(
            text.contains("Jane Doe, the council's chief engineer, said the reports"),
            "{text}"
        );
    }

    #[test]
    fn text_after_a_link_in_a_division_is_kept() {
        let text = text_of(
            r#"<div>The council replied with a statement <a href="/statement">published here</a> and then added that the survey would be paid for by the city.</div>"#,
        );
        assert!(
            text.contains("published here and then added that the survey"),
            "{text}"
        );
    }

    #[test]
    fn blocks_that_are_links_and_little_else_are_dropped() {
        let text = text_of(
            r#"<p>Read more: <a href="/other">Mayor opens new library in the east of the city</a></p>
<ul><li><a href="/r1">Council approves the budget for next year</a></li><li><a href="/r2">Storm closes the coast road for a day</a></li></ul>"#,
        );
        assert!(!text.contains("Mayor opens"), "{text}");
        assert!(!text.contains("Storm closes"), "{text}");
    }

    #[test]
    fn a_cited_url_and_a_linked_heading_on_the_page_are_kept() {
        let text = text_of(
            r##"<h2><a href="#reports">The three reports</a></h2>
<p>The reports ran to four hundred pages and were written over eighteen months by the three firms.</p>
<p>Source: <a href="https://example.org/reports/bridge-2024.pdf">https://example.org/reports/bridge-2024.pdf</a></p>"##,
        );
        assert!(text.contains("The three reports"), "{text}");
        assert!(
            text.contains("https://example.org/reports/bridge-2024.pdf"),
            "{text}"
        );
    }

    #[test]
    fn hidden_pop_up_text_is_removed_and_its_paragraph_kept() {
        let text = text_of(
            r#"<p>Engineers led by <span class="person">Ann Lee<span class="card" style="display: none">Ann Lee is a structural engineer with 30 years of experience.</span></span> found cracks in two of the five piers of the bridge.</p>"#,
        );
        assert!(
            text.contains("Engineers led by Ann Lee found cracks in two of the five piers"),
            "{text}"
        );
        assert!(!text.contains("30 years of experience"), "{text}");
    }

    /// A link that is removed itself (hidden, or named as furniture) inside a sentence whose
    /// other links are unwrapped: found on a real page (WCXB 4852), where it panicked.
    #[test]
    fn a_removed_link_inside_a_sentence_is_not_unwrapped() {
        let text = text_of(
            r#"<p>The <a href="/council">council</a> met on Monday <a href="/share" class="share-link">Share</a> and <a href="/x" hidden>more</a> decided to wait for the survey before any work.</p>"#,
        );
        assert!(
            text.contains("The council met on Monday and decided"),
            "{text}"
        );
    }

    #[test]
    fn table_cells_are_kept_apart() {
        let text = text_of(
            r#"<table><tr><th>Pier</th><th>Cracks</th><th>Depth (mm)</th></tr><tr><td>1</td><td>4</td><td>504</td></tr><tr><td>2</td><td>11</td><td>320</td></tr></table>"#,
        );
        assert!(text.contains("1 | 4 | 504"), "{text}");
        assert!(!text.contains("14504"), "{text}");
    }

    #[test]
    fn legal_small_print_at_the_end_is_not_article() {
        let text = text_of("");
        assert!(
            text.ends_with("after the meeting ended late in the evening."),
            "{text}"
        );
        assert!(!text.contains("company number"), "{text}");
        for print in [
            "© 2024 Example News Ltd",
            "Copyright 2025 Example Media Group. All rights reserved.",
            "ISSN 0261-3077",
            "Privacy Policy | Terms of Use | Cookie Policy",
            "Example Ltd, registered in England, company number 01234567",
        ] {
            assert!(super::is_legal(print), "{print}");
        }
    }

    /// A closing sentence that only mentions copyright or a privacy policy is article text
    /// (found in review: such a last paragraph was dropped, and its edits unseen).
    #[test]
    fn a_sentence_about_copyright_is_not_small_print() {
        for sentence in [
            "Copyright lawyers said the ruling would be appealed by the city.",
            "The company changed its privacy policy on Monday, and users were told by email.",
            "(c) The third option, the council said, was never costed.",
            "ISSN numbers identify journals, the librarian explained.",
        ] {
            assert!(!super::is_legal(sentence), "{sentence}");
        }
        let text =
            text_of("<p>Copyright lawyers said the ruling would be appealed by the city.</p>");
        assert!(text.contains("Copyright lawyers said"), "{text}");
    }

    #[test]
    fn a_negated_furniture_word_or_a_paywalled_body_is_still_the_article() {
        let html = page("")
            .replace(
                "<article>",
                r#"<article><div class="non-ad-column"><div class="paywall">"#,
            )
            .replace("</article>", "</div></div></article>");
        let text = article_text(&html).1;
        assert!(
            text.contains("three engineering firms told the council"),
            "{text}"
        );
        assert!(text.contains("meet again on Thursday"), "{text}");
    }

    /// Issue 17, a real page (WCXB dev 0495, see `fixtures/README.md`): the extractor kept the
    /// blogroll's summaries beside a blog post and dropped the post, whose first lines are in
    /// a `<div>` and no `<p>`. The page's main block of prose is read instead.
    #[test]
    fn a_post_beside_a_blogroll_is_the_article() {
        let html = include_str!("fixtures/wcxb-0495.html");
        let text = article_text(html).1;
        for passage in [
            "After reading a post from someone who nearly lost all their data",
            "The next biggest place where I have things is on the server",
            "I think both of these are too unlikely to be worth mitigating though.",
        ] {
            assert!(text.contains(passage), "{passage}\n\n{text}");
        }
    }

    /// Issue 17: the extractor keeps the headline out of the text as metadata, so an edit of
    /// the visible `<h1>` alone went unseen (readability/wikia, tmz-1; WCXB 0368, 4668).
    #[test]
    fn the_headline_is_the_first_paragraph_once() {
        let text = text_of("");
        assert!(
            text.starts_with("Bridge plan flawed, engineers say\n\nThe plan to rebuild"),
            "{text}"
        );
        assert_eq!(text.matches("Bridge plan flawed").count(), 1, "{text}");
        let in_nav = page("").replace("<nav>", "<nav><h1>Daily Example</h1>");
        assert!(!article_text(&in_nav).1.contains("Daily Example"));
    }

    /// Issue 17: a share menu in each forum post (WCXB 0576, `<li class="dropdown-item">`
    /// with links to no page) was kept, and reordering it read as an edit.
    #[test]
    fn a_dropdown_menu_is_furniture() {
        let html = include_str!("fixtures/wcxb-0495.html").replace(
            "<div class=\"pt\">",
            r#"<div class="pt"><ul class="dropdown-menu"><li class="dropdown-item"><a>Copy Post</a></li><li class="dropdown-item"><a>WhatsApp</a></li></ul>"#,
        );
        let text = article_text(&html).1;
        assert!(text.contains("After reading a post from someone"), "{text}");
        assert!(!text.contains("Copy Post"), "{text}");
    }

    #[test]
    fn an_empty_article_element_does_not_hide_the_page() {
        let html = r#"<html><body><article></article><main><p>The only paragraph of this page says what the page is about, in enough words to be read.</p><p>A second paragraph follows it with a few more words about the same subject.</p></main></body></html>"#;
        let text = article_text(html).1;
        assert!(text.contains("The only paragraph of this page"), "{text}");
    }
}

/// The guard of [`super::REVISION`]: extraction's output on a set of pages, hashed. When a
/// change to extraction changes it, this fails until the revision is raised (so that text
/// hashes saved by the previous extraction are not reused) and the digest updated.
#[cfg(test)]
mod revision {
    use super::article_text;

    /// The digest of the output of revision [`super::super::REVISION`].
    const PINNED: (u32, &str) = (
        9,
        "be7ba82a6181e3cd5ebfe9565a08ffe599253effc737e88dc62349364c341f43",
    );

    fn pages() -> Vec<String> {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        let mut names: Vec<_> = std::fs::read_dir(&seeds)
            .expect("seeds")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        names.sort();
        let mut pages = Vec::new();
        for name in names {
            let text = std::fs::read_to_string(&name).expect("seed");
            let mut paragraphs = text.split("\n\n").filter(|p| !p.trim().is_empty());
            let title = paragraphs.next().unwrap_or_default().trim().to_owned();
            let body: String = paragraphs
                .enumerate()
                .map(|(i, p)| match i % 7 {
                    3 => format!("<p><a href=\"/person\">Someone</a> said: {p}</p>\n"),
                    4 => format!("<p>{p}</p>\n<p>The report: <a href=\"/r.pdf\">https://example.org/r{i}.pdf</a></p>\n"),
                    5 => format!(
                        "<div class=\"related\"><a href=\"/r{i}\">{title}</a></div>\n<p>{p}</p>\n"
                    ),
                    6 => format!(
                        "<table><tr><td>{i}</td><td>{}</td></tr></table><p>{p}</p>\n",
                        p.len()
                    ),
                    _ => format!("<p>{p}</p>\n"),
                })
                .collect();
            pages.push(format!(
                "<html><head><title>{title}</title></head><body><nav><a href=\"/\">Home</a></nav>\
                 <main><article><h1>{title}</h1>{body}<p>Copyright lawyers said the ruling would be appealed.</p></article></main>\
                 <footer>© 2026 Example</footer><p>Copyright 2026 Example Ltd. All rights reserved.</p></body></html>"
            ));
        }
        // A headline the extractor keeps out of the text (issue 17, as on readability/tmz-1).
        pages.push(format!(
            "<html><head><title>Dress stolen</title></head><body><div class=\"breadcrumb-row\">\
             <h1 itemprop=\"headline\" class=\"post-title\">Lupita's pearl dress stolen</h1></div>\
             <div class=\"content\">{}</div></body></html>",
            "<p>The dress was taken out of her room at the hotel, sources told the paper on Monday.</p>"
                .repeat(6)
        ));
        // Headings and a caption the extractor drops between paragraphs it keeps (issue 17,
        // as on readability/dev418).
        let paragraph = "<p>The survey of the bridge found cracks in two of the five piers, and \
                         the council was told the work should stop until repairs are made.</p>";
        pages.push(format!(
            "<html><head><title>Survey</title></head><body><h1>Survey</h1>{paragraph}\
             <h2>Single &lt;figure&gt;</h2><figure><img src=\"a.jpg\" alt=\"A pier\">\
             <figcaption>The third pier, seen from the east bank</figcaption></figure>{paragraph}\
             <h2>Costs</h2>{paragraph}{paragraph}</body></html>"
        ));
        // A real page whose article only the main block of prose finds (issue 17).
        pages.push(include_str!("fixtures/wcxb-0495.html").to_owned());
        // The same with a share menu in the post (as on WCXB 0576).
        pages.push(include_str!("fixtures/wcxb-0495.html").replace(
            "<div class=\"pt\">",
            "<div class=\"pt\"><ul class=\"dropdown-menu\"><li class=\"dropdown-item\"><a>Copy Post</a>\
             </li><li class=\"dropdown-item\"><a>WhatsApp</a></li></ul>",
        ));
        pages
    }

    #[test]
    fn extraction_output_is_pinned() {
        let mut all = String::new();
        for page in pages() {
            let (title, text) = article_text(&page);
            all.push_str(&format!("{title:?}\n{text}\n\u{0}\n"));
        }
        let digest = crate::hash::sha256_hex(all.as_bytes());
        assert_eq!(
            (super::super::REVISION, digest.as_str()),
            PINNED,
            "extraction's output changed: raise extract::REVISION by one and pin the new digest"
        );
    }
}

/// Extraction of a whole corpus of real pages, for the real-page evaluation's quick loop
/// (`benches/realpages/score.py` scores the output against the corpus' ground truth):
/// `DUMP_IN=/work/corpora DUMP_OUT=DIR cargo test --lib dump_corpus -- --ignored`.
#[cfg(test)]
mod dump_corpus {
    /// Writes the text extracted from every `DUMP_IN/<corpus>/<page>/source.html` to
    /// `DUMP_OUT/<corpus>-<page>.txt`.
    #[test]
    #[ignore = "reads a corpus named by DUMP_IN"]
    fn dump_corpus() {
        let (Some(input), Some(output)) =
            (std::env::var_os("DUMP_IN"), std::env::var_os("DUMP_OUT"))
        else {
            return;
        };
        for corpus in std::fs::read_dir(&input).expect("DUMP_IN").flatten() {
            let Ok(pages) = std::fs::read_dir(corpus.path()) else {
                continue;
            };
            for page in pages.flatten() {
                let Ok(bytes) = std::fs::read(page.path().join("source.html")) else {
                    continue;
                };
                let text = crate::extract::extract(&bytes, Some("text/html"), None).text;
                let name = format!(
                    "{}-{}.txt",
                    corpus.file_name().to_string_lossy(),
                    page.file_name().to_string_lossy()
                );
                std::fs::write(std::path::Path::new(&output).join(name), text).expect("DUMP_OUT");
            }
        }
    }
}
