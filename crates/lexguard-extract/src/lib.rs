//! lexguard-extract: bytes → decoded text segments, with exact spans back into the original
//! bytes.
//!
//! - Charset: byte order mark, then `<meta charset>` / `http-equiv`, then the XML declaration,
//!   then detection (chardetng, with a TLD hint that defaults to `cn`); decoding with
//!   encoding_rs (GB2312/GBK/GB18030, Big5, UTF-8, UTF-16, …).
//! - HTML: text (inline elements joined, block elements separated by a line break), the title,
//!   `alt`/`title`/`placeholder`/`aria-label` attributes and the words on buttons, meta
//!   description and keywords and the Open Graph and Twitter card texts, link `href`s; script
//!   and style bodies as separate segments. lol_html parses HTML; a tolerant tokenizer takes
//!   over for markup lol_html rejects, for encodings it cannot read (UTF-16) and for templates
//!   (`<?php … ?>`, `<% … %>`).
//! - Escapes: HTML entities, `\uXXXX` and `%XX` are decoded; a hit on decoded text carries the
//!   [`Flags::ENTITY`] flag.
//!
//! ```
//! use lexguard_extract::{Options, SegmentKind, extract_html};
//!
//! let page = "<title>新闻</title><p>网上&#36172;博</p>".as_bytes();
//! let doc = extract_html(page, &Options::default());
//! let body = doc.segments.iter().find(|s| s.kind == SegmentKind::Text).unwrap();
//! assert_eq!(body.text, "网上赌博");
//! let at = body.text.find("赌博").unwrap();
//! let orig = body.orig_range(at..at + "赌博".len());
//! assert_eq!(&page[orig.clone()], "&#36172;博".as_bytes());
//! assert!(body.flags_in(at..at + 6).contains(lexguard::Flags::ENTITY));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::ops::Range;

pub use encoding_rs::Encoding;
use lexguard::Flags;

mod charset;
pub mod code;
mod decode;
mod escapes;
pub mod html;
mod map;

pub use charset::{Charset, CharsetSource, detect, has_utf16_bom, looks_binary, meta_charset, xml_declaration};
pub use escapes::{Escapes, unescape};
pub use map::{OffsetMap, Piece, PieceKind};

use html::{Event, TextKind};
use map::MapBuilder;

/// Which parser reads HTML.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Parser {
    /// lol_html, with the tolerant tokenizer when lol_html rejects the markup.
    #[default]
    Auto,
    /// The tolerant tokenizer only.
    Tolerant,
}

/// Which parser produced a document's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParserUsed {
    /// lol_html.
    LolHtml,
    /// The tolerant tokenizer.
    Tolerant,
    /// No markup: the document is plain text or script.
    None,
}

/// Extraction options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Top-level domain hint for encoding detection (`cn`, `tw`, `hk`, `jp`, …); `None` for none.
    pub tld: Option<String>,
    /// Bytes read by encoding detection.
    pub detect_limit: usize,
    /// Use this encoding unless the document has a byte order mark.
    pub encoding: Option<&'static Encoding>,
    /// The HTML parser.
    pub parser: Parser,
    /// For scripts and server code, extract only string literals and comments (default);
    /// `false` keeps the whole code as text.
    pub code_literals: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tld: Some("cn".into()),
            detect_limit: 64 * 1024,
            encoding: None,
            parser: Parser::Auto,
            code_literals: true,
        }
    }
}

impl Options {
    /// Sets the TLD hint.
    #[must_use]
    pub fn tld(mut self, tld: Option<&str>) -> Self {
        self.tld = tld.map(str::to_string);
        self
    }

    /// Forces an encoding (a byte order mark still wins).
    #[must_use]
    pub fn encoding(mut self, e: Option<&'static Encoding>) -> Self {
        self.encoding = e;
        self
    }

    /// Chooses the HTML parser.
    #[must_use]
    pub fn parser(mut self, p: Parser) -> Self {
        self.parser = p;
        self
    }

