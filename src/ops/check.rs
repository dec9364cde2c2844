//! `check`: re-fetch sources, judge what happened to each, record it in one commit.

use std::path::Path;

use crate::check::{self, CheckResult, Concurrency, Job};
use crate::classify::Verdict;
use crate::fetch::{self, HttpClient};
use crate::source::SourceId;
use crate::store::{self, Snapshot, Store};

use super::{Error, Locking, Progress};

/// How a check runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The HTTP client's limits (timeouts, body size, retries, reach).
    pub fetch: fetch::Options,
    /// Workers in all, and requests in flight to one host.
    pub concurrency: Concurrency,
    /// How the writer lock is taken to record the results.
    pub locking: Locking,
}

/// What a check did, beyond the results handed out one by one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Sources checked.
    pub checked: usize,
    /// Sources from which some answer came: any verdict but `unreachable` without an HTTP
    /// status. None of many reached says the network (or the machine) is down, not the sources.
    pub reached: usize,
    /// The commit that recorded the check, if anything was recorded.
    pub commit: Option<git2::Oid>,
}

/// Checks the sources `queries` name (ids, id prefixes, paths or URLs, resolved against `cwd`;
/// none: every source of the store), records what each check found in one commit, and hands
/// each result, recorded, to `each`: in the order named, or in id order for the whole store.
///
/// Results of a whole-store check wait on disk, not in memory, until they are recorded.
pub fn check(
    store: &Store,
    queries: &[String],
    cwd: &Path,
    options: &Options,
    progress: &dyn Progress,
    each: &mut dyn FnMut(&CheckResult) -> std::io::Result<()>,
) -> Result<Outcome, Error> {
    let snapshot = store.snapshot()?;
    let commit = snapshot.commit_id();
    // The index has what checking an unchanged source needs; workers read more only for the
    // sources whose bytes changed. All sources are drawn from it shard by shard, never listed
    // in memory.
    let (jobs, count): (Box<dyn Iterator<Item = _> + Send>, usize) = if queries.is_empty() {
        (
            Box::new(check::AllSources::new(store.path(), commit)?),
            snapshot.source_count()?,
        )
    } else {
        let mut ids = Vec::new();
        for query in queries {
            ids.push(snapshot.resolve(query, cwd)?.id);
        }
        let jobs = jobs_for(&snapshot, &ids)?;
        let count = jobs.len();
        (Box::new(jobs.into_iter()), count)
    };
    drop(snapshot);
    let client = HttpClient::new(options.fetch.clone());
    let run = Run {
        commit,
        client: &client,
        max_bytes: options.fetch.max_body,
        concurrency: options.concurrency,
        in_order: !queries.is_empty(),
        locking: options.locking,
    };
    let mut outcome = Outcome::default();
    outcome.commit = check_and_record(store, jobs, count, &run, progress, &mut |result| {
        outcome.checked += 1;
        // Only `unreachable` with no answer at all (a timeout, a refused or failed
        // connection) says nothing was reached; a 5xx, a body over the limit or malformed HTTP
        // came from a server.
        outcome.reached +=
            usize::from(result.verdict != Verdict::Unreachable || result.http_status.is_some());
        each(result)
    })?;
    Ok(outcome)
}

/// Check jobs for the sources `ids`, in their order; a source named twice is checked once.
pub(crate) fn jobs_for(
    snapshot: &Snapshot<'_>,
    ids: &[SourceId],
) -> Result<Vec<Result<Job, store::Error>>, store::Error> {
    let mut seen = std::collections::HashSet::new();
    let mut jobs = Vec::new();
    for id in ids {
        if seen.insert(id.clone())
            && let Some(entry) = snapshot.index_entry(id)?
        {
            let previous = snapshot.state_shard(&id.as_str()[..2])?.remove(id);
            jobs.push(Ok(Job { entry, previous }));
        }
    }
    Ok(jobs)
}

/// How a check runs: from which commit, with which client and limits.
pub(crate) struct Run<'a> {
    pub commit: git2::Oid,
    pub client: &'a HttpClient,
    pub max_bytes: u64,
    pub concurrency: Concurrency,
    /// Results in the jobs' order (sources named), rather than in id order (the whole store).
    pub in_order: bool,
    pub locking: Locking,
}

/// Checks the sources `jobs` yields (`count` of them), records what each check found in one
/// commit, and gives each result, recorded, to `each`. Returns the commit, if one was made.
pub(crate) fn check_and_record(
    store: &Store,
    jobs: Box<dyn Iterator<Item = Result<Job, store::Error>> + Send>,
    count: usize,
    run: &Run<'_>,
    progress: &dyn Progress,
    each: &mut dyn FnMut(&CheckResult) -> std::io::Result<()>,
) -> Result<Option<git2::Oid>, Error> {
    progress.start(count, "checking");
    // No more workers than sources: a thread each for work that does not exist costs memory.
    let concurrency = Concurrency {
        jobs: run.concurrency.jobs.clamp(1, count.max(1)),
        ..run.concurrency
    };
    // Results of a whole-store check wait on disk, not in memory, until they are recorded, and
    // come back in id order; sources named by the caller are reported in their order.
    let mut spool = if run.in_order {
        check::Spool::in_order(count)
    } else {
        check::Spool::new()
    };
    // A store error from a worker, or an error of the spool (verbatim's temporary files).
    let mut failure: Option<Error> = None;
    check::check_each(
        store.path(),
        run.commit,
        jobs,
        run.client,
        run.max_bytes,
        concurrency,
        &mut |i, judged| {
            let parked = judged.map_err(Error::from).and_then(|result| {
                progress.advance(&result.locator);
                spool.push(i, result).map_err(Error::Temporary)
            });
            if let Err(e) = parked {
                failure.get_or_insert(e);
            }
        },
    );
    progress.finish();
    if let Some(e) = failure {
        return Err(e);
    }
    if spool.is_empty() {
        return Ok(None);
    }
    let lock = run.locking.lock(store, progress)?;
    let mut tx = store.transaction(&lock)?;
    let (checked, mut edited) = (spool.len(), 0);
    for shard in spool.drain() {
        for mut result in shard.map_err(Error::Temporary)? {
            check::record(&mut tx, &mut result)?;
            edited += usize::from(result.new_version.is_some());
            each(&result).map_err(Error::Caller)?;
        }
        // Recorded observations go to the object database shard by shard, not memory.
        tx.flush_observations()?;
    }
    Ok(tx.commit(&format!("check: {checked} sources, {edited} edited"))?)
}
