//! Typography: the characters that retyping, an editor or a CMS changes while the words stay the
//! same — quotation marks, dashes, the ellipsis, invisible characters — and the pairs quotation
//! marks come in.
//!
//! Two folds read [`MARKS`]. Canonical text ([`crate::classify::canonical_text`]) keeps single
//! and double quotation marks apart and is frozen: the SHA-256 of every stored version's
//! canonical text is in the store, and a check compares against it, so a character newly
//! folded there would make unchanged sources read as edited. Quote matching
//! ([`crate::cite::quote`]) folds every quotation mark to one and is free to fold more. A mark
//! that only the matching fold takes has [`Mark::canonical`] false; today those are the single
//! guillemets `‹ ›`, which canonical text has always kept as they are.
//!
//! [`PAIRS`] says which mark closes which: the citation readers look for the quote before a
//! link or in a note with it, and the change summary finds quotations with it.

/// What a typographic character is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A single quotation mark, apostrophe, prime or accent used as one (`‘ ’ ‚ ‛ ′ ´` and the
    /// backtick): folds to `'`.
    SingleQuote,
    /// A double quotation mark, guillemet or double prime (`“ ” „ ‟ « » ″`): folds to `"` in
    /// canonical text, and to `'` with every other quotation mark when matching quotes.
    DoubleQuote,
    /// A hyphen, figure dash or minus sign (`‐ ‑ ‒ −`): folds to `-`.
    Dash,
    /// A dash that sets off a clause or an attribution (`– — ―`): folds to `-` as [`Kind::Dash`]
    /// does; the citation readers also take it to start an attribution (`— Jane Doe`).
    LongDash,
    /// The ellipsis character `…`: folds to `...`.
    Ellipsis,
    /// An invisible character editors insert and remove at will (soft hyphen, zero-width
    /// space, joiners, word joiner, byte-order mark): dropped.
    Invisible,
}

impl Kind {
    /// What the character becomes in canonical text: `'`, `"`, `-`, `...`, or nothing.
    pub const fn folded(self) -> &'static str {
        match self {
            Kind::SingleQuote => "'",
            Kind::DoubleQuote => "\"",
            Kind::Dash | Kind::LongDash => "-",
            Kind::Ellipsis => "...",
            Kind::Invisible => "",
        }
    }

    /// Whether it is a quotation mark of either kind.
    pub const fn is_quote(self) -> bool {
        matches!(self, Kind::SingleQuote | Kind::DoubleQuote)
    }

    /// Whether it is a dash of either kind.
    pub const fn is_dash(self) -> bool {
        matches!(self, Kind::Dash | Kind::LongDash)
    }
}

/// One typographic character and how it folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mark {
    /// The character.
    pub ch: char,
    /// What it is.
    pub kind: Kind,
    /// Whether canonical text folds it. False only where canonical text has always kept the
    /// character (see the module's documentation): changing that would change stored hashes.
    pub canonical: bool,
}

/// Declares [`MARKS`] and [`mark`] from one list, so that the table tests read and the `match`
/// the folds run cannot differ.
macro_rules! marks {
    ($($ch:literal => $kind:ident, $canonical:literal;)*) => {
        /// Every typographic character either fold knows, with its kind; in code-point order.
        pub const MARKS: &[Mark] = &[
            $(Mark { ch: $ch, kind: Kind::$kind, canonical: $canonical },)*
        ];

        /// The typographic character `c` is, if it is one (a plain ASCII `'`, `"` or `-` is
        /// what the others fold to, not one of them).
        #[inline]
        pub fn mark(c: char) -> Option<Mark> {
            match c {
                $($ch => Some(Mark { ch: $ch, kind: Kind::$kind, canonical: $canonical }),)*
                _ => None,
            }
        }
    };
}

marks! {
    '`' => SingleQuote, true;
    '\u{00AB}' => DoubleQuote, true; // «
    '\u{00AD}' => Invisible, true; // soft hyphen
    '\u{00B4}' => SingleQuote, true; // ´
    '\u{00BB}' => DoubleQuote, true; // »
    '\u{200B}' => Invisible, true; // zero-width space
    '\u{200C}' => Invisible, true; // zero-width non-joiner
    '\u{200D}' => Invisible, true; // zero-width joiner
    '\u{2010}' => Dash, true; // ‐ hyphen
    '\u{2011}' => Dash, true; // ‑ non-breaking hyphen
    '\u{2012}' => Dash, true; // ‒ figure dash
    '\u{2013}' => LongDash, true; // – en dash
    '\u{2014}' => LongDash, true; // — em dash
    '\u{2015}' => LongDash, true; // ― horizontal bar (the quotation dash)
    '\u{2018}' => SingleQuote, true; // ‘
    '\u{2019}' => SingleQuote, true; // ’
    '\u{201A}' => SingleQuote, true; // ‚
    '\u{201B}' => SingleQuote, true; // ‛
    '\u{201C}' => DoubleQuote, true; // “
    '\u{201D}' => DoubleQuote, true; // ”
    '\u{201E}' => DoubleQuote, true; // „
    '\u{201F}' => DoubleQuote, true; // ‟
    '\u{2026}' => Ellipsis, true; // …
    '\u{2032}' => SingleQuote, true; // ′ prime
    '\u{2033}' => DoubleQuote, true; // ″ double prime
    '\u{2039}' => SingleQuote, false; // ‹ kept by canonical text (stored hashes)
    '\u{203A}' => SingleQuote, false; // › kept by canonical text (stored hashes)
    '\u{2060}' => Invisible, true; // word joiner
    '\u{2212}' => Dash, true; // − minus sign
    '\u{FEFF}' => Invisible, true; // zero-width no-break space, byte-order mark
}

