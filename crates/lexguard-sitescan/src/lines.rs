//! Line and column numbers of byte offsets in a file.
//!
//! A file with many findings (a page of thousands of hidden links, a blob full of chance
//! hits) must not cost a pass over the file per finding: [`Lines`] finds the line starts
//! once, and [`columns`] decodes each line once, from one position to the next.
//!
//! In UTF-16 a line feed is a code unit, two bytes at an even offset (`0A 00` in UTF-16LE);
//! elsewhere it is the byte `0A` (in UTF-16LE that byte is also the low half of `上`).

use std::cell::OnceCell;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};

/// 1-based line number of byte `pos` of `bytes`, in an encoding where a line feed is the byte
/// `0A` (all but UTF-16). For one position; for many, or UTF-16, see [`Lines`].
pub fn line_of(bytes: &[u8], pos: usize) -> usize {
    memchr::memchr_iter(b'\n', &bytes[..pos.min(bytes.len())]).count() + 1
}

/// 1-based column of byte `pos` on its line: UTF-16 code units of the line's text before it,
/// decoded with `enc` (a byte order mark at the file's start is not counted). For one
/// position; for many, see [`columns`].
pub fn column_of(bytes: &[u8], pos: usize, enc: &'static Encoding) -> usize {
    columns(bytes, enc, &[pos])[0]
}

/// UTF-16 code units of `bytes[range]` decoded with `enc`; a byte order mark at offset 0 is
/// not counted.
fn utf16_units(bytes: &[u8], range: std::ops::Range<usize>, enc: &'static Encoding) -> usize {
    let part = &bytes[range.clone()];
    let text =
        if range.start == 0 { enc.decode_with_bom_removal(part).0 } else { enc.decode_without_bom_handling(part).0 };
    text.encode_utf16().count()
}

/// The line feed of UTF-16 text in `enc`, if it is UTF-16.
fn utf16_line_feed(enc: &'static Encoding) -> Option<[u8; 2]> {
    if enc == UTF_16LE {
        Some([0x0A, 0])
    } else if enc == UTF_16BE {
        Some([0, 0x0A])
    } else {
        None
    }
}

/// The lines of a file, for the line numbers of many offsets: the line starts are found on
/// first use, in one pass.
#[derive(Debug)]
pub struct Lines<'a> {
    bytes: &'a [u8],
    enc: &'static Encoding,
    starts: OnceCell<Vec<usize>>,
}

impl<'a> Lines<'a> {
    /// The lines of `bytes`, text in `enc` (nothing is read until a line is asked for).
    pub fn new(bytes: &'a [u8], enc: &'static Encoding) -> Lines<'a> {
        Lines { bytes, enc, starts: OnceCell::new() }
    }

    fn starts(&self) -> &[usize] {
        self.starts.get_or_init(|| {
            let mut starts = vec![0];
            match utf16_line_feed(self.enc) {
                // Two bytes that cannot overlap each other: every occurrence is found.
                Some(lf) => {
                    starts.extend(memchr::memmem::find_iter(self.bytes, &lf).filter(|i| i % 2 == 0).map(|i| i + 2))
                }
                None => starts.extend(memchr::memchr_iter(b'\n', self.bytes).map(|i| i + 1)),
            }
            starts
        })
    }

    /// 1-based line number of byte `pos`.
    pub fn line(&self, pos: usize) -> usize {
        let pos = pos.min(self.bytes.len());
        self.starts().partition_point(|&s| s <= pos)
    }

    /// The offset where the line holding byte `pos` starts.
    fn line_start(&self, pos: usize) -> usize {
        self.starts()[self.line(pos) - 1]
    }
}

