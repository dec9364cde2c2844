//! Reading web archives that other tools made: WARC files (ISO 28500, 1.0 and 1.1), plain,
//! gzip-compressed record by record, or compressed whole.
//!
//! Each `response` and `resource` record becomes a capture of its `WARC-Target-URI` with its
//! original date, HTTP status and headers; `revisit` records become observations of the capture
//! they revisit; `request`, `metadata`, `warcinfo` and `conversion` records are counted and
//! skipped. A malformed record is reported with its offset (in the decompressed stream) and
//! skipped: reading resumes at the next `WARC/` line, and nothing already read is lost.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

use jiff::Timestamp;

use crate::capture::{Capture, Origin};
use crate::fetch::PROVENANCE_HEADERS;
use crate::source::Locator;

/// One record read from an archive.
#[derive(Debug)]
pub enum Item {
    /// A capture to store, from a `response` or `resource` record.
    Capture(Box<Capture>),
    /// A `revisit` record: the target was seen again, unchanged, at `at`.
    Revisit {
        /// The target.
        locator: Locator,
        /// When.
        at: Timestamp,
    },
}

/// What reading an archive found besides its captures.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Records read, by `WARC-Type`.
    pub by_type: BTreeMap<String, usize>,
    /// Records skipped, by reason ("warcinfo record", "request record", …).
    pub skipped: BTreeMap<String, usize>,
    /// Malformed records: offset in the decompressed stream, and what is wrong.
    pub malformed: Vec<(u64, String)>,
}

/// Why an archive could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is missing, not a regular file, or cannot be opened.
    #[error("{source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: Box<crate::fetch::Error>,
    },
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Limits for reading an archive, which is untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Largest body (decoded) taken from a record, as `add --max-bytes`; a larger record is
    /// reported and skipped without being read into memory.
    pub max_bytes: u64,
    /// The archive is the store owner's own: take targets that are local files, or whose host
    /// is an internal address (loopback, private, link-local). Otherwise an archive is content,
    /// and content never chooses a file to read or an internal address to fetch on this machine.
    pub trusted: bool,
}

/// Room for a record's HTTP headers beside its body.
const HEADER_ROOM: u64 = 1 << 20;
/// Longest line read anywhere in an archive (a WARC header, a skipped line): a file of one
/// endless line must not be read into memory whole.
const MAX_LINE: u64 = 64 << 10;

/// Reads every record of the WARC file at `path`, handing each capture or revisit to `each` in
/// file order.
pub fn read_warc(
    path: &std::path::Path,
    options: Options,
    each: &mut dyn FnMut(Item),
) -> Result<Tally, Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    // A FIFO or device named as an archive would block or never end.
    let (file, _) = crate::fetch::open_regular(path).map_err(|e| Error::Open {
        path: path.display().to_string(),
        source: Box::new(e),
    })?;
    let mut file = BufReader::new(file);
    let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        // One member a record, or the whole file in one: MultiGzDecoder reads both.
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut r = Counting {
        inner: BufReader::with_capacity(1 << 16, reader),
        offset: 0,
    };
    let mut tally = Tally::default();
    loop {
        // Find the next record's version line.
        let start = r.offset;
        let mut line = Vec::new();
        let n = r.read_line(&mut line).map_err(io)?;
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.is_empty() {
            continue;
        }
        if !text.starts_with("WARC/") {
            tally.malformed.push((
                start,
                format!("expected a WARC/1.x line, found {:?}", truncate(text)),
            ));
            // Resynchronise: skip to the next version line.
            if !skip_to_next_record(&mut r).map_err(io)? {
                break;
            }
            continue;
        }
        match read_record(&mut r, options.max_bytes.saturating_add(HEADER_ROOM)) {
            Ok(Some((headers, block))) => {
                let kind = headers.get("warc-type").cloned().unwrap_or_default();
                *tally.by_type.entry(kind.clone()).or_default() += 1;
                match interpret(&kind, &headers, block, options) {
                    Ok(Some(item)) => each(item),
                    Ok(None) => *tally.skipped.entry(format!("{kind} record")).or_default() += 1,
                    Err(why) => tally.malformed.push((start, why)),
                }
            }
            Ok(None) => {
                tally.malformed.push((
                    start,
                    "the record ends before its Content-Length".to_owned(),
                ));
                break;
            }
            Err(RecordError::Io(e)) => return Err(io(e)),
            Err(RecordError::TooLarge(why)) => tally.malformed.push((start, why)),
            Err(RecordError::Bad(why)) => {
                tally.malformed.push((start, why));
                if !skip_to_next_record(&mut r).map_err(io)? {
                    break;
                }
            }
        }
    }
    Ok(tally)
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A reader that counts the bytes read through it.
struct Counting<R> {
    inner: BufReader<R>,
    offset: u64,
}

