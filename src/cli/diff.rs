//! `verbatim diff`.

use jiff::Timestamp;
use verbatim::diff::{self, Granularity};
use verbatim::ops::diff::{self as job, PatchSide, Request, Side, Version};
use verbatim::report::diff::{self as printer, DiffReport};

use super::error::CommandError;
use super::{Context, exit, finish};

/// Show what changed between two versions of a source, or two documents
///
///   verbatim diff SOURCE [FROM] [TO]       two stored versions (default: the previous and the latest)
///   verbatim diff SOURCE [FROM] --against PATH|URL   a stored version against a fresh copy
///   verbatim diff PATH|URL PATH|URL         two documents, no store needed
///
/// A version is a number (3 or v3), a prefix of its SHA-256 (as `verbatim log` shows it; four
/// digits or more without a v are a prefix first, then a number), or a date or time (the version current then). The text compared is the one `check` compares:
/// extracted from the stored bytes with the source's current rules, ignored patterns removed.
/// Exits 0 when the texts are identical, 1 when they differ, and 2 or more when the diff could
/// not be made.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A tracked source (id, id prefix, path or URL), or the first of two documents
    #[arg(value_name = "SOURCE")]
    first: String,
    /// The old version (FROM), or the second document
    #[arg(value_name = "FROM")]
    second: Option<String>,
    /// The new version [default: the latest]
    #[arg(value_name = "TO", conflicts_with = "against")]
    third: Option<String>,
    /// Compare the stored version (FROM, default the latest) with a fresh copy of this path or
    /// URL, recording nothing
    #[arg(long, value_name = "PATH|URL")]
    against: Option<String>,
    /// Compare the version current at this time (FROM) with the latest
    #[arg(long, value_name = "DATETIME", value_parser = super::show::parse_datetime, conflicts_with = "second")]
    at: Option<Timestamp>,
    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
    /// Show only the summary and the counts of words and paragraphs changed
    #[arg(long)]
    stat: bool,
    /// Unchanged paragraphs shown around each change (lines, for --format unified)
    /// [default: 1 paragraph; 3 lines]
    #[arg(long, value_name = "N")]
    context: Option<usize>,
    /// The unit compared and shown
    #[arg(long, value_enum, default_value_t = GranularityArg::Word)]
    granularity: GranularityArg,
    /// Seconds the alignment may take; past it the diff is coarser and says it is approximate
    #[arg(long, default_value_t = diff::DEFAULT_TIMEOUT.as_secs_f64(), value_name = "SECS", value_parser = super::limits::seconds)]
    deadline: f64,
    #[command(flatten)]
    fetch: super::args::FetchArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DiffFormat {
    /// Word diff with a change summary, for people
    Human,
    /// Ops with text and character offsets, summary and counts
    Json,
    /// A unified diff of the text by lines, for patch and git apply
    Unified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GranularityArg {
    Word,
    Line,
    Char,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    verbatim::sys::keep_freed_memory();
    let options = job::Options {
        fetch: args.fetch.options(),
        // A patch names no hashes and has no summary.
        hash: args.format != DiffFormat::Unified,
        summary: args.format != DiffFormat::Unified,
    };
    let version = |spec: Option<&String>| {
        spec.map(|spec| {
            Version::parse(spec).ok_or_else(|| {
                CommandError::usage(format!("{spec:?} is not a version")).hint(
                    "give a version number (3), a SHA-256 prefix from `verbatim log`, or a date",
                )
            })
        })
        .transpose()
    };
    let from =
        || Ok::<_, CommandError>(version(args.second.as_ref())?.or(args.at.map(Version::At)));
    let request = if let Some(against) = &args.against {
        Request::Against {
            source: &args.first,
            from: from()?,
            against,
        }
    } else if two_documents(ctx, &args) {
        Request::Documents {
            first: &args.first,
            second: args.second.as_deref().unwrap_or_default(),
        }
    } else {
        Request::Stored {
            source: &args.first,
            from: from()?,
            to: version(args.third.as_ref())?,
        }
    };
    let store = match request {
        Request::Documents { .. } => None,
        _ => Some(ctx.open_store()?),
    };
    if args.format == DiffFormat::Unified {
        let (from, to) = job::patch_sides(store.as_ref(), &request, &ctx.cwd, &options)?;
        return print_patch(ctx, &args, &from, &to);
    }
    let (from, to) = job::sides(store.as_ref(), &request, &ctx.cwd, &options)?;
    print(ctx, &args, from, to)
}

/// A unified diff: lines only, no word diff, no summary.
fn print_patch(
    ctx: &Context,
    args: &Args,
    from: &PatchSide,
    to: &PatchSide,
) -> Result<u8, CommandError> {
    let mut out = ctx.ui.stdout();
    if from.binary || to.binary {
        // Binary content is hashed; a text side, unhashed in a patch, differs from it.
        let same = from.info.sha256.is_some() && from.info.sha256 == to.info.sha256;
        let written = printer::diff_binary(&mut out, &from.info, &to.info, same, false);
        return finish(&mut out, written, !same);
    }
    let (a, b) = printer::unified_names(&from.info, &to.info);
    let deadline = super::limits::duration(args.deadline);
    let context = args.context.unwrap_or(3);
    let written =
        printer::diff_unified(&mut out, &from.bytes, &to.bytes, &a, &b, context, deadline);
    let code = finish(&mut out, written, *from.bytes != *to.bytes)?;
    for side in [from, to] {
        if side.bytes.changed() {
            ctx.ui.caution(
                &CommandError::new(
                    exit::FETCH,
                    format!("{} changed while it was compared", side.info.label),
                )
                .hint(
                    "the patch may match neither its old nor its new content; run the diff again",
                ),
            );
        }
    }
    Ok(code)
}

/// Whether the arguments name two documents rather than a source and versions: a second
/// argument that is not a version, or no store to look versions up in.
fn two_documents(ctx: &Context, args: &Args) -> bool {
    match (&args.second, &args.third) {
        (Some(second), None) => Version::parse(second).is_none() || ctx.store_path().is_err(),
        _ => false,
    }
}

fn print(ctx: &Context, args: &Args, from: Side, to: Side) -> Result<u8, CommandError> {
    let deadline = super::limits::duration(args.deadline);
    let mut out = ctx.ui.output(args.format == DiffFormat::Human);
    if from.binary || to.binary {
        // No text to compare: say whether the bytes differ (both sides are hashed).
        let same = from.info.sha256.is_some() && from.info.sha256 == to.info.sha256;
        let json = args.format == DiffFormat::Json;
        let written = printer::diff_binary(&mut out, &from.info, &to.info, same, json);
        return finish(&mut out, written, !same);
    }
    let options = diff::Options {
        granularity: match args.granularity {
            GranularityArg::Word => Granularity::Word,
            GranularityArg::Line => Granularity::Line,
            GranularityArg::Char => Granularity::Char,
        },
        timeout: deadline,
    };
    let compared = job::compare(&from, &to, &options)?;
    let report = DiffReport {
        from: from.info.clone(),
        to: to.info.clone(),
        diff: &compared.diff,
        summary: &compared.summary,
        stat: compared.stat,
    };
    let written = match args.format {
        DiffFormat::Human => {
            let context = args.context.unwrap_or(1);
            printer::diff_human(&mut out, &report, &ctx.ui.styles(), context, args.stat)
        }
        DiffFormat::Json | DiffFormat::Unified => printer::diff_json(&mut out, &report),
    };
    finish(&mut out, written, !compared.diff.is_empty())
}
