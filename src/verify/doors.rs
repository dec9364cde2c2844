//! git's side doors: state beside a store's tree that changes what stock git shows of it, or
//! where objects are read from, while the tree `verify` checks stays as it was (issue 15, item
//! 12). Replace refs and grafts give objects and commits other contents and parents in stock
//! git's eyes; `shallow` cuts its history; alternates lend the store another repository's
//! objects; an unparseable `packed-refs` stops git from reading references; a `HEAD` away from
//! the branch shows another history. Also entries of the tree that are no part of the store's
//! layout (`docs/store-format.md`), which no record accounts for.
//!
//! `verify` itself reads every object from its own file and re-hashes it, and parses commits
//! itself, so replace refs and grafts do not change what it checks; objects that only an
//! alternate holds are found and counted.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::objects::{Entry, Tree};
use super::{Problem, ProblemKind, Verifier, child_path};
use crate::store;

/// The most of a file of the git directory read: these files are a few lines long, and a store
/// is untrusted input (one of them may be a link to an endless device).
const FILE_LIMIT: u64 = 16 << 20;

/// Reads a file of the git directory, up to [`FILE_LIMIT`] bytes: `None` when there is none.
fn read_capped(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut out = Vec::new();
    file.take(FILE_LIMIT).read_to_end(&mut out)?;
    Ok(Some(out))
}

/// A side door found, as a problem of kind [`ProblemKind::SideDoor`].
fn door(path: &str, object: Option<String>, detail: String) -> Problem {
    Problem {
        kind: ProblemKind::SideDoor,
        source: None,
        version: None,
        path: Some(path.to_owned()),
        object,
        detail,
    }
}

/// The side doors of the git directory at `git_dir`, and the alternate object directories it
/// names (to find the objects only they hold).
pub(super) fn side_doors(git_dir: &Path) -> (Vec<Problem>, Vec<PathBuf>) {
    let mut out = Vec::new();
    head(git_dir, &mut out);
    let packed = packed_refs(git_dir, &mut out);
    replace_refs(git_dir, &packed, &mut out);
    for (file, detail) in [
        (
            "info/grafts",
            "info/grafts gives commits other parents in stock git's eyes, so `git log` shows another history than the one verify checked; remove the file",
        ),
        (
            "shallow",
            "shallow makes stock git take the history to end at the commits it lists, so `git log` hides the rest; a store is never shallow: remove the file, or fetch the whole history",
        ),
    ] {
        match read_capped(&git_dir.join(file)) {
            Ok(None) => {}
            Ok(Some(_)) => out.push(door(file, None, detail.to_owned())),
            Err(e) => out.push(door(
                file,
                None,
                format!("{detail} (it cannot be read: {e})"),
            )),
        }
    }
    let alternates = alternates(git_dir, &mut out);
    (out, alternates)
}

/// `HEAD` must name the branch: stock git shows whatever it names.
fn head(git_dir: &Path, out: &mut Vec<Problem>) {
    let fix = "point it back with `git symbolic-ref HEAD refs/heads/main`";
    let text = match read_capped(&git_dir.join("HEAD")) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).trim_end().to_owned(),
        Ok(None) => {
            out.push(door("HEAD", None, format!("the store has no HEAD; {fix}")));
            return;
        }
        Err(e) => {
            out.push(door(
                "HEAD",
                None,
                format!("HEAD cannot be read ({e}); {fix}"),
            ));
            return;
        }
    };
    if let Some(target) = text.strip_prefix("ref: ") {
        if target != store::BRANCH {
            out.push(door(
                "HEAD",
                None,
                format!(
                    "HEAD points at {target}, not at {}: stock git (git log, git show) shows that, not the branch verify checked; {fix}",
                    store::BRANCH
                ),
            ));
        }
    } else if let Ok(oid) = Oid::from_str(&text)
        && text.len() == 40
    {
        out.push(door(
            "HEAD",
            Some(oid.to_string()),
            format!(
                "HEAD is detached at a commit: stock git (git log, git show) shows that commit's history, not {}, which verify checked; {fix}",
                store::BRANCH
            ),
        ));
    } else {
        out.push(door(
            "HEAD",
            None,
            format!("HEAD does not name a reference; {fix}"),
        ));
    }
}