/// What canonical text puts in place of `c`: `None` when it keeps `c` as it is, `Some("")` when
/// it drops it.
#[inline]
pub fn canonical_fold(c: char) -> Option<&'static str> {
    mark(c).filter(|m| m.canonical).map(|m| m.kind.folded())
}

/// Whether `c` is a quotation mark for quote matching: the ASCII `"` and `'`, or any quotation
/// mark of [`MARKS`] (canonical text or not).
#[inline]
pub fn is_quote_mark(c: char) -> bool {
    matches!(c, '"' | '\'') || mark(c).is_some_and(|m| m.kind.is_quote())
}

/// Whether `c` is a dash that sets off a clause or an attribution ([`Kind::LongDash`]).
#[inline]
pub fn is_long_dash(c: char) -> bool {
    mark(c).is_some_and(|m| m.kind == Kind::LongDash)
}

/// Which quotation a pair of marks writes: the outer one, or one inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// The marks a quotation is written in (`“…”`, `„…“`, `«…»`, `"…"`, `「…」`).
    Primary,
    /// The marks of a quotation within a quotation (`‘…’`, `‚…‘`, `‹…›`, `『…』`). Their closing
    /// mark is often an apostrophe too, so readers look for primary pairs first.
    Secondary,
}

/// A quotation mark and the mark that closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pair {
    /// The opening mark.
    pub open: char,
    /// The closing mark.
    pub close: char,
    /// Outer or inner quotation.
    pub level: Level,
    /// The marks the other way round from another pair (`»…«` of `«…»`, as German and Danish
    /// write them). A scan of free text reading both directions pairs the close of one
    /// quotation with the open of the next (`« a\nb » c « d »` gives `c`), so the change
    /// summary, which scans whole texts, leaves these out; the citation readers, which look
    /// back from a known end, take them.
    pub mirrored: bool,
}

/// The apostrophe, which is also the closing single quotation mark: a `’` followed by a letter
/// (`it’s`) closes nothing.
pub const APOSTROPHE: char = '\u{2019}';

/// Every pair of quotation marks a quotation is read between: primary pairs first, and of two
/// pairs with the same opening mark, the more common first.
pub const PAIRS: &[Pair] = &[
    pair('"', '"', Level::Primary, false),
    pair('\u{201C}', '\u{201D}', Level::Primary, false), // “…”
    pair('\u{201E}', '\u{201C}', Level::Primary, false), // „…“
    pair('\u{201E}', '\u{201D}', Level::Primary, false), // „…”
    pair('\u{00AB}', '\u{00BB}', Level::Primary, false), // «…»
    pair('\u{00BB}', '\u{00AB}', Level::Primary, true),  // »…«
    pair('\u{300C}', '\u{300D}', Level::Primary, false), // 「…」
    pair('\u{2018}', '\u{2019}', Level::Secondary, false), // ‘…’
    pair('\u{201A}', '\u{2018}', Level::Secondary, false), // ‚…‘
    pair('\u{2039}', '\u{203A}', Level::Secondary, false), // ‹…›
    pair('\u{203A}', '\u{2039}', Level::Secondary, true), // ›…‹
    pair('\u{300E}', '\u{300F}', Level::Secondary, false), // 『…』
];

const fn pair(open: char, close: char, level: Level, mirrored: bool) -> Pair {
    Pair {
        open,
        close,
        level,
        mirrored,
    }
}

