//! The matching engine seam: leftmost-longest multi-pattern search over normalized text.
//!
//! Everything above this module sees only [`Engine`]. The double-array engine walks a trie of
//! its own from each position ([`trie_walk`]) and hands deep walks to `daachorse` (a charwise
//! double-array Aho-Corasick automaton); the other engine wraps `aho-corasick`. So the two can
//! be swapped and measured against each other. The default, [`EngineKind::Auto`], uses each
//! where it is fast: the double array on CJK text, and on mostly-ASCII text a DFA, when the
//! patterns include enough Latin ones to slow the double array down and are few enough for a
//! DFA.
//!
//! Why (measured on 0.7 MB of English JSON and 11.5 MB of Chinese news, see the note in
//! [`Auto`]): the double array walks its failure links on every mismatch, which on Latin text
//! full of Latin and pinyin patterns costs it ~90 MB/s, where a DFA makes one table lookup per
//! byte (~300 MB/s). On Chinese text the double array runs at ~230 MB/s whatever the number of
//! patterns, while a DFA's table outgrows the caches (10k Chinese terms: 27 MB, 77 MB/s).

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};

use crate::error::{Error, ErrorKind};

mod trie_walk;

use trie_walk::{BUDGET, Budget, TrieWalk};

/// Which automaton runs the search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EngineKind {
    /// The double array, with DFAs for text that is mostly not Chinese, Japanese or Korean
    /// when the patterns hold enough Latin ones and are few enough: one over the patterns
    /// without a CJK character for text without one, one over all for the rest (each is built
    /// once it would have paid for itself, or by `Filter::warm_up`).
    #[default]
    Auto,
    /// A double-array trie walked from each position, with `daachorse`'s charwise automaton
    /// behind it for deep walks: fastest on Chinese, and no DFA.
    DoubleArray,
    /// `aho-corasick`'s automaton (it picks NFA or DFA by size).
    AhoCorasick,
}

/// What a match visitor wants next.
pub(crate) enum Next {
    /// Go on after this match.
    Continue,
    /// Search again from this offset (a char boundary).
    RestartAt(usize),
}

/// A compiled set of patterns.
pub(crate) trait Engine: Send + Sync + fmt::Debug {
    /// Calls `f(start, end, value)` for each leftmost-longest, non-overlapping match from `at`
    /// (a char boundary of `hay`) on, in order; `value` is the one given with the pattern.
    fn for_each_match(&self, hay: &str, at: usize, f: &mut dyn FnMut(usize, usize, u32) -> Next);
    /// Heap memory held.
    fn heap_bytes(&self) -> usize;
    /// Builds what would otherwise be built later.
    fn warm_up(&self) {}
}

/// Compiles `patterns`; a match of `patterns[i]` reports `values[i]`.
pub(crate) fn build(kind: EngineKind, patterns: &[String], values: &[u32]) -> Result<Box<dyn Engine>, Error> {
    debug_assert_eq!(patterns.len(), values.len());
    Ok(match kind {
        EngineKind::Auto => Box::new(Auto::build(patterns, values)?),
        EngineKind::DoubleArray => Box::new(DoubleArray::build(patterns, values)?),
        EngineKind::AhoCorasick => Box::new(AhoCorasickEngine::build(patterns, values)?),
    })
}

/// The double-array engine: a trie walked from each position ([`TrieWalk`]), which, once its
/// walks have gone deep too often, hands the rest of the haystack to `daachorse`'s charwise
/// automaton (linear time on any input). The automaton is built from the walk's patterns the
/// first time a walk hands over (text with short terms never makes it), or by
/// [`Engine::warm_up`]; when there is no walk (patterns it does not take), at once.
///
/// Measured against the automaton alone (2026-12-06, 2-vCPU AMD EPYC, full check per
/// ~240-byte message of the benches' Chinese corpus, best of 5): 1k jieba terms 1.53–1.55×,
/// 10k 1.19–1.29×, 20k 1.11–1.16×, 30k 1.08–1.12×, 50k 1.00–1.15×; the shipped lexicon 1.39×
/// on Chinese and 0.96× on English (where `Auto` switches to a DFA). Until the automaton is
/// needed it also holds less memory and builds faster (`bench-report`: 10k terms 504 KiB
/// against 676, 50k terms 1.5 MiB against 2.9 and 56 ms against 88).
struct DoubleArray {
    walk: Option<TrieWalk>,
    automaton: OnceLock<Option<CharwiseDoubleArrayAhoCorasick<u32>>>,
    /// [`BUDGET`], lowered in tests.
    budget: Budget,
}

impl fmt::Debug for DoubleArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoubleArray").field("heap_bytes", &self.heap_bytes()).finish()
    }
}

