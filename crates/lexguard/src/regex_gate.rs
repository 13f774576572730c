//! The gate in front of the regex rules. Each rule needs, in every match, a literal out of each
//! of a few sets (`www ?dot ?…` needs `www` and `dot`; `(?:加|联系)…(?:微信|qq)…` needs one of
//! each alternation), and some need a run of characters of a small set (`1[3-9][0-9一…九]{9}`:
//! eleven digits or numerals in a row). A text that lacks a set or the run cannot match the
//! rule, which is not run over it.
//!
//! ASCII text, most of a website, is checked with `memmem` for the rules that can match it at
//! all; other text in one pass over its characters ([`CharIndex`]: a table entry per character
//! says which literals start with it and which runs it goes on). Once two rules may match (a
//! long Chinese text has literals of most of them), the gate stops and the whole regex set runs
//! once, as it did before the gate.
//!
//! The shipped rules all name their context in Chinese (`加…微信…`, `…点com`) or spell out
//! `www dot`, so on the Latin and code text of a site scan none of them runs. Without the gate,
//! the regex set's overlapping search went over every text and took ~8–11 % of a site scan's CPU.
//! On Chinese text the literals alone were a weak gate: `一` and `三` are literals of the mobile
//! number rules, and `加` one of `加v`. On the 35,123 product reviews of the core benchmark
//! corpus, checked one by one, the literals let two rules or more through for 16,087 reviews (18
//! of which matched); runs and the literals across a concatenation's parts (below) let them
//! through for 102. Checked line by line, the regex rules' share of the check (instructions
//! counted with cachegrind, against a filter without them) went from 241 M to 104 M on the
//! 5.5 MB of news and from 294 M to 150 M on the 7.4 MB of reviews; most of what is left is the
//! pass over the characters.
//!
//! The literals come from the rule's syntax tree (`regex-syntax`, the parser the `regex` crate
//! uses): a literal requires itself; a small class requires one of its characters; a
//! concatenation requires what each of its parts requires, and the prefixes `regex-syntax`
//! extracts from each run of its parts (`(?:加|找)(?:v|微)`: `加v`, `加微`, `找v`, `找微`); an
//! alternation requires what any of its branches requires (and nothing if one branch requires
//! nothing); a repetition requires what its body requires if it runs at least once.
//! Look-arounds and the empty regex require nothing, and single bytes are no gate. A rule with
//! no literal set and no run is always run.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::engine::count_bytes_in;
use crate::normalize::{cp3, two_or_three_byte_cp};

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
        HirKind::Concat(parts) => {
            parts.iter().for_each(|p| required_all(p, out));
            // Literals across neighbouring parts, where a part alone has none or a weak set:
            // `(?:加|找)(?:v|微)` needs one of `加v`, `加微`, `找v`, `找微`, and `v` alone is no gate.
            for i in 0..parts.len().saturating_sub(1) {
                out.extend(prefixes(&Hir::concat(parts[i..].to_vec())));
            }
        }
        HirKind::Capture(cap) => required_all(&cap.sub, out),
        HirKind::Repetition(rep) if rep.min >= 1 => required_all(&rep.sub, out),
        _ => out.extend(required(hir).filter(usable)),
    }
}

/// Literals one of which every match of `hir` starts with, if they are a usable set
/// (`regex-syntax`'s own prefix extraction, which crosses a concatenation's parts).
fn prefixes(hir: &Hir) -> Option<Literals> {
    let seq = Extractor::new().kind(ExtractKind::Prefix).limit_total(MAX_LITERALS).extract(hir);
    let mut lits: Literals = seq.literals()?.iter().map(|l| l.as_bytes().to_vec()).collect();
    lits.sort_unstable();
    lits.dedup();
    usable(&lits).then_some(lits)
}

/// What every match of a rule needs.
#[derive(Debug, Default)]
struct Needs {
    /// Sets of literals in which a match finds one each, most selective first, at most
    /// [`MAX_SETS`] (empty: none usable, or a pattern `regex-syntax` does not parse).
    sets: Vec<Literals>,
    /// The run every match contains, if it has one of [`MIN_RUN`] characters or more.
    run: Option<Run>,
    /// Sets left out for the run (see [`required_sets`]): still needed, so a text without any
    /// lead byte of theirs cannot match, nor ASCII text when they have no ASCII literal.
    left_out: Vec<Literals>,
}

/// What every match of the regex `pattern` needs.
fn required_sets(pattern: &str) -> Needs {
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else { return Needs::default() };
    let run = required_run(&hir).filter(|(_, len)| *len >= MIN_RUN);
    let mut sets = Vec::new();
    required_all(&hir, &mut sets);
    let mut left_out = Vec::new();
    if let Some((chars, _)) = run.as_ref().filter(|(_, len)| *len >= LONG_RUN) {
        // Single characters of a long run say less than the run does, and the commonest of
        // them (`一` of a mobile number in Chinese numerals) would keep the gate's search busy.
        // (A short run says little: `[a-z0-9]{2,}点com` needs `点` more than five letters.)
        let in_run = |l: &Vec<u8>| {
            let mut cs = std::str::from_utf8(l).into_iter().flat_map(str::chars);
            cs.next().is_some_and(|c| chars.binary_search(&c).is_ok()) && cs.next().is_none()
        };
        (left_out, sets) = sets.into_iter().partition(|set| set.iter().all(in_run));
    }
    sets.sort_by_key(|s| std::cmp::Reverse(score(s)));
    sets.dedup();
    sets.truncate(MAX_SETS);
    Needs { sets, run: run.map(|(chars, len)| Run::new(&chars, len)), left_out }
}

