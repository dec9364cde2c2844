//! `verbatim configure`.

use std::io::Write as _;

use verbatim::{extract, ops};

use super::error::CommandError;
use super::{Context, exit, output};

/// Change a source's title or extraction rules (with no options, show them)
///
/// The rules help with hard pages: a CSS selector for the article's content, and patterns of
/// text to ignore when comparing versions (timestamps, counters). They apply from the next check
/// on, to the old version and the new alike, so changing them is never reported as an edit.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (or unambiguous prefix), URL or path
    source: String,
    /// New title
    #[arg(long, value_name = "T")]
    title: Option<String>,
    /// CSS selector for the article's content
    #[arg(long, value_name = "CSS", conflicts_with = "no_selector")]
    selector: Option<String>,
    /// Go back to the general extractor
    #[arg(long)]
    no_selector: bool,
    /// Add a regular expression for text to ignore when comparing (repeatable)
    #[arg(long, value_name = "REGEX")]
    ignore: Vec<String>,
    /// Remove every ignore pattern first, learned ones included
    #[arg(long)]
    clear_ignore: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    // Rules are checked before the store is opened: a typo is a usage error wherever it is.
    extract::Rules::new(args.selector.as_deref(), &args.ignore)
        .map_err(|e| CommandError::usage(e.to_string()))?;
    let store = ctx.open_store()?;
    let changes = ops::configure::Changes {
        title: args.title,
        selector: args.selector,
        no_selector: args.no_selector,
        ignore: args.ignore,
        clear_ignore: args.clear_ignore,
    };
    let record = ops::configure::configure(
        &store,
        &args.source,
        &ctx.cwd,
        &changes,
        ctx.locking(),
        &ctx.ui.progress_bar(),
    )?;
    let mut out = ctx.ui.human_stdout();
    let patterns = |p: &[String]| {
        if p.is_empty() {
            "-".to_owned()
        } else {
            p.join(" | ")
        }
    };
    let written = writeln!(
        out,
        "{}  title: {}  selector: {}  ignore: {}  learned: {}",
        record.id,
        record.title.as_deref().unwrap_or("-"),
        record.selector.as_deref().unwrap_or("-"),
        patterns(&record.ignore),
        patterns(&record.learned_ignore),
    );
    output(written)?;
    Ok(exit::SUCCESS)
}
