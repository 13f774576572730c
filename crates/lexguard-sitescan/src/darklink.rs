//! Darklink (暗链) findings: hidden elements that hold links to outside hosts, tiny or
//! racing marquees, hidden iframes, script-injected hidden markup or outside links (also
//! through unescape/atob/fromCharCode/packed code), and cloaking (spider or search-referrer
//! checks followed by a redirect, remote include or echo).
//!
//! Hiding rules come from inline styles, `<style>` blocks and local stylesheets linked with
//! `<link rel="stylesheet" href="...">` when the href resolves to a file inside the scanned
//! directory (relative to the page, else to the site root; root-relative hrefs and links to
//! the site's own domains from the site root). Nothing is ever fetched over the network;
//! stylesheets are read up to [`STYLESHEET_LIMIT`] bytes and parsed once per scan
//! ([`Stylesheets`]).
//!
//! CSS rules alone never raise a finding; hidden menus with own links never do; known
//! analytics snippets do not.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use base64::Engine as _;
use lexguard::Filter;
use lexguard_extract::code::{CodeLang, text_ranges};
use lexguard_extract::html::{self, Attr, Event, Tag, TextKind};
use lexguard_extract::{Escapes, Extracted, unescape};
use regex::Regex;

use crate::finding::{Finding, Kind};
use crate::lines::Lines;
use crate::walk::absolute_lexical;

/// Which hosts are the site's own.
#[derive(Clone, Debug, Default)]
pub struct Sites {
    own: Vec<String>,
}

/// Script hosts of known analytics and site-tool snippets: links to them are not darklinks.
const ANALYTICS: &[&str] = &[
    "google-analytics.com",
    "googletagmanager.com",
    "hm.baidu.com",
    "zz.bdstatic.com",
    "push.zhanzhang.baidu.com",
    "cnzz.com",
    "51.la",
    "tajs.qq.com",
    "pingjs.qq.com",
    "statcounter.com",
    "connect.facebook.net",
    "platform.twitter.com",
    "static.addtoany.com",
    "s.w.org",
    "stats.wp.com",
    "matomo.cloud",
];

impl Sites {
    /// The site's own domains (`example.com` covers its subdomains).
    pub fn new(own: impl IntoIterator<Item = String>) -> Sites {
        Sites {
            own: own
                .into_iter()
                .map(|d| d.trim().trim_start_matches("www.").trim_end_matches('.').to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// The host of an absolute `http(s)://` or `//` link outside the site; `None` for own,
    /// relative and non-web links.
    pub fn outside_host(&self, href: &str) -> Option<String> {
        let h = href.trim();
        let lower = h.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"))
            .or_else(|| lower.strip_prefix("//"))?;
        let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
        let auth = &rest[..end];
        let host = auth.rsplit('@').next().unwrap_or(auth);
        let host = host.split(':').next().unwrap_or(host).trim_end_matches('.');
        if host.is_empty() || !host.contains('.') && host != "localhost" {
            return None;
        }
        let own = self.own.iter().any(|d| host == d || host.ends_with(&format!(".{d}")));
        (!own).then(|| host.to_string())
    }
}

impl Sites {
    /// The path part of an absolute `http(s)://` or `//` link to one of the site's own
    /// domains (`/css/a.css`); `None` for anything else.
    pub fn own_path<'h>(&self, href: &'h str) -> Option<&'h str> {
        let h = href.trim();
        let lower = h.to_ascii_lowercase();
        let skip = ["http://", "https://", "//"].iter().find(|p| lower.starts_with(*p))?.len();
        if self.outside_host(h).is_some() || self.own.is_empty() {
            return None;
        }
        let rest = &h[skip..];
        let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
        Some(if end == rest.len() { "/" } else { &rest[end..] })
    }
}

fn is_analytics(host: &str) -> bool {
    ANALYTICS.iter().any(|a| host == *a || host.ends_with(&format!(".{a}")))
}

/// A CSS length in px (`0`, `-9999px`, `-60em`, `calc(-1 * 9999px)`); `None` when it is not
/// one. Viewport units count a viewport of 1000 × 700 px, a small one: far off-screen on it is
/// far off-screen on any.
fn px(v: &str) -> Option<f64> {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix("calc(").and_then(|c| c.strip_suffix(')')) {
        return calc_px(inner);
    }
    let num_end = v.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+')).unwrap_or(v.len());
    let n: f64 = v[..num_end].parse().ok()?;
    let unit = &v[num_end..];
    Some(match unit {
        "" | "px" => n,
        "em" | "rem" => n * 16.0,
        "pt" => n * 4.0 / 3.0,
        "%" if n == 0.0 => 0.0,
        "%" => return None,
        "vw" | "vmax" => n * 10.0,
        "vh" | "vmin" => n * 7.0,
        "cm" => n * 37.8,
        "mm" => n * 3.78,
        "in" => n * 96.0,
        _ => return None,
    })
}

/// The value in px of a `calc()` expression of lengths added and subtracted, each maybe
/// multiplied or divided by a number (`-100vw - 50px`, `-1*9999px`); `None` for anything else
/// (percentages, nested functions).
fn calc_px(expr: &str) -> Option<f64> {
    let spaced = expr.replace('*', " * ").replace('/', " / ");
    let toks: Vec<&str> = spaced.split_whitespace().collect();
    let (mut total, mut sign, mut i) = (0.0, 1.0, 0);
    while i < toks.len() {
        let mut v = px(toks[i])?;
        i += 1;
        while i + 1 < toks.len() && matches!(toks[i], "*" | "/") {
            let f = px(toks[i + 1])?;
            v = if toks[i] == "*" {
                v * f
            } else if f != 0.0 {
                v / f
            } else {
                return None;
            };
            i += 2;
        }
        total += sign * v;
        if i < toks.len() {
            sign = match toks[i] {
                "+" => 1.0,
                "-" => -1.0,
                _ => return None,
            };
            i += 1;
            if i == toks.len() {
                return None;
            }
        }
    }
    (!toks.is_empty()).then_some(total)
}

/// Declarations as a browser reads them: comments out (each a space, so `n/**/one` stays two
/// words) and escapes decoded (`n\6f ne` is `none`).
fn css_plain(decls: &str) -> std::borrow::Cow<'_, str> {
    if !decls.contains("/*") && !decls.contains('\\') {
        return decls.into();
    }
    css_unescape(&without_comments(decls)).into()
}

/// `s` with its CSS escapes decoded ([`css_escape`]).
fn css_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            css_escape(&mut it, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes the CSS escape after a backslash: up to six hex digits and one white space after
/// them (`\6b ` is `k`), or the next character itself (`\:` is `:`). A backslash before a line
/// break or at the end is nothing.
fn css_escape(it: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    let mut cp = 0u32;
    let mut digits = 0;
    while let Some(d) = it.peek().and_then(|h| h.to_digit(16)).filter(|_| digits < 6) {
        cp = cp * 16 + d;
        digits += 1;
        it.next();
    }
    if digits == 0 {
        match it.next() {
            Some('\n') | None => {}
            Some(x) => out.push(x),
        }
        return;
    }
    out.push(char::from_u32(cp).filter(|&c| c != '\0').unwrap_or('\u{FFFD}'));
    if it.peek().is_some_and(|w| matches!(w, ' ' | '\t' | '\n' | '\r' | '\x0c')) {
        it.next();
    }
}

/// A selector's last compound (`div.a#b` in `ul > li div.a#b`), as far as the hiding check
/// reads it.
#[derive(Debug, Default, PartialEq)]
struct Compound {
    /// The element name (`div`, `spam`), lowercased; empty for none or `*`.
    tag: String,
    /// The classes (`.`) and ids (`#`), also those written as `[id=b]`, `[class~=a]`.
    names: Vec<(u8, String)>,
    /// Whether it is the whole selector (no combinator before it).
    alone: bool,
}

/// The last compound of `selector`, its names read as a browser reads them (`.\6b` is class
/// `k`, `.md\:x` is class `md:x`). `None` when that compound holds a pseudo-class or an
/// attribute test other than one naming the id or a class: a rule that hides on hover or for
/// some attribute values only.
fn last_compound(selector: &str) -> Option<Compound> {
    let mut out = Compound { alone: true, ..Compound::default() };
    // The class or id being read (or the element name, kind 0, at the compound's start), and
    // whether the compound so far tests more than names.
    let mut name: Option<(u8, String)> = Some((0, String::new()));
    let mut conditional = false;
    let end_name = |name: &mut Option<(u8, String)>, out: &mut Compound| match name.take() {
        Some((0, tag)) => out.tag = if tag == "*" { String::new() } else { tag.to_ascii_lowercase() },
        Some(part) if !part.1.is_empty() => out.names.push(part),
        _ => {}
    };
    let mut it = selector.trim_matches([' ', '\t', '\n', '\r', '\x0c']).chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match &mut name {
                Some((_, n)) => css_escape(&mut it, n),
                None => css_escape(&mut it, &mut String::new()),
            },
            ' ' | '\t' | '\n' | '\r' | '\x0c' | '>' | '+' | '~' => {
                // A combinator: what came before is not the last compound.
                out = Compound::default();
                name = Some((0, String::new()));
                conditional = false;
            }
            '.' | '#' => {
                end_name(&mut name, &mut out);
                name = Some((c as u8, String::new()));
            }
            '[' => {
                end_name(&mut name, &mut out);
                let test = bracketed(&mut it, '[', ']');
                match attribute_name(&test) {
                    Some(part) => out.names.push(part),
                    None => conditional = true,
                }
            }
            ':' => {
                end_name(&mut name, &mut out);
                conditional = true;
                // The pseudo-class's name, and its argument's brackets, which may hold spaces
                // and other compounds (`:not(.a .b)`).
                while let Some(&n) = it.peek() {
                    if n == '(' {
                        it.next();
                        bracketed(&mut it, '(', ')');
                        break;
                    }
                    if !(n.is_alphanumeric() || matches!(n, '-' | '_' | ':')) {
                        break;
                    }
                    it.next();
                }
            }
            _ => {
                if let Some((_, n)) = &mut name {
                    n.push(c);
                }
            }
        }
    }
    end_name(&mut name, &mut out);
    (!conditional).then_some(out)
}

