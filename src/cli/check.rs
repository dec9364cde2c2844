//! `verbatim check`.

use verbatim::check::{self, Job};
use verbatim::classify::Verdict;
use verbatim::fetch::{self, HttpClient};
use verbatim::report;

use super::error::CommandError;
use super::{Context, Format, exit, output};

/// Re-fetch sources and report what happened to each
///
/// Every source gets one verdict: unchanged, cosmetic, edited, retracted, moved, blocked,
/// unreachable or error. Each is recorded in the store; an edit stores a new version. Exits 0
/// when nothing in --fail-on occurred, 1 when something did, 2 when the check could not run.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sources to check (ids, id prefixes, paths or URLs) [default: all]
    #[arg(value_name = "SOURCE")]
    sources: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Verdicts that make the exit status 1
    #[arg(long, value_delimiter = ',', value_parser = parse_verdict, default_value = "edited,retracted,moved", value_name = "VERDICTS")]
    fail_on: Vec<Verdict>,
    /// Report and fail only on states that are new since the previous check
    #[arg(long)]
    only_new: bool,
    /// Sources fetched at once
    #[arg(long, short, default_value_t = 8, value_name = "N", value_parser = super::limits::workers)]
    jobs: usize,
    /// Requests in flight to any one host at once
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = super::limits::workers)]
    per_host: usize,
    /// Seconds allowed for each HTTP fetch, body included
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = super::limits::whole_seconds)]
    timeout: u64,
    /// Seconds allowed to open a connection
    #[arg(long, default_value_t = fetch::Options::default().connect_timeout.as_secs(), value_name = "SECS", value_parser = super::limits::whole_seconds)]
    connect_timeout: u64,
    /// Seconds a server may go silent (before the response or within the body)
    #[arg(long, default_value_t = fetch::Options::default().read_timeout.as_secs(), value_name = "SECS", value_parser = super::limits::whole_seconds)]
    read_timeout: u64,
    /// Further attempts after a transient failure (connection error, timeout, 429, 5xx)
    #[arg(long, default_value_t = fetch::Options::default().retries, value_name = "N", value_parser = super::limits::retries)]
    retries: u32,
    /// Largest file or response body accepted, in bytes
    #[arg(long, default_value_t = fetch::Options::default().max_body, value_name = "N", value_parser = super::limits::bytes)]
    max_bytes: u64,
    /// Let URLs from content, and redirects from public sites, reach internal addresses
    /// (loopback, private networks, link-local)
    #[arg(long)]
    allow_private: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    exit::grep_style(run_checked(ctx, args))
}

fn run_checked(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let commit = snapshot.commit_id();
    // The index has what checking an unchanged source needs; workers read more only for the
    // sources whose bytes changed. All sources are drawn from it shard by shard, never listed
    // in memory.
    let (jobs, count): (Box<dyn Iterator<Item = _> + Send>, usize) = if args.sources.is_empty() {
        (
            Box::new(check::AllSources::new(store.path(), commit)?),
            snapshot.source_count()?,
        )
    } else {
        let mut ids = Vec::new();
        for query in &args.sources {
            ids.push(snapshot.resolve(query, &ctx.cwd)?.id);
        }
        let jobs = jobs_for(&snapshot, &ids)?;
        let count = jobs.len();
        (Box::new(jobs.into_iter()), count)
    };
    drop(snapshot);
    let client = HttpClient::new(fetch::Options {
        total_timeout: std::time::Duration::from_secs(args.timeout),
        connect_timeout: std::time::Duration::from_secs(args.connect_timeout),
        read_timeout: std::time::Duration::from_secs(args.read_timeout),
        idle_per_host: args.per_host.min(args.jobs),
        max_body: args.max_bytes,
        retries: args.retries,
        allow_private: args.allow_private,
        ..fetch::Options::default()
    });
    let concurrency = check::Concurrency {
        jobs: args.jobs,
        per_host: args.per_host,
    };
    let show = |r: &check::CheckResult| !args.only_new || r.new;
    let mut report = report::CheckReport::new(match args.format {
        Format::Human => report::CheckFormat::Human(ctx.ui.styles()),
        Format::Json => report::CheckFormat::Json,
    })
    .map_err(temporary)?;
    let mut failed = false;
    let run = Run {
        commit,
        client: &client,
        max_bytes: args.max_bytes,
        concurrency,
        in_order: !args.sources.is_empty(),
    };
    let (mut checked, mut reached) = (0usize, 0usize);
    check_and_record(ctx, &store, jobs, count, &run, &mut |result| {
        failed |= show(result) && args.fail_on.contains(&result.verdict);
        checked += 1;
        // Only `unreachable` with no answer at all (a timeout, a refused or failed
        // connection) says nothing was reached; a 5xx, a body over the limit or malformed HTTP
        // came from a server.
        reached +=
            usize::from(result.verdict != Verdict::Unreachable || result.http_status.is_some());
        report.add(result, show(result)).map_err(temporary)
    })?;

    let mut out = ctx.ui.output(args.format == Format::Human);
    output(
        report
            .finish(&mut out)
            .and_then(|()| std::io::Write::flush(&mut out)),
    )?;
    // Not one source answered: the network (or the machine) is down, not every source. A CI
    // job with no network must not stay green, so this is "could not run", after the report.
    if checked > 0 && reached == 0 {
        return Err(CommandError::new(
            exit::USAGE,
            format!(
                "none of the {checked} sources checked could be fetched or read (each unreachable or error)"
            ),
        )
        .hint("check the network and the machine, then run the check again"));
    }
    Ok(if failed {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    })
}

