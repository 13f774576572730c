//! Anti-evasion normalization (DESIGN §4).
//!
//! The text is folded character by character through a precomputed table (steps 1–5, see
//! [`fold`]) and then run through a small state machine that handles what needs context:
//! leetspeak inside Latin words and noise skipping between the characters of a term (step 6).
//! Matching runs on the normalized string; every match is mapped back to the original bytes
//! lazily, by re-running the state machine from the nearest [`Checkpoint`].
//!
//! What the normalized view looks like, so that terms, allow phrases and regexes can be
//! written for it:
//! - invisible characters are gone; full-width, circled and mathematical forms are plain;
//!   everything is lower case; traditional characters are simplified; Cyrillic and Greek
//!   look-alikes are Latin;
//! - `0 1 3 4 5 7 8 $` strictly inside a Latin word (letters on both sides, at most two in a
//!   row) read as `o i e a s t b s`;
//! - noise (whitespace, punctuation, symbols, emoji) between two kept characters:
//!   between two Latin letters or digits, whitespace becomes one space, a gap holding sentence
//!   punctuation becomes that punctuation (one ASCII character), a gap of symbols only is
//!   removed, and runs of three or more single letters or digits separated by one noise
//!   character each (`v i a g r a`) are joined; wherever a CJK character is on either side the
//!   noise is removed; a gap longer than `max_gap` becomes `\n`, across which nothing matches.

mod fold;
mod homoglyph;
mod options;
#[rustfmt::skip]
mod t2s_table;

use std::sync::Arc;

pub use fold::is_cjk;
pub(crate) use fold::{Class, FoldTable};
pub use options::NormalizeOptions;

use crate::Flags;

/// Normalized bytes between two checkpoints.
const CHECKPOINT_EVERY: usize = 4096;

/// Bytes of look-ahead past a hit when computing its flags (look-ahead reaches 4 chars).
const MAP_BACK_MARGIN: usize = 32;

/// The hard break: emitted for gaps too long to skip. No term contains it.
pub(crate) const BREAK: char = '\n';

/// What became of a gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gap {
    /// There was none.
    None,
    /// Removed inside a Latin word (`fr*ee`).
    Joined,
    /// Removed inside a spaced-out run (`v i a g r a`).
    Spaced,
    /// Written as a separator, removed next to CJK, or leading.
    Separated,
}

/// The kind of the last kept unit written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Last {
    #[default]
    None,
    Letter,
    Digit,
    Other,
}

impl Last {
    fn is_word(self) -> bool {
        matches!(self, Last::Letter | Last::Digit)
    }
}

/// Everything the state machine carries from one character to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct State {
    last: Last,
    /// Original characters in the current Latin token.
    tok_len: u32,
    /// Single-character tokens joined so far in a spaced-out run (`v i a …`).
    single_run: u8,
    /// Noise characters in the pending gap (a whitespace run counts once).
    gap_len: u8,
    gap_space: bool,
    gap_symbol: bool,
    gap_prev_space: bool,
    /// The first sentence punctuation of the gap, as ASCII (0 when none).
    gap_punct: u8,
    /// Original offset where the pending gap starts.
    gap_start: usize,
}

/// A place where normalization can be resumed: original offset, normalized offset and state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checkpoint {
    pub orig: usize,
    pub norm: usize,
    pub state: State,
}

/// Where normalized output goes.
pub(crate) trait Sink {
    /// A normalized character produced from `orig` (a range of original bytes).
    fn push(&mut self, c: char, orig: (usize, usize), flags: Flags);
    /// Original bytes that produced no output (invisible characters, removed noise).
    fn note(&mut self, orig: (usize, usize), flags: Flags);
    /// Called before each original character; `true` stops the run.
    fn before(&mut self, pos: usize, state: &State) -> bool;
    /// An invalid UTF-8 sequence was met.
    #[inline(always)]
    fn saw_invalid(&mut self) {}
    /// A character kept as it was, with no flag, at original offset `at`.
    #[inline(always)]
    fn push_same(&mut self, c: char, at: usize) {
        self.push(c, (at, at + c.len_utf8()), Flags::empty());
    }
    /// A run of characters kept as they were, with no flag, starting at original offset `at`.
    #[inline]
    fn push_run(&mut self, run: &str, at: usize) {
        for (i, c) in run.char_indices() {
            self.push_same(c, at + i);
        }
    }
    /// A run of characters kept as they were except ASCII capitals, which are lowered and
    /// flagged `CASE`, starting at original offset `at`.
    #[inline]
    fn push_lowered_run(&mut self, run: &str, at: usize) {
        for (i, c) in run.char_indices() {
            if c.is_ascii_uppercase() {
                self.push(c.to_ascii_lowercase(), (at + i, at + i + 1), Flags::CASE);
            } else {
                self.push_same(c, at + i);
            }
        }
    }
}

/// A normalized document: the text the matcher runs on, and the checkpoints that map it back.
#[derive(Debug, Default)]
pub(crate) struct Normalized {
    pub text: String,
    /// Places to resume normalization (for streaming), sparse.
    pub checkpoints: Vec<Checkpoint>,
    /// The offset map, run-length encoded: each segment starts at `norm` and maps either
    /// byte for byte (`len` is [`RUN_SAME`] or [`RUN_FOLDED`]) or one normalized character to
    /// `len` original bytes.
    pub segments: Vec<Segment>,
    /// Whether the input held invalid UTF-8.
    pub invalid: bool,
}

/// A segment of the offset map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    norm: usize,
    orig: usize,
    len: u32,
}

/// `Segment::len` of a byte-for-byte run of the very same bytes: a match inside one needed
/// no normalization step, which map-back knows without reading the input again (in a large
/// buffer, those bytes have long left the cache when the matches come).
const RUN_SAME: u32 = u32::MAX;
/// `Segment::len` of a byte-for-byte run in which characters may have changed with their
/// length kept (case, some traditional characters, a tab read as a space).
const RUN_FOLDED: u32 = u32::MAX - 1;

#[inline(always)]
fn is_run(len: u32) -> bool {
    len >= RUN_FOLDED
}

