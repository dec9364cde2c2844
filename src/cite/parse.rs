//! Reading citations from the formats that hold them: Markdown, HTML, BibTeX/BibLaTeX, CSL-JSON
//! and plain TOML or YAML lists. Each format has its own reader; they share one rule for what is
//! a cited source (an `http`, `https` or `file` URL: mail addresses, in-page anchors and relative
//! links point at nothing verbatim can capture) and one heuristic for prose, where a quote is the
//! text in quotation marks written right before the link that cites it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use biblatex::{Bibliography, ChunksExt, RawBibliography, RawChunk};
use jiff::civil::Date;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;
use scraper::{ElementRef, Html, Node};

use super::{Citation, Error};

/// A format citations are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CommonMark with footnotes: links, and the quotes written around them.
    Markdown,
    /// HTML: `blockquote` and `q` with `cite`, and links.
    Html,
    /// BibTeX or BibLaTeX: entries with a URL.
    Bibtex,
    /// CSL-JSON, as Zotero and pandoc write it: items with a `URL`.
    CslJson,
    /// A TOML list of `[[citation]]` tables.
    Toml,
    /// A YAML list of citations.
    Yaml,
}

impl Format {
    /// Chooses the format of a file by its extension.
    ///
    /// The extension decides alone (case aside): `.md`, `.markdown`, `.html`, `.htm`, `.bib`,
    /// `.json` (CSL-JSON), `.toml`, `.yaml` and `.yml`. Anything else is `None`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match extension.as_str() {
            "md" | "markdown" => Format::Markdown,
            "html" | "htm" => Format::Html,
            "bib" => Format::Bibtex,
            "json" => Format::CslJson,
            "toml" => Format::Toml,
            "yaml" | "yml" => Format::Yaml,
            _ => return None,
        })
    }
}

/// Reads the citations in a file, choosing the format by its extension.
///
/// The file must be UTF-8; its path, as given, is each citation's `file`.
pub fn read_file(path: &Path) -> Result<Vec<Citation>, Error> {
    let name = path.display().to_string();
    let Some(format) = Format::from_path(path) else {
        return Err(Error::UnknownFormat { path: name });
    };
    let bytes = read_bounded(path).map_err(|source| Error::Read {
        path: name.clone(),
        source,
    })?;
    match std::str::from_utf8(&bytes) {
        Ok(text) => parse(format, text, &name),
        Err(e) => Err(Error::Malformed {
            detail: format!(
                "line {}: not UTF-8 text",
                Lines::new(&bytes).line(e.valid_up_to())
            ),
            path: name,
        }),
    }
}

/// Largest citing document read: far past any paper, bibliography or page.
const MAX_DOCUMENT: u64 = 64 << 20;

/// A citing document's bytes: a FIFO or device is refused rather than waited on or read
/// forever ([`crate::fetch::open_regular`]), and the size is bounded.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let (file, meta) = crate::fetch::open_regular(path)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_DOCUMENT) as usize);
    file.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("over {MAX_DOCUMENT} bytes; not read as a citing document"),
        ));
    }
    Ok(bytes)
}

/// Parses citations from text in a format (the `file` field of each citation is `name`).
///
/// Citations come in document order. Text that does not parse as its format, and dates that
/// name no day (an accessed date of 2024-02-30), are [`Error::Malformed`], with the line where
/// the format tells it.
pub fn parse(format: Format, text: &str, name: &str) -> Result<Vec<Citation>, Error> {
    // Editors on Windows and some exporters start files with a byte-order mark, which no parser
    // below expects; it sits on line 1, so dropping it moves no line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(detail) = too_deep(format, text) {
        return Err(Error::Malformed {
            path: name.to_owned(),
            detail,
        });
    }
    let found = match format {
        Format::Markdown => read_markdown(text),
        Format::Html => read_html(text),
        Format::Bibtex => read_bibtex(text),
        Format::CslJson => read_csl_json(text),
        Format::Toml => read_toml(text),
        Format::Yaml => read_yaml(text),
    };
    match found {
        Ok(found) => Ok(found
            .into_iter()
            .map(|f| Citation {
                locator: f.locator,
                quote: f.quote,
                accessed: f.accessed,
                file: name.to_owned(),
                line: f.line,
                key: f.key,
            })
            .collect()),
        Err(detail) => Err(Error::Malformed {
            path: name.to_owned(),
            detail,
        }),
    }
}

/// A citation before it is told which file it is in.
#[derive(Debug, Default)]
struct Found {
    locator: String,
    quote: Option<String>,
    accessed: Option<Date>,
    line: usize,
    key: Option<String>,
}

/// What a reader returns: citations, or the one-line detail of why the text is malformed.
type Parsed = Result<Vec<Found>, String>;

// ---------------------------------------------------------------------------------------------
// Nesting
// ---------------------------------------------------------------------------------------------

/// How deeply a citing document may nest braces (BibTeX), flow collections (YAML), elements
/// (HTML) or blockquotes (Markdown).
///
/// Citing documents are untrusted (they arrive in pull requests), and the crates that parse
/// BibTeX and YAML, and the HTML tree builder, take time quadratic in nesting depth: 100,000
/// `{` or `[` or `<div>` kept `cite check` busy for minutes, and deep inline HTML overflowed the
/// stack. No real bibliography, citation list or article nests anywhere near this deep (serde's
/// YAML and JSON readers stop at 128 already), so deeper documents are refused as malformed
/// rather than parsed.
pub const MAX_NESTING: usize = 128;

/// Why a document nests too deeply to be read, or `None` when it does not.
///
/// A cheap pre-scan, linear in the text, run before the text reaches a parser whose time is
/// quadratic in depth. It may over-count (brackets inside YAML strings, an `<a>` left unclosed,
/// which the HTML parser closes itself), never under-count the nesting the parsers see; over-
/// counting past [`MAX_NESTING`] takes hundreds of unbalanced marks, which no real citing
/// document has. CSL-JSON and TOML need none: their parsers stop at a recursion limit of their
/// own, early and in linear time. Markdown's parser is linear; its blockquotes are bounded
/// while they are read.
fn too_deep(format: Format, text: &str) -> Option<String> {
    let (what, at) = match format {
        Format::Bibtex => match bracket_depth_exceeded(text, b"{", b"}") {
            Some(at) => ("braces", at),
            None => {
                let at = bibtex_groups_exceeded(text)?;
                let line = Lines::new(text.as_bytes()).line(at);
                return Some(format!(
                    "line {line}: an entry with more than {MAX_BIBTEX_GROUPS} brace groups; \
                     verbatim does not read citations from entries so long"
                ));
            }
        },
        Format::Yaml => (
            "flow collections ([ or {)",
            bracket_depth_exceeded(text, b"[{", b"]}")?,
        ),
        Format::Html => ("elements", html_depth_exceeded(text)?),
        Format::Markdown | Format::CslJson | Format::Toml => return None,
    };
    let line = Lines::new(text.as_bytes()).line(at);
    Some(format!(
        "line {line}: {what} nested more than {MAX_NESTING} deep; verbatim does not read \
         citations from documents nested so deeply"
    ))
}

/// The offset of the first opening mark that nests more than [`MAX_NESTING`] deep, counting
/// every mark (a closing mark with nothing open is ignored).
fn bracket_depth_exceeded(text: &str, open: &[u8], close: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        if open.contains(&b) {
            depth += 1;
            if depth > MAX_NESTING {
                return Some(i);
            }
        } else if close.contains(&b) {
            depth = depth.saturating_sub(1);
        }
    }
    None
}

/// How many brace groups one BibTeX entry may hold.
///
/// The BibTeX crate resolves a field in time quadratic in the groups nested in it
/// (`{{a}}{{b}}…`: 20,000 of them take seconds), whatever their depth. A real entry has a few
/// protected words (`{NASA}`), not thousands.
pub const MAX_BIBTEX_GROUPS: usize = 4096;

/// The offset of the first brace that makes an entry hold more than [`MAX_BIBTEX_GROUPS`]
/// groups, counting every `{` inside an entry (an entry is what is open at depth 1).
fn bibtex_groups_exceeded(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut groups = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' => {
                depth += 1;
                if depth >= 2 {
                    groups += 1;
                    if groups > MAX_BIBTEX_GROUPS {
                        return Some(i);
                    }
                }
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    groups = 0;
                }
            }
            _ => {}
        }
    }
    None
}

/// The offset of the first start tag that opens an element more than [`MAX_NESTING`] deep
/// ([`crate::extract::html_nesting_exceeds`]).
fn html_depth_exceeded(text: &str) -> Option<usize> {
    crate::extract::html_nesting_exceeds(text, MAX_NESTING)
}

// ---------------------------------------------------------------------------------------------
// Shared rules
// ---------------------------------------------------------------------------------------------

