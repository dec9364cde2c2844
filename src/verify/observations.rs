//! Observations: every run's files against its manifest, the chain of runs, and the state
//! files against the observations.

use std::collections::{BTreeMap, HashSet};

use git2::ObjectType;

use super::objects::Tree;

use crate::hash::sha256_hex;
use crate::source::SourceId;
use crate::store;
use crate::store::record::{Observation, Outcome};

use super::*;

/// A line of a state file, and where it is.
pub(super) struct StateLine {
    path: String,
    line: Vec<u8>,
    observation: Observation,
}

impl Verifier<'_, '_> {
    /// Checks every observation (of the sources wanted): it parses, names a source the store
    /// holds and a version it has, and a capture's hash is its version's; each state line is
    /// an observation of the runs.
    pub(super) fn observations(
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
    pub(super) fn observation_lines<'d>(
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
    pub(super) fn state_lines(
        &mut self,
        tree: &Tree,
        wanted: Option<&HashSet<&SourceId>>,
    ) -> Vec<StateLine> {
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
    pub(super) fn run_chain(
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

    pub(super) fn observation(&mut self, o: &Observation, versions: &Versions, path: &str) {
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