/// The sink of the scan: the string and a checkpoint every few hundred bytes.
struct Collect<'a> {
    out: &'a mut Normalized,
    /// The whole input (original offsets index it).
    input: &'a [u8],
    next: usize,
    /// `orig - norm` and the kind (`RUN_SAME` or `RUN_FOLDED`) of the open byte-for-byte run,
    /// if one is open: the kind of its segment, the last one.
    run: Option<(isize, u32)>,
    /// Original offset by which the next checkpoint comes, output or not (the last one's plus
    /// [`CHECKPOINT_EVERY_ORIG`]): long runs without output still get some.
    next_orig: usize,
    /// Normalized bytes between checkpoints: [`CHECKPOINT_EVERY`], or fewer in tests that
    /// resume from every place the fast paths ask for one.
    every: usize,
}

/// Original bytes between checkpoints at most, even when they produce no output.
const CHECKPOINT_EVERY_ORIG: usize = 64 * 1024;

impl<'a> Collect<'a> {
    /// A sink writing into `out` (cleared first) for `input`.
    fn new(out: &'a mut Normalized, input: &'a [u8]) -> Collect<'a> {
        out.text.clear();
        out.checkpoints.clear();
        out.segments.clear();
        out.invalid = false;
        Collect { out, input, next: 0, run: None, next_orig: CHECKPOINT_EVERY_ORIG, every: CHECKPOINT_EVERY }
    }

    /// A sink that takes a checkpoint wherever the state machine asks, at most every `every`
    /// normalized bytes.
    #[cfg(test)]
    fn every(out: &'a mut Normalized, input: &'a [u8], every: usize) -> Collect<'a> {
        Collect { every, ..Collect::new(out, input) }
    }

    /// Continues the open byte-for-byte run at original offset `at`, or opens one of this
    /// kind. A changed character continuing a run of the same bytes turns the whole run into
    /// one that may have changed ([`RUN_FOLDED`]: map-back compares its bytes) rather than
    /// open a segment of its own: text whose changes are sparse and short (a capital letter
    /// per word, a line break read as a space between short strings) took two segments per
    /// change, 24 bytes each, up to 12 times the text's size.
    #[inline(always)]
    fn run_at(&mut self, at: usize, kind: u32) {
        let norm = self.out.text.len();
        let delta = at as isize - norm as isize;
        match self.run {
            Some((d, open)) if d == delta => {
                if open != kind && kind == RUN_FOLDED {
                    if let Some(last) = self.out.segments.last_mut() {
                        last.len = RUN_FOLDED;
                    }
                    self.run = Some((d, RUN_FOLDED));
                }
            }
            _ => {
                self.out.segments.push(Segment { norm, orig: at, len: kind });
                self.run = Some((delta, kind));
            }
        }
    }
}

impl Sink for Collect<'_> {
    #[inline]
    fn push(&mut self, c: char, orig: (usize, usize), _: Flags) {
        if c.is_ascii() && orig.1 - orig.0 == 1 {
            // Most of what a Latin text pushes one by one: a word's first letter, a space.
            let same = self.input.get(orig.0) == Some(&(c as u8));
            self.run_at(orig.0, if same { RUN_SAME } else { RUN_FOLDED });
            self.out.text.push(c);
            return;
        }
        let n = c.len_utf8();
        if orig.1 - orig.0 == n {
            let same = self.input.get(orig.0..orig.1).is_some_and(|s| is_utf8_of(s, c));
            self.run_at(orig.0, if same { RUN_SAME } else { RUN_FOLDED });
        } else {
            let norm = self.out.text.len();
            self.out.segments.push(Segment { norm, orig: orig.0, len: (orig.1 - orig.0) as u32 });
            self.run = None;
        }
        self.out.text.push(c);
    }

    #[inline]
    fn note(&mut self, _: (usize, usize), _: Flags) {}

    fn saw_invalid(&mut self) {
        self.out.invalid = true;
    }

    #[inline(always)]
    fn push_run(&mut self, run: &str, at: usize) {
        self.run_at(at, RUN_SAME);
        self.out.text.push_str(run);
    }

    #[inline(always)]
    fn push_lowered_run(&mut self, run: &str, at: usize) {
        // Lowering ASCII keeps every length: still one byte-for-byte segment.
        let norm = self.out.text.len();
        self.run_at(at, RUN_FOLDED);
        self.out.text.push_str(run);
        self.out.text[norm..].make_ascii_lowercase();
    }

    #[inline(always)]
    fn push_same(&mut self, c: char, at: usize) {
        self.run_at(at, RUN_SAME);
        self.out.text.push(c);
    }

    #[inline(always)]
    fn before(&mut self, pos: usize, state: &State) -> bool {
        if self.out.text.len() >= self.next || pos >= self.next_orig {
            self.out.checkpoints.push(Checkpoint { orig: pos, norm: self.out.text.len(), state: *state });
            self.next = self.out.text.len() + self.every;
            self.next_orig = pos + CHECKPOINT_EVERY_ORIG;
        }
        false
    }
}

/// Whether `s` is the UTF-8 of `c`. One comparison of four bytes: a slice comparison of a
/// length known only at run time calls `memcmp`, which on Latin text (where most characters
/// take this path) cost ~4 % of a site scan.
#[inline(always)]
fn is_utf8_of(s: &[u8], c: char) -> bool {
    let mut want = [0; 4];
    let n = c.encode_utf8(&mut want).len();
    let byte = |i: usize| if i < n { s.get(i).copied().unwrap_or(0) } else { 0 };
    s.len() == n && [byte(0), byte(1), byte(2), byte(3)] == want
}

/// A resolved range of the normalized text: original bytes and the flags of the steps used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub start: usize,
    pub end: usize,
    pub flags: Flags,
}

/// The sink that collects the flags of an original range.
struct FlagsOf {
    end: usize,
    flags: Flags,
}

impl Sink for FlagsOf {
    fn push(&mut self, _: char, orig: (usize, usize), flags: Flags) {
        if orig.0 < self.end {
            self.flags |= flags;
        }
    }

    fn note(&mut self, orig: (usize, usize), flags: Flags) {
        if orig.0 < self.end {
            self.flags |= flags;
        }
    }

    fn before(&mut self, pos: usize, _: &State) -> bool {
        pos >= self.end
    }
}

/// The sink of term normalization: the string and the flags of the steps used.
struct TermSink {
    text: String,
    flags: Flags,
}