/// `daachorse`'s charwise automaton over `patterns`, leftmost-longest.
fn automaton_of(patterns: &[String], values: &[u32]) -> Result<CharwiseDoubleArrayAhoCorasick<u32>, Error> {
    CharwiseDoubleArrayAhoCorasickBuilder::new()
        .match_kind(daachorse::MatchKind::LeftmostLongest)
        // Measured: the 2-gram prefilter does not speed up whole buffers of Chinese text and
        // slows short messages by ~20%; it also costs 64 KiB.
        .use_prefilter(false)
        .build_with_values(patterns.iter().map(String::as_str).zip(values.iter().copied()))
        .map_err(|e| Error::new(ErrorKind::Build, format!("building the matcher: {e}")))
}

impl DoubleArray {
    fn build(patterns: &[String], values: &[u32]) -> Result<DoubleArray, Error> {
        let automaton = OnceLock::new();
        let walk = if patterns.is_empty() { None } else { TrieWalk::build(patterns, values) };
        if walk.is_none() && !patterns.is_empty() {
            let _ = automaton.set(Some(automaton_of(patterns, values)?));
        }
        Ok(DoubleArray { walk, automaton, budget: BUDGET })
    }

    /// The automaton, built now from the walk's patterns if it is not built yet. `None` if
    /// that build fails, which leaves the walk to finish the haystack.
    fn automaton(&self) -> Option<&CharwiseDoubleArrayAhoCorasick<u32>> {
        self.automaton
            .get_or_init(|| {
                let (patterns, values) = self.walk.as_ref()?.patterns();
                automaton_of(&patterns, &values).ok()
            })
            .as_ref()
    }
}

impl Engine for DoubleArray {
    fn for_each_match(&self, hay: &str, mut at: usize, f: &mut dyn FnMut(usize, usize, u32) -> Next) {
        if let Some(walk) = &self.walk {
            match walk.walk(hay, at, self.budget, f) {
                None => return,
                Some(rest) => at = rest,
            }
        }
        let Some(pma) = self.automaton() else {
            // No automaton after all: the walk finishes, without a budget.
            if let Some(walk) = &self.walk {
                walk.walk(hay, at, Budget { base: usize::MAX, per_byte: 0 }, f);
            }
            return;
        };
        'search: loop {
            for m in pma.leftmost_find_iter(&hay[at..]) {
                match f(at + m.start(), at + m.end(), m.value()) {
                    Next::Continue => {}
                    Next::RestartAt(next) => {
                        at = next;
                        continue 'search;
                    }
                }
            }
            return;
        }
    }

    fn warm_up(&self) {
        self.automaton();
    }

    fn heap_bytes(&self) -> usize {
        self.automaton.get().and_then(Option::as_ref).map_or(0, |p| p.heap_bytes())
            + self.walk.as_ref().map_or(0, TrieWalk::heap_bytes)
    }
}

/// aho-corasick reports pattern indexes: `values` maps them to the values given.
#[derive(Debug)]
struct AhoCorasickEngine(Option<AhoCorasick>, Vec<u32>);

impl AhoCorasickEngine {
    fn build(patterns: &[String], values: &[u32]) -> Result<AhoCorasickEngine, Error> {
        AhoCorasickEngine::build_kind(patterns, values, None)
    }

    /// With `kind` forced (`None`: aho-corasick picks by size).
    fn build_kind(
        patterns: &[String],
        values: &[u32],
        kind: Option<AhoCorasickKind>,
    ) -> Result<AhoCorasickEngine, Error> {
        if patterns.is_empty() {
            return Ok(AhoCorasickEngine(None, Vec::new()));
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(kind)
            // A forced DFA runs on text where most bytes start some pattern: a prefilter
            // would only add its own work (measured: within noise, or slower).
            .prefilter(kind.is_none())
            .build(patterns)
            .map_err(|e| Error::new(ErrorKind::Build, format!("building the matcher: {e}")))?;
        Ok(AhoCorasickEngine(Some(ac), values.to_vec()))
    }
}

impl Engine for AhoCorasickEngine {
    fn for_each_match(&self, hay: &str, mut at: usize, f: &mut dyn FnMut(usize, usize, u32) -> Next) {
        let Some(ac) = &self.0 else { return };
        'search: loop {
            for m in ac.find_iter(Input::new(hay).range(at..)) {
                match f(m.start(), m.end(), self.1[m.pattern().as_usize()]) {
                    Next::Continue => {}
                    Next::RestartAt(next) => {
                        at = next;
                        continue 'search;
                    }
                }
            }
            return;
        }
    }

