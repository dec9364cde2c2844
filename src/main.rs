//! The `verbatim` command. All work happens in the library; this maps its result to an exit code.

// The command line parses, calls the library and prints: it needs no unsafe code.
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
