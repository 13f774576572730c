//! A double-array trie walked afresh from each start position: leftmost-longest matching with
//! no failure links, fast where patterns are short, as Chinese terms are.
//!
//! Aho-Corasick follows one transition per character and, on a mismatch, failure links back
//! toward the root. This walk instead asks, at each position, how far the trie follows the text
//! from there. On Chinese text with a list of 2–4 character terms, three positions in four stop
//! after one step (the character starts a term, the next does not continue it) and most others
//! after none; only one in ten goes deeper. So the walk has a fast path: the first two steps are
//! computed without a branch between them, from a root table indexed by character code, and
//! one well-predicted branch decides whether anything can match here. Positions do not depend
//! on each other, so the processor overlaps their loads; an automaton's next state always
//! waits for the previous one. Measured alone on 11.6 MB of normalized Chinese news and
//! reviews in ~240-byte messages with 10,000 jieba terms: 530–580 MB/s, against 355–375 for
//! `daachorse`'s charwise automaton (leftmost-longest, same matches); in the full check, see
//! `DoubleArray` in the parent module.
//!
//! Going deeper than two characters costs one step per character, and text built to follow
//! long patterns far (`aaaa…` against `aaa…ab`) could make that quadratic. So every walk has a
//! budget of deep steps proportional to the haystack, and when it runs out the caller finishes
//! the haystack with an automaton (see [`TrieWalk::walk`]): the whole search stays linear.

use super::Next;
use crate::normalize::{cp2, cp3};

/// Character code 0: a character in no pattern.
const NONE: u32 = 0;
/// `check` of a free cell (no state has it as a child).
const FREE: u32 = u32::MAX;
/// How many blocks of 64 bases are tried for a state's children before they are placed past
/// the end of the array (which bounds the build's work per state).
const PLACE_BLOCKS: usize = 4096;
/// Deep steps (past a position's second character) a walk may take: a constant plus one per
/// haystack byte. Chinese text with a list of short terms takes ~0.1 per character (three
/// bytes); a walk that needs more hands over to the automaton.
pub(super) const BUDGET: Budget = Budget { base: 256, per_byte: 1 };

/// The deep steps a walk may take over `base + per_byte * bytes` of haystack.
#[derive(Clone, Copy, Debug)]
pub(super) struct Budget {
    pub base: usize,
    pub per_byte: usize,
}

/// A trie over character codes, laid out as a double array: the child of state `s` by code `k`
/// is `base[s] + k`, valid when `check[base[s] + k] == s`. State 0 is the root.
pub(super) struct TrieWalk {
    /// Code of each BMP character (0: in no pattern). Codes are ranked by how often the
    /// character occurs in the patterns, so that frequent ones sit close together.
    bmp: Box<[u16; 0x1_0000]>,
    /// Codes of characters beyond the BMP, sorted by character.
    astral: Box<[(char, u16)]>,
    /// The character of each code (for [`TrieWalk::patterns`]).
    chars: Box<[char]>,
    /// The states: a deep step reads all it needs of one from one cell.
    cells: Box<[Cell]>,
    /// The root's children by code: the first step, and the base of the second, in one load
    /// from a table small enough to stay in the cache.
    root: Box<[Cell]>,
    values: Box<[u32]>,
}

impl std::fmt::Debug for TrieWalk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrieWalk").field("cells", &self.cells.len()).field("codes", &self.root.len()).finish()
    }
}

/// A state: the base of its children, its parent (`FREE` when the cell is no state; in the
/// root table, the state itself, 0 for none) and the index + 1 of the pattern that ends at it
/// (0: none).
#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    base: u32,
    check: u32,
    out: u32,
}

/// A trie node while building: children by code, sorted, and the pattern ending here.
#[derive(Default)]
struct Node {
    children: Vec<(u32, u32)>,
    out: u32,
}

