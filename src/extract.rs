//! Turning captured bytes into text: media type, charset and (basic) HTML-to-text.
//!
//! The raw bytes are never changed; this module only derives the UTF-8 text that is stored
//! beside them. Charset is decided in the order browsers use: byte-order mark, the HTTP
//! `Content-Type` charset, an HTML `<meta charset>`, then statistical detection (`chardetng`).

use ego_tree::iter::Edge;
use encoding_rs::Encoding;
use scraper::{ElementRef, Html, Node, Selector};

pub use crate::model::CharsetSource;
use crate::text::html;

/// The text derived from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The media type (`text/html`, `text/plain`, …) without parameters.
    pub media_type: String,
    /// The charset's WHATWG name (`UTF-8`, `windows-1252`, …); `None` for binary content.
    pub charset: Option<String>,
    /// How the charset was decided.
    pub charset_source: CharsetSource,
    /// The title stated by the document, when it states one.
    pub title: Option<String>,
    /// The extracted text: for HTML the readable text, for text files the decoded text.
    pub text: String,
}

/// A source's own extraction rules, for pages the general extractor gets wrong.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    selector: Option<(String, Selector)>,
    ignore: Vec<regex::Regex>,
}

/// A rule that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The CSS selector is invalid.
    #[error("invalid CSS selector {selector:?}: {detail}")]
    Selector {
        /// The selector given.
        selector: String,
        /// The parser's reason.
        detail: String,
    },
    /// The ignore pattern is not a valid regular expression.
    #[error("invalid ignore pattern {pattern:?}: {detail}")]
    Pattern {
        /// The pattern given.
        pattern: String,
        /// The parser's reason, on one line.
        detail: String,
    },
}

