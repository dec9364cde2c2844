//! `verbatim add`.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use verbatim::fetch::{self, HttpClient};
use verbatim::source::Locator;
use verbatim::store::Recorded;
use verbatim::{capture, extract};

use super::error::CommandError;
use super::{Context, exit, output};

/// Start tracking sources and capture their first version now
///
/// Each SOURCE is a local path, a file:// URL or an http(s):// URL. The exact bytes are stored
/// untouched beside their extracted text. A source already tracked gets a new version only if
/// its bytes changed. Sources that fail are reported and skipped; the others are stored, in
/// commits of up to 1,000 sources (an interrupted add keeps the commits it finished).
///
/// Web pages are loaded twice: paragraphs that differ between the two loads only in their
/// numbers (a "last updated" time, a share count) are learned as text to ignore when comparing
/// (`--no-learn` skips this; `configure --clear-ignore` forgets them).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths or URLs to add
    #[arg(value_name = "SOURCE", required_unless_present = "from")]
    sources: Vec<String>,
    /// Read more sources from FILE, one per line ('-' for stdin; blank lines and # comments skipped)
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// Title to record for the source (only with a single source)
    #[arg(long, value_name = "T")]
    title: Option<String>,
    /// CSS selector for the article's content, for pages the general extractor gets wrong
    #[arg(long, value_name = "CSS")]
    selector: Option<String>,
    /// Regular expression for text to ignore when comparing versions (repeatable)
    #[arg(long, value_name = "REGEX")]
    ignore: Vec<String>,
    /// Do not load web pages a second time to learn which text changes on every load
    #[arg(long)]
    no_learn: bool,
    /// Further attempts after a transient failure (connection error, timeout, 429, 5xx)
    #[arg(long, default_value_t = fetch::Options::default().retries, value_name = "N", value_parser = super::limits::retries)]
    retries: u32,
    /// Largest file or response body accepted, in bytes
    #[arg(long, default_value_t = fetch::Options::default().max_body, value_name = "N", value_parser = super::limits::bytes)]
    max_bytes: u64,
    /// Seconds allowed for each HTTP fetch, body included
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = super::limits::whole_seconds)]
    timeout: u64,
    /// Most redirects followed per URL
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = super::limits::redirects)]
    max_redirects: u32,
    /// Sources captured at once
    #[arg(long, short, default_value_t = 4, value_name = "N", value_parser = super::limits::workers)]
    jobs: usize,
    /// Requests in flight to any one host at once
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = super::limits::workers)]
    per_host: usize,
    /// Let URLs from content, and redirects from public sites, reach internal addresses
    /// (loopback, private networks, link-local)
    #[arg(long)]
    allow_private: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let mut inputs = args.sources.clone();
    if let Some(file) = &args.from {
        inputs.extend(read_list(file)?);
    }
    if args.title.is_some() && inputs.len() != 1 {
        return Err(
            CommandError::usage("--title names one source, but several were given")
                .hint("add titled sources one at a time"),
        );
    }
    let rules = extract::Rules::new(args.selector.as_deref(), &args.ignore)
        .map_err(|e| CommandError::usage(e.to_string()))?;
    for input in inputs
        .iter()
        .filter(|i| verbatim::source::has_credentials(i))
    {
        ctx.ui.note(&format!(
            "{}: the user name and password are removed; they are never sent, stored or shown",
            verbatim::source::redact(input)
        ));
    }
    let store = ctx.open_store()?;
    let client = HttpClient::new(fetch::Options {
        total_timeout: std::time::Duration::from_secs(args.timeout),
        max_body: args.max_bytes,
        retries: args.retries,
        max_redirects: args.max_redirects,
        idle_per_host: args.per_host.min(args.jobs),
        allow_private: args.allow_private,
        ..fetch::Options::default()
    });

    // Fetch before taking the lock, so a slow server never holds up other runs; capture on
    // several threads (extraction is most of the work); store in batches, so memory stays
    // bounded however many sources are added at once.
    let mut failures: Vec<(usize, CommandError)> = Vec::new();
    let mut captures = Vec::new();
    let mut pending_bytes = 0usize;
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut fatal = None;
    let bar = ctx.ui.progress(inputs.len(), "capturing");
    let next = AtomicUsize::new(0);
    let hosts = fetch::HostLimit::new(args.per_host);
    let workers = args.jobs.clamp(1, inputs.len().max(1));
    let (sender, receiver) = std::sync::mpsc::sync_channel(workers);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, hosts, inputs, client, rules, args) =
                (&next, &hosts, &inputs, &client, &rules, &args);
            let cwd = ctx.cwd.as_path();
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    // One input's bytes tripping a bug cost that input, not the batch.
                    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        capture_one(input, cwd, client, hosts, rules, args)
                    }))
                    .unwrap_or_else(|panic| {
                        Err(CommandError::new(
                            exit::INTERNAL,
                            format!(
                                "verbatim failed while reading it ({}); please report it",
                                verbatim::check::panic_message(panic.as_ref())
                            ),
                        ))
                    });
                    if sender.send((i, attempt)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (i, attempt) in receiver {
            bar.set_message(inputs[i].clone());
            bar.inc(1);
            match attempt {
                Ok((c, learned)) => {
                    pending_bytes += c.raw.len() + c.extracted.text.len();
                    captures.push((i, c, learned));
                }
                Err(e) => {
                    let e = e.on(&format!(
                        "cannot add {}",
                        verbatim::source::redact(&inputs[i])
                    ));
                    if inputs.len() > 1 {
                        bar.suspend(|| ctx.ui.warn(&e));
                    }
                    failures.push((i, e));
                }
            }
            if captures.len() >= BATCH_SOURCES || pending_bytes >= BATCH_BYTES {
                if let Err(e) = store_batch(ctx, &store, &args, &mut captures, &mut lines) {
                    // Dropping the receiver stops the workers at their next capture.
                    fatal = Some(e);
                    break;
                }
                pending_bytes = 0;
            }
        }
    });
    bar.finish_and_clear();
    if let Some(e) = fatal {
        return Err(e);
    }
    store_batch(ctx, &store, &args, &mut captures, &mut lines)?;
    // Reported in the order given, whatever order the captures finished in.
    lines.sort_by_key(|(i, _)| *i);
    failures.sort_by_key(|(i, _)| *i);
    let lines: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    let mut failures: Vec<CommandError> = failures.into_iter().map(|(_, e)| e).collect();
    let mut out = ctx.ui.human_stdout();
    let written = lines
        .iter()
        .try_for_each(|l| writeln!(out, "{l}"))
        .and_then(|()| out.flush());
    output(written)?;
    match failures.first() {
        None => Ok(exit::SUCCESS),
        Some(_) if inputs.len() == 1 => Err(failures.remove(0)),
        Some(first) => {
            ctx.ui.note(&format!(
                "{} of {} sources could not be added",
                failures.len(),
                inputs.len()
            ));
            Ok(first.code)
        }
    }
}