/// Checks that `packed-refs` parses as git writes it; returns the references it holds.
fn packed_refs(git_dir: &Path, out: &mut Vec<Problem>) -> Vec<String> {
    let fix = "stock git refuses to read the store's references while it is so: restore the file from a backup, or remove the lines";
    let bytes = match read_capped(&git_dir.join("packed-refs")) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Vec::new(),
        Err(e) => {
            out.push(door(
                "packed-refs",
                None,
                format!("packed-refs cannot be read ({e}): {fix}"),
            ));
            return Vec::new();
        }
    };
    let mut refs = Vec::new();
    let mut bad = Vec::new();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bad.push("its last line is not terminated".to_owned());
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut after_ref = false;
    for (n, line) in text.lines().enumerate() {
        let hex = |s: &str| s.len() == 40 && Oid::from_str(s).is_ok();
        let ok = if n == 0 && line.starts_with("# pack-refs with:") {
            after_ref = false;
            true
        } else if let Some(peeled) = line.strip_prefix('^') {
            std::mem::replace(&mut after_ref, false) && hex(peeled)
        } else if let Some((id, name)) = line.split_once(' ')
            && hex(id)
            && name.starts_with("refs/")
            && !name.contains([' ', '\t'])
        {
            refs.push(name.to_owned());
            after_ref = true;
            true
        } else {
            false
        };
        if !ok {
            bad.push(format!("line {}", n + 1));
        }
    }
    if !bad.is_empty() {
        out.push(door(
            "packed-refs",
            None,
            format!("packed-refs does not parse ({}): {fix}", bad.join(", ")),
        ));
    }
    refs
}

