//! `verbatim cite`: check that what documents cite still stands in their sources, and print
//! durable links to a cited version.

use std::collections::BTreeMap;

use verbatim::cite::assess::{self, Status};
use verbatim::cite::{self as citations, Citation, link};
use verbatim::classify::Verdict;
use verbatim::fetch::{self, HttpClient};
use verbatim::source::{Locator, SourceId};
use verbatim::store::Snapshot;

use super::error::CommandError;
use super::{Context, Format, check, exit, output};

/// Check citations against their sources, or print a durable link to a cited version
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    Check(CheckArgs),
    Link(LinkArgs),
}

/// Check that cited sources and quotes still stand
///
/// Reads the citations in Markdown and HTML documents (links, with the quotation before or
/// around them), BibTeX/BibLaTeX and CSL-JSON files (url, urldate/accessed, a quote in a note),
/// and TOML or YAML lists of {url, quote, accessed}. Every cited web page not yet tracked is
/// captured now (the capture is the evidence; local files only with --capture-files); the
/// others are re-fetched and checked, unless --offline. Each citation gets one status: stands, source-changed (edited since the access
/// date, the quote still there), ambiguous, quote-altered, quote-gone, retracted, moved,
/// blocked, unreachable or not-tracked. Exits 0 when no status in --fail-on occurred, 1 when
/// one did, 2 when the citations could not be checked.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files holding citations (.md, .html, .bib, .json, .toml, .yaml)
    #[arg(value_name = "FILE", required = true)]
    files: Vec<std::path::PathBuf>,
    /// Check against the store only: capture nothing, fetch nothing
    #[arg(long)]
    offline: bool,
    /// Capture cited file:// sources that the store does not track yet (off by default: a
    /// document checked in CI could name any local file, and its text would be stored and
    /// shown)
    #[arg(long)]
    capture_files: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Statuses that make the exit status 1
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = parse_status,
        default_value = "quote-gone,quote-altered,retracted,unreachable,not-tracked",
        value_name = "STATUSES"
    )]
    fail_on: Vec<Status>,
    /// For a source that is gone (retracted, moved, blocked, unreachable), ask this web
    /// archive's TimeGate (RFC 7089) for its copy nearest the access date and check the quote
    /// there: the original URL is appended, or replaces `{url}`
    /// (e.g. https://web.archive.org/web/)
    #[arg(long, value_name = "TIMEGATE")]
    memento: Option<String>,
    /// Seconds allowed for each HTTP fetch, body included
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = super::limits::whole_seconds)]
    timeout: u64,
    /// Largest response body accepted, in bytes
    #[arg(long, default_value_t = fetch::Options::default().max_body, value_name = "N", value_parser = super::limits::bytes)]
    max_bytes: u64,
    /// Let URLs from content, and redirects from public sites, reach internal addresses
    /// (loopback, private networks, link-local)
    #[arg(long)]
    allow_private: bool,
}

