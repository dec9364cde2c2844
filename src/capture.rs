//! Capturing a source: fetch its bytes, then derive its text and metadata.

use jiff::{Timestamp, Unit};

use crate::extract::{self, Extracted};
use crate::fetch::{self, HttpClient};
use crate::source::Locator;

pub use crate::model::Origin;

/// One capture of a source, not yet stored.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The source captured.
    pub locator: Locator,
    /// When the bytes were obtained (UTC, microsecond precision).
    pub captured_at: Timestamp,
    /// The exact bytes.
    pub raw: Vec<u8>,
    /// The text and metadata derived from them.
    pub extracted: Extracted,
    /// How the bytes were obtained.
    pub origin: Origin,
    /// The locator came from content (a WARC record, a citing document), not from the store's
    /// owner: a new source made from it is marked so, and is never fetched from an internal
    /// address ([`crate::fetch::Reach::Public`]).
    pub from_content: bool,
}

impl Capture {
    /// Derives the text of bytes already obtained, as [`capture`] does after fetching.
    pub fn from_parts(
        locator: Locator,
        captured_at: Timestamp,
        raw: Vec<u8>,
        origin: Origin,
        rules: &extract::Rules,
    ) -> Capture {
        let extracted = text_of(&locator, &raw, &origin, rules);
        Capture {
            locator,
            captured_at,
            raw,
            extracted,
            origin,
            from_content: false,
        }
    }
}

/// The text and metadata of bytes obtained from `locator` (as [`Capture::from_parts`] derives
/// them), for a caller that keeps the bytes.
pub fn text_of(
    locator: &Locator,
    raw: &[u8],
    origin: &Origin,
    rules: &extract::Rules,
) -> Extracted {
    let (content_type, name) = match (origin, locator) {
        (Origin::Http { headers, .. }, Locator::Http(url)) => (
            headers.get("content-type").cloned(),
            url.path_segments()
                .and_then(|mut s| s.next_back())
                .map(str::to_owned),
        ),
        (_, Locator::File(path)) => (
            None,
            path.file_name().and_then(|n| n.to_str()).map(str::to_owned),
        ),
        _ => (None, None),
    };
    extract::extract_with(raw, content_type.as_deref(), name.as_deref(), rules)
}

/// Bytes obtained from a source, before any text is derived from them.
#[derive(Debug, Clone)]
pub struct Body {
    /// When they were obtained (as [`now`] gives it).
    pub at: Timestamp,
    /// The exact bytes.
    pub raw: Vec<u8>,
    /// How.
    pub origin: Origin,
}

impl Origin {
    /// The origin of an HTTP response.
    pub fn from_response(response: &fetch::HttpResponse) -> Origin {
        Origin::Http {
            requested_url: response.requested_url.clone(),
            final_url: response.final_url.clone(),
            status: response.status,
            headers: response.headers.iter().cloned().collect(),
            redirects: response.redirects.clone(),
        }
    }
}

/// Captures `locator` now.
pub fn capture(
    locator: &Locator,
    client: &HttpClient,
    max_bytes: u64,
    rules: &extract::Rules,
) -> Result<Capture, fetch::Error> {
    capture_within(locator, client, max_bytes, rules, None)
}

/// As [`capture`], holding a slot of `hosts` (when given) while the page is fetched, and only
/// then: extraction, the slow part, does not keep a site's slot busy.
pub fn capture_within(
    locator: &Locator,
    client: &HttpClient,
    max_bytes: u64,
    rules: &extract::Rules,
    hosts: Option<&fetch::HostLimit>,
) -> Result<Capture, fetch::Error> {
    let body = fetch_within(locator, client, max_bytes, hosts)?;
    Ok(Capture::from_parts(
        locator.clone(),
        body.at,
        body.raw,
        body.origin,
        rules,
    ))
}

/// Obtains `locator`'s bytes now, as [`capture_within`] does, without deriving their text.
pub fn fetch_within(
    locator: &Locator,
    client: &HttpClient,
    max_bytes: u64,
    hosts: Option<&fetch::HostLimit>,
) -> Result<Body, fetch::Error> {
    match locator {
        Locator::File(path) => {
            let raw = fetch::read_file(path, max_bytes)?;
            Ok(Body {
                at: now(),
                raw,
                origin: Origin::File {
                    path: path.display().to_string(),
                },
            })
        }
        Locator::Http(url) => {
            let response = {
                let _slot = hosts.and_then(|h| h.enter_url(url));
                client.get(url)?
            };
            Ok(Body {
                at: now(),
                origin: Origin::from_response(&response),
                raw: response.body,
            })
        }
    }
}

/// The current time as verbatim records it: UTC, rounded to the microsecond.
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    now.round(Unit::Microsecond).unwrap_or(now)
}
