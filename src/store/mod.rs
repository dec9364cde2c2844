//! The version store: an ordinary bare git repository written through `git2`.
//!
//! Layout of the tree on `refs/heads/main` (see `docs/store-format.md`):
//!
//! ```text
//! verbatim-store.json                        format marker and version
//! README.txt                                 the layout, for people browsing with git
//! sources/<id[0..2]>/<id[2..4]>/<id>/
//!     source.json                            locator, title, date added
//!     raw                                    exact bytes of the current version
//!     text.txt                               extracted text of the current version
//!     versions/00000001.json                 one immutable record per version
//! observations/YYYY-MM/<run>/<aa>.jsonl      every observation one write made, by id shard
//! state/<aa>.jsonl                           the observation that began each source's state
//! index/<aa>.jsonl                           each source's locator and current version, by id shard
//! ```
//!
//! Observations are kept per write ("run"), not per source, so that a check of 10,000 sources
//! writes a few hundred small files instead of rewriting 10,000 source directories. The index
//! lets a check of 10,000 unchanged sources read those few hundred files instead of 20,000
//! records.
//!
//! Every write is one commit made from in-memory trees and published by a compare-and-swap of
//! `refs/heads/main`, under an OS lock. Objects are written before the ref moves, so a crash at any
//! point leaves either the old or the new state, plus at worst unreferenced objects.

mod error;
pub mod gc;
mod lock;
mod loose;
pub mod record;
mod snapshot;
#[cfg(test)]
mod tests;
mod transaction;
mod tree;
pub mod version;

pub use error::Error;
pub use snapshot::{Snapshot, source_dir};
pub use transaction::{Recorded, Staged, Transaction};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{Oid, Repository, RepositoryInitOptions, Signature};
use jiff::Timestamp;

pub use lock::Lock;
use record::{FORMAT_VERSION, StoreMeta};

use crate::capture::{self};
// How records become bytes is part of the format, so it lives with the records.
use crate::model::to_json;
use crate::source::SourceId;

/// Where observations are kept, by month and run.
pub const OBSERVATIONS_DIR: &str = "observations";
/// The manifest of each run of observations, beside its shard files.
pub const RUN_MANIFEST: &str = "run.json";
/// Where the observation that began each source's current state is kept.
pub const STATE_DIR: &str = "state";
/// Where each source's index entry is kept.
pub const INDEX_DIR: &str = "index";

/// The directory name `init` creates and discovery looks for.
pub const DEFAULT_DIR: &str = ".verbatim";
/// The branch holding the store's state.
pub const BRANCH: &str = "refs/heads/main";

/// Git's setting for the zlib level of loose objects, which verbatim honours for blobs.
const LOOSE_COMPRESSION: &str = "core.looseCompression";
pub(crate) const MARKER: &str = "verbatim-store.json";
const LOCK_FILE: &str = "verbatim.lock";

/// Where the store is, from an explicit directory or by searching upward from `cwd`.
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf, Error> {
    if let Some(dir) = explicit {
        return Ok(cwd.join(dir));
    }
    for dir in cwd.ancestors() {
        let candidate = dir.join(DEFAULT_DIR);
        if candidate.is_dir() {
            return Ok(candidate);
        }
    }
    Err(Error::NotFound {
        start: cwd.to_path_buf(),
    })
}

