//! `import`: store the captures of a web archive (WARC) as versions of their URLs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::formats::warc::read::{self as warc, Item, Tally};
use crate::source::SourceId;
use crate::store::record::{Observation, Outcome};
use crate::store::{Recorded, Store};

use super::{Error, Locking, Progress};

/// Captures per commit.
const BATCH: usize = 1000;
/// Bytes (raw and text) of captures held for one commit: a batch of large pages must not hold
/// gigabytes before it is stored.
const BATCH_BYTES: usize = 16 << 20;

/// How an archive is imported.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// What the reader takes from the archive.
    pub read: warc::Options,
    /// How the writer lock is taken for each batch.
    pub locking: Locking,
}

/// What importing one archive did.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// What the reader found: records by type, skipped and malformed ones.
    pub tally: Tally,
    /// Sources added by their first capture.
    pub sources_added: usize,
    /// New versions of sources.
    pub new_versions: usize,
    /// Captures whose bytes equal their source's current version (recorded as observations).
    pub unchanged: usize,
    /// Captures already in the store (same bytes, same time): not stored again.
    pub already_stored: usize,
    /// Revisit records recorded as observations.
    pub revisits: usize,
    /// Revisit records of captures not in the store, skipped.
    pub revisits_unknown: usize,
}

/// Imports the WARC file at `path` into `store`, in commits of up to 1,000 captures or 16 MiB;
/// an error ends the import, keeping the commits already made.
pub fn import(
    store: &Store,
    path: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Imported, Error> {
    let mut imported = Imported::default();
    let mut pending: Vec<Item> = Vec::new();
    let mut error: Option<Error> = None;
    let mut pending_bytes = 0usize;
    let tally = warc::read_warc(path, options.read, &mut |item| {
        if error.is_some() {
            return;
        }
        if let Item::Capture(capture) = &item {
            pending_bytes += capture.raw.len() + capture.extracted.text.len();
        }
        pending.push(item);
        if (pending.len() >= BATCH || pending_bytes >= BATCH_BYTES)
            && let Err(e) = store_items(store, options, progress, &mut pending, &mut imported)
        {
            error = Some(e);
        }
        if pending.is_empty() {
            pending_bytes = 0;
        }
    })?;
    if let Some(e) = error {
        return Err(e);
    }
    store_items(store, options, progress, &mut pending, &mut imported)?;
    imported.tally = tally;
    Ok(imported)
}

/// Stores a batch of captures and revisits in one commit.
fn store_items(
    store: &Store,
    options: &Options,
    progress: &dyn Progress,
    items: &mut Vec<Item>,
    imported: &mut Imported,
) -> Result<(), Error> {
    if items.is_empty() {
        return Ok(());
    }
    let lock = options.locking.lock(store, progress)?;
    let mut tx = store.transaction(&lock)?;
    // The version current for each source, as this batch leaves it.
    let mut current: BTreeMap<SourceId, u32> = BTreeMap::new();
    // Each source's captures already stored: (SHA-256 of the bytes, capture time).
    let mut known: BTreeMap<SourceId, BTreeSet<(String, jiff::Timestamp)>> = BTreeMap::new();
    for item in items.drain(..) {
        match item {
            Item::Capture(capture) => {
                // A capture already in the store (the same bytes at the same time) is not
                // stored again, so importing an archive twice changes nothing.
                let id = capture.locator.id();
                let sha = crate::hash::sha256_hex(&capture.raw);
                if !known.contains_key(&id) {
                    let versions = tx.snapshot().versions(&id)?;
                    known.insert(
                        id.clone(),
                        versions
                            .into_iter()
                            .map(|v| (v.raw.sha256, v.captured_at))
                            .collect(),
                    );
                }
                let seen = known.entry(id.clone()).or_default();
                if seen.contains(&(sha.clone(), capture.captured_at)) {
                    imported.already_stored += 1;
                    continue;
                }
                seen.insert((sha, capture.captured_at));
                let v = match tx.record(&capture, None)? {
                    Recorded::Added(v) => {
                        imported.sources_added += 1;
                        v
                    }
                    Recorded::NewVersion(v) => {
                        imported.new_versions += 1;
                        v
                    }
                    Recorded::Unchanged(v) => {
                        imported.unchanged += 1;
                        v
                    }
                };
                current.insert(v.source.clone(), v.version);
            }
            Item::Revisit { locator, at } => {
                let id = locator.id();
                let version = match current.get(&id) {
                    Some(v) => Some(*v),
                    None => tx.snapshot().index_entry(&id)?.map(|e| e.version),
                };
                let Some(version) = version.filter(|v| *v > 0) else {
                    imported.revisits_unknown += 1;
                    continue;
                };
                tx.observe(Observation {
                    source: id,
                    at,
                    since: at,
                    outcome: Outcome::Unchanged,
                    version,
                    raw_sha256: None,
                    canonical_sha256: None,
                    http_status: None,
                    verdict: None,
                    reason: Some("WARC revisit record".to_owned()),
                    final_url: None,
                })?;
                imported.revisits += 1;
            }
        }
    }
    tx.commit("import: captures from a web archive")?;
    Ok(())
}
