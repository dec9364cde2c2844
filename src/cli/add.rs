//! `verbatim add`.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

use verbatim::ops;

use super::error::CommandError;
use super::{Context, exit, output};

/// Start tracking sources and capture their first version now
///
/// Each SOURCE is a local path, a file:// URL or an http(s):// URL. The exact bytes are stored
/// untouched beside their extracted text. A source already tracked is judged as `check` judges
/// it and gets a new version only for an edit: a reload that changed only page furniture,
/// markup or typography is recorded as `cosmetic`, with no new version. Sources that fail are
/// reported and skipped; the others are stored, in commits of up to 1,000 sources (an
/// interrupted add keeps the commits it finished).
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
    /// Sources captured at once
    #[arg(long, short, default_value_t = 4, value_name = "N", value_parser = super::limits::workers)]
    jobs: usize,
    /// Requests in flight to any one host at once
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = super::limits::workers)]
    per_host: usize,
    #[command(flatten)]
    fetch: super::args::FetchArgs,
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
    let options = ops::add::Options {
        fetch: args.fetch.options(),
        jobs: args.jobs,
        per_host: args.per_host,
        title: args.title.clone(),
        selector: args.selector.clone(),
        ignore: args.ignore.clone(),
        learn: !args.no_learn,
        locking: ctx.locking(),
    };
    let progress = ctx.ui.progress_bar();
    let mut failures: Vec<(usize, CommandError)> = Vec::new();
    let outcome = ops::add::add(
        &store,
        &inputs,
        &ctx.cwd,
        &options,
        &progress,
        &mut |i, e| {
            let e = CommandError::from(e).on(&format!(
                "cannot add {}",
                verbatim::source::redact(&inputs[i])
            ));
            if inputs.len() > 1 {
                progress.suspend(|| ctx.ui.warn(&e));
            }
            failures.push((i, e));
        },
    )?;
    // Reported in the order given, whatever order the captures finished in.
    failures.sort_by_key(|(i, _)| *i);
    let mut failures: Vec<CommandError> = failures.into_iter().map(|(_, e)| e).collect();
    let mut out = ctx.ui.human_stdout();
    output(verbatim::report::add_human(&mut out, &outcome.added).and_then(|()| out.flush()))?;
    match failures.first() {
        None => Ok(exit::SUCCESS),
        Some(_) if inputs.len() == 1 => Err(failures.remove(0)),
        Some(first) => {
            ctx.ui.note(&format!(
                "{} of {} sources could not be added",
                outcome.failed,
                inputs.len()
            ));
            Ok(first.code)
        }
    }
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
