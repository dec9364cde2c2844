//! Reading HTML into paragraphs: from a parsed tree, or token by token when a page is too deep
//! or too large for a tree.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

use crate::text::html;

/// Elements whose text extraction leaves out, besides those no reader sees
/// ([`html::UNSEEN`]): page furniture, embedded frames and graphics, form controls.
const FURNITURE_ELEMENTS: &[&str] = &[
    "nav", "header", "footer", "aside", "form", "iframe", "svg", "button", "select", "head",
];

/// Whether extraction leaves an element's text out.
pub(super) fn is_skipped(name: &str) -> bool {
    html::is_unseen(name) || FURNITURE_ELEMENTS.contains(&name)
}

/// The offset of the first start tag that opens an element more than `limit` deep, by a rough
/// tokenizer linear in the text: comments and raw text are skipped, a tag ends at the next `>`.
/// Within `<svg>` and `<math>`, `<x/>` closes itself, as the parser has it there (and only
/// there). It may over-count (an element left unclosed that the parser closes itself), never
/// under-count what the parser builds.
///
/// The HTML tree builder's time is quadratic in nesting depth (every start tag looks down the
/// stack of open elements for a scope), and tree walks that recurse overflow the stack: a page
/// or document nested past the limit is not parsed into a tree at all.
pub fn html_nesting_exceeds(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    // The elements open, by their names' spans in `text`: an end tag closes the innermost one of
    // its name and everything inside it, and one that matches nothing is ignored, as the parser
    // does (counting every end tag let `<div></x>` repeated nest without limit unseen). Never
    // longer than `limit`, so an end tag costs at most `limit` comparisons.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut foreign = 0usize;
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'<', &bytes[i..]) {
        let at = i + found;
        let rest = &bytes[at + 1..];
        if let Some(comment) = rest.strip_prefix(b"!--") {
            // `<!-->` and `<!--->` are whole (empty) comments to the parser.
            let end = if comment.starts_with(b">") {
                0
            } else if comment.starts_with(b"->") {
                1
            } else {
                memchr::memmem::find(comment, b"-->")? + 3
            };
            i = at + 4 + end;
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = at + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            i = at + 1;
            continue;
        }
        let name = &text[name_start..name_start + name_len];
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
        let end = memchr::memchr(b'>', &bytes[name_start..]).map(|e| name_start + e)?;
        i = end + 1;
        let foreign_element = is(&["svg", "math"]);
        if closing {
            let matching = open
                .iter()
                .rposition(|&(s, l)| text[s..s + l].eq_ignore_ascii_case(name));
            if let Some(at) = matching {
                open.truncate(at);
                if foreign_element {
                    foreign = foreign.saturating_sub(1);
                }
            }
            continue;
        }
        if is(&["plaintext"]) && foreign == 0 {
            return None;
        }
        let self_closed = bytes[..end].ends_with(b"/") && (foreign > 0 || foreign_element);
        if self_closed || is(html::VOID) || is(html::OPTIONAL_END) {
            continue;
        }
        if foreign_element {
            foreign += 1;
        }
        open.push((name_start, name_len));
        if open.len() > limit {
            return Some(at);
        }
        // Inside `<svg>` or `<math>` these are ordinary elements, not raw text.
        if is(html::RAW_TEXT) && foreign == 0 {
            // Skip to this element's end tag (`</name` and then no further name character),
            // which the loop then reads.
            let mut from = i;
            loop {
                // No end tag: the rest is the element's text.
                let close = memchr::memmem::find(&bytes[from..], b"</")?;
                let tag = from + close + 2;
                let named = bytes
                    .get(tag..tag + name_len)
                    .is_some_and(|t| t.eq_ignore_ascii_case(name.as_bytes()));
                let whole = !bytes
                    .get(tag + name_len)
                    .is_some_and(u8::is_ascii_alphanumeric);
                if named && whole {
                    i = from + close;
                    break;
                }
                from = tag;
            }
        }
    }
    None
}

/// Selectors every extraction uses, parsed once (they are constants, so parsing cannot fail).
pub(super) static BODY: std::sync::LazyLock<Selector> =
    std::sync::LazyLock::new(|| Selector::parse("body").unwrap_or_else(|_| unreachable!()));
