//! Running the checks: jobs drawn from the index, fetched and judged on worker threads.

use crate::capture::{self, Origin};
use crate::fetch::{self, HttpClient, Validators};
use crate::source::Locator;
use crate::store::record::IndexEntry;
use crate::store::{self, Snapshot};

use super::*;

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
    // Results carry no bodies (workers stage captures), so the queue to the calling thread can
    // be long enough that workers never wait for it.
    crate::pool::run(
        workers,
        QUEUE.max(workers),
        jobs,
        |next, send| {
            // Each worker reads through its own handle and snapshot of the store.
            let store = match store::Store::open(store_path) {
                Ok(store) => store,
                Err(e) => {
                    send(usize::MAX, Err(e));
                    return;
                }
            };
            let snapshot = match store.snapshot_at(commit) {
                Ok(snapshot) => snapshot,
                Err(e) => {
                    send(usize::MAX, Err(e));
                    return;
                }
            };
            while let Some((i, job)) = next() {
                let judged = job
                    .and_then(|job| check_one(&snapshot, &job, client, max_bytes, &hosts))
                    .and_then(|mut result| result.stage(&store).map(|()| result));
                if !send(i, judged) {
                    break;
                }
            }
        },
        &mut |i, judged| {
            on_result(i, judged);
            true
        },
    );
}

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
