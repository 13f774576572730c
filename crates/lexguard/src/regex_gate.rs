//! The gate in front of the regex rules. Each rule needs, in every match, a literal out of each
//! of a few sets (`www ?dot ?…` needs `www` and `dot`; `(?:加|联系)…(?:微信|qq)…` needs one of
//! each alternation). A text that lacks a set cannot match the rule, which is not run over it.
//!
//! ASCII text, most of a website, is checked with `memmem` for the rules that can match it at
//! all; other text in one overlapping pass of an aho-corasick DFA over every set's literals.
//! Once two rules may match (a long Chinese text has literals of most of them), the gate stops
//! and the whole regex set runs once, as it did before the gate.
//!
//! The shipped rules all name their context in Chinese (`加…微信…`, `…点com`) or spell out
//! `www dot`, so on the Latin and code text of a site scan none of them runs. Without the gate,
//! the regex set's overlapping search went over every text and took ~8–11 % of a site scan's CPU.
//!
//! The literals come from the rule's syntax tree (`regex-syntax`, the parser the `regex` crate
//! uses): a literal requires itself; a small class requires one of its characters; a
//! concatenation requires what each of its parts requires; an alternation requires what any of
//! its branches requires (and nothing if one branch requires nothing); a repetition requires
//! what its body requires if it runs at least once. Look-arounds and the empty regex require
//! nothing, and single bytes are no gate. A rule with no literal set is always run.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

/// A class with more characters than this is not turned into literals.
const MAX_CLASS: usize = 32;
/// A rule needing more literals than this (one of them) is not gated.
const MAX_LITERALS: usize = 64;

/// Literals, one of which every match contains.
type Literals = Vec<Vec<u8>>;

/// How selective a literal set is: longer literals first, then fewer of them.
fn score(lits: &Literals) -> (usize, std::cmp::Reverse<usize>) {
    (lits.iter().map(Vec::len).min().unwrap_or(0), std::cmp::Reverse(lits.len()))
}

/// Literals one of which every match of `hir` contains, if there is a small set of them.
fn required(hir: &Hir) -> Option<Literals> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Class(Class::Unicode(class)) => {
            let n: usize = class.ranges().iter().map(|r| r.len()).sum();
            (n > 0 && n <= MAX_CLASS).then(|| {
                class
                    .ranges()
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .map(|c| c.encode_utf8(&mut [0; 4]).as_bytes().to_vec())
                    .collect()
            })
        }
        HirKind::Class(Class::Bytes(class)) => {
            let n: usize = class.ranges().iter().map(|r| r.len()).sum();
            (n > 0 && n <= MAX_CLASS)
                .then(|| class.ranges().iter().flat_map(|r| r.start()..=r.end()).map(|b| vec![b]).collect())
        }
        HirKind::Repetition(rep) => (rep.min >= 1).then(|| required(&rep.sub)).flatten(),
        HirKind::Capture(cap) => required(&cap.sub),
        HirKind::Concat(parts) => parts.iter().filter_map(required).max_by_key(score),
        HirKind::Alternation(branches) => {
            let mut all: Literals = Vec::new();
            for b in branches {
                all.extend(required(b)?);
                if all.len() > MAX_LITERALS {
                    // Branches often share literals (`[零一…]x|y[零一…]`).
                    all.sort_unstable();
                    all.dedup();
                    if all.len() > MAX_LITERALS {
                        return None;
                    }
                }
            }
            all.sort_unstable();
            all.dedup();
            Some(all)
        }
    }
}

/// Whether `lits` can gate a rule: a small set of literals of two bytes or more.
///
/// Single bytes (`1`, `[a-z]`) are no gate: Latin text is full of them, and each occurrence
/// would be a match of the gate's search.
fn usable(lits: &Literals) -> bool {
    !lits.is_empty() && lits.len() <= MAX_LITERALS && lits.iter().all(|l| l.len() >= 2)
}

/// Literals one of which every match of the regex `pattern` contains (`None`: no usable set, or
/// a pattern `regex-syntax` does not parse).
#[cfg(test)]
fn required_literals(pattern: &str) -> Option<Literals> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    required(&hir).filter(usable)
}

