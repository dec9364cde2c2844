//! One function per job: what a command of the command line does, as a library call.
//!
//! Each job takes the store (or paths), an options struct and a [`Progress`] for the person
//! waiting, and returns its result; the command line parses arguments, calls one job and
//! prints what it returns. A job opens its own store transactions, runs its own threads and
//! takes the writer lock only for as long as it writes: nothing a caller does can leave the
//! store half-written.

pub mod add;
pub mod check;
pub mod cite;
pub mod configure;
pub mod diff;
pub mod export;
pub mod import;

use std::time::Duration;

use crate::{fetch, source, store};

/// What a job tells the person waiting for it while it runs. Every method does nothing by
/// default: [`Silent`] is a caller that wants nothing shown.
pub trait Progress: Sync {
    /// Work on `total` items begins; `what` names it ("checking").
    fn start(&self, total: usize, what: &str) {
        let _ = (total, what);
    }
    /// One item is done; `label` names it (a locator).
    fn advance(&self, label: &str) {
        let _ = label;
    }
    /// The work begun by [`Progress::start`] is over.
    fn finish(&self) {}
    /// The store's writer lock is held by another process (`pid` when known); the job waits
    /// for it, up to its lock timeout.
    fn waiting_for_lock(&self, pid: Option<u32>) {
        let _ = pid;
    }
    /// Something the person should know that is not the job's result (a source that could not
    /// be captured, an archive that had no copy).
    fn note(&self, message: &str) {
        let _ = message;
    }
}

/// A [`Progress`] that shows nothing.
pub struct Silent;

impl Progress for Silent {}

/// How a job that writes takes the store's writer lock.
#[derive(Debug, Clone, Copy)]
pub struct Locking {
    /// How long to wait for another writer before giving up.
    pub timeout: Duration,
}

impl Default for Locking {
    fn default() -> Self {
        Locking {
            timeout: Duration::from_secs(30),
        }
    }
}

impl Locking {
    /// Takes `store`'s writer lock, telling `progress` if it has to wait.
    pub fn lock(
        &self,
        store: &store::Store,
        progress: &dyn Progress,
    ) -> Result<store::Lock, store::Error> {
        store.lock(self.timeout, &mut |pid| progress.waiting_for_lock(pid))
    }
}

/// Why a job failed. Each variant keeps the typed error of the layer that failed, so that
/// callers decide what it means (the command line maps each to an exit code).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A locator given by the caller is not one.
    #[error(transparent)]
    Source(#[from] source::Error),
    /// A fetch the caller asked for failed.
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
    /// verbatim's own temporary files (in the system's temporary directory) could not be
    /// written: neither the store's fault nor a bug.
    #[error("cannot write temporary files: {0}")]
    Temporary(#[source] std::io::Error),
    /// A version asked for does not exist, or cannot be compared.
    #[error(transparent)]
    Version(#[from] diff::VersionError),
    /// What failed while reading one input the caller named (a path or URL).
    #[error("{input}: {source}")]
    On {
        /// The input as given.
        input: String,
        /// Why.
        source: Box<Error>,
    },
    /// An archive could not be read at all.
    #[error(transparent)]
    Import(#[from] crate::formats::warc::read::Error),
    /// The caller's extraction rules do not parse.
    #[error(transparent)]
    Rules(#[from] crate::extract::RuleError),
    /// verbatim failed while reading one input: a bug, contained to that input.
    #[error("verbatim failed while reading it ({0}); please report it")]
    Panicked(String),
    /// Handing a result to the caller failed (the caller's own error, passed through).
    #[error("{0}")]
    Caller(#[source] std::io::Error),
}
