//! A message → the named pieces of text to check: text headers (`subject`, `from`, …), body
//! parts (`body`), attachment names and text attachments (`attachment:NAME`), with notes on
//! what was not read.
//!
//! mail-parser finds the MIME structure; transfer and charset decoding are done here (see
//! [`crate::text`] and [`crate::rfc2047`]) so that undeclared, wrong and unsupported charsets
//! and broken base64 still yield text.

use std::collections::BTreeMap;

use encoding_rs::{Encoding, UTF_8};
use mail_parser::{HeaderName, Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::rfc2047::{base64_decode, decode_header, qp_decode};
use crate::text::{self, Piece};

/// Limits on what is read of a message.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Headers that are checked as text (lower case).
    pub scan_headers: Vec<String>,
    /// MIME parts looked at, at most.
    pub max_parts: usize,
    /// Decoded bytes read per part, at most.
    pub max_part_bytes: usize,
    /// Nesting of attached messages followed, at most.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            scan_headers: ["subject", "from", "to", "cc", "reply-to", "sender", "comments", "keywords", "organization"]
                .map(String::from)
                .to_vec(),
            max_parts: 100,
            max_part_bytes: 2 << 20,
            max_depth: 3,
        }
    }
}

/// One piece of text to check, under a field name.
#[derive(Debug)]
pub struct Field {
    /// `subject`, `body`, `attachment:NAME`, or a header name.
    pub name: String,
    /// The text.
    pub piece: Piece,
}

/// What was read of a message.
#[derive(Debug, Default)]
pub struct Extracted {
    /// The text to check.
    pub fields: Vec<Field>,
    /// What was not read (for the `X-Lexguard-Skipped` header), by kind.
    pub skipped: BTreeMap<&'static str, u64>,
    /// The decoded first Subject, if there is one.
    pub subject: Option<String>,
    /// Facts for the spam heuristics.
    pub facts: Facts,
}

/// Header and structure facts the spam heuristics use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// A Message-ID header is present.
    pub has_message_id: bool,
    /// A Date header is present.
    pub has_date: bool,
    /// A To header is present.
    pub has_to: bool,
    /// The From address (lower case).
    pub from_addr: Option<String>,
    /// The From display name.
    pub from_name: Option<String>,
    /// The Reply-To address (lower case).
    pub reply_to_addr: Option<String>,
    /// Text/plain body parts.
    pub text_parts: usize,
    /// Text/html body parts.
    pub html_parts: usize,
}

impl Extracted {
    fn skip(&mut self, what: &'static str, n: u64) {
        *self.skipped.entry(what).or_default() += n;
    }

    /// The skipped notes as one header value: `body-truncated=8388608; binary-parts=2`.
    pub fn skipped_note(&self) -> Option<String> {
        if self.skipped.is_empty() {
            return None;
        }
        Some(self.skipped.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }
}

/// The encoding for raw 8-bit header bytes: UTF-8 when they are valid UTF-8, else detected
/// over all such bytes of the header block at once (short subjects alone are too little).
pub fn header_encoding<'a>(values: impl Iterator<Item = &'a [u8]>) -> &'static Encoding {
    let mut sample = Vec::new();
    for v in values {
        if v.iter().any(|&b| b >= 0x80) && std::str::from_utf8(v).is_err() {
            sample.extend_from_slice(v);
            sample.push(b'\n');
            if sample.len() > 16 * 1024 {
                break;
            }
        }
    }
    if sample.is_empty() { UTF_8 } else { text::detect(&sample) }
}

/// The MIME parser, built once (it is a table of header parsers).
fn header_parser() -> &'static MessageParser {
    static PARSER: std::sync::LazyLock<MessageParser> =
        std::sync::LazyLock::new(|| MessageParser::new().with_mime_headers());
    &PARSER
}

