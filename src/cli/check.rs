//! `verbatim check`.

use verbatim::check;
use verbatim::classify::Verdict;
use verbatim::fetch;
use verbatim::{ops, report};

use super::error::CommandError;
use super::{Context, Format, exit, output};

/// Re-fetch sources and report what happened to each
// The long help, which lists the verdicts, is `long_help`'s: the list comes from `Verdict::ALL`.
#[derive(Debug, clap::Args)]
#[command(long_about = long_help())]
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
    #[command(flatten)]
    fetch: super::args::FetchArgs,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    exit::grep_style(run_checked(ctx, args))
}

fn run_checked(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let options = ops::check::Options {
        fetch: fetch::Options {
            idle_per_host: args.per_host.min(args.jobs),
            ..args.fetch.options()
        },
        concurrency: check::Concurrency {
            jobs: args.jobs,
            per_host: args.per_host,
        },
        locking: ctx.locking(),
    };
    let show = |r: &check::CheckResult| !args.only_new || r.new;
    let mut report = report::CheckReport::new(match args.format {
        Format::Human => report::CheckFormat::Human(ctx.ui.styles()),
        Format::Json => report::CheckFormat::Json,
    })
    .map_err(temporary)?;
    let mut failed = false;
    let outcome = ops::check::check(
        &store,
        &args.sources,
        &ctx.cwd,
        &options,
        &ctx.ui.progress_bar(),
        &mut |result| {
            failed |= show(result) && args.fail_on.contains(&result.verdict);
            report.add(result, show(result))
        },
    )
    .map_err(reporting)?;

    let mut out = ctx.ui.output(args.format == Format::Human);
    output(
        report
            .finish(&mut out)
            .and_then(|()| std::io::Write::flush(&mut out)),
    )?;
    // Not one source answered: the network (or the machine) is down, not every source. A CI
    // job with no network must not stay green, so this is "could not run", after the report.
    if outcome.checked > 0 && outcome.reached == 0 {
        return Err(CommandError::new(
            exit::USAGE,
            format!(
                "none of the {} sources checked could be fetched or read (each unreachable)",
                outcome.checked
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

/// A job's error, where the caller's part (writing the report) is the report's temporary file.
pub(super) fn reporting(e: ops::Error) -> CommandError {
    match e {
        ops::Error::Caller(io) => temporary(io),
        other => other.into(),
    }
}

/// An error writing the report's temporary file.
fn temporary(source: std::io::Error) -> CommandError {
    super::error::temporary_files(source)
}

/// `check --help`'s description.
fn long_help() -> String {
    format!(
        "Re-fetch sources and report what happened to each\n\n\
         Every source gets one verdict: {}. Each is recorded in the store; an edit stores a new \
         version. Exits 0 when nothing in --fail-on occurred, 1 when something did, 2 when the \
         check could not run.",
        Verdict::list()
    )
}

fn parse_verdict(text: &str) -> Result<Verdict, String> {
    Verdict::from_name(text.trim())
        .ok_or_else(|| format!("{text:?} is not a verdict; use {}", Verdict::list()))
}
