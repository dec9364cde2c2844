//! `diff`: two versions of a source, a version against a fresh copy, or two documents, read
//! and compared as `check` compares them.

use std::path::Path;

use jiff::Timestamp;

use crate::capture::{self, Capture};
use crate::classify::EditStats;
use crate::classify::summary::{self, ChangeSummary};
use crate::diff::{self, TextDiff};
use crate::extract::{self, Rules};
use crate::fetch::{self, HttpClient};
use crate::hash::sha256_hex;
use crate::report::diff::DocumentInfo;
use crate::source::Locator;
use crate::store::record::{SourceRecord, VersionRecord};
use crate::store::{Snapshot, Store};

use super::Error;
pub use crate::store::version::{Version, VersionError};

/// What is compared.
#[derive(Debug, Clone)]
pub enum Request<'a> {
    /// Two stored versions of the source `source` names: `from` (default: the one before the
    /// latest) and `to` (default: the latest).
    Stored {
        /// A source id, id prefix, path or URL.
        source: &'a str,
        /// The old version.
        from: Option<Version>,
        /// The new version.
        to: Option<Version>,
    },
    /// A stored version (`from`, default: the latest) against a fresh copy of `against`,
    /// read with the source's rules; nothing is recorded.
    Against {
        /// A source id, id prefix, path or URL.
        source: &'a str,
        /// The stored version.
        from: Option<Version>,
        /// A path or URL read now.
        against: &'a str,
    },
    /// Two documents (paths or URLs), read now with the default rules; no store is needed.
    Documents {
        /// The old document.
        first: &'a str,
        /// The new document.
        second: &'a str,
    },
}

/// How documents are read.
#[derive(Debug, Clone)]
pub struct Options {
    /// The HTTP client's limits (built only if a URL is read).
    pub fetch: fetch::Options,
    /// Hash each side's bytes and text (a patch names no hashes, so it need not).
    pub hash: bool,
    /// Whether [`compare`] will follow: its summary's patterns are compiled on another thread
    /// while the documents are read.
    pub summary: bool,
}

/// One side of the comparison: its text, and what is said about it.
#[derive(Debug, Clone)]
pub struct Side {
    /// What the printers name it by.
    pub info: DocumentInfo,
    /// The title it states, if any.
    pub title: Option<String>,
    /// The text compared: extracted with the rules, ignored passages removed.
    pub text: String,
    /// No text could be decoded (a PDF, an image): only the bytes can be compared.
    pub binary: bool,
}

/// Reads the two sides `request` names, from `store` where it names stored versions (`None`:
/// no store, only documents can be read). Paths are resolved against `cwd`.
pub fn sides(
    store: Option<&Store>,
    request: &Request<'_>,
    cwd: &Path,
    options: &Options,
) -> Result<(Side, Side), Error> {
    if options.summary {
        // The summary's patterns take about as long to compile as a document takes to read.
        std::thread::spawn(summary::warm_up);
    }
    let reader = Reader {
        client: std::sync::OnceLock::new(),
        options,
        cwd,
    };
    match request {
        Request::Documents { first, second } => {
            let rules = Rules::default();
            let local = |input: &str| matches!(Locator::parse(input, cwd), Ok(Locator::File(_)));
            // Two local files for a patch are read in less time than a second thread takes to
            // start and end (measured).
            if !options.summary && local(first) && local(second) {
                let first = reader.document(first, &rules, None)?;
                return Ok((first, reader.document(second, &rules, None)?));
            }
            // Each document is read, extracted and hashed on its own thread.
            let (first, second) = std::thread::scope(|scope| {
                let first = scope.spawn(|| reader.document(first, &rules, None));
                let second = reader.document(second, &rules, None);
                (first.join(), second)
            });
            let first = first.map_err(|panic| {
                Error::Panicked(crate::check::panic_message(panic.as_ref()).to_owned())
            })?;
            Ok((first?, second?))
        }
        Request::Stored { source, from, to } => reader.stored_sides(
            needs(store, cwd)?,
            source,
            from.as_ref(),
            New::Stored(to.as_ref()),
        ),
        Request::Against {
            source,
            from,
            against,
        } => reader.stored_sides(
            needs(store, cwd)?,
            source,
            from.as_ref(),
            New::Fresh(against),
        ),
    }
}

