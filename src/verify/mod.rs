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
pub mod bagit;
mod confined;
mod doors;
mod objects;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::{ObjectType, Oid, Repository};

use objects::{Entry, Objects, Read, Tree};

/// Sets and maps keyed by object ids and lines, with foldhash: SipHash was a tenth of a
/// verification. (The keys come from the store, which `verify` reads whole anyway; foldhash is
/// seeded per process.)
type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use serde::Serialize;

use crate::hash::sha256_hex;
use crate::source::SourceId;
use crate::store::record::{IndexEntry, Observation, Outcome, SourceRecord, VersionRecord};
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

/// A line of a state file, and where it is.
struct StateLine {
    path: String,
    line: Vec<u8>,
    observation: Observation,
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

    /// A commit's tree and parents, its object checked (once).
    fn commit(&mut self, oid: Oid) -> Option<(Oid, Vec<Oid>)> {
        if let Some(found) = self.commits.get(&oid) {
            return Some(found.clone());
        }
        let data = self.object(oid, ObjectType::Commit, "(commit)")?;
        match objects::parse_commit(&data) {
            Ok(found) => {
                self.commits.insert(oid, found.clone());
                Some(found)
            }
            Err(why) => {
                self.object_problem(
                    ProblemKind::CorruptObject,
                    oid,
                    "(commit)",
                    format!("the commit does not parse: {why}"),
                );
                None
            }
        }
    }

    /// The tree of a commit, its object and the tree's checked.
    fn commit_tree(&mut self, commit: Oid) -> Option<Rc<Tree>> {
        let (tree, _) = self.commit(commit)?;
        self.tree(tree, "")
    }

    /// A tree, its object checked (once) and parsed.
    fn tree(&mut self, oid: Oid, path: &str) -> Option<Rc<Tree>> {
        if let Some(tree) = self.trees.get(&oid) {
            return Some(Rc::clone(tree));
        }
        let label = if path.is_empty() { "(root tree)" } else { path };
        let data = self.object(oid, ObjectType::Tree, label)?;
        match Tree::parse(&data) {
            Ok(tree) => {
                let tree = Rc::new(tree);
                self.trees.insert(oid, Rc::clone(&tree));
                Some(tree)
            }
            Err(why) => {
                self.object_problem(
                    ProblemKind::CorruptObject,
                    oid,
                    label,
                    format!("the tree does not parse: {why}"),
                );
                None
            }
        }
    }

    /// Checks every object of every commit on the branch, and that no commit changed or removed
    /// a record that is written once (version records, observation run files).
    fn history(&mut self, head: Oid) {
        let blobs = self.walk_history(head, &mut |_, _| {});
        let hashed = hash_blobs(&blobs, self.repo.path(), &AtomicUsize::new(0));
        self.record_hashes(&blobs, hashed);
    }

    /// Walks the history: every commit and tree re-hashed, each commit compared with its
    /// parents; returns the blobs found, each also given to `queue` (with its index) as it is
    /// found, so that it can be re-hashed meanwhile.
    fn walk_history(&mut self, head: Oid, queue: &mut dyn FnMut(usize, Oid)) -> Vec<(Oid, String)> {
        // Walked by hand rather than with a revwalk, which stops at the first missing commit:
        // a missing commit is a problem to report, and the rest of the history still counts.
        let mut stack = vec![head];
        let mut visited = FastSet::default();
        // Blobs are queued while the trees are walked, and re-hashed afterwards on two threads.
        let mut blobs: Vec<(Oid, String)> = Vec::new();
        let mut queued: FastSet<Oid> = FastSet::default();
        // Each commit and a parent, compared once every tree is read.
        let mut pairs: Vec<(Oid, Oid, Oid)> = Vec::new();
        while let Some(commit) = stack.pop() {
            if !visited.insert(commit) {
                continue;
            }
            self.report.checked.commits += 1;
            let Some((tree_id, parents)) = self.commit(commit) else {
                continue;
            };
            let Some(tree) = self.tree(tree_id, "") else {
                continue;
            };
            self.walk_tree(&tree, "", &mut blobs, &mut queued, queue, commit == head);
            for parent in parents {
                stack.push(parent);
                pairs.push((commit, tree_id, parent));
            }
        }
        for (commit, tree, parent) in pairs {
            // A parent that cannot be read is reported where it is visited.
            let Some(parent_tree) = self.commits.get(&parent).map(|(t, _)| *t) else {
                continue;
            };
            self.immutable_records(parent_tree, tree, commit);
        }
        blobs
    }