    fn heap_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |a| a.memory_usage()) + self.1.len() * 4
    }
}

/// Patterns that begin with an ASCII byte before a DFA is worth building: a few Latin terms do
/// not slow the double array down.
const AUTO_MIN_ASCII_PATTERNS: usize = 32;

/// The largest DFA [`Auto`] builds, estimated before building it as states (at most the
/// pattern bytes) × byte classes (at most the distinct pattern bytes + 1) × 4 bytes.
/// The shipped lexicon's 9,967 patterns: estimate 48 MiB, DFA 28 MiB, built in ~120 ms.
const AUTO_MAX_DFA_BYTES: usize = 64 << 20;

/// Share of bytes (in 1/256) in CJK characters below which a haystack goes to the DFA: 1/8.
const AUTO_CJK_SHARE: usize = 32;

/// Bytes of DFA-bound haystacks the double array searches before [`Auto`] builds a DFA: the
/// DFA's estimated size ([`dfa_estimate`]) divided by this.
///
/// A DFA is built once the time the double array has spent on its haystacks beyond what the
/// DFA would have spent equals the build's: the ski-rental rule, which at the break-even never
/// costs more than twice the better choice made in hindsight. The build's time follows the
/// DFA's size, and the estimate bounds that. Measured (2026-12-07, 2-vCPU Intel Xeon, shipped
/// lexicon, 3 runs): the DFA over the 2,493 patterns without a CJK character (estimate 4.8 MB)
/// builds in 20–22 ms and saves ~8 ms per MB of text (the double array ~90 MB/s, the DFA
/// ~385): worth it after ~2.5 MB, where this builds it after 1.6 MB. The DFA over all 9,967
/// (estimate 50.7 MB) builds in 101–105 ms and saves ~7.7 ms per MB: worth it after ~13 MB,
/// where this says 16.9 MB. A one-shot check of a short text never pays for either; a daemon
/// calls [`Engine::warm_up`] at start instead.
const AUTO_BUILD_AFTER_DIVISOR: usize = 3;

/// [`EngineKind::Auto`]: the double array, and for haystacks that are mostly not CJK an
/// aho-corasick DFA over the same patterns, built once enough such haystacks have been searched
/// to pay for it (see [`AUTO_BUILD_AFTER_DIVISOR`]; or by [`Engine::warm_up`]). Both report the
/// same leftmost-longest matches with the same values, so which one ran is invisible above this
/// module.
///
/// Measured with the shipped lexicon (9,967 patterns), each automaton alone over text already
/// normalized, median of 7: on English JSON the double array runs at 90–96 MB/s and the DFA
/// at 300–320; on Chinese news, 250–260 and 280–320. With 10k Chinese terms: on Chinese news
/// 240–280 and 71–77 (the DFA is 27 MB); on English JSON 380–690 and 480–570.
///
/// So CJK text goes to the double array, which stays fast with large Chinese lists, and the
/// rest to a DFA. That rest is not only ASCII: in the translation files of a web
/// application (Cyrillic, Arabic, Devanagari, …, one file per language), bytes outside every
/// pattern keep the DFA near its start state, where the double array decodes and looks up
/// each character. `bench-report --text` over 20 MB of MediaWiki's message files, one
/// document per file, medians of 3 rounds in 2 interleaved pairs: the whole check took
/// 296–300 ms of CPU time with this rule and 316–352 ms when such files went to the double
/// array (before, only mostly-ASCII text went to the DFA).
///
/// A haystack without a single CJK character (most Latin text) goes to a smaller DFA over
/// only the patterns that hold none: a pattern that does cannot match there. For the shipped
/// lexicon that is 2,493 patterns and 4.7 MB, built in ~15 ms, against 9,967 patterns and
/// 27 MB for the whole set, and it searches 10–25 % faster (lowered English text and
/// MediaWiki's message files without their CJK characters, medians of 7 in 3 rounds: 381–389
/// against 276–344 MB/s, and 422–439 against 317–394). The whole DFA is then only built for
/// text mostly not CJK that holds some.
struct Auto {
    da: DoubleArray,
    /// Over every pattern: for haystacks mostly not CJK that hold a CJK character.
    full: LazyDfa,
    /// Over the patterns without a CJK character: for haystacks without one.
    latin: LazyDfa,
}

impl fmt::Debug for Auto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auto")
            .field("heap_bytes", &self.heap_bytes())
            .field("full", &self.full)
            .field("latin", &self.latin)
            .finish()
    }
}

