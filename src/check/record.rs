//! Recording a judged result in a store transaction.

use crate::store;
use crate::store::record::{Observation, Outcome};

use super::*;

/// Records one result in `tx`: `edited` stores a new version (setting the result's
/// `new_version`), everything else an observation only.
pub fn record(
    tx: &mut store::Transaction<'_>,
    result: &mut CheckResult,
) -> Result<(), store::Error> {
    let verdict = Some((result.verdict, result.reason.clone()));
    if let Some(compared) = result.compared.take() {
        let id = crate::source::SourceId::from_locator(&result.locator);
        // After the version below, if any: the entry then names it.
        record_result(tx, result, verdict)?;
        // The hash is of the version stored now, or else of the one the check judged against.
        if let Some(version) = result.new_version.or(result.old_version) {
            tx.remember_compared(&id, compared, version);
        }
        return Ok(());
    }
    record_result(tx, result, verdict)
}

/// [`record`] proper.
fn record_result(
    tx: &mut store::Transaction<'_>,
    result: &mut CheckResult,
    verdict: Option<(Verdict, Option<String>)>,
) -> Result<(), store::Error> {
    let recorded = match (result.staged.take(), result.capture.take()) {
        (Some(staged), _) => Some(tx.record_staged(&staged, None, verdict)?),
        (None, Some(capture)) => Some(tx.record_checked(&capture, None, verdict)?),
        (None, None) => None,
    };
    if let Some(recorded) = recorded {
        if let store::Recorded::Added(v) | store::Recorded::NewVersion(v) = recorded {
            result.new_version = Some(v.version);
        }
        return Ok(());
    }
    tx.observe(Observation {
        source: crate::source::SourceId::from_locator(&result.locator),
        at: result.checked_at,
        since: result.since,
        outcome: Outcome::Unchanged,
        version: result.old_version.unwrap_or(0),
        raw_sha256: result.new_sha256.clone(),
        canonical_sha256: result.new_text_sha256.clone(),
        http_status: result.http_status,
        verdict: Some(result.verdict),
        reason: result.reason.clone(),
        final_url: result.final_url.clone(),
    })
}
