//! Parsers for the numeric options, with their ranges: a number out of range is refused by
//! the parser with a one-line error before any work starts, rather than panicking (a deadline
//! past the end of time), aborting (a billion threads' stacks) or starting 100,000 threads.

use std::str::FromStr;
use std::time::Duration;

/// Most workers (`--jobs`) or requests to one host (`--per-host`): far past what one machine's
/// connections or one host's patience use well.
pub const MAX_WORKERS: u64 = 256;
/// Longest wait any option sets: a week.
pub const MAX_SECONDS: u64 = 7 * 24 * 60 * 60;
/// Largest `--max-bytes`: 64 GiB, far past any document, and well inside what the arithmetic
/// on it (a read of one byte past the limit) can hold.
pub const MAX_BYTES: u64 = 64 << 30;
/// Most `--retries`.
pub const MAX_RETRIES: u64 = 20;
/// Most `--max-redirects`.
pub const MAX_REDIRECTS: u64 = 100;

/// A whole number from `low` to `high`, as clap shows errors: one line saying the range.
fn ranged<T: TryFrom<u64>>(text: &str, low: u64, high: u64) -> Result<T, String> {
    let n = u64::from_str(text.trim())
        .map_err(|_| format!("{text:?} is not a whole number from {low} to {high}"))?;
    if !(low..=high).contains(&n) {
        return Err(format!(
            "{n} is out of range: use a number from {low} to {high}"
        ));
    }
    T::try_from(n).map_err(|_| format!("{n} is too large for this machine"))
}

/// `--jobs`, `--per-host`: 1 to [`MAX_WORKERS`].
pub fn workers(text: &str) -> Result<usize, String> {
    ranged(text, 1, MAX_WORKERS)
}

/// A timeout in whole seconds: 1 to [`MAX_SECONDS`].
pub fn whole_seconds(text: &str) -> Result<u64, String> {
    ranged(text, 1, MAX_SECONDS)
}

/// `--max-bytes`: 1 to [`MAX_BYTES`].
pub fn bytes(text: &str) -> Result<u64, String> {
    ranged(text, 1, MAX_BYTES)
}

/// `--retries`: 0 to [`MAX_RETRIES`].
pub fn retries(text: &str) -> Result<u32, String> {
    ranged(text, 0, MAX_RETRIES)
}

/// `--max-redirects`: 0 to [`MAX_REDIRECTS`].
pub fn redirects(text: &str) -> Result<u32, String> {
    ranged(text, 0, MAX_REDIRECTS)
}

/// A wait in seconds, fractions allowed (`--deadline`, `--lock-timeout`): 0 to [`MAX_SECONDS`].
pub fn seconds(text: &str) -> Result<f64, String> {
    let n =
        f64::from_str(text.trim()).map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.0..=MAX_SECONDS as f64).contains(&n) {
        return Err(format!(
            "{text} is out of range: use a number of seconds from 0 to {MAX_SECONDS}"
        ));
    }
    Ok(n)
}

/// A wait that [`seconds`] accepted, as a `Duration`.
pub fn duration(seconds: f64) -> Duration {
    // In range by construction: `seconds` refused anything negative, not finite or too large.
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(MAX_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_numbers_are_refused_in_one_line() {
        for bad in [
            "0",
            "257",
            "18446744073709551615",
            "1000000000",
            "-1",
            "x",
            "",
        ] {
            let e = workers(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{e}");
        }
        assert_eq!(workers("8"), Ok(8));
        for bad in ["1e19", "NaN", "inf", "-0.5", "604801"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(seconds("0.25"), Ok(0.25));
        assert!(bytes("18446744073709551615").is_err());
        assert_eq!(retries("0"), Ok(0));
        assert!(whole_seconds("0").is_err());
    }
}
