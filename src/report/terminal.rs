//! Making content safe to show on a terminal.
//!
//! Titles, locators, paths, quotes and texts come from pages, archives, bags and documents that
//! other people wrote. Shown raw, an `ESC` sequence in a title can rewrite the screen, set the
//! window title or write to the clipboard (OSC 52), and a bidi override (U+202E) can make a line
//! read other than it is. Human output escapes them visibly: C0 controls but tab and line feed,
//! DEL and C1 controls as `\xNN`, `ESC` as `\x1b`, bidi controls and line separators as
//! `\u{NNNN}`. Machine output (JSON, unified diffs, raw bytes) stays exact and never goes
//! through here.
//!
//! A printer's own styling is SGR sequences (`ESC [ … m`) of a few attributes and colours;
//! [`Escaping`] lets exactly those through and escapes every other sequence. A content SGR of
//! the same kind passes as well: it can only make text bold, dim or one of six foreground
//! colours, never hide it (no conceal, no background, no black or white).

use std::borrow::Cow;
use std::io::{self, Write};

/// The longest SGR sequence let through; a longer one is content.
const MAX_SGR: usize = 24;

/// What a byte may start: `Plain` bytes are written as they are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Plain,
    /// A C0 control (but tab and line feed), or DEL.
    Control,
    /// `ESC`.
    Escape,
    /// A lead byte of a UTF-8 sequence that may encode a C1 or bidi control.
    Lead,
}

const CLASS: [Class; 256] = {
    let mut table = [Class::Plain; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = Class::Control;
        b += 1;
    }
    table[b'\t' as usize] = Class::Plain;
    table[b'\n' as usize] = Class::Plain;
    table[0x1b] = Class::Escape;
    table[0x7f] = Class::Control;
    table[0xc2] = Class::Lead;
    table[0xd8] = Class::Lead;
    table[0xe2] = Class::Lead;
    table
};

/// What the bytes at the start of `rest` (which begins with a `Lead` byte) encode: the code
/// point to escape and its length, `Some(None)` for an ordinary character, or `None` when
/// `rest` ends before the character does.
fn dangerous_char(rest: &[u8]) -> Option<Option<(u32, usize)>> {
    let len = match rest[0] {
        0xc2 | 0xd8 => 2,
        _ => 3,
    };
    if rest.len() < len {
        return None;
    }
    let c = match &rest[..len] {
        // C1 controls, U+0080–U+009F.
        [0xc2, b @ 0x80..=0x9f] => Some(u32::from(*b)),
        // ARABIC LETTER MARK.
        [0xd8, 0x9c] => Some(0x61c),
        // LRM, RLM; LINE and PARAGRAPH SEPARATOR; LRE, RLE, PDF, LRO, RLO.
        [0xe2, 0x80, b @ (0x8e | 0x8f | 0xa8..=0xae)] => Some(0x2000 + u32::from(b - 0x80)),
        // LRI, RLI, FSI, PDI.
        [0xe2, 0x81, b @ 0xa6..=0xa9] => Some(0x2040 + u32::from(b - 0x80)),
        _ => None,
    };
    Some(c.map(|c| (c, len)))
}

/// Whether `seq` (starting with `ESC`) is one of the SGR sequences printers write: `None` when
/// it may be one but `seq` ends first.
fn printer_sgr(seq: &[u8]) -> Option<Option<usize>> {
    if seq.len() < 2 {
        return None;
    }
    if seq[1] != b'[' {
        return Some(None);
    }
    for (i, &b) in seq.iter().enumerate().skip(2) {
        match b {
            b'0'..=b'9' | b';' if i < MAX_SGR => {}
            b'm' => {
                let params = &seq[2..i];
                // Exactly what the printers' styles write (reset, bold, dim, and red, green,
                // yellow, blue, magenta, cyan on the default background): no background, black
                // or white, so nothing from content can set text to its background's colour.
                let allowed = params.split(|&b| b == b';').all(|p| {
                    matches!(
                        p,
                        b"" | b"0" | b"1" | b"2" | b"31" | b"32" | b"33" | b"34" | b"35" | b"36"
                    )
                });
                return Some(allowed.then_some(i + 1));
            }
            _ => return Some(None),
        }
    }
    if seq.len() < MAX_SGR {
        None
    } else {
        Some(None)
    }
}

