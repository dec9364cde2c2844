//! Naming one version of a source: by number, by a prefix of its hashes, or by the time it was
//! current. `show`, `diff` and `export --at` all pick versions this way.

use jiff::Timestamp;

use super::record::{SourceRecord, VersionRecord};

/// How a version is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// By number.
    Number(u32),
    /// By a prefix (lowercase hex) of the SHA-256 of its bytes or of its text.
    Hash(String),
    /// The version current at a time (by capture time, as `show --at` reads it).
    At(Timestamp),
}

/// A version that could not be found, or a pair that cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// No version has this number.
    #[error("{id} has no version {number}")]
    NoNumber {
        /// The source.
        id: String,
        /// The number asked for.
        number: u32,
        /// How many versions it has.
        count: usize,
    },
    /// No version's hashes start with the prefix.
    #[error("no version of {id} has a SHA-256 starting with {prefix}")]
    NoHash {
        /// The source.
        id: String,
        /// The prefix asked for.
        prefix: String,
    },
    /// Several versions' hashes start with the prefix.
    #[error("{prefix} matches versions {} of {id}", versions.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))]
    AmbiguousHash {
        /// The source.
        id: String,
        /// The prefix asked for.
        prefix: String,
        /// The versions it matches.
        versions: Vec<u32>,
    },
    /// The source had no version yet at the time asked for.
    #[error("{id} had no version yet at {at}")]
    NotYet {
        /// The source.
        id: String,
        /// The time asked for.
        at: Timestamp,
        /// Its first capture, if any.
        first: Option<Timestamp>,
    },
    /// The source has no stored version at all.
    #[error("{id} has no stored versions")]
    NoVersions {
        /// The source.
        id: String,
    },
    /// Only one version: no previous one to compare it with.
    #[error("{id} has only one version; there is nothing to compare it with")]
    OnlyOne {
        /// The source.
        id: String,
        /// Its locator (to compare with a fresh copy instead).
        locator: String,
    },
    /// The source's recorded extraction rules do not parse.
    #[error("{id}: its rules: {detail}")]
    Rules {
        /// The source.
        id: String,
        /// Why.
        detail: String,
    },
}

impl Version {
    /// Reads a version as people name it: a number (`3` or `v3`), a prefix of 4 to 64 hex
    /// digits of a SHA-256, or a date or time ([`parse_time`]); `None` for anything else (a
    /// path or a URL, say).
    pub fn parse(text: &str) -> Option<Version> {
        let digits = text.strip_prefix('v').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().ok().map(Version::Number);
        }
        if text.len() >= 4 && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(Version::Hash(text.to_ascii_lowercase()));
        }
        if text.contains('-') {
            return parse_time(text).ok().map(Version::At);
        }
        None
    }

    /// The version `version` names, or the latest when it names none.
    pub fn find_or_latest<'v>(
        version: Option<&Version>,
        source: &SourceRecord,
        versions: &'v [VersionRecord],
    ) -> Result<&'v VersionRecord, VersionError> {
        match version {
            Some(version) => version.find(source, versions),
            None => versions.last().ok_or_else(|| VersionError::NoVersions {
                id: source.id.to_string(),
            }),
        }
    }

    /// The version of `versions` (a source's, in order) this names.
    pub fn find<'v>(
        &self,
        source: &SourceRecord,
        versions: &'v [VersionRecord],
    ) -> Result<&'v VersionRecord, VersionError> {
        let id = source.id.to_string();
        match self {
            Version::Number(n) => {
                versions
                    .iter()
                    .find(|v| v.version == *n)
                    .ok_or(VersionError::NoNumber {
                        id,
                        number: *n,
                        count: versions.len(),
                    })
            }
            Version::Hash(prefix) => {
                let matches: Vec<&VersionRecord> = versions
                    .iter()
                    .filter(|v| {
                        v.raw.sha256.starts_with(prefix.as_str())
                            || v.text.sha256.starts_with(prefix.as_str())
                    })
                    .collect();
                match matches.as_slice() {
                    [one] => Ok(one),
                    [] => Err(VersionError::NoHash {
                        id,
                        prefix: prefix.clone(),
                    }),
                    many => Err(VersionError::AmbiguousHash {
                        id,
                        prefix: prefix.clone(),
                        versions: many.iter().map(|v| v.version).collect(),
                    }),
                }
            }
            Version::At(at) => versions
                .iter()
                .filter(|v| v.captured_at <= *at)
                .max_by_key(|v| (v.captured_at, v.version))
                .ok_or_else(|| VersionError::NotYet {
                    id,
                    at: *at,
                    first: versions.first().map(|v| v.captured_at),
                }),
        }
    }
}

/// A time as `--at` takes it that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(String);

/// Reads a time as people give it: RFC 3339 (`2024-05-01T12:00:00Z`), a date and time without
/// offset (UTC), or a date alone, meaning the end of that day (UTC), so that "the version
/// current on 1 May" includes that day's captures.
pub fn parse_time(text: &str) -> Result<Timestamp, TimeError> {
    use jiff::civil;
    use jiff::tz::TimeZone;
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let in_utc = |dt: civil::DateTime| {
        dt.to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| TimeError(e.to_string()))
    };
    if let Ok(dt) = text.parse::<civil::DateTime>()
        && text.contains([':', 'T', ' '])
    {
        return in_utc(dt);
    }
    if let Ok(date) = text.parse::<civil::Date>() {
        return in_utc(date.to_datetime(civil::time(23, 59, 59, 999_999_999)));
    }
    Err(TimeError(format!(
        "{text:?} is not a date or time; use RFC 3339 (2024-05-01T12:00:00Z) or a date (2024-05-01)"
    )))
}

#[cfg(test)]
mod tests {
    use super::{Version, parse_time};

    #[test]
    fn times() {
        let at = |text: &str| parse_time(text).map(|t| t.to_string()).ok();
        assert_eq!(
            at("2024-05-01T12:00:00Z").as_deref(),
            Some("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            at("2024-05-01T14:00:00+02:00").as_deref(),
            Some("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            at("2024-05-01 12:00").as_deref(),
            Some("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            at("2024-05-01").as_deref(),
            Some("2024-05-01T23:59:59.999999999Z")
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn version_names() {
        assert_eq!(Version::parse("3"), Some(Version::Number(3)));
        assert_eq!(Version::parse("v12"), Some(Version::Number(12)));
        assert_eq!(
            Version::parse("E7F9e8"),
            Some(Version::Hash("e7f9e8".into()))
        );
        assert!(matches!(Version::parse("2024-05-01"), Some(Version::At(_))));
        assert_eq!(Version::parse("article.txt"), None);
        assert_eq!(Version::parse("https://example.com/a"), None);
        assert_eq!(Version::parse("abc"), None);
        // Too large for a version number: not a version, so a document's name.
        assert_eq!(Version::parse("99999999999"), None);
    }
}
