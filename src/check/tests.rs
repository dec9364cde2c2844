use super::*;
use crate::store::record::Outcome;

fn seen(at: &str, since: &str, verdict: Option<Verdict>) -> Observation {
    Observation {
        source: crate::source::SourceId::from_locator("file:///a"),
        at: at.parse().expect("time"),
        since: since.parse().expect("time"),
        outcome: Outcome::Unchanged,
        version: 1,
        raw_sha256: None,
        canonical_sha256: None,
        http_status: None,
        verdict,
        reason: None,
        final_url: None,
    }
}

#[test]
fn the_spool_gives_results_back_by_shard_in_id_order_or_in_the_order_given() {
    let at: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
    let result = |source: &str| CheckResult {
        source: source.to_owned(),
        locator: format!("file:///{source}"),
        title: None,
        verdict: Verdict::Unchanged,
        reason: Some("a \"reason\"\nwith a newline".to_owned()),
        new: false,
        since: at,
        checked_at: at,
        http_status: None,
        final_url: None,
        old_version: Some(3),
        new_version: None,
        old_sha256: Some("ab".repeat(32)),
        new_sha256: None,
        old_text_sha256: None,
        new_text_sha256: None,
        changes: Some(EditStats::default()),
        change_summary: None,
        capture: None,
        staged: None,
        compared: None,
    };
    let ids = ["ff01", "0a02", "ff00", "0a01", "1203"];
    let mut spool = Spool::new();
    for (i, id) in ids.iter().enumerate() {
        spool.push(i, result(id)).expect("push");
    }
    assert_eq!(spool.len(), 5);
    let batches: Vec<Vec<String>> = spool
        .drain()
        .map(|b| b.expect("read").into_iter().map(|r| r.source).collect())
        .collect();
    assert_eq!(
        batches,
        [vec!["0a01", "0a02"], vec!["1203"], vec!["ff00", "ff01"]]
    );
    let mut one = Spool::new();
    one.push(0, result("0a01")).expect("push");
    let read = one.drain().next().expect("a batch").expect("read");
    assert_eq!(read[0].reason, result("0a01").reason);
    assert_eq!(read[0].old_sha256, result("0a01").old_sha256);

    let mut ordered = Spool::in_order(ids.len());
    for (i, id) in ids.iter().enumerate().rev() {
        ordered.push(i, result(id)).expect("push");
    }
    let batches: Vec<Vec<String>> = ordered
        .drain()
        .map(|b| b.expect("read").into_iter().map(|r| r.source).collect())
        .collect();
    assert_eq!(batches, [ids.to_vec()]);
}

#[test]
fn states_are_reported_on_change() {
    let now: Timestamp = "2026-01-10T00:00:00Z".parse().expect("time");
    let captured = seen("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", None);
    let cosmetic = seen(
        "2026-01-02T00:00:00Z",
        "2026-01-01T00:00:00Z",
        Some(Verdict::Cosmetic),
    );
    let retracted = seen(
        "2026-01-04T00:00:00Z",
        "2026-01-03T00:00:00Z",
        Some(Verdict::Retracted),
    );
    let (new, since) = continuity(Some(&retracted), Verdict::Retracted, now);
    assert!(!new);
    assert_eq!(since.to_string(), "2026-01-03T00:00:00Z");
    let (new, since) = continuity(Some(&cosmetic), Verdict::Retracted, now);
    assert!(new);
    assert_eq!(since, now);
    let (new, since) = continuity(Some(&cosmetic), Verdict::Unchanged, now);
    assert!(!new);
    assert_eq!(since.to_string(), "2026-01-01T00:00:00Z");
    assert!(!continuity(Some(&captured), Verdict::Cosmetic, now).0);
    assert!(continuity(None, Verdict::Unchanged, now).0);
    assert!(continuity(Some(&captured), Verdict::Edited, now).0);
    assert!(continuity(Some(&retracted), Verdict::Unchanged, now).0);
}
