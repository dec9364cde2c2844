//! Judging a citation against the store: the source's state, whether it changed since the
//! citation's access date, and whether the quote still stands — and if not, since when.

use jiff::Timestamp;
use serde::Serialize;

use super::Citation;
use super::quote::{Found, Matcher};
use crate::classify::Verdict;
use crate::source::SourceId;
use crate::store::record::VersionRecord;
use crate::store::{self, Snapshot};

/// What a citation's check found, in one word (the statuses `--fail-on` names).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The quote (if any) stands, and the source is as it was when cited.
    Stands,
    /// The quote stands, but the source was edited since the citation's access date.
    SourceChanged,
    /// The quote stands in more than one place: which one was cited cannot be told.
    Ambiguous,
    /// Only an altered version of the quote is in the source (the passage is shown).
    QuoteAltered,
    /// The quote is not in the source.
    QuoteGone,
    /// The source was retracted (or replaced by a not-found page).
    Retracted,
    /// The source now redirects elsewhere.
    Moved,
    /// The source refuses to be read (paywall, login, bot wall).
    Blocked,
    /// The source cannot be reached.
    Unreachable,
    /// The source is not in the store (with `--offline`, nothing is captured).
    NotTracked,
}

impl Status {
    /// Every status, in the order help texts list them.
    pub const ALL: [Status; 10] = [
        Status::Stands,
        Status::SourceChanged,
        Status::Ambiguous,
        Status::QuoteAltered,
        Status::QuoteGone,
        Status::Retracted,
        Status::Moved,
        Status::Blocked,
        Status::Unreachable,
        Status::NotTracked,
    ];

    /// The status named `name` (as [`Status::as_str`] spells it).
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The names of [`Status::ALL`] as a sentence's list.
    pub fn list() -> String {
        crate::text::or_list(&Status::ALL.map(Status::as_str))
    }

    /// Its name, as `--fail-on` and the JSON output spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stands => "stands",
            Status::SourceChanged => "source-changed",
            Status::Ambiguous => "ambiguous",
            Status::QuoteAltered => "quote-altered",
            Status::QuoteGone => "quote-gone",
            Status::Retracted => "retracted",
            Status::Moved => "moved",
            Status::Blocked => "blocked",
            Status::Unreachable => "unreachable",
            Status::NotTracked => "not-tracked",
        }
    }

    /// Whether the citation fully stands.
    pub fn stands(self) -> bool {
        self == Status::Stands
    }

    /// Whether the live source is gone (so that only an archived copy can show the quote).
    pub fn source_gone(self) -> bool {
        matches!(
            self,
            Status::Retracted | Status::Moved | Status::Blocked | Status::Unreachable
        )
    }
}

/// A citation judged.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The citation.
    pub citation: Citation,
    /// Its status.
    pub status: Status,
    /// The source's id in the store.
    pub source: Option<SourceId>,
    /// The source's latest verdict (from this run's check, or its last observation).
    pub verdict: Option<Verdict>,
    /// The latest stored version.
    pub latest_version: Option<u32>,
    /// The version that was current at the end of the access date, if the store had one then.
    pub version_at_access: Option<u32>,
    /// Whether the source's text changed between the version at access and the latest;
    /// `None` when the store has no version from before the access date (or there is none).
    pub changed_since_access: Option<bool>,
    /// What became of the quote, when the citation has one.
    pub quote: Option<QuoteReport>,
    /// The archived copy a TimeGate gave for the access date, when the live source is gone
    /// and `--memento` names one.
    pub memento: Option<super::memento::MementoReport>,
}

/// What became of a quote.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteReport {
    /// How it was found in the latest version.
    pub found: Found,
    /// In how many places it stands.
    pub occurrences: usize,
    /// The closest passage's similarity (1 when found).
    pub similarity: f64,
    /// The passage found, or the closest one: for a quote with ellipses that does not stand,
    /// each part's passage, with the quote's own ellipsis between them.
    pub passage: Option<String>,
    /// How many of the quote's parts (between its ellipses) the closest passage lacks: a part
    /// missing makes the quote gone, whatever its similarity.
    pub parts_missing: usize,
    /// The quote against the closest passage, word by word (`[-quoted-]{+now+}`), when they
    /// differ.
    pub diff: Option<String>,
    /// The last version the quote stood in, when it no longer does.
    pub last_seen_in: Option<u32>,
    /// The version it was gone from first.
    pub gone_since: Option<u32>,
    /// When that version was captured.
    pub gone_since_at: Option<Timestamp>,
    /// What took the quoted passage's place in that version (from a diff of the two
    /// versions), when something did.
    pub replaced_by: Option<String>,
}

/// Judges citations against a store's snapshot. The last source's versions and latest text,
/// folded and indexed, are kept for the next citation of it: give the citations of one source
/// one after another, and a report quoting one long source a hundred times folds it once,
/// while memory holds one source, not all of them.
pub struct Assessor<'s, 'r> {
    snapshot: &'s Snapshot<'r>,
    loaded: Option<(SourceId, std::rc::Rc<Loaded>)>,
}

