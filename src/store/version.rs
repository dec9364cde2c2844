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
