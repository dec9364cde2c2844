//! `verbatim init`.

use verbatim::store::{self, Store};

use super::error::CommandError;
use super::{Context, exit};

/// Create a new, empty store
///
/// Creates DIR (from --store or VERBATIM_STORE), or .verbatim in the current directory.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Context, _args: Args) -> Result<u8, CommandError> {
    let path = match &ctx.store_dir {
        Some(dir) => ctx.cwd.join(dir),
        None => ctx.cwd.join(store::DEFAULT_DIR),
    };
    let store = Store::init(&path)?;
    ctx.ui.note(&format!(
        "created an empty verbatim store in {}",
        store.path().display()
    ));
    Ok(exit::SUCCESS)
}