/// The selectors of a selector list: split at its commas, but not at those inside brackets,
/// quotes or escapes (`:is(.a, .b)`, `[title="a,b"]`, `.a\,b`).
fn selector_list(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None, 0);
    let mut it = list.char_indices();
    while let Some((i, c)) = it.next() {
        match (quote, c) {
            (_, '\\') => {
                it.next();
            }
            (Some(q), x) if x == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out
}

/// The text up to the bracket that closes one already opened, skipping quoted strings and
/// nested brackets; the iterator is left after it.
fn bracketed(it: &mut std::iter::Peekable<std::str::Chars<'_>>, open: char, close: char) -> String {
    let mut text = String::new();
    let mut depth = 1usize;
    let mut quote: Option<char> = None;
    while let Some(n) = it.next() {
        match (quote, n) {
            (Some(q), x) if x == q => quote = None,
            (_, '\\') => {
                text.push(n);
                if let Some(e) = it.next() {
                    text.push(e);
                }
                continue;
            }
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(n),
            (None, x) if x == open => depth += 1,
            (None, x) if x == close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        text.push(n);
    }
    text
}

/// The id or class an attribute test names as an id or class selector would: `id=b` is `#b`,
/// `class~=a` is `.a`, and so is `class=a` (the whole attribute `a`).
fn attribute_name(test: &str) -> Option<(u8, String)> {
    let (attr, value) = test.split_once('=')?;
    let (attr, op) = match attr.trim().strip_suffix('~') {
        Some(a) => (a.trim(), "~="),
        None => (attr.trim(), "="),
    };
    let value = value.trim();
    // A trailing ` i` or ` s` flag changes only the letter case compared.
    let value = value.strip_suffix(" i").or_else(|| value.strip_suffix(" s")).unwrap_or(value).trim();
    let value = match value.chars().next() {
        Some(q @ ('"' | '\'')) => value.strip_prefix(q)?.strip_suffix(q)?,
        _ => value,
    };
    let plain = css_unescape(value);
    if plain.is_empty() || plain.contains(char::is_whitespace) {
        return None;
    }
    match (attr.to_ascii_lowercase().as_str(), op) {
        ("id", "=") => Some((b'#', plain)),
        ("class", _) => Some((b'.', plain)),
        _ => None,
    }
}

/// Why a declaration block hides its element, if it does.
pub fn hide_reason(decls: &str) -> Option<String> {
    let decls = css_plain(decls);
    let mut props: Vec<(String, String)> = Vec::new();
    for d in decls.split(';') {
        let Some((p, v)) = d.split_once(':') else { continue };
        let p = p.trim().to_ascii_lowercase();
        let v = v.to_ascii_lowercase().replace("!important", "");
        props.push((p, v.trim().to_string()));
    }
    let get = |n: &str| props.iter().rev().find(|(p, _)| p == n).map(|(_, v)| v.as_str());
    if get("display") == Some("none") {
        return Some("display:none".into());
    }
    if matches!(get("visibility"), Some("hidden" | "collapse")) {
        return Some("visibility:hidden".into());
    }
    // The element's box stays, its content is not rendered.
    if get("content-visibility") == Some("hidden") {
        return Some("content-visibility:hidden".into());
    }
    if get("filter").is_some_and(|f| {
        f.match_indices("opacity(").any(|(at, m)| {
            let arg = &f[at + m.len()..];
            faint(&arg[..arg.find(')').unwrap_or(arg.len())])
        })
    }) {
        return Some("filter:opacity(0)".into());
    }
    if let Some(o) = get("opacity").filter(|o| faint(o)) {
        return Some(format!("opacity:{o}"));
    }
    // The `scale` property (`scale: 0`, `scale: 0 1`): a zero factor on either axis.
    if get("scale").is_some_and(|v| v.split_whitespace().any(|f| f.trim_end_matches('%').parse::<f64>() == Ok(0.0))) {
        return Some("scale:0".into());
    }
    if let Some(f) = get("font-size").and_then(px) {
        if f <= 1.0 {
            return Some(format!("font-size:{}", get("font-size").unwrap_or("0")));
        }
    }
    let overflow_hidden = matches!(get("overflow"), Some("hidden" | "clip"));
    for dim in ["height", "width", "max-height", "max-width"] {
        if overflow_hidden && get(dim).and_then(px).is_some_and(|x| x <= 1.0) {
            return Some(format!("{dim}:0 with overflow:hidden"));
        }
    }
    let positioned = matches!(get("position"), Some("absolute" | "fixed" | "relative"));
    for side in ["left", "top", "right", "bottom"] {
        if positioned && get(side).and_then(px).is_some_and(|x| x <= -500.0) {
            return Some(format!("{side}:{} (off-screen)", get(side).unwrap_or("")));
        }
    }
    // A fixed box placed past the viewport's right or bottom edge: the page never scrolls it
    // into view (an absolute one would widen the page instead). Not one a transform moves
    // back (`top:100%; transform:translateY(-100%)`: a banner along the bottom edge).
    if get("position") == Some("fixed") && get("transform").is_none_or(|t| t == "none") {
        for side in ["left", "top"] {
            let past_edge = get(side).is_some_and(|v| match v.trim().strip_suffix('%') {
                Some(pc) => pc.trim().parse::<f64>().is_ok_and(|x| x >= 100.0),
                None => px(v).is_some_and(|x| x >= 10_000.0),
            });
            if past_edge {
                return Some(format!("{side}:{} (off-screen)", get(side).unwrap_or("")));
            }
        }
    }
    for side in ["margin-left", "margin-top"] {
        if get(side).and_then(px).is_some_and(|x| x <= -2000.0) {
            return Some(format!("{side}:{} (off-screen)", get(side).unwrap_or("")));
        }
    }
    // Image replacement (`#logo {text-indent:-9999px; background-image:url(logo.png)}`): the
    // text moves away but the element shows its background image, and the link in it stays
    // visible and clickable. Not hiding.
    let has_image = ["background-image", "background"].iter().any(|p| get(p).is_some_and(|v| v.contains("url(")));
    if get("text-indent").and_then(px).is_some_and(|x| x <= -500.0) && !has_image {
        return Some(format!("text-indent:{}", get("text-indent").unwrap_or("")));
    }
    if let Some(c) = get("clip") {
        if let Some(inner) = c.strip_prefix("rect(").and_then(|r| r.strip_suffix(')')) {
            let nums: Vec<Option<f64>> = inner.split([',', ' ']).filter(|s| !s.is_empty()).map(px).collect();
            if nums.len() == 4 && nums.iter().all(|n| n.is_some_and(|x| x.abs() <= 1.0)) {
                return Some("clip:rect(0 0 0 0)".into());
            }
        }
    }
    if let Some(c) = get("clip-path") {
        if c.starts_with("inset(50%") || c.starts_with("inset(100%") || c.starts_with("circle(0") {
            return Some(format!("clip-path:{c}"));
        }
    }
    if let Some(t) = get("transform") {
        let packed = t.replace(' ', "");
        if ["scale(0)", "scale(0,", "scalex(0)", "scaley(0)", "scale3d(0,"].iter().any(|p| packed.contains(p)) {
            return Some("transform:scale(0)".into());
        }
        if translated_far(t) {
            return Some(format!("transform:{t} (off-screen)"));
        }
    }
    // Text in a transparent colour: the link's words are invisible, the link stays. Not when
    // the text shows its background (gradient text: `background-clip:text`) or an image
    // replaces it.
    let clipped_to_text = ["background-clip", "-webkit-background-clip"].iter().any(|p| get(p) == Some("text"));
    if get("color").is_some_and(transparent) && !clipped_to_text && !has_image {
        return Some(format!("color:{}", get("color").unwrap_or("")));
    }
    None
}

/// Whether an opacity (`0.02`, `3%`) leaves text too faint to read: 5 % or less.
fn faint(v: &str) -> bool {
    let v = v.trim();
    match v.strip_suffix('%') {
        Some(pc) => pc.trim().parse::<f64>().is_ok_and(|x| x <= 5.0),
        None => v.parse::<f64>().is_ok_and(|x| x <= 0.05),
    }
}

/// Whether a CSS colour is fully transparent: `transparent`, `rgba(…, 0)`, `hsla(…, 0)`,
/// `rgb(… / 0)`, `#rrggbb00`, `#rgb0`.
fn transparent(c: &str) -> bool {
    let c = c.trim();
    if c == "transparent" {
        return true;
    }
    if let Some(hex) = c.strip_prefix('#') {
        return hex.bytes().all(|b| b.is_ascii_hexdigit())
            && ((hex.len() == 8 && hex.ends_with("00")) || (hex.len() == 4 && hex.ends_with('0')));
    }
    let Some(args) = c.find('(').and_then(|i| c[i + 1..].strip_suffix(')')) else { return false };
    if !(c.starts_with("rgb") || c.starts_with("hsl")) {
        return false;
    }
    let alpha = match args.split_once('/') {
        Some((_, a)) => Some(a),
        None => args.split(',').nth(3),
    };
    alpha.is_some_and(|a| {
        let a = a.trim();
        a.trim_end_matches('%').parse::<f64>().is_ok_and(|x| x <= 0.0)
    })
}

/// Whether a `transform` moves its element 2,000 pixels or more off to the left or the top
/// (`translate(-9999px)`, `translateX(-200em)`, `translate3d(0, -9999px, 0)`).
fn translated_far(t: &str) -> bool {
    let mut rest = t;
    while let Some(i) = rest.find("translate") {
        let after = &rest[i + "translate".len()..];
        let Some(open) = after.find('(') else { break };
        let axis = &after[..open];
        let Some(close) = after[open..].find(')') else { break };
        let args: Vec<&str> = after[open + 1..open + close].split(',').map(str::trim).collect();
        let moved: Vec<Option<f64>> = match axis {
            "x" | "y" => vec![args.first().and_then(|a| px(a))],
            "" | "3d" => args.iter().take(2).map(|a| px(a)).collect(),
            _ => Vec::new(),
        };
        if moved.into_iter().flatten().any(|x| x <= -2000.0) {
            return true;
        }
        rest = &after[open + close..];
    }
    false
}

/// Why an element is hidden, in English (the machine formats) and Chinese (the HTML report).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reason {
    en: String,
    zh: String,
}

impl Reason {
    fn new(en: impl Into<String>) -> Reason {
        let en = en.into();
        Reason { zh: reason_zh(&en), en }
    }
}

/// The Chinese of a reason from [`hide_reason`] or the markup checks: CSS stays CSS, the
/// words around it are translated.
fn reason_zh(en: &str) -> String {
    match en {
        "hidden attribute" => return "hidden 属性".into(),
        "1-pixel marquee" => return "1 像素的 marquee 滚动区".into(),
        "marquee at extreme speed" => return "极速滚动的 marquee".into(),
        "zero-size frame" => return "零尺寸的框架（iframe/frame）".into(),
        "zero-size svg" => return "零尺寸的 SVG 图形".into(),
        _ => {}
    }
    en.replace(" with overflow:hidden", " 且 overflow:hidden").replace(" (off-screen)", "（移出屏幕）")
}

/// Classes, ids and element names hidden by CSS rules (by a selector's last compound).
#[derive(Debug, Default)]
struct HiddenRules {
    classes: HashMap<String, Reason>,
    ids: HashMap<String, Reason>,
    /// Element names hidden by a rule of their name alone (`spam {display:none}`).
    tags: HashMap<String, Reason>,
}

/// Elements a rule of their name alone may hide without hiding links from visitors: not
/// rendered anyway (`template`, `script`, `head`, …), shown only when the page opens them
/// (`dialog`), or the whole page hidden until its script shows it (`html`, `body`), a common
/// way to avoid a flash of unstyled content.
const NAMED_HIDING_OK: &[&str] = &[
    "html", "body", "head", "title", "meta", "link", "base", "style", "script", "noscript", "template", "dialog",
    "datalist", "param", "source", "track",
];

impl HiddenRules {
    /// Adds the hiding rules of a style sheet; `origin` names an external one. Returns the
    /// stylesheets it imports ([`css_imports`]), read from the same text without comments.
    fn add_css(&mut self, css: &str, origin: Option<&str>) -> Vec<String> {
        let css = without_comments(css);
        for (sel, decls) in screen_rules(&css) {
            let Some(reason) = hide_reason(decls) else { continue };
            for one in selector_list(sel) {
                let Some(compound) = last_compound(one) else { continue };
                let add = |map: &mut HashMap<String, Reason>, name: String, shown: String| {
                    let rule = format!("{shown} {{{reason}}}");
                    let zh_rule = format!("{shown} {{{}}}", reason_zh(&reason));
                    let r = match origin {
                        None => Reason { en: rule, zh: zh_rule },
                        Some(o) => Reason {
                            en: format!("{rule} in stylesheet {o}"),
                            zh: format!("样式表 {o} 中的 {zh_rule}"),
                        },
                    };
                    map.insert(name, r);
                };
                if compound.names.is_empty() && compound.alone {
                    // A rule of an element name alone: a made-up element (`<spam>`) hidden by its
                    // name, or a real one. Not `.menu ul`, which hides the lists of one block
                    // (a drop-down menu) and not every list; not those hidden or shown by the
                    // page anyway: `template`, `dialog` (until opened), `body` (hidden until a
                    // script shows the page).
                    // (An element's name: not a keyframe's `50%`, `from` or `to`.)
                    let tag = compound.tag;
                    let element = tag.starts_with(|c: char| c.is_ascii_alphabetic())
                        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !matches!(tag.as_str(), "from" | "to");
                    if element && !NAMED_HIDING_OK.contains(&tag.as_str()) {
                        add(&mut self.tags, tag.clone(), tag);
                    }
                }
                for (kind, name) in compound.names {
                    let map = if kind == b'.' { &mut self.classes } else { &mut self.ids };
                    let shown = format!("{}{name}", kind as char);
                    add(map, name, shown);
                }
            }
        }
        css_imports(&css)
    }

    fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.ids.is_empty() && self.tags.is_empty()
    }

    /// Adds the elements a page's script hides as it loads: a statement that runs on load
    /// ([`LoadScope`]: not one in a function called on a click, which closes a menu)
    /// setting `display` to `none` or `visibility` to `hidden` of an element found by id, `#id`
    /// or `.class`.
    fn add_script(&mut self, js: &str) {
        if !(js.contains("none") || js.contains("hidden") || js.contains("hide")) {
            return;
        }
        let mut scope = LoadScope::new(js);
        let mut elements = Assignments::default();
        for c in SCRIPT_HIDE.captures_iter(js) {
            // The statement, without the character before a variable.
            let m = c.get(0).expect("the whole match");
            let stmt_at = c.get(4).map_or(m.start(), |v| v.start());
            if !scope.runs_on_load(stmt_at) {
                continue;
            }
            let (kind, name) = match (c.get(1), c.get(2), c.get(3), c.get(4)) {
                (Some(id), ..) => ("#", id.as_str()),
                (None, Some(k), Some(n), _) => (k.as_str(), n.as_str()),
                (None, None, None, Some(var)) => {
                    match elements.before(var.as_str(), var.start(), || element_assignments(js)) {
                        Some(found) => found,
                        None => continue,
                    }
                }
                _ => continue,
            };
            let stmt: String =
                js[stmt_at..m.end()].split_whitespace().collect::<Vec<_>>().join(" ").chars().take(120).collect();
            let reason = Reason { en: format!("the page's script `{stmt}`"), zh: format!("页面脚本 `{stmt}`") };
            let map = if kind == "#" { &mut self.ids } else { &mut self.classes };
            map.entry(name.to_string()).or_insert(reason);
        }
    }
}

