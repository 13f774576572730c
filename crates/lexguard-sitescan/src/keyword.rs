//! Keyword findings: the core filter over extracted text.

use std::collections::BTreeMap;

use lexguard::{Action, Filter, Hit};
use lexguard_extract::{Extracted, Segment, SegmentKind};

use crate::finding::{Finding, Kind};
use crate::lines::Lines;

/// Hits kept per finding (the rest are counted in the message).
const MAX_HITS: usize = 100;

pub use crate::lines::{column_of, line_of};

/// Up to `n` characters of context on each side of `range` in `text`, on one line; returns the
/// snippet and the highlighted range inside it.
pub fn snippet(text: &str, range: std::ops::Range<usize>, n: usize) -> (String, [usize; 2]) {
    let mut s = range.start.min(text.len());
    let mut e = range.end.clamp(s, text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    while !text.is_char_boundary(e) {
        e += 1;
    }
    let before: String = text[..s].chars().rev().take(n).collect::<Vec<_>>().into_iter().rev().collect();
    let after: String = text[e..].chars().take(n).collect();
    let clean = |t: &str| t.replace(['\n', '\r', '\t'], " ");
    let (b, m, a) = (clean(&before), clean(&text[s..e]), clean(&after));
    let hl = [b.len(), b.len() + m.len()];
    (format!("{b}{m}{a}"), hl)
}

/// Severity of a hit in a segment: block 4, review 2; one more in the title or a meta tag
/// search engines and link previews show (keywords, description, `og:title`, …: stuffing), one
/// less in code, scripts, URLs and styles.
fn severity(hit: &Hit, kind: &SegmentKind) -> u8 {
    let base: i32 = match hit.action {
        Action::Block => 4,
        Action::Review => 2,
    };
    let adj = match kind {
        SegmentKind::Title => 1,
        SegmentKind::Attr { name } if lexguard_extract::is_indexed_meta(name) => 1,
        SegmentKind::Code | SegmentKind::Script | SegmentKind::Url | SegmentKind::Style => -1,
        _ => 0,
    };
    (base + adj).clamp(1, 5) as u8
}

/// Characters of base64 and base64url (the `=` of padding included).
fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')
}

/// Shortest run of base64 characters counted as encoded data.
const ENCODED_MIN: usize = 32;

/// Whether hits lie inside encoded data: a run of at least [`ENCODED_MIN`] base64 characters
/// mixing upper case, lower case and digits (`…m3TH0+yZjwV…`). Letters there are not words,
/// and a term found among them (`meth` read through leetspeak) is chance.
///
/// The last run looked at is kept: a long blob holds many chance hits, and looking at its
/// whole run again for each made a file of one 4 MB blob take seconds.
#[derive(Debug, Default)]
struct EncodedRuns {
    /// The last maximal run of base64 characters looked at, and whether it is encoded data.
    last: Option<(std::ops::Range<usize>, bool)>,
}

impl EncodedRuns {
    /// Whether `range` of `text` lies inside encoded data.
    fn contains(&mut self, text: &str, range: std::ops::Range<usize>) -> bool {
        let (s, e) = (range.start.min(text.len()), range.end.min(text.len()));
        let (run, encoded) = match &self.last {
            Some((run, encoded)) if run.start <= s && s < run.end => (run.clone(), *encoded),
            _ => {
                let before =
                    text[..s].char_indices().rev().take_while(|&(_, c)| is_base64_char(c)).last().map_or(s, |(i, _)| i);
                let after =
                    text[s..].char_indices().find(|&(_, c)| !is_base64_char(c)).map_or(text.len(), |(i, _)| s + i);
                let token = &text[before..after];
                let encoded = token.len() >= ENCODED_MIN
                    && token.bytes().any(|b| b.is_ascii_uppercase())
                    && token.bytes().any(|b| b.is_ascii_lowercase())
                    && token.bytes().any(|b| b.is_ascii_digit());
                self.last = Some((before..after, encoded));
                (before..after, encoded)
            }
        };
        // A hit that reaches past the run holds a character that is not base64.
        encoded && e <= run.end
    }
}

/// Whether `range` of `text` lies inside encoded data (see [`EncodedRuns`]).
#[cfg(test)]
fn in_encoded_data(text: &str, range: std::ops::Range<usize>) -> bool {
    EncodedRuns::default().contains(text, range)
}