/// Sets of literals every match of `hir` contains one of each (a conjunction of the parts of
/// a concatenation: `www ?dot` needs `www` and `dot`).
fn required_all(hir: &Hir, out: &mut Vec<Literals>) {
    match hir.kind() {
        HirKind::Concat(parts) => parts.iter().for_each(|p| required_all(p, out)),
        HirKind::Capture(cap) => required_all(&cap.sub, out),
        HirKind::Repetition(rep) if rep.min >= 1 => required_all(&rep.sub, out),
        _ => out.extend(required(hir).filter(usable)),
    }
}

/// Sets of literals in which a match of the regex `pattern` finds one each, most selective
/// first, at most [`MAX_SETS`] (empty: none usable, or a pattern `regex-syntax` does not parse).
fn required_sets(pattern: &str) -> Vec<Literals> {
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else { return Vec::new() };
    let mut sets = Vec::new();
    required_all(&hir, &mut sets);
    sets.sort_by_key(|s| std::cmp::Reverse(score(s)));
    sets.dedup();
    sets.truncate(MAX_SETS);
    sets
}

/// Sets of literals kept per rule (a bit each in a `u8`).
const MAX_SETS: usize = 4;

/// A rule behind the gate.
#[derive(Debug)]
struct Gated {
    rule: u32,
    /// Literal sets, a literal of each of which every match contains.
    sets: Vec<Literals>,
    /// Whether every set has an ASCII literal (so that the rule can match ASCII text).
    ascii: bool,
}

/// What the gate lets through.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Candidates {
    /// These rules, in increasing order (fewer than the limit asked for).
    Few(Vec<usize>),
    /// At least the limit asked for: cheaper to run the whole set once.
    Many,
}

/// Which regex rules may match a text.
#[derive(Debug)]
pub(crate) struct RegexGate {
    /// Every literal of every gated rule's sets (`None` when no rule is gated).
    literals: Option<AhoCorasick>,
    /// Per literal of `literals`: the gated rules and sets it is in (index into `gated`, set).
    sets_of: Vec<Vec<(u32, u8)>>,
    gated: Vec<Gated>,
    /// Rules that are always run (no usable literal set).
    always: Vec<usize>,
    /// The first byte of 0x80 or more of each literal that has one: a text without any of
    /// them holds no literal but ASCII ones (Cyrillic or Arabic text, where the literals are
    /// ASCII and Chinese).
    leads: [bool; 256],
    /// `leads` as a range `lo..=hi` when it is one (E3–E9 when the literals are Chinese): a
    /// range test vectorizes, a table lookup does not.
    lead_range: Option<(u8, u8)>,
}