    /// Whether code yields only its string literals and comments.
    #[must_use]
    pub fn code_literals(mut self, yes: bool) -> Self {
        self.code_literals = yes;
        self
    }

    fn sniff(&self, html: bool) -> charset::Sniff<'_> {
        charset::Sniff { given: self.encoding, tld: self.tld.as_deref(), limit: self.detect_limit, html }
    }
}

/// What a segment of extracted text is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SegmentKind {
    /// Visible text (or the whole of a plain-text document).
    Text,
    /// The document title.
    Title,
    /// An attribute value (`alt`, `title`, `placeholder`, `aria-label`, a button's `value`) or
    /// meta content (`description`, `keywords`, `og:title`, … see [`is_indexed_meta`]).
    Attr {
        /// The attribute or meta name.
        name: String,
    },
    /// A script body (or a whole script file).
    Script,
    /// A style body.
    Style,
    /// A link target (`href`, frame `src`).
    Url,
    /// Server-side code of a template (`<?php … ?>`, `<% … %>`).
    Code,
}

impl SegmentKind {
    /// A short name for reports: `text`, `title`, `attr:alt`, `script`, `style`, `url`, `code`.
    pub fn name(&self) -> Cow<'static, str> {
        match self {
            SegmentKind::Text => "text".into(),
            SegmentKind::Title => "title".into(),
            SegmentKind::Attr { name } => format!("attr:{name}").into(),
            SegmentKind::Script => "script".into(),
            SegmentKind::Style => "style".into(),
            SegmentKind::Url => "url".into(),
            SegmentKind::Code => "code".into(),
        }
    }
}

/// A piece of decoded text with the map back to the original bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The decoded text.
    pub text: String,
    /// What it is.
    pub kind: SegmentKind,
    /// Text offsets → original byte offsets.
    pub map: OffsetMap,
    /// [`Flags::ENTITY`] when escapes were decoded anywhere in the segment.
    pub flags: Flags,
}

impl Segment {
    fn new(text: String, kind: SegmentKind, map: OffsetMap) -> Segment {
        let flags = if map.has_escapes() { Flags::ENTITY } else { Flags::empty() };
        Segment { text, kind, map, flags }
    }

    /// The original byte range of a byte range of [`text`](Self::text).
    pub fn orig_range(&self, range: Range<usize>) -> Range<usize> {
        self.map.to_orig(range)
    }

    /// The extraction flags that apply to a range of the text: [`Flags::ENTITY`] when an
    /// escape was decoded inside it.
    pub fn flags_in(&self, range: Range<usize>) -> Flags {
        if !self.flags.is_empty() && self.map.has_kind_in(range, PieceKind::Escape) {
            Flags::ENTITY
        } else {
            Flags::empty()
        }
    }
}

/// An extracted document.
#[derive(Clone, Debug)]
pub struct Extracted<'a> {
    /// Its encoding and how it was found.
    pub charset: Charset,
    /// The parser that produced the events.
    pub parser: ParserUsed,
    /// The text segments, in document order (per kind).
    pub segments: Vec<Segment>,
    /// The markup events (empty for plain text); ranges index [`source`](Self::source).
    pub events: Vec<Event>,
    /// Invalid or truncated byte sequences replaced by U+FFFD.
    pub invalid_sequences: usize,
    /// Notes for the report (a parser fallback, say).
    pub notes: Vec<String>,
    source: Cow<'a, [u8]>,
    doc_map: Option<OffsetMap>,
}

impl<'a> Extracted<'a> {
    /// The bytes the events index: the original bytes, or for encodings that are not
    /// ASCII-compatible (UTF-16) the document decoded to UTF-8.
    pub fn source(&self) -> &[u8] {
        &self.source
    }