/// A DFA built when first worth it: once `build_after` bytes of the haystacks it is for have
/// been searched without it.
struct LazyDfa {
    /// What the DFA is built from, when it is worth building.
    source: Option<(Vec<String>, Vec<u32>)>,
    dfa: OnceLock<Option<AhoCorasickEngine>>,
    /// Bytes of haystacks for this DFA searched so far without it.
    seen: AtomicUsize,
    /// Bytes of haystacks after which it is built (see [`AUTO_BUILD_AFTER_DIVISOR`]);
    /// lowered in tests.
    build_after: usize,
    /// Set by the search that builds the DFA once it is worth it. Searches in other threads
    /// meanwhile go on with the double array rather than wait for the build (20–100 ms with
    /// the shipped lexicon: a parallel site scan lost a core for that long, a service a
    /// request's worth of latency on every worker).
    building: AtomicBool,
}

impl fmt::Debug for LazyDfa {
    /// `None` when not worth building, else whether it is built.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.source.as_ref().map(|_| self.dfa.get().is_some()).fmt(f)
    }
}

impl LazyDfa {
    /// A DFA over the `(pattern, value)` pairs if there are enough Latin patterns to slow the
    /// double array down and few enough bytes for a DFA. The pairs are copied only then.
    fn new<'p>(pairs: impl Iterator<Item = (&'p String, &'p u32)> + Clone) -> LazyDfa {
        let ascii_led = pairs.clone().filter(|(p, _)| p.as_bytes().first().is_some_and(u8::is_ascii)).count();
        let estimate = dfa_estimate(pairs.clone().map(|(p, _)| p.as_str()));
        let worth = ascii_led >= AUTO_MIN_ASCII_PATTERNS && estimate <= AUTO_MAX_DFA_BYTES;
        LazyDfa {
            source: worth.then(|| pairs.map(|(p, &v)| (p.clone(), v)).unzip()),
            dfa: OnceLock::new(),
            seen: AtomicUsize::new(0),
            build_after: estimate / AUTO_BUILD_AFTER_DIVISOR,
            building: AtomicBool::new(false),
        }
    }

    /// The DFA for a haystack of `len` bytes, if it is built or now worth building.
    fn for_hay(&self, len: usize) -> Option<&AhoCorasickEngine> {
        self.source.as_ref()?;
        if let Some(built) = self.dfa.get() {
            return built.as_ref();
        }
        if self.seen.fetch_add(len, Relaxed).saturating_add(len) < self.build_after {
            return None;
        }
        if self.building.swap(true, Relaxed) {
            // Another search is building it (or has just built it).
            return self.dfa.get().and_then(Option::as_ref);
        }
        self.build()
    }

    /// The DFA, built now if it is worth building and not built yet.
    fn build(&self) -> Option<&AhoCorasickEngine> {
        let (patterns, values) = self.source.as_ref()?;
        self.dfa
            .get_or_init(|| {
                // A DFA that does not build (it cannot, under the estimate) leaves the double
                // array in charge rather than failing a check.
                AhoCorasickEngine::build_kind(patterns, values, Some(AhoCorasickKind::DFA)).ok()
            })
            .as_ref()
    }

    fn heap_bytes(&self) -> usize {
        let source =
            self.source.as_ref().map_or(0, |(p, v)| p.iter().map(String::capacity).sum::<usize>() + v.len() * 4);
        source + self.dfa.get().and_then(Option::as_ref).map_or(0, Engine::heap_bytes)
    }
}

impl Auto {
    fn build(patterns: &[String], values: &[u32]) -> Result<Auto, Error> {
        let da = DoubleArray::build(patterns, values)?;
        let pairs = patterns.iter().zip(values);
        Ok(Auto { da, full: LazyDfa::new(pairs.clone()), latin: LazyDfa::new(pairs.filter(|(p, _)| !holds_cjk(p))) })
    }

    /// The DFA, if this haystack should use one.
    fn dfa_for(&self, hay: &str) -> Option<&AhoCorasickEngine> {
        let leads = cjk_leads(hay.as_bytes());
        if !is_mostly_not_cjk(leads, hay.len()) {
            return None;
        }
        if leads == 0 && self.latin.source.is_some() {
            return self.latin.for_hay(hay.len());
        }
        self.full.for_hay(hay.len())
    }
}

/// Whether `pattern` holds a CJK character (see [`cjk_leads`]): it cannot match a haystack
/// that holds none.
fn holds_cjk(pattern: &str) -> bool {
    cjk_leads(pattern.as_bytes()) != 0
}

/// An upper bound of the memory of a DFA over `patterns` (see [`AUTO_MAX_DFA_BYTES`]).
fn dfa_estimate<'p>(patterns: impl Iterator<Item = &'p str>) -> usize {
    let mut seen = [false; 256];
    let mut states = 1usize;
    for p in patterns {
        states = states.saturating_add(p.len());
        for &b in p.as_bytes() {
            seen[usize::from(b)] = true;
        }
    }
    let classes = seen.iter().filter(|&&s| s).count() + 1;
    states.saturating_mul(classes).saturating_mul(4)
}