impl RegexGate {
    /// The gate of the rules `patterns` (in rule order).
    pub(crate) fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> RegexGate {
        let mut lits: Vec<Vec<u8>> = Vec::new();
        let mut sets_of: Vec<Vec<(u32, u8)>> = Vec::new();
        let mut gated = Vec::new();
        let mut always = Vec::new();
        let mut len = 0;
        for (rule, p) in patterns.into_iter().enumerate() {
            len += 1;
            let sets = required_sets(p);
            if sets.is_empty() {
                always.push(rule);
                continue;
            }
            let g = gated.len() as u32;
            for (k, set) in sets.iter().enumerate() {
                for l in set {
                    let i = lits.iter().position(|x| x == l).unwrap_or_else(|| {
                        lits.push(l.clone());
                        sets_of.push(Vec::new());
                        lits.len() - 1
                    });
                    sets_of[i].push((g, k as u8));
                }
            }
            let ascii = sets.iter().all(|s| s.iter().any(|l| l.is_ascii()));
            gated.push(Gated { rule: rule as u32, sets, ascii });
        }
        let literals = if lits.is_empty() {
            None
        } else {
            // A few hundred short literals: a DFA is small and the fastest to run.
            AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).match_kind(MatchKind::Standard).build(&lits).ok()
        };
        if literals.is_none() {
            // Not built (it cannot fail at this size, but then every rule runs).
            always = (0..len).collect();
            sets_of.clear();
            gated.clear();
        }
        let mut leads = [false; 256];
        for l in &lits {
            if let Some(&b) = l.iter().find(|&&b| b >= 0x80) {
                leads[usize::from(b)] = true;
            }
        }
        let lo = leads.iter().position(|&l| l);
        let hi = leads.iter().rposition(|&l| l);
        let lead_range = match (lo, hi) {
            (Some(lo), Some(hi)) if leads[lo..=hi].iter().all(|&l| l) => Some((lo as u8, hi as u8)),
            _ => None,
        };
        RegexGate { literals, sets_of, gated, always, leads, lead_range }
    }

    /// Whether `text` may hold a literal that is not ASCII (it has one of their lead bytes).
    fn may_hold_non_ascii_literals(&self, text: &str) -> bool {
        if text.is_ascii() {
            return false;
        }
        let bytes = text.as_bytes();
        match self.lead_range {
            // 64 bytes at a time without an early exit inside, so that the test vectorizes
            // (a Cyrillic text has none of these bytes and is read to its end).
            Some((lo, hi)) => {
                bytes.chunks(64).any(|chunk| chunk.iter().fold(false, |any, &b| any | (b.wrapping_sub(lo) <= hi - lo)))
            }
            None => bytes.iter().any(|&b| self.leads[usize::from(b)]),
        }
    }

    /// Whether every rule runs on every text.
    #[cfg(test)]
    fn is_open(&self) -> bool {
        self.gated.is_empty()
    }

    /// The rules that may match `text`, or [`Candidates::Many`] as soon as `limit` of them may
    /// (a long Chinese text has literals of most rules, and one pass of the whole set is then
    /// cheaper than a pass of each rule).
    pub(crate) fn candidates(&self, text: &str, limit: usize) -> Candidates {
        let mut out = self.always.clone();
        if out.len() >= limit {
            return Candidates::Many;
        }
        if let Some(ac) = &self.literals {
            if !self.may_hold_non_ascii_literals(text) {
                // Most text of a website, ASCII or in scripts no literal is written in: only
                // rules that can match ASCII, their ASCII literals looked for one by one
                // (usually the first set's absence settles it).
                let bytes = text.as_bytes();
                let found =
                    |set: &Literals| set.iter().any(|l| l.is_ascii() && memchr::memmem::find(bytes, l).is_some());
                for g in self.gated.iter().filter(|g| g.ascii) {
                    if g.sets.iter().all(found) {
                        out.push(g.rule as usize);
                        if out.len() >= limit {
                            return Candidates::Many;
                        }
                    }
                }
            } else {
                // One pass for all sets: a rule may match once a literal of each was seen.
                let mut seen = vec![0u8; self.gated.len()];
                let mut open = self.gated.len();
                for m in ac.find_overlapping_iter(text) {
                    for &(g, k) in &self.sets_of[m.pattern().as_usize()] {
                        let gated = &self.gated[g as usize];
                        let full = (1u8 << gated.sets.len()) - 1;
                        let was = seen[g as usize];
                        seen[g as usize] |= 1 << k;
                        if was != full && seen[g as usize] == full {
                            out.push(gated.rule as usize);
                            if out.len() >= limit {
                                return Candidates::Many;
                            }
                            open -= 1;
                        }
                    }
                    if open == 0 {
                        break;
                    }
                }
            }
        }
        out.sort_unstable();
        Candidates::Few(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule the gate lets through `text`.
    fn all(gate: &RegexGate, text: &str) -> Vec<usize> {
        match gate.candidates(text, usize::MAX) {
            Candidates::Few(v) => v,
            Candidates::Many => unreachable!("no limit"),
        }
    }

    fn req(p: &str) -> Option<Vec<String>> {
        required_literals(p).map(|v| v.into_iter().map(|l| String::from_utf8(l).unwrap()).collect())
    }

    #[test]
    fn literals_required_by_each_form() {
        assert_eq!(req("abc"), Some(vec!["abc".into()]));
        assert_eq!(req("a?bc"), Some(vec!["bc".into()]));
        assert_eq!(req(r"\bfoo\b"), Some(vec!["foo".into()]));
        assert_eq!(req("(?:xy|yz)w+"), Some(vec!["xy".into(), "yz".into()]));
        assert_eq!(req("(?:xy|yz)www"), Some(vec!["www".into()]));
        assert_eq!(req("[零一二]"), Some(vec!["一".into(), "二".into(), "零".into()]));
        // Single bytes are no gate.
        assert_eq!(req("(?:x|yz)w+"), None);
        assert_eq!(req("[0-3]"), None);
        assert_eq!(req("1[零一]"), Some(vec!["一".into(), "零".into()]));
        assert_eq!(req("(?:加|添加)[^\n]{0,6}?微信"), Some(vec!["微信".into()]));
        // Nothing required: an optional part, an empty branch, a large class, a look-around.
        assert_eq!(req("(?:ab)?"), None);
        assert_eq!(req("(?:ab|)"), None);
        assert_eq!(req("ab*|c?"), None);
        assert_eq!(req("[a-z]+"), None);
        assert_eq!(req("^"), None);
        assert_eq!(req("(unclosed"), None);
    }

    #[test]
    fn case_insensitive_letters_require_either_case() {
        // `(?i)k` is the class [Kk\u{212A}] (the Kelvin sign): only the three-byte sign would
        // be a gate, so the class is none.
        assert_eq!(req("(?i)k"), None);
        let r = req("(?i)ab").unwrap_or_default();
        assert!(r.is_empty(), "{r:?}");
    }

    #[test]
    fn the_shipped_rules_are_all_gated_and_latin_text_runs_none() {
        let lex = crate::Lexicon::shipped().unwrap();
        let patterns: Vec<&str> = lex.regex_rules().iter().map(|r| r.pattern.as_str()).collect();
        assert!(!patterns.is_empty());
        let gate = RegexGate::new(patterns.iter().copied());
        assert!(gate.always.is_empty(), "rules without literals: {:?}", gate.always);
        let latin = "the quick brown fox jumps over the lazy dog; see https://www.example.com/page?id=42";
        assert_eq!(all(&gate, latin), Vec::<usize>::new());
        let latin1 = "même texte, https://www.example.com/page?id=42";
        assert_eq!(all(&gate, latin1), Vec::<usize>::new());
        // Text without a lead byte of the Chinese literals takes the way of ASCII text, and still
        // finds rules by their ASCII literals.
        assert!(!gate.may_hold_non_ascii_literals("настройки, même, الإعدادات"));
        assert!(gate.may_hold_non_ascii_literals("настройки 加微信"));
        // `www dot … dot com` needs all three parts.
        let www = patterns.iter().position(|p| p.contains("www ?dot")).unwrap();
        assert_eq!(all(&gate, "visit www dot casino dot com"), vec![www]);
        assert_eq!(all(&gate, "visit www dot casino dot com, café"), vec![www]);
        assert_eq!(all(&gate, "посетите www dot casino dot com"), vec![www]);
    }

    #[test]
    fn the_lead_byte_range_agrees_with_the_table() {
        let lex = crate::Lexicon::shipped().unwrap();
        let mut gate = RegexGate::new(lex.regex_rules().iter().map(|r| r.pattern.as_str()));
        // The shipped literals' lead bytes are E3–E9, one range.
        assert_eq!(gate.lead_range, Some((0xE3, 0xE9)));
        // Either side of each end of the range, at the ends of 64-byte chunks and past them.
        for c in ['ж', 'é', '\u{2000}', 'ぁ', '網', '零', '가', '😀'] {
            for pos in [0, 1, 62, 63, 64, 65, 127, 128, 200] {
                for tail in [0, 1, 70] {
                    let t = format!("{}{c}{}", "a".repeat(pos), "b".repeat(tail));
                    let want = t.bytes().any(|b| gate.leads[usize::from(b)]);
                    assert_eq!(gate.may_hold_non_ascii_literals(&t), want, "{c:?} after {pos} bytes");
                    let range = gate.lead_range.take();
                    assert_eq!(gate.may_hold_non_ascii_literals(&t), want, "{c:?} after {pos} bytes, by the table");
                    gate.lead_range = range;
                }
            }
        }
        // Lead bytes with a hole between them are no range.
        assert_eq!(RegexGate::new(["加", "ж"]).lead_range, None);
        assert_eq!(RegexGate::new(["加", "一"]).lead_range, Some((0xE4, 0xE5)));
    }

    #[test]
    fn concatenations_need_each_part() {
        let sets = |p: &str| -> Vec<Vec<String>> {
            required_sets(p)
                .into_iter()
                .map(|s| s.into_iter().map(|l| String::from_utf8(l).unwrap()).collect())
                .collect()
        };
        assert_eq!(sets("www ?dot ?(?:com|cn)"), vec![vec!["www"], vec!["dot"], vec!["cn", "com"]]);
        assert_eq!(sets("(?:ab)?cd(?:efg)+"), vec![vec!["efg"], vec!["cd"]]);
        assert_eq!(sets("cd+"), Vec::<Vec<String>>::new());
        assert_eq!(sets("x|yz"), Vec::<Vec<String>>::new());
        let gate = RegexGate::new(["www ?dot", "(?:加|找)微信"]);
        assert_eq!(all(&gate, "www only"), Vec::<usize>::new());
        assert_eq!(all(&gate, "www.dot"), vec![0]);
        assert_eq!(all(&gate, "微信 only"), Vec::<usize>::new());
        assert_eq!(all(&gate, "找我微信"), vec![1]);
    }

    #[test]
    fn rules_without_literals_always_run() {
        let gate = RegexGate::new(["foo", "[a-z]+", "bar"]);
        assert_eq!(all(&gate, "nothing here"), vec![1]);
        assert_eq!(all(&gate, "bar foo"), vec![0, 1, 2]);
        assert!(!gate.is_open());
        assert!(RegexGate::new(["x*", "a"]).is_open());
    }

    mod prop {
        use std::sync::LazyLock;

        use proptest::prelude::*;
        use regex::RegexSet;

        use super::super::*;

        static PATTERNS: LazyLock<Vec<String>> = LazyLock::new(patterns);
        static GATE: LazyLock<RegexGate> = LazyLock::new(|| RegexGate::new(PATTERNS.iter().map(String::as_str)));
        static SET: LazyLock<RegexSet> = LazyLock::new(|| RegexSet::new(PATTERNS.iter()).unwrap());

        /// Patterns of every form the analysis handles, and the shipped rules.
        fn patterns() -> Vec<String> {
            let mut p: Vec<String> = [
                "ab(?:c|de)f",
                "(?:ab)?cd",
                "x[0-2]{2,}y",
                "(?i)hello",
                "(?:a|b|)c",
                r"\bwww\b",
                "[零一二]{2}|q+",
                "(?:^|[^a-z])ab+",
                "a.c",
                "(?s)a.c",
                "z{0,3}q",
                "(?:ab|cd)(?:ef|gh)",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            p.extend(crate::Lexicon::shipped().unwrap().regex_rules().iter().map(|r| r.pattern.clone()));
            p
        }

        /// Texts made of pieces the patterns care about.
        fn text() -> impl Strategy<Value = String> {
            // Pieces separated by `|`.
            let pieces: Vec<&str> =
                "a|b|c|d|e|f|g|h|q|x|y|z|0|1|2|3|8| |\n|ab|cd|www|dot|.|com|hello|HeLLo|加|微信|qq|点|一|\
                                     零|三|百家乐|网址|群号|联系|wx|13|138|赌场|vip|K|ж|é|ي|網"
                    .split('|')
                    .collect();
            let pieces = prop::sample::select(pieces);
            prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            #[test]
            fn the_gate_lets_through_every_rule_that_matches(t in text()) {
                let cand = super::all(&GATE, &t);
                match GATE.candidates(&t, 2) {
                    Candidates::Few(few) => prop_assert!(few.len() < 2 && few == cand, "{few:?} {cand:?}"),
                    Candidates::Many => prop_assert!(cand.len() >= 2, "{cand:?}"),
                }
                for m in SET.matches(&t).iter() {
                    prop_assert!(cand.contains(&m), "rule {} `{}` matches {:?} but was gated out", m, PATTERNS[m], t);
                }
            }
        }
    }
}
