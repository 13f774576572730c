//! Scanning one normalized document: engine matches → boundary and allowlist checks → hits
//! with exact original spans.

use compact_str::CompactString;

use crate::Flags;
use crate::compile::{Compiled, Edge, PatternRef};
use crate::engine::Next;
use crate::normalize::{Class, Normalized, Normalizer};
use crate::regex_gate::Candidates;
use crate::report::{Action, Hit, Span};

/// A hit before it is dressed for the report: original byte range, rule, flags, action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawHit {
    pub start: usize,
    pub end: usize,
    pub rule: u32,
    pub flags: Flags,
    pub action: Action,
}

/// The character before byte `pos` of `input`, skipping invisible ones: `(char, start)`.
fn char_before(n: &Normalizer, input: &[u8], mut pos: usize) -> Option<(char, usize)> {
    while pos > 0 {
        let lo = pos.saturating_sub(4);
        let found = (lo..pos).rev().find_map(|s| {
            std::str::from_utf8(&input[s..pos]).ok().and_then(|t| {
                let mut cs = t.chars();
                let c = cs.next()?;
                cs.next().is_none().then_some((c, s))
            })
        });
        match found {
            Some((c, s)) if n.class_of(c) == Class::Drop => pos = s,
            Some(found) => return Some(found),
            None => return None,
        }
    }
    None
}

/// The character at byte `pos` of `input`, skipping invisible ones: `(char, end)`.
fn char_at(n: &Normalizer, input: &[u8], mut pos: usize) -> Option<(char, usize)> {
    while pos < input.len() {
        let hi = (pos + 4).min(input.len());
        let c = match std::str::from_utf8(&input[pos..hi]) {
            Ok(t) => t.chars().next(),
            Err(e) if e.valid_up_to() > 0 => {
                std::str::from_utf8(&input[pos..pos + e.valid_up_to()]).ok().and_then(|t| t.chars().next())
            }
            Err(_) => None,
        }?;
        if n.class_of(c) == Class::Drop {
            pos += c.len_utf8();
        } else {
            return Some((c, pos + c.len_utf8()));
        }
    }
    None
}

/// Whether the original bytes of a pinyin match are spelled as pinyin is written: ASCII, or
/// the tone-marked vowels and ü of Hanyu Pinyin (`dǔ bó`). Latin letters with other
/// diacritics are words of other languages written in Latin script (Vietnamese `Nên bị`,
/// Kurdish `ji nû`), not pinyin; invalid UTF-8, CJK, full-width forms and look-alikes from
/// other scripts do not count against a match.
fn spelled_as_pinyin(orig: &[u8]) -> bool {
    // An invalid sequence reads as U+FFFD, which is no diacritic.
    !String::from_utf8_lossy(orig).chars().any(|c| match c {
        // Combining marks: the four tones and the diaeresis of ü are pinyin.
        '\u{0300}' | '\u{0301}' | '\u{0304}' | '\u{030C}' | '\u{0308}' => false,
        '\u{0300}'..='\u{036F}' => true,
        // Latin-1 Supplement, Latin Extended-A/B and Latin Extended Additional letters.
        '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' => !is_pinyin_letter(c),
        _ => false,
    })
}

/// A precomposed letter of Hanyu Pinyin: a vowel with a tone mark, ü, or a syllabic nasal
/// with one (`ń`, `ň`, `ǹ`, `ḿ`).
fn is_pinyin_letter(c: char) -> bool {
    const PINYIN: &str = "āáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ";
    PINYIN.contains(c.to_lowercase().next().unwrap_or(c))
}

fn same_kind(edge: Edge, class: Class) -> bool {
    matches!((edge, class), (Edge::Letter, Class::Letter | Class::LeetSym) | (Edge::Digit, Class::Digit))
}

impl Compiled {
    /// Whether a Latin end of a match stands at a word boundary. `left` says which end.
    #[expect(clippy::too_many_arguments, reason = "one call site pair; the ranges are the match's two views")]
    fn edge_ok(
        &self,
        n: &Normalizer,
        input: &[u8],
        text: &str,
        norm: (usize, usize),
        orig: (usize, usize),
        edge: Edge,
        left: bool,
    ) -> bool {
        if edge == Edge::Free {
            return true;
        }
        let neighbour = if left { text[..norm.0].chars().next_back() } else { text[norm.1..].chars().next() };
        if !neighbour.is_some_and(|c| same_kind(edge, n.class_of(c))) {
            return true;
        }
        // The normalized text joins the match to a word; look at what stood there originally.
        let (orig_neighbour, edge_char) = if left {
            (char_before(n, input, orig.0), char_at(n, input, orig.0))
        } else {
            (char_at(n, input, orig.1), char_before(n, input, orig.1))
        };
        if orig_neighbour.is_some_and(|(c, _)| same_kind(edge, n.class_of(c))) {
            return false;
        }
        // Noise stood between: a boundary (`sex-shop`), unless the edge character is a lone
        // letter of a spaced-out run (`s e x y`).
        let Some((_, p)) = edge_char else { return true };
        let beyond = if left { char_at(n, input, p) } else { char_before(n, input, p) };
        !beyond.is_some_and(|(c, _)| n.class_of(c).is_noise())
    }