/// An element a script finds: group 1 the id of `getElementById`, or 2 `#`/`.` and 3 the name
/// of a `querySelector` or jQuery selector.
const SCRIPT_ELEMENT: &str = r#"(?: document \s*\.\s* getElementById \s*\(\s* ["'] ([\w-]+) ["'] \s*\)
      | (?: document \s*\.\s* querySelector | \$ | jQuery ) \s*\(\s* ["'] ([\#.]) ([\w-]+) ["'] \s*\) )"#;

/// A script hiding an element (see [`HiddenRules::add_script`]): the element as in
/// [`SCRIPT_ELEMENT`] (groups 1–3), or a variable holding one (group 4), then what hides it:
/// `style.display = 'none'`, `style.visibility = 'hidden'`, `style.cssText = '…display:none…'`,
/// `setAttribute('style', '…display:none…')`, `hidden = true`, jQuery's `hide()` and
/// `css('display', 'none')`.
static SCRIPT_HIDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?x)
        (?: {SCRIPT_ELEMENT} | (?: ^ | [^\w$.] ) ([A-Za-z_$][\w$]*) )
        \s*\.\s*
        (?: style \s*\.\s* (?: display \s*=\s* ["']none["'] | visibility \s*=\s* ["']hidden["']
                              | cssText \s*=\s* ["'] [^"']*? (?: display \s*:\s* none | visibility \s*:\s* hidden ) )
          | setAttribute \s*\(\s* ["']style["'] \s*,\s* ["'] [^"']*? (?: display \s*:\s* none | visibility \s*:\s* hidden )
          | hidden \s*=\s* true \b
          | hide \s*\(\s*\)
          | css \s*\(\s* ["'] (?: display ["'] \s*,\s* ["'] none | visibility ["'] \s*,\s* ["'] hidden ) ["'] \s*\)
        )"#
    ))
    .expect("the script-hiding pattern")
});

/// A variable given an element: `var lk = document.getElementById('lk')` (groups 2–4 as 1–3
/// of [`SCRIPT_ELEMENT`], 1 the variable).
static SCRIPT_ELEMENT_VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r#"(?x) (?: ^ | [^\w$.] ) ([A-Za-z_$][\w$]*) \s*=\s* {SCRIPT_ELEMENT}"#))
        .expect("the element-variable pattern")
});

/// What a script gives its variables, by name, in order of position: indexed in one pass on
/// the first question (most scripts have no statement that asks).
struct Assignments<'j, T>(Option<HashMap<&'j str, Vec<(usize, T)>>>);

impl<T> Default for Assignments<'_, T> {
    fn default() -> Self {
        Assignments(None)
    }
}

impl<'j, T: Copy> Assignments<'j, T> {
    /// The value last given to `name` before byte `at`; `index` lists every assignment of the
    /// script (name, where, value), and is called on the first question only.
    fn before<I>(&mut self, name: &str, at: usize, index: impl FnOnce() -> I) -> Option<T>
    where
        I: IntoIterator<Item = (&'j str, usize, T)>,
    {
        let all = self.0.get_or_insert_with(|| {
            let mut all: HashMap<&str, Vec<(usize, T)>> = HashMap::new();
            for (n, pos, v) in index() {
                all.entry(n).or_default().push((pos, v));
            }
            all
        });
        let seen = all.get(name)?;
        let i = seen.partition_point(|&(pos, _)| pos < at);
        i.checked_sub(1).map(|i| seen[i].1)
    }
}

/// Every variable of `js` given an element (`var o = document.getElementById('lk')`): the
/// name, where, and the selector's kind (`#`, `.`) and name.
fn element_assignments(js: &str) -> impl Iterator<Item = (&str, usize, (&str, &str))> {
    SCRIPT_ELEMENT_VAR.captures_iter(js).filter_map(|e| {
        let v = e.get(1).expect("the variable");
        let found = match (e.get(2), e.get(3), e.get(4)) {
            (Some(id), ..) => ("#", id.as_str()),
            (None, Some(k), Some(n)) => (k.as_str(), n.as_str()),
            _ => return None,
        };
        Some((v.as_str(), v.start(), found))
    })
}

/// Where the statements of a script run: whether byte `at` runs as the page loads ([`at`]:
/// outside every brace block, or directly inside one function that runs on load:
/// `$(function () {`, `$(document).ready(function () {`, `window.onload = function () {`,
/// `addEventListener("DOMContentLoaded", () => {`). Braces inside strings and comments do
/// not count. The script is read once, up to each offset asked about in turn.
///
/// [`at`]: LoadScope::runs_on_load
struct LoadScope<'j> {
    js: &'j str,
    /// The string contents and comment bodies of the script (lexed when first asked: most
    /// scripts the checks look at have no statement to ask about), and the next one to pass.
    skipped: Option<Vec<std::ops::Range<usize>>>,
    next_skip: usize,
    /// How far the braces are counted, and the offsets of those open there.
    pos: usize,
    open: Vec<usize>,
    /// The openings of the functions that count as run on load.
    wrappers: &'static Regex,
}

impl<'j> LoadScope<'j> {
    fn new(js: &'j str) -> LoadScope<'j> {
        LoadScope { js, skipped: None, next_skip: 0, pos: 0, open: Vec::new(), wrappers: &ON_LOAD }
    }

    /// A scope in which a timer set as the page loads counts too (`setTimeout(function () {`):
    /// it runs for every visitor, a moment later. For redirects: "moving in 3 seconds" sends
    /// every visitor all the same; an element hidden after a while was seen before.
    fn with_timers(js: &'j str) -> LoadScope<'j> {
        LoadScope { wrappers: &ON_LOAD_OR_TIMER, ..LoadScope::new(js) }
    }

    /// Whether byte `at` runs as the page loads. Offsets are asked about in ascending order
    /// (a smaller one is answered as the last one was).
    fn runs_on_load(&mut self, at: usize) -> bool {
        let b = self.js.as_bytes();
        let at = at.min(b.len());
        let skipped = self.skipped.get_or_insert_with(|| text_ranges(b, 0..b.len(), CodeLang::Js));
        while self.pos < at {
            // The next skipped range, or none before `at`.
            while skipped.get(self.next_skip).is_some_and(|r| r.end <= self.pos) {
                self.next_skip += 1;
            }
            let (upto, jump) = match skipped.get(self.next_skip) {
                Some(r) if r.start <= self.pos => (self.pos, Some(r.end)),
                Some(r) if r.start < at => (r.start, Some(r.end)),
                _ => (at, None),
            };
            for (i, &c) in b[self.pos..upto].iter().enumerate() {
                match c {
                    b'{' => self.open.push(self.pos + i),
                    b'}' => {
                        self.open.pop();
                    }
                    _ => {}
                }
            }
            self.pos = match jump {
                Some(end) => end.min(at).max(upto),
                None => upto,
            };
            if jump.is_some_and(|end| end > at) {
                // A string or comment holds `at`: what follows is inside it.
                break;
            }
        }
        match self.open[..] {
            [] => true,
            [brace] => {
                let mut s = brace.saturating_sub(120);
                while !self.js.is_char_boundary(s) {
                    s += 1;
                }
                self.wrappers.is_match(&self.js[s..brace])
            }
            _ => false,
        }
    }
}

/// A function's opening up to its `{`.
const FUNCTION_OPENING: &str = r"(?:function\s*\w*\s*\([^)]*\)|\([^)]*\)\s*=>|\w+\s*=>)\s*$";
/// What runs a function on load.
const ON_LOAD_CALLERS: &str = r#"(?:\$|jQuery)\s*\(\s*(?:document\s*\)\s*\.\s*ready\s*\(\s*)?|(?:window\s*\.\s*)?onload\s*=\s*|addEventListener\s*\(\s*["'](?:DOMContentLoaded|load)["']\s*,\s*"#;

/// The opening of a function that runs on load, up to its `{` (see [`LoadScope`]).
static ON_LOAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r#"(?:{ON_LOAD_CALLERS}){FUNCTION_OPENING}"#)).expect("the on-load pattern"));

/// [`ON_LOAD`], or a timer's function (`setTimeout(function () {`, `window.setTimeout(() => {`).
static ON_LOAD_OR_TIMER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r#"(?:{ON_LOAD_CALLERS}|\bsetTimeout\s*\(\s*){FUNCTION_OPENING}"#))
        .expect("the on-load or timer pattern")
});

/// CSS without its comments (each replaced by a space).
fn without_comments(css: &str) -> String {
    let mut clean = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(s) = rest.find("/*") {
        clean.push_str(&rest[..s]);
        clean.push(' ');
        rest = rest[s + 2..].find("*/").map_or("", |e| &rest[s + 2 + e + 2..]);
    }
    clean.push_str(rest);
    clean
}

/// The style rules of `css` (without comments) that apply on a screen, as `(selectors,
/// declarations)`: those at the top level and inside `@supports`, `@layer` and `@media` blocks
/// for every screen (`screen`, `all`, no query); not those inside `@media print` or a query with
/// a condition (`(max-width: 600px)`: a menu folded away on phones is shown elsewhere).
/// At-rules without rule blocks (`@font-face`, `@page` declarations) give nothing with a class
/// or id.
fn screen_rules(css: &str) -> Vec<(&str, &str)> {
    let b = css.as_bytes();
    let mut out = Vec::new();
    // For each open group block: whether its rules are left out.
    let mut groups: Vec<bool> = Vec::new();
    let (mut i, mut start) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'{' => {
                let prelude = css[start..i].trim();
                if prelude.starts_with('@') {
                    let skip = groups.last().copied().unwrap_or(false) || !media_on_screen(prelude);
                    groups.push(skip);
                    i += 1;
                } else {
                    let end = css[i + 1..].find('}').map_or(b.len(), |e| i + 1 + e);
                    if !groups.last().copied().unwrap_or(false) {
                        out.push((prelude, &css[i + 1..end]));
                    }
                    i = end + 1;
                }
                start = i;
            }
            b'}' => {
                groups.pop();
                i += 1;
                start = i;
            }
            b';' => {
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether the rules of a group at-rule apply on every screen: `@media` for `screen`, `all` or
/// no media type, without a condition; any other group (`@supports`, `@layer`, …).
fn media_on_screen(prelude: &str) -> bool {
    let lower = prelude.to_ascii_lowercase();
    let Some(query) = lower.strip_prefix("@media") else { return true };
    !query.contains('(') && query.split(',').any(|q| matches!(q.trim(), "" | "all" | "screen" | "only screen"))
}

/// `@import "x.css";`, `@import url(x.css) screen;`: the URL.
static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)@import\s*(?:url\(\s*["']?([^"')]*)["']?\s*\)|"([^"]*)"|'([^']*)')"#)
        .expect("the @import pattern")
});

/// The stylesheets a stylesheet (without its comments) imports, in order: its `@import`
/// rules, which count only before its first rule block (browsers ignore later ones).
fn css_imports(css: &str) -> Vec<String> {
    let prelude = &css[..css.find('{').unwrap_or(css.len())];
    IMPORT
        .captures_iter(prelude)
        .filter_map(|c| c.iter().skip(1).flatten().next().map(|m| m.as_str().trim().to_string()))
        .filter(|u| !u.is_empty())
        .collect()
}