    /// Records what [`hash_blobs`] found, in the blobs' order; blobs already read (and
    /// reported) by the other checks meanwhile are not counted twice.
    fn record_hashes(&mut self, blobs: &[(Oid, String)], results: Vec<Option<Hashed>>) {
        let mut undone = Vec::new();
        for ((oid, path), read) in blobs.iter().zip(results) {
            // Read (and reported) by the record checks meanwhile.
            if self.seen.contains(oid) || self.failed.contains_key(oid) {
                continue;
            }
            let Some(read) = read else {
                undone.push((*oid, path.clone()));
                continue;
            };
            match read {
                Hashed::Missing => {
                    self.failed.insert(*oid, ProblemKind::MissingObject);
                    self.object_problem(
                        ProblemKind::MissingObject,
                        *oid,
                        path,
                        "the object is missing from the store",
                    );
                }
                Hashed::Unreadable(why) => {
                    self.failed.insert(*oid, ProblemKind::CorruptObject);
                    self.object_problem(
                        ProblemKind::CorruptObject,
                        *oid,
                        path,
                        format!("the object cannot be read: {why}"),
                    );
                }
                Hashed::Blob {
                    kind,
                    id,
                    sha256,
                    len,
                } => {
                    if !self.seen.insert(*oid) {
                        continue;
                    }
                    self.report.checked.objects += 1;
                    self.report.checked.object_bytes += len;
                    if kind == ObjectType::Blob {
                        self.digests.insert(*oid, (sha256, len));
                    }
                    self.check_id(*oid, id, kind, ObjectType::Blob, path);
                }
            }
        }
        self.tick();
        // A thread that could not open the repository leaves blobs unread: read them here.
        for (oid, path) in undone {
            self.object(oid, ObjectType::Blob, &path);
        }
    }

