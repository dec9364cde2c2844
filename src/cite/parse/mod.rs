//! Reading citations from the formats that hold them: Markdown, HTML, BibTeX/BibLaTeX, CSL-JSON
//! and plain TOML or YAML lists. Each format has its own reader; they share one rule for what is
//! a cited source (an `http`, `https` or `file` URL: mail addresses, in-page anchors and relative
//! links point at nothing verbatim can capture) and one heuristic for prose, where a quote is the
//! text in quotation marks written right before the link that cites it.
//!
//! One file per format, each a reader from text to citations; this module chooses the
//! format, bounds what reaches the readers (size, nesting), and holds the rules they share:
//! what a citable URL is, where a quote before a link or in a note is (by the quotation mark
//! pairs of [`crate::text::typography::PAIRS`]), lines, and dates.

mod bibtex;
mod csl_json;
mod html;
mod list;
mod markdown;

use std::path::Path;
use std::sync::LazyLock;

use jiff::civil::Date;
use regex::Regex;

use super::{Citation, Error};
use crate::text::typography::{self, Level};

pub use bibtex::MAX_BIBTEX_GROUPS;

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
        Format::Markdown => markdown::read(text),
        Format::Html => html::read(text),
        Format::Bibtex => bibtex::read(text),
        Format::CslJson => csl_json::read(text),
        Format::Toml => list::read_toml(text),
        Format::Yaml => list::read_yaml(text),
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
                let at = bibtex::groups_exceeded(text)?;
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
        Format::Html => ("elements", html::depth_exceeded(text)?),
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

/// What may stand between a closing quotation mark and the link that cites the quote, as in
/// `"X" ([Times](…))`, `“X” — [Times](…)` or `“X,” [reported](…)`: these, and long dashes
/// ([`typography::is_long_dash`]).
const BETWEEN_QUOTE_AND_LINK: &[char] = &['(', '[', '-', ',', ':'];

/// The text in quotation marks that ends `before` (the text of a paragraph up to a link or a
/// footnote reference), when only whitespace and light punctuation follow its closing mark.
///
/// Every pair of [`typography::PAIRS`] counts, mirrored ones too: the quote ends at a known
/// place, so `»…«` cannot be mistaken for the space between two `«…»`. A closing mark that
/// closes more than one pair (`”` closes `“` and `„`) takes the nearest opening mark.
fn quote_before(before: &str) -> Option<String> {
    // Only the end of the text can hold the quote: reading the whole paragraph back for every
    // link in it made a paragraph of many links quadratic (fuzzing: 30,000 footnote
    // references in one 280 KB paragraph took seconds).
    let before = tail(before, 2 * MAX_QUOTE_BYTES);
    // What stands between the closing mark and the link is short; a longer run of it (a line
    // of dashes before each of thousands of links) is no separator, and is not walked again
    // for every link.
    let end = tail(before, MAX_BETWEEN_BYTES);
    let kept = end.trim_end_matches(|c: char| {
        c.is_whitespace() || BETWEEN_QUOTE_AND_LINK.contains(&c) || typography::is_long_dash(c)
    });
    if kept.is_empty() && end.len() < before.len() {
        return None;
    }
    let trimmed = &before[..before.len() - (end.len() - kept.len())];
    let close = trimmed.chars().next_back()?;
    let body = tail(
        &trimmed[..trimmed.len() - close.len_utf8()],
        MAX_QUOTE_BYTES,
    );
    let (start, open) = typography::pairs_closed_by(close)
        .filter_map(|pair| Some((body.rfind(pair.open)?, pair.open)))
        .max_by_key(|&(start, _)| start)?;
    // A straight mark after a space opens a quote rather than closing one.
    if close == '"' && body.ends_with(char::is_whitespace) {
        return None;
    }
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

/// The longest quotation read before a link, in bytes: a quote is a sentence or a passage.
const MAX_QUOTE_BYTES: usize = 8 << 10;

/// The longest run of spaces and light punctuation read between a quote and its link, in bytes.
const MAX_BETWEEN_BYTES: usize = 256;

/// The last `max` bytes of `text`, or a little fewer, to start on a character.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// LaTeX's own quotation marks, which a BibTeX note (or a CSL-JSON note exported from one) may
/// be written with: read as primary pairs, before the typographic ones.
const LATEX_QUOTES: &[(&str, &str)] = &[("``", "''"), ("\\enquote{", "}")];

/// The first text in quotation marks in a note (a BibTeX `note`, a CSL-JSON `note`).
///
/// Primary pairs ([`Level::Primary`]) first, as a secondary closing mark is also an apostrophe;
/// of those, the quotation that opens first, and of two that open at once (`„` opens `„…“` and
/// `„…”`), the shorter.
fn first_quoted<'t>(text: &'t str) -> Option<&'t str> {
    for level in [Level::Primary, Level::Secondary] {
        let mut first: Option<(usize, &str)> = None;
        let mut consider = |found: Option<(usize, &'t str)>| {
            if let Some((start, quote)) = found
                && first.is_none_or(|(s, q)| (start, quote.len()) < (s, q.len()))
            {
                first = Some((start, quote));
            }
        };
        if level == Level::Primary {
            for (open, close) in LATEX_QUOTES {
                consider(quoted_between(text, open, close));
            }
        }
        for pair in typography::PAIRS.iter().filter(|p| p.level == level) {
            let (mut open, mut close) = ([0; 4], [0; 4]);
            consider(quoted_between(
                text,
                pair.open.encode_utf8(&mut open),
                pair.close.encode_utf8(&mut close),
            ));
        }
        if let Some((_, quote)) = first {
            return Some(quote);
        }
    }
    None
}

