//! Aligning two sequences of token ids: the longest run of equal tokens first, then patience
//! anchors (tokens that occur exactly once on each side, in increasing order on both, found by
//! longest increasing subsequence), recursively within the gaps between anchors, and Myers
//! (from `similar`) only for gaps that have no anchor left but something in common (a gap with
//! nothing in common is a change without it, unless it is big: see [`BIG_GAP`]).
//!
//! Hand-written rather than `similar`'s patience diff because that one matches its unique
//! tokens with Myers, which costs the product of the sequence length and the number of changes:
//! on a long article with changes spread through it (every other paragraph touched), most of a
//! diff's time went there. Here anchoring is O(n log n) and Myers sees only small gaps.

use std::ops::Range;
use std::time::Instant;

use similar::{Algorithm, DiffTag};

/// A run of tokens: equal on both sides, or a change (one side may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    /// Whether the run is the same tokens on both sides.
    pub equal: bool,
    /// Its token indices in the old sequence.
    pub old: Range<usize>,
    /// Its token indices in the new sequence.
    pub new: Range<usize>,
    /// For a change: whether it was left unaligned because time ran out (the deadline, or the
    /// budget of a large gap with nothing in common), so that it may hide equal tokens.
    pub approximate: bool,
}

/// Gaps nested deeper than this are aligned by Myers alone; each level is strictly smaller than
/// the one above, so this only bounds the stack on pathological input.
const MAX_DEPTH: usize = 48;

/// A gap this long (in tokens, both sides) with no anchor is most likely unrelated text, where
/// Myers costs the product of the lengths and finds little: it gets a share of the time to the deadline ([`GAP_SHARE`]).
const BIG_GAP: usize = 4096;

/// The cost (in Myers steps, roughly) past which a lopsided gap is not aligned.
const LOPSIDED_COST: u64 = 200_000_000;

/// The share of the time to the deadline that Myers may spend on big gaps, all of them
/// together, before such gaps are taken as replaced whole (250 ms of the default 5 s): a larger
/// deadline buys a closer alignment.
const GAP_SHARE: u32 = 20;

/// What alignments may still spend: one set of limits is shared by every alignment of a diff.
#[derive(Debug)]
pub(crate) struct Limits {
    deadline: Instant,
    /// Time left for big gaps.
    gap_budget: std::time::Duration,
}

impl Limits {
    /// Limits ending at `deadline`, with the whole budget for big gaps.
    pub(crate) fn new(deadline: Instant) -> Limits {
        Limits {
            deadline,
            gap_budget: deadline.saturating_duration_since(Instant::now()) / GAP_SHARE,
        }
    }

    /// Whether the deadline has passed.
    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// Aligns `old` with `new`: runs in order, covering both, adjacent equal runs merged. Past
/// `deadline`, what is left unaligned becomes one change.
pub(crate) fn align<T: Ord + std::hash::Hash>(old: &[T], new: &[T], deadline: Instant) -> Vec<Run> {
    let mut runs = Vec::new();
    align_within(old, new, &mut Limits::new(deadline), &mut |run| {
        runs.push(run)
    });
    runs
}

/// As [`align`], within limits shared with other alignments, handing each run to `emit` as
/// soon as it is known: a caller that turns runs into something else keeps no list of them
/// (on a long text, the list was one of the largest allocations of a diff).
pub(crate) fn align_within<T: Ord + std::hash::Hash>(
    old: &[T],
    new: &[T],
    limits: &mut Limits,
    emit: &mut dyn FnMut(Run),
) {
    let mut out = Sink {
        pending: None,
        emit,
    };
    align_into(old, new, 0, 0, limits, 0, &mut out);
    if let Some(run) = out.pending.take() {
        (out.emit)(run);
    }
}

/// Where runs go: the last one is held back until the next shows whether the two merge.
struct Sink<'e> {
    pending: Option<Run>,
    emit: &'e mut dyn FnMut(Run),
}

