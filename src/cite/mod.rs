//! Citations: read from the documents that make them (Markdown, HTML, BibTeX/BibLaTeX, CSL-JSON,
//! plain TOML or YAML lists), and checked against the store: is the cited source still what it
//! was when it was cited, and do the quoted words still stand in it?

pub mod assess;
pub mod link;
pub mod memento;
pub mod parse;
pub mod quote;

use jiff::civil::Date;
use serde::Serialize;

/// One citation: a source, and what the citing document says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The cited URL (or path), as written.
    pub locator: String,
    /// The quoted words, when the citation quotes the source.
    pub quote: Option<String>,
    /// When the citing author accessed the source, when the citation says.
    pub accessed: Option<Date>,
    /// Where the citation is: the citing file.
    pub file: String,
    /// The line of the citation in that file (1-based; 0 when the format gives none).
    pub line: usize,
    /// The citation's key or label, where the format has one (a BibTeX key, a footnote label,
    /// a CSL-JSON id).
    pub key: Option<String>,
}

/// What went wrong reading citations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not in a format citations are read from (by its extension).
    #[error(
        "{path}: not a citation format verbatim reads (by its extension: .md, .markdown, .html, .htm, .bib, .json, .toml, .yaml, .yml)"
    )]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// The file does not parse as its format.
    #[error("{path}: {detail}")]
    Malformed {
        /// The file.
        path: String,
        /// What the parser said, with a line where it has one.
        detail: String,
    },
}
