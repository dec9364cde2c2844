//! `verbatim import`.

use std::path::PathBuf;

use verbatim::ops;

use super::error::CommandError;
use super::{Context, exit};

/// Import the captures of web archives (WARC files) as versions of their URLs
///
/// Every response and resource record becomes a version of its WARC-Target-URI, with its
/// original date, HTTP status and headers (a version is stored only when the bytes differ from
/// the source's current one); revisit records become observations. Request, metadata, warcinfo
/// and conversion records are counted and skipped. Plain, per-record gzip and whole-file gzip
/// are read. A malformed record is reported with its offset and skipped; what was read before it
/// is kept. Records are stored in file order, in commits of up to 1,000.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// WARC files (.warc or .warc.gz)
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// The archives are the store owner's own (a verbatim export, say): take targets that are
    /// local files or internal addresses, which the next check reads or fetches on this machine.
    /// Without it, only http(s) URLs of public hosts become sources
    #[arg(long)]
    trusted: bool,
    /// Largest body taken from a record, in bytes; larger records are reported and skipped
    #[arg(long, default_value_t = verbatim::fetch::Options::default().max_body, value_name = "N", value_parser = super::limits::bytes)]
    max_bytes: u64,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let options = ops::import::Options {
        read: verbatim::formats::warc::read::Options {
            max_bytes: args.max_bytes,
            trusted: args.trusted,
        },
        locking: ctx.locking(),
    };
    let progress = ctx.ui.progress_bar();
    let mut failed = false;
    for file in &args.files {
        let path = ctx.cwd.join(file);
        let imported = ops::import::import(&store, &path, &options, &progress)?;
        for (offset, why) in &imported.tally.malformed {
            failed = true;
            ctx.ui.warn(&CommandError::new(
                exit::USAGE,
                format!(
                    "{}: the record at offset {offset} is malformed and was skipped: {why}",
                    path.display()
                ),
            ));
        }
        ctx.ui
            .note(&format!("{}: {}", path.display(), summary(&imported)));
    }
    Ok(if failed { exit::USAGE } else { exit::SUCCESS })
}

/// Only what happened, each count with its noun in the right number.
fn summary(imported: &ops::import::Imported) -> String {
    let skipped: Vec<String> = imported
        .tally
        .skipped
        .iter()
        .map(|(what, n)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    let count = |n: usize, one: &str, many: &str| {
        (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
    };
    let parts: Vec<String> = [
        count(imported.sources_added, "source added", "sources added"),
        count(imported.new_versions, "new version", "new versions"),
        count(
            imported.unchanged,
            "capture unchanged",
            "captures unchanged",
        ),
        count(
            imported.already_stored,
            "capture already in the store",
            "captures already in the store",
        ),
        count(imported.revisits, "revisit recorded", "revisits recorded"),
        count(
            imported.revisits_unknown,
            "revisit of a capture not in the store skipped",
            "revisits of captures not in the store skipped",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let done = if parts.is_empty() {
        "nothing to import".to_owned()
    } else {
        parts.join(", ")
    };
    let skipped = if skipped.is_empty() {
        String::new()
    } else {
        format!("; skipped {}", skipped.join(", "))
    };
    format!("{done}{skipped}")
}
