//! How a capture's bytes were obtained (`origin` in a version record).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a capture's bytes were obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Fetched over HTTP(S).
    Http {
        /// The URL requested.
        requested_url: String,
        /// The URL that finally answered, after redirects.
        final_url: String,
        /// The final HTTP status.
        status: u16,
        /// The provenance headers of the final response (lower-case names).
        headers: BTreeMap<String, String>,
        /// Every redirect followed, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        redirects: Vec<Redirect>,
    },
    /// Read from a local file.
    File {
        /// The absolute path read.
        path: String,
    },
}

/// One redirect hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    /// The URL that answered with a redirect.
    pub url: String,
    /// Its status (301, 302, 303, 307, 308).
    pub status: u16,
    /// The absolute URL it pointed to.
    pub location: String,
}
