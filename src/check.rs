//! Re-fetching tracked sources and deciding what happened to each.
//!
//! Fetching is network-bound and runs on worker threads ([`fetch_all`]); judging needs the store
//! and runs on the caller's thread ([`judge`]), so git2 handles never cross threads. Bytes equal
//! to the current version's end the judgement before any extraction.

use std::sync::Mutex;

use jiff::Timestamp;

use crate::capture::{self, Capture, Origin};
use crate::classify::summary::{self, ChangeSummary};
use crate::classify::{self, EditStats, Verdict};
use crate::fetch::{self, HttpClient, Validators};
use crate::hash::sha256_hex;
use crate::source::{Locator, SourceId};
use crate::store::record::{IndexEntry, Observation, Outcome, SourceRecord, VersionRecord};
use crate::store::{self, Snapshot};

/// What fetching one source gave.
#[derive(Debug)]
pub enum Fetched {
    /// Bytes were received (a file read, or an HTTP 2xx).
    Body {
        /// When they were obtained.
        at: Timestamp,
        /// The bytes.
        raw: Vec<u8>,
        /// How.
        origin: Origin,
    },
    /// The server confirmed the current version with 304 Not Modified.
    NotModified {
        /// When.
        at: Timestamp,
    },
    /// The fetch failed.
    Failed {
        /// When.
        at: Timestamp,
        /// Why.
        error: fetch::Error,
    },
}

/// One source to check, as the store's index knows it: enough to fetch it and to judge it
/// when it has not changed. Everything else is read only when its bytes changed
/// ([`Target::load`]).
#[derive(Debug, Clone)]
pub struct Job {
    /// The source's index entry: locator, title and current version's hashes and validators.
    pub entry: IndexEntry,
    /// Its latest observation, which the new state continues or breaks.
    pub previous: Option<Observation>,
}

/// What judging changed bytes needs beyond the index: the source's rules and its current
/// version's record (with the old bytes' blob).
#[derive(Debug, Clone)]
pub struct Target {
    /// The source.
    pub source: SourceRecord,
    /// Its extraction rules.
    pub rules: crate::extract::Rules,
    /// Its current version, if it has one.
    pub current: Option<VersionRecord>,
}

impl Target {
    /// Reads a source's record, compiled rules and current version.
    pub fn load(snapshot: &Snapshot<'_>, id: &SourceId) -> Result<Target, store::Error> {
        let invalid = |detail: String| store::Error::InvalidSource {
            id: id.to_string(),
            detail,
        };
        let source = snapshot
            .source(id)?
            .ok_or_else(|| invalid("it has no source.json".to_owned()))?;
        let rules = source.rules().map_err(|e| {
            invalid(format!(
                "its rules: {e}; fix them with `verbatim configure {id}`"
            ))
        })?;
        Ok(Target {
            current: snapshot.latest(id)?,
            rules,
            source,
        })
    }
}

/// How many fetches run at once.
#[derive(Debug, Clone, Copy)]
pub struct Concurrency {
    /// Worker threads in all.
    pub jobs: usize,
    /// Requests in flight to any one host, so no site is hammered.
    pub per_host: usize,
}

/// Fetches and judges every job, conditionally where the current version has validators, and
/// hands each result to `on_result` on the calling thread as soon as it is ready (in completion
/// order, with the job's index).
///
/// Worker threads draw `jobs` as they go, fetch, judge, and stage
/// each new version's bytes to the store's objects, so results reach the calling thread without
/// bodies. A source whose bytes did not change (a 304, identical bytes, a failure) is judged from
/// its index entry alone; only changed bytes make a worker read the source's record and current
/// version, through its own handle on the store at `commit` (a git repository handle is not
/// shared between threads). Every queue is bounded and jobs are drawn lazily: memory does not
/// grow with the number of sources.
pub fn check_each(
    store_path: &std::path::Path,
    commit: git2::Oid,
    jobs: impl Iterator<Item = Result<Job, store::Error>> + Send,
    client: &HttpClient,
    max_bytes: u64,
    concurrency: Concurrency,
    on_result: &mut dyn FnMut(usize, Result<CheckResult, store::Error>),
) {
    let workers = concurrency.jobs.max(1);
    let hosts = fetch::HostLimit::new(concurrency.per_host);
    let queue = Mutex::new(jobs.enumerate());
    // Results carry no bodies (workers stage captures), so the queue to the calling thread can
    // be long enough that workers never wait for it.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(
        usize,
        Result<CheckResult, store::Error>,
    )>(QUEUE.max(workers));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (queue, hosts) = (&queue, &hosts);
            scope.spawn(move || {
                let failed = |e| drop(sender.send((usize::MAX, Err(e))));
                on_own_snapshot(store_path, commit, failed, |store, snapshot| {
                    loop {
                        // The lock is held only while the next job is drawn.
                        let next = queue.lock().ok().and_then(|mut q| q.next());
                        let Some((i, job)) = next else { break };
                        let judged = job
                            .and_then(|job| check_one(snapshot, &job, client, max_bytes, hosts))
                            .and_then(|mut result| result.stage(store).map(|()| result));
                        if sender.send((i, judged)).is_err() {
                            break;
                        }
                    }
                });
            });
        }
        drop(sender);
        for (i, judged) in receiver {
            on_result(i, judged);
        }
    });
}