impl Rules {
    /// Compiles a content selector and patterns of text to ignore when comparing.
    pub fn new(selector: Option<&str>, ignore: &[String]) -> Result<Rules, RuleError> {
        let selector = selector
            .map(|css| {
                Selector::parse(css)
                    .map(|s| (css.to_owned(), s))
                    .map_err(|e| RuleError::Selector {
                        selector: css.to_owned(),
                        // Some parser messages span lines and end with the error's kind,
                        // which is the part worth showing.
                        detail: e.to_string().lines().last().unwrap_or_default().to_owned(),
                    })
            })
            .transpose()?;
        let ignore = ignore
            .iter()
            .map(|p| {
                regex::Regex::new(p).map_err(|e| RuleError::Pattern {
                    pattern: p.clone(),
                    // The parser draws a caret diagram over several lines; its last line
                    // says what is wrong.
                    detail: e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim_start_matches("error: ")
                        .to_owned(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Rules { selector, ignore })
    }

    /// Whether there is nothing to ignore (no patterns).
    pub fn ignores_nothing(&self) -> bool {
        self.ignore.is_empty()
    }

    /// The text with every ignored pattern removed, for comparison only.
    pub fn strip_ignored<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let mut text = std::borrow::Cow::Borrowed(text);
        for pattern in &self.ignore {
            if pattern.is_match(&text) {
                text = std::borrow::Cow::Owned(pattern.replace_all(&text, "").into_owned());
            }
        }
        text
    }
}

/// Decodes and extracts `bytes`, given the `Content-Type` a server declared (if any) and the
/// file name (if any) to guess the media type from.
pub fn extract(bytes: &[u8], content_type: Option<&str>, file_name: Option<&str>) -> Extracted {
    extract_with(bytes, content_type, file_name, &Rules::default())
}

/// As [`extract`], taking the content of HTML from the source's selector when it has one.
pub fn extract_with(
    bytes: &[u8],
    content_type: Option<&str>,
    file_name: Option<&str>,
    rules: &Rules,
) -> Extracted {
    extract_cow(
        std::borrow::Cow::Borrowed(bytes),
        content_type,
        file_name,
        rules,
        &mut false,
    )
}

/// As [`extract_with`], consuming the bytes: a text file that is valid UTF-8 with Unix line
/// ends becomes its own text without being copied (for callers that keep no raw bytes).
/// Returns, besides, whether the text is exactly the bytes.
pub fn extract_owned(
    bytes: Vec<u8>,
    content_type: Option<&str>,
    file_name: Option<&str>,
    rules: &Rules,
) -> (Extracted, bool) {
    let mut same = false;
    let extracted = extract_cow(
        std::borrow::Cow::Owned(bytes),
        content_type,
        file_name,
        rules,
        &mut same,
    );
    (extracted, same)
}

/// Fault injection for the tests, in debug builds only (release builds have none of it).
///
/// No known input makes the extractor panic, yet `check` and `add` promise that a panic while
/// reading one source costs that source alone. The integration tests prove it by setting
/// `VERBATIM_TEST_PANIC_MARKER` (typed by whoever runs the binary, never taken from content) and
/// serving a page that holds the marker: extracting it panics, deep in the real path.
#[cfg(debug_assertions)]
mod fault {
    pub(super) fn panic_if_marked(bytes: &[u8]) {
        let Some(marker) = std::env::var_os("VERBATIM_TEST_PANIC_MARKER") else {
            return;
        };
        let marker = marker.as_encoded_bytes();
        if !marker.is_empty() && bytes.windows(marker.len()).any(|w| w == marker) {
            panic!("injected fault: the page holds the test's panic marker");
        }
    }
}

/// The bytes a decoder lent back as a `&str` at the same address and length, as a `String`
/// without validating them again, which would cost as much as the rest of reading a long file.
/// The only unsafe code of extraction: callers pass only such bytes.
#[allow(unsafe_code)]
fn already_text(bytes: Vec<u8>) -> String {
    debug_assert!(std::str::from_utf8(&bytes).is_ok());
    // SAFETY: the caller found these very bytes (same address, same length) to be a `&str`,
    // so valid UTF-8, and nothing wrote to them since: they are owned here.
    unsafe { String::from_utf8_unchecked(bytes) }
}

fn extract_cow<'a>(
    input: std::borrow::Cow<'a, [u8]>,
    content_type: Option<&str>,
    file_name: Option<&str>,
    rules: &Rules,
    same: &mut bool,
) -> Extracted {
    let bytes: &[u8] = &input;
    #[cfg(debug_assertions)]
    fault::panic_if_marked(bytes);
    let (media_type, declared_charset) = media_type_of(bytes, content_type, file_name);
    if is_binary_type(bytes, &media_type) {
        return Extracted {
            media_type,
            charset: None,
            charset_source: CharsetSource::None,
            title: None,
            text: String::new(),
        };
    }
    let is_html = media_type == "text/html" || media_type == "application/xhtml+xml";
    let (encoding, charset_source, valid) =
        decide_charset(bytes, declared_charset.as_deref(), is_html);
    // `decode` sniffs a BOM itself and replaces malformed sequences with U+FFFD, so the text is
    // always valid UTF-8 while the raw bytes keep the exact original.
    let (decoded, used) = match valid {
        Some(text) => (std::borrow::Cow::Borrowed(text), encoding),
        None => {
            let (decoded, used, _had_errors) = encoding.decode(bytes);
            (decoded, used)
        }
    };
    let decoded = if memchr::memchr(b'\r', decoded.as_bytes()).is_some() {
        std::borrow::Cow::Owned(decoded.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        decoded
    };
    let (title, text) = if is_html {
        match &rules.selector {
            Some((_, selector)) => html_to_text_in(&decoded, Some(selector)),
            None => article_text(&decoded),
        }
    } else {
        let text = match decoded {
            std::borrow::Cow::Owned(text) => text,
            // The decoder borrowed the bytes, so they are the text already.
            std::borrow::Cow::Borrowed(text) => match input {
                std::borrow::Cow::Owned(bytes)
                    if bytes.len() == text.len() && bytes.as_ptr() == text.as_ptr() =>
                {
                    *same = true;
                    already_text(bytes)
                }
                _ => text.to_owned(),
            },
        };
        (None, text)
    };
    Extracted {
        media_type,
        charset: Some(used.name().to_owned()),
        charset_source,
        title,
        text,
    }
}

/// Whether extracting `bytes` (a local file named `file_name`, no type declared) with `rules`
/// gives these very bytes as its text: plain text in UTF-8, without a byte-order mark or a
/// carriage return, and no pattern to ignore. A caller that compares texts can then compare
/// the bytes without extracting them (a patch of two long files, mapped).
pub fn text_is_bytes(bytes: &[u8], file_name: Option<&str>, rules: &Rules) -> bool {
    let (media_type, _) = media_type_of(bytes, None, file_name);
    let is_html = media_type == "text/html" || media_type == "application/xhtml+xml";
    rules.ignore.is_empty()
        && !is_html
        && !is_binary_type(bytes, &media_type)
        && memchr::memchr(b'\r', bytes).is_none()
        && matches!(
            decide_charset(bytes, None, false),
            (_, CharsetSource::Utf8, Some(_))
        )
}

/// Whether `bytes` hold no text, as [`extract`] decides from the same arguments (it then
/// extracts nothing), without decoding them: for callers that must compare such content by
/// its bytes.
pub fn is_binary(bytes: &[u8], content_type: Option<&str>, file_name: Option<&str>) -> bool {
    is_binary_type(bytes, &media_type_of(bytes, content_type, file_name).0)
}

/// The media type of `bytes` (declared, else sniffed) and the charset the type declares.
fn media_type_of(
    bytes: &[u8],
    content_type: Option<&str>,
    file_name: Option<&str>,
) -> (String, Option<String>) {
    let (declared_type, declared_charset) =
        content_type.map(parse_content_type).unwrap_or_default();
    let media_type = declared_type
        .filter(|t| t != "application/octet-stream" || looks_binary(bytes))
        .unwrap_or_else(|| sniff_media_type(bytes, file_name));
    (media_type, declared_charset)
}

fn is_binary_type(bytes: &[u8], media_type: &str) -> bool {
    !is_textual(media_type) || (looks_binary(bytes) && !has_bom(bytes))
}

fn parse_content_type(value: &str) -> (Option<String>, Option<String>) {
    let mut parts = value.split(';');
    let media = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| m.contains('/'));
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    });
    (media, charset)
}