/// An open store.
pub struct Store {
    repo: Repository,
    path: PathBuf,
    /// The zlib level blobs are written at, when the store's config sets one
    /// (`core.looseCompression`; new stores set 0); else libgit2's.
    loose_level: Option<u32>,
    /// Whether this handle's transactions reach the disk before their branch moves.
    fsync: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Creates a new, empty store at `path` (which must not exist or be an empty directory).
    ///
    /// The repository is built in a temporary sibling directory and renamed into place, so an
    /// interrupted `init` never leaves a half-made store behind.
    pub fn init(path: &Path) -> Result<Store, Error> {
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| Error::Io { path: p, source }
        };
        if path.exists() {
            let empty =
                path.is_dir() && std::fs::read_dir(path).map_err(io(path))?.next().is_none();
            if !empty {
                return Err(Error::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
        }
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("store");
        let staging = parent.join(format!(".{name}.init-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        crate::git::init();
        let result = (|| {
            let mut opts = RepositoryInitOptions::new();
            opts.bare(true).initial_head("main").mkpath(true);
            let repo = Repository::init_opts(&staging, &opts)?;
            {
                let mut config = repo.config()?;
                config.set_i64("verbatim.formatversion", i64::from(FORMAT_VERSION))?;
                config.set_bool("core.logAllRefUpdates", true)?;
                // Blobs stored, not deflated: see `loose`.
                config.set_i64(LOOSE_COMPRESSION, 0)?;
            }
            let created_at = capture::now();
            let meta = StoreMeta {
                format: "verbatim-store".to_owned(),
                version: FORMAT_VERSION,
                created_at,
            };
            let mut edits = tree::Edits::new();
            edits.insert(MARKER.to_owned(), repo.blob(&to_json(&meta))?);
            edits.insert("README.txt".to_owned(), repo.blob(STORE_README.as_bytes())?);
            let tree_id = tree::apply(&repo, None, &edits, &mut |bytes| {
                Ok::<_, Error>(repo.odb()?.write(git2::ObjectType::Tree, bytes)?)
            })?;
            let tree = repo.find_tree(tree_id)?;
            let sig = signature(created_at)?;
            repo.commit(
                Some(BRANCH),
                &sig,
                &sig,
                &format!("Create verbatim store (format {FORMAT_VERSION})\n"),
                &tree,
                &[],
            )?;
            Ok::<(), Error>(())
        })();
        // The new store is whole on disk before it appears under its name.
        let result = result.and_then(|()| {
            if crate::git::DURABILITY == crate::git::Durability::FlushAtCommit {
                crate::git::sync_filesystem(&staging).map_err(io(&staging))?;
            }
            Ok(())
        });
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        if path.exists() {
            std::fs::remove_dir(path).map_err(io(path))?;
        }
        std::fs::rename(&staging, path).map_err(io(path))?;
        Store::open(path)
    }

    /// Opens the store at `path`, checking that it is a verbatim store this build can read.
    pub fn open(path: &Path) -> Result<Store, Error> {
        crate::git::init();
        if !path.exists() {
            return Err(Error::Missing {
                path: path.to_path_buf(),
            });
        }
        let not_a_store = |reason: &str| Error::NotAStore {
            path: path.to_path_buf(),
            reason: reason.to_owned(),
        };
        let repo =
            Repository::open_bare(path).map_err(|_| not_a_store("not a bare git repository"))?;
        let loose_level = repo
            .config()
            .and_then(|c| c.get_i64(LOOSE_COMPRESSION))
            .ok()
            .and_then(|level| u32::try_from(level).ok())
            .filter(|level| *level <= 9);
        let store = Store {
            repo,
            path: path.to_path_buf(),
            loose_level,
            fsync: true,
        };
        let meta: StoreMeta = {
            let snapshot = store.snapshot().map_err(|e| {
                if store.repo.find_reference(BRANCH).is_ok() {
                    Error::Damaged {
                        path: path.to_path_buf(),
                        detail: format!("its branch's commit cannot be read ({e})"),
                    }
                } else {
                    not_a_store("no main branch")
                }
            })?;
            match snapshot.tree.get_path(Path::new(MARKER)) {
                Ok(entry) => snapshot
                    .read_json(MARKER, entry.id())
                    .map_err(|e| match e {
                        Error::Git(e) => Error::Damaged {
                            path: path.to_path_buf(),
                            detail: format!("its {MARKER} cannot be read ({})", e.message()),
                        },
                        other => other,
                    })?,
                Err(_) => return Err(not_a_store("no verbatim-store.json")),
            }
        };
        if meta.format != "verbatim-store" {
            return Err(not_a_store("unknown format marker"));
        }
        if meta.version > FORMAT_VERSION || meta.version < record::OLDEST_FORMAT {
            return Err(Error::UnsupportedFormat {
                path: path.to_path_buf(),
                found: meta.version,
            });
        }
        Ok(store)
    }

    /// Sets whether this handle's writes are flushed to disk before the branch moves (on by
    /// default).
    ///
    /// With it on, a power loss cannot leave the branch pointing at objects that never reached
    /// the disk. Off keeps crash safety (objects are still written before the ref moves) but not
    /// power-loss safety; it exists for bulk set-up in benchmarks, not for real stores. Where
    /// libgit2 fsyncs each file itself (not Linux), its own writes stay fsynced.
    pub fn set_fsync(&mut self, enabled: bool) {
        self.fsync = enabled;
    }

    /// Flushes the file system holding the store.
    fn sync(&self) -> Result<(), Error> {
        crate::git::sync_filesystem(&self.path).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Flushes the branch's ref and reflog files and their directories to disk.
    fn sync_branch(&self) -> Result<(), Error> {
        let ref_file = self.path.join(BRANCH);
        let log_file = self.path.join("logs").join(BRANCH);
        for path in [&ref_file, &log_file] {
            let dir = path.parent().unwrap_or(&self.path);
            for target in [path.as_path(), dir] {
                match std::fs::File::open(target) {
                    Ok(file) => file.sync_all().map_err(|source| Error::Io {
                        path: target.to_path_buf(),
                        source,
                    })?,
                    // A ref only in packed-refs, or no reflog: nothing of it was written here.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(Error::Io {
                            path: target.to_path_buf(),
                            source,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying repository, for read-only inspection.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// Takes the writer lock, waiting up to `timeout`. `on_wait` is told once if the lock is busy.
    pub fn lock(
        &self,
        timeout: Duration,
        on_wait: &mut dyn FnMut(Option<u32>),
    ) -> Result<Lock, Error> {
        let lock = Lock::acquire(&self.path.join(LOCK_FILE), timeout, on_wait)?;
        lock::clear_stale_git_locks(&self.path);
        Ok(lock)
    }

    /// The store's current state, for consistent reads while writers run.
    pub fn snapshot(&self) -> Result<Snapshot<'_>, Error> {
        let commit = self.repo.find_reference(BRANCH)?.peel_to_commit()?;
        let tree = commit.tree()?;
        Ok(Snapshot {
            repo: &self.repo,
            commit: commit.id(),
            tree,
        })
    }

    /// The store's state at an earlier commit of its branch, as another handle saw it.
    pub fn snapshot_at(&self, commit: Oid) -> Result<Snapshot<'_>, Error> {
        let commit = self.repo.find_commit(commit)?;
        let tree = commit.tree()?;
        Ok(Snapshot {
            repo: &self.repo,
            commit: commit.id(),
            tree,
        })
    }

    /// Starts a write on top of the current state. Requires the writer lock.
    pub fn transaction<'s>(&'s self, lock: &'s Lock) -> Result<Transaction<'s>, Error> {
        debug_assert!(lock.held());
        let snapshot = self.snapshot()?;
        Ok(Transaction {
            store: self,
            snapshot,
            edits: tree::Edits::new(),
            pending: BTreeMap::new(),
            trailers: Vec::new(),
            summary: Vec::new(),
            started_at: capture::now(),
            observed: BTreeMap::new(),
            run_files: BTreeMap::new(),
            states: BTreeMap::new(),
            indexed: BTreeMap::new(),
            compared: BTreeMap::new(),
        })
    }
}

pub(crate) fn signature(at: Timestamp) -> Result<Signature<'static>, git2::Error> {
    Signature::new(
        "verbatim",
        "verbatim@localhost",
        &git2::Time::new(at.as_second(), 0),
    )
}

/// The two-hex-digit shard an id's observations and state are filed under.
pub(crate) fn shard_of(id: &SourceId) -> &str {
    // Ids read from a damaged store may be short; they still get a shard.
    id.as_str().get(..2).unwrap_or("xx")
}

/// The directory of the run of observations a write started at `at` makes.
pub(crate) fn run_dir(at: Timestamp) -> String {
    format!(
        "{OBSERVATIONS_DIR}/{}/{}",
        at.strftime("%Y-%m"),
        at.strftime("%Y%m%dT%H%M%S%.6fZ")
    )
}

fn parse_lines<T: serde::de::DeserializeOwned>(
    path: &str,
    content: &[u8],
) -> Result<Vec<T>, Error> {
    content
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            serde_json::from_slice(line).map_err(|source| Error::CorruptRecord {
                path: path.to_owned(),
                source,
            })
        })
        .collect()
}

const STORE_README: &str = "\
This is a verbatim store: a git repository holding captured versions of documents.

sources/<id[0..2]>/<id[2..4]>/<id>/
    source.json                 the source's locator, title and date added
    raw                         exact bytes of the current version
    text.txt                    extracted text of the current version
    versions/00000001.json      one immutable record per version (hashes, fetch metadata)
observations/YYYY-MM/<run>/<aa>.jsonl
                                every observation one write made, for ids starting with aa
observations/YYYY-MM/<run>/run.json
                                the run's manifest: SHA-256 of its files, chained to the run before
state/<aa>.jsonl                the observation that began the current state of each source
                                whose id starts with aa
index/<aa>.jsonl                each source's locator and current version (derived, for speed)

History: `git log -p -- sources/.../<id>/text.txt` shows how a source's text changed.
Write to it only through verbatim; see docs/store-format.md in the verbatim repository.
";
