//! `add`: capture sources for the first time, or again, judged as `check` judges them, and
//! store them.

use std::path::Path;

use crate::capture::{self, Capture};
use crate::check::{self, CheckResult};
use crate::extract;
use crate::fetch::{self, HttpClient};
use crate::source::{Locator, SourceId};
use crate::store::record::{IndexEntry, SourceRecord};
use crate::store::{self, Recorded, Snapshot, Staged, Store};

use super::{Error, Locking, Progress};

/// Sources stored per commit by one `add`.
const BATCH_SOURCES: usize = 1000;
/// Captured bytes (written as objects already) per commit: a run of large files commits as
/// it goes rather than all at its end.
const BATCH_BYTES: u64 = 64 * 1024 * 1024;
/// Captures, each staged already (its bytes written as objects and let go), that wait for the
/// calling thread: enough that the workers go on capturing while a batch is committed.
const QUEUE: usize = 256;

/// How sources are added.
#[derive(Debug, Clone)]
pub struct Options {
    /// The HTTP client's limits.
    pub fetch: fetch::Options,
    /// Sources captured at once.
    pub jobs: usize,
    /// Requests in flight to any one host at once.
    pub per_host: usize,
    /// A title to record (for a single source).
    pub title: Option<String>,
    /// A CSS selector for the article's content, recorded with each source.
    pub selector: Option<String>,
    /// Patterns of text to ignore when comparing versions, recorded with each source.
    pub ignore: Vec<String>,
    /// Load web pages a second time to learn the text that changes on every load.
    pub learn: bool,
    /// How the writer lock is taken for each batch.
    pub locking: Locking,
}

/// One input that was stored.
#[derive(Debug)]
pub struct Added {
    /// Its position among the inputs.
    pub index: usize,
    /// Its locator, canonical.
    pub locator: String,
    /// What storing it did.
    pub stored: Stored,
}

/// What storing one input did.
#[derive(Debug)]
pub enum Stored {
    /// The source was not tracked: its first capture was recorded ([`Recorded::Added`]; another
    /// run that added the same source meanwhile makes it a [`Recorded::NewVersion`] or a
    /// [`Recorded::Unchanged`]).
    Captured(Recorded),
    /// The source was tracked: the bytes read now were judged against its latest version as
    /// `check` judges them, and recorded as `check` records them (a new version only for an
    /// edit, possibly of a moved page; an observation with the verdict otherwise).
    Judged {
        /// The judgement, recorded (`new_version` is set when a version was stored).
        result: CheckResult,
        /// How many bytes were read.
        bytes: u64,
    },
}

/// What an `add` stored, in the inputs' order.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs stored (an input naming a source that an earlier input named is not read again,
    /// and not listed).
    pub added: Vec<Added>,
    /// How many inputs failed (each was handed to the caller as it failed).
    pub failed: usize,
}