/// Where the first `open` in `text` is, and the text from it to the next `close`.
fn quoted_between<'t>(text: &'t str, open: &str, close: &str) -> Option<(usize, &'t str)> {
    let start = text.find(open)?;
    let body = start + open.len();
    let end = text[body..].find(close)?;
    Some((start, &text[body..body + end]))
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
    line.starts_with(|c: char| c == '~' || typography::is_long_dash(c))
        || line.starts_with("--")
        || line.starts_with("- ")
}

/// What the readers' tests share.
#[cfg(test)]
mod testing {
    pub(super) use super::{Format, parse, read_file};
    pub(super) use crate::cite::{Citation, Error};
    pub(super) use jiff::civil::{Date, date};

    pub(super) fn cite(
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

    pub(super) fn malformed(format: Format, text: &str) -> String {
        match parse(format, text, "bad") {
            Err(Error::Malformed { path, detail }) => {
                assert_eq!(path, "bad");
                detail
            }
            other => panic!("expected Error::Malformed, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn a_quote_is_looked_for_only_in_the_text_just_before_its_link() {
        // A closing mark, then a long stretch: the opening mark is too far back to be read.
        let far = format!("“{}” [a](https://a.example/)", "word ".repeat(4000));
        let found = parse(Format::Markdown, &far, "far").expect("parse");
        assert_eq!(found[0].quote, None);
        let near = "“A short quote” [a](https://a.example/)";
        let found = parse(Format::Markdown, near, "near").expect("parse");
        assert_eq!(found[0].quote.as_deref(), Some("A short quote"));
        // Nor past a long run of separators between the closing mark and the link.
        let apart = format!(
            "“A short quote” {} [a](https://a.example/)",
            "- ".repeat(200)
        );
        let found = parse(Format::Markdown, &apart, "apart").expect("parse");
        assert_eq!(found[0].quote, None);
        let close = "“A short quote” — ([a](https://a.example/))";
        let found = parse(Format::Markdown, close, "close").expect("parse");
        assert_eq!(found[0].quote.as_deref(), Some("A short quote"));
        // Multi-byte text at the window's edge is cut on a character.
        assert_eq!(tail("ééé", 3), "é");
        assert_eq!(tail("abc", 10), "abc");
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