    /// Re-hashes every tree below a tree (each once) and queues its blobs for [`Self::hash_blobs`].
    fn walk_tree(
        &mut self,
        tree: &Tree,
        path: &str,
        blobs: &mut Vec<(Oid, String)>,
        queued: &mut FastSet<Oid>,
        queue: &mut dyn FnMut(usize, Oid),
        head: bool,
    ) {
        for entry in tree.iter() {
            if self.seen.contains(&entry.id) || queued.contains(&entry.id) {
                continue;
            }
            let child = child_path(path, entry.name.as_str());
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    if let Some(sub) = self.tree(entry.id, &child) {
                        self.walk_tree(&sub, &child, blobs, queued, queue, head);
                    }
                }
                Some(ObjectType::Blob) if queued.insert(entry.id) => {
                    // The records of the head's tree are read (and re-hashed) where the checks
                    // parse them; hashing them here too would read each twice.
                    if !(head && (child.ends_with(".json") || child.ends_with(".jsonl"))) {
                        queue(blobs.len(), entry.id);
                    }
                    blobs.push((entry.id, child));
                }
                _ => {}
            }
        }
    }

    /// Checks that the store still holds the state `token` anchors.
    fn anchor(&mut self, head: Oid, token: &str) -> Result<(), Error> {
        for finding in anchor::check(self.repo, head, token)? {
            let (path, detail) = match finding {
                anchor::Finding::CommitMissing => (
                    None,
                    "the anchored commit is not in this store: a different store, or its history was rewritten".to_owned(),
                ),
                anchor::Finding::NotInHistory => (
                    None,
                    "the anchored commit is not in the branch's history: the history was rewritten".to_owned(),
                ),
                anchor::Finding::DigestMismatch { actual } => (
                    None,
                    format!("the anchored commit's records hash to {actual}, not to the anchor's digest: they were altered"),
                ),
                anchor::Finding::Removed { path } => {
                    (Some(path), "an anchored record is gone".to_owned())
                }
                anchor::Finding::Changed { path } => {
                    (Some(path), "an anchored record was changed".to_owned())
                }
            };
            let source = path.as_deref().and_then(source_of_path);
            let version = path.as_deref().and_then(version_of_path);
            self.problem(
                ProblemKind::AnchorMismatch,
                source.as_ref(),
                version,
                path.as_deref(),
                detail,
            );
        }
        Ok(())
    }

    /// Reports version records and observation run files that `commit` changed or removed,
    /// comparing its tree with its parent's (both already read by the history walk): only the
    /// subtrees whose ids differ are descended.
    fn immutable_records(&mut self, parent: Oid, tree: Oid, commit: Oid) {
        let mut rewrites = Vec::new();
        self.compare_trees(parent, tree, "", &mut rewrites);
        for (path, what) in rewrites {
            let source = source_of_path(&path);
            self.problem(
                ProblemKind::HistoryRewritten,
                source.as_ref(),
                version_of_path(&path),
                Some(&path),
                format!(
                    "commit {commit} {what} this record, which is written once: the history was rewritten"
                ),
            );
        }
    }

    /// The write-once files below `path` that are in tree `old` and changed or gone in `new`.
    fn compare_trees(&self, old: Oid, new: Oid, path: &str, out: &mut Vec<(String, &'static str)>) {
        // Trees that could not be read are reported where they were read.
        let (Some(old), Some(new)) = (self.trees.get(&old), self.trees.get(&new)) else {
            return;
        };
        // Large trees (`sources/`'s shards) are looked up by name; small ones scanned.
        let by_name: Option<FastMap<&str, &Entry>> =
            (new.len() > 16).then(|| new.iter().map(|e| (e.name.as_str(), e)).collect());
        for entry in old.iter() {
            let counterpart = match &by_name {
                Some(map) => map.get(entry.name.as_str()).copied(),
                None => new.get_name(&entry.name),
            };
            if counterpart.is_some_and(|now| now.id == entry.id) {
                continue;
            }
            // Only for what differs: most entries of a compared tree are the same.
            let child = child_path(path, &entry.name);
            match counterpart {
                Some(now)
                    if entry.kind() == Some(ObjectType::Tree)
                        && now.kind() == Some(ObjectType::Tree) =>
                {
                    self.compare_trees(entry.id, now.id, &child, out);
                }
                Some(now) if now.kind() == Some(ObjectType::Blob) => {
                    if entry.kind() == Some(ObjectType::Blob) && anchor::write_once(&child) {
                        out.push((child, "changed"));
                    } else {
                        self.removed_below(entry, &child, out);
                    }
                }
                _ => self.removed_below(entry, &child, out),
            }
        }
    }

    /// Every write-once file at or below a removed entry.
    fn removed_below(&self, entry: &Entry, path: &str, out: &mut Vec<(String, &'static str)>) {
        match entry.kind() {
            Some(ObjectType::Tree) => {
                if let Some(tree) = self.trees.get(&entry.id) {
                    for sub in tree.iter() {
                        self.removed_below(sub, &child_path(path, &sub.name), out);
                    }
                }
            }
            _ if anchor::write_once(path) => out.push((path.to_owned(), "removed")),
            _ => {}
        }
    }

    /// Checks every source (or those wanted) at the commit: records, chain, byte streams,
    /// current copies and index. Returns their versions for the observation checks.
    fn sources(&mut self, tree: &Tree, wanted: Option<&HashSet<&SourceId>>) -> Versions {
        let mut out = Versions::new();
        let index = self.index(tree);
        // A format-2 store has no index (a reader derives it, and the first write adds it):
        // only a store whose marker says format 3 or later must list every source there.
        let index_required = self.format_version(tree).is_none_or(|v| v >= 3);
        let dirs = self.source_dirs(tree);
        for (id, path) in &dirs {
            if wanted.is_some_and(|w| !w.contains(id)) {
                continue;
            }
            self.report.checked.sources += 1;
            let versions = self.source(tree, id, path, index.get(id), index_required);
            out.insert(id.clone(), versions);
        }
        if let Some(wanted) = wanted {
            for id in wanted {
                if !dirs.contains_key(*id) {
                    self.problem(
                        ProblemKind::DanglingReference,
                        Some(id),
                        None,
                        None,
                        "no such source in the store",
                    );
                }
            }
        }
        for id in index.keys() {
            if !dirs.contains_key(id) && wanted.is_none_or(|w| w.contains(id)) {
                self.problem(
                    ProblemKind::DanglingReference,
                    Some(id),
                    None,
                    Some(&format!("{}/{}.jsonl", store::INDEX_DIR, &id.as_str()[..2])),
                    "the index lists a source the store does not hold",
                );
            }
        }
        out
    }

    /// Every source directory below `sources/`, by id.
    fn source_dirs(&mut self, tree: &Tree) -> BTreeMap<SourceId, String> {
        let mut out = BTreeMap::new();
        let Some(sources) = self.child_tree(tree, "sources", "sources") else {
            return out;
        };
        for l1 in sources.iter() {
            let n1 = l1.name.as_str().to_owned();
            let Some(t1) = self.child_tree_entry(l1, &format!("sources/{n1}")) else {
                continue;
            };
            for l2 in t1.iter() {
                let n2 = l2.name.as_str().to_owned();
                let Some(t2) = self.child_tree_entry(l2, &format!("sources/{n1}/{n2}")) else {
                    continue;
                };
                for dir in t2.iter() {
                    let name = dir.name.as_str();
                    let path = format!("sources/{n1}/{n2}/{name}");
                    match SourceId::parse(name) {
                        Some(id) if id.as_str().starts_with(&format!("{n1}{n2}")) => {
                            out.insert(id, path);
                        }
                        _ => self.problem(
                            ProblemKind::Inconsistent,
                            None,
                            None,
                            Some(&path),
                            "a directory that is not a source id (or in the wrong shard)",
                        ),
                    }
                }
            }
        }
        out
    }

    /// The tree at a path below `tree`, each tree on the way checked.
    fn tree_at(&mut self, tree: &Tree, path: &str) -> Option<Rc<Tree>> {
        let mut parts = path.split('/');
        let first = parts.next()?;
        let mut at = self.child_tree(tree, first, first)?;
        let mut walked = first.to_owned();
        for part in parts {
            walked = child_path(&walked, part);
            at = self.child_tree(&at, part, &walked)?;
        }
        Some(at)
    }

    fn child_tree(&mut self, tree: &Tree, name: &str, path: &str) -> Option<Rc<Tree>> {
        let entry = tree.get_name(name)?.clone();
        self.child_tree_entry(&entry, path)
    }

    fn child_tree_entry(&mut self, entry: &Entry, path: &str) -> Option<Rc<Tree>> {
        if entry.kind() != Some(ObjectType::Tree) {
            return None;
        }
        self.tree(entry.id, path)
    }

    /// A blob at a path below `tree`, read and re-hashed: `None` when there is no such entry,
    /// `Some(None)` when there is one but its object cannot be read (a problem already
    /// recorded).
    fn blob(&mut self, tree: &Tree, rel: &str, path: &str) -> Option<Option<Vec<u8>>> {
        let entry = tree.get_name(rel)?;
        if entry.kind() != Some(ObjectType::Blob) {
            return None;
        }
        let id = entry.id;
        Some(self.object(id, ObjectType::Blob, path))
    }

    /// Parses a JSON record, recording a problem when it does not parse.
    fn record<T: serde::de::DeserializeOwned>(
        &mut self,
        data: &[u8],
        source: Option<&SourceId>,
        version: Option<u32>,
        path: &str,
    ) -> Option<T> {
        match serde_json::from_slice(data) {
            Ok(record) => Some(record),
            Err(e) => {
                self.problem(
                    ProblemKind::BadRecord,
                    source,
                    version,
                    Some(path),
                    format!("the record does not parse: {e}"),
                );
                None
            }
        }
    }

    /// The store format the marker at the root of `tree` states; `None` when it cannot be
    /// read (opening the store has checked it already).
    fn format_version(&mut self, tree: &Tree) -> Option<u32> {
        let data = self.blob(tree, store::MARKER, store::MARKER)??;
        serde_json::from_slice::<store::record::StoreMeta>(&data)
            .ok()
            .map(|meta| meta.version)
    }

    fn index(&mut self, tree: &Tree) -> BTreeMap<SourceId, IndexEntry> {
        let mut out = BTreeMap::new();
        let Some(index) = self.child_tree(tree, store::INDEX_DIR, store::INDEX_DIR) else {
            return out;
        };
        for entry in index.iter() {
            let path = format!("{}/{}", store::INDEX_DIR, entry.name.as_str());
            let Some(data) = self.object(entry.id, ObjectType::Blob, &path) else {
                continue;
            };
            for line in self.lines::<IndexEntry>(&data, &path) {
                out.insert(line.source.clone(), line);
            }
        }
        out
    }

    /// The lines of a JSONL file that parse; one problem for each that does not.
    fn lines<T: serde::de::DeserializeOwned>(&mut self, data: &[u8], path: &str) -> Vec<T> {
        let mut out = Vec::new();
        for (n, line) in data.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice(line) {
                Ok(record) => out.push(record),
                Err(e) => self.problem(
                    ProblemKind::BadRecord,
                    None,
                    None,
                    Some(path),
                    format!("line {} does not parse: {e}", n + 1),
                ),
            }
        }
        out
    }

    fn source(
        &mut self,
        tree: &Tree,
        id: &SourceId,
        dir: &str,
        indexed: Option<&IndexEntry>,
        index_required: bool,
    ) -> BTreeMap<u32, VersionRecord> {
        let mut versions = BTreeMap::new();
        let Some(dir_tree) = self.tree_at(tree, dir) else {
            return versions;
        };
        let source_path = format!("{dir}/source.json");
        match self.blob(&dir_tree, "source.json", &source_path) {
            Some(None) => {}
            Some(Some(data)) => {
                if let Some(record) =
                    self.record::<SourceRecord>(&data, Some(id), None, &source_path)
                {
                    let derived = SourceId::from_locator(&record.locator);
                    if record.id != *id || derived != *id {
                        self.problem(
                            ProblemKind::Inconsistent,
                            Some(id),
                            None,
                            Some(&source_path),
                            format!(
                                "the record's id ({}) or its locator's ({derived}) is not the directory's",
                                record.id
                            ),
                        );
                    }
                }
            }
            None => self.problem(
                ProblemKind::MissingObject,
                Some(id),
                None,
                Some(&source_path),
                "the source has no source.json",
            ),
        }
        // Version records, in file-name order (zero-padded numbers sort).
        let versions_dir = format!("{dir}/versions");
        let entries: Vec<(String, Oid)> = self
            .child_tree(&dir_tree, "versions", &versions_dir)
            .map(|t| {
                t.iter()
                    .map(|e| (e.name.as_str().to_owned(), e.id))
                    .collect()
            })
            .unwrap_or_default();
        let mut previous: Option<(u32, String)> = None;
        for (n, (name, oid)) in entries.iter().enumerate() {
            let expected = n as u32 + 1;
            let path = format!("{versions_dir}/{name}");
            if *name != format!("{expected:08}.json") {
                self.problem(
                    ProblemKind::Inconsistent,
                    Some(id),
                    Some(expected),
                    Some(&path),
                    format!("expected version file {expected:08}.json here: a version is missing or misnamed"),
                );
            }
            let Some(data) = self.object(*oid, ObjectType::Blob, &path) else {
                previous = None;
                continue;
            };
            let record_sha = sha256_hex(&data);
            let Some(record) = self.record::<VersionRecord>(&data, Some(id), Some(expected), &path)
            else {
                previous = Some((expected, record_sha));
                continue;
            };
            self.report.checked.versions += 1;
            if record.version != expected || record.source != *id {
                self.problem(
                    ProblemKind::Inconsistent,
                    Some(id),
                    Some(expected),
                    Some(&path),
                    format!(
                        "the record says version {} of {}",
                        record.version, record.source
                    ),
                );
            }
            match (&previous, &record.previous_record_sha256) {
                (None, None) if expected == 1 => {}
                (Some((_, sha)), Some(chained)) if sha == chained => {}
                (None, _) if expected > 1 => {} // the previous record is already reported
                (_, chained) => self.problem(
                    ProblemKind::Inconsistent,
                    Some(id),
                    Some(expected),
                    Some(&path),
                    format!(
                        "the chain is broken: the record names {} as its predecessor's SHA-256, the predecessor hashes to {}",
                        chained.as_deref().unwrap_or("none"),
                        previous.as_ref().map_or("nothing (no predecessor)", |(_, s)| s.as_str())
                    ),
                ),
            }
            self.stream(id, expected, &record.raw, "bytes");
            self.stream(id, expected, &record.text, "text");
            previous = Some((expected, record_sha));
            versions.insert(expected, record);
        }
        // The current copies and the index agree with the latest version.
        if let Some(latest) = versions.values().next_back().cloned() {
            for (file, blob, what) in [
                ("raw", &latest.raw, "bytes"),
                ("text.txt", &latest.text, "text"),
            ] {
                let path = format!("{dir}/{file}");
                match dir_tree.get_name(file) {
                    Some(entry) if entry.id.to_string() == blob.git_blob => {}
                    Some(_) => self.problem(
                        ProblemKind::Inconsistent,
                        Some(id),
                        Some(latest.version),
                        Some(&path),
                        format!("{file} is not the {what} of the latest version"),
                    ),
                    None => self.problem(
                        ProblemKind::MissingObject,
                        Some(id),
                        Some(latest.version),
                        Some(&path),
                        format!("{file} is missing"),
                    ),
                }
            }
            match indexed {
                Some(entry)
                    if entry.version == latest.version
                        && entry.raw_sha256.as_deref() == Some(latest.raw.sha256.as_str()) => {}
                Some(entry) => self.problem(
                    ProblemKind::Inconsistent,
                    Some(id),
                    Some(latest.version),
                    Some(&format!("{}/{}.jsonl", store::INDEX_DIR, &id.as_str()[..2])),
                    format!(
                        "the index has version {} ({}), the records end at version {} ({})",
                        entry.version,
                        entry.raw_sha256.as_deref().map_or("no hash", short),
                        latest.version,
                        short(&latest.raw.sha256)
                    ),
                ),
                None if !index_required => {}
                None => self.problem(
                    ProblemKind::Inconsistent,
                    Some(id),
                    None,
                    Some(&format!("{}/{}.jsonl", store::INDEX_DIR, &id.as_str()[..2])),
                    "the source is missing from the index",
                ),
            }
        }
        versions
    }

    /// Queues a stored byte stream for [`Self::check_streams`], once every blob is hashed.
    fn stream(
        &mut self,
        id: &SourceId,
        version: u32,
        blob: &store::record::StoredBlob,
        what: &'static str,
    ) {
        self.streams.push((id.clone(), version, blob.clone(), what));
    }

    /// Checks the queued byte streams against their records.
    fn check_streams(&mut self) {
        for (id, version, blob, what) in std::mem::take(&mut self.streams) {
            self.check_stream(&id, version, &blob, what);
        }
    }

    /// Checks a stored byte stream against its record: the blob exists, hashes to its id, and
    /// has the recorded length and SHA-256.
    fn check_stream(
        &mut self,
        id: &SourceId,
        version: u32,
        blob: &store::record::StoredBlob,
        what: &str,
    ) {
        let path = format!(
            "{}/versions/{version:08}.json ({what})",
            store::source_dir(id)
        );
        let Ok(oid) = Oid::from_str(&blob.git_blob) else {
            self.problem(
                ProblemKind::BadRecord,
                Some(id),
                Some(version),
                Some(&path),
                format!("{:?} is not a git object id", blob.git_blob),
            );
            return;
        };
        if let Some(&kind) = self.failed.get(&oid) {
            let detail = match kind {
                ProblemKind::MissingObject => {
                    format!("the stored {what} are missing from the store")
                }
                _ => format!("the stored {what} cannot be read"),
            };
            self.object_problem(kind, oid, &path, detail);
            return;
        }
        // Read (and re-hashed) once: while walking the history, or now.
        let digest = match self.digests.get(&oid) {
            Some(digest) => Some(digest.clone()),
            None => {
                let read = self.object(oid, ObjectType::Blob, &path).is_some();
                let digest = self.digests.get(&oid).cloned();
                if read && digest.is_none() {
                    // Read, but not as a blob: a tree or commit named as a byte stream.
                    self.object_problem(
                        ProblemKind::Inconsistent,
                        oid,
                        &path,
                        format!("the record names {oid} as its {what}, which is not a blob"),
                    );
                }
                digest
            }
        };
        let Some((actual, len)) = digest else {
            return;
        };
        self.report.checked.streams += 1;
        if actual != blob.sha256 || len != blob.bytes {
            self.problem(
                ProblemKind::DigestMismatch,
                Some(id),
                Some(version),
                Some(&path),
                format!(
                    "the stored {what} hash to {} ({} bytes); the record says {} ({} bytes)",
                    short(&actual),
                    len,
                    short(&blob.sha256),
                    blob.bytes
                ),
            );
        }
    }

    /// Checks every observation (of the sources wanted): it parses, names a source the store
    /// holds and a version it has, and a capture's hash is its version's; each state line is
    /// an observation of the runs.
    fn observations(
        &mut self,
        tree: &Tree,
        versions: &Versions,
        wanted: Option<&HashSet<&SourceId>>,
    ) {
        // State lines first: each must be found among the runs' lines.
        let state = self.state_lines(tree, wanted);
        let mut unmatched: FastSet<&[u8]> = state.iter().map(|s| s.line.as_slice()).collect();
        // The last run with a manifest so far: its name and its manifest's SHA-256.
        let mut chain: Option<(String, String)> = None;
        if let Some(months) =
            self.child_tree(tree, store::OBSERVATIONS_DIR, store::OBSERVATIONS_DIR)
        {
            for month in months.iter() {
                let mpath = format!("{}/{}", store::OBSERVATIONS_DIR, month.name.as_str());
                let Some(runs) = self.child_tree_entry(month, &mpath) else {
                    continue;
                };
                for run in runs.iter() {
                    let rpath = format!("{mpath}/{}", run.name.as_str());
                    let Some(files) = self.child_tree_entry(run, &rpath) else {
                        continue;
                    };
                    let mut contents: BTreeMap<String, String> = BTreeMap::new();
                    let mut manifest: Option<Vec<u8>> = None;
                    for file in files.iter() {
                        let name = file.name.as_str().to_owned();
                        let path = format!("{rpath}/{name}");
                        let Some(data) = self.object(file.id, ObjectType::Blob, &path) else {
                            continue;
                        };
                        if name == store::RUN_MANIFEST {
                            manifest = Some(data);
                            continue;
                        }
                        contents.insert(name, sha256_hex(&data));
                        for (line, observation) in
                            self.observation_lines(&data, &path, "an observation")
                        {
                            if wanted.is_some_and(|w| !w.contains(&observation.source)) {
                                continue;
                            }
                            self.report.checked.observations += 1;
                            if !unmatched.is_empty() {
                                unmatched.remove(line);
                            }
                            self.observation(&observation, versions, &path);
                        }
                    }
                    if wanted.is_none() {
                        self.run_chain(&rpath, manifest.as_deref(), &contents, &mut chain);
                    }
                }
            }
        }
        // Each state line is the observation that began a state, so it is in the runs.
        for line in &state {
            if unmatched.contains(line.line.as_slice()) {
                self.problem(
                    ProblemKind::DanglingReference,
                    Some(&line.observation.source),
                    Some(line.observation.version),
                    Some(&line.path),
                    format!(
                        "the state names an observation at {} that no run holds: an observation was removed",
                        line.observation.at
                    ),
                );
            }
        }
    }

    /// The lines of an observation or state file with the observation each holds; a problem
    /// (`what` does not parse) for each line that does not.
    fn observation_lines<'d>(
        &mut self,
        data: &'d [u8],
        path: &str,
        what: &str,
    ) -> Vec<(&'d [u8], Observation)> {
        let mut out = Vec::new();
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<Observation>(line) {
                Ok(observation) => out.push((line, observation)),
                Err(_) => self.problem(
                    ProblemKind::BadRecord,
                    None,
                    None,
                    Some(path),
                    format!("{what} does not parse"),
                ),
            }
        }
        out
    }

    /// The state files' lines (of the sources wanted) that parse; a problem for each that
    /// does not.
    fn state_lines(&mut self, tree: &Tree, wanted: Option<&HashSet<&SourceId>>) -> Vec<StateLine> {
        let mut out = Vec::new();
        let Some(state) = self.child_tree(tree, store::STATE_DIR, store::STATE_DIR) else {
            return out;
        };
        for file in state.iter() {
            let path = format!("{}/{}", store::STATE_DIR, file.name.as_str());
            let Some(data) = self.object(file.id, ObjectType::Blob, &path) else {
                continue;
            };
            for (line, observation) in self.observation_lines(&data, &path, "a state line") {
                if wanted.is_some_and(|w| !w.contains(&observation.source)) {
                    continue;
                }
                out.push(StateLine {
                    path: path.clone(),
                    line: line.to_vec(),
                    observation,
                });
            }
        }
        out
    }

    /// Checks a run against its manifest and the chain of manifests: the manifest lists exactly
    /// the run's files with their SHA-256s and names the last run with a manifest before it.
    /// Runs written before manifests existed are allowed only before the first manifest.
    fn run_chain(
        &mut self,
        rpath: &str,
        manifest: Option<&[u8]>,
        contents: &BTreeMap<String, String>,
        chain: &mut Option<(String, String)>,
    ) {
        let run = rpath
            .strip_prefix(&format!("{}/", store::OBSERVATIONS_DIR))
            .unwrap_or(rpath)
            .to_owned();
        let manifest_path = format!("{rpath}/{}", store::RUN_MANIFEST);
        let Some(bytes) = manifest else {
            if chain.is_some() {
                self.problem(
                    ProblemKind::Inconsistent,
                    None,
                    None,
                    Some(rpath),
                    "a run without a manifest after the chain of runs began: it was inserted, or its manifest removed",
                );
            }
            return;
        };
        let sha = sha256_hex(bytes);
        let Some(parsed) =
            self.record::<store::record::RunManifest>(bytes, None, None, &manifest_path)
        else {
            *chain = Some((run, sha));
            return;
        };
        if parsed.run != run {
            self.problem(
                ProblemKind::Inconsistent,
                None,
                None,
                Some(&manifest_path),
                format!("the manifest is of run {}, not of this one", parsed.run),
            );
        }
        if parsed.files != *contents {
            let mut differ: Vec<&str> = Vec::new();
            for (name, sha) in &parsed.files {
                if contents.get(name) != Some(sha) {
                    differ.push(name);
                }
            }
            for name in contents.keys() {
                if !parsed.files.contains_key(name) {
                    differ.push(name);
                }
            }
            self.problem(
                ProblemKind::DigestMismatch,
                None,
                None,
                Some(&manifest_path),
                format!(
                    "the run's files do not match its manifest ({}): an observation was changed, added or removed",
                    differ.join(", ")
                ),
            );
        }
        let expected = chain.as_ref().map(|(r, s)| (r.as_str(), s.as_str()));
        let named = parsed
            .previous
            .as_ref()
            .map(|p| (p.run.as_str(), p.sha256.as_str()));
        if named != expected {
            let what = match (expected, named) {
                (Some((r, _)), Some((n, _))) if r != n => format!(
                    "the manifest follows run {n}, but the run before it with a manifest is {r}: a run was removed or inserted"
                ),
                (Some((r, _)), Some(_)) => format!(
                    "the manifest of run {r} before it was changed: its SHA-256 is not the one this manifest names"
                ),
                (Some((r, _)), None) => format!(
                    "the manifest names no run before it, but run {r} has one: the chain was cut"
                ),
                (None, Some((n, _))) => {
                    format!(
                        "the manifest follows run {n}, which is not in the store: a run was removed"
                    )
                }
                (None, None) => String::new(),
            };
            self.problem(
                ProblemKind::Inconsistent,
                None,
                None,
                Some(&manifest_path),
                what,
            );
        }
        *chain = Some((run, sha));
    }

    fn observation(&mut self, o: &Observation, versions: &Versions, path: &str) {
        let Some(records) = versions.get(&o.source) else {
            self.problem(
                ProblemKind::DanglingReference,
                Some(&o.source),
                Some(o.version),
                Some(path),
                "an observation of a source the store does not hold",
            );
            return;
        };
        if o.version == 0 && records.is_empty() {
            return;
        }
        let Some(record) = records.get(&o.version) else {
            self.problem(
                ProblemKind::DanglingReference,
                Some(&o.source),
                Some(o.version),
                Some(path),
                format!(
                    "an observation at {} names version {}, which the store does not hold",
                    o.at, o.version
                ),
            );
            return;
        };
        if o.outcome == Outcome::Captured
            && o.raw_sha256
                .as_deref()
                .is_some_and(|s| s != record.raw.sha256)
        {
            self.problem(
                ProblemKind::Inconsistent,
                Some(&o.source),
                Some(o.version),
                Some(path),
                format!(
                    "the capture at {} saw bytes {}, but version {} holds {}",
                    o.at,
                    o.raw_sha256.as_deref().map_or("?", short),
                    o.version,
                    short(&record.raw.sha256)
                ),
            );
        }
    }
}

