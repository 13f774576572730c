//! Header text: RFC 2047 encoded-words in and out, and the transfer decodings (base64,
//! quoted-printable) shared with bodies.
//!
//! Decoding joins adjacent encoded-words of one charset at the byte level before the charset
//! decoding, so a multibyte character split across two words (as many mailers do with GBK and
//! UTF-8 subjects) decodes as one character. Raw 8-bit bytes outside encoded-words are decoded
//! with an encoding the caller detected for the whole header block.

use encoding_rs::Encoding;

use crate::text;

/// A streaming, lenient base64 decoder: skips characters outside the alphabet, `=` ends a
/// quantum. State carries across calls, so base64 split at any point decodes whole.
#[derive(Clone, Copy, Debug, Default)]
pub struct Base64 {
    acc: u32,
    bits: u8,
}

fn b64_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

impl Base64 {
    /// Decodes `input`, appending to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &c in input {
            if c == b'=' {
                self.acc = 0;
                self.bits = 0;
                continue;
            }
            let Some(v) = b64_value(c) else { continue };
            self.acc = (self.acc << 6) | v;
            self.bits += 6;
            if self.bits >= 8 {
                self.bits -= 8;
                out.push((self.acc >> self.bits) as u8);
                self.acc &= (1 << self.bits) - 1;
            }
        }
    }
}

/// Decodes base64 leniently (see [`Base64`]); never fails.
pub fn base64_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    Base64::default().feed(input, &mut out);
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Decodes quoted-printable leniently: `=XX`, soft line breaks (`=` before CRLF or LF, with
/// trailing blanks tolerated); a malformed `=` stays as it is.
pub fn qp_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if c != b'=' {
            out.push(c);
            i += 1;
            continue;
        }
        if let (Some(h), Some(l)) = (input.get(i + 1).and_then(|&c| hex(c)), input.get(i + 2).and_then(|&c| hex(c))) {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        // Soft line break: '=' [blanks] (CR)? LF
        let mut j = i + 1;
        while j < input.len() && (input[j] == b' ' || input[j] == b'\t') {
            j += 1;
        }
        if input.get(j) == Some(&b'\r') {
            j += 1;
        }
        if input.get(j) == Some(&b'\n') {
            i = j + 1;
        } else if j >= input.len() {
            i = j;
        } else {
            out.push(b'=');
            i += 1;
        }
    }
    out
}

/// Q encoding of RFC 2047: like quoted-printable, and `_` is a space.
fn q_decode(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'_' => {
                out.push(b' ');
                i += 1;
            }
            b'=' => match (input.get(i + 1).and_then(|&c| hex(c)), input.get(i + 2).and_then(|&c| hex(c))) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'=');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// An encoded-word at the start of `s`: (charset, `b`/`q`, encoded text, length).
