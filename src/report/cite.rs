//! Printers for `verbatim cite check`: one line per citation, then the detail of each that does
//! not fully stand; or the JSON report (schema in `docs/output.md`). And for `verbatim cite
//! link`: the Robust Link, BibTeX and CSL-JSON of a cited version.

use std::io::{self, Write};

use serde::Serialize;

use super::Styles;
use crate::cite::assess::{Assessment, Status};
use crate::cite::link::{self, CitedVersion};
use crate::cite::quote::Found;

/// The longest quote shown on a citation's line, in characters.
const SHOWN: usize = 60;

/// One line per citation (status, where, source, quote), the detail of those that do not stand,
/// and a count by status.
pub fn cite_human(out: &mut dyn Write, all: &[Assessment], s: &Styles) -> io::Result<()> {
    for a in all {
        let status = a.status.as_str();
        let style = if a.status.stands() {
            s.added
        } else {
            s.removed
        };
        let place = place(a);
        let quote = a
            .citation
            .quote
            .as_deref()
            .map(|q| format!("  \u{201C}{}\u{201D}", shorten(q, SHOWN)))
            .unwrap_or_default();
        writeln!(
            out,
            "{style}{status:<14}{style:#} {place}  {}{quote}",
            a.citation.locator
        )?;
    }
    for a in all.iter().filter(|a| !a.status.stands()) {
        writeln!(out)?;
        writeln!(
            out,
            "{}{}{:#} {} {}",
            s.header,
            a.status.as_str(),
            s.header,
            place(a),
            a.citation.locator
        )?;
        detail(out, a, s)?;
    }
    let mut counts: std::collections::BTreeMap<Status, usize> = Default::default();
    for a in all {
        *counts.entry(a.status).or_default() += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect();
    writeln!(out)?;
    writeln!(
        out,
        "{} citation{}: {}",
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        }
    )
}

fn place(a: &Assessment) -> String {
    match (a.citation.line, &a.citation.key) {
        (0, Some(key)) => format!("{} [{key}]", a.citation.file),
        (0, None) => a.citation.file.clone(),
        (line, Some(key)) => format!("{}:{line} [{key}]", a.citation.file),
        (line, None) => format!("{}:{line}", a.citation.file),
    }
}

fn detail(out: &mut dyn Write, a: &Assessment, s: &Styles) -> io::Result<()> {
    let m = s.muted;
    match (a.verdict, a.latest_version) {
        (Some(v), Some(n)) => {
            writeln!(out, "  {m}source:{m:#} {} (latest version {n})", v.as_str())?
        }
        (None, Some(n)) => writeln!(out, "  {m}source:{m:#} latest version {n}")?,
        _ => writeln!(out, "  {m}source:{m:#} not in the store")?,
    }
    if let Some(accessed) = a.citation.accessed {
        let since = match (a.version_at_access, a.changed_since_access) {
            (Some(v), Some(true)) => format!("version {v} then; its text has changed since"),
            (Some(v), _) => format!("version {v} then; its text is unchanged since"),
            (None, _) => "the store has no version from before then".to_owned(),
        };
        writeln!(out, "  {m}accessed:{m:#} {accessed}: {since}")?;
    }
    if let Some(me) = &a.memento {
        let when = me.datetime.as_deref().unwrap_or("no Memento-Datetime");
        let quote = match me.found {
            Some(Found::Exact | Found::Canonical) => "the quote stands in it".to_owned(),
            Some(Found::Approximate) => format!(
                "only an altered quote in it ({:.0}% similar)",
                me.similarity.unwrap_or(0.0) * 100.0
            ),
            Some(Found::Gone) => "the quote is not in it".to_owned(),
            None => "archived".to_owned(),
        };
        writeln!(out, "  {m}memento:{m:#} {} ({when}): {quote}", me.url)?;
    }
    let Some(q) = &a.quote else {
        return Ok(());
    };
    if let Some(quote) = &a.citation.quote {
        writeln!(out, "  {m}quoted:{m:#}  \u{201C}{quote}\u{201D}")?;
    }
    match q.found {
        Found::Exact | Found::Canonical if q.occurrences > 1 => {
            writeln!(out, "  {m}found:{m:#}   in {} places", q.occurrences)?;
        }
        Found::Exact | Found::Canonical => {}
        Found::Approximate | Found::Gone => {
            if let Some(p) = &q.passage {
                let label = if q.found == Found::Approximate {
                    "closest:"
                } else {
                    "nearest:"
                };
                let missing = match q.parts_missing {
                    0 => String::new(),
                    1 => "; a part of the quote is not in it".to_owned(),
                    n => format!("; {n} parts of the quote are not in it"),
                };
                writeln!(
                    out,
                    "  {m}{label}{m:#} \u{201C}{p}\u{201D} ({:.0}% similar{missing})",
                    q.similarity * 100.0
                )?;
            }
            if let Some(diff) = &q.diff {
                writeln!(out, "  {m}diff:{m:#}    {}", colour_diff(diff, s))?;
            }
            if let Some(r) = &q.replaced_by {
                writeln!(out, "  {m}replaced by:{m:#} \u{201C}{r}\u{201D}")?;
            }
            match (q.last_seen_in, q.gone_since, q.gone_since_at) {
                (Some(last), Some(gone), Some(at)) => writeln!(
                    out,
                    "  {m}history:{m:#} last stood in version {last}; gone from version {gone} (captured {at})"
                )?,
                _ => writeln!(
                    out,
                    "  {m}history:{m:#} not in any stored version as quoted"
                )?,
            }
        }
    }
    Ok(())
}

