//! Line and column numbers of byte offsets in a file.
//!
//! A file with many findings (a page of thousands of hidden links, a blob full of chance
//! hits) must not cost a pass over the file per finding: [`Lines`] finds the line starts
//! once, and [`columns`] decodes each line once, from one position to the next.

use std::cell::OnceCell;

use encoding_rs::Encoding;

/// 1-based line number of byte `pos` of `bytes`. For one position; for many, see [`Lines`].
pub fn line_of(bytes: &[u8], pos: usize) -> usize {
    memchr::memchr_iter(b'\n', &bytes[..pos.min(bytes.len())]).count() + 1
}

/// 1-based column of byte `pos` on its line: UTF-16 code units of the line's text before it,
/// decoded with `enc` (a byte order mark at the file's start is not counted). For one
/// position; for many, see [`columns`].
pub fn column_of(bytes: &[u8], pos: usize, enc: &'static Encoding) -> usize {
    let pos = pos.min(bytes.len());
    let start = memchr::memrchr(b'\n', &bytes[..pos]).map_or(0, |i| i + 1);
    1 + utf16_units(bytes, start..pos, enc)
}

/// UTF-16 code units of `bytes[range]` decoded with `enc`; a byte order mark at offset 0 is
/// not counted.
fn utf16_units(bytes: &[u8], range: std::ops::Range<usize>, enc: &'static Encoding) -> usize {
    let part = &bytes[range.clone()];
    let text =
        if range.start == 0 { enc.decode_with_bom_removal(part).0 } else { enc.decode_without_bom_handling(part).0 };
    text.encode_utf16().count()
}

/// The lines of a file, for the line numbers of many offsets: the line starts are found on
/// first use, in one pass.
#[derive(Debug)]
pub struct Lines<'a> {
    bytes: &'a [u8],
    starts: OnceCell<Vec<usize>>,
}

impl<'a> Lines<'a> {
    /// The lines of `bytes` (nothing is read until a line is asked for).
    pub fn new(bytes: &'a [u8]) -> Lines<'a> {
        Lines { bytes, starts: OnceCell::new() }
    }

    fn starts(&self) -> &[usize] {
        self.starts
            .get_or_init(|| std::iter::once(0).chain(memchr::memchr_iter(b'\n', self.bytes).map(|i| i + 1)).collect())
    }

    /// 1-based line number of byte `pos` (as [`line_of`]).
    pub fn line(&self, pos: usize) -> usize {
        let pos = pos.min(self.bytes.len());
        self.starts().partition_point(|&s| s <= pos)
    }

    /// The offset where the line holding byte `pos` starts.
    fn line_start(&self, pos: usize) -> usize {
        self.starts()[self.line(pos) - 1]
    }
}

/// The 1-based columns of byte offsets `positions` of `bytes` (as [`column_of`]), in their
/// order. Positions are visited in ascending order and, in encodings where ASCII bytes are
/// ASCII characters, a line's text is decoded only from one position to the next; positions
/// must then be on character boundaries, as the starts of findings are.
pub fn columns(bytes: &[u8], enc: &'static Encoding, positions: &[usize]) -> Vec<usize> {
    let lines = Lines::new(bytes);
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by_key(|&i| positions[i]);
    let mut out = vec![1; positions.len()];
    // The last position visited: its line's start, its offset and its column.
    let mut last: Option<(usize, usize, usize)> = None;
    for i in order {
        let pos = positions[i].min(bytes.len());
        let start = lines.line_start(pos);
        let (from, base) = match last {
            Some((line, at, col)) if line == start && enc.is_ascii_compatible() => (at, col),
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

    /// Every character boundary of a text, in each encoding, in shuffled order.
    #[test]
    fn many_positions_agree_with_one_at_a_time() {
        let text = "\u{feff}第一行 abc\n\n网上😀赌博 x\r\nlast line ü 賭博";
        for enc in [encoding_rs::UTF_8, encoding_rs::GBK, encoding_rs::BIG5, encoding_rs::UTF_16LE] {
            let bytes: Vec<u8> = if enc == encoding_rs::UTF_16LE {
                text.encode_utf16().flat_map(u16::to_le_bytes).collect()
            } else {
                enc.encode(text).0.into_owned()
            };
            // Character boundaries in the encoded bytes: the lengths of every encoded prefix.
            let mut positions: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| &text[..i])
                .map(
                    |p| if enc == encoding_rs::UTF_16LE { p.encode_utf16().count() * 2 } else { enc.encode(p).0.len() },
                )
                .chain([bytes.len(), bytes.len() + 5])
                .collect();
            positions.reverse();
            positions.swap(1, 7);
            let lines = Lines::new(&bytes);
            let cols = columns(&bytes, enc, &positions);
            for (&p, &c) in positions.iter().zip(&cols) {
                assert_eq!(c, column_of(&bytes, p, enc), "{} at {p}", enc.name());
                assert_eq!(lines.line(p), line_of(&bytes, p), "{} at {p}", enc.name());
            }
        }
    }
}