/// The name a failure of the check's spool (unnamed files in the temporary directory) is
/// reported under: the CLI tells it from the store's own files by it.
pub const SPOOL_NAME: &str = "(verbatim check spool)";

/// Results queued for the calling thread.
const QUEUE: usize = 512;

/// Fetches one source (within the per-host limit) and judges the result.
fn check_one(
    snapshot: &Snapshot<'_>,
    job: &Job,
    client: &HttpClient,
    max_bytes: u64,
    hosts: &fetch::HostLimit,
) -> Result<CheckResult, store::Error> {
    let locator = Locator::parse(&job.entry.locator, std::path::Path::new("/")).map_err(|e| {
        store::Error::InvalidSource {
            id: job.entry.source.to_string(),
            detail: format!("its locator: {e}"),
        }
    })?;
    let fetched = {
        let _slot = match &locator {
            Locator::Http(url) => hosts.enter_url(url),
            Locator::File(_) => None,
        };
        fetch_one(&locator, &job.entry, client, max_bytes)
    };
    judge(snapshot, job, &locator, fetched)
}

/// Opens this thread's own read-only view of the store at `commit` and runs `body` on it; a
/// store that cannot be opened is handed to `failed` instead.
fn on_own_snapshot(
    store_path: &std::path::Path,
    commit: git2::Oid,
    failed: impl FnOnce(store::Error),
    body: impl FnOnce(&store::Store, &Snapshot<'_>),
) {
    let store = match store::Store::open(store_path) {
        Ok(store) => store,
        Err(e) => return failed(e),
    };
    match store.snapshot_at(commit) {
        Ok(snapshot) => body(&store, &snapshot),
        Err(e) => failed(e),
    }
}

fn fetch_one(
    locator: &Locator,
    entry: &IndexEntry,
    client: &HttpClient,
    max_bytes: u64,
) -> Fetched {
    match locator {
        Locator::File(path) => match fetch::read_file(path, max_bytes) {
            Ok(raw) => Fetched::Body {
                at: capture::now(),
                raw,
                origin: Origin::File {
                    path: path.display().to_string(),
                },
            },
            Err(error) => Fetched::Failed {
                at: capture::now(),
                error,
            },
        },
        Locator::Http(url) => {
            let validators = Validators {
                etag: entry.etag.clone(),
                last_modified: entry.last_modified.clone(),
            };
            // A source that came from content is fetched as content is (`--allow-private` aside).
            let reach = if entry.from_content {
                fetch::Reach::Public
            } else {
                fetch::Reach::Owner
            };
            match client.get_reaching(url, &validators, &[], reach) {
                Ok(r) if r.status == 304 => Fetched::NotModified { at: capture::now() },
                Ok(r) => Fetched::Body {
                    at: capture::now(),
                    origin: Origin::from_response(&r),
                    raw: r.body,
                },
                Err(error) => Fetched::Failed {
                    at: capture::now(),
                    error,
                },
            }
        }
    }
}

/// The judgement on one source. It serialises so that a check can park results on disk
/// ([`Spool`]); that form is private to one run (the documented JSON is
/// [`crate::report::CheckReport`]'s).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckResult {
    /// The source's id.
    pub source: String,
    /// Its locator.
    pub locator: String,
    /// Its title, when known.
    pub title: Option<String>,
    /// What happened.
    pub verdict: Verdict,
    /// Why, where it needs saying.
    pub reason: Option<String>,
    /// Whether this state is new since the previous check.
    pub new: bool,
    /// Since when the source has been in this state.
    pub since: Timestamp,
    /// When it was checked.
    pub checked_at: Timestamp,
    /// The final HTTP status, for web sources that answered.
    pub http_status: Option<u16>,
    /// The URL that answered, when it differs from the locator.
    pub final_url: Option<String>,
    /// The current version before the check.
    pub old_version: Option<u32>,
    /// The version stored by this check (edited), if any.
    pub new_version: Option<u32>,
    /// SHA-256 of the current version's bytes.
    pub old_sha256: Option<String>,
    /// SHA-256 of the bytes received.
    pub new_sha256: Option<String>,
    /// SHA-256 of the current version's canonical text.
    pub old_text_sha256: Option<String>,
    /// SHA-256 of the canonical text received.
    pub new_text_sha256: Option<String>,
    /// For `edited` (and `moved` with changed content): what changed.
    pub changes: Option<EditStats>,
    /// For `edited` (and `moved` with changed content): what the change means (figures,
    /// quotations, headline, notes), as `verbatim diff` shows it.
    pub change_summary: Option<Box<ChangeSummary>>,
    /// The capture to store as a new version, for `edited` (boxed: few results carry one).
    #[serde(skip)]
    pub capture: Option<Box<Capture>>,
    /// The same once [staged](CheckResult::stage): written to the store, out of memory.
    pub staged: Option<Box<store::Staged>>,
}

