//! `verbatim export`.

use std::path::PathBuf;

use jiff::Timestamp;
use verbatim::ops::export::{self, Selection};

use super::error::CommandError;
use super::{Context, exit};

/// Write stored versions as a BagIt bag or a WARC file, for archivists' own tools
///
/// A bag (BagIt 1.0, RFC 8493) holds each version's exact bytes and extracted text as payload,
/// SHA-256 and SHA-512 manifests, bag-info.txt (with the sources' locators as
/// External-Identifier) and verbatim's records as a tag file. A WARC file (1.1, gzip per record)
/// holds a response record for each version of a web page (a resource record for a file), with
/// SHA-256 block and payload digests, and verbatim's record of it in a metadata record. Either is
/// written beside its destination and renamed into place when complete.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sources to export (ids, id prefixes, paths or URLs) [default: all]
    #[arg(value_name = "SOURCE")]
    sources: Vec<String>,
    /// Write a BagIt bag at DIR (which must not exist, or be empty)
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "warc",
        conflicts_with = "warc"
    )]
    bagit: Option<PathBuf>,
    /// Write a gzip-compressed WARC file at FILE (which must not exist)
    #[arg(long, value_name = "FILE")]
    warc: Option<PathBuf>,
    /// Only the version of each source current at this time [default: every version]
    #[arg(long, value_name = "DATETIME", value_parser = super::show::parse_datetime)]
    at: Option<Timestamp>,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let mut sources = Vec::new();
    for query in &args.sources {
        sources.push(snapshot.resolve(query, &ctx.cwd)?.id);
    }
    let selection = Selection {
        sources,
        at: args.at,
    };
    let now = verbatim::capture::now();
    let (dest, what, result) = match (&args.bagit, &args.warc) {
        (_, Some(file)) => {
            let dest = ctx.cwd.join(file);
            let result = export::warc(&snapshot, &selection, &dest, now);
            (dest, "a WARC file", result)
        }
        (Some(dir), None) => {
            let dest = ctx.cwd.join(dir);
            let result = export::bagit(&snapshot, &selection, &dest, now);
            (dest, "a BagIt bag", result)
        }
        (None, None) => {
            return Err(CommandError::usage(
                "say what to write: --bagit DIR or --warc FILE",
            ));
        }
    };
    let summary = result?;
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    ctx.ui.note(&format!(
        "exported {} of {} ({}, {} bytes) to {} as {what}",
        n(summary.versions, "version", "versions"),
        n(summary.sources, "source", "sources"),
        n(summary.files, "file", "files"),
        summary.bytes,
        dest.display()
    ));
    Ok(exit::SUCCESS)
}
