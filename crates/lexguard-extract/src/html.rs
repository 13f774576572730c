//! HTML and template markup: a stream of events (start tags with attribute spans, end tags,
//! text, comments, server-side code blocks), from lol_html or from the tolerant tokenizer.
//!
//! Every range in an event indexes the bytes the markup was read from: the original bytes for
//! ASCII-compatible encodings, or the decoded UTF-8 text for UTF-16 and ISO-2022-JP (see
//! [`Extracted::orig_range`](crate::Extracted::orig_range)).

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;
use std::sync::LazyLock;

use encoding_rs::Encoding;
use lol_html::errors::RewritingError;
use lol_html::html_content::{Element, EndTag, TextChunk, TextType};
use lol_html::{
    AsciiCompatibleEncoding, DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, MemorySettings, Settings,
};

/// One attribute of a start tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    /// The name, lowercased.
    pub name: String,
    /// The raw value (entities not decoded), without quotes; `None` for a bare attribute.
    pub value: Option<Range<usize>>,
}

/// A start tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The element name, lowercased.
    pub name: String,
    /// The whole tag, `<` to `>`.
    pub range: Range<usize>,
    /// The attributes in source order (duplicates kept; the first one counts).
    pub attrs: Vec<Attr>,
    /// Written as `<x/>`.
    pub self_closing: bool,
}

impl Tag {
    /// The first attribute of this name.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// Whether the tag has this attribute (with or without a value).
    pub fn has_attr(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
}

/// What kind of text a text event holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextKind {
    /// Ordinary text content (entities apply).
    Data,
    /// The body of `<title>`.
    Title,
    /// The body of `<textarea>` (entities apply).
    Textarea,
    /// The body of `<script>`.
    Script,
    /// The body of `<style>`.
    Style,
    /// Other raw text (`<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`).
    RawOther,
}

/// The language of a server-side code block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// `<?php … ?>`, `<?= … ?>`, `<? … ?>`.
    Php,
    /// `<% … %>` (ASP, ASP.NET, JSP).
    Asp,
}

/// One markup event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A start tag.
    Start(Tag),
    /// An end tag.
    End {
        /// The element name, lowercased.
        name: String,
        /// The whole tag.
        range: Range<usize>,
    },
    /// Text.
    Text {
        /// The raw text (entities not decoded).
        range: Range<usize>,
        /// What it is.
        kind: TextKind,
    },
    /// A comment's content.
    Comment {
        /// Between `<!--` and `-->`.
        range: Range<usize>,
    },
    /// A server-side code block's content (templates only).
    Code {
        /// Between the delimiters.
        range: Range<usize>,
        /// Which language.
        kind: CodeKind,
    },
}

/// Raw-text elements: their content runs to the matching end tag.
fn raw_kind(name: &str) -> Option<TextKind> {
    Some(match name {
        "script" => TextKind::Script,
        "style" => TextKind::Style,
        "title" => TextKind::Title,
        "textarea" => TextKind::Textarea,
        "xmp" | "iframe" | "noembed" | "noframes" => TextKind::RawOther,
        _ => return None,
    })
}

/// Elements whose boundaries do not break words (text on both sides reads as one).
pub(crate) fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "b"
            | "bdi"
            | "bdo"
            | "big"
            | "cite"
            | "code"
            | "data"
            | "del"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "img"
            | "ins"
            | "kbd"
            | "label"
            | "mark"
            | "nobr"
            | "q"
            | "rp"
            | "rt"
            | "ruby"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "tt"
            | "u"
            | "var"
            | "wbr"
    )
}

/// Attributes kept per tag (a tag of a million attributes is made to exhaust memory), beyond
/// which only the first of each name in [`READ_PAST_CAP`] is kept.
const MAX_ATTRS: usize = 256;

/// Attributes the checks read (hiding, links, visible text, meta and marquee settings): kept
/// past [`MAX_ATTRS`], so that junk attributes written before `style` cannot hide it.
const READ_PAST_CAP: [&str; 20] = [
    "style",
    "class",
    "id",
    "hidden",
    "href",
    "src",
    "alt",
    "title",
    "placeholder",
    "aria-label",
    "value",
    "type",
    "name",
    "property",
    "content",
    "http-equiv",
    "rel",
    "width",
    "height",
    "scrollamount",
];

