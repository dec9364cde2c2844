//! Re-fetching tracked sources and deciding what happened to each.
//!
//! Fetching and judging run on worker threads ([`check_each`]), each with its own read-only
//! snapshot of the store, so git2 handles never cross threads; results are recorded on the
//! caller's thread ([`record`]), under the writer lock. Bytes equal to the current version's end
//! the judgement ([`judge`]) before any extraction.

mod judge;
mod record;
mod schedule;
mod spool;
#[cfg(test)]
mod tests;

pub use judge::{continuity, judge, judge_under, panic_message};
pub use record::record;
pub use schedule::{AllSources, check_each};
pub use spool::Spool;

use jiff::Timestamp;

use crate::capture::{Capture, Origin};
use crate::classify::summary::ChangeSummary;
use crate::classify::{EditStats, Verdict};
use crate::fetch::{self};
use crate::source::SourceId;
use crate::store::record::{ComparedText, IndexEntry, Observation, SourceRecord, VersionRecord};
use crate::store::{self, Snapshot};

/// What fetching one source gave.
#[derive(Debug)]
pub enum Fetched {
    /// Bytes were received (a file read, or an HTTP 2xx).
    Body {
        /// When they were obtained.
        at: Timestamp,
        /// The bytes.
        raw: Vec<u8>,
        /// How.
        origin: Origin,
    },
    /// The server confirmed the current version with 304 Not Modified.
    NotModified {
        /// When.
        at: Timestamp,
    },
    /// The fetch failed.
    Failed {
        /// When.
        at: Timestamp,
        /// Why.
        error: fetch::Error,
    },
}

/// One source to check, as the store's index knows it: enough to fetch it and to judge it
/// when it has not changed. Everything else is read only when its bytes changed
/// ([`Target::load`]).
#[derive(Debug, Clone)]
pub struct Job {
    /// The source's index entry: locator, title and current version's hashes and validators.
    pub entry: IndexEntry,
    /// Its latest observation, which the new state continues or breaks.
    pub previous: Option<Observation>,
}

/// What judging changed bytes needs beyond the index: the source's rules and its current
/// version's record (with the old bytes' blob).
#[derive(Debug, Clone)]
pub struct Target {
    /// The source.
    pub source: SourceRecord,
    /// Its extraction rules.
    pub rules: crate::extract::Rules,
    /// Its current version, if it has one.
    pub current: Option<VersionRecord>,
}

impl Target {
    /// Reads a source's record, compiled rules and current version.
    pub fn load(snapshot: &Snapshot<'_>, id: &SourceId) -> Result<Target, store::Error> {
        Target::load_under(snapshot, id, None)
    }

    /// As [`Target::load`], with `rules` when given in place of the source's own (which are
    /// then not compiled).
    pub fn load_under(
        snapshot: &Snapshot<'_>,
        id: &SourceId,
        rules: Option<&crate::extract::Rules>,
    ) -> Result<Target, store::Error> {
        let source = snapshot
            .source(id)?
            .ok_or_else(|| store::Error::InvalidSource {
                id: id.to_string(),
                detail: "it has no source.json".to_owned(),
            })?;
        let rules = match rules {
            Some(rules) => rules.clone(),
            None => rules_of(&source)?,
        };
        Ok(Target {
            current: snapshot.latest(id)?,
            rules,
            source,
        })
    }
}

/// A source's compiled extraction rules; rules that do not compile make the source invalid
/// (the error says how to fix them).
pub fn rules_of(source: &SourceRecord) -> Result<crate::extract::Rules, store::Error> {
    source.rules().map_err(|e| store::Error::InvalidSource {
        id: source.id.to_string(),
        detail: format!(
            "its rules: {e}; fix them with `verbatim configure {}`",
            source.id
        ),
    })
}

/// How many fetches run at once.
#[derive(Debug, Clone, Copy)]
pub struct Concurrency {
    /// Worker threads in all.
    pub jobs: usize,
    /// Requests in flight to any one host, so no site is hammered.
    pub per_host: usize,
}

/// The judgement on one source. It serialises so that a check can park results on disk
/// ([`Spool`]); that form is private to one run (the documented JSON is
/// [`crate::report::CheckReport`]'s).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckResult {
    /// The source's id.
    pub source: String,
    /// Its locator.
    pub locator: String,
    /// Its title, when known.
    pub title: Option<String>,
    /// What happened.
    pub verdict: Verdict,
    /// Why, where it needs saying.
    pub reason: Option<String>,
    /// Whether this state is new since the previous check.
    pub new: bool,
    /// Since when the source has been in this state.
    pub since: Timestamp,
    /// When it was checked.
    pub checked_at: Timestamp,
    /// The final HTTP status, for web sources that answered.
    pub http_status: Option<u16>,
    /// The URL that answered, when it differs from the locator.
    pub final_url: Option<String>,
    /// The current version before the check.
    pub old_version: Option<u32>,
    /// The version stored by this check (edited), if any.
    pub new_version: Option<u32>,
    /// SHA-256 of the current version's bytes.
    pub old_sha256: Option<String>,
    /// SHA-256 of the bytes received.
    pub new_sha256: Option<String>,
    /// SHA-256 of the current version's canonical text.
    pub old_text_sha256: Option<String>,
    /// SHA-256 of the canonical text received.
    pub new_text_sha256: Option<String>,
    /// For `edited` (and `moved` with changed content): what changed.
    pub changes: Option<EditStats>,
    /// For `edited` (and `moved` with changed content): what the change means (figures,
    /// quotations, headline, notes), as `verbatim diff` shows it.
    pub change_summary: Option<Box<ChangeSummary>>,
    /// The capture to store as a new version, for `edited` (boxed: few results carry one).
    #[serde(skip)]
    pub capture: Option<Box<Capture>>,
    /// The same once [staged](CheckResult::stage): written to the store, out of memory.
    pub staged: Option<Box<store::Staged>>,
    /// The hash of the current version's text as compared, to save in its index entry (when
    /// the entry does not hold it yet).
    #[serde(default)]
    pub compared: Option<ComparedText>,
}

impl CheckResult {
    /// Writes the capture to store (if any) to the store's objects now, so that a check where
    /// every page changed does not hold every page in memory until it commits.
    pub fn stage(&mut self, store: &store::Store) -> Result<(), store::Error> {
        if let Some(capture) = self.capture.take() {
            self.staged = Some(Box::new(store.stage(*capture)?));
        }
        Ok(())
    }
}
