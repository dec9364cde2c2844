//! The command line: global options, the subcommand enum and dispatch. Each subcommand lives in
//! its own file with its `Args` struct (whose doc comment is its help) and a `run` function.

mod add;
mod anchor;
mod args;
mod check;
mod cite;
mod configure;
mod demo;
mod diff;
mod error;
mod exit;
mod export;
mod gc;
mod import;
mod init;
mod limits;
mod list;
mod log;
mod show;
mod ui;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use verbatim::store::{self, Store};

use error::CommandError;
use ui::Ui;

/// Audit documents over time: capture sources into a git-backed, SHA-256-verified store
#[derive(Debug, Parser)]
#[command(name = "verbatim", version, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct GlobalArgs {
    /// The store directory [default: the nearest .verbatim in this or a parent directory]
    #[arg(long, global = true, env = "VERBATIM_STORE", value_name = "DIR")]
    store: Option<PathBuf>,
    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
    /// Print no progress, notes or warnings on stderr
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Seconds to wait for another run's lock on the store before giving up
    #[arg(
        long,
        global = true,
        env = "VERBATIM_LOCK_TIMEOUT",
        default_value_t = 30.0,
        value_name = "SECS",
        value_parser = limits::seconds
    )]
    lock_timeout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Output formats for commands that list things.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// The subcommands. Each one's arguments are defined only when it is the one run (`defer`):
/// otherwise clap builds every subcommand's arguments, with their help, at every start, a
/// tenth of the instructions and page faults of a short run such as a diff of two files. The
/// doc comment of each `Args` is read with its arguments, so each summary that `--help` lists
/// is repeated here; a test checks that the two agree.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum Command {
    /// Create a new, empty store
    Init(init::Args),
    /// Import the captures of web archives (WARC files) as versions of their URLs
    Import(import::Args),
    /// Start tracking sources and capture their first version now
    Add(add::Args),
    /// Print a short digest of everything the store holds, to publish
    Anchor(anchor::Args),
    /// Re-fetch sources and report what happened to each
    Check(check::Args),
    /// Check citations against their sources, or print a durable link to a cited version
    Cite(cite::Args),
    /// Change a source's title or extraction rules (with no options, show them)
    Configure(configure::Args),
    /// Show verbatim end to end on the bundled seed articles, with no network
    Demo(demo::Args),
    /// Show what changed between two versions of a source, or two documents
    Diff(diff::Args),
    /// Write stored versions as a BagIt bag or a WARC file, for archivists' own tools
    Export(export::Args),
    /// Remove what interrupted writes left in the store, keeping everything a ref reaches
    Gc(gc::Args),
    /// List tracked sources with their version count, last capture and current SHA-256
    List(list::Args),
    /// Show a source's versions: time, hashes, size and change in size
    Log(log::Args),
    /// Print the text (or exact bytes) of a source's version
    Show(show::Args),
    /// Prove that the store is intact
    Verify(verify::Args),
}

/// Everything a command needs from the global options and environment.
struct Context {
    ui: Ui,
    cwd: PathBuf,
    store_dir: Option<PathBuf>,
    lock_timeout: Duration,
}

impl Context {
    fn store_path(&self) -> Result<PathBuf, CommandError> {
        Ok(store::locate(self.store_dir.as_deref(), &self.cwd)?)
    }

    fn open_store(&self) -> Result<Store, CommandError> {
        Ok(Store::open(&self.store_path()?)?)
    }

    /// How jobs take the store's writer lock: within --lock-timeout.
    fn locking(&self) -> verbatim::ops::Locking {
        verbatim::ops::Locking {
            timeout: self.lock_timeout,
        }
    }

    fn lock(&self, store: &Store) -> Result<store::Lock, CommandError> {
        let ui = &self.ui;
        Ok(store.lock(self.lock_timeout, &mut |pid| {
            let who = pid.map_or("another process".to_owned(), |p| format!("process {p}"));
            ui.note(&format!("waiting for the store lock held by {who}…"));
        })?)
    }
}

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    ExitCode::from(dispatch(Cli::parse()))
}

/// Runs one parsed command line and returns its exit code; `demo` calls it for each step.
fn dispatch(cli: Cli) -> u8 {
    let ui = Ui::new(cli.global.color, cli.global.quiet);
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            ui.error(&CommandError::new(
                exit::INTERNAL,
                format!("cannot read the current directory: {e}"),
            ));
            return exit::INTERNAL;
        }
    };
    let lock_timeout = limits::duration(cli.global.lock_timeout);
    let ctx = Context {
        ui,
        cwd,
        store_dir: cli.global.store,
        lock_timeout,
    };
    let result = match cli.command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Import(args) => import::run(&ctx, args),
        Command::Add(args) => add::run(&ctx, args),
        Command::Anchor(args) => anchor::run(&ctx, args),
        Command::Check(args) => check::run(&ctx, args),
        Command::Cite(args) => cite::run(&ctx, args),
        Command::Configure(args) => configure::run(&ctx, args),
        Command::Demo(args) => demo::run(&ctx, args),
        Command::Diff(args) => diff::run(&ctx, args),
        Command::Export(args) => export::run(&ctx, args),
        Command::Gc(args) => gc::run(&ctx, args),
        Command::List(args) => list::run(&ctx, args),
        Command::Log(args) => log::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Verify(args) => verify::run(&ctx, args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            ctx.ui.error(&e);
            e.code
        }
    }
}

/// Flushes a report and gives the exit status: 1 if it holds `findings`, else 0 (or the
/// status of a failed write, as [`output`] reads it).
fn finish(
    out: &mut dyn std::io::Write,
    written: std::io::Result<()>,
    findings: bool,
) -> Result<u8, CommandError> {
    let code = output(written.and_then(|()| out.flush()))?;
    Ok(match code {
        exit::SUCCESS if findings => exit::FINDINGS,
        code => code,
    })
}

/// Turns a write error on stdout into a command result: a closed pipe (`| head`) is success.
fn output(result: std::io::Result<()>) -> Result<u8, CommandError> {
    match result {
        Ok(()) => Ok(exit::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::SUCCESS),
        Err(e) => Err(CommandError::new(
            exit::INTERNAL,
            format!("cannot write output: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }

    /// The summaries listed by `verbatim --help` are written twice (see `Command`).
    #[test]
    fn subcommand_summaries_match_their_help() {
        use clap::CommandFactory as _;
        let cli = super::Cli::command();
        let mut built = cli.clone();
        built.build();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            let Some(full) = built.find_subcommand(name) else {
                panic!("{name} is not in the built command");
            };
            assert_eq!(
                sub.get_about().map(ToString::to_string),
                full.get_about().map(ToString::to_string),
                "the summary of `{name}`"
            );
        }
    }
}
