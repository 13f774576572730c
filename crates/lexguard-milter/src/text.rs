//! Bytes → text: charset labels, detection, the charsets encoding_rs does not decode (HZ and
//! ISO-2022-CN), and the visible text of HTML.
//!
//! This is the one module that knows how text is decoded; it delegates detection, decoding and
//! HTML extraction to `lexguard-extract` (chardetng and encoding_rs underneath), so that the
//! milter reads mail the same way `lexguard scan` reads files.

use std::ops::Range;

use encoding_rs::{BIG5, EUC_JP, EUC_KR, Encoding, GB18030, GBK, SHIFT_JIS, UTF_8, WINDOWS_1252};
use lexguard::Flags;
use lexguard_extract::{Options, Segment, SegmentKind};

/// How a declared charset label reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    Known(&'static Encoding),
    /// HZ-GB-2312 (RFC 1843): encoding_rs maps it to the replacement encoding.
    Hz,
    /// ISO-2022-CN (RFC 1922): likewise.
    Iso2022Cn,
    /// Missing, unknown, or mapped to the replacement encoding.
    Unknown,
}

fn label(declared: Option<&str>) -> Label {
    let Some(l) = declared.map(str::trim).filter(|l| !l.is_empty()) else { return Label::Unknown };
    // The common case, without lower-casing and a table look-up.
    if l.trim_matches('"').eq_ignore_ascii_case("utf-8") {
        return Label::Known(UTF_8);
    }
    let lower = l.trim_matches('"').to_ascii_lowercase();
    match lower.as_str() {
        "hz-gb-2312" | "hz" | "hz-gb" => return Label::Hz,
        "iso-2022-cn" | "iso-2022-cn-ext" | "csiso2022cn" => return Label::Iso2022Cn,
        // Mail from Chinese clients labels GBK text as gb2312; GB18030 reads all three.
        "gb2312" | "gbk" | "gb18030" | "x-gbk" | "cp936" | "euc-cn" | "csgb2312" | "gb_2312-80" | "chinese" => {
            return Label::Known(GB18030);
        }
        "big5" | "big5-hkscs" | "cn-big5" | "x-x-big5" | "csbig5" | "cp950" => return Label::Known(BIG5),
        _ => {}
    }
    match Encoding::for_label(lower.as_bytes()) {
        Some(e) if e.name() == "replacement" => Label::Unknown,
        Some(e) => Label::Known(e),
        None => Label::Unknown,
    }
}

fn is_cjk(e: &'static Encoding) -> bool {
    [GBK, GB18030, BIG5, EUC_JP, EUC_KR, SHIFT_JIS].contains(&e)
}

/// Detects the encoding of undeclared bytes (TLD hint `cn`).
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    lexguard_extract::detect(bytes, Some("cn"), 64 * 1024).0
}

/// The encoding to read `bytes` with, given the declared label: the declared one unless it
/// is missing, unknown or plainly wrong (invalid UTF-8, or CJK bytes labelled as Latin).
fn choose(bytes: &[u8], declared: Option<&str>) -> Label {
    let non_ascii = bytes.iter().any(|&b| b >= 0x80);
    match label(declared) {
        Label::Known(e) if e == UTF_8 => {
            if !non_ascii || std::str::from_utf8(bytes).is_ok() {
                Label::Known(UTF_8)
            } else {
                Label::Known(detect(bytes))
            }
        }
        Label::Known(e) if e == WINDOWS_1252 || e.name().starts_with("ISO-8859") => {
            if !non_ascii {
                return Label::Known(e);
            }
            let d = detect(bytes);
            if is_cjk(d) || d == UTF_8 { Label::Known(d) } else { Label::Known(e) }
        }
        Label::Known(e) => Label::Known(e),
        Label::Hz => Label::Hz,
        Label::Iso2022Cn => Label::Iso2022Cn,
        Label::Unknown => {
            if !non_ascii && looks_like_hz(bytes) {
                Label::Hz
            } else if !non_ascii && memchr::memmem::find(bytes, b"\x1b$)A").is_some() {
                Label::Iso2022Cn
            } else {
                Label::Known(detect(bytes))
            }
        }
    }
}

/// Decodes bytes with the declared charset (or a detected one); returns the text and the name
/// of the encoding used.
pub fn decode(bytes: &[u8], declared: Option<&str>) -> (String, &'static str) {
    // Valid text labelled UTF-8 (the common case) is read as it is, validated once.
    if label(declared) == Label::Known(UTF_8) {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return (s.strip_prefix('\u{feff}').unwrap_or(s).to_owned(), UTF_8.name());
        }
    }
    match choose(bytes, declared) {
        Label::Hz => (decode_hz(bytes), "HZ-GB-2312"),
        Label::Iso2022Cn => (decode_iso2022cn(bytes), "ISO-2022-CN"),
        Label::Known(e) => {
            // A byte order mark wins over the label.
            let (e, bom) = Encoding::for_bom(bytes).unwrap_or((e, 0));
            let body = &bytes[bom..];
            if e == UTF_8 {
                if let Ok(s) = std::str::from_utf8(body) {
                    return (s.to_owned(), UTF_8.name());
                }
            }
            (e.decode_without_bom_handling(body).0.into_owned(), e.name())
        }
        Label::Unknown => unreachable!("choose() resolves unknown labels"),
    }
}

