//! `add`: capture sources for the first time (or again) and store them.

use std::path::Path;

use crate::capture::{self, Capture};
use crate::extract;
use crate::fetch::{self, HttpClient};
use crate::source::Locator;
use crate::store::{Recorded, Store};

use super::{Error, Locking, Progress};

/// Sources stored per commit by one `add`.
const BATCH_SOURCES: usize = 1000;
/// Captured bytes held before they are stored.
const BATCH_BYTES: usize = 64 * 1024 * 1024;

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
    /// What storing it did.
    pub recorded: Recorded,
    /// Its locator, canonical.
    pub locator: String,
}

/// What an `add` stored, in the inputs' order.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs stored.
    pub added: Vec<Added>,
    /// How many inputs failed (each was handed to the caller as it failed).
    pub failed: usize,
}

/// Captures every input (paths or URLs, resolved against `cwd`) and stores them, in commits of
/// up to 1,000 sources or 64 MiB. `failed` is given each input that fails, by its position, as
/// it fails (the others go on); an error of the store ends the run, keeping the commits
/// already made.
///
/// Fetching happens before the lock is taken, so a slow server never holds up other runs;
/// capture runs on several threads (extraction is most of the work); a panic while reading one
/// input costs that input, not the batch.
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
    let mut outcome = Outcome::default();
    let mut captures = Vec::new();
    let mut pending_bytes = 0usize;
    let mut fatal = None;
    progress.start(inputs.len(), "capturing");
    let hosts = fetch::HostLimit::new(options.per_host);
    let workers = options.jobs.clamp(1, inputs.len().max(1));
    let reader = Reader {
        cwd,
        client: &client,
        hosts: &hosts,
        rules: &rules,
        options,
    };
    // Captures hold whole bodies: no more wait for the calling thread than there are workers.
    crate::pool::run(
        workers,
        workers,
        inputs.iter(),
        |next, send| {
            while let Some((i, input)) = next() {
                // One input's bytes tripping a bug cost that input, not the batch.
                let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    reader.capture(input)
                }))
                .unwrap_or_else(|panic| {
                    Err(Error::Panicked(
                        crate::check::panic_message(panic.as_ref()).to_owned(),
                    ))
                });
                if !send(i, attempt) {
                    break;
                }
            }
        },
        &mut |i, attempt: Result<(Capture, Vec<String>), Error>| {
            progress.advance(&inputs[i]);
            match attempt {
                Ok((c, learned)) => {
                    pending_bytes += c.raw.len() + c.extracted.text.len();
                    captures.push((i, c, learned));
                }
                Err(e) => {
                    outcome.failed += 1;
                    failed(i, e);
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

/// What the capturing threads share.
struct Reader<'a> {
    cwd: &'a Path,
    client: &'a HttpClient,
    hosts: &'a fetch::HostLimit,
    rules: &'a extract::Rules,
    options: &'a Options,
}

impl Reader<'_> {
    /// Captures one input (and learns its noise), within the per-host limit.
    fn capture(&self, input: &str) -> Result<(Capture, Vec<String>), Error> {
        let locator = Locator::parse(input, self.cwd)?;
        let max_bytes = self.options.fetch.max_body;
        let capture = capture::capture_within(
            &locator,
            self.client,
            max_bytes,
            self.rules,
            Some(self.hosts),
        )?;
        let learned = if self.options.learn {
            self.learn(&capture)
        } else {
            Vec::new()
        };
        Ok((capture, learned))
    }

    /// Loads a web page a second time and learns the text that changed between the two loads
    /// ([`extract::learn_noise`]), so that `check` does not report it as an edit. A failed
    /// second load learns nothing; the first capture stands.
    fn learn(&self, first: &Capture) -> Vec<String> {
        if !matches!(first.locator, Locator::Http(_)) {
            return Vec::new();
        }
        let max_bytes = self.options.fetch.max_body;
        match capture::capture_within(
            &first.locator,
            self.client,
            max_bytes,
            self.rules,
            Some(self.hosts),
        ) {
            Ok(second) if second.raw != first.raw => {
                extract::learn_noise(&first.extracted.text, &second.extracted.text)
            }
            _ => Vec::new(),
        }
    }
}

/// Stores `captures` in one commit and empties it, adding each to `outcome`.
fn store_batch(
    store: &Store,
    options: &Options,
    progress: &dyn Progress,
    captures: &mut Vec<(usize, Capture, Vec<String>)>,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    if captures.is_empty() {
        return Ok(());
    }
    let lock = options.locking.lock(store, progress)?;
    let mut tx = store.transaction(&lock)?;
    let rules_given = options.selector.is_some() || !options.ignore.is_empty();
    for (i, c, learned) in captures.iter() {
        let recorded = tx.record(c, options.title.as_deref())?;
        if rules_given || !learned.is_empty() {
            tx.update_source(&c.locator.id(), |source| {
                if rules_given {
                    source.selector.clone_from(&options.selector);
                    source.ignore.clone_from(&options.ignore);
                }
                for pattern in learned {
                    if !source.learned_ignore.contains(pattern) {
                        source.learned_ignore.push(pattern.clone());
                    }
                }
            })?;
        }
        outcome.added.push(Added {
            index: *i,
            recorded,
            locator: c.locator.canonical(),
        });
    }
    let added = captures.len();
    tx.commit(&format!(
        "add: capture {added} source{}",
        if added == 1 { "" } else { "s" }
    ))?;
    captures.clear();
    Ok(())
}
