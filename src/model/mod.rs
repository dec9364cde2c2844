//! The store format: every type verbatim writes into a store, with the serde attributes that
//! decide its bytes, in one place.
//!
//! What is defined here *is* the on-disk contract of `docs/store-format.md`. A store written
//! today must stay readable by every later version, so these types change only by adding
//! fields (optional, or defaulted, so that older records still read); a field, a variant or an
//! attribute is never renamed or removed. The golden tests beside this module pin the bytes
//! of every record for each store format verbatim has written (fixtures under
//! `tests/fixtures/records/`): a change that alters them fails there, not in a user's store.
//!
//! Records written by a newer version read here too, rather than being refused: unknown fields
//! are ignored, and an unknown verdict, outcome or charset source reads as the `Unknown`
//! variant ([`Verdict::Unknown`]). See "Compatibility" in `docs/store-format.md`.
//!
//! This module depends on nothing else in the crate but the leaf helper [`crate::hash`], so
//! that no change in fetching, extraction or classification can change what is written by
//! accident. Behaviour built on these types (extraction rules, classification) lives with
//! that behaviour; the types are re-exported at their former paths (`store::record`,
//! `capture::Origin`, `fetch::Redirect`, `extract::CharsetSource`, `classify::Verdict`,
//! `source::SourceId`).

pub mod charset;
pub mod id;
pub mod origin;
pub mod record;
pub mod verdict;

#[cfg(test)]
mod tests;

pub use charset::CharsetSource;
pub use id::SourceId;
pub use origin::{Origin, Redirect};
pub use record::{
    ComparedText, FORMAT_VERSION, IndexEntry, OLDEST_FORMAT, Observation, Outcome, PreviousRun,
    RunManifest, SourceRecord, StoreMeta, StoredBlob, VersionRecord,
};
pub use verdict::Verdict;

/// The bytes of a record file (`verbatim-store.json`, `source.json`, `versions/*.json`,
/// `run.json`): pretty-printed JSON with two-space indents, fields in declaration order, and a
/// final newline.
pub fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain records cannot fail: no maps with non-string keys, no I/O.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The bytes of one line of a `.jsonl` file (observations, `state/`, `index/`): compact JSON,
/// fields in declaration order, and a newline.
pub fn json_line<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serialising a plain record cannot fail.
    let mut line = serde_json::to_vec(value).unwrap_or_default();
    line.push(b'\n');
    line
}
