//! The matching engine seam: leftmost-longest multi-pattern search over normalized text.
//!
//! Everything above this module sees only [`Engine`]; the implementations wrap `daachorse`
//! (a charwise double-array Aho-Corasick automaton, the default) and `aho-corasick`, so the
//! two can be swapped and measured against each other.

use std::fmt;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};

use crate::error::{Error, ErrorKind};

/// Which automaton runs the search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EngineKind {
    /// `daachorse`'s charwise double-array automaton: fastest on Chinese, compact.
    #[default]
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
}

/// Compiles `patterns`; a match of `patterns[i]` reports `values[i]`.
pub(crate) fn build(kind: EngineKind, patterns: &[String], values: &[u32]) -> Result<Box<dyn Engine>, Error> {
    debug_assert_eq!(patterns.len(), values.len());
    Ok(match kind {
        EngineKind::DoubleArray => Box::new(DoubleArray::build(patterns, values)?),
        EngineKind::AhoCorasick => Box::new(AhoCorasickEngine::build(patterns, values)?),
    })
}

struct DoubleArray(Option<CharwiseDoubleArrayAhoCorasick<u32>>);

impl fmt::Debug for DoubleArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoubleArray").field("heap_bytes", &self.heap_bytes()).finish()
    }
}

impl DoubleArray {
    fn build(patterns: &[String], values: &[u32]) -> Result<DoubleArray, Error> {
        if patterns.is_empty() {
            return Ok(DoubleArray(None));
        }
        let pma = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(daachorse::MatchKind::LeftmostLongest)
            // Measured: the 2-gram prefilter does not speed up whole buffers of Chinese text
            // and slows short messages by ~20%; it also costs 64 KiB.
            .use_prefilter(false)
            .build_with_values(patterns.iter().map(String::as_str).zip(values.iter().copied()))
            .map_err(|e| Error::new(ErrorKind::Build, format!("building the matcher: {e}")))?;
        Ok(DoubleArray(Some(pma)))
    }
}

impl Engine for DoubleArray {
    fn for_each_match(&self, hay: &str, mut at: usize, f: &mut dyn FnMut(usize, usize, u32) -> Next) {
        let Some(pma) = &self.0 else { return };
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

    fn heap_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |p| p.heap_bytes())
    }
}

/// aho-corasick reports pattern indexes: `values` maps them to the values given.
#[derive(Debug)]
struct AhoCorasickEngine(Option<AhoCorasick>, Vec<u32>);

impl AhoCorasickEngine {
    fn build(patterns: &[String], values: &[u32]) -> Result<AhoCorasickEngine, Error> {
        if patterns.is_empty() {
            return Ok(AhoCorasickEngine(None, Vec::new()));
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
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
        for kind in [EngineKind::DoubleArray, EngineKind::AhoCorasick] {
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
}
