//! Durable links to a cited version: a Robust Link (the Robust Links specification's
//! `data-versionurl` and `data-versiondate` on a link to the original URL), and a citation in
//! BibTeX and CSL-JSON that carries the SHA-256 of the version cited.
//!
//! Without an archived copy to point at, the version URL is an RFC 6920 `ni:` URI: it names the
//! cited bytes by their SHA-256, so anyone holding a copy (this store, a bag or WARC exported
//! from it) can show it is the one cited.

use crate::store::record::{SourceRecord, VersionRecord};

/// A version to cite, and where an archived copy of it can be read, if anywhere.
pub struct CitedVersion<'a> {
    /// The source.
    pub source: &'a SourceRecord,
    /// The version cited.
    pub version: &'a VersionRecord,
    /// An archived copy's URL (a memento, say); else the `ni:` URI of the bytes is used.
    pub version_url: Option<&'a str>,
}

impl CitedVersion<'_> {
    /// The URL a reader follows to the cited version.
    pub fn version_url(&self) -> String {
        match self.version_url {
            Some(url) => url.to_owned(),
            None => ni_uri(&self.version.raw.sha256, &self.version.media_type)
                .unwrap_or_else(|| format!("urn:sha256:{}", self.version.raw.sha256)),
        }
    }

    /// The capture date, as the Robust Links specification writes it (ISO 8601, UTC).
    pub fn version_date(&self) -> String {
        self.version
            .captured_at
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    fn title(&self) -> &str {
        self.source
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(&self.source.locator)
    }
}

/// An RFC 6920 `ni:` URI for a SHA-256 given in hex, with the media type as its `ct` parameter;
/// `None` when the hex is not a SHA-256.
pub fn ni_uri(sha256_hex: &str, media_type: &str) -> Option<String> {
    let digest = data_encoding::HEXLOWER_PERMISSIVE
        .decode(sha256_hex.as_bytes())
        .ok()
        .filter(|d| d.len() == 32)?;
    let value = data_encoding::BASE64URL_NOPAD.encode(&digest);
    let ct: String = url::form_urlencoded::byte_serialize(media_type.as_bytes()).collect();
    Some(format!("ni:///sha-256;{value}?ct={ct}"))
}

/// The Robust Link: an HTML `<a>` to the original URL with the version's URL and date.
pub fn robust_link(v: &CitedVersion<'_>) -> String {
    format!(
        "<a href=\"{}\" data-versionurl=\"{}\" data-versiondate=\"{}\">{}</a>",
        html_attr(&v.source.locator),
        html_attr(&v.version_url()),
        v.version_date(),
        html_text(v.title()),
    )
}

/// A BibLaTeX `@online` entry for the version: `url`, `urldate` (the capture date), and a note
/// and `sha256` field naming the exact bytes.
pub fn bibtex(v: &CitedVersion<'_>) -> String {
    let key = format!("{}v{}", v.source.id, v.version.version);
    let date = v.version.captured_at.strftime("%Y-%m-%d");
    format!(
        "@online{{{key},\n  title = {{{}}},\n  url = {{{}}},\n  urldate = {{{date}}},\n  note = {{Version {} as captured {} by verbatim; SHA-256 {}}},\n  sha256 = {{{}}},\n}}\n",
        bib_text(v.title()),
        bib_url(&v.source.locator),
        v.version.version,
        v.version_date(),
        v.version.raw.sha256,
        v.version.raw.sha256,
    )
}

/// A CSL-JSON item (as Zotero and pandoc read) for the version.
pub fn csl_json(v: &CitedVersion<'_>) -> serde_json::Value {
    let at = v.version.captured_at.to_zoned(jiff::tz::TimeZone::UTC);
    serde_json::json!({
        "id": format!("{}v{}", v.source.id, v.version.version),
        "type": "webpage",
        "title": v.title(),
        "URL": v.source.locator,
        "accessed": {"date-parts": [[at.year(), at.month(), at.day()]]},
        "note": format!(
            "Version {} as captured {} by verbatim; SHA-256 {}; archived copy: {}",
            v.version.version,
            v.version_date(),
            v.version.raw.sha256,
            v.version_url()
        ),
    })
}

fn html_attr(text: &str) -> String {
    html_text(text).replace('"', "&quot;")
}

fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text for a BibTeX field: braces dropped, TeX's special characters escaped.
fn bib_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '{' | '}' => {}
            '\\' => out.push_str("\\textbackslash{}"),
            '%' | '&' | '#' | '$' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c => out.push(c),
        }
    }
    out
}

/// A URL for a BibTeX field: unbalanced braces would end the field, so they are
/// percent-encoded; `%` is left alone (biblatex's `url` field is verbatim).
fn bib_url(url: &str) -> String {
    url.replace('{', "%7B").replace('}', "%7D")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ni_uris_name_the_bytes() {
        // The SHA-256 of "Hello World!", in base64url without padding.
        let sha = "7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069";
        assert_eq!(
            ni_uri(sha, "text/plain").as_deref(),
            Some("ni:///sha-256;f4OxZX_x_FO5LcGBSKHWXfwtSx-j1ncoSt3SABJtkGk?ct=text%2Fplain")
        );
        assert_eq!(ni_uri("abc", "text/html"), None);
    }

    #[test]
    fn bibtex_fields_escape_tex() {
        assert_eq!(
            bib_text("50% of {R&D} costs_total"),
            "50\\% of R\\&D costs\\_total"
        );
        assert_eq!(bib_url("https://x.org/a{b}"), "https://x.org/a%7Bb%7D");
    }
}
