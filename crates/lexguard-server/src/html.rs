//! Visible text of an HTML field, with a map back to the field's bytes.
//!
//! A small, forgiving tokenizer: tags are dropped (block-level tags become a line break),
//! `<script>`, `<style>`, comments and processing instructions are skipped, character
//! references (`&#36172;`, `&#x8d4c;`, `&amp;`, `&nbsp;`, …) are decoded. Every byte of the
//! extracted text maps back to the bytes of the field it came from, so that hit spans index
//! the submitted field. Kept behind [`extract`] so that it can switch to `lexguard-extract`.

use lexguard::{Flags, Hit, Span};

/// One piece of extracted text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    /// Start in the extracted text.
    out: usize,
    /// Its length in the extracted text.
    out_len: usize,
    /// Where it came from in the source.
    src: usize,
    src_end: usize,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Copied verbatim: byte i of the piece is byte `src + i` of the source.
    Copy,
    /// A decoded character reference.
    Entity,
    /// A line break standing for a block-level tag.
    Break,
}

/// The visible text of a field and the map back to it.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub text: String,
    pieces: Vec<Piece>,
}

const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "thinsp" => '\u{2009}',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        "shy" => '\u{ad}',
        "lrm" => '\u{200e}',
        "rlm" => '\u{200f}',
        "middot" => '·',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "bull" => '•',
        "copy" => '©',
        "reg" => '®',
        "times" => '×',
        _ => return None,
    })
}