    /// The encoding of [`source`](Self::source).
    pub fn source_encoding(&self) -> &'static Encoding {
        if self.doc_map.is_some() { encoding_rs::UTF_8 } else { self.charset.encoding }
    }

    /// The original byte range of a range of [`source`](Self::source).
    pub fn orig_range(&self, range: Range<usize>) -> Range<usize> {
        match &self.doc_map {
            Some(m) => m.to_orig(range),
            None => range,
        }
    }

    /// Decodes a range of [`source`](Self::source) (an attribute value, say), with escapes:
    /// the text and its map to original bytes.
    pub fn decode(&self, range: Range<usize>, esc: Escapes) -> (String, OffsetMap) {
        let mut b = MapBuilder::default();
        decode::decode_into(&self.source, range, self.source_encoding(), esc, &mut b);
        let (t, m) = b.finish();
        match &self.doc_map {
            Some(d) => (t, m.through(d)),
            None => (t, m),
        }
    }

    /// The decoded value of an attribute (HTML entities decoded), or `""` for a bare one.
    pub fn attr_value(&self, attr: &html::Attr) -> String {
        attr.value.clone().map(|r| self.decode(r, Escapes::HTML).0).unwrap_or_default()
    }

    /// The decoded text of a range of [`source`](Self::source), escapes as given.
    pub fn text(&self, range: Range<usize>, esc: Escapes) -> String {
        self.decode(range, esc).0
    }
}

/// Decoded text with its map and charset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// Text offsets → original byte offsets.
    pub map: OffsetMap,
    /// Its encoding and how it was found.
    pub charset: Charset,
    /// Invalid or truncated sequences replaced by U+FFFD.
    pub invalid_sequences: usize,
}

/// Decodes plain text: BOM, else `hint` (a declared charset, from a MIME header say), else an
/// XML declaration, else detection (TLD hint `cn`).
///
/// ```
/// let (gbk, _, _) = encoding_rs::GBK.encode("这是一个测试文本，用来检查编码识别是否正确。");
/// let d = lexguard_extract::decode_text(&gbk, None);
/// assert_eq!(d.charset.encoding, encoding_rs::GBK);
/// assert!(d.text.starts_with("这是"));
/// assert_eq!(d.map.to_orig(0..3), 0..2);
/// ```
pub fn decode_text(bytes: &[u8], hint: Option<&'static Encoding>) -> Decoded {
    let opts = Options::default().encoding(hint);
    let charset = charset::sniff(bytes, opts.sniff(false));
    let mut b = MapBuilder::default();
    let invalid = decode::decode_into(bytes, charset.bom_len..bytes.len(), charset.encoding, Escapes::NONE, &mut b);
    let (text, map) = b.finish();
    Decoded { text, map, charset, invalid_sequences: invalid }
}

/// Extracts an HTML document.
pub fn extract_html<'a>(bytes: &'a [u8], opts: &Options) -> Extracted<'a> {
    Extractor::new(opts.clone()).html(bytes)
}

/// Extracts the segments of documents of several kinds with one set of options.
#[derive(Clone, Debug, Default)]
pub struct Extractor {
    opts: Options,
}

/// Ensures `source` can be tokenized as ASCII: for other encodings, decode it whole first.
fn prepare<'a>(bytes: &'a [u8], cs: &Charset, invalid: &mut usize) -> (Cow<'a, [u8]>, Option<OffsetMap>, usize) {
    if cs.encoding.is_ascii_compatible() {
        return (Cow::Borrowed(bytes), None, cs.bom_len);
    }
    let mut b = MapBuilder::default();
    *invalid += decode::decode_into(bytes, cs.bom_len..bytes.len(), cs.encoding, Escapes::NONE, &mut b);
    let (t, m) = b.finish();
    (Cow::Owned(t.into_bytes()), Some(m), 0)
}

