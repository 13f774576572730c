//! Which of the webshell rules' needles a file holds, ignoring ASCII case: the prefilter that
//! decides which rules run over it.
//!
//! Every needle is found wherever it starts, also inside another (`exec` in `execute`). The
//! needles of [`PACKED_MIN`] bytes or more are searched together with `aho-corasick`'s packed
//! (Teddy, SIMD) searcher over a lowered copy of the file; each match's position is then
//! checked for every such needle starting with its byte. The shorter ones (`` ` ``, `$_`, `<?=`)
//! are each looked for with `memmem`. Over the PHP files of the benchmark tree (8,180 files,
//! 66 MB) that took 55–88 ms where one overlapping pass of an aho-corasick DFA over all the
//! needles took 158–171 ms (2-vCPU Intel Xeon, two sets of 3 rounds). With the two-byte
//! needles in the packed search too (`$_` and `${` are everywhere in PHP) it took ~265 ms, so
//! they stay out.
//! When the packed searcher cannot be built (too many needles, no SIMD on the target) or
//! there are many short needles, the DFA does it all.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind, Span, packed};
use memchr::memmem;

/// Needles at least this long go to the packed search.
const PACKED_MIN: usize = 4;
/// With more short needles than this (a pass of `memmem` each), the DFA is used instead.
const MAX_SHORT: usize = 6;

/// A compiled set of needles.
#[derive(Debug)]
pub(crate) struct Needles {
    len: usize,
    search: Search,
}

#[derive(Debug)]
enum Search {
    Packed {
        /// `None` when every needle is short.
        searcher: Option<packed::Searcher>,
        /// The packed search's needles (lower case), with their numbers.
        long: Vec<(Vec<u8>, usize)>,
        /// For each byte, the positions in `long` of the needles starting with it.
        by_first: Vec<Vec<usize>>,
        /// The other needles (lower case), with their numbers.
        short: Vec<(memmem::Finder<'static>, usize)>,
    },
    Automaton(AhoCorasick),
}

impl Search {
    /// The packed search for `needles`, unless there are too many short ones or the packed
    /// searcher will not take the long ones.
    fn packed(needles: &[String]) -> Option<Search> {
        let (long, short): (Vec<_>, Vec<_>) = needles
            .iter()
            .map(|n| n.to_ascii_lowercase().into_bytes())
            .zip(0..)
            .partition(|(n, _)| n.len() >= PACKED_MIN);
        if short.len() > MAX_SHORT {
            return None;
        }
        let searcher = if long.is_empty() {
            None
        } else {
            Some(
                packed::Config::new()
                    .match_kind(packed::MatchKind::LeftmostFirst)
                    .builder()
                    .extend(long.iter().map(|(n, _)| n))
                    .build()?,
            )
        };
        let mut by_first = vec![Vec::new(); 256];
        for (k, (n, _)) in long.iter().enumerate() {
            by_first[usize::from(n[0])].push(k);
        }
        let short = short.into_iter().map(|(n, i)| (memmem::Finder::new(&n).into_owned(), i)).collect();
        Some(Search::Packed { searcher, long, by_first, short })
    }
}

impl Needles {
    /// Needle `i` is `needles[i]`.
    pub(crate) fn new(needles: &[String]) -> Result<Needles, aho_corasick::BuildError> {
        let search = match Search::packed(needles) {
            Some(packed) => packed,
            None => Search::Automaton(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(needles)?,
            ),
        };
        Ok(Needles { len: needles.len(), search })
    }

    /// Whether `content` holds each needle, in order.
    pub(crate) fn find(&self, content: &[u8]) -> Vec<bool> {
        let mut present = vec![false; self.len];
        match &self.search {
            Search::Automaton(ac) => {
                for m in ac.find_overlapping_iter(content) {
                    present[m.pattern().as_usize()] = true;
                }
            }
            Search::Packed { searcher, long, by_first, short } => {
                let lowered = content.to_ascii_lowercase();
                if let Some(searcher) = searcher {
                    let mut at = 0;
                    // Every position where some needle starts, and there every needle that does.
                    while let Some(m) = searcher.find_in(&lowered, Span { start: at, end: lowered.len() }) {
                        let s = m.start();
                        for &k in &by_first[usize::from(lowered[s])] {
                            let (n, i) = &long[k];
                            if lowered[s..].starts_with(n) {
                                present[*i] = true;
                            }
                        }
                        at = s + 1;
                    }
                }
                for (finder, i) in short {
                    present[*i] = finder.find(&lowered).is_some();
                }
            }
        }
        present
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What one overlapping pass of a DFA says, the reference.
    fn reference(needles: &[String], content: &[u8]) -> Vec<bool> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(needles)
            .unwrap();
        let mut present = vec![false; needles.len()];
        for m in ac.find_overlapping_iter(content) {
            present[m.pattern().as_usize()] = true;
        }
        present
    }

    fn shipped_like() -> Vec<String> {
        ["eval", "exec", "execute", "system", "assert", "`", "$_", "${", "<?php", "<?=", "include", "base64_decode"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_shipped_kind_of_set_is_searched_packed_where_the_target_can() {
        let needles = shipped_like();
        let n = Needles::new(&needles).unwrap();
        #[cfg(target_arch = "x86_64")]
        assert!(matches!(n.search, Search::Packed { .. }));
        let text = b"<?PHP $x = $_GET['a']; EXECUTE(Base64_Decode($x)); // `ls`";
        let found: Vec<&str> = needles.iter().zip(n.find(text)).filter(|(_, p)| *p).map(|(s, _)| s.as_str()).collect();
        assert_eq!(found, ["exec", "execute", "`", "$_", "<?php", "base64_decode"]);
    }

    #[test]
    fn many_short_needles_go_to_the_automaton() {
        let needles: Vec<String> = (b'a'..=b'h').map(|b| format!("{}{}", b as char, b as char)).collect();
        let n = Needles::new(&needles).unwrap();
        assert!(matches!(n.search, Search::Automaton(_)));
        assert_eq!(n.find(b"xxAAyyhh"), reference(&needles, b"xxAAyyhh"));
    }

    proptest! {
        /// Texts made of the needles' pieces in any case agree with the reference, whether the
        /// set has short needles, only long ones, needles inside others or an empty one.
        #[test]
        fn agrees_with_one_overlapping_pass(
            extra in proptest::collection::vec("[a-e$`<?]{0,6}", 0..6),
            pieces in proptest::collection::vec(0usize..40, 0..60),
            upper in proptest::collection::vec(any::<bool>(), 60),
        ) {
            let mut needles = shipped_like();
            needles.extend(extra);
            let alphabet: Vec<&str> = needles.iter().map(String::as_str).chain(["x", " ", "ab", "E", "é"]).collect();
            let mut text = String::new();
            for (k, &p) in pieces.iter().enumerate() {
                let piece = alphabet[p % alphabet.len()];
                text.push_str(&if upper[k] { piece.to_ascii_uppercase() } else { piece.to_string() });
            }
            let n = Needles::new(&needles).unwrap();
            prop_assert_eq!(n.find(text.as_bytes()), reference(&needles, text.as_bytes()), "{:?}", text);
        }
    }
}