/// Sets of literals kept per rule (a bit each in a `u8`).
const MAX_SETS: usize = 4;

/// A rule behind the gate.
#[derive(Debug)]
struct Gated {
    rule: u32,
    /// Literal sets, a literal of each of which every match contains.
    sets: Vec<Literals>,
    /// The ASCII literals of each set, sets with fewer first (each is a search of an ASCII
    /// text), if every set has one (so that the rule can match ASCII text).
    ascii: Option<Vec<Literals>>,
    /// The run every match contains (index into `RegexGate::runs`).
    run: Option<usize>,
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
    /// The same literals and the runs by character, for text that is not ASCII (`None`: too
    /// many first characters or runs for its table; the automaton and one pass per run then).
    chars: Option<CharIndex>,
    /// Per literal of `literals`: the gated rules and sets it is in (index into `gated`, set).
    sets_of: Vec<Vec<(u32, u8)>>,
    gated: Vec<Gated>,
    /// Rules that are always run (no usable literal set, no run).
    always: Vec<usize>,
    /// Runs the gated rules need, each once.
    runs: Vec<Run>,
    /// Rules gated by a run alone (no usable literal set): (rule, index into `runs`, whether
    /// ASCII text can hold a match).
    run_only: Vec<(u32, usize, bool)>,
    /// The first byte of 0x80 or more of each literal that has one: a text without any of
    /// them holds no literal but ASCII ones (Cyrillic or Arabic text, where the literals are
    /// ASCII and Chinese).
    leads: [bool; 256],
    /// `leads` as a range `lo..=hi` when it is one (E3–E9 when the literals are Chinese): a
    /// range test vectorizes, a table lookup does not.
    lead_range: Option<(u8, u8)>,
    /// [`LEAD_SHARE`] (tests take the pass by character on any share).
    lead_share: usize,
}

/// One byte in so many or more a lead byte of the literals, and the pass by character pays
/// (the three-byte characters behind them fill half the text).
const LEAD_SHARE: usize = 6;