impl Extractor {
    /// An extractor with these options.
    pub fn new(opts: Options) -> Extractor {
        Extractor { opts }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The charset of an HTML (`html = true`) or other document.
    pub fn charset(&self, bytes: &[u8], html: bool) -> Charset {
        charset::sniff(bytes, self.opts.sniff(html))
    }

    /// Extracts an HTML page.
    pub fn html<'a>(&self, bytes: &'a [u8]) -> Extracted<'a> {
        self.markup(bytes, false)
    }

    /// Extracts a server-side template (PHP, ASP, JSP): HTML with code blocks, read by the
    /// tolerant tokenizer (lol_html would read `<?php` as a bogus comment).
    pub fn template<'a>(&self, bytes: &'a [u8]) -> Extracted<'a> {
        self.markup(bytes, true)
    }

    fn markup<'a>(&self, bytes: &'a [u8], templates: bool) -> Extracted<'a> {
        let charset = charset::sniff(bytes, self.opts.sniff(true));
        let mut invalid = 0;
        let (source, doc_map, start) = prepare(bytes, &charset, &mut invalid);
        let mut notes = Vec::new();
        let enc = if doc_map.is_some() { encoding_rs::UTF_8 } else { charset.encoding };
        let (events, parser) = if templates || self.opts.parser == Parser::Tolerant {
            (html::tokenize(&source, start, templates), ParserUsed::Tolerant)
        } else {
            match html::lol_events(&source, start, enc) {
                Ok(ev) => (ev, ParserUsed::LolHtml),
                Err(e) => {
                    notes.push(format!("lol_html could not read the markup ({e}); read with the tolerant parser"));
                    (html::tokenize(&source, start, false), ParserUsed::Tolerant)
                }
            }
        };
        let mut doc = Extracted {
            charset,
            parser,
            segments: Vec::new(),
            events,
            invalid_sequences: invalid,
            notes,
            source,
            doc_map,
        };
        build_segments(&mut doc, self.opts.code_literals);
        doc
    }

    /// Extracts a document that is one segment of `kind` (plain text, a script, JSON),
    /// decoding the escapes of `esc`.
    pub fn plain<'a>(&self, bytes: &'a [u8], kind: SegmentKind, esc: Escapes) -> Extracted<'a> {
        let charset = charset::sniff(bytes, self.opts.sniff(false));
        let mut invalid = 0;
        let mut b = MapBuilder::default();
        invalid += decode::decode_into(bytes, charset.bom_len..bytes.len(), charset.encoding, esc, &mut b);
        let (text, map) = b.finish();
        let segments = if text.is_empty() { Vec::new() } else { vec![Segment::new(text, kind, map)] };
        Extracted {
            charset,
            parser: ParserUsed::None,
            segments,
            events: Vec::new(),
            invalid_sequences: invalid,
            notes: Vec::new(),
            source: Cow::Borrowed(bytes),
            doc_map: None,
        }
    }

    /// A code file (JavaScript, JSON, PHP without markup): the string literals and comments as
    /// one segment of `kind` (the whole text when [`Options::code_literals`] is off), with the
    /// escapes of `esc` decoded.
    pub fn code<'a>(&self, bytes: &'a [u8], lang: code::CodeLang, kind: SegmentKind, esc: Escapes) -> Extracted<'a> {
        if !self.opts.code_literals {
            return self.plain(bytes, kind, esc);
        }
        let charset = charset::sniff(bytes, self.opts.sniff(false));
        let mut invalid = 0;
        let (source, doc_map, start) = prepare(bytes, &charset, &mut invalid);
        let enc = if doc_map.is_some() { encoding_rs::UTF_8 } else { charset.encoding };
        let ranges = code::text_ranges(&source, start..source.len(), lang);
        let mut segments = Vec::new();
        if let Some((text, map)) = join_ranges(&source, enc, &ranges, esc, &mut invalid) {
            let map = match &doc_map {
                Some(d) => map.through(d),
                None => map,
            };
            segments.push(Segment::new(text, kind, map));
        }
        Extracted {
            charset,
            parser: ParserUsed::None,
            segments,
            events: Vec::new(),
            invalid_sequences: invalid,
            notes: Vec::new(),
            source,
            doc_map,
        }
    }

    /// Plain text.
    pub fn text<'a>(&self, bytes: &'a [u8]) -> Extracted<'a> {
        self.plain(bytes, SegmentKind::Text, Escapes::NONE)
    }

    /// A JavaScript file: string literals and comments, `\uXXXX`, `\xXX` and `%XX` escapes
    /// decoded.
    pub fn script<'a>(&self, bytes: &'a [u8]) -> Extracted<'a> {
        self.code(bytes, code::CodeLang::Js, SegmentKind::Script, Escapes::BACKSLASH | Escapes::PERCENT)
    }

    /// A JSON file: string values, `\uXXXX` escapes decoded.
    pub fn json<'a>(&self, bytes: &'a [u8]) -> Extracted<'a> {
        self.code(bytes, code::CodeLang::Json, SegmentKind::Text, Escapes::BACKSLASH)
    }
}

