//! The JSON records kept in the store. Their field names, order and serde attributes are the
//! store format (`docs/store-format.md`); add fields, never rename them.
//!
//! Records are read leniently: a field this version does not know is ignored (no record
//! denies unknown fields), so that a record a newer version wrote still reads.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::CharsetSource;
use super::id::SourceId;
use super::origin::Origin;
use super::verdict::Verdict;

/// The store format this build writes.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest store format this build reads (format 1 kept observations per source, see
/// `docs/store-format.md`; it never left development, so it is not read). A format-2 store has
/// no `index/`: it is read by deriving the index from the source records, and upgraded to format
/// 3 by its next write.
pub const OLDEST_FORMAT: u32 = 2;

/// The root marker file, `verbatim-store.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreMeta {
    /// Always `"verbatim-store"`.
    pub format: String,
    /// The store format version.
    pub version: u32,
    /// When the store was created.
    pub created_at: Timestamp,
}

/// A tracked source, `source.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// The short id.
    pub id: SourceId,
    /// The canonical locator.
    pub locator: String,
    /// The title, from the user or the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When the source was first added.
    pub added_at: Timestamp,
    /// CSS selector for the content of HTML pages, for pages the general extractor gets wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Regular expressions for text to ignore when comparing versions ("Updated \d+ minutes ago").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// The locator came from content (a WARC, a citing document), not from the store's owner:
    /// `check` fetches it only from public addresses, as a URL from content is (absent, false,
    /// in records written before it was introduced, and for sources the owner added).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_content: bool,
    /// Patterns of text learned to change between two loads of the page when it was added
    /// (`extract::learn_noise`), ignored like `ignore`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub learned_ignore: Vec<String>,
}

/// A stored byte stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlob {
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Length in bytes.
    pub bytes: u64,
    /// The git blob id holding the bytes, so any version is read without walking history.
    pub git_blob: String,
}

/// One captured version, `versions/NNNNNNNN.json`. Written once, never changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The version number, from 1.
    pub version: u32,
    /// The source's id.
    pub source: SourceId,
    /// When the bytes were obtained.
    pub captured_at: Timestamp,
    /// The exact captured bytes.
    pub raw: StoredBlob,
    /// The extracted UTF-8 text.
    pub text: StoredBlob,
    /// SHA-256 of the canonical form of the text (`classify::canonical_text`): equal
    /// hashes mean the versions differ only cosmetically. Absent in records written before it
    /// was introduced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_sha256: Option<String>,
    /// Media type without parameters.
    pub media_type: String,
    /// Charset used to decode the text (WHATWG name); absent for binary content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// How the charset was decided.
    pub charset_source: CharsetSource,
    /// How the bytes were obtained.
    pub origin: Origin,
    /// SHA-256 of the previous version's record file, chaining the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_record_sha256: Option<String>,
}

/// One line of the index `index/<aa>.jsonl`: what a source is and what its current version is,
/// so that listing and checking sources reads a few hundred shard files instead of two records
/// per source. Derived data: it always agrees with `source.json` and the latest version record
/// of the same commit, and is rewritten whenever they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The source.
    pub source: SourceId,
    /// Its canonical locator.
    pub locator: String,
    /// Its title, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The current version's number (0 when the source has none).
    pub version: u32,
    /// SHA-256 of the current version's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_sha256: Option<String>,
    /// SHA-256 of the current version's canonical text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_sha256: Option<String>,
    /// The current version's `ETag` response header, for a conditional request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The current version's `Last-Modified` response header, for a conditional request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// As the source record's `from_content`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_content: bool,
    /// The current version's text as `check` last compared it: saved so that a reload whose
    /// text is the same is judged without extracting the old version again. Only a cache:
    /// an older binary that drops it costs one extraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared: Option<ComparedText>,
}