/// The 1-based columns of byte offsets `positions` of `bytes`, text in `enc` (UTF-16 code units
/// of the line's text before each; a byte order mark at the file's start is not counted), in
/// their order. Positions are visited in ascending order and, in encodings without shift
/// states, a line's text is decoded only from one position to the next; positions must then
/// be on character boundaries, as the starts of findings are.
pub fn columns(bytes: &[u8], enc: &'static Encoding, positions: &[usize]) -> Vec<usize> {
    let lines = Lines::new(bytes, enc);
    // ISO-2022-JP switches character sets with escapes: its text decodes only from the line's
    // start. Every other encoding encoding_rs knows can be decoded from any character.
    let resumable = enc != encoding_rs::ISO_2022_JP;
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by_key(|&i| positions[i]);
    let mut out = vec![1; positions.len()];
    // The last position visited: its line's start, its offset and its column.
    let mut last: Option<(usize, usize, usize)> = None;
    for i in order {
        let pos = positions[i].min(bytes.len());
        let start = lines.line_start(pos).min(pos);
        let (from, base) = match last {
            Some((line, at, col)) if line == start && resumable => (at, col),
            _ => (start, 1),
        };
        let col = base + utf16_units(bytes, from..pos, enc);
        out[i] = col;
        last = Some((start, pos, col));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units_from_one() {
        assert_eq!(column_of(b"abc", 0, encoding_rs::UTF_8), 1);
        assert_eq!(column_of("a\n\u{feff}".as_bytes(), 2, encoding_rs::UTF_8), 1);
        assert_eq!(column_of("\u{feff}网上赌博".as_bytes(), 9, encoding_rs::UTF_8), 3);
        assert_eq!(column_of("x\n😀赌".as_bytes(), 6, encoding_rs::UTF_8), 3);
        let gbk = encoding_rs::GBK.encode("第一行\n网上赌博").0.into_owned();
        assert_eq!(column_of(&gbk, gbk.len() - 4, encoding_rs::GBK), 3);
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of(b"a\nb\nc", 4), 3);
        assert_eq!(line_of(b"abc", 0), 1);
    }

    /// The line and column of byte `pos` by decoding everything before it.
    fn by_decoding(bytes: &[u8], pos: usize, enc: &'static Encoding) -> (usize, usize) {
        let text = enc.decode_with_bom_removal(&bytes[..pos]).0;
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        (text.matches('\n').count() + 1, text[line_start..].encode_utf16().count() + 1)
    }

    /// Every character boundary of a text, in each encoding, in shuffled order. In UTF-16, `上`
    /// (`0A 4E` in UTF-16LE) and `ਊ` (`0A 0A`) hold the byte of a line feed and are none.
    #[test]
    fn many_positions_agree_with_decoding_everything_before() {
        let text = "\u{feff}第一行 abc\n\n网上😀赌博 x\r\n上上 ਊ last line ü 賭博\n上";
        let utf16 = |big: bool| -> Vec<u8> {
            text.encode_utf16().flat_map(|u| if big { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
        };
        for enc in [encoding_rs::UTF_8, encoding_rs::GBK, encoding_rs::BIG5, UTF_16LE, UTF_16BE] {
            let wide = enc == UTF_16LE || enc == UTF_16BE;
            let bytes = if wide { utf16(enc == UTF_16BE) } else { enc.encode(text).0.into_owned() };
            // Character boundaries in the encoded bytes: the lengths of every encoded prefix.
            let mut positions: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| &text[..i])
                .map(|p| if wide { p.encode_utf16().count() * 2 } else { enc.encode(p).0.len() })
                .chain([bytes.len()])
                .collect();
            positions.reverse();
            positions.swap(1, 7);
            let lines = Lines::new(&bytes, enc);
            let cols = columns(&bytes, enc, &positions);
            for (&p, &c) in positions.iter().zip(&cols) {
                assert_eq!((lines.line(p), c), by_decoding(&bytes, p, enc), "{} at {p}", enc.name());
                if !wide {
                    assert_eq!(lines.line(p), line_of(&bytes, p), "{} at {p}", enc.name());
                }
            }
            // Past the end: the end.
            assert_eq!(columns(&bytes, enc, &[bytes.len() + 5]), [cols[0]]);
        }
    }
}
