//! Comparing two texts the way an editor reads them: by words (or lines, or characters) within
//! paragraphs, never by long lines, since an article paragraph is one long line.
//!
//! The comparison runs in two passes. Paragraphs and the blank lines between them are compared
//! first, as whole tokens; only the runs of paragraphs that differ are then compared token by
//! token at the chosen [`Granularity`]. Besides being how an editor reads a change, this keeps a
//! long document cheap: equal paragraphs cost one hash each, and the fine pass only sees the
//! changed ones. Both passes align with patience anchors and, between them, `similar`'s Myers
//! (module `align`), under one deadline for the whole diff: past it, what is left unaligned is
//! replaced whole and the diff says that it is [approximate](TextDiff::approximate) instead of
//! hanging on two unrelated large documents.
//!
//! The result is a list of [`Op`]s over byte ranges of both texts that covers both completely:
//! applying them to the old text yields the new one exactly ([`TextDiff::apply`]).

use std::ops::Range;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation as _;

mod align;

pub(crate) use align::align;
use align::{Limits, align_within};

/// The unit a diff is computed and shown in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Words, runs of whitespace and punctuation marks (Unicode word boundaries, UAX #29).
    #[default]
    Word,
    /// Lines.
    Line,
    /// Characters as a reader sees them (extended grapheme clusters: a letter with its
    /// combining marks, an emoji with its modifiers).
    Char,
}

impl Granularity {
    /// The granularity's name as options and JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Word => "word",
            Granularity::Line => "line",
            Granularity::Char => "char",
        }
    }
}

/// What an [`Op`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    /// Text present in both versions.
    Equal,
    /// Text only in the old version.
    Delete,
    /// Text only in the new version.
    Insert,
}

/// One step from the old text to the new: byte ranges into each. A `Delete` has an empty new
/// range (where it would have been) and an `Insert` an empty old range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// What the step does.
    pub tag: Tag,
    /// Its range in the old text.
    pub old: Range<usize>,
    /// Its range in the new text.
    pub new: Range<usize>,
}

/// How to compute a diff.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The unit of comparison.
    pub granularity: Granularity,
    /// How long the alignment may take before it is made coarser.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            granularity: Granularity::Word,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The deadline of a diff unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The difference between two texts.
#[derive(Debug, Clone)]
pub struct TextDiff<'a> {
    old: &'a str,
    new: &'a str,
    ops: Vec<Op>,
    blocks: Vec<BlockRun>,
    /// For a line diff, the lines of each text, which its ops are made of.
    lines: Option<Box<Lines>>,
    granularity: Granularity,
    approximate: bool,
}

/// The lines of the two texts of a line diff, as byte ranges covering each text in order
/// (each with its line break; a text's last line may have none).
#[derive(Debug, Clone)]
pub struct Lines {
    /// The old text's lines.
    pub old: Vec<Range<usize>>,
    /// The new text's lines.
    pub new: Vec<Range<usize>>,
}

/// A diff of two byte strings by lines, as a patch needs it: lines are coarse already, and a
/// unified diff needs every op to hold whole lines, which a paragraph pass would not give (a
/// paragraph's last line has no newline). Bytes, not text: a patch of two files compares
/// their bytes, which need not be read (or checked) as a `str`.
#[derive(Debug, Clone)]
pub struct LineDiff {
    /// The steps from the old bytes to the new, over byte ranges, each of whole lines.
    pub ops: Vec<Op>,
    /// The lines of each side, which the ops are made of (the unified printer counts and
    /// writes by them).
    pub lines: Lines,
    /// Whether time ran out and some run is shown replaced whole.
    pub approximate: bool,
}

impl LineDiff {
    /// Compares `old` with `new` line by line, giving up precision after `timeout`.
    pub fn new(old: &[u8], new: &[u8], timeout: Duration) -> LineDiff {
        let deadline = Instant::now() + timeout;
        let mut limits = Limits::new(deadline);
        let lines = Lines {
            old: line_tokens(old),
            new: line_tokens(new),
        };
        let mut ops = Vec::new();
        let mut cut_short = false;
        if old.is_empty() || new.is_empty() {
            push_change(&mut ops, 0..old.len(), 0..new.len());
        } else if limits.expired() {
            cut_short = true;
            push_change(&mut ops, 0..old.len(), 0..new.len());
        } else {
            align_tokens(
                (old, &lines.old, old.len()),
                (new, &lines.new, new.len()),
                &mut limits,
                &mut ops,
                &mut cut_short,
            );
        }
        LineDiff {
            ops,
            lines,
            approximate: cut_short || Instant::now() >= deadline,
        }
    }
}