impl TrieWalk {
    /// Builds the walk over `patterns` (a match of `patterns[i]` reports `values[i]`), or
    /// `None` when it does not apply: an empty pattern, more distinct characters than 16-bit
    /// codes hold, or more states than 32-bit cells address. The first of duplicate patterns
    /// wins, as in `daachorse`, which rejects them (the compiler passes none).
    pub(super) fn build(patterns: &[String], values: &[u32]) -> Option<TrieWalk> {
        if patterns.iter().any(String::is_empty) {
            return None;
        }
        // Codes by frequency, ties by character, so that builds are reproducible.
        let mut freq: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
        for p in patterns {
            for c in p.chars() {
                *freq.entry(c).or_default() += 1;
            }
        }
        let mut ranked: Vec<(char, usize)> = freq.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if ranked.len() >= usize::from(u16::MAX) {
            return None;
        }
        let mut bmp: Box<[u16; 0x1_0000]> = vec![0u16; 0x1_0000].into_boxed_slice().try_into().ok()?;
        let mut astral = Vec::new();
        for (rank, &(c, _)) in ranked.iter().enumerate() {
            let code = u16::try_from(rank + 1).ok()?;
            match usize::try_from(u32::from(c)).ok().filter(|&i| i < bmp.len()) {
                Some(i) => bmp[i] = code,
                None => astral.push((c, code)),
            }
        }
        astral.sort_unstable();
        let codes = ranked.len();

        // The trie, children sorted by code.
        let mut nodes = vec![Node::default()];
        for (i, p) in patterns.iter().enumerate() {
            let mut s = 0usize;
            for c in p.chars() {
                let k = u32::from(code_of(&bmp[..], &astral, c));
                let kids = &nodes[s].children;
                s = match kids.binary_search_by_key(&k, |&(code, _)| code) {
                    Ok(j) => kids[j].1 as usize,
                    Err(j) => {
                        let t = u32::try_from(nodes.len()).ok()?;
                        nodes[s].children.insert(j, (k, t));
                        nodes.push(Node::default());
                        t as usize
                    }
                };
            }
            if nodes[s].out == 0 {
                nodes[s].out = u32::try_from(i + 1).ok()?;
            }
        }

        // Placement, level by level and within a level the states with the most children first
        // (they are the hardest to fit, and fit best while the array is still sparse): each
        // state's children at the first base where all are free.
        let mut cells = Cells {
            cells: vec![Cell { base: 0, check: FREE, out: 0 }],
            free: vec![0],
            some_free: vec![0],
            first_free: 1,
        };
        let mut cell_of = vec![0u32; nodes.len()];
        let mut level = vec![0usize];
        let mut next_level = Vec::new();
        while !level.is_empty() {
            level.sort_by_key(|&n| std::cmp::Reverse(nodes[n].children.len()));
            for &n in &level {
                let cell = cell_of[n] as usize;
                cells.cells[cell].out = nodes[n].out;
                let kids = &nodes[n].children;
                let (Some(&(k0, _)), Some(&(k_last, _))) = (kids.first(), kids.last()) else { continue };
                let (k0, k_last) = (k0 as usize, k_last as usize);
                // Bases are tried 64 at a time, from the one that puts the first child on the
                // first free cell it can take: a bit per base says whether every child's cell is
                // free. The next block starts at the first free cell 64 cells on, found through
                // a bit per 64 cells, so the full stretches cost little. Past the end of the
                // array every cell is free, so the search ends; a bounded one places the
                // children there.
                let mut anchor = cells.next_free(cells.first_free.max(k0 + 1));
                let mut b = None;
                for _ in 0..PLACE_BLOCKS {
                    let lo = anchor - k0;
                    let mut fit = !0u64;
                    for &(k, _) in kids {
                        fit &= cells.free_bits(lo + k as usize);
                        if fit == 0 {
                            break;
                        }
                    }
                    if fit != 0 {
                        b = Some(lo + fit.trailing_zeros() as usize);
                        break;
                    }
                    anchor = cells.next_free(anchor + 64);
                }
                let b = b.unwrap_or_else(|| cells.cells.len().max(k0 + 1) - k0);
                cells.grow(b + k_last + 1);
                cells.cells[cell].base = u32::try_from(b).ok()?;
                for &(k, t) in kids {
                    let c = b + k as usize;
                    cells.take(c, u32::try_from(cell).ok()?);
                    cell_of[t as usize] = u32::try_from(c).ok()?;
                    next_level.push(t as usize);
                }
            }
            level.clear();
            std::mem::swap(&mut level, &mut next_level);
        }
        // Room for `base[s] + k` of any state and code: a lookup never leaves the array.
        let len = cells.cells.iter().map(|c| c.base as usize).max().unwrap_or(0) + codes + 1;
        cells.grow(len);
        if u32::try_from(cells.cells.len()).is_err() {
            return None;
        }
        let cells = cells.cells;

        let mut root = vec![Cell::default(); codes + 1];
        for &(k, t) in &nodes[0].children {
            let c = cell_of[t as usize];
            root[k as usize] = Cell { check: c, ..cells[c as usize] };
        }
        let chars = std::iter::once('\0').chain(ranked.iter().map(|&(c, _)| c)).collect();
        Some(TrieWalk {
            bmp,
            astral: astral.into_boxed_slice(),
            chars,
            cells: cells.into_boxed_slice(),
            root: root.into_boxed_slice(),
            values: values.into(),
        })
    }