impl Sink for TermSink {
    fn push(&mut self, c: char, _: (usize, usize), flags: Flags) {
        self.text.push(c);
        self.flags |= flags;
    }
    fn note(&mut self, _: (usize, usize), flags: Flags) {
        self.flags |= flags;
    }
    fn before(&mut self, _: usize, _: &State) -> bool {
        false
    }
}

/// The normalizer: a fold table and the options of the stream steps.
#[derive(Clone, Debug)]
pub(crate) struct Normalizer {
    table: Arc<FoldTable>,
    opts: NormalizeOptions,
    /// Whether runs of unchanged characters take the fast paths; off only in tests, which
    /// check that both ways agree.
    fast: bool,
    /// What each ASCII character is in a gap between words on the fast path.
    ascii_gap: [GapByte; 128],
}

/// What a character is in a gap between words (see [`Normalizer::add_noise`]).
#[derive(Clone, Copy, Debug, Default)]
struct GapByte {
    /// [`GAP_END`], [`GAP_SPACE`], [`GAP_SYMBOL`], [`GAP_PUNCT`] or [`GAP_LEET`].
    kind: u8,
    /// The punctuation a gap holding it is written as (0 unless `GAP_PUNCT`).
    punct: u8,
}

impl GapByte {
    /// A noise character of class `class` (space, symbol or punctuation), folded to `c`.
    #[inline(always)]
    fn of(c: char, class: Class) -> GapByte {
        match class {
            Class::Space => GapByte { kind: GAP_SPACE, punct: 0 },
            Class::Punct => GapByte { kind: GAP_PUNCT, punct: if c.is_ascii() { c as u8 } else { b'.' } },
            _ => GapByte { kind: GAP_SYMBOL, punct: 0 },
        }
    }
}

/// Not noise: the gap ends before it.
const GAP_END: u8 = 0;
/// Whitespace.
const GAP_SPACE: u8 = 1;
/// A symbol.
const GAP_SYMBOL: u8 = 2;
/// Sentence punctuation.
const GAP_PUNCT: u8 = 3;
/// A leetspeak symbol (`$`): a symbol in a gap, a letter right after one.
const GAP_LEET: u8 = 4;

/// Noise characters a gap on the fast path takes before it hands over to `step`, which asks
/// the sink [`Sink::before`] each character (the fast path asks once per gap). Below 255, so
/// that the gap's length never overflows on the fast path.
const FAST_GAP_MAX: usize = 64;

/// The ASCII letter a leetspeak character stands for.
fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        '$' => 's',
        _ => return None,
    })
}

impl Normalizer {
    pub(crate) fn new(opts: NormalizeOptions) -> Normalizer {
        let table = FoldTable::get(opts.fold_steps());
        let mut ascii_gap = [GapByte::default(); 128];
        for (b, g) in (0u8..).zip(&mut ascii_gap) {
            let e = table.lookup(char::from(b));
            if e.is_multi() {
                continue;
            }
            *g = match e.class() {
                k @ (Class::Space | Class::Symbol | Class::Punct) => GapByte::of(e.char(), k),
                Class::LeetSym => GapByte { kind: GAP_LEET, punct: 0 },
                _ => GapByte::default(),
            };
        }
        Normalizer { table, opts, fast: true, ascii_gap }
    }

    /// Whether [`Normalizer::new`] with `opts` will have to build its folding table first
    /// (10–20 ms, once per process and set of steps).
    pub(crate) fn needs_table(opts: &NormalizeOptions) -> bool {
        !FoldTable::is_built(opts.fold_steps())
    }

    pub(crate) fn options(&self) -> &NormalizeOptions {
        &self.opts
    }

    /// Normalizes a whole document (the library goes through [`Normalizer::normalize_into`]
    /// and [`Normalizer::normalize_str_into`] with reused buffers; the tests use this).
    #[cfg(test)]
    pub(crate) fn normalize(&self, input: &[u8]) -> Normalized {
        let mut out = Normalized {
            text: String::with_capacity(input.len() + 16),
            checkpoints: Vec::with_capacity(input.len() / CHECKPOINT_EVERY + 1),
            segments: Vec::new(),
            invalid: false,
        };
        self.normalize_into(input, &mut out);
        out
    }

    /// Normalizes a whole document into `out` (cleared first), reusing its buffers.
    pub(crate) fn normalize_into(&self, input: &[u8], out: &mut Normalized) {
        self.normalize_from(input, State::default(), out);
    }

    /// Normalizes `input` starting in state `state` (resuming at a checkpoint).
    pub(crate) fn normalize_from(&self, input: &[u8], state: State, out: &mut Normalized) {
        self.run(input, 0, state, &mut Collect::new(out, input));
    }

    /// [`Normalizer::normalize_into`] for input known to be UTF-8, which is not validated
    /// again (on short texts, validation is a few percent of a check).
    pub(crate) fn normalize_str_into(&self, text: &str, out: &mut Normalized) {
        let mut sink = Collect::new(out, text.as_bytes());
        let mut st = State::default();
        if self.run_str(text, text.as_bytes(), 0, &mut st, &mut sink) {
            sink.before(text.len(), &st);
        }
    }

    /// Normalizes a term or allow phrase: its normalized text and the flags it needed.
    pub(crate) fn normalize_term(&self, term: &str) -> (String, Flags) {
        let mut sink = TermSink { text: String::with_capacity(term.len()), flags: Flags::empty() };
        self.run(term.as_bytes(), 0, State::default(), &mut sink);
        (sink.text, sink.flags)
    }

    /// Maps the normalized range `[start, end)` of `norm` (made from `input`) back to the
    /// original bytes, with the flags of every step the range needed.
    pub(crate) fn map_back(&self, input: &[u8], norm: &Normalized, start: usize, end: usize) -> Mapped {
        self.map_back_from(input, norm, start, end, &mut 0)
    }