/// Captures every input (paths or URLs, resolved against `cwd`) and stores them, in commits of
/// up to 1,000 sources or 64 MiB. `failed` is given each input that fails, by its position, as
/// it fails (the others go on); an error of the store ends the run, keeping the commits
/// already made.
///
/// A source not yet tracked is stored as its first version (with the noise learned from a
/// second load of a web page). A tracked source is judged as `check` judges it, against its
/// latest version as of the start of the run and under the rules it will have (its own, or
/// those given, plus any noise learned now), and recorded as `check` records it: a new version
/// only for an edit. A source named by several inputs is read once, for the first.
///
/// Fetching happens before the lock is taken, so a slow server never holds up other runs;
/// capture runs on several threads (extraction is most of the work), which also write what they
/// captured as objects, so the calling thread only records and commits; a panic while reading
/// one input costs that input, not the batch.
pub fn add(
    store: &Store,
    inputs: &[String],
    cwd: &Path,
    options: &Options,
    progress: &dyn Progress,
    failed: &mut dyn FnMut(usize, Error),
) -> Result<Outcome, Error> {
    let rules = extract::Rules::new(options.selector.as_deref(), &options.ignore)?;
    let client = HttpClient::new(fetch::Options {
        idle_per_host: options.per_host.min(options.jobs),
        ..options.fetch.clone()
    });
    let commit = store.snapshot()?.commit_id();
    let mut outcome = Outcome::default();
    // Each source is read once, for the first input that names it: a second read would be
    // judged against the version the first one may just have replaced.
    let mut seen = std::collections::HashSet::new();
    let mut jobs = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        match Locator::parse(input, cwd) {
            Ok(locator) => {
                if seen.insert(locator.id()) {
                    jobs.push((i, locator));
                }
            }
            Err(e) => {
                outcome.failed += 1;
                failed(i, e.into());
            }
        }
    }
    drop(seen);
    let mut captures = Vec::new();
    let mut pending_bytes = 0u64;
    let mut fatal = None;
    progress.start(jobs.len(), "capturing");
    let hosts = fetch::HostLimit::new(options.per_host);
    let workers = options.jobs.clamp(1, jobs.len().max(1));
    let store_path = store.path();
    let reader = Reader {
        client: &client,
        hosts: &hosts,
        rules: &rules,
        options,
    };
    crate::pool::run(
        workers,
        QUEUE,
        jobs.iter(),
        |next, send| {
            // Each worker reads the store through its own handle (libgit2 handles are not
            // shared between threads), at the commit the run started from.
            let handle = match Store::open(store_path) {
                Ok(handle) => handle,
                Err(e) => {
                    send(usize::MAX, Err(e.into()));
                    return;
                }
            };
            let snapshot = match handle.snapshot_at(commit) {
                Ok(snapshot) => snapshot,
                Err(e) => {
                    send(usize::MAX, Err(e.into()));
                    return;
                }
            };
            while let Some((n, (_, locator))) = next() {
                // One input's bytes tripping a bug cost that input, not the batch.
                let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    reader.read(&handle, &snapshot, locator)
                }))
                .unwrap_or_else(|panic| {
                    Err(Error::Panicked(
                        crate::check::panic_message(panic.as_ref()).to_owned(),
                    ))
                });
                if !send(n, attempt) {
                    break;
                }
            }
        },
        &mut |n, attempt: Result<Pending, Error>| {
            let Some((i, _)) = jobs.get(n) else {
                // A worker could not read the store at all.
                if let Err(e) = attempt {
                    fatal = Some(e);
                }
                return false;
            };
            progress.advance(&inputs[*i]);
            match attempt {
                Ok(pending) => {
                    match &pending {
                        Pending::New {
                            staged,
                            bytes,
                            thin,
                            ..
                        } => {
                            pending_bytes += bytes;
                            if let Some(words) = thin {
                                progress.note(&format!(
                                    "{}: only {words} words of article text were found, so its \
                                     edits may go unseen; name the article with `verbatim \
                                     configure {} --selector CSS`",
                                    staged.locator(),
                                    SourceId::from_locator(staged.locator())
                                ));
                            }
                        }
                        Pending::Judged { bytes, .. } => pending_bytes += bytes,
                    }
                    captures.push((*i, pending));
                }
                Err(e) => {
                    outcome.failed += 1;
                    failed(*i, e);
                }
            }
            if captures.len() >= BATCH_SOURCES || pending_bytes >= BATCH_BYTES {
                if let Err(e) = store_batch(store, options, progress, &mut captures, &mut outcome) {
                    // Stopping the run stops the workers at their next capture.
                    fatal = Some(e);
                    return false;
                }
                pending_bytes = 0;
            }
            true
        },
    );
    progress.finish();
    if let Some(e) = fatal {
        return Err(e);
    }
    store_batch(store, options, progress, &mut captures, &mut outcome)?;
    // In the order given, whatever order the captures finished in.
    outcome.added.sort_by_key(|a| a.index);
    Ok(outcome)
}