    /// The code of the character at `bytes[i..]` and its length; `(NONE, 0)` past the end.
    #[inline(always)]
    fn code_at(&self, bytes: &[u8], i: usize) -> (u32, usize) {
        let (cp, len) = match *bytes.get(i..).unwrap_or_default() {
            [] => return (NONE, 0),
            [b0 @ 0..=0x7F, ..] => (u32::from(b0), 1),
            [b0 @ 0xC0..=0xDF, b1, ..] => (cp2(b0, b1), 2),
            [b0 @ 0xE0..=0xEF, b1, b2, ..] => (cp3(b0, b1, b2), 3),
            [b0, b1, b2, b3, ..] => {
                let cp = u32::from(b0 & 0x07) << 18
                    | u32::from(b1 & 0x3F) << 12
                    | u32::from(b2 & 0x3F) << 6
                    | u32::from(b3 & 0x3F);
                let code = char::from_u32(cp).map_or(0, |c| code_of(&self.bmp[..], &self.astral, c));
                return (u32::from(code), 4);
            }
            // Not reached for a `str` at a char boundary.
            _ => return (NONE, 1),
        };
        (u32::from(self.bmp[cp as usize & 0xFFFF]), len)
    }

    /// Calls `f(start, end, value)` for each leftmost-longest match of `hay` from `at` on, as
    /// [`super::Engine::for_each_match`] does, until the `budget` of deep steps runs out: then
    /// returns the position (a char boundary, with no match pending) from which the caller
    /// must search on with an automaton. `None`: the haystack is done.
    #[inline]
    pub(super) fn walk(
        &self,
        hay: &str,
        at: usize,
        budget: Budget,
        f: &mut dyn FnMut(usize, usize, u32) -> Next,
    ) -> Option<usize> {
        let b = hay.as_bytes();
        let n = b.len();
        let mut budget = budget.per_byte.saturating_mul(n.saturating_sub(at)).saturating_add(budget.base);
        let mut i = at;
        let (mut k0, mut l0) = self.code_at(b, i);
        while i < n {
            let j = i + l0;
            let (k1, l1) = self.code_at(b, j);
            // Steps one and two, without a branch between them.
            let first = self.root[k0 as usize];
            let s1 = first.check;
            let t2 = first.base + k1;
            let deeper = (self.cells[t2 as usize].check == s1) & (s1 != 0) & (k1 != NONE);
            if !deeper & (first.out == 0) {
                (i, k0, l0) = (j, k1, l1);
                continue;
            }
            // Something matches here, or may: walk on to the longest.
            let mut best = (first.out != 0).then_some((j, first.out));
            if deeper {
                let mut s = t2;
                let mut p = j + l1;
                loop {
                    let cell = self.cells[s as usize];
                    if cell.out != 0 {
                        best = Some((p, cell.out));
                    }
                    let (k, l) = self.code_at(b, p);
                    if k == NONE {
                        break;
                    }
                    if budget == 0 {
                        return Some(i);
                    }
                    budget -= 1;
                    let t = cell.base + k;
                    if self.cells[t as usize].check != s {
                        break;
                    }
                    s = t;
                    p += l;
                }
            }
            match best {
                Some((end, out)) => {
                    i = match f(i, end, self.values[out as usize - 1]) {
                        Next::Continue => end,
                        Next::RestartAt(next) => next,
                    };
                    (k0, l0) = self.code_at(b, i);
                }
                None => (i, k0, l0) = (j, k1, l1),
            }
        }
        None
    }