/// Where a page is, for the stylesheets it links.
#[derive(Clone, Copy, Debug)]
pub struct PageLocation<'a> {
    /// The page file, as walked.
    pub file: &'a Path,
    /// The scanned directory it was found under (the site root).
    pub root: &'a Path,
}

/// Local stylesheets are read up to this many bytes; larger ones are not read.
pub const STYLESHEET_LIMIT: u64 = 1 << 20;
/// Stylesheets looked up per page.
const STYLESHEETS_PER_PAGE: usize = 32;
/// Stylesheets kept parsed per scan (more are parsed again when used again).
const STYLESHEET_CACHE: usize = 4096;

/// The hiding rules of local stylesheets, parsed once per scan and shared by all pages and
/// worker threads. Only files inside a page's scan root are read (checked after resolving
/// symbolic links), read-only, up to [`STYLESHEET_LIMIT`] bytes; nothing is fetched.
#[derive(Debug, Default)]
pub struct Stylesheets {
    /// One cell per stylesheet: pages that link it while it is being read wait for that read
    /// instead of reading it again.
    cache: Mutex<HashMap<PathBuf, SheetCell>>,
    parsed: AtomicU64,
}

/// One stylesheet, once read (`None`: unreadable, too large, or neither hides nor imports).
type SheetCell = Arc<OnceLock<Option<Arc<Sheet>>>>;

/// What a stylesheet holds for the darklink check.
#[derive(Debug, Default)]
struct Sheet {
    /// Its hiding rules.
    rules: Arc<HiddenRules>,
    /// The URLs it `@import`s, as written.
    imports: Vec<String>,
}

/// `%XX` decoding of an href path (bytes; invalid escapes kept).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(Ok(v)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

impl Stylesheets {
    /// An empty cache.
    pub fn new() -> Stylesheets {
        Stylesheets::default()
    }

    /// How many stylesheet files were read and parsed so far.
    pub fn parsed(&self) -> u64 {
        self.parsed.load(Ordering::Relaxed)
    }

    /// The local file an href names, when it is one inside the page's root: relative to the
    /// page's directory first, then to the root; `/x.css` and links to own domains from the
    /// root. Remote and non-file URLs give `None`.
    pub fn resolve(&self, href: &str, page: PageLocation<'_>, sites: &Sites) -> Option<PathBuf> {
        self.resolve_both(href, page, sites).map(|(_, real)| real)
    }

    /// [`Stylesheets::resolve`], with the path as found under the page's root (symbolic links
    /// not resolved) before the canonical one: imports are relative to the former.
    fn resolve_both(&self, href: &str, page: PageLocation<'_>, sites: &Sites) -> Option<(PathBuf, PathBuf)> {
        let href = href.trim();
        let href = &href[..href.find(['?', '#']).unwrap_or(href.len())];
        let (rooted, rest) = if let Some(p) = sites.own_path(href) {
            (true, p)
        } else if href.starts_with("//") || href.contains(':') {
            return None; // another host, or a scheme (http:, data:, javascript:, C:…): never read
        } else if let Some(p) = href.strip_prefix(['/', '\\']) {
            (true, p)
        } else {
            (false, href)
        };
        let rel = crate::walk::path_from_bytes(&percent_decode(&rest.replace('\\', "/")));
        let rel = rel.strip_prefix("/").unwrap_or(&rel);
        if rel.as_os_str().is_empty() {
            return None;
        }
        let root = absolute_lexical(page.root);
        let page_dir = page.file.parent().map(absolute_lexical).unwrap_or_else(|| root.clone());
        let mut candidates = Vec::with_capacity(2);
        if !rooted && page_dir != root {
            candidates.push(absolute_lexical(&page_dir.join(rel)));
        }
        candidates.push(absolute_lexical(&root.join(rel)));
        let real_root = std::fs::canonicalize(&root).ok()?;
        candidates.into_iter().filter(|c| c.starts_with(&root)).find_map(|c| {
            let real = std::fs::canonicalize(&c).ok()?;
            let meta = std::fs::metadata(&real).ok()?;
            (real.starts_with(&real_root) && meta.is_file()).then_some((c, real))
        })
    }

    /// The hiding rules of the stylesheet at `path` (canonical, from [`Stylesheets::resolve`]);
    /// `display` names it in reasons.
    fn sheet(&self, path: &Path, display: &str) -> Option<Arc<Sheet>> {
        let read = || -> Option<Arc<Sheet>> {
            self.parsed.fetch_add(1, Ordering::Relaxed);
            let f = std::fs::File::open(path).ok()?;
            let mut buf = Vec::new();
            f.take(STYLESHEET_LIMIT + 1).read_to_end(&mut buf).ok()?;
            if buf.len() as u64 > STYLESHEET_LIMIT {
                return None;
            }
            let css = lexguard_extract::decode_text(&buf, None).text;
            let mut rules = HiddenRules::default();
            let imports = rules.add_css(&css, Some(display));
            (!rules.is_empty() || !imports.is_empty()).then(|| Arc::new(Sheet { rules: Arc::new(rules), imports }))
        };
        let cell = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(path) {
                Some(cell) => Some(cell.clone()),
                None if cache.len() < STYLESHEET_CACHE => Some(cache.entry(path.to_path_buf()).or_default().clone()),
                None => None,
            }
        };
        match cell {
            Some(cell) => cell.get_or_init(read).clone(),
            None => read(),
        }
    }

    /// The rules of the stylesheets a page links (`<link rel=stylesheet>`, then the `@import`s
    /// of its `<style>` blocks, `page_imports`), in document order, each followed by what it
    /// imports in turn (relative to itself). At most [`STYLESHEETS_PER_PAGE`] files, each once.
    fn linked(
        &self,
        events: &[Event],
        page_imports: &[String],
        value: &dyn Fn(&Attr) -> String,
        page: PageLocation<'_>,
        sites: &Sites,
    ) -> Vec<Arc<HiddenRules>> {
        let links = events.iter().filter_map(|ev| {
            let Event::Start(tag) = ev else { return None };
            if tag.name != "link" {
                return None;
            }
            let is_sheet = tag
                .attr("rel")
                .map(value)
                .is_some_and(|r| r.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("stylesheet")));
            tag.attr("href").map(value).filter(|_| is_sheet)
        });
        let root = std::fs::canonicalize(page.root).unwrap_or_else(|_| page.root.to_path_buf());
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        // Depth first: a sheet's imports come right after it (and cycles end at `seen`).
        let mut todo: Vec<(String, Option<PathBuf>)> =
            links.chain(page_imports.iter().cloned()).map(|h| (h, None)).collect();
        todo.reverse();
        while let Some((href, base)) = todo.pop() {
            if seen.len() >= STYLESHEETS_PER_PAGE {
                break;
            }
            // An import is relative to the sheet that imports it.
            let at = base.as_deref().map_or(page, |file| PageLocation { file, root: page.root });
            let Some((lexical, path)) = self.resolve_both(&href, at, sites) else { continue };
            if !seen.insert(path.clone()) {
                continue;
            }
            let shown = path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if let Some(sheet) = self.sheet(&path, &shown) {
                if !sheet.rules.is_empty() {
                    out.push(sheet.rules.clone());
                }
                todo.extend(sheet.imports.iter().rev().map(|h| (h.clone(), Some(lexical.clone()))));
            }
        }
        out
    }
}

/// One hidden element being collected.
#[derive(Debug)]
struct Open {
    name: String,
    start: usize,
    reason: Option<Reason>,
    links: Vec<(String, String)>,
    text: String,
}

/// Elements deeper than this are read as part of their ancestor.
const MAX_DEPTH: usize = 4096;
/// An end tag closes an open element at most this far down the stack.
const MAX_END_SEARCH: usize = 256;
/// Links kept per hidden element.
const MAX_LINKS: usize = 1000;
/// Script sinks looked at per script.
const MAX_SINKS: usize = 200;
/// Darklink findings of one rule reported per page (and hidden elements per piece of
/// script-written markup); the rest are counted in one more finding of that rule. A real
/// injection hides its links in a few elements or scripts; a page of thousands is one made to
/// flood the report and the scanner's memory.
pub const MAX_PER_RULE: usize = 500;

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "frame",
];

/// A closed hidden element with outside links.
#[derive(Debug)]
struct Block {
    range: std::ops::Range<usize>,
    reason: Reason,
    links: Vec<(String, String)>,
    hosts: BTreeSet<String>,
    text: String,
}

fn marquee_reason(tag: &Tag, value: &dyn Fn(&Attr) -> String) -> Option<Reason> {
    let num = |n: &str| tag.attr(n).and_then(|a| value(a).trim().trim_end_matches("px").parse::<f64>().ok());
    if num("height").is_some_and(|h| h <= 1.0) || num("width").is_some_and(|w| w <= 1.0) {
        return Some(Reason::new("1-pixel marquee"));
    }
    if num("scrollamount").is_some_and(|s| s >= 500.0) {
        return Some(Reason::new("marquee at extreme speed"));
    }
    let style = tag.attr("style").map(value).unwrap_or_default();
    for d in style.split(';') {
        if let Some((p, v)) = d.split_once(':') {
            if matches!(p.trim(), "height" | "width") && px(&v.to_ascii_lowercase()).is_some_and(|x| x <= 1.0) {
                return Some(Reason::new("1-pixel marquee"));
            }
        }
    }
    None
}