/// A source as the assessor keeps it.
struct Loaded {
    versions: Vec<VersionRecord>,
    /// The latest version's text, ready for look-ups.
    latest: Option<Matcher<'static>>,
}

impl<'s, 'r> Assessor<'s, 'r> {
    /// Judges citations against `snapshot`.
    pub fn new(snapshot: &'s Snapshot<'r>) -> Assessor<'s, 'r> {
        Assessor {
            snapshot,
            loaded: None,
        }
    }

    /// Judges `citation`: `verdict` is the source's latest verdict (from a check just run, or
    /// the last observation), `source` its record's id, `None` when it is not tracked.
    pub fn assess(
        &mut self,
        citation: &Citation,
        source: Option<&SourceId>,
        verdict: Option<Verdict>,
    ) -> Result<Assessment, store::Error> {
        let loaded = match source {
            Some(id) => Some(self.load(id)?),
            None => None,
        };
        assess_loaded(self.snapshot, citation, source, verdict, loaded.as_deref())
    }

    fn load(&mut self, id: &SourceId) -> Result<std::rc::Rc<Loaded>, store::Error> {
        if let Some((last, loaded)) = &self.loaded
            && last == id
        {
            return Ok(std::rc::Rc::clone(loaded));
        }
        // The previous source goes before the next is read.
        self.loaded = None;
        let versions = self.snapshot.versions(id)?;
        let latest = match versions.last() {
            Some(v) => Some(Matcher::owned(text_of(self.snapshot, v)?)),
            None => None,
        };
        let loaded = std::rc::Rc::new(Loaded { versions, latest });
        self.loaded = Some((id.clone(), std::rc::Rc::clone(&loaded)));
        Ok(loaded)
    }
}

