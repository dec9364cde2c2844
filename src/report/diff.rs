//! Printers for `verbatim diff`: the inline word diff a person reads, `--stat`, a unified diff
//! that `patch` and `git apply` take, and the JSON form (schema in `docs/output.md`).

use std::io::{self, Write};
use std::ops::Range;

use jiff::Timestamp;
use serde::Serialize;

use super::Styles;
use crate::classify::EditStats;
use crate::classify::summary::{ChangeSummary, QuotationKind};
use crate::diff::{CharOffsets, LineDiff, Tag, TextDiff};

/// One side of a diff, as the printers name it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DocumentInfo {
    /// A short name: `v3`, a path or a URL.
    pub label: String,
    /// The source's id, when the document is a stored version or compared with one.
    pub source: Option<String>,
    /// The version number, when it is a stored version.
    pub version: Option<u32>,
    /// The source's or document's locator.
    pub locator: Option<String>,
    /// When the bytes were captured (or read).
    pub captured_at: Option<Timestamp>,
    /// SHA-256 of the bytes.
    pub sha256: Option<String>,
    /// SHA-256 of the text compared.
    pub text_sha256: Option<String>,
    /// The document's title, when it states one.
    pub title: Option<String>,
}

/// Everything the diff printers show.
#[derive(Debug)]
pub struct DiffReport<'a> {
    /// The old side.
    pub from: DocumentInfo,
    /// The new side.
    pub to: DocumentInfo,
    /// The comparison of their texts.
    pub diff: &'a TextDiff<'a>,
    /// What the change means.
    pub summary: &'a ChangeSummary,
    /// Words and paragraphs added, removed and changed.
    pub stat: EditStats,
}

/// Prints the header, the change summary and (unless `stat_only`) the inline diff, paragraph
/// by paragraph, with unchanged paragraphs beyond `context` of a change folded into a count.
/// Changes are coloured when `s` colours, else marked `[-deleted-]` and `{+inserted+}` as
/// `git diff --word-diff=plain` does.
pub fn diff_human(
    out: &mut dyn Write,
    r: &DiffReport<'_>,
    s: &Styles,
    context: usize,
    stat_only: bool,
) -> io::Result<()> {
    write_header(out, r, s)?;
    write_summary(out, r, s)?;
    if stat_only || r.diff.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let paragraphs = r.diff.paragraphs();
    let changed: Vec<bool> = paragraphs.iter().map(|p| p.changed()).collect();
    let shown: Vec<bool> = (0..paragraphs.len())
        .map(|i| {
            let lo = i.saturating_sub(context);
            let hi = i
                .saturating_add(context)
                .min(paragraphs.len().saturating_sub(1));
            changed[lo..=hi].iter().any(|c| *c)
        })
        .collect();
    // Blocks (a paragraph, or a count of folded ones) are separated by blank lines.
    let mut folded = 0;
    let mut first = true;
    let mut separate = |out: &mut dyn Write| -> io::Result<()> {
        if !std::mem::replace(&mut first, false) {
            writeln!(out)?;
        }
        Ok(())
    };
    for (i, paragraph) in paragraphs.iter().enumerate() {
        if !shown[i] {
            folded += 1;
            continue;
        }
        if folded > 0 {
            separate(out)?;
            write_fold(out, std::mem::take(&mut folded), s)?;
        }
        separate(out)?;
        for (tag, text) in &paragraph.pieces {
            write_piece(out, *tag, text, s)?;
        }
        writeln!(out)?;
    }
    if folded > 0 {
        separate(out)?;
        write_fold(out, folded, s)?;
    }
    Ok(())
}

fn write_fold(out: &mut dyn Write, n: usize, s: &Styles) -> io::Result<()> {
    let what = if n == 1 { "paragraph" } else { "paragraphs" };
    writeln!(out, "{}… {n} unchanged {what} …{:#}", s.muted, s.muted)
}

fn write_piece(out: &mut dyn Write, tag: Tag, text: &str, s: &Styles) -> io::Result<()> {
    match (tag, s.color) {
        (Tag::Equal, _) => write!(out, "{text}"),
        (Tag::Delete, true) => write!(out, "{}{text}{:#}", s.removed, s.removed),
        (Tag::Insert, true) => write!(out, "{}{text}{:#}", s.added, s.added),
        (Tag::Delete, false) => write!(out, "[-{text}-]"),
        (Tag::Insert, false) => write!(out, "{{+{text}+}}"),
    }
}

