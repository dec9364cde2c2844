//! Printers for `verbatim gc`: a one-line summary, or the JSON report (schema in
//! `docs/output.md`).

use std::io::{self, Write};

use serde::Serialize;

use super::Styles;
use crate::store::gc::{Packed, Report};

/// A size in the unit that reads best: bytes, KiB, MiB or GiB.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Prints what was removed and packed (or with `--dry-run`, would be) on one line.
pub fn gc_human(out: &mut dyn Write, r: &Report, s: &Styles) -> io::Result<()> {
    let verb = if r.dry_run { "would remove" } else { "removed" };
    let mut line = format!(
        "{}{verb}{:#} {} ({}) and {} ({})",
        s.added,
        s.added,
        count(
            r.removed.objects,
            "unreachable object",
            "unreachable objects"
        ),
        size(r.removed.bytes),
        count(
            r.removed.temp_files,
            "stale temporary file",
            "stale temporary files"
        ),
        size(r.removed.temp_bytes),
    );
    if let Some(p) = &r.packed {
        if r.dry_run {
            line.push_str(&format!(
                "; would pack {} ({} loose)",
                count(p.objects, "reachable object", "reachable objects"),
                size(p.loose_bytes)
            ));
        } else if p.name.is_empty() {
            line.push_str("; nothing loose to pack");
        } else {
            line.push_str(&format!(
                "; packed {} ({} loose) into {} ({})",
                count(p.objects, "reachable object", "reachable objects"),
                size(p.loose_bytes),
                p.name,
                size(p.pack_bytes)
            ));
        }
    }
    line.push_str(&format!(
        "; kept {} reachable",
        count(r.reachable, "object", "objects")
    ));
    if r.recent_temp_files > 0 {
        line.push_str(&format!(
            " and {} younger than an hour",
            count(r.recent_temp_files, "temporary file", "temporary files")
        ));
    }
    writeln!(out, "{line}")
}

#[derive(Serialize)]
struct GcJson {
    dry_run: bool,
    reachable_objects: usize,
    removed: RemovedJson,
    recent_temp_files: usize,
    packed: Option<PackedJson>,
}

#[derive(Serialize)]
struct RemovedJson {
    objects: usize,
    bytes: u64,
    temp_files: usize,
    temp_bytes: u64,
}

#[derive(Serialize)]
struct PackedJson {
    objects: usize,
    loose_bytes: u64,
    pack: Option<String>,
    pack_bytes: u64,
}

/// Prints the report as one JSON document.
pub fn gc_json(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let doc = GcJson {
        dry_run: r.dry_run,
        reachable_objects: r.reachable,
        removed: RemovedJson {
            objects: r.removed.objects,
            bytes: r.removed.bytes,
            temp_files: r.removed.temp_files,
            temp_bytes: r.removed.temp_bytes,
        },
        recent_temp_files: r.recent_temp_files,
        packed: r.packed.as_ref().map(|p: &Packed| PackedJson {
            objects: p.objects,
            loose_bytes: p.loose_bytes,
            pack: (!p.name.is_empty()).then(|| p.name.clone()),
            pack_bytes: p.pack_bytes,
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_their_unit() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(860 * 1024 * 1024), "860.0 MiB");
        assert_eq!(size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