/// What re-hashing a blob found.
enum Hashed {
    Missing,
    Unreadable(String),
    Blob {
        kind: ObjectType,
        id: Oid,
        sha256: String,
        len: u64,
    },
}

/// Reads and re-hashes blobs on two threads (each with its own reader: libgit2's handles are
/// not shared between threads), counting them in `done` as they go.
fn hash_blobs(blobs: &[(Oid, String)], repo: &Path, done: &AtomicUsize) -> Vec<Option<Hashed>> {
    on_two_threads(
        blobs,
        || Some(Objects::new(repo)),
        |objects, (oid, _)| {
            done.fetch_add(1, Ordering::Relaxed);
            hash_blob(objects, *oid)
        },
    )
}

/// Reads and re-hashes one blob.
fn hash_blob(objects: &mut Objects, oid: Oid) -> Hashed {
    match objects.hash(oid) {
        Ok(h) => Hashed::Blob {
            kind: h.kind,
            id: h.actual_id,
            sha256: h.sha256,
            len: h.len,
        },
        Err(Read::Missing) => Hashed::Missing,
        Err(Read::Unreadable(why)) => Hashed::Unreadable(why),
        // `hash` gives a found object as its hashes.
        Err(Read::Found(_)) => Hashed::Unreadable("read but not hashed (a bug)".into()),
    }
}

/// Runs `work` over `items` on two threads, each with its own state from `state` (a libgit2
/// repository handle, say, which is not shared between threads; a thread whose state cannot be
/// made does nothing). Returns each item's result by index: `None` for an item no thread did.
pub(crate) fn on_two_threads<T: Sync, S, R: Send>(
    items: &[T],
    state: impl Fn() -> Option<S> + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    let Some(mut state) = state() else {
                        return out;
                    };
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, work(&mut state, item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, r) in done {
        results[i] = Some(r);
    }
    results
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
