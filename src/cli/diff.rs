//! `verbatim diff`.

use jiff::Timestamp;
use verbatim::diff::{self, Granularity};
use verbatim::ops::diff::{self as job, Request, Side, Version};
use verbatim::report::diff::{self as printer, DiffReport};

use super::error::CommandError;
use super::{Context, exit, output};

/// Show what changed between two versions of a source, or two documents
///
///   verbatim diff SOURCE [FROM] [TO]       two stored versions (default: the previous and the latest)
///   verbatim diff SOURCE [FROM] --against PATH|URL   a stored version against a fresh copy
///   verbatim diff PATH|URL PATH|URL         two documents, no store needed
///
/// A version is a number (3 or v3), a prefix of its SHA-256 (as `verbatim log` shows it), or a
/// date or time (the version current then). The text compared is the one `check` compares:
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
    let version = |spec: &str| {
        VersionSpec::parse(spec)
            .map(VersionSpec::into_version)
            .ok_or_else(|| {
                CommandError::usage(format!("{spec:?} is not a version")).hint(
                    "give a version number (3), a SHA-256 prefix from `verbatim log`, or a date",
                )
            })
    };
    let at = args.at.map(Version::At);
    let request = if let Some(against) = &args.against {
        Request::Against {
            source: &args.first,
            from: args.second.as_deref().map(version).transpose()?.or(at),
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
            from: args.second.as_deref().map(version).transpose()?.or(at),
            to: args.third.as_deref().map(version).transpose()?,
        }
    };
    let store = match request {
        Request::Documents { .. } => None,
        _ => Some(ctx.open_store()?),
    };
    let (from, to) = job::sides(store.as_ref(), &request, &ctx.cwd, &options)?;
    print(ctx, &args, from, to)
}

/// Whether the arguments name two documents rather than a source and versions: a second
/// argument that is not a version, or no store to look versions up in.
fn two_documents(ctx: &Context, args: &Args) -> bool {
    match (&args.second, &args.third) {
        (Some(second), None) => VersionSpec::parse(second).is_none() || ctx.store_path().is_err(),
        _ => false,
    }
}

fn print(ctx: &Context, args: &Args, from: Side, to: Side) -> Result<u8, CommandError> {
    let deadline = super::limits::duration(args.deadline);
    let options = diff::Options {
        granularity: match args.granularity {
            GranularityArg::Word => Granularity::Word,
            GranularityArg::Line => Granularity::Line,
            GranularityArg::Char => Granularity::Char,
        },
        timeout: deadline,
    };
    if from.binary || to.binary {
        return print_binary(ctx, args, &from, &to);
    }
    if args.format == DiffFormat::Unified {
        // A patch needs only lines: no word diff, no summary.
        let mut out = ctx.ui.stdout();
        let (a, b) = printer::unified_names(&from.info, &to.info);
        let differ = *from.text != *to.text;
        let written = printer::diff_unified(
            &mut out,
            &from.text,
            &to.text,
            &a,
            &b,
            args.context.unwrap_or(3),
            deadline,
        );
        let code = output(written.and_then(|()| std::io::Write::flush(&mut out)))?;
        if code != exit::SUCCESS {
            return Ok(code);
        }
        return Ok(if differ {
            exit::FINDINGS
        } else {
            exit::SUCCESS
        });
    }
    let compared = job::compare(&from, &to, &options)?;
    let text_diff = &compared.diff;
    let differ = !text_diff.is_empty();
    let report = DiffReport {
        from: from.info.clone(),
        to: to.info.clone(),
        diff: text_diff,
        summary: &compared.summary,
        stat: compared.stat,
    };
    let mut out = ctx.ui.output(args.format == DiffFormat::Human);
    let written = match args.format {
        DiffFormat::Human => printer::diff_human(
            &mut out,
            &report,
            &ctx.ui.styles(),
            args.context.unwrap_or(1),
            args.stat,
        ),
        DiffFormat::Json | DiffFormat::Unified => printer::diff_json(&mut out, &report),
    };
    let code = output(written.and_then(|()| std::io::Write::flush(&mut out)))?;
    if code != exit::SUCCESS {
        return Ok(code);
    }
    Ok(if differ {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    })
}

/// Binary content has no text to compare: say whether the bytes differ.
fn print_binary(ctx: &Context, args: &Args, from: &Side, to: &Side) -> Result<u8, CommandError> {
    // Both sides of binary content are hashed; a text side, unhashed in a patch, differs.
    let same = from.info.sha256.is_some() && from.info.sha256 == to.info.sha256;
    let mut out = ctx.ui.output(args.format == DiffFormat::Human);
    let written = printer::diff_binary(
        &mut out,
        &from.info,
        &to.info,
        same,
        args.format == DiffFormat::Json,
    );
    let code = output(written.and_then(|()| std::io::Write::flush(&mut out)))?;
    if code != exit::SUCCESS {
        return Ok(code);
    }
    Ok(if same { exit::SUCCESS } else { exit::FINDINGS })
}

/// How a version is named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VersionSpec {
    /// By number: `3` or `v3`.
    Number(u32),
    /// By a prefix of the SHA-256 of its bytes or of its text.
    Hash(String),
    /// The version current at a time.
    At(Timestamp),
}

impl VersionSpec {
    fn parse(text: &str) -> Option<VersionSpec> {
        let digits = text.strip_prefix('v').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().ok().map(VersionSpec::Number);
        }
        if text.len() >= 4 && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(VersionSpec::Hash(text.to_ascii_lowercase()));
        }
        if text.contains('-') {
            return super::show::parse_datetime(text).ok().map(VersionSpec::At);
        }
        None
    }

    fn into_version(self) -> Version {
        match self {
            VersionSpec::Number(n) => Version::Number(n),
            VersionSpec::Hash(prefix) => Version::Hash(prefix),
            VersionSpec::At(at) => Version::At(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VersionSpec;

    #[test]
    fn version_specs() {
        assert_eq!(VersionSpec::parse("3"), Some(VersionSpec::Number(3)));
        assert_eq!(VersionSpec::parse("v12"), Some(VersionSpec::Number(12)));
        assert_eq!(
            VersionSpec::parse("E7F9e8"),
            Some(VersionSpec::Hash("e7f9e8".into()))
        );
        assert!(matches!(
            VersionSpec::parse("2024-05-01"),
            Some(VersionSpec::At(_))
        ));
        assert_eq!(VersionSpec::parse("article.txt"), None);
        assert_eq!(VersionSpec::parse("https://example.com/a"), None);
        assert_eq!(VersionSpec::parse("abc"), None);
    }
}
