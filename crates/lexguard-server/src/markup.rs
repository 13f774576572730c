//! HTML and markdown fields, read by `lexguard-extract`: the field becomes decoded text
//! segments (visible text with inline elements joined and block elements separated, the
//! title, `alt`/`title` attributes, meta description and keywords, link targets, script string
//! literals and comments, style bodies), each with an exact map back to the field's bytes.
//! Hits found in the segments are mapped back onto the submitted field, so that their spans
//! (bytes, chars, UTF-16 units) and `matched` index the text the client sent.

use std::borrow::Cow;
use std::sync::OnceLock;

use lexguard::{Hit, Span};
use lexguard_extract::{Encoding, Extractor, Options, PieceKind, Segment, SegmentKind};

use crate::engine::Snapshot;

/// The hits of one markup field, in order of position in the field.
pub(crate) struct FieldHits {
    pub hits: Vec<Hit>,
    /// The segment of each hit (`text`, `title`, `attr:alt`, `url`, `script`, …).
    pub segments: Vec<Cow<'static, str>>,
    /// The field with every hit masked, when asked.
    pub masked: Option<String>,
}

/// The field is a JSON string, so it is UTF-8 whatever a `<meta charset>` inside it says.
fn extractor() -> &'static Extractor {
    static X: OnceLock<Extractor> = OnceLock::new();
    X.get_or_init(|| Extractor::new(Options::default().encoding(Encoding::for_label(b"utf-8"))))
}

/// Whether a segment is checked: everything but style sheets, which hold no text for readers.
fn checked(kind: &SegmentKind) -> bool {
    *kind != SegmentKind::Style
}

/// How a markup field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Markup {
    Html,
    /// Read as HTML (CommonMark passes inline HTML and character references through), plus
    /// its autolinks `<https://…>` and `<name@host>`, which an HTML parser takes for tags.
    Markdown,
}

/// Checks an HTML or markdown field.
pub(crate) fn check(snap: &Snapshot, field: &str, src: &str, markup: Markup, mask: Option<char>) -> FieldHits {
    let doc = extractor().html(src.as_bytes());
    let mut found: Vec<(Hit, Cow<'static, str>)> = Vec::new();
    let mut to_mask: Vec<(usize, usize, usize)> = Vec::new();
    if markup == Markup::Markdown {
        for link in autolinks(src) {
            for mut hit in snap.hits(field, &src[link.clone()]) {
                let (s, e) = (link.start + hit.span.bytes[0], link.start + hit.span.bytes[1]);
                if mask.is_some() {
                    to_mask.extend(src[s..e].char_indices().map(|(i, c)| (s + i, s + i + c.len_utf8(), 1)));
                }
                hit.span.bytes = [s, e];
                hit.matched = src[s..e].into();
                found.push((hit, Cow::Borrowed("url")));
            }
        }
    }
    for seg in doc.segments.iter().filter(|s| checked(&s.kind)) {
        for mut hit in snap.hits(field, &seg.text) {
            let range = hit.span.bytes[0]..hit.span.bytes[1];
            if mask.is_some() {
                mask_ranges(seg, range.clone(), &mut to_mask);
            }
            let orig = seg.orig_range(range.clone());
            let (s, e) = (floor_char(src, orig.start), ceil_char(src, orig.end));
            hit.flags |= seg.flags_in(range);
            hit.span.bytes = [s, e.max(s)];
            hit.matched = src[s..e.max(s)].into();
            found.push((hit, seg.kind.name()));
        }
    }
    found.sort_by_key(|(h, _)| (h.span.bytes[0], h.span.bytes[1]));
    let (mut hits, segments): (Vec<Hit>, Vec<_>) = found.into_iter().unzip();
    set_units(src, &mut hits);
    let masked = mask.map(|c| apply_mask(src, to_mask, c));
    FieldHits { hits, segments, masked }
}

/// The byte ranges of the targets of the CommonMark autolinks in `src`: `<scheme:…>` (a scheme
/// of 2–32 letters, digits, `+`, `.` or `-` starting with a letter, then anything but spaces,
/// controls and angle brackets) and `<local@domain>`.
fn autolinks(src: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let bytes = src.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(i) = bytes[at..].iter().position(|&b| b == b'<').map(|i| at + i) {
            at = i + 1;
            let rest = &src[i + 1..];
            let Some(len) = rest.find(['>', '<']).filter(|&n| rest.as_bytes()[n] == b'>') else { continue };
            let inner = &rest[..len];
            if is_uri_autolink(inner) || is_email_autolink(inner) {
                at = i + 1 + len + 1;
                return Some(i + 1..i + 1 + len);
            }
        }
        None
    })
}

