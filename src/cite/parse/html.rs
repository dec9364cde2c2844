//! HTML: `<blockquote cite>` and `<q cite>`, and links with the quote written before them in
//! their block, or the blockquote they are in or follow. Blocks are
//! [`crate::text::html::BLOCK_ELEMENTS`], the same the extractor knows.

use std::collections::HashMap;

use jiff::civil::Date;
use scraper::{ElementRef, Html, Node};

use super::{
    Found, Lines, MAX_NESTING, Parsed, accessed_in, clean_quote, is_attribution, is_citable,
    iso_date, quote_before,
};

/// The offset of the first start tag that opens an element more than [`MAX_NESTING`] deep
/// ([`crate::extract::html_nesting_exceeds`]).
pub(super) fn depth_exceeded(text: &str) -> Option<usize> {
    crate::extract::html_nesting_exceeds(text, MAX_NESTING)
}

/// Whether an element makes a block of its own: a link's "paragraph" is its nearest one.
fn is_block(element: ElementRef) -> bool {
    crate::text::html::is_block(element.value().name())
}

/// Reads the citations of an HTML document.
pub(super) fn read(text: &str) -> Parsed {
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
                    if crate::text::html::is_unseen(name) || name == "footer" || name == "cite" {
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
                    if crate::text::html::is_unseen(name) {
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

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
            assert_eq!(depth_exceeded(&text), None, "{}", &text[..40]);
        }
        // Outside SVG, `<div/>` opens a div, as the parser has it.
        assert!(depth_exceeded(&"<div/>".repeat(many)).is_some());
        assert!(depth_exceeded(&"<B>".repeat(many)).is_some());
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
}
