//! How the charset of a capture was decided (`charset_source` in a version record).

use serde::{Deserialize, Serialize};

/// How the charset of a capture was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharsetSource {
    /// A byte-order mark at the start of the bytes.
    Bom,
    /// The charset parameter of the HTTP `Content-Type` header.
    Header,
    /// An HTML `<meta charset>` or `http-equiv` declaration.
    Meta,
    /// The bytes are valid UTF-8.
    Utf8,
    /// Statistical detection.
    Detected,
    /// Binary content: no text was decoded.
    None,
    /// A way this version does not know, written by a newer version: read rather than refused,
    /// and written back as `"unknown"` if this version rewrites the record (it never does:
    /// version records are written once).
    #[serde(other)]
    Unknown,
}
