//! HTML entities and `\uXXXX` / `\xXX` / `%XX` escapes.
//!
//! Escapes are recognised in the original bytes while they are decoded (they are ASCII in
//! every ASCII-compatible encoding), so that each decoded escape maps to exactly the bytes it
//! was written as.

use std::ops::BitOr;

use encoding_rs::Encoding;

/// Which escapes to decode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Escapes(u8);

impl Escapes {
    /// No escapes: text is decoded as it is.
    pub const NONE: Escapes = Escapes(0);
    /// HTML character references: `&amp;`, `&#36203;`, `&#x8D4C;`.
    pub const HTML: Escapes = Escapes(1);
    /// Percent-encoded bytes, `%E8%B5%8C` (as UTF-8, else in the page's encoding).
    pub const PERCENT: Escapes = Escapes(2);
    /// Script escapes: `\u8d4c`, `\u{8d4c}`, `\x41`.
    pub const BACKSLASH: Escapes = Escapes(4);
    /// Everything.
    pub const ALL: Escapes = Escapes(7);

    /// Whether every escape of `other` is included.
    pub const fn contains(self, other: Escapes) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether none is included.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bytes that can start an escape (for a `memchr3` search).
    pub(crate) fn starters(self) -> [u8; 3] {
        // Unused slots repeat an enabled starter.
        match (self.contains(Escapes::HTML), self.contains(Escapes::PERCENT), self.contains(Escapes::BACKSLASH)) {
            (true, true, true) => [b'&', b'%', b'\\'],
            (true, true, false) => [b'&', b'%', b'%'],
            (true, false, true) => [b'&', b'\\', b'\\'],
            (true, false, false) => [b'&'; 3],
            (false, true, true) => [b'%', b'\\', b'\\'],
            (false, true, false) => [b'%'; 3],
            (false, false, true) => [b'\\'; 3],
            (false, false, false) => [b'&'; 3],
        }
    }
}

impl BitOr for Escapes {
    type Output = Escapes;
    fn bitor(self, rhs: Escapes) -> Escapes {
        Escapes(self.0 | rhs.0)
    }
}