impl CheckResult {
    /// Writes the capture to store (if any) to the store's objects now, so that a check where
    /// every page changed does not hold every page in memory until it commits.
    pub fn stage(&mut self, store: &store::Store) -> Result<(), store::Error> {
        if let Some(capture) = self.capture.take() {
            self.staged = Some(Box::new(store.stage(*capture)?));
        }
        Ok(())
    }
}

/// Judges what one fetch means for its source, reading the store only when the bytes changed.
pub fn judge(
    snapshot: &Snapshot<'_>,
    job: &Job,
    locator: &Locator,
    fetched: Fetched,
) -> Result<CheckResult, store::Error> {
    let entry = &job.entry;
    let current = (entry.version > 0).then_some(entry.version);
    let mut result = CheckResult {
        source: entry.source.to_string(),
        locator: entry.locator.clone(),
        title: entry.title.clone(),
        verdict: Verdict::Unchanged,
        reason: None,
        new: false,
        since: capture::now(),
        checked_at: capture::now(),
        http_status: None,
        final_url: None,
        old_version: current,
        new_version: None,
        old_sha256: entry.raw_sha256.clone(),
        new_sha256: None,
        old_text_sha256: entry.canonical_sha256.clone(),
        new_text_sha256: None,
        changes: None,
        change_summary: None,
        capture: None,
        staged: None,
    };
    match fetched {
        Fetched::NotModified { at } => {
            result.checked_at = at;
            result.http_status = Some(304);
            result.reason = Some("HTTP 304 Not Modified".to_owned());
            result.new_sha256 = result.old_sha256.clone();
            result.new_text_sha256 = result.old_text_sha256.clone();
        }
        Fetched::Failed { at, error } => {
            result.checked_at = at;
            let (verdict, status) = failure_verdict(&error);
            result.verdict = verdict;
            result.http_status = status;
            result.reason = Some(match &error {
                fetch::Error::NotFound { .. } => "file deleted".to_owned(),
                fetch::Error::Status { status, .. } => format!("HTTP {status}"),
                other => other.to_string(),
            });
        }
        Fetched::Body { at, raw, origin } => {
            result.checked_at = at;
            // A bug that one page's bytes trigger must cost that page its judgement, not the
            // whole run its record of every other source.
            let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                judge_body(snapshot, entry, locator, &mut result, (at, raw, origin))
            }));
            match judged {
                Ok(judged) => judged?,
                Err(panic) => {
                    result.verdict = Verdict::Error;
                    result.reason = Some(format!(
                        "verbatim failed while reading this source ({}); please report it",
                        panic_message(panic.as_ref())
                    ));
                    result.capture = None;
                    result.changes = None;
                    result.change_summary = None;
                    result.new_version = None;
                }
            }
        }
    }
    (result.new, result.since) =
        continuity(job.previous.as_ref(), result.verdict, result.checked_at);
    Ok(result)
}