fn write_header(out: &mut dyn Write, r: &DiffReport<'_>, s: &Styles) -> io::Result<()> {
    let side = |d: &DocumentInfo| {
        let mut parts = vec![d.label.clone()];
        if let Some(at) = &d.captured_at {
            parts.push(super::short_time(at));
        }
        if let Some(sha) = &d.sha256 {
            parts.push(format!("sha256 {}", super::short_hash(sha)));
        }
        parts.join("  ")
    };
    if let Some(id) = r.from.source.as_ref().or(r.to.source.as_ref()) {
        let locator = r.from.locator.as_deref().unwrap_or_default();
        let title = r.from.title.as_deref().or(r.to.title.as_deref());
        let title = title.map(|t| format!(" — {t}")).unwrap_or_default();
        writeln!(out, "{}{id}{:#} {locator}{title}", s.id, s.id)?;
    }
    writeln!(out, "{}--- {}{:#}", s.removed, side(&r.from), s.removed)?;
    writeln!(out, "{}+++ {}{:#}", s.added, side(&r.to), s.added)?;
    Ok(())
}

/// The change summary, one finding a line, then the counts.
fn write_summary(out: &mut dyn Write, r: &DiffReport<'_>, s: &Styles) -> io::Result<()> {
    if r.diff.is_empty() {
        return writeln!(out, "no changes: the texts are identical");
    }
    let sum = r.summary;
    if sum.typographic_only {
        writeln!(
            out,
            "typographic only: quotes, dashes, spaces or invisible characters changed; the words did not"
        )?;
    }
    if let Some(h) = &sum.headline {
        writeln!(
            out,
            "headline changed: {} → {}",
            quoted(&h.old),
            quoted(&h.new)
        )?;
    }
    // A rewrite can change hundreds of figures and quotations; a person reads the first few.
    let shown = |n: usize| n.min(SUMMARY_ITEMS);
    for f in &sum.figures[..shown(sum.figures.len())] {
        match (&f.old, &f.new) {
            (Some(a), Some(b)) => writeln!(out, "figure changed: {a} → {b}")?,
            (Some(a), None) => writeln!(out, "figure removed: {a}")?,
            (None, Some(b)) => writeln!(out, "figure added: {b}")?,
            (None, None) => {}
        }
    }
    more(out, sum.figures.len(), "figures", s)?;
    for q in &sum.quotations[..shown(sum.quotations.len())] {
        let text = |t: &Option<String>| quoted(t.as_deref().unwrap_or_default());
        match q.kind {
            QuotationKind::Altered => writeln!(
                out,
                "quotation altered: {} → {}",
                text(&q.old),
                text(&q.new)
            )?,
            QuotationKind::Removed => writeln!(out, "quotation removed: {}", text(&q.old))?,
            QuotationKind::Added => writeln!(out, "quotation added: {}", text(&q.new))?,
        }
    }
    more(out, sum.quotations.len(), "quotations", s)?;
    for note in &sum.notes_added[..shown(sum.notes_added.len())] {
        writeln!(out, "note added: {}", quoted(note))?;
    }
    more(out, sum.notes_added.len(), "notes", s)?;
    writeln!(out, "{}", super::describe_changes(&r.stat))?;
    if r.diff.approximate() {
        writeln!(
            out,
            "{}approximate: parts of the texts had too little in common to align in the time allowed (--deadline) and are shown replaced whole{:#}",
            s.muted, s.muted
        )?;
    }
    Ok(())
}

/// How many figures, quotations or notes the human summary lists of each kind.
const SUMMARY_ITEMS: usize = 10;

/// The line that says how many of `total` items were not listed.
fn more(out: &mut dyn Write, total: usize, what: &str, s: &Styles) -> io::Result<()> {
    if total > SUMMARY_ITEMS {
        writeln!(
            out,
            "{}… and {} more {what} (all of them in --format json){:#}",
            s.muted,
            total - SUMMARY_ITEMS,
            s.muted
        )?;
    }
    Ok(())
}