/// Whether a `<meta>` of this name (or Open Graph property) carries text that search engines
/// and link previews show: description and keywords, and the titles and descriptions of Open
/// Graph and Twitter cards.
pub fn is_indexed_meta(name: &str) -> bool {
    matches!(
        name,
        "description"
            | "keywords"
            | "og:title"
            | "og:description"
            | "og:site_name"
            | "twitter:title"
            | "twitter:description"
            | "application-name"
            | "subject"
            | "abstract"
    )
}

/// Decodes `ranges` of `source` into one text, line breaks between them.
fn join_ranges(
    source: &[u8],
    enc: &'static Encoding,
    ranges: &[Range<usize>],
    esc: Escapes,
    invalid: &mut usize,
) -> Option<(String, OffsetMap)> {
    // A line break and the text of each range, most of them without escapes: room for that
    // at once (growing piece by piece was ~1 % of a site scan's CPU).
    let text_len: usize = ranges.iter().map(|r| r.len() + 1).sum();
    let mut b = MapBuilder::with_capacity(text_len, 2 * ranges.len());
    // UTF-8 is validated once from the first range to the last, not range by range: a file's
    // string literals are many short ranges, on which SIMD validation hands over to std's.
    let span = match (ranges.first(), ranges.last()) {
        (Some(first), Some(last)) if enc == encoding_rs::UTF_8 => {
            let (s, e) = (first.start.min(source.len()), last.end.min(source.len()));
            source.get(s..e).and_then(|t| simdutf8::basic::from_utf8(t).ok()).map(|t| (s, t))
        }
        _ => None,
    };
    for r in ranges {
        if !b.is_empty() {
            b.push_inserted("\n", r.start);
        }
        let valid = span.and_then(|(s, t)| t.get(r.start.checked_sub(s)?..r.end.checked_sub(s)?));
        match valid {
            Some(text) => decode::push_valid(text, r.start, esc, &mut b),
            None => *invalid += decode::decode_into(source, r.clone(), enc, esc, &mut b),
        }
    }
    b.trim_inserted_end();
    let (t, m) = b.finish();
    (!t.trim().is_empty()).then_some((t, m))
}