    /// [`Normalizer::map_back`] for ranges visited in increasing order: `cursor` remembers the
    /// segment reached, so that a scan walks the offset map once instead of searching it.
    pub(crate) fn map_back_from(
        &self,
        input: &[u8],
        norm: &Normalized,
        start: usize,
        end: usize,
        cursor: &mut usize,
    ) -> Mapped {
        let segs = &norm.segments;
        let mut seg = |x: usize| {
            if *cursor >= segs.len() || segs[*cursor].norm > x {
                *cursor = segs.partition_point(|s| s.norm <= x).saturating_sub(1);
            }
            while *cursor + 1 < segs.len() && segs[*cursor + 1].norm <= x {
                *cursor += 1;
            }
            segs.get(*cursor).copied().unwrap_or(Segment { norm: 0, orig: 0, len: RUN_FOLDED })
        };
        let s0 = seg(start);
        let orig_start = if is_run(s0.len) { s0.orig + (start - s0.norm) } else { s0.orig };
        let s1 = seg(end.saturating_sub(1).max(start));
        let orig_end = if is_run(s1.len) { s1.orig + (end - s1.norm) } else { s1.orig + s1.len as usize };
        let (orig_start, orig_end) = (orig_start.min(input.len()), orig_end.min(input.len()).max(orig_start));
        // Inside one byte-for-byte run with the same bytes, nothing was folded or skipped.
        let unchanged = s0 == s1
            && (s0.len == RUN_SAME
                || s0.len == RUN_FOLDED
                    && input[orig_start..orig_end] == *norm.text.as_bytes().get(start..end).unwrap_or(&[]));
        let flags = if unchanged { Flags::empty() } else { self.flags_of(input, orig_start, orig_end) };
        Mapped { start: orig_start, end: orig_end, flags }
    }

    /// The flags of the steps the original range `[start, end)` needs, from a run over the
    /// range itself (and a few bytes of look-ahead).
    pub(crate) fn flags_of(&self, input: &[u8], start: usize, end: usize) -> Flags {
        let limit = end.saturating_add(MAP_BACK_MARGIN).min(input.len());
        let mut sink = FlagsOf { end, flags: Flags::empty() };
        self.run(&input[..limit], start, State::default(), &mut sink);
        sink.flags
    }

    /// The class of the first unit of `c`.
    #[inline]
    pub(crate) fn class_of(&self, c: char) -> Class {
        self.table.class_of(c)
    }

    /// The classes of the next kept-or-noise characters of `rest`, skipping invisible ones
    /// (stopping at invalid UTF-8).
    fn peek<'s>(&'s self, rest: &'s [u8]) -> impl Iterator<Item = Class> + 's {
        chars(rest).map(|c| self.table.class_of(c)).filter(|&k| k != Class::Drop)
    }

    /// Whether a digit or `$` at this point reads as a letter: the last unit is a letter with
    /// no gap in between and a letter follows (possibly after one more leet character).
    fn leet_applies(&self, st: &State, rest: &[u8]) -> bool {
        if !self.may_be_leet(st) {
            return false;
        }
        let mut it = chars(rest).filter(|&c| self.table.class_of(c) != Class::Drop);
        match it.next().map(|c| (c, self.table.class_of(c))) {
            Some((_, Class::Letter)) => true,
            Some((c, Class::Digit | Class::LeetSym)) if leet_letter(c).is_some() => {
                matches!(it.next().map(|c| self.table.class_of(c)), Some(Class::Letter))
            }
            _ => false,
        }
    }

    /// Whether the gap before a one-character token continues or starts a spaced-out run.
    fn joins_spaced(&self, st: &State, rest: &[u8]) -> bool {
        if !self.opts.separators || st.gap_len != 1 || st.tok_len != 1 || !st.last.is_word() {
            return false;
        }
        let mut it = self.peek(rest);
        let next_single = !it.next().is_some_and(Class::is_word);
        if !next_single {
            return false;
        }
        if st.single_run >= 2 {
            return true;
        }
        // The first join of a run needs a third single character: noise, word, then not word.
        let mut it = self.peek(rest);
        matches!(it.next(), Some(k) if k.is_noise())
            && it.next().is_some_and(Class::is_word)
            && !it.next().is_some_and(Class::is_word)
    }

    /// Writes the pending gap before a kept unit at original offset `at`; `rest` is the input
    /// after that unit (for look-ahead).
    #[inline]
    fn close_gap<S: Sink>(&self, st: &mut State, next_word: bool, at: usize, rest: &[u8], sink: &mut S) -> Gap {
        if st.gap_len == 0 {
            return Gap::None;
        }
        let span = (st.gap_start, at);
        let mut noise_flags = Flags::SEPARATOR;
        if st.gap_punct != 0 {
            noise_flags |= Flags::PUNCTUATION;
        }
        let mut gap = Gap::Separated;
        if st.last == Last::None {
            // Leading noise.
            sink.note(span, Flags::empty());
        } else if st.gap_len > self.opts.max_gap {
            sink.push(BREAK, span, Flags::empty());
        } else if st.last.is_word() && next_word {
            // (A spaced-out run needs a gap of one after a one-character token: tested here
            // first, so that most gaps between words do not call the look-ahead.)
            if st.gap_len == 1 && st.tok_len == 1 && self.joins_spaced(st, rest) {
                st.single_run = if st.single_run >= 2 { st.single_run.saturating_add(1) } else { 2 };
                sink.note(span, Flags::SEPARATOR);
                gap = Gap::Spaced;
            } else if st.gap_punct != 0 {
                sink.push(char::from(st.gap_punct), span, Flags::empty());
            } else if st.gap_space {
                let f = if st.gap_symbol { Flags::SEPARATOR } else { Flags::empty() };
                sink.push(' ', span, f);
            } else if self.opts.separators {
                sink.note(span, Flags::SEPARATOR);
                gap = Gap::Joined;
            } else {
                sink.push(BREAK, span, Flags::empty());
            }
        } else if self.opts.separators {
            sink.note(span, noise_flags);
        } else {
            sink.push(BREAK, span, Flags::empty());
        }
        if gap != Gap::Spaced {
            st.single_run = 0;
        }
        st.gap_len = 0;
        st.gap_space = false;
        st.gap_symbol = false;
        st.gap_prev_space = false;
        st.gap_punct = 0;
        gap
    }

    /// Adds one noise character, of class `class` and folded to `c`, to the pending gap.
    #[inline]
    fn noise(&self, st: &mut State, c: char, class: Class, at: usize) {
        Self::add_noise::<true>(st, GapByte::of(c, class), at);
    }

