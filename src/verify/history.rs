//! The history walk: every commit and tree re-hashed, blobs re-hashed on two threads, records
//! never rewritten, and the anchor.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::{ObjectType, Oid};

use super::objects::{Entry, Objects, Read, Tree};
use crate::pool::on_two_threads;

use super::*;

impl Verifier<'_, '_> {
    /// A commit's tree and parents, its object checked (once).
    pub(super) fn commit(&mut self, oid: Oid) -> Option<(Oid, Vec<Oid>)> {
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
    pub(super) fn commit_tree(&mut self, commit: Oid) -> Option<Rc<Tree>> {
        let (tree, _) = self.commit(commit)?;
        self.tree(tree, "")
    }

    /// A tree, its object checked (once) and parsed.
    pub(super) fn tree(&mut self, oid: Oid, path: &str) -> Option<Rc<Tree>> {
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
    pub(super) fn history(&mut self, head: Oid) {
        let blobs = self.walk_history(head, &mut |_, _| {});
        let hashed = hash_blobs(&blobs, self.repo.path(), &AtomicUsize::new(0));
        self.record_hashes(&blobs, hashed);
    }

    /// Walks the history: every commit and tree re-hashed, each commit compared with its
    /// parents; returns the blobs found, each also given to `queue` (with its index) as it is
    /// found, so that it can be re-hashed meanwhile.
    pub(super) fn walk_history(
        &mut self,
        head: Oid,
        queue: &mut dyn FnMut(usize, Oid),
    ) -> Vec<(Oid, String)> {
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
    pub(super) fn record_hashes(&mut self, blobs: &[(Oid, String)], results: Vec<Option<Hashed>>) {
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
    pub(super) fn walk_tree(
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
    pub(super) fn anchor(&mut self, head: Oid, token: &str) -> Result<(), Error> {
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
    pub(super) fn immutable_records(&mut self, parent: Oid, tree: Oid, commit: Oid) {
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
    pub(super) fn compare_trees(
        &self,
        old: Oid,
        new: Oid,
        path: &str,
        out: &mut Vec<(String, &'static str)>,
    ) {
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
    pub(super) fn removed_below(
        &self,
        entry: &Entry,
        path: &str,
        out: &mut Vec<(String, &'static str)>,
    ) {
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
}

/// What re-hashing a blob found.
pub(super) enum Hashed {
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
pub(super) fn hash_blobs(
    blobs: &[(Oid, String)],
    repo: &Path,
    done: &AtomicUsize,
) -> Vec<Option<Hashed>> {
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
pub(super) fn hash_blob(objects: &mut Objects, oid: Oid) -> Hashed {
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
