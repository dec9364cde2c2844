//! `configure`: change a source's title or extraction rules.

use std::path::Path;

use crate::extract;
use crate::store::Store;
use crate::store::record::SourceRecord;

use super::{Error, Locking, Progress};

/// What to change about a source; a field left empty changes nothing.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// A new title.
    pub title: Option<String>,
    /// A new CSS selector for the article's content.
    pub selector: Option<String>,
    /// Drop the selector: back to the general extractor.
    pub no_selector: bool,
    /// Patterns of text to ignore when comparing versions, added.
    pub ignore: Vec<String>,
    /// Remove every ignore pattern first, learned ones included.
    pub clear_ignore: bool,
}

impl Changes {
    /// Whether anything would change.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.selector.is_none()
            && !self.no_selector
            && self.ignore.is_empty()
            && !self.clear_ignore
    }
}

/// Applies `changes` to the source `query` names (resolved against `cwd`) in one commit, and
/// returns its record as it now stands; with no changes, only returns it (no lock, no commit).
pub fn configure(
    store: &Store,
    query: &str,
    cwd: &Path,
    changes: &Changes,
    locking: Locking,
    progress: &dyn Progress,
) -> Result<SourceRecord, Error> {
    extract::Rules::new(changes.selector.as_deref(), &changes.ignore)?;
    let current = store.snapshot()?.resolve(query, cwd)?;
    if changes.is_empty() {
        return Ok(current);
    }
    let id = current.id;
    let lock = locking.lock(store, progress)?;
    let mut tx = store.transaction(&lock)?;
    let record = tx.update_source(&id, |source| {
        if let Some(title) = &changes.title {
            source.title = Some(title.clone());
        }
        if changes.no_selector {
            source.selector = None;
        } else if let Some(selector) = &changes.selector {
            source.selector = Some(selector.clone());
        }
        if changes.clear_ignore {
            source.ignore.clear();
            source.learned_ignore.clear();
        }
        source.ignore.extend(changes.ignore.iter().cloned());
    })?;
    tx.commit(&format!("configure: {id}"))?;
    Ok(record)
}