/// The SHA-256 of a version's canonical text as `check` compares it (extracted from its bytes,
/// ignored passages removed), and what it was computed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparedText {
    /// The extraction's revision and the rules, as `extract::Rules::fingerprint` gives them:
    /// a hash computed with others is not used.
    pub by: String,
    /// SHA-256 of the canonical text.
    pub sha256: String,
}

impl IndexEntry {
    /// The entry for `source` whose current version is `current`.
    pub fn new(source: &SourceRecord, current: Option<&VersionRecord>) -> IndexEntry {
        let entry = IndexEntry {
            source: source.id.clone(),
            locator: source.locator.clone(),
            title: source.title.clone(),
            version: 0,
            raw_sha256: None,
            canonical_sha256: None,
            etag: None,
            last_modified: None,
            from_content: source.from_content,
            compared: None,
        };
        match current {
            Some(version) => entry.with_version(version),
            None => entry,
        }
    }

    /// This entry with `current` as the source's current version.
    pub fn with_version(self, current: &VersionRecord) -> IndexEntry {
        let header = |name: &str| match &current.origin {
            Origin::Http { headers, .. } => headers.get(name).cloned(),
            Origin::File { .. } => None,
        };
        IndexEntry {
            version: current.version,
            raw_sha256: Some(current.raw.sha256.clone()),
            canonical_sha256: current.canonical_sha256.clone(),
            etag: header("etag"),
            last_modified: header("last-modified"),
            compared: None,
            ..self
        }
    }
}

/// What an observation saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new version was captured and stored.
    Captured,
    /// The bytes were identical to the current version.
    Unchanged,
    /// An outcome this version does not know, recorded by a newer version: read (as no new
    /// version) rather than the record being refused. Never written by this version but in a
    /// `state/` line it read and rewrites, as `"unknown"`.
    #[serde(other)]
    Unknown,
}

/// One observation of a source: a line of the run file `observations/YYYY-MM/<run>/<aa>.jsonl`
/// of the write that made it, and, while it is the source's latest, of `state/<aa>.jsonl`.
/// Observations only reference versions by number and hash, so recording "unchanged" copies no
/// content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The source observed.
    pub source: SourceId,
    /// When the source was observed.
    pub at: Timestamp,
    /// Since when the state this observation shows has held without a break (its own `at` when
    /// the state is new). Set by the store from the source's previous observation.
    pub since: Timestamp,
    /// Whether a version was stored.
    pub outcome: Outcome,
    /// The version current after the observation.
    pub version: u32,
    /// SHA-256 of the bytes seen; absent when no body was received (an error status, a 304).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_sha256: Option<String>,
    /// SHA-256 of the canonical text seen, when a body was received and extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_sha256: Option<String>,
    /// The HTTP status, for web sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The verdict of a check; absent for plain captures by `add`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Why the verdict was reached, where it needs saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The URL that answered, when it differs from the locator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
}

impl Observation {
    /// When the state that an observation with `verdict` would show began, if it continues the
    /// state of `previous` (see [`super::verdict::continues`]); `None` when it starts anew.
    pub fn continued_since(
        previous: Option<&Observation>,
        verdict: Option<Verdict>,
    ) -> Option<Timestamp> {
        previous
            .filter(|p| super::verdict::continues(p.verdict, verdict))
            .map(|p| p.since)
    }
}

/// A run's manifest, `observations/YYYY-MM/<run>/run.json`: its files' SHA-256s and the previous
/// run's manifest, chaining the runs by SHA-256. Written once, with the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunManifest {
    /// The run, `YYYY-MM/<run>`.
    pub run: String,
    /// Each file of the run (`<aa>.jsonl`) and the SHA-256 of its bytes.
    pub files: std::collections::BTreeMap<String, String>,
    /// The latest earlier run that has a manifest; absent for the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousRun>,
}

/// The link from a run's manifest to the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousRun {
    /// That run, `YYYY-MM/<run>`.
    pub run: String,
    /// SHA-256 of its manifest's bytes.
    pub sha256: String,
}