/// One side of a patch: what a diff of bytes by lines needs.
#[derive(Debug)]
pub struct PatchSide {
    /// What the printers name it by.
    pub info: DocumentInfo,
    /// No text could be decoded (a PDF, an image): only the bytes can be compared.
    pub binary: bool,
    /// The text compared, as bytes.
    pub bytes: Bytes,
}

/// A patch side's text: extracted, or a long local file's own bytes, mapped (when extraction
/// would give those very bytes), which saves copying them.
#[derive(Debug)]
pub enum Bytes {
    /// Text extracted (or read) as [`sides`] reads it.
    Text(String),
    /// A file whose text is its bytes, mapped.
    Mapped(fetch::mapped::Mapped),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Text(text) => text.as_bytes(),
            Bytes::Mapped(map) => map,
        }
    }
}

impl Bytes {
    /// Whether a mapped file changed since it was mapped (or can no longer be asked): what
    /// was compared may then be neither its old bytes nor its new ones.
    pub fn changed(&self) -> bool {
        match self {
            Bytes::Text(_) => false,
            Bytes::Mapped(map) => map.changed().unwrap_or(true),
        }
    }
}

impl From<Side> for PatchSide {
    fn from(side: Side) -> PatchSide {
        PatchSide {
            info: side.info,
            binary: side.binary,
            bytes: Bytes::Text(side.text),
        }
    }
}

/// Reads the two sides of a patch as [`sides`] reads them, except that a long local file
/// given as a document, whose text is its own bytes, is mapped rather than read (for two 5 MB
/// files, copying them cost more than the line diff).
pub fn patch_sides(
    store: Option<&Store>,
    request: &Request<'_>,
    cwd: &Path,
    options: &Options,
) -> Result<(PatchSide, PatchSide), Error> {
    let Request::Documents { first, second } = request else {
        let (from, to) = sides(store, request, cwd, options)?;
        return Ok((from.into(), to.into()));
    };
    let reader = Reader {
        client: std::sync::OnceLock::new(),
        options,
        cwd,
    };
    let rules = Rules::default();
    let side = |input: &str| match reader.mapped(input, &rules)? {
        Some(side) => Ok(side),
        None => reader.document(input, &rules, None).map(PatchSide::from),
    };
    Ok((side(first)?, side(second)?))
}

/// The comparison of two sides' texts, with what the change means.
#[derive(Debug)]
pub struct Compared<'a> {
    /// The diff of the texts.
    pub diff: TextDiff<'a>,
    /// What the change means (headline, figures, quotations, notes).
    pub summary: ChangeSummary,
    /// Words and paragraphs added, removed and changed.
    pub stat: EditStats,
}

/// Compares two sides' texts (neither binary) as `options` says, with the change summary.
pub fn compare<'a>(
    from: &'a Side,
    to: &'a Side,
    options: &diff::Options,
) -> Result<Compared<'a>, Error> {
    let bug = |panic: Box<dyn std::any::Any + Send>| {
        Error::Panicked(crate::check::panic_message(panic.as_ref()).to_owned())
    };
    // What the summary reads from the texts alone is read on a second thread while the diff
    // is computed: on a long document each takes about half the time.
    let (text_diff, prepared) = std::thread::scope(|scope| {
        let prepared = scope.spawn(|| {
            summary::Prepared::new(
                summary::Side {
                    title: from.title.as_deref(),
                    text: &from.text,
                },
                summary::Side {
                    title: to.title.as_deref(),
                    text: &to.text,
                },
            )
        });
        let text_diff = TextDiff::new(&from.text, &to.text, options);
        (text_diff, prepared.join())
    });
    let prepared = prepared.map_err(bug)?;
    // Figures on one thread, the counts on this one.
    let (figures, (mut change_summary, stat)) = std::thread::scope(|scope| {
        let figures = scope.spawn(|| summary::figure_changes(&text_diff));
        let stats = summary::Prepared::finish_with(prepared, &text_diff, Vec::new());
        (figures.join(), stats)
    });
    change_summary.figures = figures.map_err(bug)?;
    Ok(Compared {
        diff: text_diff,
        summary: change_summary,
        stat,
    })
}

