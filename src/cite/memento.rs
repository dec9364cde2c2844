//! Archived copies of a source near a date, through a web archive's TimeGate (RFC 7089, the
//! Memento protocol): for a citation whose live source is gone, the quote is checked in the
//! copy the archive held when the source was cited.

use jiff::Timestamp;
use serde::Serialize;

use super::quote::{Found, Matcher};
use crate::extract::{self, Rules};
use crate::fetch::{self, HttpClient, Validators};

/// An archived copy (a memento) and what became of the quote in it.
#[derive(Debug, Clone, Serialize)]
pub struct MementoReport {
    /// The TimeGate asked.
    pub timegate: String,
    /// The memento's URL (where the TimeGate's redirects ended).
    pub url: String,
    /// When the archive captured it, as its `Memento-Datetime` says.
    pub datetime: Option<String>,
    /// How the quote was found in it, when the citation quotes.
    pub found: Option<Found>,
    /// The closest passage's similarity (1 when found).
    pub similarity: Option<f64>,
    /// The passage found, or the closest.
    pub passage: Option<String>,
}

/// The TimeGate URL for `original`: `{url}` in `timegate` replaced by it (percent-encoded), or
/// else `original` appended as it is (the `https://web.archive.org/web/` convention).
pub fn timegate_url(timegate: &str, original: &str) -> String {
    if timegate.contains("{url}") {
        // In a query, the original's own `&`, `#` and `=` would split it: encoded there.
        let encoded: String = url::form_urlencoded::byte_serialize(original.as_bytes()).collect();
        timegate.replace("{url}", &encoded)
    } else {
        format!("{timegate}{original}")
    }
}

/// `at` as RFC 7089's `Accept-Datetime` writes it (RFC 1123, GMT).
pub fn accept_datetime(at: Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Asks `timegate` for the copy of `original` nearest `at`, follows it to the memento, and
/// looks `quote` up in its text.
pub fn lookup(
    client: &HttpClient,
    timegate: &str,
    original: &str,
    at: Timestamp,
    quote: Option<&str>,
) -> Result<MementoReport, fetch::Error> {
    let gate = timegate_url(timegate, original);
    let url = url::Url::parse(&gate).map_err(|e| fetch::Error::Connection {
        url: gate.clone(),
        detail: format!("not a URL: {e}"),
    })?;
    let datetime = accept_datetime(at);
    let response = client.get_with(
        &url,
        &Validators::default(),
        &[("Accept-Datetime", datetime.as_str())],
    )?;
    let memento_datetime = response.header("memento-datetime").map(str::to_owned);
    let content_type = response.header("content-type").map(str::to_owned);
    let final_url = response.final_url.clone();
    let (extracted, _) = extract::extract_owned(
        response.body,
        content_type.as_deref(),
        None,
        &Rules::default(),
    );
    let mut report = MementoReport {
        timegate: gate,
        url: final_url,
        datetime: memento_datetime,
        found: None,
        similarity: None,
        passage: None,
    };
    if let Some(quote) = quote {
        let matcher = Matcher::new(&extracted.text);
        let m = matcher.find(quote);
        report.found = Some(m.found);
        report.similarity = Some(m.similarity);
        report.passage = matcher.passage(&m);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timegates_and_datetimes_are_written_as_rfc_7089_says() {
        assert_eq!(
            timegate_url("https://web.archive.org/web/", "https://x.org/a"),
            "https://web.archive.org/web/https://x.org/a"
        );
        assert_eq!(
            timegate_url("http://tg.test/timegate?uri={url}", "https://x.org/a"),
            "http://tg.test/timegate?uri=https%3A%2F%2Fx.org%2Fa"
        );
        assert_eq!(
            timegate_url("http://tg.test/?uri={url}", "https://x.org/a?p=1&q=2#f"),
            "http://tg.test/?uri=https%3A%2F%2Fx.org%2Fa%3Fp%3D1%26q%3D2%23f"
        );
        let at: Timestamp = "2024-03-12T23:59:59Z".parse().expect("time");
        assert_eq!(accept_datetime(at), "Tue, 12 Mar 2024 23:59:59 GMT");
    }
}
