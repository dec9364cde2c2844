//! BibTeX and BibLaTeX: entries with a `url` (or a `\url` in `howpublished`); the quote is a
//! `quote` field or the first quotation in a note, the accessed date `urldate` or an
//! "accessed" in a note.

use std::collections::HashMap;
use std::sync::LazyLock;

use biblatex::{Bibliography, ChunksExt, RawBibliography, RawChunk};
use regex::Regex;

use super::{Found, Lines, Parsed, accessed_in, clean_quote, first_quoted, is_citable, iso_date};

/// How many brace groups one BibTeX entry may hold.
///
/// The BibTeX crate resolves a field in time quadratic in the groups nested in it
/// (`{{a}}{{b}}…`: 20,000 of them take seconds), whatever their depth. A real entry has a few
/// protected words (`{NASA}`), not thousands.
pub const MAX_BIBTEX_GROUPS: usize = 4096;

/// The offset of the first brace that makes an entry hold more than [`MAX_BIBTEX_GROUPS`]
/// groups, counting every `{` inside an entry (an entry is what is open at depth 1).
pub(super) fn groups_exceeded(text: &str) -> Option<usize> {
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

/// Reads the citations of a BibTeX or BibLaTeX bibliography.
pub(super) fn read(text: &str) -> Parsed {
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;

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
}
