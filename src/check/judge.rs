//! Judging what a fetch brought back: the verdict, and for an edit the new version.

use jiff::Timestamp;

use crate::capture::{self, Capture, Origin};
use crate::classify::summary::{self, ChangeSummary};
use crate::classify::{self, Verdict};
use crate::fetch::{self};
use crate::hash::sha256_hex;
use crate::source::Locator;
use crate::store::record::{IndexEntry, Observation};
use crate::store::{self, Snapshot};

use super::*;

/// Judges what one fetch means for its source, reading the store only when the bytes changed.
pub fn judge(
    snapshot: &Snapshot<'_>,
    job: &Job,
    locator: &Locator,
    fetched: Fetched,
) -> Result<CheckResult, store::Error> {
    judge_under(snapshot, job, locator, fetched, None)
}

/// As [`judge`], under `rules` when given rather than the source's stored ones: `add` judges a
/// tracked source under the rules it is about to record for it (a selector and ignore patterns
/// given with it, noise learned from a second load), those that `check` will use from then on.
/// Both texts are derived under the same rules either way, so changing rules is never an edit.
pub fn judge_under(
    snapshot: &Snapshot<'_>,
    job: &Job,
    locator: &Locator,
    fetched: Fetched,
    rules: Option<&crate::extract::Rules>,
) -> Result<CheckResult, store::Error> {
    let entry = &job.entry;
    let current = (entry.version > 0).then_some(entry.version);
    let mut result = CheckResult {
        source: entry.source.to_string(),
        locator: entry.locator.clone(),
        title: entry.title.clone(),
        verdict: Verdict::Unchanged,
        reason: None,
        new: false,
        since: capture::now(),
        checked_at: capture::now(),
        http_status: None,
        final_url: None,
        old_version: current,
        new_version: None,
        old_sha256: entry.raw_sha256.clone(),
        new_sha256: None,
        old_text_sha256: entry.canonical_sha256.clone(),
        new_text_sha256: None,
        changes: None,
        change_summary: None,
        capture: None,
        staged: None,
        compared: None,
    };
    match fetched {
        Fetched::NotModified { at } => {
            result.checked_at = at;
            result.http_status = Some(304);
            result.reason = Some("HTTP 304 Not Modified".to_owned());
            result.new_sha256 = result.old_sha256.clone();
            result.new_text_sha256 = result.old_text_sha256.clone();
        }
        Fetched::Failed { at, error } => {
            result.checked_at = at;
            let (verdict, status) = failure_verdict(&error);
            result.verdict = verdict;
            result.http_status = status;
            result.reason = Some(match &error {
                fetch::Error::NotFound { .. } => "file deleted".to_owned(),
                fetch::Error::Status { status, .. } => format!("HTTP {status}"),
                other => other.to_string(),
            });
        }
        Fetched::Body { at, raw, origin } => {
            result.checked_at = at;
            // A bug that one page's bytes trigger must cost that page its judgement, not the
            // whole run its record of every other source.
            let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                judge_body(
                    snapshot,
                    entry,
                    locator,
                    &mut result,
                    (at, raw, origin),
                    rules,
                )
            }));
            match judged {
                Ok(judged) => judged?,
                Err(panic) => {
                    result.verdict = Verdict::Error;
                    result.reason = Some(format!(
                        "verbatim failed while reading this source ({}); please report it",
                        panic_message(panic.as_ref())
                    ));
                    result.capture = None;
                    result.changes = None;
                    result.change_summary = None;
                    result.new_version = None;
                }
            }
        }
    }
    (result.new, result.since) =
        continuity(job.previous.as_ref(), result.verdict, result.checked_at);
    Ok(result)
}

/// What a caught panic said.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}