/// A run of the first pass: paragraphs (with the separators between them) equal on both sides,
/// or changed, as byte ranges of each text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRun {
    /// Whether the paragraphs are the same on both sides.
    pub equal: bool,
    /// The run in the old text.
    pub old: Range<usize>,
    /// The run in the new text.
    pub new: Range<usize>,
}

/// One paragraph of a diff as it is shown: its pieces in order, none holding a paragraph break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph<'a> {
    /// The pieces: equal text, deleted text and inserted text.
    pub pieces: Vec<(Tag, &'a str)>,
}

impl Paragraph<'_> {
    /// Whether anything in the paragraph changed.
    pub fn changed(&self) -> bool {
        self.pieces.iter().any(|(tag, _)| *tag != Tag::Equal)
    }
}

impl<'a> TextDiff<'a> {
    /// Compares `old` with `new` word by word, giving up precision after `timeout`.
    pub fn words(old: &'a str, new: &'a str, timeout: Duration) -> TextDiff<'a> {
        TextDiff::new(
            old,
            new,
            &Options {
                granularity: Granularity::Word,
                timeout,
            },
        )
    }

    /// Compares `old` with `new`.
    pub fn new(old: &'a str, new: &'a str, options: &Options) -> TextDiff<'a> {
        if options.granularity == Granularity::Line {
            let by_lines = LineDiff::new(old.as_bytes(), new.as_bytes(), options.timeout);
            // Nothing to tidy: the runs of one alignment already alternate between equal and
            // changed, and an equal run of whole lines holds a line break (so is never folded
            // into the changes around it) unless it is the last line of both texts, which no
            // change follows.
            debug_assert_eq!(tidy(old, by_lines.ops.clone()), by_lines.ops);
            return TextDiff {
                old,
                new,
                ops: by_lines.ops,
                blocks: Vec::new(),
                lines: Some(Box::new(by_lines.lines)),
                granularity: Granularity::Line,
                approximate: by_lines.approximate,
            };
        }
        let deadline = Instant::now() + options.timeout;
        let mut passes = Passes {
            old,
            new,
            granularity: options.granularity,
            limits: Limits::new(deadline),
            ops: Vec::new(),
            cut_short: false,
        };
        let blocks = passes.paragraphs();
        let approximate = passes.cut_short || Instant::now() >= deadline;
        TextDiff {
            old,
            new,
            ops: tidy(old, passes.ops),
            blocks,
            lines: None,
            granularity: options.granularity,
            approximate,
        }
    }

    /// The old text.
    pub fn old(&self) -> &'a str {
        self.old
    }

    /// The new text.
    pub fn new_text(&self) -> &'a str {
        self.new
    }

    /// The steps from the old text to the new, in order, covering both texts: equal runs
    /// merged, and in each change the deletion before the insertion.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The runs of the first, paragraph-level pass, in order, covering both texts; empty for a
    /// line diff, which has no such pass.
    pub fn block_runs(&self) -> &[BlockRun] {
        &self.blocks
    }

    /// For a line diff, the lines of both texts; every op of the diff is a run of whole lines
    /// of them.
    pub fn lines(&self) -> Option<&Lines> {
        self.lines.as_deref()
    }

    /// The unit the diff was computed in.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// Whether some runs were left unaligned, so that changes are shown coarser (whole runs
    /// replaced) than they are: the deadline passed, or runs with little in common used up the
    /// time they are allowed (a twentieth of the deadline) or were too lopsided to be worth it.
    pub fn approximate(&self) -> bool {
        self.approximate
    }

    /// Whether the texts are identical.
    pub fn is_empty(&self) -> bool {
        self.ops.iter().all(|op| op.tag == Tag::Equal)
    }

    /// The text of an op: the old text for equal and deleted runs, the new for inserted ones.
    pub fn text(&self, op: &Op) -> &'a str {
        match op.tag {
            Tag::Equal | Tag::Delete => &self.old[op.old.clone()],
            Tag::Insert => &self.new[op.new.clone()],
        }
    }

    /// Rebuilds the new text from the old one and the ops, as a reader of the JSON form would.
    pub fn apply(&self) -> String {
        let mut out = String::with_capacity(self.new.len());
        for op in &self.ops {
            match op.tag {
                Tag::Equal => out.push_str(&self.old[op.old.clone()]),
                Tag::Delete => {}
                Tag::Insert => out.push_str(&self.new[op.new.clone()]),
            }
        }
        out
    }

    /// The diff as paragraphs to show: every paragraph of either text, in order, with its
    /// changes. A deleted paragraph holds only deleted text, an inserted one only inserted text.
    pub fn paragraphs(&self) -> Vec<Paragraph<'a>> {
        let mut out = Vec::new();
        let mut current = Paragraph { pieces: Vec::new() };
        for (i, op) in self.ops.iter().enumerate() {
            let text = self.text(op);
            let mut rest = text;
            while let Some(sep) = find_separator(rest) {
                if sep.start > 0 {
                    current.pieces.push((op.tag, &rest[..sep.start]));
                }
                // A paragraph break inserted into (or deleted from) running text is shown as a
                // marked pilcrow where it splits (or joins) the paragraph; otherwise only the
                // line break would tell, and an unchanged half would be folded away.
                let splits = op.tag != Tag::Equal
                    && sep.end == rest.len()
                    && current.pieces.iter().any(|(t, _)| *t == Tag::Equal)
                    && self.ops.get(i + 1).is_some_and(|next| {
                        next.tag == Tag::Equal
                            && find_separator(self.text(next)).map(|s| s.start) != Some(0)
                    });
                if splits {
                    current.pieces.push((op.tag, "\u{b6}"));
                }
                if !current.pieces.is_empty() {
                    out.push(std::mem::replace(
                        &mut current,
                        Paragraph { pieces: Vec::new() },
                    ));
                }
                rest = &rest[sep.end..];
            }
            if !rest.is_empty() {
                current.pieces.push((op.tag, rest));
            }
        }
        if !current.pieces.is_empty() {
            out.push(current);
        }
        // Whitespace at a paragraph's edges (a final newline, part of a changed separator) is
        // not shown: on its own it would make an empty paragraph or an empty marker.
        for p in &mut out {
            if let Some((_, first)) = p.pieces.first_mut() {
                *first = first.trim_start();
            }
            if let Some((_, last)) = p.pieces.last_mut() {
                *last = last.trim_end();
            }
            p.pieces.retain(|(_, t)| !t.is_empty());
        }
        out.retain(|p| p.pieces.iter().any(|(_, t)| !t.trim().is_empty()));
        out
    }

    /// The changes as pairs of byte ranges (old, new), one per run of deletions and insertions
    /// between equal text.
    pub fn changes(&self) -> Vec<(Range<usize>, Range<usize>)> {
        let mut out: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        let mut open = false;
        for op in &self.ops {
            if op.tag == Tag::Equal {
                open = false;
                continue;
            }
            match out.last_mut() {
                Some((o, n)) if open => {
                    o.end = op.old.end;
                    n.end = op.new.end;
                }
                _ => out.push((op.old.clone(), op.new.clone())),
            }
            open = true;
        }
        out
    }
}

