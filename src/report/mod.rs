//! Printers for command results: one function per format, each writing to a `Write`.
//!
//! JSON output uses its own wire structs (documented in `docs/output.md`) so internal types can
//! change without breaking scripts. Human output styles by meaning through [`Styles`].

pub mod cite;
pub mod diff;
pub mod gc;
pub mod terminal;
pub mod verify;

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::store::record::{SourceRecord, VersionRecord};

/// Styles by meaning; plain when colour is off.
#[derive(Debug, Clone, Copy, Default)]
pub struct Styles {
    /// Column headers.
    pub header: Style,
    /// Source ids.
    pub id: Style,
    /// Hashes.
    pub hash: Style,
    /// Growth in size.
    pub added: Style,
    /// Shrinkage in size.
    pub removed: Style,
    /// Secondary text: folded paragraphs, notes.
    pub muted: Style,
    /// Whether these styles colour anything: printers that mark changes with colour fall back
    /// to text markers without it.
    pub color: bool,
}

impl Styles {
    /// The colour table used on a terminal.
    pub fn colored() -> Styles {
        Styles {
            header: Style::new().bold(),
            id: AnsiColor::Yellow.on_default(),
            hash: AnsiColor::Cyan.on_default(),
            added: AnsiColor::Green.on_default(),
            removed: AnsiColor::Red.on_default(),
            muted: Style::new().dimmed(),
            color: true,
        }
    }
}

/// One source with its latest version, as `list` shows it.
#[derive(Debug, Clone)]
pub struct SourceSummary {
    /// The source.
    pub source: SourceRecord,
    /// How many versions are stored.
    pub versions: usize,
    /// The latest version.
    pub latest: Option<VersionRecord>,
}

#[derive(Serialize)]
struct ListItemJson<'a> {
    id: &'a str,
    locator: &'a str,
    title: Option<&'a str>,
    added_at: String,
    versions: usize,
    last_capture: Option<String>,
    sha256: Option<&'a str>,
    text_sha256: Option<&'a str>,
    bytes: Option<u64>,
    media_type: Option<&'a str>,
}

/// Writes `list` as a table.
pub fn list_human(out: &mut dyn Write, rows: &[SourceSummary], s: &Styles) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(
            out,
            "no sources yet; add one with `verbatim add <PATH|URL>`"
        );
    }
    let h = s.header;
    writeln!(
        out,
        "{h}{:<16}  {:>8}  {:<20}  {:<12}  LOCATOR{h:#}",
        "ID", "VERSIONS", "LAST CAPTURE (UTC)", "SHA-256"
    )?;
    for row in rows {
        let (when, sha) = match &row.latest {
            Some(v) => (short_time(&v.captured_at), short_hash(&v.raw.sha256)),
            None => ("-".to_owned(), "-"),
        };
        writeln!(
            out,
            "{}{:<16}{:#}  {:>8}  {:<20}  {}{:<12}{:#}  {}",
            s.id, row.source.id, s.id, row.versions, when, s.hash, sha, s.hash, row.source.locator
        )?;
    }
    Ok(())
}

