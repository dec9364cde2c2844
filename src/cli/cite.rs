//! `verbatim cite`: check that what documents cite still stands in their sources, and print
//! durable links to a cited version.

use verbatim::cite::assess::Status;
use verbatim::cite::link;
use verbatim::ops;
use verbatim::report::cite::{self as printer, LinkForms};
use verbatim::store::version::Version;

use super::error::CommandError;
use super::{Context, Format, exit, finish};

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
    #[command(flatten)]
    fetch: super::args::FetchArgs,
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
    // A file that cannot be read is reported and the others are checked; the run then exits 2.
    let (cited, unreadable) = ops::cite::read(&args.files, &ctx.cwd);
    for (_, e) in &unreadable {
        let e = CommandError::usage(e.to_string())
            .hint("name Markdown, HTML, BibTeX, CSL-JSON, TOML or YAML files");
        if args.files.len() == 1 {
            return Err(e);
        }
        ctx.ui.warn(&e);
    }
    let store = ctx.open_store()?;
    let options = ops::cite::Options {
        offline: args.offline,
        capture_files: args.capture_files,
        memento: args.memento.clone(),
        fetch: args.fetch.options(),
        concurrency: verbatim::check::Concurrency {
            jobs: 8,
            per_host: 2,
        },
        locking: ctx.locking(),
    };
    let assessed = ops::cite::check(&store, cited, &ctx.cwd, &options, &ctx.ui.progress_bar())?;
    let mut out = ctx.ui.output(args.format == Format::Human);
    let written = match args.format {
        Format::Human => printer::cite_human(&mut out, &assessed, &ctx.ui.styles()),
        Format::Json => printer::cite_json(&mut out, &assessed),
    };
    if !unreadable.is_empty() {
        // Reported above; the citations of the other files are in the report.
        finish(&mut out, written, false)?;
        return Ok(exit::USAGE);
    }
    let failed = assessed.iter().any(|a| args.fail_on.contains(&a.status));
    finish(&mut out, written, failed)
}

fn run_link(ctx: &Context, args: LinkArgs) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let source = snapshot.resolve(&args.source, &ctx.cwd)?;
    let versions = snapshot.versions(&source.id)?;
    let version = args.version.map(Version::Number);
    let cited = link::CitedVersion {
        source: &source,
        version: Version::find_or_latest(version.as_ref(), &source, &versions)?,
        version_url: args.version_url.as_deref(),
    };
    let all = args.format == LinkFormat::All;
    let forms = LinkForms {
        html: all || args.format == LinkFormat::Html,
        bibtex: all || args.format == LinkFormat::Bibtex,
        csl_json: all || args.format == LinkFormat::CslJson,
    };
    // Pasted into documents, but read first on a terminal: JSON alone is exact.
    let mut out = ctx.ui.output(args.format != LinkFormat::CslJson);
    let written = printer::cite_link(&mut out, &cited, forms);
    finish(&mut out, written, false)
}

fn parse_status(text: &str) -> Result<Status, String> {
    Status::from_name(text.trim())
        .ok_or_else(|| format!("{text:?} is not a citation status; use {}", Status::list()))
}