/// Writes the visible form of code point `c`.
fn write_escaped(out: &mut impl Write, c: u32) -> io::Result<()> {
    if c < 0x100 {
        write!(out, "\\x{c:02x}")
    } else {
        write!(out, "\\u{{{c:x}}}")
    }
}

/// Bytes checked at once for printable ASCII (a width the compiler turns into vector compares).
const BLOCK: usize = 32;

/// Escapes what `bytes` holds up to the last complete unit, writing it to `out`; returns how
/// many bytes were consumed (the rest wait for more, unless `last`).
fn escape_into(
    out: &mut impl Write,
    bytes: &[u8],
    last: bool,
    allow_sgr: bool,
) -> io::Result<usize> {
    let mut plain_from = 0;
    let mut i = 0;
    'scan: while i < bytes.len() {
        // Printable ASCII, most of most texts, is passed over a block at a time: one byte at a
        // time through the table was a fifteenth of a 5 MB word diff's time.
        if let Some(block) = bytes.get(i..i + BLOCK)
            && block
                .iter()
                .fold(true, |plain, &b| plain & (0x20..0x7f).contains(&b))
        {
            i += BLOCK;
            continue;
        }
        let block_end = (i + BLOCK).min(bytes.len());
        while i < block_end {
            let class = CLASS[bytes[i] as usize];
            if class == Class::Plain {
                i += 1;
                continue;
            }
            let step = match class {
                Class::Control => {
                    out.write_all(&bytes[plain_from..i])?;
                    write_escaped(out, u32::from(bytes[i]))?;
                    1
                }
                Class::Escape => match printer_sgr(&bytes[i..]) {
                    None if !last => break 'scan,
                    Some(Some(len)) if allow_sgr => {
                        out.write_all(&bytes[plain_from..i + len])?;
                        len
                    }
                    _ => {
                        out.write_all(&bytes[plain_from..i])?;
                        write_escaped(out, 0x1b)?;
                        1
                    }
                },
                Class::Lead | Class::Plain => match dangerous_char(&bytes[i..]) {
                    None if !last => break 'scan,
                    Some(Some((c, len))) => {
                        out.write_all(&bytes[plain_from..i])?;
                        write_escaped(out, c)?;
                        len
                    }
                    _ => {
                        i += 1;
                        continue;
                    }
                },
            };
            // A sequence may end past the block; the next block starts after it.
            i += step;
            plain_from = i;
        }
    }
    out.write_all(&bytes[plain_from..i])?;
    Ok(i)
}

/// `text` with every terminal control escaped visibly (no sequence let through): for one
/// string from content in a message or a line of output.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|b| CLASS[b as usize] != Class::Plain) {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 16);
    // Writing to a Vec cannot fail, and all of `text` is consumed when `last`.
    let _ = escape_into(&mut out, text.as_bytes(), true, false);
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// A writer for human output: everything written through it is shown with terminal controls
/// from content escaped (see the module's documentation), the printer's own styling kept.
pub struct Escaping<W: Write> {
    inner: W,
    /// The end of the last write, when it may be the start of a sequence.
    held: Vec<u8>,
}

