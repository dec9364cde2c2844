//! `verbatim gc`.

use std::io::Write as _;

use verbatim::report::gc as printer;
use verbatim::store::gc::Options;

use super::error::CommandError;
use super::{Context, Format, output};

/// Remove what interrupted writes left in the store, keeping everything a ref reaches
///
/// A run killed before it published its commit leaves the objects it wrote behind, unreferenced.
/// gc takes the store's writer lock (so no other verbatim run is writing), finds every object
/// reachable from HEAD, any ref under refs/ or any reflog entry, and deletes the loose objects
/// nothing reaches, and temporary files in objects/ (tmp_*, pack_git2_*, *.lock) older than an
/// hour: younger ones may belong to a git process writing right now. Packs are never rewritten.
/// With --pack, the reachable loose objects also go into one new pack, written and flushed to
/// disk before any loose copy is deleted; verify then reads them more slowly, since they are
/// deflated. A kill at any point leaves the store verifiable.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report what would be removed (and packed), and change nothing
    #[arg(long)]
    dry_run: bool,
    /// Also pack the reachable loose objects into one new pack
    #[arg(long)]
    pack: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let lock = ctx.lock(&store)?;
    let options = Options {
        dry_run: args.dry_run,
        pack: args.pack,
        ..Options::default()
    };
    let report = store.gc(&lock, &options)?;
    drop(lock);
    let mut out = ctx.ui.output(args.format == Format::Human);
    let written = match args.format {
        Format::Human => printer::gc_human(&mut out, &report, &ctx.ui.styles()),
        Format::Json => printer::gc_json(&mut out, &report),
    };
    output(written.and_then(|()| out.flush()))
}