    /// The patterns, each once (the first of duplicates), with their values, read back from
    /// the trie: what an automaton for the same matches is built from.
    pub(super) fn patterns(&self) -> (Vec<String>, Vec<u32>) {
        let (mut patterns, mut values) = (Vec::new(), Vec::new());
        let mut codes = Vec::new();
        for (cell, c) in self.cells.iter().enumerate().skip(1) {
            if c.out == 0 || c.check == FREE {
                continue;
            }
            // Up the parents to the root, each step's code being the cell less its parent's base.
            codes.clear();
            let mut at = cell;
            while at != 0 {
                let parent = self.cells[at].check as usize;
                codes.push(at - self.cells[parent].base as usize);
                at = parent;
            }
            patterns.push(codes.iter().rev().map(|&k| self.chars[k]).collect());
            values.push(self.values[c.out as usize - 1]);
        }
        (patterns, values)
    }

    /// Heap memory held.
    pub(super) fn heap_bytes(&self) -> usize {
        self.bmp.len() * 2
            + self.astral.len() * 8
            + self.chars.len() * 4
            + (self.cells.len() + self.root.len()) * size_of::<Cell>()
            + self.values.len() * 4
    }
}

/// The double array while it is built, with a bit per cell that is set while the cell is free.
struct Cells {
    cells: Vec<Cell>,
    free: Vec<u64>,
    /// A bit per word of `free`: set when the word has a free cell.
    some_free: Vec<u64>,
    /// No cell below this one is free.
    first_free: usize,
}

impl Cells {
    /// The `i / 64`-th word of free bits; cells past the end are free.
    fn free_word(&self, w: usize) -> u64 {
        let len = self.cells.len();
        let start = w * 64;
        if start >= len {
            return !0;
        }
        let bits = self.free.get(w).copied().unwrap_or(!0);
        if len - start >= 64 { bits } else { bits | (!0u64 << (len - start)) }
    }

    /// Whether each of the cells `i..i + 64` is free, as bits (bit `j`: cell `i + j`).
    fn free_bits(&self, i: usize) -> u64 {
        let (w, o) = (i / 64, i % 64);
        if o == 0 { self.free_word(w) } else { self.free_word(w) >> o | self.free_word(w + 1) << (64 - o) }
    }

    /// The first free cell at or after `i` (cells past the end are free).
    fn next_free(&self, i: usize) -> usize {
        let w = i / 64;
        let here = self.free_word(w) & (!0u64 << (i % 64));
        if here != 0 {
            return w * 64 + here.trailing_zeros() as usize;
        }
        // The next word with a free cell, 64 words at a time.
        let mut sw = (w + 1) / 64;
        let mut bits = self.some_free.get(sw).map_or(!0, |&b| b & (!0u64 << ((w + 1) % 64)));
        loop {
            if bits != 0 {
                let word = sw * 64 + bits.trailing_zeros() as usize;
                return (word * 64 + self.free_word(word).trailing_zeros() as usize).min(self.cells.len().max(i));
            }
            sw += 1;
            bits = self.some_free.get(sw).copied().unwrap_or(!0);
        }
    }

    /// Makes the array at least `len` cells long; the new cells are free.
    fn grow(&mut self, len: usize) {
        let old = self.cells.len();
        if len <= old {
            return;
        }
        self.cells.resize(len, Cell { base: 0, check: FREE, out: 0 });
        self.free.resize(len.div_ceil(64), 0);
        self.some_free.resize(self.free.len().div_ceil(64), 0);
        for i in old..len {
            self.free[i / 64] |= 1 << (i % 64);
            self.some_free[i / 4096] |= 1 << (i / 64 % 64);
        }
    }