impl<W: Write> Escaping<W> {
    /// Escapes what is written before it reaches `inner`.
    pub fn new(inner: W) -> Escaping<W> {
        Escaping {
            inner,
            held: Vec::new(),
        }
    }
}

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.held.is_empty() {
            let used = escape_into(&mut self.inner, buf, false, true)?;
            self.held.extend_from_slice(&buf[used..]);
        } else {
            self.held.extend_from_slice(buf);
            let held = std::mem::take(&mut self.held);
            let used = escape_into(&mut self.inner, &held, false, true)?;
            self.held = held[used..].to_vec();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let held = std::mem::take(&mut self.held);
        escape_into(&mut self.inner, &held, true, true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Escaping<W> {
    fn drop(&mut self) {
        // What is still held is written, as a BufWriter writes its buffer when dropped.
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn through_writer(chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut w = Escaping::new(&mut out);
            for c in chunks {
                w.write_all(c).expect("write");
            }
            w.flush().expect("flush");
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn content_controls_are_escaped_and_printer_styles_kept() {
        let title =
            "Title\x1b]52;c;ZXZpbA==\x07 \u{202e}evil\u{202c} \x1b[2J\x1b[8mhidden\r\u{9b}31m";
        let shown = escape(title);
        assert_eq!(
            shown,
            "Title\\x1b]52;c;ZXZpbA==\\x07 \\u{202e}evil\\u{202c} \\x1b[2J\\x1b[8mhidden\\x0d\\x9b31m"
        );
        let styled = format!("\x1b[1m\x1b[33mid\x1b[0m {title}\n\ttabbed");
        let out = through_writer(&[styled.as_bytes()]);
        assert!(
            out.starts_with("\x1b[1m\x1b[33mid\x1b[0m Title\\x1b]52"),
            "{out:?}"
        );
        assert!(
            out.ends_with("\\x1b[2J\\x1b[8mhidden\\x0d\\x9b31m\n\ttabbed"),
            "{out:?}"
        );
        assert_eq!(escape("plain – text ✓"), "plain – text ✓");
    }

    proptest! {
        /// Long runs of plain ASCII (passed over a block at a time) around content controls,
        /// written in two pieces cut anywhere: the same output as one write, nothing
        /// dangerous left, and every byte of plain text kept.
        #[test]
        fn blocks_of_plain_text_change_nothing(pieces in prop::collection::vec(("[ -~]{0,80}", "[\x00-\x1f\x7f\u{80}-\u{9f}\u{202e}\u{2067}é“\x1b]|\x1b\\[3[1-6]m"), 0..12), cut in 0usize..1200) {
            let text: String = pieces.iter().map(|(plain, other)| format!("{plain}{other}")).collect();
            let bytes = text.as_bytes();
            let cut = cut.min(bytes.len());
            let whole = through_writer(&[bytes]);
            prop_assert_eq!(&whole, &through_writer(&[&bytes[..cut], &bytes[cut..]]));
            let dangerous = |c: char| {
                (c.is_control() && !matches!(c, '\n' | '\t' | '\x1b'))
                    || c == '\u{202e}'
                    || c == '\u{2067}'
            };
            prop_assert!(!whole.chars().any(dangerous), "{:?}", whole);
            let mut rest = whole.as_str();
            for (plain, _) in &pieces {
                let at = rest.find(plain.as_str());
                prop_assert!(at.is_some(), "{:?} lost from {:?}", plain, whole);
                rest = &rest[at.unwrap_or(0) + plain.len()..];
            }
        }

        #[test]
        fn split_writes_escape_as_one_write(text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200e}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}]|\x1b\\[[0-9;]{0,4}m){0,40}", cut in 0usize..200) {
            let bytes = text.as_bytes();
            let cut = cut.min(bytes.len());
            let whole = through_writer(&[bytes]);
            let split = through_writer(&[&bytes[..cut], &bytes[cut..]]);
            prop_assert_eq!(&whole, &split);
            // Nothing dangerous is left: controls but tab, line feed and the ESC of a kept
            // style, and bidi overrides.
            let dangerous = |c: char| {
                (c.is_control() && !matches!(c, '\n' | '\t' | '\x1b'))
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)
            };
            prop_assert!(!whole.chars().any(dangerous), "{:?}", whole);
            for style in whole.split('\x1b').skip(1) {
                prop_assert!(style.starts_with('[') && style.contains('m'), "{:?}", whole);
            }
        }
    }
}
