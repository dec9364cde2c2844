//! Writing a new git tree from a base tree plus a set of blob upserts by path.
//!
//! Only the trees on the paths that change are rewritten; every other subtree is reused by id.
//! With the sharded layout this keeps one commit's cost flat however many sources the store has.

use std::collections::BTreeMap;

use git2::{FileMode, Oid, Repository, Tree};

/// Blob ids to place at slash-separated paths.
pub(crate) type Edits = BTreeMap<String, Oid>;

/// Returns the id of `base` with every path in `edits` set to its blob.
pub(crate) fn apply(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    edits: &Edits,
) -> Result<Oid, git2::Error> {
    let mut here: Vec<(&str, Oid)> = Vec::new();
    let mut below: BTreeMap<&str, Edits> = BTreeMap::new();
    for (path, oid) in edits {
        match path.split_once('/') {
            None => here.push((path.as_str(), *oid)),
            Some((dir, rest)) => {
                below.entry(dir).or_default().insert(rest.to_owned(), *oid);
            }
        }
    }
    let mut builder = repo.treebuilder(base)?;
    for (name, oid) in here {
        builder.insert(name, oid, FileMode::Blob.into())?;
    }
    for (dir, sub_edits) in below {
        let sub_base = match base.and_then(|t| t.get_name(dir)) {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                Some(repo.find_tree(entry.id())?)
            }
            _ => None,
        };
        let oid = apply(repo, sub_base.as_ref(), &sub_edits)?;
        builder.insert(dir, oid, FileMode::Tree.into())?;
    }
    builder.write()
}
