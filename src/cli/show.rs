//! `verbatim show`.

use std::io::Write as _;

use jiff::Timestamp;
use verbatim::store::version::Version;

use super::error::CommandError;
use super::{Context, output};

/// Print the text (or exact bytes) of a source's version
///
/// Without --version or --at, the latest version is shown.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (or unambiguous prefix), URL or path
    source: String,
    /// Version number (1 is the first capture)
    #[arg(long, value_name = "N", conflicts_with = "at")]
    version: Option<u32>,
    /// The version that was current at this time: RFC 3339 (2024-05-01T12:00:00Z), or a date
    /// (2024-05-01, meaning the end of that day, UTC)
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime)]
    at: Option<Timestamp>,
    /// Print the exact captured bytes instead of the extracted text
    #[arg(long)]
    raw: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let source = snapshot.resolve(&args.source, &ctx.cwd)?;
    let versions = snapshot.versions(&source.id)?;
    // By capture time for --at, not version order: concurrent runs capture before they take
    // the lock, so version numbers can commit out of capture order.
    let version = match (args.version, args.at) {
        (Some(n), _) => Some(Version::Number(n)),
        (None, at) => at.map(Version::At),
    };
    let chosen = Version::find_or_latest(version.as_ref(), &source, &versions)?;
    let bytes = snapshot.read(if args.raw { &chosen.raw } else { &chosen.text })?;
    let mut out = ctx.ui.stdout();
    output(out.write_all(&bytes).and_then(|()| out.flush()))
}

/// `--at` for the commands that take it.
pub(super) fn parse_datetime(text: &str) -> Result<Timestamp, String> {
    verbatim::store::version::parse_time(text).map_err(|e| e.to_string())
}
