//! The records of the current tree: sources, versions, the index, and every byte stream
//! against its record.

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use git2::{ObjectType, Oid};

use super::objects::{Entry, Tree};

use crate::hash::sha256_hex;
use crate::source::SourceId;
use crate::store;
use crate::store::record::{IndexEntry, SourceRecord, VersionRecord};

use super::*;

impl Verifier<'_, '_> {
    /// Checks every source (or those wanted) at the commit: records, chain, byte streams,
    /// current copies and index. Returns their versions for the observation checks.
    pub(super) fn sources(&mut self, tree: &Tree, wanted: Option<&HashSet<&SourceId>>) -> Versions {
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
    pub(super) fn source_dirs(&mut self, tree: &Tree) -> BTreeMap<SourceId, String> {
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
    pub(super) fn tree_at(&mut self, tree: &Tree, path: &str) -> Option<Rc<Tree>> {
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

    pub(super) fn child_tree(&mut self, tree: &Tree, name: &str, path: &str) -> Option<Rc<Tree>> {
        let entry = tree.get_name(name)?.clone();
        self.child_tree_entry(&entry, path)
    }

    pub(super) fn child_tree_entry(&mut self, entry: &Entry, path: &str) -> Option<Rc<Tree>> {
        if entry.kind() != Some(ObjectType::Tree) {
            return None;
        }
        self.tree(entry.id, path)
    }

    /// A blob at a path below `tree`, read and re-hashed: `None` when there is no such entry,
    /// `Some(None)` when there is one but its object cannot be read (a problem already
    /// recorded).
    pub(super) fn blob(&mut self, tree: &Tree, rel: &str, path: &str) -> Option<Option<Vec<u8>>> {
        let entry = tree.get_name(rel)?;
        if entry.kind() != Some(ObjectType::Blob) {
            return None;
        }
        let id = entry.id;
        Some(self.object(id, ObjectType::Blob, path))
    }

    /// Parses a JSON record, recording a problem when it does not parse.
    pub(super) fn record<T: serde::de::DeserializeOwned>(
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
    pub(super) fn format_version(&mut self, tree: &Tree) -> Option<u32> {
        let data = self.blob(tree, store::MARKER, store::MARKER)??;
        serde_json::from_slice::<store::record::StoreMeta>(&data)
            .ok()
            .map(|meta| meta.version)
    }

    pub(super) fn index(&mut self, tree: &Tree) -> BTreeMap<SourceId, IndexEntry> {
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
    pub(super) fn lines<T: serde::de::DeserializeOwned>(
        &mut self,
        data: &[u8],
        path: &str,
    ) -> Vec<T> {
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

    pub(super) fn source(
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
    pub(super) fn stream(
        &mut self,
        id: &SourceId,
        version: u32,
        blob: &store::record::StoredBlob,
        what: &'static str,
    ) {
        self.streams.push((id.clone(), version, blob.clone(), what));
    }

    /// Checks the queued byte streams against their records.
    pub(super) fn check_streams(&mut self) {
        for (id, version, blob, what) in std::mem::take(&mut self.streams) {
            self.check_stream(&id, version, &blob, what);
        }
    }

    /// Checks a stored byte stream against its record: the blob exists, hashes to its id, and
    /// has the recorded length and SHA-256.
    pub(super) fn check_stream(
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
}