impl Sink<'_> {
    fn push(&mut self, run: Run) {
        if let Some(last) = self.pending.replace(run) {
            (self.emit)(last);
        }
    }
}

fn align_into<T: Ord + std::hash::Hash>(
    old: &[T],
    new: &[T],
    ob: usize,
    nb: usize,
    limits: &mut Limits,
    depth: usize,
    out: &mut Sink<'_>,
) {
    let pre = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    push_equal(out, ob, nb, pre);
    let (old, new) = (&old[pre..], &new[pre..]);
    let suf = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (o, n) = (&old[..old.len() - suf], &new[..new.len() - suf]);
    middle(o, n, ob + pre, nb + pre, limits, depth, out);
    push_equal(out, ob + pre + o.len(), nb + pre + n.len(), suf);
}

/// Aligns two sequences that share no prefix or suffix.
fn middle<T: Ord + std::hash::Hash>(
    o: &[T],
    n: &[T],
    ob: usize,
    nb: usize,
    limits: &mut Limits,
    depth: usize,
    out: &mut Sink<'_>,
) {
    if o.is_empty() && n.is_empty() {
        return;
    }
    // Small gaps are cheap whatever happens; the clock is read only for larger ones.
    if o.is_empty() || n.is_empty() {
        push_change(out, ob..ob + o.len(), nb..nb + n.len(), false);
        return;
    }
    // One token for one other (they differ: the common ends are trimmed): a change, whatever
    // aligning would do, without its tables; the usual gap of a line diff.
    if o.len() == 1 && n.len() == 1 {
        push_change(out, ob..ob + 1, nb..nb + 1, false);
        return;
    }
    if o.len() + n.len() > 64 && Instant::now() >= limits.deadline {
        push_change(out, ob..ob + o.len(), nb..nb + n.len(), true);
        return;
    }
    // A small gap with nothing in common is a change, without a table to find that out.
    if o.len().saturating_mul(n.len()) <= 64 && !o.iter().any(|t| n.contains(t)) {
        push_change(out, ob..ob + o.len(), nb..nb + n.len(), false);
        return;
    }
    let anchors = if depth < MAX_DEPTH {
        unique_anchors(o, n)
    } else {
        Anchors::Chain(Vec::new())
    };
    let anchors = match anchors {
        // Myers would only confirm it, at the cost of the product of the lengths. (A big gap
        // with nothing in common goes to Myers all the same, which gives up on it within its
        // budget: it is most likely unrelated text, and shown as replaced whole, approximate,
        // rather than compared more finely at length.)
        Anchors::NothingInCommon if o.len() + n.len() <= BIG_GAP => {
            push_change(out, ob..ob + o.len(), nb..nb + n.len(), false);
            return;
        }
        Anchors::NothingInCommon => return myers(o, n, ob, nb, limits, out),
        Anchors::Chain(chain) if chain.is_empty() => return myers(o, n, ob, nb, limits, out),
        Anchors::Chain(chain) => chain,
    };
    let (mut pi, mut pj) = (0, 0);
    for (i, j) in anchors {
        let (i, j) = (i as usize, j as usize);
        align_into(
            &o[pi..i],
            &n[pj..j],
            ob + pi,
            nb + pj,
            limits,
            depth + 1,
            out,
        );
        push_equal(out, ob + i, nb + j, 1);
        (pi, pj) = (i + 1, j + 1);
    }
    align_into(&o[pi..], &n[pj..], ob + pi, nb + pj, limits, depth + 1, out);
}

/// What a gap's tokens have in common.
enum Anchors {
    /// Not one token.
    NothingInCommon,
    /// The tokens that occur once in each sequence, as (old index, new index) pairs, reduced to
    /// the longest chain increasing on both sides (maybe none, though others are shared).
    Chain(Vec<(u32, u32)>),
}

