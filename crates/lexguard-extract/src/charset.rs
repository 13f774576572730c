//! Which encoding a document is in: byte order mark, then `<meta charset>` /
//! `http-equiv`, then the XML declaration, then detection (chardetng) with a TLD hint.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::html::parse_tag;

/// How the encoding was determined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CharsetSource {
    /// Given by the caller.
    Given,
    /// A byte order mark.
    Bom,
    /// `<meta charset>` or `<meta http-equiv="Content-Type" content="…; charset=…">`.
    Meta,
    /// `<?xml version="1.0" encoding="…"?>`.
    XmlDeclaration,
    /// The bytes are valid UTF-8 (or plain ASCII).
    Utf8Valid,
    /// Detected from the bytes (chardetng).
    Detected,
}

impl CharsetSource {
    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CharsetSource::Given => "given",
            CharsetSource::Bom => "bom",
            CharsetSource::Meta => "meta",
            CharsetSource::XmlDeclaration => "xml",
            CharsetSource::Utf8Valid => "utf8",
            CharsetSource::Detected => "detected",
        }
    }
}

/// A document's encoding and how it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charset {
    /// The encoding.
    pub encoding: &'static Encoding,
    /// How it was found.
    pub source: CharsetSource,
    /// Length of the byte order mark (skipped when decoding).
    pub bom_len: usize,
}

/// How much of the start of a document is searched for a `<meta>` charset.
const META_WINDOW: usize = 8 * 1024;

/// An encoding label as found in a document, with the HTML rules for labels that cannot be
/// right in a document that was parsed as ASCII (UTF-16 → UTF-8, x-user-defined → windows-1252).
fn label(l: &[u8]) -> Option<&'static Encoding> {
    let e = Encoding::for_label(l.trim_ascii())?;
    Some(if e == UTF_16LE || e == UTF_16BE {
        UTF_8
    } else if e.name() == "x-user-defined" {
        WINDOWS_1252
    } else {
        e
    })
}

/// The charset named by `content="text/html; charset=gbk"`.
fn charset_in_content(v: &[u8]) -> Option<&'static Encoding> {
    let lower = v.to_ascii_lowercase();
    let at = memchr::memmem::find(&lower, b"charset")?;
    let rest = lower[at + 7..].trim_ascii_start();
    let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let (rest, q) = match rest.first() {
        Some(&q @ (b'"' | b'\'')) => (&rest[1..], Some(q)),
        _ => (rest, None),
    };
    let end = rest
        .iter()
        .position(|&b| Some(b) == q || (q.is_none() && (b == b';' || b.is_ascii_whitespace())))
        .unwrap_or(rest.len());
    label(&rest[..end])
}

/// The encoding declared by a `<meta>` tag near the start of an HTML document.
pub fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let window = &bytes[..bytes.len().min(META_WINDOW)];
    let finder = memchr::memmem::Finder::new(b"<");
    let mut pos = 0;
    for at in finder.find_iter(window) {
        if at < pos {
            continue;
        }
        let rest = &window[at + 1..];
        if rest.len() < 4 || !rest[..4].eq_ignore_ascii_case(b"meta") {
            if rest.starts_with(b"!--") {
                // Skip comments.
                pos = memchr::memmem::find(&window[at..], b"-->").map_or(window.len(), |e| at + e + 3);
            }
            continue;
        }
        let Some((tag, end)) = parse_tag(window, at) else { continue };
        pos = end;
        let get = |n: &str| tag.attrs.iter().find(|a| a.name == n).and_then(|a| a.value.clone());
        if let Some(v) = get("charset") {
            if let Some(e) = label(&window[v]) {
                return Some(e);
            }
        }
        let is_ct = get("http-equiv").is_some_and(|v| window[v].trim_ascii().eq_ignore_ascii_case(b"content-type"));
        if is_ct {
            if let Some(e) = get("content").and_then(|v| charset_in_content(&window[v])) {
                return Some(e);
            }
        }
    }
    None
}