/// How many bytes of `hay` are lead bytes E3–E9: the characters of U+3000–U+9FFF (CJK
/// punctuation, kana, Hangul compatibility jamo, Han), three bytes each. Hangul syllables
/// (EA–ED) are not counted: no shipped term holds one.
fn cjk_leads(hay: &[u8]) -> usize {
    count_bytes_in(hay, 0xE3, 0xE9)
}

/// How many bytes of `hay` are in `lo..=hi`.
#[inline]
pub(crate) fn count_bytes_in(hay: &[u8], lo: u8, hi: u8) -> usize {
    // Counted in byte lanes over chunks of 255 bytes (no lane overflows): the compiler
    // vectorizes this to 2.5 GB/s here, where counting into `usize` lanes ran at 1.
    let width = hi.wrapping_sub(lo);
    hay.chunks(255)
        .map(|c| usize::from(c.iter().fold(0u8, |n, &b| n.wrapping_add(u8::from(b.wrapping_sub(lo) <= width)))))
        .sum()
}

/// Whether a haystack of `len` bytes with `leads` [`cjk_leads`] has less than
/// [`AUTO_CJK_SHARE`]/256 of its bytes in CJK characters.
fn is_mostly_not_cjk(leads: usize, len: usize) -> bool {
    leads * 3 * 256 < len * AUTO_CJK_SHARE
}

/// Whether less than [`AUTO_CJK_SHARE`]/256 of `hay`'s bytes are in CJK characters (see
/// [`cjk_leads`]).
#[cfg(test)]
fn mostly_not_cjk(hay: &[u8]) -> bool {
    is_mostly_not_cjk(cjk_leads(hay), hay.len())
}

impl Engine for Auto {
    fn for_each_match(&self, hay: &str, at: usize, f: &mut dyn FnMut(usize, usize, u32) -> Next) {
        match self.dfa_for(&hay[at..]) {
            Some(dfa) => dfa.for_each_match(hay, at, f),
            None => self.da.for_each_match(hay, at, f),
        }
    }

    fn warm_up(&self) {
        self.full.build();
        self.latin.build();
        self.da.warm_up();
    }

    fn heap_bytes(&self) -> usize {
        self.da.heap_bytes() + self.full.heap_bytes() + self.latin.heap_bytes()
    }
}

/// Allow phrases: every occurrence, overlapping, inside a window.
#[derive(Debug)]
pub(crate) struct AllowSet {
    ac: Option<AhoCorasick>,
    /// Longest phrase in bytes.
    pub max_len: usize,
}