/// Builds the segments of a markup document from its events.
fn build_segments(doc: &mut Extracted<'_>, doc_code_literals: bool) {
    let mut segs: Vec<Segment> = Vec::new();
    let mut flow = MapBuilder::default();
    let src_enc = doc.source_encoding();
    let mut invalid = 0;
    let decode_seg = |range: Range<usize>, esc: Escapes, invalid: &mut usize| {
        let mut b = MapBuilder::default();
        *invalid += decode::decode_into(&doc.source, range, src_enc, esc, &mut b);
        b.finish()
    };
    let push = |segs: &mut Vec<Segment>, (text, map): (String, OffsetMap), kind: SegmentKind| {
        if !text.trim().is_empty() {
            segs.push(Segment::new(text, kind, map));
        }
    };
    for ev in &doc.events {
        match ev {
            Event::Start(tag) => {
                if !html::is_inline(&tag.name) {
                    line_break(&mut flow, tag.range.start);
                }
                for a in &tag.attrs {
                    let Some(v) = a.value.clone() else { continue };
                    let kind = match (tag.name.as_str(), a.name.as_str()) {
                        // Text people see or hear: tooltips, image text, field hints, labels
                        // read out by screen readers, the words on buttons.
                        (_, "alt" | "title" | "placeholder" | "aria-label") => {
                            SegmentKind::Attr { name: a.name.clone() }
                        }
                        ("input", "value")
                            if tag.attr("type").and_then(|t| t.value.clone()).is_some_and(|t| {
                                let t = &doc.source[t];
                                [&b"submit"[..], b"button", b"reset"].iter().any(|v| t.eq_ignore_ascii_case(v))
                            }) =>
                        {
                            SegmentKind::Attr { name: a.name.clone() }
                        }
                        ("a" | "area", "href") | ("iframe" | "frame", "src") => SegmentKind::Url,
                        ("meta", "content") => {
                            // `name=` or, for Open Graph, `property=`.
                            let named = tag.attr("name").or_else(|| tag.attr("property"));
                            let Some(n) = named.and_then(|n| n.value.clone()) else { continue };
                            let n = String::from_utf8_lossy(&doc.source[n]).trim().to_ascii_lowercase();
                            if !is_indexed_meta(&n) {
                                continue;
                            }
                            SegmentKind::Attr { name: n }
                        }
                        _ => continue,
                    };
                    let esc = if kind == SegmentKind::Url { Escapes::HTML | Escapes::PERCENT } else { Escapes::HTML };
                    push(&mut segs, decode_seg(v, esc, &mut invalid), kind);
                }
            }
            Event::End { name, range } => {
                if !html::is_inline(name) {
                    line_break(&mut flow, range.start);
                }
            }
            Event::Text { range, kind } => match kind {
                TextKind::Data | TextKind::Textarea => {
                    invalid += decode::decode_into(&doc.source, range.clone(), src_enc, Escapes::HTML, &mut flow);
                }
                TextKind::Title => {
                    push(&mut segs, decode_seg(range.clone(), Escapes::HTML, &mut invalid), SegmentKind::Title)
                }
                TextKind::Script if doc_code_literals => {
                    let ranges = code::text_ranges(&doc.source, range.clone(), code::CodeLang::Js);
                    if let Some(t) = join_ranges(&doc.source, src_enc, &ranges, Escapes::ALL, &mut invalid) {
                        push(&mut segs, t, SegmentKind::Script);
                    }
                }
                TextKind::Script => {
                    push(&mut segs, decode_seg(range.clone(), Escapes::ALL, &mut invalid), SegmentKind::Script)
                }
                TextKind::Style => {
                    push(&mut segs, decode_seg(range.clone(), Escapes::NONE, &mut invalid), SegmentKind::Style)
                }
                TextKind::RawOther => {
                    push(&mut segs, decode_seg(range.clone(), Escapes::NONE, &mut invalid), SegmentKind::Text)
                }
            },
            Event::Comment { .. } => {}
            Event::Code { range, kind } => {
                line_break(&mut flow, range.start);
                let esc = Escapes::HTML | Escapes::BACKSLASH;
                if doc_code_literals {
                    let lang = if *kind == html::CodeKind::Php { code::CodeLang::Php } else { code::CodeLang::CLike };
                    let ranges = code::text_ranges(&doc.source, range.clone(), lang);
                    if let Some(t) = join_ranges(&doc.source, src_enc, &ranges, esc, &mut invalid) {
                        push(&mut segs, t, SegmentKind::Code);
                    }
                } else {
                    push(&mut segs, decode_seg(range.clone(), esc, &mut invalid), SegmentKind::Code);
                }
            }
        }
    }
    flow.trim_inserted_end();
    if !flow.is_empty() {
        push(&mut segs, flow.finish(), SegmentKind::Text);
    }
    if let Some(d) = &doc.doc_map {
        for s in &mut segs {
            s.map = s.map.through(d);
        }
    }
    doc.segments = segs;
    doc.invalid_sequences += invalid;
}

fn line_break(flow: &mut MapBuilder, at: usize) {
    if !flow.is_empty() && !flow.text.ends_with('\n') {
        flow.push_inserted("\n", at);
    }
}

#[cfg(test)]
mod tests;
