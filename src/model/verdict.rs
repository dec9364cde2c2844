//! The verdicts a check reaches, as the store records them (`verdict` in an observation) and
//! as every output names them.
//!
//! Adding a verdict is a change to [`Verdict`] and [`Verdict::ALL`], then to the places the
//! compiler lists: every `match` on a verdict is exhaustive, and help texts and messages take
//! their lists from [`Verdict::ALL`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a check found, as a state of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The bytes are identical, or the server answered 304 Not Modified.
    Unchanged,
    /// The bytes differ but the canonical text is the same (markup, ads, typography only).
    Cosmetic,
    /// The canonical text changed.
    Edited,
    /// The article is gone: 404, 410 or 451, a soft 404, or a retraction notice.
    Retracted,
    /// The article answers from a different URL now.
    Moved,
    /// The site refuses verbatim (401, 403, 429 that persist, a bot wall).
    Blocked,
    /// Network failure, timeout, or server errors after retries.
    Unreachable,
    /// verbatim could not process the response.
    Error,
    /// A verdict this version does not know, recorded by a newer version: read, rather than
    /// the record being refused, and a state of its own. A check never reaches it, `--fail-on`
    /// does not accept it, and it is not in [`Verdict::ALL`]; written back (when this version
    /// rewrites a `state/` line it read) it is `"unknown"`.
    #[serde(other)]
    Unknown,
}

impl Verdict {
    /// Every verdict a check can reach, in the order help texts and summaries list them.
    pub const ALL: [Verdict; 8] = [
        Verdict::Unchanged,
        Verdict::Cosmetic,
        Verdict::Edited,
        Verdict::Retracted,
        Verdict::Moved,
        Verdict::Blocked,
        Verdict::Unreachable,
        Verdict::Error,
    ];

    /// The verdict's name as it appears in output and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unchanged => "unchanged",
            Verdict::Cosmetic => "cosmetic",
            Verdict::Edited => "edited",
            Verdict::Retracted => "retracted",
            Verdict::Moved => "moved",
            Verdict::Blocked => "blocked",
            Verdict::Unreachable => "unreachable",
            Verdict::Error => "error",
            Verdict::Unknown => "unknown",
        }
    }

    /// The verdict named `name`, one of [`Verdict::ALL`]; `None` for any other name
    /// (`"unknown"` included).
    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == name)
    }

    /// The names of [`Verdict::ALL`] as a sentence's list: `"unchanged, cosmetic, …,
    /// unreachable or error"`.
    pub fn list() -> String {
        crate::text::or_list(&Verdict::ALL.map(Verdict::as_str))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an observation with verdict `next` continues the state of one with verdict
/// `previous` (`None`: a plain capture by `add`), so that it is reported as ongoing, not new.
/// This decides an observation's `since`, so it is part of the store format.
///
/// Unchanged and cosmetic, and plain captures, are one "nothing to report" state; every edit is
/// a new state, because each brings new text; any other verdict continues only itself.
pub fn continues(previous: Option<Verdict>, next: Option<Verdict>) -> bool {
    let state = |v: Option<Verdict>| match v.unwrap_or(Verdict::Unchanged) {
        Verdict::Unchanged | Verdict::Cosmetic => Verdict::Unchanged,
        own @ (Verdict::Edited
        | Verdict::Retracted
        | Verdict::Moved
        | Verdict::Blocked
        | Verdict::Unreachable
        | Verdict::Error
        | Verdict::Unknown) => own,
    };
    next != Some(Verdict::Edited) && state(previous) == state(next)
}
