//! `verbatim configure`.

use std::io::Write as _;

use verbatim::extract;

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
    extract::Rules::new(args.selector.as_deref(), &args.ignore)
        .map_err(|e| CommandError::usage(e.to_string()))?;
    let store = ctx.open_store()?;
    let current = store.snapshot()?.resolve(&args.source, &ctx.cwd)?;
    let id = current.id.clone();
    let changes = args.title.is_some()
        || args.selector.is_some()
        || args.no_selector
        || !args.ignore.is_empty()
        || args.clear_ignore;
    // With nothing to change, configure only shows the rules: no lock, no commit.
    let record = if changes {
        update(ctx, &store, &id, &args)?
    } else {
        current
    };
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
        "{id}  title: {}  selector: {}  ignore: {}  learned: {}",
        record.title.as_deref().unwrap_or("-"),
        record.selector.as_deref().unwrap_or("-"),
        patterns(&record.ignore),
        patterns(&record.learned_ignore),
    );
    output(written)?;
    Ok(exit::SUCCESS)
}

/// Applies the changes in `args` to the source `id` in one commit.
fn update(
    ctx: &Context,
    store: &verbatim::store::Store,
    id: &verbatim::source::SourceId,
    args: &Args,
) -> Result<verbatim::store::record::SourceRecord, CommandError> {
    let lock = ctx.lock(store)?;
    let mut tx = store.transaction(&lock)?;
    let record = tx.update_source(id, |source| {
        if let Some(title) = &args.title {
            source.title = Some(title.clone());
        }
        if args.no_selector {
            source.selector = None;
        } else if let Some(selector) = &args.selector {
            source.selector = Some(selector.clone());
        }
        if args.clear_ignore {
            source.ignore.clear();
            source.learned_ignore.clear();
        }
        source.ignore.extend(args.ignore.iter().cloned());
    })?;
    tx.commit(&format!("configure: {id}"))?;
    Ok(record)
}