/// Whether the hit at `range` of `text` begins or ends inside a percent-escape that was left
/// as it is (in a title or other text that is not a URL): `%2Fag` reads `Fag`, `%3Dsex`
/// does not matter but `%2Fuck` would. The hex digits of an escape are not letters of a word.
fn edge_in_percent_escape(text: &str, range: std::ops::Range<usize>) -> bool {
    let b = text.as_bytes();
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    let pct = |i: usize| b.get(i) == Some(&b'%');
    // Byte `i` is one of the two hex digits of an escape.
    let in_escape =
        |i: usize| (i >= 1 && pct(i - 1) && hex(i) && hex(i + 1)) || (i >= 2 && pct(i - 2) && hex(i - 1) && hex(i));
    let (s, e) = (range.start, range.end);
    s < e && e <= b.len() && (in_escape(s) || in_escape(e - 1))
}

/// Whether a hit is written in Latin script only (no CJK character in what it matched).
fn latin_only(hit: &Hit) -> bool {
    !hit.matched.chars().any(lexguard::is_cjk)
}

/// Checks the segments of a document: one finding per category, at its first hit.
///
/// `language` is the language of a translation file in another language than English or
/// Chinese (see [`crate::locale::foreign_language`]): its hits written in Latin script are
/// words of that language more often than not, and get severity 1 (note). Hits inside encoded
/// data (long base64 runs) are not reported.
pub fn check(filter: &Filter, doc: &Extracted<'_>, file: &[u8], language: Option<&str>) -> Vec<Finding> {
    struct Group {
        finding: Finding,
        count: usize,
        /// Hits lowered to severity 1 as words of the file's language.
        lowered: usize,
    }
    let lines = Lines::new(file, doc.charset.encoding);
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for seg in &doc.segments {
        if seg.kind == SegmentKind::Style {
            continue;
        }
        let mut encoded = EncodedRuns::default();
        // Hits one at a time: a page dense with hits would otherwise hold every one of them.
        filter.check_field_with(&seg.kind.name(), &seg.text, |mut hit| {
            let text_range = hit.span.bytes[0]..hit.span.bytes[1];
            if encoded.contains(&seg.text, text_range.clone()) || edge_in_percent_escape(&seg.text, text_range.clone())
            {
                return;
            }
            let lowered = language.is_some() && latin_only(&hit);
            let sev = if lowered { 1 } else { severity(&hit, &seg.kind) };
            let orig = seg.orig_range(text_range.clone());
            hit.flags |= seg.flags_in(text_range.clone());
            hit.span.bytes = [orig.start, orig.end];
            let cat = hit.category.to_string();
            let g = groups.entry(cat.clone()).or_insert_with(|| {
                order.push(cat.clone());
                Group {
                    finding: first_finding(&cat, seg, text_range.clone(), orig.clone(), &lines),
                    count: 0,
                    lowered: 0,
                }
            });
            g.count += 1;
            g.lowered += usize::from(lowered);
            g.finding.severity = g.finding.severity.max(sev);
            if g.finding.hits.len() < MAX_HITS {
                g.finding.hits.push(hit);
            }
        });
    }
    order
        .into_iter()
        .filter_map(|c| groups.remove(&c))
        .map(|mut g| {
            let terms: Vec<&str> = {
                let mut t: Vec<&str> = g.finding.hits.iter().map(|h| h.term.as_str()).collect();
                t.dedup();
                t.truncate(8);
                t
            };
            let mut en = format!("{} hit(s): {}", g.count, terms.join(", "));
            let cat = g.finding.category.clone().unwrap_or_default();
            let mut zh = format!(
                "{}：命中 {} 处：{}",
                crate::darklink::categories_zh(filter, &[cat]),
                g.count,
                terms.join("、")
            );
            if let (Some(lang), true) = (language, g.lowered > 0) {
                en.push_str(&format!(
                    " ({} in Latin script, in a translation file for language `{lang}`: severity 1)",
                    g.lowered
                ));
                zh.push_str(&format!("（其中 {} 处为拉丁字母，位于 `{lang}` 语言的翻译文件中：降为 1 级）", g.lowered));
            }
            g.finding.message = Some(en);
            g.finding.message_zh = Some(zh);
            g.finding
        })
        .collect()
}