/// Decodes a character reference at `s[i..]` (which starts with `&`): (char, length).
fn entity_at(s: &str, i: usize) -> Option<(char, usize)> {
    let rest = &s.as_bytes()[i + 1..];
    if let Some(num) = rest.strip_prefix(b"#") {
        let (hex, digits) = match num.first() {
            Some(b'x' | b'X') => (true, &num[1..]),
            _ => (false, num),
        };
        let n = digits.iter().take_while(|b| if hex { b.is_ascii_hexdigit() } else { b.is_ascii_digit() }).count();
        if n == 0 {
            return None;
        }
        let text = std::str::from_utf8(&digits[..n]).ok()?;
        let value = u32::from_str_radix(text, if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
        let c = match value {
            0 => '\u{fffd}',
            v => char::from_u32(v).unwrap_or('\u{fffd}'),
        };
        let mut len = 1 + 1 + usize::from(hex) + n;
        if rest.get(len - 1) == Some(&b';') {
            len += 1;
        }
        return Some((c, len));
    }
    let n = rest.iter().take(10).take_while(|b| b.is_ascii_alphanumeric()).count();
    if rest.get(n) != Some(&b';') {
        return None;
    }
    let name = std::str::from_utf8(&rest[..n]).ok()?;
    named_entity(name).map(|c| (c, n + 2))
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

impl Extracted {
    fn copy(&mut self, src: &str, start: usize, end: usize) {
        if start >= end {
            return;
        }
        if let Some(last) = self.pieces.last_mut() {
            if last.kind == Kind::Copy && last.src_end == start {
                last.out_len += end - start;
                last.src_end = end;
                self.text.push_str(&src[start..end]);
                return;
            }
        }
        self.pieces.push(Piece {
            out: self.text.len(),
            out_len: end - start,
            src: start,
            src_end: end,
            kind: Kind::Copy,
        });
        self.text.push_str(&src[start..end]);
    }

    fn one(&mut self, c: char, start: usize, end: usize, kind: Kind) {
        self.pieces.push(Piece { out: self.text.len(), out_len: c.len_utf8(), src: start, src_end: end, kind });
        self.text.push(c);
    }

    /// The source byte range of extracted `[start, end)`, and whether it covers a decoded
    /// reference.
    pub(crate) fn map_back(&self, start: usize, end: usize) -> (usize, usize, bool) {
        if self.pieces.is_empty() || end <= start {
            return (0, 0, false);
        }
        let find = |pos: usize| self.pieces.partition_point(|p| p.out + p.out_len <= pos).min(self.pieces.len() - 1);
        let (a, b) = (find(start), find(end - 1));
        let pa = self.pieces[a];
        let s = if pa.kind == Kind::Copy { pa.src + (start - pa.out) } else { pa.src };
        let pb = self.pieces[b];
        let e = if pb.kind == Kind::Copy { pb.src + (end - pb.out) } else { pb.src_end };
        let entity = self.pieces[a..=b].iter().any(|p| p.kind == Kind::Entity);
        (s, e, entity)
    }

    /// The source ranges to replace by one mask character each, for extracted `[start, end)`:
    /// every character of visible text, every decoded reference (tags stay).
    fn mask_ranges(&self, text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
        let first = self.pieces.partition_point(|p| p.out + p.out_len <= start);
        for p in &self.pieces[first..] {
            if p.out >= end {
                break;
            }
            match p.kind {
                Kind::Break => {}
                Kind::Entity => out.push((p.src, p.src_end)),
                Kind::Copy => {
                    let s = p.src + start.saturating_sub(p.out);
                    let e = p.src + (end.min(p.out + p.out_len) - p.out);
                    let mut i = s;
                    for c in text[s..e].chars() {
                        out.push((i, i + c.len_utf8()));
                        i += c.len_utf8();
                    }
                }
            }
        }
    }
}

/// The visible text of an HTML document.
pub(crate) fn extract(src: &str) -> Extracted {
    let mut x = Extracted { text: String::with_capacity(src.len()), pieces: Vec::new() };
    let b = src.as_bytes();
    let mut i = 0;
    let mut run = 0; // start of pending verbatim text
    while i < b.len() {
        match b[i] {
            b'&' => {
                if let Some((c, len)) = entity_at(src, i) {
                    x.copy(src, run, i);
                    x.one(c, i, i + len, Kind::Entity);
                    i += len;
                    run = i;
                } else {
                    i += 1;
                }
            }
            b'<' => {
                let rest = &b[i + 1..];
                let end_of = |from: usize| b[from..].iter().position(|&c| c == b'>').map_or(b.len(), |p| from + p + 1);
                let (tag_end, name, closing) = if rest.starts_with(b"!--") {
                    let close = find_ci(&b[i + 4..], b"-->").map_or(b.len(), |p| i + 4 + p + 3);
                    (close, "", false)
                } else if rest.first().is_some_and(|c| *c == b'!' || *c == b'?') {
                    (end_of(i + 1), "", false)
                } else if rest.first() == Some(&b'/') && rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
                    let n = rest[1..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
                    (end_of(i + 2), &src[i + 2..i + 2 + n], true)
                } else if rest.first().is_some_and(u8::is_ascii_alphabetic) {
                    let n = rest.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
                    // Skip attributes, honouring quotes.
                    let mut j = i + 1 + n;
                    let mut quote = None;
                    while j < b.len() {
                        match (quote, b[j]) {
                            (None, b'>') => break,
                            (None, q @ (b'"' | b'\'')) => quote = Some(q),
                            (Some(q), c) if c == q => quote = None,
                            _ => {}
                        }
                        j += 1;
                    }
                    ((j + 1).min(b.len()), &src[i + 1..i + 1 + n], false)
                } else {
                    // A lone `<` is text.
                    i += 1;
                    continue;
                };
                x.copy(src, run, i);
                let lower = name.to_ascii_lowercase();
                let mut next = tag_end;
                if !closing && (lower == "script" || lower == "style") {
                    // Raw text up to the matching end tag.
                    let close = format!("</{lower}");
                    next = match find_ci(&b[tag_end..], close.as_bytes()) {
                        Some(p) => end_of(tag_end + p),
                        None => b.len(),
                    };
                } else if BLOCK.contains(&lower.as_str()) {
                    x.one('\n', i, tag_end, Kind::Break);
                }
                i = next;
                run = i;
            }
            _ => i += 1,
        }
    }
    x.copy(src, run, b.len());
    x
}

/// (chars, UTF-16 units) before each of the sorted byte offsets `points` of `s`.
fn units_at(s: &str, points: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(points.len());
    let (mut chars, mut utf16, mut pos) = (0, 0, 0);
    let mut it = s.char_indices().peekable();
    for &p in points {
        while let Some(&(i, c)) = it.peek() {
            if i >= p {
                break;
            }
            chars += 1;
            utf16 += c.len_utf16();
            pos = i + c.len_utf8();
            it.next();
        }
        let _ = pos;
        out.push((chars, utf16));
    }
    out
}

/// Maps hits found in the extracted text back onto the source field.
pub(crate) fn map_hits(src: &str, x: &Extracted, hits: &mut [Hit]) {
    let mut points = Vec::with_capacity(hits.len() * 2);
    for h in hits.iter_mut() {
        let (s, e, entity) = x.map_back(h.span.bytes[0], h.span.bytes[1]);
        h.span.bytes = [s, e];
        if entity {
            h.flags |= Flags::ENTITY;
        }
        h.matched = src[s..e].to_string();
        points.extend([s, e]);
    }
    points.sort_unstable();
    points.dedup();
    let units = units_at(src, &points);
    let at = |p: usize| units[points.binary_search(&p).expect("counted")];
    for h in hits.iter_mut() {
        let [s, e] = h.span.bytes;
        let ((cs, us), (ce, ue)) = (at(s), at(e));
        h.span = Span { bytes: [s, e], chars: [cs, ce], utf16: [us, ue] };
    }
}

/// The field with the visible text of every hit masked (tags kept). `hits` are the hits in
/// extracted-text offsets.
pub(crate) fn mask(src: &str, x: &Extracted, extracted_spans: &[[usize; 2]], mask: char) -> String {
    let mut ranges = Vec::new();
    for &[s, e] in extracted_spans {
        x.mask_ranges(src, s, e, &mut ranges);
    }
    ranges.sort_unstable();
    ranges.dedup();
    let mut out = String::with_capacity(src.len());
    let mut pos = 0;
    for (s, e) in ranges {
        if s < pos {
            continue;
        }
        out.push_str(&src[pos..s]);
        out.push(mask);
        pos = e;
    }
    out.push_str(&src[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text() {
        let src = "<p class=\"a>b\">网上&#36172;<b>博</b></p><script>var x='赌博';</script><!-- 赌博 --><style>p{}</style>结束 &amp; a < b<i";
        let x = extract(src);
        assert_eq!(x.text, "\n网上赌博\n结束 & a < b");
    }

    #[test]
    fn spans_map_back() {
        let src = "<p>网上&#36172;<b>博</b>平台</p>";
        let x = extract(src);
        let s = x.text.find("赌").unwrap();
        let e = x.text.find("平").unwrap();
        let (bs, be, entity) = x.map_back(s, e);
        assert_eq!(&src[bs..be], "&#36172;<b>博");
        assert!(entity);
        let (bs, be, entity) = x.map_back(x.text.find("网").unwrap(), s);
        assert_eq!(&src[bs..be], "网上");
        assert!(!entity);
        let masked = mask(src, &x, &[[s, e]], '*');
        assert_eq!(masked, "<p>网上*<b>*</b>平台</p>");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for src in ["<", "<a", "<a href='", "&#", "&#x;", "&#99999999999;", "<!--", "<script>", "</", "<p>&amp", "&"] {
            let x = extract(src);
            let _ = x.map_back(0, x.text.len());
        }
        assert_eq!(extract("&#0;&#xD800;").text, "\u{fffd}\u{fffd}");
    }
}