/// The first mailbox of an address header (decoded): (display name, lower-case address).
pub fn first_mailbox(v: &str) -> (Option<String>, Option<String>) {
    let v = v.trim();
    if let Some(open) = v.find('<') {
        let rest = &v[open + 1..];
        let addr = rest.split('>').next().unwrap_or("").trim();
        let name = v[..open].trim().trim_matches('"').trim();
        let addr = (addr.contains('@')).then(|| addr.to_lowercase());
        return ((!name.is_empty()).then(|| name.to_string()), addr);
    }
    let addr = v
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find(|t| t.contains('@'))
        .map(|t| t.trim_matches(|c| c == '"' || c == '(' || c == ')').to_lowercase());
    (None, addr)
}

/// The value of a header (first of that name).
fn header_value<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
}

/// A message that is one text part (no MIME structure, or a top-level `text/*` that is not
/// an attachment), read without the MIME parser.
fn single_part(headers: &[(String, Vec<u8>)], body: &[u8], limits: &Limits, out: &mut Extracted) -> bool {
    let ct = header_value(headers, "content-type").map(|v| decode_header(v, UTF_8));
    let ct = ct.as_deref().map(str::trim).unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !(media.is_empty() || media.starts_with("text/")) {
        return false;
    }
    if let Some(d) = header_value(headers, "content-disposition") {
        let d = String::from_utf8_lossy(d).to_ascii_lowercase();
        if d.trim_start().starts_with("attachment") || d.contains("filename") {
            return false;
        }
    }
    if ct.to_ascii_lowercase().contains("name=") {
        return false;
    }
    let charset = param_value(ct, "charset");
    let cte = header_value(headers, "content-transfer-encoding").map(|v| String::from_utf8_lossy(v));
    let cte = cte.as_deref().map(str::trim);
    let decoded = if cte.is_some_and(|c| c.eq_ignore_ascii_case("base64")) {
        Some(base64_decode(body))
    } else if cte.is_some_and(|c| c.eq_ignore_ascii_case("quoted-printable")) {
        Some(qp_decode(body))
    } else {
        None
    };
    let mut bytes: &[u8] = decoded.as_deref().unwrap_or(body);
    if bytes.len() > limits.max_part_bytes {
        out.skip("part-bytes-truncated", (bytes.len() - limits.max_part_bytes) as u64);
        bytes = &bytes[..limits.max_part_bytes];
    }
    if media == "text/html" {
        out.facts.html_parts += 1;
        let (pieces, _) = text::html(bytes, charset.as_deref());
        out.fields.extend(pieces.into_iter().map(|p| Field { name: "body".into(), piece: p }));
    } else {
        out.facts.text_parts += 1;
        let (t, _) = text::decode(bytes, charset.as_deref());
        if !t.trim().is_empty() {
            out.fields.push(Field { name: "body".into(), piece: Piece::Plain(t) });
        }
    }
    true
}

/// Reads a message given as its header fields (name, raw value as the MTA passed it) and
/// the (possibly truncated) body.
pub fn extract(headers: &[(String, Vec<u8>)], body: &[u8], limits: &Limits) -> Extracted {
    let mut out = Extracted::default();
    let raw_enc = header_encoding(headers.iter().map(|(_, v)| v.as_slice()));
    for (name, value) in headers {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("message-id") {
            out.facts.has_message_id = true;
        } else if is("date") {
            out.facts.has_date = true;
        } else if is("to") {
            out.facts.has_to = true;
        }
        // (`scan_headers` is lower case.)
        if !limits.scan_headers.iter().any(|h| is(h.as_str())) {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let text = decode_header(value, raw_enc);
        if lower == "subject" && out.subject.is_none() {
            out.subject = Some(text.clone());
        }
        if lower == "from" && out.facts.from_addr.is_none() {
            let (name, addr) = first_mailbox(&text);
            out.facts.from_name = name;
            out.facts.from_addr = addr;
        }
        if lower == "reply-to" && out.facts.reply_to_addr.is_none() {
            out.facts.reply_to_addr = first_mailbox(&text).1;
        }
        if !text.trim().is_empty() {
            out.fields.push(Field { name: lower, piece: Piece::Plain(text) });
        }
    }

    if single_part(headers, body, limits, &mut out) {
        return out;
    }
    let mut raw =
        Vec::with_capacity(headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>() + 2 + body.len());
    for (name, value) in headers {
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);

    match header_parser().parse(&raw) {
        Some(msg) => {
            if let Some(a) = msg.from().and_then(|a| a.first()) {
                out.facts.from_addr = a.address().map(str::to_ascii_lowercase);
                out.facts.from_name = a.name().map(|n| decode_header(n.as_bytes(), raw_enc));
            }
            out.facts.reply_to_addr =
                msg.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_ascii_lowercase);
            let mut parts = 0;
            walk(&msg, None, 0, limits, &mut parts, &mut out);
        }
        None => {
            // No structure at all: read the body as text.
            out.skip("mime-unparsed", 1);
            let (t, _) = text::decode(&body[..body.len().min(limits.max_part_bytes)], None);
            out.fields.push(Field { name: "body".into(), piece: Piece::Plain(t) });
        }
    }
    out
}

