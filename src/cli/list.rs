//! `verbatim list`.

use verbatim::report::{self, SourceSummary};

use super::error::CommandError;
use super::{Context, Format, output};

/// List tracked sources with their version count, last capture and current SHA-256
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let mut rows = Vec::new();
    for source in snapshot.sources()? {
        rows.push(SourceSummary {
            versions: snapshot.version_count(&source.id)?,
            latest: snapshot.latest(&source.id)?,
            source,
        });
    }
    let mut out = ctx.ui.output(args.format == Format::Human);
    output(
        match args.format {
            Format::Human => report::list_human(&mut out, &rows, &ctx.ui.styles()),
            Format::Json => report::list_json(&mut out, &rows),
        }
        .and_then(|()| std::io::Write::flush(&mut out)),
    )
}