/// Text in quotation marks, shortened to about 120 characters.
fn quoted(text: &str) -> String {
    let mut t: String = text.chars().take(120).collect();
    if t.len() < text.len() {
        t.push('…');
    }
    format!("\u{201C}{t}\u{201D}")
}

/// Prints a unified diff of two texts' bytes by lines, with `context` lines around each hunk,
/// that `patch` and `git apply` apply to the old text. Nothing is printed when they are equal.
///
/// Written here rather than by `similar`'s unified printer, whose hunk headers take positions
/// from the ops `similar` reports, and those can be wrong after a deletion (see
/// [`crate::diff`]); this one counts lines itself.
#[allow(
    clippy::too_many_arguments,
    reason = "two texts, two names and two settings, each needed"
)]
pub fn diff_unified(
    out: &mut dyn Write,
    old: &[u8],
    new: &[u8],
    old_name: &str,
    new_name: &str,
    context: usize,
    deadline: std::time::Duration,
) -> io::Result<()> {
    if old == new {
        return Ok(());
    }
    let by_lines = LineDiff::new(old, new, deadline);
    let (old_lines, new_lines) = (&by_lines.lines.old[..], &by_lines.lines.new[..]);
    writeln!(out, "--- {old_name}")?;
    writeln!(out, "+++ {new_name}")?;
    // One pass over the ops (each a run of whole lines), holding only the hunk being built: a
    // hunk opens at a change with up to `context` lines of the equal run before it, takes in
    // equal runs of at most twice the context, and closes after `context` lines of a longer
    // one (or at the end). Positions are line numbers, counted on the lines the diff was
    // made of rather than by scanning the text again.
    let ops = &by_lines.ops;
    let mut hunk: Option<Hunk> = None;
    let (mut old_line, mut new_line) = (0usize, 0usize);
    // Lines of the equal run just passed: the leading context of a hunk opened next.
    let mut equal_before = 0;
    for (i, op) in ops.iter().enumerate() {
        match op.tag {
            Tag::Equal => {
                let count = lines_to(old_lines, old_line, op.old.end);
                if let Some(h) = hunk.as_mut() {
                    let last = i + 1 == ops.len();
                    if !last && count <= context.saturating_mul(2) {
                        h.push(b' ', old_line..old_line + count);
                    } else {
                        h.push(b' ', old_line..old_line + context.min(count));
                        if let Some(h) = hunk.take() {
                            h.write(out, old, old_lines, new, new_lines)?;
                        }
                    }
                }
                old_line += count;
                new_line += count;
                equal_before = count;
            }
            Tag::Delete | Tag::Insert => {
                let h = hunk.get_or_insert_with(|| {
                    let lead = context.min(equal_before);
                    let mut h = Hunk {
                        old_start: old_line - lead,
                        new_start: new_line - lead,
                        old_len: 0,
                        new_len: 0,
                        runs: Vec::new(),
                    };
                    h.push(b' ', old_line - lead..old_line);
                    h
                });
                if op.tag == Tag::Delete {
                    let count = lines_to(old_lines, old_line, op.old.end);
                    h.push(b'-', old_line..old_line + count);
                    old_line += count;
                } else {
                    let count = lines_to(new_lines, new_line, op.new.end);
                    h.push(b'+', new_line..new_line + count);
                    new_line += count;
                }
                equal_before = 0;
            }
        }
    }
    if let Some(h) = hunk.take() {
        h.write(out, old, old_lines, new, new_lines)?;
    }
    Ok(())
}

/// Appends a hunk header's range: its first line (counted from 1) and its length, which is
/// left out when it is 1; an empty range names the line before it.
fn push_range(out: &mut Vec<u8>, start: usize, len: usize) {
    let mut number = itoa::Buffer::new();
    match len {
        0 => {
            out.extend_from_slice(number.format(start).as_bytes());
            out.extend_from_slice(b",0");
        }
        1 => out.extend_from_slice(number.format(start + 1).as_bytes()),
        _ => {
            out.extend_from_slice(number.format(start + 1).as_bytes());
            out.push(b',');
            out.extend_from_slice(number.format(len).as_bytes());
        }
    }
}