/// How documents named by the caller are read.
struct Reader<'a> {
    /// Built on the first URL: two local files need no client (reading the proxy settings
    /// and setting up TLS is a visible part of a short diff).
    client: std::sync::OnceLock<HttpClient>,
    options: &'a Options,
    cwd: &'a Path,
}

impl Reader<'_> {
    fn client(&self) -> &HttpClient {
        self.client
            .get_or_init(|| HttpClient::new(self.options.fetch.clone()))
    }

    /// Resolves the source and its two sides from the store (the new side may be a fresh
    /// copy).
    fn stored_sides(
        &self,
        store: &Store,
        query: &str,
        from: Option<&Version>,
        new: New<'_>,
    ) -> Result<(Side, Side), Error> {
        let snapshot = store.snapshot()?;
        let source = snapshot.resolve(query, self.cwd)?;
        let id = source.id.to_string();
        let rules = source.rules().map_err(|e| VersionError::Rules {
            id: id.clone(),
            detail: e.to_string(),
        })?;
        let versions = snapshot.versions(&source.id)?;
        let latest = versions
            .last()
            .ok_or_else(|| VersionError::NoVersions { id: id.clone() })?;
        let find = |version: &Version| version.find(&source, &versions);
        let old = match (from, &new) {
            (Some(v), _) => find(v)?,
            // Against a fresh copy, the latest version; else the one before it.
            (None, New::Fresh(_)) => latest,
            (None, New::Stored(_)) => versions
                .len()
                .checked_sub(2)
                .map(|i| &versions[i])
                .ok_or_else(|| VersionError::OnlyOne {
                    id: id.clone(),
                    locator: source.locator.clone(),
                })?,
        };
        let old = stored(&snapshot, &source, old, &rules)?;
        let new = match new {
            New::Fresh(input) => self.document(input, &rules, Some(&source))?,
            New::Stored(to) => {
                let to = match to {
                    Some(v) => find(v)?,
                    None => latest,
                };
                stored(&snapshot, &source, to, &rules)?
            }
        };
        Ok((old, new))
    }

    /// A local file mapped, when it is long and its text (with `rules`) is its own bytes;
    /// `None` when it is to be read instead.
    fn mapped(&self, input: &str, rules: &Rules) -> Result<Option<PatchSide>, Error> {
        let on = |e: Error| Error::On {
            input: input.to_owned(),
            source: Box::new(e),
        };
        let Ok(Locator::File(path)) = Locator::parse(input, self.cwd) else {
            return Ok(None);
        };
        let Some(map) = fetch::mapped::Mapped::open(&path, self.options.fetch.max_body)
            .map_err(|e| on(e.into()))?
        else {
            return Ok(None);
        };
        let name = path.file_name().and_then(|n| n.to_str());
        if !extract::text_is_bytes(&map, name, rules) {
            return Ok(None);
        }
        let sha256 = self.options.hash.then(|| sha256_hex(&map));
        Ok(Some(PatchSide {
            info: DocumentInfo {
                label: input.to_owned(),
                locator: Some(Locator::File(path.clone()).canonical()),
                captured_at: Some(capture::now()),
                text_sha256: sha256.clone(),
                sha256,
                ..DocumentInfo::default()
            },
            binary: false,
            bytes: Bytes::Mapped(map),
        }))
    }

    /// A document read or fetched now, extracted with `rules`; nothing is recorded.
    fn document(
        &self,
        input: &str,
        rules: &Rules,
        source: Option<&SourceRecord>,
    ) -> Result<Side, Error> {
        let locator = Locator::parse(input, self.cwd)?;
        let max_bytes = self.options.fetch.max_body;
        let mut side =
            match &locator {
                // Read, not mapped: a `str` over a mapping would change under the diff if another
                // process rewrote the file.
                Locator::File(path) => {
                    let raw = fetch::read_file(path, max_bytes).map_err(|e| Error::On {
                        input: input.to_owned(),
                        source: Box::new(e.into()),
                    })?;
                    let captured_at = capture::now();
                    let name = path.file_name().and_then(|n| n.to_str());
                    // Binary content is compared by its hash, whatever the format.
                    let sha256 = (self.options.hash || extract::is_binary(&raw, None, name))
                        .then(|| sha256_hex(&raw));
                    let (extracted, same) = extract::extract_owned(raw, None, name, rules);
                    side_from(
                        extracted,
                        sha256,
                        same,
                        captured_at,
                        rules,
                        input.to_owned(),
                    )
                }
                Locator::Http(_) => {
                    let capture = capture::capture(&locator, self.client(), max_bytes, rules)
                        .map_err(|e| Error::On {
                            input: input.to_owned(),
                            source: Box::new(e.into()),
                        })?;
                    side_of(capture, rules, input.to_owned(), self.options.hash)
                }
            };
        side.info.locator = Some(locator.canonical());
        side.info.source = source.map(|s| s.id.to_string());
        Ok(side)
    }
}

