//! Compiling a [`Lexicon`] into patterns over the normalized text: term variants (Latin
//! multi-word joins, pinyin spellings), word-boundary requirements, allow phrases and regexes.

use std::collections::HashMap;

use compact_str::CompactString;
use pinyin::ToPinyin;
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::Flags;
use crate::engine::{self, AllowSet, Engine, EngineKind};
use crate::error::{Error, ErrorKind};
use crate::normalize::{BREAK, Class, Normalizer, is_cjk};
use crate::regex_gate::RegexGate;
use crate::report::Action;
use crate::wordlist::{Lexicon, MatchMode};

/// Terms with at most this many CJK characters get mixed pinyin variants (`赌bo`).
const MIXED_PINYIN_MAX: usize = 4;
/// Regex compile limits: a list cannot make the filter huge.
const REGEX_SIZE_LIMIT: usize = 2 << 20;
/// The cap on the lazy DFA's cache of the regex set (per thread that searches with it). The
/// union of the shipped rules needs ~3–4 MiB of states on text mixing CJK and Latin: within
/// `regex`'s default of 2 MiB the cache filled and was cleared over and over. The set over the
/// 18 MB of the site-scan benchmark tree's text that holds CJK took 71–79 ms with 2 MiB, 34 ms
/// with 4 MiB or more (3 rounds each). The cache only grows as far as the text needs.
const REGEX_SET_DFA_LIMIT: usize = 8 << 20;

/// What a Latin end of a pattern needs next to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    /// Nothing: CJK, or `match=substring`.
    Free,
    /// No letter next to it.
    Letter,
    /// No digit next to it.
    Digit,
}

/// A rule that can produce hits: a term or a regex.
#[derive(Debug)]
pub(crate) struct Rule {
    pub category: u32,
    /// What a hit reports (`CompactString`: a hit's copy of a short one is no allocation).
    pub text: CompactString,
    pub action: Action,
    pub cite: CompactString,
}

/// One rule behind a pattern string.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PatternRef {
    pub rule: u32,
    /// The rule's category and action, copied here so that a hit reads one cache line.
    pub category: u32,
    pub action: Action,
    /// The last rule of its pattern (`refs[first..=last]` belong to one pattern).
    pub last: bool,
    pub left: Edge,
    pub right: Edge,
    pub pinyin: bool,
    /// Flags the term needed itself; a hit does not report them.
    pub own_flags: Flags,
}

/// Everything the scan needs.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub rules: Vec<Rule>,
    pub categories: Vec<CompactString>,
    /// The rules behind each pattern, flat: the engine reports a match with the index of its
    /// pattern's first rule here, and the pattern's rules run to the one marked `last`. So a
    /// hit costs one lookup.
    pub refs: Vec<PatternRef>,
    pub pattern_count: usize,
    pub engine: Box<dyn Engine>,
    pub allow: AllowSet,
    /// Per allow pattern: the categories it applies to (`None`: all).
    pub allow_refs: Vec<Vec<Option<u32>>>,
    pub regex_set: Option<RegexSet>,
    /// Per regex of the set: the compiled regex and its rule.
    pub regexes: Vec<(Regex, u32)>,
    /// Which regexes may match a text (by the literals they need).
    pub regex_gate: RegexGate,
    /// Longest pattern, in normalized bytes.
    pub max_pattern_len: usize,
}

fn edge_of(c: Option<char>, normalizer: &Normalizer) -> Edge {
    match c.map(|c| normalizer.class_of(c)) {
        Some(Class::Letter) => Edge::Letter,
        Some(Class::Digit) => Edge::Digit,
        _ => Edge::Free,
    }
}

/// The pinyin spellings of a normalized Chinese term: all-pinyin joined and spaced, and for
/// short terms every mix of characters and syllables (`赌bo`, `du博`).
pub(crate) fn pinyin_variants(term: &str) -> Vec<String> {
    let parts: Vec<(char, Option<&'static str>)> =
        term.chars().map(|c| (c, if is_cjk(c) { c.to_pinyin().map(|p| p.plain()) } else { None })).collect();
    let cjk: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].1.is_some()).collect();
    if cjk.len() < 2 || parts.iter().any(|(c, p)| is_cjk(*c) && p.is_none()) {
        return Vec::new();
    }
    let render = |mask: u32, spaced: bool| {
        let mut s = String::new();
        let mut prev_latin = false;
        for (k, &(c, p)) in parts.iter().enumerate() {
            let as_pinyin = cjk.iter().position(|&i| i == k).is_some_and(|j| mask & (1 << j) != 0);
            match p {
                Some(py) if as_pinyin => {
                    if spaced && prev_latin {
                        s.push(' ');
                    }
                    // Plain pinyin writes ü; the normalized text has it as u (typed v too).
                    s.extend(py.chars().map(|c| if c == 'ü' { 'u' } else { c }));
                    prev_latin = true;
                }
                _ => {
                    s.push(c);
                    prev_latin = c.is_ascii_alphanumeric();
                }
            }
        }
        s
    };
    let all = (1u32 << cjk.len()) - 1;
    let mut out = vec![render(all, false), render(all, true)];
    if cjk.len() <= MIXED_PINYIN_MAX {
        for mask in 1..all {
            out.push(render(mask, false));
        }
    }
    // ü also typed as v.
    if parts.iter().any(|(_, p)| p.is_some_and(|p| p.contains('ü'))) {
        out.extend([render_v(&parts, false), render_v(&parts, true)]);
    }
    out.sort();
    out.dedup();
    out
}