    /// Whether an allow phrase of this category (or a global one) covers `[ns, ne)`.
    fn allowed(&self, text: &str, ns: usize, ne: usize, category: u32) -> bool {
        if self.allow_refs.is_empty() {
            return false;
        }
        let mut ws = ns.saturating_sub(self.allow.max_len);
        while !text.is_char_boundary(ws) {
            ws -= 1;
        }
        let mut we = (ne + self.allow.max_len).min(text.len());
        while !text.is_char_boundary(we) {
            we += 1;
        }
        self.allow.any_in(text, (ws, we), |s, e, p| {
            s <= ns && e >= ne && self.allow_refs[p as usize].iter().any(|c| c.is_none_or(|c| c == category))
        })
    }

    /// The rules of the pattern whose first rule is `refs[first]`.
    #[inline]
    fn pattern_refs(&self, first: u32) -> impl Iterator<Item = &PatternRef> {
        let rest = &self.refs[first as usize..];
        let len = rest.iter().position(|r| r.last).map_or(rest.len(), |i| i + 1);
        rest[..len].iter()
    }

    /// All hits of one document, sorted by position.
    pub(crate) fn scan(&self, n: &Normalizer, input: &[u8], norm: &Normalized, out: &mut Vec<RawHit>) {
        let text = norm.text.as_str();
        let first = out.len();
        let mut cats_here: Vec<u32> = Vec::new();
        let mut cursor = 0;
        self.engine.for_each_match(text, 0, &mut |ns, ne, first| {
            let mut mapped = None;
            cats_here.clear();
            for r in self.pattern_refs(first) {
                if cats_here.contains(&r.category) {
                    continue;
                }
                let m = *mapped.get_or_insert_with(|| n.map_back_from(input, norm, ns, ne, &mut cursor));
                if r.pinyin && !spelled_as_pinyin(&input[m.start..m.end]) {
                    continue;
                }
                if !self.edge_ok(n, input, text, (ns, ne), (m.start, m.end), r.left, true)
                    || !self.edge_ok(n, input, text, (ns, ne), (m.start, m.end), r.right, false)
                    || self.allowed(text, ns, ne, r.category)
                {
                    continue;
                }
                cats_here.push(r.category);
                let mut flags = m.flags - r.own_flags;
                if r.pinyin {
                    flags |= Flags::PINYIN;
                }
                let action = if flags.contains(Flags::PUNCTUATION) { r.action.downgraded() } else { r.action };
                out.push(RawHit { start: m.start, end: m.end, rule: r.rule, flags, action });
            }
            if cats_here.is_empty() {
                // Nothing accepted: look again from the next character, so that a shorter or
                // later overlapping term still gets its chance.
                Next::RestartAt(ns + text[ns..].chars().next().map_or(1, char::len_utf8))
            } else {
                Next::Continue
            }
        });
        let terms_end = out.len();
        if let Some(set) = &self.regex_set {
            // The gate's literals tell which rules may match; when two or more may, one pass of
            // the set tells which match at all. Only those search for spans.
            let matching = match self.regex_gate.candidates(text, 2) {
                Candidates::Few(rules) => rules,
                Candidates::Many => set.matches(text).into_iter().collect(),
            };
            for idx in matching {
                let (re, rule_id) = &self.regexes[idx];
                let rule = &self.rules[*rule_id as usize];
                for m in re.find_iter(text) {
                    if m.is_empty() || self.allowed(text, m.start(), m.end(), rule.category) {
                        continue;
                    }
                    let mapped = n.map_back(input, norm, m.start(), m.end());
                    // A regex states its own context (`加微信：id`), so punctuation inside its match
                    // is flagged but does not downgrade it as it does a term.
                    out.push(RawHit {
                        start: mapped.start,
                        end: mapped.end,
                        rule: *rule_id,
                        flags: mapped.flags,
                        action: rule.action,
                    });
                }
            }
        }
        // Term hits arrive in order; only regex hits, appended after them, need sorting in.
        if out.len() > terms_end {
            out[first..].sort_by_key(|h| (h.start, h.end, h.rule));
        }
    }

