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
    /// path or a URL, say). Four digits or more without a `v` are a hash prefix, as `log`
    /// shows them (one in seven is all digits), which [`Version::find`] reads as a version
    /// number when no hash starts with them.
    pub fn parse(text: &str) -> Option<Version> {
        let digits = text.strip_prefix('v').unwrap_or(text);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits.len() < 4 || digits.len() < text.len())
        {
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
                // All digits: a version number too, when no hash starts with them.
                let number = prefix
                    .parse::<u32>()
                    .ok()
                    .filter(|_| prefix.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| versions.iter().find(|v| v.version == n));
                match (matches.as_slice(), number) {
                    ([one], _) => Ok(one),
                    ([], Some(one)) => Ok(one),
                    ([], None) => Err(VersionError::NoHash {
                        id,
                        prefix: prefix.clone(),
                    }),
                    (many, _) => Err(VersionError::AmbiguousHash {
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
        // Four digits or more: a hash prefix first (log shows hashes by their first digits).
        assert_eq!(Version::parse("1234"), Some(Version::Hash("1234".into())));
        assert_eq!(Version::parse("v1234"), Some(Version::Number(1234)));
        assert_eq!(
            Version::parse("99999999999"),
            Some(Version::Hash("99999999999".into()))
        );
        assert_eq!(Version::parse("1".repeat(65).as_str()), None);
    }

    #[test]
    fn digits_name_a_hash_before_a_number() {
        use crate::model::VersionRecord;
        use crate::model::{CharsetSource, Origin, SourceId, SourceRecord, StoredBlob};
        let id = SourceId::from_locator("file:///a.txt");
        let at: jiff::Timestamp = "2026-11-24T01:50:07Z".parse().expect("time");
        let blob = |sha256: String| StoredBlob {
            sha256,
            bytes: 1,
            git_blob: "0".repeat(40),
        };
        let mut versions: Vec<VersionRecord> = (1..=1300)
            .map(|n| VersionRecord {
                version: n,
                source: id.clone(),
                captured_at: at,
                raw: blob(format!("ab{n:062}")),
                text: blob(format!("cd{n:062}")),
                canonical_sha256: None,
                media_type: "text/plain".to_owned(),
                charset: None,
                charset_source: CharsetSource::None,
                origin: Origin::File {
                    path: "/a.txt".to_owned(),
                },
                previous_record_sha256: None,
            })
            .collect();
        versions[4].raw.sha256 = format!("1234{}", "f".repeat(60));
        let source = SourceRecord {
            id,
            locator: "file:///a.txt".to_owned(),
            title: None,
            added_at: at,
            selector: None,
            ignore: Vec::new(),
            from_content: false,
            learned_ignore: Vec::new(),
        };
        let find = |text: &str| {
            Version::parse(text)
                .and_then(|v| v.find(&source, &versions).ok())
                .map(|v| v.version)
        };
        assert_eq!(find("1234"), Some(5), "the hash that starts with it");
        assert_eq!(find("v1234"), Some(1234));
        assert_eq!(find("1299"), Some(1299), "no hash starts with it");
        assert_eq!(find("4"), Some(4));
        assert_eq!(find("9999"), None);
    }
}