/// What a caught panic said.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}

fn judge_body(
    snapshot: &Snapshot<'_>,
    entry: &IndexEntry,
    locator: &Locator,
    result: &mut CheckResult,
    (at, raw, origin): (Timestamp, Vec<u8>, Origin),
) -> Result<(), store::Error> {
    let raw_sha = sha256_hex(&raw);
    result.new_sha256 = Some(raw_sha.clone());
    let moved = match &origin {
        Origin::Http {
            status,
            final_url,
            redirects,
            ..
        } => {
            result.http_status = Some(*status);
            if *final_url != entry.locator {
                result.final_url = Some(final_url.clone());
            }
            let permanent = redirects.iter().any(|r| matches!(r.status, 301 | 308));
            (permanent && *final_url != entry.locator).then(|| final_url.clone())
        }
        Origin::File { .. } => None,
    };
    if entry.raw_sha256.as_deref() == Some(raw_sha.as_str()) {
        // The common case: identical bytes need no extraction, nor any read of the store.
        result.new_text_sha256 = result.old_text_sha256.clone();
        if let Some(url) = moved {
            result.verdict = Verdict::Moved;
            result.reason = Some(format!("moved permanently to {url}; content unchanged"));
        }
        return Ok(());
    }
    let target = Target::load(snapshot, &entry.source)?;
    let Some(current) = target.current.as_ref() else {
        result.verdict = Verdict::Edited;
        result.reason = Some("no version was stored yet".to_owned());
        result.capture = Some(Box::new(Capture::from_parts(
            locator.clone(),
            at,
            raw,
            origin,
            &target.rules,
        )));
        return Ok(());
    };
    let capture = Capture::from_parts(locator.clone(), at, raw, origin, &target.rules);
    let new_canonical =
        classify::canonical_text(&target.rules.strip_ignored(&capture.extracted.text));
    let new_text_sha = sha256_hex(new_canonical.as_bytes());
    result.new_text_sha256 = Some(new_text_sha.clone());
    // Re-derive the old text from the old bytes with today's rules and extractor, so a changed
    // selector or a better extractor is never mistaken for an edit of the page.
    let old_raw = snapshot.read(&current.raw)?;
    let old = Capture::from_parts(
        locator.clone(),
        current.captured_at,
        old_raw,
        current.origin.clone(),
        &target.rules,
    );
    let old_canonical = classify::canonical_text(&target.rules.strip_ignored(&old.extracted.text));
    let old_text_sha = sha256_hex(old_canonical.as_bytes());
    result.old_text_sha256 = Some(old_text_sha.clone());
    let title = capture.extracted.title.as_deref();
    let textless = capture.extracted.charset.is_none() || current.charset.is_none();
    let content = if textless {
        // No text to compare (a PDF, an image): changed bytes are all there is to go on.
        result.reason = Some(format!(
            "{} content changed; there is no text to compare",
            capture.extracted.media_type
        ));
        Verdict::Edited
    } else if old_text_sha == new_text_sha {
        Verdict::Cosmetic
    } else if let Some(reason) = classify::block_reason(&old_canonical, &new_canonical, title) {
        result.reason = Some(reason);
        Verdict::Blocked
    } else if let Some(reason) = classify::notice_reason(&old_canonical, &new_canonical, title) {
        result.reason = Some(reason);
        Verdict::Retracted
    } else if let Some(reason) = classify::extraction_collapse(
        (current.raw.bytes, old_canonical.len()),
        (capture.raw.len() as u64, new_canonical.len()),
    ) {
        result.reason = Some(reason);
        Verdict::Error
    } else if let Some(reason) = classify::retraction_reason(&old_canonical, &new_canonical, title)
    {
        result.reason = Some(reason);
        Verdict::Retracted
    } else {
        result.changes = Some(classify::edit_stats(&old_canonical, &new_canonical));
        result.change_summary = Some(Box::new(summarize(&old, &capture, &target.rules)));
        Verdict::Edited
    };
    result.verdict = content;
    if let Some(url) = moved {
        result.verdict = Verdict::Moved;
        result.reason = Some(format!("moved permanently to {url}; content {content}"));
    }
    if content == Verdict::Edited {
        result.capture = Some(Box::new(capture));
    }
    Ok(())
}