/// Sources stored per commit by one `add`.
const BATCH_SOURCES: usize = 1000;
/// Captured bytes held before they are stored.
const BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Captures one input (and learns its noise), within the per-host limit.
fn capture_one(
    input: &str,
    cwd: &std::path::Path,
    client: &HttpClient,
    hosts: &fetch::HostLimit,
    rules: &extract::Rules,
    args: &Args,
) -> Result<(verbatim::capture::Capture, Vec<String>), CommandError> {
    let locator = Locator::parse(input, cwd)?;
    let capture = capture::capture_within(&locator, client, args.max_bytes, rules, Some(hosts))?;
    let learned = if args.no_learn {
        Vec::new()
    } else {
        learn(&capture, client, hosts, args.max_bytes, rules)
    };
    Ok((capture, learned))
}

/// Loads a web page a second time and learns the text that changed between the two loads
/// ([`extract::learn_noise`]), so that `check` does not report it as an edit. A failed second
/// load learns nothing; the first capture stands.
fn learn(
    first: &verbatim::capture::Capture,
    client: &HttpClient,
    hosts: &fetch::HostLimit,
    max_bytes: u64,
    rules: &extract::Rules,
) -> Vec<String> {
    if !matches!(first.locator, Locator::Http(_)) {
        return Vec::new();
    }
    match capture::capture_within(&first.locator, client, max_bytes, rules, Some(hosts)) {
        Ok(second) if second.raw != first.raw => {
            extract::learn_noise(&first.extracted.text, &second.extracted.text)
        }
        _ => Vec::new(),
    }
}

/// Stores `captures` in one commit and empties it, adding a report line per source to `lines`.
fn store_batch(
    ctx: &Context,
    store: &verbatim::store::Store,
    args: &Args,
    captures: &mut Vec<(usize, verbatim::capture::Capture, Vec<String>)>,
    lines: &mut Vec<(usize, String)>,
) -> Result<(), CommandError> {
    if captures.is_empty() {
        return Ok(());
    }
    let lock = ctx.lock(store)?;
    let mut tx = store.transaction(&lock)?;
    for (i, c, learned) in captures.iter() {
        let recorded = tx.record(c, args.title.as_deref())?;
        if args.selector.is_some() || !args.ignore.is_empty() || !learned.is_empty() {
            tx.update_source(&c.locator.id(), |source| {
                if args.selector.is_some() || !args.ignore.is_empty() {
                    source.selector.clone_from(&args.selector);
                    source.ignore.clone_from(&args.ignore);
                }
                for pattern in learned {
                    if !source.learned_ignore.contains(pattern) {
                        source.learned_ignore.push(pattern.clone());
                    }
                }
            })?;
        }
        let (label, v) = match recorded {
            Recorded::Added(v) => ("added", v),
            Recorded::NewVersion(v) => ("updated", v),
            Recorded::Unchanged(v) => ("unchanged", v),
        };
        lines.push((
            *i,
            format!(
                "{label:<9}  {}  v{:<4} {:>10} B  {}",
                v.source,
                v.version,
                v.raw.bytes,
                c.locator.canonical()
            ),
        ));
    }
    let added = captures.len();
    tx.commit(&format!(
        "add: capture {added} source{}",
        if added == 1 { "" } else { "s" }
    ))?;
    captures.clear();
    Ok(())
}

fn read_list(file: &std::path::Path) -> Result<Vec<String>, CommandError> {
    // A locator is far shorter than this; a longer line is not a list (`--from /dev/zero`).
    const MAX_LINE: u64 = 64 << 10;
    let mut reader: Box<dyn std::io::BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).map_err(|e| {
            CommandError::usage(format!("cannot read source list {}: {e}", file.display()))
        })?;
        Box::new(std::io::BufReader::new(f))
    };
    let failed = |why: String| {
        CommandError::usage(format!("cannot read source list {}: {why}", file.display()))
    };
    let mut out = Vec::new();
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let n = std::io::Read::take(&mut reader, MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| failed(e.to_string()))?;
        if n == 0 {
            break;
        }
        if n as u64 > MAX_LINE {
            return Err(failed(format!(
                "line {number} is over {MAX_LINE} bytes; give a file of one locator a line"
            )));
        }
        let text = std::str::from_utf8(&line)
            .map_err(|_| failed(format!("line {number} is not UTF-8 text")))?
            .trim();
        if !text.is_empty() && !text.starts_with('#') {
            out.push(text.to_owned());
        }
    }
    Ok(out)
}
