//! Source ids, as every record names its source.

use std::fmt;

use sha2::{Digest, Sha256};

/// Number of hex digits in a source id.
pub const ID_LEN: usize = 16;

/// A source's stable short id: 16 lowercase hex digits.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    /// Derives the id of a canonical locator string.
    pub fn from_locator(canonical: &str) -> SourceId {
        let digest = Sha256::digest(canonical.as_bytes());
        let mut hex = crate::hash::to_hex(&digest);
        hex.truncate(ID_LEN);
        SourceId(hex)
    }

    /// Accepts a full id as stored in the store; `None` if it is not 16 lowercase hex digits.
    pub fn parse(text: &str) -> Option<SourceId> {
        is_id_prefix(text)
            .then_some(())
            .filter(|()| text.len() == ID_LEN)
            .map(|()| SourceId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` could be (a prefix of) a source id: 1 to 16 lowercase hex digits.
pub fn is_id_prefix(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