/// Whether `text` holds a paragraph break (a run of whitespace with two line breaks or more).
pub(crate) fn has_separator(text: &str) -> bool {
    find_separator(text).is_some()
}

/// Splits a text into paragraphs and the separators between them (whitespace runs holding a
/// blank line), as contiguous byte ranges covering the text.
fn blocks(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(sep) = find_separator(&text[at..]) {
        let sep = at + sep.start..at + sep.end;
        if sep.start > at {
            out.push(at..sep.start);
        }
        out.push(sep.clone());
        at = sep.end;
    }
    if at < text.len() {
        out.push(at..text.len());
    }
    out
}

/// The first paragraph separator in `text`: a run of whitespace holding at least two line
/// breaks.
fn find_separator(text: &str) -> Option<Range<usize>> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'\n', &text.as_bytes()[from..]).map(|i| from + i) {
        // Widen to the whole whitespace run around this line break.
        let start = text[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_whitespace())
            .last()
            .map_or(i, |(j, _)| j);
        let end = text[i..]
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(text.len(), |(j, _)| i + j);
        if text[start..end].matches('\n').count() >= 2 {
            return Some(start..end);
        }
        from = end.max(i + 1);
    }
    None
}

/// Maps the tokens of both texts to integers, equal tokens to equal ones, so the alignment
/// compares integers instead of strings. A token's id is the position of its first occurrence
/// among the old tokens then the new ones, so the table holds only ids and finds a token's text
/// through them: a map from text to id took six times the memory, and on a long diff every
/// page of fresh memory is a page fault, which cost more than the hashing. `None` when there
/// are too many tokens for `u32` ids.
fn intern(
    old: &[u8],
    old_tokens: &[Range<usize>],
    new: &[u8],
    new_tokens: &[Range<usize>],
) -> Option<(Vec<u32>, Vec<u32>)> {
    u32::try_from(old_tokens.len() + new_tokens.len()).ok()?;
    let text_of = |id: u32| -> &[u8] {
        let id = id as usize;
        match old_tokens.get(id) {
            Some(r) => &old[r.clone()],
            None => &new[new_tokens[id - old_tokens.len()].clone()],
        }
    };
    use std::hash::BuildHasher as _;
    let hasher = foldhash::fast::RandomState::default();
    let mut table: hashbrown::HashTable<u32> =
        hashbrown::HashTable::with_capacity(old_tokens.len() + new_tokens.len());
    let mut map = |text: &[u8], tokens: &[Range<usize>], first: usize| -> Vec<u32> {
        tokens
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let token = &text[r.clone()];
                let hash = hasher.hash_one(token);
                *table
                    .entry(
                        hash,
                        |&id| text_of(id) == token,
                        |&id| hasher.hash_one(text_of(id)),
                    )
                    .or_insert((first + i) as u32)
                    .get()
            })
            .collect()
    };
    let a = map(old, old_tokens, 0);
    let b = map(new, new_tokens, old_tokens.len());
    Some((a, b))
}