/// Byte offsets to 1-based line numbers.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &[u8]) -> Lines {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
        Lines { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// Whether a locator is a source verbatim can capture.
fn is_citable(url: &str) -> bool {
    ["http://", "https://", "file://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    })
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The quoted words as they are checked: whitespace collapsed, and without a trailing comma,
/// which in `“X,” she said` is the citing author's punctuation, not the source's.
fn clean_quote(text: &str) -> Option<String> {
    let text = collapse_whitespace(text);
    let text = text.trim_end_matches(',').trim_end();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Closing quotation marks, each with the mark that opens it.
const CLOSE_TO_OPEN: &[(char, char)] = &[
    ('"', '"'),
    ('”', '“'),
    ('“', '„'),
    ('»', '«'),
    ('«', '»'),
    ('’', '‘'),
    ('‘', '‚'),
];

/// What may stand between a closing quotation mark and the link that cites the quote, as in
/// `"X" ([Times](…))`, `“X” — [Times](…)` or `“X,” [reported](…)`.
const BETWEEN_QUOTE_AND_LINK: &[char] = &['(', '[', '—', '–', '-', ',', ':'];

/// The text in quotation marks that ends `before` (the text of a paragraph up to a link or a
/// footnote reference), when only whitespace and light punctuation follow its closing mark.
fn quote_before(before: &str) -> Option<String> {
    let trimmed =
        before.trim_end_matches(|c: char| c.is_whitespace() || BETWEEN_QUOTE_AND_LINK.contains(&c));
    let close = trimmed.chars().next_back()?;
    let open = CLOSE_TO_OPEN.iter().find(|(c, _)| *c == close)?.1;
    let body = &trimmed[..trimmed.len() - close.len_utf8()];
    // A straight mark after a space opens a quote rather than closing one.
    if close == '"' && body.ends_with(char::is_whitespace) {
        return None;
    }
    let start = body.rfind(open)?;
    // An opening mark stands at the start of a word; one inside a word (an apostrophe in
    // "agencies’") is no quotation mark.
    if body[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
    {
        return None;
    }
    let quote = &body[start + open.len_utf8()..];
    if close == '"' && quote.starts_with(char::is_whitespace) {
        return None;
    }
    clean_quote(quote)
}

/// Quotation marks in free-text notes, each with its closing mark: the double forms first, as a
/// single closing mark is also an apostrophe.
const NOTE_QUOTES: [&[(&str, &str)]; 2] = [
    &[
        ("``", "''"),
        ("\\enquote{", "}"),
        ("“", "”"),
        ("„", "“"),
        ("«", "»"),
        ("»", "«"),
        ("\"", "\""),
    ],
    &[("‘", "’"), ("‚", "‘")],
];

/// The first text in quotation marks in a note (a BibTeX `note`, a CSL-JSON `note`).
fn first_quoted(text: &str) -> Option<&str> {
    for marks in NOTE_QUOTES {
        let first = marks
            .iter()
            .filter_map(|(open, close)| {
                let start = text.find(open)?;
                let body = start + open.len();
                let end = text[body..].find(close)?;
                Some((start, &text[body..body + end]))
            })
            .min_by_key(|(start, _)| *start);
        if let Some((_, quote)) = first {
            return Some(quote);
        }
    }
    None
}

/// Reads an ISO 8601 date (`2024-03-12`, or the date of `2024-03-12T10:00:00Z`).
///
/// `None` when the text is not date-shaped (`2024-03`, `March 2024`); `Some(Err)` when it is
/// but names no day, which is an error rather than a missing date.
fn iso_date(text: &str) -> Option<Result<Date, String>> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let shaped = digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(bytes.get(10), None | Some(b'T' | b't' | b' '));
    if !shaped {
        return None;
    }
    Some(date_from_parts(
        i64::from(bytes[0] - b'0') * 1000
            + i64::from(bytes[1] - b'0') * 100
            + i64::from(bytes[2] - b'0') * 10
            + i64::from(bytes[3] - b'0'),
        i64::from(bytes[5] - b'0') * 10 + i64::from(bytes[6] - b'0'),
        i64::from(bytes[8] - b'0') * 10 + i64::from(bytes[9] - b'0'),
    ))
}

fn date_from_parts(year: i64, month: i64, day: i64) -> Result<Date, String> {
    let invalid = || format!("{year:04}-{month:02}-{day:02} is not a valid date");
    let year = i16::try_from(year).map_err(|_| invalid())?;
    let month = i8::try_from(month).map_err(|_| invalid())?;
    let day = i8::try_from(day).map_err(|_| invalid())?;
    Date::new(year, month, day).map_err(|_| invalid())
}

/// `accessed 2024-03-12`, `(accessed 2024-03-12)`, `accessed: 2024-03-12`, `Accessed on …`.
static ACCESSED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\baccessed(?:\s+on)?\s*:?\s*(\d{4}-\d{2}-\d{2})(?:[^0-9]|$)")
        .expect("the pattern is a valid regex")
});

/// The date written as `accessed YYYY-MM-DD` in prose.
fn accessed_in(text: &str) -> Result<Option<Date>, String> {
    let Some(date) = ACCESSED.captures(text).and_then(|c| c.get(1)) else {
        return Ok(None);
    };
    match iso_date(date.as_str()) {
        Some(Ok(date)) => Ok(Some(date)),
        Some(Err(e)) => Err(format!("the accessed date {e}")),
        None => Ok(None),
    }
}

/// Whether a line of a quotation attributes it (`— Jane Doe`) rather than quoting.
fn is_attribution(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with(['—', '–', '―', '~']) || line.starts_with("--") || line.starts_with("- ")
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

/// Inline text of one block (a paragraph, a heading, a tight list item), with its links.
#[derive(Default)]
struct Unit {
    /// The rendered text; soft and hard breaks are newlines, so that an attribution line in a
    /// blockquote can be told from the quote above it.
    text: String,
    links: Vec<UnitLink>,
    /// The text of the blockquote this paragraph directly follows.
    after_quote: Option<String>,
}

struct UnitLink {
    locator: String,
    line: usize,
    /// Where the link's text starts and ends in the unit's text.
    start: usize,
    end: usize,
}

/// A blockquote being read.
#[derive(Default)]
struct QuoteFrame {
    parts: Vec<String>,
    /// Citations inside it that found no quote of their own: they get its text.
    waiting: Vec<usize>,
}

struct Pending {
    found: Found,
    /// The label of the footnote definition the link is in.
    footnote: Option<String>,
}

#[derive(Default)]
struct Markdown {
    unit: Unit,
    /// The open link, when it is a citation: its index in the unit's links.
    open_link: Option<usize>,
    quotes: Vec<QuoteFrame>,
    /// The text of a blockquote that just ended, for the paragraph right after it.
    after_quote: Option<String>,
    footnote: Option<String>,
    code_blocks: usize,
    pending: Vec<Pending>,
    /// For each footnote label (lowercased), the quote right before its first reference that
    /// has one.
    reference_quotes: HashMap<String, String>,
}

fn read_markdown(text: &str) -> Parsed {
    let lines = Lines::new(text.as_bytes());
    let mut md = Markdown::default();
    for (event, range) in Parser::new_ext(text, Options::ENABLE_FOOTNOTES).into_offset_iter() {
        match event {
            Event::Start(tag) => md.start(tag, lines.line(range.start))?,
            Event::End(tag) => md.end(tag)?,
            Event::Text(t) | Event::Code(t) if md.code_blocks == 0 => md.unit.text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => md.unit.text.push('\n'),
            Event::FootnoteReference(label) => {
                if let Some(quote) = quote_before(&md.unit.text) {
                    md.reference_quotes
                        .entry(label.to_lowercase())
                        .or_insert(quote);
                }
            }
            _ => {}
        }
    }
    md.flush()?;
    Ok(md
        .pending
        .into_iter()
        .map(|mut p| {
            // A footnote cites what the body quotes at its reference; quoted words inside the
            // footnote are most often the cited article's title.
            if let Some(label) = &p.footnote {
                if let Some(quote) = md.reference_quotes.get(&label.to_lowercase()) {
                    p.found.quote = Some(quote.clone());
                }
                p.found.key = Some(label.clone());
            }
            p.found
        })
        .collect())
}

impl Markdown {
    fn start(&mut self, tag: Tag, line: usize) -> Result<(), String> {
        match tag {
            Tag::Link { dest_url, .. } => {
                self.open_link = None;
                if is_citable(&dest_url) {
                    self.open_link = Some(self.unit.links.len());
                    self.unit.links.push(UnitLink {
                        locator: dest_url.to_string(),
                        line,
                        start: self.unit.text.len(),
                        end: self.unit.text.len(),
                    });
                }
            }
            Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Image { .. } => {}
            block => {
                self.flush()?;
                let after_quote = self.after_quote.take();
                match block {
                    Tag::Paragraph => self.unit.after_quote = after_quote,
                    Tag::BlockQuote(_) => {
                        // Each blockquote's text is copied into the one around it: unbounded,
                        // that is quadratic in depth.
                        if self.quotes.len() >= MAX_NESTING {
                            return Err(format!(
                                "line {line}: blockquotes nested more than {MAX_NESTING} deep; \
                                 verbatim does not read citations from documents nested so deeply"
                            ));
                        }
                        self.quotes.push(QuoteFrame::default());
                    }
                    Tag::FootnoteDefinition(label) => self.footnote = Some(label.to_string()),
                    Tag::CodeBlock(_) => self.code_blocks += 1,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn end(&mut self, tag: TagEnd) -> Result<(), String> {
        match tag {
            TagEnd::Link => {
                if let Some(i) = self.open_link.take()
                    && let Some(link) = self.unit.links.get_mut(i)
                {
                    link.end = self.unit.text.len();
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Image => {}
            block => {
                self.flush()?;
                self.after_quote = None;
                match block {
                    TagEnd::BlockQuote(_) => {
                        let frame = self.quotes.pop().unwrap_or_default();
                        let text = collapse_whitespace(&frame.parts.join(" "));
                        if !text.is_empty() {
                            for &i in &frame.waiting {
                                if let Some(p) = self.pending.get_mut(i) {
                                    p.found.quote = Some(text.clone());
                                }
                            }
                            if let Some(outer) = self.quotes.last_mut() {
                                outer.parts.push(text.clone());
                            }
                            self.after_quote = Some(text);
                        }
                    }
                    TagEnd::FootnoteDefinition => self.footnote = None,
                    TagEnd::CodeBlock => self.code_blocks = self.code_blocks.saturating_sub(1),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Turns the links of the block just read into citations.
    fn flush(&mut self) -> Result<(), String> {
        let unit = std::mem::take(&mut self.unit);
        self.open_link = None;
        // A line starting with a dash attributes the quote; every link in such a paragraph
        // after a blockquote cites it. In a paragraph of prose after a blockquote, only the
        // first link does: the others are about something else.
        let attribution = is_attribution(&unit.text);
        for (i, link) in unit.links.iter().enumerate() {
            let next = unit.links.get(i + 1).map_or(unit.text.len(), |l| l.start);
            let accessed = accessed_in(unit.text.get(link.end..next).unwrap_or_default())
                .map_err(|e| format!("line {}: {e}", link.line))?;
            let mut quote = quote_before(&unit.text[..link.start]);
            if quote.is_none() && (i == 0 || attribution) {
                quote.clone_from(&unit.after_quote);
            }
            if quote.is_none()
                && let Some(frame) = self.quotes.last_mut()
            {
                frame.waiting.push(self.pending.len());
            }
            self.pending.push(Pending {
                found: Found {
                    locator: link.locator.clone(),
                    quote,
                    accessed,
                    line: link.line,
                    key: None,
                },
                footnote: self.footnote.clone(),
            });
        }
        if let Some(frame) = self.quotes.last_mut() {
            let quoted: Vec<&str> = unit
                .text
                .lines()
                .take_while(|line| !is_attribution(line))
                .collect();
            let quoted = collapse_whitespace(&quoted.join(" "));
            if !quoted.is_empty() {
                frame.parts.push(quoted);
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

/// Elements that make a block of their own: a link's "paragraph" is its nearest one of these.
const HTML_BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "html",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements whose text is no part of what a reader sees.
const HTML_UNSEEN: &[&str] = &["script", "style", "template", "noscript"];

fn is_block(element: ElementRef) -> bool {
    HTML_BLOCKS.contains(&element.value().name())
}

fn read_html(text: &str) -> Parsed {
    let lines = Lines::new(text.as_bytes());
    let document = Html::parse_document(text);
    let mut locator = Locate::new(text);
    let mut blocks = Blocks::default();
    let mut found = Vec::new();
    for element in document.root_element().descendent_elements() {
        let attribute = match element.value().name() {
            "blockquote" | "q" => "cite",
            "a" => "href",
            _ => continue,
        };
        let Some(url) = element.attr(attribute).map(str::trim) else {
            continue;
        };
        if !is_citable(url) {
            continue;
        }
        let line = locator.line(url, &lines);
        let (quote, accessed) = match element.value().name() {
            "a" => {
                let Some(cited) = html_link(element, url, &mut blocks) else {
                    continue;
                };
                cited
            }
            "blockquote" => (
                clean_quote(&quotation_text(element)),
                accessed_within(element),
            ),
            _ => (
                clean_quote(&element.text().collect::<String>()),
                accessed_within(element),
            ),
        };
        found.push(Found {
            locator: url.to_owned(),
            quote,
            accessed: accessed.map_err(|e| format!("line {line}: {e}"))?,
            line,
            key: None,
        });
    }
    Ok(found)
}

/// Finds the lines of cited URLs in the source, in document order.
struct Locate<'t> {
    source: &'t str,
    cursor: usize,
    /// Bytes that searches which found nothing may still read. A found URL moves the cursor
    /// past it, so those searches read the source about once in all; one that finds nothing
    /// reads to the end, and a page of links spelt with entities would make that quadratic.
    budget: usize,
}

impl<'t> Locate<'t> {
    fn new(source: &'t str) -> Locate<'t> {
        Locate {
            source,
            cursor: 0,
            budget: source.len().saturating_mul(4).max(1 << 20),
        }
    }

    /// The line of the next occurrence of a URL in the source; 0 when the source spells it
    /// differently (entities other than `&amp;`), or when too much was read looking in vain.
    fn line(&mut self, url: &str, lines: &Lines) -> usize {
        for spelling in [url.to_owned(), url.replace('&', "&amp;")] {
            let rest = self.source.get(self.cursor..).unwrap_or_default();
            let mut window = rest.len().min(self.budget.saturating_add(spelling.len()));
            while !rest.is_char_boundary(window) {
                window -= 1;
            }
            if let Some(i) = rest[..window].find(&spelling) {
                let at = self.cursor + i;
                self.cursor = at + spelling.len();
                return lines.line(at);
            }
            self.budget = self.budget.saturating_sub(window);
        }
        0
    }
}

type Accessed = Result<Option<Date>, String>;

/// An element's identity, for the caches below: its address in the parsed document, which
/// holds still while the document lives (the node id type is not exported by scraper).
fn element_key(element: ElementRef) -> usize {
    std::ptr::from_ref(element.value()).addr()
}

/// What is read once per block or blockquote, however many links it holds: reading it again
/// for each link would be quadratic in a block of many links.
#[derive(Default)]
struct Blocks<'a> {
    /// Each block's flow.
    flows: HashMap<usize, Flow<'a>>,
    /// Each quotation's text, cleaned.
    quotations: HashMap<usize, Option<String>>,
    /// For each block, the text of the blockquote right before it, when one is.
    previous_quotes: HashMap<usize, Option<String>>,
}

impl<'a> Blocks<'a> {
    fn quotation(&mut self, blockquote: ElementRef<'a>) -> Option<String> {
        self.quotations
            .entry(element_key(blockquote))
            .or_insert_with(|| clean_quote(&quotation_text(blockquote)))
            .clone()
    }
}

/// The quote and accessed date of an `<a href>`; `None` when it only repeats the `cite` of the
/// blockquote it is in, which is already the citation.
fn html_link<'a>(
    link: ElementRef<'a>,
    url: &str,
    blocks: &mut Blocks<'a>,
) -> Option<(Option<String>, Accessed)> {
    let ancestors = || link.ancestors().filter_map(ElementRef::wrap);
    let blockquote = ancestors().find(|e| e.value().name() == "blockquote");
    if blockquote.is_some_and(|b| b.attr("cite").map(str::trim) == Some(url)) {
        return None;
    }
    let block = ancestors().find(|&e| is_block(e))?;
    let flow = blocks
        .flows
        .entry(element_key(block))
        .or_insert_with(|| Flow::of(block));
    let index = *flow.link_index.get(&element_key(link))?;
    let (_, start, end) = flow.links[index];
    let next = flow.links.get(index + 1).map_or(flow.text.len(), |l| l.1);
    let quote = quote_before(&flow.text[..start]);
    let accessed = flow.accessed(start..end, next);
    let attribution = flow.attribution;
    if quote.is_some() {
        return Some((quote, accessed));
    }
    let quote = if let Some(blockquote) = blockquote {
        blocks.quotation(blockquote)
    } else if index == 0 || attribution {
        blocks
            .previous_quotes
            .entry(element_key(block))
            .or_insert_with(|| {
                previous_element(block)
                    .filter(|p| p.value().name() == "blockquote")
                    .and_then(|p| clean_quote(&quotation_text(p)))
            })
            .clone()
    } else {
        None
    };
    Some((quote, accessed))
}

/// The element right before another, past whitespace and comments.
fn previous_element(element: ElementRef) -> Option<ElementRef> {
    for sibling in element.prev_siblings() {
        match sibling.value() {
            Node::Element(_) => return ElementRef::wrap(sibling),
            Node::Text(t) if t.trim().is_empty() => {}
            Node::Comment(_) => {}
            _ => return None,
        }
    }
    None
}

/// The text of a quotation, without its attribution: `<footer>`, `<cite>`, and blocks that
/// start with a dash.
fn quotation_text(blockquote: ElementRef) -> String {
    /// What is left to read, next last: an explicit stack, since elements nest as deep as the
    /// document likes and recursion could overflow the thread's stack.
    enum Step<'a> {
        Text(&'a str),
        Children(ElementRef<'a>),
        Space,
    }
    let mut out = String::new();
    let mut stack = vec![Step::Children(blockquote)];
    let mut steps = Vec::new();
    while let Some(step) = stack.pop() {
        let element = match step {
            Step::Text(t) => {
                out.push_str(t);
                continue;
            }
            Step::Space => {
                out.push(' ');
                continue;
            }
            Step::Children(element) => element,
        };
        for child in element.children() {
            match child.value() {
                Node::Text(t) => steps.push(Step::Text(t)),
                Node::Element(e) => {
                    let name = e.name();
                    if HTML_UNSEEN.contains(&name) || name == "footer" || name == "cite" {
                        continue;
                    }
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    if is_block(child) {
                        if starts_with_attribution(child) {
                            continue;
                        }
                        steps.push(Step::Space);
                        steps.push(Step::Children(child));
                        steps.push(Step::Space);
                    } else if name == "br" {
                        steps.push(Step::Space);
                    } else {
                        steps.push(Step::Children(child));
                    }
                }
                _ => {}
            }
        }
        // The children were gathered in order; the stack gives back last what went in first.
        stack.extend(steps.drain(..).rev());
    }
    out
}

/// Whether an element's text starts as an attribution does, reading only as much of it as
/// that takes: a quotation's blocks are each tested, and reading each one's whole text would
/// make nested blocks quadratic.
fn starts_with_attribution(element: ElementRef) -> bool {
    let mut start = String::new();
    for piece in element.text() {
        start.push_str(if start.is_empty() {
            piece.trim_start()
        } else {
            piece
        });
        // `is_attribution` looks at two characters at most.
        if start.chars().nth(1).is_some() {
            break;
        }
    }
    is_attribution(&start)
}

/// The value of a `<time>`: its `datetime`, or else its text.
fn time_value(time: ElementRef) -> String {
    time.attr("datetime")
        .map_or_else(|| time.text().collect(), str::to_owned)
}

/// A date from a `<time>` value; not date-shaped values (a year, a duration) are no date.
fn time_date(value: &str) -> Accessed {
    iso_date(value)
        .transpose()
        .map_err(|e| format!("the accessed date {e}"))
}

/// The accessed date in a quotation: a `<time>` in it, or `accessed YYYY-MM-DD`.
fn accessed_within(element: ElementRef) -> Accessed {
    for time in element
        .descendent_elements()
        .filter(|e| e.value().name() == "time")
    {
        if let Some(date) = time_date(&time_value(time))? {
            return Ok(Some(date));
        }
    }
    accessed_in(&element.text().collect::<String>())
}

/// The text of one block as read, with where its links and dates are in it. Blocks inside it
/// are left out: their links have that block as their paragraph.
#[derive(Default)]
struct Flow<'a> {
    text: String,
    links: Vec<(ElementRef<'a>, usize, usize)>,
    /// Each link's index in `links`, by [`element_key`].
    link_index: HashMap<usize, usize>,
    /// `<time>` values and where they are in the text, in order.
    times: Vec<(usize, String)>,
    /// Whether the block attributes a quotation (starts with a dash).
    attribution: bool,
}

impl<'a> Flow<'a> {
    fn of(block: ElementRef<'a>) -> Flow<'a> {
        let mut flow = Flow::default();
        flow.read(block);
        flow.link_index = flow
            .links
            .iter()
            .enumerate()
            .map(|(i, (link, _, _))| (element_key(*link), i))
            .collect();
        flow.attribution = is_attribution(&flow.text);
        flow
    }

    fn read(&mut self, block: ElementRef<'a>) {
        /// What is left to read, next last: an explicit stack, since inline elements nest as
        /// deep as the document likes and recursion could overflow the thread's stack.
        enum Step<'a> {
            Text(&'a str),
            Element(ElementRef<'a>),
            Children(ElementRef<'a>),
            Push(char),
            LinkEnd(ElementRef<'a>, usize),
        }
        let mut stack = vec![Step::Children(block)];
        let mut steps = Vec::new();
        while let Some(step) = stack.pop() {
            match step {
                Step::Text(t) => self.text.push_str(t),
                Step::Push(c) => self.text.push(c),
                Step::LinkEnd(link, start) => {
                    if link.attr("href").is_some() {
                        self.links.push((link, start, self.text.len()));
                    }
                }
                Step::Children(element) => {
                    for child in element.children() {
                        match child.value() {
                            Node::Text(t) => steps.push(Step::Text(t)),
                            Node::Element(_) => {
                                if let Some(child) = ElementRef::wrap(child) {
                                    steps.push(Step::Element(child));
                                }
                            }
                            _ => {}
                        }
                    }
                    // Gathered in order; the stack gives back last what went in first.
                    stack.extend(steps.drain(..).rev());
                }
                Step::Element(child) => {
                    let name = child.value().name();
                    if HTML_UNSEEN.contains(&name) {
                        continue;
                    }
                    if is_block(child) {
                        self.text.push('\n');
                        continue;
                    }
                    match name {
                        "br" => self.text.push('\n'),
                        // Browsers show a <q> in quotation marks; so does the text a link's
                        // quote is found in.
                        "q" => {
                            self.text.push('“');
                            stack.push(Step::Push('”'));
                            stack.push(Step::Children(child));
                        }
                        "a" => {
                            stack.push(Step::LinkEnd(child, self.text.len()));
                            stack.push(Step::Children(child));
                        }
                        "time" => {
                            self.times.push((self.text.len(), time_value(child)));
                            stack.push(Step::Children(child));
                        }
                        _ => stack.push(Step::Children(child)),
                    }
                }
            }
        }
    }

    /// The accessed date of the link at `link`: written after it, before the next link; or,
    /// when the link is the block's only one, anywhere in the block.
    fn accessed(&self, link: std::ops::Range<usize>, next: usize) -> Accessed {
        let after = link.end..next;
        // The times are in text order: only those after this link and before the next are
        // read, so that a block of many links and dates is read once, not once per link.
        let first = self.times.partition_point(|(at, _)| *at < after.start);
        for (at, value) in &self.times[first..] {
            if !after.contains(at) {
                break;
            }
            if let Some(date) = time_date(value)? {
                return Ok(Some(date));
            }
        }
        if let Some(date) = accessed_in(self.text.get(after).unwrap_or_default())? {
            return Ok(Some(date));
        }
        if self.links.len() == 1 {
            for (_, value) in &self.times {
                if let Some(date) = time_date(value)? {
                    return Ok(Some(date));
                }
            }
            return accessed_in(&self.text);
        }
        Ok(None)
    }
}

// ---------------------------------------------------------------------------------------------
// BibTeX and BibLaTeX
// ---------------------------------------------------------------------------------------------

/// Free-text fields a quote may be written in.
const BIBTEX_NOTES: &[&str] = &["note", "annote", "annotation", "addendum"];

/// `\url{…}` or `\href{…}{…}`, as `howpublished` holds a URL in BibTeX, which has no `url` field.
static URL_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\(?:url|href)\s*\{([^{}]*)\}").expect("the pattern is a valid regex")
});

/// A LaTeX command with one argument, `\emph{word}`: its argument is what a reader sees.
static LATEX_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\[A-Za-z]+\*?\s*\{([^{}]*)\}").expect("the pattern is a valid regex")
});

fn read_bibtex(text: &str) -> Parsed {
    let lines = Lines::new(text.as_bytes());
    let malformed =
        |e: biblatex::ParseError| format!("line {}: {}", lines.line(e.span.start), e.kind);
    let raw = RawBibliography::parse(text).map_err(malformed)?;
    // The resolved bibliography keeps neither where an entry is nor a field as written, and
    // `howpublished` is resolved as prose (dashes and all), which would mangle a URL in it.
    let mut entry_lines = HashMap::new();
    let mut published_urls = HashMap::new();
    for entry in &raw.entries {
        let key = entry.v.key.v.to_owned();
        entry_lines.insert(key.clone(), lines.line(entry.span.start));
        for field in &entry.v.fields {
            if !field.key.v.eq_ignore_ascii_case("howpublished") {
                continue;
            }
            let written: String = field
                .value
                .v
                .iter()
                .filter_map(|chunk| match chunk.v {
                    RawChunk::Normal(s) => Some(s),
                    RawChunk::Abbreviation(_) => None,
                })
                .collect();
            if let Some(url) = URL_COMMAND.captures(&written).and_then(|c| c.get(1)) {
                published_urls.insert(key.clone(), unescape_url(url.as_str()));
            }
        }
    }
    let bibliography = Bibliography::from_raw(raw).map_err(malformed)?;
    let mut found = Vec::new();
    for entry in bibliography.iter() {
        let line = entry_lines.get(&entry.key).copied().unwrap_or(0);
        let field = |name: &str| entry.get(name).map(|chunks| chunks.format_verbatim());
        let Some(url) = field("url").or_else(|| published_urls.get(&entry.key).cloned()) else {
            continue;
        };
        let url = url.trim();
        if !is_citable(url) {
            continue;
        }
        let notes: Vec<String> = BIBTEX_NOTES.iter().filter_map(|name| field(name)).collect();
        let quote = field("quote")
            .and_then(|q| clean_quote(&clean_latex(&q)))
            .or_else(|| {
                notes
                    .iter()
                    .find_map(|note| first_quoted(note))
                    .and_then(|q| clean_quote(&clean_latex(q)))
            });
        let malformed = |e: String| format!("line {line}: entry {}: {e}", entry.key);
        let accessed = match field("urldate").as_deref().and_then(iso_date) {
            Some(date) => Some(date.map_err(|e| malformed(format!("urldate {e}")))?),
            // "Accessed: 2024-03-12" in a note is how BibTeX styles without urldate say it.
            None => match field("urldate") {
                Some(_) => None,
                None => {
                    let mut accessed = None;
                    for note in notes.iter().chain(field("howpublished").as_ref()) {
                        accessed = accessed_in(note).map_err(malformed)?;
                        if accessed.is_some() {
                            break;
                        }
                    }
                    accessed
                }
            },
        };
        found.push(Found {
            locator: url.to_owned(),
            quote,
            accessed,
            line,
            key: Some(entry.key.clone()),
        });
    }
    Ok(found)
}

/// A URL in `\url{…}` or `\href{…}`, where `%`, `#`, `&`, `_` and `~` may be escaped.
fn unescape_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut chars = url.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| "%#&_~$".contains(*n)) {
            continue;
        }
        out.push(c);
    }
    out
}

/// Minimal LaTeX cleaning of a quote, so that it reads as the source does.
fn clean_latex(text: &str) -> String {
    let mut text = text.to_owned();
    // Nested commands unwrap from the inside out; the bound keeps a pathological field cheap.
    for _ in 0..8 {
        let unwrapped = LATEX_COMMAND.replace_all(&text, "$1").into_owned();
        if unwrapped == text {
            break;
        }
        text = unwrapped;
    }
    text.replace("\\&", "&")
        .replace("\\%", "%")
        .replace("\\$", "$")
        .replace("\\#", "#")
        .replace("\\_", "_")
        .replace("---", "—")
        .replace("--", "–")
        .replace('~', " ")
        .replace(['{', '}'], "")
}

// ---------------------------------------------------------------------------------------------
// CSL-JSON
// ---------------------------------------------------------------------------------------------

fn read_csl_json(text: &str) -> Parsed {
    use serde_json::Value;

    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let items = match value {
        Value::Array(items) => items,
        item @ Value::Object(_) => vec![item],
        _ => return Err("expected a CSL-JSON array of items, or one item".to_owned()),
    };
    let mut found = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let Some(item) = item.as_object() else {
            return Err(format!("item {}: not an object", n + 1));
        };
        let key = match item.get("id") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Number(id)) => Some(id.to_string()),
            _ => None,
        };
        let name = match &key {
            Some(id) => format!("item {} ({id})", n + 1),
            None => format!("item {}", n + 1),
        };
        let url = match item.get("URL") {
            None | Some(Value::Null) => continue,
            Some(Value::String(url)) => url.trim(),
            Some(_) => return Err(format!("{name}: URL is not a string")),
        };
        if !is_citable(url) {
            continue;
        }
        let accessed = match item.get("accessed") {
            None | Some(Value::Null) => None,
            Some(date) => csl_date(date).map_err(|e| format!("{name}: accessed {e}"))?,
        };
        let quote = match item.get("quote") {
            Some(Value::String(quote)) => clean_quote(quote),
            _ => item
                .get("note")
                .and_then(Value::as_str)
                .and_then(first_quoted)
                .and_then(clean_quote),
        };
        found.push(Found {
            locator: url.to_owned(),
            quote,
            accessed,
            line: 0,
            key,
        });
    }
    Ok(found)
}

/// A CSL date: `{"date-parts": [[2024, 3, 12]]}` (parts may be strings), `{"raw": "…"}`, or a
/// bare string. Only a full date is a date; a year or a month is none.
fn csl_date(value: &serde_json::Value) -> Result<Option<Date>, String> {
    use serde_json::Value;

    let from_text = |text: &str| iso_date(text).transpose();
    match value {
        Value::String(text) => from_text(text),
        Value::Object(date) => {
            if let Some(parts) = date.get("date-parts") {
                let first = parts
                    .as_array()
                    .and_then(|ranges| ranges.first())
                    .and_then(Value::as_array)
                    .ok_or("date-parts is not a list of lists")?;
                let mut numbers = Vec::with_capacity(3);
                for part in first.iter().take(3) {
                    let number = match part {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    numbers
                        .push(number.ok_or_else(|| format!("date part {part} is not a number"))?);
                }
                match numbers[..] {
                    [year, month, day] => date_from_parts(year, month, day).map(Some),
                    _ => Ok(None),
                }
            } else if let Some(raw) = date.get("raw").and_then(Value::as_str) {
                from_text(raw)
            } else {
                Ok(None)
            }
        }
        _ => Err("is not a CSL date".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// TOML and YAML lists
// ---------------------------------------------------------------------------------------------

/// A TOML citation list: `[[citation]]` tables (or `[[citations]]`); other keys are the
/// author's own.
#[derive(serde::Deserialize)]
struct TomlList {
    #[serde(default)]
    citation: Vec<toml::Spanned<toml::Table>>,
    #[serde(default)]
    citations: Vec<toml::Spanned<toml::Table>>,
}

fn read_toml(text: &str) -> Parsed {
    let lines = Lines::new(text.as_bytes());
    let list: TomlList = toml::from_str(text).map_err(|e| {
        let message = collapse_whitespace(e.message());
        match e.span() {
            Some(span) => format!("line {}: {message}", lines.line(span.start)),
            None => message,
        }
    })?;
    let mut tables = list.citation;
    tables.extend(list.citations);
    tables.sort_by_key(|t| t.span().start);
    let mut found = Vec::new();
    for (n, table) in tables.iter().enumerate() {
        let line = lines.line(table.span().start);
        let name = format!("citation {} (line {line})", n + 1);
        let text_field = |field: &str| match table.get_ref().get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{name}: {field} is not a string")),
        };
        let accessed = match table.get_ref().get("accessed") {
            None => None,
            Some(toml::Value::Datetime(datetime)) => match &datetime.date {
                Some(d) => Some(
                    date_from_parts(d.year.into(), d.month.into(), d.day.into())
                        .map_err(|e| format!("{name}: accessed {e}"))?,
                ),
                None => return Err(format!("{name}: accessed {datetime} is a time, not a date")),
            },
            Some(toml::Value::String(s)) => Some(list_date(s, &name)?),
            Some(_) => return Err(format!("{name}: accessed is not a date")),
        };
        found.push(list_entry(
            text_field("url")?,
            text_field("quote")?,
            accessed,
            text_field("key")?.map(str::to_owned),
            line,
            &name,
        )?);
    }
    Ok(found)
}

fn read_yaml(text: &str) -> Parsed {
    use serde_yaml_ng::Value;

    let value: Value =
        serde_yaml_ng::from_str(text).map_err(|e| collapse_whitespace(&e.to_string()))?;
    let shape = "expected a list of citations, or a map with a citations list";
    let items = match &value {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        Value::Mapping(map) => match map.get("citations").or_else(|| map.get("citation")) {
            Some(Value::Sequence(items)) => items,
            _ => return Err(shape.to_owned()),
        },
        _ => return Err(shape.to_owned()),
    };
    let mut found = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let name = format!("citation {}", n + 1);
        let Value::Mapping(item) = item else {
            return Err(format!("{name}: not a map"));
        };
        let text_field = |field: &str| match item.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{name}: {field} is not a string")),
        };
        let key = match item.get("key") {
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => text_field("key")?.map(str::to_owned),
        };
        let accessed = match text_field("accessed")? {
            Some(date) => Some(list_date(date, &name)?),
            None => None,
        };
        found.push(list_entry(
            text_field("url")?,
            text_field("quote")?,
            accessed,
            key,
            0,
            &name,
        )?);
    }
    Ok(found)
}

/// An accessed date written as a string in a list: it must be a full date.
fn list_date(text: &str, name: &str) -> Result<Date, String> {
    match iso_date(text) {
        Some(Ok(date)) => Ok(date),
        Some(Err(e)) => Err(format!("{name}: accessed {e}")),
        None => Err(format!(
            "{name}: accessed {text:?} is not a YYYY-MM-DD date"
        )),
    }
}

/// One entry of a TOML or YAML list. Its author wrote it down as a citation, so a missing or
/// uncapturable URL is an error rather than something to skip.
fn list_entry(
    url: Option<&str>,
    quote: Option<&str>,
    accessed: Option<Date>,
    key: Option<String>,
    line: usize,
    name: &str,
) -> Result<Found, String> {
    let Some(url) = url.map(str::trim) else {
        return Err(format!("{name}: no url"));
    };
    if !is_citable(url) {
        return Err(format!(
            "{name}: url {url} is not an http, https or file URL"
        ));
    }
    Ok(Found {
        locator: url.to_owned(),
        quote: quote.and_then(clean_quote),
        accessed,
        line,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cite(
        locator: &str,
        quote: Option<&str>,
        accessed: Option<Date>,
        file: &str,
        line: usize,
        key: Option<&str>,
    ) -> Citation {
        Citation {
            locator: locator.to_owned(),
            quote: quote.map(str::to_owned),
            accessed,
            file: file.to_owned(),
            line,
            key: key.map(str::to_owned),
        }
    }

    fn malformed(format: Format, text: &str) -> String {
        match parse(format, text, "bad") {
            Err(Error::Malformed { path, detail }) => {
                assert_eq!(path, "bad");
                detail
            }
            other => panic!("expected Error::Malformed, got {other:?}"),
        }
    }

    const ESSAY: &str = r#"# The figures that changed

The report was clear. "The agency has no plans to revise the figures" ([The Example Times](https://times.example.com/2024/03/figures)) (accessed 2024-03-12), and yet it did.
“We stand by every number,” [said](https://news.example.org/agency-statement) a spokesperson.

> The figures were revised after a review of the
> underlying survey data.
>
> Nothing else changed.

— [Agency press release][release]

Later the minister wrote that “the review was routine”[^1], which few believed.
The editors called it „eine Korrektur“[^src].
See also [the archive](https://archive.example.net/figures), [the appendix](#appendix),
[a local copy](notes/figures.txt), <mailto:press@example.com> and <https://stats.example.gov/table-7>.

[release]: https://agency.example.gov/press/2024-03-15 "Press release"

[^1]: [Minister's blog](https://minister.example.eu/posts/review), accessed: 2024-03-20.

[^src]: Jane Doe, “Figures Revised,” [The Example Times](https://times.example.com/2024/03/revised).
"#;

    #[test]
    fn markdown_essay() {
        let found = parse(Format::Markdown, ESSAY, "essay.md").expect("the essay parses");
        let f = "essay.md";
        assert_eq!(
            found,
            [
                cite(
                    "https://times.example.com/2024/03/figures",
                    Some("The agency has no plans to revise the figures"),
                    Some(date(2024, 3, 12)),
                    f,
                    3,
                    None,
                ),
                cite(
                    "https://news.example.org/agency-statement",
                    Some("We stand by every number"),
                    None,
                    f,
                    4,
                    None,
                ),
                cite(
                    "https://agency.example.gov/press/2024-03-15",
                    Some(
                        "The figures were revised after a review of the underlying survey data. \
                         Nothing else changed."
                    ),
                    None,
                    f,
                    11,
                    None,
                ),
                cite(
                    "https://archive.example.net/figures",
                    None,
                    None,
                    f,
                    15,
                    None,
                ),
                cite("https://stats.example.gov/table-7", None, None, f, 16, None),
                cite(
                    "https://minister.example.eu/posts/review",
                    Some("the review was routine"),
                    Some(date(2024, 3, 20)),
                    f,
                    20,
                    Some("1"),
                ),
                cite(
                    "https://times.example.com/2024/03/revised",
                    Some("eine Korrektur"),
                    None,
                    f,
                    22,
                    Some("src"),
                ),
            ]
        );
    }

    #[test]
    fn markdown_link_inside_blockquote_cites_its_text() {
        let text = "Intro.\n\n> Prices will fall,\n> the governor said.\n> — [Central Bank](https://bank.example/speech)\n\nAfter, [unrelated](https://other.example/) and [more](https://more.example/).\n";
        let found = parse(Format::Markdown, text, "q.md").expect("parses");
        assert_eq!(
            found,
            [
                cite(
                    "https://bank.example/speech",
                    Some("Prices will fall, the governor said."),
                    None,
                    "q.md",
                    5,
                    None,
                ),
                // Prose after a blockquote: only its first link cites the quote.
                cite(
                    "https://other.example/",
                    Some("Prices will fall, the governor said."),
                    None,
                    "q.md",
                    7,
                    None,
                ),
                cite("https://more.example/", None, None, "q.md", 7, None),
            ]
        );
    }

    #[test]
    fn markdown_quote_marks_and_separators() {
        let cases = [
            (
                "«Rien ne change» — [Le Monde](https://lemonde.example/a)",
                Some("Rien ne change"),
            ),
            (
                "He said ‘no comment’: [source](https://a.example/)",
                Some("no comment"),
            ),
            ("the agencies’ [report](https://a.example/)", None),
            ("a \"quote\" then words [x](https://a.example/)", None),
            ("say \" [x](https://a.example/)", None),
        ];
        for (text, quote) in cases {
            let found = parse(Format::Markdown, text, "m.md").expect("parses");
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].quote.as_deref(), quote, "{text}");
        }
    }

    #[test]
    fn markdown_skips_links_that_are_not_citations() {
        let text = "Write to [us](mailto:press@example.com) or <press@example.com>, see [below](#notes),\n[the copy](../copy.html) and [ftp](ftp://files.example/x).\n\n```\n[code](https://not.a.link/)\n```\n";
        let found = parse(Format::Markdown, text, "m.md").expect("parses");
        assert_eq!(found, []);
    }

    #[test]
    fn markdown_malformed_accessed_date() {
        let detail = malformed(
            Format::Markdown,
            "Intro.\n\nSee [it](https://a.example/) (accessed 2024-02-30).\n",
        );
        assert_eq!(
            detail,
            "line 3: the accessed date 2024-02-30 is not a valid date"
        );
    }

    const PAGE: &str = r##"<!DOCTYPE html>
<html>
<head><title>Notes on the revision</title></head>
<body>
<article>
<blockquote cite="https://times.example.com/2024/03/figures">
  <p>The agency has no plans to
     revise the figures.</p>
  <footer>— <cite>The Example Times</cite>, retrieved <time datetime="2024-03-12">12 March</time></footer>
</blockquote>
<p>The minister called it <q cite="https://minister.example.eu/posts/review">a routine review</q>.</p>
<blockquote>
  <p>We stand by every number.</p>
</blockquote>
<p>— <a href="https://agency.example.gov/press/2024-03-15">Agency press release</a> (accessed 2024-03-15)</p>
<blockquote>
  <p>Prices will fall.</p>
  <footer><a href="https://bank.example/speech?id=7&amp;lang=en">Central Bank</a></footer>
</blockquote>
<h2>Reactions</h2>
<p>“A correction, not a cover-up,” <a href="https://news.example.org/editorial">wrote the editors</a>.
See <a href="https://archive.example.net/figures">the archive</a>, <a href="#notes">notes</a>,
<a href="/local/copy.html">a copy</a> and <a href="mailto:press@example.com">the press office</a>.</p>
</article>
</body>
</html>
"##;

    #[test]
    fn html_page() {
        let found = parse(Format::Html, PAGE, "page.html").expect("the page parses");
        let f = "page.html";
        assert_eq!(
            found,
            [
                cite(
                    "https://times.example.com/2024/03/figures",
                    Some("The agency has no plans to revise the figures."),
                    Some(date(2024, 3, 12)),
                    f,
                    6,
                    None,
                ),
                cite(
                    "https://minister.example.eu/posts/review",
                    Some("a routine review"),
                    None,
                    f,
                    11,
                    None,
                ),
                cite(
                    "https://agency.example.gov/press/2024-03-15",
                    Some("We stand by every number."),
                    Some(date(2024, 3, 15)),
                    f,
                    15,
                    None,
                ),
                cite(
                    "https://bank.example/speech?id=7&lang=en",
                    Some("Prices will fall."),
                    None,
                    f,
                    18,
                    None,
                ),
                cite(
                    "https://news.example.org/editorial",
                    Some("A correction, not a cover-up"),
                    None,
                    f,
                    21,
                    None,
                ),
                cite(
                    "https://archive.example.net/figures",
                    None,
                    None,
                    f,
                    22,
                    None
                ),
            ]
        );
    }

    #[test]
    fn html_link_repeating_blockquote_cite_is_one_citation() {
        let text = "<blockquote cite=\"https://a.example/x\"><p>Words.</p>\n<footer><a href=\"https://a.example/x\">A</a></footer></blockquote>\n<p><q>Said</q> (<a href=\"https://b.example/\">B</a>)</p>";
        let found = parse(Format::Html, text, "p.html").expect("parses");
        assert_eq!(
            found,
            [
                cite(
                    "https://a.example/x",
                    Some("Words."),
                    None,
                    "p.html",
                    1,
                    None
                ),
                cite("https://b.example/", Some("Said"), None, "p.html", 3, None),
            ]
        );
    }

    #[test]
    fn html_skips_links_that_are_not_citations() {
        let text = "<p><a href=\"mailto:a@b.example\">mail</a> <a href=\"#top\">top</a> <a href=\"page2.html\">next</a> <a>none</a></p><blockquote cite=\"notes.html\">Q</blockquote>";
        assert_eq!(parse(Format::Html, text, "p.html").expect("parses"), []);
    }

    #[test]
    fn html_malformed_time() {
        let text = "<p>\n<a href=\"https://a.example/\">A</a>, read <time datetime=\"2024-13-01\">then</time></p>";
        let detail = malformed(Format::Html, text);
        assert_eq!(
            detail,
            "line 2: the accessed date 2024-13-01 is not a valid date"
        );
    }

    const ZOTERO_BIB: &str = r#"
@online{smithAgencyRevisesFigures2024,
	title = {Agency Revises Its Figures},
	url = {https://times.example.com/2024/03/figures},
	abstract = {The agency revised its quarterly figures.},
	titleaddon = {The Example Times},
	author = {Smith, Jane},
	urldate = {2024-03-12},
	date = {2024-03-11},
	langid = {english},
	note = {The article said ``the agency has no plans to revise the figures---none at all''},
}

@misc{agencyPressRelease2024,
	title = {Press release: {Q1} figures},
	howpublished = {\url{https://agency.example.gov/press/2024-03-15--final}},
	author = {{Statistics Agency}},
	year = {2024},
	note = {Accessed: 2024-03-15},
}

@article{doeReview2024,
	title = {A Routine Review?},
	journaltitle = {Policy Quarterly},
	author = {Doe, John},
	date = {2024},
	url = {https://journal.example.org/articles/42},
	urldate = {2024-03},
	annotation = {Quotes the minister: \enquote{a routine review of R\&D~spending}},
}

@book{roeStatistics2020,
	title = {Statistics},
	author = {Roe, Richard},
	date = {2020},
	url = {mailto:roe@example.com},
}

@online{quoted,
	url = {https://blog.example/post},
	quote = {It was {never} a cover-up -- \emph{never}.},
}
"#;

    #[test]
    fn bibtex_zotero_export() {
        let found = parse(Format::Bibtex, ZOTERO_BIB, "refs.bib").expect("the file parses");
        let f = "refs.bib";
        assert_eq!(
            found,
            [
                cite(
                    "https://times.example.com/2024/03/figures",
                    Some("the agency has no plans to revise the figures—none at all"),
                    Some(date(2024, 3, 12)),
                    f,
                    2,
                    Some("smithAgencyRevisesFigures2024"),
                ),
                cite(
                    "https://agency.example.gov/press/2024-03-15--final",
                    None,
                    Some(date(2024, 3, 15)),
                    f,
                    14,
                    Some("agencyPressRelease2024"),
                ),
                cite(
                    "https://journal.example.org/articles/42",
                    Some("a routine review of R&D spending"),
                    None,
                    f,
                    22,
                    Some("doeReview2024"),
                ),
                cite(
                    "https://blog.example/post",
                    Some("It was never a cover-up – never."),
                    None,
                    f,
                    39,
                    Some("quoted"),
                ),
            ]
        );
    }

    #[test]
    fn bibtex_malformed() {
        let detail = malformed(
            Format::Bibtex,
            "@misc{a,\n  title = {A}\n  url = {https://a.example/}\n}\n",
        );
        assert_eq!(detail, "line 3: expected comma");
        let detail = malformed(
            Format::Bibtex,
            "@misc{a,\n  url = {https://a.example/},\n  urldate = {2024-02-30},\n}\n",
        );
        assert_eq!(
            detail,
            "line 1: entry a: urldate 2024-02-30 is not a valid date"
        );
        let detail = malformed(Format::Bibtex, "@misc{a, title = {Open\n");
        assert_eq!(detail, "line 2: unexpected end of file");
        let detail = malformed(
            Format::Bibtex,
            "@misc{a, url = {https://a.example/}}\n@misc{a, url = {https://b.example/}}\n",
        );
        assert_eq!(detail, "line 2: duplicate key \"a\"");
    }

    const CSL: &str = r#"[
  {
    "id": "smithAgencyRevisesFigures2024",
    "type": "article-newspaper",
    "title": "Agency revises its figures",
    "container-title": "The Example Times",
    "URL": "https://times.example.com/2024/03/figures",
    "note": "The article said “the agency has no plans to revise the figures”.\nCitation Key: smith2024",
    "author": [{"family": "Smith", "given": "Jane"}],
    "accessed": {"date-parts": [["2024", 3, 12]]},
    "issued": {"date-parts": [[2024, 3, 11]]}
  },
  {
    "id": "agencyPressRelease2024",
    "type": "webpage",
    "URL": "https://agency.example.gov/press/2024-03-15",
    "quote": "We stand by\n every number.",
    "accessed": {"raw": "2024-03-15"}
  },
  {"id": "roeStatistics2020", "type": "book", "title": "Statistics"},
  {"id": 7, "type": "webpage", "URL": "file:///home/jane/notes.txt", "accessed": {"date-parts": [[2024, 3]]}},
  {"id": "mail", "type": "webpage", "URL": "mailto:press@example.com"}
]"#;

    #[test]
    fn csl_json_export() {
        let found = parse(Format::CslJson, CSL, "refs.json").expect("the export parses");
        let f = "refs.json";
        assert_eq!(
            found,
            [
                cite(
                    "https://times.example.com/2024/03/figures",
                    Some("the agency has no plans to revise the figures"),
                    Some(date(2024, 3, 12)),
                    f,
                    0,
                    Some("smithAgencyRevisesFigures2024"),
                ),
                cite(
                    "https://agency.example.gov/press/2024-03-15",
                    Some("We stand by every number."),
                    Some(date(2024, 3, 15)),
                    f,
                    0,
                    Some("agencyPressRelease2024"),
                ),
                cite("file:///home/jane/notes.txt", None, None, f, 0, Some("7")),
            ]
        );
        let one = r#"{"id": "x", "URL": "https://a.example/", "accessed": "2024-01-02"}"#;
        assert_eq!(
            parse(Format::CslJson, one, "one.json").expect("one item parses"),
            [cite(
                "https://a.example/",
                None,
                Some(date(2024, 1, 2)),
                "one.json",
                0,
                Some("x"),
            )]
        );
    }

    #[test]
    fn csl_json_malformed() {
        let detail = malformed(Format::CslJson, "[\n  {\"id\": \"a\",\n  \"URL\": }\n]");
        assert_eq!(detail, "expected value at line 3 column 10");
        assert_eq!(malformed(Format::CslJson, "[1]"), "item 1: not an object");
        assert_eq!(
            malformed(Format::CslJson, r#"[{"id": "a", "URL": 5}]"#),
            "item 1 (a): URL is not a string"
        );
        assert_eq!(
            malformed(
                Format::CslJson,
                r#"[{"id": "a", "URL": "https://a.example/", "accessed": {"date-parts": [[2024, 2, 30]]}}]"#
            ),
            "item 1 (a): accessed 2024-02-30 is not a valid date"
        );
        assert_eq!(
            malformed(Format::CslJson, "\"text\""),
            "expected a CSL-JSON array of items, or one item"
        );
    }

    const TOML_LIST: &str = r#"# Sources for the essay
title = "Notes"

[[citation]]
url = "https://times.example.com/2024/03/figures"
quote = """
The agency has no plans
to revise the figures."""
accessed = 2024-03-12

[[citation]]
url = "https://agency.example.gov/press/2024-03-15"
accessed = "2024-03-15"
key = "release"

[[citation]]
url = "file:///home/jane/notes/figures.txt"
accessed = 2024-03-20T09:30:00Z
"#;

    #[test]
    fn toml_list() {
        let found = parse(Format::Toml, TOML_LIST, "cites.toml").expect("the list parses");
        let f = "cites.toml";
        assert_eq!(
            found,
            [
                cite(
                    "https://times.example.com/2024/03/figures",
                    Some("The agency has no plans to revise the figures."),
                    Some(date(2024, 3, 12)),
                    f,
                    4,
                    None,
                ),
                cite(
                    "https://agency.example.gov/press/2024-03-15",
                    None,
                    Some(date(2024, 3, 15)),
                    f,
                    11,
                    Some("release"),
                ),
                cite(
                    "file:///home/jane/notes/figures.txt",
                    None,
                    Some(date(2024, 3, 20)),
                    f,
                    16,
                    None,
                ),
            ]
        );
        let plural = "[[citations]]\nurl = \"https://a.example/\"\n";
        assert_eq!(
            parse(Format::Toml, plural, "c.toml").expect("parses"),
            [cite("https://a.example/", None, None, "c.toml", 1, None)]
        );
    }

    #[test]
    fn toml_malformed() {
        let detail = malformed(
            Format::Toml,
            "[[citation]]\nurl = \"https://a.example/\"\n\n[[citation]]\nquote = \"No source\"\n",
        );
        assert_eq!(detail, "citation 2 (line 4): no url");
        let detail = malformed(Format::Toml, "[[citation]]\nurl = \"https://a.example/\n");
        assert_eq!(detail, "line 2: invalid basic string, expected `\"`");
        let detail = malformed(Format::Toml, "title = \"Notes\"\ncitation = 3\n");
        assert_eq!(
            detail,
            "line 2: invalid type: integer `3`, expected a sequence"
        );
        let detail = malformed(
            Format::Toml,
            "[[citation]]\nurl = \"https://a.example/\"\naccessed = \"March 2024\"\n",
        );
        assert_eq!(
            detail,
            "citation 1 (line 1): accessed \"March 2024\" is not a YYYY-MM-DD date"
        );
        let detail = malformed(Format::Toml, "[[citation]]\nurl = \"notes.txt\"\n");
        assert_eq!(
            detail,
            "citation 1 (line 1): url notes.txt is not an http, https or file URL"
        );
    }

    #[test]
    fn yaml_lists() {
        let map = r#"title: Notes
citations:
  - url: https://times.example.com/2024/03/figures
    quote: >-
      The agency has no plans
      to revise the figures.
    accessed: 2024-03-12
  - url: https://agency.example.gov/press/2024-03-15
    key: release
"#;
        let f = "cites.yaml";
        let expected = [
            cite(
                "https://times.example.com/2024/03/figures",
                Some("The agency has no plans to revise the figures."),
                Some(date(2024, 3, 12)),
                f,
                0,
                None,
            ),
            cite(
                "https://agency.example.gov/press/2024-03-15",
                None,
                None,
                f,
                0,
                Some("release"),
            ),
        ];
        assert_eq!(
            parse(Format::Yaml, map, f).expect("the map parses"),
            expected
        );
        let list = "- url: https://times.example.com/2024/03/figures\n  quote: The agency has no plans to revise the figures.\n  accessed: '2024-03-12'\n- {url: 'https://agency.example.gov/press/2024-03-15', key: release}\n";
        assert_eq!(
            parse(Format::Yaml, list, f).expect("the list parses"),
            expected
        );
    }

    #[test]
    fn yaml_malformed() {
        assert_eq!(
            malformed(
                Format::Yaml,
                "- url: https://a.example/\n- quote: No source\n"
            ),
            "citation 2: no url"
        );
        let detail = malformed(Format::Yaml, "citations:\n  - url: [unclosed\n");
        assert_eq!(
            detail,
            "did not find expected ',' or ']' at line 3 column 1, while parsing a flow sequence \
             at line 2 column 10"
        );
        assert_eq!(
            malformed(Format::Yaml, "citations: none"),
            "expected a list of citations, or a map with a citations list"
        );
        assert_eq!(
            malformed(
                Format::Yaml,
                "- url: https://a.example/\n  accessed: 2024-02-30\n"
            ),
            "citation 1: accessed 2024-02-30 is not a valid date"
        );
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(text in "[a-z0-9 \n\"“”„«»‘’‚`'\\[\\](){}<>@=,:#^~\\\\/.-]{0,160}") {
            let formats = [
                Format::Markdown,
                Format::Html,
                Format::Bibtex,
                Format::CslJson,
                Format::Toml,
                Format::Yaml,
            ];
            for format in formats {
                let _ = parse(format, &text, "any");
            }
            let linked = format!("{text} [x](https://a.example/) {text}");
            let _ = parse(Format::Markdown, &linked, "any");
            let anchored = format!("<p>{text}<a href=\"https://a.example/\">x</a>{text}</p>");
            let _ = parse(Format::Html, &anchored, "any");
        }
    }

    /// Issue 15: nesting past the bound is refused in linear time, with the line it starts
    /// being too deep on; documents at the bound still parse.
    #[test]
    fn deep_nesting_is_refused() {
        let deep = MAX_NESTING + 1;
        let bib = format!("@misc{{a,\n note = {}", "{".repeat(deep));
        assert!(malformed(Format::Bibtex, &bib).starts_with("line 2: braces nested more than 128"));
        let yaml = format!("citations:\n- {}", "[{".repeat(deep));
        assert!(malformed(Format::Yaml, &yaml).starts_with("line 2: flow collections"));
        let html = format!("<p>\n{}", "<span>".repeat(deep));
        assert!(malformed(Format::Html, &html).starts_with("line 2: elements nested"));
        let md = format!("\n{} [x](https://a.example/)", ">".repeat(deep));
        assert!(malformed(Format::Markdown, &md).starts_with("line 2: blockquotes nested"));
        let groups = format!(
            "@misc{{a, note = {{{}}}}}",
            "{{a}}".repeat(MAX_BIBTEX_GROUPS)
        );
        assert!(malformed(Format::Bibtex, &groups).contains("more than 4096 brace groups"));

        let link = "<a href=\"https://a.example/\">x</a>";
        let at_bound = format!(
            "{}{link}{}",
            "<span>".repeat(MAX_NESTING - 3),
            "</span>".repeat(MAX_NESTING - 3)
        );
        assert_eq!(
            parse(Format::Html, &at_bound, "p.html")
                .expect("parses")
                .len(),
            1
        );
        let md = format!(
            "{} \"Words\" [x](https://a.example/)",
            ">".repeat(MAX_NESTING)
        );
        assert_eq!(
            parse(Format::Markdown, &md, "p.md").expect("parses").len(),
            1
        );
    }

    /// What the HTML pre-scan does not count: siblings whose end tags are left out, void
    /// elements, self-closed SVG, markup inside scripts and comments, and closed elements.
    #[test]
    fn html_nesting_counts_only_open_elements() {
        let many = MAX_NESTING * 4;
        let siblings = [
            format!("<ul>{}</ul>", "<li>item".repeat(many)),
            format!("<p>{}", "<p>para<br><img src=x>".repeat(many)),
            format!("<svg>{}</svg>", "<path d=\"M0 0\"/>".repeat(many)),
            format!("<script>{}</script>", "<div>".repeat(many)),
            format!("<!--{}-->", "<div>".repeat(many)),
            "<div></div>".repeat(many),
        ];
        for text in siblings {
            assert_eq!(html_depth_exceeded(&text), None, "{}", &text[..40]);
        }
        // Outside SVG, `<div/>` opens a div, as the parser has it.
        assert!(html_depth_exceeded(&"<div/>".repeat(many)).is_some());
        assert!(html_depth_exceeded(&"<B>".repeat(many)).is_some());
    }

    /// A block of many links, each with a quote and a date, is read once, not once per link;
    /// links whose URLs the source spells with entities get line 0 rather than a search each.
    #[test]
    fn many_links_in_one_block() {
        let n = 3000;
        let block =
            "“Words” <a href=\"https://a.example/&#97;\">x</a> <time>2024-01-02</time> ".repeat(n);
        let started = std::time::Instant::now();
        let found = parse(Format::Html, &format!("<p>{block}</p>"), "p.html").expect("parses");
        assert_eq!(found.len(), n);
        assert!(
            found.iter().all(
                |c| c.quote.as_deref() == Some("Words") && c.accessed == Some(date(2024, 1, 2))
            )
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn format_from_path() {
        let format = |p: &str| Format::from_path(Path::new(p));
        assert_eq!(format("essay.md"), Some(Format::Markdown));
        assert_eq!(format("a/b/Essay.MARKDOWN"), Some(Format::Markdown));
        assert_eq!(format("page.htm"), Some(Format::Html));
        assert_eq!(format("page.html"), Some(Format::Html));
        assert_eq!(format("refs.bib"), Some(Format::Bibtex));
        assert_eq!(format("refs.json"), Some(Format::CslJson));
        assert_eq!(format("cites.toml"), Some(Format::Toml));
        assert_eq!(format("cites.yml"), Some(Format::Yaml));
        assert_eq!(format("cites.yaml"), Some(Format::Yaml));
        assert_eq!(format("notes.txt"), None);
        assert_eq!(format("Makefile"), None);
    }

    #[test]
    fn read_file_by_extension() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let md = dir.path().join("essay.md");
        std::fs::write(&md, "\u{feff}\"Words\" [src](https://a.example/)\n").expect("write");
        let name = md.display().to_string();
        assert_eq!(
            read_file(&md).expect("reads"),
            [cite(
                "https://a.example/",
                Some("Words"),
                None,
                &name,
                1,
                None
            )]
        );

        let txt = dir.path().join("notes.txt");
        std::fs::write(&txt, "x").expect("write");
        assert!(matches!(read_file(&txt), Err(Error::UnknownFormat { .. })));

        let missing = dir.path().join("missing.bib");
        assert!(matches!(read_file(&missing), Err(Error::Read { .. })));

        let latin1 = dir.path().join("latin1.md");
        std::fs::write(&latin1, b"line one\ncaf\xe9\n").expect("write");
        match read_file(&latin1) {
            Err(Error::Malformed { detail, .. }) => assert_eq!(detail, "line 2: not UTF-8 text"),
            other => panic!("expected Error::Malformed, got {other:?}"),
        }
    }
}
