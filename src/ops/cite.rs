//! `cite check`: read the citations of documents, capture or re-check their sources, and judge
//! whether each quote still stands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::check::Concurrency;
use crate::cite::assess::{self, Assessment, Status};
use crate::cite::{self, Citation};
use crate::classify::Verdict;
use crate::fetch::{self, HttpClient};
use crate::source::{Locator, SourceId};
use crate::store::{self, Snapshot, Store};

use super::{Error, Locking, Progress};

/// How citations are checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Check against the store only: capture nothing, fetch nothing.
    pub offline: bool,
    /// Capture cited `file://` sources the store does not track yet (the owner's opt-in: a
    /// document could name any local file).
    pub capture_files: bool,
    /// A web archive's TimeGate asked for a copy of each source that is gone.
    pub memento: Option<String>,
    /// The HTTP client's limits. Every URL fetched was named by a citing document, which is
    /// content: the reach is always [`fetch::Reach::Public`], whatever this says.
    pub fetch: fetch::Options,
    /// Workers in all, and requests in flight to one host, for re-checking tracked sources.
    pub concurrency: Concurrency,
    /// How the writer lock is taken to record captures and checks.
    pub locking: Locking,
}

/// The citations of `files` (resolved against `cwd`), each naming its file as given and with
/// any password in a cited URL redacted (a locator drops it when parsed, so it is never sent
/// either); and the files that could not be read, with why.
pub fn read(files: &[PathBuf], cwd: &Path) -> (Vec<Citation>, Vec<(PathBuf, cite::Error)>) {
    let mut cited = Vec::new();
    let mut unreadable = Vec::new();
    for file in files {
        match cite::parse::read_file(&cwd.join(file)) {
            Ok(mut found) => {
                for c in &mut found {
                    c.file = file.display().to_string();
                    c.locator = crate::source::redact(&c.locator);
                }
                cited.extend(found);
            }
            Err(e) => unreadable.push((file.clone(), e)),
        }
    }
    (cited, unreadable)
}