/// Finds the anchors of a gap. Indices are kept as `u32` (and counts as bytes that stop at
/// two) because on a long text these tables are among the largest allocations of a diff, and
/// each page of fresh memory is a page fault.
fn unique_anchors<T: Ord + std::hash::Hash>(o: &[T], n: &[T]) -> Anchors {
    if u32::try_from(o.len().max(n.len())).is_err() {
        return Anchors::Chain(Vec::new());
    }
    // For each token: how often it occurs in old and in new (0, 1, or 2 for more), and where
    // it was last seen in new.
    let mut seen: foldhash::HashMap<&T, ([u8; 2], u32)> =
        foldhash::HashMap::with_capacity_and_hasher(o.len(), Default::default());
    for t in o {
        let e = seen.entry(t).or_insert(([0, 0], 0));
        e.0[0] = (e.0[0] + 1).min(2);
    }
    let mut shared = false;
    for (j, t) in n.iter().enumerate() {
        if let Some(e) = seen.get_mut(t) {
            shared = true;
            e.0[1] = (e.0[1] + 1).min(2);
            e.1 = j as u32;
        }
    }
    if !shared {
        return Anchors::NothingInCommon;
    }
    let pairs: Vec<(u32, u32)> = o
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match seen.get(t) {
            Some(&([1, 1], j)) => Some((i as u32, j)),
            _ => None,
        })
        .collect();
    drop(seen);
    Anchors::Chain(longest_increasing(&pairs))
}

/// The longest subsequence of `pairs` (increasing in their first element) whose second elements
/// increase too: patience sorting with binary search.
fn longest_increasing(pairs: &[(u32, u32)]) -> Vec<(u32, u32)> {
    const NONE: u32 = u32::MAX;
    let mut tails: Vec<u32> = Vec::new();
    let mut prev = vec![NONE; pairs.len()];
    for (k, &(_, j)) in pairs.iter().enumerate() {
        let at = tails.partition_point(|&t| pairs[t as usize].1 < j);
        if at > 0 {
            prev[k] = tails[at - 1];
        }
        if at == tails.len() {
            tails.push(k as u32);
        } else {
            tails[at] = k as u32;
        }
    }
    let mut chain = Vec::with_capacity(tails.len());
    let mut k = tails.last().copied().unwrap_or(NONE);
    while k != NONE {
        chain.push(pairs[k as usize]);
        k = prev[k as usize];
    }
    chain.reverse();
    chain
}

/// Myers, for a gap without anchors. `similar`'s ops are walked by their lengths with our own
/// cursors, not by the positions they report: `similar` 2.7 can report a deletion at a wrong
/// position in the new sequence (found by this module's property tests). An equal op whose
/// tokens differ is taken as a change, so a wrong op could make a diff coarser, never wrong.
fn myers<T: Ord + std::hash::Hash>(
    o: &[T],
    n: &[T],
    ob: usize,
    nb: usize,
    limits: &mut Limits,
    out: &mut Sink<'_>,
) {
    let big = o.len() + n.len() > BIG_GAP;
    // Against a long run, a handful of tokens on the other side can match only by chance (a
    // comma, a "the"), while Myers pays about the long length times the difference in lengths
    // to find out: past a few hundred million steps, the gap is replaced whole.
    let (short, long) = (o.len().min(n.len()), o.len().max(n.len()));
    if short * 32 < long && (long as u64) * ((long - short) as u64) > LOPSIDED_COST {
        push_change(out, ob..ob + o.len(), nb..nb + n.len(), true);
        return;
    }
    let started = Instant::now();
    let limit = if big {
        limits.deadline.min(started + limits.gap_budget)
    } else {
        limits.deadline
    };
    if started >= limit {
        push_change(out, ob..ob + o.len(), nb..nb + n.len(), true);
        return;
    }
    // Small gaps finish long before any deadline; not reading the clock for them saves more
    // than they cost.
    let limit_for_myers = (o.len() + n.len() > 1024).then_some(limit);
    let ops = similar::capture_diff_deadline(
        Algorithm::Myers,
        o,
        0..o.len(),
        n,
        0..n.len(),
        limit_for_myers,
    );
    let now = Instant::now();
    if big {
        limits.gap_budget = limits.gap_budget.saturating_sub(now - started);
    }
    if now >= limit {
        // Cut short, Myers gives an arbitrary coarse split; one replacement says so plainly.
        push_change(out, ob..ob + o.len(), nb..nb + n.len(), true);
        return;
    }
    let (mut i, mut j) = (0, 0);
    for op in ops {
        let (tag, or, nr) = op.as_tag_tuple();
        let (ol, nl) = (or.len().min(o.len() - i), nr.len().min(n.len() - j));
        if tag == DiffTag::Equal && ol == nl && o[i..i + ol] == n[j..j + nl] {
            push_equal(out, ob + i, nb + j, ol);
        } else {
            push_change(out, ob + i..ob + i + ol, nb + j..nb + j + nl, false);
        }
        (i, j) = (i + ol, j + nl);
    }
    if i < o.len() || j < n.len() {
        push_change(out, ob + i..ob + o.len(), nb + j..nb + n.len(), false);
    }
}