/// Colours `[-…-]` and `{+…+}` markers on a terminal (keeping them without colour).
fn colour_diff(diff: &str, s: &Styles) -> String {
    if !s.color {
        return diff.to_owned();
    }
    diff.replace("[-", &format!("{}[-", s.removed))
        .replace("-]", &format!("-]{:#}", s.removed))
        .replace("{+", &format!("{}{{+", s.added))
        .replace("+}", &format!("+}}{:#}", s.added))
}

fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{}\u{2026}", cut.trim_end())
}

/// The JSON report: every citation's assessment and a count by status.
pub fn cite_json(out: &mut dyn Write, all: &[Assessment]) -> io::Result<()> {
    #[derive(Serialize)]
    struct Report<'a> {
        citations: &'a [Assessment],
        counts: std::collections::BTreeMap<&'static str, usize>,
        stands: bool,
    }
    let mut counts = std::collections::BTreeMap::new();
    for a in all {
        *counts.entry(a.status.as_str()).or_default() += 1;
    }
    let report = Report {
        citations: all,
        counts,
        stands: all.iter().all(|a| a.status.stands()),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// Which forms of a citation `cite_link` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkForms {
    /// The Robust Link (HTML).
    pub html: bool,
    /// The BibLaTeX entry.
    pub bibtex: bool,
    /// The CSL-JSON item (in an array, as CSL processors read it).
    pub csl_json: bool,
}

/// The chosen forms of a citation of `cited`, in that order, a blank line between them.
pub fn cite_link(
    out: &mut dyn Write,
    cited: &CitedVersion<'_>,
    forms: LinkForms,
) -> io::Result<()> {
    let mut first = true;
    let mut separate = |out: &mut dyn Write| {
        let blank = if first { Ok(()) } else { writeln!(out) };
        first = false;
        blank
    };
    if forms.html {
        separate(out)?;
        writeln!(out, "{}", link::robust_link(cited))?;
    }
    if forms.bibtex {
        separate(out)?;
        write!(out, "{}", link::bibtex(cited))?;
    }
    if forms.csl_json {
        separate(out)?;
        let item = serde_json::json!([link::csl_json(cited)]);
        serde_json::to_writer_pretty(&mut *out, &item)?;
        writeln!(out)?;
    }
    Ok(())
}