/// Which attributes of one tag are kept: the first [`MAX_ATTRS`], then the first of each name
/// in [`READ_PAST_CAP`].
#[derive(Default)]
struct AttrCap {
    kept: usize,
    /// A bit per name of [`READ_PAST_CAP`] kept already.
    seen: u32,
}

impl AttrCap {
    fn keep(&mut self, name: &str) -> bool {
        let listed = READ_PAST_CAP.iter().position(|&n| n == name);
        if self.kept < MAX_ATTRS {
            self.kept += 1;
            if let Some(k) = listed {
                self.seen |= 1 << k;
            }
            return true;
        }
        match listed {
            Some(k) if self.seen & 1 << k == 0 => {
                self.seen |= 1 << k;
                true
            }
            _ => false,
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Parses the start tag at `src[at] == b'<'` (followed by a letter). Returns the tag and the
/// offset after it. An unterminated tag ends at the end of the input.
pub fn parse_tag(src: &[u8], at: usize) -> Option<(Tag, usize)> {
    let mut i = at + 1;
    if !src.get(i)?.is_ascii_alphabetic() {
        return None;
    }
    let ns = i;
    while i < src.len() && !is_ws(src[i]) && src[i] != b'/' && src[i] != b'>' {
        i += 1;
    }
    let name = String::from_utf8_lossy(&src[ns..i]).to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut cap = AttrCap::default();
    let mut self_closing = false;
    loop {
        while i < src.len() && (is_ws(src[i]) || src[i] == b'/') {
            if src[i] == b'/' && src.get(i + 1) == Some(&b'>') {
                self_closing = true;
            }
            i += 1;
        }
        if i >= src.len() {
            break;
        }
        if src[i] == b'>' {
            i += 1;
            break;
        }
        let an = i;
        i += 1; // the first character may be anything, even `=`
        while i < src.len() && !is_ws(src[i]) && src[i] != b'/' && src[i] != b'>' && src[i] != b'=' {
            i += 1;
        }
        let aname = &src[an..i];
        while i < src.len() && is_ws(src[i]) {
            i += 1;
        }
        let mut value = None;
        if i < src.len() && src[i] == b'=' {
            i += 1;
            while i < src.len() && is_ws(src[i]) {
                i += 1;
            }
            if i < src.len() && (src[i] == b'"' || src[i] == b'\'') {
                let q = src[i];
                let vs = i + 1;
                let ve = memchr::memchr(q, &src[vs..]).map_or(src.len(), |p| vs + p);
                value = Some(vs..ve);
                i = (ve + 1).min(src.len());
            } else {
                let vs = i;
                while i < src.len() && !is_ws(src[i]) && src[i] != b'>' {
                    i += 1;
                }
                value = Some(vs..i);
            }
        }
        let aname = String::from_utf8_lossy(aname).to_ascii_lowercase();
        if cap.keep(&aname) {
            attrs.push(Attr { name: aname, value });
        }
    }
    Some((Tag { name, range: at..i, attrs, self_closing }, i))
}

/// Finds `</name` (any case) followed by a delimiter, from `from`.
fn find_end_tag(src: &[u8], from: usize, name: &str) -> Option<usize> {
    let n = name.as_bytes();
    let mut pos = from;
    static END_TAG: LazyLock<memchr::memmem::Finder<'static>> = LazyLock::new(|| memchr::memmem::Finder::new(b"</"));
    while let Some(p) = END_TAG.find(&src[pos..]) {
        let at = pos + p;
        let after = at + 2 + n.len();
        if src.len() >= after
            && src[at + 2..after].eq_ignore_ascii_case(n)
            && src.get(after).is_none_or(|&b| is_ws(b) || b == b'>' || b == b'/')
        {
            return Some(at);
        }
        pos = at + 2;
    }
    None
}

fn push_text(out: &mut Vec<Event>, range: Range<usize>, kind: TextKind) {
    if range.start < range.end {
        out.push(Event::Text { range, kind });
    }
}

/// Where an event ends.
pub fn event_end(e: &Event) -> usize {
    match e {
        Event::Start(t) => t.range.end,
        Event::End { range, .. } | Event::Text { range, .. } | Event::Code { range, .. } => range.end,
        Event::Comment { range } => range.end + 3,
    }
}

/// The tolerant tokenizer: never fails, never looks back, linear time. With `templates`,
/// `<?php … ?>` and `<% … %>` blocks are code events.
pub fn tokenize(src: &[u8], start: usize, templates: bool) -> Vec<Event> {
    let mut out = Vec::new();
    let mut pos = start.min(src.len());
    let mut text_start = pos;
    let find = |from: usize, pat: &[u8]| memchr::memmem::find(&src[from.min(src.len())..], pat).map(|p| from + p);
    while let Some(p) = memchr::memchr(b'<', &src[pos..]) {
        let at = pos + p;
        let next = src.get(at + 1).copied();
        match next {
            Some(b'!') => {
                push_text(&mut out, text_start..at, TextKind::Data);
                if src[at..].starts_with(b"<!--") {
                    let end = find(at + 4, b"-->");
                    out.push(Event::Comment { range: at + 4..end.unwrap_or(src.len()) });
                    pos = end.map_or(src.len(), |e| e + 3);
                } else if src[at..].starts_with(b"<![CDATA[") {
                    let end = find(at + 9, b"]]>");
                    push_text(&mut out, at + 9..end.unwrap_or(src.len()), TextKind::Data);
                    pos = end.map_or(src.len(), |e| e + 3);
                } else {
                    pos = memchr::memchr(b'>', &src[at..]).map_or(src.len(), |e| at + e + 1);
                }
            }
            Some(b'?') => {
                push_text(&mut out, text_start..at, TextKind::Data);
                let is_xml = src[at..].len() >= 5 && src[at + 2..at + 5].eq_ignore_ascii_case(b"xml");
                if templates && !is_xml {
                    let body = if src[at..].len() >= 5 && src[at + 2..at + 5].eq_ignore_ascii_case(b"php") {
                        at + 5
                    } else {
                        at + 2
                    };
                    let end = find(body, b"?>");
                    out.push(Event::Code { range: body..end.unwrap_or(src.len()), kind: CodeKind::Php });
                    pos = end.map_or(src.len(), |e| e + 2);
                } else if is_xml {
                    pos = find(at, b"?>").map_or(src.len(), |e| e + 2);
                } else {
                    pos = memchr::memchr(b'>', &src[at..]).map_or(src.len(), |e| at + e + 1);
                }
            }
            Some(b'%') if templates => {
                push_text(&mut out, text_start..at, TextKind::Data);
                let end = find(at + 2, b"%>");
                out.push(Event::Code { range: at + 2..end.unwrap_or(src.len()), kind: CodeKind::Asp });
                pos = end.map_or(src.len(), |e| e + 2);
            }
            Some(b'/') if src.get(at + 2).is_some_and(u8::is_ascii_alphabetic) => {
                push_text(&mut out, text_start..at, TextKind::Data);
                let ns = at + 2;
                let mut i = ns;
                while i < src.len() && !is_ws(src[i]) && src[i] != b'/' && src[i] != b'>' {
                    i += 1;
                }
                let name = String::from_utf8_lossy(&src[ns..i]).to_ascii_lowercase();
                let end = memchr::memchr(b'>', &src[i..]).map_or(src.len(), |e| i + e + 1);
                out.push(Event::End { name, range: at..end });
                pos = end;
            }
            Some(c) if c.is_ascii_alphabetic() => {
                push_text(&mut out, text_start..at, TextKind::Data);
                let Some((tag, end)) = parse_tag(src, at) else {
                    pos = at + 1;
                    continue;
                };
                let raw = if tag.self_closing && tag.name != "script" { None } else { raw_kind(&tag.name) };
                let name = tag.name.clone();
                out.push(Event::Start(tag));
                pos = end;
                if let Some(kind) = raw {
                    let close = find_end_tag(src, end, &name);
                    push_text(&mut out, end..close.unwrap_or(src.len()), kind);
                    match close {
                        Some(c) => {
                            let e = memchr::memchr(b'>', &src[c..]).map_or(src.len(), |x| c + x + 1);
                            out.push(Event::End { name, range: c..e });
                            pos = e;
                        }
                        None => pos = src.len(),
                    }
                }
            }
            _ => {
                // A lone `<`: text.
                pos = at + 1;
                continue;
            }
        }
        text_start = pos;
    }
    push_text(&mut out, text_start..src.len(), TextKind::Data);
    out
}

/// What lol_html may hold for its buffers and its stack of open elements (the bytes it
/// counts): 20,000 open elements fit in it and 40,000 do not, far beyond any real page (it
/// closes omitted `</p>`, `</li>`, `</td>` itself); a start tag of ~8 MB does not either. Past
/// it lol_html gives up and the page is read by the tolerant tokenizer, which keeps no stack:
/// a 4 MB page of 300,000 unclosed tags peaked at 161 MB with lol_html and 105 MB without, a
/// 4 MB start tag at 102 and 31 MB.
pub(crate) const LOL_MEMORY: usize = 8 << 20;

/// Events from lol_html. `Err` when lol_html rejects the markup (it is strict about
/// ambiguous constructs) or cannot parse the encoding.
pub fn lol_events(src: &[u8], start: usize, encoding: &'static Encoding) -> Result<Vec<Event>, String> {
    let enc =
        AsciiCompatibleEncoding::new(encoding).ok_or_else(|| format!("{} is not ASCII-compatible", encoding.name()))?;
    let events: Rc<RefCell<Vec<Event>>> = Rc::new(RefCell::new(Vec::new()));
    // The element whose raw text comes next (title/textarea/style/…).
    let raw_name: Rc<RefCell<Option<TextKind>>> = Rc::new(RefCell::new(None));
    let (ev_el, ev_text, raw_el, raw_text) = (events.clone(), events.clone(), raw_name.clone(), raw_name.clone());
    let element_handler = move |el: &mut Element<'_, '_>| {
        let loc = el.source_location().bytes();
        let name = el.tag_name();
        let mut cap = AttrCap::default();
        let attrs = el
            .attributes()
            .iter()
            .map(|a| (a, a.name()))
            .filter(|(_, name)| cap.keep(name))
            .map(|(a, name)| Attr {
                name,
                value: a.value_source_location().map(|l| l.bytes().start + start..l.bytes().end + start),
            })
            .collect();
        *raw_el.borrow_mut() = raw_kind(&name);
        let tag = Tag {
            name: name.clone(),
            range: loc.start + start..loc.end + start,
            attrs,
            self_closing: el.is_self_closing(),
        };
        ev_el.borrow_mut().push(Event::Start(tag));
        if el.can_have_content() {
            let ev_end = ev_el.clone();
            el.on_end_tag(Box::new(move |end: &mut EndTag<'_>| {
                let loc = end.source_location().bytes();
                ev_end.borrow_mut().push(Event::End { name: end.name(), range: loc.start + start..loc.end + start });
                Ok(())
            }))?;
        }
        Ok(())
    };
    let text_handler = move |t: &mut TextChunk<'_>| {
        let loc = t.source_location().bytes();
        if loc.start == loc.end {
            return Ok(());
        }
        let kind = match t.text_type() {
            TextType::ScriptData => TextKind::Script,
            TextType::RawText | TextType::RCData => raw_text.borrow().unwrap_or(TextKind::RawOther),
            _ => TextKind::Data,
        };
        let range = loc.start + start..loc.end + start;
        let mut ev = ev_text.borrow_mut();
        if let Some(Event::Text { range: r, kind: k }) = ev.last_mut() {
            if *k == kind && r.end == range.start {
                r.end = range.end;
                return Ok(());
            }
        }
        ev.push(Event::Text { range, kind });
        Ok(())
    };
    let settings = Settings::new()
        .with_encoding(enc)
        .with_strict(true)
        .with_memory_settings(MemorySettings::new().with_max_allowed_memory_usage(LOL_MEMORY))
        .append_element_content_handler((
            std::borrow::Cow::Owned("*".parse().expect("valid selector")),
            ElementContentHandlers::default().element(element_handler),
        ))
        .append_document_content_handler(DocumentContentHandlers::default().text(text_handler));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    let why = |e: RewritingError| match e {
        RewritingError::MemoryLimitExceeded(_) => format!(
            "past its memory limit of {} MB: tens of thousands of unclosed or nested tags, or one huge tag",
            LOL_MEMORY >> 20
        ),
        e => e.to_string(),
    };
    rewriter.write(&src[start..]).map_err(why)?;
    rewriter.end().map_err(why)?;
    drop(raw_name);
    let mut events = Rc::try_unwrap(events).map(RefCell::into_inner).unwrap_or_else(|rc| rc.borrow().clone());
    // lol_html holds back text it cannot finish (a truncated character at the very end):
    // the tail is text all the same.
    let covered = events.iter().map(event_end).max().unwrap_or(start);
    if covered < src.len() && memchr::memchr2(b'<', b'>', &src[covered..]).is_none() {
        push_text(&mut events, covered..src.len(), TextKind::Data);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ev: &[Event], src: &[u8]) -> Vec<String> {
        ev.iter()
            .map(|e| match e {
                Event::Start(t) => format!("<{}>", t.name),
                Event::End { name, .. } => format!("</{name}>"),
                Event::Text { range, kind } => format!("{kind:?}:{}", String::from_utf8_lossy(&src[range.clone()])),
                Event::Comment { .. } => "comment".into(),
                Event::Code { range, .. } => format!("code:{}", String::from_utf8_lossy(&src[range.clone()])),
            })
            .collect()
    }

    #[test]
    fn attributes_past_the_cap_keep_the_first_of_each_read_name() {
        let junk: String = (0..MAX_ATTRS + 50).map(|i| format!(" a{i}=1")).collect();
        let src = format!(r#"<div{junk} style="display:none" style="x" onclick="y" href="h">t</div>"#);
        let lol = lol_events(src.as_bytes(), 0, encoding_rs::UTF_8).unwrap();
        for ev in [lol, tokenize(src.as_bytes(), 0, false)] {
            let Some(Event::Start(tag)) = ev.first() else { panic!("{ev:?}") };
            let names: Vec<&str> = tag.attrs[MAX_ATTRS..].iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, ["style", "href"]);
            assert_eq!(&src.as_bytes()[tag.attr("style").unwrap().value.clone().unwrap()], b"display:none");
        }
    }

    #[test]
    fn tolerant_tokenizer() {
        let src = b"<p class=x>a<b>b</b><!-- c --><script>if(a<b)x='</p>'</script><title>T</title>< x <?php echo 1 ?>";
        let ev = tokenize(src, 0, true);
        assert_eq!(
            names(&ev, src),
            [
                "<p>",
                "Data:a",
                "<b>",
                "Data:b",
                "</b>",
                "comment",
                "<script>",
                "Script:if(a<b)x='</p>'",
                "</script>",
                "<title>",
                "Title:T",
                "</title>",
                "Data:< x ",
                "code: echo 1 "
            ]
        );
        let Event::Start(t) = &ev[0] else { panic!() };
        assert_eq!(&src[t.attr("class").unwrap().value.clone().unwrap()], b"x");
    }

    #[test]
    fn malformed_never_panics() {
        for src in [&b"<"[..], b"<a", b"<a href='x", b"<!--", b"<script>", b"</", b"<?", b"<%", b"<a =x>", b"<![CDATA["]
        {
            let _ = tokenize(src, 0, true);
            let _ = lol_events(src, 0, encoding_rs::UTF_8);
        }
    }

    #[test]
    fn lol_html_events_match() {
        let src = b"<html><head><title>T</title></head><body><p id=a>x&amp;y<a href=\"http://e.com/\">l</a></p><style>.a{}</style></body></html>";
        let ev = lol_events(src, 0, encoding_rs::UTF_8).unwrap();
        let n = names(&ev, src);
        assert!(n.contains(&"Title:T".to_string()), "{n:?}");
        assert!(n.contains(&"Data:x&amp;y".to_string()), "{n:?}");
        assert!(n.contains(&"Style:.a{}".to_string()), "{n:?}");
        let a = ev.iter().find_map(|e| match e {
            Event::Start(t) if t.name == "a" => Some(t.clone()),
            _ => None,
        });
        assert_eq!(&src[a.unwrap().attr("href").unwrap().value.clone().unwrap()], b"http://e.com/");
    }
}