/// What an edit means, from the two captures' texts as `check` compares them (ignored patterns
/// removed), with a diff held to [`SUMMARY_DEADLINE`] so one huge page cannot stall a check.
fn summarize(old: &Capture, new: &Capture, rules: &crate::extract::Rules) -> ChangeSummary {
    let old_text = rules.strip_ignored(&old.extracted.text);
    let new_text = rules.strip_ignored(&new.extracted.text);
    let diff = crate::diff::TextDiff::new(
        &old_text,
        &new_text,
        &crate::diff::Options {
            timeout: SUMMARY_DEADLINE,
            ..crate::diff::Options::default()
        },
    );
    summary::summarize(
        summary::Side {
            title: old.extracted.title.as_deref(),
            text: &old_text,
        },
        summary::Side {
            title: new.extracted.title.as_deref(),
            text: &new_text,
        },
        &diff,
    )
}

/// How long the diff behind an edit's summary may take.
const SUMMARY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// The verdict a failed fetch implies, with the HTTP status if one was received.
fn failure_verdict(error: &fetch::Error) -> (Verdict, Option<u16>) {
    match error {
        fetch::Error::NotFound { .. } => (Verdict::Retracted, None),
        fetch::Error::Status { status, .. } => (
            classify::verdict_for_status(*status).unwrap_or(Verdict::Error),
            Some(*status),
        ),
        fetch::Error::Timeout { .. } | fetch::Error::Connection { .. } => {
            (Verdict::Unreachable, None)
        }
        fetch::Error::IsDirectory { .. }
        | fetch::Error::NotRegular { .. }
        | fetch::Error::Unreadable { .. }
        | fetch::Error::TooLarge { .. }
        | fetch::Error::TooManyRedirects { .. }
        | fetch::Error::BadRedirect { .. }
        | fetch::Error::RedirectScheme { .. }
        | fetch::Error::Protocol { .. }
        | fetch::Error::Internal { .. } => (Verdict::Error, None),
    }
}

/// Whether `verdict` is a new state given the source's latest observation, and since when it
/// has held (the store computes the same `since` when it records the observation).
pub fn continuity(
    previous: Option<&Observation>,
    verdict: Verdict,
    now: Timestamp,
) -> (bool, Timestamp) {
    match Observation::continued_since(previous, Some(verdict)) {
        Some(since) => (false, since),
        None => (true, now),
    }
}

/// Records one result in `tx`: `edited` stores a new version (setting the result's
/// `new_version`), everything else an observation only.
pub fn record(
    tx: &mut store::Transaction<'_>,
    result: &mut CheckResult,
) -> Result<(), store::Error> {
    let verdict = Some((result.verdict, result.reason.clone()));
    let recorded = match (result.staged.take(), result.capture.take()) {
        (Some(staged), _) => Some(tx.record_staged(&staged, None, verdict)?),
        (None, Some(capture)) => Some(tx.record_checked(&capture, None, verdict)?),
        (None, None) => None,
    };
    if let Some(recorded) = recorded {
        if let store::Recorded::Added(v) | store::Recorded::NewVersion(v) = recorded {
            result.new_version = Some(v.version);
        }
        return Ok(());
    }
    tx.observe(Observation {
        source: crate::source::SourceId::from_locator(&result.locator),
        at: result.checked_at,
        since: result.since,
        outcome: Outcome::Unchanged,
        version: result.old_version.unwrap_or(0),
        raw_sha256: result.new_sha256.clone(),
        canonical_sha256: result.new_text_sha256.clone(),
        http_status: result.http_status,
        verdict: Some(result.verdict),
        reason: result.reason.clone(),
        final_url: result.final_url.clone(),
    })
}

/// Every tracked source's job, read from the store's index one shard at a time by a reader
/// thread a couple of shards ahead of the check, so that the list of sources is never all in
/// memory and workers never wait for a shard to be parsed.
pub struct AllSources {
    shards: std::sync::mpsc::IntoIter<Result<Vec<Job>, store::Error>>,
    pending: std::vec::IntoIter<Job>,
}