/// Walks markup events and returns hidden blocks with outside links: the first
/// [`MAX_PER_RULE`] to close, and how many more there are.
fn hidden_blocks(
    events: &[Event],
    value: &dyn Fn(&Attr) -> String,
    text_of: &dyn Fn(std::ops::Range<usize>) -> String,
    sites: &Sites,
    styles: Option<(&Stylesheets, PageLocation<'_>)>,
) -> (Vec<Block>, usize) {
    let mut rules = HiddenRules::default();
    let mut page_imports = Vec::new();
    for ev in events {
        match ev {
            Event::Text { range, kind: TextKind::Style } => {
                let imports = rules.add_css(&text_of(range.clone()), None);
                if styles.is_some() {
                    page_imports.extend(imports);
                }
            }
            Event::Text { range, kind: TextKind::Script } => rules.add_script(&text_of(range.clone())),
            _ => {}
        }
    }
    let external = styles.map(|(s, page)| s.linked(events, &page_imports, value, page, sites)).unwrap_or_default();
    // The rule hiding a name of one kind (classes, ids, element names): the page's own, then
    // the linked stylesheets'.
    let rule = |kind: fn(&HiddenRules) -> &HashMap<String, Reason>, name: &str| {
        kind(&rules).get(name).or_else(|| external.iter().find_map(|r| kind(r).get(name))).cloned()
    };
    let class_rule = |c: &str| rule(|r| &r.classes, c);
    let id_rule = |id: &str| rule(|r| &r.ids, id);
    let tag_rule = |t: &str| rule(|r| &r.tags, t);
    let mut stack: Vec<Open> = Vec::new();
    let mut out = Vec::new();
    let mut more = 0;
    let mut in_link: Option<usize> = None; // index in the stack of the hidden holder
    let mut close = |o: Open, end: usize, out: &mut Vec<Block>| {
        if let Some(reason) = o.reason {
            let hosts: BTreeSet<String> = o.links.iter().filter_map(|(h, _)| sites.outside_host(h)).collect();
            if !hosts.is_empty() && out.len() < MAX_PER_RULE {
                out.push(Block { range: o.start..end, reason, links: o.links, hosts, text: o.text });
            } else if !hosts.is_empty() {
                more += 1;
            }
        }
    };
    // Indices of the hidden elements on the stack (the innermost last): O(1) per event.
    let mut hidden: Vec<usize> = Vec::new();
    for ev in events {
        match ev {
            Event::Start(tag) => {
                let mut reason = None;
                if tag.has_attr("hidden") {
                    reason = Some(Reason::new("hidden attribute"));
                }
                if reason.is_none() {
                    reason = tag.attr("style").map(value).and_then(|s| hide_reason(&s)).map(Reason::new);
                }
                if reason.is_none() {
                    if let Some(c) = tag.attr("class").map(value) {
                        reason = c.split_ascii_whitespace().find_map(class_rule);
                    }
                }
                if reason.is_none() {
                    if let Some(id) = tag.attr("id").map(value) {
                        reason = id_rule(id.trim());
                    }
                }
                if reason.is_none() {
                    reason = tag_rule(&tag.name);
                }
                if reason.is_none() && tag.name == "marquee" {
                    reason = marquee_reason(tag, value);
                }
                let is_frame = tag.name == "iframe" || tag.name == "frame";
                // A frame, or an SVG image, whose content is cut off at its size (an inline
                // `<svg>` does not overflow: `overflow: hidden` by default).
                if reason.is_none() && (is_frame || tag.name == "svg") {
                    let zero = |n: &str| tag.attr(n).is_some_and(|a| px(&value(a)).is_some_and(|x| x <= 1.0));
                    if zero("width") || zero("height") {
                        reason = Some(Reason::new(if is_frame { "zero-size frame" } else { "zero-size svg" }));
                    }
                }
                let link = match tag.name.as_str() {
                    "a" | "area" => tag.attr("href").or_else(|| tag.attr("xlink:href")).map(value),
                    "iframe" | "frame" => tag.attr("src").map(value),
                    _ => None,
                };
                let void = VOID.contains(&tag.name.as_str()) || (tag.self_closing && tag.name != "a");
                if void && !is_frame {
                    if let (Some(href), Some(&h)) = (link, hidden.last()) {
                        if stack[h].links.len() < MAX_LINKS {
                            stack[h].links.push((href, String::new()));
                        }
                    }
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    // Pathological nesting: a deeper element is read as part of the innermost
                    // open one, which it hides if it is hidden (wrapping a hidden link in
                    // thousands of elements must not hide it from the check).
                    let last = stack.len() - 1;
                    if let Some(r) = reason.filter(|_| stack[last].reason.is_none()) {
                        stack[last].reason = Some(r);
                        hidden.push(last);
                    }
                } else {
                    if reason.is_some() {
                        hidden.push(stack.len());
                    }
                    stack.push(Open {
                        name: tag.name.clone(),
                        start: tag.range.start,
                        reason,
                        links: Vec::new(),
                        text: String::new(),
                    });
                }
                if let (Some(href), Some(&h)) = (link, hidden.last()) {
                    if stack[h].links.len() < MAX_LINKS {
                        stack[h].links.push((href, String::new()));
                    }
                    if tag.name == "a" {
                        in_link = Some(h);
                    }
                }
            }
            Event::End { name, range } => {
                if name == "a" {
                    in_link = None;
                }
                let floor = stack.len().saturating_sub(MAX_END_SEARCH);
                let pos = stack[floor..].iter().rposition(|o| &o.name == name).map(|p| floor + p);
                // As a browser does: an end tag other than a block's or a table's does not close
                // a block opened inside its element (`<p><div hidden></p><a>` and `<b><div
                // hidden></b><a>` leave the link inside the hidden block); it is ignored.
                let ignored = |pos: usize| !closes_blocks(name) && stack[pos + 1..].iter().any(|o| is_special(&o.name));
                if let Some(pos) = pos.filter(|&p| !ignored(p)) {
                    while stack.len() > pos {
                        let o = stack.pop().expect("non-empty");
                        if hidden.last() == Some(&stack.len()) {
                            hidden.pop();
                        }
                        close(o, range.end, &mut out);
                    }
                }
            }
            Event::Text { range, kind: TextKind::Data } => {
                if let Some(&h) = hidden.last() {
                    let t = text_of(range.clone());
                    if stack[h].text.len() < 4096 {
                        stack[h].text.push_str(&t);
                        stack[h].text.push(' ');
                    }
                    if let Some(l) = in_link.filter(|&l| l == h) {
                        if let Some(last) = stack[l].links.last_mut() {
                            if last.1.len() < 200 {
                                last.1.push_str(t.trim());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let end = events.last().map(html::event_end);
    while let Some(o) = stack.pop() {
        close(o, end.unwrap_or(0), &mut out);
    }
    (out, more)
}

/// Elements of HTML's "special" category (HTML Living Standard, §13.2.4.2), whose end tags
/// are matched strictly: another element's end tag does not close them.
fn is_special(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "applet"
            | "area"
            | "article"
            | "aside"
            | "base"
            | "basefont"
            | "bgsound"
            | "blockquote"
            | "body"
            | "br"
            | "button"
            | "caption"
            | "center"
            | "col"
            | "colgroup"
            | "dd"
            | "details"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "embed"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "frame"
            | "frameset"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "head"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "iframe"
            | "img"
            | "input"
            | "keygen"
            | "li"
            | "link"
            | "listing"
            | "main"
            | "marquee"
            | "menu"
            | "meta"
            | "nav"
            | "noembed"
            | "noframes"
            | "noscript"
            | "object"
            | "ol"
            | "p"
            | "param"
            | "plaintext"
            | "pre"
            | "script"
            | "search"
            | "section"
            | "select"
            | "source"
            | "style"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "template"
            | "textarea"
            | "tfoot"
            | "th"
            | "thead"
            | "title"
            | "tr"
            | "track"
            | "ul"
            | "wbr"
            | "xmp"
    )
}

/// End tags that close every element opened inside theirs, blocks included: those of the
/// special elements but `p` (blocks, lists, tables, forms, the document), and `dialog`. Any
/// other end tag (`</p>`, `</span>`, `</b>`) is ignored when a special element stands in
/// between: `</p>` finds its paragraph already closed by the block, a formatting element's end
/// tag leaves the block open.
fn closes_blocks(name: &str) -> bool {
    name != "p" && (is_special(name) || name == "dialog")
}

fn severity(hosts: usize, links: usize, keyword: bool) -> u8 {
    let mut s = match hosts {
        0 | 1 => 2,
        2 | 3 => 3,
        _ => 4,
    };
    if links >= 10 {
        s = s.max(4);
    }
    if keyword {
        s += 1;
    }
    s.min(5)
}

/// The Chinese display names of categories (the ids when the lexicon has none).
pub(crate) fn categories_zh(filter: &Filter, ids: &[impl AsRef<str>]) -> String {
    ids.iter()
        .map(|id| filter.lexicon().category(id.as_ref()).map_or(id.as_ref(), |c| c.name.as_str()))
        .collect::<Vec<_>>()
        .join("、")
}

/// How markup was written by a script, in English and Chinese.
fn via_texts(via: Option<&str>) -> (String, String) {
    match via {
        Some(v) => (format!("script-written markup ({v})"), format!("脚本写入的标记（经 {} 解码）", via_zh(v))),
        None => ("script-written markup".into(), "脚本写入的标记".into()),
    }
}

fn via_zh(v: &str) -> &str {
    match v {
        "packed code" => "打包混淆代码",
        "escapes" => "转义序列",
        v => v,
    }
}

fn block_finding(b: &Block, rule: &str, filter: &Filter, via: Option<(&str, &str)>) -> Finding {
    let link_text: String = b.links.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" ");
    // The hidden text holds the link texts.
    let hidden = if b.text.trim().is_empty() { link_text.clone() } else { b.text.clone() };
    let kw = filter.check_field("hidden-text", &hidden);
    let keyword = !kw.is_pass();
    let mut f = Finding::new(Kind::Darklink, rule, severity(b.hosts.len(), b.links.len(), keyword));
    f.category = Some("hidden-link".into());
    f.links = b.links.iter().filter(|(h, _)| !h.is_empty()).map(|(h, _)| h.clone()).take(50).collect();
    let hosts: Vec<&str> = b.hosts.iter().map(String::as_str).take(6).collect();
    let mut msg = format!(
        "element hidden by {} holds {} link(s) to {} outside host(s): {}",
        b.reason.en,
        b.links.len(),
        b.hosts.len(),
        hosts.join(", ")
    );
    let mut zh = format!(
        "被 {} 隐藏的元素中有 {} 个链接，指向 {} 个站外域名：{}",
        b.reason.zh,
        b.links.len(),
        b.hosts.len(),
        hosts.join("、")
    );
    if let Some((en, z)) = via {
        msg = format!("{en}: {msg}");
        zh = format!("{z}：{zh}");
    }
    if keyword {
        msg.push_str(&format!("; link text hits {}", kw.categories.join(", ")));
        zh.push_str(&format!("；链接文字命中有害类别：{}", categories_zh(filter, &kw.categories)));
        f.hits = kw.hits.into_iter().take(20).collect();
    }
    f.message = Some(msg);
    f.message_zh = Some(zh);
    let snip: String = link_text.chars().take(120).collect();
    if !snip.trim().is_empty() {
        f.highlight = Some([0, snip.len()]);
        f.snippet = Some(snip);
    }
    f
}

/// The finding that counts the findings of a rule past [`MAX_PER_RULE`] on one page.
fn more_finding(rule: &str, category: Option<String>, more: usize, severity: u8) -> Finding {
    let mut f = Finding::new(Kind::Darklink, rule, severity);
    f.category = category;
    f.message = Some(format!(
        "{more} more finding(s) of this rule on this page, not listed one by one (the first {MAX_PER_RULE} are)"
    ));
    f.message_zh = Some(format!("本页另有 {more} 处同类发现，未逐一列出（已列出前 {MAX_PER_RULE} 处）"));
    f
}

/// The findings of one rule on one page.
#[derive(Default)]
struct RuleCount {
    kept: usize,
    /// Findings past the bound, only counted, and their highest severity.
    more: usize,
    severity: u8,
    category: Option<String>,
}

/// The findings of one page, at most [`MAX_PER_RULE`] of each rule; the rest counted.
#[derive(Default)]
struct PageFindings {
    out: Vec<Finding>,
    rules: HashMap<String, RuleCount>,
}

impl PageFindings {
    fn push(&mut self, f: Finding) {
        let c = self.rules.entry(f.rule.clone()).or_default();
        if c.kept < MAX_PER_RULE {
            c.kept += 1;
            c.category.clone_from(&f.category);
            self.out.push(f);
        } else {
            c.more += 1;
            c.severity = c.severity.max(f.severity);
        }
    }

    /// `n` findings of `rule` and `category` of at most `severity` past the bound, only
    /// counted.
    fn count(&mut self, rule: &str, category: &str, n: usize, severity: u8) {
        let c = self.rules.entry(rule.to_string()).or_default();
        c.more += n;
        c.severity = c.severity.max(severity);
        c.category = Some(category.to_string());
    }

    fn finish(mut self) -> Vec<Finding> {
        let mut more: Vec<(String, RuleCount)> = self.rules.into_iter().filter(|(_, c)| c.more > 0).collect();
        more.sort_by(|a, b| a.0.cmp(&b.0));
        self.out.extend(more.into_iter().map(|(rule, c)| more_finding(&rule, c.category, c.more, c.severity)));
        self.out
    }
}

/// A script statement sending the visitor elsewhere, with a literal URL (group 1 or 2).
static SCRIPT_REDIRECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:\b(?:window|top|self|parent|document)\s*\.\s*)?\blocation\s*(?:(?:\.\s*href\s*)?=\s*(?:["']([^"'\s]+)["']|([A-Za-z_$][\w$]*)\s*(?:[;}\n]|$))|\.\s*(?:replace|assign)\s*\(\s*(?:["']([^"'\s]+)["']|([A-Za-z_$][\w$]*)\s*\)))"#,
    )
    .expect("the redirect pattern")
});

/// A simple assignment of a string literal: `u = "http://…"` (also `var u = '…'`).
static STRING_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[^\w$.])([A-Za-z_$][\w$]*)\s*=\s*["']([^"'\s]+)["']"#).expect("the assignment pattern")
});

/// Every simple assignment of a string literal in `js`: the name, where, the literal.
fn string_assignments(js: &str) -> impl Iterator<Item = (&str, usize, &str)> {
    STRING_ASSIGNMENT.captures_iter(js).map(|c| {
        let (n, v) = (c.get(1).expect("name"), c.get(2).expect("value"));
        (n.as_str(), n.start(), v.as_str())
    })
}

