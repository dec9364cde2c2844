//! Markdown: links, and the quotes around them. A quote is the text in quotation marks right
//! before a link or a footnote reference, or the blockquote a link is in or follows; a footnote
//! cites what the body quotes at its reference. Read from pulldown-cmark's events in one pass.

use std::collections::HashMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{
    Found, Lines, MAX_NESTING, Parsed, accessed_in, collapse_whitespace, is_attribution,
    is_citable, quote_before,
};

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

/// Reads the citations of a Markdown document.
pub(super) fn read(text: &str) -> Parsed {
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;

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
}