fn has_bom(bytes: &[u8]) -> bool {
    Encoding::for_bom(bytes).is_some()
}

/// NUL bytes in the first 8 KiB mark binary content, as git and grep decide.
fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

fn is_textual(media_type: &str) -> bool {
    media_type.starts_with("text/")
        || matches!(
            media_type,
            "application/xhtml+xml"
                | "application/xml"
                | "application/json"
                | "application/javascript"
                | "application/rss+xml"
                | "application/atom+xml"
        )
}

fn sniff_media_type(bytes: &[u8], file_name: Option<&str>) -> String {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return "text/html".to_owned();
    }
    if let Some(guess) = file_name.and_then(|n| mime_guess::from_path(n).first()) {
        return guess.essence_str().to_owned();
    }
    if looks_binary(bytes) && !has_bom(bytes) {
        "application/octet-stream".to_owned()
    } else {
        "text/plain".to_owned()
    }
}

/// The charset of `bytes` and how it was decided, with the text itself when deciding it
/// meant validating the bytes as UTF-8 (so that they are not decoded a second time).
fn decide_charset<'b>(
    bytes: &'b [u8],
    declared: Option<&str>,
    is_html: bool,
) -> (&'static Encoding, CharsetSource, Option<&'b str>) {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return (encoding, CharsetSource::Bom, None);
    }
    if let Some(encoding) = declared.and_then(|l| Encoding::for_label(l.as_bytes())) {
        return (encoding, CharsetSource::Header, None);
    }
    if is_html && let Some(encoding) = meta_charset(bytes) {
        return (encoding, CharsetSource::Meta, None);
    }
    // SIMD validation: on a long text file the check is otherwise a large part of the work.
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return (encoding_rs::UTF_8, CharsetSource::Utf8, Some(text));
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    (detector.guess(None, true), CharsetSource::Detected, None)
}