/// The number of lines from line `from` that end at or before byte `end`.
fn lines_to(lines: &[Range<usize>], from: usize, end: usize) -> usize {
    lines[from..].partition_point(|line| line.end <= end)
}

/// A unified diff hunk being built: runs of whole lines, each with its mark, kept as line
/// numbers until the hunk is written (its header needs its line counts first). Copying the
/// lines into a buffer instead cost a visible part of a long diff: the hunks of a widely
/// edited text run to hundreds of kilobytes, written once each.
struct Hunk {
    old_start: usize,
    new_start: usize,
    old_len: usize,
    new_len: usize,
    /// Runs of lines: of the new text for `+`, of the old one otherwise.
    runs: Vec<(u8, Range<usize>)>,
}

impl Hunk {
    /// Adds the lines `lines` (of the new text for `+`, of the old one otherwise), marked.
    fn push(&mut self, mark: u8, lines: Range<usize>) {
        if mark != b'+' {
            self.old_len += lines.len();
        }
        if mark != b'-' {
            self.new_len += lines.len();
        }
        if !lines.is_empty() {
            self.runs.push((mark, lines));
        }
    }

    fn write(
        self,
        out: &mut dyn Write,
        old: &[u8],
        old_lines: &[Range<usize>],
        new: &[u8],
        new_lines: &[Range<usize>],
    ) -> io::Result<()> {
        // Without the formatting machinery: a long diff has hundreds of hunks, and formatting
        // their headers was a quarter of the cost of writing them.
        let mut header = Vec::with_capacity(64);
        header.extend_from_slice(b"@@ -");
        push_range(&mut header, self.old_start, self.old_len);
        header.extend_from_slice(b" +");
        push_range(&mut header, self.new_start, self.new_len);
        header.extend_from_slice(b" @@\n");
        out.write_all(&header)?;
        for (mark, run) in self.runs {
            let (text, lines) = if mark == b'+' {
                (new, new_lines)
            } else {
                (old, old_lines)
            };
            for line in &lines[run] {
                out.write_all(&[mark])?;
                out.write_all(&text[line.clone()])?;
                // Only a text's last line can lack its line break.
                if line.end == text.len() && !text.ends_with(b"\n") {
                    out.write_all(b"\n\\ No newline at end of file\n")?;
                }
            }
        }
        Ok(())
    }
}

/// The JSON form of a diff, documented in `docs/output.md`.
#[derive(Serialize)]
struct DiffJson<'a> {
    from: &'a DocumentInfo,
    to: &'a DocumentInfo,
    granularity: &'static str,
    identical: bool,
    approximate: bool,
    stat: &'a EditStats,
    summary: &'a ChangeSummary,
    ops: Vec<OpJson<'a>>,
}

#[derive(Serialize)]
struct OpJson<'a> {
    op: Tag,
    text: &'a str,
    old_start: usize,
    old_end: usize,
    new_start: usize,
    new_end: usize,
}

/// File names for a unified diff's header. Two versions of one source share a name, so that
/// `git apply` patches one file: `a/<id>.txt` and `b/<id>.txt`, with the versions after a tab
/// as `diff -u` puts timestamps.
pub fn unified_names(from: &DocumentInfo, to: &DocumentInfo) -> (String, String) {
    let stamp = |d: &DocumentInfo| {
        d.captured_at
            .map(|t| format!("\t{} {t}", d.label))
            .unwrap_or_default()
    };
    match (&from.source, &to.source) {
        (Some(id), _) | (None, Some(id)) => (
            format!("a/{id}.txt{}", stamp(from)),
            format!("b/{id}.txt{}", stamp(to)),
        ),
        (None, None) => (from.label.clone(), to.label.clone()),
    }
}

/// Two sides of which one is binary: whether their bytes are the `same`, as JSON or a line.
pub fn diff_binary(
    out: &mut dyn Write,
    from: &DocumentInfo,
    to: &DocumentInfo,
    same: bool,
    json: bool,
) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({
                "from": from,
                "to": to,
                "binary": true,
                "identical": same,
            }),
        )
        .map_err(io::Error::from)?;
        return out.write_all(b"\n");
    }
    let verb = if same { "are identical" } else { "differ" };
    out.write_all(
        format!(
            "binary content: the bytes {verb} ({} → {}); there is no text to compare\n",
            from.label, to.label
        )
        .as_bytes(),
    )
}