/// Redirects a page's script makes of every visitor to an outside host: a statement that
/// runs as the page loads ([`LoadScope`]) with nothing before it but the end of the one
/// before (`if (…) location = …` is under a condition, and cloaking is its own check), setting
/// `location` to a literal URL. Each with its range in `js`.
pub fn script_redirects(js: &str, sites: &Sites) -> Vec<(Finding, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    if !js.contains("location") {
        return out;
    }
    let mut scope = LoadScope::with_timers(js);
    // The string literals the script gives its variables, for `location = u`.
    let mut assigned = Assignments::default();
    for c in SCRIPT_REDIRECT.captures_iter(js) {
        let m = c.get(0).expect("the whole match");
        let url = match (c.get(1).or_else(|| c.get(3)), c.get(2).or_else(|| c.get(4))) {
            (Some(u), _) => u.as_str(),
            // (Words that are no variable a string was given.)
            (None, Some(var))
                if !matches!(var.as_str(), "this" | "null" | "undefined" | "true" | "false" | "location") =>
            {
                match assigned.before(var.as_str(), m.start(), || string_assignments(js)) {
                    Some(u) => u,
                    None => continue,
                }
            }
            _ => continue,
        };
        let Some(host) = sites.outside_host(url).filter(|h| !is_analytics(h)) else { continue };
        let before = &js[..m.start()];
        let statement_start = before.rfind([';', '{', '}', '\n']).map_or(0, |i| i + 1);
        if !before[statement_start..].trim().is_empty() || !scope.runs_on_load(m.start()) {
            continue;
        }
        let stmt: String = m.as_str().chars().take(160).collect();
        out.push((
            redirect_finding(&host, url, &format!("the page's script `{stmt}`"), &format!("页面脚本 `{stmt}`")),
            m.range(),
        ));
        if out.len() >= MAX_SINKS {
            break;
        }
    }
    out
}

/// A `<meta http-equiv="refresh" content="N; url=…">` sending every visitor to an outside host.
fn meta_redirect(tag: &Tag, value: &dyn Fn(&Attr) -> String, sites: &Sites) -> Option<Finding> {
    if tag.name != "meta" || !tag.attr("http-equiv").is_some_and(|a| value(a).trim().eq_ignore_ascii_case("refresh")) {
        return None;
    }
    let content = value(tag.attr("content")?);
    let lower = content.to_ascii_lowercase();
    let at = lower.find("url")?;
    let rest = content[at + 3..].trim_start();
    let url = rest.strip_prefix('=')?.trim().trim_matches(['\'', '"']).trim();
    let host = sites.outside_host(url).filter(|h| !is_analytics(h))?;
    let delay = content.split([';', ',']).next().unwrap_or("").trim().to_string();
    Some(redirect_finding(&host, url, &format!("meta refresh after {delay} s"), &format!("meta refresh，{delay} 秒后")))
}

fn redirect_finding(host: &str, url: &str, how: &str, how_zh: &str) -> Finding {
    let mut f = Finding::new(Kind::Darklink, "darklink:redirect", 3);
    f.category = Some("redirect".into());
    f.links = vec![url.to_string()];
    f.message = Some(format!("every visitor is sent to the outside host {host} by {how}"));
    f.message_zh = Some(format!("所有访客都被跳转到站外域名 {host}（{how_zh}）"));
    let snip: String = url.chars().take(120).collect();
    f.highlight = Some([0, snip.len()]);
    f.snippet = Some(snip);
    f
}

/// Darklink checks of an extracted HTML or template document.
pub fn check_markup(
    doc: &Extracted<'_>,
    file: &[u8],
    sites: &Sites,
    filter: &Filter,
    scripts: &ScriptCheck,
    styles: Option<(&Stylesheets, PageLocation<'_>)>,
) -> Vec<Finding> {
    let value = |a: &Attr| doc.attr_value(a);
    let text_of = |r: std::ops::Range<usize>| doc.text(r, Escapes::HTML);
    let lines = Lines::new(file, doc.charset.encoding);
    let mut out = PageFindings::default();
    // Cheap gate: outside links need "//" somewhere.
    if memchr::memmem::find(doc.source(), b"//").is_some() {
        let (blocks, more) = hidden_blocks(&doc.events, &value, &text_of, sites, styles);
        let mut severity = 0;
        for b in blocks {
            let mut f = block_finding(&b, "darklink:hidden-link", filter, None);
            f.place(doc.orig_range(b.range.clone()), &lines);
            severity = severity.max(f.severity);
            out.push(f);
        }
        // Those past the bound were not made into findings: their severity is not known.
        out.count("darklink:hidden-link", "hidden-link", more, severity);
        for ev in &doc.events {
            if let Event::Start(tag) = ev {
                if let Some(mut f) = meta_redirect(tag, &value, sites) {
                    f.place(doc.orig_range(tag.range.clone()), &lines);
                    out.push(f);
                }
            }
        }
    }
    // Scripts and server code are read raw: escapes are decoded per string literal, so that a
    // decoded quote cannot end a literal early.
    for ev in &doc.events {
        let range = match ev {
            Event::Text { range, kind: TextKind::Script } | Event::Code { range, .. } => range.clone(),
            _ => continue,
        };
        let (text, map) = doc.decode(range, Escapes::NONE);
        let found = match ev {
            Event::Text { .. } => scripts.check_page_script(&text, sites, filter),
            _ => scripts.check(&text, sites, filter),
        };
        for (mut f, at) in found {
            f.place(map.to_orig(at), &lines);
            out.push(f);
        }
    }
    out.finish()
}

/// Words of which each alternative of [`ScriptCheck`]'s user-agent and referrer pattern contains
/// one in some letter case (`HTTP_USER_AGENT`, `userAgent`, `"User-Agent"`, `HTTP_REFERER`,
/// `referrer`, `UrlReferrer`). A script without either is not searched with that pattern, whose
/// case-insensitive prefilter stopped at every `document` and `request` (~3.5 % of a site
/// scan's CPU). An aho-corasick automaton ignoring case has no prefilter and cost as much; the
/// script lowered and searched with `memmem` costs a tenth of it. (`refer` alone would let
/// every `reference` and `preferences` through.)
const UA_WORDS: [&[u8]; 3] = [b"agent", b"referer", b"referrer"];

/// Search engines' spiders and search sites, as a user agent or referrer check names them. The
/// bare names too: a referrer is checked with `indexOf("baidu")` as often as with a domain.
pub(crate) const SPIDERS: &str = r"(?i)baiduspider|googlebot|sogou|360spider|haosouspider|yisouspider|bingbot|bytespider|\bspider\b|baidu\.com|google\.(?:com|cn)|sogou\.com|\bso\.com|sm\.cn|bing\.com|soso\.com|\b(?:baidu|google|bing|yahoo|yandex|haosou|shenma|toutiao)\b";

/// Script and server-code checks: injected markup and cloaking.
#[derive(Debug)]
pub struct ScriptCheck {
    /// Searched in the script lowered (ASCII), so its literals are exact (see `new`).
    sink: Regex,
    packed: Regex,
    /// Words one of which every match of `ua` contains, in any case (see [`UA_WORDS`]).
    ua_words: [memchr::memmem::Finder<'static>; 3],
    ua: Regex,
    spider: Regex,
    action: Regex,
}

impl Default for ScriptCheck {
    fn default() -> Self {
        ScriptCheck::new()
    }
}

impl ScriptCheck {
    /// Compiles the patterns.
    pub fn new() -> ScriptCheck {
        let re = |p: &str| Regex::new(&p.replace(r"\b", r"(?-u:\b)")).expect("valid pattern");
        ScriptCheck {
            // `.innerHTML =` is matched from `innerHTML` and its dot looked for in `sinks`: a
            // pattern that starts with `\.` is tried at every dot of a script (measured: 6.7 %
            // of a site scan's CPU, mostly in that search).
            //
            // Any letter case is found by searching the script lowered, where the literals'
            // prefilter looks for five words. The pattern ignoring case had to look for every
            // case of their first letters, and stopped at every `do`, `in`, `ev` (~2 % of a
            // site scan's CPU).
            sink: re(
                r"document\s*\.\s*write(?:ln)?\s*\(|(?:inner|outer)html\s*\+?=|insertadjacenthtml\s*\(|\beval\s*\(",
            ),
            ua_words: UA_WORDS.map(memchr::memmem::Finder::new),
            packed: re(r"eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k\s*,\s*e\s*,\s*[dr]\s*\)"),
            // Searched in the script lowered too. Ignoring case, its prefilter looked for every
            // letter case of its seven leading words: 14 % of the samples of a darklink-only
            // scan of the benchmark tree's JS and PHP (one thread), where a scan with it lowered
            // took 17 % less CPU time (median of 5 interleaved pairs).
            ua: re(
                r#"http_user_agent|http_referer|navigator\s*\.\s*useragent|document\s*\.\s*referrer|getheader\s*\(\s*"(?:user-agent|referer)"|servervariables\s*\(\s*"http_(?:user_agent|referer)"|request\s*\.\s*(?:useragent|urlreferrer)"#,
            ),
            spider: re(SPIDERS),
            action: re(
                r#"(?i)header\s*\(\s*['"]location|window\s*\.\s*location|(?:top|self|document)\s*\.\s*location|location\s*\.\s*(?:href|replace)|document\s*\.\s*write|file_get_contents\s*\(\s*['"]https?:|curl_exec|(?:include|require)(?:_once)?\s*\(?\s*['"]https?:|readfile\s*\(\s*['"]https?:|\becho\s|\bprint\s|response\s*\.\s*(?:redirect|write|sendredirect)|http-equiv\s*=\s*['"]?refresh"#,
            ),
        }
    }

    /// Findings in a script the browser runs (a page's or a `.js` file's): those of
    /// [`ScriptCheck::check`], then the redirects of every visitor ([`script_redirects`]).
    pub fn check_page_script(
        &self,
        text: &str,
        sites: &Sites,
        filter: &Filter,
    ) -> Vec<(Finding, std::ops::Range<usize>)> {
        let mut found = self.check(text, sites, filter);
        found.extend(script_redirects(text, sites));
        found
    }

    /// Findings in a script or server code text, each with its range in `text`.
    pub fn check(&self, text: &str, sites: &Sites, filter: &Filter) -> Vec<(Finding, std::ops::Range<usize>)> {
        let mut out = Vec::new();
        let lower = text.to_ascii_lowercase();
        self.injected(text, &lower, sites, filter, 0, &mut out, None);
        if let Some(f) = self.cloaking(text, &lower) {
            out.push(f);
        }
        out
    }

    /// Where script output sinks start and end in a script, in any letter case, given the
    /// script with ASCII lowered (same offsets): `document.write(`, `.innerHTML =`,
    /// `.outerHTML +=`, `insertAdjacentHTML(`, `eval(`.
    fn sinks<'t>(&'t self, lower: &'t str) -> impl Iterator<Item = (usize, usize)> + 't {
        self.sink.find_iter(lower).filter_map(move |m| {
            if !(m.as_str().starts_with("inner") || m.as_str().starts_with("outer")) {
                return Some((m.start(), m.end()));
            }
            // A property: a dot before it, maybe after whitespace.
            let before = lower[..m.start()].trim_end();
            before.ends_with('.').then(|| (before.len() - 1, m.end()))
        })
    }

    #[expect(clippy::too_many_arguments, reason = "recursion over decoded code carries the whole context")]
    fn injected(
        &self,
        text: &str,
        lower: &str,
        sites: &Sites,
        filter: &Filter,
        depth: u8,
        out: &mut Vec<(Finding, std::ops::Range<usize>)>,
        outer: Option<(&str, std::ops::Range<usize>)>,
    ) {
        if depth > 2 || out.len() > 8 {
            return;
        }
        for (start, open) in self.sinks(lower).take(MAX_SINKS) {
            let is_eval = lower[start..open].starts_with("eval");
            let args = args_text(text, open.saturating_sub(1));
            let at = outer.as_ref().map_or(start..open + args.len(), |(_, r)| r.clone());
            let (payload, via) = self.payload(args);
            if is_eval {
                // Decoded or unpacked code is checked again.
                let code = if self.packed.is_match(&text[start..]) {
                    unpack(&text[start..]).map(|c| (c, "packed code"))
                } else {
                    via.map(|v| (payload.clone(), v))
                };
                if let Some((code, how)) = code {
                    let code_lower = code.to_ascii_lowercase();
                    self.injected(&code, &code_lower, sites, filter, depth + 1, out, Some((how, at.clone())));
                }
                continue;
            }
            if payload.is_empty() || !payload.contains('<') {
                continue;
            }
            let via = outer.as_ref().map(|(v, _)| *v).or(via);
            self.markup(&payload, sites, filter, via, at, out);
        }
    }

    /// Markup written by a script: hidden outside links, or outside links at all.
    fn markup(
        &self,
        payload: &str,
        sites: &Sites,
        filter: &Filter,
        via: Option<&str>,
        at: std::ops::Range<usize>,
        out: &mut Vec<(Finding, std::ops::Range<usize>)>,
    ) {
        let bytes = payload.as_bytes();
        let events = html::tokenize(bytes, 0, false);
        let value = |a: &Attr| a.value.clone().map(|r| unescape(&payload[r], Escapes::HTML)).unwrap_or_default();
        let text_of = |r: std::ops::Range<usize>| unescape(&payload[r], Escapes::HTML);
        let (blocks, more) = hidden_blocks(&events, &value, &text_of, sites, None);
        let (how, how_zh) = via_texts(via);
        if !blocks.is_empty() {
            let mut severity = 0;
            for b in blocks {
                let mut f = block_finding(&b, "darklink:script-hidden-link", filter, Some((&how, &how_zh)));
                f.severity = (f.severity + u8::from(via.is_some())).min(5);
                severity = severity.max(f.severity);
                out.push((f, at.clone()));
            }
            if more > 0 {
                let category = Some("hidden-link".to_string());
                out.push((more_finding("darklink:script-hidden-link", category, more, severity), at));
            }
            return;
        }
        let mut links = Vec::new();
        let mut hosts = BTreeSet::new();
        for ev in &events {
            if let Event::Start(tag) = ev {
                let href = match tag.name.as_str() {
                    "a" | "area" => tag.attr("href"),
                    "iframe" | "frame" | "script" => tag.attr("src"),
                    _ => None,
                };
                if let Some(h) = href.map(&value) {
                    if let Some(host) = sites.outside_host(&h).filter(|h| !is_analytics(h)) {
                        hosts.insert(host);
                        links.push(h);
                    }
                }
            }
        }
        if hosts.is_empty() {
            return;
        }
        let kw = filter.check(payload);
        let sev = 2 + u8::from(via.is_some()) + u8::from(!kw.is_pass()) + u8::from(hosts.len() >= 4 && via.is_some());
        let mut f = Finding::new(Kind::Darklink, "darklink:script-link", sev);
        f.category = Some("injected-link".into());
        let shown: Vec<String> = hosts.iter().take(6).cloned().collect();
        f.message = Some(format!("{how} adds {} outside link(s): {}", links.len(), shown.join(", ")));
        let mut zh = format!("{how_zh}添加了 {} 个站外链接：{}", links.len(), shown.join("、"));
        if !kw.is_pass() {
            zh.push_str(&format!("；命中有害类别：{}", categories_zh(filter, &kw.categories)));
        }
        f.message_zh = Some(zh);
        f.links = links.into_iter().take(50).collect();
        f.hits = kw.hits.into_iter().take(20).collect();
        out.push((f, at));
    }

    /// The string a sink's argument evaluates to (literals joined; unescape/atob/fromCharCode
    /// decoded), and how it was obfuscated.
    fn payload(&self, args: &str) -> (String, Option<&'static str>) {
        let mut out = String::new();
        let mut via = None;
        let b = args.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let rest = &args[i..];
            let lower4: String = rest.chars().take(20).collect::<String>().to_ascii_lowercase();
            if lower4.starts_with("atob(") || lower4.starts_with("window.atob(") {
                let open = i + rest.find('(').unwrap_or(0);
                let inner = args_text(args, open);
                let (s, _) = self.payload(inner);
                if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                    out.push_str(&String::from_utf8_lossy(&d));
                    via = Some("atob");
                }
                i = open + inner.len() + 2;
                continue;
            }
            if lower4.starts_with("unescape(")
                || lower4.starts_with("decodeuricomponent(")
                || lower4.starts_with("decodeuri(")
            {
                let open = i + rest.find('(').unwrap_or(0);
                let inner = args_text(args, open);
                let (s, _) = self.payload(inner);
                out.push_str(&percent_u(&s));
                via = Some("unescape");
                i = open + inner.len() + 2;
                continue;
            }
            if lower4.starts_with("string.fromcharcode(") {
                let open = i + rest.find('(').unwrap_or(0);
                let inner = args_text(args, open);
                for n in inner.split(',') {
                    let n = n.trim();
                    let v = if let Some(h) = n.strip_prefix("0x") {
                        u32::from_str_radix(h, 16).ok()
                    } else {
                        n.parse().ok()
                    };
                    if let Some(c) = v.and_then(char::from_u32) {
                        out.push(c);
                    }
                }
                via = Some("String.fromCharCode");
                i = open + inner.len() + 2;
                continue;
            }
            match b[i] {
                q @ (b'"' | b'\'' | b'`') => {
                    let mut j = i + 1;
                    while j < b.len() && b[j] != q {
                        if b[j] == b'\\' {
                            j += 1;
                        }
                        j += 1;
                    }
                    let lit = &args[i + 1..j.min(b.len())];
                    if lit.contains("\\u") || lit.contains("\\x") {
                        via = via.or(Some("escapes"));
                    }
                    let lit = unescape(lit, Escapes::BACKSLASH);
                    out.push_str(&lit.replace("\\'", "'").replace("\\\"", "\"").replace("\\/", "/"));
                    i = j + 1;
                }
                _ => i += rest.chars().next().map_or(1, char::len_utf8),
            }
        }
        (out, via)
    }

    /// Whether `lower` (a script with ASCII lowered) holds one of [`UA_WORDS`].
    fn names_ua(&self, lower: &str) -> bool {
        self.ua_words.iter().any(|w| w.find(lower.as_bytes()).is_some())
    }

    fn cloaking(&self, text: &str, lower: &str) -> Option<(Finding, std::ops::Range<usize>)> {
        if !self.names_ua(lower) {
            return None;
        }
        // Lowering keeps every offset: the match's range is the same in `text`.
        for m in self.ua.find_iter(lower) {
            let (start, ua_end) = (m.start(), m.end());
            let win_end = floor_boundary(text, ua_end + 400);
            let Some(s) = self.spider.find(&text[ua_end..win_end]) else { continue };
            let s_end = ua_end + s.end();
            let act_end = floor_boundary(text, s_end + 800);
            if let Some(a) = self.action.find(&text[s_end..act_end]) {
                let end = s_end + a.end();
                let ua = &text[start..ua_end];
                let mut f = Finding::new(Kind::Darklink, "darklink:cloaking", 4);
                f.category = Some("cloaking".into());
                f.message = Some(format!("cloaking: {ua} checked for {:?}, then {:?}", s.as_str(), a.as_str().trim()));
                f.message_zh =
                    Some(format!("搜索引擎伪装：先判断 {ua} 是否为“{}”，随后执行“{}”", s.as_str(), a.as_str().trim()));
                let snip: String =
                    text[start..end].chars().take(200).collect::<String>().replace(['\n', '\r', '\t'], " ");
                f.highlight = Some([0, snip.len()]);
                f.snippet = Some(snip);
                return Some((f, start..end));
            }
        }
        None
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The text between the `(` at `open` and its matching `)` (bounded; quotes respected).
fn args_text(s: &str, open: usize) -> &str {
    let b = s.as_bytes();
    let limit = b.len().min(open + 64 * 1024);
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < limit {
        let c = b[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return &s[floor_boundary(s, open + 1)..floor_boundary(s, i)];
                    }
                }
                b';' | b'\n' if depth <= 1 && b[open] != b'(' => {
                    return &s[floor_boundary(s, open + 1)..floor_boundary(s, i)];
                }
                _ => {}
            },
        }
        i += 1;
    }
    &s[floor_boundary(s, (open + 1).min(limit))..floor_boundary(s, limit)]
}