impl AllowSet {
    pub(crate) fn build(patterns: &[String]) -> Result<AllowSet, Error> {
        let max_len = patterns.iter().map(String::len).max().unwrap_or(0);
        if patterns.is_empty() {
            return Ok(AllowSet { ac: None, max_len });
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .map_err(|e| Error::new(ErrorKind::Build, format!("building the allowlist: {e}")))?;
        Ok(AllowSet { ac: Some(ac), max_len })
    }

    /// Calls `f` with `(start, end, phrase)` for every phrase occurrence inside `window`;
    /// stops when `f` returns `true`, and returns whether it did.
    pub(crate) fn any_in(
        &self,
        hay: &str,
        window: (usize, usize),
        mut f: impl FnMut(usize, usize, u32) -> bool,
    ) -> bool {
        let Some(ac) = &self.ac else { return false };
        ac.find_overlapping_iter(Input::new(hay).range(window.0..window.1))
            .any(|m| f(m.start(), m.end(), m.pattern().as_u32()))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.ac.as_ref().map_or(0, |a| a.memory_usage())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_agree_on_leftmost_longest() {
        let pats: Vec<String> =
            ["赌博", "赌博网", "博彩", "free money", "money"].iter().map(|s| s.to_string()).collect();
        let hay = "在赌博网站博彩 free money";
        for kind in [EngineKind::Auto, EngineKind::DoubleArray, EngineKind::AhoCorasick] {
            let values: Vec<u32> = (0..pats.len() as u32).collect();
            let e = build(kind, &pats, &values).unwrap();
            let mut found = Vec::new();
            e.for_each_match(hay, 0, &mut |s, t, p| {
                found.push((&hay[s..t], p));
                Next::Continue
            });
            assert_eq!(found, [("赌博网", 1), ("博彩", 2), ("free money", 3)], "{kind:?}");
            // Restarting inside a match finds the shorter overlapping one.
            let mut restarted = Vec::new();
            e.for_each_match(hay, 0, &mut |s, t, _| {
                restarted.push(&hay[s..t]);
                if restarted.len() == 1 { Next::RestartAt(s + "赌博".len()) } else { Next::Continue }
            });
            assert_eq!(restarted, ["赌博网", "博彩", "free money"], "{kind:?}");
        }
    }

    impl LazyDfa {
        /// A DFA over `patterns` however few they are.
        fn forced(patterns: Vec<String>, values: Vec<u32>) -> LazyDfa {
            LazyDfa {
                source: Some((patterns, values)),
                dfa: OnceLock::new(),
                seen: AtomicUsize::new(0),
                build_after: 0,
                building: AtomicBool::new(false),
            }
        }

        fn is_built(&self) -> bool {
            self.dfa.get().is_some_and(Option::is_some)
        }
    }

    #[test]
    fn a_search_does_not_wait_for_a_dfa_another_is_building() {
        let pats: Vec<String> = (0..40).map(|i| format!("w{i}x")).collect();
        let values: Vec<u32> = (0..40).collect();
        let dfa = LazyDfa::forced(pats.clone(), values.clone());
        // As if another thread had begun the build: this search goes on without the DFA.
        dfa.building.store(true, Relaxed);
        assert!(dfa.for_hay(100).is_none());
        assert!(!dfa.is_built());
        // Once built, every search uses it.
        assert!(dfa.build().is_some());
        assert!(dfa.for_hay(100).is_some());
        // The first search past the threshold builds it.
        let dfa = LazyDfa::forced(pats, values);
        assert!(dfa.for_hay(100).is_some());
    }

    #[test]
    fn auto_uses_the_dfas_on_text_mostly_not_cjk_and_agrees_with_the_double_array() {
        // Enough Latin patterns for a DFA, overlapping each other and some CJK ones.
        let mut pats: Vec<String> = (0..40).map(|i| format!("w{i}x")).collect();
        pats.extend(["free", "free money", "money", "赌博", "赌博网", "av女优", "av", "「av」"].map(String::from));
        let values: Vec<u32> = (0..pats.len() as u32).map(|v| v * 3).collect();
        let mut auto = Auto::build(&pats, &values).unwrap();
        let da = DoubleArray::build(&pats, &values).unwrap();
        assert_eq!(auto.full.source.as_ref().map(|s| s.0.len()), Some(48));
        // The smaller DFA holds the patterns without a CJK character, with their values.
        let latin = auto.latin.source.as_ref().unwrap();
        assert_eq!(latin.0.len(), 44);
        assert!(
            latin.0.iter().zip(&latin.1).all(|(p, &v)| !p.contains(['赌', '女', '「']) && pats[v as usize / 3] == *p)
        );
        // Each DFA is built for a third of its estimated size in text, so the smaller one
        // sooner.
        assert_eq!(auto.full.build_after, dfa_estimate(pats.iter().map(String::as_str)) / 3);
        assert!(auto.latin.build_after < auto.full.build_after);
        // Here each comes once more than the first hay's bytes of text for it are searched.
        (auto.full.build_after, auto.latin.build_after) = (60, 60);

        let mixed = "get free money now w1x w12x w39x free moneyw3x av女优 avx";
        let latin = "free mone free money w7x";
        let hays = [
            mixed,
            latin,
            "赌博网站 free money 赌博", // mostly CJK: the double array
            "",
        ];
        let run = |e: &dyn Engine, hay: &str, restart: bool| matches_of(e, hay, usize::from(restart));
        for (i, hay) in hays.iter().enumerate() {
            for restart in [false, true] {
                assert_eq!(run(&auto, hay, restart), run(&da, hay, restart), "{hay:?} restart={restart}");
                if i == 0 && !restart {
                    assert!(!auto.full.is_built(), "built before 60 bytes");
                }
            }
        }
        assert!(auto.full.is_built(), "built after 60 bytes");
        assert_eq!(auto.full.seen.load(Relaxed), 2 * mixed.len(), "counted until built");
        // Text without a CJK character counts for the smaller DFA only.
        assert!(!auto.latin.is_built());
        assert_eq!(auto.latin.seen.load(Relaxed), 2 * latin.len());
        assert_eq!(run(&auto, latin, false), run(&da, latin, false));
        assert!(auto.latin.is_built());
        let picked = |hay: &str| auto.dfa_for(hay).map(|d| d as *const AhoCorasickEngine);
        let dfa_of = |l: &LazyDfa| l.dfa.get().and_then(Option::as_ref).map(|d| d as *const AhoCorasickEngine);
        assert_eq!(picked(latin), dfa_of(&auto.latin));
        assert_eq!(picked(mixed), dfa_of(&auto.full));
        assert_eq!(picked(hays[2]), None);
        // Text that is mostly CJK does not count.
        let mut cjk = Auto::build(&pats, &values).unwrap();
        (cjk.full.build_after, cjk.latin.build_after) = (1, 1);
        run(&cjk, hays[2], false);
        assert!(!cjk.full.is_built() && !cjk.latin.is_built());
        let warmed = Auto::build(&pats, &values).unwrap();
        warmed.warm_up();
        assert!(warmed.full.is_built() && warmed.latin.is_built());
    }

    #[test]
    fn text_mostly_not_cjk_goes_to_the_dfa() {
        for hay in ["Настройки сохранены", "सेटिंग्स सहेजी गईं", "설정이 저장되었습니다", "الإعدادات", "free money"]
        {
            assert!(mostly_not_cjk(hay.as_bytes()), "{hay}");
        }
        for hay in ["設定を保存しました", "赌博网站 free", "「」"] {
            assert!(!mostly_not_cjk(hay.as_bytes()), "{hay}");
        }
        // The line is at one byte in eight: one Han character (three bytes) in 24 bytes is
        // CJK enough, in 25 it is not.
        assert!(!mostly_not_cjk(format!("赌{}", "a".repeat(21)).as_bytes()));
        assert!(mostly_not_cjk(format!("赌{}", "a".repeat(22)).as_bytes()));
        // Counted over many chunks: 300 of 2,700 bytes (11 %) and 360 of 2,760 (13 %).
        assert!(mostly_not_cjk(format!("{}{}", "赌".repeat(100), "a".repeat(2400)).as_bytes()));
        assert!(!mostly_not_cjk(format!("{}{}", "赌".repeat(120), "a".repeat(2400)).as_bytes()));
        // Invalid UTF-8 and lone lead bytes are only bytes.
        assert!(mostly_not_cjk(b"free money \xe8\xb5\x8c and some more text"));
    }

    /// Every match of `e` over `hay`, restarting one character into every `restart_every`-th.
    fn matches_of(e: &dyn Engine, hay: &str, restart_every: usize) -> Vec<(usize, usize, u32)> {
        let mut found = Vec::new();
        e.for_each_match(hay, 0, &mut |s, t, v| {
            found.push((s, t, v));
            if restart_every != 0 && found.len() % restart_every == 0 {
                Next::RestartAt(s + hay[s..].chars().next().map_or(1, char::len_utf8))
            } else {
                Next::Continue
            }
        });
        found
    }

    proptest::proptest! {
        /// The double array and aho-corasick find the same leftmost-longest matches, with and
        /// without restarts, on a small alphabet where patterns overlap, nest and pile up. The
        /// double array's walk gets a budget from none to plenty, so that it hands the
        /// haystack over to the automaton anywhere, or not at all.
        #[test]
        fn double_array_and_aho_corasick_agree(
            pats in proptest::collection::btree_set("[ab赌博x😀]{1,6}", 1..40),
            hay in "[ab赌博xy😀 ]{0,300}",
            restart_every in 0usize..4,
            budget_base in 0usize..48,
            per_byte in 0usize..2,
        ) {
            let pats: Vec<String> = pats.into_iter().collect();
            let values: Vec<u32> = (0..pats.len() as u32).map(|v| v * 7 + 1).collect();
            let mut da = DoubleArray::build(&pats, &values).unwrap();
            proptest::prop_assert!(da.walk.is_some());
            let ac = AhoCorasickEngine::build(&pats, &values).unwrap();
            let expected = matches_of(&ac, &hay, restart_every);
            proptest::prop_assert_eq!(&matches_of(&da, &hay, restart_every), &expected);
            da.budget = Budget { base: budget_base, per_byte };
            proptest::prop_assert_eq!(&matches_of(&da, &hay, restart_every), &expected);
        }
    }

    proptest::proptest! {
        /// `Auto` with both DFAs built from the first byte finds what aho-corasick finds, on
        /// text with and without CJK characters and patterns with and without them.
        #[test]
        fn auto_and_aho_corasick_agree(
            pats in proptest::collection::btree_set("[ab赌x😀]{1,5}", 1..40),
            hay in proptest::prop_oneof!["[abxy😀 ]{0,300}", "[ab赌xy😀 ]{0,300}", "[ab赌xy😀 ]{0,10}[abxy ]{0,200}"],
            restart_every in 0usize..4,
        ) {
            let pats: Vec<String> = pats.into_iter().collect();
            let values: Vec<u32> = (0..pats.len() as u32).map(|v| v * 5 + 2).collect();
            let mut auto = Auto::build(&pats, &values).unwrap();
            let (latin, latin_values) =
                pats.iter().zip(&values).filter(|(p, _)| !holds_cjk(p)).map(|(p, &v)| (p.clone(), v)).unzip();
            auto.full = LazyDfa::forced(pats.clone(), values.clone());
            auto.latin = LazyDfa::forced(latin, latin_values);
            let ac = AhoCorasickEngine::build(&pats, &values).unwrap();
            proptest::prop_assert_eq!(matches_of(&auto, &hay, restart_every), matches_of(&ac, &hay, restart_every));
        }
    }

    #[test]
    fn double_array_hands_deep_walks_to_the_automaton() {
        // Every position follows the pattern 40 characters deep: the walk gives up, and the
        // automaton finds the match at the end.
        let pats = vec![format!("{}b", "a".repeat(40)), "ab".to_owned()];
        let da = DoubleArray::build(&pats, &[1, 2]).unwrap();
        let hay = format!("{}b", "a".repeat(20_000));
        let walk = da.walk.as_ref().unwrap();
        assert!(walk.walk(&hay, 0, BUDGET, &mut |_, _, _| Next::Continue).is_some());
        // The automaton is built when a walk first hands over, not before.
        assert_eq!(matches_of(&da, "aaab", 0), [(2, 4, 2)]);
        assert!(da.automaton.get().is_none());
        assert_eq!(matches_of(&da, &hay, 0), [(20_000 - 40, 20_001, 1)]);
        assert!(da.automaton.get().is_some_and(Option::is_some));
        // Chinese text with short terms stays well inside the budget.
        let pats: Vec<String> = ["赌博", "赌博网", "博彩", "网站"].map(String::from).to_vec();
        let da = DoubleArray::build(&pats, &[1, 2, 3, 4]).unwrap();
        let hay = "在赌博网站看博彩，".repeat(1000);
        let mut n = 0;
        let rest = da.walk.as_ref().unwrap().walk(&hay, 0, BUDGET, &mut |_, _, _| {
            n += 1;
            Next::Continue
        });
        assert_eq!((rest, n), (None, 2000));
        assert!(da.automaton.get().is_none());
        da.warm_up();
        assert!(da.automaton.get().is_some_and(Option::is_some));
    }

    #[test]
    fn double_array_without_the_walk_still_matches() {
        // More distinct characters than 16-bit codes hold: no walk.
        let pats: Vec<String> = ('\u{10000}'..'\u{20000}').map(String::from).collect();
        let values: Vec<u32> = (0..pats.len() as u32).collect();
        assert!(TrieWalk::build(&pats, &values).is_none());
        // The automaton alone then searches.
        let pats: Vec<String> = ["赌博", "\u{10001}"].map(String::from).to_vec();
        let mut da = DoubleArray::build(&pats, &[7, 8]).unwrap();
        da.warm_up();
        da.walk = None;
        assert_eq!(matches_of(&da, "x赌博\u{10001}", 0), [(1, 7, 7), (7, 11, 8)]);
    }

    #[test]
    fn double_array_takes_the_longest_at_each_start() {
        // `a`, `aa`, … `aaaa` over 10,001 `a`s: the pick is `aaaa` after `aaaa`, then `a`.
        let pats: Vec<String> = (1..=4).map(|n| "a".repeat(n)).collect();
        let da = DoubleArray::build(&pats, &[1, 2, 3, 4]).unwrap();
        let hay = "a".repeat(10_001);
        let found = matches_of(&da, &hay, 0);
        assert_eq!(found.len(), 2501);
        assert!(found[..2500].iter().enumerate().all(|(i, &m)| m == (4 * i, 4 * i + 4, 4)));
        assert_eq!(found[2500], (10_000, 10_001, 1));
        // Restarting one character into each match finds one at every position.
        assert_eq!(matches_of(&da, &hay, 1).len(), 10_001);
    }

    #[test]
    fn auto_builds_no_dfa_for_few_latin_patterns() {
        let pats: Vec<String> = ["赌博", "博彩", "free money"].map(String::from).to_vec();
        let auto = Auto::build(&pats, &[0, 1, 2]).unwrap();
        assert!(auto.full.source.is_none() && auto.latin.source.is_none());
        let mut n = 0;
        auto.for_each_match("free money free money", 0, &mut |_, _, _| {
            n += 1;
            Next::Continue
        });
        assert_eq!(n, 2);
        auto.warm_up();
        assert!(auto.full.dfa.get().is_none() && auto.latin.dfa.get().is_none());
    }
}
