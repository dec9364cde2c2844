//! Source locators and the short ids derived from them.
//!
//! A source is named on the command line as a local path, a `file://` URL or an `http(s)://` URL.
//! Both local forms normalise to one `file://` locator so the same file is one source however it
//! is named. The id is the first 16 hex digits of the SHA-256 of the canonical locator: stable
//! across machines for URLs, short enough to type, and 64 bits leave collisions negligible.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use url::Url;

pub use crate::model::id::{ID_LEN, SourceId, is_id_prefix};

/// Errors from parsing a source locator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input looks like a URL but does not parse as one.
    #[error("malformed URL {input:?}: {source}")]
    MalformedUrl {
        /// What the user gave.
        input: String,
        /// Why the URL parser refused it.
        source: url::ParseError,
    },
    /// The URL's scheme is not one verbatim can fetch.
    #[error(
        "unsupported URL scheme {scheme:?} in {input}; use http://, https://, file:// or a local path"
    )]
    UnsupportedScheme {
        /// What the user gave.
        input: String,
        /// The scheme found.
        scheme: String,
    },
    /// A `file://` URL that does not name a local absolute path.
    #[error("file URL {input} does not name a local file (use file:///absolute/path)")]
    BadFileUrl {
        /// What the user gave.
        input: String,
    },
    /// An HTTP URL without a host.
    #[error("URL {input} has no host")]
    NoHost {
        /// What the user gave.
        input: String,
    },
    /// The empty string was given as a source.
    #[error("empty source name")]
    Empty,
    /// A locator from content (a WARC record, a citing document) that is not an `http(s)` URL:
    /// content never chooses a local file to read.
    #[error("{input} is not an http(s) URL; only web pages are taken from archives and documents")]
    NotWeb {
        /// What the content gave, credentials removed.
        input: String,
    },
}

/// Where a source lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Locator {
    /// An `http://` or `https://` URL.
    Http(Url),
    /// A local file, by absolute, lexically normalised path.
    File(PathBuf),
}

impl Locator {
    /// Parses what the user typed: a URL, or a path relative to `cwd`.
    pub fn parse(input: &str, cwd: &Path) -> Result<Locator, Error> {
        if input.is_empty() {
            return Err(Error::Empty);
        }
        if let Some(scheme) = url_scheme(input) {
            let url = Url::parse(input).map_err(|source| Error::MalformedUrl {
                input: redact(input),
                source,
            })?;
            // Never stored, never printed: a user name and password are secrets, and a locator
            // is written to the store, its history and its exports (and shown in every report).
            let input = &redact(input);
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" => {
                    if url.host_str().is_none_or(str::is_empty) {
                        return Err(Error::NoHost {
                            input: input.to_owned(),
                        });
                    }
                    Ok(Locator::Http(without_fragment(without_credentials(url))))
                }
                "file" => {
                    let path = url.to_file_path().map_err(|()| Error::BadFileUrl {
                        input: input.to_owned(),
                    })?;
                    Ok(Locator::File(normalize(&path)))
                }
                _ => Err(Error::UnsupportedScheme {
                    input: input.to_owned(),
                    scheme: url.scheme().to_owned(),
                }),
            };
        }
        Ok(Locator::File(normalize(&cwd.join(input))))
    }

    /// Builds the locator of an HTTP URL that is already parsed, such as a WARC target.
    pub fn from_url(url: Url) -> Result<Locator, Error> {
        Locator::parse(url.as_str(), Path::new("/"))
    }

    /// Parses a locator that came from content rather than from the store's owner: a WARC
    /// record's target, a link in a citing document. Only an absolute `http(s)` URL is taken;
    /// a `file:` URL, a path, `data:`, `javascript:` or `urn:` is refused, so that content never
    /// makes verbatim read a file on this machine.
    pub fn from_content(input: &str) -> Result<Locator, Error> {
        let trimmed = input.trim();
        let web = url_scheme(trimmed)
            .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
        if !web {
            return Err(Error::NotWeb {
                input: redact(trimmed),
            });
        }
        Locator::parse(trimmed, Path::new("/"))
    }

    /// The canonical string form: what the store records and what the id is derived from.
    pub fn canonical(&self) -> String {
        match self {
            Locator::Http(url) => url.as_str().to_owned(),
            Locator::File(path) => match Url::from_file_path(path) {
                Ok(url) => url.as_str().to_owned(),
                // Only relative paths fail here, and `normalize` always yields absolute ones.
                Err(()) => format!("file://{}", path.display()),
            },
        }
    }

    /// The stable short id of this source.
    pub fn id(&self) -> SourceId {
        SourceId::from_locator(&self.canonical())
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Http(url) => f.write_str(url.as_str()),
            Locator::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The scheme of `input` if it is written as a URL (`scheme:` followed by `//`, or a web scheme).
fn url_scheme(input: &str) -> Option<&str> {
    let colon = input.find(':')?;
    let scheme = &input[..colon];
    let valid = scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid {
        return None;
    }
    let web = ["http", "https", "file"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme));
    (web || input[colon + 1..].starts_with("//")).then_some(scheme)
}

