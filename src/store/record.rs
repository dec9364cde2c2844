//! The JSON records kept in the store, defined in [`crate::model`] (the store format in one
//! place) and re-exported here, where the store's code has always found them.

pub use crate::model::record::{
    ComparedText, FORMAT_VERSION, IndexEntry, OLDEST_FORMAT, Observation, Outcome, PreviousRun,
    RunManifest, SourceRecord, StoreMeta, StoredBlob, VersionRecord,
};

// Behaviour on a record that needs more than the format: kept beside the store that uses it, so
// that `model` depends on nothing else in the crate.
impl SourceRecord {
    /// The source's extraction rules: its selector, and its own and learned ignore patterns.
    pub fn rules(&self) -> Result<crate::extract::Rules, crate::extract::RuleError> {
        let ignore: Vec<String> = self
            .ignore
            .iter()
            .chain(&self.learned_ignore)
            .cloned()
            .collect();
        crate::extract::Rules::new(self.selector.as_deref(), &ignore)
    }
}
