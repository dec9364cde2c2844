//! Exit codes, documented in README.md ("Exit codes"). Scripts depend on them: never renumber.

/// Everything asked was done.
pub const SUCCESS: u8 = 0;
/// The command ran and found something to report (changes, problems); reserved for check/verify/cite.
pub const FINDINGS: u8 = 1;
/// The command line or an input named on it is wrong (bad URL, missing file, unknown source).
pub const USAGE: u8 = 2;
/// The store is missing, not a verbatim store, of a newer format, or locked by another run.
pub const STORE: u8 = 3;
/// A source could not be fetched (HTTP error status, connection failure, timeout, too large).
pub const FETCH: u8 = 4;
/// An unexpected failure: I/O or git errors inside the store. Please report it.
pub const INTERNAL: u8 = 5;

/// The exit codes of grep, which check and verify speak as CI scripts expect: 0 nothing found, 1
/// found, and 2 for anything that stopped the command, whatever its usual code.
pub fn grep_style(
    result: Result<u8, super::error::CommandError>,
) -> Result<u8, super::error::CommandError> {
    result.map_err(|mut e| {
        e.code = USAGE;
        e
    })
}