/// Decodes with an encoding chosen by the caller (used for raw 8-bit headers, where the whole
/// header block is detected at once).
pub fn decode_with(bytes: &[u8], e: &'static Encoding) -> String {
    e.decode_without_bom_handling(bytes).0.into_owned()
}

/// A piece of text to check, with the flags extraction adds to hits inside it.
#[derive(Debug)]
pub enum Piece {
    /// Plain text.
    Plain(String),
    /// A segment of HTML text.
    Html(Segment),
}

impl Piece {
    /// The text.
    pub fn text(&self) -> &str {
        match self {
            Piece::Plain(t) => t,
            Piece::Html(s) => &s.text,
        }
    }

    /// Flags for a hit at `range` of the text: `entity` when an HTML entity was decoded there.
    pub fn flags_in(&self, range: Range<usize>) -> Flags {
        match self {
            Piece::Plain(_) => Flags::empty(),
            Piece::Html(s) => s.flags_in(range),
        }
    }
}

/// The visible text of an HTML part: text, title, `alt`/`title` attributes, meta description
/// and keywords (not scripts, styles or link targets).
pub fn html(bytes: &[u8], declared: Option<&str>) -> (Vec<Piece>, &'static str) {
    let (owned, enc): (Option<String>, &'static Encoding) = match choose(bytes, declared) {
        Label::Hz => (Some(decode_hz(bytes)), UTF_8),
        Label::Iso2022Cn => (Some(decode_iso2022cn(bytes)), UTF_8),
        Label::Known(e) => (None, e),
        Label::Unknown => (None, UTF_8),
    };
    let src = owned.as_deref().map_or(bytes, str::as_bytes);
    let doc = lexguard_extract::extract_html(src, &Options::default().encoding(Some(enc)));
    let name = match choose(bytes, declared) {
        Label::Hz => "HZ-GB-2312",
        Label::Iso2022Cn => "ISO-2022-CN",
        _ => doc.charset.encoding.name(),
    };
    let pieces = doc
        .segments
        .into_iter()
        .filter(|s| matches!(s.kind, SegmentKind::Text | SegmentKind::Title | SegmentKind::Attr { .. }))
        .map(Piece::Html)
        .collect();
    (pieces, name)
}

