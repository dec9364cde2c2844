//! Proving that a store is intact, independently of git's SHA-1: every object read is re-hashed
//! against its id, every stored byte stream against its recorded SHA-256 and length, every
//! version record against the chain of SHA-256s that links each source's history, and every
//! reference (observations to versions, the index and state files to the records) is followed.
//!
//! Verification never stops at the first problem: it walks everything and reports each problem
//! with the source, the version and the path concerned, so one run tells the whole damage.
//! History is checked too: version records and observation run files are written once, so a
//! later commit that changes or removes one is reported as a rewrite.

pub mod anchor;
mod doors;
mod history;
mod objects;
mod observations;
mod records;

use history::{Hashed, hash_blob};

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::{ObjectType, Oid, Repository};

use objects::{Objects, Read, Tree};

/// Sets and maps keyed by object ids and lines, with foldhash: SipHash was a tenth of a
/// verification. (The keys come from the store, which `verify` reads whole anyway; foldhash is
/// seeded per process.)
type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use serde::Serialize;

use crate::hash::sha256_hex;
use crate::source::SourceId;
use crate::store::record::VersionRecord;
use crate::store::{self, Store};

/// What kind of problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A git object is missing from the object database.
    MissingObject,
    /// A git object's content does not hash to its id, or cannot be read (damaged).
    CorruptObject,
    /// A stored byte stream's SHA-256 or length differs from its version record.
    DigestMismatch,
    /// A record (source, version, observation, index, state) does not parse.
    BadRecord,
    /// A record disagrees with another (numbering, ids, the SHA-256 chain, the index).
    Inconsistent,
    /// A reference leads nowhere: an observation of a version or source that does not exist.
    DanglingReference,
    /// A record that is written once was changed or removed by a later commit.
    HistoryRewritten,
    /// The store no longer holds the state an anchor was made of.
    AnchorMismatch,
    /// git state beside the tree changes what stock git shows of the store or where it reads
    /// objects from: a replace ref, grafts, `shallow`, alternates, an unparseable
    /// `packed-refs`, a `HEAD` away from the branch.
    SideDoor,
    /// An entry of the tree that is no part of the store's layout: no record accounts for it.
    StrayEntry,
}

/// One problem, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What is wrong, as a kind.
    pub kind: ProblemKind,
    /// The source concerned, if one is.
    pub source: Option<String>,
    /// The version concerned, if one is.
    pub version: Option<u32>,
    /// The path in the store's tree concerned, if one is.
    pub path: Option<String>,
    /// The git object concerned, if one is.
    pub object: Option<String>,
    /// What is wrong, in words.
    pub detail: String,
}

/// What a verification covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Commits of the branch's history whose objects were checked.
    pub commits: usize,
    /// Distinct git objects read and re-hashed.
    pub objects: usize,
    /// Bytes of those objects.
    pub object_bytes: u64,
    /// Sources checked.
    pub sources: usize,
    /// Versions checked.
    pub versions: usize,
    /// Byte streams (raw bytes and texts) checked against their SHA-256.
    pub streams: usize,
    /// Observations checked.
    pub observations: usize,
}

/// The result of [`verify`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The commit verified.
    pub commit: String,
    /// What was checked.
    pub checked: Counts,
    /// Every problem found, in the order found.
    pub problems: Vec<Problem>,
    /// The anchor checked, if one was given.
    pub anchor: Option<String>,
    /// Unreachable loose objects and stale temporary files, which `verbatim gc` removes: not a
    /// problem, only space. Counted when the whole store is verified.
    pub unreachable: Option<store::gc::Survey>,
}

impl Report {
    /// Whether everything held.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these sources (with their objects and observations); the whole store when empty. The
    /// history of the whole branch is checked only for the whole store.
    pub sources: Vec<SourceId>,
    /// An anchor (from [`anchor::anchor`]) whose state the store must still hold.
    pub anchor: Option<String>,
}

