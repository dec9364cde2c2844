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
    #[arg(long, short, default_value_t = 8, value_name = "N")]
    jobs: usize,
    /// Requests in flight to any one host at once
    #[arg(long, default_value_t = 2, value_name = "N")]
    per_host: usize,
    /// Seconds allowed for each HTTP fetch, body included
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    timeout: u64,
    /// Seconds allowed to open a connection
    #[arg(long, default_value_t = fetch::Options::default().connect_timeout.as_secs(), value_name = "SECS")]
    connect_timeout: u64,
    /// Seconds a server may go silent (before the response or within the body)
    #[arg(long, default_value_t = fetch::Options::default().read_timeout.as_secs(), value_name = "SECS")]
    read_timeout: u64,
    /// Further attempts after a transient failure (connection error, timeout, 429, 5xx)
    #[arg(long, default_value_t = fetch::Options::default().retries, value_name = "N")]
    retries: u32,
    /// Largest file or response body accepted, in bytes
    #[arg(long, default_value_t = fetch::Options::default().max_body, value_name = "N")]
    max_bytes: u64,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    // check speaks grep's exit codes, as CI scripts expect: anything that stops it is 2.
    run_checked(ctx, args).map_err(|mut e| {
        e.code = exit::USAGE;
        e
    })
}

fn run_checked(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    // The index has what checking an unchanged source needs; workers read more only for the
    // sources whose bytes changed.
    let entries = if args.sources.is_empty() {
        snapshot.index()?
    } else {
        let mut seen = std::collections::HashSet::new();
        let mut entries = Vec::new();
        for query in &args.sources {
            let id = snapshot.resolve(query, &ctx.cwd)?.id;
            // Naming a source twice checks it once.
            if seen.insert(id.clone()) {
                entries.extend(snapshot.index_entry(&id)?);
            }
        }
        entries
    };
    let mut states = snapshot.states()?;
    let jobs: Vec<Job> = entries
        .into_iter()
        .map(|entry| Job {
            previous: states.remove(&entry.source),
            entry,
        })
        .collect();
    let count = jobs.len();
    let client = HttpClient::new(fetch::Options {
        total_timeout: std::time::Duration::from_secs(args.timeout),
        connect_timeout: std::time::Duration::from_secs(args.connect_timeout),
        read_timeout: std::time::Duration::from_secs(args.read_timeout),
        idle_per_host: args.per_host.min(args.jobs),
        max_body: args.max_bytes,
        retries: args.retries,
        ..fetch::Options::default()
    });
    let concurrency = check::Concurrency {
        jobs: args.jobs,
        per_host: args.per_host,
    };
    let bar = ctx.ui.progress(count, "checking");
    let mut judged_results: Vec<Option<check::CheckResult>> = (0..count).map(|_| None).collect();
    let mut failure = None;
    check::check_each(
        store.path(),
        snapshot.commit_id(),
        jobs.into_iter(),
        &client,
        args.max_bytes,
        concurrency,
        &mut |i, judged| match judged.and_then(|mut result| result.stage(&store).map(|()| result)) {
            Ok(result) => {
                bar.set_message(result.locator.clone());
                bar.inc(1);
                if let Some(slot) = judged_results.get_mut(i) {
                    *slot = Some(result);
                }
            }
            Err(e) => failure = Some(e),
        },
    );
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e.into());
    }
    let mut results: Vec<check::CheckResult> = judged_results.into_iter().flatten().collect();
    drop(snapshot);

    if !results.is_empty() {
        let lock = ctx.lock(&store)?;
        let mut tx = store.transaction(&lock)?;
        check::record(&mut tx, &mut results)?;
        let edited = results.iter().filter(|r| r.new_version.is_some()).count();
        tx.commit(&format!(
            "check: {} sources, {edited} edited",
            results.len()
        ))?;
    }

    let show = |r: &check::CheckResult| !args.only_new || r.new;
    let mut out = ctx.ui.stdout();
    output(
        match args.format {
            Format::Human => report::check_human(&mut out, &results, &show, &ctx.ui.styles()),
            Format::Json => report::check_json(&mut out, &results, &show),
        }
        .and_then(|()| std::io::Write::flush(&mut out)),
    )?;
    let failed = results
        .iter()
        .any(|r| show(r) && args.fail_on.contains(&r.verdict));
    Ok(if failed {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    })
}

fn parse_verdict(text: &str) -> Result<Verdict, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned())).map_err(|_| {
        format!("{text:?} is not a verdict; use unchanged, cosmetic, edited, retracted, moved, blocked, unreachable or error")
    })
}
