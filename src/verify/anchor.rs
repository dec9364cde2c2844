//! Anchors: a short digest of everything a store holds that is written once (every version
//! record and every observation run file), to publish where the store's keeper cannot reach
//! (a paper, a CI log, a ticket). Later, [`check`] proves the store still holds exactly those
//! records, byte for byte, whatever was added since; a rewritten history, an edited or removed
//! record, or a different store fails it.
//!
//! The digest is SHA-256 over the sorted list of those files' paths and SHA-256s at one commit;
//! the anchor names the commit too (by a prefix of its id), so the list can be rebuilt. git's
//! SHA-1 only locates the commit: the proof is the SHA-256.

use std::collections::BTreeMap;

use git2::{ObjectType, Oid, Repository, Tree};

use crate::hash::sha256_hex;
use crate::store::{self, Store};

/// The text that starts every anchor, with the version of its digest.
const PREFIX: &str = "va1";

/// Hex digits of the commit id an anchor carries: enough to find it, short enough to quote.
const COMMIT_DIGITS: usize = 12;

/// A store's state as an anchor digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The commit the state is of.
    pub commit: Oid,
    /// SHA-256 of the sorted list of write-once records and their SHA-256s.
    pub digest: String,
    /// Every write-once record: path → SHA-256 of its bytes.
    pub records: BTreeMap<String, String>,
}

impl Anchor {
    /// The anchor as it is published: `va1-<commit prefix>-<digest>`.
    pub fn token(&self) -> String {
        let commit = self.commit.to_string();
        format!("{PREFIX}-{}-{}", &commit[..COMMIT_DIGITS], self.digest)
    }
}

/// Why an anchor could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text given is not an anchor.
    #[error("{0:?} is not a verbatim anchor (va1-<12 hex digits>-<64 hex digits>)")]
    Malformed(String),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// git failed reading an object the anchor needs.
    #[error("cannot read the store: {0}")]
    Git(#[from] git2::Error),
}

/// The anchor of the store's current state.
pub fn anchor(store: &Store) -> Result<Anchor, Error> {
    let commit = store.snapshot()?.commit_id();
    state_at(store.repo(), commit)
}

/// The write-once records of a commit and their digest.
pub fn state_at(repo: &Repository, commit: Oid) -> Result<Anchor, Error> {
    let tree = repo.find_commit(commit)?.tree()?;
    let mut records = BTreeMap::new();
    collect(repo, &tree, "", &mut records)?;
    let mut list = String::with_capacity(records.len() * 100);
    for (path, sha) in &records {
        list.push_str(sha);
        list.push(' ');
        list.push_str(path);
        list.push('\n');
    }
    Ok(Anchor {
        commit,
        digest: sha256_hex(list.as_bytes()),
        records,
    })
}

/// Whether a path holds a record that is written once.
pub fn write_once(path: &str) -> bool {
    (path.starts_with("sources/") && path.contains("/versions/"))
        || path.starts_with(&format!("{}/", store::OBSERVATIONS_DIR))
}

fn collect(
    repo: &Repository,
    tree: &Tree<'_>,
    path: &str,
    out: &mut BTreeMap<String, String>,
) -> Result<(), Error> {
    for entry in tree.iter() {
        let child = super::child_path(path, entry.name().unwrap_or("?"));
        match entry.kind() {
            Some(ObjectType::Tree) => {
                // Only the directories that can hold write-once records are descended.
                let may_hold = child == "sources"
                    || child.starts_with("sources/")
                    || child == store::OBSERVATIONS_DIR
                    || child.starts_with(&format!("{}/", store::OBSERVATIONS_DIR));
                if may_hold {
                    let sub = repo.find_tree(entry.id())?;
                    collect(repo, &sub, &child, out)?;
                }
            }
            Some(ObjectType::Blob) if write_once(&child) => {
                let blob = repo.find_blob(entry.id())?;
                out.insert(child, sha256_hex(blob.content()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// What checking an anchor found wrong; empty when the store holds the anchored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The anchored commit is not in the store (a different store, or history rewritten and
    /// collected).
    CommitMissing,
    /// The anchored commit is in the store but not in the branch's history (rewritten).
    NotInHistory,
    /// The records at the anchored commit do not hash to the anchor's digest.
    DigestMismatch {
        /// The digest the commit's records give now.
        actual: String,
    },
    /// An anchored record is gone from the current state.
    Removed {
        /// Its path.
        path: String,
    },
    /// An anchored record's bytes differ in the current state.
    Changed {
        /// Its path.
        path: String,
    },
}

/// Checks that the store at `head` still holds the state `token` anchors.
pub fn check(repo: &Repository, head: Oid, token: &str) -> Result<Vec<Finding>, Error> {
    let malformed = || Error::Malformed(token.to_owned());
    let mut parts = token.trim().splitn(3, '-');
    let (prefix, commit, digest) = (
        parts.next().ok_or_else(malformed)?,
        parts.next().ok_or_else(malformed)?,
        parts.next().ok_or_else(malformed)?,
    );
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if prefix != PREFIX || !hex(commit, COMMIT_DIGITS) || !hex(digest, 64) {
        return Err(malformed());
    }
    let digest = digest.to_ascii_lowercase();
    let Ok(object) = repo.revparse_single(&commit.to_ascii_lowercase()) else {
        return Ok(vec![Finding::CommitMissing]);
    };
    let Ok(anchored) = object.peel_to_commit() else {
        return Ok(vec![Finding::CommitMissing]);
    };
    let anchored = anchored.id();
    let mut findings = Vec::new();
    if anchored != head && !repo.graph_descendant_of(head, anchored)? {
        findings.push(Finding::NotInHistory);
    }
    let then = state_at(repo, anchored)?;
    if then.digest != digest {
        findings.push(Finding::DigestMismatch {
            actual: then.digest.clone(),
        });
    }
    // Later additions are allowed; nothing anchored may change or go.
    let now = state_at(repo, head)?;
    for (path, sha) in &then.records {
        match now.records.get(path) {
            None => findings.push(Finding::Removed { path: path.clone() }),
            Some(current) if current != sha => {
                findings.push(Finding::Changed { path: path.clone() })
            }
            Some(_) => {}
        }
    }
    Ok(findings)
}
