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

pub mod gc;
mod lock;
mod loose;
pub mod record;
#[cfg(test)]
mod tests;
mod tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{ObjectType, Oid, Repository, RepositoryInitOptions, Signature, Tree};
use jiff::Timestamp;

pub use lock::Lock;
use record::{
    FORMAT_VERSION, IndexEntry, Observation, Outcome, SourceRecord, StoreMeta, StoredBlob,
    VersionRecord,
};

use crate::capture::{self, Capture, Origin};
use crate::classify::Verdict;
use crate::hash::sha256_hex;
// How records become bytes is part of the format, so it lives with the records.
use crate::model::{json_line, to_json};
use crate::source::{self, SourceId};

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
            let tree_id = tree::apply(&repo, None, &edits)?;
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
        })
    }
}

/// A consistent view of the store at one commit.
pub struct Snapshot<'r> {
    repo: &'r Repository,
    commit: Oid,
    tree: Tree<'r>,
}

impl<'r> Snapshot<'r> {
    /// The directory of the store this view is of.
    pub fn store_path(&self) -> &Path {
        self.repo.path()
    }

    /// The commit this view is of.
    pub fn commit_id(&self) -> Oid {
        self.commit
    }

    /// Every tracked source, in id order.
    pub fn sources(&self) -> Result<Vec<SourceRecord>, Error> {
        let mut out = Vec::new();
        for id in self.ids_with_prefix("")? {
            out.extend(self.source(&id)?);
        }
        Ok(out)
    }

    /// The source with this exact id, if tracked.
    pub fn source(&self, id: &SourceId) -> Result<Option<SourceRecord>, Error> {
        let path = format!("{}/source.json", source_dir(id));
        match self.blob_at(&path)? {
            Some(oid) => Ok(Some(self.read_json(&path, oid)?)),
            None => Ok(None),
        }
    }

    /// Finds a source by id, unambiguous id prefix, or locator (URL or path, relative to `cwd`).
    pub fn resolve(&self, query: &str, cwd: &Path) -> Result<SourceRecord, Error> {
        let unknown = || Error::UnknownSource {
            query: query.to_owned(),
        };
        if source::is_id_prefix(query) {
            let mut matches = self.ids_with_prefix(query)?;
            match matches.len() {
                1 => {
                    let id = matches.remove(0);
                    return self.source(&id)?.ok_or_else(unknown);
                }
                0 => {}
                _ => {
                    return Err(Error::AmbiguousSource {
                        query: query.to_owned(),
                        candidates: matches.iter().take(5).map(ToString::to_string).collect(),
                    });
                }
            }
        }
        if let Ok(locator) = source::Locator::parse(query, cwd)
            && let Some(record) = self.source(&locator.id())?
        {
            return Ok(record);
        }
        Err(unknown())
    }

    /// The id of every tracked source, in id order, without reading their records.
    pub fn source_ids(&self) -> Result<Vec<SourceId>, Error> {
        if !self.has_index() {
            return self.ids_with_prefix("");
        }
        let mut out = Vec::new();
        for shard in self.index_shards()? {
            out.extend(self.index_shard(&shard)?.into_keys());
        }
        Ok(out)
    }

    /// Whether this commit has an index (format 3). Without one (format 2) the index is derived
    /// from the source records, slowly, until the store's next write adds it.
    fn has_index(&self) -> bool {
        self.tree.get_name(INDEX_DIR).is_some()
    }

    /// The id shards (two hex digits) that hold sources, in order.
    pub fn index_shards(&self) -> Result<Vec<String>, Error> {
        let (dir, suffix) = if self.has_index() {
            (INDEX_DIR, ".jsonl")
        } else {
            ("sources", "")
        };
        let Some(tree) = self.tree_at(dir)? else {
            return Ok(Vec::new());
        };
        Ok(tree
            .iter()
            .filter_map(|e| {
                e.name()
                    .and_then(|n| n.strip_suffix(suffix))
                    .map(str::to_owned)
            })
            .filter(|n| n.len() == 2)
            .collect())
    }

