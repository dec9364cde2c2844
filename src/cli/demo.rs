//! `verbatim demo`: the whole story on the bundled seed articles, with no network.

use std::path::PathBuf;

use clap::Parser as _;

use super::error::CommandError;
use super::{Cli, Context, dispatch, exit};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for the demo store [default: a new directory under the system temp dir]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// What the server answers for a path.
pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let dir = match args.dir {
        Some(dir) => ctx.cwd.join(dir),
        None => {
            let stamp = jiff::Timestamp::now().as_millisecond();
            std::env::temp_dir().join(format!("verbatim-demo-{}-{stamp}", std::process::id()))
        }
    };
    let site = verbatim::demo::Site::start().map_err(|e| {
        CommandError::new(
            exit::INTERNAL,
            format!("cannot start the demo web server on 127.0.0.1: {e}"),
        )
    })?;
    let port = site.port();
    let urls = site.urls();
    let store = dir.display().to_string();
    let step = |title: &str| ctx.ui.note(&format!("\n== {title}"));
    let run = |words: &[&str]| -> u8 {
        let mut argv = vec!["verbatim", "--store", store.as_str()];
        argv.extend_from_slice(words);
        match Cli::try_parse_from(&argv) {
            Ok(cli) => dispatch(cli),
            Err(e) => {
                ctx.ui
                    .error(&CommandError::new(exit::INTERNAL, e.to_string()));
                exit::INTERNAL
            }
        }
    };

    step(&format!(
        "1. A store in {store}, and five articles served on http://127.0.0.1:{port}/"
    ));
    let mut code = run(&["init"]);
    if code == exit::SUCCESS {
        let mut add = vec!["add"];
        add.extend(urls.iter().map(String::as_str));
        code = run(&add);
    }
    if code == exit::SUCCESS {
        step("2. Checked again at once: only the page furniture changed (cosmetic)");
        code = run(&["check"]);
    }
    if code == exit::SUCCESS {
        step("3. The publishers change things; verbatim checks again");
        site.publish_edits();
        code = match run(&["check"]) {
            exit::FINDINGS => exit::SUCCESS,
            other => other,
        };
    }
    drop(site);
    if code == exit::SUCCESS {
        let first = urls.first().map_or("", String::as_str);
        step("4. Explore");
        ctx.ui.note(&format!(
            "verbatim --store {store} log {first}\n\
             verbatim --store {store} show {first} --version 1\n\
             git -C {store} log -p --word-diff -- 'sources/*/text.txt'"
        ));
    }
    Ok(code)
}
