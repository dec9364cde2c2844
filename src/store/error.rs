//! What can go wrong with a store, and on which path.

use std::path::PathBuf;
use std::time::Duration;

use record::FORMAT_VERSION;

// How records become bytes is part of the format, so it lives with the records.

use super::*;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No store where one was expected.
    #[error("no verbatim store at {path}")]
    Missing {
        /// Where one was looked for.
        path: PathBuf,
    },
    /// No store in the current directory or any parent.
    #[error("no verbatim store found in {start} or any parent directory")]
    NotFound {
        /// Where the search started.
        start: PathBuf,
    },
    /// The directory exists but is not a verbatim store.
    #[error("{path} is not a verbatim store ({reason})")]
    NotAStore {
        /// The directory.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The store's branch exists but its commit cannot be read: objects are missing or damaged.
    #[error("the store at {path} is damaged: {detail}")]
    Damaged {
        /// The directory.
        path: PathBuf,
        /// What could not be read.
        detail: String,
    },
    /// The store was written by a newer verbatim.
    #[error(
        "{path} uses store format {found}; this verbatim reads formats {} to {FORMAT_VERSION}",
        record::OLDEST_FORMAT
    )]
    UnsupportedFormat {
        /// The store.
        path: PathBuf,
        /// The format found.
        found: u32,
    },
    /// `init` on a directory that already holds something.
    #[error("{path} already exists and is not empty")]
    AlreadyExists {
        /// The directory.
        path: PathBuf,
    },
    /// Another process holds the writer lock.
    #[error("the store is locked by {} (waited {waited:?}; lock file {path})", pid.map_or("another process".to_owned(), |p| format!("process {p}")))]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The holder's pid, if it wrote one.
        pid: Option<u32>,
        /// How long this run waited.
        waited: Duration,
    },
    /// No source matches the name given.
    #[error("no source matches {query:?}")]
    UnknownSource {
        /// What the user gave.
        query: String,
    },
    /// Several sources match the id prefix given.
    #[error("{query:?} is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousSource {
        /// What the user gave.
        query: String,
        /// The matching ids (at most a few).
        candidates: Vec<String>,
    },
    /// A stored record does not parse.
    #[error("corrupt record {path} in the store: {source}")]
    CorruptRecord {
        /// Its path in the tree.
        path: String,
        /// The parser's reason.
        source: serde_json::Error,
    },
    /// A tracked source's stored record cannot be used (a store edited by hand).
    #[error("source {id} in the store is unusable: {detail}")]
    InvalidSource {
        /// The source.
        id: String,
        /// What is wrong, and what to do.
        detail: String,
    },
    /// A git operation failed.
    #[error("git error in the store: {0}")]
    Git(#[from] git2::Error),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The branch moved while this run wrote (another writer bypassed the lock).
    #[error("the store changed while writing; nothing was recorded, run the command again")]
    Raced,
}