fn looks_like_hz(bytes: &[u8]) -> bool {
    let Some(open) = memchr::memmem::find(bytes, b"~{") else { return false };
    let rest = &bytes[open + 2..];
    let close = memchr::memmem::find(rest, b"~}").unwrap_or(rest.len());
    close >= 2 && close % 2 == 0 && rest[..close].iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Decodes a GB2312 row/cell pair given as 7-bit bytes.
fn gb2312_pair(b1: u8, b2: u8, out: &mut String) {
    let pair = [b1 | 0x80, b2 | 0x80];
    let (s, _) = GBK.decode_without_bom_handling(&pair);
    out.push_str(&s);
}

/// HZ-GB-2312 (RFC 1843): `~{` switches to GB2312 (7-bit pairs), `~}` back to ASCII, `~~` is
/// a tilde, `~` at the end of a line continues it.
pub fn decode_hz(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut gb = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'~' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'{' => {
                    gb = true;
                    i += 2;
                    continue;
                }
                b'}' => {
                    gb = false;
                    i += 2;
                    continue;
                }
                b'~' if !gb => {
                    out.push('~');
                    i += 2;
                    continue;
                }
                b'\n' if !gb => {
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        if b == b'\n' || b == b'\r' {
            gb = false;
            out.push(b as char);
            i += 1;
        } else if gb && i + 1 < bytes.len() && (0x21..=0x7e).contains(&b) && (0x21..=0x7e).contains(&bytes[i + 1]) {
            gb2312_pair(b, bytes[i + 1], &mut out);
            i += 2;
        } else if b < 0x80 {
            out.push(b as char);
            i += 1;
        } else {
            out.push('\u{fffd}');
            i += 1;
        }
    }
    out
}

/// ISO-2022-CN (RFC 1922), the GB2312 part: `ESC $ ) A` designates GB2312 (or `ESC $ ) E`,
/// ISO-IR-165, read as GB2312) to G1, SO/SI shift in and out; CNS 11643 planes (`ESC $ ) G`,
/// `ESC $ * H`, SS2/SS3) have no table here and read as U+FFFD. Designations end with the line.
pub fn decode_iso2022cn(bytes: &[u8]) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum G1 {
        None,
        Gb,
        Cns,
    }
    let mut out = String::with_capacity(bytes.len());
    let mut g1 = G1::None;
    let mut shifted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0x1b => {
                let seq = &bytes[i + 1..bytes.len().min(i + 4)];
                match seq {
                    [b'$', b')', b'A', ..] | [b'$', b')', b'E', ..] => {
                        g1 = G1::Gb;
                        i += 4;
                    }
                    [b'$', b')', b'G', ..] => {
                        g1 = G1::Cns;
                        i += 4;
                    }
                    [b'$', b'*', _, ..] | [b'$', b'+', _, ..] => i += 4,
                    [b'N', _, _, ..] | [b'O', _, _, ..] => {
                        // SS2 / SS3 and one character of CNS plane 2+.
                        out.push('\u{fffd}');
                        i += 4;
                    }
                    _ => {
                        out.push('\u{fffd}');
                        i += 1;
                    }
                }
            }
            0x0e => {
                shifted = true;
                i += 1;
            }
            0x0f => {
                shifted = false;
                i += 1;
            }
            b'\r' | b'\n' => {
                shifted = false;
                g1 = G1::None;
                out.push(b as char);
                i += 1;
            }
            _ if shifted
                && i + 1 < bytes.len()
                && (0x21..=0x7e).contains(&b)
                && (0x21..=0x7e).contains(&bytes[i + 1]) =>
            {
                match g1 {
                    G1::Gb => gb2312_pair(b, bytes[i + 1], &mut out),
                    _ => out.push('\u{fffd}'),
                }
                i += 2;
            }
            _ if b < 0x80 => {
                out.push(b as char);
                i += 1;
            }
            _ => {
                out.push('\u{fffd}');
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_labels() {
        let (gbk, _, _) = GBK.encode("澳门赌场欢迎你");
        assert_eq!(decode(&gbk, Some("gb2312")).0, "澳门赌场欢迎你");
        let (big5, _, _) = BIG5.encode("澳門賭場歡迎你");
        assert_eq!(decode(&big5, Some("big5")).0, "澳門賭場歡迎你");
        assert_eq!(decode("普通文本".as_bytes(), Some("utf-8")).0, "普通文本");
    }

    #[test]
    fn wrong_or_missing_labels_are_detected() {
        let (gbk, _, _) = GBK.encode("这是一个关于在线赌场的广告，请勿相信。");
        assert_eq!(decode(&gbk, None).0, "这是一个关于在线赌场的广告，请勿相信。");
        assert_eq!(decode(&gbk, Some("us-ascii")).0, "这是一个关于在线赌场的广告，请勿相信。");
        assert_eq!(decode(&gbk, Some("utf-8")).0, "这是一个关于在线赌场的广告，请勿相信。");
        assert_eq!(decode(&gbk, Some("x-unknown-charset")).0, "这是一个关于在线赌场的广告，请勿相信。");
    }

    #[test]
    fn hz_and_iso2022cn() {
        // 赌博 in GB2312 is B6C4 B2A9.
        assert_eq!(decode(b"abc ~{6D2)~} def ~~", Some("hz-gb-2312")).0, "abc 赌博 def ~");
        assert_eq!(decode(b"abc ~{6D2)~} def", None).0, "abc 赌博 def");
        assert_eq!(decode(b"x \x1b$)A\x0e6D2)\x0f y", Some("iso-2022-cn")).0, "x 赌博 y");
        // CNS planes have no table: replacement characters, no panic.
        assert!(decode(b"\x1b$)G\x0e!!\x0f", Some("iso-2022-cn")).0.contains('\u{fffd}'));
        // Truncated escapes.
        let _ = decode(b"\x1b", Some("iso-2022-cn"));
        let _ = decode(b"\x1b$", Some("iso-2022-cn"));
        let _ = decode(b"~", Some("hz-gb-2312"));
        let _ = decode(b"~{6", Some("hz-gb-2312"));
    }

    #[test]
    fn html_text_and_entities() {
        let (gbk, _, _) =
            GBK.encode("<html><title>通知</title><p>网上&#36172;博</p><script>var a='赌博';</script></html>");
        let (pieces, enc) = html(&gbk, Some("gbk"));
        assert_eq!(enc, "gb18030");
        let texts: Vec<&str> = pieces.iter().map(Piece::text).collect();
        assert!(texts.contains(&"网上赌博"), "{texts:?}");
        assert!(!texts.iter().any(|t| t.contains("var a")));
        let p = pieces.iter().find(|p| p.text() == "网上赌博").unwrap();
        assert!(p.flags_in(6..12).contains(Flags::ENTITY));
    }
}