/// Prints the diff as one JSON document: both sides, the summary and counts, and every op with
/// its text and character offsets (Unicode scalar values) in both texts.
pub fn diff_json(out: &mut dyn Write, r: &DiffReport<'_>) -> io::Result<()> {
    let mut old_at = CharOffsets::new(r.diff.old());
    let mut new_at = CharOffsets::new(r.diff.new_text());
    let ops = r
        .diff
        .ops()
        .iter()
        .map(|op| OpJson {
            op: op.tag,
            text: r.diff.text(op),
            old_start: old_at.at(op.old.start),
            old_end: old_at.at(op.old.end),
            new_start: new_at.at(op.new.start),
            new_end: new_at.at(op.new.end),
        })
        .collect();
    let doc = DiffJson {
        from: &r.from,
        to: &r.to,
        granularity: r.diff.granularity().as_str(),
        identical: r.diff.is_empty(),
        approximate: r.diff.approximate(),
        stat: &r.stat,
        summary: r.summary,
        ops,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::diff::Options;

    fn json_of(old: &str, new: &str) -> serde_json::Value {
        let diff = TextDiff::new(old, new, &Options::default());
        let summary = ChangeSummary::default();
        let report = DiffReport {
            from: DocumentInfo::default(),
            to: DocumentInfo::default(),
            diff: &diff,
            summary: &summary,
            stat: EditStats::default(),
        };
        let mut out = Vec::new();
        diff_json(&mut out, &report).expect("write");
        serde_json::from_slice(&out).expect("valid JSON")
    }

    /// What a reader of the JSON does: copy equal runs from FROM by their offsets, skip deleted
    /// ones, take inserted text.
    fn rebuild(old: &str, json: &serde_json::Value) -> String {
        let chars: Vec<char> = old.chars().collect();
        let mut out = String::new();
        for op in json["ops"].as_array().expect("ops") {
            let at = |k: &str| op[k].as_u64().expect("offset") as usize;
            let text = op["text"].as_str().expect("text");
            match op["op"].as_str().expect("op") {
                "equal" => {
                    let run: String = chars[at("old_start")..at("old_end")].iter().collect();
                    assert_eq!(run, text);
                    out.push_str(&run);
                }
                "delete" => {
                    let run: String = chars[at("old_start")..at("old_end")].iter().collect();
                    assert_eq!(run, text);
                }
                "insert" => out.push_str(text),
                other => panic!("unknown op {other}"),
            }
        }
        out
    }

    fn text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a",
            "b c",
            "e\u{301}",
            "\u{4e2d}\u{6587}",
            "\u{1f600}",
            "\u{05d0}\u{05d1}",
            " ",
            "\n",
            "\n\n",
            "\"q\"",
        ]);
        prop::collection::vec(pieces, 0..50).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn the_json_ops_applied_to_from_give_to(old in text(), new in text()) {
            let json = json_of(&old, &new);
            prop_assert_eq!(rebuild(&old, &json), new.clone());
            prop_assert_eq!(json["identical"].as_bool(), Some(old == new));
        }
    }

    #[test]
    fn markers_without_colour_and_folded_paragraphs() {
        let old = "One.\n\nTwo.\n\nThree.\n\nFour is here.\n\nFive.";
        let new = "One.\n\nTwo.\n\nThree.\n\nFour was here.\n\nFive.";
        let diff = TextDiff::new(old, new, &Options::default());
        let summary = ChangeSummary::default();
        let report = DiffReport {
            from: DocumentInfo {
                label: "v1".into(),
                ..DocumentInfo::default()
            },
            to: DocumentInfo {
                label: "v2".into(),
                ..DocumentInfo::default()
            },
            diff: &diff,
            summary: &summary,
            stat: crate::classify::edit_stats(old, new),
        };
        let mut out = Vec::new();
        diff_human(&mut out, &report, &Styles::default(), 1, false).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "--- v1\n+++ v2\nwords: 1 changed; paragraphs: 1 changed\n\n\
             … 2 unchanged paragraphs …\n\nThree.\n\nFour [-is-]{+was+} here.\n\nFive.\n"
        );
    }
}