impl<R: Read> Counting<R> {
    /// Reads up to and including the next line feed, or [`MAX_LINE`] bytes, whichever is first.
    fn read_line(&mut self, out: &mut Vec<u8>) -> std::io::Result<usize> {
        let n = (&mut self.inner).take(MAX_LINE).read_until(b'\n', out)?;
        self.offset += n as u64;
        Ok(n)
    }

    /// Reads past `n` bytes without keeping them; false if the stream ends first.
    fn skip(&mut self, n: u64) -> std::io::Result<bool> {
        let skipped = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())?;
        self.offset += skipped;
        Ok(skipped == n)
    }

    fn read_exact(&mut self, out: &mut [u8]) -> std::io::Result<()> {
        self.inner.read_exact(out)?;
        self.offset += out.len() as u64;
        Ok(())
    }
}

/// Skips lines up to the next `WARC/` version line, leaving it unread; returns false at the end
/// of the stream.
fn skip_to_next_record<R: Read>(r: &mut Counting<R>) -> std::io::Result<bool> {
    loop {
        let buf = r.inner.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        if buf.starts_with(b"WARC/") {
            return Ok(true);
        }
        let mut line = Vec::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(false);
        }
    }
}

/// Header fields, by lower-case name.
type Headers = BTreeMap<String, String>;

enum RecordError {
    Io(std::io::Error),
    /// Malformed: reading resumes at the next version line.
    Bad(String),
    /// Well formed but over the limit, and already skipped.
    TooLarge(String),
}

/// Most header fields a record may have.
const MAX_HEADERS: usize = 1000;

/// Reads a record's headers (the version line already read) and block. `None` when the stream
/// ends inside the block.
fn read_record<R: Read>(
    r: &mut Counting<R>,
    max_block: u64,
) -> Result<Option<(Headers, Vec<u8>)>, RecordError> {
    let mut headers = BTreeMap::new();
    loop {
        let mut line = Vec::new();
        if r.read_line(&mut line).map_err(RecordError::Io)? == 0 {
            return Ok(None);
        }
        if !line.ends_with(b"\n") && line.len() as u64 >= MAX_LINE {
            return Err(RecordError::Bad(format!(
                "a header line longer than {MAX_LINE} bytes"
            )));
        }
        if headers.len() >= MAX_HEADERS {
            return Err(RecordError::Bad(format!(
                "more than {MAX_HEADERS} header fields"
            )));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        match text.split_once(':') {
            Some((name, value)) => {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
            None => {
                return Err(RecordError::Bad(format!(
                    "a header line without a colon: {:?}",
                    truncate(text)
                )));
            }
        }
    }
    let length: u64 = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| RecordError::Bad("the record has no valid Content-Length".to_owned()))?;
    if length > max_block {
        // Skipped by its length, never held: the next record starts right after it.
        return if r.skip(length).map_err(RecordError::Io)? {
            Err(RecordError::TooLarge(format!(
                "the record's block of {length} bytes is over the limit of {max_block} (raise --max-bytes)"
            )))
        } else {
            Ok(None)
        };
    }
    let mut block = vec![0u8; length as usize];
    match r.read_exact(&mut block) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(RecordError::Io(e)),
    }
    Ok(Some((headers, block)))
}