/// Extensions of attachments read as text.
const TEXT_EXTENSIONS: &[&str] =
    &["txt", "text", "csv", "tsv", "log", "md", "htm", "html", "xhtml", "xml", "json", "eml", "ini"];

fn extension(name: &str) -> String {
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// A field-safe attachment name: control characters out, at most 100 characters.
fn clean_name(name: &str) -> String {
    let s: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    let s = s.trim().to_string();
    if s.is_empty() { "unnamed".into() } else { s }
}

/// The raw bytes of a part's header named `name`, for re-decoding 8-bit parameters.
fn raw_header<'a>(raw: &'a [u8], part: &MessagePart<'_>, name: &HeaderName<'_>) -> Option<&'a [u8]> {
    let h = part.headers.iter().find(|h| &h.name == name)?;
    raw.get(h.offset_start as usize..h.offset_end as usize)
}

/// The value of parameter `param` in a decoded header value (`; filename="…"`).
fn param_value(value: &str, param: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(param) {
        let at = from + at;
        from = at + param.len();
        let before_ok = at == 0 || matches!(lower.as_bytes()[at - 1], b';' | b' ' | b'\t');
        let rest = value[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        return Some(match rest.strip_prefix('"') {
            Some(q) => q.split('"').next().unwrap_or("").to_string(),
            None => rest.split([';', ' ', '\t']).next().unwrap_or("").to_string(),
        });
    }
    None
}

/// The attachment name of a part; raw 8-bit names (GBK, Big5) are re-read from the header
/// bytes with detection when mail-parser could only read them lossily.
fn attachment_name(raw: &[u8], part: &MessagePart<'_>) -> Option<String> {
    let name = part.attachment_name()?;
    if !name.contains('\u{fffd}') {
        return Some(name.to_string());
    }
    for (h, p) in [(HeaderName::ContentDisposition, "filename"), (HeaderName::ContentType, "name")] {
        if let Some(bytes) = raw_header(raw, part, &h) {
            let decoded = decode_header(bytes, text::detect(bytes));
            if let Some(v) = param_value(&decoded, p) {
                return Some(decode_header(v.as_bytes(), UTF_8));
            }
        }
    }
    Some(name.to_string())
}

fn walk(
    msg: &Message<'_>,
    attached: Option<&str>,
    depth: usize,
    limits: &Limits,
    parts: &mut usize,
    out: &mut Extracted,
) {
    let raw: &[u8] = &msg.raw_message;
    for (idx, part) in msg.parts.iter().enumerate() {
        if *parts >= limits.max_parts {
            out.skip("parts-over-limit", (msg.parts.len() - idx) as u64);
            return;
        }
        *parts += 1;
        if part.is_encoding_problem {
            out.skip("malformed-parts", 1);
        }
        let ct = part.content_type();
        let ctype = ct.map(|c| c.ctype().to_ascii_lowercase());
        let subtype = ct.and_then(|c| c.subtype()).map(str::to_ascii_lowercase);
        let charset = ct.and_then(|c| c.attribute("charset")).map(str::to_string);
        let name = attachment_name(raw, part).map(|n| clean_name(&n));
        let disposition_attachment = part.content_disposition().is_some_and(|d| d.is_attachment());

        // The field: attachments by name, the rest is the body (inside an attached message,
        // everything belongs to the attachment).
        let field = match (&name, attached) {
            (Some(n), _) => format!("attachment:{n}"),
            (None, Some(a)) => format!("attachment:{a}"),
            (None, None) if disposition_attachment => format!("attachment:part{}", idx),
            (None, None) => "body".to_string(),
        };
        if let Some(n) = &name {
            out.fields.push(Field { name: field.clone(), piece: Piece::Plain(n.clone()) });
        }

        match &part.body {
            PartType::Multipart(_) => continue,
            PartType::Message(inner) => {
                if depth + 1 > limits.max_depth {
                    out.skip("nested-too-deep", 1);
                    continue;
                }
                let label =
                    name.clone().or_else(|| attached.map(str::to_string)).unwrap_or_else(|| "message.eml".into());
                // The attached message's subject is part of the attachment.
                if let Some(s) = inner.subject() {
                    out.fields.push(Field { name: format!("attachment:{label}"), piece: Piece::Plain(s.to_string()) });
                }
                walk(inner, Some(&label), depth + 1, limits, parts, out);
                continue;
            }
            _ => {}
        }

        let is_text = match ctype.as_deref() {
            None => true,
            Some("text") => true,
            // A multipart or message part mail-parser could not split (no boundary, broken
            // nesting): read it as text rather than not at all.
            Some("multipart" | "message") => true,
            Some("application") => {
                matches!(subtype.as_deref(), Some("json" | "xml" | "xhtml+xml" | "csv"))
                    || name.as_deref().is_some_and(|n| TEXT_EXTENSIONS.contains(&extension(n).as_str()))
            }
            _ => false,
        };
        if !is_text {
            out.skip("binary-parts", 1);
            continue;
        }
        let is_html = subtype.as_deref() == Some("html")
            || name.as_deref().is_some_and(|n| matches!(extension(n).as_str(), "htm" | "html" | "xhtml"));
        if field == "body" {
            if is_html {
                out.facts.html_parts += 1;
            } else {
                out.facts.text_parts += 1;
            }
        }

        // The transfer-decoded bytes, from the raw part (mail-parser gives up on broken base64).
        let start = part.offset_body as usize;
        let end = (part.offset_end as usize).min(raw.len());
        let body = raw.get(start..end.max(start)).unwrap_or_default();
        let cte = part.content_transfer_encoding().map(str::to_ascii_lowercase);
        let mut bytes = match cte.as_deref().map(str::trim) {
            Some("base64") => base64_decode(body),
            Some("quoted-printable") => qp_decode(body),
            _ => body.to_vec(),
        };
        if bytes.len() > limits.max_part_bytes {
            out.skip("part-bytes-truncated", (bytes.len() - limits.max_part_bytes) as u64);
            bytes.truncate(limits.max_part_bytes);
        }
        if is_html {
            let (pieces, _) = text::html(&bytes, charset.as_deref());
            out.fields.extend(pieces.into_iter().map(|p| Field { name: field.clone(), piece: p }));
        } else {
            let (t, _) = text::decode(&bytes, charset.as_deref());
            if !t.trim().is_empty() {
                out.fields.push(Field { name: field, piece: Piece::Plain(t) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdrs(list: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_vec())).collect()
    }

    fn field<'a>(x: &'a Extracted, name: &str) -> Vec<&'a str> {
        x.fields.iter().filter(|f| f.name == name).map(|f| f.piece.text()).collect()
    }

    #[test]
    fn simple_text() {
        let h = hdrs(&[("Subject", b"=?utf-8?B?5Lit5paH?="), ("From", b"A <a@example.com>"), ("Message-ID", b"<1@x>")]);
        let x = extract(&h, "正文内容\r\n".as_bytes(), &Limits::default());
        assert_eq!(x.subject.as_deref(), Some("中文"));
        assert_eq!(field(&x, "body"), ["正文内容\r\n"]);
        assert_eq!(x.facts.from_addr.as_deref(), Some("a@example.com"));
        assert!(x.facts.has_message_id && !x.facts.has_date);
        assert!(x.skipped_note().is_none());
    }

    #[test]
    fn multipart_with_attachments() {
        let body = concat!(
            "--b\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            "1eLKx9PKvP4=\r\n",
            "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "<p>=E7=BD=91&#19978;</p>\r\n",
            "--b\r\nContent-Type: application/octet-stream; name=\"=?utf-8?B?6LWM5Y2a?=.zip\"\r\n",
            "Content-Disposition: attachment; filename=\"=?utf-8?B?6LWM5Y2a?=.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n",
            "--b\r\nContent-Type: text/plain; name=\"a.txt\"\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\n\r\n附件文本\r\n",
            "--b--\r\n"
        );
        let h = hdrs(&[("Content-Type", b"multipart/mixed; boundary=\"b\""), ("MIME-Version", b"1.0")]);
        let x = extract(&h, body.as_bytes(), &Limits::default());
        let bodies = field(&x, "body");
        assert!(bodies.contains(&"这是邮件"), "{bodies:?}");
        assert!(bodies.contains(&"网上"), "{bodies:?}");
        assert_eq!(field(&x, "attachment:赌博.zip"), ["赌博.zip"]);
        assert_eq!(field(&x, "attachment:a.txt"), ["a.txt", "附件文本"]);
        assert_eq!(x.skipped_note().as_deref(), Some("binary-parts=1"));
    }

    #[test]
    fn raw_8bit_filename() {
        let (name, _, _) = encoding_rs::GBK.encode("赌博网站名单.txt");
        let mut body = b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"".to_vec();
        body.extend_from_slice(&name);
        body.extend_from_slice(b"\"\r\n\r\nhello\r\n--b--\r\n");
        let h = hdrs(&[("Content-Type", b"multipart/mixed; boundary=b")]);
        let x = extract(&h, &body, &Limits::default());
        assert!(x.fields.iter().any(|f| f.name == "attachment:赌博网站名单.txt"), "{:?}", x.fields);
    }

    #[test]
    fn mailboxes() {
        assert_eq!(first_mailbox("\"A B\" <A@Example.com>"), (Some("A B".into()), Some("a@example.com".into())));
        assert_eq!(first_mailbox("a@example.com (A)"), (None, Some("a@example.com".into())));
        assert_eq!(first_mailbox("undisclosed-recipients:;"), (None, None));
        assert_eq!(first_mailbox("x <y>"), (Some("x".into()), None));
    }

    #[test]
    fn single_part_fast_path_matches_the_parser() {
        let (gbk, _, _) = encoding_rs::GBK.encode("这是邮件正文");
        let h = hdrs(&[("Content-Type", b"text/plain; charset=\"gb2312\""), ("Content-Transfer-Encoding", b"base64")]);
        let b64 = {
            let mut s = String::new();
            crate::rfc2047::tests_support::b64(&gbk, &mut s);
            s
        };
        let x = extract(&h, b64.as_bytes(), &Limits::default());
        assert_eq!(field(&x, "body"), ["这是邮件正文"]);
        // An attachment-like single part goes through the parser.
        let h = hdrs(&[
            ("Content-Type", b"text/plain; name=a.txt"),
            ("Content-Disposition", b"attachment; filename=a.txt"),
        ]);
        let x = extract(&h, b"hello", &Limits::default());
        assert_eq!(field(&x, "attachment:a.txt"), ["a.txt", "hello"]);
    }

    #[test]
    fn malformed_inputs_do_not_panic() {
        let cases: &[&[u8]] = &[
            b"",
            b"--b\r\n",
            b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!====\xff\xfe\r\n",
            b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n",
            b"\x00\x01\x02\xff",
        ];
        for body in cases {
            for ct in [
                &b"multipart/mixed; boundary=b"[..],
                b"text/plain; charset=hz-gb-2312",
                b"text/plain; charset=\xff",
                b"",
            ] {
                let h = hdrs(&[("Content-Type", ct), ("Subject", b"=?iso-2022-cn?B?GyQpQQ4=?=")]);
                let _ = extract(&h, body, &Limits::default());
            }
        }
        // No headers that mail-parser accepts.
        let x = extract(&[], b"just text", &Limits::default());
        assert!(!x.fields.is_empty());
    }
}