/// The two passes of a diff over two texts, with the limits they share and the ops so far.
struct Passes<'t> {
    old: &'t str,
    new: &'t str,
    granularity: Granularity,
    limits: Limits,
    ops: Vec<Op>,
    /// Whether time ran out for some run (it is then shown replaced whole).
    cut_short: bool,
}

impl Passes<'_> {
    /// The first pass: paragraphs and the separators between them, each changed run then
    /// aligned by [`Passes::fine`]. Returns the runs.
    fn paragraphs(&mut self) -> Vec<BlockRun> {
        let (old, new) = (self.old, self.new);
        let old_blocks = blocks(old);
        let new_blocks = blocks(new);
        let Some((old_ids, new_ids)) =
            intern(old.as_bytes(), &old_blocks, new.as_bytes(), &new_blocks)
        else {
            self.cut_short = true;
            push_change(&mut self.ops, 0..old.len(), 0..new.len());
            return vec![BlockRun {
                equal: false,
                old: 0..old.len(),
                new: 0..new.len(),
            }];
        };
        let mut aligned = Vec::new();
        align_within(&old_ids, &new_ids, &mut self.limits, &mut |run| {
            aligned.push(run)
        });
        let mut runs = Vec::with_capacity(aligned.len());
        for run in aligned {
            let o = byte_span(&old_blocks, &run.old, old.len());
            let n = byte_span(&new_blocks, &run.new, new.len());
            runs.push(BlockRun {
                equal: run.equal,
                old: o.clone(),
                new: n.clone(),
            });
            if run.equal {
                push_equal(&mut self.ops, o, n);
            } else if run.approximate {
                // Paragraphs that could not be aligned are not worth aligning word by word.
                self.cut_short = true;
                push_change(&mut self.ops, o, n);
            } else {
                self.fine(o, n);
            }
        }
        runs
    }

    /// The second pass: aligns one changed run of paragraphs token by token.
    fn fine(&mut self, o: Range<usize>, n: Range<usize>) {
        if o.is_empty() || n.is_empty() {
            return push_change(&mut self.ops, o, n);
        }
        if self.limits.expired() {
            self.cut_short = true;
            return push_change(&mut self.ops, o, n);
        }
        // Text both sides share at the start and end, cut at a space so that no token is
        // split, is equal without being tokenized: most changed paragraphs change in a few
        // words.
        let (pre, suf) = if self.granularity == Granularity::Word {
            let (a, b) = (&self.old[o.clone()], &self.new[n.clone()]);
            let pre = space_before(a, common_prefix(a.as_bytes(), b.as_bytes()));
            let suf = common_suffix(&a.as_bytes()[pre..], &b.as_bytes()[pre..]);
            (pre, space_after_from_end(a, suf))
        } else {
            (0, 0)
        };
        if pre > 0 {
            push_equal(
                &mut self.ops,
                o.start..o.start + pre,
                n.start..n.start + pre,
            );
        }
        self.tokens(o.start + pre..o.end - suf, n.start + pre..n.end - suf);
        if suf > 0 {
            push_equal(&mut self.ops, o.end - suf..o.end, n.end - suf..n.end);
        }
    }

    /// The second pass proper: tokenizes a changed run and aligns its tokens.
    fn tokens(&mut self, o: Range<usize>, n: Range<usize>) {
        if o.is_empty() || n.is_empty() {
            return push_change(&mut self.ops, o, n);
        }
        let old_tokens = tokens(&self.old[o.clone()], self.granularity, o.start);
        let new_tokens = tokens(&self.new[n.clone()], self.granularity, n.start);
        self.align_tokens(&old_tokens, &new_tokens, o.end, n.end);
    }

    /// Aligns the tokens of a run (ending at `old_end` and `new_end`) and adds its ops.
    fn align_tokens(
        &mut self,
        old_tokens: &[Range<usize>],
        new_tokens: &[Range<usize>],
        old_end: usize,
        new_end: usize,
    ) {
        align_tokens(
            (self.old.as_bytes(), old_tokens, old_end),
            (self.new.as_bytes(), new_tokens, new_end),
            &mut self.limits,
            &mut self.ops,
            &mut self.cut_short,
        );
    }
}

