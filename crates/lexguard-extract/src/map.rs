//! Offset maps: from byte offsets in decoded text back to byte offsets in the original input.

use std::ops::Range;

/// How a piece of decoded text came from the original bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PieceKind {
    /// The text bytes are the original bytes (UTF-8 input, or ASCII in an ASCII-compatible
    /// encoding): offsets map one to one.
    Same,
    /// One or more characters decoded from another encoding (or a replacement character for
    /// an invalid sequence); the piece maps to its original bytes as a whole.
    Decoded,
    /// An HTML entity or a `\uXXXX`/`%XX` escape, decoded.
    Escape,
    /// Text inserted by extraction (a line break between block elements); it maps to an
    /// empty range of the original.
    Inserted,
}

/// One piece of a map: text from `text` up to the next piece's `text`, original bytes
/// `orig..orig + orig_len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Piece {
    /// Start in the decoded text.
    pub text: usize,
    /// Start in the original bytes.
    pub orig: usize,
    /// Length in the original bytes.
    pub orig_len: usize,
    /// How the piece came about.
    pub kind: PieceKind,
}

/// Maps byte offsets in a decoded text to byte offsets in the original input.
///
/// ```
/// use lexguard_extract::OffsetMap;
/// let m = OffsetMap::identity(10, 5); // text bytes 0..5 are original bytes 10..15
/// assert_eq!(m.to_orig(1..3), 11..13);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetMap {
    pieces: Vec<Piece>,
    text_len: usize,
}

impl OffsetMap {
    /// A map where `len` text bytes are the original bytes from `orig`.
    pub fn identity(orig: usize, len: usize) -> OffsetMap {
        OffsetMap { pieces: vec![Piece { text: 0, orig, orig_len: len, kind: PieceKind::Same }], text_len: len }
    }

    /// The pieces, in text order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Length of the decoded text the map covers.
    pub fn text_len(&self) -> usize {
        self.text_len
    }

    fn piece_end(&self, i: usize) -> usize {
        self.pieces.get(i + 1).map_or(self.text_len, |p| p.text)
    }

    fn piece_at(&self, pos: usize) -> Option<usize> {
        let i = self.pieces.partition_point(|p| p.text <= pos);
        i.checked_sub(1)
    }

    /// The original byte range of the decoded text range `range`. A range that starts or ends
    /// inside a decoded character or escape widens to all of it.
    pub fn to_orig(&self, range: Range<usize>) -> Range<usize> {
        let Some(si) = self.piece_at(range.start) else { return 0..0 };
        let sp = &self.pieces[si];
        let start = match sp.kind {
            PieceKind::Same => sp.orig + (range.start - sp.text).min(sp.orig_len),
            _ => sp.orig,
        };
        if range.end <= range.start {
            return start..start;
        }
        let ei = self.piece_at(range.end - 1).unwrap_or(si);
        let ep = &self.pieces[ei];
        let end = match ep.kind {
            PieceKind::Same => ep.orig + (range.end - ep.text).min(ep.orig_len),
            _ => ep.orig + ep.orig_len,
        };
        start..end.max(start)
    }