/// Finds `<meta charset=…>` or `<meta http-equiv=Content-Type content="…charset=…">` in the
/// first 1024 bytes, as the HTML prescan does.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(pos) = rest.find("<meta") {
        rest = &rest[pos + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(at) = tag.find("charset") {
            let value = tag[at + 7..].trim_start().strip_prefix('=')?.trim_start();
            let value = value.trim_start_matches(['"', '\'']);
            let end = value
                .find(|c: char| c == '"' || c == '\'' || c == ';' || c.is_whitespace() || c == '/')
                .unwrap_or(value.len());
            // A page declaring UTF-16 in ASCII-compatible bytes is really UTF-8 (HTML spec).
            return Encoding::for_label(&value.as_bytes()[..end]).map(|e| e.output_encoding());
        }
    }
    None
}

/// Elements whose text extraction leaves out, besides those no reader sees
/// ([`html::UNSEEN`]): page furniture, embedded frames and graphics, form controls.
const FURNITURE_ELEMENTS: &[&str] = &[
    "nav", "header", "footer", "aside", "form", "iframe", "svg", "button", "select", "head",
];

/// Whether extraction leaves an element's text out.
fn is_skipped(name: &str) -> bool {
    html::is_unseen(name) || FURNITURE_ELEMENTS.contains(&name)
}

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

/// Learns what changes between two loads of a page taken moments apart, as ignore patterns.
///
/// Paragraphs that differ between the loads are paired by position in a diff of the two
/// paragraph lists; a pair that is the same apart from its numbers ("Updated 5 minutes ago",
/// "Last updated 14:32 GMT", "1,234 shares") gives one pattern matching that whole paragraph
/// with any numbers. A pattern is kept only when it is specific: at least four letters of fixed
/// text, and matching no more than two paragraphs of the page, so a table of figures or a
/// paragraph of the article can never be learned away. Paragraphs that change entirely (a
/// rotating story) give nothing; the furniture rules handle those.
pub fn learn_noise(first: &str, second: &str) -> Vec<String> {
    let a: Vec<&str> = first.split("\n\n").collect();
    let b: Vec<&str> = second.split("\n\n").collect();
    // Both loads come from the server, which may send thousands of paragraphs that all differ:
    // the alignment gets a deadline (past it, a coarser one), and only so many pairs are
    // looked at, so learning stays near-linear whatever the page.
    const DEADLINE: std::time::Duration = std::time::Duration::from_millis(500);
    const MAX_PAIRS: usize = 256;
    const MAX_LEARNED: usize = 32;
    let mut learned: Vec<String> = Vec::new();
    let mut pairs = 0usize;
    let deadline = std::time::Instant::now() + DEADLINE;
    for op in
        similar::capture_diff_slices_deadline(similar::Algorithm::Myers, &a, &b, Some(deadline))
    {
        let similar::DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } = op
        else {
            continue;
        };
        for (x, y) in a[old_index..old_index + old_len]
            .iter()
            .zip(&b[new_index..new_index + new_len])
        {
            pairs += 1;
            if pairs > MAX_PAIRS || learned.len() >= MAX_LEARNED {
                return learned;
            }
            let (gx, gy) = (numbers_generalised(x), numbers_generalised(y));
            let letters = x.chars().filter(|c| c.is_alphabetic()).count();
            if gx != gy || letters < 4 || learned.contains(&gx) {
                continue;
            }
            let Ok(pattern) = regex::Regex::new(&gx) else {
                continue;
            };
            if a.iter().filter(|p| pattern.is_match(p)).take(3).count() <= 2 {
                learned.push(gx);
            }
        }
    }
    learned
}

/// A regular expression matching exactly this paragraph, with any run of digits (and the
/// separators inside numbers) in place of each number.
fn numbers_generalised(paragraph: &str) -> String {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d+(?:[.,:]\d+)*").unwrap_or_else(|_| unreachable!())
    });
    let mut out = String::from("(?m)^");
    let mut last = 0;
    for m in NUMBER.find_iter(paragraph) {
        out.push_str(&regex::escape(&paragraph[last..m.start()]));
        out.push_str(r"\d+(?:[.,:]\d+)*");
        last = m.end();
    }
    out.push_str(&regex::escape(&paragraph[last..]));
    out.push('$');
    out
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

/// Selectors every extraction uses, parsed once (they are constants, so parsing cannot fail).
static BODY: std::sync::LazyLock<Selector> =
    std::sync::LazyLock::new(|| Selector::parse("body").unwrap_or_else(|_| unreachable!()));