fn is_uri_autolink(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else { return false };
    (2..=32).contains(&scheme.len())
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        && !s.chars().any(|c| c.is_ascii_control() || c == ' ')
}

fn is_email_autolink(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b))
        && !domain.is_empty()
        && domain.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The original ranges to replace for the segment text `range`, each with the number of mask
/// characters: one per character of text copied from the field, one per decoded character
/// for an entity or escape (which is replaced whole); markup and inserted line breaks stay.
fn mask_ranges(seg: &Segment, range: std::ops::Range<usize>, out: &mut Vec<(usize, usize, usize)>) {
    let pieces = seg.map.pieces();
    let first = pieces.partition_point(|p| p.text <= range.start).saturating_sub(1);
    for (i, p) in pieces.iter().enumerate().skip(first) {
        let end = pieces.get(i + 1).map_or(seg.map.text_len(), |n| n.text);
        if p.text >= range.end {
            break;
        }
        if end <= range.start {
            continue;
        }
        match p.kind {
            PieceKind::Inserted => {}
            PieceKind::Same => {
                let (s, e) = (range.start.max(p.text), range.end.min(end));
                let Some(text) = seg.text.get(s..e) else { continue };
                let mut at = p.orig + (s - p.text);
                for c in text.chars() {
                    out.push((at, at + c.len_utf8(), 1));
                    at += c.len_utf8();
                }
            }
            _ => {
                let n = seg.text.get(p.text..end).map_or(1, |t| t.chars().count().max(1));
                out.push((p.orig, p.orig + p.orig_len, n));
            }
        }
    }
}

fn apply_mask(src: &str, mut ranges: Vec<(usize, usize, usize)>, mask: char) -> String {
    ranges.sort_unstable();
    ranges.dedup();
    let mut out = String::with_capacity(src.len());
    let mut pos = 0;
    for (s, e, n) in ranges {
        let (s, e) = (floor_char(src, s), ceil_char(src, e));
        if s < pos || e <= s {
            continue;
        }
        out.push_str(&src[pos..s]);
        out.extend(std::iter::repeat_n(mask, n));
        pos = e;
    }
    out.push_str(&src[pos..]);
    out
}

/// Sets the char and UTF-16 spans of hits whose byte spans index `src`, in one pass.
fn set_units(src: &str, hits: &mut [Hit]) {
    let mut points: Vec<usize> = hits.iter().flat_map(|h| h.span.bytes).collect();
    points.sort_unstable();
    points.dedup();
    let mut units = Vec::with_capacity(points.len());
    let (mut chars, mut utf16) = (0, 0);
    let mut it = src.char_indices().peekable();
    for &p in &points {
        while let Some(&(i, c)) = it.peek() {
            if i >= p {
                break;
            }
            chars += 1;
            utf16 += c.len_utf16();
            it.next();
        }
        units.push((chars, utf16));
    }
    let at = |p: usize| units[points.binary_search(&p).expect("every point was counted")];
    for h in hits {
        let [s, e] = h.span.bytes;
        let ((cs, us), (ce, ue)) = (at(s), at(e));
        h.span = Span { bytes: [s, e], chars: [cs, ce], utf16: [us, ue] };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_commonmark_autolinks() {
        let md = "见 <https://x.example/在线赌场?a=1> 或 <mailto:a@b.cn>、<vip@win-888.com>；\
                  不是：<b>粗</b> <a href=\"x\"> <1:x> <http://a b> <@x.cn> <a@-x.cn> <x:y<z>";
        let found: Vec<&str> = autolinks(md).map(|r| &md[r]).collect();
        assert_eq!(found, ["https://x.example/在线赌场?a=1", "mailto:a@b.cn", "vip@win-888.com"]);
    }
}