/// Every `refs/replace/*` reference, loose or packed: stock git shows the object it names in
/// place of the one its name gives.
fn replace_refs(git_dir: &Path, packed: &[String], out: &mut Vec<Problem>) {
    let mut names: Vec<String> = packed
        .iter()
        .filter(|r| r.starts_with("refs/replace/"))
        .cloned()
        .collect();
    let mut dirs = vec![git_dir.join("refs/replace")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Not followed: a link here is one more reference, named, not a tree to walk.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else if let Ok(rel) = path.strip_prefix(git_dir) {
                names.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    names.sort();
    names.dedup();
    for name in names {
        let replaced = name.trim_start_matches("refs/replace/");
        let object = Oid::from_str(replaced).ok().map(|o| o.to_string());
        out.push(door(
            &name,
            object,
            format!(
                "a replace ref: stock git (git log, git show, git cat-file) shows another object in place of {replaced}, while verify reads the objects as stored; remove it with `git replace -d {replaced}`"
            ),
        ));
    }
}

/// `objects/info/alternates` and `objects/info/http-alternates`; returns the alternate object
/// directories the first names.
fn alternates(git_dir: &Path, out: &mut Vec<Problem>) -> Vec<PathBuf> {
    let objects = git_dir.join("objects");
    let mut found = Vec::new();
    for (file, what) in [
        (
            "objects/info/alternates",
            "stock git and libgit2 read objects from there as if they were the store's, and the store breaks when they go; copy them in with `git repack -a -d`, then remove the file",
        ),
        (
            "objects/info/http-alternates",
            "git fetches over HTTP take objects from there; remove the file",
        ),
    ] {
        let listed: Vec<String> = match read_capped(&git_dir.join(file)) {
            Ok(None) => continue,
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect(),
            Err(e) => vec![format!("(unreadable: {e})")],
        };
        if listed.is_empty() {
            continue;
        }
        if file == "objects/info/alternates" {
            // Relative paths are relative to the objects directory, as git reads them.
            found.extend(listed.iter().map(|l| objects.join(l)));
        }
        out.push(door(
            file,
            None,
            format!(
                "the store borrows objects from another object store ({}): {what}",
                listed.join(", ")
            ),
        ));
    }
    found
}

/// The ids of the objects in the store's own packs, from their `.idx` files (versions 1 and
/// 2); an index that cannot be read counts for nothing, so its objects are reported.
fn packed_ids(objects: &Path) -> HashSet<Oid> {
    let mut out = HashSet::new();
    let Ok(entries) = std::fs::read_dir(objects.join("pack")) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "idx") {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        // Version 2 starts with a magic number and its version, version 1 with the fan-out
        // table; after the table's 256 counts, the ids (each after its offset in version 1).
        let (fanout, stride, skip) = if bytes.starts_with(b"\xfftOc") {
            (8, 20, 0)
        } else {
            (0, 24, 4)
        };
        let count_at = fanout + 255 * 4;
        let Some(count) = bytes
            .get(count_at..count_at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
        else {
            continue;
        };
        let ids = fanout + 256 * 4;
        for i in 0..count as usize {
            let at = ids + i * stride + skip;
            if let Some(Ok(oid)) = bytes.get(at..at + 20).map(Oid::from_bytes) {
                out.insert(oid);
            }
        }
    }
    out
}

impl Verifier<'_, '_> {
    /// Reports the objects verify read that are not the store's own (neither loose in its
    /// objects directory nor in its packs), so came from an alternate: one problem for all.
    pub(super) fn borrowed_objects(&mut self, alternates: &[PathBuf]) {
        let objects = self.repo.path().join("objects");
        let packed = packed_ids(&objects);
        let mut borrowed: Vec<Oid> = self
            .seen
            .iter()
            .filter(|oid| !packed.contains(oid))
            .filter(|oid| {
                let hex = oid.to_string();
                std::fs::symlink_metadata(objects.join(&hex[..2]).join(&hex[2..])).is_err()
            })
            .copied()
            .collect();
        if borrowed.is_empty() {
            return;
        }
        borrowed.sort();
        let places: Vec<String> = alternates.iter().map(|p| p.display().to_string()).collect();
        self.report.problems.push(door(
            "objects/info/alternates",
            Some(borrowed[0].to_string()),
            format!(
                "{} of the objects verified are not in the store but only in {}: the store does not hold its own history; copy them in with `git repack -a -d`, then remove the file",
                borrowed.len(),
                places.join(", ")
            ),
        ));
    }

    /// Reports entries of the tree that are no part of the store's layout: no record accounts
    /// for them, and stock git shows them as if they were the store's. (Source directories
    /// that are not source ids are reported where sources are found.)
    pub(super) fn strays(&mut self, root: &Tree) {
        let is_shard = |name: &str| {
            name.len() == 2
                && name
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let shard_file = |name: &str| name.strip_suffix(".jsonl").is_some_and(is_shard);
        for entry in root.iter() {
            let name = entry.name.as_str();
            match name {
                "verbatim-store.json" | "README.txt" => self.expect_file(entry, name),
                store::STATE_DIR | store::INDEX_DIR => {
                    if let Some(tree) = self.expect_dir(entry, name) {
                        self.expect_files(&tree, name, &shard_file);
                    }
                }
                "sources" => {
                    let Some(l1) = self.expect_dir(entry, name) else {
                        continue;
                    };
                    for e1 in l1.iter() {
                        let p1 = child_path(name, &e1.name);
                        if !is_shard(&e1.name) {
                            self.stray(&p1, "not a shard of sources (two hex digits)");
                            continue;
                        }
                        let Some(l2) = self.expect_dir(e1, &p1) else {
                            continue;
                        };
                        for e2 in l2.iter() {
                            let p2 = child_path(&p1, &e2.name);
                            if !is_shard(&e2.name) {
                                self.stray(&p2, "not a shard of sources (two hex digits)");
                                continue;
                            }
                            let Some(l3) = self.expect_dir(e2, &p2) else {
                                continue;
                            };
                            for source in l3.iter() {
                                let dir = child_path(&p2, &source.name);
                                if let Some(tree) = self.child_tree_entry(source, &dir) {
                                    self.source_strays(&tree, &dir);
                                }
                            }
                        }
                    }
                }
                store::OBSERVATIONS_DIR => {
                    let Some(months) = self.expect_dir(entry, name) else {
                        continue;
                    };
                    for month in months.iter() {
                        let mpath = child_path(name, &month.name);
                        let Some(runs) = self.expect_dir(month, &mpath) else {
                            continue;
                        };
                        for run in runs.iter() {
                            let rpath = child_path(&mpath, &run.name);
                            if let Some(files) = self.expect_dir(run, &rpath) {
                                self.expect_files(&files, &rpath, &|n: &str| {
                                    n == store::RUN_MANIFEST || shard_file(n)
                                });
                            }
                        }
                    }
                }
                _ => self.stray(name, "not part of a store's layout"),
            }
        }
    }

    /// The entries of a source's directory beyond `source.json`, `raw`, `text.txt` and
    /// `versions/` (whose names are checked with the versions).
    fn source_strays(&mut self, tree: &Tree, dir: &str) {
        for entry in tree.iter() {
            let path = child_path(dir, &entry.name);
            match entry.name.as_str() {
                "source.json" | "raw" | "text.txt" => self.expect_file(entry, &path),
                "versions" => {
                    self.expect_dir(entry, &path);
                }
                _ => self.stray(&path, "not part of a source's directory"),
            }
        }
    }

    /// Reports every entry of `tree` that is not a file with a name `named` allows.
    fn expect_files(&mut self, tree: &Tree, dir: &str, named: &dyn Fn(&str) -> bool) {
        for entry in tree.iter() {
            let path = child_path(dir, &entry.name);
            if named(&entry.name) {
                self.expect_file(entry, &path);
            } else {
                self.stray(&path, "not part of a store's layout");
            }
        }
    }

    /// Reports an entry where the layout has a file that is not one (a directory, a symbolic
    /// link, a submodule).
    fn expect_file(&mut self, entry: &Entry, path: &str) {
        match entry.mode {
            0o100644 | 0o100755 | 0o100664 => {}
            0o120000 => self.stray(path, "a symbolic link where the layout has a file"),
            _ => self.stray(path, "not a file, where the layout has one"),
        }
    }

    /// The tree of an entry where the layout has a directory; reports it when it is not one.
    fn expect_dir(&mut self, entry: &Entry, path: &str) -> Option<std::rc::Rc<Tree>> {
        if entry.mode != 0o040000 {
            self.stray(path, "not a directory, where the layout has one");
            return None;
        }
        self.child_tree_entry(entry, path)
    }

    fn stray(&mut self, path: &str, what: &str) {
        self.problem(
            ProblemKind::StrayEntry,
            super::source_of_path(path).as_ref(),
            None,
            Some(path),
            format!(
                "{what}: no record accounts for it, yet stock git shows it as part of the store; remove it with a commit if it does not belong"
            ),
        );
    }
}
