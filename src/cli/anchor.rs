//! `verbatim anchor`.

use std::io::Write as _;

use verbatim::verify::anchor;

use super::error::CommandError;
use super::{Context, Format, exit, output};

/// Print a short digest of everything the store holds, to publish
///
/// The anchor is a SHA-256 of every version record and observation the store holds (each of
/// which carries the SHA-256 of the bytes it describes), with the commit it was taken at.
/// Publish it where the store's keeper cannot change it (a paper, a CI log, a ticket); later,
/// `verbatim verify --anchor ANCHOR` proves the store still holds exactly those records, whatever
/// was added since.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(serde::Serialize)]
struct AnchorJson<'a> {
    anchor: &'a str,
    commit: String,
    digest: &'a str,
    records: usize,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let anchor =
        anchor::anchor(&store).map_err(|e| CommandError::new(exit::STORE, e.to_string()))?;
    let token = anchor.token();
    let mut out = ctx.ui.stdout();
    let written = match args.format {
        Format::Human => {
            ctx.ui.note(&format!(
                "anchors {} records at commit {}; prove it later with `verbatim verify --anchor {token}`",
                anchor.records.len(),
                anchor.commit
            ));
            writeln!(out, "{token}")
        }
        Format::Json => {
            let doc = AnchorJson {
                anchor: &token,
                commit: anchor.commit.to_string(),
                digest: &anchor.digest,
                records: anchor.records.len(),
            };
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
    };
    output(written.and_then(|()| out.flush()))
}