fn first_finding(
    cat: &str,
    seg: &Segment,
    text_range: std::ops::Range<usize>,
    orig: std::ops::Range<usize>,
    lines: &Lines<'_>,
) -> Finding {
    let (snip, hl) = snippet(&seg.text, text_range, 30);
    let mut f = Finding::new(Kind::Keyword, format!("keyword:{cat}"), 1);
    f.category = Some(cat.to_string());
    f.place(orig, lines);
    f.snippet = Some(snip);
    f.highlight = Some(hl);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_one_line_with_highlight() {
        let text = "第一行\n网上赌博害人\n";
        let at = text.find("赌博").unwrap();
        let (s, hl) = snippet(text, at..at + 6, 3);
        assert_eq!(s, " 网上赌博害人 ");
        assert_eq!(&s[hl[0]..hl[1]], "赌博");
    }

    #[test]
    fn encoded_data_is_long_mixed_base64() {
        let blob = "x0wFBvL9fSi6ZEQT9jiiAugEp+ps/m3TH0+yZjwViOym908CyJpoEhAt09CScaA";
        let at = blob.find("m3TH").unwrap();
        assert!(in_encoded_data(blob, at..at + 4));
        let text = format!("key: \"{blob}\", next");
        let at = text.find("m3TH").unwrap();
        assert!(in_encoded_data(&text, at..at + 4));
        // Words, short tokens and long tokens of one letter case are not encoded data.
        for (t, w) in [
            ("buy meth here", "meth"),
            ("token m3TH0abc", "m3TH"),
            ("averyveryverylongidentifierwithmethinsideitok", "meth"),
            ("https://example.com/methods/and/more/paths/here", "meth"),
        ] {
            let at = t.find(w).unwrap();
            assert!(!in_encoded_data(t, at..at + w.len()), "{t}");
        }
    }

    #[test]
    fn hits_cut_from_percent_escapes() {
        let t = "rft_id=http%3A%2F%2Fag.gov.au%2Fwww";
        let at = t.find("Fag").unwrap();
        assert!(edge_in_percent_escape(t, at..at + 3));
        let t = "go%2Fuck%20x";
        let at = t.find("Fuck").unwrap();
        assert!(edge_in_percent_escape(t, at..at + 4));
        let t = "a=%ffag";
        let at = t.find("ffag").unwrap() + 1;
        assert!(edge_in_percent_escape(t, at..at + 3));
        // Words next to an escape, or with a % that starts none, are words.
        for (t, w) in [("q=%3Dfag", "fag"), ("fag%20x", "fag"), ("100%xfag", "fag"), ("%2 fag", "fag"), ("fag", "fag")]
        {
            let at = t.find(w).unwrap();
            assert!(!edge_in_percent_escape(t, at..at + w.len()), "{t}");
        }
        // The end: a hit whose last character is an escape's digit.
        assert!(edge_in_percent_escape("ana%2F", 0..5));
        assert!(edge_in_percent_escape("ana%2F", 0..6));
        assert!(!edge_in_percent_escape("ana%2F", 0..3));
    }

    /// The definition, looked at afresh for each range: the token of base64 characters around
    /// the range, the range included.
    fn encoded_by_definition(text: &str, range: std::ops::Range<usize>) -> bool {
        let (s, e) = (range.start, range.end);
        let before =
            text[..s].char_indices().rev().take_while(|&(_, c)| is_base64_char(c)).last().map_or(s, |(i, _)| i);
        let after = text[e..].char_indices().find(|&(_, c)| !is_base64_char(c)).map_or(text.len(), |(i, _)| e + i);
        let token = &text[before..after];
        token.len() >= ENCODED_MIN
            && token.chars().all(is_base64_char)
            && token.bytes().any(|b| b.is_ascii_uppercase())
            && token.bytes().any(|b| b.is_ascii_lowercase())
            && token.bytes().any(|b| b.is_ascii_digit())
    }

    #[test]
    fn encoded_runs_kept_from_hit_to_hit_agree_with_the_definition() {
        let blob = "x0wFBvL9fSi6ZEQT9jiiAugEp+ps/m3TH0+yZjwViOym908CyJpoEhAt09CScaA";
        let text = format!("{blob} buy meth {blob}-{blob}, averyveryverylongidentifierwithmethinsideitok ü{blob}");
        let ends: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        for len in 1..6 {
            let mut kept = EncodedRuns::default();
            for w in ends.windows(len + 1) {
                let range = w[0]..w[len];
                assert_eq!(
                    kept.contains(&text, range.clone()),
                    encoded_by_definition(&text, range.clone()),
                    "{range:?}"
                );
            }
        }
        // Hits in the blobs are encoded; the words between are not.
        let at = text.find(" meth").unwrap() + 1;
        assert!(!in_encoded_data(&text, at..at + 4));
        let at = text.rfind("m3TH").unwrap();
        assert!(in_encoded_data(&text, at..at + 4));
    }
}