fn encoded_word(s: &[u8]) -> Option<(&[u8], u8, &[u8], usize)> {
    let rest = s.strip_prefix(b"=?")?;
    let q1 = rest.iter().position(|&c| c == b'?')?;
    let charset = &rest[..q1];
    if charset.is_empty() || charset.len() > 64 || charset.iter().any(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let rest = &rest[q1 + 1..];
    let enc = rest.first()?.to_ascii_lowercase();
    if (enc != b'b' && enc != b'q') || rest.get(1) != Some(&b'?') {
        return None;
    }
    let body = &rest[2..];
    let end = memchr::memmem::find(body, b"?=")?;
    let text = &body[..end];
    if text.iter().any(|c| c.is_ascii_whitespace()) {
        return None;
    }
    Some((charset, enc, text, 2 + q1 + 1 + 2 + end + 2))
}

/// The charset of an encoded-word without its RFC 2231 language (`utf-8*zh`).
fn charset_name(cs: &[u8]) -> String {
    let cs = cs.split(|&c| c == b'*').next().unwrap_or(cs);
    String::from_utf8_lossy(cs).to_ascii_lowercase()
}

/// Decodes a header value (raw bytes, possibly folded): encoded-words, and raw 8-bit text
/// with `raw` (the encoding detected for the header block).
pub fn decode_header(value: &[u8], raw: &'static Encoding) -> String {
    // Most values have no encoded-word and no folding: the literal text as it is.
    if memchr::memmem::find(value, b"=?").is_none() && memchr::memchr2(b'\r', b'\n', value).is_none() {
        return match std::str::from_utf8(value) {
            Ok(s) => s.to_owned(),
            Err(_) => text::decode_with(value, raw),
        };
    }
    let mut out = String::with_capacity(value.len());
    let mut literal: Vec<u8> = Vec::new();
    // The current run of encoded-words of one charset and encoding.
    let mut run: Option<(String, u8, Vec<u8>, Base64)> = None;
    let flush_literal = |lit: &mut Vec<u8>, out: &mut String| {
        if lit.is_empty() {
            return;
        }
        match std::str::from_utf8(lit) {
            Ok(s) => out.push_str(s),
            Err(_) => out.push_str(&text::decode_with(lit, raw)),
        }
        lit.clear();
    };
    let flush_run = |run: &mut Option<(String, u8, Vec<u8>, Base64)>, out: &mut String| {
        if let Some((cs, _, bytes, _)) = run.take() {
            out.push_str(&text::decode(&bytes, Some(&cs)).0);
        }
    };
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'=' && value.get(i + 1) == Some(&b'?') {
            if let Some((cs, enc, text, len)) = encoded_word(&value[i..]) {
                let cs = charset_name(cs);
                // Whitespace between two encoded-words is not part of the text.
                let only_space = literal.iter().all(|c| c.is_ascii_whitespace());
                let same = matches!(&run, Some((c, e, _, _)) if *c == cs && *e == enc);
                if run.is_some() && only_space {
                    literal.clear();
                    if !same {
                        flush_run(&mut run, &mut out);
                    }
                } else {
                    flush_run(&mut run, &mut out);
                    flush_literal(&mut literal, &mut out);
                }
                let (_, _, bytes, b64) = run.get_or_insert_with(|| (cs, enc, Vec::new(), Base64::default()));
                if enc == b'b' {
                    b64.feed(text, bytes);
                } else {
                    q_decode(text, bytes);
                }
                i += len;
                continue;
            }
        }
        let c = value[i];
        if c == b'\r' || c == b'\n' {
            // Unfold.
            i += 1;
            continue;
        }
        literal.push(c);
        i += 1;
    }
    flush_run(&mut run, &mut out);
    flush_literal(&mut literal, &mut out);
    out
}

/// Replaces control characters (CR, LF, NUL, …, and the Unicode line separators) with spaces
/// and trims: text that is safe inside one header line.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() || c == '\u{2028}' || c == '\u{2029}' { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(input: &[u8], out: &mut String) {
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

/// The longest header value [`encode_header`] produces, so that `Subject: ` plus the value
/// stays within the 998-octet line limit of RFC 5322.
pub const MAX_ENCODED: usize = 980;