    /// Whether any piece of `kind` overlaps the decoded text range `range`.
    pub fn has_kind_in(&self, range: Range<usize>, kind: PieceKind) -> bool {
        let Some(mut i) = self.piece_at(range.start) else { return false };
        while i < self.pieces.len() && self.pieces[i].text < range.end.max(range.start + 1) {
            if self.pieces[i].kind == kind && self.piece_end(i) > self.pieces[i].text {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether any piece is an escape.
    pub fn has_escapes(&self) -> bool {
        self.pieces.iter().any(|p| p.kind == PieceKind::Escape)
    }

    /// The original range covered, first to last piece.
    pub fn orig_extent(&self) -> Range<usize> {
        match (self.pieces.first(), self.pieces.last()) {
            (Some(f), Some(l)) => f.orig..(l.orig + l.orig_len).max(f.orig),
            _ => 0..0,
        }
    }

    /// This map, whose original offsets are text offsets of `doc`, carried through `doc` to
    /// `doc`'s original offsets.
    pub fn through(&self, doc: &OffsetMap) -> OffsetMap {
        let mut out = MapBuilder::default();
        for (i, p) in self.pieces.iter().enumerate() {
            let text_start = p.text;
            let text_end = self.piece_end(i);
            if p.kind == PieceKind::Same {
                // Split along the pieces of `doc`.
                let (mut s, e) = (p.orig, p.orig + p.orig_len);
                while s < e {
                    let Some(di) = doc.piece_at(s) else { break };
                    let dp = doc.pieces[di];
                    let de = doc.piece_end(di).min(e).max(s + 1);
                    let o = doc.to_orig(s..de);
                    let t = text_start + (s - p.orig);
                    let kind = if dp.kind == PieceKind::Same { PieceKind::Same } else { dp.kind };
                    out.pieces.push(Piece { text: t, orig: o.start, orig_len: o.len(), kind });
                    s = de;
                }
            } else {
                let o = doc.to_orig(p.orig..p.orig + p.orig_len);
                let o = if p.orig_len == 0 { o.start..o.start } else { o };
                out.pieces.push(Piece { text: text_start, orig: o.start, orig_len: o.len(), kind: p.kind });
            }
            let _ = text_end;
        }
        OffsetMap { pieces: out.pieces, text_len: self.text_len }
    }
}

/// Builds a decoded text and its map piece by piece.
#[derive(Clone, Debug, Default)]
pub(crate) struct MapBuilder {
    pub text: String,
    pub pieces: Vec<Piece>,
}

impl MapBuilder {
    /// An empty builder with room for `text` bytes in `pieces` pieces.
    pub fn with_capacity(text: usize, pieces: usize) -> MapBuilder {
        MapBuilder { text: String::with_capacity(text), pieces: Vec::with_capacity(pieces) }
    }

    /// Appends text that is the original bytes at `orig`.
    pub fn push_same(&mut self, s: &str, orig: usize) {
        if s.is_empty() {
            return;
        }
        if let Some(last) = self.pieces.last_mut() {
            if last.kind == PieceKind::Same
                && last.orig + last.orig_len == orig
                && last.text + last.orig_len == self.text.len()
            {
                last.orig_len += s.len();
                self.text.push_str(s);
                return;
            }
        }
        self.pieces.push(Piece { text: self.text.len(), orig, orig_len: s.len(), kind: PieceKind::Same });
        self.text.push_str(s);
    }

    /// Appends decoded text standing for the original bytes `orig`.
    pub fn push_mapped(&mut self, s: &str, orig: Range<usize>, kind: PieceKind) {
        if s.is_empty() {
            return;
        }
        self.pieces.push(Piece { text: self.text.len(), orig: orig.start, orig_len: orig.len(), kind });
        self.text.push_str(s);
    }

    /// Appends inserted text that stands at original offset `at`.
    pub fn push_inserted(&mut self, s: &str, at: usize) {
        self.push_mapped(s, at..at, PieceKind::Inserted);
    }

    /// Drops inserted text at the end.
    pub fn trim_inserted_end(&mut self) {
        while let Some(last) = self.pieces.last() {
            if last.kind != PieceKind::Inserted {
                break;
            }
            self.text.truncate(last.text);
            self.pieces.pop();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn finish(self) -> (String, OffsetMap) {
        let len = self.text.len();
        (self.text, OffsetMap { pieces: self.pieces, text_len: len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_pieces_map_back() {
        let mut b = MapBuilder::default();
        b.push_same("ab", 0); // 0..2
        b.push_mapped("赌", 2..4, PieceKind::Decoded); // GBK: 2 bytes
        b.push_mapped("<", 4..8, PieceKind::Escape); // &lt;
        b.push_same("cd", 8);
        let (text, map) = b.finish();
        assert_eq!(text, "ab赌<cd");
        assert_eq!(map.to_orig(0..2), 0..2);
        assert_eq!(map.to_orig(2..5), 2..4);
        assert_eq!(map.to_orig(2..6), 2..8);
        assert_eq!(map.to_orig(6..8), 8..10);
        assert!(map.has_kind_in(5..6, PieceKind::Escape));
        assert!(!map.has_kind_in(6..8, PieceKind::Escape));
    }

    #[test]
    fn through_splits_same_pieces() {
        // doc: "ab" from UTF-16 (4 bytes), one piece per char.
        let mut d = MapBuilder::default();
        d.push_mapped("a", 2..4, PieceKind::Decoded);
        d.push_mapped("b", 4..6, PieceKind::Decoded);
        let (_, doc) = d.finish();
        let seg = OffsetMap::identity(0, 2);
        let m = seg.through(&doc);
        assert_eq!(m.to_orig(1..2), 4..6);
        assert_eq!(m.to_orig(0..2), 2..6);
    }
}
