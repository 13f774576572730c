//! The text inside code: string literals and comments of PHP, JavaScript, JSON and the C-like
//! languages of ASP.NET and JSP. Identifiers and operators are not text; leaving them out
//! keeps keyword checks on what a page can show or say.
//!
//! The lexer is small and tolerant: an unterminated string or comment runs to the end, and a
//! construct it does not know is skipped as code.

use std::ops::Range;
use std::sync::LazyLock;

/// The language of a code range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeLang {
    /// PHP: `'…'`, `"…"`, heredoc and nowdoc, `//`, `#` and `/* */` comments.
    Php,
    /// JavaScript: `'…'`, `"…"`, `` `…` ``, comments, regular-expression literals skipped.
    Js,
    /// JSON: string values (object keys are left out).
    Json,
    /// C#, Java, VBScript: `"…"`, `//` and `/* */` comments.
    CLike,
}

/// The byte ranges of string contents and comment bodies in `src[range]`.
pub fn text_ranges(src: &[u8], range: Range<usize>, lang: CodeLang) -> Vec<Range<usize>> {
    let end = range.end.min(src.len());
    let mut out = Vec::new();
    let mut i = range.start.min(end);
    // Last significant byte, to tell a regex literal from a division in JavaScript.
    let mut prev: u8 = b'(';
    let special = special_bytes(lang);
    while i < end {
        let b = src[i];
        match b {
            b'\'' | b'"' | b'`' if b != b'`' || lang == CodeLang::Js => {
                if lang == CodeLang::CLike && b == b'\'' {
                    // A char literal in C#/Java, a comment in VBScript: skip the line's rest
                    // only when it is not a short char literal.
                    if src.get(i + 2) == Some(&b'\'')
                        || (src.get(i + 1) == Some(&b'\\') && src.get(i + 3) == Some(&b'\''))
                    {
                        i += if src[i + 1] == b'\\' { 4 } else { 3 };
                        prev = b'\'';
                        continue;
                    }
                    let e = memchr::memchr(b'\n', &src[i..end]).map_or(end, |p| i + p);
                    out.push(i + 1..e);
                    i = e;
                    continue;
                }
                let s = i + 1;
                let mut j = s;
                while j < end {
                    match memchr::memchr2(b, b'\\', &src[j..end]) {
                        Some(p) if src[j + p] == b'\\' => j += p + 2,
                        Some(p) => {
                            j += p;
                            break;
                        }
                        None => j = end,
                    }
                }
                let e = j.min(end);
                let is_key = lang == CodeLang::Json && {
                    let mut k = e + 1;
                    while k < end && src[k].is_ascii_whitespace() {
                        k += 1;
                    }
                    src.get(k) == Some(&b':')
                };
                if e > s && !is_key {
                    out.push(s..e);
                }
                i = (e + 1).min(end);
                prev = b'"';
            }
            b'/' if lang != CodeLang::Json && src.get(i + 1) == Some(&b'/') => {
                let e = line_comment_end(src, i + 2, end, lang);
                out.push(i + 2..e);
                i = e;
            }
            b'#' if lang == CodeLang::Php => {
                let e = line_comment_end(src, i + 1, end, lang);
                out.push(i + 1..e);
                i = e;
            }
            b'/' if lang != CodeLang::Json && src.get(i + 1) == Some(&b'*') => {
                let e = COMMENT_END.find(&src[i + 2..end]).map_or(end, |p| i + 2 + p);
                out.push(i + 2..e);
                i = (e + 2).min(end);
            }
            b'/' if lang == CodeLang::Js && b"(,=:[!&|?{};+-*%<>~^".contains(&prev) => {
                // A regular-expression literal.
                let mut j = i + 1;
                let mut class = false;
                while j < end && src[j] != b'\n' {
                    match src[j] {
                        b'\\' => j += 1,
                        b'[' => class = true,
                        b']' => class = false,
                        b'/' if !class => break,
                        _ => {}
                    }
                    j += 1;
                }
                i = (j + 1).min(end);
                prev = b'/';
            }
            b'<' if lang == CodeLang::Php && src[i..end].starts_with(b"<<<") => {
                // Heredoc / nowdoc: <<<ID, <<<"ID", <<<'ID'.
                let mut j = i + 3;
                while j < end && (src[j] == b' ' || src[j] == b'\t') {
                    j += 1;
                }
                let quoted = j < end && (src[j] == b'"' || src[j] == b'\'');
                if quoted {
                    j += 1;
                }
                let id_start = j;
                while j < end && (src[j].is_ascii_alphanumeric() || src[j] == b'_') {
                    j += 1;
                }
                let id = &src[id_start..j];
                let Some(nl) = memchr::memchr(b'\n', &src[j..end]).map(|p| j + p) else {
                    i = end;
                    continue;
                };
                if id.is_empty() {
                    i = nl;
                    continue;
                }
                // The closing identifier starts a line (possibly indented, PHP 7.3+).
                let mut k = nl + 1;
                let mut close = end;
                while k < end {
                    let line_end = memchr::memchr(b'\n', &src[k..end]).map_or(end, |p| k + p);
                    if src[k..line_end].trim_ascii_start().starts_with(id) {
                        close = k;
                        break;
                    }
                    k = line_end + 1;
                }
                out.push(nl + 1..close);
                i = memchr::memchr(b'\n', &src[close..end]).map_or(end, |p| close + p);
                prev = b'"';
            }
            _ => {
                // Skip a run of ordinary code at once.
                let j = skip_code(src, i + 1, end, special);
                // (Only JavaScript asks what came before a `/`.)
                if lang == CodeLang::Js {
                    if let Some(&last) = src[i..j].iter().rev().find(|b| !b.is_ascii_whitespace()) {
                        prev = last;
                    }
                }
                i = j;
            }
        }
    }
    out
}