/// Aligns the tokens of a run of each side (the side's bytes, its tokens in the run, and the
/// run's end) and adds the run's ops; sets `cut_short` where time or ids ran out.
fn align_tokens(
    (old, old_tokens, old_end): (&[u8], &[Range<usize>], usize),
    (new, new_tokens, new_end): (&[u8], &[Range<usize>], usize),
    limits: &mut Limits,
    ops: &mut Vec<Op>,
    cut_short: &mut bool,
) {
    let Some((old_ids, new_ids)) = intern(old, old_tokens, new, new_tokens) else {
        // Past four thousand million tokens: replaced whole, like a run out of time.
        *cut_short = true;
        let start = |tokens: &[Range<usize>], end| tokens.first().map_or(end, |t| t.start);
        return push_change(
            ops,
            start(old_tokens, old_end)..old_end,
            start(new_tokens, new_end)..new_end,
        );
    };
    align_within(&old_ids, &new_ids, limits, &mut |run| {
        *cut_short |= run.approximate;
        let or = byte_span(old_tokens, &run.old, old_end);
        let nr = byte_span(new_tokens, &run.new, new_end);
        if run.equal {
            push_equal(ops, or, nr);
        } else {
            push_change(ops, or, nr);
        }
    });
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The longest prefix of `text` no longer than `len` bytes that ends just after an ASCII space
/// (or is empty).
fn space_before(text: &str, len: usize) -> usize {
    text.as_bytes()[..len]
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .map_or(0, |i| i + 1)
}

/// The longest suffix of `text` no longer than `len` bytes that starts at an ASCII space (or is
/// empty).
fn space_after_from_end(text: &str, len: usize) -> usize {
    let start = text.len() - len;
    text.as_bytes()[start..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(0, |i| len - i)
}

/// The byte range of a run of tokens; an empty run sits where its token would start (`end`
/// when it is past the last).
fn byte_span(tokens: &[Range<usize>], run: &Range<usize>, end: usize) -> Range<usize> {
    if run.is_empty() {
        let at = tokens.get(run.start).map_or(end, |t| t.start);
        at..at
    } else {
        tokens[run.start].start..tokens[run.end - 1].end
    }
}

fn push_equal(out: &mut Vec<Op>, old: Range<usize>, new: Range<usize>) {
    out.push(Op {
        tag: Tag::Equal,
        old,
        new,
    });
}

fn push_change(out: &mut Vec<Op>, old: Range<usize>, new: Range<usize>) {
    if !old.is_empty() {
        out.push(Op {
            tag: Tag::Delete,
            old: old.clone(),
            new: new.start..new.start,
        });
    }
    if !new.is_empty() {
        out.push(Op {
            tag: Tag::Insert,
            old: old.end..old.end,
            new,
        });
    }
}

/// The tokens of `text` (which starts at byte `base` of its document) at `granularity`, as
/// contiguous byte ranges covering it.
fn tokens(text: &str, granularity: Granularity, base: usize) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    match granularity {
        Granularity::Word => word_tokens(text, base, &mut out),
        Granularity::Char => {
            for (i, g) in text.grapheme_indices(true) {
                out.push(base + i..base + i + g.len());
            }
        }
        Granularity::Line => {
            out = line_tokens(text.as_bytes());
            for line in &mut out {
                *line = base + line.start..base + line.end;
            }
        }
    }
    out
}

/// The lines of `bytes`, each with its line feed (the last may have none), covering them.
fn line_tokens(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes) {
        out.push(start..end + 1);
        start = end + 1;
    }
    if start < bytes.len() {
        out.push(start..bytes.len());
    }
    out
}

