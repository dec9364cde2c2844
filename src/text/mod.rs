//! What verbatim knows about written text, in one place: which characters are typography
//! ([`typography`]: quotation marks, dashes, the ellipsis, invisible characters, and the pairs
//! quotation marks come in) and which HTML elements make a block of their own ([`html`]).
//!
//! Canonical text ([`crate::classify::canonical_text`]), quote matching ([`crate::cite::quote`]),
//! the change summary ([`crate::classify::summary`]), the citation readers
//! ([`crate::cite::parse`]) and extraction ([`crate::extract`]) each used to keep a copy of these
//! tables, and the copies drifted. They now all read these; where one must still differ from
//! another (canonical text's hashes are stored, so its fold is frozen), the table says so.

pub mod html;
pub mod typography;

/// Names as a sentence lists them: `"a, b or c"` (help and error texts build their lists of
/// verdicts and statuses from the enums this way, so that they cannot drift).
pub fn or_list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The former copies' users, side by side: where they should agree, they do; where they
/// differ, they differ only as the tables say.
#[cfg(test)]
mod agreement {
    use crate::cite::parse::{Format, parse};
    use crate::cite::quote::{Found, Matcher};
    use crate::classify::canonical_text;
    use crate::classify::summary::quotations;

    use super::html;
    use super::typography::{MARKS, PAIRS};

    /// Canonical text and quote matching fold every canonical mark alike: a text and its
    /// plain typing canonicalise the same, and a quote typed plainly is found in it after
    /// folding (or exactly, when the mark is an ASCII one). The marks canonical text keeps
    /// (`‹ ›`) are folded by matching alone.
    #[test]
    fn canonical_text_and_quote_matching_fold_alike() {
        for m in MARKS {
            let fancy = format!("the agency{}s figures", m.ch);
            let plain = format!("the agency{}s figures", m.kind.folded());
            let found = Matcher::new(&fancy).find(&plain).found;
            assert!(found <= Found::Canonical, "{:?}: {found:?}", m.ch);
            if m.canonical {
                assert_eq!(canonical_text(&fancy), canonical_text(&plain), "{:?}", m.ch);
            } else {
                assert_ne!(canonical_text(&fancy), canonical_text(&plain), "{:?}", m.ch);
            }
        }
    }

    /// Quotation marks around a cited quote are the citing document's: every mark is trimmed.
    #[test]
    fn quote_marks_around_a_quote_are_trimmed() {
        let text = "It had no plans to expand.";
        for m in MARKS.iter().filter(|m| m.kind.is_quote()) {
            let quote = format!("{}no plans{}", m.ch, m.ch);
            assert_eq!(
                Matcher::new(text).find(&quote).found,
                Found::Exact,
                "{:?}",
                m.ch
            );
        }
    }

    /// Every pair is read as a quotation before a link (Markdown and HTML), in a note
    /// (CSL-JSON, BibTeX) and, mirrored pairs aside, by the change summary.
    #[test]
    fn every_pair_is_read_as_a_quotation_everywhere() {
        for pair in PAIRS {
            let quoted = format!("{}figures were revised{}", pair.open, pair.close);
            let quote = |format, text: &str| {
                let found = parse(format, text, "t").expect("parses");
                assert_eq!(found.len(), 1, "{text}");
                found[0].quote.clone()
            };
            let words = Some("figures were revised".to_owned());
            let md = format!("It said {quoted} [src](https://a.example/).");
            assert_eq!(quote(Format::Markdown, &md), words, "{md}");
            let page = format!("<p>It said {quoted} <a href=\"https://a.example/\">src</a></p>");
            assert_eq!(quote(Format::Html, &page), words, "{page}");
            let note = serde_json::json!([{
                "URL": "https://a.example/",
                "note": format!("Says {quoted}."),
            }]);
            assert_eq!(quote(Format::CslJson, &note.to_string()), words, "{note}");
            let bib =
                format!("@misc{{k, url = {{https://a.example/}}, note = {{Says {quoted}.}}}}");
            assert_eq!(quote(Format::Bibtex, &bib), words, "{bib}");
            let summarised = quotations(&quoted);
            if pair.mirrored {
                assert!(summarised.is_empty(), "{quoted}");
            } else {
                assert_eq!(summarised, ["figures were revised"], "{quoted}");
            }
        }
    }

    /// Extraction and the HTML citation reader split text at the same blocks, except where
    /// extraction's stored text is frozen.
    #[test]
    fn extraction_and_citations_split_at_the_same_blocks() {
        for block in [
            "div",
            "section",
            "pre",
            "figure",
            "address",
            "blockquote",
            "h2",
            "hr",
        ] {
            assert!(html::is_block(block));
            let close = if block == "hr" {
                String::new()
            } else {
                format!("</{block}>")
            };
            let page =
                format!("<html><body><div>Before<{block}>inside{close}after</div></body></html>");
            let (_, text) = crate::extract::html_to_text(&page);
            assert!(text.contains("Before\n\n"), "{block}: {text:?}");
            // A link's quote is looked for in its own block (its nearest block ancestor)
            // only: a quote outside it does not reach the link.
            if block == "hr" {
                continue;
            }
            let cite = format!(
                "<div>“Words” <{block}><a href=\"https://a.example/\">x</a></{block}></div>"
            );
            let found = parse(Format::Html, &cite, "t").expect("parses");
            assert_ne!(found[0].quote.as_deref(), Some("Words"), "{block}");
        }
        // A table row is one paragraph, its cells kept apart; a caption is a paragraph.
        let page =
            "<body><table><caption>Cap</caption><tr><td>a</td> <td>b</td></tr></table></body>";
        assert_eq!(crate::extract::html_to_text(page).1, "Cap\n\na | b");
        let cite = "<div>“Words” <span><a href=\"https://a.example/\">x</a></span></div>";
        let found = parse(Format::Html, cite, "t").expect("parses");
        assert_eq!(found[0].quote.as_deref(), Some("Words"));
    }
}