/// Errors that stop a verification before it can say anything (the store cannot be opened or
/// has no branch); everything found inside the store is a [`Problem`] instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be read at all.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// git failed outside any object (the branch, the object database).
    #[error("cannot read the store's history: {0}")]
    Git(#[from] git2::Error),
    /// The anchor given is not one, or could not be checked.
    #[error(transparent)]
    Anchor(#[from] anchor::Error),
}

/// Verifies the store at its current commit; `progress` is called with objects checked so far
/// and an estimate of the total.
pub fn verify(
    store: &Store,
    options: &Options,
    progress: &mut dyn FnMut(usize),
) -> Result<Report, Error> {
    let repo = store.repo();
    let snapshot = store.snapshot()?;
    let commit = snapshot.commit_id();
    let mut v = Verifier::new(repo, commit, progress);
    let (doors, alternates) = doors::side_doors(repo.path());
    v.report.problems.extend(doors);
    let wanted: Option<HashSet<&SourceId>> =
        (!options.sources.is_empty()).then(|| options.sources.iter().collect());
    // Blobs (most of the bytes) are re-hashed on two threads as the history walk finds them,
    // while this thread walks on and then checks the records, which it reads again where they
    // are parsed.
    let done = std::sync::Arc::new(AtomicUsize::new(0));
    v.background = Some(std::sync::Arc::clone(&done));
    let repo_path = repo.path().to_path_buf();
    // Blobs go out in batches: one message (and one wake-up of a sleeping worker) a blob cost
    // a futex call each, 50,000 of them on a store of 10,000 sources.
    const BATCH: usize = 32;
    let (tx, rx) = std::sync::mpsc::channel::<Vec<(usize, Oid)>>();
    let rx = std::sync::Mutex::new(rx);
    // Each worker holds a sender until it ends (or unwinds): the channel's disconnection is
    // the signal that all have, without polling.
    let (ended_tx, ended) = std::sync::mpsc::channel::<()>();
    let (blobs, root, hashed) = std::thread::scope(|scope| {
        // The listing of every object directory (for the unreachable-space line) is system
        // time that would lengthen this thread's walk; on its own thread it overlaps it.
        let listing = wanted
            .is_none()
            .then(|| scope.spawn(|| store::gc::list(&repo_path)));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (ended_tx, rx, done, repo_path) = (ended_tx.clone(), &rx, &done, &repo_path);
                scope.spawn(move || {
                    let _ended_tx = ended_tx;
                    let mut objects = Objects::new(repo_path);
                    let mut out = Vec::new();
                    loop {
                        // The lock is held only to take the next blob.
                        let next = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok(batch) = next else { break };
                        for (i, oid) in batch {
                            out.push((i, hash_blob(&mut objects, oid)));
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    out
                })
            })
            .collect();
        let blobs = if wanted.is_none() {
            let mut batch = Vec::with_capacity(BATCH);
            let blobs = v.walk_history(commit, &mut |i, oid| {
                batch.push((i, oid));
                if batch.len() == BATCH {
                    // A worker gone (it panicked) leaves its blobs to be read below.
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            });
            let _ = tx.send(batch);
            blobs
        } else {
            Vec::new()
        };
        drop(tx);
        let root = v.commit_tree(commit);
        if let Some(tree) = &root {
            let versions = v.sources(tree, wanted.as_ref());
            v.observations(tree, &versions, wanted.as_ref());
            if wanted.is_none() {
                v.strays(tree);
            }
        }
        if let Some(Ok(Ok(listing))) = listing.map(|l| l.join()) {
            v.report.unreachable = v.unreachable(&blobs, listing);
        }
        drop(ended_tx);
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            ended.recv_timeout(std::time::Duration::from_millis(50))
        {
            v.tick();
        }
        let mut hashed: Vec<Option<Hashed>> =
            std::iter::repeat_with(|| None).take(blobs.len()).collect();
        for worker in workers {
            for (i, h) in worker.join().unwrap_or_default() {
                if let Some(slot) = hashed.get_mut(i) {
                    *slot = Some(h);
                }
            }
        }
        (blobs, root, hashed)
    });
    v.background = None;
    v.record_hashes(&blobs, hashed);
    v.check_streams();
    if !alternates.is_empty() {
        v.borrowed_objects(&alternates);
    }
    if root.is_none() {
        return Ok(v.report);
    }
    if let Some(token) = &options.anchor {
        v.anchor(commit, token)?;
        v.report.anchor = Some(token.trim().to_owned());
    }
    Ok(v.report)
}

/// Verifies a store too damaged to open (its branch's commit, root tree or format marker
/// cannot be read): everything still readable is checked as [`verify`] would, from the
/// repository itself.
pub fn verify_unreadable(path: &std::path::Path) -> Result<Report, Error> {
    crate::git::init();
    let repo = Repository::open_bare(path)?;
    let commit = repo.refname_to_id(store::BRANCH)?;
    if repo.find_commit(commit).is_ok() {
        let mut nothing = |_| {};
        let mut v = Verifier::new(&repo, commit, &mut nothing);
        let (doors, alternates) = doors::side_doors(repo.path());
        v.report.problems.extend(doors);
        v.history(commit);
        if let Some(tree) = v.commit_tree(commit) {
            let versions = v.sources(&tree, None);
            v.observations(&tree, &versions, None);
            v.strays(&tree);
        }
        v.check_streams();
        if !alternates.is_empty() {
            v.borrowed_objects(&alternates);
        }
        return Ok(v.report);
    }
    let mut report = Report {
        commit: commit.to_string(),
        ..Report::default()
    };
    let (kind, detail) = match repo.odb().and_then(|odb| odb.read(commit).map(|_| ())) {
        Err(e) if e.code() == git2::ErrorCode::NotFound => (
            ProblemKind::MissingObject,
            "the branch's commit is missing from the store: nothing it holds can be reached"
                .to_owned(),
        ),
        Err(e) => (
            ProblemKind::CorruptObject,
            format!("the branch's commit cannot be read: {}", e.message()),
        ),
        Ok(()) => (
            ProblemKind::CorruptObject,
            "the branch's commit or its tree cannot be read as a verbatim store".to_owned(),
        ),
    };
    report.problems.push(Problem {
        kind,
        source: None,
        version: None,
        path: Some(store::BRANCH.to_owned()),
        object: Some(commit.to_string()),
        detail,
    });
    Ok(report)
}

/// Each checked source's version records, by number, for the observation checks.
type Versions = BTreeMap<SourceId, BTreeMap<u32, VersionRecord>>;

struct Verifier<'r, 'p> {
    repo: &'r Repository,
    objects: Objects,
    /// Trees read so far, parsed: the history walk reads every tree, the later checks and the
    /// comparison of each commit with its parent find them here.
    trees: FastMap<Oid, Rc<Tree>>,
    /// Commits read so far: their tree and parents.
    commits: FastMap<Oid, (Oid, Vec<Oid>)>,
    /// Objects already re-hashed (each is read once however often it is referenced).
    seen: FastSet<Oid>,
    /// Objects found missing or unreadable, reported once where they were first read (and
    /// again for each stream record that names them, with its version).
    failed: FastMap<Oid, ProblemKind>,
    /// Byte streams to check against their records once every blob is hashed.
    streams: Vec<(SourceId, u32, store::record::StoredBlob, &'static str)>,
    /// Blobs re-hashed so far by the background threads, for the progress shown.
    background: Option<std::sync::Arc<AtomicUsize>>,
    /// SHA-256 and length of each blob read, so that a byte stream read while walking the
    /// history is not read again to check its record.
    digests: FastMap<Oid, (String, u64)>,
    report: Report,
    progress: &'p mut dyn FnMut(usize),
}

impl<'r, 'p> Verifier<'r, 'p> {
    fn new(repo: &'r Repository, commit: Oid, progress: &'p mut dyn FnMut(usize)) -> Self {
        Verifier {
            repo,
            objects: Objects::new(repo.path()),
            trees: FastMap::default(),
            commits: FastMap::default(),
            seen: FastSet::default(),
            failed: FastMap::default(),
            streams: Vec::new(),
            background: None,
            digests: FastMap::default(),
            report: Report {
                commit: commit.to_string(),
                ..Report::default()
            },
            progress,
        }
    }

    fn problem(
        &mut self,
        kind: ProblemKind,
        source: Option<&SourceId>,
        version: Option<u32>,
        path: Option<&str>,
        detail: impl Into<String>,
    ) {
        self.report.problems.push(Problem {
            kind,
            source: source.map(ToString::to_string),
            version,
            path: path.map(str::to_owned),
            object: None,
            detail: detail.into(),
        });
    }

    /// Reads an object and checks that it hashes to its id; `None` (with the problem recorded)
    /// when it is missing or damaged.
    fn object(&mut self, oid: Oid, kind: ObjectType, path: &str) -> Option<Vec<u8>> {
        if self.failed.contains_key(&oid) {
            return None;
        }
        let object = match self.objects.read(oid) {
            Read::Found(object) => object,
            Read::Missing => {
                self.failed.insert(oid, ProblemKind::MissingObject);
                self.object_problem(
                    ProblemKind::MissingObject,
                    oid,
                    path,
                    "the object is missing from the store",
                );
                return None;
            }
            Read::Unreadable(why) => {
                self.failed.insert(oid, ProblemKind::CorruptObject);
                self.object_problem(
                    ProblemKind::CorruptObject,
                    oid,
                    path,
                    format!("the object cannot be read: {why}"),
                );
                return None;
            }
        };
        if self.seen.insert(oid) {
            let data = object.data();
            if object.kind == ObjectType::Blob {
                self.digests
                    .insert(oid, (sha256_hex(data), data.len() as u64));
            }
            self.report.checked.objects += 1;
            self.report.checked.object_bytes += data.len() as u64;
            self.tick();
            self.check_id(oid, object.actual_id, object.kind, kind, path);
        }
        Some(object.into_data())
    }

    /// Counts what no ref reaches, from what the history walk read: the objects of the
    /// branch's history, plus (in a store with other refs, or reflog entries off the branch)
    /// whatever those reach. `None` when a ref beside the branch reaches an object that cannot
    /// be read: the count would not be trustworthy, and `gc` refuses such a store anyway.
    fn unreachable(
        &self,
        blobs: &[(Oid, String)],
        listing: store::gc::Listing,
    ) -> Option<store::gc::Survey> {
        let mut reachable = store::gc::OidSet::default();
        reachable.extend(self.seen.iter().copied());
        reachable.extend(self.failed.keys().copied());
        reachable.extend(self.commits.keys().copied());
        reachable.extend(blobs.iter().map(|(oid, _)| *oid));
        let roots = store::gc::roots(self.repo).ok()?;
        store::gc::expand(self.repo, &roots, &mut reachable).ok()?;
        Some(store::gc::survey(listing, &|oid| reachable.contains(&oid)))
    }

    /// Shows the objects checked so far, here and by the background threads.
    fn tick(&mut self) {
        let background = self
            .background
            .as_ref()
            .map_or(0, |done| done.load(Ordering::Relaxed));
        (self.progress)(self.report.checked.objects + background);
    }

    /// Records a problem when an object's content does not hash to its id, or is not of the
    /// kind that refers to it.
    fn check_id(&mut self, oid: Oid, actual: Oid, found: ObjectType, kind: ObjectType, path: &str) {
        if actual != oid {
            self.object_problem(
                ProblemKind::CorruptObject,
                oid,
                path,
                format!("the object's content hashes to {actual}, not to its id"),
            );
        } else if found != kind {
            self.object_problem(
                ProblemKind::CorruptObject,
                oid,
                path,
                format!("the object is a {found}, not a {kind}"),
            );
        }
    }

    fn object_problem(
        &mut self,
        kind: ProblemKind,
        oid: Oid,
        path: &str,
        detail: impl Into<String>,
    ) {
        let source = source_of_path(path);
        self.report.problems.push(Problem {
            kind,
            source: source.as_ref().map(ToString::to_string),
            version: version_of_path(path),
            path: Some(path.to_owned()),
            object: Some(oid.to_string()),
            detail: detail.into(),
        });
    }
}

/// The path of `name` in the directory `path` of a store's tree (`""` for the root).
pub(crate) fn child_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}/{name}")
    }
}

/// The first 12 hex digits of a hash, as the human output shows them.
fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// The source a store path belongs to (`sources/aa/bb/<id>/…`), if any.
fn source_of_path(path: &str) -> Option<SourceId> {
    let mut parts = path.strip_prefix("sources/")?.split('/');
    let (_, _, id) = (parts.next()?, parts.next()?, parts.next()?);
    SourceId::parse(id)
}

/// The version a store path is the record of (`…/versions/00000003.json`), if any.
fn version_of_path(path: &str) -> Option<u32> {
    let (_, file) = path.split_once("/versions/")?;
    file.get(..8)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_source_and_version() {
        let p = "sources/ab/cd/abcd000000000000/versions/00000003.json";
        assert_eq!(
            source_of_path(p).map(|s| s.to_string()),
            Some("abcd000000000000".to_owned())
        );
        assert_eq!(version_of_path(p), Some(3));
        assert_eq!(version_of_path("observations/2026-11/x/ab.jsonl"), None);
        assert_eq!(source_of_path("index/ab.jsonl"), None);
    }
}