impl AllSources {
    /// The jobs of every source of the store at `store_path` as of `commit`.
    pub fn new(
        store_path: &std::path::Path,
        commit: git2::Oid,
    ) -> Result<AllSources, store::Error> {
        let store = store::Store::open(store_path)?;
        let names = store.snapshot_at(commit)?.index_shards()?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(2);
        std::thread::spawn(move || {
            for shard in names {
                let jobs = load_shard(&store, commit, &shard);
                let failed = jobs.is_err();
                // A closed channel means the check stopped early: nothing more to read.
                if sender.send(jobs).is_err() || failed {
                    break;
                }
            }
        });
        Ok(AllSources {
            shards: receiver.into_iter(),
            pending: Vec::new().into_iter(),
        })
    }
}

/// The jobs of one index shard.
fn load_shard(
    store: &store::Store,
    commit: git2::Oid,
    shard: &str,
) -> Result<Vec<Job>, store::Error> {
    let snapshot = store.snapshot_at(commit)?;
    let mut states = snapshot.state_shard(shard)?;
    Ok(snapshot
        .index_shard(shard)?
        .into_values()
        .map(|entry| Job {
            previous: states.remove(&entry.source),
            entry,
        })
        .collect())
}

impl Iterator for AllSources {
    type Item = Result<Job, store::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(job) = self.pending.next() {
                return Some(Ok(job));
            }
            match self.shards.next()? {
                Ok(jobs) => self.pending = jobs.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Check results parked until they are recorded. For a whole-store check, on disk: one unnamed
/// temporary file per id shard, so that memory does not grow with the number of sources, and
/// results are recorded and reported shard by shard, in id order (the files vanish when the
/// spool is dropped, or when the process dies). For sources named by the caller, in memory and
/// in the order given.
pub struct Spool {
    shards: std::collections::BTreeMap<String, std::io::BufWriter<std::fs::File>>,
    ordered: Option<Vec<Option<CheckResult>>>,
    len: usize,
}

impl Spool {
    /// An empty spool on disk, drained in id order.
    pub fn new() -> Spool {
        Spool {
            shards: std::collections::BTreeMap::new(),
            ordered: None,
            len: 0,
        }
    }

    /// An empty spool in memory for `count` results, drained in the order of their indexes.
    pub fn in_order(count: usize) -> Spool {
        Spool {
            ordered: Some((0..count).map(|_| None).collect()),
            ..Spool::new()
        }
    }

    /// Parks result number `index` (staged first: its capture is not kept on disk).
    pub fn push(&mut self, index: usize, result: CheckResult) -> Result<(), store::Error> {
        use std::io::Write;
        self.len += 1;
        if let Some(ordered) = &mut self.ordered {
            match ordered.get_mut(index) {
                Some(slot) => *slot = Some(result),
                None => ordered.push(Some(result)),
            }
            return Ok(());
        }
        let shard = result.source.get(..2).unwrap_or("xx").to_owned();
        let file = match self.shards.entry(shard) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(std::io::BufWriter::new(
                tempfile::tempfile().map_err(spool_error)?,
            )),
        };
        serde_json::to_writer(&mut *file, &result)
            .map_err(std::io::Error::from)
            .and_then(|()| file.write_all(b"\n"))
            .map_err(spool_error)
    }

    /// How many results are parked.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The parked results in batches: one per id shard, each sorted by id; or, in order, one.
    pub fn drain(self) -> Box<dyn Iterator<Item = Result<Vec<CheckResult>, store::Error>>> {
        if let Some(ordered) = self.ordered {
            return Box::new(std::iter::once(Ok(ordered.into_iter().flatten().collect())));
        }
        Box::new(self.shards.into_values().map(|file| {
            use std::io::{BufRead, Seek};
            let mut file = file.into_inner().map_err(|e| spool_error(e.into_error()))?;
            file.seek(std::io::SeekFrom::Start(0))
                .map_err(spool_error)?;
            let mut results = Vec::new();
            for line in std::io::BufReader::new(file).lines() {
                let line = line.map_err(spool_error)?;
                let result: CheckResult =
                    serde_json::from_str(&line).map_err(|e| spool_error(e.into()))?;
                results.push(result);
            }
            results.sort_by(|a, b| a.source.cmp(&b.source));
            Ok(results)
        }))
    }
}

impl Default for Spool {
    fn default() -> Spool {
        Spool::new()
    }
}

fn spool_error(source: std::io::Error) -> store::Error {
    store::Error::Io {
        path: std::env::temp_dir().join(SPOOL_NAME),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(at: &str, since: &str, verdict: Option<Verdict>) -> Observation {
        Observation {
            source: crate::source::SourceId::from_locator("file:///a"),
            at: at.parse().expect("time"),
            since: since.parse().expect("time"),
            outcome: Outcome::Unchanged,
            version: 1,
            raw_sha256: None,
            canonical_sha256: None,
            http_status: None,
            verdict,
            reason: None,
            final_url: None,
        }
    }

    #[test]
    fn the_spool_gives_results_back_by_shard_in_id_order_or_in_the_order_given() {
        let at: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let result = |source: &str| CheckResult {
            source: source.to_owned(),
            locator: format!("file:///{source}"),
            title: None,
            verdict: Verdict::Unchanged,
            reason: Some("a \"reason\"\nwith a newline".to_owned()),
            new: false,
            since: at,
            checked_at: at,
            http_status: None,
            final_url: None,
            old_version: Some(3),
            new_version: None,
            old_sha256: Some("ab".repeat(32)),
            new_sha256: None,
            old_text_sha256: None,
            new_text_sha256: None,
            changes: Some(EditStats::default()),
            change_summary: None,
            capture: None,
            staged: None,
        };
        let ids = ["ff01", "0a02", "ff00", "0a01", "1203"];
        let mut spool = Spool::new();
        for (i, id) in ids.iter().enumerate() {
            spool.push(i, result(id)).expect("push");
        }
        assert_eq!(spool.len(), 5);
        let batches: Vec<Vec<String>> = spool
            .drain()
            .map(|b| b.expect("read").into_iter().map(|r| r.source).collect())
            .collect();
        assert_eq!(
            batches,
            [vec!["0a01", "0a02"], vec!["1203"], vec!["ff00", "ff01"]]
        );
        let mut one = Spool::new();
        one.push(0, result("0a01")).expect("push");
        let read = one.drain().next().expect("a batch").expect("read");
        assert_eq!(read[0].reason, result("0a01").reason);
        assert_eq!(read[0].old_sha256, result("0a01").old_sha256);

        let mut ordered = Spool::in_order(ids.len());
        for (i, id) in ids.iter().enumerate().rev() {
            ordered.push(i, result(id)).expect("push");
        }
        let batches: Vec<Vec<String>> = ordered
            .drain()
            .map(|b| b.expect("read").into_iter().map(|r| r.source).collect())
            .collect();
        assert_eq!(batches, [ids.to_vec()]);
    }

    #[test]
    fn states_are_reported_on_change() {
        let now: Timestamp = "2026-01-10T00:00:00Z".parse().expect("time");
        let captured = seen("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", None);
        let cosmetic = seen(
            "2026-01-02T00:00:00Z",
            "2026-01-01T00:00:00Z",
            Some(Verdict::Cosmetic),
        );
        let retracted = seen(
            "2026-01-04T00:00:00Z",
            "2026-01-03T00:00:00Z",
            Some(Verdict::Retracted),
        );
        let (new, since) = continuity(Some(&retracted), Verdict::Retracted, now);
        assert!(!new);
        assert_eq!(since.to_string(), "2026-01-03T00:00:00Z");
        let (new, since) = continuity(Some(&cosmetic), Verdict::Retracted, now);
        assert!(new);
        assert_eq!(since, now);
        let (new, since) = continuity(Some(&cosmetic), Verdict::Unchanged, now);
        assert!(!new);
        assert_eq!(since.to_string(), "2026-01-01T00:00:00Z");
        assert!(!continuity(Some(&captured), Verdict::Cosmetic, now).0);
        assert!(continuity(None, Verdict::Unchanged, now).0);
        assert!(continuity(Some(&captured), Verdict::Edited, now).0);
        assert!(continuity(Some(&retracted), Verdict::Unchanged, now).0);
    }
}