/// Named character references: the HTML 4 set plus a few HTML5 ones that matter for text.
/// Sorted by name (binary search).
static ENTITIES: &[(&str, &str)] = &[
    ("AElig", "Æ"),
    ("Aacute", "Á"),
    ("Acirc", "Â"),
    ("Agrave", "À"),
    ("Alpha", "Α"),
    ("Aring", "Å"),
    ("Atilde", "Ã"),
    ("Auml", "Ä"),
    ("Beta", "Β"),
    ("Ccedil", "Ç"),
    ("Chi", "Χ"),
    ("Dagger", "‡"),
    ("Delta", "Δ"),
    ("ETH", "Ð"),
    ("Eacute", "É"),
    ("Ecirc", "Ê"),
    ("Egrave", "È"),
    ("Epsilon", "Ε"),
    ("Eta", "Η"),
    ("Euml", "Ë"),
    ("Gamma", "Γ"),
    ("Iacute", "Í"),
    ("Icirc", "Î"),
    ("Igrave", "Ì"),
    ("Iota", "Ι"),
    ("Iuml", "Ï"),
    ("Kappa", "Κ"),
    ("Lambda", "Λ"),
    ("Mu", "Μ"),
    ("Ntilde", "Ñ"),
    ("Nu", "Ν"),
    ("OElig", "Œ"),
    ("Oacute", "Ó"),
    ("Ocirc", "Ô"),
    ("Ograve", "Ò"),
    ("Omega", "Ω"),
    ("Omicron", "Ο"),
    ("Oslash", "Ø"),
    ("Otilde", "Õ"),
    ("Ouml", "Ö"),
    ("Phi", "Φ"),
    ("Pi", "Π"),
    ("Prime", "″"),
    ("Psi", "Ψ"),
    ("Rho", "Ρ"),
    ("Scaron", "Š"),
    ("Sigma", "Σ"),
    ("THORN", "Þ"),
    ("Tau", "Τ"),
    ("Theta", "Θ"),
    ("Uacute", "Ú"),
    ("Ucirc", "Û"),
    ("Ugrave", "Ù"),
    ("Upsilon", "Υ"),
    ("Uuml", "Ü"),
    ("Xi", "Ξ"),
    ("Yacute", "Ý"),
    ("Yuml", "Ÿ"),
    ("Zeta", "Ζ"),
    ("aacute", "á"),
    ("acirc", "â"),
    ("acute", "´"),
    ("aelig", "æ"),
    ("agrave", "à"),
    ("alpha", "α"),
    ("amp", "&"),
    ("and", "∧"),
    ("ang", "∠"),
    ("apos", "'"),
    ("aring", "å"),
    ("asymp", "≈"),
    ("atilde", "ã"),
    ("auml", "ä"),
    ("bdquo", "„"),
    ("beta", "β"),
    ("brvbar", "¦"),
    ("bull", "•"),
    ("cap", "∩"),
    ("ccedil", "ç"),
    ("cedil", "¸"),
    ("cent", "¢"),
    ("chi", "χ"),
    ("circ", "ˆ"),
    ("clubs", "♣"),
    ("colon", ":"),
    ("comma", ","),
    ("cong", "≅"),
    ("copy", "©"),
    ("crarr", "↵"),
    ("cup", "∪"),
    ("curren", "¤"),
    ("dArr", "⇓"),
    ("dagger", "†"),
    ("darr", "↓"),
    ("deg", "°"),
    ("delta", "δ"),
    ("diams", "♦"),
    ("divide", "÷"),
    ("dollar", "$"),
    ("eacute", "é"),
    ("ecirc", "ê"),
    ("egrave", "è"),
    ("empty", "∅"),
    ("emsp", "\u{2003}"),
    ("ensp", "\u{2002}"),
    ("epsilon", "ε"),
    ("equals", "="),
    ("equiv", "≡"),
    ("eta", "η"),
    ("eth", "ð"),
    ("euml", "ë"),
    ("euro", "€"),
    ("exist", "∃"),
    ("fnof", "ƒ"),
    ("forall", "∀"),
    ("frac12", "½"),
    ("frac14", "¼"),
    ("frac34", "¾"),
    ("frasl", "⁄"),
    ("gamma", "γ"),
    ("ge", "≥"),
    ("grave", "`"),
    ("gt", ">"),
    ("hArr", "⇔"),
    ("harr", "↔"),
    ("hearts", "♥"),
    ("hellip", "…"),
    ("iacute", "í"),
    ("icirc", "î"),
    ("iexcl", "¡"),
    ("igrave", "ì"),
    ("infin", "∞"),
    ("int", "∫"),
    ("iota", "ι"),
    ("iquest", "¿"),
    ("isin", "∈"),
    ("iuml", "ï"),
    ("kappa", "κ"),
    ("lArr", "⇐"),
    ("lambda", "λ"),
    ("lang", "⟨"),
    ("laquo", "«"),
    ("larr", "←"),
    ("lbrack", "["),
    ("lceil", "⌈"),
    ("lcub", "{"),
    ("ldquo", "“"),
    ("le", "≤"),
    ("lfloor", "⌊"),
    ("lowast", "∗"),
    ("lowbar", "_"),
    ("loz", "◊"),
    ("lpar", "("),
    ("lrm", "\u{200E}"),
    ("lsaquo", "‹"),
    ("lsquo", "‘"),
    ("lt", "<"),
    ("macr", "¯"),
    ("mdash", "—"),
    ("micro", "µ"),
    ("middot", "·"),
    ("minus", "−"),
    ("mu", "μ"),
    ("nabla", "∇"),
    ("nbsp", "\u{A0}"),
    ("ndash", "–"),
    ("ne", "≠"),
    ("newline", "\n"),
    ("ni", "∋"),
    ("not", "¬"),
    ("notin", "∉"),
    ("nsub", "⊄"),
    ("ntilde", "ñ"),
    ("nu", "ν"),
    ("num", "#"),
    ("oacute", "ó"),
    ("ocirc", "ô"),
    ("oelig", "œ"),
    ("ograve", "ò"),
    ("oline", "‾"),
    ("omega", "ω"),
    ("omicron", "ο"),
    ("oplus", "⊕"),
    ("or", "∨"),
    ("ordf", "ª"),
    ("ordm", "º"),
    ("oslash", "ø"),
    ("otilde", "õ"),
    ("otimes", "⊗"),
    ("ouml", "ö"),
    ("para", "¶"),
    ("part", "∂"),
    ("percnt", "%"),
    ("period", "."),
    ("permil", "‰"),
    ("perp", "⊥"),
    ("phi", "φ"),
    ("pi", "π"),
    ("piv", "ϖ"),
    ("plus", "+"),
    ("plusmn", "±"),
    ("pound", "£"),
    ("prime", "′"),
    ("prod", "∏"),
    ("prop", "∝"),
    ("psi", "ψ"),
    ("quest", "?"),
    ("quot", "\""),
    ("rArr", "⇒"),
    ("radic", "√"),
    ("rang", "⟩"),
    ("raquo", "»"),
    ("rarr", "→"),
    ("rbrack", "]"),
    ("rceil", "⌉"),
    ("rcub", "}"),
    ("rdquo", "”"),
    ("reg", "®"),
    ("rfloor", "⌋"),
    ("rho", "ρ"),
    ("rlm", "\u{200F}"),
    ("rpar", ")"),
    ("rsaquo", "›"),
    ("rsquo", "’"),
    ("sbquo", "‚"),
    ("scaron", "š"),
    ("sdot", "⋅"),
    ("sect", "§"),
    ("semi", ";"),
    ("shy", "\u{AD}"),
    ("sigma", "σ"),
    ("sigmaf", "ς"),
    ("sim", "∼"),
    ("sol", "/"),
    ("spades", "♠"),
    ("sub", "⊂"),
    ("sube", "⊆"),
    ("sum", "∑"),
    ("sup", "⊃"),
    ("sup1", "¹"),
    ("sup2", "²"),
    ("sup3", "³"),
    ("supe", "⊇"),
    ("szlig", "ß"),
    ("tau", "τ"),
    ("there4", "∴"),
    ("theta", "θ"),
    ("thetasym", "ϑ"),
    ("thinsp", "\u{2009}"),
    ("thorn", "þ"),
    ("tilde", "˜"),
    ("times", "×"),
    ("trade", "™"),
    ("uArr", "⇑"),
    ("uacute", "ú"),
    ("uarr", "↑"),
    ("ucirc", "û"),
    ("ugrave", "ù"),
    ("uml", "¨"),
    ("upsih", "ϒ"),
    ("upsilon", "υ"),
    ("uuml", "ü"),
    ("verbar", "|"),
    ("vert", "|"),
    ("weierp", "℘"),
    ("xi", "ξ"),
    ("yacute", "ý"),
    ("yen", "¥"),
    ("yuml", "ÿ"),
    ("zeta", "ζ"),
    ("zwj", "\u{200D}"),
    ("zwnj", "\u{200C}"),
];