/// Encodes text as a header value on one line: as it is when it is printable ASCII without
/// anything that could read as an encoded-word, else as UTF-8 `B` encoded-words (at most 75
/// characters each, never splitting a character) separated by spaces. Control characters
/// become spaces first; the result never contains CR, LF or NUL, and text that would make it
/// longer than [`MAX_ENCODED`] is cut (at a character boundary).
pub fn encode_header(s: &str) -> String {
    let s = sanitize(s);
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) && !s.contains("=?") {
        let mut s = s;
        s.truncate(MAX_ENCODED);
        return s;
    }
    let mut out = String::new();
    let mut start = 0;
    while start < s.len() {
        // 45 bytes of UTF-8 → 60 base64 characters + 12 → 72 ≤ 75.
        let mut end = (start + 45).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut word = String::from("=?UTF-8?B?");
        base64_encode(&s.as_bytes()[start..end], &mut word);
        word.push_str("?=");
        let sep = usize::from(!out.is_empty());
        if out.len() + sep + word.len() > MAX_ENCODED {
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(&word);
        start = end;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// Base64 for tests.
    pub fn b64(bytes: &[u8], out: &mut String) {
        super::base64_encode(bytes, out)
    }
}

#[cfg(test)]
mod tests {
    use encoding_rs::{GBK, UTF_8};

    use super::*;

    fn b64(bytes: &[u8]) -> String {
        let mut s = String::new();
        base64_encode(bytes, &mut s);
        s
    }

    #[test]
    fn base64_round_trip_and_leniency() {
        for n in 0..10 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
            assert_eq!(base64_decode(b64(&data).as_bytes()), data);
        }
        assert_eq!(base64_decode(b"5Lit\r\n5paH"), "中文".as_bytes());
        assert_eq!(base64_decode(b"5L!!it5p*aH"), "中文".as_bytes());
        // Broken: a truncated quantum decodes what it can.
        assert_eq!(base64_decode(b"5Lit5p"), &"中文".as_bytes()[..4]);
    }

    #[test]
    fn qp() {
        assert_eq!(qp_decode(b"a=3Db=\r\nc=\nd"), b"a=bcd");
        assert_eq!(qp_decode(b"=E4=B8=AD=zz="), "中=zz".as_bytes());
        assert_eq!(qp_decode(b"x= \r\ny"), b"xy");
    }

    #[test]
    fn encoded_words() {
        assert_eq!(decode_header(b"=?utf-8?B?5Lit5paH?=", UTF_8), "中文");
        assert_eq!(decode_header(b"=?UTF-8?Q?a_b=E4=B8=AD?=", UTF_8), "a b中");
        assert_eq!(decode_header(b"Hello =?utf-8?B?5Lit?= world", UTF_8), "Hello 中 world");
        // Whitespace between words disappears; between word and text it stays.
        assert_eq!(decode_header(b"=?utf-8?B?5Lit?=\r\n =?utf-8?B?5paH?=", UTF_8), "中文");
        // A GB2312 word.
        let (gbk, _, _) = GBK.encode("赌博");
        let word = format!("=?gb2312?B?{}?=", b64(&gbk));
        assert_eq!(decode_header(word.as_bytes(), UTF_8), "赌博");
        // Unknown charset: detected.
        let word = format!("=?x-weird?B?{}?=", b64("赌博网站".as_bytes()));
        assert_eq!(decode_header(word.as_bytes(), UTF_8), "赌博网站");
        // Not an encoded word.
        assert_eq!(decode_header(b"=?broken", UTF_8), "=?broken");
        assert_eq!(decode_header(b"=?utf-8?X?abc?=", UTF_8), "=?utf-8?X?abc?=");
    }

    #[test]
    fn split_multibyte_characters() {
        // 赌 (E8 B5 8C) split across two UTF-8 B words, and two Q words.
        let s = "赌博".as_bytes();
        let v = format!("=?UTF-8?B?{}?= =?UTF-8?B?{}?=", b64(&s[..2]), b64(&s[2..]));
        assert_eq!(decode_header(v.as_bytes(), UTF_8), "赌博");
        assert_eq!(decode_header(b"=?utf-8?q?=E8=B5?= =?utf-8?q?=8C=E5=8D=9A?=", UTF_8), "赌博");
        // GBK split inside a character.
        let (g, _, _) = GBK.encode("澳门赌场");
        let v = format!("=?GBK?B?{}?=\r\n\t=?GBK?B?{}?=", b64(&g[..3]), b64(&g[3..]));
        assert_eq!(decode_header(v.as_bytes(), UTF_8), "澳门赌场");
        // Base64 split mid-quantum (no padding).
        let full = b64("赌博网站".as_bytes());
        let v = format!("=?utf-8?b?{}?= =?utf-8?b?{}?=", &full[..5], &full[5..]);
        assert_eq!(decode_header(v.as_bytes(), UTF_8), "赌博网站");
    }

    #[test]
    fn raw_8bit() {
        let (g, _, _) = GBK.encode("澳门赌场");
        assert_eq!(decode_header(&g, GBK), "澳门赌场");
    }

    #[test]
    fn encode_is_one_safe_line() {
        assert_eq!(encode_header("[SPAM] hello"), "[SPAM] hello");
        assert_eq!(encode_header("a\r\nBcc: x@y"), "a  Bcc: x@y");
        let e = encode_header("[可疑] 你好\r\nBcc: evil@example.com");
        assert!(!e.contains('\r') && !e.contains('\n'));
        assert!(e.starts_with("=?UTF-8?B?"));
        assert_eq!(decode_header(e.as_bytes(), UTF_8), "[可疑] 你好  Bcc: evil@example.com");
        let long = "赌".repeat(2000);
        let e = encode_header(&long);
        assert!(e.len() <= MAX_ENCODED);
        assert!(e.split(' ').all(|w| w.len() <= 75));
        assert!(decode_header(e.as_bytes(), UTF_8).chars().all(|c| c == '赌'));
        // Looks like an encoded word: encoded, so it decodes to itself.
        let e = encode_header("=?utf-8?B?5Lit?=");
        assert_eq!(decode_header(e.as_bytes(), UTF_8), "=?utf-8?B?5Lit?=");
    }
}