static TITLE: std::sync::LazyLock<Selector> =
    std::sync::LazyLock::new(|| Selector::parse("title").unwrap_or_else(|_| unreachable!()));
static ARTICLE: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| {
    Selector::parse("article, main").unwrap_or_else(|_| unreachable!())
});

/// Basic HTML-to-text: the document title, then the text of the body as paragraphs, leaving out
/// scripts, styles and page furniture (nav, header, footer, aside, forms).
pub fn html_to_text(html: &str) -> (Option<String>, String) {
    html_to_text_in(html, None)
}

/// As [`html_to_text`], taking the text from the first element `content` matches when given
/// (nothing, if it matches none: the page no longer has that content).
pub(super) fn html_to_text_in(html: &str, content: Option<&Selector>) -> (Option<String>, String) {
    if html_nesting_exceeds(html, MAX_PAGE_NESTING).is_some() {
        return text_without_tree(html);
    }
    read_document(&Html::parse_document(html), content)
}

/// Deepest nesting of a page that is parsed into a tree. 11,237 real HTML pages on a developer
/// machine (documentation of many projects) all nest under 64 by [`html_nesting_exceeds`];
/// the tree builder's quadratic cost at this depth is a few seconds for a page at the
/// default size limit, where 20,000 levels took minutes.
pub const MAX_PAGE_NESTING: usize = 256;

/// The text of a page read from its tokens, without building a tree: for a page too deeply
/// nested to parse into one ([`MAX_PAGE_NESTING`]) or too large for a tree and the article
/// extractor to stay within memory ([`LARGE_PAGE`]). It reads as [`html_to_text`] does, element
/// by element into paragraphs, leaving out the same furniture, but from the whole body (with no
/// tree, `<article>` cannot be looked for first). Memory stays near the size of the text and
/// time linear in the page.
pub(super) fn text_without_tree(html: &str) -> (Option<String>, String) {
    use html5ever::tokenizer::{BufferQueue, Tokenizer, TokenizerOpts};
    let reader = TokenReader::default();
    let input = BufferQueue::default();
    input.push_back(html.into());
    let tokenizer = Tokenizer::new(reader, TokenizerOpts::default());
    // The sink never asks to stop for a script, so feeding takes the whole input at once.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut state = tokenizer.sink.state.take();
    state.reader.flush();
    let title = Some(collapse(&state.title)).filter(|t| !t.is_empty());
    (title, state.reader.paragraphs.join("\n\n"))
}

/// Pages over this many bytes of HTML are read by `text_without_tree`: a tree of a 19 MB page
/// of 300,000 paragraphs, and the article extractor's own second tree, took 726 MB.
pub const LARGE_PAGE: usize = 4 << 20;

/// Most furniture elements [`TokenState::skipping`] keeps open.
const MAX_SKIPPING: usize = 256;

#[derive(Default)]
struct TokenReader {
    state: std::cell::RefCell<TokenState>,
}

#[derive(Default)]
struct TokenState {
    reader: Reader,
    title: String,
    in_title: bool,
    /// Furniture elements open around the current token (their names, innermost last); at
    /// most [`MAX_SKIPPING`] are kept, so an end tag costs a bounded look.
    skipping: Vec<html5ever::LocalName>,
    /// Inside `<head>`, which the tree builder closes at the first tag that cannot be in it
    /// (`</head>` is optional).
    in_head: bool,
    /// Open `<a>` elements.
    links: usize,
}

impl html5ever::tokenizer::TokenSink for TokenReader {
    type Handle = ();