    /// Turns raw hits of one document into report hits, computing char and UTF-16 spans in
    /// one pass over the input. `offset` is added to every span (for streamed input). Lazy:
    /// a caller that keeps few of many hits never holds them all.
    pub(crate) fn dress<'a>(
        &'a self,
        input: &'a [u8],
        valid: bool,
        raw: &'a [RawHit],
        field: Option<&'a str>,
        base: SpanBase,
    ) -> impl Iterator<Item = Hit> + 'a {
        // Hits come sorted by start (one that starts earlier restarts the count): one cursor
        // walks to each start, and each hit's own span is counted from there (hits are short;
        // overlapping ones may end in any order).
        let (mut pos, mut chars, mut units) = (0, 0, 0);
        raw.iter().map(move |h| {
            let rule = &self.rules[h.rule as usize];
            let (start, end) = (h.start.min(input.len()), h.end.min(input.len()));
            if start < pos {
                (pos, chars, units) = (0, 0, 0);
            }
            let (c, u) = count_span(&input[pos..start], valid);
            (pos, chars, units) = (start, chars + c, units + u);
            let (c, u) = count_span(&input[start..end.max(start)], valid);
            let (cs, us, ce, ue) = (chars, units, chars + c, units + u);
            Hit {
                category: self.categories[rule.category as usize].clone(),
                term: rule.text.clone(),
                action: h.action,
                rule: rule.cite.clone(),
                matched: matched_text(&input[h.start..h.end]),
                flags: h.flags,
                field: field.map(CompactString::from),
                span: Span {
                    bytes: [base.bytes + h.start, base.bytes + h.end],
                    chars: [base.chars + cs, base.chars + ce],
                    utf16: [base.utf16 + us, base.utf16 + ue],
                },
            }
        })
    }
}

/// The original text of a hit: its bytes as they are when they are UTF-8 (a hit of valid input
/// always is), else their lossy decoding. `from_utf8_lossy` builds its output piece by piece
/// even when nothing is invalid; in a profile of a Python `check` loop with one hit per call it
/// and its `reserve` took ~4 % of the time.
fn matched_text(bytes: &[u8]) -> CompactString {
    match std::str::from_utf8(bytes) {
        Ok(s) => CompactString::new(s),
        Err(_) => CompactString::from_utf8_lossy(bytes),
    }
}

/// Units before the start of the input being dressed (non-zero for streamed input).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SpanBase {
    pub bytes: usize,
    pub chars: usize,
    pub utf16: usize,
}

/// Chars and UTF-16 units of `bytes` (which starts and ends on sequence boundaries). An
/// invalid UTF-8 sequence counts as one U+FFFD, as in a lossy decoding. `valid` says the input
/// is known to be UTF-8 (the normalizer saw no invalid sequence), which skips validation.
pub(crate) fn count_span(bytes: &[u8], valid: bool) -> (usize, usize) {
    if valid || std::str::from_utf8(bytes).is_ok() {
        // Valid UTF-8: every byte that is not a continuation byte starts a char, and 4-byte
        // sequences are two UTF-16 units. One pass with byte-wide counters over chunks of at
        // most 255 bytes, which vectorizes.
        let (mut chars, mut astral) = (0usize, 0usize);
        for chunk in bytes.chunks(255) {
            let (mut c, mut a) = (0u8, 0u8);
            for &x in chunk {
                c += u8::from((x & 0xC0) != 0x80);
                a += u8::from(x >= 0xF0);
            }
            chars += usize::from(c);
            astral += usize::from(a);
        }
        return (chars, chars + astral);
    }
    let (mut chars, mut units, mut pos) = (0, 0, 0);
    while pos < bytes.len() {
        match crate::normalize::decode(bytes, pos) {
            Ok((c, n)) => {
                chars += 1;
                units += c.len_utf16();
                pos += n;
            }
            Err(n) => {
                chars += 1;
                units += 1;
                pos += n;
            }
        }
    }
    (chars, units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_spellings_take_only_pinyin_diacritics() {
        for s in ["du bo", "dǔ bó", "DÙ BÒ", "lǘ", "nü", "ｄｕ ｂｏ", "赌bo", "du\u{0301} bo\u{030C}", "ńg"]
        {
            assert!(spelled_as_pinyin(s.as_bytes()), "{s:?}");
        }
        for s in ["Nên bị", "ji nû", "àìyẹ", "Dú bô", "Dán mã", "yapın", "du\u{0323} bo", "straße"] {
            assert!(!spelled_as_pinyin(s.as_bytes()), "{s:?}");
        }
        assert!(spelled_as_pinyin(b"du\xff bo"), "invalid UTF-8 is not a diacritic");
    }

    #[test]
    fn counts_chars_and_utf16_units() {
        let long = "赌博 free 😀 é".repeat(40); // over 255 bytes: several chunks
        for s in ["", "a", "中", "😀", "a中😀é", long.as_str()] {
            let want = (s.chars().count(), s.encode_utf16().count());
            assert_eq!(count_span(s.as_bytes(), true), want, "{s:?}");
            assert_eq!(count_span(s.as_bytes(), false), want, "{s:?}");
        }
        let points = [0, 3, long.len() / 2 + 1, long.len()];
        let points: Vec<usize> =
            points.iter().map(|&p| (p..=long.len()).find(|&q| long.is_char_boundary(q)).unwrap()).collect();
        for p in points {
            assert_eq!(
                count_span(&long.as_bytes()[..p], true),
                (long[..p].chars().count(), long[..p].encode_utf16().count())
            );
        }
    }
}