/// A version's text (stored as UTF-8; anything else is read as `from_utf8_lossy` reads it).
fn text_of(snapshot: &Snapshot<'_>, v: &VersionRecord) -> Result<String, store::Error> {
    // Validated in place, not decoded into a copy: on 1,000 sources of 50 KB the lossy
    // decoder was a twentieth of `cite check --offline`.
    Ok(String::from_utf8(snapshot.read(&v.text)?)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Judges `citation` against the store (see [`Assessor::assess`]); for one citation, or a few.
pub fn assess(
    snapshot: &Snapshot<'_>,
    citation: &Citation,
    source: Option<&SourceId>,
    verdict: Option<Verdict>,
) -> Result<Assessment, store::Error> {
    Assessor::new(snapshot).assess(citation, source, verdict)
}

fn assess_loaded(
    snapshot: &Snapshot<'_>,
    citation: &Citation,
    source: Option<&SourceId>,
    verdict: Option<Verdict>,
    loaded: Option<&Loaded>,
) -> Result<Assessment, store::Error> {
    let mut out = Assessment {
        citation: citation.clone(),
        status: Status::NotTracked,
        source: source.cloned(),
        verdict,
        latest_version: None,
        version_at_access: None,
        changed_since_access: None,
        quote: None,
        memento: None,
    };
    let (Some(_), Some(loaded)) = (source, loaded) else {
        return Ok(out);
    };
    let versions = &loaded.versions;
    let (Some(latest), Some(matcher)) = (versions.last(), &loaded.latest) else {
        return Ok(out);
    };
    out.latest_version = Some(latest.version);
    if let Some(accessed) = citation.accessed {
        // The end of the access day, in UTC: a version captured that day was what was read.
        let end = accessed
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp());
        let at_access = end.and_then(|end| versions.iter().rev().find(|v| v.captured_at < end));
        if let Some(then) = at_access {
            out.version_at_access = Some(then.version);
            out.changed_since_access = Some(text_changed(then, latest));
        }
    }
    if let Some(quote) = &citation.quote {
        out.quote = Some(quote_report(snapshot, versions, matcher, quote)?);
    }
    out.status = status(&out);
    Ok(out)
}

/// Whether two versions' texts differ beyond typography.
fn text_changed(then: &VersionRecord, now: &VersionRecord) -> bool {
    match (&then.canonical_sha256, &now.canonical_sha256) {
        (Some(a), Some(b)) => a != b,
        _ => then.text.sha256 != now.text.sha256,
    }
}

fn status(a: &Assessment) -> Status {
    match a.verdict {
        Some(Verdict::Retracted) => return Status::Retracted,
        Some(Verdict::Moved) => return Status::Moved,
        Some(Verdict::Blocked) => return Status::Blocked,
        Some(Verdict::Unreachable) => return Status::Unreachable,
        Some(
            Verdict::Unchanged
            | Verdict::Cosmetic
            | Verdict::Edited
            | Verdict::Error
            | Verdict::Unknown,
        )
        | None => {}
    }
    if let Some(q) = &a.quote {
        match q.found {
            Found::Gone => return Status::QuoteGone,
            Found::Approximate => return Status::QuoteAltered,
            _ if q.occurrences > 1 => return Status::Ambiguous,
            _ => {}
        }
    }
    if a.changed_since_access == Some(true) {
        Status::SourceChanged
    } else {
        Status::Stands
    }
}

/// Looks the quote up in the latest version, and, when it is not there as written, back through
/// the history for the last version it stood in.
fn quote_report(
    snapshot: &Snapshot<'_>,
    versions: &[VersionRecord],
    matcher: &Matcher<'_>,
    quote: &str,
) -> Result<QuoteReport, store::Error> {
    let text_of = |v: &VersionRecord| text_of(snapshot, v);
    let m = matcher.find(quote);
    let passage = matcher.passage(&m);
    let diff = match (&passage, m.found) {
        (Some(p), Found::Approximate | Found::Gone) => Some(word_diff(quote, p)),
        _ => None,
    };
    let mut report = QuoteReport {
        found: m.found,
        occurrences: m.occurrences,
        similarity: m.similarity,
        passage,
        parts_missing: m.parts_missing,
        diff,
        last_seen_in: None,
        gone_since: None,
        gone_since_at: None,
        replaced_by: None,
    };
    if matches!(m.found, Found::Approximate | Found::Gone) {
        // Newest first: the first version holding it is the last it stood in.
        for (i, v) in versions.iter().enumerate().rev().skip(1) {
            let older = text_of(v)?;
            let then = Matcher::new(&older);
            let found = then.find_standing(quote);
            if matches!(found.found, Found::Exact | Found::Canonical) {
                report.last_seen_in = Some(v.version);
                if let Some(next) = versions.get(i + 1) {
                    report.gone_since = Some(next.version);
                    report.gone_since_at = Some(next.captured_at);
                    if let Some(passage) = found.passage {
                        let newer = text_of(next)?;
                        let newer = Matcher::new(&newer);
                        report.replaced_by = replacement(then.text(), newer.text(), passage)
                            .filter(|r| !r.is_empty());
                    }
                }
                break;
            }
        }
    }
    Ok(report)
}

/// What stands in `new` where `passage` of `old` was: the passage's ends carried through a word
/// diff of the two texts (an end inside a change is carried to the change's far side, so that
/// a replaced passage yields all of its replacement).
fn replacement(old: &str, new: &str, passage: std::ops::Range<usize>) -> Option<String> {
    let diff = crate::diff::TextDiff::words(old, new, std::time::Duration::from_secs(2));
    use crate::diff::Tag;
    let ops = diff.ops();
    // Where the passage starts: in an equal run, the same place; in a deleted run, where its
    // replacement starts.
    let start = ops
        .iter()
        .find_map(|op| match op.tag {
            Tag::Equal if op.old.contains(&passage.start) => {
                Some(op.new.start + (passage.start - op.old.start))
            }
            Tag::Delete if op.old.contains(&passage.start) => Some(op.new.start),
            _ => None,
        })
        .unwrap_or(new.len());
    // Where it ends: in a deleted run, where the insertion that follows it (its replacement)
    // ends.
    let end = ops
        .iter()
        .enumerate()
        .find_map(|(i, op)| {
            let inside = op.old.start < passage.end && passage.end <= op.old.end;
            match op.tag {
                Tag::Equal if inside => Some(op.new.start + (passage.end - op.old.start)),
                Tag::Delete if inside => Some(match ops.get(i + 1) {
                    Some(next) if next.tag == Tag::Insert => next.new.end,
                    _ => op.new.start,
                }),
                _ => None,
            }
        })
        .unwrap_or(0);
    (start <= end && end <= new.len() && new.is_char_boundary(start) && new.is_char_boundary(end))
        .then(|| new[start..end].trim().to_owned())
}

/// `quote` against `passage` word by word, in `git diff --word-diff` markers.
pub fn word_diff(quote: &str, passage: &str) -> String {
    let diff = crate::diff::TextDiff::words(quote, passage, std::time::Duration::from_secs(1));
    let mut out = String::new();
    for op in diff.ops() {
        let text = diff.text(op);
        match op.tag {
            crate::diff::Tag::Equal => out.push_str(text),
            crate::diff::Tag::Delete => {
                out.push_str("[-");
                out.push_str(text);
                out.push_str("-]");
            }
            crate::diff::Tag::Insert => {
                out.push_str("{+");
                out.push_str(text);
                out.push_str("+}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn every_status_has_one_name_everywhere() {
        for status in Status::ALL {
            let json = serde_json::to_string(&status).expect("writes");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(Status::from_name(status.as_str()), Some(status));
        }
        let mut names: Vec<_> = Status::ALL.map(Status::as_str).to_vec();
        names.dedup();
        assert_eq!(names.len(), Status::ALL.len());
        assert_eq!(Status::from_name("unknown"), None);
        assert!(Status::list().ends_with("unreachable or not-tracked"));
    }
}