/// Writes `list` as a JSON array.
pub fn list_json(out: &mut dyn Write, rows: &[SourceSummary]) -> io::Result<()> {
    let items: Vec<ListItemJson<'_>> = rows
        .iter()
        .map(|r| ListItemJson {
            id: r.source.id.as_str(),
            locator: &r.source.locator,
            title: r.source.title.as_deref(),
            added_at: r.source.added_at.to_string(),
            versions: r.versions,
            last_capture: r.latest.as_ref().map(|v| v.captured_at.to_string()),
            sha256: r.latest.as_ref().map(|v| v.raw.sha256.as_str()),
            text_sha256: r.latest.as_ref().map(|v| v.text.sha256.as_str()),
            bytes: r.latest.as_ref().map(|v| v.raw.bytes),
            media_type: r.latest.as_ref().map(|v| v.media_type.as_str()),
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    writeln!(out)
}

#[derive(Serialize)]
struct LogItemJson<'a> {
    version: u32,
    captured_at: String,
    sha256: &'a str,
    text_sha256: &'a str,
    bytes: u64,
    text_bytes: u64,
    bytes_delta: i64,
    media_type: &'a str,
    charset: Option<&'a str>,
    origin: &'a crate::capture::Origin,
}

/// Writes `log` as a table, newest first, with the change in size from the previous version.
pub fn log_human(
    out: &mut dyn Write,
    source: &SourceRecord,
    versions: &[VersionRecord],
    s: &Styles,
) -> io::Result<()> {
    let title = source
        .title
        .as_deref()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    writeln!(
        out,
        "{}{}{:#} {}{title}",
        s.id, source.id, s.id, source.locator
    )?;
    let h = s.header;
    writeln!(
        out,
        "{h}{:>7}  {:<20}  {:<12}  {:<12}  {:>12}  {:>10}{h:#}",
        "VERSION", "CAPTURED (UTC)", "SHA-256", "TEXT SHA-256", "BYTES", "CHANGE"
    )?;
    for (i, v) in versions.iter().enumerate().rev() {
        let delta = i
            .checked_sub(1)
            .map(|p| v.raw.bytes as i64 - versions[p].raw.bytes as i64);
        let (style, change) = match delta {
            None => (Style::new(), "new".to_owned()),
            Some(d) if d > 0 => (s.added, format!("+{d}")),
            Some(d) if d < 0 => (s.removed, d.to_string()),
            Some(_) => (Style::new(), "±0".to_owned()),
        };
        writeln!(
            out,
            "{:>7}  {:<20}  {}{:<12}{:#}  {:<12}  {:>12}  {style}{change:>10}{style:#}",
            v.version,
            short_time(&v.captured_at),
            s.hash,
            short_hash(&v.raw.sha256),
            s.hash,
            short_hash(&v.text.sha256),
            v.raw.bytes,
        )?;
    }
    Ok(())
}

/// Writes `log` as a JSON array, oldest first.
pub fn log_json(out: &mut dyn Write, versions: &[VersionRecord]) -> io::Result<()> {
    let items: Vec<LogItemJson<'_>> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| LogItemJson {
            version: v.version,
            captured_at: v.captured_at.to_string(),
            sha256: &v.raw.sha256,
            text_sha256: &v.text.sha256,
            bytes: v.raw.bytes,
            text_bytes: v.text.bytes,
            bytes_delta: i.checked_sub(1).map_or(v.raw.bytes as i64, |p| {
                v.raw.bytes as i64 - versions[p].raw.bytes as i64
            }),
            media_type: &v.media_type,
            charset: v.charset.as_deref(),
            origin: &v.origin,
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    writeln!(out)
}

fn short_hash(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn short_time(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// How a check's report is written.
#[derive(Debug, Clone, Copy)]
pub enum CheckFormat {
    /// One line per source that is not unchanged, then a summary line.
    Human(Styles),
    /// The documented JSON document (`docs/output.md`).
    Json,
}

/// A check's report, built one result at a time as results are recorded, so that a check of
/// any number of sources holds none of them in memory: each result's line (or JSON object) goes
/// to an unnamed temporary file, and [`CheckReport::finish`] writes the summary (which JSON
/// puts first) and copies the lines out.
pub struct CheckReport {
    format: CheckFormat,
    counts: std::collections::BTreeMap<crate::classify::Verdict, usize>,
    checked: usize,
    shown: usize,
    body: io::BufWriter<std::fs::File>,
}

impl CheckReport {
    /// An empty report; its body is kept in a temporary file.
    pub fn new(format: CheckFormat) -> io::Result<CheckReport> {
        Ok(CheckReport {
            format,
            counts: std::collections::BTreeMap::new(),
            checked: 0,
            shown: 0,
            body: io::BufWriter::new(tempfile::tempfile()?),
        })
    }

    /// Adds a result; `shown` says whether it is reported (`--only-new` hides continuing
    /// states) or only counted.
    pub fn add(&mut self, r: &crate::check::CheckResult, shown: bool) -> io::Result<()> {
        self.checked += 1;
        *self.counts.entry(r.verdict).or_insert(0) += 1;
        if !shown {
            return Ok(());
        }
        match self.format {
            CheckFormat::Human(s) => {
                if r.verdict != crate::classify::Verdict::Unchanged {
                    human_check_line(&mut self.body, r, &s)?;
                }
            }
            CheckFormat::Json => {
                // Each result as it sits in the pretty-printed document: an element of
                // "results", indented by two levels (JSON strings hold no raw newlines).
                let element = serde_json::to_string_pretty(&CheckResultJson::from(r))?;
                self.body
                    .write_all(if self.shown == 0 { b"\n" } else { b",\n" })?;
                for (n, line) in element.lines().enumerate() {
                    if n > 0 {
                        self.body.write_all(b"\n")?;
                    }
                    write!(self.body, "    {line}")?;
                }
            }
        }
        self.shown += 1;
        Ok(())
    }

    /// Writes the whole report to `out`.
    pub fn finish(self, out: &mut dyn Write) -> io::Result<()> {
        use io::Seek;
        let CheckReport {
            format,
            counts,
            checked,
            shown,
            body,
        } = self;
        let mut body = body.into_inner().map_err(io::IntoInnerError::into_error)?;
        body.seek(io::SeekFrom::Start(0))?;
        match format {
            CheckFormat::Human(_) => {
                io::copy(&mut body, out)?;
                let summary: Vec<String> = counts.iter().map(|(v, n)| format!("{n} {v}")).collect();
                writeln!(
                    out,
                    "checked {checked} source{}: {}",
                    if checked == 1 { "" } else { "s" },
                    if summary.is_empty() {
                        "nothing".to_owned()
                    } else {
                        summary.join(", ")
                    }
                )
            }
            CheckFormat::Json => {
                let summary: std::collections::BTreeMap<&str, usize> =
                    counts.iter().map(|(v, n)| (v.as_str(), *n)).collect();
                let head = serde_json::to_string_pretty(&CheckJsonHead { checked, summary })?;
                // The head without its closing brace, then the results array.
                let head = head.trim_end().trim_end_matches('}').trim_end();
                write!(out, "{head},\n  \"results\": [")?;
                if shown > 0 {
                    io::copy(&mut body, out)?;
                    write!(out, "\n  ")?;
                }
                writeln!(out, "]\n}}")
            }
        }
    }
}

fn human_check_line(
    out: &mut dyn Write,
    r: &crate::check::CheckResult,
    s: &Styles,
) -> io::Result<()> {
    use crate::classify::Verdict;
    let style = match r.verdict {
        Verdict::Cosmetic => Style::new(),
        Verdict::Edited | Verdict::Moved => s.added,
        Verdict::Unchanged
        | Verdict::Retracted
        | Verdict::Blocked
        | Verdict::Unreachable
        | Verdict::Error
        | Verdict::Unknown => s.removed,
    };
    let detail = check_details(r, false);
    let line = format!(
        "{style}{:<11}{style:#} {}{}{:#}  {}  {}",
        r.verdict.as_str(),
        s.id,
        r.source,
        s.id,
        r.locator,
        detail.join("; ")
    );
    writeln!(out, "{}", line.trim_end())
}

/// What a result's line says after its locator, in order: the changes, the reason, the version
/// stored (with `unstored`, also when none was: "no new version", for anything but
/// `unchanged`) and, for a lasting state that is not new, since when it holds.
fn check_details(r: &crate::check::CheckResult, unstored: bool) -> Vec<String> {
    use crate::classify::Verdict;
    let mut detail = Vec::new();
    if let Some(c) = &r.changes {
        detail.push(describe_changes(c));
    }
    if let Some(reason) = &r.reason {
        detail.push(reason.clone());
    }
    match r.new_version {
        Some(v) => detail.push(format!("stored as v{v}")),
        None if unstored && r.verdict != Verdict::Unchanged => {
            detail.push("no new version".to_owned());
        }
        None => {}
    }
    let lasting = !matches!(
        r.verdict,
        Verdict::Unchanged | Verdict::Cosmetic | Verdict::Edited
    );
    if lasting && !r.new {
        detail.push(format!("since {}", short_time(&r.since)));
    }
    detail
}

/// Writes what `add` did, one line per input stored, in the order given: what happened
/// (`added` for a source tracked now; for a source already tracked, the verdict `check` would
/// give), the source's id, its latest version and the size of the bytes read, its locator, and
/// for a tracked source what `check` would say of it (changes, reason, the version stored or
/// "no new version").
pub fn add_human(out: &mut dyn Write, added: &[crate::ops::add::Added]) -> io::Result<()> {
    use crate::ops::add::Stored;
    use crate::store::Recorded;
    for a in added {
        let (label, id, version, bytes, detail) = match &a.stored {
            Stored::Captured(recorded) => {
                let (label, v) = match recorded {
                    Recorded::Added(v) => ("added", v),
                    Recorded::NewVersion(v) => ("updated", v),
                    Recorded::Unchanged(v) => ("unchanged", v),
                };
                (label, v.source.as_str(), v.version, v.raw.bytes, Vec::new())
            }
            Stored::Judged { result: r, bytes } => (
                r.verdict.as_str(),
                r.source.as_str(),
                r.new_version.or(r.old_version).unwrap_or(0),
                *bytes,
                check_details(r, true),
            ),
        };
        let line = format!(
            "{label:<9}  {id}  v{version:<4} {bytes:>10} B  {}  {}",
            a.locator,
            detail.join("; ")
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// "2 words added, 1 changed in 1 paragraph" style, leaving out zeros.
fn describe_changes(c: &crate::classify::EditStats) -> String {
    let part = |n: usize, what: &str| (n > 0).then(|| format!("{n} {what}"));
    let words: Vec<String> = [
        part(c.words_added, "added"),
        part(c.words_removed, "removed"),
        part(c.words_changed, "changed"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let paragraphs: Vec<String> = [
        part(c.paragraphs_added, "added"),
        part(c.paragraphs_removed, "removed"),
        part(c.paragraphs_changed, "changed"),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!(
        "words: {}; paragraphs: {}",
        or_none(&words),
        or_none(&paragraphs)
    )
}

fn or_none(parts: &[String]) -> String {
    if parts.is_empty() {
        "unchanged".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The fields of `check --format json` before its results.
#[derive(Serialize)]
struct CheckJsonHead<'a> {
    checked: usize,
    summary: std::collections::BTreeMap<&'a str, usize>,
}

/// One result as `check --format json` writes it. Kept apart from [`crate::check::CheckResult`]
/// so that the library's type can change without changing the documented schema.
#[derive(Serialize)]
struct CheckResultJson<'a> {
    source: &'a str,
    locator: &'a str,
    title: Option<&'a str>,
    verdict: crate::classify::Verdict,
    reason: Option<&'a str>,
    new: bool,
    since: jiff::Timestamp,
    checked_at: jiff::Timestamp,
    http_status: Option<u16>,
    final_url: Option<&'a str>,
    old_version: Option<u32>,
    new_version: Option<u32>,
    old_sha256: Option<&'a str>,
    new_sha256: Option<&'a str>,
    old_text_sha256: Option<&'a str>,
    new_text_sha256: Option<&'a str>,
    changes: Option<&'a crate::classify::EditStats>,
    change_summary: Option<&'a crate::classify::summary::ChangeSummary>,
}

impl<'a> From<&'a crate::check::CheckResult> for CheckResultJson<'a> {
    fn from(r: &'a crate::check::CheckResult) -> CheckResultJson<'a> {
        CheckResultJson {
            source: &r.source,
            locator: &r.locator,
            title: r.title.as_deref(),
            verdict: r.verdict,
            reason: r.reason.as_deref(),
            new: r.new,
            since: r.since,
            checked_at: r.checked_at,
            http_status: r.http_status,
            final_url: r.final_url.as_deref(),
            old_version: r.old_version,
            new_version: r.new_version,
            old_sha256: r.old_sha256.as_deref(),
            new_sha256: r.new_sha256.as_deref(),
            old_text_sha256: r.old_text_sha256.as_deref(),
            new_text_sha256: r.new_text_sha256.as_deref(),
            changes: r.changes.as_ref(),
            change_summary: r.change_summary.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckResult;
    use crate::classify::Verdict;

    fn result(source: &str, verdict: Verdict) -> CheckResult {
        let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        CheckResult {
            source: source.to_owned(),
            locator: format!("https://example.org/{source}"),
            title: Some("A \"quoted\"\ntitle".to_owned()),
            verdict,
            reason: None,
            new: true,
            since: at,
            checked_at: at,
            http_status: Some(200),
            final_url: None,
            old_version: Some(1),
            new_version: None,
            old_sha256: None,
            new_sha256: None,
            old_text_sha256: None,
            new_text_sha256: None,
            changes: None,
            change_summary: None,
            capture: None,
            staged: None,
            compared: None,
        }
    }

    fn json(results: &[(CheckResult, bool)]) -> String {
        let mut report = CheckReport::new(CheckFormat::Json).expect("report");
        for (r, shown) in results {
            report.add(r, *shown).expect("add");
        }
        let mut out = Vec::new();
        report.finish(&mut out).expect("finish");
        String::from_utf8(out).expect("utf-8")
    }

    /// The streamed document is byte for byte what serde writes for the whole value.
    #[test]
    fn streamed_json_is_the_pretty_printed_document() {
        let a = result("aaaa", Verdict::Edited);
        let b = result("bbbb", Verdict::Unchanged);
        for case in [
            vec![],
            vec![(a.clone(), true)],
            vec![(a.clone(), true), (b.clone(), false)],
            vec![(a.clone(), true), (b.clone(), true)],
        ] {
            let mut summary = std::collections::BTreeMap::new();
            for (r, _) in &case {
                *summary.entry(r.verdict.as_str()).or_insert(0) += 1;
            }
            #[derive(Serialize)]
            struct Whole<'a> {
                checked: usize,
                summary: std::collections::BTreeMap<&'a str, usize>,
                results: Vec<CheckResultJson<'a>>,
            }
            let whole = Whole {
                checked: case.len(),
                summary,
                results: case
                    .iter()
                    .filter(|(_, shown)| *shown)
                    .map(|(r, _)| CheckResultJson::from(r))
                    .collect(),
            };
            let expected = serde_json::to_string_pretty(&whole).expect("json") + "\n";
            assert_eq!(json(&case), expected);
        }
    }
}