    /// Adds a noise character of kind `g` at original offset `at` to the pending gap: the one
    /// place that says what a gap remembers. No branch on the kind, for the fast path's gaps.
    /// `SATURATE` is off only there: its gaps start empty and end after [`FAST_GAP_MAX`]
    /// characters, so their length cannot overflow, and the saturating addition cost ~3 % of
    /// the normalizer's instructions on Latin text.
    #[inline(always)]
    fn add_noise<const SATURATE: bool>(st: &mut State, g: GapByte, at: usize) {
        // Every noise character makes `gap_len` at least 1 and only `close_gap` sets it back to
        // 0, with the rest of the gap: an empty gap is one of length 0.
        if st.gap_len == 0 {
            st.gap_start = at;
        }
        let space = g.kind == GAP_SPACE;
        // A run of whitespace counts once.
        let counts = u8::from(!(space & st.gap_prev_space));
        st.gap_len = if SATURATE { st.gap_len.saturating_add(counts) } else { st.gap_len + counts };
        st.gap_space |= space;
        st.gap_symbol |= g.kind == GAP_SYMBOL;
        st.gap_prev_space = space;
        st.gap_punct = if st.gap_punct == 0 { g.punct } else { st.gap_punct };
    }

    /// Writes one kept unit.
    #[inline]
    #[expect(clippy::too_many_arguments, reason = "the state machine's hot path; a struct would only rename them")]
    fn kept<S: Sink>(
        &self,
        st: &mut State,
        c: char,
        class: Class,
        orig: (usize, usize),
        flags: Flags,
        rest: &[u8],
        sink: &mut S,
    ) {
        let word = class.is_word();
        let gap = self.close_gap(st, word, orig.0, rest, sink);
        if word {
            st.tok_len = match gap {
                Gap::None | Gap::Joined => st.tok_len.saturating_add(1),
                Gap::Spaced | Gap::Separated => 1,
            };
            st.last = if class == Class::Digit { Last::Digit } else { Last::Letter };
        } else {
            st.tok_len = 0;
            st.single_run = 0;
            st.last = Last::Other;
        }
        sink.push(c, orig, flags);
    }

    /// The state machine: normalizes `input[pos..]` from state `st` into `sink`.
    ///
    /// Valid stretches of UTF-8 take the fast path (`run_str`); invalid sequences are noise.
    pub(crate) fn run<S: Sink>(&self, input: &[u8], mut pos: usize, mut st: State, sink: &mut S) {
        while pos < input.len() {
            // SIMD validation of the whole stretch first (std's is several times slower on CJK);
            // on error, std's finds where and how long the invalid sequence is.
            let (valid, bad) = match simdutf8::basic::from_utf8(&input[pos..]) {
                Ok(s) => (s, 0),
                Err(_) => match std::str::from_utf8(&input[pos..]) {
                    Ok(s) => (s, 0),
                    Err(e) => {
                        let valid = std::str::from_utf8(&input[pos..pos + e.valid_up_to()]).unwrap_or_default();
                        (valid, e.error_len().unwrap_or(input.len() - pos - e.valid_up_to()))
                    }
                },
            };
            if !self.run_str(valid, input, pos, &mut st, sink) {
                return;
            }
            pos += valid.len();
            if bad > 0 {
                // An invalid UTF-8 sequence (one U+FFFD in a lossy decoding): noise.
                if sink.before(pos, &st) {
                    return;
                }
                sink.saw_invalid();
                self.noise(&mut st, '\u{FFFD}', Class::Symbol, pos);
                pos += bad;
            }
        }
        sink.before(input.len(), &st);
    }

