//! Decoding a byte range to UTF-8 while keeping the map back to the original bytes.

use std::ops::Range;

use encoding_rs::{DecoderResult, Encoding, UTF_8};

use crate::escapes::{self, Escapes};
use crate::map::{MapBuilder, PieceKind};

/// Appends UTF-8 text `s` found at original offset `orig`, decoding the escapes of `esc`.
fn push_text(s: &str, orig: usize, esc: Escapes, fallback: &'static Encoding, b: &mut MapBuilder) {
    if esc.is_empty() {
        b.push_same(s, orig);
        return;
    }
    let bytes = s.as_bytes();
    let [c1, c2, c3] = esc.starters();
    if memchr::memchr3(c1, c2, c3, bytes).is_none() {
        b.push_same(s, orig);
        return;
    }
    let mut pos = 0;
    let mut tmp = String::new();
    while pos < bytes.len() {
        let Some(at) = memchr::memchr3(c1, c2, c3, &bytes[pos..]).map(|i| pos + i) else {
            b.push_same(&s[pos..], orig + pos);
            return;
        };
        b.push_same(&s[pos..at], orig + pos);
        tmp.clear();
        match escapes::parse(&bytes[at..], esc, fallback, &mut tmp) {
            Some(n) => {
                b.push_mapped(&tmp, orig + at..orig + at + n, PieceKind::Escape);
                pos = at + n;
            }
            None => {
                b.push_same(&s[at..at + 1], orig + at);
                pos = at + 1;
            }
        }
    }
}

/// Appends UTF-8 text `s` found at original offset `orig` of a UTF-8 source (already
/// validated), decoding the escapes of `esc`: what [`decode_into`] does with a valid range.
pub(crate) fn push_valid(s: &str, orig: usize, esc: Escapes, b: &mut MapBuilder) {
    push_text(s, orig, esc, UTF_8, b);
}

/// Decodes `src[range]` from `enc` into `b`, decoding escapes of `esc` on the way. Returns
/// the number of invalid (or truncated) byte sequences replaced by U+FFFD.
pub(crate) fn decode_into(
    src: &[u8],
    range: Range<usize>,
    enc: &'static Encoding,
    esc: Escapes,
    b: &mut MapBuilder,
) -> usize {
    let range = range.start.min(src.len())..range.end.min(src.len());
    let bytes = &src[range.clone()];
    let base = range.start;
    let mut invalid = 0;
    if enc == UTF_8 {
        // SIMD validation: std's is several times slower on text that is not ASCII.
        if let Ok(t) = simdutf8::basic::from_utf8(bytes) {
            push_text(t, base, esc, enc, b);
            return 0;
        }
        let mut pos = base;
        for chunk in bytes.utf8_chunks() {
            push_text(chunk.valid(), pos, esc, enc, b);
            pos += chunk.valid().len();
            let bad = chunk.invalid();
            if !bad.is_empty() {
                b.push_mapped("\u{FFFD}", pos..pos + bad.len(), PieceKind::Decoded);
                invalid += 1;
                pos += bad.len();
            }
        }
        return invalid;
    }
    let ascii_fast = enc.is_ascii_compatible();
    let mut dec = enc.new_decoder_without_bom_handling();
    let mut tmp = String::with_capacity(16);
    let (mut i, mut char_start, mut pending) = (0usize, 0usize, false);
    while i < bytes.len() {
        if ascii_fast && !pending && bytes[i] < 0x80 {
            let end = bytes[i..].iter().position(|&x| x >= 0x80).map_or(bytes.len(), |p| i + p);
            let s = std::str::from_utf8(&bytes[i..end]).expect("ASCII is UTF-8");
            push_text(s, base + i, esc, enc, b);
            i = end;
            continue;
        }
        if !pending {
            char_start = i;
        }
        tmp.clear();
        tmp.reserve(16);
        let (res, _) = dec.decode_to_string_without_replacement(&bytes[i..i + 1], &mut tmp, false);
        i += 1;
        match res {
            DecoderResult::InputEmpty | DecoderResult::OutputFull => {
                if tmp.is_empty() {
                    pending = true;
                } else {
                    b.push_mapped(&tmp, base + char_start..base + i, PieceKind::Decoded);
                    pending = false;
                }
            }
            DecoderResult::Malformed(_, extra) => {
                // An ASCII byte that broke a sequence is read again on its own.
                let reread = if bytes[i - 1] < 0x80 && i - 1 > char_start { 1 } else { extra as usize };
                let bad_end = (i - reread).max(char_start + 1);
                if !tmp.is_empty() {
                    b.push_mapped(&tmp, base + char_start..base + char_start, PieceKind::Decoded);
                }
                b.push_mapped("\u{FFFD}", base + char_start..base + bad_end, PieceKind::Decoded);
                invalid += 1;
                i = bad_end;
                pending = false;
                dec = enc.new_decoder_without_bom_handling();
            }
        }
    }
    if pending {
        // A truncated sequence at the end.
        b.push_mapped("\u{FFFD}", base + char_start..base + bytes.len(), PieceKind::Decoded);
        invalid += 1;
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{BIG5, GBK, UTF_16LE};

    fn dec(src: &[u8], enc: &'static Encoding, esc: Escapes) -> (String, crate::OffsetMap, usize) {
        let mut b = MapBuilder::default();
        let n = decode_into(src, 0..src.len(), enc, esc, &mut b);
        let (t, m) = b.finish();
        (t, m, n)
    }

    #[test]
    fn gbk_maps_each_char() {
        let (src, _, _) = GBK.encode("ab赌博c");
        let (t, m, n) = dec(&src, GBK, Escapes::NONE);
        assert_eq!((t.as_str(), n), ("ab赌博c", 0));
        let s = t.find("赌博").unwrap();
        assert_eq!(m.to_orig(s..s + "赌博".len()), 2..6);
        assert_eq!(m.to_orig(t.len() - 1..t.len()), 6..7);
    }

    #[test]
    fn big5_trail_backslash_is_not_an_escape() {
        let (src, _, _) = BIG5.encode("許功蓋\\u0041");
        assert!(src.contains(&b'\\'));
        let (t, _, n) = dec(&src, BIG5, Escapes::ALL);
        assert_eq!((t.as_str(), n), ("許功蓋A", 0));
    }

    #[test]
    fn truncated_and_invalid() {
        let mut src = GBK.encode("赌博").0.into_owned();
        src.truncate(3);
        let (t, m, n) = dec(&src, GBK, Escapes::NONE);
        assert_eq!((t.as_str(), n), ("赌\u{FFFD}", 1));
        assert_eq!(m.to_orig(3..6), 2..3);
        let (t, _, n) = dec(b"a\x81<b", GBK, Escapes::NONE);
        assert_eq!((t.as_str(), n), ("a\u{FFFD}<b", 1));
        let (t, _, n) = dec(b"ok\xE8\xB5", UTF_8, Escapes::NONE);
        assert_eq!((t.as_str(), n), ("ok\u{FFFD}", 1));
    }

    #[test]
    fn utf16_and_escapes() {
        let src: Vec<u8> = "a赌".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let (t, m, _) = dec(&src, UTF_16LE, Escapes::NONE);
        assert_eq!(t, "a赌");
        assert_eq!(m.to_orig(1..4), 2..4);
        let (t, m, _) = dec("x&#36172;博".as_bytes(), UTF_8, Escapes::HTML);
        assert_eq!(t, "x赌博");
        assert_eq!(m.to_orig(1..4), 1..9);
        assert_eq!(m.to_orig(1..7), 1..12);
    }
}