    /// The index entries of the sources whose ids start with `shard` (two hex digits).
    pub fn index_shard(&self, shard: &str) -> Result<BTreeMap<SourceId, IndexEntry>, Error> {
        let mut out = BTreeMap::new();
        if self.has_index() {
            let path = format!("{INDEX_DIR}/{shard}.jsonl");
            if let Some(oid) = self.blob_at(&path)? {
                let blob = self.repo.find_blob(oid)?;
                for entry in parse_lines::<IndexEntry>(&path, blob.content())? {
                    out.insert(entry.source.clone(), entry);
                }
            }
            return Ok(out);
        }
        for id in self.ids_with_prefix(shard)? {
            if let Some(source) = self.source(&id)? {
                let entry = IndexEntry::new(&source, self.latest(&id)?.as_ref());
                out.insert(id, entry);
            }
        }
        Ok(out)
    }

    /// Every tracked source's index entry, in id order.
    pub fn index(&self) -> Result<Vec<IndexEntry>, Error> {
        let mut out = Vec::new();
        for shard in self.index_shards()? {
            out.extend(self.index_shard(&shard)?.into_values());
        }
        Ok(out)
    }

    /// How many sources are tracked, counted without parsing the index.
    pub fn source_count(&self) -> Result<usize, Error> {
        if !self.has_index() {
            return Ok(self.source_ids()?.len());
        }
        let mut count = 0;
        if let Some(tree) = self.tree_at(INDEX_DIR)? {
            for entry in tree.iter() {
                let blob = self.repo.find_blob(entry.id())?;
                count += blob.content().iter().filter(|&&b| b == b'\n').count();
            }
        }
        Ok(count)
    }

    /// A source's index entry.
    pub fn index_entry(&self, id: &SourceId) -> Result<Option<IndexEntry>, Error> {
        Ok(self.index_shard(shard_of(id))?.remove(id))
    }

    fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<SourceId>, Error> {
        let Some(root) = self.subtree(&self.tree, "sources")? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for level1 in root.iter() {
            let Some(n1) = level1.name() else { continue };
            if !shard_may_match(n1, prefix, 0) {
                continue;
            }
            let Some(t1) = self.entry_tree(&level1)? else {
                continue;
            };
            for level2 in t1.iter() {
                let Some(n2) = level2.name() else { continue };
                if !shard_may_match(n2, prefix, 2) {
                    continue;
                }
                let Some(t2) = self.entry_tree(&level2)? else {
                    continue;
                };
                out.extend(
                    t2.iter()
                        .filter_map(|e| e.name().and_then(SourceId::parse))
                        .filter(|id| id.as_str().starts_with(prefix)),
                );
            }
        }
        Ok(out)
    }

    /// Every version of a source, oldest first.
    pub fn versions(&self, id: &SourceId) -> Result<Vec<VersionRecord>, Error> {
        let dir = format!("{}/versions", source_dir(id));
        let Some(tree) = self.tree_at(&dir)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(tree.len());
        for e in tree.iter() {
            let path = format!("{dir}/{}", e.name().unwrap_or("?"));
            out.push(self.read_json::<VersionRecord>(&path, e.id())?);
        }
        out.sort_by_key(|v| v.version);
        Ok(out)
    }

    /// The latest version of a source. Reads one record: tree entries are sorted by name and
    /// version file names are zero-padded, so the last entry is the latest.
    pub fn latest(&self, id: &SourceId) -> Result<Option<VersionRecord>, Error> {
        let dir = format!("{}/versions", source_dir(id));
        let Some(tree) = self.tree_at(&dir)? else {
            return Ok(None);
        };
        let Some(last) = tree.iter().next_back() else {
            return Ok(None);
        };
        let path = format!("{dir}/{}", last.name().unwrap_or("?"));
        Ok(Some(self.read_json(&path, last.id())?))
    }

    /// How many versions a source has, without reading them.
    pub fn version_count(&self, id: &SourceId) -> Result<usize, Error> {
        let dir = format!("{}/versions", source_dir(id));
        Ok(self.tree_at(&dir)?.map_or(0, |t| t.len()))
    }

