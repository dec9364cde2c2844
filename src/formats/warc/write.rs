//! Writing stored versions as a WARC file (ISO 28500, WARC 1.1), gzip-compressed record by
//! record as web archives are.
//!
//! A web page's version becomes a `response` record: an HTTP/1.1 response rebuilt from the
//! stored status and provenance headers around the exact stored body. The body is stored
//! decoded (after `Content-Encoding`), so the record says `Content-Length` of the bytes it holds
//! and carries no `Content-Encoding`; the original values ride along as `X-Verbatim-Original-*`
//! headers. A file's version becomes a `resource` record. Each is followed by a `metadata`
//! record holding verbatim's version record, concurrent to it. Record ids are derived from the
//! version records' SHA-256, so exporting the same versions twice gives the same ids.
//!
//! The records are written into the file they are given; choosing the versions, and staging the
//! file beside its destination to rename it into place only when complete, is the job's
//! (`ops::export::warc`).

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use sha2::Digest as _;

use crate::model::{Origin, SourceRecord, VersionRecord};

/// Why a version's records could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A record could not be serialised (a bug).
    #[error("cannot write a record: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes the `warcinfo` record that opens the file `name`: the software, the format, and the
/// store `commit` the versions are read at.
pub fn warcinfo(
    out: &mut std::fs::File,
    name: &str,
    commit: &str,
    now: Timestamp,
) -> std::io::Result<()> {
    let info = format!(
        "software: verbatim/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\nverbatim-store-commit: {}\r\n",
        env!("CARGO_PKG_VERSION"),
        commit
    );
    let info_id = record_id(info.as_bytes());
    write_record(
        out,
        &[
            ("WARC-Type", "warcinfo".to_owned()),
            ("WARC-Record-ID", info_id),
            ("WARC-Date", warc_date(now)),
            ("WARC-Filename", name.to_owned()),
            ("Content-Type", "application/warc-fields".to_owned()),
        ],
        info.as_bytes(),
    )
}

/// Writes one stored version of `source`, whose exact bytes are `raw`: a `response` (web page)
/// or `resource` (file) record, then a `metadata` record with verbatim's record of it,
/// concurrent to it.
pub fn version(
    out: &mut std::fs::File,
    source: &SourceRecord,
    version: &VersionRecord,
    raw: &[u8],
) -> Result<(), Error> {
    let record_json = serde_json::to_vec(version)?;
    let id = record_id(&record_json);
    let (kind, target, content_type, block) = match &version.origin {
        Origin::Http {
            final_url,
            status,
            headers,
            ..
        } => (
            "response",
            final_url.clone(),
            "application/http;msgtype=response".to_owned(),
            http_block(*status, headers, raw),
        ),
        Origin::File { .. } => (
            "resource",
            source.locator.clone(),
            content_type(version),
            raw.to_vec(),
        ),
    };
    write_record(
        out,
        &[
            ("WARC-Type", kind.to_owned()),
            ("WARC-Record-ID", id.clone()),
            ("WARC-Date", warc_date(version.captured_at)),
            ("WARC-Target-URI", target.clone()),
            ("WARC-Payload-Digest", digest(raw)),
            ("WARC-Block-Digest", digest(&block)),
            ("Content-Type", content_type),
        ],
        &block,
    )?;
    let metadata = serde_json::to_vec_pretty(&serde_json::json!({
        "source": source,
        "version": version,
    }))?;
    write_record(
        out,
        &[
            ("WARC-Type", "metadata".to_owned()),
            ("WARC-Record-ID", record_id(&metadata)),
            ("WARC-Date", warc_date(version.captured_at)),
            ("WARC-Target-URI", target),
            ("WARC-Concurrent-To", id),
            ("WARC-Block-Digest", digest(&metadata)),
            ("Content-Type", "application/json".to_owned()),
        ],
        &metadata,
    )?;
    Ok(())
}

/// An HTTP/1.1 response around the stored body: the status, the stored headers, and a
/// `Content-Length` of the body held (the stored body is decoded, so `Content-Encoding` and the
/// wire length are kept only as `X-Verbatim-Original-*`).
fn http_block(
    status: u16,
    headers: &std::collections::BTreeMap<String, String>,
    body: &[u8],
) -> Vec<u8> {
    let reason = reason(status);
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    for (name, value) in headers {
        let value = value.replace(['\r', '\n'], " ");
        let line = match name.as_str() {
            "content-encoding" => format!("X-Verbatim-Original-Content-Encoding: {value}\r\n"),
            "content-length" => format!("X-Verbatim-Original-Content-Length: {value}\r\n"),
            "transfer-encoding" => continue,
            _ => format!("{}: {value}\r\n", header_case(name)),
        };
        out.extend_from_slice(line.as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// `content-type` → `Content-Type`.
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        203 => "Non-Authoritative Information",
        206 => "Partial Content",
        _ => "",
    }
}

fn content_type(version: &VersionRecord) -> String {
    match &version.charset {
        Some(charset) => format!("{}; charset={charset}", version.media_type),
        None => version.media_type.clone(),
    }
}

/// `sha256:<base32>`, as WARC tools write digests.
fn digest(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::BASE32.encode(&sha2::Sha256::digest(bytes))
    )
}

/// A record id derived from content: a UUID (version 8, "custom") of its SHA-256.
fn record_id(content: &[u8]) -> String {
    let hash = sha2::Sha256::digest(content);
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::hash::to_hex(&b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// WARC 1.1 dates: UTC, with the fraction when there is one.
fn warc_date(at: Timestamp) -> String {
    at.to_string()
}

/// Writes one record as its own gzip member.
fn write_record(
    out: &mut std::fs::File,
    headers: &[(&str, String)],
    block: &[u8],
) -> std::io::Result<()> {
    let mut gz = GzEncoder::new(out, Compression::default());
    gz.write_all(b"WARC/1.1\r\n")?;
    for (name, value) in headers {
        gz.write_all(format!("{name}: {}\r\n", value.replace(['\r', '\n'], " ")).as_bytes())?;
    }
    gz.write_all(format!("Content-Length: {}\r\n\r\n", block.len()).as_bytes())?;
    gz.write_all(block)?;
    gz.write_all(b"\r\n\r\n")?;
    gz.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_and_digests_base32() {
        let id = record_id(b"x");
        assert_eq!(id.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&id[24..25], "8", "version 8: {id}");
        assert_eq!(record_id(b"x"), id, "derived, so stable");
        assert!(
            digest(b"").starts_with("sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ")
        );
        assert_eq!(header_case("last-modified"), "Last-Modified");
    }
}
