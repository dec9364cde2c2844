//! `verbatim export`.

use std::path::PathBuf;

use jiff::Timestamp;
use verbatim::export::{self, Selection};

use super::error::CommandError;
use super::{Context, exit};

/// Write stored versions as a BagIt bag, for archivists' own tools
///
/// The bag (BagIt 1.0, RFC 8493) holds each version's exact bytes and extracted text as payload,
/// SHA-256 and SHA-512 manifests, bag-info.txt (with the sources' locators as
/// External-Identifier) and verbatim's records as a tag file. It is written beside DIR and
/// renamed into place when complete.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sources to export (ids, id prefixes, paths or URLs) [default: all]
    #[arg(value_name = "SOURCE")]
    sources: Vec<String>,
    /// Write a BagIt bag at DIR (which must not exist, or be empty)
    #[arg(long, value_name = "DIR", required = true)]
    bagit: PathBuf,
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
    let dest = ctx.cwd.join(&args.bagit);
    let summary = export::bagit(
        &snapshot,
        &Selection {
            sources,
            at: args.at,
        },
        &dest,
        verbatim::capture::now(),
    )
    .map_err(|e| match e {
        export::Error::Exists(_) => CommandError::usage(e.to_string())
            .hint("name a new directory (or an empty one) for the bag"),
        export::Error::Io { .. } => CommandError::new(exit::INTERNAL, e.to_string()),
        other => CommandError::new(exit::INTERNAL, other.to_string()),
    })?;
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    ctx.ui.note(&format!(
        "exported {} of {} ({}, {} bytes) to {} as a BagIt bag",
        n(summary.versions, "version", "versions"),
        n(summary.sources, "source", "sources"),
        n(summary.files, "file", "files"),
        summary.bytes,
        dest.display()
    ));
    Ok(exit::SUCCESS)
}