/// `%XX` and `%uXXXX` decoding (JavaScript `unescape`).
fn percent_u(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    let mut pending: Vec<u8> = Vec::new();
    let flush = |pending: &mut Vec<u8>, out: &mut String| {
        if !pending.is_empty() {
            // unescape maps %XX to U+00XX; read runs as UTF-8 when they are (common in spam).
            match std::str::from_utf8(pending) {
                Ok(t) => out.push_str(t),
                Err(_) => out.extend(pending.iter().map(|&x| x as char)),
            }
            pending.clear();
        }
    };
    while i < b.len() {
        if b[i] == b'%' {
            if b.get(i + 1) == Some(&b'u') {
                if let Some(Ok(v)) = s.get(i + 2..i + 6).map(|h| u32::from_str_radix(h, 16)) {
                    flush(&mut pending, &mut out);
                    out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
                    i += 6;
                    continue;
                }
            }
            {
                if let Some(Ok(v)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                    pending.push(v);
                    i += 3;
                    continue;
                }
            }
        }
        flush(&mut pending, &mut out);
        let c = s[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    flush(&mut pending, &mut out);
    out
}

/// Unpacks Dean Edwards' packer: `eval(function(p,a,c,k,e,d){…}('payload',62,N,'w0|w1|…'.split('|'),0,{}))`.
pub fn unpack(text: &str) -> Option<String> {
    let re = Regex::new(
        r#"\}\s*\(\s*'((?:[^'\\]|\\.)*)'\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'((?:[^'\\]|\\.)*)'\s*\.split\(\s*'\|'\s*\)"#,
    )
    .ok()?;
    let c = re.captures(&text[..floor_boundary(text, 512 * 1024)])?;
    let payload = c[1].replace("\\'", "'").replace("\\\"", "\"").replace("\\\\", "\\");
    let base: u32 = c[2].parse().ok()?;
    let words: Vec<&str> = c[4].split('|').collect();
    if !(2..=62).contains(&base) {
        return None;
    }
    let digit = |ch: char| -> Option<u32> {
        let v = match ch {
            '0'..='9' => ch as u32 - '0' as u32,
            'a'..='z' => ch as u32 - 'a' as u32 + 10,
            'A'..='Z' => ch as u32 - 'A' as u32 + 36,
            _ => return None,
        };
        (v < base).then_some(v)
    };
    let word = Regex::new(r"\b\w+\b").ok()?;
    let out = word.replace_all(&payload, |m: &regex::Captures<'_>| {
        let w = &m[0];
        let idx = w.chars().try_fold(0u32, |acc, ch| Some(acc.checked_mul(base)? + digit(ch)?));
        match idx.and_then(|i| words.get(i as usize)) {
            Some(r) if !r.is_empty() => (*r).to_string(),
            _ => w.to_string(),
        }
    });
    Some(out.into_owned())
}

/// Hosts seen, for tests and reports.
pub fn hosts_of(links: &[String], sites: &Sites) -> HashSet<String> {
    links.iter().filter_map(|l| sites.outside_host(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asked in turn, offset after offset, the scope answers as it does asked afresh.
    #[test]
    fn style_rules_on_screen_only() {
        let css = "a{color:red} .x{display:none}\n@media print { div.footer, .y { display: none } }\n\
                   @media screen { .z { display: none } } @media (max-width: 600px) { .m { display: none } }\n\
                   @supports (display: grid) { @media all { .s { display: none } } } @font-face { font-family: f; }\n\
                   @keyframes k { 0% { opacity: 0 } } .after { display: none }";
        let sels: Vec<&str> = screen_rules(css).into_iter().map(|(s, _)| s).collect();
        assert_eq!(sels, ["a", ".x", ".z", ".s", "0%", ".after"]);
        let mut rules = HiddenRules::default();
        rules.add_css(css, None);
        let mut classes: Vec<&str> = rules.classes.keys().map(String::as_str).collect();
        classes.sort();
        assert_eq!(classes, ["after", "s", "x", "z"]);
    }

    #[test]
    fn last_compounds() {
        let read = |s: &str| {
            last_compound(s).map(|c| {
                let names = c.names.into_iter().map(|(k, n)| format!("{}{n}", k as char));
                (!c.tag.is_empty()).then_some(c.tag).into_iter().chain(names).collect::<Vec<_>>()
            })
        };
        let some = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(read("ul li.a#b"), some(&["li", ".a", "#b"]));
        assert_eq!(read("div>.x"), some(&[".x"]));
        assert_eq!(read(".\\6b"), some(&[".k"]));
        // The space after a hex escape ends it and is no combinator: this is `.k.y`.
        assert_eq!(read(".\\6b .y"), some(&[".k", ".y"]));
        assert_eq!(read(".\\6b  .y"), some(&[".y"]));
        assert_eq!(read(".md\\:hidden"), some(&[".md:hidden"]));
        assert_eq!(read("#a\\ b"), some(&["#a b"]));
        assert_eq!(read("a:hover .x"), some(&[".x"]));
        assert_eq!(read(".x:hover"), None);
        assert_eq!(read(".x::before"), None);
        assert_eq!(read(".x:not(.a .b)"), None);
        assert_eq!(read(".x[title=\"a b\"]"), None);
        assert_eq!(read("[title=\"a ] b\"] .y"), some(&[".y"]));
        assert_eq!(read("P"), some(&["p"]));
        assert_eq!(read("*.z"), some(&[".z"]));
        assert_eq!(read(". #"), some(&[]));
        // Attribute tests that name the id or a class, as `#k` and `.k` do.
        assert_eq!(read("div[id=k]"), some(&["div", "#k"]));
        assert_eq!(read("[class~='a']"), some(&[".a"]));
        assert_eq!(read("[ID=\"x\" i]"), some(&["#x"]));
        assert_eq!(read("[id=\\6b]"), some(&["#k"]));
        assert_eq!(read("[data-x=y]"), None);
        assert_eq!(read("[id^=k]"), None);
        assert_eq!(read("[class=\"a b\"]"), None);
        assert_eq!(read("[hidden]"), None);
        // Trailing white space is no combinator; a compound after one is not the whole selector.
        assert_eq!(read(" .a\t"), some(&[".a"]));
        assert!(last_compound("spam").unwrap().alone);
        assert!(!last_compound(".menu ul").unwrap().alone);
        assert!(!last_compound("body > spam").unwrap().alone);
    }

    #[test]
    fn selector_lists() {
        assert_eq!(selector_list(".a, .b"), [".a", " .b"]);
        assert_eq!(selector_list(":is(.a, .b) .c,.d"), [":is(.a, .b) .c", ".d"]);
        assert_eq!(selector_list("[title=\"a,b\"],.e"), ["[title=\"a,b\"]", ".e"]);
        assert_eq!(selector_list(".a\\,b,.f"), [".a\\,b", ".f"]);
        let mut rules = HiddenRules::default();
        // Split at every comma, `:is(.a` was dropped and ` .b)` read as a class `b)`.
        rules.add_css(":is(.a, .b) .c, .x :is(.a, .b), .d { display: none }", None);
        let mut classes: Vec<&str> = rules.classes.keys().map(String::as_str).collect();
        classes.sort();
        assert_eq!(classes, ["c", "d"]);
    }

    proptest::proptest! {
        /// The CSS readers take whatever a page holds: any mix of the characters that steer
        /// them (brackets, quotes, escapes, combinators, units) never panics, and what a
        /// selector list splits into covers it.
        #[test]
        fn css_readers_take_any_input(
            css in r#"[-a-z0-9.#:\[\]()"'\\ ,>+~*=%{};/éα赌\t\n]{0,80}"#,
        ) {
            let parts = selector_list(&css);
            proptest::prop_assert_eq!(parts.join(",").len(), css.len());
            for one in parts {
                let _ = last_compound(one);
                let _ = attribute_name(one);
            }
            let _ = hide_reason(&css);
            let _ = px(&css);
            let _ = calc_px(&css);
            let mut rules = HiddenRules::default();
            let _ = rules.add_css(&css, None);
        }
    }

    #[test]
    fn element_name_rules() {
        let mut rules = HiddenRules::default();
        rules.add_css(
            "spam{display:none} .menu ul{display:none} body{display:none} @keyframes f { from { opacity: 0 } 50% { opacity: 0 } }",
            None,
        );
        assert_eq!(rules.tags.keys().collect::<Vec<_>>(), ["spam"]);
    }

    #[test]
    fn imports_are_read_from_the_prelude() {
        let css = "@charset 'utf-8'; /* @import 'c.css'; */\n@IMPORT url( 'a.css' ) print;@import \"b.css\";\n@import url(d.css);\n.x{} @import 'e.css';";
        let imports = |css: &str| HiddenRules::default().add_css(css, None);
        assert_eq!(imports(css), ["a.css", "b.css", "d.css"]);
        assert!(imports(".x { display: none }").is_empty());
        assert!(imports("@import url();").is_empty());
    }

    #[test]
    fn load_scope_asked_in_turn_agrees_with_a_fresh_look() {
        let js = "var a = '{'; /* } { */ $(function () { var s = \"}{\"; if (x) { y(); } // {\n z(); });\nf({a: 1}); window.onload = () => { g(); };";
        let ends: Vec<usize> = (0..=js.len()).filter(|&i| js.is_char_boundary(i)).collect();
        let mut turn = LoadScope::new(js);
        let mut seen = (0, 0);
        for &at in &ends {
            let fresh = LoadScope::new(js).runs_on_load(at);
            assert_eq!(turn.runs_on_load(at), fresh, "at {at}: {:?}", &js[..at]);
            if fresh { seen.0 += 1 } else { seen.1 += 1 }
        }
        // Both answers occur.
        assert!(seen.0 > 10 && seen.1 > 10, "{seen:?}");
    }

    #[test]
    fn sinks_are_found_in_any_letter_case() {
        let c = ScriptCheck::new();
        // Each form, and where its sink starts in it (a property's at its dot).
        let forms = [
            ("document.write(", 0),
            ("Document . Writeln (", 0),
            ("el.innerHTML =", 2),
            ("el. outerHTML +=", 2),
            ("el.insertAdjacentHTML(", 3),
            ("eval (", 0),
        ];
        for (f, start) in forms {
            for t in [f.to_string(), f.to_ascii_lowercase(), f.to_ascii_uppercase()] {
                let text = format!("var n = 1; {t}'<a href=\"http://spam.example/\">x</a>');");
                let found: Vec<_> = c.sinks(&text.to_ascii_lowercase()).collect();
                let at = "var n = 1; ".len();
                assert_eq!(found, [(at + start, at + t.len())], "{text}");
            }
        }
        for t in ["retrieval(x)", "Retrieval (x)", "innerHTML = 1", "x.innerHTMLs = 1", "document.written("] {
            assert_eq!(c.sinks(&t.to_ascii_lowercase()).count(), 0, "{t}");
        }
    }

    #[test]
    fn every_user_agent_check_holds_a_gate_word() {
        let c = ScriptCheck::new();
        let forms = [
            "$_SERVER['HTTP_USER_AGENT']",
            "$_SERVER[\"HTTP_REFERER\"]",
            "navigator . userAgent",
            "document.referrer",
            "request.getHeader( \"User-Agent\")",
            "request.getHeader(\"Referer\")",
            "Request.ServerVariables(\"HTTP_USER_AGENT\")",
            "Request.ServerVariables(\"HTTP_REFERER\")",
            "Request.UserAgent",
            "Request . UrlReferrer",
        ];
        for f in forms {
            // Each form in three letter cases: the pattern and the words are searched in the
            // text lowered.
            for t in [f.to_string(), f.to_ascii_lowercase(), f.to_ascii_uppercase()] {
                assert!(c.ua.is_match(&t.to_ascii_lowercase()), "{t}");
                assert!(c.names_ua(&t.to_ascii_lowercase()), "{t}");
            }
        }
        // A script that reads neither is not searched.
        assert!(!c.names_ua("document.getelementbyid('x').innerhtml = request.responsetext;"));
        assert!(!c.names_ua("see the reference manual; preferences are kept."));
    }

    #[test]
    fn hiding_declarations() {
        for d in [
            "display:none",
            "DISPLAY: NONE !important",
            "visibility:hidden",
            "opacity:0",
            "font-size:0px",
            "height:0;overflow:hidden",
            "position:absolute;left:-9999px",
            "text-indent:-9999em",
            "position:absolute;clip:rect(0 0 0 0)",
            "transform:scale(0)",
            "transform: scaleY(0)",
            "transform:translate(-9999px)",
            "transform: translateX(-200em)",
            "transform:translate3d(0, -9999px, 0)",
            "transform: rotate(1deg) translate(-10000px, 0)",
            "color:transparent",
            "color: rgba(0, 0, 0, 0)",
            "color: rgb(0 0 0 / 0%)",
            "color:hsla(0,0%,0%,0)",
            "color:#ffffff00",
            "color:#fff0",
            "content-visibility: hidden",
            "filter:opacity(0)",
            "filter: blur(1px) opacity(0%)",
            // Comments and escapes are read as a browser reads them.
            "display:/**/none",
            "display:/* x */none/* y */",
            r"display:n\6f ne",
            r"display:\6e\6f\6e\65",
            r"di\73 play:none",
            r"visibility:\hidden",
            r"display:\6e one",
            // Too faint to read; a zero scale; lengths in calc() and viewport units.
            "opacity:0.01",
            "opacity: 3%",
            "filter:opacity(0.02)",
            "scale:0",
            "scale: 1 0",
            "transform:scale3d(0, 0, 1)",
            "position:absolute;left:calc(-9999px)",
            "position:absolute;top:calc(-100vh - 50px)",
            "position:fixed;left:calc(-1*9999px)",
            "text-indent:-100vw;overflow:hidden",
            "position:fixed;left:200%",
            "position:fixed;top:100%",
            "position:fixed;left:99999px",
        ] {
            assert!(hide_reason(d).is_some(), "{d}");
        }
        assert_eq!(
            hide_reason("transform:translateX(-9999px)").as_deref(),
            Some("transform:translatex(-9999px) (off-screen)")
        );
        assert_eq!(hide_reason("color:transparent").as_deref(), Some("color:transparent"));
        for d in [
            "display:block",
            "height:0",
            "opacity:0.5",
            "position:absolute;left:-20px",
            "font-size:12px",
            "clip:auto",
            // Image replacement: the element shows its background image.
            "text-indent:-9999px;background-image:url(../images/logo.svg)",
            "background:url(logo.png) no-repeat;text-indent:-9999em",
            "transform:scale(0.5)",
            "transform:translateX(-50%)",
            "transform:translate(-20px, -9999%)",
            "transform:translateZ(-9999px)",
            "color:#fff",
            "color:rgba(0,0,0,.5)",
            "color:#00000080",
            // Gradient text shows its background through the text; image replacement.
            "background:linear-gradient(red,blue);-webkit-background-clip:text;color:transparent",
            "background-image:url(logo.png);color:transparent",
            "content-visibility:auto",
            "filter:opacity(0.5)",
            "filter:grayscale(1)",
            "display:n/**/one",
            // The first white space ends the escape, the second stays: `n one`.
            r"display:\6e  one",
            "opacity:0.1",
            "opacity:50%",
            "scale:0.5",
            "scale: 1",
            "position:absolute;left:calc(50% - 9999px)",
            "position:absolute;left:-10vw",
            "position:absolute;left:calc(-9999px +)",
            "position:fixed;left:50%",
            "position:fixed;top:90%",
            "position:absolute;left:200%",
            "position:fixed;left:1200px",
            "position:fixed;top:100%;transform:translateY(-100%)",
        ] {
            assert!(hide_reason(d).is_none(), "{d}");
        }
    }

    #[test]
    fn outside_hosts() {
        let s = Sites::new(["example.com".to_string()]);
        assert_eq!(s.outside_host("http://spam.cc/x"), Some("spam.cc".into()));
        assert_eq!(s.outside_host("//Spam.cc"), Some("spam.cc".into()));
        assert_eq!(s.outside_host("https://www.example.com/a"), None);
        assert_eq!(s.outside_host("/news/1.html"), None);
        assert_eq!(s.outside_host("javascript:void(0)"), None);
    }

    #[test]
    fn unpacks_packer() {
        let packed = r#"eval(function(p,a,c,k,e,d){e=function(c){return c};return p}('0.1(\'<2 3=\"4://5.6/\">7</2>\')',8,8,'document|write|a|href|http|spam|cc|x'.split('|'),0,{}))"#;
        assert_eq!(unpack(packed).unwrap(), "document.write('<a href=\"http://spam.cc/\">x</a>')");
    }

    #[test]
    fn percent_u_decoding() {
        assert_eq!(percent_u("%3Ca%20href%3D%u8D4C"), "<a href=赌");
        assert_eq!(percent_u("%E8%B5%8C"), "赌");
    }
}
