//! Writing: staged captures, and transactions that become one commit each.

use std::collections::BTreeMap;
use std::path::PathBuf;

use git2::Oid;
use jiff::Timestamp;

use record::{
    ComparedText, FORMAT_VERSION, IndexEntry, Observation, Outcome, SourceRecord, StoreMeta,
    StoredBlob, VersionRecord,
};

use crate::capture::{self, Capture, Origin};
use crate::classify::Verdict;
use crate::hash::sha256_hex;
// How records become bytes is part of the format, so it lives with the records.
use crate::model::{json_line, to_json};
use crate::source::SourceId;

use super::*;

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

impl Staged {
    /// The capture's canonical locator.
    pub fn locator(&self) -> &str {
        &self.locator
    }
}

impl Store {
    /// Writes a blob at the store's zlib level (see `loose`), or through libgit2 when the store
    /// names none.
    fn write_blob(&self, bytes: &[u8]) -> Result<Oid, Error> {
        self.write_object(git2::ObjectType::Blob, bytes)
    }

    /// Writes an object of `kind` as [`Store::write_blob`] writes blobs.
    pub(super) fn write_object(&self, kind: git2::ObjectType, bytes: &[u8]) -> Result<Oid, Error> {
        match self.loose_level {
            // Where a transaction's objects are flushed at once at commit (Linux), not one by one.
            Some(level) => loose::write_object(
                &self.repo,
                kind,
                bytes,
                level,
                self.fsync && crate::git::DURABILITY == crate::git::Durability::FsyncEachFile,
            ),
            None => Ok(self.repo.odb()?.write(kind, bytes)?),
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
    pub(super) store: &'s Store,
    pub(super) snapshot: Snapshot<'s>,
    pub(super) edits: tree::Edits,
    /// Latest version per source as changed in this transaction (sources may repeat in a batch).
    pub(super) pending: BTreeMap<SourceId, (VersionRecord, String)>,
    pub(super) trailers: Vec<(String, String)>,
    pub(super) summary: Vec<String>,
    /// Names this write's run of observations.
    pub(super) started_at: Timestamp,
    /// Observations made in this transaction and not yet written, as run-file lines by shard.
    pub(super) observed: BTreeMap<String, Vec<u8>>,
    /// The run files written so far (file name → SHA-256 of its bytes), for the run's manifest.
    pub(super) run_files: BTreeMap<String, String>,
    /// State shards read so far, updated with this transaction's observations, and whether
    /// any line of each changed.
    pub(super) states: BTreeMap<String, (BTreeMap<SourceId, Observation>, bool)>,
    /// Sources whose index entry changes, with their record when it changed too.
    pub(super) indexed: BTreeMap<SourceId, Option<SourceRecord>>,
    /// The compared texts to save in index entries, with the version each was computed for
    /// ([`Transaction::remember_compared`]).
    pub(super) compared: BTreeMap<SourceId, (ComparedText, u32)>,
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

    /// Saves in `id`'s index entry the hash of the text of its version `version` as `check`
    /// compared it, so that later checks need not extract that version again. Saved only if
    /// `version` is still the source's current one when this transaction commits: a check
    /// judges from the commit it started at, and another run may have stored a newer version
    /// since, whose entry must not get an older text's hash.
    pub fn remember_compared(&mut self, id: &SourceId, compared: ComparedText, version: u32) {
        self.indexed.entry(id.clone()).or_insert(None);
        self.compared.insert(id.clone(), (compared, version));
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
                let mut entry = match self.pending.get(&id) {
                    Some((version, _)) => entry.with_version(version),
                    None => entry,
                };
                if let Some((compared, version)) = self.compared.remove(&id)
                    && entry.version == version
                {
                    entry.compared = Some(compared);
                }
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

    pub(super) fn put(&mut self, path: String, bytes: &[u8]) -> Result<(), Error> {
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
        let tree_id = tree::apply(repo, Some(&self.snapshot.tree), &self.edits, &mut |bytes| {
            self.store.write_object(git2::ObjectType::Tree, bytes)
        })?;
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