/// What a record means: a capture, a revisit, or nothing to store (`None`).
fn interpret(
    kind: &str,
    headers: &BTreeMap<String, String>,
    block: Vec<u8>,
    options: Options,
) -> Result<Option<Item>, String> {
    if !matches!(kind, "response" | "resource" | "revisit") {
        return Ok(None);
    }
    let target = headers
        .get("warc-target-uri")
        .map(|t| t.trim_matches(['<', '>']))
        .ok_or("the record has no WARC-Target-URI")?;
    // The target is content: only a web URL becomes a source, never a local file.
    let locator = if options.trusted {
        Locator::parse(target, std::path::Path::new("/"))
            .map_err(|e| format!("its target is refused: {e}"))?
    } else {
        Locator::from_content(target).map_err(|e| {
            format!("its target is refused: {e} (give --trusted if the archive is your own)")
        })?
    };
    if let Locator::Http(url) = &locator
        && !options.trusted
        && host_is_internal(url)
    {
        return Err(format!(
            "its target {url} is an internal address, which an archive may not name (give --trusted if the archive is your own)"
        ));
    }
    let target = locator.canonical();
    let from_content = !options.trusted;
    let at: Timestamp = headers
        .get("warc-date")
        .and_then(|d| d.parse().ok())
        .ok_or("the record has no valid WARC-Date")?;
    match kind {
        "revisit" => Ok(Some(Item::Revisit { locator, at })),
        "resource" => {
            if block.len() as u64 > options.max_bytes {
                return Err(format!(
                    "its block of {} bytes is over the {}-byte limit (raise --max-bytes)",
                    block.len(),
                    options.max_bytes
                ));
            }
            let mut response_headers = BTreeMap::new();
            if let Some(t) = headers.get("content-type") {
                response_headers.insert("content-type".to_owned(), t.clone());
            }
            let origin = match &locator {
                Locator::File(path) => Origin::File {
                    path: path.display().to_string(),
                },
                Locator::Http(url) => Origin::Http {
                    requested_url: url.to_string(),
                    final_url: url.to_string(),
                    status: 200,
                    headers: response_headers,
                    redirects: Vec::new(),
                },
            };
            let mut capture = Capture::from_parts(
                locator,
                at,
                block,
                origin,
                &crate::extract::Rules::default(),
            );
            capture.from_content = from_content;
            Ok(Some(Item::Capture(Box::new(capture))))
        }
        _ => {
            let (status, response_headers, body) = http_response(block, options.max_bytes)?;
            let origin = Origin::Http {
                requested_url: target.clone(),
                final_url: target,
                status,
                headers: response_headers,
                redirects: Vec::new(),
            };
            let mut capture =
                Capture::from_parts(locator, at, body, origin, &crate::extract::Rules::default());
            capture.from_content = from_content;
            Ok(Some(Item::Capture(Box::new(capture))))
        }
    }
}

/// Splits an HTTP response into its status, provenance headers and body, undoing chunked
/// transfer coding and any `Content-Encoding`, as a fetch does.
fn http_response(block: Vec<u8>, max_bytes: u64) -> Result<(u16, Headers, Vec<u8>), String> {
    let split = block
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            block
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        })
        .ok_or("the HTTP response has no end of headers")?;
    let head = String::from_utf8_lossy(&block[..split.0]).into_owned();
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP status line: {:?}", truncate(status_line)))?;
    let mut all = BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            all.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let mut body = block[split.1..].to_vec();
    if all
        .get("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        body = dechunk(&body)?;
    }
    if let Some(coding) = all.get("content-encoding") {
        body = crate::fetch::decode_content(body, coding, max_bytes)?;
    }
    let kept = PROVENANCE_HEADERS
        .iter()
        .filter_map(|name| all.get(*name).map(|v| ((*name).to_owned(), v.clone())))
        .collect();
    Ok((status, kept, body))
}

/// Whether `url` names an internal address outright: an IP literal in an internal range, or
/// `localhost`. (A name that resolves to one is caught when it is fetched.)
fn host_is_internal(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => crate::fetch::is_internal(ip.into()),
        Some(url::Host::Ipv6(ip)) => crate::fetch::is_internal(ip.into()),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Undoes chunked transfer coding.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line without its end")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("not a chunk size: {:?}", truncate(&size_text)))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size {
            return Err("a chunk ends early".to_owned());
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_status() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n").ok(),
            Some(b"abcde".to_vec())
        );
        let (status, headers, body) = http_response(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nSet-Cookie: x=1\r\n\r\ngone"
                .to_vec(),
            1 << 20,
        )
        .expect("response");
        assert_eq!(status, 404);
        assert_eq!(body, b"gone");
        assert!(headers.contains_key("content-type") && !headers.contains_key("set-cookie"));
    }
}
