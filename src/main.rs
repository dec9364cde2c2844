//! The `verbatim` command. All work happens in the library; this maps its result to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