fn push_equal(out: &mut Sink<'_>, o: usize, n: usize, len: usize) {
    if len == 0 {
        return;
    }
    if let Some(last) = out.pending.as_mut()
        && last.equal
        && last.old.end == o
        && last.new.end == n
    {
        last.old.end += len;
        last.new.end += len;
        return;
    }
    out.push(Run {
        equal: true,
        old: o..o + len,
        new: n..n + len,
        approximate: false,
    });
}

fn push_change(out: &mut Sink<'_>, o: Range<usize>, n: Range<usize>, approximate: bool) {
    if o.is_empty() && n.is_empty() {
        return;
    }
    if let Some(last) = out.pending.as_mut()
        && !last.equal
        && last.old.end == o.start
        && last.new.end == n.start
    {
        last.old.end = o.end;
        last.new.end = n.end;
        last.approximate |= approximate;
        return;
    }
    out.push(Run {
        equal: false,
        old: o,
        new: n,
        approximate,
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn check(old: &[u8], new: &[u8], runs: &[Run]) {
        let (mut o, mut n) = (0, 0);
        let mut rebuilt = Vec::new();
        for r in runs {
            assert_eq!((r.old.start, r.new.start), (o, n), "runs are contiguous");
            if r.equal {
                assert_eq!(old[r.old.clone()], new[r.new.clone()]);
            }
            rebuilt.extend_from_slice(&new[r.new.clone()]);
            (o, n) = (r.old.end, r.new.end);
        }
        assert_eq!((o, n), (old.len(), new.len()), "runs cover both");
        assert_eq!(rebuilt, new);
    }

    #[test]
    fn anchors_and_gaps() {
        let old = b"abcXdefYghi";
        let new = b"abcdeZfghiW";
        let runs = align(old, new, Instant::now() + Duration::from_secs(1));
        check(old, new, &runs);
        let equal: usize = runs.iter().filter(|r| r.equal).map(|r| r.old.len()).sum();
        assert_eq!(
            equal, 9,
            "a longest common subsequence here: abcdefghi; {runs:?}"
        );
    }

    #[test]
    fn longest_chain() {
        assert_eq!(
            longest_increasing(&[(0, 3), (1, 0), (2, 1), (3, 4), (4, 2)]),
            vec![(1, 0), (2, 1), (4, 2)]
        );
        assert!(longest_increasing(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn runs_cover_both_and_rebuild_new(
            old in prop::collection::vec(0u8..6, 0..200),
            new in prop::collection::vec(0u8..6, 0..200),
        ) {
            check(&old, &new, &align(&old, &new, Instant::now() + Duration::from_secs(5)));
            check(&old, &new, &align(&old, &new, Instant::now()));
        }
    }
}
