//! Writing a new git tree from a base tree plus a set of blob upserts by path.
//!
//! Only the trees on the paths that change are rewritten; every other subtree is reused by id.
//! With the sharded layout this keeps one commit's cost flat however many sources the store has.

use std::collections::BTreeMap;

use git2::{FileMode, Oid, Repository, Tree};

/// Blob ids to place at slash-separated paths.
pub(crate) type Edits = BTreeMap<String, Oid>;

/// Returns the id of `base` with every path in `edits` set to its blob, writing each new tree
/// with `write` (a tree object's bytes in, its id out).
///
/// Trees are serialised here rather than by libgit2's tree builder, so that they go through
/// the store's own object writer (one reused compressor per thread): libgit2 set up a fresh
/// zlib stream for every object, a tenth of a large `add`.
pub(crate) fn apply<E: From<git2::Error>>(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    edits: &Edits,
    write: &mut dyn FnMut(&[u8]) -> Result<Oid, E>,
) -> Result<Oid, E> {
    let mut here: BTreeMap<&str, Oid> = BTreeMap::new();
    let mut below: BTreeMap<&str, Edits> = BTreeMap::new();
    for (path, oid) in edits {
        match path.split_once('/') {
            None => {
                here.insert(path.as_str(), *oid);
            }
            Some((dir, rest)) => {
                below.entry(dir).or_default().insert(rest.to_owned(), *oid);
            }
        }
    }
    let mut entries: BTreeMap<Vec<u8>, (i32, Vec<u8>, Oid)> = BTreeMap::new();
    let mut put = |name: &[u8], mode: i32, oid: Oid| {
        entries.insert(sort_key(name, mode), (mode, name.to_vec(), oid));
    };
    let changed = |name: &[u8]| {
        std::str::from_utf8(name)
            .is_ok_and(|name| here.contains_key(name) || below.contains_key(name))
    };
    if let Some(base) = base {
        for entry in base.iter() {
            if !changed(entry.name_bytes()) {
                put(entry.name_bytes(), entry.filemode(), entry.id());
            }
        }
    }
    for (name, oid) in &here {
        put(name.as_bytes(), i32::from(FileMode::Blob), *oid);
    }
    for (dir, sub_edits) in &below {
        let sub_base = match base.and_then(|t| t.get_name(dir)) {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                Some(repo.find_tree(entry.id())?)
            }
            _ => None,
        };
        let oid = apply(repo, sub_base.as_ref(), sub_edits, write)?;
        put(dir.as_bytes(), i32::from(FileMode::Tree), oid);
    }
    let mut bytes = Vec::with_capacity(entries.len() * 64);
    for (mode, name, oid) in entries.values() {
        // Git writes modes in octal without leading zeros ("40000" for a tree).
        bytes.extend_from_slice(format!("{mode:o} ").as_bytes());
        bytes.extend_from_slice(name);
        bytes.push(0);
        bytes.extend_from_slice(oid.as_bytes());
    }
    write(&bytes)
}

/// Where git sorts an entry in a tree: by name, a tree's name as if it ended with `/`.
fn sort_key(name: &[u8], mode: i32) -> Vec<u8> {
    let mut key = name.to_vec();
    if mode == i32::from(FileMode::Tree) {
        key.push(b'/');
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes trees through libgit2's object database, as a store with no zlib level does.
    fn odb_write(repo: &Repository) -> impl FnMut(&[u8]) -> Result<Oid, git2::Error> + '_ {
        move |bytes| repo.odb()?.write(git2::ObjectType::Tree, bytes)
    }

    #[test]
    fn trees_are_git_s_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let blob = |s: &str| repo.blob(s.as_bytes()).expect("blob");
        // Names git orders differently as trees and as blobs ("a/" sorts after "a.b", "a"
        // before it), and a blob replaced by a tree of the same name.
        let mut edits = Edits::new();
        for path in ["a.b", "a/x", "a-b/y", "a0", "z", "b", "b.c/d/e", "c"] {
            edits.insert(path.to_owned(), blob(path));
        }
        let first = apply(&repo, None, &edits, &mut odb_write(&repo)).expect("apply");
        let tree = repo.find_tree(first).expect("tree");
        // libgit2's reading of it: every path where it was put, in git's order.
        let mut names = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            names.push(format!("{root}{}", entry.name().unwrap_or("?")));
            git2::TreeWalkResult::Ok
        })
        .expect("walk");
        assert_eq!(
            names,
            [
                "a-b", "a-b/y", "a.b", "a", "a/x", "a0", "b", "b.c", "b.c/d", "b.c/d/e", "c", "z"
            ]
        );
        // Its id is what libgit2's tree builder gives for the same entries.
        let mut builder = repo.treebuilder(Some(&tree)).expect("builder");
        builder.insert("c", blob("c"), 0o100644).expect("insert");
        assert_eq!(builder.write().expect("write"), first);
        // A later edit keeps what it does not touch, replaces a blob by a tree, and adds.
        let mut more = Edits::new();
        more.insert("c/inner".to_owned(), blob("inner"));
        more.insert("a/w".to_owned(), blob("w"));
        let second = apply(&repo, Some(&tree), &more, &mut odb_write(&repo)).expect("apply");
        let second = repo.find_tree(second).expect("tree");
        for (path, expected) in [
            ("a/x", "a/x"),
            ("a/w", "w"),
            ("c/inner", "inner"),
            ("z", "z"),
        ] {
            let entry = second.get_path(std::path::Path::new(path)).expect(path);
            assert_eq!(entry.id(), blob(expected), "{path}");
        }
        let mut builder = repo.treebuilder(Some(&second)).expect("builder");
        builder.insert("z", blob("z"), 0o100644).expect("insert");
        assert_eq!(builder.write().expect("write"), second.id());
    }
}
