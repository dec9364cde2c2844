//! `verbatim log`.

use verbatim::report;

use super::error::CommandError;
use super::{Context, Format, output};

/// Show a source's versions: time, hashes, size and change in size
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (or unambiguous prefix), URL or path
    source: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let source = snapshot.resolve(&args.source, &ctx.cwd)?;
    let versions = snapshot.versions(&source.id)?;
    let mut out = ctx.ui.output(args.format == Format::Human);
    output(
        match args.format {
            Format::Human => report::log_human(&mut out, &source, &versions, &ctx.ui.styles()),
            Format::Json => report::log_json(&mut out, &versions),
        }
        .and_then(|()| std::io::Write::flush(&mut out)),
    )
}