/// Judges every citation of `cited` against its source: captures the cited sources the store
/// does not track yet and re-checks the others (unless offline), recording both, then assesses
/// each quote. Assessments come back in the citations' order.
pub fn check(
    store: &Store,
    cited: Vec<Citation>,
    cwd: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Vec<Assessment>, Error> {
    // Each distinct locator once: its id if tracked.
    let mut sources: BTreeMap<String, Option<SourceId>> = BTreeMap::new();
    {
        let snapshot = store.snapshot()?;
        for c in &cited {
            if !sources.contains_key(&c.locator) {
                let id = tracked(&snapshot, cwd, &c.locator)?;
                sources.insert(c.locator.clone(), id);
            }
        }
    }
    // What this run learnt of each source: a verdict, or why it could not be captured.
    let mut verdicts: BTreeMap<SourceId, Verdict> = BTreeMap::new();
    let mut failed_captures: BTreeMap<String, (String, Status)> = BTreeMap::new();
    // One client for the captures, the checks and the archive.
    let client = HttpClient::new(fetch::Options {
        reach: fetch::Reach::Public,
        ..options.fetch.clone()
    });
    let capture = Capturing {
        store,
        client: &client,
        cwd,
        options,
        progress,
    };
    if !options.offline {
        let fresh = capture.new_sources(&mut sources, &mut failed_captures)?;
        capture.tracked_sources(&sources, &fresh, &mut verdicts)?;
    }
    let snapshot = store.snapshot()?;
    if options.offline {
        for id in sources.values().flatten() {
            if let Some(state) = snapshot.state_shard(&id.as_str()[..2])?.remove(id)
                && let Some(v) = state.verdict
            {
                verdicts.insert(id.clone(), v);
            }
        }
    }
    // Judged source by source (each source's text prepared once), reported in file order.
    let mut order: Vec<usize> = (0..cited.len()).collect();
    order.sort_by_key(|&i| sources.get(&cited[i].locator).cloned().flatten());
    let mut judged: Vec<Option<Assessment>> = vec![None; cited.len()];
    let mut assessor = assess::Assessor::new(&snapshot);
    for i in order {
        let c = &cited[i];
        let id = sources.get(&c.locator).cloned().flatten();
        let verdict = id.as_ref().and_then(|id| verdicts.get(id).copied());
        let mut a = assessor.assess(c, id.as_ref(), verdict)?;
        if let (None, Some((_, status))) = (&id, failed_captures.get(&c.locator)) {
            a.status = *status;
        }
        judged[i] = Some(a);
    }
    let mut assessed: Vec<Assessment> = judged.into_iter().flatten().collect();
    for (locator, (why, _)) in &failed_captures {
        progress.note(&format!("could not capture {locator}: {why}"));
    }
    if let Some(timegate) = &options.memento {
        for a in assessed.iter_mut().filter(|a| a.status.source_gone()) {
            // The end of the access day, or now when the citation gives no date.
            let at = a
                .citation
                .accessed
                .and_then(|d| d.tomorrow().ok())
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map_or_else(jiff::Timestamp::now, |z| z.timestamp());
            match cite::memento::lookup(
                &client,
                timegate,
                &a.citation.locator,
                at,
                a.citation.quote.as_deref(),
            ) {
                Ok(found) => a.memento = Some(found),
                Err(e) => progress.note(&format!(
                    "no archived copy of {} from {timegate}: {e}",
                    a.citation.locator
                )),
            }
        }
    }
    Ok(assessed)
}

/// The id of the source a citation's locator names, if the store tracks it.
fn tracked(
    snapshot: &Snapshot<'_>,
    cwd: &Path,
    locator: &str,
) -> Result<Option<SourceId>, store::Error> {
    match snapshot.resolve(locator, cwd) {
        Ok(record) => Ok(Some(record.id)),
        Err(store::Error::UnknownSource { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What capturing and re-checking cited sources needs.
struct Capturing<'a> {
    store: &'a Store,
    client: &'a HttpClient,
    cwd: &'a Path,
    options: &'a Options,
    progress: &'a dyn Progress,
}

impl Capturing<'_> {
    /// Captures every cited source the store does not track yet, in one commit; returns their
    /// ids.
    fn new_sources(
        &self,
        sources: &mut BTreeMap<String, Option<SourceId>>,
        failed: &mut BTreeMap<String, (String, Status)>,
    ) -> Result<Vec<SourceId>, Error> {
        let new: Vec<String> = sources
            .iter()
            .filter(|(_, id)| id.is_none())
            .map(|(l, _)| l.clone())
            .collect();
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let rules = crate::extract::Rules::default();
        self.progress.start(new.len(), "capturing");
        let mut captures = Vec::new();
        for locator in &new {
            let parsed = match Locator::parse(locator, self.cwd) {
                Ok(parsed) => parsed,
                Err(e) => {
                    failed.insert(locator.clone(), (e.to_string(), Status::Unreachable));
                    continue;
                }
            };
            if matches!(parsed, Locator::File(_)) && !self.options.capture_files {
                failed.insert(
                    locator.clone(),
                    (
                        "a local file not tracked yet is captured only with --capture-files (or `verbatim add` it)".to_owned(),
                        Status::NotTracked,
                    ),
                );
                self.progress.advance(locator);
                continue;
            }
            match crate::capture::capture(&parsed, self.client, self.options.fetch.max_body, &rules)
            {
                Ok(mut capture) => {
                    // Named by the document, not by the store's owner.
                    capture.from_content = true;
                    captures.push((locator.clone(), capture));
                }
                Err(e) => {
                    // An error status says what a check would: a 410 is a retraction.
                    let status = match &e {
                        fetch::Error::Status { status, .. } => {
                            match crate::classify::verdict_for_status(*status) {
                                Some(Verdict::Retracted) => Status::Retracted,
                                Some(Verdict::Blocked) => Status::Blocked,
                                Some(
                                    Verdict::Unchanged
                                    | Verdict::Cosmetic
                                    | Verdict::Edited
                                    | Verdict::Moved
                                    | Verdict::Unreachable
                                    | Verdict::Error
                                    | Verdict::Unknown,
                                )
                                | None => Status::Unreachable,
                            }
                        }
                        _ => Status::Unreachable,
                    };
                    failed.insert(locator.clone(), (e.to_string(), status));
                }
            }
            self.progress.advance(locator);
        }
        self.progress.finish();
        if captures.is_empty() {
            return Ok(Vec::new());
        }
        let lock = self.options.locking.lock(self.store, self.progress)?;
        let mut tx = self.store.transaction(&lock)?;
        let mut fresh = Vec::new();
        for (locator, capture) in &captures {
            tx.record(capture, None)?;
            let id = capture.locator.id();
            sources.insert(locator.clone(), Some(id.clone()));
            fresh.push(id);
        }
        tx.commit(&format!("cite: {} cited sources captured", captures.len()))?;
        Ok(fresh)
    }

    /// Re-fetches and checks every cited source that was tracked before this run, recording
    /// what each check found; their verdicts go to `verdicts`.
    fn tracked_sources(
        &self,
        sources: &BTreeMap<String, Option<SourceId>>,
        fresh: &[SourceId],
        verdicts: &mut BTreeMap<SourceId, Verdict>,
    ) -> Result<(), Error> {
        let snapshot = self.store.snapshot()?;
        let commit = snapshot.commit_id();
        // Sources captured by this very run are as fresh as a check would make them.
        let ids: Vec<SourceId> = sources
            .values()
            .flatten()
            .filter(|id| !fresh.contains(id))
            .cloned()
            .collect();
        let jobs = super::check::jobs_for(&snapshot, &ids)?;
        drop(snapshot);
        let count = jobs.len();
        let run = super::check::Run {
            commit,
            client: self.client,
            max_bytes: self.options.fetch.max_body,
            concurrency: self.options.concurrency,
            in_order: true,
            locking: self.options.locking,
        };
        super::check::check_and_record(
            self.store,
            Box::new(jobs.into_iter()),
            count,
            &run,
            self.progress,
            &mut |r| {
                if let Some(id) = SourceId::parse(&r.source) {
                    verdicts.insert(id, r.verdict);
                }
                Ok(())
            },
        )?;
        Ok(())
    }
}