/// Entities that browsers also accept without the closing semicolon.
const LEGACY: &[&str] = &["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"];

fn hex_val(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// Windows-1252 meanings of numeric references 0x80..0x9F (as browsers read them).
fn c1_fix(cp: u32) -> u32 {
    const T: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
        0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0x9D, 0x017E, 0x0178,
    ];
    if (0x80..=0x9F).contains(&cp) { T[(cp - 0x80) as usize] as u32 } else { cp }
}

fn push_cp(out: &mut String, cp: u32) {
    let cp = c1_fix(cp);
    out.push(if cp == 0 { '\u{FFFD}' } else { char::from_u32(cp).unwrap_or('\u{FFFD}') });
}

/// An HTML character reference at `s[0] == b'&'`: the bytes consumed, with the text pushed.
fn html_entity(s: &[u8], out: &mut String) -> Option<usize> {
    if s.get(1) == Some(&b'#') {
        let (hex, start) = match s.get(2) {
            Some(b'x' | b'X') => (true, 3),
            _ => (false, 2),
        };
        let mut i = start;
        let mut cp: u32 = 0;
        while i < s.len() && i < start + 8 {
            let d = if hex { hex_val(s[i]) } else { (s[i] as char).to_digit(10) };
            let Some(d) = d else { break };
            cp = cp.saturating_mul(if hex { 16 } else { 10 }).saturating_add(d);
            i += 1;
        }
        if i == start {
            return None;
        }
        if s.get(i) == Some(&b';') {
            i += 1;
        }
        push_cp(out, if cp > 0x10FFFF { 0xFFFD } else { cp });
        return Some(i);
    }
    let mut i = 1;
    while i < s.len() && i < 12 && s[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == 1 {
        return None;
    }
    let name = std::str::from_utf8(&s[1..i]).ok()?;
    let idx = ENTITIES.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    if s.get(i) == Some(&b';') {
        out.push_str(ENTITIES[idx].1);
        Some(i + 1)
    } else if LEGACY.contains(&name) && s.get(i).is_none_or(|&b| b != b'=') {
        out.push_str(ENTITIES[idx].1);
        Some(i)
    } else {
        None
    }
}

fn hex4(s: &[u8]) -> Option<u32> {
    if s.len() < 4 {
        return None;
    }
    s[..4].iter().try_fold(0u32, |acc, &b| Some(acc * 16 + hex_val(b)?))
}

/// A script escape at `s[0] == b'\\'`.
fn backslash(s: &[u8], out: &mut String) -> Option<usize> {
    match s.get(1)? {
        b'u' if s.get(2) == Some(&b'{') => {
            let close = s.iter().take(12).position(|&b| b == b'}')?;
            let mut cp = 0u32;
            for &b in &s[3..close] {
                cp = cp.checked_mul(16)? + hex_val(b)?;
            }
            if close == 3 || cp > 0x10FFFF {
                return None;
            }
            push_raw(out, cp);
            Some(close + 1)
        }
        b'u' => {
            let hi = hex4(&s[2..])?;
            if (0xD800..0xDC00).contains(&hi) && s.get(6) == Some(&b'\\') && s.get(7) == Some(&b'u') {
                if let Some(lo) = hex4(&s[8..]).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                    push_raw(out, 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
                    return Some(12);
                }
            }
            push_raw(out, hi);
            Some(6)
        }
        b'x' => {
            let v = hex_val(*s.get(2)?)? * 16 + hex_val(*s.get(3)?)?;
            push_raw(out, v);
            Some(4)
        }
        _ => None,
    }
}

fn push_raw(out: &mut String, cp: u32) {
    out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
}

/// A run of `%XX` bytes at `s[0] == b'%'`, read as UTF-8, else in `fallback`.
fn percent(s: &[u8], fallback: &'static Encoding, out: &mut String) -> Option<usize> {
    let mut bytes = Vec::new();
    let mut i = 0;
    while i + 3 <= s.len() && s[i] == b'%' {
        let (Some(h), Some(l)) = (hex_val(s[i + 1]), hex_val(s[i + 2])) else { break };
        bytes.push((h * 16 + l) as u8);
        i += 3;
    }
    if bytes.is_empty() {
        return None;
    }
    match std::str::from_utf8(&bytes) {
        Ok(t) => out.push_str(t),
        Err(_) => {
            let (t, _, _) = fallback.decode(&bytes);
            out.push_str(&t);
        }
    }
    Some(i)
}

/// Decodes the escape starting at `s[0]`, if it is one of `which`: the bytes consumed.
pub(crate) fn parse(s: &[u8], which: Escapes, fallback: &'static Encoding, out: &mut String) -> Option<usize> {
    match s.first()? {
        b'&' if which.contains(Escapes::HTML) => html_entity(s, out),
        b'\\' if which.contains(Escapes::BACKSLASH) => backslash(s, out),
        b'%' if which.contains(Escapes::PERCENT) => percent(s, fallback, out),
        _ => None,
    }
}

/// Decodes the escapes of `which` in a UTF-8 string (no offsets kept).
///
/// ```
/// use lexguard_extract::{Escapes, unescape};
/// assert_eq!(unescape("&#36172;&#x535A; \\u8d4c%E5%8D%9A", Escapes::ALL), "赌博 赌博");
/// ```
pub fn unescape(s: &str, which: Escapes) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let [a, c, d] = which.starters();
    let mut pos = 0;
    while pos < b.len() {
        let next = if which.is_empty() { None } else { memchr::memchr3(a, c, d, &b[pos..]).map(|i| pos + i) };
        let Some(at) = next else {
            out.push_str(&s[pos..]);
            break;
        };
        out.push_str(&s[pos..at]);
        match parse(&b[at..], which, encoding_rs::UTF_8, &mut out) {
            Some(n) => pos = at + n,
            None => {
                out.push(b[at] as char);
                pos = at + 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(ENTITIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn entities_and_escapes() {
        assert_eq!(unescape("a&amp;b &lt;x&gt; &nbsp;&copy &#169; &#x26;", Escapes::HTML), "a&b <x> \u{a0}© © &");
        assert_eq!(unescape("&unknown; & &amp=1", Escapes::HTML), "&unknown; & &amp=1");
        assert_eq!(unescape("&#128;&#0;", Escapes::HTML), "€\u{FFFD}");
        assert_eq!(unescape("\\u8d4c\\u535a \\uD83D\\uDE00 \\x41 \\u{1F600}", Escapes::BACKSLASH), "赌博 😀 A 😀");
        assert_eq!(unescape("%E8%B5%8C%E5%8D%9A%20x 100%", Escapes::PERCENT), "赌博 x 100%");
        assert_eq!(unescape("%B6%C4", Escapes::PERCENT), "\u{FFFD}\u{FFFD}");
    }
}