static TITLE: std::sync::LazyLock<Selector> =
    std::sync::LazyLock::new(|| Selector::parse("title").unwrap_or_else(|_| unreachable!()));
static ARTICLE: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| {
    Selector::parse("article, main").unwrap_or_else(|_| unreachable!())
});

/// Whether the extractor gave up and returned the whole page as one block: a single paragraph,
/// where reading the page without its furniture finds more paragraphs, or fewer words (so
/// navigation or footer text leaked in).
fn whole_page_fallback(extracted: &str, furniture_free: &str) -> bool {
    let paragraphs = |t: &str| t.split("\n\n").filter(|p| !p.trim().is_empty()).count();
    let words = |t: &str| t.split_whitespace().count();
    paragraphs(extracted) <= 1
        && (paragraphs(furniture_free) > 1 || words(extracted) > words(furniture_free))
}

/// Basic HTML-to-text: the document title, then the text of the body as paragraphs, leaving out
/// scripts, styles and page furniture (nav, header, footer, aside, forms).
pub fn html_to_text(html: &str) -> (Option<String>, String) {
    html_to_text_in(html, None)
}

/// As [`html_to_text`], taking the text from the first element `content` matches when given
/// (nothing, if it matches none: the page no longer has that content).
fn html_to_text_in(html: &str, content: Option<&Selector>) -> (Option<String>, String) {
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
fn text_without_tree(html: &str) -> (Option<String>, String) {
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
                    if state.links > 0 {
                        state.reader.link_text += text.trim().len();
                    }
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
                    } else if name == "a" {
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

fn read_document(document: &Html, content: Option<&Selector>) -> (Option<String>, String) {
    let title = document
        .select(&TITLE)
        .next()
        .map(|t| collapse(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let mut reader = Reader::default();
    if let Some(content) = content {
        if let Some(root) = document.select(content).next() {
            reader.walk(root);
            reader.flush();
        }
        return (title, reader.paragraphs.join("\n\n"));
    }
    let root = document
        .select(&ARTICLE)
        .next()
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
    /// How much of `current` is the text of links.
    link_text: usize,
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
                            if links > 0 {
                                self.link_text += text.trim().len();
                            }
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
                                }
                                links += usize::from(name == "a");
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
                        links -= usize::from(e.name() == "a" && links > 0);
                        if html::starts_paragraph_in_extraction(e.name()) {
                            self.flush();
                        }
                    }
                }
            }
        }
    }

    /// Ends the current paragraph. One that is mostly link text ("Read more: …", a list of
    /// stories, a card's linked headline) is navigation, not article, and is dropped.
    fn flush(&mut self) {
        let text = collapse(&self.current);
        let link_dense = self.link_text * 2 > text.len() && !self.heading;
        if !text.is_empty() && !link_dense {
            self.paragraphs.push(text);
        }
        self.current.clear();
        self.link_text = 0;
        self.heading = false;
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text_is_bytes` says yes exactly when extraction gives the bytes back unchanged.
    #[test]
    fn text_is_bytes_agrees_with_extraction() {
        let plain = "A line of plain text, \u{201C}quoted\u{201D}.\n".repeat(50);
        let cases: Vec<(Vec<u8>, Option<&str>)> = vec![
            (plain.clone().into_bytes(), Some("a.txt")),
            (plain.clone().into_bytes(), None),
            (plain.clone().into_bytes(), Some("notes.md")),
            (
                [&b"\xef\xbb\xbf"[..], plain.as_bytes()].concat(),
                Some("a.txt"),
            ),
            (plain.replace('\n', "\r\n").into_bytes(), Some("a.txt")),
            (
                format!("<html><body><p>{plain}</p></body></html>").into_bytes(),
                Some("a.html"),
            ),
            (
                format!("<!doctype html><p>{plain}").into_bytes(),
                Some("a.txt"),
            ),
            (b"caf\xe9 cr\xe8me, na\xefve\n".repeat(40), Some("a.txt")),
            ([plain.as_bytes(), b"\0\0\0\x01"].concat(), Some("a.txt")),
            (b"%PDF-1.7\n".repeat(10), Some("a.pdf")),
            (Vec::new(), Some("empty.txt")),
        ];
        for (bytes, name) in cases {
            let extracted = extract(&bytes, None, name);
            let same = extracted.charset.is_some() && extracted.text.as_bytes() == bytes;
            assert_eq!(
                text_is_bytes(&bytes, name, &Rules::default()),
                same,
                "{name:?}: {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
            );
        }
        let ignoring = Rules::new(None, &["quoted".to_owned()]).expect("rules");
        assert!(!text_is_bytes(plain.as_bytes(), Some("a.txt"), &ignoring));
    }

    #[test]
    fn latin1_is_detected_and_decoded() {
        let bytes = b"Caf\xe9 cr\xe8me, na\xefve r\xe9sum\xe9 \xe0 la fran\xe7aise.\n";
        let e = extract(bytes, None, Some("notes.txt"));
        assert_eq!(e.text, "Café crème, naïve résumé à la française.\n");
        assert_eq!(e.charset_source, CharsetSource::Detected);
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xff, 0xfe];
        for unit in "Grüße, 世界".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let e = extract(&bytes, None, Some("x.txt"));
        assert_eq!(e.text, "Grüße, 世界");
        assert_eq!(e.charset.as_deref(), Some("UTF-16LE"));
        assert_eq!(e.charset_source, CharsetSource::Bom);
    }

    #[test]
    fn header_charset_wins_over_detection() {
        let e = extract(
            b"\x93quoted\x94",
            Some("text/plain; charset=windows-1252"),
            None,
        );
        assert_eq!(e.text, "\u{201c}quoted\u{201d}");
        assert_eq!(e.charset_source, CharsetSource::Header);
    }

    #[test]
    fn binary_has_no_text() {
        let e = extract(&[0x89, b'P', b'N', b'G', 0, 0, 1, 2], None, Some("a.png"));
        assert_eq!(e.media_type, "image/png");
        assert_eq!(e.charset_source, CharsetSource::None);
        assert!(e.text.is_empty());
    }

    #[test]
    fn rules_select_content_and_ignore_patterns() {
        let html = br#"<html><body><div class="lede">Noise</div><div id="story"><p>Real text.</p>
            <p>Updated 5 minutes ago</p></div></body></html>"#;
        let rules = Rules::new(Some("#story"), &[r"Updated \d+ minutes ago".to_owned()]).unwrap();
        let e = extract_with(html, Some("text/html"), None, &rules);
        assert_eq!(e.text, "Real text.\n\nUpdated 5 minutes ago");
        assert_eq!(rules.strip_ignored(&e.text), "Real text.\n\n");
        let gone = extract_with(
            b"<html><body><p>Other</p></body></html>",
            Some("text/html"),
            None,
            &rules,
        );
        assert_eq!(gone.text, "");
        assert!(matches!(
            Rules::new(Some("##"), &[]),
            Err(RuleError::Selector { .. })
        ));
        assert!(matches!(
            Rules::new(None, &["(".to_owned()]),
            Err(RuleError::Pattern { .. })
        ));
    }

    #[test]
    fn noise_learned_from_two_loads_is_narrow() {
        let first =
            "Title\n\nLast updated 07:34 GMT\n\nThe budget is 4.2 million.\n\nRead: Storms hit";
        let second =
            "Title\n\nLast updated 09:02 GMT\n\nThe budget is 4.2 million.\n\nRead: Court rules";
        let learned = learn_noise(first, second);
        assert_eq!(learned, [r"(?m)^Last updated \d+(?:[.,:]\d+)* GMT$"]);
        let rules = Rules::new(None, &learned).expect("valid");
        assert_eq!(
            rules.strip_ignored("Title\n\nLast updated 23:59 GMT\n\nThe budget is 5 million."),
            "Title\n\n\n\nThe budget is 5 million."
        );
        // Figures alone, or a pattern that would match much of the page, are never learned.
        assert!(learn_noise("A\n\n12 34\n\nB", "A\n\n13 35\n\nB").is_empty());
        let table = "Row 1 is 5\n\nRow 2 is 6\n\nRow 3 is 7";
        assert!(learn_noise(table, "Row 1 is 5\n\nRow 2 is 9\n\nRow 3 is 7").is_empty());
    }

    #[test]
    fn html_text_leaves_out_furniture() {
        let html = r#"<!doctype html><html><head><meta charset="iso-8859-1"><title> A  title </title>
            <style>p{}</style></head><body><nav>Home | News</nav><article><h1>Head</h1>
            <p>One <b>bold</b> line.</p><script>x()</script><p>Two</p></article>
            <footer>(c) 2024</footer></body></html>"#;
        let e = extract(html.as_bytes(), None, None);
        assert_eq!(e.media_type, "text/html");
        assert_eq!(e.charset_source, CharsetSource::Meta);
        // The article's headline wins over <title>, which on news sites carries the site's name.
        assert_eq!(e.title.as_deref(), Some("Head"));
        assert_eq!(e.text, "Head\n\nOne bold line.\n\nTwo");
        assert_eq!(html_to_text(html).0.as_deref(), Some("A title"));
    }

    #[test]
    fn the_nesting_scan_never_counts_less_than_the_parser_nests() {
        let n = 1_000;
        // End tags that match no open element close nothing.
        assert!(html_nesting_exceeds(&"<div></x>".repeat(n), 256).is_some());
        // Ruby annotations outside <ruby> nest.
        assert!(html_nesting_exceeds(&"<rt>".repeat(n), 256).is_some());
        // `<!-->` ends its comment at once.
        let hidden = format!("<!-->{}<!-- -->", "<div>".repeat(n));
        assert!(html_nesting_exceeds(&hidden, 256).is_some());
        // `</scriptx>` does not end a script.
        let script = format!(
            "<script></scriptx>{}</script>{}",
            "<div>".repeat(n),
            "<b>".repeat(300)
        );
        assert!(html_nesting_exceeds(&script, 256).is_some());
        // Inside <svg>, <style> is an element, not raw text.
        let svg = format!("<svg><style>{}", "<g>".repeat(n));
        assert!(html_nesting_exceeds(&svg, 256).is_some());
        // A real page's closing tags close what they name.
        let fine = "<div><p>a<span>b</div>".repeat(n);
        assert_eq!(html_nesting_exceeds(&fine, 256), None);
    }

    #[test]
    fn pages_read_without_a_tree_read_as_with_one() {
        let html = r#"<!doctype html><html><head><title> A  title </title>
            <style>p{color:red}</style><script>if (a < b) { document.write("<p>no</p>") }</script>
            </head><body><nav>Home | <a href="/">News</a></nav><article><h1><a href="/x">Head</a></h1>
            <p>One <b>bold</b> line,<br>broken.</p><p><a href="/y">Read more about it</a></p>
            <div><p>Two</p><textarea>not <p>markup</p></textarea></div></article>
            <footer>(c) 2024</footer></body></html>"#;
        assert_eq!(text_without_tree(html), html_to_text(html));
        // `</head>` is optional: the first tag that cannot be in the head ends it.
        let headless = "<html><head><title>T</title><meta charset=utf-8><body><p>Kept text.</p>";
        assert_eq!(text_without_tree(headless), html_to_text(headless));
        assert_eq!(text_without_tree(headless).1, "Kept text.");
        // End tags of furniture that matches nothing cost a bounded look each.
        let many = format!(
            "{}<p>x</p>{}",
            "<nav>".repeat(100_000),
            "</aside>".repeat(100_000)
        );
        let start = std::time::Instant::now();
        let _ = text_without_tree(&many);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        let deep = format!(
            "<p>Top</p>{}<p>Inside</p>{}",
            "<div>".repeat(50_000),
            "</div>".repeat(50_000)
        );
        assert_eq!(text_without_tree(&deep).1, "Top\n\nInside");
    }

    #[test]
    fn the_byline_follows_the_headline() {
        let html = r#"<html><head><title>Budget</title><meta name="author" content="Ana Ruiz">
            </head><body><article><h1>Budget</h1><p>The council approved the budget on
            Tuesday after a long debate that ran late into the night.</p></article></body></html>"#;
        let e = extract(html.as_bytes(), Some("text/html"), None);
        assert!(
            e.text.starts_with("Budget\n\nBy Ana Ruiz\n\nThe council"),
            "{}",
            e.text
        );
    }
}