    /// Normalizes the valid stretch `s`, which is `input[base..base + s.len()]`. Returns
    /// `false` when the sink asked to stop.
    #[inline]
    fn run_str<S: Sink>(&self, s: &str, input: &[u8], base: usize, st: &mut State, sink: &mut S) -> bool {
        let table = &*self.table;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // The common case of Chinese text: a run of 3-byte characters kept as they are.
            let run = i;
            if self.fast {
                while let [b0 @ 0xE0..=0xEF, b1, b2, ..] = bytes[i..] {
                    if !table.is_same_cjk_cp(cp3(b0, b1, b2)) {
                        break;
                    }
                    i += 3;
                }
            }
            if i > run {
                if sink.before(base + run, st) {
                    return false;
                }
                if st.gap_len != 0 {
                    self.close_gap(st, false, base + run, &bytes[run..], sink);
                }
                st.tok_len = 0;
                st.single_run = 0;
                st.last = Last::Other;
                sink.push_run(&s[run..i], base + run);
                // One noise character between two runs of unchanged CJK (，。、 in Chinese text,
                // every eighth character or so): the state machine writes nothing for it and
                // only notes it as a separator when the next run closes the gap. Skip it here
                // and let the next run start at once.
                if let Some((len, flags)) = self.lone_cjk_gap(&bytes[i..]) {
                    if sink.before(base + i, st) {
                        return false;
                    }
                    sink.note((base + i, base + i + len), flags);
                    i += len;
                }
                continue;
            }
            // Inside a word (or right after a digit, `1px`): a run of letters kept as they are
            // (`xample` after `E`). Each would only lengthen the token, as `kept` does with no
            // gap pending. The run goes on across a single space or sentence punctuation mark
            // between words of two or more letters (`mple text`, `one,two`): `close_gap` would
            // write it as it is and start a new token. Letters that fold to one other letter
            // (`а` → `a`, `é` → `e`, `Д` → `д`), invisible characters (`्`, a soft hyphen), digits
            // (with `step`'s own judgement of leetspeak), a single line break or symbol between
            // two words, and other gaps of ASCII noise with the words after them (see below) are
            // written or noted here too, as `step` would: they end the run, and a new one starts
            // after them. The path is left for `step` only at characters that need its
            // look-ahead or are rare in Latin text.
            if self.fast && st.gap_len == 0 && matches!(st.last, Last::Letter | Last::Digit) {
                let entry = i;
                let mut tok = st.tok_len;
                let mut lowered = false;
                let mut crossed = false;
                let lowers = table.lowers_ascii();
                let spaces = self.opts.max_gap >= 1;
                let same_ascii = table.same_letters_64_127();
                // Whether `a`–`z` are all kept as they are (they are unless a custom fold table
                // says otherwise).
                let small_same = same_ascii & SMALL_LETTERS_64_127 == SMALL_LETTERS_64_127;
                let mut run = i;
                // Writes the run `s[run..i]` (its state is `st`, then `tok` after it); what was
                // noted of that run (`lowered`, `crossed`) goes with it. (`@last` after the loop,
                // where nothing reads them again.)
                macro_rules! flush {
                    () => {
                        flush!(@last);
                        (lowered, crossed) = (false, false);
                    };
                    (@last) => {
                        if i > run {
                            if sink.before(base + run, st) {
                                return false;
                            }
                            st.tok_len = tok;
                            // (The path may start after a digit, `1px`; a run ends on a letter
                            // or on what `starts_word` saw one after.)
                            st.last = Last::Letter;
                            if crossed {
                                st.single_run = 0;
                            }
                            if lowered {
                                sink.push_lowered_run(&s[run..i], base + run);
                            } else {
                                sink.push_run(&s[run..i], base + run);
                            }
                        }
                    };
                }
                'word: loop {
                    // A letter of another script goes straight to the cases below.
                    if bytes.get(i).is_some_and(|&b| b < 0x80) {
                        // Small letters eight at a time, most of a word.
                        if small_same {
                            while let Some(chunk) = bytes.get(i..i + 8) {
                                let n = small_letters_prefix(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
                                i += n;
                                tok = tok.saturating_add(n as u32);
                                if n < 8 {
                                    break;
                                }
                            }
                        }
                        // ASCII letters kept as they are: a bit test each. Any other byte goes on
                        // to the cases below.
                        while let Some(&b) = bytes.get(i) {
                            if b & 0xC0 != 0x40 || same_ascii >> (b & 63) & 1 == 0 {
                                break;
                            }
                            i += 1;
                            tok = tok.saturating_add(1);
                        }
                    }
                    let (cp, len) = match bytes[i..] {
                        [b'A'..=b'Z', ..] if lowers => {
                            lowered = true;
                            i += 1;
                            tok = tok.saturating_add(1);
                            continue;
                        }
                        // A digit inside the word (`utf8mb4`, `v1agra`, `h264`): `step`'s own
                        // judgement of leetspeak and `kept`, without leaving the path.
                        [d @ b'0'..=b'9', ..] => {
                            let e = table.lookup(char::from(d));
                            if e.class() != Class::Digit || e.is_multi() {
                                break;
                            }
                            flush!();
                            if sink.before(base + i, st) {
                                return false;
                            }
                            let orig = (base + i, base + i + 1);
                            let rest = &input[orig.1..];
                            match self.leet_applies(st, rest).then(|| leet_letter(e.char())).flatten() {
                                Some(l) => self.kept(st, l, Class::Letter, orig, e.flags() | Flags::LEET, rest, sink),
                                None => self.kept(st, e.char(), Class::Digit, orig, e.flags(), rest, sink),
                            }
                            i += 1;
                            run = i;
                            tok = st.tok_len;
                            continue;
                        }
                        [b' ', next, ..] if spaces && tok >= 2 && self.starts_word(lowers, next, &bytes[i + 1..]) => {
                            crossed = true;
                            i += 1;
                            tok = 0;
                            continue;
                        }
                        // One sentence punctuation mark between two such words (`one,two`,
                        // `end.Next`): `close_gap` would write it as it is, so the run goes on
                        // across it, as across a space.
                        [p @ (b',' | b'.' | b':' | b';' | b'!' | b'?'), next, ..]
                            if spaces
                                && tok >= 2
                                && self.ascii_gap[usize::from(p)].kind == GAP_PUNCT
                                && self.ascii_gap[usize::from(p)].punct == p
                                && self.starts_word(lowers, next, &bytes[i + 1..]) =>
                        {
                            crossed = true;
                            i += 1;
                            tok = 0;
                            continue;
                        }
                        // A line break between two such words (one message per line in the
                        // text of a translation file): `close_gap` writes it as a space. That
                        // space is not the byte it stands for, so the run ends before it and a
                        // new one starts after it, as the state machine's own writes would.
                        [b'\n', next, ..]
                            if spaces
                                && tok >= 2
                                && self.ascii_gap[usize::from(b'\n')].kind == GAP_SPACE
                                && self.starts_word(lowers, next, &bytes[i + 1..]) =>
                        {
                            flush!();
                            if sink.before(base + i, st) {
                                return false;
                            }
                            sink.push(' ', (base + i, base + i + 1), Flags::empty());
                            // The gap is closed: what `kept` makes of the next letter is the
                            // first of a token (a checkpoint taken before it resumes so).
                            st.tok_len = 0;
                            st.single_run = 0;
                            i += 1;
                            run = i;
                            tok = 0;
                            continue;
                        }
                        // One symbol between two such words (`sex-shop`, `user_name`, `and/or`):
                        // a gap `close_gap` removes, joining the words into one token. The run
                        // ends before it and goes on after it, the token's length counted on.
                        [b @ 0..=0x7F, next, ..]
                            if self.opts.separators
                                && spaces
                                && tok >= 2
                                && self.ascii_gap[usize::from(b)].kind == GAP_SYMBOL
                                && self.starts_word(lowers, next, &bytes[i + 1..]) =>
                        {
                            flush!();
                            if sink.before(base + i, st) {
                                return false;
                            }
                            sink.note((base + i, base + i + 1), Flags::SEPARATOR);
                            st.single_run = 0;
                            i += 1;
                            run = i;
                            continue;
                        }
                        [b0 @ 0..=0x7F, ..] => (u32::from(b0), 1),
                        _ => match two_or_three_byte_cp(&bytes[i..]) {
                            Some(found) => found,
                            None => break,
                        },
                    };
                    if table.is_same_letter_cp(cp) {
                        i += len;
                        tok = tok.saturating_add(1);
                        // More such letters of a two-byte script (Cyrillic, Greek, Arabic,
                        // Hebrew, Armenian), without going back through the tests for ASCII.
                        while let [b0 @ 0xC0..=0xDF, b1, ..] = bytes[i..] {
                            if !table.is_same_letter_cp(cp2(b0, b1)) {
                                break;
                            }
                            i += 2;
                            tok = tok.saturating_add(1);
                        }
                        continue;
                    }
                    if cp < 0x80 {
                        // A gap of ASCII noise after the word (`, `, `.\n`, `  `, ` - `), maybe
                        // numbers in it (`, 2024 `), then the letter that starts the next word:
                        // the state machine's own `noise` for each noise character and `kept`
                        // for each digit and the letter (its `close_gap` writes the gap), without
                        // leaving this path for `step` and coming back one word later. What
                        // `step` would give leetspeak a look at never comes here: a digit or
                        // `$` right after a letter. Anything else after the gap goes to `step`.
                        if !self.is_ascii_noise(cp as u8) {
                            break;
                        }
                        flush!();
                        loop {
                            // The sink hears of the gap at its first character only, and then
                            // of the unit after it. Nothing is written in between, so all a
                            // sink could do differently inside the gap is stop or take a
                            // checkpoint a few bytes early: `FlagsOf` stops at the unit as well,
                            // having seen nothing more, and a checkpoint is just as good at
                            // either end of a gap (`Collect`'s bound on original bytes without
                            // one is kept by `FAST_GAP_MAX`).
                            let gap = i;
                            while let Some(&b) = bytes.get(i) {
                                let Some(&g) = self.ascii_gap.get(usize::from(b)) else { break };
                                let g = match g.kind {
                                    GAP_END => break,
                                    GAP_LEET if self.may_be_leet(st) => break,
                                    GAP_LEET => GapByte { kind: GAP_SYMBOL, punct: 0 },
                                    _ => g,
                                };
                                if i == gap {
                                    if sink.before(base + i, st) {
                                        return false;
                                    }
                                } else if i - gap == FAST_GAP_MAX {
                                    // A long gap: `step` asks the sink each character (a
                                    // checkpoint comes within so many original bytes).
                                    run = i;
                                    break 'word;
                                }
                                Self::add_noise::<false>(st, g, base + i);
                                i += 1;
                            }
                            run = i;
                            let (cp, len) = match bytes[i..] {
                                [b0 @ 0..=0x7F, ..] => (u32::from(b0), 1),
                                _ => match two_or_three_byte_cp(&bytes[i..]) {
                                    Some(found) => found,
                                    None => break 'word,
                                },
                            };
                            let Some(c) = char::from_u32(cp) else { break 'word };
                            let e = table.lookup(c);
                            let class = match e.class() {
                                _ if e.is_multi() => break 'word,
                                Class::Letter => Class::Letter,
                                Class::Digit if !self.may_be_leet(st) => Class::Digit,
                                _ => break 'word,
                            };
                            if sink.before(base + i, st) {
                                return false;
                            }
                            let orig = (base + i, base + i + len);
                            self.kept(st, e.char(), class, orig, e.flags(), &input[orig.1..], sink);
                            i += len;
                            run = i;
                            if class == Class::Letter {
                                tok = st.tok_len;
                                continue 'word;
                            }
                        }
                    }
                    let Some(c) = char::from_u32(cp) else { break };
                    let e = table.lookup(c);
                    let orig = (base + i, base + i + len);
                    match e.class() {
                        Class::Letter if !e.is_multi() => {
                            flush!();
                            if sink.before(orig.0, st) {
                                return false;
                            }
                            sink.push(e.char(), orig, e.flags());
                            tok = tok.saturating_add(1);
                            st.tok_len = tok;
                            st.last = Last::Letter;
                        }
                        Class::Drop => {
                            flush!();
                            if sink.before(orig.0, st) {
                                return false;
                            }
                            sink.note(orig, e.flags());
                        }
                        _ => break,
                    }
                    i += len;
                    run = i;
                }
                flush!(@last);
                if i > entry {
                    continue;
                }
            }
            if sink.before(base + i, st) {
                return false;
            }
            let Some(c) = s[i..].chars().next() else { break };
            let at = base + i;
            i += c.len_utf8();
            self.step(c, at, base + i, &input[base + i..], st, sink);
        }
        true
    }

