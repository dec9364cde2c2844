//! `verbatim show`.

use std::io::Write as _;

use jiff::Timestamp;
use verbatim::store::version::{Version, VersionError};

use super::error::CommandError;
use super::{Context, output};

/// Print the text (or exact bytes) of a source's version
///
/// Without --version or --at, the latest version is shown.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source id (or unambiguous prefix), URL or path
    source: String,
    /// Version number (1 is the first capture)
    #[arg(long, value_name = "N", conflicts_with = "at")]
    version: Option<u32>,
    /// The version that was current at this time: RFC 3339 (2024-05-01T12:00:00Z), or a date
    /// (2024-05-01, meaning the end of that day, UTC)
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime)]
    at: Option<Timestamp>,
    /// Print the exact captured bytes instead of the extracted text
    #[arg(long)]
    raw: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let snapshot = store.snapshot()?;
    let source = snapshot.resolve(&args.source, &ctx.cwd)?;
    let versions = snapshot.versions(&source.id)?;
    // By capture time for --at, not version order: concurrent runs capture before they take
    // the lock, so version numbers can commit out of capture order.
    let chosen = match (args.version, args.at) {
        (Some(n), _) => Version::Number(n).find(&source, &versions)?,
        (None, Some(at)) => Version::At(at).find(&source, &versions)?,
        (None, None) => versions.last().ok_or_else(|| VersionError::NoVersions {
            id: source.id.to_string(),
        })?,
    };
    let bytes = snapshot.read(if args.raw { &chosen.raw } else { &chosen.text })?;
    let mut out = ctx.ui.stdout();
    output(out.write_all(&bytes).and_then(|()| out.flush()))
}

pub(super) fn parse_datetime(text: &str) -> Result<Timestamp, String> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>()
        && text.contains([':', 'T', ' '])
    {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        let end = date.to_datetime(jiff::civil::time(23, 59, 59, 999_999_999));
        return end
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "{text:?} is not a date or time; use RFC 3339 (2024-05-01T12:00:00Z) or a date (2024-05-01)"
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_datetime;

    #[test]
    fn datetimes() {
        assert_eq!(
            parse_datetime("2024-05-01T12:00:00Z").unwrap().to_string(),
            "2024-05-01T12:00:00Z"
        );
        assert_eq!(
            parse_datetime("2024-05-01T14:00:00+02:00")
                .unwrap()
                .to_string(),
            "2024-05-01T12:00:00Z"
        );
        assert_eq!(
            parse_datetime("2024-05-01 12:00").unwrap().to_string(),
            "2024-05-01T12:00:00Z"
        );
        assert_eq!(
            parse_datetime("2024-05-01").unwrap().to_string(),
            "2024-05-01T23:59:59.999999999Z"
        );
        assert!(parse_datetime("yesterday").is_err());
    }
}