/// Word tokens: Unicode word boundaries (UAX #29), with one token for each run of whitespace so
/// that a paragraph break stays whole. Stretches of plain ASCII between spaces, most of most
/// texts, are split by hand with the same rules as UAX #29 gives them (letters and digits
/// joined, with an apostrophe or full stop between letters or digits, and a comma between
/// digits), because the Unicode tables cost more than the rest of a diff.
fn word_tokens(text: &str, base: usize, out: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let push = |out: &mut Vec<Range<usize>>, r: Range<usize>, space: bool| match out.last_mut() {
        Some(last)
            if space
                && text[last.start - base..last.end - base]
                    .chars()
                    .all(char::is_whitespace) =>
        {
            last.end = r.end;
        }
        _ => out.push(r),
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            push(out, base + start..base + i, true);
            continue;
        }
        // The next chunk: everything up to ASCII whitespace.
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let chunk = &text[start..i];
        if chunk.is_ascii() {
            ascii_words(chunk.as_bytes(), base + start, out);
        } else {
            for (j, word) in chunk.split_word_bound_indices() {
                let space = word.chars().all(char::is_whitespace);
                push(out, base + start + j..base + start + j + word.len(), space);
            }
        }
    }
}

/// Splits a chunk of ASCII without whitespace into words and single punctuation marks.
fn ascii_words(chunk: &[u8], base: usize, out: &mut Vec<Range<usize>>) {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < chunk.len() {
        if !word(chunk[i]) {
            out.push(base + i..base + i + 1);
            i += 1;
            continue;
        }
        let start = i;
        loop {
            while i < chunk.len() && word(chunk[i]) {
                i += 1;
            }
            // A mark between two word characters keeps them one word: "don't", "U.S",
            // "4.2", and "1,000" (a comma only between digits).
            let joins = i + 1 < chunk.len()
                && word(chunk[i + 1])
                && match chunk[i] {
                    b'\'' | b'.' => true,
                    b',' => chunk[i - 1].is_ascii_digit() && chunk[i + 1].is_ascii_digit(),
                    _ => false,
                };
            if !joins {
                break;
            }
            i += 1;
        }
        out.push(base + start..base + i);
    }
}

/// Merges adjacent ops of one kind and folds short equal runs that only separate two changes
/// (a space between two replaced words) into the change, so that "[-a b-]{+c d+}" is shown
/// rather than "[-a-]{+c+} [-b-]{+d+}". Paragraph breaks are never folded.
fn tidy(old: &str, raw: Vec<Op>) -> Vec<Op> {
    // Groups: runs of changes, with the equal text between them.
    enum Group {
        Equal(Range<usize>, Range<usize>),
        Change(Range<usize>, Range<usize>),
    }
    let mut groups: Vec<Group> = Vec::new();
    for op in raw {
        if op.old.is_empty() && op.new.is_empty() {
            continue;
        }
        match (op.tag, groups.last_mut()) {
            (Tag::Equal, Some(Group::Equal(o, n))) => {
                o.end = op.old.end;
                n.end = op.new.end;
            }
            (Tag::Equal, _) => groups.push(Group::Equal(op.old, op.new)),
            (_, Some(Group::Change(o, n))) => {
                o.end = o.end.max(op.old.end);
                n.end = n.end.max(op.new.end);
            }
            (_, _) => groups.push(Group::Change(op.old, op.new)),
        }
    }
    // Fold whitespace-only equal runs between two changes.
    let mut folded: Vec<Group> = Vec::with_capacity(groups.len());
    let mut iter = groups.into_iter().peekable();
    while let Some(group) = iter.next() {
        if let Group::Equal(o, n) = &group {
            let between = matches!(folded.last(), Some(Group::Change(..)))
                && matches!(iter.peek(), Some(Group::Change(..)));
            let text = &old[o.clone()];
            if between && text.chars().all(|c| c == ' ' || c == '\t') && !text.is_empty() {
                if let Some(Group::Change(po, pn)) = folded.last_mut() {
                    po.end = o.end;
                    pn.end = n.end;
                }
                if let Some(Group::Change(no, nn)) = iter.next()
                    && let Some(Group::Change(po, pn)) = folded.last_mut()
                {
                    po.end = no.end;
                    pn.end = nn.end;
                }
                continue;
            }
        }
        folded.push(group);
    }
    let mut ops = Vec::with_capacity(folded.len() * 2);
    for group in folded {
        match group {
            Group::Equal(o, n) => ops.push(Op {
                tag: Tag::Equal,
                old: o,
                new: n,
            }),
            Group::Change(o, n) => push_change(&mut ops, o, n),
        }
    }
    ops
}