    /// Makes cell `i` a child of `parent`.
    fn take(&mut self, i: usize, parent: u32) {
        self.cells[i].check = parent;
        let w = i / 64;
        self.free[w] &= !(1 << (i % 64));
        if self.free[w] == 0 {
            self.some_free[w / 64] &= !(1 << (w % 64));
        }
        if i == self.first_free {
            self.first_free = self.next_free(i);
        }
    }
}

/// The code of `c` (0: in no pattern).
fn code_of(bmp: &[u16], astral: &[(char, u16)], c: char) -> u16 {
    match usize::try_from(u32::from(c)).ok().and_then(|i| bmp.get(i)) {
        Some(&code) => code,
        None => astral.binary_search_by_key(&c, |&(a, _)| a).map_or(0, |j| astral[j].1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` distinct terms of 2–4 characters from the first `alphabet` CJK ideographs.
    fn terms(n: usize, alphabet: u32) -> Vec<String> {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut set = std::collections::BTreeSet::new();
        while set.len() < n {
            let len = 2 + (next() % 3) as usize;
            set.insert(
                (0..len)
                    .map(|_| char::from_u32(0x4E00 + (next() % u64::from(alphabet)) as u32).unwrap())
                    .collect::<String>(),
            );
        }
        set.into_iter().collect()
    }

    #[test]
    fn the_double_array_stays_compact() {
        // Children of one state spread over the whole code range are the hard case: the
        // placement must find room among the cells already taken, not only past the end.
        for (n, alphabet) in [(10_000, 3_500), (30_000, 6_000), (2_000, 20_000)] {
            let pats = terms(n, alphabet);
            let values: Vec<u32> = (0..pats.len() as u32).collect();
            let walk = TrieWalk::build(&pats, &values).unwrap();
            let states = 1 + pats.iter().map(|p| p.chars().count()).sum::<usize>();
            let cells = walk.cells.len();
            assert!(cells < 2 * states + walk.root.len(), "{n} terms: {cells} cells for at most {states} states");
        }
    }

    #[test]
    fn codes_follow_frequency_and_every_state_is_reachable() {
        let pats: Vec<String> = ["赌博", "赌场", "赌", "博彩", "a😀b"].map(String::from).to_vec();
        let values = [10, 11, 12, 13, 14];
        let walk = TrieWalk::build(&pats, &values).unwrap();
        assert_eq!(walk.bmp['赌' as usize], 1, "the most frequent character has code 1");
        assert_eq!(code_of(&walk.bmp[..], &walk.astral, '😀'), walk.astral[0].1);
        assert_eq!(code_of(&walk.bmp[..], &walk.astral, '猫'), 0);
        let mut found = Vec::new();
        let hay = "赌博赌场赌 博彩a😀b a😀";
        assert_eq!(
            walk.walk(hay, 0, BUDGET, &mut |s, e, v| {
                found.push((&hay[s..e], v));
                Next::Continue
            }),
            None
        );
        assert_eq!(found, [("赌博", 10), ("赌场", 11), ("赌", 12), ("博彩", 13), ("a😀b", 14)]);
    }

    proptest::proptest! {
        /// The patterns read back from the trie are the patterns built from, with their values.
        #[test]
        fn patterns_read_back(pats in proptest::collection::btree_set("[ab赌博x😀]{1,8}", 1..60)) {
            let pats: Vec<String> = pats.into_iter().collect();
            let values: Vec<u32> = (0..pats.len() as u32).map(|v| v * 3 + 5).collect();
            let walk = TrieWalk::build(&pats, &values).unwrap();
            let (back, back_values) = walk.patterns();
            let mut back: Vec<(String, u32)> = back.into_iter().zip(back_values).collect();
            back.sort();
            let expected: Vec<(String, u32)> = pats.into_iter().zip(values).collect();
            proptest::prop_assert_eq!(back, expected);
        }
    }

    #[test]
    fn empty_patterns_are_not_walked() {
        assert!(TrieWalk::build(&["".to_owned(), "a".to_owned()], &[0, 1]).is_none());
    }
}