/// `*/`, looked for once per block comment (`memmem::find` would set a searcher up each time).
static COMMENT_END: LazyLock<memchr::memmem::Finder<'static>> = LazyLock::new(|| memchr::memmem::Finder::new(b"*/"));

/// The bytes that can start a string, a comment, a regular expression or a heredoc in `lang`
/// (the arms of [`text_ranges`] that are not ordinary code).
fn special_bytes(lang: CodeLang) -> &'static [u8] {
    match lang {
        CodeLang::Php => b"'\"/#<",
        CodeLang::Js => b"'\"`/",
        CodeLang::Json => b"'\"",
        CodeLang::CLike => b"'\"/",
    }
}

/// The first offset from `j` on (before `end`) holding one of `special`, or `end`.
#[inline]
fn skip_code(src: &[u8], j: usize, end: usize, special: &[u8]) -> usize {
    match *special {
        [a, b] => skip_words(src, j, end, [a, b]),
        [a, b, c] => skip_words(src, j, end, [a, b, c]),
        [a, b, c, d] => skip_words(src, j, end, [a, b, c, d]),
        [a, b, c, d, e] => skip_words(src, j, end, [a, b, c, d, e]),
        _ => (j..end).find(|&k| special.contains(&src[k])).unwrap_or(end),
    }
}

/// [`skip_code`] eight bytes at a time: a byte equal to `b` is a zero byte of `x ^ b…b`, and
/// the lowest zero byte of a word is found exactly by `(y - 0x01…01) & !y & 0x80…80` (a borrow
/// can only mark bytes above it).
#[inline(always)]
fn skip_words<const N: usize>(src: &[u8], mut j: usize, end: usize, special: [u8; N]) -> usize {
    const LO: u64 = u64::from_le_bytes([0x01; 8]);
    const HI: u64 = u64::from_le_bytes([0x80; 8]);
    let end = end.min(src.len());
    let masks = special.map(|b| LO * u64::from(b));
    while j + 8 <= end {
        let x = u64::from_le_bytes(src[j..j + 8].try_into().unwrap_or_default());
        let mut found = 0;
        for m in masks {
            let y = x ^ m;
            found |= y.wrapping_sub(LO) & !y & HI;
        }
        if found != 0 {
            return j + (found.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < end && !special.contains(&src[j]) {
        j += 1;
    }
    j
}

fn line_comment_end(src: &[u8], from: usize, end: usize, lang: CodeLang) -> usize {
    let nl = memchr::memchr(b'\n', &src[from..end]).map_or(end, |p| from + p);
    if lang == CodeLang::Php {
        // `?>` ends a PHP line comment.
        if let Some(p) = memchr::memmem::find(&src[from..nl], b"?>") {
            return from + p;
        }
    }
    nl
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The word-at-a-time skip stops where a byte-by-byte one does, for every language's
        /// bytes, at every offset and alignment.
        #[test]
        fn skip_code_stops_at_the_first_special_byte(
            src in proptest::collection::vec(proptest::sample::select(b"ab '\"`/#<\x80\xff\x00\x7f\x2f\x2e".to_vec()), 0..40),
            from in 0usize..40,
            cut in 0usize..40,
        ) {
            for lang in [CodeLang::Php, CodeLang::Js, CodeLang::Json, CodeLang::CLike] {
                let special = special_bytes(lang);
                let end = cut.min(src.len());
                let from = from.min(end);
                let want = (from..end).find(|&k| special.contains(&src[k])).unwrap_or(end);
                proptest::prop_assert_eq!(skip_code(&src, from, end, special), want, "{:?}", lang);
            }
        }
    }

    fn texts(src: &str, lang: CodeLang) -> Vec<&str> {
        text_ranges(src.as_bytes(), 0..src.len(), lang).into_iter().map(|r| &src[r]).collect()
    }

    #[test]
    fn php_strings_comments_heredoc() {
        let src = "$a = 'it\\'s'; $b = \"x $a\"; // note\n# hash\n/* block */ $c = <<<EOT\n赌博\nEOT;\n";
        assert_eq!(texts(src, CodeLang::Php), ["it\\'s", "x $a", " note", " hash", " block ", "赌博\n"]);
    }

    #[test]
    fn js_regex_literals_are_not_strings() {
        let src = "var r = /it's \"x\"/g; var s = 'text'; a = b / c / d; t = `tpl`;";
        assert_eq!(texts(src, CodeLang::Js), ["text", "tpl"]);
    }

    #[test]
    fn json_values_not_keys() {
        let src = r#"{"@metadata": {"authors": ["A"]}, "mw-key": "值", "n": 1}"#;
        assert_eq!(texts(src, CodeLang::Json), ["A", "值"]);
    }

    #[test]
    fn unterminated_runs_to_the_end() {
        assert_eq!(texts("x = 'abc", CodeLang::Js), ["abc"]);
        assert_eq!(texts("/* abc", CodeLang::Php), [" abc"]);
    }
}