fn render_v(parts: &[(char, Option<&'static str>)], spaced: bool) -> String {
    let syllables: Vec<String> =
        parts.iter().map(|(c, p)| p.map_or_else(|| c.to_string(), |p| p.replace('ü', "v"))).collect();
    syllables.join(if spaced { " " } else { "" })
}

/// The compiled regex rules of a lexicon. They do not depend on the normalizer, so a build
/// can compile them while another thread builds the folding table.
#[derive(Debug)]
pub(crate) struct RegexRules {
    set: Option<RegexSet>,
    /// Per regex rule of the lexicon, in order.
    regexes: Vec<Regex>,
    /// The literals that let each rule run.
    gate: RegexGate,
}

impl RegexRules {
    pub(crate) fn compile(lex: &Lexicon) -> Result<RegexRules, Error> {
        let mut regexes = Vec::with_capacity(lex.regex_rules().len());
        for r in lex.regex_rules() {
            regexes.push(RegexBuilder::new(&r.pattern).size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| {
                Error::at(ErrorKind::Regex, r.location.clone(), format!("bad regular expression: {e}"))
            })?);
        }
        let set = if regexes.is_empty() {
            None
        } else {
            let sources = lex.regex_rules().iter().map(|r| r.pattern.as_str());
            Some(
                RegexSetBuilder::new(sources)
                    .size_limit(REGEX_SIZE_LIMIT * 4)
                    .dfa_size_limit(REGEX_SET_DFA_LIMIT)
                    .build()
                    .map_err(|e| {
                        Error::new(ErrorKind::Regex, format!("the regex rules together are too large: {e}"))
                    })?,
            )
        };
        let gate = RegexGate::new(lex.regex_rules().iter().map(|r| r.pattern.as_str()));
        Ok(RegexRules { set, regexes, gate })
    }
}

impl Compiled {
    /// Compiles `lex`, whose regex rules are compiled already (`regexes`).
    pub(crate) fn build(
        lex: &Lexicon,
        normalizer: &Normalizer,
        kind: EngineKind,
        regexes: RegexRules,
    ) -> Result<Compiled, Error> {
        let categories: Vec<CompactString> = lex.categories().iter().map(|c| CompactString::from(&c.id)).collect();
        let cat_index =
            |id: &str| categories.iter().position(|c| c == id).expect("lexicon registers every category") as u32;
        let mut rules = Vec::with_capacity(lex.terms().len() + lex.regex_rules().len());
        // Pattern text → id; (pattern id, rule) pairs, flattened once all are known.
        let mut pattern_ids: HashMap<String, u32> = HashMap::with_capacity(lex.terms().len());
        let mut pairs: Vec<(u32, PatternRef)> = Vec::with_capacity(lex.terms().len());
        let mut ids_of_term: Vec<u32> = Vec::new();
        let opts = normalizer.options();

        for term in lex.terms() {
            let (norm, own_flags) = normalizer.normalize_term(&term.text);
            if norm.is_empty() {
                return Err(Error::at(
                    ErrorKind::EmptyTerm,
                    term.location.clone(),
                    format!("term {:?} is only noise once normalized: it would never match", term.text),
                ));
            }
            if norm.contains(BREAK) {
                return Err(Error::at(
                    ErrorKind::EmptyTerm,
                    term.location.clone(),
                    format!(
                        "term {:?} has a run of noise longer than max_gap ({}): it would never match",
                        term.text, opts.max_gap
                    ),
                ));
            }
            let rule = rules.len() as u32;
            let category = cat_index(&term.category);
            rules.push(Rule {
                category,
                text: CompactString::from(&term.text),
                action: lex.term_action(term),
                cite: term.location.cite().into(),
            });
            let pinyin_on =
                opts.pinyin && term.pinyin.unwrap_or_else(|| lex.category(&term.category).is_some_and(|c| c.pinyin));
            let joined = norm.contains(' ').then(|| norm.replace(' ', ""));
            let pinyin = if pinyin_on { pinyin_variants(&norm) } else { Vec::new() };
            let variants = std::iter::once((norm, false))
                .chain(joined.map(|j| (j, false)))
                .chain(pinyin.into_iter().map(|v| (v, true)));
            let action = rules[rule as usize].action;
            ids_of_term.clear();
            for (text, pinyin) in variants {
                let (left, right) = if term.mode == MatchMode::Substring {
                    (Edge::Free, Edge::Free)
                } else {
                    (edge_of(text.chars().next(), normalizer), edge_of(text.chars().next_back(), normalizer))
                };
                let next = pattern_ids.len() as u32;
                let id = *pattern_ids.entry(text).or_insert(next);
                // Two variants of one term may normalize alike: one rule per pattern.
                if !ids_of_term.contains(&id) {
                    ids_of_term.push(id);
                    pairs
                        .push((id, PatternRef { rule, category, action, last: false, left, right, pinyin, own_flags }));
                }
            }
        }
        let mut texts = vec![String::new(); pattern_ids.len()];
        for (text, id) in pattern_ids {
            texts[id as usize] = text;
        }
        let max_pattern_len = texts.iter().map(String::len).max().unwrap_or(0);
        // Stable: a pattern's rules stay in lexicon order.
        pairs.sort_by_key(|&(id, _)| id);
        // Every pattern has at least one rule, so ids run 0, 1, 2, … in `pairs`.
        let mut firsts = Vec::with_capacity(texts.len());
        let refs: Vec<PatternRef> = (0..pairs.len())
            .map(|k| {
                let (id, mut r) = pairs[k];
                if k == 0 || pairs[k - 1].0 != id {
                    firsts.push(k as u32);
                }
                r.last = pairs.get(k + 1).is_none_or(|next| next.0 != id);
                r
            })
            .collect();
        let engine = engine::build(kind, &texts, &firsts)?;

        // Allow phrases.
        let mut allow_ids: HashMap<String, u32> = HashMap::new();
        let mut allow_texts: Vec<String> = Vec::new();
        let mut allow_refs: Vec<Vec<Option<u32>>> = Vec::new();
        for phrase in lex.allow_phrases() {
            let (norm, _) = normalizer.normalize_term(&phrase.text);
            if norm.is_empty() || norm.contains(BREAK) {
                return Err(Error::at(
                    ErrorKind::EmptyTerm,
                    phrase.location.clone(),
                    format!("allow phrase {:?} is only noise once normalized", phrase.text),
                ));
            }
            let cat = phrase.category.as_deref().map(cat_index);
            let mut forms = vec![norm.clone()];
            if norm.contains(' ') {
                forms.push(norm.replace(' ', ""));
            }
            for form in forms {
                let id = *allow_ids.entry(form.clone()).or_insert_with(|| {
                    allow_texts.push(form);
                    allow_refs.push(Vec::new());
                    (allow_refs.len() - 1) as u32
                });
                if !allow_refs[id as usize].contains(&cat) {
                    allow_refs[id as usize].push(cat);
                }
            }
        }
        let allow = AllowSet::build(&allow_texts)?;

        // Regex rules.
        let RegexRules { set: regex_set, regexes, gate: regex_gate } = regexes;
        let regexes: Vec<(Regex, u32)> = regexes
            .into_iter()
            .zip(lex.regex_rules())
            .map(|(compiled, r)| {
                let rule = rules.len() as u32;
                rules.push(Rule {
                    category: cat_index(&r.category),
                    text: CompactString::from(&r.pattern),
                    action: r.action.unwrap_or_else(|| lex.category(&r.category).map_or(Action::Block, |c| c.action)),
                    cite: r.location.cite().into(),
                });
                (compiled, rule)
            })
            .collect();
        Ok(Compiled {
            rules,
            categories,
            pattern_count: texts.len(),
            refs,
            engine,
            allow,
            allow_refs,
            regex_set,
            regexes,
            regex_gate,
            max_pattern_len,
        })
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.engine.heap_bytes() + self.allow.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_forms() {
        let v = pinyin_variants("赌博");
        for want in ["dubo", "du bo", "赌bo", "du博"] {
            assert!(v.contains(&want.to_string()), "{want} missing from {v:?}");
        }
        assert!(pinyin_variants("赌").is_empty());
        assert!(pinyin_variants("abc").is_empty());
        let v = pinyin_variants("女优");
        assert!(v.contains(&"nuyou".to_string()) && v.contains(&"nvyou".to_string()), "{v:?}");
    }
}