    /// Whether the byte `next` (followed by `after`) starts a word the fast path inside words
    /// can go on into after a gap of one character: an ASCII letter it lowers (`lowers`) or
    /// keeps, or a letter that folds to one other letter. (A method, not a closure in
    /// `run_str`: the closure was not inlined, ~1.5 % of a site scan in calls.)
    #[inline(always)]
    fn starts_word(&self, lowers: bool, next: u8, after: &[u8]) -> bool {
        next.is_ascii_uppercase() && lowers
            || next.is_ascii_lowercase() && self.table.is_same_letter_cp(u32::from(next))
            || next >= 0xC0 && self.folds_to_one_letter(after)
    }

    /// Whether a digit or `$` coming now may read as a letter, before looking ahead (the first
    /// test of [`Normalizer::leet_applies`]): only right after a letter, with no gap in between.
    #[inline(always)]
    fn may_be_leet(&self, st: &State) -> bool {
        self.opts.leet && st.gap_len == 0 && st.last == Last::Letter
    }

    /// Whether the ASCII byte `b` is noise (whitespace, punctuation, symbols) that `step` hands
    /// to `noise` as it is.
    #[inline(always)]
    fn is_ascii_noise(&self, b: u8) -> bool {
        self.ascii_gap.get(usize::from(b)).is_some_and(|g| matches!(g.kind, GAP_SPACE | GAP_SYMBOL | GAP_PUNCT))
    }

    /// Whether `rest` starts with a two- or three-byte character that `step` keeps as one letter
    /// (one the fast path inside words writes).
    #[inline]
    fn folds_to_one_letter(&self, rest: &[u8]) -> bool {
        let Some((cp, _)) = two_or_three_byte_cp(rest) else { return false };
        let table = &*self.table;
        table.is_same_letter_cp(cp)
            || char::from_u32(cp).is_some_and(|c| {
                let e = table.lookup(c);
                e.class() == Class::Letter && !e.is_multi()
            })
    }

