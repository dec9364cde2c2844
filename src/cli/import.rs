//! `verbatim import`.

use std::path::PathBuf;

use verbatim::import::{self, Item};
use verbatim::source::SourceId;
use verbatim::store::Recorded;
use verbatim::store::record::{Observation, Outcome};

use super::error::CommandError;
use super::{Context, exit};

/// Import the captures of web archives (WARC files) as versions of their URLs
///
/// Every response and resource record becomes a version of its WARC-Target-URI, with its
/// original date, HTTP status and headers (a version is stored only when the bytes differ from
/// the source's current one); revisit records become observations. Request, metadata, warcinfo
/// and conversion records are counted and skipped. Plain, per-record gzip and whole-file gzip
/// are read. A malformed record is reported with its offset and skipped; what was read before it
/// is kept. Records are stored in file order, in commits of up to 1,000.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// WARC files (.warc or .warc.gz)
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// The archives are the store owner's own (a verbatim export, say): take targets that are
    /// local files or internal addresses, which the next check reads or fetches on this machine.
    /// Without it, only http(s) URLs of public hosts become sources
    #[arg(long)]
    trusted: bool,
    /// Largest body taken from a record, in bytes; larger records are reported and skipped
    #[arg(long, default_value_t = verbatim::fetch::Options::default().max_body, value_name = "N", value_parser = super::limits::bytes)]
    max_bytes: u64,
}

/// Captures per commit.
const BATCH: usize = 1000;
/// Bytes (raw and text) of captures held for one commit: a batch of large pages must not hold
/// gigabytes before it is stored.
const BATCH_BYTES: usize = 16 << 20;

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let store = ctx.open_store()?;
    let mut failed = false;
    for file in &args.files {
        let path = ctx.cwd.join(file);
        let mut pending: Vec<Item> = Vec::new();
        let mut stored = (0usize, 0usize, 0usize, 0usize); // new sources, new versions, unchanged, already stored
        let mut revisits = (0usize, 0usize); // recorded, of unknown captures
        let mut error: Option<CommandError> = None;
        let options = import::Options {
            max_bytes: args.max_bytes,
            trusted: args.trusted,
        };
        let mut pending_bytes = 0usize;
        let tally = import::read_warc(&path, options, &mut |item| {
            if error.is_some() {
                return;
            }
            if let Item::Capture(capture) = &item {
                pending_bytes += capture.raw.len() + capture.extracted.text.len();
            }
            pending.push(item);
            if (pending.len() >= BATCH || pending_bytes >= BATCH_BYTES)
                && let Err(e) = store_items(ctx, &store, &mut pending, &mut stored, &mut revisits)
            {
                error = Some(e);
            }
            if pending.is_empty() {
                pending_bytes = 0;
            }
        })
        .map_err(|e| CommandError::usage(e.to_string()))?;
        if let Some(e) = error {
            return Err(e);
        }
        store_items(ctx, &store, &mut pending, &mut stored, &mut revisits)?;
        for (offset, why) in &tally.malformed {
            failed = true;
            ctx.ui.warn(&CommandError::new(
                exit::USAGE,
                format!(
                    "{}: the record at offset {offset} is malformed and was skipped: {why}",
                    path.display()
                ),
            ));
        }
        let skipped: Vec<String> = tally
            .skipped
            .iter()
            .map(|(what, n)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect();
        // Only what happened, each count with its noun in the right number.
        let count = |n: usize, one: &str, many: &str| {
            (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
        };
        let parts: Vec<String> = [
            count(stored.0, "source added", "sources added"),
            count(stored.1, "new version", "new versions"),
            count(stored.2, "capture unchanged", "captures unchanged"),
            count(
                stored.3,
                "capture already in the store",
                "captures already in the store",
            ),
            count(revisits.0, "revisit recorded", "revisits recorded"),
            count(
                revisits.1,
                "revisit of a capture not in the store skipped",
                "revisits of captures not in the store skipped",
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        let done = if parts.is_empty() {
            "nothing to import".to_owned()
        } else {
            parts.join(", ")
        };
        let skipped = if skipped.is_empty() {
            String::new()
        } else {
            format!("; skipped {}", skipped.join(", "))
        };
        ctx.ui.note(&format!("{}: {done}{skipped}", path.display()));
    }
    Ok(if failed { exit::USAGE } else { exit::SUCCESS })
}

/// Stores a batch of captures and revisits in one commit.
fn store_items(
    ctx: &Context,
    store: &verbatim::store::Store,
    items: &mut Vec<Item>,
    stored: &mut (usize, usize, usize, usize),
    revisits: &mut (usize, usize),
) -> Result<(), CommandError> {
    if items.is_empty() {
        return Ok(());
    }
    let lock = ctx.lock(store)?;
    let mut tx = store.transaction(&lock)?;
    // The version current for each source, as this batch leaves it.
    let mut current: std::collections::BTreeMap<SourceId, u32> = Default::default();
    // Each source's captures already stored: (SHA-256 of the bytes, capture time).
    let mut known: std::collections::BTreeMap<
        SourceId,
        std::collections::BTreeSet<(String, jiff::Timestamp)>,
    > = Default::default();
    for item in items.drain(..) {
        match item {
            Item::Capture(capture) => {
                // A capture already in the store (the same bytes at the same time) is not stored
                // again, so importing an archive twice changes nothing.
                let id = capture.locator.id();
                let sha = verbatim::hash::sha256_hex(&capture.raw);
                if !known.contains_key(&id) {
                    let versions = tx.snapshot().versions(&id)?;
                    known.insert(
                        id.clone(),
                        versions
                            .into_iter()
                            .map(|v| (v.raw.sha256, v.captured_at))
                            .collect(),
                    );
                }
                let seen = known.entry(id.clone()).or_default();
                if seen.contains(&(sha.clone(), capture.captured_at)) {
                    stored.3 += 1;
                    continue;
                }
                seen.insert((sha, capture.captured_at));
                let recorded = tx.record(&capture, None)?;
                let v = match recorded {
                    Recorded::Added(v) => {
                        stored.0 += 1;
                        v
                    }
                    Recorded::NewVersion(v) => {
                        stored.1 += 1;
                        v
                    }
                    Recorded::Unchanged(v) => {
                        stored.2 += 1;
                        v
                    }
                };
                current.insert(v.source.clone(), v.version);
            }
            Item::Revisit { locator, at } => {
                let id = locator.id();
                let version = match current.get(&id) {
                    Some(v) => Some(*v),
                    None => tx.snapshot().index_entry(&id)?.map(|e| e.version),
                };
                let Some(version) = version.filter(|v| *v > 0) else {
                    revisits.1 += 1;
                    continue;
                };
                tx.observe(Observation {
                    source: id,
                    at,
                    since: at,
                    outcome: Outcome::Unchanged,
                    version,
                    raw_sha256: None,
                    canonical_sha256: None,
                    http_status: None,
                    verdict: None,
                    reason: Some("WARC revisit record".to_owned()),
                    final_url: None,
                })?;
                revisits.0 += 1;
            }
        }
    }
    tx.commit("import: captures from a web archive")?;
    Ok(())
}