/// The new side of a comparison with a stored version.
enum New<'a> {
    /// Another stored version (default: the latest).
    Stored(Option<&'a Version>),
    /// A fresh copy of a path or URL.
    Fresh(&'a str),
}

/// The store a request for stored versions needs.
fn needs<'s>(store: Option<&'s Store>, cwd: &Path) -> Result<&'s Store, Error> {
    store.ok_or_else(|| {
        crate::store::Error::NotFound {
            start: cwd.to_path_buf(),
        }
        .into()
    })
}

/// A stored version's text, re-extracted from its bytes with today's rules, as `check` does.
fn stored(
    snapshot: &Snapshot<'_>,
    source: &SourceRecord,
    version: &VersionRecord,
    rules: &Rules,
) -> Result<Side, Error> {
    let raw = snapshot.read(&version.raw)?;
    let locator = Locator::parse(&source.locator, Path::new("/"))?;
    let capture = Capture::from_parts(
        locator,
        version.captured_at,
        raw,
        version.origin.clone(),
        rules,
    );
    let mut side = side_of(capture, rules, format!("v{}", version.version), true);
    side.info.source = Some(source.id.to_string());
    side.info.version = Some(version.version);
    side.info.locator = Some(source.locator.clone());
    if side.info.title.is_none() {
        side.info.title = source.title.clone();
    }
    Ok(side)
}

fn side_of(capture: Capture, rules: &Rules, label: String, hash: bool) -> Side {
    // Binary content is compared by its hash, whatever the format.
    let binary = capture.extracted.charset.is_none();
    let sha256 = (hash || binary).then(|| sha256_hex(&capture.raw));
    let same = capture.extracted.text.as_bytes() == capture.raw.as_slice();
    side_from(
        capture.extracted,
        sha256,
        same,
        capture.captured_at,
        rules,
        label,
    )
}

/// A side from its extracted text; `same` says the text is exactly the bytes hashed in
/// `sha256`, so that one hash serves both.
fn side_from(
    extracted: extract::Extracted,
    sha256: Option<String>,
    same: bool,
    captured_at: Timestamp,
    rules: &Rules,
    label: String,
) -> Side {
    let binary = extracted.charset.is_none();
    let (text, unstripped) = match rules.strip_ignored(&extracted.text) {
        std::borrow::Cow::Owned(stripped) => (stripped, false),
        std::borrow::Cow::Borrowed(_) => (extracted.text, true),
    };
    let text_sha256 = match &sha256 {
        Some(sha) if same && unstripped => Some(sha.clone()),
        Some(_) => Some(sha256_hex(text.as_bytes())),
        None => None,
    };
    Side {
        info: DocumentInfo {
            label,
            captured_at: Some(captured_at),
            title: extracted.title.clone(),
            sha256,
            text_sha256,
            ..DocumentInfo::default()
        },
        title: extracted.title,
        binary,
        text,
    }
}
