//! Turning captured bytes into text: media type, charset and (basic) HTML-to-text.
//!
//! The raw bytes are never changed; this module only derives the UTF-8 text that is stored
//! beside them. Charset is decided in the order browsers use: byte-order mark, the HTTP
//! `Content-Type` charset, an HTML `<meta charset>`, then statistical detection (`chardetng`).

use encoding_rs::Encoding;
use scraper::Selector;

mod article;
mod noise;
mod prose;
mod reader;

pub use article::article_text;
pub use noise::learn_noise;
use reader::html_to_text_in;
pub use reader::{LARGE_PAGE, MAX_PAGE_NESTING, html_nesting_exceeds, html_to_text};

pub use crate::model::CharsetSource;

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

/// The revision of extraction: raised by one whenever the text extracted from some page
/// changes (the `extraction_output_is_pinned` test fails until it is), so that a text hash
/// saved by an earlier extraction (the index's `compared`) is never taken for today's.
pub const REVISION: u32 = 9;

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

    /// What a text compared under these rules depends on besides the bytes: the extraction's
    /// [`REVISION`], the selector and the patterns, hashed. A text's hash saved with one
    /// fingerprint is valid for another computation only when the fingerprints are equal.
    pub fn fingerprint(&self) -> String {
        let mut what = format!("extraction {REVISION}\n");
        if let Some((css, _)) = &self.selector {
            what.push_str(&format!("selector {}\n", css.len()));
            what.push_str(css);
        }
        for pattern in &self.ignore {
            let pattern = pattern.as_str();
            what.push_str(&format!("\nignore {}\n", pattern.len()));
            what.push_str(pattern);
        }
        format!(
            "{REVISION}:{}",
            &crate::hash::sha256_hex(what.as_bytes())[..32]
        )
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

#[cfg(test)]
mod tests {
    use super::reader::text_without_tree;
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

    proptest::proptest! {
        /// The pinned extractor's `trim`, patched to collapse ASCII text byte by byte, gives
        /// what it gave before: words split on Unicode whitespace, joined by single spaces.
        #[test]
        fn the_extractor_s_trim_is_unchanged_on_ascii(
            text in "[ a-z.\t\n\r\u{0b}\u{0c}]{0,40}",
            other in "[ a\u{a0}\u{2003}\u{ad}e\u{301}]{0,12}",
        ) {
            let reference = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            proptest::prop_assert_eq!(trafilatura::utils::trim(&text), reference(&text));
            // Not ASCII: the general path (soft hyphens dropped, NFC) as before.
            let mixed = format!("{text}{other}");
            let expected: String = unicode_normalization::UnicodeNormalization::nfc(
                reference(&mixed.replace('\u{ad}', "")).as_str(),
            )
            .collect();
            proptest::prop_assert_eq!(trafilatura::utils::trim(&mixed), expected);
        }
    }
}
