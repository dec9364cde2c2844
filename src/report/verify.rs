//! Printers for `verbatim verify`: one line per problem then a summary, or the JSON report
//! (schema in `docs/output.md`).

use std::io::{self, Write};

use serde::Serialize;

use super::Styles;
use crate::formats::bagit::validate::BagReport;
use crate::verify::{Problem, ProblemKind, Report};

fn kind_name(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::MissingObject => "missing",
        ProblemKind::CorruptObject => "corrupt",
        ProblemKind::DigestMismatch => "digest",
        ProblemKind::BadRecord => "bad-record",
        ProblemKind::Inconsistent => "inconsistent",
        ProblemKind::DanglingReference => "dangling",
        ProblemKind::HistoryRewritten => "rewritten",
        ProblemKind::AnchorMismatch => "anchor",
        ProblemKind::SideDoor => "side-door",
        ProblemKind::StrayEntry => "stray",
    }
}

/// Prints every problem on a line (kind, source and version, path, what is wrong), then what
/// was checked.
pub fn verify_human(out: &mut dyn Write, r: &Report, s: &Styles) -> io::Result<()> {
    for p in &r.problems {
        write_problem(out, p, s)?;
    }
    let c = &r.checked;
    let mib = c.object_bytes as f64 / (1024.0 * 1024.0);
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let scope = format!(
        "{}, {}, {}, {}; {} ({mib:.1} MiB) in {}",
        n(c.sources, "source", "sources"),
        n(c.versions, "version", "versions"),
        n(c.streams, "byte stream", "byte streams"),
        n(c.observations, "observation", "observations"),
        n(c.objects, "git object", "git objects"),
        n(c.commits, "commit", "commits"),
    );
    let summary = if r.ok() {
        let anchor = r
            .anchor
            .as_ref()
            .map(|a| format!("; everything anchor {a} anchored is still held"))
            .unwrap_or_default();
        writeln!(
            out,
            "{}verified{:#} {scope}: everything holds{anchor}",
            s.added, s.added
        )
    } else {
        let n = r.problems.len();
        let what = if n == 1 { "problem" } else { "problems" };
        writeln!(out, "{}{n} {what}{:#} in {scope}", s.removed, s.removed)
    };
    summary?;
    match &r.unreachable {
        Some(u) if !u.is_empty() => writeln!(
            out,
            "{}note:{:#} not a problem: {} ({}) and {} ({}) left by interrupted writes; `verbatim gc` removes them",
            s.muted,
            s.muted,
            n(
                u.objects,
                "unreachable loose object",
                "unreachable loose objects"
            ),
            super::gc::size(u.bytes),
            n(
                u.temp_files,
                "stale temporary file",
                "stale temporary files"
            ),
            super::gc::size(u.temp_bytes),
        ),
        _ => Ok(()),
    }
}

fn write_problem(out: &mut dyn Write, p: &Problem, s: &Styles) -> io::Result<()> {
    let mut at = Vec::new();
    if let Some(source) = &p.source {
        at.push(format!("{}{source}{:#}", s.id, s.id));
    }
    if let Some(v) = p.version {
        at.push(format!("v{v}"));
    }
    if let Some(path) = &p.path {
        at.push(path.clone());
    }
    if let Some(object) = &p.object {
        at.push(format!("object {}", &object[..object.len().min(12)]));
    }
    let at = if at.is_empty() {
        String::new()
    } else {
        format!("{}: ", at.join(" "))
    };
    writeln!(
        out,
        "{}{:<12}{:#} {at}{}",
        s.removed,
        kind_name(p.kind),
        s.removed,
        p.detail
    )
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    ok: bool,
    commit: &'a str,
    anchor: Option<&'a str>,
    checked: &'a crate::verify::Counts,
    problems: &'a [Problem],
    unreachable: Option<UnreachableJson>,
}

#[derive(Serialize)]
struct UnreachableJson {
    objects: usize,
    bytes: u64,
    temp_files: usize,
    temp_bytes: u64,
}

/// Prints the report as one JSON document.
pub fn verify_json(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let doc = VerifyJson {
        ok: r.ok(),
        commit: &r.commit,
        anchor: r.anchor.as_deref(),
        checked: &r.checked,
        problems: &r.problems,
        unreachable: r.unreachable.as_ref().map(|u| UnreachableJson {
            objects: u.objects,
            bytes: u.bytes,
            temp_files: u.temp_files,
            temp_bytes: u.temp_bytes,
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Prints a bag's problems, a line each, then a summary.
pub fn bag_human(
    out: &mut dyn Write,
    r: &BagReport,
    bag: &std::path::Path,
    s: &Styles,
) -> io::Result<()> {
    use crate::formats::bagit::validate::BagProblemKind as K;
    for p in &r.problems {
        let kind = match p.kind {
            K::Declaration => "declaration",
            K::Manifest => "manifest",
            K::Changed => "changed",
            K::Missing => "missing",
            K::Extra => "extra",
            K::Oxum => "oxum",
            K::Hostile => "hostile",
            K::Fetch => "fetch",
        };
        let at = p
            .path
            .as_deref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        writeln!(
            out,
            "{}{kind:<12}{:#} {at}{}",
            s.removed, s.removed, p.detail
        )?;
    }
    let scope = format!(
        "{} (BagIt {}, {} payload files, {} bytes, manifests: {})",
        bag.display(),
        r.version.as_deref().unwrap_or("?"),
        r.payload_files,
        r.payload_bytes,
        if r.algorithms.is_empty() {
            "none".to_owned()
        } else {
            r.algorithms.join(", ")
        }
    );
    if r.ok() {
        writeln!(out, "{}valid{:#} {scope}", s.added, s.added)
    } else {
        let n = r.problems.len();
        let what = if n == 1 { "problem" } else { "problems" };
        writeln!(out, "{}{n} {what}{:#} in {scope}", s.removed, s.removed)
    }
}

/// Prints a bag's validation as one JSON document.
pub fn bag_json(out: &mut dyn Write, r: &BagReport) -> io::Result<()> {
    #[derive(Serialize)]
    struct BagJson<'a> {
        ok: bool,
        #[serde(flatten)]
        report: &'a BagReport,
    }
    serde_json::to_writer_pretty(
        &mut *out,
        &BagJson {
            ok: r.ok(),
            report: r,
        },
    )?;
    writeln!(out)
}