    /// Every observation of a source, oldest first. Reads one shard file per run, so its cost
    /// grows with the number of writes, not of sources.
    pub fn observations(&self, id: &SourceId) -> Result<Vec<Observation>, Error> {
        let mut out = Vec::new();
        let Some(months) = self.tree_at(OBSERVATIONS_DIR)? else {
            return Ok(out);
        };
        let file = format!("{}.jsonl", shard_of(id));
        // Tree entries are sorted by name, and names sort by time.
        for month in months.iter() {
            let Some(runs) = self.entry_tree(&month)? else {
                continue;
            };
            for run in runs.iter() {
                let Some(run_tree) = self.entry_tree(&run)? else {
                    continue;
                };
                let Some(entry) = run_tree.get_name(&file) else {
                    continue;
                };
                let path = format!(
                    "{OBSERVATIONS_DIR}/{}/{}/{file}",
                    month.name().unwrap_or("?"),
                    run.name().unwrap_or("?")
                );
                let blob = self.repo.find_blob(entry.id())?;
                for observation in parse_lines::<Observation>(&path, blob.content())? {
                    if observation.source == *id {
                        out.push(observation);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The observation that began a source's current state (or stored its current version):
    /// its verdict and `since` are the state's. Later observations that continue the state are
    /// in the run files only, so a check that finds nothing new rewrites no state file.
    pub fn state(&self, id: &SourceId) -> Result<Option<Observation>, Error> {
        Ok(self.state_shard(shard_of(id))?.remove(id))
    }

    /// The [state](Snapshot::state) of every source that has one.
    pub fn states(&self) -> Result<BTreeMap<SourceId, Observation>, Error> {
        let mut out = BTreeMap::new();
        if let Some(tree) = self.tree_at(STATE_DIR)? {
            for entry in tree.iter() {
                let path = format!("{STATE_DIR}/{}", entry.name().unwrap_or("?"));
                self.read_states(&path, entry.id(), &mut out)?;
            }
        }
        Ok(out)
    }

    /// The [state](Snapshot::state) of each source whose id starts with `shard` (two hex digits).
    pub fn state_shard(&self, shard: &str) -> Result<BTreeMap<SourceId, Observation>, Error> {
        let path = format!("{STATE_DIR}/{shard}.jsonl");
        let mut out = BTreeMap::new();
        if let Some(oid) = self.blob_at(&path)? {
            self.read_states(&path, oid, &mut out)?;
        }
        Ok(out)
    }

    /// Adds the observations of the state file `path` (blob `oid`) to `out`, by source.
    fn read_states(
        &self,
        path: &str,
        oid: Oid,
        out: &mut BTreeMap<SourceId, Observation>,
    ) -> Result<(), Error> {
        let blob = self.repo.find_blob(oid)?;
        for observation in parse_lines::<Observation>(path, blob.content())? {
            out.insert(observation.source.clone(), observation);
        }
        Ok(())
    }

    /// The bytes of a stored blob.
    pub fn read(&self, blob: &StoredBlob) -> Result<Vec<u8>, Error> {
        let oid = Oid::from_str(&blob.git_blob)?;
        Ok(self.repo.find_blob(oid)?.content().to_vec())
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, path: &str, oid: Oid) -> Result<T, Error> {
        let blob = self.repo.find_blob(oid)?;
        serde_json::from_slice(blob.content()).map_err(|source| Error::CorruptRecord {
            path: path.to_owned(),
            source,
        })
    }

    fn blob_at(&self, path: &str) -> Result<Option<Oid>, Error> {
        match self.tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some(entry.id())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The tree at a slash-separated path, if there is one.
    fn tree_at(&self, path: &str) -> Result<Option<Tree<'r>>, Error> {
        match self.tree.get_path(Path::new(path)) {
            Ok(entry) => self.entry_tree(&entry),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn subtree(&self, tree: &Tree<'r>, name: &str) -> Result<Option<Tree<'r>>, Error> {
        match tree.get_name(name) {
            Some(entry) => self.entry_tree(&entry),
            None => Ok(None),
        }
    }

    fn entry_tree(&self, entry: &git2::TreeEntry<'_>) -> Result<Option<Tree<'r>>, Error> {
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(None);
        }
        Ok(Some(self.repo.find_tree(entry.id())?))
    }
}

/// Whether the two-digit shard name at `offset` of an id can hold ids starting with `prefix`.
fn shard_may_match(shard: &str, prefix: &str, offset: usize) -> bool {
    let want = prefix.get(offset..).unwrap_or("");
    let n = want.len().min(shard.len());
    shard[..n] == want[..n]
}

impl Snapshot<'_> {
    /// The latest run before `run` that has a manifest: its name (`YYYY-MM/<run>`) and the
    /// SHA-256 of its manifest's bytes. Reads the last months' trees only.
    fn last_run_manifest(&self, run: &str) -> Result<Option<(String, String)>, Error> {
        let Some(months) = self.tree_at(OBSERVATIONS_DIR)? else {
            return Ok(None);
        };
        let this = run
            .strip_prefix(&format!("{OBSERVATIONS_DIR}/"))
            .unwrap_or(run);
        for month in months.iter().rev() {
            let Some(runs) = self.entry_tree(&month)? else {
                continue;
            };
            let month_name = month.name().unwrap_or("?");
            for entry in runs.iter().rev() {
                let name = format!("{month_name}/{}", entry.name().unwrap_or("?"));
                if name.as_str() >= this {
                    continue;
                }
                let Some(files) = self.entry_tree(&entry)? else {
                    continue;
                };
                if let Some(manifest) = files.get_name(RUN_MANIFEST) {
                    let blob = self.repo.find_blob(manifest.id())?;
                    return Ok(Some((name, sha256_hex(blob.content()))));
                }
            }
        }
        Ok(None)
    }
}

/// The tree path of a source's directory.
pub fn source_dir(id: &SourceId) -> String {
    let s = id.as_str();
    format!("sources/{}/{}/{s}", &s[..2], &s[2..4])
}

/// A capture whose bytes and text are already written to the store's object database, so that
/// thousands can wait for a transaction without holding their bodies in memory (or be spooled
/// to disk: it serialises). Writing objects needs no lock: until a commit references them they
/// are unreachable, and harmless.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Staged {
    /// The canonical locator.
    locator: String,
    captured_at: Timestamp,
    title: Option<String>,
    media_type: String,
    charset: Option<String>,
    charset_source: crate::extract::CharsetSource,
    origin: Origin,
    raw: StoredBlob,
    text: StoredBlob,
    canonical_sha256: String,
    from_content: bool,
}

impl Store {
    /// Writes a blob at the store's zlib level (see `loose`), or through libgit2 when the store
    /// names none.
    fn write_blob(&self, bytes: &[u8]) -> Result<Oid, Error> {
        match self.loose_level {
            // Where a transaction's objects are flushed at once at commit (Linux), not one by one.
            Some(level) => loose::write_blob(
                &self.repo,
                bytes,
                level,
                self.fsync && crate::git::DURABILITY == crate::git::Durability::FsyncEachFile,
            ),
            None => Ok(self.repo.blob(bytes)?),
        }
    }

    /// Writes a capture's bytes and text as git blobs now and keeps only their ids and hashes.
    pub fn stage(&self, capture: Capture) -> Result<Staged, Error> {
        self.stage_borrowed(&capture)
    }

    /// As [`Store::stage`], for a capture the caller keeps.
    fn stage_borrowed(&self, capture: &Capture) -> Result<Staged, Error> {
        let stored = |bytes: &[u8]| -> Result<StoredBlob, Error> {
            Ok(StoredBlob {
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
                git_blob: self.write_blob(bytes)?.to_string(),
            })
        };
        let extracted = &capture.extracted;
        Ok(Staged {
            locator: capture.locator.canonical(),
            captured_at: capture.captured_at,
            title: extracted.title.clone(),
            media_type: extracted.media_type.clone(),
            charset: extracted.charset.clone(),
            charset_source: extracted.charset_source,
            origin: capture.origin.clone(),
            raw: stored(&capture.raw)?,
            text: stored(extracted.text.as_bytes())?,
            canonical_sha256: sha256_hex(
                crate::classify::canonical_text(&extracted.text).as_bytes(),
            ),
            from_content: capture.from_content,
        })
    }
}

/// What recording a capture did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new source was added with its first version.
    Added(VersionRecord),
    /// A new version of a tracked source was stored.
    NewVersion(VersionRecord),
    /// The bytes equal the current version: only an observation was recorded.
    Unchanged(VersionRecord),
}

/// Pending changes, written as one commit by [`Transaction::commit`].
pub struct Transaction<'s> {
    store: &'s Store,
    snapshot: Snapshot<'s>,
    edits: tree::Edits,
    /// Latest version per source as changed in this transaction (sources may repeat in a batch).
    pending: BTreeMap<SourceId, (VersionRecord, String)>,
    trailers: Vec<(String, String)>,
    summary: Vec<String>,
    /// Names this write's run of observations.
    started_at: Timestamp,
    /// Observations made in this transaction and not yet written, as run-file lines by shard.
    observed: BTreeMap<String, Vec<u8>>,
    /// The run files written so far (file name → SHA-256 of its bytes), for the run's manifest.
    run_files: BTreeMap<String, String>,
    /// State shards read so far, updated with this transaction's observations, and whether
    /// any line of each changed.
    states: BTreeMap<String, (BTreeMap<SourceId, Observation>, bool)>,
    /// Sources whose index entry changes, with their record when it changed too.
    indexed: BTreeMap<SourceId, Option<SourceRecord>>,
}

impl Transaction<'_> {
    /// The state this transaction builds on.
    pub fn snapshot(&self) -> &Snapshot<'_> {
        &self.snapshot
    }

    /// Records a capture: a new source, a new version, or an unchanged observation.
    /// `title` sets the title of a source added now (else the document's own title is used).
    pub fn record(&mut self, capture: &Capture, title: Option<&str>) -> Result<Recorded, Error> {
        self.record_checked(capture, title, None)
    }

    /// As [`Transaction::record`], keeping the verdict of a check (and its reason) in the
    /// observation.
    pub fn record_checked(
        &mut self,
        capture: &Capture,
        title: Option<&str>,
        verdict: Option<(Verdict, Option<String>)>,
    ) -> Result<Recorded, Error> {
        let staged = self.store.stage_borrowed(capture)?;
        self.record_staged(&staged, title, verdict)
    }

    /// As [`Transaction::record_checked`], for a capture already [staged](Store::stage).
    pub fn record_staged(
        &mut self,
        staged: &Staged,
        title: Option<&str>,
        verdict: Option<(Verdict, Option<String>)>,
    ) -> Result<Recorded, Error> {
        let repo = &self.store.repo;
        let id = SourceId::from_locator(&staged.locator);
        let dir = source_dir(&id);
        let previous = match self.pending.get(&id) {
            Some((record, sha)) => Some((record.clone(), sha.clone())),
            None => match self.snapshot.latest(&id)? {
                Some(record) => {
                    let path = format!("{dir}/versions/{:08}.json", record.version);
                    let oid = self
                        .snapshot
                        .blob_at(&path)?
                        .ok_or_else(|| Error::Missing {
                            path: PathBuf::from(&path),
                        })?;
                    let sha = sha256_hex(repo.find_blob(oid)?.content());
                    Some((record, sha))
                }
                None => None,
            },
        };
        let raw_sha = staged.raw.sha256.clone();
        let http_status = match &staged.origin {
            Origin::Http { status, .. } => Some(*status),
            Origin::File { .. } => None,
        };
        let canonical_sha = staged.canonical_sha256.clone();
        let final_url = match &staged.origin {
            Origin::Http { final_url, .. } if *final_url != staged.locator => {
                Some(final_url.clone())
            }
            _ => None,
        };
        let (verdict, reason) = verdict.map_or((None, None), |(v, r)| (Some(v), r));
        let observation = |outcome, version| Observation {
            source: id.clone(),
            at: staged.captured_at,
            since: staged.captured_at,
            outcome,
            version,
            raw_sha256: Some(raw_sha.clone()),
            canonical_sha256: Some(canonical_sha.clone()),
            http_status,
            verdict,
            reason: reason.clone(),
            final_url: final_url.clone(),
        };
        if let Some((current, _)) = &previous
            && current.raw.sha256 == raw_sha
        {
            let seen = observation(Outcome::Unchanged, current.version);
            self.observe(seen)?;
            return Ok(Recorded::Unchanged(current.clone()));
        }
        let is_new = previous.is_none() && self.snapshot.source(&id)?.is_none();
        if is_new {
            let record = SourceRecord {
                id: id.clone(),
                locator: staged.locator.clone(),
                title: title.map(str::to_owned).or_else(|| staged.title.clone()),
                added_at: staged.captured_at,
                selector: None,
                ignore: Vec::new(),
                from_content: staged.from_content,
                learned_ignore: Vec::new(),
            };
            self.put(format!("{dir}/source.json"), &to_json(&record))?;
            self.indexed.insert(id.clone(), Some(record));
        } else {
            self.indexed.entry(id.clone()).or_insert(None);
        }
        let raw_oid = Oid::from_str(&staged.raw.git_blob)?;
        let text_oid = Oid::from_str(&staged.text.git_blob)?;
        let version = previous.as_ref().map_or(1, |(v, _)| v.version + 1);
        let record = VersionRecord {
            version,
            source: id.clone(),
            captured_at: staged.captured_at,
            raw: staged.raw.clone(),
            text: staged.text.clone(),
            canonical_sha256: Some(canonical_sha.clone()),
            media_type: staged.media_type.clone(),
            charset: staged.charset.clone(),
            charset_source: staged.charset_source,
            origin: staged.origin.clone(),
            previous_record_sha256: previous.map(|(_, sha)| sha),
        };
        let record_json = to_json(&record);
        self.edits.insert(format!("{dir}/raw"), raw_oid);
        self.edits.insert(format!("{dir}/text.txt"), text_oid);
        self.put(format!("{dir}/versions/{version:08}.json"), &record_json)?;
        let seen = observation(Outcome::Captured, version);
        self.observe(seen)?;
        self.pending
            .insert(id.clone(), (record.clone(), sha256_hex(&record_json)));
        self.trailers
            .push(("Verbatim-Source".to_owned(), id.to_string()));
        self.trailers
            .push(("Verbatim-Version".to_owned(), version.to_string()));
        self.trailers.push(("Verbatim-Sha256".to_owned(), raw_sha));
        self.summary
            .push(format!("v{version} {id} {}", staged.locator));
        Ok(if is_new {
            Recorded::Added(record)
        } else {
            Recorded::NewVersion(record)
        })
    }

    /// Changes a tracked source's record (title, extraction rules) and returns it.
    pub fn update_source(
        &mut self,
        id: &SourceId,
        change: impl FnOnce(&mut SourceRecord),
    ) -> Result<SourceRecord, Error> {
        let path = format!("{}/source.json", source_dir(id));
        let oid = match self.edits.get(&path) {
            Some(oid) => *oid,
            None => self
                .snapshot
                .blob_at(&path)?
                .ok_or_else(|| Error::UnknownSource {
                    query: id.to_string(),
                })?,
        };
        let mut record: SourceRecord = self.snapshot.read_json(&path, oid)?;
        change(&mut record);
        self.put(path, &to_json(&record))?;
        self.indexed.insert(id.clone(), Some(record.clone()));
        Ok(record)
    }

    /// Records an observation of a source in this write's run, and as the source's latest
    /// state. Its `since` is set here: kept from the previous observation when the state
    /// continues (see [`crate::classify::continues`]), else its own time.
    pub fn observe(&mut self, mut observation: Observation) -> Result<(), Error> {
        let shard = shard_of(&observation.source).to_owned();
        let (states, changed) = self.state_shard(&shard)?;
        let continued =
            Observation::continued_since(states.get(&observation.source), observation.verdict);
        observation.since = continued.unwrap_or(observation.at);
        let line = json_line(&observation);
        // The state line changes only when a state begins or a version is stored, so a check
        // that finds nothing new rewrites no state shard.
        if continued.is_none() || observation.outcome == Outcome::Captured {
            states.insert(observation.source.clone(), observation);
            *changed = true;
        }
        self.observed.entry(shard).or_default().extend(line);
        Ok(())
    }

    /// The state shard `shard`: as this transaction last wrote it, else as the snapshot has it;
    /// read on first use.
    fn state_shard(
        &mut self,
        shard: &str,
    ) -> Result<&mut (BTreeMap<SourceId, Observation>, bool), Error> {
        if !self.states.contains_key(shard) {
            let path = format!("{STATE_DIR}/{shard}.jsonl");
            let read = match self.edits.get(&path) {
                Some(oid) => {
                    let mut out = BTreeMap::new();
                    self.snapshot.read_states(&path, *oid, &mut out)?;
                    out
                }
                None => self.snapshot.state_shard(shard)?,
            };
            self.states.insert(shard.to_owned(), (read, false));
        }
        // Inserted just above when it was missing.
        Ok(self.states.entry(shard.to_owned()).or_default())
    }

    /// Writes the observations made so far to the object database (appended to this write's
    /// run files, and replacing each observed source's line in the state shards) and drops them
    /// from memory. [`Transaction::commit`] does it too; a caller recording observations of
    /// many sources calls it every few thousand so that memory does not grow with their number.
    /// Observing a source of a written shard again reads the shard back.
    pub fn flush_observations(&mut self) -> Result<(), Error> {
        let run = run_dir(self.started_at);
        for (shard, new_lines) in std::mem::take(&mut self.observed) {
            let path = format!("{run}/{shard}.jsonl");
            // Two writes in the same microsecond share a run directory; neither loses lines.
            let existing = match self.edits.get(&path) {
                Some(oid) => Some(*oid),
                None => self.snapshot.blob_at(&path)?,
            };
            let mut content = match existing {
                Some(oid) => self.store.repo.find_blob(oid)?.content().to_vec(),
                None => Vec::new(),
            };
            content.extend(new_lines);
            self.run_files
                .insert(format!("{shard}.jsonl"), sha256_hex(&content));
            self.put(path, &content)?;
            if let Some((states, true)) = self.states.remove(&shard) {
                let mut content = Vec::new();
                for observation in states.values() {
                    content.extend(json_line(observation));
                }
                self.put(format!("{STATE_DIR}/{shard}.jsonl"), &content)?;
            }
        }
        Ok(())
    }

    /// Writes this run's manifest, `run.json`: the SHA-256 of each of its files, and the path
    /// and SHA-256 of the previous run's manifest, so that the runs form a SHA-256 chain in
    /// which a removed or edited observation, or a removed run, shows without trusting git.
    fn write_run_manifest(&mut self) -> Result<(), Error> {
        if self.run_files.is_empty() {
            return Ok(());
        }
        let run = run_dir(self.started_at);
        let path = format!("{run}/{RUN_MANIFEST}");
        // Two writes in one microsecond share a run; the first one's manifest stays (a
        // manifest is written once), and the second's lines are covered by the next run's.
        if self.snapshot.blob_at(&path)?.is_some() {
            return Ok(());
        }
        let previous = self.snapshot.last_run_manifest(&run)?;
        let manifest = record::RunManifest {
            run: run
                .strip_prefix(&format!("{OBSERVATIONS_DIR}/"))
                .unwrap_or(&run)
                .to_owned(),
            files: std::mem::take(&mut self.run_files),
            previous: previous.map(|(run, sha256)| record::PreviousRun { run, sha256 }),
        };
        self.put(path, &to_json(&manifest))
    }

    /// Rewrites the index shards of the sources this transaction changed. A store without an
    /// index (format 2) gets a whole one, and becomes format 3.
    fn write_index(&mut self) -> Result<(), Error> {
        let migrate =
            !self.snapshot.has_index() && self.snapshot.tree.get_name("sources").is_some();
        if self.indexed.is_empty() && !migrate {
            return Ok(());
        }
        let mut shards: BTreeMap<String, Vec<(SourceId, Option<SourceRecord>)>> = BTreeMap::new();
        if migrate {
            for shard in self.snapshot.index_shards()? {
                shards.entry(shard).or_default();
            }
        }
        for (id, record) in std::mem::take(&mut self.indexed) {
            shards
                .entry(shard_of(&id).to_owned())
                .or_default()
                .push((id, record));
        }
        for (shard, changed) in shards {
            let mut entries = self.snapshot.index_shard(&shard)?;
            for (id, record) in changed {
                let entry = match (record, entries.remove(&id)) {
                    (Some(record), Some(mut old)) => {
                        old.locator = record.locator;
                        old.title = record.title;
                        old
                    }
                    (Some(record), None) => IndexEntry::new(&record, None),
                    (None, Some(old)) => old,
                    (None, None) => {
                        return Err(Error::InvalidSource {
                            id: id.to_string(),
                            detail: "it has a version but no source.json".to_owned(),
                        });
                    }
                };
                let entry = match self.pending.get(&id) {
                    Some((version, _)) => entry.with_version(version),
                    None => entry,
                };
                entries.insert(id, entry);
            }
            let mut content = Vec::new();
            for entry in entries.values() {
                content.extend(json_line(entry));
            }
            self.put(format!("{INDEX_DIR}/{shard}.jsonl"), &content)?;
        }
        if migrate {
            let mut meta: StoreMeta = match self.snapshot.blob_at(MARKER)? {
                Some(oid) => self.snapshot.read_json(MARKER, oid)?,
                None => {
                    return Err(Error::Missing {
                        path: PathBuf::from(MARKER),
                    });
                }
            };
            meta.version = FORMAT_VERSION;
            self.put(MARKER.to_owned(), &to_json(&meta))?;
            self.put("README.txt".to_owned(), STORE_README.as_bytes())?;
            self.summary
                .push(format!("store upgraded to format {FORMAT_VERSION}"));
        }
        Ok(())
    }

    fn put(&mut self, path: String, bytes: &[u8]) -> Result<(), Error> {
        let oid = self.store.write_blob(bytes)?;
        self.edits.insert(path, oid);
        Ok(())
    }

    /// Whether anything would be written.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty() && self.observed.is_empty()
    }

    /// Writes all pending changes as one commit with `subject`, and moves the branch to it only
    /// if nobody else did meanwhile. Returns the new commit's id, or `None` if nothing changed.
    pub fn commit(mut self, subject: &str) -> Result<Option<Oid>, Error> {
        self.write_index()?;
        self.flush_observations()?;
        self.write_run_manifest()?;
        if self.edits.is_empty() {
            return Ok(None);
        }
        let repo = &self.store.repo;
        let tree_id = tree::apply(repo, Some(&self.snapshot.tree), &self.edits)?;
        let tree = repo.find_tree(tree_id)?;
        let parent = repo.find_commit(self.snapshot.commit)?;
        let mut message = format!("{subject}\n");
        if !self.summary.is_empty() {
            message.push('\n');
            for line in self.summary.iter().take(50) {
                message.push_str(line);
                message.push('\n');
            }
            if self.summary.len() > 50 {
                message.push_str(&format!("… and {} more\n", self.summary.len() - 50));
            }
        }
        if !self.trailers.is_empty() {
            message.push('\n');
            for (key, value) in &self.trailers {
                message.push_str(&format!("{key}: {value}\n"));
            }
        }
        let sig = signature(capture::now())?;
        let commit = repo.commit(None, &sig, &sig, &message, &tree, &[&parent])?;
        let flush =
            self.store.fsync && crate::git::DURABILITY == crate::git::Durability::FlushAtCommit;
        if flush {
            // Every object of this transaction reaches the disk before the branch points at it.
            self.store.sync()?;
        }
        // Compare-and-swap: fails if the branch no longer points at our parent.
        match repo.reference_matching(BRANCH, commit, true, self.snapshot.commit, subject) {
            Ok(_) => {}
            Err(e) if e.code() == git2::ErrorCode::Modified => return Err(Error::Raced),
            Err(e) => return Err(e.into()),
        }
        if flush {
            // And the branch and its reflog before the commit is reported as made: their files
            // and directories only, as libgit2's own fsync would (a second flush of the whole
            // file system would wait for whatever else is being written on it).
            self.store.sync_branch()?;
        }
        Ok(Some(commit))
    }
}

fn signature(at: Timestamp) -> Result<Signature<'static>, git2::Error> {
    Signature::new(
        "verbatim",
        "verbatim@localhost",
        &git2::Time::new(at.as_second(), 0),
    )
}

/// The two-hex-digit shard an id's observations and state are filed under.
fn shard_of(id: &SourceId) -> &str {
    // Ids read from a damaged store may be short; they still get a shard.
    id.as_str().get(..2).unwrap_or("xx")
}

/// The directory of the run of observations a write started at `at` makes.
fn run_dir(at: Timestamp) -> String {
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