/// The encoding in an XML declaration at the start of the document.
pub fn xml_declaration(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(512)];
    let head = head.trim_ascii_start();
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = memchr::memmem::find(head, b"?>")?;
    let decl = &head[..end];
    let at = memchr::memmem::find(decl, b"encoding")?;
    let rest = decl[at + 8..].trim_ascii_start().strip_prefix(b"=")?.trim_ascii_start();
    let q = *rest.first()?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    let close = memchr::memchr(q, &rest[1..])?;
    label(&rest[1..1 + close])
}

/// Guesses the encoding of bytes without a declaration: valid UTF-8 (or ASCII) is UTF-8;
/// otherwise chardetng reads up to `limit` bytes from the first non-ASCII byte, with `tld`
/// (such as `cn`, `tw`, `jp`) as a hint.
pub fn detect(bytes: &[u8], tld: Option<&str>, limit: usize) -> (&'static Encoding, CharsetSource) {
    // SIMD validation first, of the whole text (ASCII is UTF-8 too): std's validator is several
    // times slower on text that is not ASCII, and a search for the first non-ASCII byte goes
    // byte by byte. Only invalid text needs std's, which says where the invalid sequence is.
    if simdutf8::basic::from_utf8(bytes).is_ok() {
        return (UTF_8, CharsetSource::Utf8Valid);
    }
    match std::str::from_utf8(bytes) {
        // A sequence cut off at the very end still reads as UTF-8.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > bytes.len().saturating_sub(4) => {
            return (UTF_8, CharsetSource::Utf8Valid);
        }
        _ => {}
    }
    let first = bytes.iter().position(|&b| b >= 0x80).unwrap_or(bytes.len());
    let start = first.saturating_sub(64);
    let end = (start + limit).min(bytes.len());
    let mut det = EncodingDetector::new(Iso2022JpDetection::Deny);
    det.feed(&bytes[start..end], end == bytes.len());
    let tld = tld.map(str::as_bytes).filter(|t| !t.is_empty() && t.iter().all(u8::is_ascii_alphanumeric));
    // The hint tips close calls; it must not turn clear Big5 into GBK (traditional pages
    // are common on .cn sites too), so a hint-free Big5 guess stands.
    let plain = det.guess(None, Utf8Detection::Allow);
    if plain == encoding_rs::BIG5 || tld.is_none() {
        return (plain, CharsetSource::Detected);
    }
    (det.guess(tld, Utf8Detection::Allow), CharsetSource::Detected)
}

/// The settings charset detection needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sniff<'a> {
    pub given: Option<&'static Encoding>,
    pub tld: Option<&'a str>,
    pub limit: usize,
    pub html: bool,
}

/// Determines the encoding of a document.
pub(crate) fn sniff(bytes: &[u8], s: Sniff<'_>) -> Charset {
    if let Some((e, n)) = Encoding::for_bom(bytes) {
        return Charset { encoding: e, source: CharsetSource::Bom, bom_len: n };
    }
    if let Some(e) = s.given {
        return Charset { encoding: e, source: CharsetSource::Given, bom_len: 0 };
    }
    // UTF-16 without a BOM: many NULs in alternate positions.
    if let Some(e) = utf16_guess(bytes) {
        return Charset { encoding: e, source: CharsetSource::Detected, bom_len: 0 };
    }
    if let Some(e) = xml_declaration(bytes) {
        return Charset { encoding: e, source: CharsetSource::XmlDeclaration, bom_len: 0 };
    }
    if s.html {
        if let Some(e) = meta_charset(bytes) {
            return Charset { encoding: e, source: CharsetSource::Meta, bom_len: 0 };
        }
    }
    let (encoding, source) = detect(bytes, s.tld, s.limit);
    Charset { encoding, source, bom_len: 0 }
}

/// Bytes looked at for a NUL by [`looks_binary`].
const BINARY_SNIFF: usize = 8192;

/// Whether `bytes` look like binary data rather than text: a NUL byte in the first 8 KiB,
/// unless they are UTF-16 text (a byte order mark, or ASCII characters each with a NUL on one
/// side), where every ASCII character comes with a NUL. Browsers show a UTF-16 page with a byte
/// order mark as any other: skipping it as binary would let a page hide from the scan by its
/// encoding alone.
pub fn looks_binary(bytes: &[u8]) -> bool {
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_none() {
        return false;
    }
    !has_utf16_bom(bytes) && utf16_guess(bytes).is_none()
}