/// Whether `input`, read as a URL, carries a user name or password (which verbatim drops).
pub fn has_credentials(input: &str) -> bool {
    url_scheme(input).is_some()
        && Url::parse(input).is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
}

/// `url` without its user name and password.
pub fn without_credentials(mut url: Url) -> Url {
    // Both fail only for URLs that cannot have credentials, which then have none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

/// `input` with any `user:password@` after the scheme replaced by `***@`: for echoing a locator
/// that may not parse, in an error, without its secret.
pub fn redact(input: &str) -> String {
    // The URL parser takes `http:user:pw@host` and `http:/user:pw@host` for web schemes too.
    let Some(scheme) = url_scheme(input) else {
        return input.to_owned();
    };
    let after = scheme.len() + 1;
    let start = after
        + input[after..]
            .bytes()
            .take_while(|&b| b == b'/' || b == b'\\')
            .count();
    let rest = &input[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &input[..start], &rest[at..]),
        None => input.to_owned(),
    }
}

fn without_fragment(mut url: Url) -> Url {
    // A fragment never reaches the server, so two URLs differing only in it are one source.
    url.set_fragment(None);
    url
}

/// Makes `path` absolute and removes `.` and `..` lexically, without following symlinks: the
/// user tracks the name they gave, not whatever it points at today.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Locator, Error> {
        Locator::parse(input, Path::new("/work/dir"))
    }

    #[test]
    fn local_path_and_file_url_are_one_source() {
        let a = parse("seeds/a b.txt").unwrap();
        let b = parse("file:///work/dir/seeds/a%20b.txt").unwrap();
        let c = parse("./x/../seeds/a b.txt").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.canonical(), "file:///work/dir/seeds/a%20b.txt");
        assert_eq!(a.id(), b.id());
    }

    #[test]
    fn http_urls_normalise() {
        let a = parse("HTTP://Example.COM:80/a#frag").unwrap();
        assert_eq!(a.canonical(), "http://example.com/a");
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(matches!(
            parse("ftp://example.com/x"),
            Err(Error::UnsupportedScheme { .. })
        ));
        assert!(matches!(parse("http://"), Err(Error::MalformedUrl { .. })));
        assert!(matches!(
            parse("https://exa mple.com/"),
            Err(Error::MalformedUrl { .. })
        ));
        assert!(matches!(parse(""), Err(Error::Empty)));
    }

    #[test]
    fn credentials_are_dropped_and_never_echoed() {
        let a = parse("https://user:s3cret@example.com/a").unwrap();
        assert_eq!(a.canonical(), "https://example.com/a");
        assert!(has_credentials("https://user:s3cret@example.com/a"));
        assert!(!has_credentials("https://example.com/a@b"));
        let e = parse("http://user:s3cret@exa mple.com/")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
        let e = parse("gopher://user:s3cret@example.com/")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
        assert_eq!(redact("http://a:b@c/d@e"), "http://***@c/d@e");
        assert_eq!(
            redact("http:user:s3cret@exa mple.com/"),
            "http:***@exa mple.com/"
        );
        assert_eq!(redact("http:/user:s3cret@host/"), "http:/***@host/");
        assert_eq!(redact("notes:2024.txt"), "notes:2024.txt");
    }

    #[test]
    fn content_gives_only_web_locators() {
        for bad in [
            "file:///etc/passwd",
            "/etc/passwd",
            "etc/passwd",
            "javascript:alert(1)",
            "data:text/html,hi",
            "urn:uuid:1234",
            "FILE:///etc/passwd",
            "",
        ] {
            assert!(Locator::from_content(bad).is_err(), "{bad}");
        }
        let ok = Locator::from_content(" https://u:p@example.com/x ").unwrap();
        assert_eq!(ok.canonical(), "https://example.com/x");
    }

    #[test]
    fn colon_in_a_path_is_a_path() {
        assert!(matches!(parse("notes:2024.txt"), Ok(Locator::File(_))));
    }

    #[test]
    fn ids_are_16_hex_and_stable() {
        let id = SourceId::from_locator("https://example.com/");
        assert_eq!(id.as_str().len(), ID_LEN);
        assert_eq!(id, SourceId::from_locator("https://example.com/"));
        assert!(is_id_prefix(&id.as_str()[..4]));
        assert!(!is_id_prefix("xyz"));
        assert_eq!(SourceId::parse(id.as_str()), Some(id));
    }
}