/// Print a Robust Link and a BibTeX and CSL-JSON citation of a stored version
///
/// The Robust Link is the original URL with `data-versionurl` and `data-versiondate`: the
/// version URL is --version-url (an archived copy) or else an RFC 6920 `ni:` URI naming the
/// version's bytes by their SHA-256. The BibTeX and CSL-JSON entries carry that SHA-256.
#[derive(Debug, clap::Args)]
struct LinkArgs {
    /// The source (id, id prefix, path or URL)
    #[arg(value_name = "SOURCE")]
    source: String,
    /// The version to cite [default: the latest]
    #[arg(long, value_name = "N")]
    version: Option<u32>,
    /// Where an archived copy of the version can be read (a memento, a published WARC)
    #[arg(long, value_name = "URL")]
    version_url: Option<String>,
    /// What to print
    #[arg(long, value_enum, default_value_t = LinkFormat::All)]
    format: LinkFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LinkFormat {
    /// The Robust Link, then the BibTeX entry, then the CSL-JSON item
    All,
    /// The Robust Link (HTML)
    Html,
    /// The BibLaTeX entry
    Bibtex,
    /// The CSL-JSON item
    CslJson,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    match args.command {
        Sub::Check(args) => exit::grep_style(run_check(ctx, args)),
        Sub::Link(args) => run_link(ctx, args),
    }
}

fn run_check(ctx: &Context, args: CheckArgs) -> Result<u8, CommandError> {
    let mut cited: Vec<Citation> = Vec::new();
    // A file that cannot be read is reported and the others are checked; the run then exits 2.
    let mut unreadable: Option<CommandError> = None;
    for file in &args.files {
        let path = ctx.cwd.join(file);
        let mut found = match citations::parse::read_file(&path) {
            Ok(found) => found,
            Err(e) => {
                let e = CommandError::usage(e.to_string())
                    .hint("name Markdown, HTML, BibTeX, CSL-JSON, TOML or YAML files");
                if args.files.len() == 1 {
                    return Err(e);
                }
                ctx.ui.warn(&e);
                unreadable.get_or_insert(e);
                continue;
            }
        };
        // Citations name the file as the user did; a password in a cited URL is never shown
        // (nor sent: a locator drops it when parsed).
        for c in &mut found {
            c.file = file.display().to_string();
            c.locator = verbatim::source::redact(&c.locator);
        }
        cited.extend(found);
    }
    let store = ctx.open_store()?;
    // Each distinct locator once: its id if tracked.
    let mut sources: BTreeMap<String, Option<SourceId>> = BTreeMap::new();
    {
        let snapshot = store.snapshot()?;
        for c in &cited {
            if !sources.contains_key(&c.locator) {
                let id = tracked(&snapshot, ctx, &c.locator)?;
                sources.insert(c.locator.clone(), id);
            }
        }
    }
    // What this run learnt of each source: a verdict, or why it could not be captured.
    let mut verdicts: BTreeMap<SourceId, Verdict> = BTreeMap::new();
    // Sources that could not be captured: why, and the status that says it.
    let mut failed_captures: BTreeMap<String, (String, Status)> = BTreeMap::new();
    // One client for the captures, the checks and the archive. Every URL it fetches was named
    // by the citing document, which is content: it may reach only public addresses.
    let client = HttpClient::new(fetch::Options {
        total_timeout: std::time::Duration::from_secs(args.timeout),
        max_body: args.max_bytes,
        reach: fetch::Reach::Public,
        allow_private: args.allow_private,
        ..fetch::Options::default()
    });
    if !args.offline {
        let fresh = capture_new(
            ctx,
            &store,
            &client,
            &args,
            &mut sources,
            &mut failed_captures,
        )?;
        check_tracked(ctx, &store, &client, &args, &sources, &fresh, &mut verdicts)?;
    }
    let snapshot = store.snapshot()?;
    if args.offline {
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
    let mut judged: Vec<Option<verbatim::cite::assess::Assessment>> = vec![None; cited.len()];
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
    let mut assessed: Vec<verbatim::cite::assess::Assessment> =
        judged.into_iter().flatten().collect();
    for (locator, (why, _)) in &failed_captures {
        ctx.ui.note(&format!("could not capture {locator}: {why}"));
    }
    if let Some(timegate) = &args.memento {
        for a in assessed.iter_mut().filter(|a| a.status.source_gone()) {
            // The end of the access day, or now when the citation gives no date.
            let at = a
                .citation
                .accessed
                .and_then(|d| d.tomorrow().ok())
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map_or_else(jiff::Timestamp::now, |z| z.timestamp());
            match citations::memento::lookup(
                &client,
                timegate,
                &a.citation.locator,
                at,
                a.citation.quote.as_deref(),
            ) {
                Ok(found) => a.memento = Some(found),
                Err(e) => ctx.ui.note(&format!(
                    "no archived copy of {} from {timegate}: {e}",
                    a.citation.locator
                )),
            }
        }
    }
    let mut out = ctx.ui.output(args.format == Format::Human);
    let written = match args.format {
        Format::Human => verbatim::report::cite::cite_human(&mut out, &assessed, &ctx.ui.styles()),
        Format::Json => verbatim::report::cite::cite_json(&mut out, &assessed),
    };
    let code = output(written.and_then(|()| std::io::Write::flush(&mut out)))?;
    if code != exit::SUCCESS {
        return Ok(code);
    }
    if unreadable.is_some() {
        // Reported above; the citations of the other files are in the report.
        return Ok(exit::USAGE);
    }
    let failed = assessed.iter().any(|a| args.fail_on.contains(&a.status));
    Ok(if failed {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    })
}

/// The id of the source a citation's locator names, if the store tracks it.
fn tracked(
    snapshot: &Snapshot<'_>,
    ctx: &Context,
    locator: &str,
) -> Result<Option<SourceId>, CommandError> {
    match snapshot.resolve(locator, &ctx.cwd) {
        Ok(record) => Ok(Some(record.id)),
        Err(verbatim::store::Error::UnknownSource { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Captures every cited source the store does not track yet, in one commit; returns their ids.
fn capture_new(
    ctx: &Context,
    store: &verbatim::store::Store,
    client: &HttpClient,
    args: &CheckArgs,
    sources: &mut BTreeMap<String, Option<SourceId>>,
    failed: &mut BTreeMap<String, (String, Status)>,
) -> Result<Vec<SourceId>, CommandError> {
    let new: Vec<String> = sources
        .iter()
        .filter(|(_, id)| id.is_none())
        .map(|(l, _)| l.clone())
        .collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let rules = verbatim::extract::Rules::default();
    let bar = ctx.ui.progress(new.len(), "capturing");
    let mut captures = Vec::new();
    for locator in &new {
        bar.set_message(locator.clone());
        let parsed = match Locator::parse(locator, &ctx.cwd) {
            Ok(parsed) => parsed,
            Err(e) => {
                failed.insert(locator.clone(), (e.to_string(), Status::Unreachable));
                continue;
            }
        };
        if matches!(parsed, Locator::File(_)) && !args.capture_files {
            failed.insert(
                locator.clone(),
                (
                    "a local file not tracked yet is captured only with --capture-files (or `verbatim add` it)".to_owned(),
                    Status::NotTracked,
                ),
            );
            bar.inc(1);
            continue;
        }
        match verbatim::capture::capture(&parsed, client, args.max_bytes, &rules) {
            Ok(mut capture) => {
                // Named by the document, not by the store's owner.
                capture.from_content = true;
                captures.push((locator.clone(), capture));
            }
            Err(e) => {
                // An error status says what a check would: a 410 is a retraction.
                let status = match &e {
                    fetch::Error::Status { status, .. } => {
                        match verbatim::classify::verdict_for_status(*status) {
                            Some(Verdict::Retracted) => Status::Retracted,
                            Some(Verdict::Blocked) => Status::Blocked,
                            _ => Status::Unreachable,
                        }
                    }
                    _ => Status::Unreachable,
                };
                failed.insert(locator.clone(), (e.to_string(), status));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if captures.is_empty() {
        return Ok(Vec::new());
    }
    let lock = ctx.lock(store)?;
    let mut tx = store.transaction(&lock)?;
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

/// Re-fetches and checks every cited source that was tracked before this run, recording what
/// each check found; their verdicts go to `verdicts`.
fn check_tracked(
    ctx: &Context,
    store: &verbatim::store::Store,
    client: &HttpClient,
    args: &CheckArgs,
    sources: &BTreeMap<String, Option<SourceId>>,
    fresh: &[SourceId],
    verdicts: &mut BTreeMap<SourceId, Verdict>,
) -> Result<(), CommandError> {
    let snapshot = store.snapshot()?;
    let commit = snapshot.commit_id();
    // Sources captured by this very run are as fresh as a check would make them.
    let ids: Vec<SourceId> = sources
        .values()
        .flatten()
        .filter(|id| !fresh.contains(id))
        .cloned()
        .collect();
    let jobs = check::jobs_for(&snapshot, &ids)?;
    drop(snapshot);
    let count = jobs.len();
    let run = check::Run {
        commit,
        client,
        max_bytes: args.max_bytes,
        concurrency: verbatim::check::Concurrency {
            jobs: 8,
            per_host: 2,
        },
        in_order: true,
    };
    check::check_and_record(
        ctx,
        store,
        Box::new(jobs.into_iter()),
        count,
        &run,
        &mut |r| {
            if let Some(id) = SourceId::parse(&r.source) {
                verdicts.insert(id, r.verdict);
            }
            Ok(())
        },
    )
}

fn run_link(ctx: &Context, args: LinkArgs) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let source = snapshot.resolve(&args.source, &ctx.cwd)?;
    let versions = snapshot.versions(&source.id)?;
    let version = match args.version {
        Some(n) => versions.iter().find(|v| v.version == n).ok_or_else(|| {
            CommandError::usage(format!(
                "{} has no version {n} (it has 1 to {})",
                source.id,
                versions.len()
            ))
        })?,
        None => versions
            .last()
            .ok_or_else(|| CommandError::usage(format!("{} has no stored version", source.id)))?,
    };
    let cited = link::CitedVersion {
        source: &source,
        version,
        version_url: args.version_url.as_deref(),
    };
    let mut text = String::new();
    if matches!(args.format, LinkFormat::All | LinkFormat::Html) {
        text.push_str(&link::robust_link(&cited));
        text.push('\n');
    }
    if matches!(args.format, LinkFormat::All | LinkFormat::Bibtex) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&link::bibtex(&cited));
    }
    if matches!(args.format, LinkFormat::All | LinkFormat::CslJson) {
        if !text.is_empty() {
            text.push('\n');
        }
        let json = serde_json::to_string_pretty(&serde_json::json!([link::csl_json(&cited)]))
            .map_err(|e| CommandError::new(exit::INTERNAL, e.to_string()))?;
        text.push_str(&json);
        text.push('\n');
    }
    // Pasted into documents, but read first on a terminal: JSON alone is exact.
    let mut out = ctx.ui.output(!matches!(args.format, LinkFormat::CslJson));
    output(
        std::io::Write::write_all(&mut out, text.as_bytes())
            .and_then(|()| std::io::Write::flush(&mut out)),
    )
}

fn parse_status(text: &str) -> Result<Status, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned())).map_err(|_| {
        format!(
            "{text:?} is not a citation status; use stands, source-changed, ambiguous, quote-altered, quote-gone, retracted, moved, blocked, unreachable or not-tracked"
        )
    })
}