/// Check jobs for the sources `ids`, in their order; a source named twice is checked once.
pub(super) fn jobs_for(
    snapshot: &verbatim::store::Snapshot<'_>,
    ids: &[verbatim::source::SourceId],
) -> Result<Vec<Result<Job, verbatim::store::Error>>, CommandError> {
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
pub(super) struct Run<'a> {
    pub commit: git2::Oid,
    pub client: &'a HttpClient,
    pub max_bytes: u64,
    pub concurrency: check::Concurrency,
    /// Results in the jobs' order (sources named), rather than in id order (the whole store).
    pub in_order: bool,
}

/// Checks the sources `jobs` yields (`count` of them), records what each check found in one
/// commit, and gives each result, recorded, to `each`.
pub(super) fn check_and_record(
    ctx: &Context,
    store: &verbatim::store::Store,
    jobs: Box<dyn Iterator<Item = Result<Job, verbatim::store::Error>> + Send>,
    count: usize,
    run: &Run<'_>,
    each: &mut dyn FnMut(&check::CheckResult) -> Result<(), CommandError>,
) -> Result<(), CommandError> {
    let bar = ctx.ui.progress(count, "checking");
    // No more workers than sources: a thread each for work that does not exist costs memory.
    let concurrency = check::Concurrency {
        jobs: run.concurrency.jobs.clamp(1, count.max(1)),
        ..run.concurrency
    };
    // Results of a whole-store check wait on disk, not in memory, until they are recorded, and
    // come back in id order; sources named on the command line are reported in their order.
    let mut spool = if run.in_order {
        check::Spool::in_order(count)
    } else {
        check::Spool::new()
    };
    let mut failure = None;
    check::check_each(
        store.path(),
        run.commit,
        jobs,
        run.client,
        run.max_bytes,
        concurrency,
        &mut |i, judged| {
            let parked = judged.and_then(|result| {
                bar.set_message(result.locator.clone());
                bar.inc(1);
                spool.push(i, result)
            });
            if let Err(e) = parked {
                failure.get_or_insert(e);
            }
        },
    );
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e.into());
    }
    if spool.is_empty() {
        return Ok(());
    }
    let lock = ctx.lock(store)?;
    let mut tx = store.transaction(&lock)?;
    let (checked, mut edited) = (spool.len(), 0);
    for shard in spool.drain() {
        for mut result in shard? {
            check::record(&mut tx, &mut result)?;
            edited += usize::from(result.new_version.is_some());
            each(&result)?;
        }
        // Recorded observations go to the object database shard by shard, not memory.
        tx.flush_observations()?;
    }
    tx.commit(&format!("check: {checked} sources, {edited} edited"))?;
    Ok(())
}

/// An error writing the report's temporary file.
fn temporary(source: std::io::Error) -> CommandError {
    super::error::temporary_files(source)
}

fn parse_verdict(text: &str) -> Result<Verdict, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned())).map_err(|_| {
        format!("{text:?} is not a verdict; use unchanged, cosmetic, edited, retracted, moved, blocked, unreachable or error")
    })
}
