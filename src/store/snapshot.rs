//! Reading: a consistent view of the store at one commit.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree};

use record::{IndexEntry, Observation, SourceRecord, StoredBlob, VersionRecord};

use crate::hash::sha256_hex;
// How records become bytes is part of the format, so it lives with the records.
use crate::source::{self, SourceId};

use super::*;

/// A consistent view of the store at one commit.
pub struct Snapshot<'r> {
    pub(super) repo: &'r Repository,
    pub(super) commit: Oid,
    pub(super) tree: Tree<'r>,
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
    pub(super) fn has_index(&self) -> bool {
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

    pub(super) fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<SourceId>, Error> {
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
    pub(super) fn read_states(
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

    pub(super) fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        oid: Oid,
    ) -> Result<T, Error> {
        let blob = self.repo.find_blob(oid)?;
        serde_json::from_slice(blob.content()).map_err(|source| Error::CorruptRecord {
            path: path.to_owned(),
            source,
        })
    }

    pub(super) fn blob_at(&self, path: &str) -> Result<Option<Oid>, Error> {
        match self.tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some(entry.id())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The tree at a slash-separated path, if there is one.
    pub(super) fn tree_at(&self, path: &str) -> Result<Option<Tree<'r>>, Error> {
        match self.tree.get_path(Path::new(path)) {
            Ok(entry) => self.entry_tree(&entry),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) fn subtree(&self, tree: &Tree<'r>, name: &str) -> Result<Option<Tree<'r>>, Error> {
        match tree.get_name(name) {
            Some(entry) => self.entry_tree(&entry),
            None => Ok(None),
        }
    }

    pub(super) fn entry_tree(
        &self,
        entry: &git2::TreeEntry<'_>,
    ) -> Result<Option<Tree<'r>>, Error> {
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(None);
        }
        Ok(Some(self.repo.find_tree(entry.id())?))
    }
}

/// Whether the two-digit shard name at `offset` of an id can hold ids starting with `prefix`.
pub(super) fn shard_may_match(shard: &str, prefix: &str, offset: usize) -> bool {
    let want = prefix.get(offset..).unwrap_or("");
    let n = want.len().min(shard.len());
    shard[..n] == want[..n]
}

impl Snapshot<'_> {
    /// The latest run before `run` that has a manifest: its name (`YYYY-MM/<run>`) and the
    /// SHA-256 of its manifest's bytes. Reads the last months' trees only.
    pub(super) fn last_run_manifest(&self, run: &str) -> Result<Option<(String, String)>, Error> {
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