/// One input read and waiting to be stored.
enum Pending {
    /// The first capture of a source not tracked yet (its objects written), with the noise
    /// learned from a second load, the bytes it stored, and the words of its article when they
    /// are too few ([`thin_article`]).
    New {
        staged: Staged,
        learned: Vec<String>,
        bytes: u64,
        thin: Option<usize>,
    },
    /// A tracked source, judged (its new version, if any, already staged in the store's
    /// objects), with the number of bytes read and the noise patterns newly learned.
    Judged {
        result: CheckResult,
        bytes: u64,
        learned: Vec<String>,
    },
}

/// What the capturing threads share.
struct Reader<'a> {
    client: &'a HttpClient,
    hosts: &'a fetch::HostLimit,
    rules: &'a extract::Rules,
    options: &'a Options,
}

impl Reader<'_> {
    /// Reads one input: the first capture of a source the store does not track, or the
    /// judgement of one it does.
    fn read(
        &self,
        store: &Store,
        snapshot: &Snapshot<'_>,
        locator: &Locator,
    ) -> Result<Pending, Error> {
        match snapshot.index_entry(&locator.id())? {
            None => self.first_capture(store, locator),
            Some(entry) => self.judge(store, snapshot, locator, entry),
        }
    }

    /// Captures a source for the first time (and learns its noise), within the per-host limit,
    /// and writes its objects.
    fn first_capture(&self, store: &Store, locator: &Locator) -> Result<Pending, Error> {
        let capture = capture::capture_within(
            locator,
            self.client,
            self.options.fetch.max_body,
            self.rules,
            Some(self.hosts),
        )?;
        let learned = match self.reload(locator, &capture.raw) {
            Some(second) => learn(locator, &capture.extracted.text, &second, self.rules),
            None => Vec::new(),
        };
        let bytes = (capture.raw.len() + capture.extracted.text.len()) as u64;
        let thin = thin_article(&capture);
        Ok(Pending::New {
            staged: store.stage(capture)?,
            learned,
            bytes,
            thin,
        })
    }

    /// Reads a tracked source again and judges it as `check` does, under the rules it will
    /// have once this add is recorded; an edit's new version is staged in the store's objects.
    fn judge(
        &self,
        store: &Store,
        snapshot: &Snapshot<'_>,
        locator: &Locator,
        entry: IndexEntry,
    ) -> Result<Pending, Error> {
        let id = entry.source.clone();
        let mut source = snapshot
            .source(&id)?
            .ok_or_else(|| store::Error::InvalidSource {
                id: id.to_string(),
                detail: "it has no source.json".to_owned(),
            })?;
        adopt_rules(&mut source, self.options, &[]);
        let mut rules = check::rules_of(&source)?;
        let first = capture::fetch_within(
            locator,
            self.client,
            self.options.fetch.max_body,
            Some(self.hosts),
        )?;
        let mut learned = Vec::new();
        if let Some(second) = self.reload(locator, &first.raw) {
            let text = capture::text_of(locator, &first.raw, &first.origin, &rules).text;
            learned = learn(locator, &text, &second, &rules);
            learned.retain(|pattern| !source.learned_ignore.contains(pattern));
            if !learned.is_empty() {
                adopt_rules(&mut source, self.options, &learned);
                rules = check::rules_of(&source)?;
            }
        }
        let previous = snapshot.state_shard(&id.as_str()[..2])?.remove(&id);
        let job = check::Job { entry, previous };
        let bytes = first.raw.len() as u64;
        let fetched = check::Fetched::Body {
            at: first.at,
            raw: first.raw,
            origin: first.origin,
        };
        let mut result = check::judge_under(snapshot, &job, locator, fetched, Some(&rules))?;
        result.stage(store)?;
        Ok(Pending::Judged {
            result,
            bytes,
            learned,
        })
    }

    /// Loads a web page a second time, when noise is to be learned: the second load, if its
    /// bytes differ from the first's (`first`). A failed second load gives nothing; the first
    /// stands.
    fn reload(&self, locator: &Locator, first: &[u8]) -> Option<capture::Body> {
        if !self.options.learn || !matches!(locator, Locator::Http(_)) {
            return None;
        }
        capture::fetch_within(
            locator,
            self.client,
            self.options.fetch.max_body,
            Some(self.hosts),
        )
        .ok()
        .filter(|second| second.raw != first)
    }
}