/// Converts byte offsets into a text to character offsets (Unicode scalar values), for offsets
/// asked in increasing order, in time linear in the text.
#[derive(Debug)]
pub struct CharOffsets<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharOffsets<'a> {
    /// Starts at the beginning of `text`.
    pub fn new(text: &'a str) -> CharOffsets<'a> {
        CharOffsets {
            text,
            byte: 0,
            chars: 0,
        }
    }

    /// The character offset of byte offset `byte` (on a character boundary).
    pub fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_diff(old: &str, new: &str) -> String {
        let d = TextDiff::new(old, new, &Options::default());
        assert_eq!(d.apply(), new);
        d.ops()
            .iter()
            .map(|op| match op.tag {
                Tag::Equal => d.text(op).to_owned(),
                Tag::Delete => format!("[-{}-]", d.text(op)),
                Tag::Insert => format!("{{+{}+}}", d.text(op)),
            })
            .collect()
    }

    #[test]
    fn words_within_a_paragraph() {
        assert_eq!(
            word_diff(
                "The contract is worth $49,874,018.14.\n\nSecond paragraph.",
                "The contract is worth $51,000,000.00.\n\nSecond paragraph."
            ),
            "The contract is worth $[-49,874,018.14-]{+51,000,000.00+}.\n\nSecond paragraph."
        );
    }

    #[test]
    fn spaces_between_changed_words_are_folded() {
        assert_eq!(
            word_diff("one two three four", "one five six four"),
            "one [-two three-]{+five six+} four"
        );
    }

    #[test]
    fn deleted_paragraph_is_one_paragraph() {
        let old = "First.\n\nSecond goes.\n\nThird.";
        let new = "First.\n\nThird.";
        let d = TextDiff::new(old, new, &Options::default());
        assert_eq!(d.apply(), new);
        let paras = d.paragraphs();
        assert_eq!(paras.len(), 3);
        assert_eq!(paras[1].pieces, vec![(Tag::Delete, "Second goes.")]);
        assert!(!paras[0].changed() && !paras[2].changed());
    }

    #[test]
    fn identical_texts() {
        let d = TextDiff::new("a b\n\nc", "a b\n\nc", &Options::default());
        assert!(d.is_empty());
        assert_eq!(d.ops().len(), 1);
        assert!(TextDiff::new("", "", &Options::default()).ops().is_empty());
    }

    #[test]
    fn granularities() {
        for g in [Granularity::Word, Granularity::Line, Granularity::Char] {
            let options = Options {
                granularity: g,
                ..Options::default()
            };
            for (a, b) in [
                ("", "new"),
                ("old", ""),
                ("line one\nline two\n", "line one\nline 2\n"),
                ("e\u{301}te\u{301}", "ete\u{301}"),
                ("日本語のテキスト", "日本のテキスト"),
                ("👍🏽 ok", "👍🏿 ok"),
            ] {
                let d = TextDiff::new(a, b, &options);
                assert_eq!(d.apply(), b, "{g:?} {a:?} {b:?}");
            }
        }
    }

    #[test]
    fn char_granularity_keeps_combining_marks_with_their_letter() {
        let d = TextDiff::new(
            "cafe\u{301}",
            "cafe",
            &Options {
                granularity: Granularity::Char,
                ..Options::default()
            },
        );
        let deleted: Vec<&str> = d
            .ops()
            .iter()
            .filter(|o| o.tag == Tag::Delete)
            .map(|o| d.text(o))
            .collect();
        assert_eq!(deleted, vec!["e\u{301}"]);
    }

    #[test]
    fn a_past_deadline_gives_an_approximate_but_correct_diff() {
        let old = "alpha beta gamma ".repeat(2000);
        let new = "gamma beta delta ".repeat(2000);
        let d = TextDiff::new(
            &old,
            &new,
            &Options {
                timeout: Duration::ZERO,
                ..Options::default()
            },
        );
        assert!(d.approximate());
        assert_eq!(d.apply(), new);
    }

    #[test]
    fn separators() {
        assert_eq!(find_separator("a\nb"), None);
        assert_eq!(find_separator("a \n \n b"), Some(1..6));
        assert_eq!(blocks("a\n\nb"), vec![0..1, 1..3, 3..4]);
        assert_eq!(blocks("\n\na"), vec![0..2, 2..3]);
    }

    #[test]
    fn char_offsets() {
        let mut c = CharOffsets::new("aé日b");
        assert_eq!(c.at(0), 0);
        assert_eq!(c.at(3), 2);
        assert_eq!(c.at(7), 4);
        assert_eq!(c.at(1), 1);
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    /// Text with combining marks, CJK, emoji with modifiers, right-to-left scripts, and every
    /// kind of space and line break.
    fn text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "word",
            "Wort",
            "e\u{301}",
            "\u{301}",
            "\u{65e5}\u{672c}\u{8a9e}",
            "\u{1f44d}\u{1f3fd}",
            "\u{1f468}\u{200d}\u{1f469}",
            "\u{05e9}\u{05dc}\u{05d5}\u{05dd}",
            "\u{0627}\u{0644}\u{0639}\u{0631}\u{0628}\u{064a}\u{0629}",
            "\u{202e}",
            " ",
            "  ",
            "\n",
            "\n\n",
            "\r\n",
            "\t",
            "\u{a0}",
            "\u{2003}",
            "\"",
            "\u{201c}",
            ".",
            "$4,200.50",
        ]);
        prop::collection::vec(pieces, 0..80).prop_map(|v| v.concat())
    }

    fn granularity() -> impl Strategy<Value = Granularity> {
        prop::sample::select(vec![
            Granularity::Word,
            Granularity::Line,
            Granularity::Char,
        ])
    }

    /// Every op's ranges are on character boundaries, contiguous, and cover both texts.
    fn assert_covers(d: &TextDiff<'_>) {
        let (mut o, mut n) = (0, 0);
        for op in d.ops() {
            assert_eq!(op.old.start, o);
            assert_eq!(op.new.start, n);
            assert!(d.old().is_char_boundary(op.old.end));
            assert!(d.new_text().is_char_boundary(op.new.end));
            if op.tag == Tag::Equal {
                assert_eq!(&d.old()[op.old.clone()], &d.new_text()[op.new.clone()]);
            }
            (o, n) = (op.old.end, op.new.end);
        }
        assert_eq!((o, n), (d.old().len(), d.new_text().len()));
    }

    proptest! {
        #[test]
        fn applying_the_ops_to_from_gives_to(old in text(), new in text(), g in granularity()) {
            let d = TextDiff::new(&old, &new, &Options { granularity: g, ..Options::default() });
            prop_assert_eq!(d.apply(), new.clone());
            assert_covers(&d);
            prop_assert_eq!(d.is_empty(), old == new);
        }

        #[test]
        fn an_edit_inside_a_text(base in text(), cut in 0usize..100, len in 0usize..10, insert in text(), g in granularity()) {
            let chars: Vec<char> = base.chars().collect();
            let at = cut.min(chars.len());
            let end = (at + len).min(chars.len());
            let new: String = chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(chars[end..].iter()).collect();
            let d = TextDiff::new(&base, &new, &Options { granularity: g, ..Options::default() });
            prop_assert_eq!(d.apply(), new.clone());
            assert_covers(&d);
            // Paragraphs shown hold every character of the new text but the separators (and the
            // pilcrows that mark a changed paragraph break).
            let shown: String = d.paragraphs().iter().flat_map(|p| p.pieces.iter()).filter(|(t, s)| *t != Tag::Delete && *s != "\u{b6}").map(|(_, s)| *s).collect();
            let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            prop_assert_eq!(squeeze(&shown), squeeze(&new));
        }

        #[test]
        fn an_expired_deadline_still_gives_a_correct_diff(old in text(), new in text()) {
            let d = TextDiff::new(&old, &new, &Options { timeout: Duration::ZERO, ..Options::default() });
            prop_assert_eq!(d.apply(), new.clone());
            assert_covers(&d);
        }
    }
}