/// Whether `bytes` start with a UTF-16 byte order mark (little- or big-endian).
pub fn has_utf16_bom(bytes: &[u8]) -> bool {
    Encoding::for_bom(bytes).is_some_and(|(e, _)| e == UTF_16LE || e == UTF_16BE)
}

/// UTF-16 text without a BOM: mostly ASCII characters with a NUL on one side.
fn utf16_guess(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(512) & !1];
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.chunks_exact(2).filter(|p| p[0] == 0 && p[1] != 0).count();
    let odd_nul = head.chunks_exact(2).filter(|p| p[1] == 0 && p[0] != 0).count();
    if odd_nul * 10 >= pairs * 9 {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 9 {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{BIG5, GB18030, GBK};

    #[test]
    fn utf16_text_is_not_binary() {
        let text = "<p>网上 text 上</p>\n";
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        let le_no_bom: Vec<u8> =
            "<html><body>plain ascii text</body></html>".encode_utf16().flat_map(u16::to_le_bytes).collect();
        for t in [&le, &be, &le_no_bom] {
            assert!(!looks_binary(t), "{t:?}");
        }
        assert!(!looks_binary(b"plain text"));
        assert!(looks_binary(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(looks_binary(b"<p>text with a \0 in it, and more text after it</p>"));
    }

    fn sn(b: &[u8]) -> Charset {
        sniff(b, Sniff { given: None, tld: Some("cn"), limit: 65536, html: true })
    }

    #[test]
    fn declarations() {
        assert_eq!(sn(b"<html><head><meta charset=gbk>").encoding, GBK);
        assert_eq!(sn(b"<meta http-equiv='Content-Type' content='text/html; charset=big5'>").encoding, BIG5);
        assert_eq!(sn(b"<META HTTP-EQUIV=\"content-type\" CONTENT=\"text/html;charset=GB2312\">").encoding, GBK);
        assert_eq!(sn(b"<?xml version=\"1.0\" encoding=\"GB18030\"?><a/>").encoding, GB18030);
        assert_eq!(sn(b"<!-- <meta charset=big5> --><p>x").source, CharsetSource::Utf8Valid);
        assert_eq!(sn(b"<meta charset=\"<?php bloginfo('charset'); ?>\">").source, CharsetSource::Utf8Valid);
        let c = sn(b"\xEF\xBB\xBFhi");
        assert_eq!((c.encoding, c.source, c.bom_len), (UTF_8, CharsetSource::Bom, 3));
    }

    #[test]
    fn detection() {
        let (gbk, _, _) = GBK.encode("<p>欢迎光临本站，这里有最新的新闻和评论，每天更新。</p>");
        assert_eq!(sn(&gbk).encoding, GBK);
        let (big5, _, _) = BIG5.encode("<p>歡迎光臨本站，這裡有最新的新聞和評論，每天更新。</p>");
        let c = sniff(&big5, Sniff { given: None, tld: Some("tw"), limit: 65536, html: true });
        assert_eq!(c.encoding, BIG5);
        assert_eq!(sn("中文 UTF-8".as_bytes()).encoding, UTF_8);
        assert_eq!(detect(b"plain ASCII <?php echo 1; ?>", Some("cn"), 65536), (UTF_8, CharsetSource::Utf8Valid));
        assert_eq!(detect(b"", Some("cn"), 65536), (UTF_8, CharsetSource::Utf8Valid));
        // UTF-8 cut off inside its last character (a file truncated by a copy) is still UTF-8.
        let cut = "文本被截断了".as_bytes();
        assert_eq!(detect(&cut[..cut.len() - 1], Some("cn"), 65536), (UTF_8, CharsetSource::Utf8Valid));
        // Cut off inside a character that is not the last: not UTF-8.
        let mut broken = cut[..4].to_vec();
        broken.extend_from_slice(&cut[6..]);
        assert_ne!(detect(&broken, Some("cn"), 65536).1, CharsetSource::Utf8Valid);
        let u16: Vec<u8> = "<p>hello</p>".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(sn(&u16).encoding, UTF_16LE);
    }
}