    /// After a run of unchanged CJK: when `rest` starts with one noise character (one or three
    /// UTF-8 bytes) followed by an unchanged CJK character, its length and the flags the
    /// state machine notes for it. The state machine makes it a gap of one, which between two
    /// CJK characters produces no output and is noted as `SEPARATOR` (and `PUNCTUATION` for
    /// sentence punctuation), as long as separators are skipped and gaps of one are allowed.
    #[inline(always)]
    fn lone_cjk_gap(&self, rest: &[u8]) -> Option<(usize, Flags)> {
        if !self.fast || !self.opts.separators || self.opts.max_gap == 0 {
            return None;
        }
        let table = &*self.table;
        let (cp, len, next) = match *rest {
            [b0 @ 0..=0x7F, n0 @ 0xE0..=0xEF, n1, n2, ..] => (u32::from(b0), 1, cp3(n0, n1, n2)),
            [b0 @ 0xE0..=0xEF, b1, b2, n0 @ 0xE0..=0xEF, n1, n2, ..] => (cp3(b0, b1, b2), 3, cp3(n0, n1, n2)),
            _ => return None,
        };
        if !table.is_same_cjk_cp(next) {
            return None;
        }
        let e = table.lookup(char::from_u32(cp)?);
        match e.class() {
            Class::Punct if !e.is_multi() => Some((len, Flags::SEPARATOR | Flags::PUNCTUATION)),
            Class::Space | Class::Symbol if !e.is_multi() => Some((len, Flags::SEPARATOR)),
            _ => None,
        }
    }

    /// Normalizes one character `c` at `input[at..end]`; `rest` is the input after it.
    #[inline(always)]
    fn step<S: Sink>(&self, c: char, at: usize, end: usize, rest: &[u8], st: &mut State, sink: &mut S) {
        let table = &*self.table;
        let e = table.lookup(c);
        let class = e.class();
        match class {
            Class::Other | Class::Letter if !e.is_multi() => {
                self.kept(st, e.char(), class, (at, end), e.flags(), rest, sink);
            }
            Class::Drop => sink.note((at, end), e.flags()),
            Class::Space | Class::Symbol | Class::Punct => self.noise(st, e.char(), class, at),
            Class::Digit | Class::LeetSym if !e.is_multi() => {
                let leet = if self.leet_applies(st, rest) { leet_letter(e.char()) } else { None };
                match leet {
                    Some(l) => self.kept(st, l, Class::Letter, (at, end), e.flags() | Flags::LEET, rest, sink),
                    None if class == Class::Digit => {
                        self.kept(st, e.char(), Class::Digit, (at, end), e.flags(), rest, sink)
                    }
                    None => self.noise(st, e.char(), Class::Symbol, at),
                }
            }
            _ => {
                // A character that folds to several kept units (㍿ → 株式会社, ﬁ → fi).
                for &(u, k) in table.expansion(e) {
                    let k = if k == Class::LeetSym { Class::Letter } else { k };
                    self.kept(st, u, k, (at, end), e.flags(), rest, sink);
                }
            }
        }
    }
}

/// The bits of `a`–`z` in [`FoldTable::same_letters_64_127`].
const SMALL_LETTERS_64_127: u64 = ((1 << 26) - 1) << (b'a' - 64);

/// How many of the eight bytes of `x` (little-endian) are `a`–`z` before the first that is
/// not: a few word operations instead of a test per byte (SWAR).
#[inline(always)]
fn small_letters_prefix(x: u64) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // Each byte without its high bit, so that the additions below carry into no neighbour;
    // the sums' high bits say `>= b'a'` and `> b'z'`.
    let low7 = x & !HIGH;
    let at_least_a = low7 + ONES * u64::from(0x80 - b'a');
    let above_z = low7 + ONES * u64::from(0x80 - b'z' - 1);
    let small = at_least_a & !above_z & !x & HIGH;
    ((!small & HIGH).trailing_zeros() / 8) as usize
}

/// The code point of a two-byte UTF-8 sequence known to be valid.
#[inline(always)]
pub(crate) fn cp2(b0: u8, b1: u8) -> u32 {
    u32::from(b0 & 0x1F) << 6 | u32::from(b1 & 0x3F)
}

/// The code point of a three-byte UTF-8 sequence known to be valid.
#[inline(always)]
pub(crate) fn cp3(b0: u8, b1: u8, b2: u8) -> u32 {
    u32::from(b0 & 0x0F) << 12 | u32::from(b1 & 0x3F) << 6 | u32::from(b2 & 0x3F)
}

/// The code point and length of the two- or three-byte UTF-8 sequence `rest` (valid UTF-8)
/// starts with; `None` for anything else (an ASCII byte, a four-byte sequence, the end).
#[inline(always)]
pub(crate) fn two_or_three_byte_cp(rest: &[u8]) -> Option<(u32, usize)> {
    match *rest {
        [b0 @ 0xC0..=0xDF, b1, ..] => Some((cp2(b0, b1), 2)),
        [b0 @ 0xE0..=0xEF, b1, b2, ..] => Some((cp3(b0, b1, b2), 3)),
        _ => None,
    }
}

/// Decodes the UTF-8 character at `input[pos]` (`pos < input.len()`): `Ok((char, len))`, or
/// `Err(len)` of the invalid sequence there, as a lossy decoding would count it (the maximal
/// prefix of a valid sequence, at least one byte).
#[inline(always)]
pub(crate) fn decode(input: &[u8], pos: usize) -> Result<(char, usize), usize> {
    let b0 = input[pos];
    if b0 < 0x80 {
        return Ok((char::from(b0), 1));
    }
    let cont = |i: usize, lo: u8, hi: u8| input.get(pos + i).copied().filter(|b| (lo..=hi).contains(b));
    let (len, lo, hi) = match b0 {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return Err(1),
    };
    let Some(b1) = cont(1, lo, hi) else { return Err(1) };
    let mut cp = (u32::from(b0) & (0x7F >> len)) << 6 | u32::from(b1 & 0x3F);
    for i in 2..len {
        let Some(b) = cont(i, 0x80, 0xBF) else { return Err(i) };
        cp = cp << 6 | u32::from(b & 0x3F);
    }
    char::from_u32(cp).map(|c| (c, len)).ok_or(len)
}

/// The characters of `bytes`, up to the first invalid sequence.
fn chars(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let (c, n) = decode(bytes, pos).ok()?;
        pos += n;
        Some(c)
    })
}

#[cfg(test)]
mod tests;