impl RegexGate {
    /// The gate of the rules `patterns` (in rule order).
    pub(crate) fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> RegexGate {
        let mut lits: Vec<Vec<u8>> = Vec::new();
        let mut sets_of: Vec<Vec<(u32, u8)>> = Vec::new();
        let mut gated = Vec::new();
        let mut always = Vec::new();
        let mut runs: Vec<Run> = Vec::new();
        let mut run_only = Vec::new();
        // Literals of the sets left out for runs: their lead bytes count as the others' do.
        let mut lead_lits: Vec<Vec<u8>> = Vec::new();
        let mut len = 0;
        for (rule, p) in patterns.into_iter().enumerate() {
            len += 1;
            let Needs { sets, run, left_out } = required_sets(p);
            // Whether ASCII text can hold a match: every set needed has an ASCII literal.
            let can_ascii = sets.iter().chain(&left_out).all(|s| s.iter().any(|l| l.is_ascii()));
            lead_lits.extend(left_out.into_iter().flatten());
            let run = run.and_then(|r| {
                runs.iter().position(|x| *x == r).or_else(|| {
                    // (Past the cap, a rule is gated by its literals alone.)
                    (runs.len() < MAX_RUNS).then(|| {
                        runs.push(r);
                        runs.len() - 1
                    })
                })
            });
            if sets.is_empty() {
                match run {
                    Some(r) => run_only.push((rule as u32, r, can_ascii)),
                    None => always.push(rule),
                }
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
            let mut ascii: Vec<Literals> =
                sets.iter().map(|s| s.iter().filter(|l| l.is_ascii()).cloned().collect()).collect();
            ascii.sort_by_key(Vec::len);
            let ascii = can_ascii.then_some(ascii);
            gated.push(Gated { rule: rule as u32, sets, ascii, run });
        }
        let literals = if lits.is_empty() {
            None
        } else {
            // A few hundred short literals: a DFA is small and the fastest to run.
            AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).match_kind(MatchKind::Standard).build(&lits).ok()
        };
        if literals.is_none() && !lits.is_empty() {
            // Not built (it cannot fail at this size, but then every rule runs).
            always = (0..len).collect();
            sets_of.clear();
            gated.clear();
            run_only.clear();
            lits.clear();
            runs.clear();
        }
        let mut leads = [false; 256];
        for l in lits.iter().chain(&lead_lits) {
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
        let chars = if lits.is_empty() && runs.is_empty() { None } else { CharIndex::new(&lits, &runs) };
        RegexGate { literals, chars, sets_of, gated, always, runs, run_only, leads, lead_range, lead_share: LEAD_SHARE }
    }

    /// Whether `text` may hold a literal that is not ASCII (it has one of their lead bytes).
    #[cfg(test)]
    fn may_hold_non_ascii_literals(&self, text: &str) -> bool {
        self.lead_bytes(text) > 0
    }

    /// How many of the literals' lead bytes `text` has.
    fn lead_bytes(&self, text: &str) -> usize {
        if text.is_ascii() {
            return 0;
        }
        let bytes = text.as_bytes();
        match self.lead_range {
            // (A Cyrillic text has none of these bytes and is read to its end.)
            Some((lo, hi)) => count_bytes_in(bytes, lo, hi),
            None => bytes.iter().filter(|&&b| self.leads[usize::from(b)]).count(),
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
        let leads = self.lead_bytes(text);
        let non_ascii = leads > 0;
        // The pass by character pays where the literals' lead bytes are a large share of the
        // text: on text mostly ASCII it would stop at most letters (the first ones of `com`,
        // `qq`, `www`, …), where the automaton takes one step a byte.
        if let Some(index) =
            self.chars.as_ref().filter(|_| non_ascii && leads.saturating_mul(self.lead_share) >= text.len())
        {
            if self.scan_chars(index, text, limit, &mut out) {
                return Candidates::Many;
            }
            out.sort_unstable();
            return Candidates::Few(out);
        }
        // Whether each run is in the text, looked for once, when a rule first needs it.
        let mut run_found: [Option<bool>; MAX_RUNS] = [None; MAX_RUNS];
        let mut has_run = |r: usize| *run_found[r].get_or_insert_with(|| self.runs[r].is_in(text));
        for &(rule, r, can_ascii) in &self.run_only {
            // (Without a non-ASCII literal's lead byte, a rule that needs one cannot match.)
            if (can_ascii || non_ascii) && has_run(r) {
                out.push(rule as usize);
                if out.len() >= limit {
                    return Candidates::Many;
                }
            }
        }
        if let Some(ac) = &self.literals {
            if !non_ascii {
                // Most text of a website, ASCII or in scripts no literal is written in: only
                // rules that can match ASCII, their ASCII literals looked for one by one
                // (usually the first set's absence settles it: `www` of `www dot`).
                let bytes = text.as_bytes();
                let found = |set: &Literals| set.iter().any(|l| memchr::memmem::find(bytes, l).is_some());
                for g in &self.gated {
                    let Some(ascii) = &g.ascii else { continue };
                    if ascii.iter().all(found) && g.run.is_none_or(&mut has_run) {
                        out.push(g.rule as usize);
                        if out.len() >= limit {
                            return Candidates::Many;
                        }
                    }
                }
            } else {
                // One pass for all sets: a rule may match once a literal of each was seen (and
                // its run is in the text).
                let (mut stack, mut heap) = ([0u8; SEEN_ON_STACK], Vec::new());
                let seen = seen_buffer(&mut stack, &mut heap, self.gated.len());
                let mut open = self.gated.len();
                for m in ac.find_overlapping_iter(text) {
                    for &(g, k) in &self.sets_of[m.pattern().as_usize()] {
                        let gated = &self.gated[g as usize];
                        let full = (1u8 << gated.sets.len()) - 1;
                        let was = seen[g as usize];
                        seen[g as usize] |= 1 << k;
                        if was != full && seen[g as usize] == full {
                            open -= 1;
                            if gated.run.is_none_or(&mut has_run) {
                                out.push(gated.rule as usize);
                                if out.len() >= limit {
                                    return Candidates::Many;
                                }
                            }
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

impl RegexGate {
    /// The gated rules that may match `text` by one pass of `index` over its characters, added
    /// to `out`; `true` as soon as `out` holds `limit` rules.
    fn scan_chars(&self, index: &CharIndex, text: &str, limit: usize, out: &mut Vec<usize>) -> bool {
        let (mut stack, mut heap) = ([0u8; SEEN_ON_STACK], Vec::new());
        let seen = seen_buffer(&mut stack, &mut heap, self.gated.len());
        // Gated rules whose literals were all seen, waiting for their run.
        let mut waiting: Vec<(u32, usize)> = Vec::new();
        let mut run_found = [false; MAX_RUNS];
        // Rules and runs still open: the pass ends when none is.
        let mut open = self.gated.len() + self.run_only.len();
        let mut counts = [0usize; MAX_RUNS];
        // Runs with a count above zero, a bit each.
        let mut live = 0u8;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && open > 0 {
            if live == 0 {
                // Characters without an entry while no run goes on, most of a text: nothing to
                // do but read on. (Three-byte characters, then ASCII, until neither reads on.)
                loop {
                    let from = i;
                    while let [b0 @ 0xE0..=0xEF, b1, b2, ..] = bytes[i..] {
                        if index.entry(cp3(b0, b1, b2)) != 0 {
                            break;
                        }
                        i += 3;
                    }
                    while let Some(&b) = bytes.get(i) {
                        if b >= 0x80 || index.entry(u32::from(b)) != 0 {
                            break;
                        }
                        i += 1;
                    }
                    if i == from {
                        break;
                    }
                }
                if i >= bytes.len() {
                    break;
                }
            }
            let (cp, len) = char_at(text, i);
            let entry = index.entry(cp);
            let runs = (entry & RUN_BITS) as u8;
            if runs | live != 0 {
                // Runs this character goes on or ends.
                let mut done = 0u8;
                for r in 0..self.runs.len() {
                    if runs >> r & 1 != 0 {
                        counts[r] += 1;
                        if counts[r] == self.runs[r].len && !run_found[r] {
                            run_found[r] = true;
                            done |= 1 << r;
                        }
                    } else {
                        counts[r] = 0;
                    }
                }
                live = runs;
                if done != 0 {
                    for &(rule, r, _) in &self.run_only {
                        if done >> r & 1 != 0 {
                            open -= 1;
                            out.push(rule as usize);
                        }
                    }
                    for &(rule, r) in &waiting {
                        if done >> r & 1 != 0 {
                            open -= 1;
                            out.push(rule as usize);
                        }
                    }
                    waiting.retain(|&(_, r)| done >> r & 1 == 0);
                    if out.len() >= limit {
                        return true;
                    }
                }
            }
            let first = entry >> RUN_BITS.count_ones();
            if first != 0 {
                // The next eight bytes, once, for the literals' first eight (none near the end).
                let head = bytes.get(i..i + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
                for &lit in &index.starts[first as usize - 1] {
                    if !index.literals[lit as usize].is_at(head, &bytes[i..]) {
                        continue;
                    }
                    for &(g, k) in &self.sets_of[lit as usize] {
                        let gated = &self.gated[g as usize];
                        let full = (1u8 << gated.sets.len()) - 1;
                        let was = seen[g as usize];
                        seen[g as usize] |= 1 << k;
                        if was != full && seen[g as usize] == full {
                            match gated.run {
                                Some(r) if !run_found[r] => waiting.push((gated.rule, r)),
                                _ => {
                                    open -= 1;
                                    out.push(gated.rule as usize);
                                }
                            }
                        }
                    }
                }
                if out.len() >= limit {
                    return true;
                }
            }
            i += len;
        }
        false
    }
}

/// Gated rules whose sets seen a search keeps on the stack (a buffer on the heap for more: an
/// allocation per check of a short message was a few per cent of it).
const SEEN_ON_STACK: usize = 64;

/// Zeroed bits per gated rule: in `stack` when `n` fit, else in `heap`.
fn seen_buffer<'b>(stack: &'b mut [u8; SEEN_ON_STACK], heap: &'b mut Vec<u8>, n: usize) -> &'b mut [u8] {
    if n <= SEEN_ON_STACK {
        &mut stack[..n]
    } else {
        heap.resize(n, 0);
        heap
    }
}

/// Bits of a [`CharIndex`] entry for the runs (one each); the bits above hold the character's
/// index in `starts` plus one.
const RUN_BITS: u16 = (1 << MAX_RUNS) - 1;

/// The gate's literals and runs by character: a table entry per character of the BMP says which
/// runs it may go on and which literals start with it. One pass over a Chinese text reads each
/// character once, where the automaton of the literals takes a step per byte.
#[derive(Debug)]
struct CharIndex {
    /// Entries of the BMP in pages of 256 characters: `pages[page_of[cp >> 8]][cp & 0xFF]`. Page 0
    /// is all zeros, shared by every page without an entry. The few pages of the rules'
    /// characters stay in the L1 cache, where a flat table of the BMP (128 KB) did not: a
    /// lookup then cost as much as the rest of the pass.
    page_of: Box<[u8; 256]>,
    pages: Box<[[u16; 256]]>,
    /// Entries of characters beyond it, sorted.
    astral: Box<[(u32, u16)]>,
    /// Per first character: the literals that start with it (index into `literals`).
    starts: Vec<Vec<u32>>,
    literals: Vec<Literal>,
}

/// A literal of the index, with its first eight bytes as a word to compare at once (a call of
/// `memcmp` per literal that starts with a character was a few per cent of a site scan).
#[derive(Debug)]
struct Literal {
    bytes: Vec<u8>,
    /// The first eight bytes (or fewer, zero-padded) and the mask of those it has.
    word: u64,
    mask: u64,
}

impl Literal {
    fn new(bytes: &[u8]) -> Literal {
        let n = bytes.len().min(8);
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&bytes[..n]);
        let mask = if n == 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 };
        Literal { bytes: bytes.to_vec(), word: u64::from_le_bytes(w), mask }
    }

    /// Whether `rest` starts with the literal; `head` is its first eight bytes as a word, if it
    /// has them.
    #[inline(always)]
    fn is_at(&self, head: Option<u64>, rest: &[u8]) -> bool {
        match head {
            Some(h) => h & self.mask == self.word && (self.bytes.len() <= 8 || rest.starts_with(&self.bytes)),
            None => rest.starts_with(&self.bytes),
        }
    }
}

impl CharIndex {
    /// The index of `lits` and `runs`, if its entries can hold their first characters.
    fn new(lits: &[Vec<u8>], runs: &[Run]) -> Option<CharIndex> {
        let mut entries: std::collections::BTreeMap<u32, u16> = std::collections::BTreeMap::new();
        for (r, run) in runs.iter().enumerate() {
            for cp in run.chars() {
                *entries.entry(cp).or_default() |= 1 << r;
            }
        }
        let mut starts: Vec<Vec<u32>> = Vec::new();
        let mut first_of: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
        for (k, lit) in lits.iter().enumerate() {
            let first = std::str::from_utf8(lit).ok()?.chars().next()? as u32;
            let slot = *first_of.entry(first).or_insert_with(|| {
                starts.push(Vec::new());
                starts.len() - 1
            });
            starts[slot].push(k as u32);
        }
        let shift = RUN_BITS.count_ones();
        if starts.len() >= 1 << (16 - shift) {
            return None;
        }
        for (&cp, &slot) in &first_of {
            *entries.entry(cp).or_default() |= ((slot + 1) as u16) << shift;
        }
        let mut page_of = Box::new([0u8; 256]);
        let mut pages = vec![[0u16; 256]];
        let mut astral = Vec::new();
        for (cp, e) in entries {
            if cp > 0xFFFF {
                astral.push((cp, e));
                continue;
            }
            let page = &mut page_of[(cp >> 8) as usize];
            if *page == 0 {
                // (At most 256 pages of the BMP, but page 0 is the empty one.)
                if pages.len() > usize::from(u8::MAX) {
                    return None;
                }
                *page = pages.len() as u8;
                pages.push([0; 256]);
            }
            pages[usize::from(*page)][(cp & 0xFF) as usize] = e;
        }
        Some(CharIndex {
            page_of,
            pages: pages.into(),
            astral: astral.into(),
            starts,
            literals: lits.iter().map(|l| Literal::new(l)).collect(),
        })
    }

    #[inline(always)]
    fn entry(&self, cp: u32) -> u16 {
        if cp <= 0xFFFF {
            self.pages[usize::from(self.page_of[(cp >> 8) as usize])][(cp & 0xFF) as usize]
        } else {
            self.astral.binary_search_by_key(&cp, |&(c, _)| c).map_or(0, |k| self.astral[k].1)
        }
    }
}

/// Characters a run may hold at most (a class of more is no run gate).
const MAX_RUN_CHARS: usize = 64;
/// The shortest run worth a gate: shorter ones are too common (`2024`, `一二三`).
const MIN_RUN: usize = 5;
/// A run this long says more than any one character of it (see [`required_sets`]).
const LONG_RUN: usize = 8;
/// Distinct runs of all rules at most (more are not gated by their runs).
const MAX_RUNS: usize = 7;

/// A run every match of a rule contains: `len` characters or more in a row, each one of a
/// small set (`1[3-9][0-9零一…九]{9}`: eleven digits or Chinese numerals). Chinese text is full
/// of the literals of such a rule (`一`, `三`), but rarely has the run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Run {
    /// The ASCII characters of the set, a bit each.
    ascii: u128,
    /// The other characters of the set, a bit each from `lo` on (empty: none).
    bits: Box<[u64]>,
    lo: u32,
    len: usize,
}

impl Run {
    fn new(chars: &[char], len: usize) -> Run {
        let ascii = chars.iter().filter(|c| c.is_ascii()).fold(0u128, |m, &c| m | 1 << (c as u32));
        let other = chars.iter().map(|&c| c as u32).filter(|&c| c >= 0x80);
        let lo = other.clone().min().unwrap_or(0);
        let span = other.clone().max().map_or(0, |hi| (hi - lo) as usize + 1);
        let mut bits = vec![0u64; span.div_ceil(64)].into_boxed_slice();
        for c in other {
            let k = (c - lo) as usize;
            bits[k / 64] |= 1 << (k % 64);
        }
        Run { ascii, bits, lo, len }
    }

    /// The characters of the set.
    fn chars(&self) -> impl Iterator<Item = u32> + '_ {
        let other = self.bits.iter().enumerate().flat_map(move |(w, &bits)| {
            (0..64).filter(move |k| bits >> k & 1 != 0).map(move |k| self.lo + (w * 64 + k) as u32)
        });
        (0..128u32).filter(|&c| self.ascii >> c & 1 != 0).chain(other)
    }

    /// Whether the character `cp` is in the set.
    #[inline(always)]
    fn holds(&self, cp: u32) -> bool {
        if cp < 0x80 {
            return self.ascii >> cp & 1 != 0;
        }
        let k = cp.wrapping_sub(self.lo) as usize;
        self.bits.get(k / 64).is_some_and(|w| w >> (k % 64) & 1 != 0)
    }

    /// Whether `text` has `len` characters of the set in a row.
    fn is_in(&self, text: &str) -> bool {
        let mut n = 0;
        let mut i = 0;
        while i < text.len() {
            let (cp, len) = char_at(text, i);
            i += len;
            if self.holds(cp) {
                n += 1;
                if n >= self.len {
                    return true;
                }
            } else {
                n = 0;
            }
        }
        false
    }
}

/// The code point and length of the character at `text[i..]` (`i` on a character boundary):
/// ASCII and the two- and three-byte sequences of the normalizer's own fast paths inline, the
/// rest through `chars`.
#[inline(always)]
fn char_at(text: &str, i: usize) -> (u32, usize) {
    let bytes = text.as_bytes();
    match bytes[i] {
        b @ 0..=0x7F => (u32::from(b), 1),
        _ => two_or_three_byte_cp(&bytes[i..])
            .unwrap_or_else(|| text[i..].chars().next().map_or((0, 1), |c| (u32::from(c), c.len_utf8()))),
    }
}

/// The characters (sorted) of which every match of `hir` is made, and how many of them every
/// match has at least, if it is made of a small set of characters only.
fn pure_run(hir: &Hir) -> Option<(Vec<char>, usize)> {
    let chars = |ranges: &mut dyn Iterator<Item = (char, char)>| -> Option<Vec<char>> {
        let mut v = Vec::new();
        for (lo, hi) in ranges {
            if (hi as usize).saturating_sub(lo as usize) >= MAX_RUN_CHARS {
                return None;
            }
            v.extend(lo..=hi);
            if v.len() > MAX_RUN_CHARS {
                return None;
            }
        }
        Some(v)
    };
    let (mut set, len) = match hir.kind() {
        HirKind::Empty => (Vec::new(), 0),
        HirKind::Look(_) => return None,
        HirKind::Literal(lit) => {
            let s = std::str::from_utf8(&lit.0).ok()?;
            (s.chars().collect(), s.chars().count())
        }
        HirKind::Class(Class::Unicode(class)) => (chars(&mut class.ranges().iter().map(|r| (r.start(), r.end())))?, 1),
        HirKind::Class(Class::Bytes(class)) => {
            if class.ranges().iter().any(|r| r.end() >= 0x80) {
                return None;
            }
            (chars(&mut class.ranges().iter().map(|r| (char::from(r.start()), char::from(r.end()))))?, 1)
        }
        HirKind::Repetition(rep) => {
            let (set, len) = pure_run(&rep.sub)?;
            (set, len.saturating_mul(rep.min as usize))
        }
        HirKind::Capture(cap) => pure_run(&cap.sub)?,
        HirKind::Concat(parts) => {
            let mut all = Vec::new();
            let mut len = 0usize;
            for p in parts {
                let (set, n) = pure_run(p)?;
                all.extend(set);
                len = len.saturating_add(n);
            }
            (all, len)
        }
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            let mut len = usize::MAX;
            for b in branches {
                let (set, n) = pure_run(b)?;
                all.extend(set);
                len = len.min(n);
            }
            (all, len)
        }
    };
    set.sort_unstable();
    set.dedup();
    (set.len() <= MAX_RUN_CHARS).then_some((set, len))
}

/// The longest run every match of `hir` contains: the whole of `hir`, or consecutive parts of a
/// concatenation made of a small set of characters together, or such a run inside a part.
fn required_run(hir: &Hir) -> Option<(Vec<char>, usize)> {
    // Longer runs first, then smaller sets.
    let better = |a: &(Vec<char>, usize), b: &(Vec<char>, usize)| {
        (a.1, std::cmp::Reverse(a.0.len())) > (b.1, std::cmp::Reverse(b.0.len()))
    };
    let pick = |best: Option<(Vec<char>, usize)>, next: Option<(Vec<char>, usize)>| match (best, next) {
        (Some(b), Some(n)) => Some(if better(&n, &b) { n } else { b }),
        (b, n) => b.or(n),
    };
    if let Some(run) = pure_run(hir) {
        return Some(run);
    }
    match hir.kind() {
        HirKind::Capture(cap) => required_run(&cap.sub),
        HirKind::Repetition(rep) if rep.min >= 1 => required_run(&rep.sub),
        HirKind::Concat(parts) => {
            let mut best = None;
            // The open window of consecutive pure parts: its characters and length.
            let mut window: Option<(Vec<char>, usize)> = None;
            for p in parts {
                match pure_run(p) {
                    Some((set, n)) => {
                        let merged = window.as_ref().and_then(|(w, len)| {
                            let mut all: Vec<char> = w.iter().chain(&set).copied().collect();
                            all.sort_unstable();
                            all.dedup();
                            (all.len() <= MAX_RUN_CHARS).then_some((all, len.saturating_add(n)))
                        });
                        match merged {
                            Some(m) => window = Some(m),
                            // Too many characters together: the part starts a window of its own.
                            None => {
                                best = pick(best, window.take());
                                window = Some((set, n));
                            }
                        }
                    }
                    None => {
                        best = pick(best, window.take());
                        best = pick(best, required_run(p));
                    }
                }
            }
            pick(best, window)
        }
        _ => None,
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
        // Eleven digits and more in a row: the mobile-number rules need a Chinese numeral too.
        let digits = "call 13812345678 or +86 138 1234 5678; id=17336000000001234";
        assert_eq!(all(&gate, digits), Vec::<usize>::new());
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
                .sets
                .into_iter()
                .map(|s| s.into_iter().map(|l| String::from_utf8(l).unwrap()).collect())
                .collect()
        };
        // Each part, and parts together where a prefix crosses them (most selective first).
        let www = sets("www ?dot ?(?:com|cn)");
        assert_eq!(
            www[0],
            [
                "www dot cn",
                "www dot com",
                "www dotcn",
                "www dotcom",
                "wwwdot cn",
                "wwwdot com",
                "wwwdotcn",
                "wwwdotcom"
            ]
        );
        assert_eq!(www[1], ["dot cn", "dot com", "dotcn", "dotcom"]);
        assert_eq!(www.len(), MAX_SETS);
        assert_eq!(sets("www+ ?dot"), vec![vec!["dot"], vec!["www"], vec![" dot", "dot"], vec!["ww"]]);
        assert_eq!(sets("(?:ab)?cd(?:efg)+"), vec![vec!["cdefg"], vec!["abcdefg", "cdefg"], vec!["efg"], vec!["cd"]]);
        assert_eq!(sets("cd+"), vec![vec!["cd"]]);
        assert_eq!(sets("x|yz"), Vec::<Vec<String>>::new());
        let gate = RegexGate::new(["www ?dot", "(?:加|找)微信"]);
        assert_eq!(all(&gate, "www only"), Vec::<usize>::new());
        // (A literal regex is also a run: its letters in a row.)
        assert_eq!(all(&gate, "www.dot"), Vec::<usize>::new());
        assert_eq!(all(&gate, "wwwdot"), vec![0]);
        assert_eq!(all(&gate, "微信 only"), Vec::<usize>::new());
        assert_eq!(all(&gate, "找我微信"), Vec::<usize>::new());
        assert_eq!(all(&gate, "找微信"), vec![1]);
    }

    #[test]
    fn runs_of_each_form() {
        // (Characters in the set, length.)
        let run = |p: &str| {
            required_sets(p).run.map(|r| {
                (r.ascii.count_ones() as usize + r.bits.iter().map(|w| w.count_ones() as usize).sum::<usize>(), r.len)
            })
        };
        assert_eq!(run("1[3-9][0-9]{9}"), Some((10, 11)));
        assert_eq!(run("(?:^|[^0-9])1[3-9][0-9零一]{9}(?:$|[^0-9])"), Some((12, 11)));
        assert_eq!(run("x[a-z]{3}y"), Some((26, 5)));
        assert_eq!(run("加[^\n]{0,6}?[0-9]{5,}"), Some((10, 5)));
        assert_eq!(run("[0-9]{3}-?[0-9]{3}"), Some((11, 6)));
        assert_eq!(run("(?:[0-9]{6}|[a-c]{7})x"), Some((14, 7)));
        assert_eq!(run("(?:([0-9]{3}))+[0-9]{2}"), Some((10, 5)));
        // Too short, broken by a large class, an optional part, or a class too large.
        assert_eq!(run("[0-9]{4}"), None);
        assert_eq!(run("[0-9]{3}.[0-9]{3}"), None);
        assert_eq!(run("(?:[0-9]{6}|abc)"), None);
        assert_eq!(run("(?:[0-9]{9})?"), None);
        assert_eq!(run("\\w{9}"), None);
        // A window too large to join starts another one.
        assert_eq!(run("[a-z]{2}[0-9]{5}[A-Z]{3}[\u{4E00}-\u{4E3F}]{3}"), Some((62, 10)));
    }

    #[test]
    fn a_run_gates_a_rule_with_or_without_literals() {
        let gate = RegexGate::new(["[0-9一二三]{6}", "加[0-9]{5}", "xy"]);
        assert_eq!(gate.run_only.len(), 1);
        assert_eq!(all(&gate, "12345 一二三四 加1234"), Vec::<usize>::new());
        assert_eq!(all(&gate, "1234一二 加 12345"), vec![0]);
        assert_eq!(all(&gate, "加 12345"), Vec::<usize>::new());
        assert_eq!(all(&gate, "加12345"), vec![1]);
        assert_eq!(all(&gate, "加12345xy"), vec![1, 2]);
        // ASCII text takes its own way to the same answer.
        assert_eq!(all(&gate, "ab 123456"), vec![0]);
        assert_eq!(gate.candidates("123456 加12345", 2), Candidates::Many);
        // Runs alone: no automaton, the index all the same.
        let gate = RegexGate::new(["[0-9一二三]{6}"]);
        assert!(gate.literals.is_none() && gate.chars.is_some());
        assert_eq!(all(&gate, "一二三一二三"), vec![0]);
        assert_eq!(all(&gate, "一二三 一二三 123456"), vec![0]);
        assert_eq!(all(&gate, "一二三 一二三 12345"), Vec::<usize>::new());
    }

    #[test]
    fn the_index_by_character_finds_runs_before_or_after_the_literals() {
        let gate = RegexGate::new(["加[^x]*[0-9一二]{5}", "[0-9一二]{6}"]);
        assert!(gate.chars.is_some());
        assert_eq!(all(&gate, "一二一二一 then 加"), vec![0]);
        assert_eq!(all(&gate, "加 then 一二一二一"), vec![0]);
        assert_eq!(all(&gate, "加 then 一二一二 一"), Vec::<usize>::new());
        assert_eq!(all(&gate, "一二一二一二"), vec![1]);
        assert_eq!(all(&gate, "加一二一二一二"), vec![0, 1]);
        assert_eq!(all(&gate, "12一二1"), Vec::<usize>::new());
        assert_eq!(all(&gate, "12一二12, 加"), vec![0, 1]);
        // Characters of two, three and four bytes end a run as any other does.
        for c in ['ж', '網', '😀'] {
            assert_eq!(all(&gate, &format!("加一二{c}一二一")), Vec::<usize>::new());
        }
        assert_eq!(gate.candidates("加一二一二一二", 2), Candidates::Many);
    }

    #[test]
    fn characters_beyond_the_bmp_and_too_many_first_characters() {
        // A literal and a run beyond the BMP: the index's sorted list.
        let gate = RegexGate::new(["😀😀x", "[😀😁]{5}"]);
        assert!(gate.chars.is_some());
        assert_eq!(all(&gate, "a😀😀x"), vec![0]);
        assert_eq!(all(&gate, "a😀x😀x"), Vec::<usize>::new());
        assert_eq!(all(&gate, "😀😁😀😁😀 😀😀x"), vec![0, 1]);
        // More first characters than the index's entries hold: the automaton does the work.
        let rules: Vec<String> = (0..10u32)
            .map(|r| {
                let alts: Vec<String> =
                    (0..60u32).map(|k| format!("{}y", char::from_u32(0x4E00 + r * 60 + k).unwrap())).collect();
                format!("(?:{})x", alts.join("|"))
            })
            .collect();
        let gate = RegexGate::new(rules.iter().map(String::as_str));
        assert!(gate.chars.is_none() && gate.always.is_empty());
        let text = format!("{}yx {}y", char::from_u32(0x4E00 + 61).unwrap(), char::from_u32(0x4E00 + 599).unwrap());
        assert_eq!(all(&gate, &text), vec![1]);
        assert_eq!(all(&gate, &format!("{text}x")), vec![1, 9]);
    }

    #[test]
    fn mobile_numbers_in_chinese_numerals_need_the_whole_run() {
        let lex = crate::Lexicon::shipped().unwrap();
        let patterns: Vec<&str> = lex.regex_rules().iter().map(|r| r.pattern.as_str()).collect();
        let gate = RegexGate::new(patterns.iter().copied());
        let chinese = patterns
            .iter()
            .position(|p| p.starts_with("(?:^|[^0-9零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖])[一幺壹]"))
            .unwrap();
        let mixed = patterns
            .iter()
            .position(|p| p.starts_with("(?:^|[^0-9零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖])1[3-9]"))
            .unwrap();
        // Numerals all over a text, but never eleven in a row: neither rule runs.
        let plain = "一个人买了三个苹果，花了五元；二〇二四年十二月，第一百二十三号。";
        let found = all(&gate, plain);
        assert!(!found.contains(&chinese) && !found.contains(&mixed), "{found:?}");
        // Numerals are the only characters of the text with a lead byte of a literal's.
        assert!(all(&gate, "一三八一二三四五六七八").contains(&chinese));
        assert!(all(&gate, "138幺二34五678").contains(&mixed));
        for (number, rule) in [("一三八一二三四五六七八", chinese), ("138幺二34五678", mixed)] {
            let text = format!("{plain}电话{number}");
            assert!(regex::Regex::new(patterns[rule]).unwrap().is_match(&text));
            assert!(all(&gate, &text).contains(&rule), "{number}: {:?}", all(&gate, &text));
        }
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
        /// The same gate taking the pass by character on any text with a literal's lead byte.
        static BY_CHARS: LazyLock<RegexGate> = LazyLock::new(|| {
            let mut gate = RegexGate::new(PATTERNS.iter().map(String::as_str));
            gate.lead_share = usize::MAX;
            gate
        });
        /// The same gate without its index by character: the automaton and a pass per run.
        static BY_BYTES: LazyLock<RegexGate> = LazyLock::new(|| {
            let mut gate = RegexGate::new(PATTERNS.iter().map(String::as_str));
            assert!(gate.chars.take().is_some());
            gate
        });

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
                "[0-9]{5}",
                "1[3-9][0-9零一三]{4}x",
                "(?:a|[0-9]{2})[0-9]{3}",
                "加[0-9一]{5,}",
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
                                     零|三|百家乐|网址|群号|联系|wx|13|138|赌场|vip|K|ж|é|ي|網|5678|一三八|幺|二三|九九九|\
                                     0000|加v|加微|找我|😀"
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
                // All ways through the literals let the same rules through.
                prop_assert_eq!(&super::all(&BY_BYTES, &t), &cand);
                prop_assert_eq!(&super::all(&BY_CHARS, &t), &cand);
            }
        }
    }
}
