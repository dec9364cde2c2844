//! HTML elements by how text reads through them: which make a block of their own, which hold
//! nothing a reader sees, and what the tokenizer and tree builder treat specially (elements
//! with no content, with an optional end tag, with raw text).
//!
//! Extraction ([`crate::extract`]) and the HTML citation reader ([`crate::cite::parse`]) both
//! split text at blocks. Extraction's text is stored, and its canonical form's hash compared on
//! every check, so the blocks it splits at are frozen: the elements of [`BLOCK_ELEMENTS`] it has
//! always read inline are listed in [`READ_INLINE_BY_EXTRACTION`] rather than left out of the
//! one list.

/// Elements that make a block of their own: text on either side is in different paragraphs,
/// and a link's "paragraph" is its nearest one of these. Sorted, for [`is_block`].
pub const BLOCK_ELEMENTS: &[&str] = &[
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
    "hr",
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

/// Block elements that extraction reads as inline: table cells (a row is one paragraph, its
/// cells kept apart by ` | `) and row groups, captions, dialogs, fieldsets, heading groups and
/// the root. (`aside`, `footer`, `form`, `header` and `nav` are left out of extracted text
/// altogether as furniture; they are listed so that this list alone says what extraction does.)
/// Sorted.
pub const READ_INLINE_BY_EXTRACTION: &[&str] = &[
    "aside", "caption", "dialog", "fieldset", "footer", "form", "header", "hgroup", "html", "nav",
    "tbody", "td", "tfoot", "th", "thead",
];

/// Whether an element (by its lowercase name) makes a block of its own.
#[inline]
pub fn is_block(name: &str) -> bool {
    BLOCK_ELEMENTS.binary_search(&name).is_ok()
}

/// Whether extraction starts a new paragraph at an element: a block, less those it reads
/// inline ([`READ_INLINE_BY_EXTRACTION`]).
#[inline]
pub fn starts_paragraph_in_extraction(name: &str) -> bool {
    is_block(name) && READ_INLINE_BY_EXTRACTION.binary_search(&name).is_err()
}

/// Elements whose content is no part of what a reader sees: code, styles, templates, and the
/// fallback shown only without scripts.
pub const UNSEEN: &[&str] = &["script", "style", "template", "noscript"];

/// Whether an element's content is unseen ([`UNSEEN`]).
#[inline]
pub fn is_unseen(name: &str) -> bool {
    UNSEEN.contains(&name)
}

/// Elements with no content, which never nest.
pub const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
];

/// Elements whose end tag may be left out: the parser closes them itself when a sibling
/// starts, so authors rarely close them and counting them would count siblings as nesting.
pub const OPTIONAL_END: &[&str] = &[
    "body", "caption", "colgroup", "dd", "dt", "head", "html", "li", "optgroup", "option", "p",
    "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// Elements whose content is text up to their end tag, never markup.
pub const RAW_TEXT: &[&str] = &[
    "iframe", "noembed", "noframes", "script", "style", "textarea", "title", "xmp",
];

/// What may stand in `<head>`; any other start tag closes it.
pub const HEAD_CONTENT: &[&str] = &[
    "base", "basefont", "bgsound", "link", "meta", "noscript", "script", "style", "template",
    "title",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_for_binary_search() {
        for list in [BLOCK_ELEMENTS, READ_INLINE_BY_EXTRACTION] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
        assert!(READ_INLINE_BY_EXTRACTION.iter().all(|n| is_block(n)));
    }

    /// Extraction's blocks, as they were when it kept its own list: stored texts depend on
    /// them, so this list must never change.
    #[test]
    fn extraction_splits_where_it_always_has() {
        let mut was = vec![
            "p",
            "div",
            "section",
            "article",
            "main",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "li",
            "ul",
            "ol",
            "blockquote",
            "pre",
            "table",
            "tr",
            "figure",
            "figcaption",
            "dd",
            "dt",
            "dl",
            "hr",
            "address",
            "details",
            "summary",
            "body",
        ];
        was.sort_unstable();
        let now: Vec<&str> = BLOCK_ELEMENTS
            .iter()
            .copied()
            .filter(|n| starts_paragraph_in_extraction(n))
            .collect();
        assert_eq!(now, was);
        assert!(!starts_paragraph_in_extraction("span"));
        assert!(!is_block("span"));
    }

    #[test]
    fn unseen_elements_are_raw_text_or_templates() {
        for name in UNSEEN {
            assert!(!is_block(name));
            assert!(
                RAW_TEXT.contains(name) || HEAD_CONTENT.contains(name),
                "{name}"
            );
        }
    }
}