/// The pairs `close` closes.
pub fn pairs_closed_by(close: char) -> impl Iterator<Item = &'static Pair> {
    PAIRS.iter().filter(move |p| p.close == close)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character's fold, written out: a change to the table must change this test.
    #[test]
    fn each_mark_folds_as_pinned() {
        let pinned: &[(char, &str, Option<&str>)] = &[
            // (character, matching fold, canonical fold)
            ('`', "'", Some("'")),
            ('\u{00AB}', "'", Some("\"")),
            ('\u{00AD}', "", Some("")),
            ('\u{00B4}', "'", Some("'")),
            ('\u{00BB}', "'", Some("\"")),
            ('\u{200B}', "", Some("")),
            ('\u{200C}', "", Some("")),
            ('\u{200D}', "", Some("")),
            ('\u{2010}', "-", Some("-")),
            ('\u{2011}', "-", Some("-")),
            ('\u{2012}', "-", Some("-")),
            ('\u{2013}', "-", Some("-")),
            ('\u{2014}', "-", Some("-")),
            ('\u{2015}', "-", Some("-")),
            ('\u{2018}', "'", Some("'")),
            ('\u{2019}', "'", Some("'")),
            ('\u{201A}', "'", Some("'")),
            ('\u{201B}', "'", Some("'")),
            ('\u{201C}', "'", Some("\"")),
            ('\u{201D}', "'", Some("\"")),
            ('\u{201E}', "'", Some("\"")),
            ('\u{201F}', "'", Some("\"")),
            ('\u{2026}', "...", Some("...")),
            ('\u{2032}', "'", Some("'")),
            ('\u{2033}', "'", Some("\"")),
            ('\u{2039}', "'", None),
            ('\u{203A}', "'", None),
            ('\u{2060}', "", Some("")),
            ('\u{2212}', "-", Some("-")),
            ('\u{FEFF}', "", Some("")),
        ];
        let table: Vec<char> = MARKS.iter().map(|m| m.ch).collect();
        let expected: Vec<char> = pinned.iter().map(|p| p.0).collect();
        assert_eq!(table, expected);
        for &(c, matching, canonical) in pinned {
            let m = mark(c).expect("every pinned character is a mark");
            let folded = if m.kind.is_quote() {
                "'"
            } else {
                m.kind.folded()
            };
            assert_eq!(folded, matching, "{c:?} when matching");
            assert_eq!(canonical_fold(c), canonical, "{c:?} in canonical text");
        }
    }

    #[test]
    fn the_match_and_the_table_agree() {
        for m in MARKS {
            assert_eq!(mark(m.ch), Some(*m));
        }
        assert!(MARKS.windows(2).all(|w| w[0].ch < w[1].ch));
        // Nothing outside the table is a mark: the first planes, scanned.
        let count = (0..=0x1_FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| mark(c).is_some())
            .count();
        assert_eq!(count, MARKS.len());
    }

    /// The ASCII fast paths of canonical text and quote matching copy every printable ASCII
    /// character but the backtick: it must stay the only ASCII mark.
    #[test]
    fn the_backtick_is_the_only_ascii_mark() {
        let ascii: Vec<char> = MARKS.iter().map(|m| m.ch).filter(char::is_ascii).collect();
        assert_eq!(ascii, vec!['`']);
    }

    #[test]
    fn no_mark_is_whitespace_or_a_fold_target() {
        for m in MARKS {
            assert!(!m.ch.is_whitespace(), "{:?}", m.ch);
            assert!(!matches!(m.ch, '\'' | '"' | '-' | '.'), "{:?}", m.ch);
        }
    }

    #[test]
    fn quotation_marks_and_dashes() {
        for c in ['"', '\'', '\u{2039}', '\u{203A}', '\u{201E}', '`'] {
            assert!(is_quote_mark(c), "{c:?}");
        }
        for c in ['a', '-', '\u{2014}', '\u{300C}'] {
            assert!(!is_quote_mark(c), "{c:?}");
        }
        let long: Vec<char> = MARKS
            .iter()
            .map(|m| m.ch)
            .filter(|&c| is_long_dash(c))
            .collect();
        assert_eq!(long, vec!['\u{2013}', '\u{2014}', '\u{2015}']);
    }

    #[test]
    fn pairs_are_marks_and_mirrors_have_their_pair() {
        for p in PAIRS {
            let cjk = |c: char| ('\u{3000}'..='\u{303F}').contains(&c);
            for c in [p.open, p.close] {
                assert!(is_quote_mark(c) || cjk(c), "{c:?}");
            }
            if p.mirrored {
                assert!(
                    PAIRS.iter().any(|q| !q.mirrored
                        && q.open == p.close
                        && q.close == p.open
                        && q.level == p.level),
                    "{p:?}"
                );
            }
        }
        // Primary pairs first: readers that try levels in turn rely on it only through
        // `level`, but the order documents it.
        assert!(
            PAIRS
                .windows(2)
                .all(|w| !(w[0].level == Level::Secondary && w[1].level == Level::Primary))
        );
        let closing_quote: Vec<char> = pairs_closed_by(APOSTROPHE).map(|p| p.open).collect();
        assert_eq!(closing_quote, vec!['\u{2018}']);
    }
}
