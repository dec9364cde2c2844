//! `verbatim verify`.

use verbatim::formats::bagit;
use verbatim::report::verify as printer;
use verbatim::verify::{self, Options};

use super::error::CommandError;
use super::{Context, Format, exit, finish};

/// Prove that the store is intact
///
/// Re-reads every stored version and checks, independently of git's SHA-1: every git object
/// against its id, every stored byte stream against its recorded SHA-256 and length, each
/// source's chain of version records, that every version an observation or the index names
/// exists, and that no commit rewrote a record that is written once. Every problem is
/// reported, not only the first. Exits 0 when everything holds, 1 when a problem was found, 2
/// when the store could not be verified at all.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sources to verify (ids, id prefixes, paths or URLs) [default: the whole store, with its
    /// history]
    #[arg(value_name = "SOURCE")]
    sources: Vec<String>,
    /// Also prove that the store still holds exactly the records it held when `verbatim
    /// anchor` printed this (later additions allowed)
    #[arg(long, value_name = "ANCHOR")]
    anchor: Option<String>,
    /// Validate the BagIt bag at DIR instead (any bag, not only verbatim's; no store needed)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["sources", "anchor"])]
    bagit: Option<std::path::PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    exit::grep_style(run_verify(ctx, args))
}

fn run_verify(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    if let Some(bag) = &args.bagit {
        return verify_bag(ctx, &ctx.cwd.join(bag), args.format);
    }
    let path = ctx.store_path()?;
    let report = match verbatim::store::Store::open(&path) {
        Ok(store) => {
            let mut sources = Vec::new();
            {
                let snapshot = store.snapshot()?;
                for query in &args.sources {
                    sources.push(snapshot.resolve(query, &ctx.cwd)?.id);
                }
            }
            let bar = ctx.ui.counter("verifying", "objects");
            let options = Options {
                sources,
                anchor: args.anchor.clone(),
            };
            let report = verify::verify(&store, &options, &mut |n| {
                if n % 256 == 0 {
                    bar.set_position(n as u64);
                }
            });
            bar.finish_and_clear();
            report
        }
        // A store too damaged to open is a finding, not a failure to run.
        Err(verbatim::store::Error::Damaged { .. }) => verify::verify_unreadable(&path),
        Err(e) => return Err(e.into()),
    }
    .map_err(|e| match e {
        verify::Error::Anchor(verify::anchor::Error::Malformed(_)) => {
            CommandError::usage(e.to_string())
                .hint("give the anchor exactly as `verbatim anchor` printed it")
        }
        e => CommandError::new(exit::STORE, format!("{}: {e}", path.display())),
    })?;
    let mut out = ctx.ui.output(args.format == Format::Human);
    let written = match args.format {
        Format::Human => printer::verify_human(&mut out, &report, &ctx.ui.styles()),
        Format::Json => printer::verify_json(&mut out, &report),
    };
    finish(&mut out, written, !report.ok())
}

fn verify_bag(ctx: &Context, bag: &std::path::Path, format: Format) -> Result<u8, CommandError> {
    let report = bagit::validate::validate(bag)
        .map_err(|e| CommandError::usage(e.to_string()).hint("name the bag's top directory"))?;
    let mut out = ctx.ui.output(format == Format::Human);
    let written = match format {
        Format::Human => printer::bag_human(&mut out, &report, bag, &ctx.ui.styles()),
        Format::Json => printer::bag_json(&mut out, &report),
    };
    finish(&mut out, written, !report.ok())
}