/// The text that changed between two loads of a web page (the first's text under `rules`),
/// as ignore patterns ([`extract::learn_noise`]), so that `check` does not report it as an
/// edit.
fn learn(
    locator: &Locator,
    first: &str,
    second: &capture::Body,
    rules: &extract::Rules,
) -> Vec<String> {
    let second = capture::text_of(locator, &second.raw, &second.origin, rules);
    extract::learn_noise(first, &second.text)
}

/// Gives `source` the rules an add records for it: the selector and ignore patterns given (if
/// any were) in place of its own, and the `learned` patterns it does not have yet.
fn adopt_rules(source: &mut SourceRecord, options: &Options, learned: &[String]) {
    if options.selector.is_some() || !options.ignore.is_empty() {
        source.selector.clone_from(&options.selector);
        source.ignore.clone_from(&options.ignore);
    }
    for pattern in learned {
        if !source.learned_ignore.contains(pattern) {
            source.learned_ignore.push(pattern.clone());
        }
    }
}

/// Fewest words of text, besides the headline and the byline, a web page's article is
/// expected to hold.
const THIN_ARTICLE: usize = 20;

/// The words of a web page's stored text besides its headline and byline, when they are fewer
/// than [`THIN_ARTICLE`]: the extractor found no article (an empty `<article>`, a page drawn by
/// scripts), and a check of it would see little.
fn thin_article(capture: &Capture) -> Option<usize> {
    let extracted = &capture.extracted;
    let html =
        extracted.media_type == "text/html" || extracted.media_type == "application/xhtml+xml";
    if !html || extracted.charset.is_none() {
        return None;
    }
    let title = extracted.title.as_deref().unwrap_or_default().trim();
    let words: usize = extracted
        .text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| *p != title && !p.starts_with("By "))
        .map(|p| p.split_whitespace().count())
        .sum();
    (words < THIN_ARTICLE).then_some(words)
}

/// Stores `captures` in one commit and empties it, adding each to `outcome`.
fn store_batch(
    store: &Store,
    options: &Options,
    progress: &dyn Progress,
    captures: &mut Vec<(usize, Pending)>,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    if captures.is_empty() {
        return Ok(());
    }
    let lock = options.locking.lock(store, progress)?;
    let mut tx = store.transaction(&lock)?;
    let rules_given = options.selector.is_some() || !options.ignore.is_empty();
    let added = captures.len();
    for (index, pending) in captures.drain(..) {
        let (locator, learned, stored) = match pending {
            Pending::New {
                staged, learned, ..
            } => {
                let recorded = tx.record_staged(&staged, options.title.as_deref(), None)?;
                (
                    staged.locator().to_owned(),
                    learned,
                    Stored::Captured(recorded),
                )
            }
            Pending::Judged {
                mut result,
                bytes,
                learned,
            } => {
                // Exactly as `check` records its results.
                check::record(&mut tx, &mut result)?;
                (
                    result.locator.clone(),
                    learned,
                    Stored::Judged { result, bytes },
                )
            }
        };
        if rules_given || !learned.is_empty() {
            tx.update_source(&SourceId::from_locator(&locator), |source| {
                adopt_rules(source, options, &learned);
            })?;
        }
        outcome.added.push(Added {
            index,
            locator,
            stored,
        });
    }
    tx.commit(&format!(
        "add: capture {added} source{}",
        if added == 1 { "" } else { "s" }
    ))?;
    Ok(())
}