fn judge_body(
    snapshot: &Snapshot<'_>,
    entry: &IndexEntry,
    locator: &Locator,
    result: &mut CheckResult,
    (at, raw, origin): (Timestamp, Vec<u8>, Origin),
    rules: Option<&crate::extract::Rules>,
) -> Result<(), store::Error> {
    let raw_sha = sha256_hex(&raw);
    result.new_sha256 = Some(raw_sha.clone());
    let moved = match &origin {
        Origin::Http {
            status,
            final_url,
            redirects,
            ..
        } => {
            result.http_status = Some(*status);
            if *final_url != entry.locator {
                result.final_url = Some(final_url.clone());
            }
            let permanent = redirects.iter().any(|r| matches!(r.status, 301 | 308));
            (permanent && *final_url != entry.locator).then(|| final_url.clone())
        }
        Origin::File { .. } => None,
    };
    if entry.raw_sha256.as_deref() == Some(raw_sha.as_str()) {
        // The common case: identical bytes need no extraction, nor any read of the store.
        result.new_text_sha256 = result.old_text_sha256.clone();
        if let Some(url) = moved {
            result.verdict = Verdict::Moved;
            result.reason = Some(format!("moved permanently to {url}; content unchanged"));
        }
        return Ok(());
    }
    let target = Target::load_under(snapshot, &entry.source, rules)?;
    let Some(current) = target.current.as_ref() else {
        result.verdict = Verdict::Edited;
        result.reason = Some("no version was stored yet".to_owned());
        result.capture = Some(Box::new(Capture::from_parts(
            locator.clone(),
            at,
            raw,
            origin,
            &target.rules,
        )));
        return Ok(());
    };
    let capture = Capture::from_parts(locator.clone(), at, raw, origin, &target.rules);
    let new_canonical =
        classify::canonical_text(&target.rules.strip_ignored(&capture.extracted.text));
    let new_text_sha = sha256_hex(new_canonical.as_bytes());
    result.new_text_sha256 = Some(new_text_sha.clone());
    // The common case of a page that changes on every load: its text is the one the last check
    // compared, under the same rules and extraction, so the old version need not be read and
    // extracted again (half the work of such a check).
    let fingerprint = target.rules.fingerprint();
    let textless = capture.extracted.charset.is_none() || current.charset.is_none();
    if !textless
        && let Some(compared) = &entry.compared
        && compared.by == fingerprint
        && compared.sha256 == new_text_sha
    {
        result.old_text_sha256 = Some(new_text_sha);
        result.verdict = Verdict::Cosmetic;
        if let Some(url) = moved {
            result.verdict = Verdict::Moved;
            result.reason = Some(format!("moved permanently to {url}; content cosmetic"));
        }
        return Ok(());
    }
    // Re-derive the old text from the old bytes with today's rules and extractor, so a changed
    // selector or a better extractor is never mistaken for an edit of the page.
    let old_raw = snapshot.read(&current.raw)?;
    let old = Capture::from_parts(
        locator.clone(),
        current.captured_at,
        old_raw,
        current.origin.clone(),
        &target.rules,
    );
    let old_canonical = classify::canonical_text(&target.rules.strip_ignored(&old.extracted.text));
    let old_text_sha = sha256_hex(old_canonical.as_bytes());
    result.old_text_sha256 = Some(old_text_sha.clone());
    let title = capture.extracted.title.as_deref();
    let content = if textless {
        // No text to compare (a PDF, an image): changed bytes are all there is to go on.
        result.reason = Some(format!(
            "{} content changed; there is no text to compare",
            capture.extracted.media_type
        ));
        Verdict::Edited
    } else if old_text_sha == new_text_sha {
        Verdict::Cosmetic
    } else if let Some(reason) = classify::block_reason(&old_canonical, &new_canonical, title) {
        result.reason = Some(reason);
        Verdict::Blocked
    } else if let Some(reason) = classify::notice_reason(&old_canonical, &new_canonical, title) {
        result.reason = Some(reason);
        Verdict::Retracted
    } else if let Some(reason) = classify::extraction_collapse(
        (current.raw.bytes, old_canonical.len()),
        (capture.raw.len() as u64, new_canonical.len()),
    ) {
        result.reason = Some(reason);
        Verdict::Error
    } else if let Some(reason) = classify::retraction_reason(&old_canonical, &new_canonical, title)
    {
        result.reason = Some(reason);
        Verdict::Retracted
    } else {
        result.changes = Some(classify::edit_stats(&old_canonical, &new_canonical));
        result.change_summary = Some(Box::new(summarize(&old, &capture, &target.rules)));
        Verdict::Edited
    };
    result.verdict = content;
    if let Some(url) = moved {
        result.verdict = Verdict::Moved;
        result.reason = Some(format!("moved permanently to {url}; content {content}"));
    }
    // What the current version's text hashes to under these rules, for the next check: the
    // new version's if this one is stored, else the old one's (saved when it was not yet).
    let current_text = if content == Verdict::Edited {
        new_text_sha
    } else {
        old_text_sha
    };
    let compared = ComparedText {
        by: fingerprint,
        sha256: current_text,
    };
    if !textless && entry.compared.as_ref() != Some(&compared) {
        result.compared = Some(compared);
    }
    if content == Verdict::Edited {
        result.capture = Some(Box::new(capture));
    }
    Ok(())
}

/// What an edit means, from the two captures' texts as `check` compares them (ignored patterns
/// removed), with a diff held to [`SUMMARY_DEADLINE`] so one huge page cannot stall a check.
fn summarize(old: &Capture, new: &Capture, rules: &crate::extract::Rules) -> ChangeSummary {
    let old_text = rules.strip_ignored(&old.extracted.text);
    let new_text = rules.strip_ignored(&new.extracted.text);
    let diff = crate::diff::TextDiff::new(
        &old_text,
        &new_text,
        &crate::diff::Options {
            timeout: SUMMARY_DEADLINE,
            ..crate::diff::Options::default()
        },
    );
    summary::summarize(
        summary::Side {
            title: old.extracted.title.as_deref(),
            text: &old_text,
        },
        summary::Side {
            title: new.extracted.title.as_deref(),
            text: &new_text,
        },
        &diff,
    )
}

/// How long the diff behind an edit's summary may take.
const SUMMARY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// The verdict a failed fetch implies, with the HTTP status if one was received.
fn failure_verdict(error: &fetch::Error) -> (Verdict, Option<u16>) {
    match error {
        fetch::Error::NotFound { .. } => (Verdict::Retracted, None),
        fetch::Error::Status { status, .. } => (
            classify::verdict_for_status(*status).unwrap_or(Verdict::Error),
            Some(*status),
        ),
        fetch::Error::Timeout { .. } | fetch::Error::Connection { .. } => {
            (Verdict::Unreachable, None)
        }
        fetch::Error::IsDirectory { .. }
        | fetch::Error::NotRegular { .. }
        | fetch::Error::Unreadable { .. }
        | fetch::Error::TooLarge { .. }
        | fetch::Error::TooManyRedirects { .. }
        | fetch::Error::BadRedirect { .. }
        | fetch::Error::RedirectScheme { .. }
        | fetch::Error::Protocol { .. }
        | fetch::Error::Internal { .. } => (Verdict::Error, None),
    }
}

/// Whether `verdict` is a new state given the source's latest observation, and since when it
/// has held (the store computes the same `since` when it records the observation).
pub fn continuity(
    previous: Option<&Observation>,
    verdict: Verdict,
    now: Timestamp,
) -> (bool, Timestamp) {
    match Observation::continued_since(previous, Some(verdict)) {
        Some(since) => (false, since),
        None => (true, now),
    }
}