    fn process_token(
        &self,
        token: html5ever::tokenizer::Token,
        _line: u64,
    ) -> html5ever::tokenizer::TokenSinkResult<()> {
        use html5ever::tokenizer::states::RawKind;
        use html5ever::tokenizer::{Token, TokenSinkResult};
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        match token {
            Token::CharacterTokens(text) => {
                if state.in_title {
                    state.title.push_str(&text);
                } else if state.skipping.is_empty() && !state.in_head {
                    state.reader.current.push_str(&text);
                    state.reader.count(&text, state.links > 0);
                }
            }
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let start = tag.kind == html5ever::tokenizer::StartTag;
                if name == "head" {
                    state.in_head = start;
                    return TokenSinkResult::Continue;
                }
                if start && state.in_head && !html::HEAD_CONTENT.contains(&name) {
                    state.in_head = false;
                }
                if name == "title" {
                    state.in_title = start && state.title.is_empty();
                    // The tokenizer reads a title's content as text (the tree builder would
                    // tell it to; here the reader does).
                    return if start {
                        TokenSinkResult::RawData(RawKind::Rcdata)
                    } else {
                        TokenSinkResult::Continue
                    };
                }
                let raw = match name {
                    "script" => Some(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" => Some(RawKind::Rawtext),
                    "textarea" => Some(RawKind::Rcdata),
                    _ => None,
                };
                if is_skipped(name) {
                    if start && !tag.self_closing {
                        if state.skipping.len() < MAX_SKIPPING {
                            state.skipping.push(tag.name.clone());
                        }
                    } else if !start
                        && let Some(at) = state.skipping.iter().rposition(|n| *n == tag.name)
                    {
                        state.skipping.truncate(at);
                    }
                } else if state.skipping.is_empty() {
                    if name == "br" {
                        state.reader.current.push(' ');
                    } else if html::starts_paragraph_in_extraction(name) {
                        state.reader.flush();
                        state.reader.heading = start && name == "h1";
                    } else if start && is_cell(name) {
                        state.reader.next_cell();
                    } else if name == "a" && (!start || links_away(&tag.attrs)) {
                        state.links = if start {
                            state.links + 1
                        } else {
                            state.links.saturating_sub(1)
                        };
                    }
                }
                if start
                    && !tag.self_closing
                    && let Some(kind) = raw
                {
                    return TokenSinkResult::RawData(kind);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The text of one element, read into paragraphs as a page is.
pub(super) fn read_element(element: ElementRef<'_>) -> String {
    let mut reader = Reader::default();
    reader.walk(element);
    reader.flush();
    reader.paragraphs.join("\n\n")
}

/// The page's `<title>`, whitespace collapsed, if it has a non-empty one.
pub(super) fn page_title(document: &Html) -> Option<String> {
    document
        .select(&TITLE)
        .next()
        .map(|t| collapse(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty())
}

/// The page's title and its text read into paragraphs: the text of the first element
/// `content` matches when given, else of the `<article>` or `<main>` with the most text, else
/// of the body.
pub(super) fn read_document(
    document: &Html,
    content: Option<&Selector>,
) -> (Option<String>, String) {
    let title = page_title(document);
    let mut reader = Reader::default();
    if let Some(content) = content {
        if let Some(root) = document.select(content).next() {
            reader.walk(root);
            reader.flush();
        }
        return (title, reader.paragraphs.join("\n\n"));
    }
    // The `<article>` or `<main>` with the most text (the first one can be an empty shell or a
    // teaser), else the body.
    let root = document
        .select(&ARTICLE)
        .take(MAX_CANDIDATES)
        .map(|e| (visible_text_len(e), e))
        .filter(|(len, _)| *len > 0)
        .fold(
            None,
            |best: Option<(usize, ElementRef<'_>)>, (len, e)| match best {
                Some((most, _)) if most >= len => best,
                _ => Some((len, e)),
            },
        )
        .map(|(_, e)| e)
        .or_else(|| document.select(&BODY).next())
        .unwrap_or_else(|| document.root_element());
    reader.walk(root);
    reader.flush();
    (title, reader.paragraphs.join("\n\n"))
}

/// Reads elements into paragraphs, one per block element.
#[derive(Default)]
struct Reader {
    paragraphs: Vec<String>,
    current: String,
    /// How much of `current` is the text of links to other pages.
    link_text: usize,
    /// How much of that link text reads as URLs (cited sources).
    url_text: usize,
    /// Words of `current` outside links.
    plain_words: usize,
    /// Whether `current` is a headline, kept even when it is all link.
    heading: bool,
}

impl Reader {
    /// Reads what `root` holds, by the edges of its subtree in document order: an explicit
    /// traversal, so a page of any nesting depth costs no stack.
    fn walk(&mut self, root: ElementRef<'_>) {
        // Open `<a>` elements around the current node.
        let mut links = 0usize;
        // A subtree left out (a script, a style, furniture, a `<br>`'s), until it closes.
        let mut skipping = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) if skipping.is_none() && node.id() != root.id() => {
                    match node.value() {
                        Node::Text(text) => {
                            self.current.push_str(text);
                            self.count(text, links > 0);
                        }
                        Node::Element(e) => {
                            let name = e.name();
                            if is_skipped(name) {
                                skipping = Some(node.id());
                            } else if name == "br" {
                                self.current.push(' ');
                                skipping = Some(node.id());
                            } else {
                                if html::starts_paragraph_in_extraction(name) {
                                    self.flush();
                                    self.heading = name == "h1";
                                } else if is_cell(name) {
                                    self.next_cell();
                                }
                                links += usize::from(
                                    name == "a" && e.attr("href").is_some_and(leads_away),
                                );
                            }
                        }
                        _ => {}
                    }
                }
                Edge::Open(_) => {}
                Edge::Close(node) => {
                    if skipping.is_some() {
                        if skipping == Some(node.id()) {
                            skipping = None;
                        }
                        continue;
                    }
                    if node.id() == root.id() {
                        continue;
                    }
                    if let Node::Element(e) = node.value() {
                        links -= usize::from(
                            e.name() == "a" && e.attr("href").is_some_and(leads_away) && links > 0,
                        );
                        if html::starts_paragraph_in_extraction(e.name()) {
                            self.flush();
                        }
                    }
                }
            }
        }
    }

    /// Starts a table cell: cells of a row are one paragraph, kept apart by ` | ` (read
    /// together, a row `1 | Jane Doe | 504 | 11` became `1Jane Doe50411`).
    fn next_cell(&mut self) {
        if !self.current.trim().is_empty() {
            self.current.push_str(" | ");
        }
    }

    /// Tallies text just added to the current paragraph, inside a link to another page or not.
    fn count(&mut self, text: &str, in_link: bool) {
        if in_link {
            let text = text.trim();
            self.link_text += text.len();
            if reads_as_url(text) {
                self.url_text += text.len();
            }
        } else {
            self.plain_words += text.split_whitespace().count();
        }
    }

    /// Ends the current paragraph. One that is mostly link text ("Read more: …", a list of
    /// stories, a card's linked headline) is navigation, not article, and is dropped.
    fn flush(&mut self) {
        let text = collapse(&self.current);
        // A sentence whose subject is a link is not a link, nor is a cited URL.
        let link_dense = self.link_text * 2 > text.len()
            && self.plain_words <= MAX_PLAIN_WORDS
            && self.url_text * 2 <= self.link_text
            && !self.heading;
        if !text.is_empty() && !link_dense {
            self.paragraphs.push(text);
        }
        self.current.clear();
        self.link_text = 0;
        self.url_text = 0;
        self.plain_words = 0;
        self.heading = false;
    }
}

pub(super) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Most words outside links that a block made of links may hold ("Read more:", "Related:",
/// "See also").
pub(super) const MAX_PLAIN_WORDS: usize = 3;

/// Whether `href` leads to another page (not a place on this one, not a script).
pub(super) fn leads_away(href: &str) -> bool {
    let href = href.trim();
    !href.is_empty()
        && !href.starts_with('#')
        && !href
            .get(..11)
            .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"))
}

/// Whether a start tag's attributes hold an `href` that [`leads_away`].
fn links_away(attrs: &[html5ever::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| &*a.name.local == "href" && leads_away(&a.value))
}

/// Whether a link's text is a URL (or a bare domain name and path) rather than words.
pub(super) fn reads_as_url(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && !text.contains(char::is_whitespace)
        && (text.starts_with("http://")
            || text.starts_with("https://")
            || text.starts_with("www.")
            || (text.contains('.') && text.contains('/')))
}

/// Most `<article>` and `<main>` elements weighed to find the page's content (a listing page
/// can have hundreds; each is weighed by a walk of its text).
const MAX_CANDIDATES: usize = 64;

/// Bytes of text under `element` that a reader sees (scripts, styles and furniture left out).
fn visible_text_len(element: ElementRef<'_>) -> usize {
    let mut len = 0;
    let mut skipping = None;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) if skipping.is_none() => match node.value() {
                Node::Text(text) => len += text.trim().len(),
                Node::Element(e) if is_skipped(e.name()) => skipping = Some(node.id()),
                _ => {}
            },
            Edge::Close(node) if skipping == Some(node.id()) => skipping = None,
            _ => {}
        }
    }
    len
}

/// Whether an element is a table cell.
fn is_cell(name: &str) -> bool {
    name == "td" || name == "th"
}
